//! The bridge side: find the owners, keep the command map, route requests
//! with a bounded wait, and turn a failed call into the completion code the
//! requester sees (`completion_for`, with the table).

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
    time::Duration,
};

use futures_util::StreamExt;
use ipmi_wire::{Answer, CompletionCode, Privilege};
use rbmc_contracts::{
    ipmi::{CommandOwnerProxy, IpmiServerProxy},
    CommonError,
};
use tracing::{debug, error, info, warn};
use zbus::{fdo, fdo::DBusProxy, names::BusName, proxy::CacheProperties, Connection};

use crate::{
    direct::{self, DirectLink},
    owner::Execute,
    CommandSpec, HandlerResult, IpmiRequest, OWNER_PATH, ROUTER_PATH,
};

/// Settings of a [`Router`].
#[derive(Clone, Debug)]
pub struct RouterConfig {
    /// Bus names of the owners to route to.
    pub owners: Vec<String>,
    /// The longest a bridge waits for an owner's answer before 0xC3.
    pub call_timeout: Duration,
}

#[derive(Clone, Debug)]
struct Route {
    owner: Arc<str>,
    privilege: Privilege,
}

struct Inner {
    conn: Connection,
    timeout: Duration,
    routes: RwLock<HashMap<(u8, u8), Route>>,
    proxies: HashMap<Arc<str>, IpmiServerProxy<'static>>,
    /// Direct routes, for the owners that gave one (the rest go through the
    /// broker on `proxies`).
    direct: RwLock<HashMap<Arc<str>, Arc<DirectLink>>>,
    /// Owners known to have left the bus (until their name is back): their
    /// commands answer node busy without a call, whatever the broker does
    /// with a message to a name nobody holds (busd drops it silently).
    away: RwLock<std::collections::HashSet<Arc<str>>>,
    /// How many times each owner has left the bus: a call that times out
    /// while this moved was cut off by the owner's death (C0h, not C3h).
    departures: std::sync::Mutex<HashMap<Arc<str>, u64>>,
    local: Option<Arc<dyn Execute>>,
    /// Owners whose declarations have been read at least once.
    loaded: std::sync::Mutex<std::collections::HashSet<String>>,
    /// When missing owners were last asked, so unknown commands cannot make
    /// the bridge query them on every request.
    last_load_missing: std::sync::Mutex<Option<std::time::Instant>>,
}

/// Routes requests from a bridge to the command owners.
#[derive(Clone)]
pub struct Router {
    inner: Arc<Inner>,
}

/// Name given to commands the bridge itself executes.
const LOCAL_OWNER: &str = "(local)";

impl Router {
    /// Starts watching the owners on `conn`. `local` holds commands the bridge
    /// executes itself; they win over any remote claim.
    pub async fn start(
        conn: Connection,
        config: RouterConfig,
        local: Option<Arc<dyn Execute>>,
    ) -> zbus::Result<Self> {
        let mut proxies = HashMap::new();
        for owner in &config.owners {
            let name: Arc<str> = owner.as_str().into();
            let proxy = IpmiServerProxy::builder(&conn)
                .destination(owner.clone())?
                .path(OWNER_PATH)?
                .cache_properties(CacheProperties::No)
                .build()
                .await?;
            proxies.insert(name, proxy);
        }
        let mut routes = HashMap::new();
        if let Some(local) = &local {
            for spec in local.specs() {
                routes.insert(
                    (spec.netfn.0, spec.cmd),
                    Route {
                        owner: LOCAL_OWNER.into(),
                        privilege: spec.privilege,
                    },
                );
            }
        }
        let router = Self {
            inner: Arc::new(Inner {
                conn: conn.clone(),
                timeout: config.call_timeout,
                routes: RwLock::new(routes),
                proxies,
                direct: Default::default(),
                away: Default::default(),
                departures: Default::default(),
                local,
                loaded: Default::default(),
                last_load_missing: Default::default(),
            }),
        };
        for owner in config.owners {
            let router = router.clone();
            tokio::spawn(async move {
                if let Err(err) = router.watch_owner(&owner).await {
                    error!(owner, cause = %err, "stopped watching command owner");
                }
            });
        }
        conn.object_server()
            .at(
                ROUTER_PATH,
                RouterObject {
                    router: router.clone(),
                },
            )
            .await?;
        Ok(router)
    }

