//! The LAN channel's own network settings as IPMI sets them, sans-IO: LAN
//! Configuration Parameters 0 (set in progress), 3 (IP address), 4 (IP
//! address source), 5 (MAC), 6 (subnet mask), 12-15 (gateways), 20 (VLAN
//! ID) and 21 (VLAN priority) of Table 23-4.
//!
//! [`LanAddressing`] holds the settings last applied and, while a client
//! has set "set in progress", the ones it is staging. A Set outside a
//! set-in-progress window asks at once for its change to be applied
//! ([`SetOutcome::Apply`]); inside one, it only stages, and "commit write"
//! or "set complete" asks for the whole staged change at once, so a
//! half-written change is never applied. The driver (rbmc-netipmid's
//! network task) carries the settings out through systemd-networkd and
//! calls [`LanAddressing::applied`] only once they are durable and
//! accepted; until then nothing here changes. Writing a value equal to the
//! current one always succeeds and applies nothing. Reads return what was
//! set (staged, while a set is in progress), so a client's read-back
//! matches its write; under DHCP the address, mask and gateway come from
//! the live interface.
//!
//! [`render`] turns settings into systemd-networkd files, and
//! [`parse_rendered`] reads the settings back from the file it wrote.

use std::net::Ipv4Addr;

use ipmi_wire::CompletionCode;

use crate::{
    commands::CommandResult,
    config_params::{self, CC_PARAMETER_NOT_SUPPORTED, CC_READ_ONLY_PARAMETER, CC_SET_IN_PROGRESS},
    lan_params::{IpSource, LanSnapshot},
};

/// VLAN priority (parameter 21).
pub const VLAN_PRIORITY: u8 = 21;
/// The parameters this module answers.
pub const PARAMETERS: [u8; 11] = [0, 3, 4, 5, 6, 12, 13, 14, 15, 20, VLAN_PRIORITY];

/// Whether `parameter` is one of the address parameters answered here.
pub fn owns(parameter: u8) -> bool {
    PARAMETERS.contains(&parameter)
}

/// Where the interface's IPv4 address comes from.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub enum AddressSource {
    /// A static address, from these settings.
    #[default]
    Static,
    /// DHCP.
    Dhcp,
}

/// The network settings of the LAN channel's interface.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct NetworkSettings {
    /// Static or DHCP.
    pub source: AddressSource,
    /// The static address (kept under DHCP, for a switch back).
    pub ip: Ipv4Addr,
    /// The static subnet mask.
    pub netmask: Ipv4Addr,
    /// The default gateway (0.0.0.0: none).
    pub gateway: Ipv4Addr,
    /// The gateway's MAC, a static neighbour entry (zeros: learnt by ARP).
    pub gateway_mac: [u8; 6],
    /// 802.1q VLAN ID, if the channel is on a VLAN.
    pub vlan: Option<u16>,
    /// 802.1q priority (0-7) of the BMC's frames on the VLAN.
    pub vlan_priority: u8,
}

impl Default for NetworkSettings {
    fn default() -> Self {
        Self {
            source: AddressSource::Static,
            ip: Ipv4Addr::UNSPECIFIED,
            netmask: Ipv4Addr::UNSPECIFIED,
            gateway: Ipv4Addr::UNSPECIFIED,
            gateway_mac: [0; 6],
            vlan: None,
            vlan_priority: 0,
        }
    }
}

impl NetworkSettings {
    /// The settings an interface shows now (before rbmc ever wrote any).
    pub fn from_live(live: &LanSnapshot) -> Self {
        Self {
            source: if live.source == IpSource::Dhcp {
                AddressSource::Dhcp
            } else {
                AddressSource::Static
            },
            ip: live.ip,
            netmask: live.netmask,
            gateway: live.gateway,
            gateway_mac: [0; 6],
            vlan: live.vlan,
            vlan_priority: 0,
        }
    }

    /// The prefix length the address is configured with: the netmask's,
    /// or 32 while no mask is set (a client sets the address first).
    pub fn prefix(&self) -> u8 {
        prefix_len(self.netmask)
            .filter(|len| *len > 0)
            .unwrap_or(32)
    }
}

/// What a Set asks of the driver.
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum SetOutcome {
    /// Nothing to carry out: the value was already so, or it was staged.
    Done,
    /// Carry these settings out, then call [`LanAddressing::applied`].
    Apply(NetworkSettings),
}

/// The address parameters of one LAN channel.
#[derive(Clone, Debug)]
pub struct LanAddressing {
    channel: u8,
    applied: NetworkSettings,
    staged: Option<NetworkSettings>,
    /// Whether changes can be applied at all (a dev box without a managed
    /// interface reports its config's values read-only).
    writable: bool,
}

