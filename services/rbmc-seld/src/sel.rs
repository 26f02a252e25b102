//! The SEL commands (IPMI v2.0 §31, Storage NetFn 0Ah) and Platform Event
//! Message (§29.3, Sensor/Event NetFn 04h), and the task that owns the SEL.
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
//! | 0Ah   | 28h | Get SDR Repository Time       | User      |
//! | 04h   | 02h | Platform Event Message        | Operator  |
//!
//! One task owns the [`SelState`] (STYLE items 24 and 52): the command
//! table and the D-Bus objects reach it through a [`Sel`] handle, a bounded
//! channel of commands each with a oneshot for the reply. The task runs one
//! command at a time; a change is written on the blocking pool (journal
//! append and fsync, or the settings file replaced whole), awaited, and
//! only then applied to memory and answered. So an acknowledged entry is on
//! disk, and a failed write changes nothing and is answered C4h (full disk)
//! or FFh.

use std::{
    path::{Path, PathBuf},
    time::SystemTime,
};

use ipmi_router::{HandlerResult, IpmiRequest};
use ipmi_wire::{CompletionCode, NetFn, Privilege};
use rbmc_config::SelFullPolicy;
use rbmc_daemon::durable;
use sel_journal::{Entries, Journal, Record};
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc, oneshot};
use tracing::{error, warn};

use crate::store::JournalFile;

/// SEL version 51h (IPMI v2.0 Table 31-2).
const SEL_VERSION: u8 = 0x51;
/// Record type of a system event record (§32.1).
pub const SYSTEM_EVENT: u8 = 0x02;
/// Event message format revision 04h (IPMI v2.0).
pub const EVM_REV: u8 = 0x04;
/// "UTC offset unspecified" (§31.11).
const UTC_UNSPECIFIED: i16 = 0x07FF;
/// Commands waiting for the SEL task at most; senders beyond wait their
/// turn (the bridges bound their own calls with a timeout).
const QUEUE: usize = 32;

/// Get SEL Info.
pub const CMD_GET_SEL_INFO: u8 = 0x40;
/// Get SEL Allocation Info.
pub const CMD_GET_SEL_ALLOCATION_INFO: u8 = 0x41;
/// Reserve SEL.
pub const CMD_RESERVE_SEL: u8 = 0x42;
/// Get SEL Entry.
pub const CMD_GET_SEL_ENTRY: u8 = 0x43;
/// Add SEL Entry.
pub const CMD_ADD_SEL_ENTRY: u8 = 0x44;
/// Delete SEL Entry.
pub const CMD_DELETE_SEL_ENTRY: u8 = 0x46;
/// Clear SEL.
pub const CMD_CLEAR_SEL: u8 = 0x47;
/// Get SEL Time.
pub const CMD_GET_SEL_TIME: u8 = 0x48;
/// Set SEL Time.
pub const CMD_SET_SEL_TIME: u8 = 0x49;
/// Get SEL Time UTC Offset.
pub const CMD_GET_SEL_TIME_UTC_OFFSET: u8 = 0x5C;
/// Set SEL Time UTC Offset.
pub const CMD_SET_SEL_TIME_UTC_OFFSET: u8 = 0x5D;
/// Platform Event Message (Sensor/Event NetFn).
pub const CMD_PLATFORM_EVENT: u8 = 0x02;
/// Get SDR Repository Time (§33.11): the SDR's timestamps come from the
/// same clock as the SEL's, which this daemon keeps (Set SEL Time moves
/// it), so it answers this one too.
pub const CMD_GET_SDR_REPOSITORY_TIME: u8 = 0x28;

