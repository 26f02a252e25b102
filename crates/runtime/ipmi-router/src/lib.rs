//! The D-Bus command-routing contract.
//!
//! IPMI bridges (the RMCP+ network bridge, the KCS host interface) receive
//! requests; owner daemons execute them. This crate is the only place that
//! knows how the two meet on D-Bus, so the transport can change (say, a
//! direct peer connection per owner) without touching any daemon.
//!
//! The contract:
//! - An owner serves, at [`OWNER_PATH`], the interface
//!   `xyz.openbmc_project.Ipmi.Server` with OpenBMC's method
//!   `execute(y netfn, y lun, y cmd, ay data, a{sv} options) -> (y netfn, y
//!   lun, y cmd, y cc, ay data)`, and `org.rbmc.Ipmi.CommandOwner` whose
//!   `Commands` property `a(yyy)` declares each (netfn, cmd, minimum
//!   privilege) it owns.
//! - A bridge knows the owners' bus names from config, reads their
//!   declarations when each name appears, and keeps one owner per command (a
//!   second claim is refused and logged). It checks privilege before the
//!   call (0xD4), answers unknown commands with 0xC1, and bounds every call:
//!   an owner that is not on the bus gives 0xC0 (node busy, try again) at
//!   once, a slow one 0xC3 (timeout) after the configured time.
//! - The owner checks privilege again from the `options` the bridge passes
//!   (`channel` y, `privilege` i, `userId` i, `currentSessionId` u); a
//!   request without them runs at the lowest privilege.
//!
//! # Layout
//! - [`command`]: requests, contexts, command declarations.
//! - [`owner`]: the command table an owner daemon fills and serves.
//! - [`bridge`]: the router a bridge uses to reach the owners.
//! - [`events`]: the event contract with the SEL logger.
#![forbid(unsafe_code)]

pub mod bridge;
pub mod command;
pub mod events;
pub mod owner;

pub use bridge::{Router, RouterConfig};
pub use command::{CommandSpec, Context, HandlerResult, IpmiRequest};
pub use owner::{serve_owner, CommandTable};

/// Object path where every owner serves the contract.
pub const OWNER_PATH: &str = "/xyz/openbmc_project/Ipmi";
/// OpenBMC's command-execution interface.
pub const SERVER_INTERFACE: &str = "xyz.openbmc_project.Ipmi.Server";
/// The interface declaring which commands an owner serves.
pub const COMMAND_OWNER_INTERFACE: &str = "org.rbmc.Ipmi.CommandOwner";
/// Object path where a bridge publishes its live command map.
pub const ROUTER_PATH: &str = "/org/rbmc/Ipmi/Router";
/// The interface of a bridge's live command map.
pub const ROUTER_INTERFACE: &str = "org.rbmc.Ipmi.Router";

/// Well-known bus names of the suite's daemons (stable: scripts use them).
pub mod names {
    /// rbmc-sensord: sensors, SDR, FRU and the BMC's own identity.
    pub const SENSORD: &str = "org.rbmc.Sensord";
    /// rbmc-powerd: chassis, power, boot options, watchdog.
    pub const POWERD: &str = "org.rbmc.Powerd";
    /// rbmc-seld: the System Event Log.
    pub const SELD: &str = "org.rbmc.Seld";
    /// rbmc-netipmid: the RMCP+ network bridge.
    pub const NETIPMID: &str = "org.rbmc.Netipmid";
    /// rbmc-kcsd: the KCS host interface.
    pub const KCSD: &str = "org.rbmc.Kcsd";
}
