//! rbmc-pefd: the owner of Platform Event Filtering. It runs every event
//! rbmc-seld logs through the event filter table, takes the host actions
//! the matching filters ask for through rbmc-powerd, and serves the PEF
//! commands (Get PEF Capabilities, Arm PEF Postpone Timer, Set/Get PEF
//! Configuration Parameters, Set/Get Last Processed Event ID, Alert
//! Immediate, PET Acknowledge) and sends the alerts as Platform Event
//! Traps to the LAN channel's alert destinations.
//!
//! # Layout
//! - [`owner`]: the task that owns the settings and the processing
//!   (`ipmi_pef`); every change is stored before it takes effect.
//! - [`store`]: the settings file, `<state>/pef.toml`.
//! - [`commands`]: the IPMI commands.
//! - [`feed`]: the SEL's added records and the host's power-on, into PEF.
//! - [`actions`]: what PEF asks for, carried out.
//! - [`alerts`]: PEF's alerts: PET traps to the LAN alert destinations,
//!   their acknowledgements, and Alert Immediate.

pub mod actions;
pub mod alerts;
pub mod cli;
pub mod commands;
pub mod feed;
pub mod owner;
pub mod store;

use std::{future::Future, path::PathBuf, sync::Arc};

use ipmi_router::owner::Execute;
use rbmc_config::Config;
use rbmc_contracts::names;

use crate::{alerts::Alerter, owner::PefHandle, store::Store};

/// Serves PEF until `shutdown` resolves.
pub async fn run(
    config: Config,
    state_dir: PathBuf,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let store = Arc::new(Store::new(&state_dir));
    let settings = store.load(config.network.channel)?;
    let (pef, outputs) = PefHandle::spawn(settings, store);
    let mut startup = rbmc_daemon::Startup::connect().await?;
    let alerter = Alerter::start(startup.connection().clone(), pef.clone(), &config);
    let table = commands::command_table(pef.clone(), alerter.clone());
    startup
        .serve_commands(Arc::new(table) as Arc<dyn Execute>)
        .await?;
    let bus = startup.connection().clone();
    // Subscribed before the name is claimed: no record added after the
    // bridges can reach PEF goes unseen.
    tokio::spawn(feed::follow_sel(bus.clone(), pef.clone()));
    tokio::spawn(feed::follow_host_power(bus.clone(), pef));
    tokio::spawn(actions::run(bus, alerter, outputs));
    startup.name(names::PEFD);
    let running = startup.claim_names().await?.ready();
    running.until(shutdown).await
}
