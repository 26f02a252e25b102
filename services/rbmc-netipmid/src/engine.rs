//! The task that owns the RMCP+ endpoint, and with it the accounts.
//!
//! One task, [`Engine::run`], holds the sans-IO [`Endpoint`]: it feeds it
//! datagrams from the socket, answers from request tasks and timer
//! expiries, then sends what [`Endpoint::poll_transmit`] hands back, acts
//! on each [`Event`] and sleeps until [`Endpoint::poll_timeout`]. Nothing
//! else touches the endpoint: request tasks, the command table's handlers
//! and the SOL console reach it through an [`EngineHandle`], a channel of
//! typed commands each with a oneshot for the reply.
//!
//! Changes to the accounts run on a copy. A change that touches what is
//! persisted is saved on a blocking thread while the engine goes on
//! serving; the copy replaces the accounts, and the requester hears
//! success, only once the store holds it. A failed save leaves memory and
//! disk as they were. Further changes wait their turn, so saves land in
//! order.

use std::{collections::BTreeMap, collections::VecDeque, future::Future, sync::Arc};

use ipmi_lan::{
    sol::HostState, AuthAnswer, CloseReason, Endpoint, Event, PendingRequest, RequestContext,
};
use ipmi_router::{
    audit::{changes_state, AuditRecord, Auditor},
    owner::CommandTable,
    Context, HandlerResult, IpmiRequest, Router,
};
use ipmi_wire::{Answer, CompletionCode};
use std::pin::Pin;
use tokio::{
    net::UdpSocket,
    sync::{mpsc, oneshot, watch, Semaphore},
    task::JoinHandle,
    time::{Duration, Instant},
};
use tracing::{debug, error, info, warn};

use crate::{
    accounts::Accounts,
    login::{login_record, Authenticates},
    login_log::{self, Line, LoginLog},
    store::{Store, StoreError},
};

/// Requests waiting on owners at once; more get 0xC0 immediately.
pub const MAX_IN_FLIGHT: usize = 64;
/// Commands that may wait for the engine.
const MAILBOX: usize = 256;
/// How often, at most, dropped datagrams are summarized in the log.
const DROP_REPORT: Duration = Duration::from_secs(10);

/// Where requests go to be executed: the router to the owners (with this
/// daemon's table as its local commands), or in tests a stand-in.
pub trait Routes: Send + Sync + 'static {
    /// Executes `request` wherever it is owned: its answer, with any data
    /// that comes with a completion code other than success.
    fn route(&self, request: IpmiRequest) -> Pin<Box<dyn Future<Output = Answer> + Send>>;
}

impl Routes for Router {
    fn route(&self, request: IpmiRequest) -> Pin<Box<dyn Future<Output = Answer> + Send>> {
        let router = self.clone();
        Box::pin(async move { router.route_answer(request).await })
    }
}

/// A command run inside the engine on the endpoint.
pub type SessionCommand = Box<dyn FnOnce(&mut Endpoint<Accounts>) -> HandlerResult + Send>;

/// A change to the accounts, run on a copy; it may read the facts.
pub type AccountsChange = Box<dyn FnOnce(&mut Accounts, &Facts) -> HandlerResult + Send>;

/// Commands other owners serve that arrive outside a session: PET
/// Acknowledge (Sensor/Event 17h), which a trap receiver sends as a
/// sessionless IPMI v1.5 message (PET 1.0, FreeIPMI's `ipmi-pet
/// --pet-acknowledge`). It reaches rbmc-pefd with Callback privilege, and
/// only stops the retries of an alert it names exactly.
pub const ROUTED_PRE_SESSION: [(ipmi_wire::NetFn, u8); 1] =
    [(ipmi_wire::NetFn::SENSOR_EVENT, 0x17)];

/// What an accounts command may need to know about the sessions.
#[derive(Clone, Copy, Debug)]
pub struct Facts {
    /// Active sessions on the LAN channel.
    pub active_sessions: usize,
}

/// What the engine hands the SOL console task.
#[derive(Debug)]
pub enum ToHost {
    /// Characters the remote console typed.
    Characters(Vec<u8>),
    /// A serial break was asked for: sent on a tty, logged on a socket.
    Break,
}

/// What the engine asks of the daemon's own command table directly.
pub trait LocalCommands: Send + Sync + 'static {
    /// Whether the command is answered outside a session.
    fn answers_pre_session(&self, netfn: ipmi_wire::NetFn, cmd: u8) -> bool;
    /// Runs the command at once if its handler does not wait.
    fn execute_now(&self, request: &IpmiRequest) -> Option<HandlerResult>;
}

