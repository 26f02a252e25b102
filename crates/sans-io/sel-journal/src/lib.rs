//! The System Event Log's journal, sans-IO: the on-disk entry format, replay
//! and recovery after a crash, record ID allocation and compaction.
//!
//! # Contract
//! This crate opens no file, reads no clock and runs no task (no tokio):
//! bytes and times go in, bytes and values come out. The driver (rbmc-seld's
//! store)
//! 1. reads the whole journal file and passes it to [`Journal::recover`],
//!    then cuts the file back to [`Recovery::good_len`];
//! 2. for each change builds a [`Batch`] ([`Journal::batch`]), appends
//!    [`Entries::bytes`] to the file and makes them durable (fsync), and
//!    only then calls [`Journal::apply`]. A failed write is never applied,
//!    so memory always matches what a restart would recover;
//! 3. when [`Journal::wants_compaction`] (or after a clear), writes
//!    [`Journal::compact`]'s bytes to a new file that atomically replaces
//!    the journal, and only then adopts [`Compacted::journal`].
//!
//! # Format
//! ```text
//! entry (32 bytes):
//!  0      2    3    4                6      8                            24
//! +------+----+----+----------------+------+----------------------------+
//! | "SE" | op | 00 | record ID (LE) | 00 00| payload (16)               |
//! +------+----+----+----------------+------+----------------------------+
//! 24                    28                                    32
//! +---------------------+--------------------------------------+
//! | sequence (4, LE)    | CRC-32 (IEEE) of bytes 0-27 (4, LE)  |
//! +---------------------+--------------------------------------+
//! ```
//! Ops:
//! - add (01h): the payload is the 16-byte SEL record (IPMI v2.0 §32.1),
//!   its first two bytes the record ID; the next ID moves past it;
//! - delete (02h): the record with this ID goes;
//! - clear (03h): every record goes; the ID field is the next ID, payload
//!   bytes 0-3 the SEL time of the erase (LE; 0 in journals written before
//!   it was recorded here);
//! - next ID (04h): the ID field is the next ID.
//!
//! Clear and next-ID entries carry the next ID explicitly, so compaction
//! (which writes the records in ID order) never makes an ID come back.
//! Sequence numbers count up from 1 in each file.
//!
//! # Recovery
//! Entries are replayed until the first one that is short, or has a bad
//! magic, checksum, sequence number or op: that is a torn write (a kill or
//! power cut mid-append) or damage, and it and everything after it are cut.
//! Entries before it are never rewritten in place.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;

/// Bytes per journal entry.
pub const ENTRY_LEN: usize = 32;
/// Bytes per SEL record (IPMI v2.0 §32.1).
pub const RECORD_LEN: usize = 16;

/// A SEL record.
pub type Record = [u8; RECORD_LEN];

const MAGIC: [u8; 2] = *b"SE";
const OP_ADD: u8 = 0x01;
const OP_DELETE: u8 = 0x02;
const OP_CLEAR: u8 = 0x03;
const OP_NEXT_ID: u8 = 0x04;
/// Entries a journal may hold before dead ones are worth compacting away.
const COMPACT_AFTER: u64 = 64;

/// Why a change cannot be made.
#[derive(Clone, Copy, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum JournalError {
    /// Every record ID, 0001h-FFFEh, is in use.
    #[error("every SEL record ID is in use")]
    IdsExhausted,
    /// The entries were built on another state of the journal (a change
    /// applied in between): applying them would break the sequence.
    #[error("the entries do not follow the journal's last entry")]
    Stale,
}

/// What [`Journal::recover`] found.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct Recovery {
    /// Length of the good prefix: cut the file back to it.
    pub good_len: u64,
    /// Bytes after the good prefix: a torn or damaged tail.
    pub discarded_bytes: u64,
}

/// The live records and the counters the journal's entries describe.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Journal {
    records: BTreeMap<u16, Record>,
    next_id: u16,
    sequence: u32,
    entries: u64,
    last_erase: u32,
}

/// Changes to append, built by a [`Batch`].
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Entries {
    first_sequence: u32,
    bytes: Vec<u8>,
}

/// A new journal file holding only the live records (see
/// [`Journal::compact`]).
#[derive(Clone, Debug)]
pub struct Compacted {
    /// The new file's contents.
    pub bytes: Vec<u8>,
    /// The journal those bytes describe: the same records and next ID, with
    /// the sequence started afresh. Adopt it once the file is in place.
    pub journal: Journal,
}

