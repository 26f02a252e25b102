//! Get IP/UDP/RMCP Statistics (IPMI v2.0 §23.4, Transport NetFn 0Ch, cmd
//! 04h), sans-IO: `ipmitool lan stats get` and FreeIPMI's `bmc-device
//! --get-lan-statistics`.
//!
//! The IP and UDP counters are the kernel's for the BMC's network
//! namespace (`/proc/net/snmp`, which the service reads and hands in as
//! [`Counters`]); the valid RMCP packets are the endpoint's own count.
//! "Clear all statistics" (request byte 2 bit 0, Operator or above) moves
//! the baseline the answers count from: nothing in the kernel is reset.
//! Each counter is reported as 16 bits and stops at FFFFh.

use ipmi_wire::{CompletionCode, Privilege};

use crate::commands::{resolve_channel, CommandResult};

/// Get IP/UDP/RMCP Statistics.
pub const CMD_GET_LAN_STATISTICS: u8 = 0x04;

/// The counters, since boot.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct Counters {
    /// IP packets received.
    pub ip_received: u64,
    /// IP packets received with header errors.
    pub ip_header_errors: u64,
    /// IP packets received with address errors.
    pub ip_address_errors: u64,
    /// Fragmented IP packets received.
    pub ip_fragmented: u64,
    /// IP packets transmitted.
    pub ip_transmitted: u64,
    /// UDP packets received.
    pub udp_received: u64,
    /// Valid RMCP packets received.
    pub rmcp_valid: u64,
}

impl Counters {
    /// The IP and UDP counters of `/proc/net/snmp`'s text (RMCP left 0), or
    /// `None` if a needed column is missing.
    pub fn from_proc_net_snmp(text: &str) -> Option<Self> {
        let table = |prefix: &str| -> Option<Vec<(String, u64)>> {
            let mut rows = text.lines().filter(|l| l.starts_with(prefix));
            let names = rows.next()?.split_whitespace().skip(1);
            let values = rows.next()?.split_whitespace().skip(1);
            Some(
                names
                    .zip(values)
                    .filter_map(|(n, v)| Some((n.to_owned(), v.parse().ok()?)))
                    .collect(),
            )
        };
        let ip = table("Ip:")?;
        let udp = table("Udp:")?;
        let get = |rows: &[(String, u64)], name: &str| {
            rows.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
        };
        Some(Self {
            ip_received: get(&ip, "InReceives")?,
            ip_header_errors: get(&ip, "InHdrErrors")?,
            ip_address_errors: get(&ip, "InAddrErrors")?,
            ip_fragmented: get(&ip, "ReasmReqds")?,
            ip_transmitted: get(&ip, "OutRequests")?,
            udp_received: get(&udp, "InDatagrams")?,
            rmcp_valid: 0,
        })
    }

    fn since(&self, base: &Self) -> [u64; 7] {
        [
            self.ip_received.saturating_sub(base.ip_received),
            self.ip_header_errors.saturating_sub(base.ip_header_errors),
            self.ip_address_errors
                .saturating_sub(base.ip_address_errors),
            self.ip_fragmented.saturating_sub(base.ip_fragmented),
            self.ip_transmitted.saturating_sub(base.ip_transmitted),
            self.udp_received.saturating_sub(base.udp_received),
            self.rmcp_valid.saturating_sub(base.rmcp_valid),
        ]
    }
}

/// The statistics of one LAN channel.
#[derive(Clone, Debug)]
pub struct LanStatistics {
    channel: u8,
    baseline: Counters,
}

impl LanStatistics {
    /// Statistics of `channel`, counting from boot.
    pub fn new(channel: u8) -> Self {
        Self {
            channel,
            baseline: Counters::default(),
        }
    }

