//! The direct route: a peer-to-peer D-Bus connection from a bridge to an
//! owner, so a routed request skips the broker (two messages instead of
//! four, and no broker process woken).
//!
//! Names, discovery and the right to route stay on the bus. A bridge that
//! has found an owner calls `org.rbmc.Ipmi.DirectRoute.Open` on it; the bus
//! policy grants that method to exactly those allowed to call `execute`.
//! The owner makes a socket pair, keeps one end and returns the other as a
//! file descriptor: holding it is the right to route, so the connection
//! authenticates ANONYMOUS (EXTERNAL would compare the bridge's user with
//! the pair's creator, the owner itself). On its end the owner runs the
//! same table, with the same checks, as `execute` on the bus.
//!
//! Both ends are this crate, so the route speaks one method whose request
//! and answer are each one byte array, instead of OpenBMC's `a{sv}`
//! options, whose variants cost more to encode and decode than the
//! request itself (a struct of eight fields still cost about a seventh
//! more server CPU than bytes, measured with `rbmc-bench load`):
//! `org.rbmc.Ipmi.DirectRoute.Execute(ay request) -> (ay answer)` at the
//! contract's path. The request is netfn, lun, cmd, channel, privilege,
//! user ID, the session ID (4 bytes, little-endian), then the data; the
//! answer is the completion code, then the data. A short request, a NetFn
//! that is not a request's, or a privilege that is not a level is refused
//! (`InvalidArgs`), never rounded. A command whose handler answers without
//! waiting is answered in place; the others run in a task each, as on the
//! bus, so a slow command does not hold up the rest.
//!
//! An owner keeps at most [`MAX_DIRECT_ROUTES`] open; a route ends when
//! either side closes it. The bridge falls back to the bus whenever it has
//! no direct route (an owner without this interface, such as one of
//! OpenBMC's, or one that refused), so routing never depends on it.

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use futures_util::StreamExt;
use ipmi_wire::{NetFn, Privilege};
use rbmc_contracts::{ipmi::DirectRouteProxy, CommonError};
use tracing::{debug, info, warn};
use zbus::{
    connection::Builder,
    message::{Header, Type},
    names::{BusName, InterfaceName, MemberName},
    proxy::CacheProperties,
    zvariant::ObjectPath,
    AuthMechanism, Connection, Guid,
};

use crate::{command::Execute, Context, IpmiRequest, DIRECT_ROUTE_INTERFACE, OWNER_PATH};

/// The most direct routes one owner keeps open (each bridge needs one).
pub const MAX_DIRECT_ROUTES: usize = 8;

/// How long an opened route may take to authenticate before the owner
/// drops it and frees its slot.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// `org.rbmc.Ipmi.DirectRoute` on an owner.
pub(crate) struct DirectRouteObject {
    table: Arc<dyn Execute>,
    open_routes: Arc<AtomicUsize>,
}

impl DirectRouteObject {
    pub(crate) fn new(table: Arc<dyn Execute>) -> Self {
        Self {
            table,
            open_routes: Arc::default(),
        }
    }
}

/// Frees a route's slot when the route ends, however it ends.
struct RouteSlot(Arc<AtomicUsize>);

impl Drop for RouteSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[zbus::interface(name = "org.rbmc.Ipmi.DirectRoute")]
impl DirectRouteObject {
    /// One end of a new socket pair on which this owner serves `execute`
    /// at the contract's path (peer-to-peer D-Bus, ANONYMOUS).
    async fn open(
        &self,
        #[zbus(header)] header: Header<'_>,
    ) -> Result<zbus::zvariant::OwnedFd, CommonError> {
        let reserved = self
            .open_routes
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |open| {
                (open < MAX_DIRECT_ROUTES).then_some(open + 1)
            });
        if reserved.is_err() {
            return Err(CommonError::TooManyResources(format!(
                "all {MAX_DIRECT_ROUTES} direct routes are open"
            )));
        }
        let slot = RouteSlot(self.open_routes.clone());
        let (ours, theirs) = socket_pair()
            .map_err(|err| CommonError::InternalFailure(format!("socket pair: {err}")))?;
        let caller = header
            .sender()
            .map(|name| name.to_string())
            .unwrap_or_default();
        info!(caller, "direct route opened");
        tokio::spawn(serve_route(ours, self.table.clone(), slot, caller));
        Ok(std::os::fd::OwnedFd::from(theirs).into())
    }
}

fn socket_pair() -> std::io::Result<(tokio::net::UnixStream, std::os::unix::net::UnixStream)> {
    let (ours, theirs) = std::os::unix::net::UnixStream::pair()?;
    ours.set_nonblocking(true)?;
    Ok((tokio::net::UnixStream::from_std(ours)?, theirs))
}

/// The method a direct route serves.
const EXECUTE: &str = "Execute";

