//! Get DCMI Capabilities Info (DCMI v1.5 §6.1.1, Table 6-3): what this
//! platform offers, one parameter per selector. Replies carry the
//! conformance DCMI 1.5 and parameter revision 02h.

use ipmi_wire::CompletionCode;

use crate::{
    power::PERIODS,
    wire::{body, reply},
};

/// DCMI specification conformance: 1.5.
const CONFORMANCE: [u8; 2] = [0x01, 0x05];
/// The parameters' revision in DCMI 1.5.
const PARAMETER_REVISION: u8 = 0x02;

/// What the platform has, as the owner knows it from its configuration.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Platform {
    /// Power management (Get Power Reading, the power limit) is offered.
    pub power_management: bool,
    /// The host reaches the BMC in band (KCS).
    pub in_band_system_interface: bool,
    /// How many records the SEL holds (the field carries up to 4095).
    pub sel_entries: u16,
    /// Whether a full SEL drops its oldest records to take new ones.
    pub sel_overwrites_oldest: bool,
    /// How often temperatures are sampled, seconds.
    pub temperature_sampling_secs: u8,
    /// The primary LAN channel (RMCP+), if any.
    pub primary_lan_channel: Option<u8>,
}

/// Get DCMI Capabilities Info for the selector the request names.
pub fn get_capabilities(platform: &Platform, data: &[u8]) -> Result<Vec<u8>, CompletionCode> {
    let request = body(data, 1)?;
    let mut fields = CONFORMANCE.to_vec();
    fields.push(PARAMETER_REVISION);
    match request[0] {
        // Supported capabilities: byte 1 reserved; platform (bit 0 power
        // management); manageability access (bit 0 in-band system
        // interface; no serial TMODE, no secondary LAN).
        1 => fields.extend_from_slice(&[
            0,
            u8::from(platform.power_management),
            u8::from(platform.in_band_system_interface),
        ]),
        // Mandatory platform attributes: SEL attributes (entries in bits
        // 11:0; bit 15 automatic rollover, bit 13 record-level flush on
        // rollover), two reserved bytes, the temperature sampling period.
        2 => {
            let mut sel = platform.sel_entries.min(0x0FFF);
            if platform.sel_overwrites_oldest {
                sel |= 0x8000 | 0x2000;
            }
            fields.extend_from_slice(&sel.to_le_bytes());
            fields.extend_from_slice(&[0, 0, platform.temperature_sampling_secs]);
        }
        // Optional platform attributes: the power management device is the
        // BMC (slave address 20h in bits 7:1, channel 0, revision 0).
        3 => fields.extend_from_slice(&[0x20 << 1, 0x00]),
        // Manageability access attributes: the primary LAN channel; no
        // secondary LAN, no serial TMODE (FFh).
        4 => fields.extend_from_slice(&[platform.primary_lan_channel.unwrap_or(0xFF), 0xFF, 0xFF]),
        // Enhanced system power statistics: the rolling periods offered.
        5 => {
            let periods: &[u8] = if platform.power_management {
                &PERIODS
            } else {
                &[]
            };
            fields.push(u8::try_from(periods.len()).unwrap_or(0));
            fields.extend_from_slice(periods);
        }
        _ => return Err(CompletionCode::INVALID_DATA_FIELD),
    }
    Ok(reply(&fields))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn platform() -> Platform {
        Platform {
            power_management: true,
            in_band_system_interface: true,
            sel_entries: 3639,
            sel_overwrites_oldest: false,
            temperature_sampling_secs: 1,
            primary_lan_channel: Some(1),
        }
    }

    #[test]
    fn each_selector_has_its_parameter_after_the_conformance_and_revision() {
        let p = platform();
        let get = |selector| get_capabilities(&p, &[0xDC, selector]).unwrap();
        assert_eq!(get(1), [0xDC, 1, 5, 2, 0, 1, 1]);
        assert_eq!(get(2), [0xDC, 1, 5, 2, 0x37, 0x0E, 0, 0, 1]);
        assert_eq!(get(3), [0xDC, 1, 5, 2, 0x40, 0]);
        assert_eq!(get(4), [0xDC, 1, 5, 2, 1, 0xFF, 0xFF]);
        let periods = get(5);
        assert_eq!(usize::from(periods[4]), periods.len() - 5);
        assert_eq!(&periods[5..], PERIODS);
        assert_eq!(
            get_capabilities(&p, &[0xDC, 6]),
            Err(CompletionCode::INVALID_DATA_FIELD)
        );
        assert_eq!(
            get_capabilities(&p, &[0xDC]),
            Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID)
        );
    }

    #[test]
    fn without_power_management_or_lan_the_bits_and_channels_say_so() {
        let p = Platform {
            power_management: false,
            primary_lan_channel: None,
            sel_entries: 9000,
            sel_overwrites_oldest: true,
            ..platform()
        };
        let get = |selector| get_capabilities(&p, &[0xDC, selector]).unwrap();
        assert_eq!(get(1)[5], 0);
        assert_eq!(get(4)[4], 0xFF);
        assert_eq!(get(5)[4..], [0]);
        assert_eq!(&get(2)[4..6], &[0xFF, 0xAF]);
    }
}