impl LanAddressing {
    /// The parameters of `channel`, whose interface has `applied` now.
    /// Unless `writable`, every change is refused as read-only (82h).
    pub fn new(channel: u8, applied: NetworkSettings, writable: bool) -> Self {
        Self {
            channel,
            applied,
            staged: None,
            writable,
        }
    }

    /// The settings in effect.
    pub fn settings(&self) -> &NetworkSettings {
        &self.applied
    }

    /// What reads show: the staged settings during a set, else the applied.
    fn shown(&self) -> &NetworkSettings {
        self.staged.as_ref().unwrap_or(&self.applied)
    }

    /// Get LAN Configuration Parameters for one of [`owns`]'s parameters.
    pub fn cmd_get(&self, data: &[u8], present: u8, live: &LanSnapshot) -> CommandResult {
        let (parameter, revision_only) = config_params::parse_get(data, self.channel, present)?;
        let shown = self.shown();
        let dhcp = shown.source == AddressSource::Dhcp;
        let value = match parameter {
            0 => vec![u8::from(self.staged.is_some())],
            3 if dhcp => live.ip.octets().to_vec(),
            3 => shown.ip.octets().to_vec(),
            4 => vec![match shown.source {
                AddressSource::Static => IpSource::Static.code(),
                AddressSource::Dhcp => IpSource::Dhcp.code(),
            }],
            5 => live.mac.to_vec(),
            6 if dhcp => live.netmask.octets().to_vec(),
            6 => shown.netmask.octets().to_vec(),
            12 if dhcp => live.gateway.octets().to_vec(),
            12 => shown.gateway.octets().to_vec(),
            13 => shown.gateway_mac.to_vec(),
            // No backup gateway.
            14 => vec![0; 4],
            15 => vec![0; 6],
            20 => vlan_bytes(shown.vlan).to_vec(),
            VLAN_PRIORITY => vec![shown.vlan_priority],
            _ => return Err(CC_PARAMETER_NOT_SUPPORTED),
        };
        Ok(config_params::get_response(revision_only, value))
    }

