//! The service's entry points: `/redfish`, the service root, the OData
//! service document and `$metadata` (DSP0266 §6, §8.4). They answer
//! without authentication.

use serde_json::{json, Value};

use crate::service::{Reply, Service};

/// The schemas the service's resources use, with the versioned namespaces
/// they name: `$metadata` references each (from DMTF's published location,
/// whose file names a validator finds in its local schema folder).
pub const SCHEMAS: &[(&str, &[&str])] = &[
    ("ServiceRoot", &["ServiceRoot", "ServiceRoot.v1_21_0"]),
    ("ComputerSystemCollection", &["ComputerSystemCollection"]),
    (
        "ComputerSystem",
        &["ComputerSystem", "ComputerSystem.v1_28_0"],
    ),
    ("ChassisCollection", &["ChassisCollection"]),
    ("Chassis", &["Chassis", "Chassis.v1_28_0"]),
    ("SensorCollection", &["SensorCollection"]),
    ("Sensor", &["Sensor", "Sensor.v1_13_0"]),
    (
        "SessionService",
        &["SessionService", "SessionService.v1_2_0"],
    ),
    ("SessionCollection", &["SessionCollection"]),
    ("Session", &["Session", "Session.v1_8_0"]),
    ("ActionInfo", &["ActionInfo", "ActionInfo.v1_6_0"]),
    ("ManagerCollection", &["ManagerCollection"]),
    ("Manager", &["Manager", "Manager.v1_25_0"]),
    (
        "ManagerNetworkProtocol",
        &["ManagerNetworkProtocol", "ManagerNetworkProtocol.v1_13_0"],
    ),
    (
        "AccountService",
        &["AccountService", "AccountService.v1_18_1"],
    ),
    ("ManagerAccountCollection", &["ManagerAccountCollection"]),
    (
        "ManagerAccount",
        &["ManagerAccount", "ManagerAccount.v1_14_1"],
    ),
    ("RoleCollection", &["RoleCollection"]),
    ("Role", &["Role", "Role.v1_3_3"]),
    ("LogServiceCollection", &["LogServiceCollection"]),
    ("LogService", &["LogService", "LogService.v1_9_0"]),
    ("LogEntryCollection", &["LogEntryCollection"]),
    ("LogEntry", &["LogEntry", "LogEntry.v1_21_0"]),
    ("EventService", &["EventService", "EventService.v1_12_0"]),
    (
        "EventDestinationCollection",
        &["EventDestinationCollection"],
    ),
    (
        "EventDestination",
        &["EventDestination", "EventDestination.v1_17_0"],
    ),
    ("Event", &["Event", "Event.v1_13_0"]),
    ("Message", &["Message", "Message.v1_3_0"]),
    (
        "ThermalSubsystem",
        &["ThermalSubsystem", "ThermalSubsystem.v1_5_0"],
    ),
    ("FanCollection", &["FanCollection"]),
    ("ControlCollection", &["ControlCollection"]),
    ("Control", &["Control", "Control.v1_5_0"]),
    ("Fan", &["Fan", "Fan.v1_6_0"]),
    (
        "ThermalMetrics",
        &["ThermalMetrics", "ThermalMetrics.v1_3_3"],
    ),
    (
        "PowerSubsystem",
        &["PowerSubsystem", "PowerSubsystem.v1_1_4"],
    ),
    ("PowerSupplyCollection", &["PowerSupplyCollection"]),
    ("PowerSupply", &["PowerSupply", "PowerSupply.v1_7_0"]),
    (
        "PowerSupplyMetrics",
        &["PowerSupplyMetrics", "PowerSupplyMetrics.v1_2_0"],
    ),
    (
        "EthernetInterfaceCollection",
        &["EthernetInterfaceCollection"],
    ),
    (
        "EthernetInterface",
        &["EthernetInterface", "EthernetInterface.v1_12_5"],
    ),
    ("IPAddresses", &["IPAddresses", "IPAddresses.v1_1_5"]),
    (
        "MessageRegistryFileCollection",
        &["MessageRegistryFileCollection"],
    ),
    (
        "MessageRegistryFile",
        &["MessageRegistryFile", "MessageRegistryFile.v1_1_5"],
    ),
    (
        "MessageRegistry",
        &["MessageRegistry", "MessageRegistry.v1_6_0"],
    ),
    ("Resource", &["Resource", "Resource.v1_24_0"]),
];

/// `GET /redfish`: the protocol versions.
pub fn versions() -> Reply {
    Reply::ok(json!({ "v1": "/redfish/v1/" }))
}

