//! The RMCP+ network bridge: a UDP socket, the sans-IO [`ipmi_lan`]
//! endpoint, and the [`ipmi_router`] router to the command owners. It also
//! owns the commands about the LAN channel itself: channels, LAN and SOL
//! parameters, payloads and sessions ([`commands`]), serves them to the
//! other bridges as `org.rbmc.Netipmid`, and runs the SOL console
//! ([`console`]). Users and passwords belong to rbmc-userd ([`login`]).
//!
//! One task, the [`engine`], owns the endpoint and the accounts. A request
//! runs in its own task, at most [`engine::MAX_IN_FLIGHT`] at once; past
//! that the console gets 0xC0 (node busy) at once rather than waiting
//! behind a slow owner.
//!
//! # Layout
//! - [`engine`]: the task owning the endpoint, its mailbox, persistence.
//! - [`commands`]: the command table and its handlers.
//! - [`accounts`]: channels, LAN and SOL parameters.
//! - [`login`]: the password's part of logins, asked of rbmc-userd.
//! - [`login_log`]: the log lines of logins, bounded against floods.
//! - [`store`]: the channel settings on disk.
//! - [`console`]: the host console behind SOL.
//! - [`lan_info`]: the live interface behind the LAN parameters.
//! - [`network`]: the task owning the LAN channel's address settings;
//!   [`networkd`]: how it applies them; [`network_objects`]: the
//!   interface on D-Bus with OpenBMC's network shapes; [`alert_objects`]:
//!   the alert destinations (LAN parameters 16-19) on D-Bus, for
//!   rbmc-pefd.

pub mod cli;

pub mod accounts;
pub mod alert_objects;
pub mod commands;
pub mod console;
pub mod engine;
pub mod lan_info;
pub mod login;
pub mod login_log;
pub mod network;
pub mod network_objects;
pub mod networkd;
pub mod store;

use std::{future::Future, path::Path, sync::Arc, time::Duration};

use anyhow::Context as _;
use ipmi_lan::{Endpoint, EndpointConfig, Random};
use ipmi_router::names;
use rbmc_config::Config;
use tokio::net::UdpSocket;
use tracing::{info, warn};

use crate::engine::{Engine, EngineHandle, EngineParts};

pub use crate::engine::Routes;

/// Characters typed on SOL that may wait for the host console.
const TO_HOST_QUEUE: usize = 256;

/// Random bytes from the operating system.
pub struct SystemRandom(ring::rand::SystemRandom);

impl Default for SystemRandom {
    fn default() -> Self {
        Self(ring::rand::SystemRandom::new())
    }
}

impl Random for SystemRandom {
    fn fill(&mut self, buf: &mut [u8]) {
        use ring::rand::SecureRandom;
        // getrandom(2) does not fail once the kernel's pool is initialised,
        // which it is long before a daemon starts.
        self.0
            .fill(buf)
            .expect("the kernel random number generator failed");
    }
}

/// Binds the configured UDP address (or takes systemd's socket) and serves
/// until `shutdown`, keeping users and settings in `state_dir`.
pub async fn run(
    config: Config,
    state_dir: &Path,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    // Under systemd the socket unit binds UDP 623 and passes it in.
    let socket = match rbmc_daemon::activated_udp_socket() {
        Some(socket) => {
            socket.set_nonblocking(true)?;
            UdpSocket::from_std(socket).context("adopting the activated socket")?
        }
        None => UdpSocket::bind(config.network.listen)
            .await
            .with_context(|| format!("binding UDP {}", config.network.listen))?,
    };
    serve(config, state_dir, socket, shutdown).await
}

/// Serves RMCP+ on `socket` until `shutdown`.
pub async fn serve(
    config: Config,
    state_dir: &Path,
    socket: UdpSocket,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    if let Some(interface) = &config.lan.interface {
        let sys = Path::new("/sys/class/net").join(interface);
        anyhow::ensure!(
            sys.exists(),
            "network interface {interface:?} ([lan] interface) does not exist ({} is missing)",
            sys.display()
        );
    }
    let socket = Arc::new(socket);
    let bridge = Bridge::open(&config, state_dir, socket.local_addr()?.port())?;
    let local: Arc<dyn ipmi_router::owner::Execute> = bridge.table.clone();
    // The daemons' one start-up path: the router (with this daemon's table,
    // also served as an owner) first, then the name, then READY=1.
    let mut startup = rbmc_daemon::Startup::connect().await?;
    let router = startup
        .start_router(
            names::NETIPMID,
            &config,
            Some(local),
            rbmc_daemon::LocalCommands::Owned,
        )
        .await?;
    bridge.table.state().set_router(router.clone());
    network_objects::serve(&mut startup, bridge.lan.clone(), bridge.lan_name.clone()).await?;
    startup
        .serve_at(
            rbmc_contracts::network::ALERT_DESTINATIONS_PATH,
            alert_objects::AlertDestinations {
                engine: bridge.handle.clone(),
                channel: config.network.channel,
            },
        )
        .await?;
    startup.name(names::NETIPMID);
    let named = startup.claim_names().await?;
    let conn = named.connection().clone();
    let userd = login::Userd::new(&conn, login::ANSWER_TIMEOUT)
        .await
        .context("reaching rbmc-userd's authenticator")?;
    bridge.table.state().set_userd(
        rbmc_contracts::user::AuthenticatorProxy::new(&conn)
            .await
            .context("reaching rbmc-userd's authenticator")?,
    );
    tokio::spawn(follow_revocations(conn, bridge.handle.clone()));
    let engine = bridge.into_engine(
        socket.clone(),
        Arc::new(router),
        Arc::new(userd),
        ipmi_router::audit::Auditor::spawn(named.connection().clone()),
        config.sol.console.clone(),
    );
    info!(listen = %socket.local_addr()?, "RMCP+ bridge serving");
    let running = named.ready();
    let mut outcome = Ok(());
    engine
        .run(async { outcome = running.until(shutdown).await })
        .await;
    info!("RMCP+ bridge stopped");
    outcome
}