    /// Follows one owner's bus name and loads its declarations each time it
    /// appears. Declarations are kept while the owner is away, so its
    /// commands answer "node busy" rather than "invalid command".
    async fn watch_owner(&self, owner: &str) -> zbus::Result<()> {
        let dbus = DBusProxy::new(&self.inner.conn).await?;
        // Subscribe before the first check so an owner starting in between
        // is not missed.
        let mut changes = dbus
            .receive_name_owner_changed_with_args(&[(0, owner)])
            .await?;
        let name = BusName::try_from(owner.to_owned())?;
        if dbus.name_has_owner(name).await? {
            self.load_declarations(owner).await;
        }
        while let Some(signal) = changes.next().await {
            let Ok(args) = signal.args() else { continue };
            if args.new_owner().is_some() {
                self.load_declarations(owner).await;
            } else {
                warn!(owner, "command owner left the bus");
                *self
                    .inner
                    .departures
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .entry(owner.into())
                    .or_default() += 1;
                self.inner
                    .away
                    .write()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(owner.into());
                self.drop_direct(owner, None);
            }
        }
        Ok(())
    }

    async fn load_declarations(&self, owner: &str) -> bool {
        let specs = match self.fetch_declarations(owner).await {
            Ok(specs) => specs,
            Err(err) => {
                debug!(owner, cause = %err, "could not read the owner's command declarations");
                return false;
            }
        };
        let accepted = self.install_routes(owner, specs);
        self.inner
            .away
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(owner);
        self.inner
            .loaded
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(owner.to_owned());
        info!(
            owner,
            commands = accepted,
            "command owner declared its commands"
        );
        // A fresh instance of the owner: route to it directly if it lets us.
        self.drop_direct(owner, None);
        if let Some(link) = direct::open(&self.inner.conn, owner, self.inner.timeout).await {
            self.inner
                .direct
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .insert(owner.into(), Arc::new(link));
        }
        true
    }

    /// Replaces `owner`'s routes with `specs`, refusing commands another
    /// owner holds; returns how many were taken.
    fn install_routes(&self, owner: &str, specs: Vec<CommandSpec>) -> usize {
        let owner_name: Arc<str> = owner.into();
        let mut routes = self.inner.routes.write().unwrap_or_else(|e| e.into_inner());
        routes.retain(|_, route| route.owner != owner_name);
        let mut accepted = 0;
        for spec in specs {
            let key = (spec.netfn.0, spec.cmd);
            if let Some(existing) = routes.get(&key) {
                error!(owner, holder = %existing.owner, netfn = ?spec.netfn, cmd = spec.cmd,
                    "command already owned; refusing the second claim");
                continue;
            }
            routes.insert(
                key,
                Route {
                    owner: owner_name.clone(),
                    privilege: spec.privilege,
                },
            );
            accepted += 1;
        }
        accepted
    }

    /// Forgets the direct route to `owner` (only `link`, if given, so a
    /// newer route is kept).
    fn drop_direct(&self, owner: &str, link: Option<&Arc<DirectLink>>) {
        let mut direct = self.inner.direct.write().unwrap_or_else(|e| e.into_inner());
        if let Some(current) = direct.get(owner) {
            if link.is_none_or(|link| Arc::ptr_eq(link, current)) {
                direct.remove(owner);
            }
        }
    }

    /// Reads the declarations of owners never heard from: covers an owner
    /// that took its name between our subscription and our first look (or a
    /// signal the broker did not deliver). Returns whether any was read.
    async fn load_missing(&self) -> bool {
        {
            let mut last = self
                .inner
                .last_load_missing
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            let now = std::time::Instant::now();
            if last.is_some_and(|at| now.duration_since(at) < Duration::from_secs(1)) {
                return false;
            }
            *last = Some(now);
        }
        let missing: Vec<String> = {
            let loaded = self.inner.loaded.lock().unwrap_or_else(|e| e.into_inner());
            self.inner
                .proxies
                .keys()
                .filter(|owner| !loaded.contains(&***owner))
                .map(|owner| owner.to_string())
                .collect()
        };
        let mut any = false;
        for owner in missing {
            any |= self.load_declarations(&owner).await;
        }
        any
    }

