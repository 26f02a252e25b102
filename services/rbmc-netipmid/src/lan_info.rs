//! Reads the LAN channel's interface for LAN Configuration Parameters: from
//! the live Linux interface (sysfs, getifaddrs, /proc/net) when `[lan]
//! interface` names one, else from the config's static values.

use std::{fs, net::Ipv4Addr, path::Path};

use ipmi_lan::lan_params::{IpSource, LanSnapshot};
use rbmc_config::Lan;

/// Where the snapshot comes from.
#[derive(Clone, Debug)]
pub enum LanSource {
    /// A live interface, read at every request.
    Live(String),
    /// Fixed values from the config.
    Static(LanSnapshot),
}

impl LanSource {
    /// The source `[lan]` describes.
    pub fn from_config(lan: &Lan) -> Self {
        match &lan.interface {
            Some(name) => Self::Live(name.clone()),
            None => Self::Static(LanSnapshot {
                ip: lan.ip.unwrap_or(Ipv4Addr::UNSPECIFIED),
                source: if lan.ip.is_some() {
                    IpSource::Static
                } else {
                    IpSource::Unspecified
                },
                netmask: lan.netmask.unwrap_or(Ipv4Addr::UNSPECIFIED),
                mac: lan.mac.map_or([0; 6], |m| m.0),
                gateway: lan.gateway.unwrap_or(Ipv4Addr::UNSPECIFIED),
                gateway_mac: [0; 6],
                vlan: lan.vlan.map(|v| v.0),
            }),
        }
    }

    /// The interface as it is now. A missing interface reads as zeros (the
    /// BMC's network may still be coming up); that is what IPMI clients
    /// expect to see for an unconfigured channel.
    pub fn snapshot(&self) -> LanSnapshot {
        match self {
            Self::Static(snapshot) => snapshot.clone(),
            Self::Live(name) => read_interface(name),
        }
    }
}

fn read_interface(name: &str) -> LanSnapshot {
    let sys = Path::new("/sys/class/net").join(name);
    let mut snapshot = LanSnapshot {
        mac: fs::read_to_string(sys.join("address"))
            .ok()
            .and_then(|text| parse_mac(text.trim()))
            .unwrap_or([0; 6]),
        ..LanSnapshot::default()
    };
    if let Ok(addresses) = nix::ifaddrs::getifaddrs() {
        for address in addresses.filter(|a| a.interface_name == name) {
            let ip = address
                .address
                .as_ref()
                .and_then(|a| a.as_sockaddr_in())
                .map(|a| a.ip());
            let mask = address
                .netmask
                .as_ref()
                .and_then(|a| a.as_sockaddr_in())
                .map(|a| a.ip());
            if let (Some(ip), Some(mask)) = (ip, mask) {
                snapshot.ip = ip;
                snapshot.netmask = mask;
                break;
            }
        }
    }
    if let Some(gateway) = fs::read_to_string("/proc/net/route")
        .ok()
        .and_then(|table| default_gateway(&table, name))
    {
        snapshot.gateway = gateway;
        snapshot.gateway_mac = fs::read_to_string("/proc/net/arp")
            .ok()
            .and_then(|table| neighbour_mac(&table, gateway))
            .unwrap_or([0; 6]);
    }
    let index = fs::read_to_string(sys.join("ifindex")).unwrap_or_default();
    let lease = Path::new("/run/systemd/netif/leases").join(index.trim());
    snapshot.source = if snapshot.ip.is_unspecified() {
        IpSource::Unspecified
    } else if !index.is_empty() && lease.exists() {
        IpSource::Dhcp
    } else {
        IpSource::Static
    };
    snapshot.vlan = fs::read_to_string(Path::new("/proc/net/vlan").join(name))
        .ok()
        .and_then(|text| vlan_id(&text));
    snapshot
}

/// The kernel's IPv4 neighbour table as text (empty if unreadable); read
/// it off the packet path, then look addresses up with [`mac_in`].
pub fn neighbour_table() -> String {
    fs::read_to_string("/proc/net/arp").unwrap_or_default()
}

/// The MAC of `ip` in a neighbour table read by [`neighbour_table`], or
/// zeros when unknown.
pub fn mac_in(table: &str, ip: Ipv4Addr) -> [u8; 6] {
    neighbour_mac(table, ip).unwrap_or([0; 6])
}

fn parse_mac(text: &str) -> Option<[u8; 6]> {
    let mut mac = [0u8; 6];
    let mut parts = text.split(':');
    for byte in &mut mac {
        *byte = u8::from_str_radix(parts.next()?, 16).ok()?;
    }
    parts.next().is_none().then_some(mac)
}

/// The default route's gateway for `interface` in /proc/net/route, whose
/// addresses are the kernel's network-order bytes printed as a host-order
/// hex number.
fn default_gateway(table: &str, interface: &str) -> Option<Ipv4Addr> {
    table.lines().skip(1).find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            [iface, "00000000", gateway, ..] if *iface == interface => {
                let raw = u32::from_str_radix(gateway, 16).ok()?;
                Some(Ipv4Addr::from(raw.to_ne_bytes()))
            }
            _ => None,
        }
    })
}

fn neighbour_mac(table: &str, ip: Ipv4Addr) -> Option<[u8; 6]> {
    let ip = ip.to_string();
    table.lines().skip(1).find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            [address, _, _, mac, ..] if *address == ip => parse_mac(mac),
            _ => None,
        }
    })
}

fn vlan_id(text: &str) -> Option<u16> {
    // First line: "eth0.100  VID: 100	 REORDER_HDR: 1 ..."
    let after = text.split("VID:").nth(1)?;
    after.split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_net_tables() {
        let route = "Iface\tDestination\tGateway \tFlags\n\
                     eth0\t00000000\t0102000A\t0003\n\
                     eth0\t0002000A\t00000000\t0001\n";
        assert_eq!(
            default_gateway(route, "eth0"),
            Some(Ipv4Addr::new(10, 0, 2, 1))
        );
        assert_eq!(default_gateway(route, "eth1"), None);
        let arp =
            "IP address       HW type     Flags       HW address            Mask     Device\n\
                   10.0.2.1         0x1         0x2         52:55:0a:00:02:02     *        eth0\n";
        assert_eq!(
            neighbour_mac(arp, Ipv4Addr::new(10, 0, 2, 1)),
            Some([0x52, 0x55, 0x0a, 0x00, 0x02, 0x02])
        );
        assert_eq!(vlan_id("eth0.100  VID: 100\t REORDER_HDR: 1"), Some(100));
        assert_eq!(parse_mac("02:00:00:00:00:1"), Some([2, 0, 0, 0, 0, 1]));
        assert_eq!(parse_mac("02:00:00:00:00"), None);
    }

    #[test]
    fn loopback_reads_live() {
        let snapshot = read_interface("lo");
        assert_eq!(snapshot.ip, Ipv4Addr::LOCALHOST);
        assert_eq!(snapshot.netmask, Ipv4Addr::new(255, 0, 0, 0));
        assert_eq!(snapshot.mac, [0; 6]);
    }
}
