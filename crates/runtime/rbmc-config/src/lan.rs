//! `[lan]` and `[sol]`: what the LAN channel reports about its interface,
//! and Serial over LAN.

use std::{net::Ipv4Addr, path::PathBuf};

use ipmi_wire::Privilege;
use serde::Deserialize;

use crate::PrivilegeName;

/// `[lan]`: where LAN Configuration Parameters read the BMC's address.
///
/// With `interface` set (on a BMC), the live Linux interface is read; the
/// static fields are for a development box, whose loopback address would
/// tell an IPMI client nothing useful.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct Lan {
    /// The network interface of the LAN channel, e.g. `eth0`.
    pub interface: Option<String>,
    /// Static IPv4 address reported when no interface is named.
    pub ip: Option<Ipv4Addr>,
    /// Static subnet mask.
    pub netmask: Option<Ipv4Addr>,
    /// Static default gateway.
    pub gateway: Option<Ipv4Addr>,
    /// Static MAC address, `aa:bb:cc:dd:ee:ff`.
    pub mac: Option<MacAddress>,
    /// Static 802.1q VLAN ID.
    pub vlan: Option<VlanId>,
    /// `[lan.networkd]`: Set LAN Configuration Parameters change
    /// `interface` through systemd-networkd. Without it the address
    /// parameters are read-only (82h), but for writes of equal values.
    pub networkd: Option<Networkd>,
}

impl Lan {
    /// Rules serde cannot express.
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.networkd.is_some() && self.interface.is_none() {
            return Err("lan.networkd needs lan.interface: the interface it configures".into());
        }
        Ok(())
    }
}

/// `[lan.networkd]`: where rbmc-netipmid writes the interface's
/// `.network` file, and the bus on which it asks systemd-networkd
/// (`org.freedesktop.network1`) to reload.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct Networkd {
    /// The configuration directory (`/etc/systemd/network`).
    pub directory: std::path::PathBuf,
    /// The D-Bus address of networkd's bus (default: the system bus).
    pub bus: Option<String>,
    /// How long to wait for networkd to take a change before answering,
    /// in milliseconds.
    pub settle_timeout_ms: u64,
}

impl Default for Networkd {
    fn default() -> Self {
        Self {
            directory: "/etc/systemd/network".into(),
            bus: None,
            settle_timeout_ms: 3000,
        }
    }
}

/// A MAC address written `aa:bb:cc:dd:ee:ff`.
#[derive(Clone, Copy, Debug, Deserialize, Eq, PartialEq)]
#[serde(try_from = "String")]
pub struct MacAddress(pub [u8; 6]);

impl TryFrom<String> for MacAddress {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        let parts: Vec<&str> = text.split(':').collect();
        let mut mac = [0u8; 6];
        if parts.len() != 6 {
            return Err(format!(
                "MAC address {text:?} must be six hex pairs like 02:00:00:00:00:01"
            ));
        }
        for (byte, part) in mac.iter_mut().zip(parts) {
            *byte = u8::from_str_radix(part, 16)
                .ok()
                .filter(|_| part.len() == 2)
                .ok_or_else(|| format!("MAC address {text:?}: {part:?} is not a hex pair"))?;
        }
        Ok(Self(mac))
    }
}

/// An 802.1q VLAN ID, 1-4094.
#[derive(Clone, Copy, Debug, Deserialize, Eq, PartialEq)]
#[serde(try_from = "u16")]
pub struct VlanId(pub u16);

impl TryFrom<u16> for VlanId {
    type Error = String;
    fn try_from(id: u16) -> Result<Self, String> {
        if (1..=4094).contains(&id) {
            Ok(Self(id))
        } else {
            Err(format!("VLAN ID {id} is out of range 1-4094"))
        }
    }
}

/// `[sol]`: Serial over LAN. The values are the SOL configuration
/// parameters' defaults; Set SOL Configuration Parameters changes them and
/// rbmc-netipmid keeps the changes in its state directory.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct Sol {
    /// SOL enable (parameter 1).
    pub enabled: bool,
    /// The host console: `unix:/path/to/socket`, or `unix:@name` for an
    /// abstract socket (obmc-console's `@obmc-console` style), or
    /// `tty:/dev/ttyS2` for a serial port or pty the BMC opens itself (set
    /// to raw mode). With none, activation works but carries no characters.
    pub console: Option<ConsoleSource>,
    /// A second activation takes the console over (the first console is
    /// told it was deactivated); otherwise it is refused with 80h.
    pub takeover: bool,
    /// Least privilege to activate SOL (parameter 2).
    pub privilege: PrivilegeName,
    /// Character accumulate interval in ms, 5-1275 (parameter 3).
    pub accumulate_interval_ms: u16,
    /// Character send threshold, 1-255 (parameter 3).
    pub send_threshold: u8,
    /// Retries of an unacknowledged packet, 0-7 (parameter 4).
    pub retry_count: u8,
    /// Retry interval in ms, 10-2550 (parameter 4).
    pub retry_interval_ms: u16,
    /// Serial bit rate (parameters 5 and 6).
    pub bit_rate: BitRate,
}

