//! The KCS host interface bridge.
//!
//! Not yet implemented: no KCS transport (the `/dev/ipmi-kcsN` device or
//! QEMU's `ipmi-bmc-extern` link) is opened yet. The daemon starts the same
//! router the network bridge uses, so the command map is live under its name,
//! and waits. The transports arrive with the KCS issue.

use std::future::Future;

use anyhow::Context as _;
use ipmi_router::{names, Router, RouterConfig};
use rbmc_config::Config;
use tracing::info;

/// Joins the bus and routes nothing until a transport exists.
pub async fn run(config: Config, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    let conn = rbmc_daemon::bus_builder()?
        .build()
        .await
        .context("connecting to the bus")?;
    let _router = Router::start(
        conn.clone(),
        RouterConfig {
            owners: config.routing.owners.clone(),
            call_timeout: config.routing.timeout(),
        },
        None,
    )
    .await
    .context("starting the router")?;
    conn.request_name(names::KCSD)
        .await
        .context("requesting the bus name")?;
    info!("KCS bridge on the bus; no host transport configured yet");
    rbmc_daemon::notify_ready();
    tokio::select! {
        () = shutdown => Ok(()),
        () = rbmc_daemon::bus_lost(&conn) => anyhow::bail!("lost the connection to the bus"),
    }
}
