//! The resources, one module each: how each is read from its D-Bus owner
//! and rendered, and what a change to it asks of the owner.
//!
//! - [`root`]: `/redfish`, the service root, `odata` and `$metadata`.
//! - [`sessions`]: the SessionService and its sessions.
//! - [`systems`]: the host: power state, reset, boot override.
//! - [`chassis`]: the chassis and its sensors; [`subsystems`]: its
//!   thermal (fans, temperatures) and power (power supplies) subsystems;
//!   [`controls`]: its fan zones.
//! - [`managers`]: the BMC itself and its network protocols;
//!   [`ethernet`]: its LAN channel's interface.
//! - [`registries`]: DMTF's message registries.
//! - [`logs`]: the host's event log (the SEL) and the BMC's audit log.
//! - [`event_service`]: the EventService and its push subscriptions;
//!   [`event_stream`]: its SSE stream; [`sel_events`]: the events the SEL's records make.
//! - [`accounts`]: the AccountService, its accounts and roles;
//!   [`account_changes`]: creating, changing and deleting accounts;
//!   [`account_policy`]: the lockout and password policy.

pub mod account_changes;
pub mod account_policy;
pub mod accounts;
pub mod chassis;
pub mod controls;
pub mod ethernet;
pub mod event_service;
pub mod event_stream;
pub mod logs;
pub mod managers;
pub mod registries;
pub mod root;
pub mod sel_events;
pub mod sessions;
pub mod subsystems;
pub mod systems;

use redfish_core::ApiError;
use serde_json::{Map, Value};

pub use crate::owners::{bus_error, managed_objects, ManagedObjects};

/// A request body that must be a JSON object.
pub fn body_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(object)) => Ok(object),
        _ => Err(ApiError::malformed_json()),
    }
}