/// `GET /redfish/v1`: the service root.
pub fn service_root(service: &Service) -> Reply {
    let uuid = service_uuid(service);
    Reply::ok(json!({
        "@odata.id": "/redfish/v1",
        "@odata.type": "#ServiceRoot.v1_21_0.ServiceRoot",
        "Id": "RootService",
        "Name": "Root Service",
        "RedfishVersion": "1.21.0",
        "UUID": uuid,
        "Vendor": "rbmc",
        "Product": "rbmc",
        "Systems": { "@odata.id": "/redfish/v1/Systems" },
        "Chassis": { "@odata.id": "/redfish/v1/Chassis" },
        "Managers": { "@odata.id": "/redfish/v1/Managers" },
        "AccountService": { "@odata.id": "/redfish/v1/AccountService" },
        "SessionService": { "@odata.id": "/redfish/v1/SessionService" },
        "EventService": { "@odata.id": "/redfish/v1/EventService" },
        "Registries": { "@odata.id": "/redfish/v1/Registries" },
        "Links": {
            "Sessions": { "@odata.id": "/redfish/v1/SessionService/Sessions" }
        },
        "ProtocolFeaturesSupported": {
            "ExpandQuery": {
                "ExpandAll": true,
                "Levels": true,
                "Links": true,
                "NoLinks": true,
                "MaxLevels": redfish_core::query::MAX_LEVELS
            },
            "FilterQuery": false,
            "SelectQuery": true,
            "OnlyMemberQuery": false,
            "ExcerptQuery": false,
            "TopSkipQuery": true
        }
    }))
}

/// The service's UUID: the BMC's GUID when configured, else a fixed
/// name-based one (the root must carry one; it names this service).
pub fn service_uuid(service: &Service) -> String {
    match service.config.bmc.guid {
        Some(guid) => format_uuid(&guid.0),
        None => "00000000-0000-0000-0000-000000000000".into(),
    }
}

fn format_uuid(bytes: &[u8; 16]) -> String {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// `GET /redfish/v1/odata`: the OData service document.
pub fn odata() -> Reply {
    let entries = [
        ("Service", "/redfish/v1/"),
        ("Systems", "/redfish/v1/Systems"),
        ("Chassis", "/redfish/v1/Chassis"),
        ("Managers", "/redfish/v1/Managers"),
        ("AccountService", "/redfish/v1/AccountService"),
        ("SessionService", "/redfish/v1/SessionService"),
        ("Sessions", "/redfish/v1/SessionService/Sessions"),
    ];
    let value: Vec<Value> = entries
        .iter()
        .map(|(name, url)| json!({ "name": name, "kind": "Singleton", "url": url }))
        .collect();
    Reply::ok(json!({
        "@odata.context": "/redfish/v1/$metadata",
        "value": value,
    }))
}

/// `GET /redfish/v1/$metadata`: the CSDL document naming every schema
/// the resources use.
pub fn metadata() -> Reply {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <edmx:Edmx xmlns:edmx=\"http://docs.oasis-open.org/odata/ns/edmx\" Version=\"4.0\">\n",
    );
    for (file, namespaces) in SCHEMAS {
        xml.push_str(&format!(
            "  <edmx:Reference Uri=\"http://redfish.dmtf.org/schemas/v1/{file}_v1.xml\">\n"
        ));
        for namespace in *namespaces {
            xml.push_str(&format!("    <edmx:Include Namespace=\"{namespace}\"/>\n"));
        }
        xml.push_str("  </edmx:Reference>\n");
    }
    xml.push_str(
        "  <edmx:DataServices>\n\
         \x20   <Schema xmlns=\"http://docs.oasis-open.org/odata/ns/edm\" Namespace=\"Service\">\n\
         \x20     <EntityContainer Name=\"Service\" Extends=\"ServiceRoot.v1_21_0.ServiceContainer\"/>\n\
         \x20   </Schema>\n\
         \x20 </edmx:DataServices>\n\
         </edmx:Edmx>\n",
    );
    Reply::xml(xml)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// DMTF's schema bundle, beside the repository (`../shared`), or where
    /// `RBMC_REDFISH_CSDL` says.
    fn bundle() -> std::path::PathBuf {
        std::env::var_os("RBMC_REDFISH_CSDL").map_or_else(
            || {
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../../../shared/redfish-csdl")
            },
            std::path::PathBuf::from,
        )
    }

    #[test]
    fn every_schema_the_metadata_names_is_in_dmtfs_bundle() {
        let bundle = bundle();
        assert!(
            bundle.join("ServiceRoot_v1.xml").exists(),
            "DMTF's CSDL bundle is not at {} (set RBMC_REDFISH_CSDL)",
            bundle.display()
        );
        for (file, namespaces) in SCHEMAS {
            let csdl = std::fs::read_to_string(bundle.join(format!("{file}_v1.xml")))
                .unwrap_or_else(|e| panic!("{file}: {e}"));
            for namespace in *namespaces {
                assert!(
                    csdl.contains(&format!("Namespace=\"{namespace}\"")),
                    "{file}_v1.xml has no namespace {namespace}"
                );
            }
        }
    }
}
