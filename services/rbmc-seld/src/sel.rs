//! The SEL commands (IPMI v2.0 §31, Storage NetFn 0Ah) and Platform Event
//! Message (§29.3, Sensor/Event NetFn 04h).
//!
//! | NetFn | Cmd | command                       | privilege |
//! |-------|-----|-------------------------------|-----------|
//! | 0Ah   | 40h | Get SEL Info                  | User      |
//! | 0Ah   | 41h | Get SEL Allocation Info       | User      |
//! | 0Ah   | 42h | Reserve SEL                   | User      |
//! | 0Ah   | 43h | Get SEL Entry                 | User      |
//! | 0Ah   | 44h | Add SEL Entry                 | Operator  |
//! | 0Ah   | 46h | Delete SEL Entry              | Operator  |
//! | 0Ah   | 47h | Clear SEL                     | Operator  |
//! | 0Ah   | 48h | Get SEL Time                  | User      |
//! | 0Ah   | 49h | Set SEL Time                  | Operator  |
//! | 0Ah   | 5Ch | Get SEL Time UTC Offset       | User      |
//! | 0Ah   | 5Dh | Set SEL Time UTC Offset       | Operator  |
//! | 04h   | 02h | Platform Event Message        | Operator  |

use std::{
    path::{Path, PathBuf},
    time::SystemTime,
};

use ipmi_router::{HandlerResult, IpmiRequest};
use ipmi_wire::CompletionCode;
use rbmc_config::SelFullPolicy;
use serde::{Deserialize, Serialize};
use tracing::warn;

use crate::store::{Record, Store};

/// SEL version 51h (IPMI v2.0 Table 31-2).
const SEL_VERSION: u8 = 0x51;
/// Record type of a system event record (§32.1).
pub const SYSTEM_EVENT: u8 = 0x02;
/// Event message format revision 04h (IPMI v2.0).
pub const EVM_REV: u8 = 0x04;
/// "UTC offset unspecified" (§31.11).
const UTC_UNSPECIFIED: i16 = 0x07FF;

/// Settings kept beside the journal.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", default)]
struct Settings {
    /// SEL time minus system time, seconds (Set SEL Time).
    time_offset: i64,
    /// UTC offset in minutes, or 07FFh.
    utc_offset: Option<i16>,
    /// Timestamp of the last erase.
    last_erase: u32,
}

/// The SEL.
#[derive(Debug)]
pub struct Sel {
    store: Store,
    capacity: usize,
    policy: SelFullPolicy,
    reservation: u16,
    settings: Settings,
    settings_path: PathBuf,
    last_add: u32,
    overflow: bool,
}

impl Sel {
    /// Opens the SEL in `state_dir`, recovering from a torn write.
    pub fn open(state_dir: &Path, config: &rbmc_config::Sel) -> std::io::Result<Self> {
        let (store, recovery) = Store::open(&state_dir.join("sel.journal"))?;
        if recovery.discarded_bytes > 0 {
            warn!(
                bytes = recovery.discarded_bytes,
                kept = store.records().len(),
                "SEL journal had a torn or corrupt tail: cut it, kept the good prefix"
            );
        }
        let settings_path = state_dir.join("sel-settings.toml");
        let settings = std::fs::read_to_string(&settings_path)
            .ok()
            .and_then(|t| toml::from_str(&t).ok())
            .unwrap_or_default();
        Ok(Self {
            store,
            capacity: usize::from(config.capacity.max(1)),
            policy: config.full_policy,
            reservation: 0,
            settings,
            settings_path,
            last_add: 0,
            overflow: false,
        })
    }

    fn save_settings(&self) -> Result<(), CompletionCode> {
        let text = toml::to_string(&self.settings).map_err(|_| CompletionCode::UNSPECIFIED)?;
        rbmc_daemon::write_atomic(&self.settings_path, text.as_bytes()).map_err(|err| {
            warn!(cause = %err, "cannot persist SEL settings");
            CompletionCode::UNSPECIFIED
        })
    }

