//! One IPMI sensor at run time: its conversion factors, its source, and the
//! state the IPMI commands read and change.

use std::{path::Path, sync::Mutex};

use ipmi_sdr::{LinearFactors, Thresholds};
use rbmc_config::{SensorEntry, Source};

use crate::{
    source::{hwmon::HwmonInput, i2c::I2cSource, iio::IioChannel, ReadingSource},
    thresholds::{self, Crossing, Levels},
};

/// Why a sensor could not be set up from its config.
#[derive(Debug, thiserror::Error)]
#[error("sensor {name:?}: {reason}")]
pub struct SensorError {
    name: String,
    reason: String,
}

/// What can change at run time, under one lock.
#[derive(Clone, Debug)]
pub struct SensorState {
    /// The last reading in the sensor's unit; `None` when the source failed.
    pub value: Option<f64>,
    /// The last reading, raw.
    pub raw: Option<u8>,
    /// Why the last reading failed.
    pub failure: Option<String>,
    /// Thresholds, raw.
    pub thresholds: Thresholds,
    /// Positive-going hysteresis, raw.
    pub positive_hysteresis: u8,
    /// Negative-going hysteresis, raw.
    pub negative_hysteresis: u8,
    /// Event messages enabled (Set Sensor Event Enable byte 2 bit 7).
    pub events_enabled: bool,
    /// Scanning enabled (byte 2 bit 6).
    pub scanning_enabled: bool,
    /// Assertion event enables, by event offset.
    pub assertion_enables: u16,
    /// Deassertion event enables, by event offset.
    pub deassertion_enables: u16,
    /// Asserted thresholds (mask bits).
    pub asserted: u8,
    /// Whether at least one reading has been taken since start.
    pub initial_update_done: bool,
}

impl SensorState {
    /// Takes the settings an operator changes (thresholds, hysteresis,
    /// event and scanning enables) from `other`; the readings stay.
    pub fn take_settings(&mut self, other: &SensorState) {
        self.thresholds = other.thresholds;
        self.positive_hysteresis = other.positive_hysteresis;
        self.negative_hysteresis = other.negative_hysteresis;
        self.events_enabled = other.events_enabled;
        self.scanning_enabled = other.scanning_enabled;
        self.assertion_enables = other.assertion_enables;
        self.deassertion_enables = other.deassertion_enables;
    }
}

/// A threshold event to log.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct ThresholdEvent {
    /// The crossing.
    pub crossing: Crossing,
    /// The reading that caused it, raw.
    pub reading: u8,
    /// The threshold crossed, raw.
    pub threshold: u8,
}

/// A sensor.
#[derive(Debug)]
pub struct Sensor {
    /// Its config.
    pub entry: SensorEntry,
    /// Raw/value conversion.
    pub factors: LinearFactors,
    source: Box<dyn ReadingSource>,
    /// Run-time state.
    pub state: Mutex<SensorState>,
}

/// The event offsets a threshold sensor may generate: going-low for the
/// lower thresholds present, going-high for the upper ones.
pub fn supported_offsets(thresholds: &Thresholds) -> u16 {
    (0..6u8)
        .filter(|bit| thresholds.mask() & (1 << bit) != 0)
        .map(|bit| {
            1u16 << Crossing {
                bit,
                asserted: true,
            }
            .event_offset()
        })
        .fold(0, |acc, b| acc | b)
}

impl Sensor {
    /// Reads the source once, to tell at start whether its device exists.
    pub fn probe(&self) -> Result<(), super::source::SourceError> {
        self.source.read().map(|_| ())
    }

