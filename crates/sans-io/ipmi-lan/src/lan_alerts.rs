//! The LAN channel's alert destinations: LAN Configuration Parameters 16
//! (community string), 17 (number of destinations), 18 (destination type)
//! and 19 (destination addresses), IPMI v2.0 Table 23-4.
//!
//! Destination 0 is volatile and always there; 1 to [`DESTINATIONS`] are
//! kept. Gets answer the lengths ipmitool checks (18, 1, 4 and 13 bytes)
//! and echo the set selector. Sets are checked whole: a selector past the
//! table is C9h, a reserved value CCh, a wrong length C7h, parameter 17
//! read-only (82h).
//!
//! FreeIPMI (1.6.10 and its master) reads parameter 19's gateway selector
//! from bit 7 of its byte 3 where the spec, ipmitool and OpenIPMI use bit
//! 0; a Get sets both, so every client reads the same gateway, and a Set
//! takes bit 0 and ignores bit 7, which clients echo back.

use std::net::Ipv4Addr;

use ipmi_wire::CompletionCode;

use crate::config_params::CC_READ_ONLY_PARAMETER;

/// Non-volatile alert destinations (parameter 17), besides destination 0.
pub const DESTINATIONS: u8 = 4;
/// The community string's bytes.
pub const COMMUNITY_LEN: usize = 18;

/// Parameter 18's destination type, bits 2:0.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum DestinationType {
    /// A Platform Event Trap.
    PetTrap,
    /// OEM type 1.
    Oem1,
    /// OEM type 2.
    Oem2,
}

impl DestinationType {
    fn from_code(code: u8) -> Option<Self> {
        match code {
            0 => Some(Self::PetTrap),
            6 => Some(Self::Oem1),
            7 => Some(Self::Oem2),
            _ => None,
        }
    }

    fn code(self) -> u8 {
        match self {
            Self::PetTrap => 0,
            Self::Oem1 => 6,
            Self::Oem2 => 7,
        }
    }
}

/// One alert destination (parameters 18 and 19 of one selector).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct AlertDestination {
    /// Whether the alert waits for a PET Acknowledge.
    pub acknowledge: bool,
    /// What is sent.
    pub kind: DestinationType,
    /// Seconds to wait for the acknowledgement (or between retries).
    pub timeout_s: u8,
    /// Retries, 0-7.
    pub retries: u8,
    /// Whether the backup gateway is used.
    pub backup_gateway: bool,
    /// The destination's IPv4 address.
    pub ip: Ipv4Addr,
    /// The destination's MAC address.
    pub mac: [u8; 6],
}

impl AlertDestination {
    /// Parameter 18's type code (0 PET trap, 6 and 7 OEM).
    pub fn kind_code(&self) -> u8 {
        self.kind.code()
    }
}

impl Default for AlertDestination {
    fn default() -> Self {
        Self {
            acknowledge: false,
            kind: DestinationType::PetTrap,
            timeout_s: 0,
            retries: 0,
            backup_gateway: false,
            ip: Ipv4Addr::UNSPECIFIED,
            mac: [0; 6],
        }
    }
}

/// The LAN channel's alert settings.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct LanAlerts {
    /// Parameter 16, NUL-padded.
    pub community: [u8; COMMUNITY_LEN],
    /// Destinations 0 (volatile) to [`DESTINATIONS`].
    pub destinations: Vec<AlertDestination>,
}

impl Default for LanAlerts {
    /// Community "public"; every destination 0.0.0.0 (none).
    fn default() -> Self {
        let mut community = [0; COMMUNITY_LEN];
        community[..6].copy_from_slice(b"public");
        Self {
            community,
            destinations: vec![AlertDestination::default(); usize::from(DESTINATIONS) + 1],
        }
    }
}

/// Whether `parameter` is one of these.
pub fn owns(parameter: u8) -> bool {
    (16..=19).contains(&parameter)
}

impl LanAlerts {
    /// The community string without its padding.
    pub fn community(&self) -> &[u8] {
        let end = self.community.iter().position(|&b| b == 0);
        &self.community[..end.unwrap_or(COMMUNITY_LEN)]
    }

    /// Destination `selector`, if it exists.
    pub fn destination(&self, selector: u8) -> Option<&AlertDestination> {
        self.destinations.get(usize::from(selector))
    }

    fn index(&self, selector: u8) -> Result<usize, CompletionCode> {
        let index = usize::from(selector);
        if index >= self.destinations.len() {
            return Err(CompletionCode::PARAMETER_OUT_OF_RANGE);
        }
        Ok(index)
    }

    /// A Get's value (without the revision byte).
    pub fn get(&self, parameter: u8, set: u8) -> Result<Vec<u8>, CompletionCode> {
        Ok(match parameter {
            16 => self.community.to_vec(),
            17 => vec![DESTINATIONS],
            18 => {
                let d = &self.destinations[self.index(set)?];
                vec![
                    set,
                    u8::from(d.acknowledge) << 7 | d.kind.code(),
                    d.timeout_s,
                    d.retries,
                ]
            }
            19 => {
                let d = &self.destinations[self.index(set)?];
                let gateway = u8::from(d.backup_gateway);
                let mut out = vec![set, 0x00, gateway | gateway << 7];
                out.extend(d.ip.octets());
                out.extend(d.mac);
                out
            }
            _ => return Err(crate::config_params::CC_PARAMETER_NOT_SUPPORTED),
        })
    }

