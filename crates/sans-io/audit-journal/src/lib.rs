//! The audit trail's journal, sans-IO: the on-disk record format, replay
//! and recovery after a crash, sequence numbers, the capacity bound with its
//! compaction, and the JSON-lines export.
//!
//! # Contract
//! This crate opens no file, reads no clock and runs no task: bytes and
//! times go in, bytes and values come out. The driver (rbmc-seld's `audit`
//! module)
//! 1. reads the whole file and passes it to [`Journal::recover`], then cuts
//!    the file back to [`Recovery::good_len`] (and logs the loss);
//! 2. for the records at hand builds a [`Batch`] ([`Journal::batch`]),
//!    giving each the time it read from its clock; appends
//!    [`Pending::bytes`] to the file and makes them durable (fsync), and only
//!    then calls [`Journal::apply`] and answers the callers. A failed write
//!    is never applied, so memory always matches what a restart recovers;
//! 3. when [`Journal::wants_compaction`], writes [`Journal::compact`]'s
//!    bytes to a new file that atomically replaces the old one, and only
//!    then calls [`Journal::adopt`].
//!
//! # Format
//! The file is a sequence of frames, one per record, each with its length
//! and a CRC-32 ([`record`] draws one). Sequence numbers strictly increase
//! through the file; a compacted file keeps the newest records with their
//! own numbers, and the next number follows the last one kept, so a
//! number is never given twice.
//!
//! # Bound
//! The journal keeps the newest `capacity` records. The file may hold a
//! quarter more (records already dropped from memory) before it is
//! compacted, so a full journal is rewritten once every `capacity / 4`
//! records rather than on every one.
//!
//! # Recovery
//! Frames are replayed until the first one that is short, or has a bad
//! magic, length, checksum or body, or a sequence number not above the
//! last: that is a torn write (a kill or power cut mid-append) or damage,
//! and it and everything after it are cut. Frames before it are never
//! rewritten in place.
#![forbid(unsafe_code)]

pub mod record;

use std::collections::VecDeque;

pub use record::{FieldError, Fields, Record, MAX_FIELD_LEN};

/// Why a change cannot be applied.
#[derive(Clone, Copy, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum JournalError {
    /// The bytes were built on another state of the journal (a change
    /// applied in between): applying them would break the sequence.
    #[error("the records do not follow the journal's last record")]
    Stale,
}

/// What [`Journal::recover`] found.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct Recovery {
    /// Length of the good prefix: cut the file back to it.
    pub good_len: u64,
    /// Bytes after the good prefix: a torn or damaged tail.
    pub discarded_bytes: u64,
    /// Records in the good prefix.
    pub records: usize,
}

/// The records kept and the counters the file describes.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Journal {
    records: VecDeque<Record>,
    capacity: usize,
    next_sequence: u64,
    /// Frames in the file, including those already dropped from memory.
    file_records: usize,
}

/// Records to append, built against a journal without changing it. Owns
/// its data, so the driver can keep it across a wait.
#[derive(Clone, Debug)]
pub struct Batch {
    first_sequence: u64,
    records: Vec<Record>,
    bytes: Vec<u8>,
}

/// A finished [`Batch`]: the bytes to append, then to apply.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Pending {
    first_sequence: u64,
    records: Vec<Record>,
    bytes: Vec<u8>,
}

/// A new file holding only the records kept (see [`Journal::compact`]).
#[derive(Clone, Debug)]
pub struct Compacted {
    /// The new file's contents.
    pub bytes: Vec<u8>,
    records: usize,
    next_sequence: u64,
}

impl Journal {
    /// An empty journal keeping at most `capacity` records (at least one);
    /// the first sequence number is 1.
    pub fn new(capacity: usize) -> Self {
        Self {
            records: VecDeque::new(),
            capacity: capacity.max(1),
            next_sequence: 1,
            file_records: 0,
        }
    }

    /// Replays a file's bytes up to the first bad frame, keeping the newest
    /// `capacity` records.
    pub fn recover(bytes: &[u8], capacity: usize) -> (Self, Recovery) {
        let mut journal = Self::new(capacity);
        let mut good = 0;
        while let Some((record, len)) = Record::decode(&bytes[good..]) {
            if record.sequence < journal.next_sequence {
                break;
            }
            journal.next_sequence = record.sequence.saturating_add(1);
            journal.keep(record);
            journal.file_records += 1;
            good += len;
        }
        let len = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        let recovery = Recovery {
            good_len: len(good),
            discarded_bytes: len(bytes.len() - good),
            records: journal.file_records,
        };
        (journal, recovery)
    }

    /// The records kept, oldest first.
    pub fn records(&self) -> &VecDeque<Record> {
        &self.records
    }

    /// How many records are kept at most.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The sequence number the next record gets.
    pub fn next_sequence(&self) -> u64 {
        self.next_sequence
    }

    /// Starts a batch of records.
    pub fn batch(&self) -> Batch {
        Batch {
            first_sequence: self.next_sequence,
            records: Vec::new(),
            bytes: Vec::new(),
        }
    }