    /// Set LAN Configuration Parameters for one of [`owns`]'s parameters.
    /// An error changes nothing.
    pub fn cmd_set(
        &mut self,
        data: &[u8],
        present: u8,
        live: &LanSnapshot,
    ) -> Result<SetOutcome, CompletionCode> {
        let (parameter, value) = config_params::parse_set(data, self.channel, present)?;
        if parameter == 0 {
            return self.set_in_progress_to(value);
        }
        let mut next = self.shown().clone();
        match (parameter, value) {
            (3, &[a, b, c, d]) => next.ip = unicast(Ipv4Addr::new(a, b, c, d))?,
            (4, &[source]) => {
                // BIOS-loaded or another protocol's address is not the
                // BMC's to choose.
                next.source = match source {
                    1 => AddressSource::Static,
                    2 => AddressSource::Dhcp,
                    _ => return Err(CompletionCode::INVALID_DATA_FIELD),
                };
            }
            // The MAC is the hardware's.
            (5, mac) if mac.len() == 6 => {
                return if mac == live.mac {
                    Ok(SetOutcome::Done)
                } else {
                    Err(CC_READ_ONLY_PARAMETER)
                };
            }
            (6, &[a, b, c, d]) => {
                let mask = Ipv4Addr::new(a, b, c, d);
                if prefix_len(mask).is_none_or(|len| len == 0) {
                    return Err(CompletionCode::INVALID_DATA_FIELD);
                }
                next.netmask = mask;
            }
            (12, &[a, b, c, d]) => {
                let gateway = Ipv4Addr::new(a, b, c, d);
                next.gateway = if gateway.is_unspecified() {
                    gateway
                } else {
                    unicast(gateway)?
                };
            }
            (13, mac) if mac.len() == 6 => {
                if mac[0] & 0x01 != 0 {
                    return Err(CompletionCode::INVALID_DATA_FIELD);
                }
                next.gateway_mac.copy_from_slice(mac);
            }
            // No backup gateway: only "none" can be written.
            (14, &[0, 0, 0, 0]) | (15, &[0, 0, 0, 0, 0, 0]) => return Ok(SetOutcome::Done),
            (14, value) if value.len() == 4 => return Err(CC_READ_ONLY_PARAMETER),
            (15, value) if value.len() == 6 => return Err(CC_READ_ONLY_PARAMETER),
            (20, &[low, high]) => {
                if high & 0x70 != 0 {
                    return Err(CompletionCode::INVALID_DATA_FIELD);
                }
                next.vlan = if high & 0x80 == 0 {
                    None
                } else {
                    let id = u16::from_le_bytes([low, high & 0x0F]);
                    if id == 0 || id == 0xFFF {
                        return Err(CompletionCode::INVALID_DATA_FIELD);
                    }
                    Some(id)
                };
            }
            (VLAN_PRIORITY, &[priority]) => {
                if priority > 7 {
                    return Err(CompletionCode::INVALID_DATA_FIELD);
                }
                next.vlan_priority = priority;
            }
            (3 | 4 | 5 | 6 | 12 | 13 | 14 | 15 | 20 | VLAN_PRIORITY, _) => {
                return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID)
            }
            _ => return Err(CC_PARAMETER_NOT_SUPPORTED),
        }
        if next == *self.shown() {
            return Ok(SetOutcome::Done);
        }
        if !self.writable {
            return Err(CC_READ_ONLY_PARAMETER);
        }
        match &mut self.staged {
            Some(staged) => {
                *staged = next;
                Ok(SetOutcome::Done)
            }
            None => Ok(SetOutcome::Apply(next)),
        }
    }

    /// Parameter 0: 00b set complete and 10b commit write close the set and
    /// apply what was staged (if it differs); 01b opens a set (81h if one
    /// is open). Should the apply fail, the set stays closed and the staged
    /// change is dropped: the settings are as they were before it began.
    fn set_in_progress_to(&mut self, value: &[u8]) -> Result<SetOutcome, CompletionCode> {
        let [state] = value else {
            return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
        };
        match state {
            0 | 2 => match self.staged.take() {
                Some(staged) if staged != self.applied => Ok(SetOutcome::Apply(staged)),
                _ => Ok(SetOutcome::Done),
            },
            1 if self.staged.is_some() => Err(CC_SET_IN_PROGRESS),
            1 => {
                self.staged = Some(self.applied.clone());
                Ok(SetOutcome::Done)
            }
            _ => Err(CompletionCode::INVALID_DATA_FIELD),
        }
    }

    /// The driver carried `settings` out: they are in effect now.
    pub fn applied(&mut self, settings: NetworkSettings) {
        self.applied = settings;
    }

    /// What the interface has in effect, for readers other than IPMI (the
    /// D-Bus network objects): the applied settings, with the live
    /// interface's address, mask and gateway under DHCP (as Get LAN
    /// Configuration Parameters shows them), and its MAC. A set in
    /// progress is not in effect.
    pub fn in_effect(&self, live: &LanSnapshot) -> InEffect {
        let applied = &self.applied;
        let dhcp = applied.source == AddressSource::Dhcp;
        let pick = |from_lease: Ipv4Addr, set: Ipv4Addr| if dhcp { from_lease } else { set };
        InEffect {
            channel: self.channel,
            dhcp,
            ip: pick(live.ip, applied.ip),
            netmask: pick(live.netmask, applied.netmask),
            gateway: pick(live.gateway, applied.gateway),
            mac: live.mac,
            vlan: applied.vlan,
        }
    }
}

/// The LAN channel's interface as it is in effect ([`LanAddressing::in_effect`]).
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct InEffect {
    /// The IPMI channel the interface is.
    pub channel: u8,
    /// Whether the address comes from DHCP.
    pub dhcp: bool,
    /// The IPv4 address (0.0.0.0: none).
    pub ip: Ipv4Addr,
    /// Its subnet mask.
    pub netmask: Ipv4Addr,
    /// The default gateway (0.0.0.0: none).
    pub gateway: Ipv4Addr,
    /// The interface's MAC.
    pub mac: [u8; 6],
    /// 802.1q VLAN ID, if any.
    pub vlan: Option<u16>,
}

/// `ip` if it can be an interface's or gateway's address (not 0.0.0.0,
/// loopback, multicast or broadcast).
fn unicast(ip: Ipv4Addr) -> Result<Ipv4Addr, CompletionCode> {
    if ip.is_unspecified() || ip.is_loopback() || ip.is_multicast() || ip.is_broadcast() {
        Err(CompletionCode::INVALID_DATA_FIELD)
    } else {
        Ok(ip)
    }
}

/// The prefix length of a contiguous mask, `None` for one with holes.
pub fn prefix_len(mask: Ipv4Addr) -> Option<u8> {
    let bits = u32::from(mask);
    let len = bits.leading_ones();
    (bits.checked_shl(len).unwrap_or(0) == 0).then(|| u8::try_from(len).unwrap_or(32))
}

/// Parameter 20's two bytes: ID bits 7:0, then enable (bit 7) and ID bits
/// 11:8.
fn vlan_bytes(vlan: Option<u16>) -> [u8; 2] {
    match vlan {
        Some(id) => {
            let [low, high] = (id & 0x0FFF).to_le_bytes();
            [low, 0x80 | high]
        }
        None => [0, 0],
    }
}

