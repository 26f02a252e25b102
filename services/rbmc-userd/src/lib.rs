//! rbmc-userd: the owner of accounts. It keeps the users, their sealed
//! passwords and the account policy; answers the IPMI user commands;
//! serves OpenBMC's user manager, user objects and account policy; and does
//! the password's part of every RMCP+ login for the network bridge, which
//! never holds a password.
//!
//! # Layout
//! - [`store`]: the sealed store, and the migration of rbmc-netipmid's old
//!   one.
//! - [`owner`]: the task that owns the accounts; every change is stored
//!   before it takes effect.
//! - [`commands`]: the IPMI user commands.
//! - [`dbus`]: the fixed D-Bus objects; [`user_objects`]: one per user;
//!   `rbmc_daemon::caller` names who called, for the audit trail.
//! - [`audit`]: records in the audit trail.
//! - [`follow`]: per-user objects, signals and lockout events that follow
//!   each change.
//! - [`provision`]: the first users: from the config on first start, or
//!   from a one-time provisioning file.

pub mod audit;
pub mod cli;
pub mod commands;
pub mod dbus;
pub mod follow;
pub mod owner;
pub mod provision;
pub mod store;
pub mod user_objects;

use std::{
    future::Future,
    path::{Path, PathBuf},
    sync::Arc,
};

use anyhow::Context as _;
use ipmi_router::owner::Execute;
use rbmc_config::Config;
use rbmc_contracts::names;

use rbmc_daemon::ConfigProblem;

use crate::{
    owner::AccountsHandle,
    store::{Store, StoreError},
};

/// A store error that restarting will not mend (a key of the wrong size
/// or one that does not open the store, a store that does not parse)
/// becomes a [`ConfigProblem`]: the daemon exits 78 and systemd stops
/// instead of starting it again and again.
fn lasting_as_config(err: anyhow::Error) -> anyhow::Error {
    let lasting = err.chain().any(|cause| {
        cause
            .downcast_ref::<StoreError>()
            .is_some_and(StoreError::is_lasting)
    });
    if lasting {
        ConfigProblem(format!("{err:#}")).into()
    } else {
        err
    }
}

/// Serves the accounts until `shutdown` resolves.
pub async fn run(
    config: Config,
    state_dir: PathBuf,
    migrate_from: Option<PathBuf>,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let channel = config.network.channel;
    let key_file = match &config.network.user_key_file {
        // A key the config places: its directory must be there already,
        // with the permissions someone chose; never made here.
        Some(path) => {
            let dir = path.parent().unwrap_or(Path::new("/"));
            if !dir.is_dir() {
                return Err(ConfigProblem(format!(
                    "[network] user-key-file {}: its directory {} does not exist",
                    path.display(),
                    dir.display()
                ))
                .into());
            }
            path.clone()
        }
        None => state_dir.join("user.key"),
    };
    let store = Store::open(state_dir.join("userd.toml"), &key_file)
        .context("opening the accounts store")
        .map_err(lasting_as_config)?;
    let accounts = provision::load_or_create(&config, &store, migrate_from.as_deref())
        .context("loading the accounts")
        .map_err(lasting_as_config)?;
    let accounts = provision::apply_provisioning_file(&store, accounts, &state_dir)
        .context("applying the provisioning file")?;
    let (handle, changes) = AccountsHandle::spawn(accounts, Arc::new(store));
    let table = commands::command_table(handle.clone());
    let mut startup = rbmc_daemon::Startup::connect().await?;
    startup
        .serve_commands(Arc::new(table) as Arc<dyn Execute>)
        .await?;
    dbus::serve_fixed(startup.connection(), &handle).await?;
    follow::serve_sensor(startup.connection()).await?;
    tracing::info!("accounts objects served; claiming the names");
    let conn = startup.connection().clone();
    startup.name(names::USERD).name(names::USER_MANAGER);
    let running = startup.claim_names().await?.ready();
    tokio::spawn(follow::follow(conn, handle, changes, channel));
    running.until(shutdown).await
}
