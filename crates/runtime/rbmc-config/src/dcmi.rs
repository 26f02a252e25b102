//! `[dcmi]`: DCMI power management (rbmc-powerd): which sensor is the
//! system's power draw. Without it, power management is not offered
//! (Get DCMI Capabilities says so, and the power commands answer D5h).

use serde::Deserialize;

use crate::sensors::{SensorEntry, SensorKind};

/// `[dcmi]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct Dcmi {
    /// The name of the sensor (of kind `power`) whose reading is the
    /// system's input power: Get Power Reading's source, and what the power
    /// limit is held to.
    pub power_sensor: Option<String>,
}

impl Dcmi {
    /// The power sensor's entry, once checked against `sensors`.
    pub fn power_sensor<'a>(&self, sensors: &'a [SensorEntry]) -> Option<&'a SensorEntry> {
        let name = self.power_sensor.as_ref()?;
        sensors.iter().find(|s| &s.name.0 == name)
    }

    /// A power sensor that names no sensor, or one that does not read
    /// watts, is a config error.
    pub(crate) fn validate(&self, sensors: &[SensorEntry]) -> Result<(), String> {
        let Some(name) = &self.power_sensor else {
            return Ok(());
        };
        match sensors.iter().find(|s| &s.name.0 == name) {
            None => Err(format!("dcmi.power-sensor: no sensor is named {name:?}")),
            Some(entry) if entry.kind != SensorKind::Power => Err(format!(
                "dcmi.power-sensor: {name:?} is not a power sensor (kind {:?})",
                entry.kind
            )),
            Some(_) => Ok(()),
        }
    }
}
