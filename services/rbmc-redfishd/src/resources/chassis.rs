//! The chassis as `Chassis/chassis`, and its `Sensors`: every sensor
//! object rbmc-sensord serves (`Sensor.Value`, the warning and critical
//! thresholds and their alarms, availability), from the service's shared
//! read of them (`crate::owners::SensorSnapshot`).

use rbmc_contracts::{
    control::LedGroupProxy,
    sensor::{AssetProxy, SENSORS_ROOT},
    state::ChassisProxy,
};
use redfish_core::ApiError;
use serde_json::{json, Map, Value};
use zbus::zvariant::OwnedValue;

use crate::{
    owners::Interfaces,
    resources::bus_error,
    service::{Reply, Service},
};

/// The chassis's `Id`.
pub const CHASSIS: &str = "chassis";
/// The chassis's `@odata.id`.
pub const PATH: &str = "/redfish/v1/Chassis/chassis";
const SENSORS: &str = "/redfish/v1/Chassis/chassis/Sensors";

/// `GET /redfish/v1/Chassis`.
pub fn collection() -> Reply {
    Reply::ok(json!({
        "@odata.id": "/redfish/v1/Chassis",
        "@odata.type": "#ChassisCollection.ChassisCollection",
        "Name": "Chassis Collection",
        "Members@odata.count": 1,
        "Members": [{ "@odata.id": PATH }],
    }))
}

/// `GET /redfish/v1/Chassis/chassis`.
pub async fn get(service: &Service) -> Result<Reply, ApiError> {
    let bus = &service.bus;
    let power = async { ChassisProxy::new(bus).await?.current_power_state().await }
        .await
        .map_err(|e| bus_error(&e))?;
    let identify = async { LedGroupProxy::new(bus).await?.asserted().await }
        .await
        .map_err(|e| bus_error(&e))?;
    let asset = async {
        let asset = AssetProxy::new(bus).await?;
        Ok::<_, zbus::Error>([
            ("Manufacturer", asset.manufacturer().await?),
            ("Model", asset.model().await?),
            ("PartNumber", asset.part_number().await?),
            ("SerialNumber", asset.serial_number().await?),
        ])
    }
    .await
    .map_err(|e| bus_error(&e))?;
    let power_state = match power.rsplit('.').next() {
        Some("On") => "On",
        Some("TransitioningToOn") => "PoweringOn",
        Some("TransitioningToOff") => "PoweringOff",
        _ => "Off",
    };
    let mut chassis = json!({
        "@odata.id": PATH,
        "@odata.type": "#Chassis.v1_28_0.Chassis",
        "Id": CHASSIS,
        "Name": "Chassis",
        "ChassisType": "RackMount",
        "PowerState": power_state,
        "LocationIndicatorActive": identify,
        "Status": { "State": "Enabled", "Health": "OK" },
        "Sensors": { "@odata.id": SENSORS },
        "ThermalSubsystem": { "@odata.id": format!("{PATH}/ThermalSubsystem") },
        "Controls": { "@odata.id": format!("{PATH}/Controls") },
        "PowerSubsystem": { "@odata.id": format!("{PATH}/PowerSubsystem") },
        "Links": {
            "ComputerSystems": [{ "@odata.id": "/redfish/v1/Systems/system" }],
        },
    });
    // The FRU's asset data, where it has the field.
    for (property, value) in asset {
        if !value.is_empty() {
            chassis[property] = json!(value);
        }
    }
    Ok(Reply::ok(chassis))
}