    /// The SEL's clock: the system clock plus the offset Set SEL Time made.
    pub fn now(&self) -> u32 {
        let system = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(0))
            .unwrap_or(0);
        u32::try_from((system + self.settings.time_offset).max(0)).unwrap_or(u32::MAX)
    }

    /// The live records.
    pub fn records(&self) -> impl Iterator<Item = (&u16, &Record)> {
        self.store.records().iter()
    }

    /// Adds a record, time-stamping it when its type carries a timestamp;
    /// applies the full policy. Returns the record ID.
    pub fn add(&mut self, mut record: Record) -> Result<u16, CompletionCode> {
        let full = self.store.records().len() >= self.capacity;
        if full {
            self.overflow = true;
            if self.policy == SelFullPolicy::Stop {
                return Err(CompletionCode::OUT_OF_SPACE);
            }
        }
        // Types below E0h carry a timestamp at bytes 3-6 (§32.1-32.3).
        if record[2] < 0xE0 {
            record[3..7].copy_from_slice(&self.now().to_le_bytes());
        }
        // Wrap: the oldest record goes only once the new one is stored, so
        // a failed add loses nothing.
        let oldest = if full {
            self.store.records().keys().next().copied()
        } else {
            None
        };
        let id = self.store.add(record).map_err(io_failed)?;
        if let Some(oldest) = oldest {
            self.store.delete(oldest).map_err(io_failed)?;
        }
        self.last_add = self.now();
        Ok(id)
    }

    fn check_reservation(&self, lo: u8, hi: u8) -> Result<(), CompletionCode> {
        let id = u16::from_le_bytes([lo, hi]);
        if id == 0 || id != self.reservation {
            Err(CompletionCode::RESERVATION_CANCELLED)
        } else {
            Ok(())
        }
    }

    /// Resolves 0000h (first) and FFFFh (last).
    fn resolve(&self, id: u16) -> Option<u16> {
        let records = self.store.records();
        match id {
            0x0000 => records.keys().next().copied(),
            0xFFFF => records.keys().next_back().copied(),
            id => records.contains_key(&id).then_some(id),
        }
    }

    /// Get SEL Info (§31.2, Table 31-2).
    pub fn cmd_info(&self, data: &[u8]) -> HandlerResult {
        no_data(data)?;
        let entries = u16::try_from(self.store.records().len()).unwrap_or(u16::MAX);
        let free_records = self.capacity.saturating_sub(self.store.records().len());
        let free = u16::try_from(free_records * 16).unwrap_or(0xFFFE);
        let mut out = vec![SEL_VERSION];
        out.extend_from_slice(&entries.to_le_bytes());
        out.extend_from_slice(&free.to_le_bytes());
        out.extend_from_slice(&self.last_add.to_le_bytes());
        out.extend_from_slice(&self.settings.last_erase.to_le_bytes());
        // Operation support: overflow (bit 7), delete (3), reserve (1) and
        // allocation info (0) supported; partial add (2) not.
        out.push(if self.overflow { 0x80 } else { 0 } | 0x0B);
        Ok(out)
    }

    /// Get SEL Allocation Info (§31.3): one 16-byte unit per record.
    pub fn cmd_allocation_info(&self, data: &[u8]) -> HandlerResult {
        no_data(data)?;
        let units = u16::try_from(self.capacity).unwrap_or(u16::MAX);
        let free =
            u16::try_from(self.capacity.saturating_sub(self.store.records().len())).unwrap_or(0);
        let mut out = units.to_le_bytes().to_vec();
        out.extend_from_slice(&16u16.to_le_bytes());
        out.extend_from_slice(&free.to_le_bytes());
        out.extend_from_slice(&free.to_le_bytes());
        out.push(1);
        Ok(out)
    }

    /// Reserve SEL (§31.4).
    pub fn cmd_reserve(&mut self, data: &[u8]) -> HandlerResult {
        no_data(data)?;
        self.reservation = self.reservation.wrapping_add(1).max(1);
        Ok(self.reservation.to_le_bytes().to_vec())
    }

    /// Get SEL Entry (§31.5): `reservation (2), record ID (2), offset,
    /// count` (FFh = whole record); a reservation is needed only for a
    /// partial read at a non-zero offset.
    pub fn cmd_get_entry(&self, data: &[u8]) -> HandlerResult {
        let [r0, r1, id0, id1, offset, count] = *data else {
            return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
        };
        if offset != 0 {
            self.check_reservation(r0, r1)?;
        }
        let id = self
            .resolve(u16::from_le_bytes([id0, id1]))
            .ok_or(CompletionCode::NOT_PRESENT)?;
        let record = self.store.records()[&id];
        let offset = usize::from(offset);
        if offset >= record.len() {
            return Err(CompletionCode::PARAMETER_OUT_OF_RANGE);
        }
        let end = if count == 0xFF {
            record.len()
        } else {
            (offset + usize::from(count)).min(record.len())
        };
        let next = self
            .store
            .records()
            .range(id.saturating_add(1)..)
            .next()
            .map(|(id, _)| *id)
            .unwrap_or(0xFFFF);
        let mut out = next.to_le_bytes().to_vec();
        out.extend_from_slice(&record[offset..end]);
        Ok(out)
    }

    /// Add SEL Entry (§31.6): the 16-byte record; the BMC assigns the ID.
    pub fn cmd_add_entry(&mut self, data: &[u8]) -> HandlerResult {
        let record: Record = data
            .try_into()
            .map_err(|_| CompletionCode::REQUEST_DATA_LENGTH_INVALID)?;
        Ok(self.add(record)?.to_le_bytes().to_vec())
    }

    /// Delete SEL Entry (§31.8): `reservation (2), record ID (2)`.
    pub fn cmd_delete_entry(&mut self, data: &[u8]) -> HandlerResult {
        let [r0, r1, id0, id1] = *data else {
            return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
        };
        self.check_reservation(r0, r1)?;
        let id = self
            .resolve(u16::from_le_bytes([id0, id1]))
            .ok_or(CompletionCode::NOT_PRESENT)?;
        self.store.delete(id).map_err(io_failed)?;
        self.reservation = 0;
        Ok(id.to_le_bytes().to_vec())
    }

    /// Clear SEL (§31.9): `reservation (2), 'C' 'L' 'R', AAh initiate | 00h
    /// get status`; erasure is immediate, so the status is always
    /// "completed" (01h).
    pub fn cmd_clear(&mut self, data: &[u8]) -> HandlerResult {
        let [r0, r1, b'C', b'L', b'R', action] = *data else {
            return Err(if data.len() == 6 {
                CompletionCode::INVALID_DATA_FIELD
            } else {
                CompletionCode::REQUEST_DATA_LENGTH_INVALID
            });
        };
        self.check_reservation(r0, r1)?;
        match action {
            0xAA => {
                self.store.clear().map_err(io_failed)?;
                self.overflow = false;
                self.reservation = 0;
                self.settings.last_erase = self.now();
                self.save_settings()?;
            }
            0x00 => {}
            _ => return Err(CompletionCode::INVALID_DATA_FIELD),
        }
        Ok(vec![0x01])
    }

    /// Get SEL Time (§31.10).
    pub fn cmd_get_time(&self, data: &[u8]) -> HandlerResult {
        no_data(data)?;
        Ok(self.now().to_le_bytes().to_vec())
    }

    /// Set SEL Time (§31.11): moves the SEL's clock, not the system's.
    pub fn cmd_set_time(&mut self, data: &[u8]) -> HandlerResult {
        let time: [u8; 4] = data
            .try_into()
            .map_err(|_| CompletionCode::REQUEST_DATA_LENGTH_INVALID)?;
        let wanted = i64::from(u32::from_le_bytes(time));
        let current = i64::from(self.now()) - self.settings.time_offset;
        self.settings.time_offset = wanted - current;
        self.save_settings()?;
        Ok(Vec::new())
    }

    /// Get SEL Time UTC Offset (§31.11a): minutes, signed, or 07FFh.
    pub fn cmd_get_utc_offset(&self, data: &[u8]) -> HandlerResult {
        no_data(data)?;
        Ok(self
            .settings
            .utc_offset
            .unwrap_or(UTC_UNSPECIFIED)
            .to_le_bytes()
            .to_vec())
    }

    /// Set SEL Time UTC Offset: -1440..=1440 minutes, or 07FFh.
    pub fn cmd_set_utc_offset(&mut self, data: &[u8]) -> HandlerResult {
        let [lo, hi] = *data else {
            return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
        };
        let offset = i16::from_le_bytes([lo, hi]);
        if offset != UTC_UNSPECIFIED && !(-1440..=1440).contains(&offset) {
            return Err(CompletionCode::PARAMETER_OUT_OF_RANGE);
        }
        self.settings.utc_offset = (offset != UTC_UNSPECIFIED).then_some(offset);
        self.save_settings()?;
        Ok(Vec::new())
    }

    /// Platform Event Message (§29.3, Table 29-5): from the system
    /// interface the first byte is the generator's software ID; otherwise
    /// the requester is a remote console (software ID 81h) on the channel.
    pub fn cmd_platform_event(&mut self, request: &IpmiRequest) -> HandlerResult {
        let data = &request.data;
        let (generator, event) = match data.len() {
            8 => ([data[0], 0x00], &data[1..]),
            7 => ([0x81, (request.context.channel & 0x0F) << 4], &data[..]),
            _ => return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID),
        };
        let mut record = [0u8; 16];
        record[2] = SYSTEM_EVENT;
        record[7..9].copy_from_slice(&generator);
        record[9..16].copy_from_slice(event);
        self.add(record)?;
        Ok(Vec::new())
    }
}

