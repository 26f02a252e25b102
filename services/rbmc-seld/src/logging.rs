//! The SEL's D-Bus face.
//!
//! - `xyz.openbmc_project.Logging.IPMI` at `/xyz/openbmc_project/Logging/IPMI`
//!   (OpenBMC's phosphor-sel-logger interface, on its bus name):
//!   `IpmiSelAdd(s message, s sensor_path, ay event_data, b assert, q
//!   generator_id) -> q record_id` and `IpmiSelAddOem(s message, ay data, y
//!   record_type) -> q record_id`. The sensor number and type of
//!   `IpmiSelAdd` are read from the caller's object at `sensor_path`
//!   (`org.rbmc.Ipmi.Sensor`), so a daemon names its sensor, not numbers.
//! - `org.rbmc.Sel` at `/org/rbmc/Sel`: `ExportJsonLines() -> s`, every
//!   record as one JSON object per line with decoded names.
//!
//! The clients are in [`rbmc_contracts::logging`]. The adds fail with
//! OpenBMC's common errors: `InvalidArgument` for a malformed record,
//! `QuotaExceeded` when the SEL is full and its policy keeps the old
//! records, `InternalFailure` when the record cannot be stored.

use ipmi_wire::CompletionCode;
use rbmc_contracts::{ipmi::IpmiSensorProxy, CommonError};
use tracing::{info, warn};
use zbus::{message::Header, proxy::CacheProperties, Connection};

use crate::{
    decode,
    sel::{Sel, EVM_REV, SYSTEM_EVENT},
};

/// `xyz.openbmc_project.Logging.IPMI`.
pub struct LoggingObject {
    /// The SEL.
    pub sel: Sel,
}

/// The (number, type, event/reading type) the caller's sensor object
/// declares.
async fn sensor_identity(conn: &Connection, owner: &str, path: &str) -> zbus::Result<(u8, u8, u8)> {
    let sensor = IpmiSensorProxy::builder(conn)
        .destination(owner.to_owned())?
        .path(path.to_owned())?
        .cache_properties(CacheProperties::No)
        .build()
        .await?;
    Ok((
        sensor.number().await?,
        sensor.sensor_type().await?,
        sensor.event_reading_type().await?,
    ))
}

/// The SEL's refusal of a record as the D-Bus error.
fn refused(code: CompletionCode) -> CommonError {
    match code {
        // Full, and `[sel] full-policy` keeps the old records.
        CompletionCode::OUT_OF_SPACE => CommonError::QuotaExceeded("the SEL is full".into()),
        code => CommonError::InternalFailure(format!("the SEL refused the entry: {code}")),
    }
}

#[zbus::interface(name = "xyz.openbmc_project.Logging.IPMI")]
impl LoggingObject {
    /// Logs a system event record for the caller's sensor at `sensor_path`.
    // The five arguments are OpenBMC's signature; zbus adds the header and
    // connection.
    #[allow(clippy::too_many_arguments)]
    #[zbus(name = "IpmiSelAdd")]
    async fn ipmi_sel_add(
        &self,
        #[zbus(header)] header: Header<'_>,
        #[zbus(connection)] conn: &Connection,
        message: String,
        sensor_path: String,
        event_data: Vec<u8>,
        assert: bool,
        generator_id: u16,
    ) -> Result<u16, CommonError> {
        if event_data.len() > 3 {
            return Err(CommonError::InvalidArgument(
                "event data is at most 3 bytes".into(),
            ));
        }
        let sender = header.sender().map(|s| s.to_string()).unwrap_or_default();
        let (number, sensor_type, reading_type) =
            match sensor_identity(conn, &sender, &sensor_path).await {
                Ok(identity) => identity,
                Err(err) => {
                    warn!(%sensor_path, cause = %err, "sensor not found; logging it as sensor FFh");
                    (0xFF, 0x00, 0x6F)
                }
            };
        let mut record = [0u8; 16];
        record[2] = SYSTEM_EVENT;
        record[7..9].copy_from_slice(&generator_id.to_le_bytes());
        record[9] = EVM_REV;
        record[10] = sensor_type;
        record[11] = number;
        // Event dir (bit 7: 1 = deassertion) and event/reading type.
        record[12] = if assert { 0 } else { 0x80 } | (reading_type & 0x7F);
        record[13..16].fill(0xFF);
        record[13..13 + event_data.len()].copy_from_slice(&event_data);
        let id = self.sel.add(record).await.map_err(refused)?;
        info!(id, %message, "SEL entry added");
        Ok(id)
    }

