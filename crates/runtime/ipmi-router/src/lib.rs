//! The D-Bus command-routing contract.
//!
//! IPMI bridges (the RMCP+ network bridge, the KCS host interface) receive
//! requests; owner daemons execute them. This crate is the only place that
//! knows how the two meet on D-Bus, so the transport can change (today a
//! direct peer-to-peer connection per owner, found through the bus)
//! without touching any daemon.
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
//! The interfaces themselves (proxies, errors, names and paths) are in
//! `rbmc-contracts` ([`rbmc_contracts::ipmi`]); this crate implements both
//! ends of them, and decides what a failed call means to the requester
//! ([`bridge`]'s completion codes).
//!
//! # Layout
//! - [`command`]: requests, contexts, command declarations.
//! - [`owner`]: the command table an owner daemon fills and serves.
//! - [`bridge`]: the router a bridge uses to reach the owners.
//! - [`direct`]: the peer-to-peer route from a bridge to an owner.
//! - [`events`]: the event contract with the SEL logger.
//! - [`audit`]: what bridges record in the audit trail, and which
//!   commands change state.
#![forbid(unsafe_code)]

pub mod audit;
pub mod bridge;
pub mod command;
pub mod direct;
pub mod events;
pub mod owner;

pub use bridge::{Router, RouterConfig};
pub use command::{CommandSpec, Context, HandlerResult, IpmiRequest};
pub use owner::CommandTable;

pub use rbmc_contracts::{
    ipmi::{
        COMMAND_OWNER_INTERFACE, DIRECT_ROUTE_INTERFACE, OWNER_PATH, ROUTER_INTERFACE, ROUTER_PATH,
        SERVER_INTERFACE,
    },
    names,
};
