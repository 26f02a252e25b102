//! `/redfish/v1/Registries`: DMTF's message registries whose messages
//! the service sends (redfish-core's `registries`), each with its
//! `MessageRegistryFile` and the registry served beside it.

use redfish_core::{registries, ApiError};

use crate::service::Reply;

/// `GET /redfish/v1/Registries`.
pub fn collection() -> Reply {
    Reply::ok(registries::collection())
}

/// `GET /redfish/v1/Registries/<prefix>`.
pub fn file(prefix: &str) -> Result<Reply, ApiError> {
    registries::find(prefix)
        .map(|r| Reply::ok(r.file()))
        .ok_or_else(|| ApiError::not_found("MessageRegistryFile", prefix))
}

/// `GET /redfish/v1/Registries/<prefix>/<prefix>`.
pub fn registry(prefix: &str) -> Result<Reply, ApiError> {
    registries::find(prefix)
        .map(|r| Reply::ok(r.registry()))
        .ok_or_else(|| ApiError::not_found("MessageRegistry", prefix))
}
