//! The resources, one module each: how each is read from its D-Bus owner
//! and rendered, and what a change to it asks of the owner.
//!
//! - [`root`]: `/redfish`, the service root, `odata` and `$metadata`.
//! - [`sessions`]: the SessionService and its sessions.
//! - [`systems`]: the host: power state, reset, boot override.
//! - [`chassis`]: the chassis and its sensors.
//! - [`managers`]: the BMC itself and its network protocols.
//! - [`logs`]: the host's event log (the SEL) and the BMC's audit log.
//! - [`accounts`]: the AccountService, its accounts and roles;
//!   [`account_changes`]: creating, changing and deleting accounts;
//!   [`account_policy`]: the lockout and password policy.

pub mod account_changes;
pub mod account_policy;
pub mod accounts;
pub mod chassis;
pub mod logs;
pub mod managers;
pub mod root;
pub mod sessions;
pub mod systems;

use redfish_core::ApiError;
use serde_json::{Map, Value};

/// What an owner's ObjectManager answers: each object's interfaces and
/// their properties.
pub type ManagedObjects = std::collections::HashMap<
    zbus::zvariant::OwnedObjectPath,
    std::collections::HashMap<
        zbus::names::OwnedInterfaceName,
        std::collections::HashMap<String, zbus::zvariant::OwnedValue>,
    >,
>;

/// Every object under `root` of the owner `destination`, in one
/// `GetManagedObjects` call.
pub async fn managed_objects(
    bus: &zbus::Connection,
    destination: &'static str,
    root: &'static str,
) -> Result<ManagedObjects, ApiError> {
    async {
        zbus::fdo::ObjectManagerProxy::builder(bus)
            .destination(destination)?
            .path(root)?
            .build()
            .await?
            .get_managed_objects()
            .await
            .map_err(zbus::Error::from)
    }
    .await
    .map_err(|e| bus_error(&e))
}

/// A request body that must be a JSON object.
pub fn body_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(object)) => Ok(object),
        _ => Err(ApiError::malformed_json()),
    }
}

/// A D-Bus failure while reading or changing an owner's object, as the
/// client sees it: the owner is away (503) or refused (500).
pub fn bus_error(err: &zbus::Error) -> ApiError {
    match err {
        zbus::Error::MethodError(name, _, _)
            if name.as_str() == "org.freedesktop.DBus.Error.ServiceUnknown"
                || name.as_str() == "org.freedesktop.DBus.Error.NoReply"
                || name.as_str() == "org.freedesktop.DBus.Error.TimedOut" =>
        {
            ApiError::unavailable(5)
        }
        zbus::Error::FDO(fdo)
            if matches!(
                **fdo,
                zbus::fdo::Error::ServiceUnknown(_)
                    | zbus::fdo::Error::NoReply(_)
                    | zbus::fdo::Error::TimedOut(_)
            ) =>
        {
            ApiError::unavailable(5)
        }
        _ => ApiError::internal(),
    }
}
