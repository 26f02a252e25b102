//! The KCS host interface bridge: the in-band path from the host.
//!
//! Requests arrive on a transport — QEMU's `ipmi-bmc-extern` link in
//! development ([`qemu`]) — and are routed like the network bridge's, with
//! the system interface's context ([`host`]). The system-interface commands
//! are answered here ([`system`]).
//!
//! # Layout
//! - [`host`]: one request in, one response out.
//! - [`qemu`]: the VM link.
//! - [`device`]: `/dev/ipmi-kcsN` on an ASPEED BMC.
//! - [`system`]: Global Enables, Message Flags, System Info Parameters...
//! - [`vmhost`]: the VM's power operations on D-Bus, for rbmc-powerd.

pub mod cli;

pub mod device;
pub mod host;
pub mod qemu;
pub mod system;
pub mod vmhost;

use std::{future::Future, path::Path, sync::Arc};

use anyhow::Context as _;
use ipmi_router::{names, owner::Execute, CommandTable};
use rbmc_config::Config;
use tracing::{info, warn};

/// Serves the host transports until `shutdown`.
pub async fn run(
    config: Config,
    state_dir: &Path,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    // Claim hardware before joining the bus: a missing device is a clear,
    // early failure naming it.
    if let (None, Some(device)) = (config.kcs.qemu_listen, &config.kcs.device) {
        std::fs::metadata(device).with_context(|| {
            format!(
                "KCS device {} is missing (kcs_bmc_cdev_ipmi not bound?)",
                device.display()
            )
        })?;
    }
    let system = Arc::new(system::SystemInterface::new(state_dir));
    let mut table = CommandTable::new(SystemHandle(system.clone()));
    system::register_handle(&mut table).context("registering commands")?;
    let local: Arc<dyn Execute> = Arc::new(table);
    let mut shared = CommandTable::new(SystemHandle(system.clone()));
    system::register_shared(&mut shared).context("registering commands")?;
    // The daemons' one start-up path: objects and the router first, then
    // the name, then the transports, then READY=1.
    let mut startup = rbmc_daemon::Startup::connect().await?;
    // What other channels may ask of the system interface, as an owner.
    startup.serve_commands(Arc::new(shared)).await?;
    let router = startup
        .start_router(
            names::KCSD,
            &config,
            Some(local),
            rbmc_daemon::LocalCommands::Private,
        )
        .await?;
    let (ops_tx, ops_rx) = tokio::sync::mpsc::unbounded_channel();
    let (connected_tx, connected_rx) = tokio::sync::watch::channel(false);
    if config.kcs.qemu_listen.is_some() {
        const PATH: &str = "/org/rbmc/Kcsd/Host";
        startup
            .serve_at(
                PATH,
                vmhost::VmHostObject {
                    ops: ops_tx,
                    connected: connected_rx.clone(),
                },
            )
            .await?;
        let conn = startup.connection();
        let object = conn
            .object_server()
            .interface::<_, vmhost::VmHostObject>(PATH)
            .await?;
        let emitter = zbus::object_server::SignalEmitter::new(conn, PATH)?.into_owned();
        tokio::spawn(vmhost::publish_connected(emitter, object, connected_rx));
    }
    startup.name(names::KCSD);
    let named = startup.claim_names().await?;
    let router = host::HostPath {
        router,
        auditor: ipmi_router::audit::Auditor::spawn(named.connection().clone()),
    };
    let link = match (config.kcs.qemu_listen, &config.kcs.device) {
        (Some(listen), device) => {
            if let Some(device) = device {
                warn!(device = %device.display(), "both a KCS device and a QEMU link configured; serving the QEMU link");
            }
            let (router, system) = (router.clone(), system.clone());
            Some(tokio::spawn(async move {
                if let Err(err) = qemu::serve(listen, router, system, ops_rx, connected_tx).await {
                    warn!(cause = %err, "QEMU link stopped");
                }
            }))
        }
        (None, Some(device)) => {
            let (router, system, device) = (router.clone(), system.clone(), device.clone());
            Some(tokio::spawn(async move {
                if let Err(err) = device::serve(device, router, system).await {
                    warn!(cause = %err, "KCS device transport stopped");
                }
            }))
        }
        (None, None) => {
            info!("no host transport configured ([kcs] qemu-listen or device)");
            None
        }
    };
    let result = named.ready().until(shutdown).await;
    if let Some(link) = link {
        link.abort();
    }
    result
}

/// The system interface, shared with the command table.
#[derive(Debug)]
pub struct SystemHandle(pub Arc<system::SystemInterface>);

impl AsRef<system::SystemInterface> for SystemHandle {
    fn as_ref(&self) -> &system::SystemInterface {
        &self.0
    }
}