/// The bytes before the request data in `Execute`'s argument: netfn, lun,
/// cmd, channel, privilege, user ID, then the session ID (little-endian).
const REQUEST_HEAD: usize = 10;

/// Packs a request into `Execute`'s one argument.
fn request_to_bytes(request: &IpmiRequest) -> Vec<u8> {
    let context = request.context;
    let mut bytes = Vec::with_capacity(REQUEST_HEAD + request.data.len());
    bytes.extend_from_slice(&[
        request.netfn.0,
        request.lun,
        request.cmd,
        context.channel,
        context.privilege.level(),
        context.user_id,
    ]);
    bytes.extend_from_slice(&context.session_id.to_le_bytes());
    bytes.extend_from_slice(&request.data);
    bytes
}

/// Unpacks `Execute`'s argument; `None` if it is short, the NetFn is not a
/// request's, or the privilege is not a level.
fn request_from_bytes(bytes: &[u8]) -> Option<IpmiRequest> {
    let (head, data) = bytes.split_at_checked(REQUEST_HEAD)?;
    let &[netfn, lun, cmd, channel, privilege, user_id, s0, s1, s2, s3] = head else {
        return None;
    };
    let netfn = NetFn(netfn);
    if !netfn.is_request() {
        return None;
    }
    Some(IpmiRequest {
        netfn,
        lun,
        cmd,
        data: data.to_vec(),
        context: Context {
            channel,
            privilege: Privilege::from_code(privilege)?,
            user_id,
            session_id: u32::from_le_bytes([s0, s1, s2, s3]),
        },
    })
}

/// `Execute`'s answer: the completion code, then the data after it.
fn reply_to_bytes(answer: impl Into<ipmi_wire::Answer>) -> Vec<u8> {
    let ipmi_wire::Answer { code, mut data } = answer.into();
    data.insert(0, code.0);
    data
}

/// Serves `Execute` on one route until the bridge closes it.
async fn serve_route(
    stream: tokio::net::UnixStream,
    table: Arc<dyn Execute>,
    _slot: RouteSlot,
    caller: String,
) {
    let handshake = async {
        Builder::unix_stream(stream)
            .server(Guid::generate())?
            .p2p()
            .auth_mechanism(AuthMechanism::Anonymous)
            .build_message_stream()
            .await
    };
    let mut messages = match tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake).await {
        Ok(Ok(messages)) => messages,
        Ok(Err(err)) => {
            warn!(caller, cause = %err, "direct route failed to authenticate");
            return;
        }
        Err(_) => {
            warn!(caller, "direct route not taken up in time; closed");
            return;
        }
    };
    let conn = Connection::from(&messages);
    while let Some(message) = messages.next().await {
        let Ok(message) = message else { break };
        if message.message_type() != Type::MethodCall {
            continue;
        }
        let header = message.header();
        let is_execute = header
            .path()
            .is_some_and(|path| path.as_str() == OWNER_PATH)
            && header
                .interface()
                .is_some_and(|iface| iface.as_str() == DIRECT_ROUTE_INTERFACE)
            && header
                .member()
                .is_some_and(|member| member.as_str() == EXECUTE);
        if !is_execute {
            let refusal = zbus::fdo::Error::UnknownMethod(
                "a direct route serves only org.rbmc.Ipmi.DirectRoute.Execute".into(),
            );
            let _ = conn.reply_dbus_error(&header, refusal).await;
            continue;
        }
        let body = message.body();
        let request = body
            .deserialize::<&[u8]>()
            .ok()
            .and_then(request_from_bytes);
        let Some(request) = request else {
            let refusal = zbus::fdo::Error::InvalidArgs(
                "Execute: not ay with a request NetFn and a privilege level".into(),
            );
            let _ = conn.reply_dbus_error(&header, refusal).await;
            continue;
        };
        if let Some(result) = table.execute_now(&request) {
            if let Err(err) = conn.reply(&header, &reply_to_bytes(result)).await {
                debug!(cause = %err, "could not answer on a direct route");
            }
            continue;
        }
        let (conn, table) = (conn.clone(), table.clone());
        tokio::spawn(async move {
            let answer = table.answer(request).await;
            if let Err(err) = conn.reply(&message.header(), &reply_to_bytes(answer)).await {
                debug!(cause = %err, "could not answer on a direct route");
            }
        });
    }
    info!(caller, "direct route closed");
}

/// A bridge's open route to one owner.
pub(crate) struct DirectLink {
    conn: Connection,
}