    /// A Set's value (what follows the parameter selector). Nothing changes
    /// unless it succeeds.
    pub fn set(&mut self, parameter: u8, value: &[u8]) -> Result<(), CompletionCode> {
        match parameter {
            16 => {
                self.community = value
                    .try_into()
                    .map_err(|_| CompletionCode::REQUEST_DATA_LENGTH_INVALID)?;
            }
            17 => return Err(CC_READ_ONLY_PARAMETER),
            18 => {
                let [set, kind, timeout_s, retries] = value else {
                    return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
                };
                let index = self.index(*set)?;
                let kind_code = DestinationType::from_code(kind & 0x07);
                let (Some(destination_kind), 0, 0) = (kind_code, kind & 0x78, retries & 0xF8)
                else {
                    return Err(CompletionCode::INVALID_DATA_FIELD);
                };
                let d = &mut self.destinations[index];
                d.acknowledge = kind & 0x80 != 0;
                d.kind = destination_kind;
                d.timeout_s = *timeout_s;
                d.retries = *retries;
            }
            19 => {
                let [set, format, gateway, rest @ ..] = value else {
                    return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
                };
                let Ok::<[u8; 10], _>(address) = rest.try_into() else {
                    return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
                };
                let index = self.index(*set)?;
                // Only format 0 (IPv4 and MAC); bit 7 of the gateway byte is
                // FreeIPMI's echo (see above).
                if *format != 0 || gateway & 0x7E != 0 {
                    return Err(CompletionCode::INVALID_DATA_FIELD);
                }
                let d = &mut self.destinations[index];
                d.backup_gateway = gateway & 1 != 0;
                d.ip = Ipv4Addr::new(address[0], address[1], address[2], address[3]);
                d.mac.copy_from_slice(&address[4..]);
            }
            _ => return Err(crate::config_params::CC_PARAMETER_NOT_SUPPORTED),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gets_have_the_lengths_clients_check() {
        let alerts = LanAlerts::default();
        assert_eq!(alerts.get(16, 0).unwrap().len(), 18);
        assert_eq!(alerts.community(), b"public");
        assert_eq!(alerts.get(17, 0), Ok(vec![DESTINATIONS]));
        assert_eq!(alerts.get(18, 3), Ok(vec![3, 0, 0, 0]));
        let addresses = alerts.get(19, 0).unwrap();
        assert_eq!((addresses.len(), addresses[0]), (13, 0));
        assert_eq!(
            alerts.get(18, 5),
            Err(CompletionCode::PARAMETER_OUT_OF_RANGE)
        );
    }

    #[test]
    fn a_destination_is_written_and_read_back() {
        let mut alerts = LanAlerts::default();
        alerts.set(18, &[1, 0x80, 3, 2]).unwrap();
        alerts
            .set(
                19,
                &[1, 0, 0x01, 127, 0, 0, 1, 0, 0x11, 0x22, 0x33, 0x44, 0x55],
            )
            .unwrap();
        let d = alerts.destination(1).unwrap();
        assert!(d.acknowledge && d.backup_gateway);
        assert_eq!(
            (d.kind, d.timeout_s, d.retries),
            (DestinationType::PetTrap, 3, 2)
        );
        assert_eq!(d.ip, Ipv4Addr::LOCALHOST);
        assert_eq!(alerts.get(18, 1), Ok(vec![1, 0x80, 3, 2]));
        // The gateway reads in bit 0 and (for FreeIPMI) bit 7.
        assert_eq!(alerts.get(19, 1).unwrap()[2], 0x81);
        // Echoed back with bit 7, it still means "backup".
        let echoed = alerts.get(19, 1).unwrap();
        alerts.set(19, &echoed).unwrap();
        assert!(alerts.destination(1).unwrap().backup_gateway);
    }

    #[test]
    fn bad_sets_change_nothing() {
        let mut alerts = LanAlerts::default();
        let before = alerts.clone();
        let refused: [(u8, &[u8], CompletionCode); 8] = [
            (16, b"short", CompletionCode::REQUEST_DATA_LENGTH_INVALID),
            (17, &[2], CC_READ_ONLY_PARAMETER),
            (18, &[5, 0, 0, 0], CompletionCode::PARAMETER_OUT_OF_RANGE),
            (18, &[1, 0x03, 0, 0], CompletionCode::INVALID_DATA_FIELD),
            (18, &[1, 0x08, 0, 0], CompletionCode::INVALID_DATA_FIELD),
            (18, &[1, 0, 0, 8], CompletionCode::INVALID_DATA_FIELD),
            (
                19,
                &[1, 0x10, 0, 1, 2, 3, 4, 0, 0, 0, 0, 0, 0],
                CompletionCode::INVALID_DATA_FIELD,
            ),
            (
                19,
                &[1, 0, 0, 1, 2, 3, 4],
                CompletionCode::REQUEST_DATA_LENGTH_INVALID,
            ),
        ];
        for (parameter, value, code) in refused {
            assert_eq!(
                alerts.set(parameter, value),
                Err(code),
                "{parameter} {value:?}"
            );
        }
        assert_eq!(alerts, before);
        let mut community = [0u8; 18];
        community[..4].copy_from_slice(b"rbmc");
        alerts.set(16, &community).unwrap();
        assert_eq!(alerts.community(), b"rbmc");
    }
}
