//! LAN Configuration Parameters (IPMI v2.0 §23.1-23.2, Table 23-4), sans-IO:
//! the channel's authentication and cipher suite parameters (1, 2, 22-24)
//! and its alert destinations (16-19, [`crate::lan_alerts`]).
//!
//! The address parameters (0, 3-6, 12-15, 20, 21) are the interface's and
//! live in [`crate::lan_addressing`]; [`LanSnapshot`] is how the service
//! hands both modules the interface as it is. The cipher suites'
//! privilege levels are writable and persisted by the service.

use std::net::Ipv4Addr;

use ipmi_wire::{code_set, CompletionCode, Privilege};

use crate::{commands::CommandResult, config_params, lan_alerts::LanAlerts};

/// Set LAN Configuration Parameters (NetFn Transport).
pub const CMD_SET_LAN_CONFIG: u8 = 0x01;
/// Get LAN Configuration Parameters (NetFn Transport).
pub const CMD_GET_LAN_CONFIG: u8 = 0x02;
pub use crate::config_params::{
    CC_PARAMETER_NOT_SUPPORTED, CC_READ_ONLY_PARAMETER, CC_SET_IN_PROGRESS,
};

code_set! {
    /// Where the interface's address came from (IPMI v2.0 Table 23-4,
    /// parameter 4, IP address source).
    #[derive(Default)]
    pub enum IpSource {
        /// Unspecified.
        #[default]
        Unspecified = 0, "unspecified";
        /// Static, set by configuration.
        Static = 1, "static address (manually configured)";
        /// DHCP.
        Dhcp = 2, "address obtained by BMC running DHCP";
        /// Loaded by the BIOS or system software.
        BiosOrSystemSoftware = 3, "address loaded by the BIOS or system software";
        /// Another address assignment protocol.
        OtherProtocol = 4, "address obtained by BMC running other address assignment protocol";
    }
}

/// The live state of the LAN channel's interface.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct LanSnapshot {
    /// IPv4 address (0.0.0.0 when none).
    pub ip: Ipv4Addr,
    /// Address source.
    pub source: IpSource,
    /// Subnet mask.
    pub netmask: Ipv4Addr,
    /// The interface's MAC address.
    pub mac: [u8; 6],
    /// Default gateway.
    pub gateway: Ipv4Addr,
    /// The gateway's MAC, from the neighbour table (zero if unknown).
    pub gateway_mac: [u8; 6],
    /// 802.1q VLAN ID, if the interface is a VLAN.
    pub vlan: Option<u16>,
}

impl Default for LanSnapshot {
    fn default() -> Self {
        Self {
            ip: Ipv4Addr::UNSPECIFIED,
            source: IpSource::Unspecified,
            netmask: Ipv4Addr::UNSPECIFIED,
            mac: [0; 6],
            gateway: Ipv4Addr::UNSPECIFIED,
            gateway_mac: [0; 6],
            vlan: None,
        }
    }
}

/// Parameter 10, BMC-generated ARP control: the kernel answers ARP requests
/// (bit 1); nothing sends gratuitous ARPs (bit 0).
const ARP_CONTROL: u8 = 0x02;
/// Parameter 51, IPv6/IPv4 addressing enables: 00h, IPv4 only.
const IPV4_ONLY: u8 = 0x00;

/// The LAN channel's parameters that IPMI owns.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct LanParameters {
    /// The LAN channel.
    pub channel: u8,
    /// Cipher suite IDs offered, in entry order (parameter 23).
    pub suites: Vec<u8>,
    /// The highest privilege each entry allows (parameter 24).
    pub suite_privileges: Vec<Privilege>,
    /// The alert destinations (parameters 16-19).
    pub alerts: LanAlerts,
}

impl LanParameters {
    /// Parameters of `channel` offering `suites` (at most 16, as parameter
    /// 22 can count), each up to Administrator unless `privileges` (persisted
    /// earlier, by suite ID) says otherwise.
    pub fn new(channel: u8, mut suites: Vec<u8>, privileges: &[(u8, Privilege)]) -> Self {
        suites.truncate(16);
        let suite_privileges = suites
            .iter()
            .map(|id| {
                privileges
                    .iter()
                    .find(|(suite, _)| suite == id)
                    .map_or(Privilege::Administrator, |(_, level)| *level)
            })
            .collect();
        Self {
            channel,
            suites,
            suite_privileges,
            alerts: LanAlerts::default(),
        }
    }

    /// Each offered suite's ID with its privilege limit (what is persisted).
    pub fn suite_limits(&self) -> Vec<(u8, Privilege)> {
        self.suites
            .iter()
            .copied()
            .zip(self.suite_privileges.iter().copied())
            .collect()
    }

