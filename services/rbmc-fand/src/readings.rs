//! What each poll reads, over D-Bus: every sensor from rbmc-sensord's
//! objects (one `GetManagedObjects` of `/xyz/openbmc_project/sensors`), and
//! whether the host has power (rbmc-powerd's `CurrentPowerState`: on in
//! every state but `Off`).
//! rbmc-fand reads no hwmon input itself: sensord is the one reader.
//!
//! A reading becomes the zone's [`Reading`]:
//! - a finite `Value` of a functional sensor: [`Reading::Value`];
//! - NaN, a sensor that says it is not functional, or no such object while
//!   sensord answers: [`Reading::Failed`];
//! - sensord not answering (gone, slow): [`Reading::Unanswered`], which
//!   the zone holds until it is stale.

use std::{collections::HashMap, time::Duration};

use fan_control::Reading;
use rbmc_config::SensorEntry;
use rbmc_contracts::{names, sensor::SENSORS_ROOT, state::ChassisProxy};
use tracing::debug;
use zbus::zvariant::OwnedValue;

const VALUE: &str = "xyz.openbmc_project.Sensor.Value";
const OPERATIONAL: &str = "xyz.openbmc_project.State.Decorator.OperationalStatus";

/// One poll's view of the sensors: by object path, the value (NaN when the
/// sensor has none or is not functional); `None` when sensord did not
/// answer.
#[derive(Debug, Default)]
pub struct SensorValues(Option<HashMap<String, f64>>);

impl SensorValues {
    /// The zone's reading of `entry`.
    pub fn reading(&self, entry: &SensorEntry) -> Reading {
        let Some(values) = &self.0 else {
            return Reading::Unanswered;
        };
        let path =
            rbmc_contracts::sensor::sensor_path(entry.kind.dbus_kind(), &entry.name.object_name());
        match values.get(&path) {
            Some(value) if value.is_finite() => Reading::Value(*value),
            _ => Reading::Failed,
        }
    }

    /// Values as given (tests).
    pub fn of(values: Option<HashMap<String, f64>>) -> Self {
        Self(values)
    }
}

/// Reads every sensor, waiting at most `limit`.
pub async fn sensors(bus: &zbus::Connection, limit: Duration) -> SensorValues {
    let call = async {
        zbus::fdo::ObjectManagerProxy::builder(bus)
            .destination(names::SENSORD)?
            .path(SENSORS_ROOT)?
            .build()
            .await?
            .get_managed_objects()
            .await
            .map_err(zbus::Error::from)
    };
    let objects = match tokio::time::timeout(limit, call).await {
        Ok(Ok(objects)) => objects,
        Ok(Err(err)) => {
            debug!(%err, "sensors unanswered");
            return SensorValues(None);
        }
        Err(_) => {
            debug!("sensors unanswered within the poll");
            return SensorValues(None);
        }
    };
    let values = objects
        .into_iter()
        .filter_map(|(path, interfaces)| {
            let get = |interface: &str, property: &str| -> Option<&OwnedValue> {
                interfaces
                    .iter()
                    .find(|(name, _)| name.as_str() == interface)
                    .and_then(|(_, properties)| properties.get(property))
            };
            let value = f64::try_from(get(VALUE, "Value")?).ok()?;
            let functional = get(OPERATIONAL, "Functional")
                .and_then(|v| bool::try_from(v).ok())
                .unwrap_or(true);
            Some((path.to_string(), if functional { value } else { f64::NAN }))
        })
        .collect();
    SensorValues(Some(values))
}

/// Whether the host has power, if rbmc-powerd answers within `limit`:
/// every state but `Off` (a host shutting down still makes its heat).
pub async fn host_on(bus: &zbus::Connection, limit: Duration) -> Option<bool> {
    let call = async {
        ChassisProxy::builder(bus)
            .cache_properties(zbus::proxy::CacheProperties::No)
            .build()
            .await?
            .current_power_state()
            .await
    };
    match tokio::time::timeout(limit, call).await {
        Ok(Ok(state)) => Some(!state.ends_with(".Off")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reading_is_a_value_a_failure_or_unanswered() {
        let config = rbmc_config::Config::from_toml(
            r#"
[[sensors]]
name = "CPU0 Temp"
number = 1
kind = "temperature"
entity-id = 3
range = [0.0, 127.0]
source = { type = "hwmon", name = "cpu", input = "temp1" }
"#,
            "t.toml",
        )
        .unwrap();
        let entry = &config.sensors[0];
        let path = "/xyz/openbmc_project/sensors/temperature/CPU0_Temp".to_owned();
        let read = |values: Option<Vec<(String, f64)>>| {
            SensorValues::of(values.map(|v| v.into_iter().collect())).reading(entry)
        };
        assert_eq!(read(Some(vec![(path.clone(), 61.5)])), Reading::Value(61.5));
        assert_eq!(read(Some(vec![(path, f64::NAN)])), Reading::Failed);
        assert_eq!(read(Some(vec![])), Reading::Failed);
        assert_eq!(read(None), Reading::Unanswered);
    }
}
