//! The BMC's FRU inventory device, ID 0 (IPMI v2.0 §34): Get FRU Inventory
//! Area Info (Storage 10h), Read FRU Data (11h), Write FRU Data (12h).
//!
//! The area is a fixed-size byte store persisted in the state directory. On
//! first start it holds the FRU data encoded from `[fru]`; after that the
//! stored copy wins, so what an operator writes survives restarts.

use std::path::{Path, PathBuf};

use ipmi_router::HandlerResult;
use ipmi_wire::CompletionCode;
use rbmc_config::Fru;
use tracing::{info, warn};

/// Size of the FRU inventory area: room for the generated data plus growth
/// written by operators.
pub const AREA_SIZE: usize = 1024;
/// The most data one Read FRU Data returns; keeps replies well inside one
/// RMCP+ packet.
pub const MAX_READ: usize = 128;

/// Why the FRU store could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum FruStoreError {
    /// The config's FRU data does not encode.
    #[error("[fru]: {0}")]
    Encode(#[from] ipmi_fru::FruError),
    /// The encoded data does not fit the area.
    #[error("[fru]: encoded data is {0} bytes, more than the {AREA_SIZE}-byte area")]
    TooLarge(usize),
}

/// The FRU area and where it is kept.
#[derive(Debug)]
pub struct FruStore {
    data: Vec<u8>,
    path: PathBuf,
}

impl FruStore {
    /// Loads `<state_dir>/fru0.bin`, or creates it from `config`.
    pub fn open(config: &Fru, state_dir: &Path) -> Result<Self, FruStoreError> {
        let path = state_dir.join("fru0.bin");
        if let Ok(data) = std::fs::read(&path) {
            if data.len() == AREA_SIZE {
                if let Err(err) = ipmi_fru::decode(&data) {
                    // Keep it anyway: it is what an operator wrote.
                    warn!(path = %path.display(), cause = %err, "stored FRU data does not decode");
                }
                return Ok(Self { data, path });
            }
            warn!(path = %path.display(), len = data.len(), "stored FRU area has the wrong size; rebuilding from config");
        }
        let mut data = ipmi_fru::encode(&to_info(config))?;
        if data.len() > AREA_SIZE {
            return Err(FruStoreError::TooLarge(data.len()));
        }
        data.resize(AREA_SIZE, 0);
        let store = Self { data, path };
        if let Err(err) = store.persist() {
            warn!(path = %store.path.display(), cause = %err, "cannot store FRU data; serving from memory");
        } else {
            info!(path = %store.path.display(), "FRU area created from config");
        }
        Ok(store)
    }

    fn persist(&self) -> std::io::Result<()> {
        rbmc_daemon::write_atomic(&self.path, &self.data)
    }

    /// Get FRU Inventory Area Info (§34.1): size LS first, byte access.
    pub fn cmd_area_info(&self, data: &[u8]) -> HandlerResult {
        check_device(data, 1)?;
        let size = u16::try_from(self.data.len())
            .unwrap_or(u16::MAX)
            .to_le_bytes();
        Ok(vec![size[0], size[1], 0x00])
    }

    /// Read FRU Data (§34.2): `id, offset (2, LS first), count`.
    pub fn cmd_read(&self, data: &[u8]) -> HandlerResult {
        check_device(data, 4)?;
        let offset = usize::from(u16::from_le_bytes([data[1], data[2]]));
        let count = usize::from(data[3]);
        if offset >= self.data.len() {
            return Err(CompletionCode::PARAMETER_OUT_OF_RANGE);
        }
        let end = (offset + count.min(MAX_READ)).min(self.data.len());
        let mut out = vec![u8::try_from(end - offset).unwrap_or(0)];
        out.extend_from_slice(&self.data[offset..end]);
        Ok(out)
    }