    /// The highest privilege cipher suite `id` allows.
    pub fn suite_limit(&self, id: u8) -> Option<Privilege> {
        let index = self.suites.iter().position(|&s| s == id)?;
        self.suite_privileges.get(index).copied()
    }

    /// Parameter 24's sixteen 4-bit fields. Field N is the highest
    /// privilege of cipher suite ID N (not of entry N of parameter 23):
    /// ipmitool's `Cipher Suite Priv Max` prints character N for suite N,
    /// and FreeIPMI's `Maximum_Privilege_Cipher_Suite_Id_N` and OpenBMC
    /// index the table by ID too. An ID that is not offered reads 0
    /// (ipmitool's `X`); an offered suite above 15 has no field, and keeps
    /// the limit it has.
    fn privilege_nibbles(&self) -> [u8; 16] {
        let mut nibbles = [0u8; 16];
        for (id, level) in self.suites.iter().zip(&self.suite_privileges) {
            if let Some(slot) = nibbles.get_mut(usize::from(*id)) {
                *slot = level.level();
            }
        }
        nibbles
    }

    /// The limits a Set of parameter 24 asks for (`levels`: data 2-9),
    /// checked whole before anything changes: an offered suite takes
    /// Callback to Administrator, and a suite that is not offered only 0.
    fn privileges_from_nibbles(&self, levels: &[u8]) -> Result<Vec<Privilege>, CompletionCode> {
        let nibble = |id: usize| {
            let byte = levels.get(id / 2).copied().unwrap_or(0);
            (byte >> (4 * (id % 2))) & 0x0F
        };
        for id in 0..16u8 {
            if !self.suites.contains(&id) && nibble(usize::from(id)) != 0 {
                return Err(CompletionCode::INVALID_DATA_FIELD);
            }
        }
        self.suites
            .iter()
            .zip(&self.suite_privileges)
            .map(|(&id, &current)| {
                if id >= 16 {
                    return Ok(current);
                }
                match Privilege::from_level(nibble(usize::from(id))) {
                    Some(
                        level @ (Privilege::Callback
                        | Privilege::User
                        | Privilege::Operator
                        | Privilege::Administrator),
                    ) => Ok(level),
                    _ => Err(CompletionCode::INVALID_DATA_FIELD),
                }
            })
            .collect()
    }

    /// Get LAN Configuration Parameters (§23.2) for this module's
    /// parameters.
    pub fn cmd_get_lan_config(&self, data: &[u8], present: u8) -> CommandResult {
        let (parameter, revision_only) = config_params::parse_get(data, self.channel, present)?;
        let value = match parameter {
            _ if crate::lan_alerts::owns(parameter) => self.alerts.get(parameter, data[2])?,
            // No IPMI v1.5 authentication type is supported or enabled.
            1 => vec![0x00],
            2 => vec![0x00; 5],
            10 => vec![ARP_CONTROL],
            11 => vec![0],
            51 => vec![IPV4_ONLY],
            22 => vec![u8::try_from(self.suites.len()).unwrap_or(16).min(16)],
            23 => {
                let mut out = vec![0];
                out.extend(self.suites.iter().take(16));
                out
            }
            24 => {
                let mut out = vec![0];
                out.extend(
                    self.privilege_nibbles()
                        .chunks(2)
                        .map(|pair| pair[0] | pair[1] << 4),
                );
                out
            }
            _ => return Err(CC_PARAMETER_NOT_SUPPORTED),
        };
        Ok(config_params::get_response(revision_only, value))
    }

    /// Set LAN Configuration Parameters (§23.1): only what IPMI owns.
    pub fn cmd_set_lan_config(&mut self, data: &[u8], present: u8) -> CommandResult {
        let (parameter, value) = config_params::parse_set(data, self.channel, present)?;
        if crate::lan_alerts::owns(parameter) {
            // Checked whole before anything changes.
            self.alerts.set(parameter, value)?;
            return Ok(Vec::new());
        }
        match (parameter, value) {
            (24, [_reserved, levels @ ..]) if levels.len() == 8 => {
                let next = self.privileges_from_nibbles(levels)?;
                self.suite_privileges = next;
                Ok(Vec::new())
            }
            (24, _) => Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID),
            // The kernel answers ARP and sends no gratuitous ARPs; IPv6
            // is not offered. Each can be written only as it is.
            (10, &[ARP_CONTROL]) | (11, &[0]) | (51, &[IPV4_ONLY]) => Ok(Vec::new()),
            (10 | 11, &[_]) => Err(CC_READ_ONLY_PARAMETER),
            (51, &[_]) => Err(CompletionCode::INVALID_DATA_FIELD),
            (10 | 11 | 51, _) => Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID),
            // What the BMC supports and offers is fixed.
            (1 | 2 | 22 | 23, _) => Err(CC_READ_ONLY_PARAMETER),
            _ => Err(CC_PARAMETER_NOT_SUPPORTED),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_sources_match_table_23_4() {
        for (code, source) in [
            (0, IpSource::Unspecified),
            (1, IpSource::Static),
            (2, IpSource::Dhcp),
            (3, IpSource::BiosOrSystemSoftware),
            (4, IpSource::OtherProtocol),
        ] {
            assert_eq!(source.code(), code, "{source:?}");
        }
    }

