//! What operators change at run time — thresholds, hysteresis, event and
//! scanning enables — kept in `<state>/sensor-settings.toml` so it survives
//! restarts. Values are stored in the sensor's unit, not raw, so a config
//! change to a sensor's range cannot make a stored threshold mean something
//! else. The file is replaced atomically (see `rbmc_daemon::write_atomic`),
//! on the blocking pool, one change at a time; a change reaches the sensor
//! (and the requester hears "done") only once the file holding it is
//! durable. A failed write changes nothing.

use std::{collections::BTreeMap, path::Path};

use ipmi_sdr::Thresholds;
use ipmi_wire::CompletionCode;
use rbmc_daemon::durable::{self, DurableFile};
use serde::{Deserialize, Serialize};
use tracing::warn;

use crate::sensor::{Sensor, SensorState};

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
    file: DurableFile,
}

impl Settings {
    /// Settings kept in `state_dir`.
    pub fn new(state_dir: &Path) -> Self {
        Self {
            file: DurableFile::new(state_dir.join("sensor-settings.toml")),
        }
    }

    /// Where the settings are kept.
    pub fn path(&self) -> &Path {
        self.file.path()
    }

    /// Applies stored settings to the sensors they name. A damaged file is
    /// reported and ignored: config values apply. Reads the file: called at
    /// start, before the daemon serves.
    pub fn apply(&self, sensors: &[&Sensor]) {
        let Ok(text) = std::fs::read_to_string(self.path()) else {
            return;
        };
        let stored: BTreeMap<String, Stored> = match toml::from_str(&text) {
            Ok(stored) => stored,
            Err(err) => {
                warn!(path = %self.path().display(), cause = %err, "ignoring damaged sensor settings");
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

    /// Changes `sensor`'s settings: `change` runs on a copy of its state
    /// (and may refuse with a completion code), the file with every
    /// sensor's settings and the copy's is written, and only once it is
    /// durable does the change reach the sensor. One change runs at a time,
    /// so each is staged from the settings the one before left.
    pub async fn change(
        &self,
        sensors: &[Sensor],
        sensor: &Sensor,
        change: impl FnOnce(&mut SensorState) -> Result<(), CompletionCode>,
    ) -> Result<(), CompletionCode> {
        let mut write = self.file.begin().await;
        let mut staged = sensor.snapshot();
        change(&mut staged)?;
        let stored: BTreeMap<String, Stored> = sensors
            .iter()
            .map(|s| {
                let state = if std::ptr::eq(s, sensor) {
                    staged.clone()
                } else {
                    s.snapshot()
                };
                (s.entry.name.0.clone(), Stored::from_state(s, &state))
            })
            .collect();
        let text = toml::to_string(&stored).map_err(|err| {
            warn!(cause = %err, "cannot encode sensor settings");
            CompletionCode::UNSPECIFIED
        })?;
        write.write(text.into_bytes()).await.map_err(|err| {
            warn!(cause = %err, "cannot persist sensor settings; change refused");
            durable::completion_code(&err)
        })?;
        sensor.lock().take_settings(&staged);
        Ok(())
    }
}

impl Stored {
    /// A sensor's settings in the file's form: values in the sensor's unit.
    fn from_state(sensor: &Sensor, s: &SensorState) -> Self {
        let f = &sensor.factors;
        let value = |raw: Option<u8>| raw.map(|r| f.to_value(r));
        Self {
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
        }
    }
}
