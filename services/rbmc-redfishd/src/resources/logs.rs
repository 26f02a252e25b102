//! Log services: the host's `EventLog`, which is the IPMI SEL kept by
//! rbmc-seld (`org.rbmc.Sel`: its JSON export, and `Clear` for
//! `LogService.ClearLog`), and the BMC's `AuditLog`, the audit trail kept
//! by the same daemon (`org.rbmc.Audit`).
//!
//! A SEL record becomes a `LogEntry` of type `SEL` with a message a person
//! reads: the sensor's name (from rbmc-sensord's objects, or the event-only
//! sensors' table), its type, the event and whether it was asserted, and a
//! severity from the event.

use std::collections::HashMap;

use hyper::StatusCode;
use ipmi_router::events::EVENT_ONLY_SENSORS;
use rbmc_contracts::{audit::AuditProxy, logging::SelProxy, CommonError};
use redfish_core::ApiError;
use serde_json::{json, Value};
use tracing::info;

use crate::{
    resources::{body_object, bus_error},
    service::{Caller, Reply, Request, Service},
};

const SYSTEM_LOGS: &str = "/redfish/v1/Systems/system/LogServices";
const EVENT_LOG: &str = "/redfish/v1/Systems/system/LogServices/EventLog";
const MANAGER_LOGS: &str = "/redfish/v1/Managers/bmc/LogServices";
const AUDIT_LOG: &str = "/redfish/v1/Managers/bmc/LogServices/AuditLog";
const CLEAR_LOG: &str = "LogService.ClearLog";
const LOG_ENTRY: &str = "#LogEntry.v1_21_0.LogEntry";

fn owner_error(err: CommonError) -> ApiError {
    match err {
        CommonError::ZBus(err) => bus_error(&err),
        CommonError::Unavailable(_) | CommonError::Timeout(_) => ApiError::unavailable(5),
        CommonError::QuotaExceeded(_) => ApiError::insufficient_storage(),
        _ => ApiError::internal(),
    }
}

fn collection(id: &str, name: &str, members: Vec<Value>) -> Reply {
    Reply::ok(json!({
        "@odata.id": id,
        "@odata.type": "#LogServiceCollection.LogServiceCollection",
        "Name": name,
        "Members@odata.count": members.len(),
        "Members": members,
    }))
}

/// `GET /redfish/v1/Systems/system/LogServices`.
pub fn system_log_services() -> Reply {
    collection(
        SYSTEM_LOGS,
        "System Log Services",
        vec![json!({ "@odata.id": EVENT_LOG })],
    )
}

/// `GET /redfish/v1/Managers/bmc/LogServices`.
pub fn manager_log_services() -> Reply {
    collection(
        MANAGER_LOGS,
        "Manager Log Services",
        vec![json!({ "@odata.id": AUDIT_LOG })],
    )
}

/// `GET .../LogServices/EventLog`.
pub fn event_log(service: &Service) -> Reply {
    let sel = &service.config.sel;
    let overwrite = match sel.full_policy {
        rbmc_config::SelFullPolicy::Wrap => "WrapsWhenFull",
        rbmc_config::SelFullPolicy::Stop => "NeverOverWrites",
    };
    Reply::ok(json!({
        "@odata.id": EVENT_LOG,
        "@odata.type": "#LogService.v1_9_0.LogService",
        "Id": "EventLog",
        "Name": "Event Log Service",
        "Description": "The host's System Event Log (IPMI SEL)",
        "ServiceEnabled": true,
        "LogEntryType": "SEL",
        "OverWritePolicy": overwrite,
        "MaxNumberOfRecords": sel.capacity,
        "DateTime": crate::clock::now_rfc3339(),
        "DateTimeLocalOffset": "+00:00",
        "Entries": { "@odata.id": format!("{EVENT_LOG}/Entries") },
        "Actions": {
            "#LogService.ClearLog": { "target": format!("{EVENT_LOG}/Actions/{CLEAR_LOG}") }
        },
    }))
}

/// `GET .../LogServices/AuditLog`.
pub fn audit_log(service: &Service) -> Reply {
    Reply::ok(json!({
        "@odata.id": AUDIT_LOG,
        "@odata.type": "#LogService.v1_9_0.LogService",
        "Id": "AuditLog",
        "Name": "Audit Log Service",
        "Description": "Who changed what, from where, by which protocol",
        "ServiceEnabled": true,
        "LogEntryType": "OEM",
        "OverWritePolicy": "WrapsWhenFull",
        "MaxNumberOfRecords": service.config.audit.capacity.get(),
        "DateTime": crate::clock::now_rfc3339(),
        "DateTimeLocalOffset": "+00:00",
        "Entries": { "@odata.id": format!("{AUDIT_LOG}/Entries") },
    }))
}