    /// The dispatcher the service's command table replaces: one
    /// entry per command, for these tests.
    impl LanParameters {
        /// Runs Get or Set LAN Configuration Parameters; `None` for another
        /// command. The flag says whether a persisted value changed.
        fn execute(&mut self, cmd: u8, data: &[u8], present: u8) -> Option<(CommandResult, bool)> {
            match cmd {
                CMD_GET_LAN_CONFIG => Some((self.cmd_get_lan_config(data, present), false)),
                CMD_SET_LAN_CONFIG => {
                    let before = self.suite_privileges.clone();
                    let result = self.cmd_set_lan_config(data, present);
                    Some((result, before != self.suite_privileges))
                }
                _ => None,
            }
        }
    }

    fn get(p: &mut LanParameters, param: u8) -> CommandResult {
        p.execute(CMD_GET_LAN_CONFIG, &[1, param, 0, 0], 1)
            .unwrap()
            .0
    }

    #[test]
    fn suite_and_fixed_parameters_read() {
        let mut p = LanParameters::new(1, vec![17, 3], &[]);
        assert_eq!(get(&mut p, 1).unwrap(), [0x11, 0]);
        assert_eq!(get(&mut p, 10).unwrap(), [0x11, 0x02]);
        assert_eq!(get(&mut p, 51).unwrap(), [0x11, 0x00]);
        assert_eq!(get(&mut p, 22).unwrap(), [0x11, 2]);
        assert_eq!(get(&mut p, 23).unwrap(), [0x11, 0, 17, 3]);
        assert_eq!(
            get(&mut p, 24).unwrap(),
            [0x11, 0, 0x00, 0x40, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(get(&mut p, 7), Err(CC_PARAMETER_NOT_SUPPORTED));
        assert_eq!(get(&mut p, 3), Err(CC_PARAMETER_NOT_SUPPORTED));
    }

    #[test]
    fn only_what_ipmi_owns_can_be_set() {
        let mut p = LanParameters::new(1, vec![17, 3], &[]);
        let mut set = |data: &[u8]| p.execute(CMD_SET_LAN_CONFIG, data, 1).unwrap();
        assert_eq!(set(&[1, 23, 0, 3, 17]).0, Err(CC_READ_ONLY_PARAMETER));
        // Fixed values: as they are, yes; otherwise no.
        assert_eq!(set(&[1, 10, 0x02]).0, Ok(vec![]));
        assert_eq!(set(&[1, 10, 0x03]).0, Err(CC_READ_ONLY_PARAMETER));
        assert_eq!(set(&[1, 51, 0x00]).0, Ok(vec![]));
        assert_eq!(
            set(&[1, 51, 0x02]).0,
            Err(CompletionCode::INVALID_DATA_FIELD)
        );
        assert_eq!(
            set(&[1, 11, 0, 0]).0,
            Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID)
        );
        // Field 3 is suite 3's: up to User. Suite 17 has no field.
        assert_eq!(
            set(&[1, 24, 0, 0, 0x20, 0, 0, 0, 0, 0, 0]),
            (Ok(vec![]), true)
        );
        // A level for suite 0, which is not offered, or none for suite 3,
        // is refused, and nothing changes.
        for refused in [
            [1, 24, 0, 0x04, 0x20, 0, 0, 0, 0, 0, 0],
            [1, 24, 0, 0, 0x00, 0, 0, 0, 0, 0, 0],
            [1, 24, 0, 0, 0x50, 0, 0, 0, 0, 0, 0],
        ] {
            assert_eq!(
                set(&refused),
                (Err(CompletionCode::INVALID_DATA_FIELD), false)
            );
        }
        assert_eq!(set(&[1, 99, 0]).0, Err(CC_PARAMETER_NOT_SUPPORTED));
        assert_eq!(set(&[2, 0, 0]).0, Err(CompletionCode::INVALID_DATA_FIELD));
        assert_eq!(p.suite_limit(3), Some(Privilege::User));
        assert_eq!(p.suite_limit(17), Some(Privilege::Administrator));
    }
}
