//! Get NetFn Support (IPMI v2.0 §21.2, App NetFn 06h, cmd 09h), sans-IO:
//! which network functions a channel takes, from the commands the suite
//! serves now (the bridge's live command map and its own table, which the
//! service hands in).
//!
//! The answer: one byte of LUN support (2 bits a LUN, LUN 00b in bits 1:0;
//! 01b = commands per the base specification, 00b = none), then for each
//! of the four LUNs a 4-byte bitmap of even/odd NetFn pairs, LS byte and
//! bit first (byte 0 bit 0 = NetFn 00h/01h, bit 7 = 0Eh/0Fh). rbmc takes
//! requests on LUN 00b only.

use ipmi_wire::CompletionCode;

use crate::commands::{resolve_channel, CommandResult};

/// Get NetFn Support.
pub const CMD_GET_NETFN_SUPPORT: u8 = 0x09;

/// LUN 00b: commands per the base specification.
const LUN0_BASE_COMMANDS: u8 = 0b01;

/// The command asked on channel `present`, for a BMC whose `channels`
/// exist and which serves requests of the (request) NetFns `netfns`.
pub fn cmd_get_netfn_support(
    data: &[u8],
    present: u8,
    channels: &[u8],
    netfns: impl IntoIterator<Item = u8>,
) -> CommandResult {
    let [channel] = data[..] else {
        return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
    };
    if channel & 0xF0 != 0 || !channels.contains(&resolve_channel(channel, present)) {
        return Err(CompletionCode::INVALID_DATA_FIELD);
    }
    let mut out = vec![0u8; 17];
    out[0] = LUN0_BASE_COMMANDS;
    for netfn in netfns.into_iter().filter(|n| *n < 0x40) {
        let pair = usize::from(netfn / 2);
        out[1 + pair / 8] |= 1 << (pair % 8);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pairs_of_the_served_netfns_are_set() {
        // Chassis, S/E, App, Storage, Transport: 6Dh, as real BMCs answer.
        let out =
            cmd_get_netfn_support(&[0x0E], 1, &[1, 0x0F], [0x00, 0x04, 0x06, 0x0A, 0x0C, 0x06]);
        assert_eq!(
            out.unwrap(),
            [1, 0x6D, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        );
        let oem = cmd_get_netfn_support(&[0x0F], 1, &[1, 0x0F], [0x2E, 0x30]).unwrap();
        assert_eq!(oem[1..5], [0, 0, 0x80, 0x01]);
    }

    #[test]
    fn short_long_reserved_and_absent_channels_are_refused() {
        for (data, code) in [
            (&[][..], CompletionCode::REQUEST_DATA_LENGTH_INVALID),
            (&[1, 0], CompletionCode::REQUEST_DATA_LENGTH_INVALID),
            (&[0x11], CompletionCode::INVALID_DATA_FIELD),
            (&[2], CompletionCode::INVALID_DATA_FIELD),
        ] {
            assert_eq!(
                cmd_get_netfn_support(data, 1, &[1], [6]),
                Err(code),
                "{data:?}"
            );
        }
    }
}
