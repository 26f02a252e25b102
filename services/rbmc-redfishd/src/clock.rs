//! Times as Redfish writes them (`DateTime`, `Created`, `EventTimestamp`):
//! RFC 3339, whole seconds, UTC as `+00:00`.

use std::time::{SystemTime, UNIX_EPOCH};

/// The BMC's clock now.
pub fn now_rfc3339() -> String {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    // Whole seconds: Redfish clients compare, not time, with DateTime.
    rfc3339(ms / 1000)
}

/// Seconds since 1970.
pub fn rfc3339(seconds: u64) -> String {
    audit_journal::record::rfc3339(seconds.saturating_mul(1000)).replace(".000Z", "+00:00")
}