/// One or more changes, built against a journal without changing it.
///
/// It sees the journal as it was, plus its own changes.
#[derive(Debug)]
pub struct Batch<'a> {
    journal: &'a Journal,
    next_id: u16,
    sequence: u32,
    first_sequence: u32,
    added: Vec<u16>,
    deleted: Vec<u16>,
    cleared: bool,
    bytes: Vec<u8>,
}

/// One decoded entry.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
struct Entry {
    op: u8,
    id: u16,
    payload: [u8; RECORD_LEN],
    sequence: u32,
}

/// The record ID after `id`: IDs run 0001h-FFFEh and wrap (0000h and FFFFh
/// mean "first" and "last" in Get SEL Entry, IPMI v2.0 §31.5).
fn following(id: u16) -> u16 {
    if id >= 0xFFFE {
        1
    } else {
        id + 1
    }
}

impl Journal {
    /// An empty journal: no records, the next ID 0001h.
    pub fn new() -> Self {
        Self {
            records: BTreeMap::new(),
            next_id: 1,
            sequence: 0,
            entries: 0,
            last_erase: 0,
        }
    }

    /// Replays a journal file's bytes up to the first bad entry.
    pub fn recover(bytes: &[u8]) -> (Self, Recovery) {
        let mut journal = Self::new();
        let mut good = 0;
        for chunk in bytes.chunks(ENTRY_LEN) {
            match Entry::decode(chunk) {
                Some(entry) if journal.replay(&entry) => good += ENTRY_LEN,
                _ => break,
            }
        }
        let len = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        let recovery = Recovery {
            good_len: len(good),
            discarded_bytes: len(bytes.len() - good),
        };
        (journal, recovery)
    }

    /// The live records, in ID order.
    pub fn records(&self) -> &BTreeMap<u16, Record> {
        &self.records
    }

    /// The SEL time of the last clear, if the journal recorded one.
    pub fn last_erase(&self) -> Option<u32> {
        (self.last_erase != 0).then_some(self.last_erase)
    }

    /// Starts a change.
    pub fn batch(&self) -> Batch<'_> {
        let first_sequence = self.sequence.wrapping_add(1);
        Batch {
            journal: self,
            next_id: self.next_id,
            sequence: self.sequence,
            first_sequence,
            added: Vec::new(),
            deleted: Vec::new(),
            cleared: false,
            bytes: Vec::new(),
        }
    }

    /// Applies entries that are now durable. They must have been built on
    /// this journal as it is ([`JournalError::Stale`] otherwise, and
    /// nothing changes).
    pub fn apply(&mut self, entries: &Entries) -> Result<(), JournalError> {
        if entries.bytes.is_empty() {
            return Ok(());
        }
        if entries.first_sequence != self.sequence.wrapping_add(1) {
            return Err(JournalError::Stale);
        }
        let mut next = self.clone();
        for chunk in entries.bytes.chunks(ENTRY_LEN) {
            let replayed = Entry::decode(chunk).is_some_and(|entry| next.replay(&entry));
            if !replayed {
                return Err(JournalError::Stale);
            }
        }
        *self = next;
        Ok(())
    }

    /// Whether dead entries outnumber the live records enough to rewrite
    /// the file.
    pub fn wants_compaction(&self) -> bool {
        let live = u64::try_from(self.records.len()).unwrap_or(u64::MAX);
        self.entries > COMPACT_AFTER && self.entries > 2 * live
    }

    /// A new file with the live records only: a clear entry holding the next
    /// ID and the last erase, an add per record in ID order, and a next-ID
    /// entry (an add moves the next ID past its own, and the records come in
    /// ID order, not allocation order).
    pub fn compact(&self) -> Compacted {
        let mut journal = Self::new();
        let mut bytes = Vec::with_capacity((self.records.len() + 2) * ENTRY_LEN);
        let mut push = |journal: &mut Self, op: u8, id: u16, payload: Record| {
            let entry = Entry {
                op,
                id,
                payload,
                sequence: journal.sequence.wrapping_add(1),
            };
            bytes.extend_from_slice(&entry.encode());
            let replayed = journal.replay(&entry);
            debug_assert!(replayed, "a freshly built entry replays");
        };
        push(
            &mut journal,
            OP_CLEAR,
            self.next_id,
            erase_payload(self.last_erase),
        );
        for (id, record) in &self.records {
            push(&mut journal, OP_ADD, *id, *record);
        }
        push(&mut journal, OP_NEXT_ID, self.next_id, [0; RECORD_LEN]);
        Compacted { bytes, journal }
    }

    /// Applies one entry read from disk or built here; false (and nothing
    /// changed) if it does not follow the last one or its op is unknown.
    fn replay(&mut self, entry: &Entry) -> bool {
        if entry.sequence != self.sequence.wrapping_add(1) {
            return false;
        }
        match entry.op {
            OP_ADD => {
                self.records.insert(entry.id, entry.payload);
                self.next_id = following(entry.id);
            }
            OP_DELETE => {
                self.records.remove(&entry.id);
            }
            OP_CLEAR => {
                self.records.clear();
                self.next_id = entry.id;
                let [a, b, c, d, ..] = entry.payload;
                let erased = u32::from_le_bytes([a, b, c, d]);
                if erased != 0 {
                    self.last_erase = erased;
                }
            }
            OP_NEXT_ID => self.next_id = entry.id,
            _ => return false,
        }
        self.sequence = entry.sequence;
        self.entries += 1;
        true
    }
}

