//! The audit log's file: read once at start, appended to and fsynced for
//! every batch of records, replaced whole on compaction. The format and
//! the recovery rules are the `audit_journal` crate's; this module is only
//! their I/O (the same discipline as the SEL's [`crate::store`]).
//!
//! Every call here blocks. The audit task runs them on the blocking pool
//! ([`rbmc_daemon::durable::blocking`]) and applies a batch to memory only
//! once its call returned `Ok`.

use std::{
    fs::{File, OpenOptions},
    io::{Read, Write},
    path::{Path, PathBuf},
};

use audit_journal::{Journal, Recovery};

/// The open audit log.
#[derive(Debug)]
pub struct AuditFile {
    path: PathBuf,
    file: File,
    /// Set when a failed write could not be undone: the file may end in a
    /// torn record, so nothing more is appended until a restart recovers
    /// it.
    broken: bool,
}

impl AuditFile {
    /// Opens (or creates) the log at `path` and replays it, keeping the
    /// newest `capacity` records; a torn or damaged tail is cut from the
    /// file (the caller logs the loss).
    pub fn open(path: &Path, capacity: usize) -> std::io::Result<(Self, Journal, Recovery)> {
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
        let (journal, recovery) = Journal::recover(&bytes, capacity);
        if recovery.discarded_bytes > 0 {
            file.set_len(recovery.good_len)?;
            file.sync_all()?;
        }
        let file = Self {
            path: path.to_path_buf(),
            file,
            broken: false,
        };
        Ok((file, journal, recovery))
    }

    /// Appends `bytes` and makes them durable. On any failure the file is
    /// cut back to where it was, so a half-written or unsynced record can
    /// never shadow the records written after it; if even that fails, the
    /// file refuses every later write rather than risk the log.
    pub fn append(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.usable()?;
        let before = self.file.metadata()?.len();
        let written = self
            .file
            .write_all(bytes)
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
        Ok(())
    }

    /// Replaces the log with `bytes` (a compacted image): a new file,
    /// fsynced, renamed over the log, then the directory fsynced. An error
    /// means the log in use is unchanged.
    pub fn replace(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.usable()?;
        let tmp = self.path.with_extension("compact");
        {
            let mut file = File::create(&tmp)?;
            file.write_all(bytes)?;
            file.sync_all()?;
        }
        // Open the new file before it replaces the old one: once renamed,
        // every later write must go to it.
        let file = OpenOptions::new().read(true).append(true).open(&tmp)?;
        std::fs::rename(&tmp, &self.path)?;
        self.file = file;
        let dir = self.path.parent().unwrap_or(Path::new("."));
        if let Err(err) = File::open(dir).and_then(|dir| dir.sync_all()) {
            // The rename may not survive a crash, and records appended to
            // the new file would be lost with it: append nothing more. Both
            // files hold every record kept, so none is lost now.
            tracing::error!(cause = %err, "audit log directory not synced after compaction; refusing further records");
            self.broken = true;
        }
        Ok(())
    }

    fn usable(&self) -> std::io::Result<()> {
        if self.broken {
            Err(std::io::Error::other(
                "the audit log is unusable after a write failure",
            ))
        } else {
            Ok(())
        }
    }

    /// Sends every later write to `path` instead (a test's failing device,
    /// such as `/dev/full`).
    #[cfg(test)]
    pub fn redirect_writes(&mut self, path: &Path) -> std::io::Result<()> {
        self.file = OpenOptions::new().append(true).open(path)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use audit_journal::Fields;

    use super::*;

    fn path(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("rbmc-audit-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir.join("audit.log")
    }

    /// Appends one record and applies it; its sequence number.
    fn add(file: &mut AuditFile, journal: &mut Journal, action: &str) -> u64 {
        let mut batch = journal.batch();
        let fields = Fields {
            source: "test".into(),
            action: action.into(),
            ..Fields::default()
        };
        let sequence = batch.push(fields, 0).unwrap();
        let pending = batch.finish();
        file.append(pending.bytes()).unwrap();
        journal.apply(pending).unwrap();
        sequence
    }

    #[test]
    fn a_torn_tail_is_cut_from_the_file() {
        let p = path("torn");
        let (mut file, mut journal, _) = AuditFile::open(&p, 10).unwrap();
        for n in 0..3 {
            add(&mut file, &mut journal, &format!("a{n}"));
        }
        drop(file);
        let good = std::fs::metadata(&p).unwrap().len();
        let mut bytes = std::fs::read(&p).unwrap();
        bytes.extend_from_slice(&[b'A', b'U', 1, 0, 40, 0, 0, 0, 9, 9]);
        std::fs::write(&p, &bytes).unwrap();
        let (_, reopened, recovery) = AuditFile::open(&p, 10).unwrap();
        assert_eq!(recovery.discarded_bytes, 10);
        assert_eq!(reopened, journal);
        assert_eq!(std::fs::metadata(&p).unwrap().len(), good);
    }

    #[test]
    fn a_failed_append_leaves_the_file_as_it_was() {
        let p = path("full");
        let (mut file, mut journal, _) = AuditFile::open(&p, 10).unwrap();
        add(&mut file, &mut journal, "kept");
        let before = std::fs::read(&p).unwrap();
        file.redirect_writes(Path::new("/dev/full")).unwrap();
        let mut batch = journal.batch();
        batch.push(Fields::default(), 0).unwrap();
        let err = file.append(batch.finish().bytes()).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::StorageFull);
        assert_eq!(std::fs::read(&p).unwrap(), before);
    }

    #[test]
    fn replacing_keeps_appending_to_the_new_file() {
        let p = path("compact");
        let (mut file, mut journal, _) = AuditFile::open(&p, 4).unwrap();
        for n in 0..6 {
            add(&mut file, &mut journal, &format!("a{n}"));
        }
        assert!(journal.wants_compaction());
        let compacted = journal.compact();
        file.replace(&compacted.bytes).unwrap();
        journal.adopt(&compacted).unwrap();
        assert_eq!(add(&mut file, &mut journal, "after"), 7);
        drop(file);
        let (_, reopened, recovery) = AuditFile::open(&p, 4).unwrap();
        assert_eq!(recovery.records, 5);
        assert_eq!(reopened.records(), journal.records());
        assert_eq!(reopened.next_sequence(), 8);
    }
}
