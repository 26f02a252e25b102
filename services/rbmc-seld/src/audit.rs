//! The audit trail: `org.rbmc.Audit` at `/org/rbmc/Audit` (the contract
//! and its client are [`rbmc_contracts::audit`]).
//!
//! One task owns the [`AuditState`] (STYLE items 24 and 52): the D-Bus
//! object reaches it through an [`Audit`] handle, a bounded channel of
//! commands each with a oneshot for the reply. A record is stamped with the
//! system clock, appended to `audit.log` in the state directory and fsynced
//! on the blocking pool, and only then kept in memory and acknowledged: an
//! acknowledged record survives a crash. Records that arrive while a write
//! runs wait in the channel and are written together by the next one, in
//! one fsync.
//!
//! Once durable, each record is also a tracing event (target
//! [`TRACING_TARGET`], info) and, best effort, an entry in the systemd
//! journal ([`journald`]).
//!
//! Errors: [`CommonError::InvalidArgument`] for a field over 256 bytes or
//! holding a control character; [`CommonError::InternalFailure`] for a
//! record that cannot be stored, whatever the cause (a full disk included:
//! the contract names only these two, and its message says which).

mod file;
pub mod journald;

use std::{path::Path, time::SystemTime};

use audit_journal::{Fields, Journal, Pending, Record};
use rbmc_contracts::CommonError;
use rbmc_daemon::durable;
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, error, info, warn};

use self::{file::AuditFile, journald::Journald};

/// The audit log's file name in the state directory.
pub const FILE_NAME: &str = "audit.log";
/// The tracing target of the event each record becomes.
pub const TRACING_TARGET: &str = "rbmc_audit";
/// Commands waiting for the audit task at most; senders beyond wait their
/// turn. Also the most records one write carries.
const QUEUE: usize = 64;

/// The audit trail, as the rest of the daemon reaches it: a handle to the
/// task that owns the [`AuditState`].
#[derive(Clone, Debug)]
pub struct Audit {
    commands: mpsc::Sender<Command>,
}

/// What the audit task is asked to do.
#[derive(Debug)]
enum Command {
    /// Append a record, answering its sequence number once it is durable.
    Record(Fields, oneshot::Sender<Result<u64, CommonError>>),
    /// Every record kept, as JSON lines.
    Export(oneshot::Sender<String>),
}

/// The audit trail's state, owned by one task.
#[derive(Debug)]
pub struct AuditState {
    journal: Journal,
    /// `None` only while a write runs on the blocking pool (or if one was
    /// lost: then every record is refused).
    file: Option<AuditFile>,
    journald: Journald,
    /// Appends made (each one fsync), for the debug log and the tests.
    writes: u64,
}

/// `org.rbmc.Audit`.
pub struct AuditObject {
    /// The audit trail.
    pub audit: Audit,
}

impl Audit {
    /// Starts the task that owns `state`.
    pub fn spawn(state: AuditState) -> Self {
        let (commands, inbox) = mpsc::channel(QUEUE);
        tokio::spawn(state.serve(inbox));
        Self { commands }
    }

    /// Appends a record; its sequence number once it is durable.
    pub async fn record(&self, fields: Fields) -> Result<u64, CommonError> {
        // Refuse a bad record before it queues behind good ones.
        fields
            .check()
            .map_err(|err| CommonError::InvalidArgument(err.to_string()))?;
        self.ask(|reply| Command::Record(fields, reply))
            .await
            .unwrap_or_else(|| Err(gone()))
    }

    /// Every record kept, oldest first, as JSON lines.
    pub async fn export_json_lines(&self) -> Result<String, CommonError> {
        self.ask(Command::Export).await.ok_or_else(gone)
    }

    /// Sends a command and waits for its reply; `None` if the task is gone.
    async fn ask<T>(&self, command: impl FnOnce(oneshot::Sender<T>) -> Command) -> Option<T> {
        let (reply, answer) = oneshot::channel();
        if self.commands.send(command(reply)).await.is_err() {
            error!("the audit task is gone");
            return None;
        }
        answer.await.ok()
    }
}

fn gone() -> CommonError {
    CommonError::InternalFailure("the audit trail is not running".into())
}

impl AuditState {
    /// Opens the audit log in `state_dir`, keeping at most `capacity`
    /// records and recovering from a torn write; records go to the journal
    /// at `journal_socket` too. Blocks: called once, before the daemon
    /// serves.
    pub fn open(state_dir: &Path, capacity: usize, journal_socket: &Path) -> std::io::Result<Self> {
        let (file, journal, recovery) = AuditFile::open(&state_dir.join(FILE_NAME), capacity)?;
        if recovery.discarded_bytes > 0 {
            warn!(
                bytes = recovery.discarded_bytes,
                kept = recovery.records,
                "audit log had a torn or corrupt tail: cut it, kept the good prefix"
            );
        }
        Ok(Self {
            journal,
            file: Some(file),
            journald: Journald::new(journal_socket),
            writes: 0,
        })
    }

    /// The records kept, oldest first.
    pub fn records(&self) -> impl Iterator<Item = &Record> {
        self.journal.records().iter()
    }

