//! Each sensor on D-Bus, as OpenBMC consumers expect it, at
//! `/xyz/openbmc_project/sensors/<kind>/<name>`:
//! - `xyz.openbmc_project.Sensor.Value`: `Value` (NaN without a reading),
//!   `MaxValue`, `MinValue`, `Unit`;
//! - `xyz.openbmc_project.Sensor.Threshold.Warning` and `.Critical`: the
//!   non-critical and critical thresholds, their alarms, and the
//!   `...AlarmAsserted` / `...AlarmDeasserted` signals (non-recoverable
//!   thresholds have no OpenBMC interface and are IPMI-only);
//! - `xyz.openbmc_project.State.Decorator.Availability` and
//!   `.OperationalStatus`: whether the source answers;
//! - `org.rbmc.Ipmi.Sensor`: `Number`, `SensorType`, `EventReadingType`, so
//!   the SEL logger can turn a sensor path into an IPMI record.
//!
//! The clients are in [`rbmc_contracts::sensor`] (and
//! [`rbmc_contracts::ipmi::IpmiSensorProxy`]). Every member is a property
//! or a signal: nothing here fails with an error of its own.

use zbus::{
    object_server::{InterfaceRef, SignalEmitter},
    Connection,
};

use crate::sensor::Sensor;

/// Path of a sensor's object.
pub fn sensor_path(entry: &rbmc_config::SensorEntry) -> String {
    rbmc_contracts::sensor::sensor_path(entry.kind.dbus_kind(), &entry.name.object_name())
}

/// `xyz.openbmc_project.Sensor.Value`.
pub struct ValueObject {
    value: f64,
    min: f64,
    max: f64,
    unit: String,
}

#[zbus::interface(name = "xyz.openbmc_project.Sensor.Value")]
impl ValueObject {
    /// The reading, NaN when there is none.
    #[zbus(property)]
    fn value(&self) -> f64 {
        self.value
    }
    /// The top of the range.
    #[zbus(property)]
    fn max_value(&self) -> f64 {
        self.max
    }
    /// The bottom of the range.
    #[zbus(property)]
    fn min_value(&self) -> f64 {
        self.min
    }
    /// The unit, as an OpenBMC enumeration string.
    #[zbus(property)]
    fn unit(&self) -> String {
        self.unit.clone()
    }
}

