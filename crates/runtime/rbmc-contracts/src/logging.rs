//! The System Event Log on D-Bus (rbmc-seld).
//!
//! - `xyz.openbmc_project.Logging.IPMI` at [`SEL_LOGGER_PATH`], on OpenBMC's
//!   bus name [`crate::names::SEL_LOGGER`] ([`IpmiSelLoggerProxy`]):
//!   phosphor-sel-logger's `IpmiSelAdd(s message, s sensor_path, ay
//!   event_data, b assert, q generator_id) -> q record_id` and
//!   `IpmiSelAddOem(s message, ay data, y record_type) -> q record_id`. The
//!   sensor number and types of `IpmiSelAdd` come from the caller's object at
//!   `sensor_path` (`org.rbmc.Ipmi.Sensor`, [`crate::ipmi::IpmiSensorProxy`]).
//! - `org.rbmc.Sel` at [`SEL_PATH`] ([`SelProxy`]): exports for operators,
//!   and `Clear`.
//!
//! Both adds fail with [`CommonError::InvalidArgument`] for a malformed
//! record and [`CommonError::QuotaExceeded`] when the SEL is full and keeps
//! what it has; [`CommonError::InternalFailure`] when it cannot store.

use crate::CommonError;

/// The SEL logger's object path (OpenBMC's).
pub const SEL_LOGGER_PATH: &str = "/xyz/openbmc_project/Logging/IPMI";
/// The object path of rbmc-seld's exports.
pub const SEL_PATH: &str = "/org/rbmc/Sel";
/// Generator ID of events the BMC itself generates: slave address 20h,
/// channel 0, LUN 0 (IPMI v2.0 §32.1, Table 32-1 bytes 8-9).
pub const BMC_GENERATOR_ID: u16 = 0x0020;

/// Client of the SEL logger, `xyz.openbmc_project.Logging.IPMI`.
#[zbus::proxy(
    interface = "xyz.openbmc_project.Logging.IPMI",
    default_service = "xyz.openbmc_project.Logging.IPMI",
    default_path = "/xyz/openbmc_project/Logging/IPMI"
)]
pub trait IpmiSelLogger {
    /// Logs a system event record for the caller's sensor at `sensor_path`
    /// (event data at most 3 bytes); returns its record ID.
    #[zbus(name = "IpmiSelAdd")]
    fn ipmi_sel_add(
        &self,
        message: &str,
        sensor_path: &str,
        event_data: &[u8],
        assert: bool,
        generator_id: u16,
    ) -> Result<u16, CommonError>;

    /// Logs an OEM record: `record_type` C0h-DFh (timestamped, `data` is the
    /// manufacturer ID and 6 OEM bytes) or E0h-FFh (`data` is 13 bytes);
    /// returns its record ID.
    #[zbus(name = "IpmiSelAddOem")]
    fn ipmi_sel_add_oem(
        &self,
        message: &str,
        data: &[u8],
        record_type: u8,
    ) -> Result<u16, CommonError>;
}

// zbus generates, for the signal, an argument struct and stream methods
// without docs.
#[allow(missing_docs)]
mod sel {
    use crate::CommonError;

    /// Client of `org.rbmc.Sel`.
    #[zbus::proxy(
        interface = "org.rbmc.Sel",
        default_service = "org.rbmc.Seld",
        default_path = "/org/rbmc/Sel"
    )]
    pub trait Sel {
        /// Every record as one JSON object per line, with decoded sensor type
        /// and event names.
        fn export_json_lines(&self) -> Result<String, CommonError>;

        /// A record was added and is durable: its ID and the record as one
        /// line of [`SelProxy::export_json_lines`].
        #[zbus(signal)]
        fn record_added(&self, id: u16, record: &str) -> zbus::Result<()>;

        /// The newest record's ID and timestamp (FFFFh and FFFFFFFFh when
        /// the SEL is empty).
        fn newest(&self) -> zbus::Result<(u16, u32)>;

        /// Erases every record (IPMI's Clear SEL): root, seld's own user and
        /// the Redfish bridge only. Answers once the erase is durable.
        fn clear(&self) -> Result<(), CommonError>;
    }
}

pub use sel::{RecordAddedStream, SelProxy};