/// The bridge before it meets the bus: the endpoint over the stored
/// accounts, and the command table whose handlers reach the engine.
pub struct Bridge {
    endpoint: Endpoint<accounts::Accounts>,
    /// The command table (served on the bus as the owner's).
    pub table: Arc<ipmi_router::owner::CommandTable<commands::Owner>>,
    handle: EngineHandle,
    mailbox: tokio::sync::mpsc::Receiver<engine::EngineCommand>,
    store: Arc<store::Store>,
    network: rbmc_config::Network,
    /// The LAN channel's address settings task, for the D-Bus objects.
    lan: network::NetworkHandle,
    lan_name: String,
}

impl Bridge {
    /// Opens the user store in `state_dir` (seeding it from the config on
    /// first start) and builds the endpoint for SOL on UDP `port`.
    pub fn open(config: &Config, state_dir: &Path, port: u16) -> anyhow::Result<Self> {
        let key_file = config
            .network
            .user_key_file
            .clone()
            .unwrap_or_else(|| state_dir.join("user.key"));
        let store = store::Store::open(state_dir.join("netipmid.toml"), key_file);
        let accounts = accounts::load_accounts(config, &store, port)
            .context("loading the channel settings")?;
        let endpoint = Endpoint::new(
            EndpointConfig {
                channel: config.network.channel,
                guid: config.bmc.guid.map(|g| g.ipmi_bytes()).unwrap_or([0; 16]),
                cipher_suites: config.network.suites(),
                max_sessions: config.network.max_sessions,
                idle_timeout: config.network.idle_timeout(),
                setup_timeout: config.network.setup_timeout(),
                kg: None,
                max_sessions_per_user: config.network.max_sessions_per_user,
                max_handshakes_per_address: config.network.max_handshakes_per_address,
                failed_login_burst: config.network.failed_login_burst,
                failed_login_interval: Duration::from_secs(
                    config.network.failed_login_interval_secs,
                ),
            },
            accounts,
            Box::new(SystemRandom::default()),
        );
        let (handle, mailbox) = EngineHandle::channel();
        let lan_source = Arc::new(lan_info::LanSource::from_config(&config.lan));
        let networkd = config
            .lan
            .networkd
            .as_ref()
            .zip(config.lan.interface.clone())
            .map(|(networkd, interface)| networkd::Networkd::new(interface, networkd));
        let network =
            network::NetworkHandle::spawn(config.network.channel, lan_source.clone(), networkd);
        let table = Arc::new(commands::command_table(commands::Owner::new(
            handle.clone(),
            network.clone(),
            config.network.channel,
            config.network.suites(),
        )));
        Ok(Self {
            endpoint,
            table,
            handle,
            mailbox,
            store: Arc::new(store),
            network: config.network.clone(),
            lan: network,
            lan_name: network_objects::interface_name(&config.lan, config.network.channel),
        })
    }

    /// The engine serving `socket`, routing what it does not own through
    /// `router`, with SOL's host side on `console` (started here).
    pub fn into_engine(
        self,
        socket: Arc<UdpSocket>,
        router: Arc<dyn engine::Routes>,
        accounts_owner: Arc<dyn login::Authenticates>,
        auditor: ipmi_router::audit::Auditor,
        console: Option<rbmc_config::ConsoleSource>,
    ) -> Engine {
        let (to_host, to_host_rx) = tokio::sync::mpsc::channel(TO_HOST_QUEUE);
        let (sol_status, sol_status_rx) = tokio::sync::watch::channel(engine::SolStatus::default());
        tokio::spawn(console::run(
            console,
            self.handle.clone(),
            sol_status_rx,
            to_host_rx,
        ));
        Engine::new(
            self.endpoint,
            EngineParts {
                socket,
                store: self.store,
                router,
                table: self.table,
                handle: self.handle,
                mailbox: self.mailbox,
                to_host,
                sol_status,
                network: self.network,
                accounts_owner,
                auditor,
            },
        )
    }
}

/// Ends the sessions of users rbmc-userd revokes, for as long as the bus
/// lasts.
pub async fn follow_revocations(conn: zbus::Connection, engine: EngineHandle) {
    let stream = async {
        rbmc_contracts::user::AuthenticatorProxy::new(&conn)
            .await?
            .receive_sessions_revoked()
            .await
    };
    let mut stream = match stream.await {
        Ok(stream) => stream,
        Err(err) => {
            warn!(%err, "cannot follow rbmc-userd's revocations");
            return;
        }
    };
    while let Some(signal) = futures_util::StreamExt::next(&mut stream).await {
        if let Ok(args) = signal.args() {
            info!(
                user = args.user_id,
                "rbmc-userd revoked the user's sessions"
            );
            engine.revoke_user(args.user_id).await;
        }
    }
}

/// Sends one datagram, logging a failure.
pub async fn send(socket: &UdpSocket, bytes: &[u8], peer: std::net::SocketAddr) {
    if let Err(err) = socket.send_to(bytes, peer).await {
        warn!(%peer, cause = %err, "UDP send failed");
    }
}
