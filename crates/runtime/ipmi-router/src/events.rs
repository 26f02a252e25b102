//! The event contract between daemons and the SEL logger.
//!
//! A daemon logs an IPMI event with OpenBMC's phosphor-sel-logger method
//! `IpmiSelAdd(s message, s sensor_path, ay event_data, b assert, q
//! generator_id) -> q record_id` on `xyz.openbmc_project.Logging.IPMI`. The
//! object at `sensor_path` (on the caller's connection) carries
//! [`SensorIdentity`], `org.rbmc.Ipmi.Sensor`, from which the SEL logger
//! takes the record's sensor number, type and event/reading type. The
//! proxies of both are in [`rbmc_contracts::logging`] and
//! [`rbmc_contracts::ipmi`].

use rbmc_contracts::logging::IpmiSelLoggerProxy;
use tracing::warn;

pub use rbmc_contracts::{
    logging::{BMC_GENERATOR_ID, SEL_LOGGER_PATH},
    names::SEL_LOGGER,
};

/// An event-only sensor of the BMC: it has no reading, only the
/// sensor-specific events its owner logs. rbmc-sensord describes each with
/// a Compact Sensor Record, so clients name its events; the owner serves
/// its [`SensorIdentity`] at `path`.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct EventOnlySensor {
    /// The owner's object path.
    pub path: &'static str,
    /// The sensor number (BMC LUN 0, above the config's sensors).
    pub number: u8,
    /// The sensor type (IPMI v2.0 Table 42-3).
    pub sensor_type: u8,
    /// The event/reading type (Table 42-1, 42-2): 6Fh sensor-specific, or
    /// a generic one.
    pub event_reading_type: u8,
    /// The entity it belongs to (Table 43-13).
    pub entity_id: u8,
    /// Its name in the SDR.
    pub name: &'static str,
    /// The offsets it asserts (bit n: offset n).
    pub offsets: u16,
}

impl EventOnlySensor {
    /// Its identity on the bus.
    pub fn identity(&self) -> SensorIdentity {
        SensorIdentity {
            number: self.number,
            sensor_type: self.sensor_type,
            event_reading_type: self.event_reading_type,
        }
    }
}

/// rbmc-powerd's System ACPI Power State (22h): S0/G0 on power-on, G2/S5
/// soft-off on power-off.
pub const ACPI_POWER_STATE: EventOnlySensor = EventOnlySensor {
    path: "/xyz/openbmc_project/sensors/acpi_power/host0",
    number: 0xE0,
    sensor_type: 0x22,
    event_reading_type: SENSOR_SPECIFIC,
    entity_id: 0x17,
    name: "ACPI Power State",
    offsets: 1 << 0 | 1 << 5,
};

/// rbmc-powerd's Power Unit (09h): AC lost, soft power control failure.
pub const POWER_UNIT: EventOnlySensor = EventOnlySensor {
    path: "/xyz/openbmc_project/sensors/power_unit/host0",
    number: 0xE1,
    sensor_type: 0x09,
    event_reading_type: SENSOR_SPECIFIC,
    entity_id: 0x13,
    name: "Power Unit",
    offsets: 1 << 4 | 1 << 5,
};

/// rbmc-powerd's Watchdog 2 (23h): expiry actions and the pre-timeout
/// interrupt.
pub const WATCHDOG: EventOnlySensor = EventOnlySensor {
    path: "/xyz/openbmc_project/sensors/watchdog/host0",
    number: 0xE2,
    sensor_type: 0x23,
    event_reading_type: SENSOR_SPECIFIC,
    entity_id: 0x07,
    name: "Watchdog",
    offsets: 0x000F | 1 << 8,
};

/// rbmc-userd's Session Audit (2Ah): a user locked after failed logins
/// (offset 03h, "invalid password disable").
pub const SESSION_AUDIT: EventOnlySensor = EventOnlySensor {
    path: "/xyz/openbmc_project/sensors/session_audit/bmc",
    number: 0xE3,
    sensor_type: 0x2A,
    event_reading_type: SENSOR_SPECIFIC,
    entity_id: 0x06,
    name: "Session Audit",
    offsets: 1 << 3,
};

/// rbmc-fand's Fan Failsafe: a Cooling Device (0Ah) with the generic
/// digital-discrete states (03h, Table 42-2): offset 01h "State Asserted"
/// is asserted when a fan zone enters failsafe and deasserted when it
/// leaves. Event data 1 is 81h (OEM code in data 2, offset 01h), data 2
/// the zone's number, data 3 FFh (Table 29-6).
pub const FAN_FAILSAFE: EventOnlySensor = EventOnlySensor {
    path: "/xyz/openbmc_project/sensors/cooling/fan_failsafe",
    number: 0xE4,
    sensor_type: 0x0A,
    event_reading_type: 0x03,
    entity_id: 0x1E,
    name: "Fan Failsafe",
    offsets: 1 << 1,
};

/// Sensor-specific events (event/reading type 6Fh).
const SENSOR_SPECIFIC: u8 = 0x6F;

/// Every event-only sensor, for the SDR.
pub const EVENT_ONLY_SENSORS: [EventOnlySensor; 5] = [
    ACPI_POWER_STATE,
    POWER_UNIT,
    WATCHDOG,
    SESSION_AUDIT,
    FAN_FAILSAFE,
];

/// `org.rbmc.Ipmi.Sensor`: the IPMI identity of a sensor object.
#[derive(Clone, Copy, Debug)]
pub struct SensorIdentity {
    /// The IPMI sensor number.
    pub number: u8,
    /// The IPMI sensor type (IPMI v2.0 Table 42-3).
    pub sensor_type: u8,
    /// The event/reading type (01h threshold, 6Fh sensor-specific, ...).
    pub event_reading_type: u8,
}

#[zbus::interface(name = "org.rbmc.Ipmi.Sensor")]
impl SensorIdentity {
    /// The IPMI sensor number.
    #[zbus(property)]
    fn number(&self) -> u8 {
        self.number
    }
    /// The IPMI sensor type.
    #[zbus(property)]
    fn sensor_type(&self) -> u8 {
        self.sensor_type
    }
    /// The event/reading type.
    #[zbus(property)]
    fn event_reading_type(&self) -> u8 {
        self.event_reading_type
    }
}

/// Sends one event as the BMC; a missing SEL logger is logged, never fatal.
pub async fn log_event(
    conn: &zbus::Connection,
    message: &str,
    sensor_path: &str,
    event_data: &[u8],
    assert: bool,
) {
    let result = async {
        IpmiSelLoggerProxy::new(conn)
            .await?
            .ipmi_sel_add(message, sensor_path, event_data, assert, BMC_GENERATOR_ID)
            .await
    }
    .await;
    if let Err(err) = result {
        warn!(cause = %err, message, "could not log the event in the SEL");
    }
}
