//! rbmc-netipmid's engine driven in-process over a real UDP socket on
//! 127.0.0.1 with virtual time (tokio's paused clock): logins, the one
//! command table before and inside sessions, the deadline that closes idle
//! sessions, and account changes that are acknowledged only once durable.
//!
//! The bus is the only stand-in: requests netipmid does not own go to a
//! fake owner that answers Get Device ID, and logins ask rbmc-userd's real
//! accounts code (`ipmi-accounts`) in-process rather than over D-Bus.
//! Everything netipmid answers itself runs its real table and engine.

// This file is a test crate of its own: every item in it is test code.
#![allow(clippy::tests_outside_test_module)]

use std::{future::Future, net::SocketAddr, pin::Pin, sync::Arc, time::Duration};

use ipmi_accounts::{users::UserTable, AccountPolicy, Accounts, Lockout, Rakp3Outcome};
use ipmi_lan::{
    console::{ConsoleSession, Handshake},
    AuthAnswer, AuthRequest, AuthStep, Rakp2Answer,
};
use ipmi_router::{owner::Execute, IpmiRequest};
use ipmi_wire::{crypto::CipherSuite, message::Response, CompletionCode, NetFn, Privilege};
use rbmc_netipmid::{login::Authenticates, Bridge, Routes};
use tokio::net::UdpSocket;

const CONFIG: &str = r#"
[network]
listen = "127.0.0.1:0"
channel = 1
cipher-suites = [17, 3]
max-sessions = 4
idle-timeout-secs = 60
setup-timeout-secs = 10

"#;

/// rbmc-userd's part, in-process: admin / rbmc-admin.
struct LocalAccounts(std::sync::Mutex<(Accounts, Lockout)>);

impl LocalAccounts {
    fn new() -> Self {
        let mut accounts =
            Accounts::new(UserTable::new(&[1]), AccountPolicy::default(), 1, [1; 32]);
        let id = accounts
            .create_user(b"admin", Some(Privilege::Administrator), true, true, true)
            .unwrap();
        accounts.set_password(id, b"rbmc-admin", false).unwrap();
        Self(std::sync::Mutex::new((accounts, Lockout::default())))
    }
}

impl Authenticates for LocalAccounts {
    fn authenticate(
        &self,
        request: AuthRequest,
    ) -> Pin<Box<dyn Future<Output = Option<AuthAnswer>> + Send>> {
        let mut guard = self.0.lock().unwrap();
        let (accounts, lockout) = &mut *guard;
        let now = std::time::Instant::now();
        let t = &request.transcript;
        let answer = match &request.step {
            AuthStep::Rakp2 => Some(AuthAnswer::Rakp2(
                accounts
                    .rakp2(lockout, now, &request.suite, t, &[0; 20])
                    .map(|grant| Rakp2Answer {
                        user_id: grant.user_id,
                        privilege_limit: grant.privilege_limit,
                        sol_allowed: grant.sol_allowed,
                        code: grant.code,
                    }),
            )),
            AuthStep::Rakp3 { code } => Some(AuthAnswer::Rakp3(
                match accounts.rakp3(
                    lockout,
                    now,
                    &request.suite,
                    t,
                    ipmi_wire::RakpStatus::NO_ERRORS,
                    code,
                ) {
                    Rakp3Outcome::Granted { sik, .. } => Ok(sik),
                    Rakp3Outcome::Refused { status, .. } => Err(status),
                },
            )),
            AuthStep::ConsoleRefused { status } => {
                accounts.rakp3(lockout, now, &request.suite, t, *status, &[]);
                None
            }
        };
        Box::pin(std::future::ready(answer))
    }
}

/// The router's stand-in: netipmid's own table for what it owns (with the
/// router's privilege check), one fake owner for Get Device ID.
struct Owners {
    table: Arc<dyn Execute>,
}

