//! rbmc's D-Bus contracts, in the manner of hubris's `-api` crates: for every
//! interface a daemon of the suite serves, the client proxy (`#[zbus::proxy]`)
//! and the typed errors its methods answer with.
//!
//! Services serve the interfaces (`#[zbus::interface]` impls stay with the
//! state they expose) and return this crate's errors; bridges, other
//! services, `rbmc-dev` and tests call them through these proxies. Bus
//! names, object paths, interface and member names and signatures are the
//! wire contract: scripts, the D-Bus policy and OpenBMC rely on them, so they
//! never change here without changing everywhere.
//!
//! Errors are OpenBMC's common ones ([`CommonError`],
//! `xyz.openbmc_project.Common.Error.*`), so an OpenBMC client understands
//! them; whoever receives one maps it explicitly to its own terms (the IPMI
//! bridges to completion codes, in `ipmi-router`), never by matching text.
//!
//! # Layout
//! - [`audit`]: `org.rbmc.Audit`, the audit trail rbmc-seld keeps.
//! - [`common`]: [`CommonError`], OpenBMC's common D-Bus errors.
//! - [`names`]: the suite's well-known bus names.
//! - [`ipmi`]: the command-routing contract: `xyz.openbmc_project.Ipmi.Server`,
//!   `org.rbmc.Ipmi.CommandOwner`, `org.rbmc.Ipmi.Router`,
//!   `org.rbmc.Ipmi.Sensor`.
//! - [`logging`]: the SEL logger, `xyz.openbmc_project.Logging.IPMI`, and
//!   `org.rbmc.Sel`.
//! - [`state`]: `xyz.openbmc_project.State.Host` and `.State.Chassis`.
//! - [`control`]: the host's power restore policy and boot override.
//! - [`fan`]: fan control: each zone's `Control.Mode` and each fan's
//!   `Control.FanPwm`, on rbmc-fand.
//! - [`sensor`]: what each sensor object carries: `Sensor.Value`, the
//!   thresholds, availability.
//! - [`network`]: the LAN channel's interface, with OpenBMC's
//!   `Network.EthernetInterface`, `.MACAddress` and `.IP`.
//! - [`kcsd`]: `org.rbmc.Kcsd.Host`, the VM behind the QEMU link as power
//!   hardware.
//! - [`user`]: accounts: OpenBMC's user manager, user objects and account
//!   policy, and `org.rbmc.Userd.Authenticator` for the bridges' logins.
//! - [`simulator`]: the development doubles, `org.rbmc.Simulator` and
//!   `org.rbmc.SimulatedHost`.
#![forbid(unsafe_code)]

pub mod audit;
pub mod bmc;
pub mod common;
pub mod control;
pub mod fan;
pub mod ipmi;
pub mod kcsd;
pub mod logging;
pub mod names;
pub mod network;
pub mod sensor;
pub mod simulator;
pub mod state;
pub mod user;

pub use common::CommonError;