fn no_data(data: &[u8]) -> Result<(), CompletionCode> {
    if data.is_empty() {
        Ok(())
    } else {
        Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID)
    }
}

fn io_failed(err: std::io::Error) -> CompletionCode {
    warn!(cause = %err, "SEL storage failed");
    CompletionCode::UNSPECIFIED
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(tag: &str, capacity: u16, policy: SelFullPolicy) -> Sel {
        let dir = std::env::temp_dir().join(format!("rbmc-selcmd-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Sel::open(
            &dir,
            &rbmc_config::Sel {
                capacity,
                full_policy: policy,
            },
        )
        .unwrap()
    }

    const EVENT: [u8; 16] = [0, 0, 2, 0, 0, 0, 0, 0x20, 0, 4, 1, 1, 1, 0x57, 0x5F, 0x5A];

    #[test]
    fn add_get_delete_clear() {
        let mut s = sel("basic", 10, SelFullPolicy::Stop);
        assert_eq!(s.cmd_add_entry(&EVENT).unwrap(), [1, 0]);
        assert_eq!(s.cmd_add_entry(&EVENT).unwrap(), [2, 0]);
        let first = s.cmd_get_entry(&[0, 0, 0, 0, 0, 0xFF]).unwrap();
        assert_eq!(first[..2], [2, 0], "next ID");
        assert_eq!(first[2..4], [1, 0], "record ID");
        assert_ne!(first[5..9], [0, 0, 0, 0], "timestamped");
        let last = s.cmd_get_entry(&[0, 0, 0xFF, 0xFF, 0, 0xFF]).unwrap();
        assert_eq!(last[..4], [0xFF, 0xFF, 2, 0]);
        // Deleting needs a reservation.
        assert_eq!(
            s.cmd_delete_entry(&[0, 0, 1, 0]),
            Err(CompletionCode::RESERVATION_CANCELLED)
        );
        let r = s.cmd_reserve(&[]).unwrap();
        assert_eq!(s.cmd_delete_entry(&[r[0], r[1], 1, 0]).unwrap(), [1, 0]);
        assert_eq!(
            s.cmd_get_entry(&[0, 0, 1, 0, 0, 0xFF]),
            Err(CompletionCode::NOT_PRESENT)
        );
        let r = s.cmd_reserve(&[]).unwrap();
        assert_eq!(
            s.cmd_clear(&[r[0], r[1], b'C', b'L', b'R', 0xAA]).unwrap(),
            [1]
        );
        assert_eq!(s.cmd_info(&[]).unwrap()[1..3], [0, 0]);
        assert_eq!(
            s.cmd_add_entry(&EVENT).unwrap(),
            [3, 0],
            "IDs keep counting"
        );
    }

    #[test]
    fn full_sel_stops_or_wraps() {
        let mut stop = sel("stop", 2, SelFullPolicy::Stop);
        stop.cmd_add_entry(&EVENT).unwrap();
        stop.cmd_add_entry(&EVENT).unwrap();
        assert_eq!(
            stop.cmd_add_entry(&EVENT),
            Err(CompletionCode::OUT_OF_SPACE)
        );
        assert_eq!(stop.cmd_info(&[]).unwrap()[13] & 0x80, 0x80, "overflow");
        let mut wrap = sel("wrap", 2, SelFullPolicy::Wrap);
        for _ in 0..3 {
            wrap.cmd_add_entry(&EVENT).unwrap();
        }
        let ids: Vec<u16> = wrap.records().map(|(id, _)| *id).collect();
        assert_eq!(ids, [2, 3]);
    }

    #[test]
    fn set_time_moves_only_the_sel_clock() {
        let mut s = sel("time", 10, SelFullPolicy::Stop);
        s.cmd_set_time(&1_000_000u32.to_le_bytes()).unwrap();
        let now = u32::from_le_bytes(s.cmd_get_time(&[]).unwrap().try_into().unwrap());
        assert!((1_000_000..1_000_005).contains(&now), "{now}");
        assert_eq!(s.cmd_get_utc_offset(&[]).unwrap(), [0xFF, 0x07]);
        s.cmd_set_utc_offset(&(-300i16).to_le_bytes()).unwrap();
        assert_eq!(s.cmd_get_utc_offset(&[]).unwrap(), (-300i16).to_le_bytes());
        assert_eq!(
            s.cmd_set_utc_offset(&2000i16.to_le_bytes()),
            Err(CompletionCode::PARAMETER_OUT_OF_RANGE)
        );
    }
}
