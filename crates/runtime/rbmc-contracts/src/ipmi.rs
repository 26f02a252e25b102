//! The command-routing contract between IPMI bridges and command owners.
//!
//! - Every owner serves, at [`OWNER_PATH`], OpenBMC's
//!   `xyz.openbmc_project.Ipmi.Server` ([`IpmiServerProxy`]): `execute(y
//!   netfn, y lun, y cmd, ay data, a{sv} options) -> (y netfn, y lun, y cmd,
//!   y cc, ay data)`; and `org.rbmc.Ipmi.CommandOwner`
//!   ([`CommandOwnerProxy`]), whose `Commands` (`a(yyy)`) declares each
//!   (netfn, cmd, minimum privilege) it owns.
//! - Every owner also serves, at [`OWNER_PATH`], `org.rbmc.Ipmi.DirectRoute`
//!   ([`DirectRouteProxy`]): `Open() -> h` hands a bridge one end of a
//!   socket pair, a peer-to-peer D-Bus connection to the same command
//!   table, so routed requests skip the broker (`ipmi-router`'s `direct`
//!   module has the method spoken on it). The bus policy grants `Open` to
//!   exactly those allowed to call `execute`.
//! - Every bridge serves, at [`ROUTER_PATH`], `org.rbmc.Ipmi.Router`
//!   ([`RouterProxy`]): the command map it has learned and the owners it
//!   has heard from.
//! - A daemon that logs IPMI events serves, on each sensor object,
//!   `org.rbmc.Ipmi.Sensor` ([`IpmiSensorProxy`]), from which the SEL logger
//!   takes the record's sensor number and types.
//!
//! A command's outcome travels as the completion code inside `execute`'s
//! reply; a D-Bus error from `execute` means the call itself failed, and the
//! bridge maps it to a completion code (`ipmi-router`).

use std::collections::HashMap;

use crate::CommonError;

/// Object path where every owner serves the contract.
pub const OWNER_PATH: &str = "/xyz/openbmc_project/Ipmi";
/// OpenBMC's command-execution interface.
pub const SERVER_INTERFACE: &str = "xyz.openbmc_project.Ipmi.Server";
/// The interface declaring which commands an owner serves.
pub const COMMAND_OWNER_INTERFACE: &str = "org.rbmc.Ipmi.CommandOwner";
/// The interface that opens a direct (peer-to-peer) route to an owner.
pub const DIRECT_ROUTE_INTERFACE: &str = "org.rbmc.Ipmi.DirectRoute";
/// Object path where a bridge publishes its live command map.
pub const ROUTER_PATH: &str = "/org/rbmc/Ipmi/Router";
/// The interface of a bridge's live command map.
pub const ROUTER_INTERFACE: &str = "org.rbmc.Ipmi.Router";
/// The interface giving a sensor object its IPMI identity.
pub const SENSOR_INTERFACE: &str = "org.rbmc.Ipmi.Sensor";

/// Client of `xyz.openbmc_project.Ipmi.Server` on an owner (no default
/// service: a bridge names each owner).
#[zbus::proxy(
    interface = "xyz.openbmc_project.Ipmi.Server",
    default_path = "/xyz/openbmc_project/Ipmi"
)]
pub trait IpmiServer {
    /// Executes one request (OpenBMC's signature and lower-case name); the
    /// answer is the response NetFn, LUN, command, completion code, data.
    /// `options` carries the context: `channel` (y), `privilege` (i),
    /// `userId` (i), `currentSessionId` (u).
    #[zbus(name = "execute")]
    fn execute(
        &self,
        netfn: u8,
        lun: u8,
        cmd: u8,
        data: &[u8],
        options: HashMap<&str, zbus::zvariant::Value<'_>>,
    ) -> Result<(u8, u8, u8, u8, Vec<u8>), CommonError>;
}

/// Client of `org.rbmc.Ipmi.CommandOwner` on an owner.
#[zbus::proxy(
    interface = "org.rbmc.Ipmi.CommandOwner",
    default_path = "/xyz/openbmc_project/Ipmi"
)]
pub trait CommandOwner {
    /// The (netfn, cmd, minimum privilege) triples the owner serves.
    #[zbus(property)]
    fn commands(&self) -> zbus::Result<Vec<(u8, u8, u8)>>;
}

/// Client of `org.rbmc.Ipmi.DirectRoute` on an owner.
#[zbus::proxy(
    interface = "org.rbmc.Ipmi.DirectRoute",
    default_path = "/xyz/openbmc_project/Ipmi"
)]
pub trait DirectRoute {
    /// One end of a new socket pair: a peer-to-peer D-Bus connection
    /// (ANONYMOUS authentication: holding the descriptor is the right) on
    /// which the owner serves `org.rbmc.Ipmi.DirectRoute.Execute(ay) -> ay`
    /// (a packed request and answer) at [`OWNER_PATH`]. `TooManyResources` once the owner's direct routes
    /// are all taken.
    fn open(&self) -> Result<zbus::zvariant::OwnedFd, CommonError>;
}

/// Client of `org.rbmc.Ipmi.Router` on a bridge (no default service: there
/// is one per bridge).
#[zbus::proxy(
    interface = "org.rbmc.Ipmi.Router",
    default_path = "/org/rbmc/Ipmi/Router"
)]
pub trait Router {
    /// Every routed command: (netfn, cmd, minimum privilege, owner bus
    /// name).
    #[zbus(property)]
    fn command_map(&self) -> zbus::Result<Vec<(u8, u8, u8, String)>>;

    /// The owners whose declarations the bridge has read, sorted.
    #[zbus(property)]
    fn loaded_owners(&self) -> zbus::Result<Vec<String>>;

    /// The owners the bridge reaches on a direct (peer-to-peer) route,
    /// sorted; it routes to the others through the broker.
    #[zbus(property)]
    fn direct_routes(&self) -> zbus::Result<Vec<String>>;
}

/// Client of `org.rbmc.Ipmi.Sensor`, a sensor object's IPMI identity (no
/// defaults: the object is the logging daemon's, at the sensor's path).
#[zbus::proxy(interface = "org.rbmc.Ipmi.Sensor")]
pub trait IpmiSensor {
    /// The IPMI sensor number.
    #[zbus(property)]
    fn number(&self) -> zbus::Result<u8>;

    /// The IPMI sensor type (IPMI v2.0 Table 42-3).
    #[zbus(property)]
    fn sensor_type(&self) -> zbus::Result<u8>;

    /// The event/reading type (01h threshold, 6Fh sensor-specific, ...;
    /// IPMI v2.0 Table 42-1).
    #[zbus(property)]
    fn event_reading_type(&self) -> zbus::Result<u8>;
}
