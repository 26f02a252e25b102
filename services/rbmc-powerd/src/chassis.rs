//! The chassis commands (IPMI v2.0 §28, Chassis NetFn 00h).
//!
//! | Cmd | command                      | privilege |
//! |-----|------------------------------|-----------|
//! | 00h | Get Chassis Capabilities     | User      |
//! | 01h | Get Chassis Status           | User      |
//! | 02h | Chassis Control              | Operator  |
//! | 04h | Chassis Identify             | Operator  |
//! | 06h | Set Power Restore Policy     | Operator  |
//! | 07h | Get System Restart Cause     | User      |
//! | 0Fh | Get POH Counter              | User      |

use std::time::{Duration, Instant};

use ipmi_router::{HandlerResult, IpmiRequest};
use ipmi_wire::CompletionCode;
use power_sequencer::{Refused, Request};

use crate::{
    control::{cause, Identify},
    Powerd,
};

/// Get Chassis Capabilities.
pub const CMD_GET_CHASSIS_CAPABILITIES: u8 = 0x00;
/// Get Chassis Status.
pub const CMD_GET_CHASSIS_STATUS: u8 = 0x01;
/// Chassis Control.
pub const CMD_CHASSIS_CONTROL: u8 = 0x02;
/// Chassis Identify.
pub const CMD_CHASSIS_IDENTIFY: u8 = 0x04;
/// Set Power Restore Policy.
pub const CMD_SET_POWER_RESTORE_POLICY: u8 = 0x06;
/// Get System Restart Cause.
pub const CMD_GET_SYSTEM_RESTART_CAUSE: u8 = 0x07;
/// Get POH Counter.
pub const CMD_GET_POH_COUNTER: u8 = 0x0F;

/// The BMC's address, for every device address Get Chassis Capabilities
/// reports.
const BMC_ADDRESS: u8 = 0x20;
/// Chassis Identify's default interval (§28.5: 15 seconds).
const DEFAULT_IDENTIFY: Duration = Duration::from_secs(15);
/// POH counter granularity reported: minutes per count.
const MINUTES_PER_COUNT: u8 = 60;

fn no_data(request: &IpmiRequest) -> Result<(), CompletionCode> {
    if request.data.is_empty() {
        Ok(())
    } else {
        Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID)
    }
}

/// Get Chassis Capabilities (§28.1): a diagnostic interrupt and, when the
/// line exists, an intrusion sensor; every device is the BMC itself.
pub fn cmd_get_chassis_capabilities(p: &Powerd, request: &IpmiRequest) -> HandlerResult {
    no_data(request)?;
    let mut flags = 0x04;
    if p.has_intrusion {
        flags |= 0x01;
    }
    Ok(vec![
        flags,
        BMC_ADDRESS,
        BMC_ADDRESS,
        BMC_ADDRESS,
        BMC_ADDRESS,
    ])
}

/// Get Chassis Status (§28.2, Table 28-4).
pub fn cmd_get_chassis_status(p: &Powerd, request: &IpmiRequest) -> HandlerResult {
    no_data(request)?;
    let state = p.control.lock();
    let policy = state.policy(p.control.default_policy);
    let power = u8::from(state.sequencer.is_on())
        | if state.sequencer.control_fault() {
            0x10
        } else {
            0
        }
        | (policy & 0x03) << 5;
    let identify = match state.identify {
        Identify::Off => 0b00,
        Identify::Until(_) => 0b01,
        Identify::Forever => 0b10,
    };
    // Bit 6: identify command and state supported.
    let misc = 0x40 | identify << 4 | u8::from(state.intrusion);
    Ok(vec![power, state.last_power_event, misc])
}

/// Chassis Control (§28.3): 0 power down, 1 power up, 2 power cycle, 3 hard
/// reset, 4 diagnostic interrupt, 5 soft shutdown. A transition under way
/// answers C0h (busy); an action that needs power while off answers D5h.
pub fn cmd_chassis_control(p: &Powerd, request: &IpmiRequest) -> HandlerResult {
    let [control] = request.data[..] else {
        return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
    };
    let action = match control & 0x0F {
        0 => Request::Off,
        1 => Request::On,
        2 => Request::Cycle,
        3 => Request::Reset,
        4 => Request::Diagnostic,
        5 => Request::SoftOff,
        _ => return Err(CompletionCode::INVALID_DATA_FIELD),
    };
    if control & 0xF0 != 0 {
        return Err(CompletionCode::INVALID_DATA_FIELD);
    }
    p.control
        .request(action, cause::CHASSIS_CONTROL)
        .map_err(|err| match err {
            Refused::Busy => CompletionCode::NODE_BUSY,
            Refused::WrongState(_) => CompletionCode::NOT_SUPPORTED_IN_PRESENT_STATE,
        })?;
    Ok(Vec::new())
}