    /// Applies records that are now durable. They must have been built on
    /// this journal as it is ([`JournalError::Stale`] otherwise, and
    /// nothing changes). The oldest records beyond the capacity go.
    pub fn apply(&mut self, pending: Pending) -> Result<(), JournalError> {
        if pending.records.is_empty() {
            return Ok(());
        }
        if pending.first_sequence != self.next_sequence {
            return Err(JournalError::Stale);
        }
        self.file_records += pending.records.len();
        for record in pending.records {
            self.next_sequence = record.sequence.saturating_add(1);
            self.keep(record);
        }
        Ok(())
    }

    /// Whether the file holds enough dropped records to rewrite it: more
    /// than a quarter of the capacity beyond it (at least one).
    pub fn wants_compaction(&self) -> bool {
        self.file_records > self.capacity + (self.capacity / 4).max(1)
    }

    /// A new file with only the records kept, oldest first.
    pub fn compact(&self) -> Compacted {
        let mut bytes = Vec::new();
        for record in &self.records {
            record.encode_into(&mut bytes);
        }
        Compacted {
            bytes,
            records: self.records.len(),
            next_sequence: self.next_sequence,
        }
    }

    /// Notes that [`Compacted::bytes`] replaced the file. It must have been
    /// built on this journal as it is ([`JournalError::Stale`] otherwise).
    pub fn adopt(&mut self, compacted: &Compacted) -> Result<(), JournalError> {
        if compacted.next_sequence != self.next_sequence {
            return Err(JournalError::Stale);
        }
        self.file_records = compacted.records;
        Ok(())
    }

    /// Every record kept, oldest first, one JSON object per line (no
    /// newline after the last).
    pub fn export_json_lines(&self) -> String {
        self.records
            .iter()
            .map(Record::json_line)
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn keep(&mut self, record: Record) {
        self.records.push_back(record);
        while self.records.len() > self.capacity {
            self.records.pop_front();
        }
    }
}

impl Batch {
    /// Adds a record made at `time_ms` (milliseconds since the Unix epoch);
    /// its sequence number, or why its fields are refused (then nothing is
    /// added).
    pub fn push(&mut self, fields: Fields, time_ms: u64) -> Result<u64, FieldError> {
        fields.check()?;
        let sequence = self.first_sequence + u64::try_from(self.records.len()).unwrap_or(0);
        let record = Record {
            sequence,
            time_ms,
            fields,
        };
        record.encode_into(&mut self.bytes);
        self.records.push(record);
        Ok(sequence)
    }

