//! The chassis's `Controls`: each fan zone of rbmc-fand as a `Control`
//! (Control.v1_5_0), at `/redfish/v1/Chassis/chassis/Controls/FanZone<N>`.
//!
//! - `ControlType` `DutyCycle` (the zone's fans' PWM duty), `PhysicalContext`
//!   `Fan`;
//! - `ControlMode` `Automatic` while the controllers drive the fans, and
//!   `Override` while an operator holds them (phosphor-pid-control's
//!   `Manual`: Redfish's `Manual` means a physical control);
//! - `SetPoint` the zone's present PWM in percent, `AllowableMin` and
//!   `AllowableMax` the range its controllers keep to (`min-pwm`,
//!   `max-pwm`);
//! - `Status.Health` `Critical` while the zone is in failsafe, else `OK`
//!   (the causes are on D-Bus, `org.rbmc.Fand.Zone.FailSafeCauses`);
//! - `AssociatedSensors` the zone's inputs, PWM outputs and tachometers.
//!
//! Read-only here: the mode is changed over D-Bus or IPMI. The zones are
//! the config's; their state is rbmc-fand's objects, read at each request
//! (`xyz.openbmc_project.Control.Mode`, `org.rbmc.Fand.Zone`).

use rbmc_config::{FanZone, SensorEntry};
use rbmc_contracts::fan::{zone_path, ModeProxy, ZoneProxy};
use redfish_core::ApiError;
use serde_json::{json, Value};

use crate::{
    owners::bus_error,
    resources::chassis::sensor_uri,
    service::{Reply, Service},
};

const CONTROLS: &str = "/redfish/v1/Chassis/chassis/Controls";

fn control_id(zone: &FanZone) -> String {
    format!("FanZone{}", zone.id)
}

/// `GET .../Controls`.
pub fn collection(service: &Service) -> Reply {
    let members: Vec<Value> = service
        .config
        .cooling
        .zones
        .iter()
        .map(|zone| json!({ "@odata.id": format!("{CONTROLS}/{}", control_id(zone)) }))
        .collect();
    Reply::ok(json!({
        "@odata.id": CONTROLS,
        "@odata.type": "#ControlCollection.ControlCollection",
        "Name": "Controls",
        "Members@odata.count": members.len(),
        "Members": members,
    }))
}

/// `GET .../Controls/FanZone<N>`.
pub async fn control(service: &Service, id: &str) -> Result<Reply, ApiError> {
    let zone = service
        .config
        .cooling
        .zones
        .iter()
        .find(|zone| control_id(zone) == id)
        .ok_or_else(|| ApiError::not_found("Control", id))?;
    let (manual, failsafe, pwm) = zone_state(&service.bus, zone.id)
        .await
        .map_err(|e| bus_error(&e))?;
    let sensor = |name: &str| -> Option<&SensorEntry> {
        service.config.sensors.iter().find(|s| s.name.0 == name)
    };
    let associated: Vec<Value> = zone
        .inputs
        .iter()
        .map(|input| input.sensor.as_str())
        .chain(
            zone.fans
                .iter()
                .flat_map(|fan| std::iter::once(fan.pwm.as_str()).chain(fan.tach.as_deref())),
        )
        .filter_map(sensor)
        .filter_map(|entry| {
            let path = rbmc_contracts::sensor::sensor_path(
                entry.kind.dbus_kind(),
                &entry.name.object_name(),
            );
            sensor_uri(&path)
        })
        .map(|uri| json!({ "@odata.id": uri }))
        .collect();
    Ok(Reply::ok(json!({
        "@odata.id": format!("{CONTROLS}/{id}"),
        "@odata.type": "#Control.v1_5_0.Control",
        "Id": id,
        "Name": format!("Fan zone {}", zone.id),
        "ControlType": "DutyCycle",
        "PhysicalContext": "Fan",
        "ControlMode": if manual { "Override" } else { "Automatic" },
        "SetPoint": (pwm * 100.0).round() / 100.0,
        "SetPointUnits": "%",
        "AllowableMin": zone.min_pwm,
        "AllowableMax": zone.max_pwm,
        "AssociatedSensors": associated,
        "AssociatedSensors@odata.count": associated.len(),
        "Status": {
            "State": "Enabled",
            "Health": if failsafe { "Critical" } else { "OK" },
        },
    })))
}

/// Zone `id`'s mode, failsafe and PWM, from rbmc-fand.
async fn zone_state(bus: &zbus::Connection, id: u8) -> zbus::Result<(bool, bool, f64)> {
    let path = zone_path(id);
    let mode = ModeProxy::builder(bus)
        .path(path.as_str())?
        .cache_properties(zbus::proxy::CacheProperties::No)
        .build()
        .await?;
    let zone = ZoneProxy::builder(bus)
        .path(path.as_str())?
        .cache_properties(zbus::proxy::CacheProperties::No)
        .build()
        .await?;
    Ok((
        mode.manual().await?,
        mode.fail_safe().await?,
        zone.pwm().await?,
    ))
}
