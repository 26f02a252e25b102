//! The BMC as `Managers/bmc`: its firmware version and clock,
//! `NetworkProtocol` (which management protocols it serves, on which
//! ports), and `Manager.Reset` (rbmc-sensord's cold reset: every daemon
//! restarts).

use redfish_core::ApiError;
use serde_json::json;

use crate::{
    clock::now_rfc3339,
    resources::root::service_uuid,
    service::{Reply, Service},
};

/// The manager's `Id`.
pub const MANAGER: &str = "bmc";
const PATH: &str = "/redfish/v1/Managers/bmc";

/// `GET /redfish/v1/Managers`.
pub fn collection() -> Reply {
    Reply::ok(json!({
        "@odata.id": "/redfish/v1/Managers",
        "@odata.type": "#ManagerCollection.ManagerCollection",
        "Name": "Manager Collection",
        "Members@odata.count": 1,
        "Members": [{ "@odata.id": PATH }],
    }))
}

/// The firmware revision Get Device ID reports (`[bmc]
/// firmware-revision`), as `major.minor`.
fn firmware_version(service: &Service) -> String {
    let revision = service.config.bmc.firmware_revision;
    format!("{}.{:02}", revision.major, revision.minor)
}

/// `GET /redfish/v1/Managers/bmc`.
pub fn get(service: &Service) -> Reply {
    Reply::ok(json!({
        "@odata.id": PATH,
        "@odata.type": "#Manager.v1_25_0.Manager",
        "Id": MANAGER,
        "Name": "Manager",
        "Description": "rbmc baseboard management controller",
        "ManagerType": "BMC",
        "FirmwareVersion": firmware_version(service),
        "DateTime": now_rfc3339(),
        "DateTimeLocalOffset": "+00:00",
        "UUID": service_uuid(service),
        "PowerState": "On",
        "Status": { "State": "Enabled", "Health": "OK" },
        "NetworkProtocol": { "@odata.id": format!("{PATH}/NetworkProtocol") },
        "EthernetInterfaces": { "@odata.id": format!("{PATH}/EthernetInterfaces") },
        "LogServices": { "@odata.id": format!("{PATH}/LogServices") },
        "Links": {
            "ManagerForServers": [{ "@odata.id": "/redfish/v1/Systems/system" }],
            "ManagerForChassis": [{ "@odata.id": "/redfish/v1/Chassis/chassis" }],
        },
        "Actions": {
            "#Manager.Reset": {
                "target": format!("{PATH}/Actions/{RESET}"),
                "@Redfish.ActionInfo": format!("{PATH}/ResetActionInfo"),
            }
        },
    }))
}

const RESET: &str = "Manager.Reset";

/// The reset types offered: both restart every daemon of the suite (IPMI's
/// cold reset); each daemon exits cleanly and its supervisor starts it
/// again, settings kept. There is no harder reset to offer a process.
const RESET_TYPES: [&str; 2] = ["GracefulRestart", "ForceRestart"];

/// `GET /redfish/v1/Managers/bmc/ResetActionInfo`.
pub fn reset_action_info() -> Reply {
    Reply::ok(json!({
        "@odata.id": format!("{PATH}/ResetActionInfo"),
        "@odata.type": "#ActionInfo.v1_6_0.ActionInfo",
        "Id": "ResetActionInfo",
        "Name": "Reset Action Info",
        "Parameters": [{
            "Name": "ResetType",
            "Required": false,
            "DataType": "String",
            "AllowableValues": RESET_TYPES,
        }],
    }))
}

/// `POST .../Actions/Manager.Reset`: a cold reset through rbmc-sensord
/// (`org.rbmc.Bmc.Reset`), answered before the daemons, this one too,
/// restart.
pub async fn reset(
    service: &Service,
    caller: &crate::service::Caller,
    request: &crate::service::Request,
) -> Result<Reply, ApiError> {
    if !request.body.iter().all(u8::is_ascii_whitespace) {
        let body = crate::resources::body_object(&request.body)?;
        for (key, value) in &body {
            match key.as_str() {
                "ResetType" => {
                    let reset_type = value.as_str().unwrap_or_default();
                    if !RESET_TYPES.contains(&reset_type) {
                        return Err(ApiError::action_parameter_value_not_in_list(
                            &value.to_string(),
                            "ResetType",
                            RESET,
                        ));
                    }
                }
                k if k.contains('@') => {}
                _ => return Err(ApiError::action_parameter_unknown(RESET, key)),
            }
        }
    }
    async {
        rbmc_contracts::bmc::BmcProxy::new(&service.bus)
            .await
            .map_err(rbmc_contracts::CommonError::ZBus)?
            .reset("cold")
            .await
    }
    .await
    .map_err(|err| match err {
        rbmc_contracts::CommonError::ZBus(err) => crate::resources::bus_error(&err),
        _ => ApiError::internal(),
    })?;
    tracing::info!(user = %caller.user, "manager reset: every daemon restarts");
    Ok(Reply::empty(hyper::StatusCode::NO_CONTENT))
}

/// `GET /redfish/v1/Managers/bmc/NetworkProtocol`.
pub fn network_protocol(service: &Service) -> Reply {
    let config = &service.config;
    Reply::ok(json!({
        "@odata.id": format!("{PATH}/NetworkProtocol"),
        "@odata.type": "#ManagerNetworkProtocol.v1_13_0.ManagerNetworkProtocol",
        "Id": "NetworkProtocol",
        "Name": "Manager Network Protocol",
        "Description": "The management protocols the BMC serves",
        "IPMI": { "ProtocolEnabled": true, "Port": config.network.listen.port() },
        "HTTPS": { "ProtocolEnabled": true, "Port": config.redfish.listen.port() },
        "HTTP": { "ProtocolEnabled": false },
        "SSH": { "ProtocolEnabled": false },
        "Status": { "State": "Enabled", "Health": "OK" },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_reads_as_a_date_time_offset() {
        let now = now_rfc3339();
        assert_eq!(now.len(), "2026-12-02T10:30:00+00:00".len(), "{now}");
        assert!(
            now.ends_with("+00:00") && now.as_bytes()[10] == b'T',
            "{now}"
        );
    }
}