macro_rules! threshold_interface {
    ($ty:ident, $iface:literal, $high:ident, $low:ident, $alarm_high:ident, $alarm_low:ident,
     $high_asserted:ident, $high_deasserted:ident, $low_asserted:ident, $low_deasserted:ident,
     $high_changed:ident, $low_changed:ident, $alarm_high_changed:ident, $alarm_low_changed:ident) => {
        #[doc = concat!("`", $iface, "`.")]
        pub struct $ty {
            pub(super) high: f64,
            pub(super) low: f64,
            pub(super) alarm_high: bool,
            pub(super) alarm_low: bool,
        }

        #[zbus::interface(name = $iface)]
        impl $ty {
            /// The upper threshold (NaN if none).
            #[zbus(property)]
            fn $high(&self) -> f64 {
                self.high
            }
            /// The lower threshold (NaN if none).
            #[zbus(property)]
            fn $low(&self) -> f64 {
                self.low
            }
            /// Whether the reading is past the upper threshold.
            #[zbus(property)]
            fn $alarm_high(&self) -> bool {
                self.alarm_high
            }
            /// Whether the reading is past the lower threshold.
            #[zbus(property)]
            fn $alarm_low(&self) -> bool {
                self.alarm_low
            }
            /// The upper alarm began, at this reading.
            #[zbus(signal)]
            async fn $high_asserted(emitter: &SignalEmitter<'_>, value: f64) -> zbus::Result<()>;
            /// The upper alarm ended.
            #[zbus(signal)]
            async fn $high_deasserted(emitter: &SignalEmitter<'_>, value: f64) -> zbus::Result<()>;
            /// The lower alarm began.
            #[zbus(signal)]
            async fn $low_asserted(emitter: &SignalEmitter<'_>, value: f64) -> zbus::Result<()>;
            /// The lower alarm ended.
            #[zbus(signal)]
            async fn $low_deasserted(emitter: &SignalEmitter<'_>, value: f64) -> zbus::Result<()>;
        }

        impl $ty {
            /// Sets the values and alarms; emits property changes and the
            /// alarm signals for alarms that changed.
            pub(super) async fn refresh(
                iface: &InterfaceRef<Self>,
                high: f64,
                low: f64,
                alarm_high: bool,
                alarm_low: bool,
                reading: f64,
            ) -> zbus::Result<()> {
                let emitter = iface.signal_emitter();
                let mut obj = iface.get_mut().await;
                if !same(obj.high, high) {
                    obj.high = high;
                    obj.$high_changed(emitter).await?;
                }
                if !same(obj.low, low) {
                    obj.low = low;
                    obj.$low_changed(emitter).await?;
                }
                if obj.alarm_high != alarm_high {
                    obj.alarm_high = alarm_high;
                    obj.$alarm_high_changed(emitter).await?;
                    if alarm_high {
                        Self::$high_asserted(emitter, reading).await?;
                    } else {
                        Self::$high_deasserted(emitter, reading).await?;
                    }
                }
                if obj.alarm_low != alarm_low {
                    obj.alarm_low = alarm_low;
                    obj.$alarm_low_changed(emitter).await?;
                    if alarm_low {
                        Self::$low_asserted(emitter, reading).await?;
                    } else {
                        Self::$low_deasserted(emitter, reading).await?;
                    }
                }
                Ok(())
            }
        }
    };
}

// zbus generates a signal trait whose methods carry no doc comments; the
// allowance is scoped to the two generated interfaces.
#[allow(missing_docs)]
mod threshold_objects {
    use super::*;

    threshold_interface!(
        WarningObject,
        "xyz.openbmc_project.Sensor.Threshold.Warning",
        warning_high,
        warning_low,
        warning_alarm_high,
        warning_alarm_low,
        warning_high_alarm_asserted,
        warning_high_alarm_deasserted,
        warning_low_alarm_asserted,
        warning_low_alarm_deasserted,
        warning_high_changed,
        warning_low_changed,
        warning_alarm_high_changed,
        warning_alarm_low_changed
    );

    threshold_interface!(
        CriticalObject,
        "xyz.openbmc_project.Sensor.Threshold.Critical",
        critical_high,
        critical_low,
        critical_alarm_high,
        critical_alarm_low,
        critical_high_alarm_asserted,
        critical_high_alarm_deasserted,
        critical_low_alarm_asserted,
        critical_low_alarm_deasserted,
        critical_high_changed,
        critical_low_changed,
        critical_alarm_high_changed,
        critical_alarm_low_changed
    );
}

pub use threshold_objects::{CriticalObject, WarningObject};

/// NaN-aware equality for property values.
fn same(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}

/// `xyz.openbmc_project.State.Decorator.Availability` and
/// `.OperationalStatus` share one flag: the source answers.
pub struct AvailabilityObject {
    available: bool,
}

#[zbus::interface(name = "xyz.openbmc_project.State.Decorator.Availability")]
impl AvailabilityObject {
    /// Whether the sensor has a reading.
    #[zbus(property)]
    fn available(&self) -> bool {
        self.available
    }
}

/// `xyz.openbmc_project.State.Decorator.OperationalStatus`.
pub struct OperationalObject {
    functional: bool,
}

#[zbus::interface(name = "xyz.openbmc_project.State.Decorator.OperationalStatus")]
impl OperationalObject {
    /// Whether the sensor's source works.
    #[zbus(property)]
    fn functional(&self) -> bool {
        self.functional
    }
}

/// A sensor's served interfaces.
pub struct SensorObjects {
    value: InterfaceRef<ValueObject>,
    warning: InterfaceRef<WarningObject>,
    critical: InterfaceRef<CriticalObject>,
    available: InterfaceRef<AvailabilityObject>,
    operational: InterfaceRef<OperationalObject>,
}

impl SensorObjects {
    /// Serves a sensor's interfaces on `conn`.
    pub async fn serve(conn: &Connection, sensor: &Sensor) -> zbus::Result<Self> {
        let entry = &sensor.entry;
        let path = sensor_path(entry);
        let server = conn.object_server();
        let [min, max] = entry.range;
        server
            .at(
                path.as_str(),
                ValueObject {
                    value: f64::NAN,
                    min,
                    max,
                    unit: entry.kind.dbus_unit().to_owned(),
                },
            )
            .await?;
        let nan = f64::NAN;
        server
            .at(
                path.as_str(),
                WarningObject {
                    high: nan,
                    low: nan,
                    alarm_high: false,
                    alarm_low: false,
                },
            )
            .await?;
        server
            .at(
                path.as_str(),
                CriticalObject {
                    high: nan,
                    low: nan,
                    alarm_high: false,
                    alarm_low: false,
                },
            )
            .await?;
        server
            .at(path.as_str(), AvailabilityObject { available: false })
            .await?;
        server
            .at(path.as_str(), OperationalObject { functional: true })
            .await?;
        server
            .at(
                path.as_str(),
                ipmi_router::events::SensorIdentity {
                    number: entry.number.0,
                    sensor_type: crate::units::sensor_type(entry.kind),
                    event_reading_type: ipmi_sdr::EventReadingType::THRESHOLD.0,
                },
            )
            .await?;
        let objects = Self {
            value: server.interface(path.as_str()).await?,
            warning: server.interface(path.as_str()).await?,
            critical: server.interface(path.as_str()).await?,
            available: server.interface(path.as_str()).await?,
            operational: server.interface(path.as_str()).await?,
        };
        objects.update(sensor).await?;
        Ok(objects)
    }

    /// Publishes the sensor's present state.
    pub async fn update(&self, sensor: &Sensor) -> zbus::Result<()> {
        let s = sensor.snapshot();
        let value = s.value.unwrap_or(f64::NAN);
        {
            let emitter = self.value.signal_emitter();
            let mut obj = self.value.get_mut().await;
            if !same(obj.value, value) {
                obj.value = value;
                obj.value_changed(emitter).await?;
            }
        }
        let f = &sensor.factors;
        let v = |raw: Option<u8>| raw.map(|r| f.to_value(r)).unwrap_or(f64::NAN);
        let t = s.thresholds;
        let bit = |b: u8| s.asserted & (1 << b) != 0;
        WarningObject::refresh(&self.warning, v(t.unc), v(t.lnc), bit(3), bit(0), value).await?;
        CriticalObject::refresh(&self.critical, v(t.ucr), v(t.lcr), bit(4), bit(1), value).await?;
        let available = s.value.is_some();
        {
            let emitter = self.available.signal_emitter();
            let mut obj = self.available.get_mut().await;
            if obj.available != available {
                obj.available = available;
                obj.available_changed(emitter).await?;
            }
        }
        let emitter = self.operational.signal_emitter();
        let mut obj = self.operational.get_mut().await;
        if obj.functional != available {
            obj.functional = available;
            obj.functional_changed(emitter).await?;
        }
        Ok(())
    }
}