impl Default for Journal {
    fn default() -> Self {
        Self::new()
    }
}

impl Batch<'_> {
    /// Adds `record` under the next free ID, which it writes into the
    /// record's first two bytes and returns.
    pub fn add(&mut self, mut record: Record) -> Result<u16, JournalError> {
        let id = self.free_id().ok_or(JournalError::IdsExhausted)?;
        record[..2].copy_from_slice(&id.to_le_bytes());
        self.push(OP_ADD, id, record);
        self.next_id = following(id);
        self.added.push(id);
        Ok(id)
    }

    /// Deletes the record `id`; false (and no entry) if there is none.
    pub fn delete(&mut self, id: u16) -> bool {
        if !self.is_live(id) {
            return false;
        }
        self.push(OP_DELETE, id, [0; RECORD_LEN]);
        self.added.retain(|added| *added != id);
        self.deleted.push(id);
        true
    }

    /// Deletes every record, noting `erase_time` (SEL time) as the last
    /// erase; IDs keep counting up.
    pub fn clear(&mut self, erase_time: u32) {
        self.push(OP_CLEAR, self.next_id, erase_payload(erase_time));
        self.cleared = true;
        self.added.clear();
        self.deleted.clear();
    }

    /// The entries to append.
    pub fn finish(self) -> Entries {
        Entries {
            first_sequence: self.first_sequence,
            bytes: self.bytes,
        }
    }

    fn is_live(&self, id: u16) -> bool {
        self.added.contains(&id)
            || (!self.cleared
                && self.journal.records.contains_key(&id)
                && !self.deleted.contains(&id))
    }

    /// The first ID at or after the next ID that no live record holds.
    fn free_id(&self) -> Option<u16> {
        let mut id = self.next_id;
        for _ in 0..0xFFFE {
            if !self.is_live(id) {
                return Some(id);
            }
            id = following(id);
        }
        None
    }

    fn push(&mut self, op: u8, id: u16, payload: Record) {
        self.sequence = self.sequence.wrapping_add(1);
        let entry = Entry {
            op,
            id,
            payload,
            sequence: self.sequence,
        };
        self.bytes.extend_from_slice(&entry.encode());
    }
}

impl Entries {
    /// The bytes to append to the journal file.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

impl Entry {
    fn encode(&self) -> [u8; ENTRY_LEN] {
        let mut bytes = [0u8; ENTRY_LEN];
        bytes[..2].copy_from_slice(&MAGIC);
        bytes[2] = self.op;
        bytes[4..6].copy_from_slice(&self.id.to_le_bytes());
        bytes[8..24].copy_from_slice(&self.payload);
        bytes[24..28].copy_from_slice(&self.sequence.to_le_bytes());
        let crc = crc32fast::hash(&bytes[..28]);
        bytes[28..].copy_from_slice(&crc.to_le_bytes());
        bytes
    }