    /// Whether no record was added.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The records to write.
    pub fn finish(self) -> Pending {
        Pending {
            first_sequence: self.first_sequence,
            records: self.records,
            bytes: self.bytes,
        }
    }
}

impl Pending {
    /// The bytes to append to the file.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The records, in the order they are written.
    pub fn records(&self) -> &[Record] {
        &self.records
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(n: u64) -> Fields {
        Fields {
            source: "kcs".into(),
            user: String::new(),
            address: String::new(),
            channel: 0,
            action: format!("action {n}"),
            result: "ok".into(),
        }
    }

    /// Appends `count` records to `file` one batch each, as a driver whose
    /// writes all succeed; returns their sequence numbers.
    fn append(journal: &mut Journal, file: &mut Vec<u8>, count: u64) -> Vec<u64> {
        let mut sequences = Vec::new();
        for _ in 0..count {
            let mut batch = journal.batch();
            let n = journal.next_sequence();
            sequences.push(batch.push(fields(n), 1000 * n).unwrap());
            let pending = batch.finish();
            file.extend_from_slice(pending.bytes());
            journal.apply(pending).unwrap();
            if journal.wants_compaction() {
                let compacted = journal.compact();
                *file = compacted.bytes.clone();
                journal.adopt(&compacted).unwrap();
            }
        }
        sequences
    }

    fn sequences(journal: &Journal) -> Vec<u64> {
        journal.records().iter().map(|r| r.sequence).collect()
    }

    #[test]
    fn what_was_applied_is_what_the_file_recovers() {
        let mut journal = Journal::new(100);
        let mut file = Vec::new();
        assert_eq!(append(&mut journal, &mut file, 3), [1, 2, 3]);
        let mut batch = journal.batch();
        assert_eq!(batch.push(fields(4), 4000), Ok(4));
        assert_eq!(batch.push(fields(5), 5000), Ok(5));
        let pending = batch.finish();
        file.extend_from_slice(pending.bytes());
        journal.apply(pending).unwrap();
        let (recovered, recovery) = Journal::recover(&file, 100);
        assert_eq!(recovered, journal);
        assert_eq!(
            recovery,
            Recovery {
                good_len: u64::try_from(file.len()).unwrap(),
                discarded_bytes: 0,
                records: 5
            }
        );
        assert_eq!(recovered.next_sequence(), 6);
    }

    #[test]
    fn a_torn_tail_is_cut_back_to_the_good_prefix() {
        let mut journal = Journal::new(100);
        let mut file = Vec::new();
        append(&mut journal, &mut file, 4);
        let good = file.len();
        let mut batch = journal.batch();
        batch.push(fields(5), 5000).unwrap();
        let torn = batch.finish();
        // Every cut of the fifth frame, and garbage, leaves the four.
        for cut in 1..torn.bytes().len() {
            let mut bytes = file.clone();
            bytes.extend_from_slice(&torn.bytes()[..cut]);
            let (recovered, recovery) = Journal::recover(&bytes, 100);
            assert_eq!(recovered, journal, "cut at {cut}");
            assert_eq!(recovery.good_len, u64::try_from(good).unwrap());
            assert_eq!(recovery.discarded_bytes, u64::try_from(cut).unwrap());
        }
        let mut bytes = file.clone();
        bytes.extend_from_slice(&[0x41, 0x55, 0x01, 0x00, 0xFF, 0xFF, 0xFF, 0x7F, 1, 2]);
        assert_eq!(Journal::recover(&bytes, 100).0, journal);
    }

    #[test]
    fn a_damaged_frame_cuts_it_and_everything_after() {
        let mut journal = Journal::new(100);
        let mut file = Vec::new();
        append(&mut journal, &mut file, 3);
        let first = Record::decode(&file).unwrap().1;
        let mut damaged = file.clone();
        damaged[first + 20] ^= 0xFF;
        let (recovered, recovery) = Journal::recover(&damaged, 100);
        assert_eq!(sequences(&recovered), [1]);
        assert_eq!(recovered.next_sequence(), 2);
        assert_eq!(recovery.good_len, u64::try_from(first).unwrap());
    }

    #[test]
    fn a_sequence_that_does_not_count_up_ends_the_good_prefix() {
        let mut journal = Journal::new(100);
        let mut file = Vec::new();
        append(&mut journal, &mut file, 2);
        let mut replayed = file.clone();
        let (again, _) = Record::decode(&file).unwrap();
        replayed.extend_from_slice(&again.encode());
        let (recovered, recovery) = Journal::recover(&replayed, 100);
        assert_eq!(recovered, journal);
        assert!(recovery.discarded_bytes > 0);
    }

    #[test]
    fn a_full_journal_keeps_the_newest_and_numbers_never_repeat() {
        let mut journal = Journal::new(8);
        let mut file = Vec::new();
        let mut given = Vec::new();
        for _ in 0..5 {
            given.extend(append(&mut journal, &mut file, 7));
            let (recovered, _) = Journal::recover(&file, 8);
            assert_eq!(recovered.records(), journal.records());
            assert_eq!(recovered.next_sequence(), journal.next_sequence());
        }
        assert_eq!(given, (1..=35).collect::<Vec<_>>());
        assert_eq!(sequences(&journal), (28..=35).collect::<Vec<_>>());
        // The file is bounded: the capacity plus a quarter.
        let (_, recovery) = Journal::recover(&file, 8);
        assert!(recovery.records <= 10, "{recovery:?}");
        // A restart goes on from the last number, even after compaction.
        let (mut recovered, _) = Journal::recover(&file, 8);
        assert_eq!(append(&mut recovered, &mut file, 1), [36]);
    }

    #[test]
    fn a_smaller_capacity_at_start_keeps_the_newest_and_compacts() {
        let mut journal = Journal::new(100);
        let mut file = Vec::new();
        append(&mut journal, &mut file, 20);
        let (recovered, recovery) = Journal::recover(&file, 5);
        assert_eq!(recovery.records, 20);
        assert_eq!(sequences(&recovered), [16, 17, 18, 19, 20]);
        assert!(recovered.wants_compaction());
        let compacted = recovered.compact();
        let (again, _) = Journal::recover(&compacted.bytes, 5);
        assert_eq!(sequences(&again), [16, 17, 18, 19, 20]);
        assert_eq!(again.next_sequence(), 21);
    }

    #[test]
    fn refused_fields_add_nothing_and_stale_batches_are_refused() {
        let mut journal = Journal::new(10);
        let mut batch = journal.batch();
        let mut bad = fields(1);
        bad.address = "a\nforged line".into();
        assert!(batch.push(bad, 0).is_err());
        assert!(batch.is_empty());
        assert_eq!(batch.push(fields(1), 0), Ok(1));
        let late = journal.batch();
        journal.apply(batch.finish()).unwrap();
        let mut late = late;
        late.push(fields(2), 0).unwrap();
        assert_eq!(journal.apply(late.finish()), Err(JournalError::Stale));
        assert_eq!(sequences(&journal), [1]);
        let compacted = journal.compact();
        append(&mut journal, &mut Vec::new(), 1);
        assert_eq!(journal.adopt(&compacted), Err(JournalError::Stale));
    }

    #[test]
    fn export_is_one_line_per_record_oldest_first() {
        let mut journal = Journal::new(2);
        assert_eq!(journal.export_json_lines(), "");
        append(&mut journal, &mut Vec::new(), 3);
        let export = journal.export_json_lines();
        let lines: Vec<&str> = export.lines().collect();
        assert_eq!(lines.len(), 2, "{export}");
        assert!(lines[0].starts_with("{\"sequence\":2,\"time\":\"1970-01-01T00:00:02.000Z\","));
        assert!(lines[1].contains("\"action\":\"action 3\""), "{export}");
    }
}