    async fn fetch_declarations(&self, owner: &str) -> zbus::Result<Vec<CommandSpec>> {
        let proxy = CommandOwnerProxy::builder(&self.inner.conn)
            .destination(owner.to_owned())?
            .cache_properties(CacheProperties::No)
            .build()
            .await?;
        let raw = tokio::time::timeout(self.inner.timeout, proxy.commands())
            .await
            .map_err(|_| {
                zbus::Error::InputOutput(std::io::Error::from(std::io::ErrorKind::TimedOut).into())
            })??;
        Ok(raw
            .into_iter()
            .filter_map(|triple| {
                let spec = CommandSpec::from_wire(triple);
                if spec.is_none() {
                    warn!(owner, ?triple, "ignoring malformed command declaration");
                }
                spec
            })
            .collect())
    }

    /// Owners whose declarations have been read, sorted.
    pub fn loaded_owners(&self) -> Vec<String> {
        let loaded = self.inner.loaded.lock().unwrap_or_else(|e| e.into_inner());
        let mut owners: Vec<String> = loaded.iter().cloned().collect();
        owners.sort();
        owners
    }

    /// How many times `owner` has left the bus.
    fn departures(&self, owner: &Arc<str>) -> u64 {
        self.inner
            .departures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(owner)
            .copied()
            .unwrap_or(0)
    }

    /// Owners routed to directly, sorted (the rest go through the broker).
    pub fn direct_owners(&self) -> Vec<String> {
        let direct = self.inner.direct.read().unwrap_or_else(|e| e.into_inner());
        let mut owners: Vec<String> = direct.keys().map(|owner| owner.to_string()).collect();
        owners.sort();
        owners
    }

    /// The live command map: (netfn, cmd, privilege, owner).
    pub fn command_map(&self) -> Vec<(u8, u8, u8, String)> {
        let routes = self.inner.routes.read().unwrap_or_else(|e| e.into_inner());
        let mut map: Vec<_> = routes
            .iter()
            .map(|((netfn, cmd), route)| {
                (
                    *netfn,
                    *cmd,
                    route.privilege.level(),
                    route.owner.to_string(),
                )
            })
            .collect();
        map.sort();
        map
    }

    /// Executes `request` wherever it is owned, within the configured time.
    pub async fn route(&self, request: IpmiRequest) -> HandlerResult {
        self.route_answer(request).await.into_result()
    }

    /// [`Router::route`], keeping data that comes with a completion code
    /// other than success (what a bridge sends its requester).
    pub async fn route_answer(&self, request: IpmiRequest) -> Answer {
        self.route_to_owner(request)
            .await
            .unwrap_or_else(Answer::from)
    }