    /// An entry whose length, magic and checksum are right.
    fn decode(bytes: &[u8]) -> Option<Self> {
        let bytes = <&[u8; ENTRY_LEN]>::try_from(bytes).ok()?;
        let word = |at: usize| {
            u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
        };
        if bytes[..2] != MAGIC || crc32fast::hash(&bytes[..28]) != word(28) {
            return None;
        }
        let mut payload = [0u8; RECORD_LEN];
        payload.copy_from_slice(&bytes[8..24]);
        Some(Self {
            op: bytes[2],
            id: u16::from_le_bytes([bytes[4], bytes[5]]),
            payload,
            sequence: word(24),
        })
    }
}

fn erase_payload(erase_time: u32) -> Record {
    let mut payload = [0u8; RECORD_LEN];
    payload[..4].copy_from_slice(&erase_time.to_le_bytes());
    payload
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(n: u8) -> Record {
        [
            0, 0, 0x02, n, 0, 0, 0, 0x20, 0, 0x04, 0x01, n, 0x01, 0x57, n, 0x5A,
        ]
    }

    /// A journal and the file a driver would have written for it.
    struct Disk {
        journal: Journal,
        file: Vec<u8>,
    }

    impl Disk {
        fn new() -> Self {
            Self {
                journal: Journal::new(),
                file: Vec::new(),
            }
        }

        /// Builds, "writes" and applies one batch.
        fn commit<R>(&mut self, change: impl FnOnce(&mut Batch<'_>) -> R) -> R {
            let mut batch = self.journal.batch();
            let result = change(&mut batch);
            let entries = batch.finish();
            self.file.extend_from_slice(entries.bytes());
            self.journal.apply(&entries).unwrap();
            result
        }

        fn add(&mut self, record: Record) -> u16 {
            self.commit(|b| b.add(record)).unwrap()
        }

        fn compact(&mut self) {
            let compacted = self.journal.compact();
            self.file = compacted.bytes;
            self.journal = compacted.journal;
        }

        fn reopen(&self) -> (Journal, Recovery) {
            Journal::recover(&self.file)
        }
    }

    #[test]
    fn an_entry_is_laid_out_as_documented() {
        let add = Entry {
            op: OP_ADD,
            id: 1,
            payload: [
                1, 0, 2, 0x10, 0x20, 0x30, 0x40, 0x20, 0, 4, 1, 5, 1, 0x57, 0x30, 0x28,
            ],
            sequence: 1,
        };
        let bytes = add.encode();
        assert_eq!(
            bytes,
            [
                0x53, 0x45, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, // "SE", add, ID 1
                1, 0, 2, 0x10, 0x20, 0x30, 0x40, 0x20, 0, 4, 1, 5, 1, 0x57, 0x30, 0x28, 0x01, 0x00,
                0x00, 0x00, // sequence 1
                0xB6, 0xDF, 0x46, 0x13, // CRC-32
            ]
        );
        assert_eq!(Entry::decode(&bytes), Some(add));
        let clear = Entry {
            op: OP_CLEAR,
            id: 7,
            payload: erase_payload(0x1234_5678),
            sequence: 2,
        };
        assert_eq!(
            clear.encode(),
            [
                0x53, 0x45, 0x03, 0x00, 0x07, 0x00, 0x00, 0x00, // "SE", clear, next ID 7
                0x78, 0x56, 0x34, 0x12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // erased at
                0x02, 0x00, 0x00, 0x00, // sequence 2
                0x64, 0x44, 0x09, 0x1A, // CRC-32
            ]
        );
        for (op, code) in [
            (OP_ADD, 0x01),
            (OP_DELETE, 0x02),
            (OP_CLEAR, 0x03),
            (OP_NEXT_ID, 0x04),
        ] {
            assert_eq!(op, code);
        }
    }

    #[test]
    fn records_and_ids_survive_reopening() {
        let mut disk = Disk::new();
        assert_eq!(disk.add(record(1)), 1);
        assert_eq!(disk.add(record(2)), 2);
        assert_eq!(disk.add(record(3)), 3);
        assert!(disk.commit(|b| b.delete(2)));
        assert!(!disk.commit(|b| b.delete(2)));
        let (journal, recovery) = disk.reopen();
        assert_eq!(
            recovery,
            Recovery {
                good_len: u64::try_from(disk.file.len()).unwrap(),
                discarded_bytes: 0
            }
        );
        assert_eq!(journal, disk.journal, "memory is what a restart recovers");
        assert_eq!(
            journal.records().keys().copied().collect::<Vec<_>>(),
            [1, 3]
        );
        assert_eq!(
            journal.records()[&3][..2],
            [3, 0],
            "the ID is in the record"
        );
        // IDs never go back, even after a clear and a reopen.
        disk.commit(|b| b.clear(1234));
        let (journal, _) = disk.reopen();
        assert!(journal.records().is_empty());
        assert_eq!(journal.last_erase(), Some(1234));
        disk.journal = journal;
        assert_eq!(disk.add(record(4)), 4);
    }

    #[test]
    fn a_torn_tail_is_cut_and_the_prefix_kept() {
        let mut disk = Disk::new();
        for n in 1..=5 {
            disk.add(record(n));
        }
        let good = disk.file.len();
        // A half-written entry, then garbage.
        let mut bytes = disk.file.clone();
        bytes.extend_from_slice(&[0x53, 0x45, 0x01, 0, 6, 0, 0, 0, 0xAA, 0xBB]);
        let (journal, recovery) = Journal::recover(&bytes);
        assert_eq!(recovery.discarded_bytes, 10);
        assert_eq!(recovery.good_len, u64::try_from(good).unwrap());
        assert_eq!(journal.records().len(), 5);
        // A flipped bit in the middle: everything from there is suspect.
        let mut bytes = disk.file.clone();
        bytes[3 * ENTRY_LEN + 12] ^= 0x01;
        let (journal, recovery) = Journal::recover(&bytes);
        assert_eq!(journal.records().len(), 3);
        assert_eq!(
            recovery.discarded_bytes,
            u64::try_from(2 * ENTRY_LEN).unwrap()
        );
        // An entry out of sequence (a stale one from an older file) stops
        // the replay too.
        let mut bytes = disk.file[..ENTRY_LEN].to_vec();
        bytes.extend_from_slice(&disk.file[2 * ENTRY_LEN..3 * ENTRY_LEN]);
        assert_eq!(Journal::recover(&bytes).1.good_len, 32);
    }

    #[test]
    fn ids_wrap_past_fffeh_and_skip_ids_in_use() {
        let mut disk = Disk::new();
        assert_eq!(disk.add(record(1)), 1);
        disk.journal.next_id = 0xFFFE;
        assert_eq!(disk.add(record(2)), 0xFFFE);
        // Never FFFFh or 0000h; 0001h is taken, so 0002h.
        assert_eq!(disk.add(record(3)), 2);
        let (journal, _) = disk.reopen();
        disk.journal = journal;
        assert_eq!(disk.add(record(4)), 3);
    }

    #[test]
    fn a_batch_sees_its_own_changes_and_lands_whole_or_as_a_prefix() {
        let mut disk = Disk::new();
        disk.add(record(1));
        disk.add(record(2));
        let before = disk.file.len();
        // A full SEL that wraps: the new record and the oldest's deletion in
        // one write.
        let id = disk.commit(|b| {
            let id = b.add(record(3)).unwrap();
            assert!(b.delete(1));
            assert!(!b.delete(1), "deleted in this batch");
            assert!(b.delete(id), "added in this batch");
            b.add(record(4)).unwrap()
        });
        assert_eq!(id, 4);
        assert_eq!(
            disk.journal.records().keys().copied().collect::<Vec<_>>(),
            [2, 4]
        );
        assert_eq!(disk.reopen().0, disk.journal);
        // Torn after the first entry of the batch: the prefix is a valid SEL.
        let (journal, _) = Journal::recover(&disk.file[..before + ENTRY_LEN]);
        assert_eq!(
            journal.records().keys().copied().collect::<Vec<_>>(),
            [1, 2, 3]
        );
    }

    #[test]
    fn stale_entries_are_refused_and_change_nothing() {
        let mut disk = Disk::new();
        disk.add(record(1));
        let mut stale = disk.journal.batch();
        stale.add(record(2)).unwrap();
        let stale = stale.finish();
        disk.add(record(3));
        let before = disk.journal.clone();
        assert_eq!(disk.journal.apply(&stale), Err(JournalError::Stale));
        assert_eq!(disk.journal, before);
        // A write that failed is simply never applied.
        let mut failed = disk.journal.batch();
        failed.add(record(4)).unwrap();
        drop(failed.finish());
        assert_eq!(disk.journal, before);
    }

    #[test]
    fn compaction_never_brings_an_id_back() {
        let mut disk = Disk::new();
        for n in 0..100u8 {
            disk.add(record(n));
        }
        // Delete the newest ones, then enough to want a compaction.
        for id in (91..=100).chain(1..=60) {
            disk.commit(|b| b.delete(id));
        }
        assert!(disk.journal.wants_compaction());
        disk.compact();
        assert!(!disk.journal.wants_compaction());
        let (journal, _) = disk.reopen();
        assert_eq!(journal, disk.journal);
        disk.journal = journal;
        assert_eq!(disk.add(record(1)), 101);
    }

    #[test]
    fn compaction_keeps_records_ids_and_the_last_erase() {
        let mut disk = Disk::new();
        disk.commit(|b| b.clear(77));
        for n in 0..100u8 {
            disk.add(record(n));
        }
        for id in 1..=90 {
            disk.commit(|b| b.delete(id));
        }
        disk.compact();
        assert_eq!(
            disk.file.len(),
            12 * ENTRY_LEN,
            "clear, 10 records, next ID"
        );
        let (journal, _) = disk.reopen();
        assert_eq!(
            journal.records().keys().copied().collect::<Vec<_>>(),
            (91..=100).collect::<Vec<_>>()
        );
        assert_eq!(journal.last_erase(), Some(77));
        disk.journal = journal;
        assert_eq!(disk.add(record(1)), 101);
    }
}
