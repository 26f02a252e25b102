//! The BMC watchdog commands (IPMI v2.0 §27, App NetFn 06h): Reset
//! Watchdog Timer (22h), Set Watchdog Timer (24h), Get Watchdog Timer (25h).
//! The timer itself is `ipmi_watchdog::Watchdog`; its expiry acts on power
//! through the controller's tick.

use std::time::Instant;

use ipmi_router::{HandlerResult, IpmiRequest};

use crate::Powerd;

/// Reset Watchdog Timer.
pub const CMD_RESET_WATCHDOG: u8 = 0x22;
/// Set Watchdog Timer.
pub const CMD_SET_WATCHDOG: u8 = 0x24;
/// Get Watchdog Timer.
pub const CMD_GET_WATCHDOG: u8 = 0x25;

/// Reset Watchdog Timer.
pub fn cmd_reset_watchdog(p: &Powerd, request: &IpmiRequest) -> HandlerResult {
    p.control
        .lock()
        .watchdog
        .reset(Instant::now(), &request.data)
}

/// Set Watchdog Timer.
pub fn cmd_set_watchdog(p: &Powerd, request: &IpmiRequest) -> HandlerResult {
    p.control.lock().watchdog.set(Instant::now(), &request.data)
}

/// Get Watchdog Timer.
pub fn cmd_get_watchdog(p: &Powerd, request: &IpmiRequest) -> HandlerResult {
    p.control.lock().watchdog.get(Instant::now(), &request.data)
}