    /// Answers commands until every [`Audit`] is dropped, then returns the
    /// state. Records that queued while a write ran are written together.
    async fn serve(mut self, mut inbox: mpsc::Receiver<Command>) -> Self {
        while let Some(first) = inbox.recv().await {
            let mut records = Vec::new();
            let mut next = Some(first);
            while let Some(command) = next.take() {
                match command {
                    Command::Record(fields, reply) => records.push((fields, reply)),
                    // Before the records of this batch: none of them is
                    // acknowledged yet.
                    Command::Export(reply) => {
                        let _ = reply.send(self.journal.export_json_lines());
                    }
                }
                if records.len() < QUEUE {
                    next = inbox.try_recv().ok();
                }
            }
            if !records.is_empty() {
                self.record(records).await;
            }
        }
        self
    }

    /// Writes `records` in one append and fsync and answers each: its
    /// sequence number once durable, or why not. A requester that gave up
    /// no longer wants the answer; the record is kept all the same.
    async fn record(&mut self, records: Vec<(Fields, oneshot::Sender<Result<u64, CommonError>>)>) {
        let now = now_ms();
        let mut batch = self.journal.batch();
        let mut waiting = Vec::new();
        for (fields, reply) in records {
            match batch.push(fields, now) {
                Ok(sequence) => waiting.push((sequence, reply)),
                Err(err) => {
                    let _ = reply.send(Err(CommonError::InvalidArgument(err.to_string())));
                }
            }
        }
        if batch.is_empty() {
            return;
        }
        let pending = batch.finish();
        if let Err(err) = self.commit(pending).await {
            for (_, reply) in waiting {
                let _ = reply.send(Err(err.clone()));
            }
            return;
        }
        for (sequence, reply) in waiting {
            let _ = reply.send(Ok(sequence));
        }
        if self.journal.wants_compaction() {
            self.compact().await;
        }
    }

    /// Appends `pending` and makes it durable off the runtime's thread;
    /// only then keeps and announces its records. On failure nothing
    /// changes.
    async fn commit(&mut self, pending: Pending) -> Result<(), CommonError> {
        let Some(mut file) = self.file.take() else {
            warn!("audit log unavailable; records refused");
            return Err(CommonError::InternalFailure(
                "the audit log is unavailable".into(),
            ));
        };
        let bytes = pending.bytes().to_vec();
        let written = durable::blocking(move || {
            let written = file.append(&bytes);
            Ok((file, written))
        })
        .await
        .and_then(|(file, written)| {
            self.file = Some(file);
            written
        });
        if let Err(err) = written {
            warn!(cause = %err, "audit log write failed; records refused");
            return Err(CommonError::InternalFailure(format!(
                "the audit record could not be stored: {err}"
            )));
        }
        self.writes += 1;
        debug!(
            records = pending.records().len(),
            writes = self.writes,
            "audit records durable"
        );
        for record in pending.records() {
            announce(record);
            self.journald.send(record);
        }
        self.journal.apply(pending).map_err(|err| {
            // Cannot happen: this task builds and applies every batch in
            // turn. The records are on disk; a restart recovers them.
            error!(cause = %err, "audit log and memory disagree");
            CommonError::InternalFailure("the audit log and memory disagree".into())
        })
    }

    /// Rewrites the log with only the records kept; a failure only leaves
    /// the file longer.
    async fn compact(&mut self) {
        let Some(mut file) = self.file.take() else {
            return;
        };
        let compacted = self.journal.compact();
        let bytes = compacted.bytes.clone();
        let replaced = durable::blocking(move || {
            let replaced = file.replace(&bytes);
            Ok((file, replaced))
        })
        .await
        .and_then(|(file, replaced)| {
            self.file = Some(file);
            replaced
        });
        match replaced.map(|()| self.journal.adopt(&compacted)) {
            Ok(Ok(())) => {}
            Ok(Err(err)) => error!(cause = %err, "audit compaction out of step"),
            Err(err) => warn!(cause = %err, "audit compaction failed; the log stays as it is"),
        }
    }
}

/// The record as a tracing event: on the BMC, the daemon's stderr is the
/// journal.
fn announce(record: &Record) {
    let f = &record.fields;
    info!(
        target: TRACING_TARGET,
        sequence = record.sequence,
        source = %f.source,
        user = %f.user,
        address = %f.address,
        channel = f.channel,
        action = %f.action,
        result = %f.result,
        "audit record"
    );
}

/// The system clock in milliseconds since the Unix epoch (0 before it).
fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

#[zbus::interface(name = "org.rbmc.Audit")]
impl AuditObject {
    /// Appends one record; its sequence number once it is durable.
    async fn record(
        &self,
        source: String,
        user: String,
        address: String,
        channel: u8,
        action: String,
        result: String,
    ) -> Result<u64, CommonError> {
        let fields = Fields {
            source,
            user,
            address,
            channel,
            action,
            result,
        };
        self.audit.record(fields).await
    }

    /// Every record kept, oldest first, one JSON object per line.
    async fn export_json_lines(&self) -> Result<String, CommonError> {
        self.audit.export_json_lines().await
    }
}

#[cfg(test)]
mod tests;