    /// The command, asked on channel `present` at `privilege`, with the
    /// counters as they are `now`.
    pub fn cmd_get(
        &mut self,
        data: &[u8],
        present: u8,
        privilege: Privilege,
        now: Counters,
    ) -> CommandResult {
        let [channel, clear] = data[..] else {
            return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
        };
        if channel & 0xF0 != 0 || clear & 0xFE != 0 {
            return Err(CompletionCode::INVALID_DATA_FIELD);
        }
        if resolve_channel(channel, present) != self.channel {
            return Err(CompletionCode::INVALID_DATA_FIELD);
        }
        let clear = clear & 0x01 != 0;
        if clear && privilege < Privilege::Operator {
            return Err(CompletionCode::INSUFFICIENT_PRIVILEGE);
        }
        let mut out = Vec::with_capacity(18);
        let counts = now.since(&self.baseline);
        for count in counts.iter().copied().chain([0, 0]) {
            let shown = u16::try_from(count).unwrap_or(u16::MAX);
            out.extend_from_slice(&shown.to_le_bytes());
        }
        if clear {
            self.baseline = now;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SNMP: &str = "Ip: Forwarding DefaultTTL InReceives InHdrErrors InAddrErrors ForwDatagrams InUnknownProtos InDiscards InDelivers OutRequests OutDiscards OutNoRoutes ReasmTimeout ReasmReqds\n\
Ip: 2 64 343207 3 4 0 0 0 343207 341058 0 0 0 5\n\
Udp: InDatagrams NoPorts InErrors OutDatagrams\n\
Udp: 70000 1 0 900\n";

    #[test]
    fn proc_net_snmp_columns_are_read_by_name() {
        let counters = Counters::from_proc_net_snmp(SNMP).unwrap();
        assert_eq!(counters.ip_received, 343_207);
        assert_eq!(counters.ip_header_errors, 3);
        assert_eq!(counters.ip_fragmented, 5);
        assert_eq!(counters.ip_transmitted, 341_058);
        assert_eq!(counters.udp_received, 70_000);
        assert_eq!(Counters::from_proc_net_snmp("Ip: A\nIp: 1\n"), None);
    }

    #[test]
    fn counts_stop_at_ffff_and_clear_moves_the_baseline() {
        let mut stats = LanStatistics::new(1);
        let now = Counters {
            rmcp_valid: 12,
            ..Counters::from_proc_net_snmp(SNMP).unwrap()
        };
        let out = stats.cmd_get(&[1, 0], 1, Privilege::User, now).unwrap();
        assert_eq!(out.len(), 18);
        assert_eq!(out[..2], [0xFF, 0xFF]);
        assert_eq!(out[2..4], [3, 0]);
        assert_eq!(out[10..14], [0xFF, 0xFF, 12, 0]);
        // Clearing needs Operator; then everything counts from zero.
        assert_eq!(
            stats.cmd_get(&[1, 1], 1, Privilege::User, now),
            Err(CompletionCode::INSUFFICIENT_PRIVILEGE)
        );
        stats
            .cmd_get(&[0x0E, 1], 1, Privilege::Operator, now)
            .unwrap();
        assert_eq!(
            stats.cmd_get(&[1, 0], 1, Privilege::User, now).unwrap(),
            [0; 18]
        );
    }

    #[test]
    fn short_long_and_reserved_bits_are_refused() {
        let mut stats = LanStatistics::new(1);
        let now = Counters::default();
        for (data, code) in [
            (&[1][..], CompletionCode::REQUEST_DATA_LENGTH_INVALID),
            (&[1, 0, 0], CompletionCode::REQUEST_DATA_LENGTH_INVALID),
            (&[0x11, 0], CompletionCode::INVALID_DATA_FIELD),
            (&[1, 0x02], CompletionCode::INVALID_DATA_FIELD),
            (&[2, 0], CompletionCode::INVALID_DATA_FIELD),
        ] {
            assert_eq!(
                stats.cmd_get(data, 1, Privilege::Operator, now),
                Err(code),
                "{data:?}"
            );
        }
    }
}
