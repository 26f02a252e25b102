//! What each sensor object carries, with OpenBMC's interfaces
//! (dbus-sensors'), at `/xyz/openbmc_project/sensors/<kind>/<name>` on
//! rbmc-sensord (see [`sensor_path`]):
//!
//! - `xyz.openbmc_project.Sensor.Value` ([`ValueProxy`]): `Value` (NaN
//!   without a reading), `MinValue`, `MaxValue`, `Unit`;
//! - `xyz.openbmc_project.Sensor.Threshold.Warning` and `.Critical`
//!   ([`WarningProxy`], [`CriticalProxy`]): the non-critical and critical
//!   thresholds, their alarms and the `...AlarmAsserted` /
//!   `...AlarmDeasserted` signals (the non-recoverable thresholds have no
//!   OpenBMC interface: IPMI only);
//! - `xyz.openbmc_project.State.Decorator.Availability` and
//!   `.OperationalStatus` ([`AvailabilityProxy`], [`OperationalStatusProxy`]):
//!   whether the source answers;
//! - `org.rbmc.Ipmi.Sensor` ([`crate::ipmi::IpmiSensorProxy`]): the IPMI
//!   identity.
//!
//! All read-only; none has methods, so none fails but for the call itself.

/// Where sensor objects live.
pub const SENSORS_ROOT: &str = "/xyz/openbmc_project/sensors";

/// The object path of sensor `name` of OpenBMC's `kind` (`temperature`,
/// `fan_tach`, `voltage`, ...); `name` is already an object-path element
/// (`CPU0_Temp`, not `CPU0 Temp`).
pub fn sensor_path(kind: &str, name: &str) -> String {
    format!("{SENSORS_ROOT}/{kind}/{name}")
}

/// Client of `xyz.openbmc_project.Sensor.Value`.
#[zbus::proxy(
    interface = "xyz.openbmc_project.Sensor.Value",
    default_service = "org.rbmc.Sensord"
)]
pub trait Value {
    /// The reading, NaN when there is none.
    #[zbus(property)]
    fn value(&self) -> zbus::Result<f64>;

    /// The top of the range.
    #[zbus(property)]
    fn max_value(&self) -> zbus::Result<f64>;

    /// The bottom of the range.
    #[zbus(property)]
    fn min_value(&self) -> zbus::Result<f64>;

    /// The unit, as an OpenBMC enumeration string
    /// (`xyz.openbmc_project.Sensor.Value.Unit.DegreesC`, ...).
    #[zbus(property)]
    fn unit(&self) -> zbus::Result<String>;
}

pub use thresholds::*;

// zbus generates, for each signal, an argument struct and stream methods
// without doc comments; the allowance is scoped to the two threshold
// interfaces, the only ones with signals.
#[allow(missing_docs)]
mod thresholds {
    /// Client of `xyz.openbmc_project.Sensor.Threshold.Warning`.
    #[zbus::proxy(
        interface = "xyz.openbmc_project.Sensor.Threshold.Warning",
        default_service = "org.rbmc.Sensord"
    )]
    pub trait Warning {
        /// The upper non-critical threshold (NaN if none).
        #[zbus(property)]
        fn warning_high(&self) -> zbus::Result<f64>;

        /// The lower non-critical threshold (NaN if none).
        #[zbus(property)]
        fn warning_low(&self) -> zbus::Result<f64>;

        /// Whether the reading is past the upper threshold.
        #[zbus(property)]
        fn warning_alarm_high(&self) -> zbus::Result<bool>;

        /// Whether the reading is past the lower threshold.
        #[zbus(property)]
        fn warning_alarm_low(&self) -> zbus::Result<bool>;

        /// The upper alarm began, at this reading.
        #[zbus(signal)]
        fn warning_high_alarm_asserted(&self, value: f64) -> zbus::Result<()>;

        /// The upper alarm ended, at this reading.
        #[zbus(signal)]
        fn warning_high_alarm_deasserted(&self, value: f64) -> zbus::Result<()>;

        /// The lower alarm began, at this reading.
        #[zbus(signal)]
        fn warning_low_alarm_asserted(&self, value: f64) -> zbus::Result<()>;

        /// The lower alarm ended, at this reading.
        #[zbus(signal)]
        fn warning_low_alarm_deasserted(&self, value: f64) -> zbus::Result<()>;
    }

    /// Client of `xyz.openbmc_project.Sensor.Threshold.Critical`.
    #[zbus::proxy(
        interface = "xyz.openbmc_project.Sensor.Threshold.Critical",
        default_service = "org.rbmc.Sensord"
    )]
    pub trait Critical {
        /// The upper critical threshold (NaN if none).
        #[zbus(property)]
        fn critical_high(&self) -> zbus::Result<f64>;

        /// The lower critical threshold (NaN if none).
        #[zbus(property)]
        fn critical_low(&self) -> zbus::Result<f64>;

        /// Whether the reading is past the upper threshold.
        #[zbus(property)]
        fn critical_alarm_high(&self) -> zbus::Result<bool>;

        /// Whether the reading is past the lower threshold.
        #[zbus(property)]
        fn critical_alarm_low(&self) -> zbus::Result<bool>;

        /// The upper alarm began, at this reading.
        #[zbus(signal)]
        fn critical_high_alarm_asserted(&self, value: f64) -> zbus::Result<()>;

        /// The upper alarm ended, at this reading.
        #[zbus(signal)]
        fn critical_high_alarm_deasserted(&self, value: f64) -> zbus::Result<()>;

        /// The lower alarm began, at this reading.
        #[zbus(signal)]
        fn critical_low_alarm_asserted(&self, value: f64) -> zbus::Result<()>;

        /// The lower alarm ended, at this reading.
        #[zbus(signal)]
        fn critical_low_alarm_deasserted(&self, value: f64) -> zbus::Result<()>;
    }
}

