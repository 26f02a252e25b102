//! A sans-IO RMCP+ endpoint: everything the BMC does with a LAN datagram
//! short of executing an IPMI command.
//!
//! [`Endpoint::handle_from`] takes one UDP payload, its sender, the current
//! time and a source of random numbers, and returns an [`Action`]: a datagram
//! to send back, a request to route to the command's owner (with the
//! session's context), SOL characters for the host console, or a reason to
//! drop the datagram silently. Datagrams no request answers directly (SOL
//! acknowledgements and data) wait in an outbox ([`Endpoint::take_outbox`]). When the owner answers, the service
//! hands the completion code and data to [`Endpoint::respond`], which encrypts
//! and signs the reply for that session. [`Endpoint::expire`] closes idle
//! sessions. The crate opens no socket and reads no clock.
//!
//! # Layout
//! - [`endpoint`]: the session table and datagram dispatch.
//! - [`handshake`]: Open Session and RAKP 1-4 as explicit states.
//! - [`commands`]: the commands the session layer answers itself (Get Channel
//!   Authentication Capabilities, Get Channel Cipher Suites, Set Session
//!   Privilege Level, Close Session).
//! - [`users`], [`channels`], [`lan_params`], [`sol`]: the user table, the
//!   channel settings, the LAN configuration parameters and Serial over LAN
//!   (packets, flow control, configuration), with their commands; the
//!   service owns them and persists what they change.
//! - [`window`]: the inbound sequence-number replay window.
//! - [`console`]: the remote console's side, for tests and benches.
#![forbid(unsafe_code)]

pub mod channels;
pub mod commands;
pub mod config_params;
pub mod console;
pub mod endpoint;
pub mod handshake;
pub mod lan_params;
pub mod sol;
pub mod users;
pub mod window;

pub use endpoint::{
    Action, DropReason, Endpoint, EndpointConfig, LoginEvent, PendingRequest, Random,
    RequestContext, SolPolicy, User, UserDirectory,
};