    /// Write FRU Data (§34.3): `id, offset (2), data...`; persisted before
    /// the reply.
    pub fn cmd_write(&mut self, data: &[u8]) -> HandlerResult {
        if data.len() < 4 {
            return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
        }
        check_device(&data[..1], 1)?;
        let offset = usize::from(u16::from_le_bytes([data[1], data[2]]));
        let bytes = &data[3..];
        if offset + bytes.len() > self.data.len() {
            return Err(CompletionCode::PARAMETER_OUT_OF_RANGE);
        }
        let before = self.data[offset..offset + bytes.len()].to_vec();
        self.data[offset..offset + bytes.len()].copy_from_slice(bytes);
        if let Err(err) = self.persist() {
            warn!(cause = %err, "cannot store written FRU data; write undone");
            self.data[offset..offset + bytes.len()].copy_from_slice(&before);
            return Err(CompletionCode::UNSPECIFIED);
        }
        Ok(vec![u8::try_from(bytes.len()).unwrap_or(u8::MAX)])
    }
}

/// Checks the request length and that it names FRU device 0.
fn check_device(data: &[u8], len: usize) -> Result<(), CompletionCode> {
    if data.len() != len {
        return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
    }
    if data[0] != 0 {
        return Err(CompletionCode::NOT_PRESENT);
    }
    Ok(())
}

fn to_info(config: &Fru) -> ipmi_fru::FruInfo {
    ipmi_fru::FruInfo {
        chassis: config.chassis.as_ref().map(|c| ipmi_fru::ChassisInfo {
            chassis_type: c.chassis_type,
            part_number: c.part_number.clone(),
            serial_number: c.serial_number.clone(),
            custom: Vec::new(),
        }),
        board: config.board.as_ref().map(|b| ipmi_fru::BoardInfo {
            mfg_minutes: b.mfg_date.0,
            manufacturer: b.manufacturer.clone(),
            product_name: b.product_name.clone(),
            serial_number: b.serial_number.clone(),
            part_number: b.part_number.clone(),
            fru_file_id: String::new(),
            custom: Vec::new(),
        }),
        product: config.product.as_ref().map(|p| ipmi_fru::ProductInfo {
            manufacturer: p.manufacturer.clone(),
            product_name: p.product_name.clone(),
            part_number: p.part_number.clone(),
            version: p.version.clone(),
            serial_number: p.serial_number.clone(),
            asset_tag: p.asset_tag.clone(),
            fru_file_id: String::new(),
            custom: Vec::new(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(tag: &str) -> (FruStore, PathBuf) {
        let dir = std::env::temp_dir().join(format!("rbmc-fru-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let config = rbmc_config::Config::from_toml(
            "[fru.product]\nmanufacturer = \"ACME\"\nproduct-name = \"Box\"\n",
            "t.toml",
        )
        .unwrap();
        (FruStore::open(&config.fru, &dir).unwrap(), dir)
    }

    #[test]
    fn area_info_read_and_write_persist() {
        let (mut fru, dir) = store("rw");
        assert_eq!(fru.cmd_area_info(&[0]).unwrap(), [0x00, 0x04, 0x00]);
        let header = fru.cmd_read(&[0, 0, 0, 8]).unwrap();
        assert_eq!(header[0], 8);
        assert_eq!(header[1], 0x01, "format version");
        assert_eq!(fru.cmd_write(&[0, 0x00, 0x03, 0xAA, 0xBB]).unwrap(), [2]);
        let (again, _) = (
            FruStore::open(&rbmc_config::Fru::default(), &dir).unwrap(),
            (),
        );
        assert_eq!(
            again.cmd_read(&[0, 0x00, 0x03, 2]).unwrap(),
            [2, 0xAA, 0xBB]
        );
    }

    #[test]
    fn bad_requests_get_codes() {
        let (mut fru, _) = store("bad");
        assert_eq!(fru.cmd_area_info(&[1]), Err(CompletionCode::NOT_PRESENT));
        assert_eq!(
            fru.cmd_read(&[0, 0, 0]),
            Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID)
        );
        assert_eq!(
            fru.cmd_read(&[0, 0x00, 0x04, 1]),
            Err(CompletionCode::PARAMETER_OUT_OF_RANGE)
        );
        assert_eq!(
            fru.cmd_write(&[0, 0xFF, 0x03, 1, 2]),
            Err(CompletionCode::PARAMETER_OUT_OF_RANGE)
        );
        // Reads past the end are shortened, not refused.
        assert_eq!(fru.cmd_read(&[0, 0xFE, 0x03, 16]).unwrap()[0], 2);
    }
}