/// The systemd-networkd files that carry settings out on `interface`.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct NetworkdFiles {
    /// `(file name, contents)`, the interface's own `.network` last: it
    /// carries the settings line [`parse_rendered`] reads, so writing it
    /// is the change's commit point.
    pub files: Vec<(String, String)>,
}

/// The first line of every file rbmc writes, and the settings line's key.
const HEADER: &str = "# Written by rbmc-netipmid from IPMI LAN Configuration Parameters;";
const SETTINGS_KEY: &str = "# rbmc-settings:";

/// The file name prefix of everything rbmc writes for `interface`.
pub fn file_prefix(interface: &str) -> String {
    format!("50-rbmc-{interface}")
}

/// The systemd-networkd files for `settings` on `interface`. With a VLAN,
/// the addresses move to the VLAN's interface `<interface>.<id>`.
pub fn render(settings: &NetworkSettings, interface: &str) -> NetworkdFiles {
    let prefix = file_prefix(interface);
    let header = format!("{HEADER} changes made here are replaced.\n");
    let addressing = addressing_section(settings);
    let mut files = Vec::new();
    let own = match settings.vlan {
        Some(id) => {
            let vlan_name = format!("{interface}.{id}");
            files.push((
                format!("{prefix}.{id}.netdev"),
                format!(
                    "{header}[NetDev]\nName={vlan_name}\nKind=vlan\n\n[VLAN]\nId={id}\nEgressQOSMaps=0-{}\n",
                    settings.vlan_priority
                ),
            ));
            files.push((
                format!("{prefix}.{id}.network"),
                format!("{header}[Match]\nName={vlan_name}\n\n{addressing}"),
            ));
            format!(
                "[Match]\nName={interface}\n\n[Network]\nLinkLocalAddressing=no\nIPv6AcceptRA=no\nVLAN={vlan_name}\n"
            )
        }
        None => format!("[Match]\nName={interface}\n\n{addressing}"),
    };
    files.push((
        format!("{prefix}.network"),
        format!("{header}{SETTINGS_KEY} {}\n{own}", settings_line(settings)),
    ));
    NetworkdFiles { files }
}

fn addressing_section(settings: &NetworkSettings) -> String {
    let mut text = String::from("[Network]\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n");
    match settings.source {
        AddressSource::Dhcp => text.push_str("DHCP=ipv4\n"),
        AddressSource::Static => {
            // A gateway is reachable only through an address.
            if !settings.ip.is_unspecified() {
                text.push_str(&format!("Address={}/{}\n", settings.ip, settings.prefix()));
                if !settings.gateway.is_unspecified() {
                    text.push_str(&format!("Gateway={}\n", settings.gateway));
                }
            }
        }
    }
    if !settings.gateway.is_unspecified() && settings.gateway_mac != [0; 6] {
        text.push_str(&format!(
            "\n[Neighbor]\nAddress={}\nLinkLayerAddress={}\n",
            settings.gateway,
            mac_text(&settings.gateway_mac)
        ));
    }
    text
}

fn mac_text(mac: &[u8; 6]) -> String {
    mac.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn settings_line(s: &NetworkSettings) -> String {
    format!(
        "source={} ip={} netmask={} gateway={} gateway-mac={} vlan={} priority={}",
        match s.source {
            AddressSource::Static => "static",
            AddressSource::Dhcp => "dhcp",
        },
        s.ip,
        s.netmask,
        s.gateway,
        mac_text(&s.gateway_mac),
        s.vlan.map_or("none".to_owned(), |id| id.to_string()),
        s.vlan_priority
    )
}

/// The settings in the interface's `.network` file that [`render`] wrote,
/// or `None` if `text` is not such a file.
pub fn parse_rendered(text: &str) -> Option<NetworkSettings> {
    let line = text.lines().find_map(|l| l.strip_prefix(SETTINGS_KEY))?;
    let mut settings = NetworkSettings::default();
    for field in line.split_whitespace() {
        let (key, value) = field.split_once('=')?;
        match key {
            "source" => {
                settings.source = match value {
                    "static" => AddressSource::Static,
                    "dhcp" => AddressSource::Dhcp,
                    _ => return None,
                }
            }
            "ip" => settings.ip = value.parse().ok()?,
            "netmask" => settings.netmask = value.parse().ok()?,
            "gateway" => settings.gateway = value.parse().ok()?,
            "gateway-mac" => {
                let mut parts = value.split(':');
                for byte in &mut settings.gateway_mac {
                    *byte = u8::from_str_radix(parts.next()?, 16).ok()?;
                }
            }
            "vlan" => settings.vlan = (value != "none").then(|| value.parse()).transpose().ok()?,
            "priority" => settings.vlan_priority = value.parse().ok().filter(|p| *p <= 7)?,
            _ => return None,
        }
    }
    Some(settings)
}

#[cfg(test)]
mod tests;