impl<S: Send + Sync + 'static> LocalCommands for CommandTable<S> {
    fn answers_pre_session(&self, netfn: ipmi_wire::NetFn, cmd: u8) -> bool {
        CommandTable::answers_pre_session(self, netfn, cmd)
    }

    fn execute_now(&self, request: &IpmiRequest) -> Option<HandlerResult> {
        CommandTable::execute_now(self, request)
    }
}

/// What SOL looks like to the console task.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct SolStatus {
    /// A SOL payload is active.
    pub active: bool,
    /// Host characters SOL can take now.
    pub room: usize,
}

/// The commands the engine takes.
pub enum EngineCommand {
    /// The answer to a request the engine handed out.
    Respond {
        /// The request.
        pending: PendingRequest,
        /// Its answer.
        result: Answer,
    },
    /// Run a command on the endpoint (sessions, SOL payloads).
    Session {
        /// The command.
        command: SessionCommand,
        /// Where its result goes.
        reply: oneshot::Sender<HandlerResult>,
    },
    /// Change (or read) the accounts, durably.
    Accounts {
        /// The change.
        change: AccountsChange,
        /// Where its result goes, once durable.
        reply: oneshot::Sender<HandlerResult>,
    },
    /// Characters from the host console for SOL; the reply is the room
    /// left.
    SolOutput {
        /// The characters.
        bytes: Vec<u8>,
        /// Room left afterwards.
        reply: oneshot::Sender<usize>,
    },
    /// Whether the console task holds a connection to the host console.
    ConsoleConnected(bool),
    /// rbmc-userd's answer to a login's question.
    Authenticated {
        /// The handshake's session ID.
        session_id: u32,
        /// The answer.
        answer: AuthAnswer,
    },
    /// End every session of this user (rbmc-userd revoked it).
    RevokeUser(u8),
}

/// The way into the engine, for handlers and tasks.
#[derive(Clone, Debug)]
pub struct EngineHandle(mpsc::Sender<EngineCommand>);

impl EngineHandle {
    /// A handle and the mailbox the engine reads.
    pub fn channel() -> (Self, mpsc::Receiver<EngineCommand>) {
        let (tx, rx) = mpsc::channel(MAILBOX);
        (Self(tx), rx)
    }

    /// Runs `command` on the endpoint. A stopped engine answers 0xC0
    /// (node busy: the daemon is going down or restarting).
    pub async fn session(&self, command: SessionCommand) -> HandlerResult {
        let (reply, answer) = oneshot::channel();
        self.send(EngineCommand::Session { command, reply }).await;
        answer.await.unwrap_or(Err(CompletionCode::NODE_BUSY))
    }

    /// Runs `change` on the accounts and answers once it is durable.
    pub async fn accounts(&self, change: AccountsChange) -> HandlerResult {
        let (reply, answer) = oneshot::channel();
        self.send(EngineCommand::Accounts { change, reply }).await;
        answer.await.unwrap_or(Err(CompletionCode::NODE_BUSY))
    }

    /// Hands host console output to SOL; returns the room left (0 when
    /// the engine is gone).
    pub async fn sol_output(&self, bytes: Vec<u8>) -> usize {
        let (reply, answer) = oneshot::channel();
        self.send(EngineCommand::SolOutput { bytes, reply }).await;
        answer.await.unwrap_or(0)
    }

    /// Says whether the host console is connected.
    pub async fn console_connected(&self, connected: bool) {
        self.send(EngineCommand::ConsoleConnected(connected)).await;
    }

    /// Ends every session of user `user_id`.
    pub async fn revoke_user(&self, user_id: u8) {
        self.send(EngineCommand::RevokeUser(user_id)).await;
    }

    async fn respond(&self, pending: PendingRequest, result: impl Into<Answer>) {
        let result = result.into();
        self.send(EngineCommand::Respond { pending, result }).await;
    }

    async fn send(&self, command: EngineCommand) {
        // A send fails only once the engine has stopped; the oneshot then
        // fails too and the caller sees "node busy".
        let _ = self.0.send(command).await;
    }
}

/// A save in flight and what waits on it.
struct Saving {
    staged: Accounts,
    result: HandlerResult,
    reply: oneshot::Sender<HandlerResult>,
    task: JoinHandle<Result<(), StoreError>>,
}

