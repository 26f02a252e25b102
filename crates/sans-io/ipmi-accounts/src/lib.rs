//! The BMC's accounts, sans-IO: who may log in, with what privilege, and
//! what a login proves. rbmc-userd owns one [`Accounts`] and persists it;
//! the network bridge never sees a password, only the values computed here.
//!
//! # Layout
//! - [`users`]: the IPMI user table and the user commands (Set/Get User
//!   Access, Name, Password, Payload Access), one function per command.
//! - [`policy`]: the account policy (lockout threshold and intervals,
//!   minimum length, remembered passwords) and LAN parameter 26, Bad
//!   Password Threshold, in its wire form.
//! - [`lockout`]: consecutive failed logins per user, and the locks they
//!   cause, against a clock the caller passes in.
//! - [`accounts`]: all of it together: the RAKP 2 and RAKP 3 computations
//!   for a login, the password rules on every change, unlocking.
//!
//! Nothing here opens a file or reads a clock: time comes in as an
//! `Instant`, randomness as bytes the caller drew.
#![forbid(unsafe_code)]

pub mod accounts;
pub mod lockout;
pub mod policy;
pub mod users;

pub use accounts::{
    Accounts, LoginRefusal, PasswordGrant, PasswordLoginRefused, PasswordRefusal, Rakp2Grant,
    Rakp3Outcome,
};
pub use lockout::Lockout;
pub use policy::AccountPolicy;

use ipmi_wire::CompletionCode;

/// What an IPMI command handler returns: response data after the
/// completion code, or a completion code that is not 00h.
pub type CommandResult = Result<Vec<u8>, CompletionCode>;

/// "This channel": the channel number a request uses to mean the one it
/// arrived on (IPMI v2.0 §6.3).
pub const PRESENT_CHANNEL: u8 = 0x0E;

/// The channel a request's channel field names, given the channel it
/// arrived on.
pub fn resolve_channel(field: u8, present: u8) -> u8 {
    match field & 0x0F {
        PRESENT_CHANNEL => present,
        other => other,
    }
}
