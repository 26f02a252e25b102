//! The SEL on disk: an append-only journal that survives a kill -9 or a
//! power cut at any instant.
//!
//! ```text
//! entry (32 bytes): | magic "SE" | op | 0 | record id (2, LE) | 0 0 |
//!                   | payload: the 16-byte SEL record (ops add) or 0s     |
//!                   | sequence (4, LE) | CRC-32 of the 28 bytes before (4, LE) |
//! ```
//! Ops: add (01h, carries the record), delete (02h), clear (03h), next ID
//! (04h). An add moves the next ID past its own; clear and next-ID entries
//! carry it explicitly, so compaction (which writes records in ID order)
//! never makes an ID come back.
//!
//! Every change is appended and fsynced before the caller replies. On open,
//! entries are read until the first one that is short, has a bad magic,
//! checksum or sequence: that is a torn write, so the file is cut back to
//! the good prefix (and the loss is logged). Entries before it are never
//! rewritten in place; when deletions pile up, the live records are written
//! to a new file that atomically replaces the old one.

use std::{
    collections::BTreeMap,
    fs::{File, OpenOptions},
    io::{Read, Write},
    path::{Path, PathBuf},
};

/// Bytes per journal entry.
pub const ENTRY_LEN: usize = 32;
/// Bytes per SEL record (IPMI v2.0 §32.1).
pub const RECORD_LEN: usize = 16;

const MAGIC: [u8; 2] = *b"SE";
const OP_ADD: u8 = 0x01;
const OP_DELETE: u8 = 0x02;
const OP_CLEAR: u8 = 0x03;
const OP_NEXT_ID: u8 = 0x04;

/// A SEL record.
pub type Record = [u8; RECORD_LEN];

/// What opening found.
#[derive(Debug, Default, Eq, PartialEq)]
pub struct Recovery {
    /// Bytes cut from a torn or corrupt tail.
    pub discarded_bytes: u64,
}

/// The journal and the live records it describes.
#[derive(Debug)]
pub struct Store {
    path: PathBuf,
    file: File,
    records: BTreeMap<u16, Record>,
    next_id: u16,
    sequence: u32,
    entries: u64,
    broken: bool,
}

/// The record ID after `id`, in 0001h-FFFEh.
fn following(id: u16) -> u16 {
    if id >= 0xFFFE {
        1
    } else {
        id + 1
    }
}

