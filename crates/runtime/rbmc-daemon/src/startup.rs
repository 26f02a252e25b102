//! Joining the bus, the one way every daemon does it (STYLE item 23):
//! connect, serve every object, request the bus names, then tell systemd
//! `READY=1`, then serve until a stop signal or a lost bus.
//!
//! The order is in the types, so a daemon cannot get it wrong:
//! - [`Startup`]: connected, no name owned. Objects are served here: the
//!   command table ([`Startup::serve_commands`]), any other object
//!   ([`Startup::serve_at`]), a bridge's router ([`Startup::start_router`]).
//! - [`Named`]: every name is owned ([`Startup::claim_names`]), nothing told
//!   to systemd yet. Work that must happen once, by the one instance that
//!   won the name (powering the host on by the restore policy), goes here.
//! - [`Running`]: `READY=1` sent ([`Named::ready`]); [`Running::until`]
//!   waits for the shutdown future or a lost bus.
//!
//! Nobody can find a name without the objects behind it, and systemd never
//! hears "ready" from a daemon that does not own its names.
//!
//! An owner daemon:
//! ```no_run
//! # async fn owner(table: std::sync::Arc<dyn ipmi_router::owner::Execute>) -> anyhow::Result<()> {
//! let mut startup = rbmc_daemon::Startup::connect().await?;
//! startup.serve_commands(table).await?;
//! startup.name("org.rbmc.Example");
//! startup
//!     .claim_names()
//!     .await?
//!     .ready()
//!     .until(rbmc_daemon::shutdown_signal())
//!     .await
//! # }
//! ```
//! A bridge (rbmc-netipmid, rbmc-kcsd) does the same with
//! [`Startup::start_router`] in place of (or as well as)
//! [`Startup::serve_commands`], and starts its transports between
//! [`Startup::claim_names`] and [`Named::ready`].

use std::{future::Future, sync::Arc};

use anyhow::Context as _;
use ipmi_router::owner::Execute;
use rbmc_config::Config;
use tracing::info;

/// Connected to the bus, owning no name yet: serve objects here.
#[derive(Debug)]
pub struct Startup {
    conn: zbus::Connection,
    names: Vec<String>,
}

impl Startup {
    /// Connects to the suite's bus ([`crate::bus_builder`]).
    pub async fn connect() -> anyhow::Result<Self> {
        let conn = crate::bus_builder()?
            .build()
            .await
            .context("connecting to the bus")?;
        Ok(Self::on(conn))
    }

    /// Starts from a connection made elsewhere (a test's private bus).
    pub fn on(conn: zbus::Connection) -> Self {
        Self {
            conn,
            names: Vec::new(),
        }
    }

    /// The connection, for what needs it before the objects exist: a board
    /// that calls another daemon, objects served by a module of their own.
    /// Request names only through [`Startup::name`].
    pub fn connection(&self) -> &zbus::Connection {
        &self.conn
    }

    /// Serves an owner's command table at [`ipmi_router::OWNER_PATH`] (the
    /// routing contract's two interfaces).
    pub async fn serve_commands(&mut self, table: Arc<dyn Execute>) -> anyhow::Result<&mut Self> {
        ipmi_router::owner::register_owner(&self.conn, table)
            .await
            .context("serving the command table")?;
        Ok(self)
    }

    /// Serves `object` at `path`.
    pub async fn serve_at<I>(&mut self, path: &str, object: I) -> anyhow::Result<&mut Self>
    where
        I: zbus::object_server::Interface,
    {
        self.conn
            .object_server()
            .at(path, object)
            .await
            .with_context(|| format!("serving {} at {path}", I::name()))?;
        Ok(self)
    }

    /// Starts a bridge's router to the owners named in `[routing]` (it
    /// serves the live command map), with the bridge's own `local` commands
    /// first; with [`crate::LocalCommands::Owned`] they are also served on
    /// the bus as an owner. `bus_name` is the bridge's own name, left out of
    /// the owners it routes to.
    pub async fn start_router(
        &mut self,
        bus_name: &str,
        config: &Config,
        local: Option<Arc<dyn Execute>>,
        visibility: crate::LocalCommands,
    ) -> anyhow::Result<ipmi_router::Router> {
        if let (crate::LocalCommands::Owned, Some(table)) = (visibility, &local) {
            self.serve_commands(table.clone()).await?;
        }
        ipmi_router::Router::start(
            self.conn.clone(),
            ipmi_router::RouterConfig {
                // A bridge that is also an owner serves its own commands
                // locally.
                owners: config
                    .routing
                    .owners
                    .iter()
                    .filter(|owner| *owner != bus_name)
                    .cloned()
                    .collect(),
                call_timeout: config.routing.timeout(),
            },
            local,
        )
        .await
        .context("starting the router")
    }

