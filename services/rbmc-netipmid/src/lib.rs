//! The RMCP+ network bridge: a UDP socket, the sans-IO [`ipmi_lan`]
//! endpoint, and the [`ipmi_router`] router to the command owners.
//!
//! One task reads datagrams and runs the endpoint (cheap, bounded work per
//! datagram). A request that needs an owner runs in its own task, at most
//! [`MAX_IN_FLIGHT`] at once; past that the console gets 0xC0 (node busy) at
//! once rather than waiting behind a slow owner.

use std::{
    collections::BTreeMap,
    future::Future,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use anyhow::Context as _;
use ipmi_lan::{Action, Endpoint, EndpointConfig, PendingRequest, Random, User, UserDirectory};
use ipmi_router::{names, Context, IpmiRequest};
use ipmi_wire::CompletionCode;
use rbmc_config::Config;
use tokio::{net::UdpSocket, sync::Semaphore};
use tracing::{debug, info, warn};

/// Requests waiting on owners at once; more get 0xC0 immediately.
pub const MAX_IN_FLIGHT: usize = 64;
/// How often idle sessions are swept and drop counts reported.
const TICK: Duration = Duration::from_secs(1);

/// Users from the `[[users]]` config entries.
#[derive(Debug)]
pub struct ConfigUsers(Vec<User>);

impl ConfigUsers {
    /// The enabled users of `config`.
    pub fn from_config(config: &Config) -> Self {
        Self(
            config
                .users
                .iter()
                .filter(|u| u.enabled)
                .map(|u| User {
                    id: u.id.0,
                    name: u.name.0.as_bytes().to_vec(),
                    password: u.password.0.as_bytes().to_vec(),
                    max_privilege: u.privilege.0,
                })
                .collect(),
        )
    }
}

impl UserDirectory for ConfigUsers {
    fn find(&self, name: &[u8]) -> Option<User> {
        self.0.iter().find(|u| u.name == name).cloned()
    }
}

/// Random bytes from the operating system.
struct SystemRandom(ring::rand::SystemRandom);

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

type SharedEndpoint = Arc<Mutex<Endpoint<ConfigUsers>>>;

/// Binds the configured UDP address (or takes systemd's socket) and serves
/// until `shutdown`.
pub async fn run(config: Config, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
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
    serve(config, socket, shutdown).await
}

/// Serves RMCP+ on `socket` until `shutdown`.
pub async fn serve(
    config: Config,
    socket: UdpSocket,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let (conn, router) = rbmc_daemon::start_bridge(names::NETIPMID, &config, None).await?;
    let endpoint: SharedEndpoint = Arc::new(Mutex::new(Endpoint::new(
        EndpointConfig {
            channel: config.network.channel,
            guid: config.bmc.guid.map(|g| g.ipmi_bytes()).unwrap_or([0; 16]),
            cipher_suites: config.network.suites(),
            max_sessions: config.network.max_sessions,
            idle_timeout: config.network.idle_timeout(),
            setup_timeout: config.network.setup_timeout(),
            kg: None,
        },
        ConfigUsers::from_config(&config),
    )));
    let socket = Arc::new(socket);
    info!(listen = %socket.local_addr()?, users = config.users.len(), "RMCP+ bridge serving");
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
                for id in lock(&endpoint).expire(Instant::now()) {
                    info!(session = format_args!("{id:#010x}"), "session closed: idle or never completed");
                }
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
                let action = lock(&endpoint).handle(Instant::now(), &buf[..len], &mut rng());
                match action {
                    Action::Reply(bytes) => send(&socket, &bytes, peer).await,
                    Action::Drop(reason) => {
                        debug!(%peer, %reason, "dropped datagram");
                        let kind = format!("{reason:?}");
                        let kind = kind.split(['(', ' ']).next().unwrap_or("other").to_owned();
                        *drops.entry(kind).or_default() += 1;
                    }
                    Action::Dispatch(pending) => {
                        let Ok(permit) = in_flight.clone().try_acquire_owned() else {
                            let bytes = lock(&endpoint).respond(&pending, Err(CompletionCode::NODE_BUSY), &mut rng());
                            if let Some(bytes) = bytes {
                                send(&socket, &bytes, peer).await;
                            }
                            continue;
                        };
                        let (router, endpoint, socket) = (router.clone(), endpoint.clone(), socket.clone());
                        tokio::spawn(async move {
                            let result = router.route(to_routed(&pending)).await;
                            let bytes = lock(&endpoint).respond(&pending, result, &mut rng());
                            if let Some(bytes) = bytes {
                                send(&socket, &bytes, peer).await;
                            }
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

fn rng() -> SystemRandom {
    SystemRandom(ring::rand::SystemRandom::new())
}

fn lock(endpoint: &SharedEndpoint) -> std::sync::MutexGuard<'_, Endpoint<ConfigUsers>> {
    // A panic while holding the lock aborts the process (panic = "abort"),
    // so a poisoned lock cannot be observed in release builds.
    endpoint.lock().unwrap_or_else(|e| e.into_inner())
}

async fn send(socket: &UdpSocket, bytes: &[u8], peer: std::net::SocketAddr) {
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