impl Store {
    /// Opens (or creates) the journal at `path` and replays it.
    pub fn open(path: &Path) -> std::io::Result<(Self, Recovery)> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        let mut store = Self {
            path: path.to_path_buf(),
            file,
            records: BTreeMap::new(),
            next_id: 1,
            sequence: 0,
            entries: 0,
            broken: false,
        };
        let mut good = 0;
        for entry in bytes.chunks(ENTRY_LEN) {
            if !store.replay(entry) {
                break;
            }
            good += ENTRY_LEN;
        }
        let recovery = Recovery {
            discarded_bytes: u64::try_from(bytes.len() - good).unwrap_or(u64::MAX),
        };
        if recovery.discarded_bytes > 0 {
            store.file.set_len(u64::try_from(good).unwrap_or(0))?;
            store.file.sync_all()?;
        }
        Ok((store, recovery))
    }

    /// Applies one entry read from disk; false if it is not valid.
    fn replay(&mut self, entry: &[u8]) -> bool {
        let Ok(entry) = <[u8; ENTRY_LEN]>::try_from(entry) else {
            return false;
        };
        if entry[..2] != MAGIC
            || crc32fast::hash(&entry[..28])
                != u32::from_le_bytes([entry[28], entry[29], entry[30], entry[31]])
        {
            return false;
        }
        let sequence = u32::from_le_bytes([entry[24], entry[25], entry[26], entry[27]]);
        if sequence != self.sequence.wrapping_add(1) {
            return false;
        }
        let id = u16::from_le_bytes([entry[4], entry[5]]);
        match entry[2] {
            OP_ADD => {
                let mut record = [0u8; RECORD_LEN];
                record.copy_from_slice(&entry[8..24]);
                self.records.insert(id, record);
                self.next_id = following(id);
            }
            OP_DELETE => {
                self.records.remove(&id);
            }
            OP_CLEAR => {
                self.records.clear();
                self.next_id = id;
            }
            OP_NEXT_ID => self.next_id = id,
            _ => return false,
        }
        self.sequence = sequence;
        self.entries += 1;
        true
    }

    fn entry(&self, op: u8, id: u16, payload: &[u8]) -> [u8; ENTRY_LEN] {
        let mut entry = [0u8; ENTRY_LEN];
        entry[..2].copy_from_slice(&MAGIC);
        entry[2] = op;
        entry[4..6].copy_from_slice(&id.to_le_bytes());
        entry[8..8 + payload.len()].copy_from_slice(payload);
        entry[24..28].copy_from_slice(&self.sequence.wrapping_add(1).to_le_bytes());
        let crc = crc32fast::hash(&entry[..28]);
        entry[28..].copy_from_slice(&crc.to_le_bytes());
        entry
    }

    /// Appends and fsyncs one entry, then applies it. On any failure the
    /// file is cut back to where it was, so a half-written or unsynced
    /// entry can never shadow the entries written after it; if even that
    /// fails, the store refuses further changes rather than risk the log.
    fn commit(&mut self, op: u8, id: u16, payload: &[u8]) -> std::io::Result<()> {
        if self.broken {
            return Err(std::io::Error::other(
                "SEL journal is unusable after a write failure",
            ));
        }
        let entry = self.entry(op, id, payload);
        let before = self.file.metadata()?.len();
        let written = self
            .file
            .write_all(&entry)
            .and_then(|()| self.file.sync_data());
        if let Err(err) = written {
            if self
                .file
                .set_len(before)
                .and_then(|()| self.file.sync_data())
                .is_err()
            {
                self.broken = true;
            }
            return Err(err);
        }
        let applied = self.replay(&entry);
        debug_assert!(applied, "a freshly built entry replays");
        Ok(())
    }

    /// The next free record ID at or after `next_id`: IDs run 0001h-FFFEh
    /// (0000h and FFFFh mean "first" and "last" in Get SEL Entry), wrap, and
    /// skip IDs still in use.
    fn free_id(&self) -> Option<u16> {
        let mut id = self.next_id;
        for _ in 0..0xFFFE {
            if !self.records.contains_key(&id) {
                return Some(id);
            }
            id = following(id);
        }
        None
    }

    /// Adds a record; its first two bytes are set to the new record ID.
    pub fn add(&mut self, mut record: Record) -> std::io::Result<u16> {
        let id = self
            .free_id()
            .ok_or_else(|| std::io::Error::other("every SEL record ID is in use"))?;
        record[..2].copy_from_slice(&id.to_le_bytes());
        self.commit(OP_ADD, id, &record)?;
        Ok(id)
    }

    /// Deletes a record; false if there was none.
    pub fn delete(&mut self, id: u16) -> std::io::Result<bool> {
        if !self.records.contains_key(&id) {
            return Ok(false);
        }
        self.commit(OP_DELETE, id, &[])?;
        // Durable now; a failed compaction only leaves the journal longer.
        if let Err(err) = self.compact_if_worthwhile() {
            tracing::warn!(cause = %err, "SEL compaction failed; the journal stays as it is");
        }
        Ok(true)
    }

    /// Removes every record (IDs keep counting up).
    pub fn clear(&mut self) -> std::io::Result<()> {
        self.commit(OP_CLEAR, self.next_id, &[])?;
        if let Err(err) = self.compact() {
            tracing::warn!(cause = %err, "SEL compaction failed; the journal stays as it is");
        }
        Ok(())
    }

    /// The live records in ID order.
    pub fn records(&self) -> &BTreeMap<u16, Record> {
        &self.records
    }

    /// Rewrites the journal when dead entries outnumber live records.
    fn compact_if_worthwhile(&mut self) -> std::io::Result<()> {
        let live = u64::try_from(self.records.len()).unwrap_or(u64::MAX);
        if self.entries > 64 && self.entries > 2 * live {
            self.compact()?;
        }
        Ok(())
    }

    /// Writes the live records (after a clear marker holding the next ID) to
    /// a new file, fsyncs it and renames it over the journal.
    pub fn compact(&mut self) -> std::io::Result<()> {
        let mut fresh = Self {
            path: self.path.clone(),
            file: self.file.try_clone()?,
            records: BTreeMap::new(),
            next_id: 1,
            sequence: 0,
            entries: 0,
            broken: false,
        };
        let mut bytes = Vec::with_capacity((self.records.len() + 1) * ENTRY_LEN);
        let clear = fresh.entry(OP_CLEAR, self.next_id, &[]);
        fresh.replay(&clear);
        bytes.extend_from_slice(&clear);
        for (id, record) in &self.records {
            let entry = fresh.entry(OP_ADD, *id, record);
            fresh.replay(&entry);
            bytes.extend_from_slice(&entry);
        }
        let next = fresh.entry(OP_NEXT_ID, self.next_id, &[]);
        fresh.replay(&next);
        bytes.extend_from_slice(&next);
        let tmp = self.path.with_extension("compact");
        {
            let mut file = File::create(&tmp)?;
            file.write_all(&bytes)?;
            file.sync_all()?;
        }
        // Open the new file before it replaces the old one: once renamed,
        // every later write must go to it.
        let file = OpenOptions::new().read(true).append(true).open(&tmp)?;
        std::fs::rename(&tmp, &self.path)?;
        self.file = file;
        self.sequence = fresh.sequence;
        self.entries = fresh.entries;
        if let Some(dir) = self.path.parent() {
            File::open(dir)?.sync_all()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("rbmc-sel-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir.join("sel.journal")
    }

    fn record(n: u8) -> Record {
        [
            0, 0, 0x02, n, 0, 0, 0, 0x20, 0, 0x04, 0x01, n, 0x01, 0x57, n, 0x5A,
        ]
    }

    #[test]
    fn records_and_ids_survive_reopening() {
        let p = path("reopen");
        let (mut store, _) = Store::open(&p).unwrap();
        assert_eq!(store.add(record(1)).unwrap(), 1);
        assert_eq!(store.add(record(2)).unwrap(), 2);
        assert_eq!(store.add(record(3)).unwrap(), 3);
        assert!(store.delete(2).unwrap());
        assert!(!store.delete(2).unwrap());
        drop(store);
        let (mut store, recovery) = Store::open(&p).unwrap();
        assert_eq!(recovery, Recovery::default());
        assert_eq!(store.records().keys().copied().collect::<Vec<_>>(), [1, 3]);
        assert_eq!(store.records()[&3][..2], [3, 0], "the ID is in the record");
        // IDs never go back, even after a clear and a reopen.
        store.clear().unwrap();
        drop(store);
        let (mut store, _) = Store::open(&p).unwrap();
        assert!(store.records().is_empty());
        assert_eq!(store.add(record(4)).unwrap(), 4);
    }

    #[test]
    fn a_torn_tail_is_cut_and_the_prefix_kept() {
        let p = path("torn");
        let (mut store, _) = Store::open(&p).unwrap();
        for n in 1..=5 {
            store.add(record(n)).unwrap();
        }
        drop(store);
        // A half-written entry, then garbage.
        let mut bytes = std::fs::read(&p).unwrap();
        let good = bytes.len();
        bytes.extend_from_slice(&[0x53, 0x45, 0x01, 0, 6, 0, 0, 0, 0xAA, 0xBB]);
        std::fs::write(&p, &bytes).unwrap();
        let (store, recovery) = Store::open(&p).unwrap();
        assert_eq!(recovery.discarded_bytes, 10);
        assert_eq!(store.records().len(), 5);
        assert_eq!(
            std::fs::metadata(&p).unwrap().len(),
            u64::try_from(good).unwrap()
        );
        drop(store);
        // A flipped bit in the middle: everything from there is suspect.
        let mut bytes = std::fs::read(&p).unwrap();
        bytes[3 * ENTRY_LEN + 12] ^= 0x01;
        std::fs::write(&p, &bytes).unwrap();
        let (store, recovery) = Store::open(&p).unwrap();
        assert_eq!(store.records().len(), 3);
        assert_eq!(
            recovery.discarded_bytes,
            u64::try_from(2 * ENTRY_LEN).unwrap()
        );
    }

    #[test]
    fn ids_wrap_past_fffeh_and_skip_ids_in_use() {
        let p = path("wrap");
        let (mut store, _) = Store::open(&p).unwrap();
        assert_eq!(store.add(record(1)).unwrap(), 1);
        store.next_id = 0xFFFE;
        assert_eq!(store.add(record(2)).unwrap(), 0xFFFE);
        // Never FFFFh or 0000h; 0001h is taken, so 0002h.
        assert_eq!(store.add(record(3)).unwrap(), 2);
        drop(store);
        let (mut store, _) = Store::open(&p).unwrap();
        assert_eq!(store.add(record(4)).unwrap(), 3);
    }

    #[test]
    fn compaction_never_brings_an_id_back() {
        let p = path("compact-newest");
        let (mut store, _) = Store::open(&p).unwrap();
        for n in 0..100u8 {
            store.add(record(n)).unwrap();
        }
        // Delete the newest ones, then enough to force a compaction.
        for id in (91..=100).chain(1..=60) {
            store.delete(id).unwrap();
        }
        drop(store);
        let (mut store, _) = Store::open(&p).unwrap();
        assert_eq!(store.add(record(1)).unwrap(), 101);
    }

    #[test]
    fn compaction_keeps_records_and_ids() {
        let p = path("compact");
        let (mut store, _) = Store::open(&p).unwrap();
        for n in 0..100u8 {
            store.add(record(n)).unwrap();
        }
        for id in 1..=90 {
            store.delete(id).unwrap();
        }
        let size = std::fs::metadata(&p).unwrap().len();
        assert!(size < 100 * ENTRY_LEN as u64, "compacted: {size}");
        drop(store);
        let (mut store, _) = Store::open(&p).unwrap();
        assert_eq!(
            store.records().keys().copied().collect::<Vec<_>>(),
            (91..=100).collect::<Vec<_>>()
        );
        assert_eq!(store.add(record(1)).unwrap(), 101);
    }
}
