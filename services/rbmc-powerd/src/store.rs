//! What rbmc-powerd keeps across restarts and power loss, in
//! `<state>/power.toml`, replaced atomically: the restore policy, whether
//! the host was on (for the "previous" policy), the power-on-hours counter,
//! the last restart cause, the boot options, the power cycle interval and
//! DCMI's power limit.
//!
//! The file is written only through its [`DurableFile`] (on the blocking
//! pool, one write at a time); the controller decides what to write and
//! when (see `control`).

use std::path::Path;

use rbmc_daemon::durable::DurableFile;
use serde::{Deserialize, Serialize};
use tracing::warn;

/// The stored state.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct Stored {
    /// Restore policy code (Set Power Restore Policy: 0 off, 1 previous,
    /// 2 on); `None` until set with IPMI, so config applies.
    pub restore_policy: Option<u8>,
    /// Whether the host was on when last seen.
    pub host_on: bool,
    /// Minutes the host has been on in total.
    pub power_on_minutes: u64,
    /// The last restart cause (Get System Restart Cause code).
    pub restart_cause: u8,
    /// Boot options, as `ipmi_boot::BootOptions::to_bytes`, hex.
    pub boot_options: String,
    /// Set Power Cycle Interval's seconds; `None` until set, so config
    /// (`[power] cycle-off-ms`) applies.
    pub power_cycle_interval_s: Option<u8>,
    /// DCMI's power limit, as set and activated.
    pub power_limit: StoredPowerLimit,
}

/// DCMI's power limit (Set Power Limit, Activate/Deactivate Power Limit).
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct StoredPowerLimit {
    /// The exception action's byte (00h none, 01h hard power off and log,
    /// 11h log only).
    pub action: u8,
    /// The limit, watts.
    pub watts: u16,
    /// The correction time, ms.
    pub correction_ms: u32,
    /// The statistics sampling period, seconds.
    pub sampling_secs: u16,
    /// Whether it is enforced.
    pub active: bool,
}

/// The state file.
#[derive(Debug)]
pub struct Store {
    file: DurableFile,
}

impl Store {
    /// The store in `state_dir`.
    pub fn new(state_dir: &Path) -> Self {
        Self {
            file: DurableFile::new(state_dir.join("power.toml")),
        }
    }

    /// The file, for writing.
    pub fn file(&self) -> &DurableFile {
        &self.file
    }

    /// Loads the stored state; a missing or damaged file gives defaults
    /// (damage is logged). Reads the file: called at start.
    pub fn load(&self) -> Stored {
        let path = self.file.path();
        let Ok(text) = std::fs::read_to_string(path) else {
            return Stored::default();
        };
        toml::from_str(&text).unwrap_or_else(|err| {
            warn!(path = %path.display(), cause = %err, "ignoring damaged power state");
            Stored::default()
        })
    }
}

impl Stored {
    /// The file's contents.
    pub fn encode(&self) -> std::io::Result<Vec<u8>> {
        toml::to_string(self)
            .map(String::into_bytes)
            .map_err(std::io::Error::other)
    }
}
