//! The Redfish service: the same BMC as the IPMI bridges, over HTTPS, with
//! no IPMI inside. Like them it owns no hardware: every resource is read
//! from, and every change goes to, the D-Bus owners (sensors, power and
//! boot, the SEL and audit trail, accounts).
//!
//! # Layout
//! - [`tls`]: the certificate (configured, or self-signed and kept) and the
//!   TLS versions and suites.
//! - [`listener`]: connections, HTTP/1.1 and HTTP/2, and the limits on
//!   them.
//! - [`exchange`]: one request, from hyper's to hyper's: the body limit,
//!   the route, the headers every response carries.
//! - [`service`]: the state every connection shares, requests and
//!   replies as routes see them, and authentication.
//! - [`owners`]: reading the D-Bus owners, and the shared read of the
//!   sensors.
//! - [`routes`]: which resource a path names, its methods and privileges,
//!   and the query options; [`expand`]: `$expand`.
//! - [`resources`]: each resource, read from and changed through its owner.
//! - [`events`]: the hub that numbers events and hands them out;
//!   [`subscriptions`]: push subscriptions, kept and delivered; [`clock`]:
//!   times as Redfish writes them.
//! - `redfish-core` (crate): sessions, roles and privileges, the Base
//!   registry's errors, without I/O.

pub mod cli;
pub mod clock;

pub mod events;
pub mod exchange;
pub mod expand;
pub mod listener;
pub mod login;
pub mod owners;
pub mod resources;
pub mod routes;
pub mod service;
pub mod subscriptions;
pub mod tls;

use std::{future::Future, path::PathBuf, sync::Arc};

use rbmc_config::Config;
use rbmc_contracts::names;

/// Serves Redfish until `shutdown`.
pub async fn run(
    config: Config,
    state_dir: PathBuf,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    // The certificate and the port first: a bad certificate or a taken
    // port is a clear, early failure naming it.
    let tls = tls::server_config(&config.redfish, &state_dir)?;
    let listener = listener::bind(&config.redfish).await?;
    let mut startup = rbmc_daemon::Startup::connect().await?;
    let service = Arc::new(service::Service::new(
        startup.connection().clone(),
        &config,
        &state_dir,
    ));
    service.subscriptions.start_all(&service.events);
    startup.name(names::REDFISHD);
    let running = startup.claim_names().await?.ready();
    let limits = config.redfish.clone();
    let revoked = end_revoked_sessions(service.clone());
    let sel_events = resources::sel_events::follow_sel(service.clone());
    let serving = listener::serve(listener, tls, service, &limits, std::future::pending());
    tokio::select! {
        () = serving => Ok(()),
        () = revoked => Ok(()),
        () = sel_events => Ok(()),
        result = running.until(shutdown) => result,
    }
}

/// Ends the sessions of each user the accounts owner revokes (deleted or
/// disabled, by whichever protocol), as the IPMI bridge does its own.
async fn end_revoked_sessions(service: Arc<service::Service>) {
    use futures_util::StreamExt as _;
    let stream = async {
        rbmc_contracts::user::AuthenticatorProxy::new(&service.bus)
            .await?
            .receive_sessions_revoked()
            .await
    };
    let mut revoked = match stream.await {
        Ok(stream) => stream,
        Err(err) => {
            tracing::warn!(%err, "not following revoked sessions");
            return std::future::pending().await;
        }
    };
    while let Some(signal) = revoked.next().await {
        if let Ok(args) = signal.args() {
            service.end_sessions_of_id(args.user_id);
        }
    }
    std::future::pending().await
}
