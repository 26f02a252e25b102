//! The ACPI power state commands (IPMI v2.0 §20.6-20.7, App NetFn 06h):
//! system software tells the BMC its ACPI system and device power states
//! (Set ACPI Power State, 06h) and anyone reads them back (Get ACPI Power
//! State, 07h). Until system software sets one, the system state follows
//! power-good (S0/G0 working when on, S5/G2 soft off when off) and the
//! device state is unknown; a power change moves the system state the
//! same way. Nothing here persists: after a BMC restart the states are
//! read from power-good again.

use ipmi_router::{HandlerResult, IpmiRequest};
use ipmi_wire::CompletionCode;

use crate::Powerd;

/// Set ACPI Power State.
pub const CMD_SET_ACPI_POWER_STATE: u8 = 0x06;
/// Get ACPI Power State.
pub const CMD_GET_ACPI_POWER_STATE: u8 = 0x07;

/// S0/G0, working.
const S0_WORKING: u8 = 0x00;
/// S5/G2, soft off.
const S5_SOFT_OFF: u8 = 0x05;
/// "Unknown" (both tables).
const UNKNOWN: u8 = 0x2A;
/// "No change" in a Set.
const NO_CHANGE: u8 = 0x7F;

/// The two states.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct AcpiState {
    /// System power state (Table 20-5, byte 1 bits 6:0).
    pub system: u8,
    /// Device power state (byte 2 bits 6:0).
    pub device: u8,
}

impl AcpiState {
    /// The states power-good implies.
    pub fn for_power(on: bool) -> Self {
        Self {
            system: if on { S0_WORKING } else { S5_SOFT_OFF },
            device: UNKNOWN,
        }
    }

    /// The host went on or off: the system state follows.
    pub fn power_changed(&mut self, on: bool) {
        self.system = if on { S0_WORKING } else { S5_SOFT_OFF };
    }
}

/// Whether `state` is a system power state of Table 20-5: S0-S5, S4/S5,
/// G3, sleeping, G1, S5 override, legacy on/off, unknown.
fn is_system_state(state: u8) -> bool {
    matches!(state, 0x00..=0x0A | 0x20 | 0x21 | UNKNOWN)
}

/// Whether `state` is a device power state: D0-D3 or unknown.
fn is_device_state(state: u8) -> bool {
    matches!(state, 0x00..=0x03 | UNKNOWN)
}

/// Set ACPI Power State: byte 1 bit 7 "set system state", bits 6:0 the
/// state (7Fh no change); byte 2 the same for the device state. Both are
/// checked before either changes.
pub fn cmd_set_acpi_power_state(p: &Powerd, request: &IpmiRequest) -> HandlerResult {
    let [system, device] = request.data[..] else {
        return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
    };
    let wanted = |byte: u8, valid: fn(u8) -> bool| -> Result<Option<u8>, CompletionCode> {
        let state = byte & 0x7F;
        match (byte & 0x80 != 0, state) {
            (false, _) | (true, NO_CHANGE) => Ok(None),
            (true, state) if valid(state) => Ok(Some(state)),
            (true, _) => Err(CompletionCode::INVALID_DATA_FIELD),
        }
    };
    let system = wanted(system, is_system_state)?;
    let device = wanted(device, is_device_state)?;
    let mut state = p.control.lock();
    if let Some(system) = system {
        state.acpi.system = system;
    }
    if let Some(device) = device {
        state.acpi.device = device;
    }
    Ok(Vec::new())
}

/// Get ACPI Power State: the two states.
pub fn cmd_get_acpi_power_state(p: &Powerd, request: &IpmiRequest) -> HandlerResult {
    if !request.data.is_empty() {
        return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
    }
    let acpi = p.control.lock().acpi;
    Ok(vec![acpi.system, acpi.device])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_state_follows_power_until_software_sets_it() {
        let mut acpi = AcpiState::for_power(false);
        assert_eq!((acpi.system, acpi.device), (S5_SOFT_OFF, UNKNOWN));
        acpi.power_changed(true);
        assert_eq!(acpi.system, S0_WORKING);
    }

    #[test]
    fn table_20_5_states() {
        for state in [0x00, 0x05, 0x0A, 0x20, 0x21, 0x2A] {
            assert!(is_system_state(state), "{state:#x}");
        }
        for state in [0x0B, 0x1F, 0x22, 0x29, 0x2B, 0x7E] {
            assert!(!is_system_state(state), "{state:#x}");
        }
        assert!(is_device_state(0x03) && !is_device_state(0x04));
    }
}
