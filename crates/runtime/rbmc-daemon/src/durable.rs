//! Persistence that never blocks the runtime's one thread.
//!
//! Every daemon runs a current-thread runtime, so an `fsync` inside a
//! handler would stall every other request, the bus and the timers. Writes
//! run on tokio's blocking pool instead, and the caller awaits them.
//!
//! What an acknowledgement means stays the same: a change is applied to
//! memory and answered only once it is durable. A [`DurableFile`] gives the
//! shape for state kept in one file replaced whole:
//!
//! ```no_run
//! # async fn f(file: &rbmc_daemon::durable::DurableFile) -> Result<(), ipmi_wire::CompletionCode> {
//! let mut change = file.begin().await; // one change to this file at a time
//! let staged = b"new contents".to_vec(); // a copy of the state, changed
//! change
//!     .write(staged)
//!     .await
//!     .map_err(|err| rbmc_daemon::durable::completion_code(&err))?;
//! // Durable: only now apply the change to the state in memory, and reply.
//! # Ok(()) }
//! ```
//! A failed write leaves the file as it was (see [`crate::write_atomic`])
//! and memory untouched, and the requester gets [`completion_code`].

use std::{
    io,
    path::{Path, PathBuf},
    sync::Arc,
};

use ipmi_wire::CompletionCode;
use tokio::sync::{Mutex, OwnedMutexGuard};

/// A file replaced whole by one change at a time.
#[derive(Clone, Debug)]
pub struct DurableFile {
    path: Arc<Path>,
    gate: Arc<Mutex<()>>,
}

impl DurableFile {
    /// The file at `path` (its directory is made on the first write).
    pub fn new(path: PathBuf) -> Self {
        Self {
            path: path.into(),
            gate: Arc::new(Mutex::new(())),
        }
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Waits for the changes begun before this one to finish, then holds
    /// the file until the returned [`Change`] is dropped. Staging the new
    /// contents from memory, writing them and applying them to memory all
    /// happen under it, so two changes can never interleave (the second
    /// would stage from memory without the first, and its write would undo
    /// the first on disk).
    pub async fn begin(&self) -> Change {
        Change {
            path: self.path.clone(),
            gate: Some(self.gate.clone().lock_owned().await),
        }
    }
}

/// One change under way (see [`DurableFile::begin`]).
#[derive(Debug)]
pub struct Change {
    path: Arc<Path>,
    /// Held by the blocking write while it runs, so that even if the caller
    /// gives up waiting, no other change starts before the write ends.
    gate: Option<OwnedMutexGuard<()>>,
}

impl Change {
    /// Replaces the file with `bytes` ([`crate::write_atomic`]: temporary
    /// file, fsync, rename, fsync of the directory) on the blocking pool,
    /// and waits for it.
    pub async fn write(&mut self, bytes: Vec<u8>) -> io::Result<()> {
        let Some(gate) = self.gate.take() else {
            return Err(io::Error::other("an earlier write of this change was lost"));
        };
        let path = self.path.clone();
        let (gate, result) = blocking(move || {
            let result = crate::write_atomic(&path, &bytes);
            Ok((gate, result))
        })
        .await?;
        self.gate = Some(gate);
        result
    }
}

/// Runs `work` on tokio's blocking pool and waits for it; a panic there
/// becomes an error.
pub async fn blocking<T, F>(work: F) -> io::Result<T>
where
    F: FnOnce() -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|err| io::Error::other(format!("the blocking task failed: {err}")))?
}

/// The completion code for a write that failed: C4h "out of space" for a
/// full disk or quota, FFh "unspecified" for anything else.
pub fn completion_code(err: &io::Error) -> CompletionCode {
    match err.kind() {
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => CompletionCode::OUT_OF_SPACE,
        _ => CompletionCode::UNSPECIFIED,
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;

    use super::*;

    fn dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("rbmc-durable-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn full_disk_is_out_of_space_anything_else_unspecified() {
        for (kind, code) in [
            (io::ErrorKind::StorageFull, 0xC4),
            (io::ErrorKind::QuotaExceeded, 0xC4),
            (io::ErrorKind::PermissionDenied, 0xFF),
            (io::ErrorKind::NotADirectory, 0xFF),
        ] {
            assert_eq!(completion_code(&io::Error::from(kind)).0, code, "{kind:?}");
        }
    }

    #[tokio::test]
    async fn writes_replace_the_file_and_failures_leave_it() {
        let dir = dir("write");
        let file = DurableFile::new(dir.join("state/x.toml"));
        let mut change = file.begin().await;
        change.write(b"one".to_vec()).await.unwrap();
        drop(change);
        assert_eq!(std::fs::read(file.path()).unwrap(), b"one");
        // A state directory that cannot be made: the write fails, the old
        // file stays.
        let blocked = DurableFile::new(file.path().join("not-a-dir/x.toml"));
        let err = blocked.begin().await.write(b"two".to_vec()).await;
        assert_eq!(
            completion_code(&err.unwrap_err()),
            CompletionCode::UNSPECIFIED
        );
        assert_eq!(std::fs::read(file.path()).unwrap(), b"one");
    }

    #[tokio::test]
    async fn changes_run_one_at_a_time() {
        let file = DurableFile::new(dir("gate").join("x"));
        let first = file.begin().await;
        let waiting = file.begin();
        tokio::pin!(waiting);
        assert!(
            poll_once(waiting.as_mut()).await.is_none(),
            "a second change waits for the first"
        );
        drop(first);
        let _second = waiting.await;
    }

    /// Polls `fut` once: `Some` if it was ready.
    async fn poll_once<F: Future + Unpin>(fut: F) -> Option<F::Output> {
        tokio::select! {
            biased;
            out = fut => Some(out),
            () = std::future::ready(()) => None,
        }
    }
}
