//! Finding a hwmon device (Documentation/hwmon/sysfs-interface.rst): each
//! is a directory `<sysfs>/class/hwmon/hwmonN` with a `name` attribute.
//! `hwmonN` numbers change between boots, so a device is found by its
//! `name`, and optionally by a substring of the path its `hwmonN` link
//! resolves to (e.g. `i2c-3/3-0048`). rbmc-sensord reads through it,
//! rbmc-fand writes its PWM outputs through it.

use std::path::{Path, PathBuf};

/// The directory of the hwmon device called `name` (and whose real path
/// contains `device`, if given) under `sysfs_root`, if there is one.
pub fn find_device(sysfs_root: &Path, name: &str, device: Option<&str>) -> Option<PathBuf> {
    let entries = std::fs::read_dir(sysfs_root.join("class/hwmon")).ok()?;
    for entry in entries.flatten() {
        let dir = entry.path();
        let Ok(found) = std::fs::read_to_string(dir.join("name")) else {
            continue;
        };
        if found.trim() != name {
            continue;
        }
        if let Some(device) = device {
            let resolved = std::fs::canonicalize(&dir).unwrap_or_else(|_| dir.clone());
            if !resolved.to_string_lossy().contains(device) {
                continue;
            }
        }
        return Some(dir);
    }
    None
}
