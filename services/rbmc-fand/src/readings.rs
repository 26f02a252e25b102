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
//!
//! Each sensor's upper critical alarm (`Threshold.Critical`
//! `CriticalAlarmHigh`) comes with it: past critical is a failsafe cause in
//! every mode.

use std::{collections::HashMap, time::Duration};

use fan_control::Reading;
use rbmc_config::SensorEntry;
use rbmc_contracts::{names, sensor::SENSORS_ROOT, state::ChassisProxy};
use tracing::debug;
use zbus::zvariant::OwnedValue;

const VALUE: &str = "xyz.openbmc_project.Sensor.Value";
const OPERATIONAL: &str = "xyz.openbmc_project.State.Decorator.OperationalStatus";
const CRITICAL: &str = "xyz.openbmc_project.Sensor.Threshold.Critical";

/// One sensor as a poll saw it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    /// The value; NaN when the sensor has none or is not functional.
    pub value: f64,
    /// Its upper critical alarm (`CriticalAlarmHigh`).
    pub critical_high: bool,
}

/// One poll's view of the sensors, by object path; `None` when sensord did
/// not answer.
#[derive(Debug, Default)]
pub struct SensorValues(Option<HashMap<String, Sample>>);

impl SensorValues {
    fn sample(&self, entry: &SensorEntry) -> Option<Option<&Sample>> {
        let values = self.0.as_ref()?;
        let path =
            rbmc_contracts::sensor::sensor_path(entry.kind.dbus_kind(), &entry.name.object_name());
        Some(values.get(&path))
    }

    /// The zone's reading of `entry`.
    pub fn reading(&self, entry: &SensorEntry) -> Reading {
        match self.sample(entry) {
            None => Reading::Unanswered,
            Some(Some(sample)) if sample.value.is_finite() => Reading::Value(sample.value),
            Some(_) => Reading::Failed,
        }
    }

    /// Whether `entry` is past its upper critical threshold, as sensord's
    /// alarm says.
    pub fn critical(&self, entry: &SensorEntry) -> bool {
        matches!(self.sample(entry), Some(Some(sample)) if sample.critical_high)
    }

    /// Samples as given (tests).
    pub fn of(values: Option<HashMap<String, Sample>>) -> Self {
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
            let critical_high = get(CRITICAL, "CriticalAlarmHigh")
                .and_then(|v| bool::try_from(v).ok())
                .unwrap_or(false);
            let sample = Sample {
                value: if functional { value } else { f64::NAN },
                critical_high,
            };
            Some((path.to_string(), sample))
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
        let values = |values: Option<Vec<(String, f64, bool)>>| {
            SensorValues::of(values.map(|v| {
                v.into_iter()
                    .map(|(path, value, critical_high)| {
                        let sample = Sample {
                            value,
                            critical_high,
                        };
                        (path, sample)
                    })
                    .collect()
            }))
        };
        let read = |v: Option<Vec<(String, f64, bool)>>| values(v).reading(entry);
        assert_eq!(
            read(Some(vec![(path.clone(), 61.5, false)])),
            Reading::Value(61.5)
        );
        assert_eq!(
            read(Some(vec![(path.clone(), f64::NAN, false)])),
            Reading::Failed
        );
        assert_eq!(read(Some(vec![])), Reading::Failed);
        assert_eq!(read(None), Reading::Unanswered);
        assert!(values(Some(vec![(path.clone(), 99.0, true)])).critical(entry));
        assert!(!values(Some(vec![(path, 61.5, false)])).critical(entry));
        assert!(!values(None).critical(entry));
    }
}
