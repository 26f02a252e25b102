//! The LAN channel's interface on D-Bus with OpenBMC's shapes
//! ([`rbmc_contracts::network`]): what Redfish's EthernetInterfaces and
//! other readers see. Every property asks the network task
//! ([`crate::network::NetworkHandle::in_effect`]) at each read, so it says
//! what Get LAN Configuration Parameters would, including a change just
//! applied or a new DHCP lease.

use ipmi_lan::lan_addressing::{prefix_len, InEffect};
use rbmc_contracts::network::{
    interface_path, ipv4_path, DHCP_NONE, DHCP_V4, IPV4, NETWORK_ROOT, ORIGIN_DHCP, ORIGIN_STATIC,
};
use zbus::fdo;

use crate::network::NetworkHandle;

/// The interface's objects, each reading through the network task.
#[derive(Clone)]
struct Reader {
    network: NetworkHandle,
    name: String,
}

impl Reader {
    async fn now(&self) -> fdo::Result<InEffect> {
        self.network
            .in_effect()
            .await
            .ok_or_else(|| fdo::Error::Failed("the LAN channel's settings task has stopped".into()))
    }
}

struct EthernetInterface(Reader);

#[zbus::interface(name = "xyz.openbmc_project.Network.EthernetInterface")]
impl EthernetInterface {
    #[zbus(property)]
    fn interface_name(&self) -> String {
        self.0.name.clone()
    }

    #[zbus(property, name = "DHCPEnabled")]
    async fn dhcp_enabled(&self) -> fdo::Result<String> {
        let dhcp = self.0.now().await?.dhcp;
        Ok(if dhcp { DHCP_V4 } else { DHCP_NONE }.to_owned())
    }

    #[zbus(property)]
    async fn default_gateway(&self) -> fdo::Result<String> {
        Ok(self.0.now().await?.gateway.to_string())
    }
}

struct MacAddress(Reader);

#[zbus::interface(name = "xyz.openbmc_project.Network.MACAddress")]
impl MacAddress {
    #[zbus(property, name = "MACAddress")]
    async fn mac_address(&self) -> fdo::Result<String> {
        Ok(format_mac(&self.0.now().await?.mac))
    }
}

struct Ip(Reader);

#[zbus::interface(name = "xyz.openbmc_project.Network.IP")]
impl Ip {
    #[zbus(property)]
    async fn address(&self) -> fdo::Result<String> {
        Ok(self.0.now().await?.ip.to_string())
    }

    #[zbus(property)]
    async fn prefix_length(&self) -> fdo::Result<u8> {
        Ok(prefix_len(self.0.now().await?.netmask).unwrap_or(0))
    }

    #[zbus(property)]
    async fn origin(&self) -> fdo::Result<String> {
        let dhcp = self.0.now().await?.dhcp;
        Ok(if dhcp { ORIGIN_DHCP } else { ORIGIN_STATIC }.to_owned())
    }

    #[zbus(property)]
    async fn gateway(&self) -> fdo::Result<String> {
        Ok(self.0.now().await?.gateway.to_string())
    }

    #[zbus(property, name = "Type")]
    fn type_(&self) -> String {
        IPV4.to_owned()
    }
}

fn format_mac(mac: &[u8; 6]) -> String {
    let parts: Vec<String> = mac.iter().map(|b| format!("{b:02x}")).collect();
    parts.join(":")
}

/// The name the interface goes by: the kernel's (`[lan] interface`), or
/// for a channel with static values only, `channel<N>`.
pub fn interface_name(lan: &rbmc_config::Lan, channel: u8) -> String {
    lan.interface
        .clone()
        .unwrap_or_else(|| format!("channel{channel}"))
}

/// Serves the interface named `name`, read through `network`, before the
/// daemon claims its bus name.
pub async fn serve(
    startup: &mut rbmc_daemon::Startup,
    network: NetworkHandle,
    name: String,
) -> anyhow::Result<()> {
    let reader = Reader {
        network,
        name: name.clone(),
    };
    startup
        .serve_at(NETWORK_ROOT, fdo::ObjectManager)
        .await?
        .serve_at(&interface_path(&name), EthernetInterface(reader.clone()))
        .await?
        .serve_at(&interface_path(&name), MacAddress(reader.clone()))
        .await?
        .serve_at(&ipv4_path(&name), Ip(reader))
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_are_colon_separated_lower_hex() {
        assert_eq!(
            format_mac(&[0x02, 0, 0x5e, 0, 0x53, 0xab]),
            "02:00:5e:00:53:ab"
        );
    }
}
