//! The chassis's `ThermalSubsystem` (its fans, and every temperature in
//! `ThermalMetrics`) and `PowerSubsystem` (its power supplies and their
//! metrics).
//!
//! Which sensor belongs where is the sensor config's, as IPMI says it:
//! a fan is a sensor of kind `fan`; a power supply is an entity instance
//! of entity ID 0Ah (IPMI v2.0 Table 43-13, "power supply"), and the
//! sensors of that instance are its metrics (a power sensor its input
//! power, a current its output rail current, a voltage its rail voltage,
//! a temperature its temperature). An air-inlet sensor (entity 37h) is the
//! chassis's intake temperature. The readings themselves are rbmc-sensord's
//! objects, from the service's shared read of them, so each excerpt
//! matches its `Sensor` resource (the `DataSourceUri`).

use rbmc_config::{SensorEntry, SensorKind};
use redfish_core::ApiError;
use serde_json::{json, Value};

use crate::{
    owners::SensorObjects,
    resources::chassis::sensor_json,
    service::{Reply, Service},
};

const THERMAL: &str = "/redfish/v1/Chassis/chassis/ThermalSubsystem";
const FANS: &str = "/redfish/v1/Chassis/chassis/ThermalSubsystem/Fans";
const THERMAL_METRICS: &str = "/redfish/v1/Chassis/chassis/ThermalSubsystem/ThermalMetrics";
const POWER: &str = "/redfish/v1/Chassis/chassis/PowerSubsystem";
const SUPPLIES: &str = "/redfish/v1/Chassis/chassis/PowerSubsystem/PowerSupplies";

/// IPMI's entity ID for a power supply.
const ENTITY_POWER_SUPPLY: u8 = 0x0A;
/// IPMI's entity ID for the air inlet.
const ENTITY_AIR_INLET: u8 = 0x37;

/// A configured sensor as the Sensors collection shows it.
struct Shown {
    /// The sensor resource, with its current reading and status.
    body: Value,
}

impl Shown {
    fn find(objects: &SensorObjects, entry: &SensorEntry) -> Option<Self> {
        let path =
            rbmc_contracts::sensor::sensor_path(entry.kind.dbus_kind(), &entry.name.object_name());
        let (path, interfaces) = objects.iter().find(|(p, _)| *p == path)?;
        Some(Self {
            body: sensor_json(path, interfaces)?,
        })
    }

    fn uri(&self) -> &Value {
        &self.body["@odata.id"]
    }

    fn reading(&self) -> &Value {
        &self.body["Reading"]
    }

    fn status(&self) -> &Value {
        &self.body["Status"]
    }

    /// The excerpt most properties take: the link and the reading.
    fn excerpt(&self) -> Value {
        json!({ "DataSourceUri": self.uri(), "Reading": self.reading() })
    }
}

/// `Status` for a group of sensors: the worst health among them, enabled
/// if any has a reading.
fn worst_status<'a>(shown: impl Iterator<Item = &'a Shown>) -> Value {
    let mut health = "OK";
    let mut any_enabled = false;
    for sensor in shown {
        let status = sensor.status();
        any_enabled |= status["State"] == "Enabled";
        health = match (health, status["Health"].as_str()) {
            (_, Some("Critical")) | ("Critical", _) => "Critical",
            (_, Some("Warning")) | ("Warning", _) => "Warning",
            _ => "OK",
        };
    }
    let state = if any_enabled {
        "Enabled"
    } else {
        "UnavailableOffline"
    };
    json!({ "State": state, "Health": health })
}

fn fans(service: &Service) -> impl Iterator<Item = &SensorEntry> {
    service
        .config
        .sensors
        .iter()
        .filter(|e| e.kind == SensorKind::Fan)
}

fn fan_id(entry: &SensorEntry) -> String {
    entry.name.object_name()
}

/// The power supplies' entity instances, in order.
fn supply_instances(service: &Service) -> Vec<u8> {
    let mut instances: Vec<u8> = service
        .config
        .sensors
        .iter()
        .filter(|e| e.entity_id == ENTITY_POWER_SUPPLY)
        .map(|e| e.entity_instance)
        .collect();
    instances.sort_unstable();
    instances.dedup();
    instances
}

fn supply_id(instance: u8) -> String {
    format!("PowerSupply{instance}")
}

/// The entity instance a power supply's `Id` names.
fn supply_instance(service: &Service, id: &str) -> Option<u8> {
    supply_instances(service)
        .into_iter()
        .find(|instance| supply_id(*instance) == id)
}

