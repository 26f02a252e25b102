//! The KCS host interface bridge.
//!
//! Not yet implemented: no KCS transport (the `/dev/ipmi-kcsN` device or
//! QEMU's `ipmi-bmc-extern` link) is opened yet. The daemon starts the same
//! router the network bridge uses, so the command map is live under its name,
//! and waits. The transports arrive with the KCS issue.

use std::future::Future;

use ipmi_router::names;
use rbmc_config::Config;
use tracing::info;

/// Joins the bus and routes nothing until a transport exists.
pub async fn run(config: Config, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    let (conn, _router) = rbmc_daemon::start_bridge(names::KCSD, &config).await?;
    info!("KCS bridge on the bus; no host transport configured yet");
    rbmc_daemon::notify_ready();
    tokio::select! {
        () = shutdown => Ok(()),
        () = rbmc_daemon::bus_lost(&conn) => anyhow::bail!("lost the connection to the bus"),
    }
}