    async fn route_to_owner(&self, request: IpmiRequest) -> Result<Answer, CompletionCode> {
        let lookup = || {
            let routes = self.inner.routes.read().unwrap_or_else(|e| e.into_inner());
            routes.get(&(request.netfn.0, request.cmd)).cloned()
        };
        let route = match lookup() {
            Some(route) => Some(route),
            // Not known: perhaps its owner's declarations are not read yet.
            None if self.load_missing().await => lookup(),
            None => None,
        };
        let Some(route) = route else {
            return Err(CompletionCode::INVALID_COMMAND);
        };
        if request.context.privilege < route.privilege {
            return Err(CompletionCode::INSUFFICIENT_PRIVILEGE);
        }
        if &*route.owner == LOCAL_OWNER {
            return match &self.inner.local {
                Some(local) => Ok(local.answer(request).await),
                None => Err(CompletionCode::INVALID_COMMAND),
            };
        }
        let Some(bus_proxy) = self.inner.proxies.get(&route.owner) else {
            return Err(CompletionCode::INVALID_COMMAND);
        };
        let away = self
            .inner
            .away
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&route.owner);
        if away {
            return Err(CompletionCode::NODE_BUSY);
        }
        let link = self
            .inner
            .direct
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&route.owner)
            .cloned();
        let departures_before = self.departures(&route.owner);
        let call = async {
            match &link {
                Some(link) => link.execute(&request).await,
                None => bus_proxy
                    .execute(
                        request.netfn.0,
                        request.lun,
                        request.cmd,
                        &request.data,
                        request.context.to_options(),
                    )
                    .await
                    .map(|(_netfn, _lun, _cmd, code, data)| (code, data)),
            }
        };
        match tokio::time::timeout(self.inner.timeout, call).await {
            // The owner left the bus while we waited: it died mid-call (a
            // broker such as busd drops the call instead of answering).
            Err(_) if self.departures(&route.owner) != departures_before => {
                warn!(owner = %route.owner, netfn = ?request.netfn, cmd = request.cmd,
                    "owner left the bus during the call");
                Err(CompletionCode::NODE_BUSY)
            }
            Err(_) => {
                warn!(owner = %route.owner, netfn = ?request.netfn, cmd = request.cmd,
                    timeout_ms = self.inner.timeout.as_millis(), "owner did not answer in time");
                Err(CompletionCode::TIMEOUT)
            }
            // The direct route broke: the owner closed it, which it does
            // only when it goes away. As for a death mid-call on the bus,
            // node busy; later requests go through the bus until the
            // owner is back and gives a new route.
            Ok(Err(CommonError::ZBus(err)))
                if link.is_some()
                    && !matches!(err, zbus::Error::MethodError(..) | zbus::Error::FDO(_)) =>
            {
                warn!(owner = %route.owner, cause = %err, "direct route to the owner lost");
                self.drop_direct(&route.owner, link.as_ref());
                Err(CompletionCode::NODE_BUSY)
            }
            Ok(Ok((code, data))) => Ok(Answer::new(CompletionCode(code), data)),
            Ok(Err(err)) => {
                let code = completion_for(&err);
                warn!(owner = %route.owner, netfn = ?request.netfn, cmd = request.cmd,
                    cause = %err, completion = %code, "routing failed");
                Err(code)
            }
        }
    }
}

/// Maps a failed `execute` call to the completion code the requester sees
/// (the table in docs/ARCHITECTURE.md, "The routing contract"). The owner
/// reports a command's own failure as a completion code inside its reply;
/// an error reply means the call failed, and is decided here:
///
/// | D-Bus error | code |
/// |---|---|
/// | `org.freedesktop.DBus.Error.ServiceUnknown`, `.NameHasNoOwner`, `.NoReply`: the owner is not on the bus or died mid-call | C0h node busy (the supervisor restarts it) |
/// | `org.freedesktop.DBus.Error.Timeout`, `.TimedOut`; zbus's own call timeout | C3h timeout |
/// | `xyz.openbmc_project.Common.Error.Timeout` | C3h timeout |
/// | `...Common.Error.Unavailable`, `.TooManyResources` | C0h node busy |
/// | `...Common.Error.InvalidArgument` | CCh invalid data field |
/// | `...Common.Error.InsufficientPermission` | D4h insufficient privilege |
/// | `...Common.Error.NotAllowed` | D5h not supported in present state |
/// | `...Common.Error.ResourceNotFound` | CBh not present |
/// | `...Common.Error.UnsupportedRequest` | C1h invalid command |
/// | `...Common.Error.QuotaExceeded` | C4h out of space |
/// | `...Common.Error.InternalFailure`, any other failure | FFh unspecified |
///
/// The bridge's own bound on the wait (`[routing] timeout-ms`) gives C3h in
/// [`Router::route`], before any error arrives.
fn completion_for(err: &CommonError) -> CompletionCode {
    match err {
        CommonError::ZBus(err) => completion_for_call(err),
        CommonError::Timeout(_) => CompletionCode::TIMEOUT,
        CommonError::InternalFailure(_) => CompletionCode::UNSPECIFIED,
        CommonError::InvalidArgument(_) => CompletionCode::INVALID_DATA_FIELD,
        CommonError::InsufficientPermission(_) => CompletionCode::INSUFFICIENT_PRIVILEGE,
        CommonError::NotAllowed(_) => CompletionCode::NOT_SUPPORTED_IN_PRESENT_STATE,
        CommonError::TooManyResources(_) | CommonError::Unavailable(_) => CompletionCode::NODE_BUSY,
        CommonError::ResourceNotFound(_) => CompletionCode::NOT_PRESENT,
        CommonError::UnsupportedRequest(_) => CompletionCode::INVALID_COMMAND,
        CommonError::QuotaExceeded(_) => CompletionCode::OUT_OF_SPACE,
    }
}