impl DirectLink {
    /// Runs `request` on the owner's end of the route: its completion
    /// code and data, or the call's typed error as through the bus.
    pub(crate) async fn execute(
        &self,
        request: &IpmiRequest,
    ) -> Result<(u8, Vec<u8>), CommonError> {
        let body = request_to_bytes(request);
        let reply = self
            .conn
            .call_method(
                None::<BusName<'_>>,
                ObjectPath::from_static_str_unchecked(OWNER_PATH),
                Some(InterfaceName::from_static_str_unchecked(
                    DIRECT_ROUTE_INTERFACE,
                )),
                MemberName::from_static_str_unchecked(EXECUTE),
                &body,
            )
            .await?;
        let body = reply.body();
        let bytes: &[u8] = body.deserialize()?;
        match bytes.split_first() {
            Some((&code, data)) => Ok((code, data.to_vec())),
            None => Err(CommonError::InternalFailure(
                "an empty answer on a direct route".into(),
            )),
        }
    }
}

/// Asks `owner` for a direct route and connects it. `None` (logged) when
/// the owner has none to give: routing then stays on the bus.
pub(crate) async fn open(bus: &Connection, owner: &str, timeout: Duration) -> Option<DirectLink> {
    let attempt = async {
        let opener = DirectRouteProxy::builder(bus)
            .destination(owner.to_owned())?
            .cache_properties(CacheProperties::No)
            .build()
            .await?;
        let fd = opener.open().await.map_err(into_zbus)?;
        let stream = std::os::unix::net::UnixStream::from(std::os::fd::OwnedFd::from(fd));
        stream.set_nonblocking(true)?;
        let conn = Builder::unix_stream(tokio::net::UnixStream::from_std(stream)?)
            .p2p()
            .auth_mechanism(AuthMechanism::Anonymous)
            .build()
            .await?;
        zbus::Result::Ok(DirectLink { conn })
    };
    match tokio::time::timeout(timeout, attempt).await {
        Ok(Ok(link)) => {
            info!(owner, "routing to the owner directly");
            Some(link)
        }
        Ok(Err(err)) => {
            info!(owner, cause = %err, "no direct route to the owner; routing through the bus");
            None
        }
        Err(_) => {
            warn!(
                owner,
                "opening a direct route timed out; routing through the bus"
            );
            None
        }
    }
}