/// `PATCH /redfish/v1/Chassis/chassis`: `LocationIndicatorActive`, the
/// identify LED (on until turned off, as IPMI's Chassis Identify with
/// force-on).
pub async fn patch(
    service: &Service,
    caller: &crate::service::Caller,
    request: &crate::service::Request,
) -> Result<Reply, ApiError> {
    let body = crate::resources::body_object(&request.body)?;
    let mut identify = None;
    for (key, value) in &body {
        match key.as_str() {
            "LocationIndicatorActive" => {
                identify = Some(
                    value
                        .as_bool()
                        .ok_or_else(|| ApiError::property_value_type(&value.to_string(), key))?,
                );
            }
            k if k.contains('@') => {}
            "Id" | "Name" | "ChassisType" | "PowerState" | "Status" | "Sensors" | "Links"
            | "ThermalSubsystem" | "PowerSubsystem" | "Manufacturer" | "Model" | "SerialNumber"
            | "PartNumber" => return Err(ApiError::property_not_writable(key)),
            _ => return Err(ApiError::property_unknown(key)),
        }
    }
    let Some(identify) = identify else {
        return Err(ApiError::no_operation());
    };
    async {
        LedGroupProxy::new(&service.bus)
            .await?
            .set_asserted(identify)
            .await
    }
    .await
    .map_err(|e| bus_error(&e))?;
    tracing::info!(user = %caller.user, identify, "chassis identify LED set");
    service.events.resource("ResourceChanged", PATH);
    get(service).await
}

/// A sensor's `Id`: its OpenBMC kind and name (`temperature_Board_Temp`).
fn sensor_id(path: &str) -> Option<String> {
    let rest = path.strip_prefix(SENSORS_ROOT)?.trim_start_matches('/');
    let (kind, name) = rest.split_once('/')?;
    Some(format!("{kind}_{name}"))
}

fn property<'a>(interfaces: &'a Interfaces, interface: &str, name: &str) -> Option<&'a OwnedValue> {
    interfaces
        .iter()
        .find(|(i, _)| i.as_str() == interface)
        .and_then(|(_, properties)| properties.get(name))
}

fn number(interfaces: &Interfaces, interface: &str, name: &str) -> Option<f64> {
    property(interfaces, interface, name)
        .and_then(|v| f64::try_from(&**v).ok())
        .filter(|v| v.is_finite())
}

fn flag(interfaces: &Interfaces, interface: &str, name: &str) -> bool {
    property(interfaces, interface, name)
        .and_then(|v| bool::try_from(&**v).ok())
        .unwrap_or(false)
}

/// Redfish's reading type and UCUM unit for OpenBMC's sensor kind.
/// The units of a sensor of OpenBMC's `kind` (UCUM, as Redfish says
/// them).
pub fn units(kind: &str) -> &'static str {
    reading_type(kind).1
}

fn reading_type(kind: &str) -> (&'static str, &'static str) {
    match kind {
        "temperature" => ("Temperature", "Cel"),
        "voltage" => ("Voltage", "V"),
        "current" => ("Current", "A"),
        "fan_tach" => ("Rotational", "RPM"),
        "power" => ("Power", "W"),
        // fan_pwm, and whatever kind comes next.
        _ => ("Percent", "%"),
    }
}

const VALUE: &str = "xyz.openbmc_project.Sensor.Value";
const WARNING: &str = "xyz.openbmc_project.Sensor.Threshold.Warning";
const CRITICAL: &str = "xyz.openbmc_project.Sensor.Threshold.Critical";
const AVAILABILITY: &str = "xyz.openbmc_project.State.Decorator.Availability";

/// The `@odata.id` of the sensor at D-Bus `path`.
pub fn sensor_uri(path: &str) -> Option<String> {
    Some(format!("{SENSORS}/{}", sensor_id(path)?))
}