/// Chassis Identify (§28.5): optional interval in seconds (0 turns it off,
/// default 15) and optional force-on bit.
pub fn cmd_chassis_identify(p: &Powerd, request: &IpmiRequest) -> HandlerResult {
    let identify = match request.data[..] {
        [] => Identify::Until(Instant::now() + DEFAULT_IDENTIFY),
        [_, force] if force & 0xFE != 0 => return Err(CompletionCode::INVALID_DATA_FIELD),
        [_, 0x01] => Identify::Forever,
        [0] | [0, 0] => Identify::Off,
        [seconds] | [seconds, 0] => {
            Identify::Until(Instant::now() + Duration::from_secs(seconds.into()))
        }
        _ => return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID),
    };
    p.control.identify(identify);
    Ok(Vec::new())
}

/// Set Power Restore Policy (§28.8): 0 always off, 1 previous, 2 always on,
/// 3 no change; answers the supported set (all three).
pub fn cmd_set_power_restore_policy(p: &Powerd, request: &IpmiRequest) -> HandlerResult {
    let [policy] = request.data[..] else {
        return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
    };
    if policy & 0xF8 != 0 {
        return Err(CompletionCode::INVALID_DATA_FIELD);
    }
    match policy {
        0..=2 => {
            let mut state = p.control.lock();
            state.stored.restore_policy = Some(policy);
            p.control.persist(&state);
        }
        3 => {}
        _ => return Err(CompletionCode::INVALID_DATA_FIELD),
    }
    Ok(vec![0x07])
}

/// Get System Restart Cause (§28.11): the cause, and the channel (0).
pub fn cmd_get_system_restart_cause(p: &Powerd, request: &IpmiRequest) -> HandlerResult {
    no_data(request)?;
    Ok(vec![p.control.lock().stored.restart_cause & 0x0F, 0x00])
}

/// Get POH Counter (§28.14): minutes per count, then the count.
pub fn cmd_get_poh_counter(p: &Powerd, request: &IpmiRequest) -> HandlerResult {
    no_data(request)?;
    let minutes = p.control.lock().power_on_minutes(Instant::now());
    let count = u32::try_from(minutes / u64::from(MINUTES_PER_COUNT)).unwrap_or(u32::MAX);
    let mut out = vec![MINUTES_PER_COUNT];
    out.extend_from_slice(&count.to_le_bytes());
    Ok(out)
}

/// Set System Boot Options.
pub const CMD_SET_SYSTEM_BOOT_OPTIONS: u8 = 0x08;
/// Get System Boot Options.
pub const CMD_GET_SYSTEM_BOOT_OPTIONS: u8 = 0x09;
/// The system interface channel (IPMI v2.0 §6.3): the host's firmware.
const SYSTEM_INTERFACE: u8 = 0x0F;

/// Set System Boot Options (§28.12), persisted before the reply.
pub fn cmd_set_system_boot_options(p: &Powerd, request: &IpmiRequest) -> HandlerResult {
    let mut state = p.control.lock();
    let result = state.boot.set(&request.data)?;
    p.control.persist(&state);
    Ok(result)
}

/// Get System Boot Options (§28.13). When the host's firmware reads the boot
/// flags over the system interface it has used them: a next-boot-only
/// request is then cleared.
pub fn cmd_get_system_boot_options(p: &Powerd, request: &IpmiRequest) -> HandlerResult {
    let mut state = p.control.lock();
    let result = state.boot.get(&request.data)?;
    let boot_flags = request.data.first().is_some_and(|param| param & 0x7F == 5);
    if boot_flags && request.context.channel == SYSTEM_INTERFACE {
        state.boot.on_host_boot();
        p.control.persist(&state);
    }
    Ok(result)
}
