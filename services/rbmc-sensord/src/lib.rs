//! The sensor daemon's service: builds its command table and serves it.
//!
//! # Layout
//! - [`source`]: where readings come from (hwmon sysfs).
//! - [`identity`]: Get Device ID, Get Self Test Results, Get Device GUID and
//!   Get System GUID, from the `[bmc]` config section.

pub mod identity;
pub mod source;

use std::{future::Future, sync::Arc};

use anyhow::Context as _;
use ipmi_router::{names, owner::Execute, CommandTable};
use rbmc_config::Config;

/// Serves the sensor daemon's commands until `shutdown` resolves.
pub async fn run(config: Config, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    let mut table = CommandTable::new(identity::Identity::from_config(&config.bmc));
    identity::register(&mut table).context("registering identity commands")?;
    let table: Arc<dyn Execute> = Arc::new(table);
    rbmc_daemon::serve_owner_until(names::SENSORD, table, shutdown).await
}