/// Sensor names by IPMI sensor number: rbmc-sensord's sensors (the last
/// part of their object path) and the event-only sensors.
async fn sensor_names(service: &Service) -> Result<HashMap<u8, String>, ApiError> {
    let mut names: HashMap<u8, String> = EVENT_ONLY_SENSORS
        .iter()
        .map(|s| (s.number, s.name.to_owned()))
        .collect();
    let objects = service.sensors.get(&service.bus).await?;
    for (path, interfaces) in objects.iter() {
        let number = interfaces
            .iter()
            .find(|(i, _)| i.as_str() == rbmc_contracts::ipmi::SENSOR_INTERFACE)
            .and_then(|(_, p)| p.get("Number"))
            .and_then(|v| u8::try_from(&**v).ok());
        if let (Some(number), Some(name)) = (number, path.rsplit('/').next()) {
            names.insert(number, name.to_owned());
        }
    }
    Ok(names)
}

/// Redfish's `SensorType` for an IPMI sensor type code (Table 42-3; 11h,
/// the old Watchdog 1, has none).
fn redfish_sensor_type(code: u8) -> Option<&'static str> {
    const TYPES: [&str; 0x2C] = [
        "Temperature",
        "Voltage",
        "Current",
        "Fan",
        "Physical Chassis Security",
        "Platform Security Violation Attempt",
        "Processor",
        "Power Supply / Converter",
        "PowerUnit",
        "CoolingDevice",
        "Other Units-based Sensor",
        "Memory",
        "Drive Slot/Bay",
        "POST Memory Resize",
        "System Firmware Progress",
        "Event Logging Disabled",
        "",
        "System Event",
        "Critical Interrupt",
        "Button/Switch",
        "Module/Board",
        "Microcontroller/Coprocessor",
        "Add-in Card",
        "Chassis",
        "ChipSet",
        "Other FRU",
        "Cable/Interconnect",
        "Terminator",
        "SystemBoot/Restart",
        "Boot Error",
        "BaseOSBoot/InstallationStatus",
        "OS Stop/Shutdown",
        "Slot/Connector",
        "System ACPI PowerState",
        "Watchdog",
        "Platform Alert",
        "Entity Presence",
        "Monitor ASIC/IC",
        "LAN",
        "Management Subsystem Health",
        "Battery",
        "Session Audit",
        "Version Change",
        "FRUState",
    ];
    match code {
        0xC0..=0xFF => Some("OEM"),
        1..=0x2C => TYPES
            .get(usize::from(code - 1))
            .copied()
            .filter(|t| !t.is_empty()),
        _ => None,
    }
}

/// A severity for an event: threshold crossings by their level, the
/// power unit's failures Critical, watchdog expiries and lockouts Warning,
/// a deassertion OK.
pub fn severity(reading_type: u64, sensor_type: u64, offset: u64, asserted: bool) -> &'static str {
    if !asserted {
        return "OK";
    }
    match (reading_type, sensor_type, offset) {
        (0x01, _, 0 | 1 | 6 | 7) => "Warning",
        (0x01, _, _) => "Critical",
        (0x6F, 0x09, 4..=6) => "Critical",
        (0x6F, 0x23 | 0x2A, _) => "Warning",
        _ => "OK",
    }
}

