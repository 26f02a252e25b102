//! What rbmc-powerd keeps across restarts and power loss, in
//! `<state>/power.toml`, replaced atomically: the restore policy, whether
//! the host was on (for the "previous" policy), the power-on-hours counter,
//! the last restart cause and the boot options.

use std::path::{Path, PathBuf};

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
}

/// The state file.
#[derive(Debug)]
pub struct Store {
    path: PathBuf,
}

impl Store {
    /// The store in `state_dir`.
    pub fn new(state_dir: &Path) -> Self {
        Self {
            path: state_dir.join("power.toml"),
        }
    }

    /// Loads the stored state; a missing or damaged file gives defaults
    /// (damage is logged).
    pub fn load(&self) -> Stored {
        let Ok(text) = std::fs::read_to_string(&self.path) else {
            return Stored::default();
        };
        toml::from_str(&text).unwrap_or_else(|err| {
            warn!(path = %self.path.display(), cause = %err, "ignoring damaged power state");
            Stored::default()
        })
    }

    /// Saves the state atomically.
    pub fn save(&self, stored: &Stored) -> std::io::Result<()> {
        let text = toml::to_string(stored).map_err(std::io::Error::other)?;
        rbmc_daemon::write_atomic(&self.path, text.as_bytes())
    }
}
