//! The BMC as `Managers/bmc`: its firmware version and clock, and
//! `NetworkProtocol`: which management protocols it serves, on which
//! ports.

use crate::clock::now_rfc3339;

use serde_json::json;

use crate::{
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
        "LogServices": { "@odata.id": format!("{PATH}/LogServices") },
        "Links": {
            "ManagerForServers": [{ "@odata.id": "/redfish/v1/Systems/system" }],
            "ManagerForChassis": [{ "@odata.id": "/redfish/v1/Chassis/chassis" }],
        },
    }))
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
