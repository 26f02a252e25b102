//! LAN Configuration Parameters (IPMI v2.0 §23.1-23.2, Table 23-4), sans-IO.
//!
//! The address parameters describe a Linux interface the BMC does not own
//! here: its addresses come from systemd-networkd (or the dev config), so
//! this module reads them from a [`LanSnapshot`] the service takes, and a
//! Set of them is refused with 82h (read-only parameter). An operator
//! changes the BMC's address with the distribution's network manager, which
//! rbmc then reports. What IPMI itself owns is writable and persisted by the
//! service: the set-in-progress flag and the cipher suites' privilege
//! levels.

use std::net::Ipv4Addr;

use ipmi_wire::{code_set, CompletionCode, Privilege};

use crate::{commands::CommandResult, config_params};

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

/// The LAN channel's parameters that IPMI owns.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct LanParameters {
    /// The LAN channel.
    pub channel: u8,
    /// Cipher suite IDs offered, in entry order (parameter 23).
    pub suites: Vec<u8>,
    /// The highest privilege each entry allows (parameter 24).
    pub suite_privileges: Vec<Privilege>,
    set_in_progress: bool,
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
            set_in_progress: false,
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

    /// Get LAN Configuration Parameters (§23.2) against the interface's
    /// live values.
    pub fn cmd_get_lan_config(
        &self,
        data: &[u8],
        present: u8,
        live: &LanSnapshot,
    ) -> CommandResult {
        let (parameter, revision_only) = config_params::parse_get(data, self.channel, present)?;
        let value = match parameter {
            0 => vec![u8::from(self.set_in_progress)],
            // No IPMI v1.5 authentication type is supported or enabled.
            1 => vec![0x00],
            2 => vec![0x00; 5],
            3 => live.ip.octets().to_vec(),
            4 => vec![live.source.code()],
            5 => live.mac.to_vec(),
            6 => live.netmask.octets().to_vec(),
            12 => live.gateway.octets().to_vec(),
            13 => live.gateway_mac.to_vec(),
            // No backup gateway.
            14 => vec![0; 4],
            15 => vec![0; 6],
            20 => match live.vlan {
                Some(id) => {
                    let [lo, hi] = (id & 0x0FFF).to_le_bytes();
                    vec![lo, 0x80 | hi]
                }
                None => vec![0, 0],
            },
            21 => vec![0],
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
        match (parameter, value) {
            (0, _) => config_params::set_in_progress(&mut self.set_in_progress, value),
            (24, [_reserved, levels @ ..]) if levels.len() == 8 => {
                let next = self.privileges_from_nibbles(levels)?;
                self.suite_privileges = next;
                Ok(Vec::new())
            }
            (24, _) => Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID),
            // Addresses, VLAN and the suite list are the system's network
            // configuration (or this config file's), not IPMI's to change.
            (1..=6 | 12..=15 | 20..=23, _) => Err(CC_READ_ONLY_PARAMETER),
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
        /// Runs Get or Set LAN Configuration Parameters against `live`; `None`
        /// for another command. The flag says whether a persisted value changed.
        fn execute(
            &mut self,
            cmd: u8,
            data: &[u8],
            present: u8,
            live: &LanSnapshot,
        ) -> Option<(CommandResult, bool)> {
            match cmd {
                CMD_GET_LAN_CONFIG => Some((self.cmd_get_lan_config(data, present, live), false)),
                CMD_SET_LAN_CONFIG => {
                    let before = self.suite_privileges.clone();
                    let result = self.cmd_set_lan_config(data, present);
                    Some((result, before != self.suite_privileges))
                }
                _ => None,
            }
        }
    }

    fn live() -> LanSnapshot {
        LanSnapshot {
            ip: Ipv4Addr::new(192, 0, 2, 10),
            source: IpSource::Static,
            netmask: Ipv4Addr::new(255, 255, 255, 0),
            mac: [0x02, 0, 0, 0, 0, 0x01],
            gateway: Ipv4Addr::new(192, 0, 2, 1),
            gateway_mac: [0; 6],
            vlan: Some(100),
        }
    }

    fn get(p: &mut LanParameters, param: u8) -> CommandResult {
        p.execute(CMD_GET_LAN_CONFIG, &[1, param, 0, 0], 1, &live())
            .unwrap()
            .0
    }

    #[test]
    fn address_parameters_come_from_the_snapshot() {
        let mut p = LanParameters::new(1, vec![17, 3], &[]);
        assert_eq!(get(&mut p, 3).unwrap(), [0x11, 192, 0, 2, 10]);
        assert_eq!(get(&mut p, 4).unwrap(), [0x11, 1]);
        assert_eq!(get(&mut p, 5).unwrap(), [0x11, 2, 0, 0, 0, 0, 1]);
        assert_eq!(get(&mut p, 20).unwrap(), [0x11, 100, 0x80]);
        assert_eq!(get(&mut p, 22).unwrap(), [0x11, 2]);
        assert_eq!(get(&mut p, 23).unwrap(), [0x11, 0, 17, 3]);
        assert_eq!(
            get(&mut p, 24).unwrap(),
            [0x11, 0, 0x00, 0x40, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(get(&mut p, 7), Err(CC_PARAMETER_NOT_SUPPORTED));
    }

    #[test]
    fn only_what_ipmi_owns_can_be_set() {
        let mut p = LanParameters::new(1, vec![17, 3], &[]);
        let mut set = |data: &[u8]| p.execute(CMD_SET_LAN_CONFIG, data, 1, &live()).unwrap();
        assert_eq!(set(&[1, 3, 10, 0, 0, 1]).0, Err(CC_READ_ONLY_PARAMETER));
        assert_eq!(set(&[1, 0, 1]).0, Ok(vec![]));
        assert_eq!(set(&[1, 0, 1]).0, Err(CC_SET_IN_PROGRESS));
        assert_eq!(set(&[1, 0, 0]).0, Ok(vec![]));
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