/// A call that failed on the way rather than in the owner: an error reply
/// from the bus (decoded by zbus into its [`fdo::Error`] variant), or a
/// local failure.
fn completion_for_call(err: &zbus::Error) -> CompletionCode {
    match err {
        zbus::Error::MethodError(..) | zbus::Error::FDO(_) => {
            completion_for_bus(&fdo::Error::from(err.clone()))
        }
        // zbus's own method timeout, when the connection sets one.
        zbus::Error::InputOutput(io) if io.kind() == std::io::ErrorKind::TimedOut => {
            CompletionCode::TIMEOUT
        }
        _ => CompletionCode::UNSPECIFIED,
    }
}

/// The bus's own errors (`org.freedesktop.DBus.Error.*`).
fn completion_for_bus(err: &fdo::Error) -> CompletionCode {
    match err {
        // The owner is not running (or died mid-call): transient, the
        // supervisor restarts it.
        fdo::Error::ServiceUnknown(_) | fdo::Error::NameHasNoOwner(_) | fdo::Error::NoReply(_) => {
            CompletionCode::NODE_BUSY
        }
        fdo::Error::Timeout(_) | fdo::Error::TimedOut(_) => CompletionCode::TIMEOUT,
        // Policy refusals, unknown objects or methods (a peer that is not
        // an owner), and the rest: a fault to log, not the requester's.
        _ => CompletionCode::UNSPECIFIED,
    }
}

/// `org.rbmc.Ipmi.Router` on a bridge: the live command map.
struct RouterObject {
    router: Router,
}

#[zbus::interface(name = "org.rbmc.Ipmi.Router")]
impl RouterObject {
    /// Every routed command: (netfn, cmd, minimum privilege, owner bus name).
    #[zbus(property)]
    fn command_map(&self) -> Vec<(u8, u8, u8, String)> {
        self.router.command_map()
    }

    /// The owners whose declarations this bridge has read: once every
    /// configured owner is here, the bridge routes everything it can.
    #[zbus(property)]
    fn loaded_owners(&self) -> Vec<String> {
        self.router.loaded_owners()
    }

