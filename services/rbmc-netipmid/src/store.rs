//! What rbmc-netipmid persists, and how: channel access, SOL parameters and
//! cipher suite privileges, in one TOML file (`netipmid.toml` in the state
//! directory) replaced atomically after every change, so a kill -9 at any
//! moment leaves the old file or the new one.
//!
//! No user and no password is kept here: rbmc-userd owns them. A store
//! written before rbmc-userd existed still carries sealed users; they are
//! kept, unread, while the old seal key (`user.key`) is still beside them,
//! so rbmc-userd can migrate them at its first start, and dropped at the
//! next write once rbmc-userd has removed that key.

use std::path::{Path, PathBuf};

use ipmi_lan::{
    channels::{AccessMode, ChannelSettings},
    lan_alerts::LanAlerts,
    sol::SolConfig,
};
use ipmi_wire::Privilege;
use serde::{Deserialize, Serialize};

/// Why the store could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The store does not parse.
    #[error("{path}: {message}")]
    Corrupt {
        /// The store file.
        path: String,
        /// What is wrong (never a password).
        message: String,
    },
}

/// Everything persisted.
#[derive(Clone, Debug, PartialEq)]
pub struct Persisted {
    /// The LAN channel's non-volatile access settings.
    pub lan_access: ChannelSettings,
    /// SOL parameters.
    pub sol: SolConfig,
    /// Cipher suite privilege limits (LAN parameter 24), by suite ID.
    pub suite_privileges: Vec<(u8, Privilege)>,
    /// The alert destinations (LAN parameters 16-19; destination 0 is
    /// volatile and not kept).
    pub alerts: LanAlerts,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct File {
    version: u32,
    /// Users sealed by a build before rbmc-userd, for its migration.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    users: Vec<toml::Value>,
    lan_access: FileChannel,
    sol: FileSol,
    /// (suite ID, privilege level) pairs.
    #[serde(default)]
    suite_privileges: Vec<(u8, u8)>,
    /// LAN alert settings; absent in a store from before them.
    #[serde(default)]
    alerts: Option<FileAlerts>,
}

/// LAN parameters 16, 18 and 19.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct FileAlerts {
    /// Parameter 16's 18 bytes.
    community: Vec<u8>,
    /// Destinations 1 to N: parameter 18's and 19's bytes after the
    /// selector, as a Set takes them (so loading checks them as a Set
    /// does).
    destinations: Vec<(Vec<u8>, Vec<u8>)>,
}

impl FileAlerts {
    fn of(alerts: &LanAlerts) -> Self {
        let without_selector = |parameter, set| {
            let mut bytes = alerts.get(parameter, set).unwrap_or_default();
            bytes.drain(..1.min(bytes.len()));
            bytes
        };
        Self {
            community: alerts.community.to_vec(),
            destinations: (1..u8::try_from(alerts.destinations.len()).unwrap_or(1))
                .map(|set| (without_selector(18, set), without_selector(19, set)))
                .collect(),
        }
    }

    fn to_alerts(&self) -> Result<LanAlerts, String> {
        let mut alerts = LanAlerts::default();
        alerts
            .set(16, &self.community)
            .map_err(|cc| format!("alerts.community: refused ({cc:?})"))?;
        for (set, (kind, address)) in (1u8..).zip(&self.destinations) {
            for (parameter, bytes) in [(18, kind), (19, address)] {
                let value = [&[set][..], bytes].concat();
                alerts.set(parameter, &value).map_err(|cc| {
                    format!("alerts.destinations[{set}]: parameter {parameter} refused ({cc:?})")
                })?;
            }
        }
        Ok(alerts)
    }
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct FileChannel {
    access_mode: u8,
    alerting_disabled: bool,
    per_message_auth_disabled: bool,
    user_level_auth_disabled: bool,
    privilege_limit: u8,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct FileSol {
    enabled: bool,
    force_encryption: bool,
    force_authentication: bool,
    privilege: u8,
    accumulate_5ms: u8,
    send_threshold: u8,
    retry_count: u8,
    retry_10ms: u8,
    bit_rate_nv: u8,
    bit_rate: u8,
}

/// The store file.
#[derive(Debug)]
pub struct Store {
    path: PathBuf,
    /// The old seal key's path: while it exists, old sealed users stay.
    legacy_key: PathBuf,
    /// Old sealed users, as read.
    legacy_users: std::sync::Mutex<Vec<toml::Value>>,
    /// Serialises writers so an older snapshot never lands after a newer.
    write_lock: std::sync::Mutex<()>,
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.display().to_string(),
        source,
    }
}

impl Store {
    /// The store at `path`; `legacy_key` is where a build before rbmc-userd
    /// kept its seal key.
    pub fn open(path: PathBuf, legacy_key: PathBuf) -> Self {
        Self {
            path,
            legacy_key,
            legacy_users: std::sync::Mutex::new(Vec::new()),
            write_lock: std::sync::Mutex::new(()),
        }
    }

