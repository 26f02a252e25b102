//! The SEL logger: the System Event Log's storage, its IPMI commands and the
//! D-Bus method every other daemon logs events with.
//!
//! # Layout
//! - [`store`]: the crash-safe journal.
//! - [`sel`]: the SEL commands and Platform Event Message.
//! - [`logging`]: `xyz.openbmc_project.Logging.IPMI` and the JSON export.
//! - [`decode`]: sensor type and event names for the export.

pub mod cli;

pub mod decode;
pub mod logging;
pub mod sel;
pub mod store;

use std::{
    future::Future,
    path::Path,
    sync::{Arc, Mutex},
};

use anyhow::Context as _;
use ipmi_router::{names, owner::Execute, CommandTable};
use ipmi_wire::{NetFn, Privilege};
use rbmc_config::Config;
use tracing::info;

use crate::sel::Sel;

/// What the command handlers share.
#[derive(Debug)]
pub struct Seld {
    /// The SEL.
    pub sel: Arc<Mutex<Sel>>,
}

fn lock(sel: &Mutex<Sel>) -> std::sync::MutexGuard<'_, Sel> {
    sel.lock().unwrap_or_else(|e| e.into_inner())
}

/// Adds every command the SEL logger owns.
pub fn register(table: &mut CommandTable<Seld>) -> anyhow::Result<()> {
    let st = NetFn::STORAGE;
    let (user, operator) = (Privilege::User, Privilege::Operator);
    table
        .add_sync(st, 0x40, user, |s, r| lock(&s.sel).cmd_info(&r.data))?
        .add_sync(st, 0x41, user, |s, r| {
            lock(&s.sel).cmd_allocation_info(&r.data)
        })?
        .add_sync(st, 0x42, user, |s, r| lock(&s.sel).cmd_reserve(&r.data))?
        .add_sync(st, 0x43, user, |s, r| lock(&s.sel).cmd_get_entry(&r.data))?
        .add_sync(st, 0x44, operator, |s, r| {
            lock(&s.sel).cmd_add_entry(&r.data)
        })?
        .add_sync(st, 0x46, operator, |s, r| {
            lock(&s.sel).cmd_delete_entry(&r.data)
        })?
        .add_sync(st, 0x47, operator, |s, r| lock(&s.sel).cmd_clear(&r.data))?
        .add_sync(st, 0x48, user, |s, r| lock(&s.sel).cmd_get_time(&r.data))?
        .add_sync(st, 0x49, operator, |s, r| {
            lock(&s.sel).cmd_set_time(&r.data)
        })?
        .add_sync(st, 0x5C, user, |s, r| {
            lock(&s.sel).cmd_get_utc_offset(&r.data)
        })?
        .add_sync(st, 0x5D, operator, |s, r| {
            lock(&s.sel).cmd_set_utc_offset(&r.data)
        })?
        .add_sync(NetFn::SENSOR_EVENT, 0x02, operator, |s, r| {
            lock(&s.sel).cmd_platform_event(r)
        })?;
    Ok(())
}

/// Serves the SEL until `shutdown` resolves.
pub async fn run(
    config: Config,
    state_dir: &Path,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let sel = Sel::open(state_dir, &config.sel).context("opening the SEL")?;
    info!(entries = sel.records().count(), "SEL opened");
    let sel = Arc::new(Mutex::new(sel));
    let mut table = CommandTable::new(Seld { sel: sel.clone() });
    register(&mut table).context("registering commands")?;
    let mut startup = rbmc_daemon::Startup::connect().await?;
    startup
        .serve_commands(Arc::new(table) as Arc<dyn Execute>)
        .await?
        .serve_at(
            "/xyz/openbmc_project/Logging/IPMI",
            logging::LoggingObject { sel: sel.clone() },
        )
        .await?
        .serve_at("/org/rbmc/Sel", logging::ExportObject { sel })
        .await?;
    startup
        .name(names::SELD)
        .name("xyz.openbmc_project.Logging.IPMI");
    startup.claim_names().await?.ready().until(shutdown).await
}
