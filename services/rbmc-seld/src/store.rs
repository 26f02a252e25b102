//! The SEL journal's file: read once at start, appended to and fsynced for
//! every change, replaced whole on compaction. The format, the replay and
//! the recovery rules are the `sel_journal` crate's; this module is only
//! their I/O.
//!
//! Every call here blocks. The SEL's owner task runs them on the blocking
//! pool ([`rbmc_daemon::durable::blocking`]), never on the runtime's
//! thread, and applies a change to memory only once its call returned `Ok`.

use std::{
    fs::{File, OpenOptions},
    io::{Read, Write},
    path::{Path, PathBuf},
};

use sel_journal::{Journal, Recovery};

/// The open journal file.
#[derive(Debug)]
pub struct JournalFile {
    path: PathBuf,
    file: File,
    /// Set when a failed write could not be undone: the file may end in a
    /// torn entry, so nothing more is appended until a restart recovers it.
    broken: bool,
}

impl JournalFile {
    /// Opens (or creates) the journal at `path` and replays it; a torn or
    /// damaged tail is cut from the file (the caller logs the loss).
    pub fn open(path: &Path) -> std::io::Result<(Self, Journal, Recovery)> {
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
        let (journal, recovery) = Journal::recover(&bytes);
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
    /// cut back to where it was, so a half-written or unsynced entry can
    /// never shadow the entries written after it; if even that fails, the
    /// file refuses every later change rather than risk the log.
    pub fn append(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        if self.broken {
            return Err(std::io::Error::other(
                "SEL journal is unusable after a write failure",
            ));
        }
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

    /// Replaces the journal with `bytes` (a compacted image): a new file,
    /// fsynced, renamed over the journal, then the directory fsynced. An
    /// error means the journal in use is unchanged.
    pub fn replace(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        if self.broken {
            return Err(std::io::Error::other(
                "SEL journal is unusable after a write failure",
            ));
        }
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
            // The rename may not survive a crash, and then entries appended
            // to the new file would be lost with it: append nothing more.
            // Both files hold the same records, so none is lost now.
            tracing::error!(cause = %err, "SEL journal directory not synced after compaction; refusing further changes");
            self.broken = true;
        }
        Ok(())
    }

    /// Sends every later write to `path` instead (a test's failing
    /// device, such as `/dev/full`).
    #[cfg(test)]
    pub fn redirect_writes(&mut self, path: &Path) -> std::io::Result<()> {
        self.file = OpenOptions::new().append(true).open(path)?;
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

    fn record(n: u8) -> sel_journal::Record {
        [
            0, 0, 0x02, n, 0, 0, 0, 0x20, 0, 0x04, 0x01, n, 0x01, 0x57, n, 0x5A,
        ]
    }

    /// Appends one add and applies it.
    fn add(file: &mut JournalFile, journal: &mut Journal, n: u8) -> u16 {
        let mut batch = journal.batch();
        let id = batch.add(record(n)).unwrap();
        let entries = batch.finish();
        file.append(entries.bytes()).unwrap();
        journal.apply(&entries).unwrap();
        id
    }

    #[test]
    fn appended_entries_are_what_reopening_recovers() {
        let p = path("reopen");
        let (mut file, mut journal, recovery) = JournalFile::open(&p).unwrap();
        assert_eq!(recovery, Recovery::default());
        for n in 1..=3 {
            add(&mut file, &mut journal, n);
        }
        drop(file);
        let (_, reopened, _) = JournalFile::open(&p).unwrap();
        assert_eq!(reopened, journal);
    }

    #[test]
    fn a_torn_tail_is_cut_from_the_file() {
        let p = path("torn");
        let (mut file, mut journal, _) = JournalFile::open(&p).unwrap();
        for n in 1..=5 {
            add(&mut file, &mut journal, n);
        }
        drop(file);
        let good = std::fs::metadata(&p).unwrap().len();
        let mut bytes = std::fs::read(&p).unwrap();
        bytes.extend_from_slice(&[0x53, 0x45, 0x01, 0, 6, 0, 0, 0, 0xAA, 0xBB]);
        std::fs::write(&p, &bytes).unwrap();
        let (_, journal, recovery) = JournalFile::open(&p).unwrap();
        assert_eq!(recovery.discarded_bytes, 10);
        assert_eq!(journal.records().len(), 5);
        assert_eq!(std::fs::metadata(&p).unwrap().len(), good);
    }

    #[test]
    fn a_failed_append_leaves_the_file_as_it_was() {
        let p = path("full");
        let (mut file, mut journal, _) = JournalFile::open(&p).unwrap();
        add(&mut file, &mut journal, 1);
        let before = std::fs::read(&p).unwrap();
        file.redirect_writes(Path::new("/dev/full")).unwrap();
        let mut batch = journal.batch();
        batch.add(record(2)).unwrap();
        let err = file.append(batch.finish().bytes()).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::StorageFull);
        assert_eq!(std::fs::read(&p).unwrap(), before);
    }

    #[test]
    fn replacing_keeps_appending_to_the_new_file() {
        let p = path("compact");
        let (mut file, mut journal, _) = JournalFile::open(&p).unwrap();
        for n in 0..100u8 {
            add(&mut file, &mut journal, n);
        }
        for id in 1..=90 {
            let mut batch = journal.batch();
            assert!(batch.delete(id));
            let entries = batch.finish();
            file.append(entries.bytes()).unwrap();
            journal.apply(&entries).unwrap();
        }
        let compacted = journal.compact();
        file.replace(&compacted.bytes).unwrap();
        journal = compacted.journal;
        assert_eq!(
            std::fs::metadata(&p).unwrap().len(),
            u64::try_from(compacted.bytes.len()).unwrap()
        );
        assert_eq!(add(&mut file, &mut journal, 1), 101);
        drop(file);
        let (_, reopened, _) = JournalFile::open(&p).unwrap();
        assert_eq!(reopened, journal);
    }
}