    /// Builds a sensor; hwmon and iio sources are looked up under
    /// `sysfs_root`.
    pub fn new(entry: &SensorEntry, sysfs_root: &Path) -> Result<Self, SensorError> {
        let fail = |reason: String| SensorError {
            name: entry.name.0.clone(),
            reason,
        };
        let [min, max] = entry.range;
        // The configured thresholds and hysteresis read back exactly: the
        // step is the finest that covers the range with all of them on it.
        let t = &entry.thresholds;
        let exact: Vec<f64> = [t.lnr, t.lcr, t.lnc, t.unc, t.ucr, t.unr]
            .into_iter()
            .flatten()
            .collect();
        let steps: Vec<f64> = [entry.hysteresis]
            .into_iter()
            .filter(|h| *h > 0.0)
            .collect();
        let factors = LinearFactors::for_values(min, max, &exact, &steps, entry.resolution)
            .map_err(|e| fail(e.to_string()))?;
        let source: Box<dyn ReadingSource> = match &entry.source {
            Source::Hwmon {
                name,
                input,
                device,
            } => Box::new(HwmonInput::new(
                sysfs_root,
                name,
                device.as_deref(),
                &entry.kind.hwmon_attribute(input),
                entry.kind.hwmon_scale(),
            )),
            Source::Iio { device, channel } => {
                let channel_type = entry
                    .kind
                    .iio_channel_type()
                    .ok_or_else(|| fail(format!("iio does not measure {:?}", entry.kind)))?;
                Box::new(IioChannel::new(
                    sysfs_root,
                    device,
                    channel_type,
                    *channel,
                    entry.kind.hwmon_scale(),
                ))
            }
            Source::Lm75 { bus, address } => Box::new(I2cSource::lm75(*bus, *address)),
            Source::Pmbus {
                bus,
                address,
                reading,
            } => Box::new(I2cSource::pmbus(*bus, *address, *reading)),
        };
        let t = &entry.thresholds;
        let raw = |v: Option<f64>| v.map(|v| factors.to_raw(v));
        let thresholds = Thresholds {
            lnc: raw(t.lnc),
            lcr: raw(t.lcr),
            lnr: raw(t.lnr),
            unc: raw(t.unc),
            ucr: raw(t.ucr),
            unr: raw(t.unr),
        };
        let hysteresis = hysteresis_raw(entry.hysteresis, &factors);
        let offsets = supported_offsets(&thresholds);
        Ok(Self {
            entry: entry.clone(),
            factors,
            source,
            state: Mutex::new(SensorState {
                value: None,
                raw: None,
                failure: None,
                thresholds,
                positive_hysteresis: hysteresis,
                negative_hysteresis: hysteresis,
                events_enabled: true,
                scanning_enabled: true,
                assertion_enables: offsets,
                deassertion_enables: offsets,
                asserted: 0,
                initial_update_done: false,
            }),
        })
    }

    /// A copy of the state.
    pub fn snapshot(&self) -> SensorState {
        self.lock().clone()
    }

    /// The state, locked.
    pub fn lock(&self) -> std::sync::MutexGuard<'_, SensorState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A raw value as an ordered integer (sign-extended for 2's complement).
    pub fn ordered(&self, raw: u8) -> i16 {
        if self.factors.signed {
            i16::from(i8::from_le_bytes([raw]))
        } else {
            i16::from(raw)
        }
    }

    /// Takes a reading and evaluates the thresholds; returns the events to
    /// log (only those whose enables are set).
    pub fn poll(&self) -> Vec<ThresholdEvent> {
        let reading = self.source.read();
        let mut state = self.lock();
        state.initial_update_done = true;
        if !state.scanning_enabled {
            return Vec::new();
        }
        let value = match reading {
            Ok(value) => value,
            Err(err) => {
                state.value = None;
                state.raw = None;
                state.failure = Some(err.to_string());
                return Vec::new();
            }
        };
        let raw = self.factors.to_raw(value);
        state.value = Some(value);
        state.raw = Some(raw);
        state.failure = None;
        let t = state.thresholds;
        let by_bit = [t.lnc, t.lcr, t.lnr, t.unc, t.ucr, t.unr];
        let levels: Levels = by_bit.map(|v| v.map(|raw| self.ordered(raw)));
        let (asserted, crossings) = thresholds::evaluate(
            self.ordered(raw),
            &levels,
            i16::from(state.positive_hysteresis),
            i16::from(state.negative_hysteresis),
            state.asserted,
        );
        state.asserted = asserted;
        if !state.events_enabled {
            return Vec::new();
        }
        crossings
            .into_iter()
            .filter(|c| {
                let enables = if c.asserted {
                    state.assertion_enables
                } else {
                    state.deassertion_enables
                };
                enables & (1 << c.event_offset()) != 0
            })
            .map(|crossing| ThresholdEvent {
                crossing,
                reading: raw,
                threshold: by_bit[usize::from(crossing.bit)].unwrap_or(0),
            })
            .collect()
    }
}

/// Hysteresis in raw counts: the smallest count that covers `value`.
pub fn hysteresis_raw(value: f64, factors: &LinearFactors) -> u8 {
    let steps = (value / factors.resolution()).ceil();
    if steps.is_finite() && steps > 0.0 {
        // Clamped to the byte's range first, so the cast is exact.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let steps = steps.min(255.0) as u8;
        steps
    } else {
        0
    }
}