impl Default for Sol {
    fn default() -> Self {
        Self {
            enabled: true,
            console: None,
            takeover: false,
            privilege: PrivilegeName(Privilege::User),
            accumulate_interval_ms: 50,
            send_threshold: 96,
            retry_count: 7,
            retry_interval_ms: 500,
            bit_rate: BitRate(115_200),
        }
    }
}

impl Sol {
    /// Checks what serde cannot: ranges that depend on the unit.
    pub(crate) fn validate(&self) -> Result<(), String> {
        if !(5..=1275).contains(&self.accumulate_interval_ms) {
            return Err("sol.accumulate-interval-ms must be 5-1275".into());
        }
        if self.send_threshold == 0 {
            return Err("sol.send-threshold must be 1-255".into());
        }
        if self.retry_count > 7 {
            return Err("sol.retry-count must be 0-7".into());
        }
        if !(10..=2550).contains(&self.retry_interval_ms) {
            return Err("sol.retry-interval-ms must be 10-2550".into());
        }
        if self.privilege.0 == Privilege::Callback {
            return Err("sol.privilege must be user, operator or administrator".into());
        }
        Ok(())
    }
}

/// Where the host console is.
#[derive(Clone, Debug, Deserialize, Eq, PartialEq)]
#[serde(try_from = "String")]
pub enum ConsoleSource {
    /// A Unix stream socket at a path.
    UnixPath(PathBuf),
    /// A Unix stream socket in the abstract namespace.
    UnixAbstract(String),
    /// A terminal device: a UART wired to the host, or a pty.
    Tty(PathBuf),
}

impl TryFrom<String> for ConsoleSource {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        match text.strip_prefix("unix:") {
            Some(name) if name.len() > 1 && name.starts_with('@') => {
                Ok(Self::UnixAbstract(name[1..].to_owned()))
            }
            Some(path) if path.starts_with('/') => Ok(Self::UnixPath(path.into())),
            _ => match text.strip_prefix("tty:") {
                Some(path) if path.starts_with("/dev/") => Ok(Self::Tty(path.into())),
                _ => Err(format!(
                    "console {text:?} must be unix:/absolute/path, unix:@abstract-name \
                     or tty:/dev/NAME"
                )),
            },
        }
    }
}

/// A serial bit rate SOL can report: 9600, 19200, 38400, 57600 or 115200.
#[derive(Clone, Copy, Debug, Deserialize, Eq, PartialEq)]
#[serde(try_from = "u32")]
pub struct BitRate(pub u32);

impl BitRate {
    /// The SOL parameter code (Table 26-5: 6h = 9600 ... Ah = 115200).
    pub fn code(self) -> u8 {
        match self.0 {
            9600 => 6,
            19200 => 7,
            38400 => 8,
            57600 => 9,
            _ => 0x0A,
        }
    }
}

impl TryFrom<u32> for BitRate {
    type Error = String;
    fn try_from(rate: u32) -> Result<Self, String> {
        match rate {
            9600 | 19200 | 38400 | 57600 | 115_200 => Ok(Self(rate)),
            _ => Err(format!(
                "bit rate {rate} is not one of 9600, 19200, 38400, 57600, 115200"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;

    #[test]
    fn console_sources_parse_and_bad_ones_are_named() {
        let parse = |s: &str| ConsoleSource::try_from(s.to_owned());
        assert_eq!(
            parse("unix:/run/console.sock"),
            Ok(ConsoleSource::UnixPath("/run/console.sock".into()))
        );
        assert_eq!(
            parse("unix:@obmc-console"),
            Ok(ConsoleSource::UnixAbstract("obmc-console".into()))
        );
        assert_eq!(
            parse("tty:/dev/ttyS2"),
            Ok(ConsoleSource::Tty("/dev/ttyS2".into()))
        );
        for bad in ["/dev/ttyS2", "unix:relative", "unix:@", "tty:ttyS2"] {
            assert!(parse(bad).unwrap_err().contains(bad), "{bad}");
        }
    }

    #[test]
    fn sol_and_lan_sections_are_validated() {
        let err = |text: &str| Config::from_toml(text, "t.toml").unwrap_err().to_string();
        assert!(err("[sol]\nretry-count = 8\n").contains("sol.retry-count"));
        assert!(err("[sol]\nbit-rate = 300\n").contains("bit rate 300"));
        assert!(err("[sol]\nprivilege = \"callback\"\n").contains("sol.privilege"));
        assert!(err("[lan]\nmac = \"02:00:00:00:00\"\n").contains("MAC address"));
        assert!(err("[lan]\nvlan = 4095\n").contains("VLAN ID 4095"));
        let ok = Config::from_toml(
            "[lan]\nip = \"192.0.2.10\"\nmac = \"02:00:5e:00:53:01\"\nvlan = 100\n\
             [sol]\nconsole = \"unix:@obmc-console\"\nbit-rate = 57600\n",
            "t.toml",
        )
        .unwrap();
        assert_eq!(ok.lan.mac, Some(MacAddress([2, 0, 0x5e, 0, 0x53, 1])));
        assert_eq!(ok.sol.bit_rate.code(), 9);
    }
}