/// One SEL record, as rbmc-seld exports it, as a `LogEntry`.
fn sel_entry(record: &Value, names: &HashMap<u8, String>) -> Option<Value> {
    let id = record["id"].as_u64()?;
    let odata_id = format!("{EVENT_LOG}/Entries/{id}");
    let Some(timestamp) = record["timestamp"].as_u64() else {
        // An OEM record without a time (E0h-FFh) or with one (C0h-DFh):
        // its bytes, as the schema's Message allows.
        let bytes: Vec<String> = record["oem_data"]
            .as_array()?
            .iter()
            .filter_map(Value::as_u64)
            .map(|b| format!("{b:02X}"))
            .collect();
        return Some(json!({
            "@odata.id": odata_id,
            "@odata.type": LOG_ENTRY,
            "Id": id.to_string(),
            "Name": format!("Log Entry {id}"),
            "EntryType": "SEL",
            "Severity": "OK",
            "SensorType": "OEM",
            "Message": format!("OEM record type {:#04X}: {}", record["record_type"].as_u64()?, bytes.join(" ")),
        }));
    };
    let number = record["sensor_number"].as_u64()?;
    let type_code = record["sensor_type_code"].as_u64()?;
    let reading_type = record["event_reading_type"].as_u64()?;
    let asserted = record["assertion"].as_bool()?;
    let offset = record["event_data"][0].as_u64().unwrap_or(0) & 0x0F;
    let type_name = record["sensor_type"]
        .as_str()
        .map_or_else(|| format!("sensor type {type_code:#04X}"), str::to_owned);
    let event = record["event"]
        .as_str()
        .map_or_else(|| format!("event offset {offset}"), str::to_owned);
    let sensor = u8::try_from(number)
        .ok()
        .and_then(|n| names.get(&n))
        .map_or_else(|| format!("sensor {number:#04X}"), Clone::clone);
    let direction = if asserted { "asserted" } else { "deasserted" };
    let entry_code = if reading_type == 0x01 {
        event.replacen(" going", " - going", 1)
    } else if asserted {
        "Assert".to_owned()
    } else {
        "Deassert".to_owned()
    };
    let mut entry = json!({
        "@odata.id": odata_id,
        "@odata.type": LOG_ENTRY,
        "Id": id.to_string(),
        "Name": format!("Log Entry {id}"),
        "EntryType": "SEL",
        "Created": crate::clock::rfc3339(timestamp),
        "Severity": severity(reading_type, type_code, offset, asserted),
        "Message": format!("{sensor} ({type_name} {number:#04X}): {event} {direction}"),
        "SensorNumber": number,
        "EntryCode": entry_code,
        "GeneratorId": format!("{:#06x}", record["generator_id"].as_u64().unwrap_or(0)),
    });
    if let Some(sensor_type) = u8::try_from(type_code).ok().and_then(redfish_sensor_type) {
        entry["SensorType"] = json!(sensor_type);
    }
    Some(entry)
}

/// Every SEL record as a `LogEntry`.
async fn sel_entries(service: &Service) -> Result<Vec<Value>, ApiError> {
    let export = SelProxy::new(&service.bus)
        .await
        .map_err(|e| bus_error(&e))?
        .export_json_lines()
        .await
        .map_err(owner_error)?;
    let names = sensor_names(service).await?;
    Ok(export
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter_map(|record| sel_entry(&record, &names))
        .collect())
}

fn entries(id: String, name: &str, members: Vec<Value>) -> Reply {
    Reply::ok(json!({
        "@odata.id": id,
        "@odata.type": "#LogEntryCollection.LogEntryCollection",
        "Name": name,
        "Members@odata.count": members.len(),
        "Members": members,
    }))
}

/// `GET .../EventLog/Entries`: every record, whole (as log collections
/// are read: one request, not one per entry).
pub async fn event_log_entries(service: &Service) -> Result<Reply, ApiError> {
    let members = sel_entries(service).await?;
    Ok(entries(
        format!("{EVENT_LOG}/Entries"),
        "System Event Log Entries",
        members,
    ))
}

/// `GET .../EventLog/Entries/{id}`.
pub async fn event_log_entry(service: &Service, id: &str) -> Result<Reply, ApiError> {
    sel_entries(service)
        .await?
        .into_iter()
        .find(|entry| entry["Id"] == id)
        .map(Reply::ok)
        .ok_or_else(|| ApiError::not_found("LogEntry", id))
}

/// `POST .../EventLog/Actions/LogService.ClearLog`.
pub async fn clear_event_log(
    service: &Service,
    caller: &Caller,
    request: &Request,
) -> Result<Reply, ApiError> {
    // No parameters: an empty body or an empty object.
    if !request.body.iter().all(u8::is_ascii_whitespace) {
        let body = body_object(&request.body)?;
        if let Some(unknown) = body.keys().find(|k| !k.contains('@')) {
            return Err(ApiError::action_parameter_unknown(CLEAR_LOG, unknown));
        }
    }
    SelProxy::new(&service.bus)
        .await
        .map_err(|e| bus_error(&e))?
        .clear()
        .await
        .map_err(owner_error)?;
    info!(user = %caller.user, "SEL cleared");
    service.events.resource("ResourceChanged", EVENT_LOG);
    Ok(Reply::empty(StatusCode::NO_CONTENT))
}