    /// The owners this bridge reaches on a direct route (peer-to-peer);
    /// requests to the others go through the broker.
    #[zbus(property)]
    fn direct_routes(&self) -> Vec<String> {
        self.router.direct_owners()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use zbus::{connection, message::Message};

    use super::*;

    /// The error `name` as a proxy receives it: an error reply, decoded
    /// into the contract's type.
    fn reply(name: &str) -> CommonError {
        let call = Message::method_call("/", "Ping")
            .unwrap()
            .build(&())
            .unwrap();
        let reply = Message::error(&call.header(), name)
            .unwrap()
            .build(&("why",))
            .unwrap();
        CommonError::from(zbus::Error::from(reply))
    }

    #[test]
    fn error_replies_map_to_completion_codes() {
        for (code, name) in [
            (0xC0, "org.freedesktop.DBus.Error.ServiceUnknown"),
            (0xC0, "org.freedesktop.DBus.Error.NameHasNoOwner"),
            (0xC0, "org.freedesktop.DBus.Error.NoReply"),
            (0xC3, "org.freedesktop.DBus.Error.Timeout"),
            (0xC3, "org.freedesktop.DBus.Error.TimedOut"),
            (0xFF, "org.freedesktop.DBus.Error.AccessDenied"),
            (0xFF, "org.freedesktop.DBus.Error.UnknownMethod"),
            (0xFF, "org.freedesktop.DBus.Error.UnknownObject"),
            (0xFF, "org.freedesktop.DBus.Error.Failed"),
            (0xC3, "xyz.openbmc_project.Common.Error.Timeout"),
            (0xFF, "xyz.openbmc_project.Common.Error.InternalFailure"),
            (0xCC, "xyz.openbmc_project.Common.Error.InvalidArgument"),
            (
                0xD4,
                "xyz.openbmc_project.Common.Error.InsufficientPermission",
            ),
            (0xD5, "xyz.openbmc_project.Common.Error.NotAllowed"),
            (0xC0, "xyz.openbmc_project.Common.Error.TooManyResources"),
            (0xCB, "xyz.openbmc_project.Common.Error.ResourceNotFound"),
            (0xC0, "xyz.openbmc_project.Common.Error.Unavailable"),
            (0xC1, "xyz.openbmc_project.Common.Error.UnsupportedRequest"),
            (0xC4, "xyz.openbmc_project.Common.Error.QuotaExceeded"),
            (0xFF, "xyz.openbmc_project.Common.Error.NoCACertificate"),
            (0xFF, "org.example.Unheard.Of"),
        ] {
            assert_eq!(completion_for(&reply(name)), CompletionCode(code), "{name}");
        }
    }

    #[test]
    fn local_failures_map_to_completion_codes() {
        let io = |kind| zbus::Error::InputOutput(std::io::Error::from(kind).into());
        for (code, err) in [
            (0xC3, io(std::io::ErrorKind::TimedOut)),
            (0xFF, io(std::io::ErrorKind::BrokenPipe)),
            (
                0xC0,
                zbus::Error::FDO(Box::new(fdo::Error::NoReply("gone".into()))),
            ),
            (0xFF, zbus::Error::InvalidReply),
        ] {
            let err = CommonError::from(err);
            assert_eq!(completion_for(&err), CompletionCode(code), "{err:?}");
        }
    }

    /// An owner whose `execute` fails with one error, as an OpenBMC owner
    /// might.
    struct Unavailable;

    #[zbus::interface(name = "xyz.openbmc_project.Ipmi.Server")]
    impl Unavailable {
        #[zbus(name = "execute")]
        fn execute(
            &self,
            _netfn: u8,
            _lun: u8,
            _cmd: u8,
            _data: Vec<u8>,
            _options: HashMap<String, zbus::zvariant::OwnedValue>,
        ) -> Result<(u8, u8, u8, u8, Vec<u8>), CommonError> {
            Err(CommonError::Unavailable("restarting".into()))
        }
    }

    #[tokio::test]
    async fn an_owners_error_reaches_the_bridge_typed() {
        let (a, b) = tokio::net::UnixStream::pair().unwrap();
        let server = connection::Builder::unix_stream(a)
            .server(zbus::Guid::generate())
            .unwrap()
            .p2p()
            .serve_at(crate::OWNER_PATH, Unavailable)
            .unwrap()
            .build();
        let client = connection::Builder::unix_stream(b).p2p().build();
        let (_server, client) = tokio::try_join!(server, client).unwrap();
        let owner = IpmiServerProxy::builder(&client)
            .destination("org.rbmc.Test")
            .unwrap()
            .build()
            .await
            .unwrap();
        let err = owner
            .execute(0, 0, 1, &[], HashMap::new())
            .await
            .unwrap_err();
        assert_eq!(err, CommonError::Unavailable("restarting".into()));
        assert_eq!(completion_for(&err), CompletionCode::NODE_BUSY);
        // A peer that does not serve the contract: not the requester's
        // fault, logged and FFh.
        let stranger = IpmiServerProxy::builder(&client)
            .destination("org.rbmc.Test")
            .unwrap()
            .path("/elsewhere")
            .unwrap()
            .build()
            .await
            .unwrap();
        let err = stranger
            .execute(0, 0, 1, &[], HashMap::new())
            .await
            .unwrap_err();
        assert_eq!(completion_for(&err), CompletionCode::UNSPECIFIED);
    }
}
