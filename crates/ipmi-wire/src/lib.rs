//! Sans-IO IPMI 2.0 wire formats.
//!
//! This crate turns bytes into typed IPMI values and back. It owns no socket,
//! file or clock: every function takes bytes (and, where the protocol needs it,
//! keys or random numbers supplied by the caller) and returns values or bytes.
//! Nothing here may panic on input from the network or the host; every parser
//! returns a [`WireError`] instead, which a property test checks.
//!
//! # Layout
//! - [`codes`]: open code sets — NetFn, completion codes, privilege levels,
//!   payload types (IPMI v2.0 §5, §13.27).
//! - [`message`]: the IPMI message inside a LAN packet: addresses, NetFn/LUN,
//!   sequence, command, data and both checksums (IPMI v2.0 §13.8).
//! - [`rmcp`]: the RMCP header and ASF presence ping/pong (IPMI v2.0 §13.1-13.2,
//!   DSP0136).
//! - [`session`]: IPMI v1.5 and v2.0 session headers and the RMCP+ integrity
//!   trailer (IPMI v2.0 §13.6, §13.28.4).
//! - [`rakp`]: Open Session Request/Response and RAKP messages 1-4 (IPMI v2.0
//!   §13.17-13.23).
//! - [`crypto`]: cipher suites 3 and 17: key derivation (SIK, K1, K2),
//!   HMAC-SHA1-96, HMAC-SHA256-128 and AES-CBC-128 with the spec's padding
//!   (IPMI v2.0 §13.28-13.29).
#![forbid(unsafe_code)]

pub mod codes;
pub mod crypto;
pub mod message;
pub mod rakp;
pub mod rmcp;
pub mod session;

mod error;
mod reader;

pub use codes::{
    AuthAlgorithm, CompletionCode, ConfidentialityAlgorithm, IntegrityAlgorithm, NetFn,
    PayloadType, Privilege, RakpStatus,
};
pub use error::WireError;
pub use reader::Reader;