    /// Loads the persisted state; `None` if the store does not exist yet.
    pub fn load(&self) -> Result<Option<Persisted>, StoreError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(io_error(&self.path)(err)),
        };
        let corrupt = |message: String| StoreError::Corrupt {
            path: self.path.display().to_string(),
            message,
        };
        // An unknown level is a damaged file: refuse it rather than guess
        // (a guess of Administrator would fail open).
        let level = |value: u8, field: &str| {
            Privilege::from_level(value)
                .filter(|_| (1..=4).contains(&value))
                .ok_or_else(|| corrupt(format!("{field}: {value} is not a privilege level")))
        };
        let file: File = toml::from_str(&text).map_err(|e| corrupt(e.message().to_owned()))?;
        if file.version != 1 {
            return Err(corrupt(format!("unknown store version {}", file.version)));
        }
        *self.legacy_users.lock().unwrap_or_else(|e| e.into_inner()) = file.users;
        let c = file.lan_access;
        let lan_access = ChannelSettings {
            // An unknown stored mode falls back to always available, the
            // default (a store from a newer build must not lock the BMC out).
            access_mode: AccessMode::from_code(c.access_mode)
                .unwrap_or(AccessMode::AlwaysAvailable),
            alerting_disabled: c.alerting_disabled,
            per_message_auth_disabled: c.per_message_auth_disabled,
            user_level_auth_disabled: c.user_level_auth_disabled,
            privilege_limit: level(c.privilege_limit, "lan-access.privilege-limit")?,
        };
        let s = file.sol;
        let sol = SolConfig {
            enabled: s.enabled,
            force_encryption: s.force_encryption,
            force_authentication: s.force_authentication,
            privilege: level(s.privilege, "sol.privilege")?,
            accumulate_5ms: s.accumulate_5ms,
            send_threshold: s.send_threshold,
            retry_count: s.retry_count & 0x07,
            retry_10ms: s.retry_10ms,
            bit_rate_nv: s.bit_rate_nv,
            bit_rate: s.bit_rate,
        };
        let suite_privileges = file
            .suite_privileges
            .into_iter()
            .map(|(suite, l)| Ok((suite, level(l, "suite-privileges")?)))
            .collect::<Result<_, StoreError>>()?;
        let alerts = match &file.alerts {
            Some(alerts) => alerts.to_alerts().map_err(corrupt)?,
            None => LanAlerts::default(),
        };
        Ok(Some(Persisted {
            lan_access,
            sol,
            suite_privileges,
            alerts,
        }))
    }

    /// Replaces the store with `state`, atomically.
    pub fn save(&self, state: &Persisted) -> Result<(), StoreError> {
        let mut file = File {
            version: 1,
            ..File::default()
        };
        if self.legacy_key.exists() {
            file.users = self
                .legacy_users
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
        }
        let c = state.lan_access;
        file.lan_access = FileChannel {
            access_mode: c.access_mode as u8,
            alerting_disabled: c.alerting_disabled,
            per_message_auth_disabled: c.per_message_auth_disabled,
            user_level_auth_disabled: c.user_level_auth_disabled,
            privilege_limit: c.privilege_limit.level(),
        };
        let s = &state.sol;
        file.sol = FileSol {
            enabled: s.enabled,
            force_encryption: s.force_encryption,
            force_authentication: s.force_authentication,
            privilege: s.privilege.level(),
            accumulate_5ms: s.accumulate_5ms,
            send_threshold: s.send_threshold,
            retry_count: s.retry_count,
            retry_10ms: s.retry_10ms,
            bit_rate_nv: s.bit_rate_nv,
            bit_rate: s.bit_rate,
        };
        file.suite_privileges = state
            .suite_privileges
            .iter()
            .map(|(suite, level)| (*suite, level.level()))
            .collect();
        file.alerts = Some(FileAlerts::of(&state.alerts));
        let text = toml::to_string(&file).map_err(|e| StoreError::Corrupt {
            path: self.path.display().to_string(),
            message: e.to_string(),
        })?;
        let _guard = self.write_lock.lock().unwrap_or_else(|e| e.into_inner());
        rbmc_daemon::write_atomic(&self.path, text.as_bytes()).map_err(io_error(&self.path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> Persisted {
        Persisted {
            lan_access: ChannelSettings::default(),
            sol: SolConfig::default(),
            suite_privileges: vec![(17, Privilege::Administrator), (3, Privilege::User)],
            alerts: {
                let mut alerts = LanAlerts::default();
                alerts.set(18, &[2, 0x80, 5, 3]).unwrap();
                alerts
                    .set(19, &[2, 0, 1, 10, 0, 0, 9, 1, 2, 3, 4, 5, 6])
                    .unwrap();
                alerts
            },
        }
    }

    #[test]
    fn round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(
            dir.path().join("netipmid.toml"),
            dir.path().join("user.key"),
        );
        assert_eq!(store.load().unwrap(), None);
        store.save(&state()).unwrap();
        assert_eq!(store.load().unwrap(), Some(state()));
    }

    #[test]
    fn old_users_stay_until_their_key_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("netipmid.toml");
        let key = dir.path().join("user.key");
        let store = Store::open(path.clone(), key.clone());
        store.save(&state()).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let old_user = "[[users]]\nid = 2\nname = \"admin\"\nsealed-password = \"00\"\n\n";
        std::fs::write(&path, format!("{text}\n{old_user}")).unwrap();
        std::fs::write(&key, [0u8; 32]).unwrap();
        store.load().unwrap();
        store.save(&state()).unwrap();
        assert!(std::fs::read_to_string(&path)
            .unwrap()
            .contains("sealed-password"));
        std::fs::remove_file(&key).unwrap();
        store.save(&state()).unwrap();
        assert!(!std::fs::read_to_string(&path)
            .unwrap()
            .contains("sealed-password"));
    }
}
