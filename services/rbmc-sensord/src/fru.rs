//! The BMC's FRU inventory device, ID 0 (IPMI v2.0 §34): Get FRU Inventory
//! Area Info (Storage 10h), Read FRU Data (11h), Write FRU Data (12h).
//!
//! The area is a fixed-size byte store persisted in the state directory. On
//! first start it holds the FRU data encoded from `[fru]`; after that the
//! stored copy wins, so what an operator writes survives restarts. A write
//! is acknowledged once the area holding it is durable: the file is written
//! on the blocking pool, one write at a time, and memory changes only after
//! it succeeded. A failed write changes nothing (C4h on a full disk, FFh
//! otherwise).

use std::{path::Path, sync::Mutex};

use ipmi_router::HandlerResult;
use ipmi_wire::CompletionCode;
use rbmc_config::Fru;
use rbmc_daemon::durable::{self, DurableFile};
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
    data: Mutex<Vec<u8>>,
    file: DurableFile,
}

impl FruStore {
    /// Loads `<state_dir>/fru0.bin`, or creates it from `config`. Reads and
    /// writes the file: called at start, before the daemon serves.
    pub fn open(config: &Fru, state_dir: &Path) -> Result<Self, FruStoreError> {
        let file = DurableFile::new(state_dir.join("fru0.bin"));
        let path = file.path();
        if let Ok(data) = std::fs::read(path) {
            if data.len() == AREA_SIZE {
                if let Err(err) = ipmi_fru::decode(&data) {
                    // Keep it anyway: it is what an operator wrote.
                    warn!(path = %path.display(), cause = %err, "stored FRU data does not decode");
                }
                return Ok(Self {
                    data: Mutex::new(data),
                    file,
                });
            }
            warn!(path = %path.display(), len = data.len(), "stored FRU area has the wrong size; rebuilding from config");
        }
        let mut data = ipmi_fru::encode(&to_info(config))?;
        if data.len() > AREA_SIZE {
            return Err(FruStoreError::TooLarge(data.len()));
        }
        data.resize(AREA_SIZE, 0);
        if let Err(err) = rbmc_daemon::write_atomic(path, &data) {
            warn!(path = %path.display(), cause = %err, "cannot store FRU data; serving from memory");
        } else {
            info!(path = %path.display(), "FRU area created from config");
        }
        Ok(Self {
            data: Mutex::new(data),
            file,
        })
    }

    /// The area decoded, as it is now; `None` when it does not decode.
    pub fn info(&self) -> Option<ipmi_fru::FruInfo> {
        ipmi_fru::decode(&self.data()).ok()
    }

    /// The area, locked (briefly: never across an await or I/O).
    fn data(&self) -> std::sync::MutexGuard<'_, Vec<u8>> {
        self.data.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Get FRU Inventory Area Info (§34.1): size LS first, byte access.
    pub fn cmd_area_info(&self, data: &[u8]) -> HandlerResult {
        check_device(data, 1)?;
        let size = u16::try_from(self.data().len())
            .unwrap_or(u16::MAX)
            .to_le_bytes();
        Ok(vec![size[0], size[1], 0x00])
    }

    /// Read FRU Data (§34.2): `id, offset (2, LS first), count`.
    pub fn cmd_read(&self, data: &[u8]) -> HandlerResult {
        check_device(data, 4)?;
        let offset = usize::from(u16::from_le_bytes([data[1], data[2]]));
        let count = usize::from(data[3]);
        let area = self.data();
        if offset >= area.len() {
            return Err(CompletionCode::PARAMETER_OUT_OF_RANGE);
        }
        let end = (offset + count.min(MAX_READ)).min(area.len());
        let mut out = vec![u8::try_from(end - offset).unwrap_or(0)];
        out.extend_from_slice(&area[offset..end]);
        Ok(out)
    }

    /// Write FRU Data (§34.3): `id, offset (2), data...`; persisted before
    /// the reply, and in memory only once it is.
    pub async fn cmd_write(&self, data: &[u8]) -> HandlerResult {
        if data.len() < 4 {
            return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
        }
        check_device(&data[..1], 1)?;
        let offset = usize::from(u16::from_le_bytes([data[1], data[2]]));
        let bytes = &data[3..];
        // Only writes change the area, one at a time: the copy staged here
        // is what memory holds until it is replaced.
        let mut write = self.file.begin().await;
        let mut staged = self.data().clone();
        if offset + bytes.len() > staged.len() {
            return Err(CompletionCode::PARAMETER_OUT_OF_RANGE);
        }
        staged[offset..offset + bytes.len()].copy_from_slice(bytes);
        write.write(staged.clone()).await.map_err(|err| {
            warn!(cause = %err, "cannot store written FRU data; write refused");
            durable::completion_code(&err)
        })?;
        *self.data() = staged;
        Ok(vec![u8::try_from(bytes.len()).unwrap_or(u8::MAX)])
    }
}

impl FruStore {
    /// The product area's asset tag (empty without one): DCMI's asset tag.
    pub fn asset_tag(&self) -> Vec<u8> {
        self.info()
            .and_then(|info| info.product)
            .map(|product| product.asset_tag.into_bytes())
            .unwrap_or_default()
    }