    /// Adds a bus name to request once everything is served. The first is
    /// the daemon's own name (the one its logs report).
    pub fn name(&mut self, name: impl Into<String>) -> &mut Self {
        self.names.push(name.into());
        self
    }

    /// Requests every name, in the order given, now that the objects are
    /// served. A name another process owns is an error: two instances of one
    /// daemon must not both serve.
    pub async fn claim_names(self) -> anyhow::Result<Named> {
        // The object server exists before any name does, so no call to the
        // name finds it missing (a bridge that serves no object of its own
        // still answers `Peer` and `Introspectable`).
        let _ = self.conn.object_server();
        for name in &self.names {
            self.conn
                .request_name(name.as_str())
                .await
                .with_context(|| format!("requesting the bus name {name}"))?;
        }
        Ok(Named {
            conn: self.conn,
            name: self.names.into_iter().next().unwrap_or_default(),
        })
    }
}

/// Every object served and every name owned; systemd not told yet.
#[derive(Debug)]
pub struct Named {
    conn: zbus::Connection,
    name: String,
}

impl Named {
    /// The connection.
    pub fn connection(&self) -> &zbus::Connection {
        &self.conn
    }

    /// Tells systemd the daemon is ready (`READY=1`).
    pub fn ready(self) -> Running {
        info!(name = %self.name, "serving");
        crate::mark_ready();
        crate::notify_ready();
        Running {
            conn: self.conn,
            name: self.name,
        }
    }
}

/// Serving, and systemd knows it.
#[derive(Debug)]
pub struct Running {
    conn: zbus::Connection,
    name: String,
}

impl Running {
    /// The connection.
    pub fn connection(&self) -> &zbus::Connection {
        &self.conn
    }

    /// Serves until `shutdown` resolves (`Ok`), the bus stops answering,
    /// or a BMC reset names this daemon (errors: the supervisor starts the
    /// daemon again, against a new bus or fresh).
    pub async fn until(self, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
        tokio::select! {
            () = shutdown => Ok(()),
            () = crate::bus_lost(&self.conn) => anyhow::bail!("lost the connection to the bus"),
            () = reset_requested(&self.conn, &self.name) => {
                anyhow::bail!("a BMC reset restarts {}", self.name)
            }
        }
    }
}

/// Resolves when rbmc-sensord's `ResetRequested` lists `name`
/// ([`rbmc_contracts::bmc`]); never, if the match cannot be added.
async fn reset_requested(conn: &zbus::Connection, name: &str) {
    use futures_util::StreamExt as _;
    use rbmc_contracts::{bmc, names};
    let rule = zbus::MatchRule::builder()
        .msg_type(zbus::message::Type::Signal)
        .sender(names::SENSORD)
        .and_then(|b| b.path(bmc::BMC_PATH))
        .and_then(|b| b.interface(bmc::BMC_INTERFACE))
        .and_then(|b| b.member(bmc::RESET_REQUESTED))
        .map(zbus::match_rule::Builder::build);
    let stream = match rule {
        Ok(rule) => zbus::MessageStream::for_match_rule(rule, conn, None).await,
        Err(err) => Err(err),
    };
    let mut stream = match stream {
        Ok(stream) => stream,
        Err(err) => {
            tracing::warn!(cause = %err, "cannot follow BMC resets");
            return std::future::pending().await;
        }
    };
    while let Some(message) = stream.next().await {
        let Ok(message) = message else { continue };
        let listed = message
            .body()
            .deserialize::<Vec<String>>()
            .is_ok_and(|daemons| daemons.iter().any(|d| d == name));
        if listed {
            info!(%name, "BMC reset: restarting");
            return;
        }
    }
    std::future::pending().await
}
