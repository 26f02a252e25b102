//! The RMCP+ network bridge: a UDP socket, the sans-IO [`ipmi_lan`]
//! endpoint, and the [`ipmi_router`] router to the command owners. It also
//! owns the commands about the LAN channel itself: users, channels, LAN and
//! SOL parameters, payloads and sessions ([`accounts`]), serves them to the
//! other bridges as `org.rbmc.Netipmid`, and runs the SOL console
//! ([`console`]).
//!
//! One task reads datagrams and runs the endpoint (cheap, bounded work per
//! datagram). A request that needs an owner runs in its own task, at most
//! [`MAX_IN_FLIGHT`] at once; past that the console gets 0xC0 (node busy) at
//! once rather than waiting behind a slow owner.

pub mod cli;

pub mod accounts;
pub mod console;
pub mod lan_info;
pub mod store;

use std::{
    collections::BTreeMap,
    future::Future,
    path::Path,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use anyhow::Context as _;
use ipmi_lan::{Action, Endpoint, EndpointConfig, PendingRequest, Random};
use ipmi_router::{names, Context, IpmiRequest};
use ipmi_wire::CompletionCode;
use rbmc_config::Config;
use tokio::{net::UdpSocket, sync::Semaphore};
use tracing::{debug, info, warn};

use crate::accounts::{lock_endpoint, SharedAccounts, SharedEndpoint};

/// Requests waiting on owners at once; more get 0xC0 immediately.
pub const MAX_IN_FLIGHT: usize = 64;
/// How often idle sessions are swept and drop counts reported.
const TICK: Duration = Duration::from_secs(1);
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
    let key_file = config
        .network
        .user_key_file
        .clone()
        .unwrap_or_else(|| state_dir.join("user.key"));
    let store = store::Store::open(state_dir.join("netipmid.toml"), &key_file)
        .context("opening the user store")?;
    let port = socket.local_addr()?.port();
    let accounts = SharedAccounts(Arc::new(Mutex::new(
        accounts::load_accounts(&config, &store, port).context("loading the user store")?,
    )));
    let endpoint: SharedEndpoint = Arc::new(Mutex::new(Endpoint::new(
        EndpointConfig {
            channel: config.network.channel,
            guid: config.bmc.guid.map(|g| g.ipmi_bytes()).unwrap_or([0; 16]),
            cipher_suites: config.network.suites(),
            max_sessions: config.network.max_sessions,
            idle_timeout: config.network.idle_timeout(),
            setup_timeout: config.network.setup_timeout(),
            kg: None,
            max_sessions_per_user: config.network.max_sessions_per_user,
        },
        accounts.clone(),
    )));
    let owner = accounts::Owner::new(accounts, endpoint.clone(), store, &config);
    let sol_changed = owner.sol_changed.clone();
    let table: Arc<dyn ipmi_router::owner::Execute> = Arc::new(accounts::command_table(owner));
    let (conn, router) = rbmc_daemon::start_bridge(
        names::NETIPMID,
        &config,
        Some(table),
        rbmc_daemon::LocalCommands::Owned,
    )
    .await?;
    let socket = Arc::new(socket);
    let (to_host, to_host_rx) = tokio::sync::mpsc::channel(TO_HOST_QUEUE);
    let console_connected = Arc::new(std::sync::atomic::AtomicBool::new(false));
    tokio::spawn(console::run(
        config.sol.console.clone(),
        endpoint.clone(),
        socket.clone(),
        sol_changed.clone(),
        console_connected.clone(),
        to_host_rx,
    ));
    info!(listen = %socket.local_addr()?, "RMCP+ bridge serving");
    rbmc_daemon::notify_ready();

    let in_flight = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let mut drops: BTreeMap<String, u64> = BTreeMap::new();
    let mut tick = tokio::time::interval(TICK);
    let mut buf = vec![0u8; 2048];
    tokio::pin!(shutdown);
    let bus_lost = rbmc_daemon::bus_lost(&conn);
    tokio::pin!(bus_lost);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            () = &mut bus_lost => anyhow::bail!("lost the connection to the bus"),
            _ = tick.tick() => {
                let (expired, logins) = {
                    let mut endpoint = lock_endpoint(&endpoint);
                    (endpoint.expire(Instant::now()), endpoint.take_login_events())
                };
                for id in expired {
                    info!(session = format_args!("{id:#010x}"), "session closed: idle or never completed");
                }
                log_logins(logins);
                if !drops.is_empty() {
                    warn!(?drops, "dropped datagrams in the last interval");
                    drops.clear();
                }
            }
            received = socket.recv_from(&mut buf) => {
                let (len, peer) = match received {
                    Ok(received) => received,
                    Err(err) => {
                        warn!(cause = %err, "UDP receive failed");
                        continue;
                    }
                };
                // SOL keystrokes the host console cannot take now are NACKed.
                let host = if !console_connected.load(std::sync::atomic::Ordering::Relaxed) {
                    ipmi_lan::sol::HostState::Unavailable
                } else if to_host.capacity() == 0 {
                    ipmi_lan::sol::HostState::Busy
                } else {
                    ipmi_lan::sol::HostState::Ready
                };
                let (action, logins) = {
                    let mut endpoint = lock_endpoint(&endpoint);
                    endpoint.set_sol_host(host);
                    let action = endpoint.handle_from(Instant::now(), &buf[..len], peer, &mut rng());
                    (action, endpoint.take_login_events())
                };
                log_logins(logins);
                console::flush_outbox(&endpoint, &socket).await;
                match action {
                    Action::Reply(bytes) => send(&socket, &bytes, peer).await,
                    Action::Sol { to_host: characters, send_break } => {
                        // An ACK may have made room for more host output.
                        sol_changed.notify_one();
                        // Room was checked before the packet was ACKed.
                        if !characters.is_empty() && to_host.try_send(console::ToHost::Characters(characters)).is_err() {
                            warn!("host console queue full after the check: SOL characters dropped");
                        }
                        if send_break {
                            let _ = to_host.try_send(console::ToHost::Break);
                        }
                    }
                    Action::Drop(reason) => {
                        debug!(%peer, %reason, "dropped datagram");
                        let kind = format!("{reason:?}");
                        let kind = kind.split(['(', ' ']).next().unwrap_or("other").to_owned();
                        *drops.entry(kind).or_default() += 1;
                    }
                    Action::Dispatch(pending) => {
                        let Ok(permit) = in_flight.clone().try_acquire_owned() else {
                            let bytes = lock_endpoint(&endpoint).respond(&pending, Err(CompletionCode::NODE_BUSY), &mut rng());
                            if let Some(bytes) = bytes {
                                send(&socket, &bytes, peer).await;
                            }
                            continue;
                        };
                        let (router, endpoint, socket) = (router.clone(), endpoint.clone(), socket.clone());
                        tokio::spawn(async move {
                            let result = router.route(to_routed(&pending)).await;
                            let bytes = lock_endpoint(&endpoint).respond(&pending, result, &mut rng());
                            if let Some(bytes) = bytes {
                                send(&socket, &bytes, peer).await;
                            }
                            // A takeover's notice to the other console.
                            console::flush_outbox(&endpoint, &socket).await;
                            drop(permit);
                        });
                    }
                }
            }
        }
    }
    info!("RMCP+ bridge stopped");
    Ok(())
}