impl Routes for Owners {
    fn route(
        &self,
        request: IpmiRequest,
    ) -> Pin<Box<dyn Future<Output = ipmi_wire::Answer> + Send>> {
        let spec = self
            .table
            .specs()
            .into_iter()
            .find(|s| s.netfn == request.netfn && s.cmd == request.cmd);
        match spec {
            Some(spec) if request.context.privilege < spec.privilege => Box::pin(
                std::future::ready(CompletionCode::INSUFFICIENT_PRIVILEGE.into()),
            ),
            Some(_) => self.table.answer(request),
            None if (request.netfn, request.cmd) == (NetFn::APP, 0x01) => Box::pin(
                std::future::ready(Ok::<_, CompletionCode>(vec![0x20, 0x01]).into()),
            ),
            None => Box::pin(std::future::ready(CompletionCode::INVALID_COMMAND.into())),
        }
    }
}

/// A running engine and a console's socket.
struct Rig {
    _state: tempfile::TempDir,
    state_dir: std::path::PathBuf,
    console: UdpSocket,
    bmc: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    engine: tokio::task::JoinHandle<()>,
}

impl Rig {
    async fn start() -> Self {
        let state = tempfile::tempdir().unwrap();
        let state_dir = state.path().to_path_buf();
        let config = rbmc_config::Config::from_toml(CONFIG, "test").unwrap();
        let socket = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        let bmc = socket.local_addr().unwrap();
        let bridge = Bridge::open(&config, &state_dir, bmc.port()).unwrap();
        let owners = Arc::new(Owners {
            table: bridge.table.clone(),
        });
        let (audit, _records) = tokio::sync::mpsc::channel(64);
        let engine = bridge.into_engine(
            socket,
            owners,
            Arc::new(LocalAccounts::new()),
            ipmi_router::audit::Auditor::with_queue(audit),
            None,
        );
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let engine = tokio::spawn(engine.run(async {
            let _ = stopped.await;
        }));
        let console = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        Self {
            _state: state,
            state_dir,
            console,
            bmc,
            stop: Some(stop),
            engine,
        }
    }

    /// Sends `datagram` and returns the answer, or `None` if none comes
    /// within 5 s of virtual time.
    async fn exchange(&self, datagram: &[u8]) -> Option<Vec<u8>> {
        self.console.send_to(datagram, self.bmc).await.unwrap();
        let mut buf = vec![0u8; 2048];
        let received = tokio::time::timeout(Duration::from_secs(5), self.console.recv(&mut buf));
        let len = received.await.ok()?.unwrap();
        Some(buf[..len].to_vec())
    }

    async fn login(&self, password: &[u8]) -> Option<ConsoleSession> {
        let mut handshake = Handshake::new(
            CipherSuite::SUITE_17,
            b"admin",
            password,
            Privilege::Administrator,
            0xC0C0_0001,
            [0x11; 16],
        );
        let rakp1 = handshake
            .on_open_session_response(&self.exchange(&handshake.open_session_request()).await?)
            .ok()?;
        let rakp3 = handshake.on_rakp2(&self.exchange(&rakp1).await?).ok()?;
        handshake.on_rakp4(&self.exchange(&rakp3).await?).ok()
    }

    async fn request(
        &self,
        session: &mut ConsoleSession,
        netfn: NetFn,
        cmd: u8,
        data: &[u8],
    ) -> Option<Response> {
        let datagram = session.request(netfn, cmd, data, [7; 16]);
        let reply = self.exchange(&datagram).await?;
        Some(session.read_response(&reply).unwrap())
    }

    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.engine.await.unwrap();
    }
}

#[tokio::test(start_paused = true)]
async fn a_session_runs_its_commands_through_the_one_table() {
    let rig = Rig::start().await;
    assert!(rig.login(b"wrong").await.is_none(), "a wrong password");
    let mut session = rig.login(b"rbmc-admin").await.expect("login");
    // Set Session Privilege Level: netipmid's table, into the engine.
    let rsp = rig
        .request(&mut session, NetFn::APP, 0x3B, &[0x04])
        .await
        .unwrap();
    assert_eq!(
        (rsp.completion, rsp.data),
        (CompletionCode::SUCCESS, vec![0x04])
    );
    // Get Device ID: routed to its owner.
    let rsp = rig
        .request(&mut session, NetFn::APP, 0x01, &[])
        .await
        .unwrap();
    assert_eq!(rsp.data, [0x20, 0x01]);
    // Get Session Info for this session: one active, user 2, Administrator.
    let rsp = rig
        .request(&mut session, NetFn::APP, 0x3D, &[0x00])
        .await
        .unwrap();
    assert_eq!(rsp.completion, CompletionCode::SUCCESS);
    assert_eq!(rsp.data[2..5], [1, 2, 4]);
    // Close Session: answered under the session's keys, then it is gone.
    let id = session.bmc_session_id.to_le_bytes();
    let rsp = rig
        .request(&mut session, NetFn::APP, 0x3C, &id)
        .await
        .unwrap();
    assert_eq!(rsp.completion, CompletionCode::SUCCESS);
    assert!(rig
        .request(&mut session, NetFn::APP, 0x01, &[])
        .await
        .is_none());
    rig.stop().await;
}