/// What the engine needs besides the endpoint.
pub struct EngineParts {
    /// The RMCP+ socket.
    pub socket: Arc<UdpSocket>,
    /// Where accounts are persisted.
    pub store: Arc<Store>,
    /// The router to the owners (with this daemon's table as local).
    pub router: Arc<dyn Routes>,
    /// This daemon's command table (what it answers before a session, and
    /// at once).
    pub table: Arc<dyn LocalCommands>,
    /// A handle for request tasks to answer through.
    pub handle: EngineHandle,
    /// The mailbox.
    pub mailbox: mpsc::Receiver<EngineCommand>,
    /// Keystrokes for the console task.
    pub to_host: mpsc::Sender<ToHost>,
    /// SOL's state, for the console task.
    pub sol_status: watch::Sender<SolStatus>,
    /// `[network]`: which sources may reach the bridge (`allow`).
    pub network: rbmc_config::Network,
    /// Where a login's questions go (rbmc-userd).
    pub accounts_owner: Arc<dyn Authenticates>,
    /// The audit trail: logins and state-changing commands.
    pub auditor: Auditor,
}

/// The task owning the endpoint.
pub struct Engine {
    endpoint: Endpoint<Accounts>,
    parts: EngineParts,
    in_flight: Arc<Semaphore>,
    console_connected: bool,
    changes: VecDeque<(AccountsChange, oneshot::Sender<HandlerResult>)>,
    saving: Option<Saving>,
    drops: BTreeMap<&'static str, u64>,
    next_drop_report: Option<Instant>,
    logins: LoginLog,
}

impl Engine {
    /// An engine over `endpoint`.
    pub fn new(endpoint: Endpoint<Accounts>, parts: EngineParts) -> Self {
        Self {
            endpoint,
            parts,
            in_flight: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
            console_connected: false,
            changes: VecDeque::new(),
            saving: None,
            drops: BTreeMap::new(),
            next_drop_report: None,
            logins: LoginLog::default(),
        }
    }

    /// Serves until `stop` resolves.
    pub async fn run(mut self, stop: impl Future<Output = ()>) {
        tokio::pin!(stop);
        let mut buf = vec![0u8; 2048];
        loop {
            let wake = [
                self.endpoint.poll_timeout().map(Instant::from_std),
                self.next_drop_report,
                self.logins.summary_due(),
            ]
            .into_iter()
            .flatten()
            .min();
            let socket = self.parts.socket.clone();
            tokio::select! {
                () = &mut stop => break,
                received = socket.recv_from(&mut buf) => match received {
                    Ok((len, peer)) => self.on_datagram(&buf[..len], peer),
                    Err(err) => warn!(cause = %err, "UDP receive failed"),
                },
                Some(command) = self.parts.mailbox.recv() => self.on_command(command),
                saved = wait_for_save(&mut self.saving) => self.on_saved(saved),
                () = sleep_until(wake) => self.on_timeout(),
            }
            self.start_next_change();
            self.flush().await;
        }
        info!("RMCP+ engine stopped");
    }

    fn on_datagram(&mut self, datagram: &[u8], peer: std::net::SocketAddr) {
        // Sources outside `[network] allow` cost nothing but a count (and
        // the rate-limited summary in the log).
        if !self.parts.network.allows(peer.ip()) {
            self.count_drop("not-allowed");
            return;
        }
        // SOL keystrokes the host console cannot take now are NACKed.
        let host = if !self.console_connected {
            HostState::Unavailable
        } else if self.parts.to_host.capacity() == 0 {
            HostState::Busy
        } else {
            HostState::Ready
        };
        self.endpoint.set_sol_host(host);
        if let Err(reason) = self.endpoint.handle(now(), peer, datagram) {
            debug!(%peer, %reason, "dropped datagram");
            self.count_drop(reason.kind());
        }
    }

    /// Counts a dropped datagram for the next summary in the log (at most
    /// one every [`DROP_REPORT`]).
    fn count_drop(&mut self, kind: &'static str) {
        *self.drops.entry(kind).or_default() += 1;
        self.next_drop_report
            .get_or_insert_with(|| Instant::now() + DROP_REPORT);
    }

    fn on_timeout(&mut self) {
        self.endpoint.handle_timeout(now());
        if self.next_drop_report.is_some_and(|at| at <= Instant::now()) {
            warn!(drops = ?self.drops, "dropped datagrams in the last interval");
            self.drops.clear();
            self.next_drop_report = None;
        }
        login_log::write_summary(&self.logins.take_summary(Instant::now()));
    }

