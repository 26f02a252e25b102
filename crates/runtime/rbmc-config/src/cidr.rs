//! Address ranges in CIDR form (`192.0.2.0/24`, `2001:db8::/32`, or a bare
//! address for one host), for the source-address allowlists.

use std::net::IpAddr;

use serde::Deserialize;

/// A range of addresses: a network address and a prefix length. The host
/// bits of the address must be zero, so a range reads the same as it acts.
#[derive(Clone, Copy, Debug, Deserialize, Eq, PartialEq)]
#[serde(try_from = "String")]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Whether `address` lies in the range. An IPv4-mapped IPv6 address
    /// (`::ffff:a.b.c.d`) counts as its IPv4 address.
    pub fn contains(&self, address: IpAddr) -> bool {
        let address = match address {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
            v4 => v4,
        };
        match (self.network, address) {
            (IpAddr::V4(net), IpAddr::V4(addr)) => {
                let mask = v4_mask(self.prefix);
                u32::from(net) & mask == u32::from(addr) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(addr)) => {
                let mask = v6_mask(self.prefix);
                u128::from(net) & mask == u128::from(addr) & mask
            }
            _ => false,
        }
    }
}

/// The network bits of a `prefix`-long IPv4 prefix.
fn v4_mask(prefix: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0)
}

/// The network bits of a `prefix`-long IPv6 prefix.
fn v6_mask(prefix: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0)
}

impl TryFrom<String> for Cidr {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text.as_str(), None),
        };
        let network: IpAddr = address
            .parse()
            .map_err(|_| format!("{text:?} is not an address or a CIDR range"))?;
        let width = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => width,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= width)
                .ok_or_else(|| format!("{text:?}: the prefix length must be 0-{width}"))?,
        };
        let host_bits = match network {
            IpAddr::V4(v4) => u32::from(v4) & !v4_mask(prefix) != 0,
            IpAddr::V6(v6) => u128::from(v6) & !v6_mask(prefix) != 0,
        };
        if host_bits {
            return Err(format!(
                "{text:?} has host bits set; write the network address"
            ));
        }
        Ok(Self { network, prefix })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cidr(text: &str) -> Result<Cidr, String> {
        Cidr::try_from(text.to_owned())
    }

    #[test]
    fn ranges_contain_what_they_say() {
        let loopback = cidr("127.0.0.0/8").unwrap();
        assert!(loopback.contains("127.0.0.1".parse().unwrap()));
        assert!(loopback.contains("::ffff:127.1.2.3".parse().unwrap()));
        assert!(!loopback.contains("128.0.0.1".parse().unwrap()));
        let one = cidr("127.0.0.2").unwrap();
        assert!(one.contains("127.0.0.2".parse().unwrap()));
        assert!(!one.contains("127.0.0.1".parse().unwrap()));
        let all = cidr("0.0.0.0/0").unwrap();
        assert!(all.contains("203.0.113.9".parse().unwrap()));
        let v6 = cidr("2001:db8::/32").unwrap();
        assert!(v6.contains("2001:db8::1".parse().unwrap()));
        assert!(!v6.contains("2001:db9::1".parse().unwrap()));
        assert!(!v6.contains("127.0.0.1".parse().unwrap()));
    }

    #[test]
    fn bad_ranges_are_named() {
        assert!(cidr("127.0.0.1/8").unwrap_err().contains("host bits"));
        assert!(cidr("10.0.0.0/33").unwrap_err().contains("0-32"));
        assert!(cidr("example.com/8")
            .unwrap_err()
            .contains("not an address"));
        assert!(cidr("10.0.0.0/x").is_err());
    }
}