#[tokio::test(start_paused = true)]
async fn only_pre_session_commands_are_answered_outside_a_session() {
    let rig = Rig::start().await;
    // Get Channel Authentication Capabilities, IPMI v1.5 framing.
    let caps = [
        0x06, 0x00, 0xFF, 0x07, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x09, 0x20, 0x18, 0xC8, 0x81, 0x00,
        0x38, 0x8E, 0x04, 0xB5,
    ];
    let reply = rig.exchange(&caps).await.expect("auth caps answered");
    let message = ipmi_lan::endpoint::sessionless_v15_message(&reply).unwrap();
    let rsp = Response::parse(&message).unwrap();
    assert_eq!(rsp.data, [0x01, 0x80, 0x04, 0x02, 0, 0, 0, 0]);
    // Get Device ID outside a session, well formed (checksums 0xC8 and
    // 0x7E): not a pre-session command, so dropped unanswered.
    let get_device_id = [
        0x06, 0x00, 0xFF, 0x07, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x07, 0x20, 0x18, 0xC8, 0x81, 0x00,
        0x01, 0x7E,
    ];
    ipmi_wire::message::Request::parse(&get_device_id[14..]).expect("a valid request");
    assert!(rig.exchange(&get_device_id).await.is_none());
    rig.stop().await;
}

#[tokio::test(start_paused = true)]
async fn an_idle_session_ends_at_its_deadline_and_not_before() {
    let rig = Rig::start().await;
    let mut session = rig.login(b"rbmc-admin").await.expect("login");
    tokio::time::advance(Duration::from_secs(59)).await;
    assert!(rig
        .request(&mut session, NetFn::APP, 0x01, &[])
        .await
        .is_some());
    // 60 s of silence after that request: the engine's own deadline fires.
    tokio::time::advance(Duration::from_secs(61)).await;
    assert!(rig
        .request(&mut session, NetFn::APP, 0x01, &[])
        .await
        .is_none());
    rig.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_change_is_acknowledged_once_stored_and_a_failed_save_changes_nothing() {
    let rig = Rig::start().await;
    let mut session = rig.login(b"rbmc-admin").await.expect("login");
    rig.request(&mut session, NetFn::APP, 0x3B, &[0x04])
        .await
        .unwrap();
    // Set SOL Configuration Parameters, parameter 1 (SOL enable).
    let sol_enable = |on: u8| vec![0x01, 0x01, on];
    let rsp = rig
        .request(&mut session, NetFn::TRANSPORT, 0x21, &sol_enable(0))
        .await
        .unwrap();
    assert_eq!(rsp.completion, CompletionCode::SUCCESS);
    let stored = std::fs::read_to_string(rig.state_dir.join("netipmid.toml")).unwrap();
    assert!(stored.contains("enabled = false"), "{stored}");
    // The store can no longer be replaced: its temporary file's name is
    // taken by a directory (which stops root too).
    std::fs::create_dir(rig.state_dir.join("netipmid.tmp")).unwrap();
    let rsp = rig
        .request(&mut session, NetFn::TRANSPORT, 0x21, &sol_enable(1))
        .await
        .unwrap();
    assert_eq!(rsp.completion, CompletionCode::UNSPECIFIED);
    // Memory is as it was: SOL is still disabled, and so is the disk.
    let rsp = rig
        .request(&mut session, NetFn::TRANSPORT, 0x22, &[0x01, 0x01, 0, 0])
        .await
        .unwrap();
    assert_eq!(rsp.data, [0x11, 0x00]);
    assert_eq!(
        std::fs::read_to_string(rig.state_dir.join("netipmid.toml")).unwrap(),
        stored
    );
    rig.stop().await;
}