    fn on_command(&mut self, command: EngineCommand) {
        match command {
            EngineCommand::Respond { pending, result } => {
                self.endpoint.respond(now(), &pending, result)
            }
            EngineCommand::Session { command, reply } => {
                let _ = reply.send(command(&mut self.endpoint));
            }
            EngineCommand::Accounts { change, reply } => self.changes.push_back((change, reply)),
            EngineCommand::SolOutput { bytes, reply } => {
                self.endpoint.sol_output(now(), &bytes);
                let _ = reply.send(self.endpoint.sol_room());
            }
            EngineCommand::ConsoleConnected(connected) => self.console_connected = connected,
            EngineCommand::Authenticated { session_id, answer } => {
                self.endpoint.authenticated(now(), session_id, answer);
            }
            EngineCommand::RevokeUser(user_id) => self.endpoint.close_sessions_of_user(user_id),
        }
    }

    /// Runs queued account changes until one needs saving.
    fn start_next_change(&mut self) {
        while self.saving.is_none() {
            let Some((change, reply)) = self.changes.pop_front() else {
                return;
            };
            let facts = Facts {
                active_sessions: self.endpoint.active_session_count(),
            };
            let current = self.endpoint.policy();
            let mut staged = current.clone();
            let result = change(&mut staged, &facts);
            if result.is_err() {
                // A refused command changes nothing, whatever it touched.
                let _ = reply.send(result);
                continue;
            }
            let snapshot = staged.persisted();
            if snapshot == current.persisted() {
                // Nothing persisted changed (a Get, or a volatile setting).
                *self.endpoint.policy_mut() = staged;
                let _ = reply.send(result);
                continue;
            }
            let store = self.parts.store.clone();
            let task = tokio::task::spawn_blocking(move || store.save(&snapshot));
            self.saving = Some(Saving {
                staged,
                result,
                reply,
                task,
            });
        }
    }

    fn on_saved(&mut self, saved: Result<Result<(), StoreError>, tokio::task::JoinError>) {
        let Some(saving) = self.saving.take() else {
            return;
        };
        let result = match saved {
            Ok(Ok(())) => {
                *self.endpoint.policy_mut() = saving.staged;
                info!("users and channel settings saved");
                saving.result
            }
            Ok(Err(err)) => {
                error!(cause = %err, "could not save users and channel settings; change refused");
                Err(completion_for(&err))
            }
            Err(err) => {
                error!(cause = %err, "the save task failed; change refused");
                Err(CompletionCode::UNSPECIFIED)
            }
        };
        let _ = saving.reply.send(result);
    }

    /// Sends what the endpoint queued and acts on its events.
    async fn flush(&mut self) {
        loop {
            let mut idle = true;
            while let Some(transmit) = self.endpoint.poll_transmit() {
                idle = false;
                crate::send(&self.parts.socket, &transmit.contents, transmit.destination).await;
            }
            while let Some(event) = self.endpoint.poll_event() {
                idle = false;
                self.on_event(event);
            }
            if idle {
                break;
            }
        }
        let status = SolStatus {
            active: self.endpoint.sol_active(),
            room: self.endpoint.sol_room(),
        };
        self.parts.sol_status.send_if_modified(|old| {
            let changed = *old != status;
            *old = status;
            changed
        });
    }

    fn on_event(&mut self, event: Event) {
        match event {
            Event::Request(pending) => self.dispatch(pending),
            Event::ToHost {
                characters,
                send_break,
            } => {
                // Room was checked before the packet was ACKed.
                if !characters.is_empty()
                    && self
                        .parts
                        .to_host
                        .try_send(ToHost::Characters(characters))
                        .is_err()
                {
                    warn!("host console queue full after the check: SOL characters dropped");
                }
                if send_break {
                    let _ = self.parts.to_host.try_send(ToHost::Break);
                }
            }
            Event::Login(login) => {
                self.parts
                    .auditor
                    .record(login_record(&login, self.endpoint.config().channel));
                if let Line::Full(login) = self.logins.record(Instant::now(), login) {
                    login_log::write(&login);
                }
            }
            Event::SessionClosed { session_id, reason } => {
                let why = match reason {
                    CloseReason::Closed => "closed",
                    CloseReason::Idle => "idle",
                    CloseReason::SetupTimeout => "never completed",
                    CloseReason::SolTakenOver => "SOL taken over",
                };
                info!(
                    session = format_args!("{session_id:#010x}"),
                    reason = why,
                    "session closed"
                );
            }
            Event::SolActive(active) => {
                info!(active, "SOL payload state changed");
            }
            Event::Authenticate(request) => {
                // Off the engine's path: the owner's answer comes back as a
                // command, and the handshake waits in the table meanwhile.
                let owner = self.parts.accounts_owner.clone();
                let handle = self.parts.handle.clone();
                tokio::spawn(async move {
                    let session_id = request.session_id;
                    if let Some(answer) = owner.authenticate(request).await {
                        handle
                            .send(EngineCommand::Authenticated { session_id, answer })
                            .await;
                    }
                });
            }
        }
    }

