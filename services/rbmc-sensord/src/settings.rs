//! What operators change at run time — thresholds, hysteresis, event and
//! scanning enables — kept in `<state>/sensor-settings.toml` so it survives
//! restarts. Values are stored in the sensor's unit, not raw, so a config
//! change to a sensor's range cannot make a stored threshold mean something
//! else. The file is replaced atomically (see `rbmc_daemon::write_atomic`).

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use ipmi_sdr::Thresholds;
use serde::{Deserialize, Serialize};
use tracing::warn;

use crate::sensor::Sensor;

/// One sensor's stored settings.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Stored {
    lnc: Option<f64>,
    lcr: Option<f64>,
    lnr: Option<f64>,
    unc: Option<f64>,
    ucr: Option<f64>,
    unr: Option<f64>,
    positive_hysteresis: f64,
    negative_hysteresis: f64,
    events_enabled: bool,
    scanning_enabled: bool,
    assertion_enables: u16,
    deassertion_enables: u16,
}

/// The settings file.
#[derive(Debug)]
pub struct Settings {
    path: PathBuf,
}

impl Settings {
    /// Settings kept in `state_dir`.
    pub fn new(state_dir: &Path) -> Self {
        Self {
            path: state_dir.join("sensor-settings.toml"),
        }
    }

    /// Applies stored settings to the sensors they name. A damaged file is
    /// reported and ignored: config values apply.
    pub fn apply(&self, sensors: &[&Sensor]) {
        let Ok(text) = std::fs::read_to_string(&self.path) else {
            return;
        };
        let stored: BTreeMap<String, Stored> = match toml::from_str(&text) {
            Ok(stored) => stored,
            Err(err) => {
                warn!(path = %self.path.display(), cause = %err, "ignoring damaged sensor settings");
                return;
            }
        };
        for sensor in sensors {
            let Some(saved) = stored.get(&sensor.entry.name.0) else {
                continue;
            };
            let f = &sensor.factors;
            let raw = |v: Option<f64>| v.map(|v| f.to_raw(v));
            let mut s = sensor.lock();
            // Only thresholds the sensor has can come back.
            let has = s.thresholds;
            let keep = |present: Option<u8>, value: Option<f64>| present.and(raw(value));
            s.thresholds = Thresholds {
                lnc: keep(has.lnc, saved.lnc),
                lcr: keep(has.lcr, saved.lcr),
                lnr: keep(has.lnr, saved.lnr),
                unc: keep(has.unc, saved.unc),
                ucr: keep(has.ucr, saved.ucr),
                unr: keep(has.unr, saved.unr),
            };
            s.positive_hysteresis = crate::sensor::hysteresis_raw(saved.positive_hysteresis, f);
            s.negative_hysteresis = crate::sensor::hysteresis_raw(saved.negative_hysteresis, f);
            s.events_enabled = saved.events_enabled;
            s.scanning_enabled = saved.scanning_enabled;
            s.assertion_enables = saved.assertion_enables;
            s.deassertion_enables = saved.deassertion_enables;
        }
    }

    /// Stores every sensor's present settings.
    pub fn save(&self, sensors: &[&Sensor]) -> std::io::Result<()> {
        let mut stored = BTreeMap::new();
        for sensor in sensors {
            let f = &sensor.factors;
            let s = sensor.snapshot();
            let value = |raw: Option<u8>| raw.map(|r| f.to_value(r));
            stored.insert(
                sensor.entry.name.0.clone(),
                Stored {
                    lnc: value(s.thresholds.lnc),
                    lcr: value(s.thresholds.lcr),
                    lnr: value(s.thresholds.lnr),
                    unc: value(s.thresholds.unc),
                    ucr: value(s.thresholds.ucr),
                    unr: value(s.thresholds.unr),
                    positive_hysteresis: f64::from(s.positive_hysteresis) * f.resolution(),
                    negative_hysteresis: f64::from(s.negative_hysteresis) * f.resolution(),
                    events_enabled: s.events_enabled,
                    scanning_enabled: s.scanning_enabled,
                    assertion_enables: s.assertion_enables,
                    deassertion_enables: s.deassertion_enables,
                },
            );
        }
        let text = toml::to_string(&stored).map_err(std::io::Error::other)?;
        rbmc_daemon::write_atomic(&self.path, text.as_bytes())
    }
}
