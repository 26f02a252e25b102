//! A sans-IO RMCP+ endpoint: everything the BMC does with a LAN datagram
//! short of executing an IPMI command.
//!
//! [`Endpoint`] is a state machine in the shape of quinn-proto's: the
//! driver hands it datagrams, request results and timer expiries, each
//! with the current time, and drains the datagrams to send
//! ([`Endpoint::poll_transmit`]), the events to act on
//! ([`Endpoint::poll_event`]: requests to execute, keystrokes for the host
//! console, logins for the audit log, closed sessions) and its next
//! deadline ([`Endpoint::poll_timeout`]). The crate opens no socket and
//! reads no clock.
//!
//! # Layout
//! - [`endpoint`]: the state machine and datagram dispatch.
//! - `session`: the session table, replay windows, handles, expiry,
//!   sealing of outgoing packets; `pending`: the handshakes under way, in
//!   two bounded tiers apart from the active sessions; `guess_limit`: the
//!   per-source budget of failed logins.
//! - [`handshake`]: Open Session and RAKP 1-4 as explicit states; `login`
//!   runs them against the table and builds their replies.
//! - `payload`: the SOL payload engine (which session holds SOL, its flow
//!   control, the payload commands).
//! - [`session_commands`]: Set Session Privilege Level, Close Session, Get
//!   Session Info.
//! - [`commands`]: Get Channel Authentication Capabilities and Get Channel
//!   Cipher Suites.
//! - [`directory`]: what the endpoint asks of its owner (channel policy,
//!   randomness); [`event`]: what it hands back, a login's questions to
//!   the accounts owner among them; [`config`]: its settings. No password
//!   ever reaches this crate: RAKP's codes and the session key come from
//!   the accounts owner (the `ipmi-accounts` crate, in rbmc-userd).
//! - [`channels`], [`lan_params`], [`sol`]: the channel settings, the LAN
//!   configuration parameters and Serial over LAN (packets, flow control,
//!   configuration), with their commands; the service owns them and
//!   persists what they change; [`lan_alerts`]: the LAN alert
//!   destinations (parameters 16-19) that PEF's alerts are sent to.
//! - [`window`]: the inbound sequence-number replay window.
//! - [`console`]: the remote console's side, for tests and benches.
#![forbid(unsafe_code)]

pub mod channels;
pub mod commands;
pub mod config;
pub mod config_params;
pub mod console;
pub mod directory;
pub mod endpoint;
pub mod event;
pub mod guess_limit;
pub mod handshake;
pub mod lan_addressing;
pub mod lan_alerts;
pub mod lan_params;
pub mod lan_stats;
mod login;
pub mod netfn_support;
mod payload;
mod pending;
mod session;
pub mod session_commands;
pub mod sol;

pub mod window;

pub use config::EndpointConfig;
pub use directory::{ChannelPolicy, Random, SolPolicy, User};
pub use endpoint::Endpoint;
pub use event::{
    AuthAnswer, AuthRequest, AuthStep, CloseReason, DropReason, Event, LoginEvent, PendingRequest,
    RequestContext, Transmit,
};
pub use handshake::Rakp2Answer;
pub use session::MAX_PENDING_PER_PEER;
