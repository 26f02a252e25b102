//! The event contract between daemons and the SEL logger.
//!
//! A daemon logs an IPMI event with OpenBMC's phosphor-sel-logger method
//! `IpmiSelAdd(s message, s sensor_path, ay event_data, b assert, q
//! generator_id) -> q record_id` on `xyz.openbmc_project.Logging.IPMI`. The
//! object at `sensor_path` (on the caller's connection) carries
//! [`SensorIdentity`], `org.rbmc.Ipmi.Sensor`, from which the SEL logger
//! takes the record's sensor number, type and event/reading type.

use tracing::warn;

/// The SEL logger's bus name (OpenBMC's).
pub const SEL_LOGGER: &str = "xyz.openbmc_project.Logging.IPMI";
/// The SEL logger's object path.
pub const SEL_LOGGER_PATH: &str = "/xyz/openbmc_project/Logging/IPMI";
/// Generator ID of events the BMC itself generates: slave address 20h,
/// channel 0, LUN 0 (IPMI v2.0 §32.1, Table 32-1 bytes 8-9).
pub const BMC_GENERATOR_ID: u16 = 0x0020;

/// Client of the SEL logger.
#[zbus::proxy(
    interface = "xyz.openbmc_project.Logging.IPMI",
    default_service = "xyz.openbmc_project.Logging.IPMI",
    default_path = "/xyz/openbmc_project/Logging/IPMI"
)]
pub trait IpmiSelLogger {
    /// Logs a system event record; returns its record ID.
    fn ipmi_sel_add(
        &self,
        message: &str,
        sensor_path: &str,
        event_data: &[u8],
        assert: bool,
        generator_id: u16,
    ) -> zbus::Result<u16>;
}

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