fn into_zbus(err: CommonError) -> zbus::Error {
    match err {
        CommonError::ZBus(err) => err,
        other => zbus::Error::FDO(Box::new(other.into())),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use ipmi_wire::{CompletionCode, NetFn, Privilege};
    use zbus::connection;

    use super::*;
    use crate::{owner::register_owner, CommandTable, Router, RouterConfig};

    const OWNER: &str = "org.rbmc.TestOwner";

    /// A private bus (busd, in this process) at a fresh socket.
    async fn private_bus() -> String {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "ipmi-router-direct-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let socket = dir.join("bus.sock");
        let _ = std::fs::remove_file(&socket);
        let address = format!("unix:path={}", socket.display());
        let mut bus = busd::bus::Bus::for_address(Some(&address)).await.unwrap();
        tokio::spawn(async move { bus.run().await });
        address
    }

    async fn connect(address: &str) -> Connection {
        connection::Builder::address(address)
            .unwrap()
            .build()
            .await
            .unwrap()
    }

    /// An owner of Get Device ID (answers at once, User) and Get Self Test
    /// Results (waits, Operator), serving on the bus under [`OWNER`].
    async fn start_owner(address: &str) -> Connection {
        let mut table = CommandTable::new(());
        table
            .add_sync(NetFn::APP, 0x01, Privilege::User, |_, _| Ok(vec![0x20]))
            .unwrap()
            .add(NetFn::APP, 0x04, Privilege::Operator, |_, _| async {
                tokio::task::yield_now().await;
                Ok(vec![0x55, 0x00])
            })
            .unwrap();
        let conn = connect(address).await;
        register_owner(&conn, Arc::new(table)).await.unwrap();
        conn.request_name(OWNER).await.unwrap();
        conn
    }

    /// Waits (up to 5 s) until `ready` holds.
    async fn until(mut ready: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !ready() {
            assert!(Instant::now() < deadline, "condition not met in 5 s");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    fn request(cmd: u8, privilege: Privilege) -> IpmiRequest {
        IpmiRequest {
            netfn: NetFn::APP,
            lun: 0,
            cmd,
            data: vec![],
            context: Context {
                channel: 1,
                privilege,
                user_id: 2,
                session_id: 7,
            },
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_bridge_routes_directly_and_follows_the_owner_on_the_bus() {
        let address = private_bus().await;
        let owner = start_owner(&address).await;
        let router = Router::start(
            connect(&address).await,
            RouterConfig {
                owners: vec![OWNER.into()],
                call_timeout: Duration::from_secs(1),
            },
            None,
        )
        .await
        .unwrap();
        until(|| router.direct_owners() == [OWNER]).await;

        // Take `execute` off the bus: what still answers came directly.
        owner
            .object_server()
            .remove::<crate::owner::ServerObject, _>(OWNER_PATH)
            .await
            .unwrap();
        assert_eq!(
            router.route(request(0x01, Privilege::User)).await,
            Ok(vec![0x20])
        );
        assert_eq!(
            router.route(request(0x04, Privilege::Operator)).await,
            Ok(vec![0x55, 0x00])
        );
        // The owner leaves the bus: its direct route is no longer used, and
        // its commands answer node busy until it is back.
        owner.release_name(OWNER).await.unwrap();
        until(|| router.direct_owners().is_empty()).await;
        assert_eq!(
            router.route(request(0x01, Privilege::User)).await,
            Err(CompletionCode::NODE_BUSY)
        );
        drop(owner);
        let _owner = start_owner(&address).await;
        until(|| router.direct_owners() == [OWNER]).await;
        assert_eq!(
            router.route(request(0x01, Privilege::User)).await,
            Ok(vec![0x20])
        );
    }

    /// Opens a direct route to [`OWNER`] by hand.
    async fn open_by_hand(bus: &Connection) -> Result<Connection, CommonError> {
        let opener = DirectRouteProxy::builder(bus)
            .destination(OWNER)
            .unwrap()
            .build()
            .await
            .unwrap();
        let fd = opener.open().await?;
        let stream = std::os::unix::net::UnixStream::from(std::os::fd::OwnedFd::from(fd));
        stream.set_nonblocking(true).unwrap();
        Ok(
            Builder::unix_stream(tokio::net::UnixStream::from_std(stream).unwrap())
                .p2p()
                .auth_mechanism(AuthMechanism::Anonymous)
                .build()
                .await
                .unwrap(),
        )
    }

    /// Calls `member` on a route with `request` packed as the route packs
    /// it; the answer unpacked.
    async fn call(route: &Connection, member: &str, request: &[u8]) -> zbus::Result<(u8, Vec<u8>)> {
        let reply = route
            .call_method(
                None::<&str>,
                OWNER_PATH,
                Some(DIRECT_ROUTE_INTERFACE),
                member,
                &request,
            )
            .await?;
        let answer: Vec<u8> = reply.body().deserialize()?;
        Ok((answer[0], answer[1..].to_vec()))
    }

    fn packed(netfn: u8, cmd: u8, privilege: u8) -> Vec<u8> {
        let mut request = request_to_bytes(&request(cmd, Privilege::User));
        request[0] = netfn;
        request[4] = privilege;
        request
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_direct_route_refuses_what_is_not_a_request_and_routes_are_bounded() {
        let address = private_bus().await;
        let _owner = start_owner(&address).await;
        let bus = connect(&address).await;
        let route = open_by_hand(&bus).await.unwrap();

        let user = packed(0x06, 0x01, Privilege::User.level());
        assert_eq!(
            request_from_bytes(&user),
            Some(request(0x01, Privilege::User))
        );
        assert_eq!(call(&route, EXECUTE, &user).await.unwrap(), (0, vec![0x20]));
        // The owner's table checks privilege here too: Operator's command
        // at User is D4h.
        let low = packed(0x06, 0x04, Privilege::User.level());
        assert_eq!(
            call(&route, EXECUTE, &low).await.unwrap(),
            (CompletionCode::INSUFFICIENT_PRIVILEGE.0, vec![])
        );
        // A privilege that is not a level is refused, not rounded.
        let bogus = packed(0x06, 0x01, 99);
        let err = call(&route, EXECUTE, &bogus).await.unwrap_err();
        assert!(
            matches!(
                zbus::fdo::Error::from(err),
                zbus::fdo::Error::InvalidArgs(_)
            ),
            "privilege 99 accepted"
        );
        // A response NetFn is not a request.
        let response = packed(0x07, 0x01, Privilege::User.level());
        assert!(call(&route, EXECUTE, &response).await.is_err());
        // A request shorter than its head is refused.
        assert!(call(&route, EXECUTE, &user[..9]).await.is_err());
        // Nothing else is served on the route.
        let err = call(&route, "execute", &user).await.unwrap_err();
        assert!(matches!(
            zbus::fdo::Error::from(err),
            zbus::fdo::Error::UnknownMethod(_)
        ));

        // At most MAX_DIRECT_ROUTES at a time; a closed one frees its slot.
        let mut routes = vec![route];
        for _ in 1..MAX_DIRECT_ROUTES {
            routes.push(open_by_hand(&bus).await.unwrap());
        }
        let refused = open_by_hand(&bus).await.map(|_| ()).unwrap_err();
        assert!(
            matches!(refused, CommonError::TooManyResources(_)),
            "{refused:?}"
        );
        drop(routes.pop());
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match open_by_hand(&bus).await {
                Ok(_) => break,
                Err(CommonError::TooManyResources(_)) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                Err(err) => panic!("slot not freed: {err:?}"),
            }
        }
    }
}