/// Every command the SEL owns, with its minimum privilege (the table
/// above).
pub const COMMANDS: [(NetFn, u8, Privilege); 13] = {
    let (st, user, operator) = (NetFn::STORAGE, Privilege::User, Privilege::Operator);
    [
        (st, CMD_GET_SEL_INFO, user),
        (st, CMD_GET_SEL_ALLOCATION_INFO, user),
        (st, CMD_RESERVE_SEL, user),
        (st, CMD_GET_SEL_ENTRY, user),
        (st, CMD_ADD_SEL_ENTRY, operator),
        (st, CMD_DELETE_SEL_ENTRY, operator),
        (st, CMD_CLEAR_SEL, operator),
        (st, CMD_GET_SEL_TIME, user),
        (st, CMD_SET_SEL_TIME, operator),
        (st, CMD_GET_SEL_TIME_UTC_OFFSET, user),
        (st, CMD_SET_SEL_TIME_UTC_OFFSET, operator),
        (st, CMD_GET_SDR_REPOSITORY_TIME, user),
        (NetFn::SENSOR_EVENT, CMD_PLATFORM_EVENT, operator),
    ]
};

/// Settings kept beside the journal.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", default)]
struct Settings {
    /// SEL time minus system time, seconds (Set SEL Time).
    time_offset: i64,
    /// UTC offset in minutes, or 07FFh.
    utc_offset: Option<i16>,
    /// The last erase, from before the journal's clear entries recorded it;
    /// kept so an upgrade does not forget it.
    last_erase: u32,
}

/// The SEL, as the rest of the daemon reaches it: a handle to the task
/// that owns the [`SelState`].
#[derive(Clone, Debug)]
pub struct Sel {
    commands: mpsc::Sender<Command>,
    added: broadcast::Sender<Record>,
}

/// How many added records a slow follower of [`Sel::subscribe`] may fall
/// behind before it misses some (it is told how many).
const ADDED_BACKLOG: usize = 256;

/// What the SEL task is asked to do.
#[derive(Debug)]
enum Command {
    /// One of [`COMMANDS`].
    Ipmi(IpmiRequest, oneshot::Sender<HandlerResult>),
    /// Add a record (D-Bus logging), answering its ID.
    Add(Record, oneshot::Sender<Result<u16, CompletionCode>>),
    /// A copy of the live records.
    Records(oneshot::Sender<Vec<Record>>),
    /// Erase every record (D-Bus `Clear`).
    Clear(oneshot::Sender<Result<(), CompletionCode>>),
}

/// The SEL's state, owned by one task: the journal, the settings, the
/// reservation.
#[derive(Debug)]
pub struct SelState {
    journal: Journal,
    /// `None` only while a write runs on the blocking pool (or if one was
    /// lost: then every change is refused).
    file: Option<JournalFile>,
    capacity: usize,
    policy: SelFullPolicy,
    reservation: u16,
    settings: Settings,
    settings_path: PathBuf,
    last_add: u32,
    overflow: bool,
    /// Each record once it is durable, for [`Sel::subscribe`].
    added: Option<broadcast::Sender<Record>>,
}

impl Sel {
    /// Starts the task that owns `state`.
    pub fn spawn(mut state: SelState) -> Self {
        let (commands, inbox) = mpsc::channel(QUEUE);
        let (added, _) = broadcast::channel(ADDED_BACKLOG);
        state.added = Some(added.clone());
        tokio::spawn(state.serve(inbox));
        Self { commands, added }
    }

    /// Every record added from now on, as it is stored, once it is
    /// durable (by any path: IPMI, a platform event, D-Bus logging).
    pub fn subscribe(&self) -> broadcast::Receiver<Record> {
        self.added.subscribe()
    }

    /// Runs one of [`COMMANDS`] (privilege already checked by the table).
    pub async fn execute(&self, request: IpmiRequest) -> HandlerResult {
        self.ask(|reply| Command::Ipmi(request, reply))
            .await
            .unwrap_or(Err(CompletionCode::UNSPECIFIED))
    }

    /// Adds a record, time-stamped if its type carries a time; its ID once
    /// it is durable.
    pub async fn add(&self, record: Record) -> Result<u16, CompletionCode> {
        self.ask(|reply| Command::Add(record, reply))
            .await
            .unwrap_or(Err(CompletionCode::UNSPECIFIED))
    }

    /// The live records in ID order.
    pub async fn records(&self) -> Vec<Record> {
        self.ask(Command::Records).await.unwrap_or_default()
    }

    /// Erases every record, as Clear SEL does; answers once the erase is
    /// durable.
    pub async fn clear(&self) -> Result<(), CompletionCode> {
        self.ask(Command::Clear)
            .await
            .unwrap_or(Err(CompletionCode::UNSPECIFIED))
    }