/// One sensor's resource.
pub fn sensor_json(path: &str, interfaces: &Interfaces) -> Option<Value> {
    let id = sensor_id(path)?;
    let (kind, name) = path
        .strip_prefix(SENSORS_ROOT)?
        .trim_start_matches('/')
        .split_once('/')?;
    let (reading_type, units) = reading_type(kind);
    let mut thresholds = Map::new();
    for (key, interface, property_name) in [
        ("UpperCaution", WARNING, "WarningHigh"),
        ("LowerCaution", WARNING, "WarningLow"),
        ("UpperCritical", CRITICAL, "CriticalHigh"),
        ("LowerCritical", CRITICAL, "CriticalLow"),
    ] {
        if let Some(reading) = number(interfaces, interface, property_name) {
            thresholds.insert(key.into(), json!({ "Reading": reading }));
        }
    }
    let critical = flag(interfaces, CRITICAL, "CriticalAlarmHigh")
        || flag(interfaces, CRITICAL, "CriticalAlarmLow");
    let warning = flag(interfaces, WARNING, "WarningAlarmHigh")
        || flag(interfaces, WARNING, "WarningAlarmLow");
    let available = property(interfaces, AVAILABILITY, "Available")
        .and_then(|v| bool::try_from(&**v).ok())
        .unwrap_or(true);
    let reading = number(interfaces, VALUE, "Value");
    let health = if critical {
        "Critical"
    } else if warning {
        "Warning"
    } else {
        "OK"
    };
    let mut sensor = json!({
        "@odata.id": format!("{SENSORS}/{id}"),
        "@odata.type": "#Sensor.v1_13_0.Sensor",
        "Id": id,
        "Name": name.replace('_', " "),
        "ReadingType": reading_type,
        "ReadingUnits": units,
        "Reading": reading,
        "Status": {
            "State": if available && reading.is_some() { "Enabled" } else { "UnavailableOffline" },
            "Health": health,
        },
    });
    if let Some(min) = number(interfaces, VALUE, "MinValue") {
        sensor["ReadingRangeMin"] = json!(min);
    }
    if let Some(max) = number(interfaces, VALUE, "MaxValue") {
        sensor["ReadingRangeMax"] = json!(max);
    }
    if !thresholds.is_empty() {
        sensor["Thresholds"] = Value::Object(thresholds);
    }
    Some(sensor)
}

/// `GET` the Sensors collection.
pub async fn sensors(service: &Service) -> Result<Reply, ApiError> {
    let members: Vec<Value> = service
        .sensors
        .get(&service.bus)
        .await?
        .iter()
        .filter_map(|(path, _)| sensor_id(path))
        .map(|id| json!({ "@odata.id": format!("{SENSORS}/{id}") }))
        .collect();
    Ok(Reply::ok(json!({
        "@odata.id": SENSORS,
        "@odata.type": "#SensorCollection.SensorCollection",
        "Name": "Sensors",
        "Members@odata.count": members.len(),
        "Members": members,
    })))
}

/// Every sensor's resource, by `@odata.id`, from one `GetManagedObjects`
/// (what `$expand` of the collection uses, instead of one call per
/// member).
pub async fn sensor_bodies(service: &Service) -> Result<Vec<(String, Value)>, ApiError> {
    Ok(service
        .sensors
        .get(&service.bus)
        .await?
        .iter()
        .filter_map(|(path, interfaces)| {
            let body = sensor_json(path, interfaces)?;
            Some((body["@odata.id"].as_str()?.to_owned(), body))
        })
        .collect())
}

/// `GET` one sensor.
pub async fn sensor(service: &Service, id: &str) -> Result<Reply, ApiError> {
    service
        .sensors
        .get(&service.bus)
        .await?
        .iter()
        .find(|(path, _)| sensor_id(path).as_deref() == Some(id))
        .and_then(|(path, interfaces)| sensor_json(path, interfaces))
        .map(Reply::ok)
        .ok_or_else(|| ApiError::not_found("Sensor", id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensor_ids_carry_their_kind() {
        assert_eq!(
            sensor_id("/xyz/openbmc_project/sensors/temperature/Board_Temp").as_deref(),
            Some("temperature_Board_Temp")
        );
        assert_eq!(sensor_id("/xyz/openbmc_project/sensors"), None);
        assert_eq!(sensor_id("/elsewhere/temperature/x"), None);
    }
}