fn supply_sensors(service: &Service, instance: u8) -> impl Iterator<Item = &SensorEntry> {
    service
        .config
        .sensors
        .iter()
        .filter(move |e| e.entity_id == ENTITY_POWER_SUPPLY && e.entity_instance == instance)
}

fn members(uris: impl Iterator<Item = String>) -> Vec<Value> {
    uris.map(|uri| json!({ "@odata.id": uri })).collect()
}

/// `GET .../ThermalSubsystem`.
pub async fn thermal(service: &Service) -> Result<Reply, ApiError> {
    let objects = service.sensors.get(&service.bus).await?;
    let shown: Vec<Shown> = fans(service)
        .filter_map(|e| Shown::find(&objects, e))
        .collect();
    Ok(Reply::ok(json!({
        "@odata.id": THERMAL,
        "@odata.type": "#ThermalSubsystem.v1_5_0.ThermalSubsystem",
        "Id": "ThermalSubsystem",
        "Name": "Thermal Subsystem",
        "Fans": { "@odata.id": FANS },
        "ThermalMetrics": { "@odata.id": THERMAL_METRICS },
        "Status": worst_status(shown.iter()),
    })))
}

/// `GET .../ThermalSubsystem/Fans`.
pub fn fan_collection(service: &Service) -> Reply {
    let members = members(fans(service).map(|e| format!("{FANS}/{}", fan_id(e))));
    Reply::ok(json!({
        "@odata.id": FANS,
        "@odata.type": "#FanCollection.FanCollection",
        "Name": "Fans",
        "Members@odata.count": members.len(),
        "Members": members,
    }))
}

/// `GET .../ThermalSubsystem/Fans/<id>`: its speed. A fan a zone of
/// rbmc-fand drives has its duty as `SpeedPercent.Reading`, from its `pwm`
/// sensor (the `DataSourceUri`), beside its tachometer's `SpeedRPM`; any
/// other fan only its RPM, linking its tachometer.
pub async fn fan(service: &Service, id: &str) -> Result<Reply, ApiError> {
    let entry = fans(service)
        .find(|e| fan_id(e) == id)
        .ok_or_else(|| ApiError::not_found("Fan", id))?;
    let objects = service.sensors.get(&service.bus).await?;
    let tach = Shown::find(&objects, entry).ok_or_else(|| ApiError::not_found("Fan", id))?;
    let duty = service
        .config
        .cooling
        .zones
        .iter()
        .flat_map(|zone| &zone.fans)
        .find(|fan| fan.tach.as_deref() == Some(entry.name.0.as_str()))
        .and_then(|fan| service.config.sensors.iter().find(|s| s.name.0 == fan.pwm))
        .and_then(|pwm| Shown::find(&objects, pwm));
    let speed = match &duty {
        Some(duty) => json!({
            "DataSourceUri": duty.uri(),
            "Reading": duty.reading(),
            "SpeedRPM": tach.reading(),
        }),
        None => json!({ "DataSourceUri": tach.uri(), "SpeedRPM": tach.reading() }),
    };
    Ok(Reply::ok(json!({
        "@odata.id": format!("{FANS}/{id}"),
        "@odata.type": "#Fan.v1_6_0.Fan",
        "Id": id,
        "Name": entry.name.0.clone(),
        "SpeedPercent": speed,
        "Status": tach.status(),
    })))
}

/// `GET .../ThermalSubsystem/ThermalMetrics`: every temperature sensor,
/// and the air inlet's as the intake.
pub async fn thermal_metrics(service: &Service) -> Result<Reply, ApiError> {
    let objects = service.sensors.get(&service.bus).await?;
    let temperatures: Vec<(&SensorEntry, Shown)> = service
        .config
        .sensors
        .iter()
        .filter(|e| e.kind == SensorKind::Temperature)
        .filter_map(|e| Some((e, Shown::find(&objects, e)?)))
        .collect();
    let readings: Vec<Value> = temperatures
        .iter()
        .map(|(entry, shown)| {
            let mut excerpt = shown.excerpt();
            excerpt["DeviceName"] = json!(entry.name.0.clone());
            excerpt
        })
        .collect();
    let mut metrics = json!({
        "@odata.id": THERMAL_METRICS,
        "@odata.type": "#ThermalMetrics.v1_3_3.ThermalMetrics",
        "Id": "ThermalMetrics",
        "Name": "Chassis Thermal Metrics",
        "TemperatureReadingsCelsius": readings,
    });
    if let Some((_, inlet)) = temperatures
        .iter()
        .find(|(e, _)| e.entity_id == ENTITY_AIR_INLET)
    {
        metrics["TemperatureSummaryCelsius"] = json!({ "Intake": inlet.excerpt() });
    }
    Ok(Reply::ok(metrics))
}