    /// Rewrites the area with the product asset tag `tag` (adding a product
    /// area if there is none), durably before memory changes. The tag must
    /// be text (CCh otherwise); an area that does not decode cannot be
    /// rewritten (D5h), one that would outgrow the store is C4h.
    pub async fn set_asset_tag(&self, tag: &[u8]) -> Result<(), CompletionCode> {
        let tag = std::str::from_utf8(tag).map_err(|_| CompletionCode::INVALID_DATA_FIELD)?;
        let mut write = self.file.begin().await;
        let mut info = ipmi_fru::decode(&self.data())
            .map_err(|_| CompletionCode::NOT_SUPPORTED_IN_PRESENT_STATE)?;
        info.product.get_or_insert_with(Default::default).asset_tag = tag.to_owned();
        let mut staged = ipmi_fru::encode(&info).map_err(|_| CompletionCode::INVALID_DATA_FIELD)?;
        if staged.len() > AREA_SIZE {
            return Err(CompletionCode::OUT_OF_SPACE);
        }
        staged.resize(AREA_SIZE, 0);
        write.write(staged.clone()).await.map_err(|err| {
            warn!(cause = %err, "cannot store the asset tag; refused");
            durable::completion_code(&err)
        })?;
        *self.data() = staged;
        Ok(())
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

/// The chassis's asset data from the FRU area, as OpenBMC's
/// `xyz.openbmc_project.Inventory.Decorator.Asset` names it.
#[derive(Debug, Default, PartialEq)]
pub struct Asset {
    /// The product's manufacturer, else the board's.
    pub manufacturer: String,
    /// The product's part/model number, else its name.
    pub model: String,
    /// The chassis's part number.
    pub part_number: String,
    /// The chassis's serial number.
    pub serial_number: String,
}

impl Asset {
    /// The asset data of `info` (empty fields where it has none).
    pub fn of(info: &ipmi_fru::FruInfo) -> Self {
        let product = info.product.as_ref();
        let board = info.board.as_ref();
        let non_empty = |s: &String| (!s.is_empty()).then(|| s.clone());
        Self {
            manufacturer: product
                .and_then(|p| non_empty(&p.manufacturer))
                .or_else(|| board.and_then(|b| non_empty(&b.manufacturer)))
                .unwrap_or_default(),
            model: product
                .and_then(|p| non_empty(&p.part_number).or_else(|| non_empty(&p.product_name)))
                .unwrap_or_default(),
            part_number: info
                .chassis
                .as_ref()
                .map(|c| c.part_number.clone())
                .unwrap_or_default(),
            serial_number: info
                .chassis
                .as_ref()
                .map(|c| c.serial_number.clone())
                .unwrap_or_default(),
        }
    }
}

/// `xyz.openbmc_project.Inventory.Decorator.Asset` at the chassis's
/// inventory object: decoded from the FRU area at each read, so it follows
/// every Write FRU Data.
pub struct AssetObject {
    /// The daemon's state, whose FRU area it reads.
    pub state: std::sync::Arc<crate::Sensord>,
}

impl AssetObject {
    fn asset(&self) -> Asset {
        self.state
            .fru_info()
            .map(|i| Asset::of(&i))
            .unwrap_or_default()
    }
}

#[zbus::interface(name = "xyz.openbmc_project.Inventory.Decorator.Asset")]
impl AssetObject {
    #[zbus(property)]
    fn manufacturer(&self) -> String {
        self.asset().manufacturer
    }

    #[zbus(property)]
    fn model(&self) -> String {
        self.asset().model
    }

    #[zbus(property)]
    fn part_number(&self) -> String {
        self.asset().part_number
    }

    #[zbus(property)]
    fn serial_number(&self) -> String {
        self.asset().serial_number
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

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

    #[tokio::test]
    async fn area_info_read_and_write_persist() {
        let (fru, dir) = store("rw");
        assert_eq!(fru.cmd_area_info(&[0]).unwrap(), [0x00, 0x04, 0x00]);
        let header = fru.cmd_read(&[0, 0, 0, 8]).unwrap();
        assert_eq!(header[0], 8);
        assert_eq!(header[1], 0x01, "format version");
        assert_eq!(
            fru.cmd_write(&[0, 0x00, 0x03, 0xAA, 0xBB]).await.unwrap(),
            [2]
        );
        let (again, _) = (
            FruStore::open(&rbmc_config::Fru::default(), &dir).unwrap(),
            (),
        );
        assert_eq!(
            again.cmd_read(&[0, 0x00, 0x03, 2]).unwrap(),
            [2, 0xAA, 0xBB]
        );
    }

    #[tokio::test]
    async fn bad_requests_get_codes() {
        let (fru, _) = store("bad");
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
            fru.cmd_write(&[0, 0xFF, 0x03, 1, 2]).await,
            Err(CompletionCode::PARAMETER_OUT_OF_RANGE)
        );
        // Reads past the end are shortened, not refused.
        assert_eq!(fru.cmd_read(&[0, 0xFE, 0x03, 16]).unwrap()[0], 2);
    }

    #[tokio::test]
    async fn a_failed_write_is_refused_and_changes_nothing() {
        let (fru, dir) = store("refused");
        let path = dir.join("fru0.bin");
        let on_disk = std::fs::read(&path).unwrap();
        let before = fru.cmd_read(&[0, 0x00, 0x03, 2]).unwrap();
        // A directory where the temporary file goes: the write fails, as on
        // a read-only or broken file system.
        std::fs::create_dir_all(path.with_extension("tmp")).unwrap();
        assert_eq!(
            fru.cmd_write(&[0, 0x00, 0x03, 0xAA, 0xBB]).await,
            Err(CompletionCode::UNSPECIFIED)
        );
        assert_eq!(
            fru.cmd_read(&[0, 0x00, 0x03, 2]).unwrap(),
            before,
            "memory unchanged"
        );
        assert_eq!(std::fs::read(&path).unwrap(), on_disk, "disk unchanged");
    }
}