/// Client of `xyz.openbmc_project.State.Decorator.Availability`.
#[zbus::proxy(
    interface = "xyz.openbmc_project.State.Decorator.Availability",
    default_service = "org.rbmc.Sensord"
)]
pub trait Availability {
    /// Whether the sensor has a reading.
    #[zbus(property)]
    fn available(&self) -> zbus::Result<bool>;
}

/// Client of `xyz.openbmc_project.State.Decorator.OperationalStatus`.
#[zbus::proxy(
    interface = "xyz.openbmc_project.State.Decorator.OperationalStatus",
    default_service = "org.rbmc.Sensord"
)]
pub trait OperationalStatus {
    /// Whether the sensor's source works.
    #[zbus(property)]
    fn functional(&self) -> zbus::Result<bool>;
}

/// The object of `org.rbmc.Sensord.Health`.
pub const HEALTH_PATH: &str = "/org/rbmc/Sensord/Health";

/// The chassis's inventory object on rbmc-sensord (OpenBMC's path), with
/// `xyz.openbmc_project.Inventory.Decorator.Asset` ([`AssetProxy`]): the
/// BMC's FRU data (FRU device 0) as it is now, written operators' changes
/// included.
pub const CHASSIS_INVENTORY_PATH: &str = "/xyz/openbmc_project/inventory/system/chassis";

/// Client of `xyz.openbmc_project.Inventory.Decorator.Asset` at
/// [`CHASSIS_INVENTORY_PATH`]. Each is empty when the FRU data has no such
/// field (or does not decode).
#[zbus::proxy(
    interface = "xyz.openbmc_project.Inventory.Decorator.Asset",
    default_service = "org.rbmc.Sensord",
    default_path = "/xyz/openbmc_project/inventory/system/chassis"
)]
pub trait Asset {
    /// The product's manufacturer (else the board's).
    #[zbus(property)]
    fn manufacturer(&self) -> zbus::Result<String>;

    /// The product's part/model number (else its name).
    #[zbus(property)]
    fn model(&self) -> zbus::Result<String>;

    /// The chassis's part number.
    #[zbus(property)]
    fn part_number(&self) -> zbus::Result<String>;

    /// The chassis's serial number.
    #[zbus(property)]
    fn serial_number(&self) -> zbus::Result<String>;
}

/// Client of `org.rbmc.Sensord.Health`: faults rbmc-sensord derives from
/// its sensors for the chassis status (IPMI v2.0 Table 28-4, byte 3).
#[zbus::proxy(
    interface = "org.rbmc.Sensord.Health",
    default_service = "org.rbmc.Sensord",
    default_path = "/org/rbmc/Sensord/Health"
)]
pub trait Health {
    /// A fan reads past a critical or non-recoverable threshold.
    #[zbus(property)]
    fn cooling_fault(&self) -> zbus::Result<bool>;

    /// A voltage, current or power sensor reads past a critical or
    /// non-recoverable threshold.
    #[zbus(property)]
    fn power_fault(&self) -> zbus::Result<bool>;
}