/// The audit trail of logins: who, from where, and why one was refused.
/// Names are printed escaped; passwords never reach this point.
fn log_logins(events: Vec<ipmi_lan::LoginEvent>) {
    for event in events {
        match event {
            ipmi_lan::LoginEvent::Refused { user, peer, status } => {
                warn!(user = ?user, peer = ?peer, %status, "login refused");
            }
            ipmi_lan::LoginEvent::Abandoned { user, peer } => {
                warn!(user = ?user, peer = ?peer,
                    "login abandoned after RAKP 2 (a wrong password at the console?)");
            }
            ipmi_lan::LoginEvent::Opened {
                user,
                peer,
                session_id,
                privilege,
            } => {
                info!(user = ?user, peer = ?peer, session = format_args!("{session_id:#010x}"),
                    privilege = privilege.name(), "session opened");
            }
        }
    }
}

fn rng() -> SystemRandom {
    SystemRandom::default()
}

/// Sends one datagram, logging a failure.
pub async fn send(socket: &UdpSocket, bytes: &[u8], peer: std::net::SocketAddr) {
    if let Err(err) = socket.send_to(bytes, peer).await {
        warn!(%peer, cause = %err, "UDP send failed");
    }
}

fn to_routed(pending: &PendingRequest) -> IpmiRequest {
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