    /// Sends a command and waits for its reply; `None` if the task is gone.
    async fn ask<T>(&self, command: impl FnOnce(oneshot::Sender<T>) -> Command) -> Option<T> {
        let (reply, answer) = oneshot::channel();
        if self.commands.send(command(reply)).await.is_err() {
            error!("the SEL task is gone");
            return None;
        }
        answer.await.ok()
    }
}

impl SelState {
    /// Opens the SEL in `state_dir`, recovering from a torn write. Blocks:
    /// called once, before the daemon serves.
    pub fn open(state_dir: &Path, config: &rbmc_config::Sel) -> std::io::Result<Self> {
        let (file, journal, recovery) = JournalFile::open(&state_dir.join("sel.journal"))?;
        if recovery.discarded_bytes > 0 {
            warn!(
                bytes = recovery.discarded_bytes,
                kept = journal.records().len(),
                "SEL journal had a torn or corrupt tail: cut it, kept the good prefix"
            );
        }
        let settings_path = state_dir.join("sel-settings.toml");
        let settings = std::fs::read_to_string(&settings_path)
            .ok()
            .and_then(|t| toml::from_str(&t).ok())
            .unwrap_or_default();
        Ok(Self {
            journal,
            file: Some(file),
            capacity: usize::from(config.capacity.max(1)),
            policy: config.full_policy,
            reservation: 0,
            settings,
            settings_path,
            last_add: 0,
            overflow: false,
            added: None,
        })
    }

    /// Answers commands, one at a time, until every [`Sel`] is dropped.
    async fn serve(mut self, mut inbox: mpsc::Receiver<Command>) {
        while let Some(command) = inbox.recv().await {
            // A requester that gave up no longer wants the answer; the
            // change itself is done (or refused) all the same.
            match command {
                Command::Ipmi(request, reply) => {
                    let _ = reply.send(self.execute(&request).await);
                }
                Command::Add(record, reply) => {
                    let _ = reply.send(self.add(record).await);
                }
                Command::Records(reply) => {
                    let _ = reply.send(self.journal.records().values().copied().collect());
                }
                Command::Clear(reply) => {
                    let _ = reply.send(self.clear().await);
                }
            }
        }
    }

    /// Runs one of [`COMMANDS`].
    pub async fn execute(&mut self, request: &IpmiRequest) -> HandlerResult {
        if request.netfn == NetFn::SENSOR_EVENT && request.cmd == CMD_PLATFORM_EVENT {
            return self.cmd_platform_event(request).await;
        }
        if request.netfn != NetFn::STORAGE {
            return Err(CompletionCode::INVALID_COMMAND);
        }
        let data = &request.data;
        match request.cmd {
            CMD_GET_SEL_INFO => self.cmd_info(data),
            CMD_GET_SEL_ALLOCATION_INFO => self.cmd_allocation_info(data),
            CMD_RESERVE_SEL => self.cmd_reserve(data),
            CMD_GET_SEL_ENTRY => self.cmd_get_entry(data),
            CMD_ADD_SEL_ENTRY => self.cmd_add_entry(data).await,
            CMD_DELETE_SEL_ENTRY => self.cmd_delete_entry(data).await,
            CMD_CLEAR_SEL => self.cmd_clear(data).await,
            CMD_GET_SEL_TIME | CMD_GET_SDR_REPOSITORY_TIME => self.cmd_get_time(data),
            CMD_SET_SEL_TIME => self.cmd_set_time(data).await,
            CMD_GET_SEL_TIME_UTC_OFFSET => self.cmd_get_utc_offset(data),
            CMD_SET_SEL_TIME_UTC_OFFSET => self.cmd_set_utc_offset(data).await,
            _ => Err(CompletionCode::INVALID_COMMAND),
        }
    }

