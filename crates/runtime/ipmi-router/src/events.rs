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
