//! The SEL logger: the System Event Log, as a command owner.
//!
//! Not yet implemented: this daemon joins the bus under its stable name and
//! serves the routing contract with an empty command table, so bridges see
//! it and route nothing to it. Its commands arrive with its own issue.

use std::{future::Future, sync::Arc};

use ipmi_router::{names, CommandTable};
use rbmc_config::Config;

/// Serves the (still empty) command table until `shutdown` resolves.
pub async fn run(_config: Config, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    let table = CommandTable::new(());
    rbmc_daemon::serve_owner_until(names::SELD, Arc::new(table), shutdown).await
}
