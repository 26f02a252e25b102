//! `Managers/bmc/EthernetInterfaces`: the BMC's LAN channel interface, as
//! its owner rbmc-netipmid serves it with OpenBMC's network shapes
//! ([`rbmc_contracts::network`]): the MAC, the IPv4 address with its mask,
//! origin and gateway, and whether DHCP is on. It is read-only here; IPMI's
//! Set LAN Configuration Parameters changes it, and the next read shows the
//! change.

use std::{collections::HashMap, net::Ipv4Addr};

use rbmc_contracts::{
    names::NETIPMID,
    network::{DHCP_V4, NETWORK_ROOT, ORIGIN_DHCP},
};
use redfish_core::ApiError;
use serde_json::{json, Value};
use zbus::zvariant::OwnedValue;

use crate::{
    owners::{managed_objects, Interfaces},
    service::{Reply, Service},
};

const COLLECTION: &str = "/redfish/v1/Managers/bmc/EthernetInterfaces";
const ETHERNET: &str = "xyz.openbmc_project.Network.EthernetInterface";
const MAC: &str = "xyz.openbmc_project.Network.MACAddress";
const IP: &str = "xyz.openbmc_project.Network.IP";

fn text(interfaces: &Interfaces, interface: &str, name: &str) -> Option<String> {
    let properties: &HashMap<String, OwnedValue> = interfaces
        .iter()
        .find(|(i, _)| i.as_str() == interface)
        .map(|(_, p)| p)?;
    String::try_from(properties.get(name)?.try_clone().ok()?).ok()
}

fn number(interfaces: &Interfaces, interface: &str, name: &str) -> Option<u8> {
    let properties = interfaces
        .iter()
        .find(|(i, _)| i.as_str() == interface)
        .map(|(_, p)| p)?;
    u8::try_from(&**properties.get(name)?).ok()
}

/// One interface as its owner serves it.
struct Served {
    id: String,
    interface: Interfaces,
    ipv4: Vec<Interfaces>,
}

async fn served(service: &Service) -> Result<Vec<Served>, ApiError> {
    let objects = managed_objects(&service.bus, NETIPMID, NETWORK_ROOT).await?;
    let mut interfaces: Vec<(String, Served)> = objects
        .iter()
        .filter(|(_, interfaces)| interfaces.keys().any(|i| i.as_str() == ETHERNET))
        .filter_map(|(path, interfaces)| {
            let id = text(interfaces, ETHERNET, "InterfaceName")?;
            let served = Served {
                id,
                interface: interfaces.clone(),
                ipv4: Vec::new(),
            };
            Some((path.as_str().to_owned(), served))
        })
        .collect();
    for (path, object) in &objects {
        let Some((parent, _)) = path.as_str().split_once("/ipv4/") else {
            continue;
        };
        if let Some((_, served)) = interfaces.iter_mut().find(|(p, _)| p == parent) {
            served.ipv4.push(object.clone());
        }
    }
    interfaces.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(interfaces.into_iter().map(|(_, served)| served).collect())
}

/// The dotted mask of a prefix length.
fn netmask(prefix: u8) -> Ipv4Addr {
    let bits = u32::MAX
        .checked_shl(32 - u32::from(prefix.min(32)))
        .unwrap_or(0);
    Ipv4Addr::from(bits)
}

fn render(served: &Served) -> Value {
    let id = &served.id;
    let addresses: Vec<Value> = served
        .ipv4
        .iter()
        .filter_map(|ip| {
            let address = text(ip, IP, "Address")?;
            // An unconfigured channel has no address to show.
            if address.parse::<Ipv4Addr>().ok()?.is_unspecified() {
                return None;
            }
            let origin = if text(ip, IP, "Origin").as_deref() == Some(ORIGIN_DHCP) {
                "DHCP"
            } else {
                "Static"
            };
            let mut entry = json!({
                "Address": address,
                "SubnetMask": netmask(number(ip, IP, "PrefixLength").unwrap_or(32)).to_string(),
                "AddressOrigin": origin,
            });
            if let Some(gateway) = text(ip, IP, "Gateway").filter(|g| g != "0.0.0.0") {
                entry["Gateway"] = json!(gateway);
            }
            Some(entry)
        })
        .collect();
    let dhcp = text(&served.interface, ETHERNET, "DHCPEnabled").as_deref() == Some(DHCP_V4);
    let mut body = json!({
        "@odata.id": format!("{COLLECTION}/{id}"),
        "@odata.type": "#EthernetInterface.v1_12_5.EthernetInterface",
        "Id": id,
        "Name": "Manager Ethernet Interface",
        "Description": "The BMC's LAN channel interface (IPMI LAN configuration)",
        "InterfaceEnabled": true,
        "DHCPv4": { "DHCPEnabled": dhcp },
        "IPv4Addresses": addresses,
        "Status": { "State": "Enabled", "Health": "OK" },
    });
    if let Some(mac) = text(&served.interface, MAC, "MACAddress") {
        body["MACAddress"] = json!(mac);
    }
    body
}

/// `GET /redfish/v1/Managers/bmc/EthernetInterfaces`.
pub async fn collection(service: &Service) -> Result<Reply, ApiError> {
    let members: Vec<Value> = served(service)
        .await?
        .iter()
        .map(|s| json!({ "@odata.id": format!("{COLLECTION}/{}", s.id) }))
        .collect();
    Ok(Reply::ok(json!({
        "@odata.id": COLLECTION,
        "@odata.type": "#EthernetInterfaceCollection.EthernetInterfaceCollection",
        "Name": "Ethernet Network Interface Collection",
        "Members@odata.count": members.len(),
        "Members": members,
    })))
}

/// `GET /redfish/v1/Managers/bmc/EthernetInterfaces/<id>`.
pub async fn interface(service: &Service, id: &str) -> Result<Reply, ApiError> {
    served(service)
        .await?
        .iter()
        .find(|s| s.id == id)
        .map(|s| Reply::ok(render(s)))
        .ok_or_else(|| ApiError::not_found("EthernetInterface", id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_lengths_make_dotted_masks() {
        assert_eq!(netmask(24), Ipv4Addr::new(255, 255, 255, 0));
        assert_eq!(netmask(0), Ipv4Addr::new(0, 0, 0, 0));
        assert_eq!(netmask(32), Ipv4Addr::new(255, 255, 255, 255));
        assert_eq!(netmask(25), Ipv4Addr::new(255, 255, 255, 128));
    }
}
