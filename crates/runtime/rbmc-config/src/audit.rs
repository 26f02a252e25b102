//! `[audit]`: the audit trail rbmc-seld keeps.

use serde::Deserialize;

/// `[audit]`: how many audit records are kept. Optional; every key has a
/// default.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct Audit {
    /// Records kept; when a new one would exceed it, the oldest goes.
    pub capacity: AuditCapacity,
}

/// How many audit records are kept: 1-65536.
#[derive(Clone, Copy, Debug, Deserialize, Eq, PartialEq)]
#[serde(try_from = "u32")]
pub struct AuditCapacity(u32);

impl AuditCapacity {
    /// The most a configuration may ask for: with every field at its
    /// 256-byte limit, about 86 MB of file, and memory to match.
    pub const MAX: u32 = 65_536;

    /// The number of records.
    pub fn get(self) -> usize {
        usize::try_from(self.0).unwrap_or(usize::MAX)
    }
}

impl Default for AuditCapacity {
    fn default() -> Self {
        // 4096 records: weeks of logins and configuration changes on a
        // managed BMC, and about 600 kB of flash with typical fields (5.4 MB
        // at worst, every field at its limit).
        Self(4096)
    }
}

impl TryFrom<u32> for AuditCapacity {
    type Error = String;
    fn try_from(capacity: u32) -> Result<Self, String> {
        if (1..=Self::MAX).contains(&capacity) {
            Ok(Self(capacity))
        } else {
            Err(format!(
                "audit capacity {capacity} is out of range 1-{}",
                Self::MAX
            ))
        }
    }
}
