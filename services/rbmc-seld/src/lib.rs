//! The SEL logger: the System Event Log's storage, its IPMI commands and the
//! D-Bus method every other daemon logs events with.
//!
//! # Layout
//! - [`audit`]: the audit trail, `org.rbmc.Audit`: its owner task, its
//!   file (the format is the `audit_journal` crate's) and its copy to the
//!   systemd journal.
//! - [`sel`]: the task that owns the SEL, the SEL commands and Platform
//!   Event Message.
//! - [`store`]: the journal file's I/O (the format is the `sel_journal`
//!   crate's).
//! - [`logging`]: `xyz.openbmc_project.Logging.IPMI` and the JSON export.
//! - [`decode`]: sensor type and event names for the export.

pub mod cli;

pub mod audit;
pub mod decode;
pub mod logging;
pub mod sel;
pub mod store;

use std::{future::Future, path::Path, sync::Arc};

use anyhow::Context as _;
use ipmi_router::{names, owner::Execute, CommandTable, IpmiRequest};
use rbmc_config::Config;
use rbmc_contracts::audit::AUDIT_PATH;
use tracing::info;

use crate::{
    audit::{Audit, AuditState},
    sel::{Sel, SelState},
};

/// What the command handlers share.
#[derive(Debug)]
pub struct Seld {
    /// The SEL.
    pub sel: Sel,
}

/// Adds every command the SEL logger owns; each goes to the SEL's task.
pub fn register(table: &mut CommandTable<Seld>) -> anyhow::Result<()> {
    for (netfn, cmd, privilege) in sel::COMMANDS {
        table.add(
            netfn,
            cmd,
            privilege,
            |s: Arc<Seld>, r: IpmiRequest| async move { s.sel.execute(r).await },
        )?;
    }
    Ok(())
}

/// Serves the SEL until `shutdown` resolves.
pub async fn run(
    config: Config,
    state_dir: &Path,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let sel = SelState::open(state_dir, &config.sel).context("opening the SEL")?;
    info!(entries = sel.records().count(), "SEL opened");
    let sel = Sel::spawn(sel);
    let audit = AuditState::open(
        state_dir,
        config.audit.capacity.get(),
        Path::new(audit::journald::SOCKET),
    )
    .context("opening the audit log")?;
    info!(records = audit.records().count(), "audit log opened");
    let audit = Audit::spawn(audit);
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
        .serve_at("/org/rbmc/Sel", logging::ExportObject { sel: sel.clone() })
        .await?
        .serve_at(AUDIT_PATH, audit::AuditObject { audit })
        .await?;
    tokio::spawn(logging::announce_added_records(
        startup.connection().clone(),
        sel,
    ));
    startup
        .name(names::SELD)
        .name("xyz.openbmc_project.Logging.IPMI");
    startup.claim_names().await?.ready().until(shutdown).await
}
