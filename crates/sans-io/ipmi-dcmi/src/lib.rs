//! DCMI 1.5 (the Data Center Manageability Interface: IPMI NetFn 2Ch, the
//! group extension whose defining body code is DCh), without I/O.
//!
//! - [`wire`]: the group's framing (the DCh byte first in every request
//!   and reply), command numbers and DCMI's own completion codes.
//! - [`power`]: power management: the statistics kept of a power sensor's
//!   readings (Get Power Reading), the power limit (Get/Set Power Limit,
//!   Activate/Deactivate) and when its exception action is due.
//! - [`capabilities`]: Get DCMI Capabilities Info.
//! - [`sensors`]: Get DCMI Sensor Info and Get Temperature Readings.
//! - [`config`]: Get/Set DCMI Configuration Parameters (DHCP discovery).
//! - [`identity`]: Get/Set Asset Tag and Get/Set Management Controller
//!   Identifier String.
//!
//! Time is the caller's: a monotonic [`std::time::Duration`] since any
//! fixed start, and the wall clock as IPMI seconds where a reply carries
//! one.
#![forbid(unsafe_code)]

pub mod capabilities;
pub mod config;
pub mod identity;
pub mod power;
pub mod sensors;
pub mod wire;