    /// Logs an OEM record: `record_type` C0h-DFh (timestamped, `data` is the
    /// manufacturer ID and 6 OEM bytes) or E0h-FFh (`data` is 13 bytes).
    #[zbus(name = "IpmiSelAddOem")]
    async fn ipmi_sel_add_oem(
        &self,
        message: String,
        data: Vec<u8>,
        record_type: u8,
    ) -> Result<u16, CommonError> {
        let mut record = [0u8; 16];
        record[2] = record_type;
        let start = match record_type {
            0xC0..=0xDF => 7,
            0xE0..=0xFF => 3,
            _ => {
                return Err(CommonError::InvalidArgument(
                    "OEM record types are C0h-FFh".into(),
                ))
            }
        };
        if data.len() != 16 - start {
            return Err(CommonError::InvalidArgument(format!(
                "record type {record_type:#04x} takes {} data bytes",
                16 - start
            )));
        }
        record[start..].copy_from_slice(&data);
        let id = self.sel.add(record).await.map_err(refused)?;
        info!(id, %message, "OEM SEL entry added");
        Ok(id)
    }
}

// zbus generates, for the signal, an emitting method without docs.
#[allow(missing_docs)]
mod export {
    use super::*;

    /// `org.rbmc.Sel`: exports for operators.
    pub struct ExportObject {
        /// The SEL.
        pub sel: Sel,
    }

    #[zbus::interface(name = "org.rbmc.Sel")]
    impl ExportObject {
        /// A record was added and is durable: its ID and the record as one
        /// JSON line of the export.
        #[zbus(signal)]
        pub(crate) async fn record_added(
            emitter: &zbus::object_server::SignalEmitter<'_>,
            id: u16,
            record: &str,
        ) -> zbus::Result<()>;

        /// Every record as JSON lines, with decoded sensor type and event names.
        async fn export_json_lines(&self) -> String {
            let records = self.sel.records().await;
            records
                .iter()
                .map(decode::json_line)
                .collect::<Vec<_>>()
                .join("\n")
        }

        /// The newest record's ID and timestamp (FFFFh and FFFFFFFFh when
        /// the SEL is empty; FFFFFFFFh for a record without one), for PEF's
        /// Get Last Processed Event ID.
        async fn newest(&self) -> (u16, u32) {
            let records = self.sel.records().await;
            records.last().map_or((0xFFFF, 0xFFFF_FFFF), |r| {
                let id = u16::from_le_bytes([r[0], r[1]]);
                let stamped = r[2] < 0xE0;
                let timestamp = u32::from_le_bytes([r[3], r[4], r[5], r[6]]);
                (id, if stamped { timestamp } else { 0xFFFF_FFFF })
            })
        }

        /// Erases every record, as IPMI's Clear SEL does: for a trusted caller
        /// only (root, seld's own user, the Redfish bridge), audited; answers
        /// once the erase is durable.
        async fn clear(
            &self,
            #[zbus(connection)] conn: &zbus::Connection,
            #[zbus(header)] header: zbus::message::Header<'_>,
        ) -> Result<(), CommonError> {
            rbmc_daemon::caller::checked(conn, Some(&header), "Sel.Clear", || async {
                self.sel.clear().await.map_err(refused)
            })
            .await?;
            info!("SEL cleared over D-Bus");
            Ok(())
        }
    }
}

pub use export::ExportObject;

/// Signals `RecordAdded` for each record the SEL stores, until the SEL
/// task ends.
pub async fn announce_added_records(conn: zbus::Connection, sel: Sel) {
    let mut added = sel.subscribe();
    let Ok(emitter) =
        zbus::object_server::SignalEmitter::new(&conn, rbmc_contracts::logging::SEL_PATH)
    else {
        return;
    };
    loop {
        match added.recv().await {
            Ok(record) => {
                let id = u16::from_le_bytes([record[0], record[1]]);
                if let Err(err) =
                    ExportObject::record_added(&emitter, id, &decode::json_line(&record)).await
                {
                    warn!(%err, id, "RecordAdded not signalled");
                }
            }
            Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => {
                warn!(missed, "RecordAdded fell behind: records not signalled");
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        }
    }
}