    /// Runs a request in its own task: outside a session only what the
    /// table answers before login (anything else is dropped unanswered), in
    /// a session wherever it is owned.
    fn dispatch(&mut self, pending: PendingRequest) {
        let request = &pending.request;
        if !pending.context.in_session()
            && !self
                .parts
                .table
                .answers_pre_session(request.netfn, request.cmd)
            && !ROUTED_PRE_SESSION.contains(&(request.netfn, request.cmd))
        {
            debug!(netfn = ?request.netfn, cmd = request.cmd, "request outside a session dropped");
            self.count_drop("pre-session");
            return;
        }
        // netipmid's own cheap commands are answered here, without a task.
        let routed = to_routed(&pending);
        if let Some(result) = self.parts.table.execute_now(&routed) {
            self.endpoint.respond(now(), &pending, result);
            return;
        }
        let Ok(permit) = self.in_flight.clone().try_acquire_owned() else {
            self.endpoint
                .respond(now(), &pending, Err(CompletionCode::NODE_BUSY));
            return;
        };
        let router = self.parts.router.clone();
        let handle = self.parts.handle.clone();
        let auditor = self.parts.auditor.clone();
        tokio::spawn(async move {
            let (netfn, cmd, channel) = (routed.netfn, routed.cmd, routed.context.channel);
            let result = router.route(routed).await;
            // Only state changes are recorded: reads cost no record and no
            // string on the request path.
            let record = changes_state(netfn, cmd).then(|| {
                let outcome = if result.code == CompletionCode::SUCCESS {
                    Ok(())
                } else {
                    Err(result.code)
                };
                AuditRecord::command(
                    "rmcp+",
                    String::from_utf8_lossy(&pending.user_name).into_owned(),
                    pending.peer.ip().to_string(),
                    channel,
                    netfn,
                    cmd,
                    outcome,
                )
            });
            handle.respond(pending, result).await;
            drop(permit);
            if let Some(record) = record {
                auditor.record(record);
            }
        });
    }
}

/// Resolves when the save in flight ends (never when none is).
async fn wait_for_save(
    saving: &mut Option<Saving>,
) -> Result<Result<(), StoreError>, tokio::task::JoinError> {
    match saving {
        Some(saving) => (&mut saving.task).await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// The endpoint's clock: tokio's, so tests can run it on virtual time.
fn now() -> std::time::Instant {
    Instant::now().into_std()
}

/// The completion code for a failed save: out of space (C4h) says so;
/// anything else is unspecified (FFh).
pub fn completion_for(err: &StoreError) -> CompletionCode {
    match err {
        StoreError::Io { source, .. } if source.kind() == std::io::ErrorKind::StorageFull => {
            CompletionCode::OUT_OF_SPACE
        }
        _ => CompletionCode::UNSPECIFIED,
    }
}

/// The routing contract's form of a request.
pub fn to_routed(pending: &PendingRequest) -> IpmiRequest {
    IpmiRequest {
        netfn: pending.request.netfn,
        lun: pending.request.rs_lun,
        cmd: pending.request.cmd,
        data: pending.request.data.clone(),
        context: Context {
            channel: pending.context.channel,
            privilege: pending.context.privilege,
            user_id: pending.context.user_id,
            session_id: pending.context.session_id,
        },
    }
}

/// The session layer's form of a routed request's context.
pub fn lan_context(context: &Context) -> RequestContext {
    RequestContext {
        channel: context.channel,
        session_id: context.session_id,
        user_id: context.user_id,
        privilege: context.privilege,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_is_named_out_of_space() {
        let failed = |kind: std::io::ErrorKind| StoreError::Io {
            path: "netipmid.toml".into(),
            source: std::io::Error::from(kind),
        };
        assert_eq!(
            completion_for(&failed(std::io::ErrorKind::StorageFull)),
            CompletionCode::OUT_OF_SPACE
        );
        assert_eq!(
            completion_for(&failed(std::io::ErrorKind::PermissionDenied)),
            CompletionCode::UNSPECIFIED
        );
    }
}