/// One audit record, as rbmc-seld exports it, as a `LogEntry`.
fn audit_entry(record: &Value) -> Option<Value> {
    let sequence = record["sequence"].as_u64()?;
    let text = |key: &str| record[key].as_str().unwrap_or_default().to_owned();
    let (user, address, action, result) = (
        text("user"),
        text("address"),
        text("action"),
        text("result"),
    );
    let from = if address.is_empty() {
        String::new()
    } else {
        format!(" from {address}")
    };
    Some(json!({
        "@odata.id": format!("{AUDIT_LOG}/Entries/{sequence}"),
        "@odata.type": LOG_ENTRY,
        "Id": sequence.to_string(),
        "Name": format!("Audit Record {sequence}"),
        "EntryType": "Oem",
        "OemRecordFormat": "rbmc audit",
        "Created": text("time").replace(".000Z", "+00:00"),
        "Severity": if result.starts_with("refused") { "Warning" } else { "OK" },
        "Message": format!("{} {user}{from}: {action}: {result}", text("source")),
    }))
}

async fn audit_entries(bus: &zbus::Connection) -> Result<Vec<Value>, ApiError> {
    let export = AuditProxy::new(bus)
        .await
        .map_err(|e| bus_error(&e))?
        .export_json_lines()
        .await
        .map_err(owner_error)?;
    Ok(export
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter_map(|record| audit_entry(&record))
        .collect())
}

/// `GET .../AuditLog/Entries`.
pub async fn audit_log_entries(service: &Service) -> Result<Reply, ApiError> {
    let members = audit_entries(&service.bus).await?;
    Ok(entries(
        format!("{AUDIT_LOG}/Entries"),
        "Audit Log Entries",
        members,
    ))
}

/// `GET .../AuditLog/Entries/{id}`.
pub async fn audit_log_entry(service: &Service, id: &str) -> Result<Reply, ApiError> {
    audit_entries(&service.bus)
        .await?
        .into_iter()
        .find(|entry| entry["Id"] == id)
        .map(Reply::ok)
        .ok_or_else(|| ApiError::not_found("LogEntry", id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_threshold_record_reads_as_a_sentence_with_its_severity() {
        let record: Value = serde_json::from_str(
            r#"{"id":7,"timestamp":1764672000,"generator_id":32,"sensor_type":"Temperature","sensor_type_code":1,"sensor_number":3,"event_reading_type":1,"event":"Upper Critical going high","assertion":true,"event_data":[89,95,90]}"#,
        )
        .unwrap();
        let names = HashMap::from([(3, "CPU_Temp".to_owned())]);
        let entry = sel_entry(&record, &names).unwrap();
        assert_eq!(
            entry["Message"],
            "CPU_Temp (Temperature 0x03): Upper Critical going high asserted"
        );
        assert_eq!(entry["Severity"], "Critical");
        assert_eq!(entry["EntryCode"], "Upper Critical - going high");
        assert_eq!(entry["SensorType"], "Temperature");
        assert_eq!(entry["GeneratorId"], "0x0020");
        assert_eq!(entry["Created"], "2025-12-02T10:40:00+00:00");
        assert_eq!(entry["Id"], "7");
    }

    #[test]
    fn sensor_types_follow_table_42_3() {
        assert_eq!(redfish_sensor_type(0x01), Some("Temperature"));
        assert_eq!(redfish_sensor_type(0x11), None);
        assert_eq!(redfish_sensor_type(0x22), Some("System ACPI PowerState"));
        assert_eq!(redfish_sensor_type(0x2A), Some("Session Audit"));
        assert_eq!(redfish_sensor_type(0x2C), Some("FRUState"));
        assert_eq!(redfish_sensor_type(0x2D), None);
        assert_eq!(redfish_sensor_type(0xC5), Some("OEM"));
    }

    #[test]
    fn a_deassertion_is_ok_and_an_unknown_sensor_keeps_its_number() {
        let record: Value = serde_json::from_str(
            r#"{"id":8,"timestamp":1,"generator_id":32,"sensor_type":null,"sensor_type_code":192,"sensor_number":200,"event_reading_type":111,"event":null,"assertion":false,"event_data":[2,255,255]}"#,
        )
        .unwrap();
        let entry = sel_entry(&record, &HashMap::new()).unwrap();
        assert_eq!(entry["Severity"], "OK");
        assert_eq!(
            entry["Message"],
            "sensor 0xC8 (sensor type 0xC0 0xC8): event offset 2 deasserted"
        );
        assert_eq!(entry["EntryCode"], "Deassert");
    }
}
