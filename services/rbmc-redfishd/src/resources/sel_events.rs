//! Events from the SEL: rbmc-seld signals `RecordAdded` once a record is
//! durable, and each record becomes one event. A threshold crossing is its
//! `SensorEvent` message (the sensor's name, live reading, units and
//! threshold from rbmc-sensord's objects); the host's ACPI power state
//! `ResourcePoweredOn`/`Off`; any other record a `ResourceStatusChanged`
//! message of the record's severity, about the system (or the manager,
//! for the BMC's own Session Audit).

use std::sync::Arc;

use futures_util::StreamExt as _;
use rbmc_contracts::logging::SelProxy;
use redfish_core::events::{threshold_message, EventMessage};
use serde_json::Value;
use tracing::{debug, warn};

use crate::{
    owners::SensorObjects,
    resources::{chassis, logs},
    service::Service,
};

/// The system's URI, the origin of host events.
const SYSTEM: &str = "/redfish/v1/Systems/system";
/// The manager's URI, the origin of the BMC's own events.
const MANAGER: &str = "/redfish/v1/Managers/bmc";

/// The sensor numbered `number` among sensord's objects: its Redfish URI,
/// name, reading, units, and the threshold of `offset`.
fn sensor(
    objects: &SensorObjects,
    number: u64,
    offset: u64,
) -> Option<(String, String, String, String, String)> {
    let (path, interfaces) = objects.iter().find(|(_, interfaces)| {
        interfaces
            .iter()
            .find(|(i, _)| i.as_str() == rbmc_contracts::ipmi::SENSOR_INTERFACE)
            .and_then(|(_, p)| p.get("Number"))
            .and_then(|v| u8::try_from(&**v).ok())
            .is_some_and(|n| u64::from(n) == number)
    })?;
    let property = |interface: &str, name: &str| -> Option<f64> {
        interfaces
            .iter()
            .find(|(i, _)| i.as_str() == interface)
            .and_then(|(_, p)| p.get(name))
            .and_then(|v| f64::try_from(&**v).ok())
            .filter(|v| v.is_finite())
    };
    let (kind, name) = path
        .strip_prefix(rbmc_contracts::sensor::SENSORS_ROOT)?
        .trim_start_matches('/')
        .split_once('/')?;
    let threshold = match offset {
        0x00 | 0x01 => property("xyz.openbmc_project.Sensor.Threshold.Warning", "WarningLow"),
        0x02..=0x05 => property(
            "xyz.openbmc_project.Sensor.Threshold.Critical",
            "CriticalLow",
        ),
        0x06 | 0x07 => property(
            "xyz.openbmc_project.Sensor.Threshold.Warning",
            "WarningHigh",
        ),
        _ => property(
            "xyz.openbmc_project.Sensor.Threshold.Critical",
            "CriticalHigh",
        ),
    };
    let number = |v: Option<f64>| v.map_or_else(|| "unknown".to_owned(), |v| format!("{v}"));
    Some((
        format!("/redfish/v1/Chassis/chassis/Sensors/{kind}_{name}"),
        name.replace('_', " "),
        number(property("xyz.openbmc_project.Sensor.Value", "Value")),
        chassis::units(kind).to_owned(),
        number(threshold),
    ))
}

/// The event for one SEL record (as rbmc-seld exports it).
pub fn sel_event(record: &Value, objects: &SensorObjects) -> Option<EventMessage> {
    let reading_type = record["event_reading_type"].as_u64()?;
    let sensor_type = record["sensor_type_code"].as_u64()?;
    let asserted = record["assertion"].as_bool()?;
    let offset = record["event_data"][0].as_u64().unwrap_or(0) & 0x0F;
    let number = record["sensor_number"].as_u64()?;
    if reading_type == 0x01 {
        let key = threshold_message(u8::try_from(offset).ok()?, asserted)?;
        let (origin, name, reading, units, threshold) = sensor(objects, number, offset)?;
        let mut args = vec![name, reading, units];
        if key != "SensorReadingNormalRange" {
            args.push(threshold);
        }
        return EventMessage::new(key, args, &origin);
    }
    match (reading_type, sensor_type, offset, asserted) {
        (0x6F, 0x22, 0x00, true) => {
            EventMessage::new("ResourcePoweredOn", vec![SYSTEM.into()], SYSTEM)
        }
        (0x6F, 0x22, 0x05, true) => {
            EventMessage::new("ResourcePoweredOff", vec![SYSTEM.into()], SYSTEM)
        }
        _ => {
            let origin = if sensor_type == 0x2A { MANAGER } else { SYSTEM };
            let (key, health) = match logs::severity(reading_type, sensor_type, offset, asserted) {
                "Critical" => ("ResourceStatusChangedCritical", "Critical"),
                "Warning" => ("ResourceStatusChangedWarning", "Warning"),
                _ => ("ResourceStatusChangedOK", "OK"),
            };
            EventMessage::new(key, vec![origin.into(), health.into()], origin)
        }
    }
}

/// Publishes an event for each record rbmc-seld adds, until the bus
/// connection ends.
pub async fn follow_sel(service: Arc<Service>) {
    let stream = async {
        SelProxy::new(&service.bus)
            .await?
            .receive_record_added()
            .await
    };
    let mut added = match stream.await {
        Ok(stream) => stream,
        Err(err) => {
            warn!(%err, "not following the SEL: no events from it");
            return std::future::pending().await;
        }
    };
    while let Some(signal) = added.next().await {
        let Ok(args) = signal.args() else { continue };
        let Ok(record) = serde_json::from_str::<Value>(args.record()) else {
            continue;
        };
        // Without sensord's objects a crossing has no message; other
        // records still do.
        let objects = service.sensors.get(&service.bus).await.unwrap_or_default();
        match sel_event(&record, &objects) {
            Some(message) => service.events.publish(message),
            None => debug!(id = args.id(), "SEL record with no event message"),
        }
    }
    std::future::pending().await
}