/// `GET .../PowerSubsystem`.
pub async fn power(service: &Service) -> Result<Reply, ApiError> {
    let objects = service.sensors.get(&service.bus).await?;
    let shown: Vec<Shown> = service
        .config
        .sensors
        .iter()
        .filter(|e| e.entity_id == ENTITY_POWER_SUPPLY)
        .filter_map(|e| Shown::find(&objects, e))
        .collect();
    Ok(Reply::ok(json!({
        "@odata.id": POWER,
        "@odata.type": "#PowerSubsystem.v1_1_4.PowerSubsystem",
        "Id": "PowerSubsystem",
        "Name": "Power Subsystem",
        "PowerSupplies": { "@odata.id": SUPPLIES },
        "Status": worst_status(shown.iter()),
    })))
}

/// `GET .../PowerSubsystem/PowerSupplies`.
pub fn supply_collection(service: &Service) -> Reply {
    let members = members(
        supply_instances(service)
            .into_iter()
            .map(|i| format!("{SUPPLIES}/{}", supply_id(i))),
    );
    Reply::ok(json!({
        "@odata.id": SUPPLIES,
        "@odata.type": "#PowerSupplyCollection.PowerSupplyCollection",
        "Name": "Power Supplies",
        "Members@odata.count": members.len(),
        "Members": members,
    }))
}

/// `GET .../PowerSupplies/<id>`.
pub async fn supply(service: &Service, id: &str) -> Result<Reply, ApiError> {
    let instance =
        supply_instance(service, id).ok_or_else(|| ApiError::not_found("PowerSupply", id))?;
    let objects = service.sensors.get(&service.bus).await?;
    let shown: Vec<Shown> = supply_sensors(service, instance)
        .filter_map(|e| Shown::find(&objects, e))
        .collect();
    Ok(Reply::ok(json!({
        "@odata.id": format!("{SUPPLIES}/{id}"),
        "@odata.type": "#PowerSupply.v1_7_0.PowerSupply",
        "Id": id,
        "Name": format!("Power Supply {instance}"),
        "Status": worst_status(shown.iter()),
        "Metrics": { "@odata.id": format!("{SUPPLIES}/{id}/Metrics") },
    })))
}

/// `GET .../PowerSupplies/<id>/Metrics`.
pub async fn supply_metrics(service: &Service, id: &str) -> Result<Reply, ApiError> {
    let instance =
        supply_instance(service, id).ok_or_else(|| ApiError::not_found("PowerSupply", id))?;
    let objects = service.sensors.get(&service.bus).await?;
    let mut metrics = json!({
        "@odata.id": format!("{SUPPLIES}/{id}/Metrics"),
        "@odata.type": "#PowerSupplyMetrics.v1_2_0.PowerSupplyMetrics",
        "Id": "Metrics",
        "Name": format!("Power Supply {instance} Metrics"),
    });
    let mut rails_current = Vec::new();
    let mut rails_voltage = Vec::new();
    let mut fans = Vec::new();
    let mut shown_all = Vec::new();
    for entry in supply_sensors(service, instance) {
        let Some(shown) = Shown::find(&objects, entry) else {
            continue;
        };
        match entry.kind {
            SensorKind::Power => metrics["InputPowerWatts"] = shown.excerpt(),
            SensorKind::Temperature => metrics["TemperatureCelsius"] = shown.excerpt(),
            SensorKind::Current => rails_current.push(shown.excerpt()),
            SensorKind::Voltage => rails_voltage.push(shown.excerpt()),
            SensorKind::Fan => {
                fans.push(json!({ "DataSourceUri": shown.uri(), "SpeedRPM": shown.reading() }))
            }
            // A supply's own fan duty has no property here.
            SensorKind::Pwm => continue,
        }
        shown_all.push(shown);
    }
    if !rails_current.is_empty() {
        metrics["RailCurrentAmps"] = json!(rails_current);
    }
    if !rails_voltage.is_empty() {
        metrics["RailVoltage"] = json!(rails_voltage);
    }
    if !fans.is_empty() {
        metrics["FanSpeedsPercent"] = json!(fans);
    }
    metrics["Status"] = worst_status(shown_all.iter());
    Ok(Reply::ok(metrics))
}