    /// Appends `entries` and makes them durable off the runtime's thread;
    /// only then applies them. On failure nothing changes.
    async fn commit(&mut self, entries: Entries) -> Result<(), CompletionCode> {
        let Some(mut file) = self.file.take() else {
            warn!("SEL journal unavailable; change refused");
            return Err(CompletionCode::UNSPECIFIED);
        };
        let bytes = entries.bytes().to_vec();
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
            warn!(cause = %err, "SEL journal write failed; change refused");
            return Err(durable::completion_code(&err));
        }
        self.journal.apply(&entries).map_err(|err| {
            // Cannot happen: this task builds and applies every change in
            // turn. The entries are on disk; a restart recovers them.
            error!(cause = %err, "SEL journal and memory disagree");
            CompletionCode::UNSPECIFIED
        })
    }

    /// Rewrites the journal with only the live records; a failure only
    /// leaves the journal longer.
    async fn compact(&mut self) {
        let Some(mut file) = self.file.take() else {
            return;
        };
        let compacted = self.journal.compact();
        let bytes = compacted.bytes;
        let replaced = durable::blocking(move || {
            let replaced = file.replace(&bytes);
            Ok((file, replaced))
        })
        .await
        .and_then(|(file, replaced)| {
            self.file = Some(file);
            replaced
        });
        match replaced {
            Ok(()) => self.journal = compacted.journal,
            Err(err) => {
                warn!(cause = %err, "SEL compaction failed; the journal stays as it is");
            }
        }
    }

    /// Writes `settings` whole, off the runtime's thread; only then makes
    /// them the settings in force.
    async fn save_settings(&mut self, settings: Settings) -> Result<(), CompletionCode> {
        let text = toml::to_string(&settings).map_err(|_| CompletionCode::UNSPECIFIED)?;
        let path = self.settings_path.clone();
        durable::blocking(move || rbmc_daemon::write_atomic(&path, text.as_bytes()))
            .await
            .map_err(|err| {
                warn!(cause = %err, "cannot persist SEL settings; change refused");
                durable::completion_code(&err)
            })?;
        self.settings = settings;
        Ok(())
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
        self.journal.records().iter()
    }

    /// The last erase: the journal's, or the settings' from before the
    /// journal kept it.
    fn last_erase(&self) -> u32 {
        self.journal
            .last_erase()
            .unwrap_or(self.settings.last_erase)
    }

    /// Adds a record, time-stamping it when its type carries a timestamp;
    /// applies the full policy. Returns the record ID once it is durable.
    pub async fn add(&mut self, mut record: Record) -> Result<u16, CompletionCode> {
        let full = self.journal.records().len() >= self.capacity;
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
        let mut batch = self.journal.batch();
        let id = batch.add(record).map_err(|err| {
            warn!(cause = %err, "SEL entry refused");
            CompletionCode::OUT_OF_SPACE
        })?;
        // Wrap: the oldest record goes in the same write as the new one, so
        // a failed add loses nothing.
        if full {
            if let Some(oldest) = self.journal.records().keys().next().copied() {
                batch.delete(oldest);
            }
        }
        self.commit(batch.finish()).await?;
        self.last_add = self.now();
        if let (Some(added), Some(stored)) = (&self.added, self.journal.records().get(&id)) {
            // No follower is not an error.
            let _ = added.send(*stored);
        }
        if self.journal.wants_compaction() {
            self.compact().await;
        }
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
        let records = self.journal.records();
        match id {
            0x0000 => records.keys().next().copied(),
            0xFFFF => records.keys().next_back().copied(),
            id => records.contains_key(&id).then_some(id),
        }
    }

    /// Get SEL Info (§31.2, Table 31-2).
    pub fn cmd_info(&self, data: &[u8]) -> HandlerResult {
        no_data(data)?;
        let entries = u16::try_from(self.journal.records().len()).unwrap_or(u16::MAX);
        let free_records = self.capacity.saturating_sub(self.journal.records().len());
        let free = u16::try_from(free_records * 16).unwrap_or(0xFFFE);
        let mut out = vec![SEL_VERSION];
        out.extend_from_slice(&entries.to_le_bytes());
        out.extend_from_slice(&free.to_le_bytes());
        out.extend_from_slice(&self.last_add.to_le_bytes());
        out.extend_from_slice(&self.last_erase().to_le_bytes());
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
            u16::try_from(self.capacity.saturating_sub(self.journal.records().len())).unwrap_or(0);
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
        let record = self.journal.records()[&id];
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
            .journal
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
    pub async fn cmd_add_entry(&mut self, data: &[u8]) -> HandlerResult {
        let record: Record = data
            .try_into()
            .map_err(|_| CompletionCode::REQUEST_DATA_LENGTH_INVALID)?;
        Ok(self.add(record).await?.to_le_bytes().to_vec())
    }

    /// Delete SEL Entry (§31.8): `reservation (2), record ID (2)`.
    pub async fn cmd_delete_entry(&mut self, data: &[u8]) -> HandlerResult {
        let [r0, r1, id0, id1] = *data else {
            return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
        };
        self.check_reservation(r0, r1)?;
        let id = self
            .resolve(u16::from_le_bytes([id0, id1]))
            .ok_or(CompletionCode::NOT_PRESENT)?;
        let mut batch = self.journal.batch();
        batch.delete(id);
        self.commit(batch.finish()).await?;
        self.reservation = 0;
        if self.journal.wants_compaction() {
            self.compact().await;
        }
        Ok(id.to_le_bytes().to_vec())
    }

    /// Clear SEL (§31.9): `reservation (2), 'C' 'L' 'R', AAh initiate | 00h
    /// get status`; erasure is immediate, so the status is always
    /// "completed" (01h). The erase time is written with the clear.
    pub async fn cmd_clear(&mut self, data: &[u8]) -> HandlerResult {
        let [r0, r1, b'C', b'L', b'R', action] = *data else {
            return Err(if data.len() == 6 {
                CompletionCode::INVALID_DATA_FIELD
            } else {
                CompletionCode::REQUEST_DATA_LENGTH_INVALID
            });
        };
        self.check_reservation(r0, r1)?;
        match action {
            0xAA => self.clear().await?,
            0x00 => {}
            _ => return Err(CompletionCode::INVALID_DATA_FIELD),
        }
        Ok(vec![0x01])
    }

    /// Erases every record, writing the erase time with the clear.
    async fn clear(&mut self) -> Result<(), CompletionCode> {
        let mut batch = self.journal.batch();
        batch.clear(self.now());
        self.commit(batch.finish()).await?;
        self.overflow = false;
        self.reservation = 0;
        self.compact().await;
        Ok(())
    }

    /// Get SEL Time (§31.10).
    pub fn cmd_get_time(&self, data: &[u8]) -> HandlerResult {
        no_data(data)?;
        Ok(self.now().to_le_bytes().to_vec())
    }

    /// Set SEL Time (§31.11): moves the SEL's clock, not the system's.
    pub async fn cmd_set_time(&mut self, data: &[u8]) -> HandlerResult {
        let time: [u8; 4] = data
            .try_into()
            .map_err(|_| CompletionCode::REQUEST_DATA_LENGTH_INVALID)?;
        let wanted = i64::from(u32::from_le_bytes(time));
        let current = i64::from(self.now()) - self.settings.time_offset;
        let mut settings = self.settings.clone();
        settings.time_offset = wanted - current;
        self.save_settings(settings).await?;
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
    pub async fn cmd_set_utc_offset(&mut self, data: &[u8]) -> HandlerResult {
        let [lo, hi] = *data else {
            return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
        };
        let offset = i16::from_le_bytes([lo, hi]);
        if offset != UTC_UNSPECIFIED && !(-1440..=1440).contains(&offset) {
            return Err(CompletionCode::PARAMETER_OUT_OF_RANGE);
        }
        let mut settings = self.settings.clone();
        settings.utc_offset = (offset != UTC_UNSPECIFIED).then_some(offset);
        self.save_settings(settings).await?;
        Ok(Vec::new())
    }

    /// Platform Event Message (§29.3, Table 29-5): from the system
    /// interface the first byte is the generator's software ID; otherwise
    /// the requester is a remote console (software ID 81h) on the channel.
    pub async fn cmd_platform_event(&mut self, request: &IpmiRequest) -> HandlerResult {
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
        self.add(record).await?;
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

#[cfg(test)]
mod tests;
