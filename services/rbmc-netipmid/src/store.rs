//! What rbmc-netipmid persists, and how: users (passwords sealed), channel
//! access, SOL parameters and cipher suite privileges, in one TOML file
//! (`netipmid.toml` in the state directory) replaced atomically after every
//! change, so a kill -9 at any moment leaves the old file or the new one.
//!
//! RAKP needs each user's clear password, so passwords cannot be hashed.
//! They are sealed with ChaCha20-Poly1305 (ring) under a 32-byte key kept in
//! its own file (mode 0600, created on first start), each with a fresh nonce
//! and the user ID as associated data, so a sealed password cannot be moved
//! to another user. The store never holds a password in the clear, and
//! nothing here logs one.

use std::{
    collections::BTreeMap,
    io::Write as _,
    path::{Path, PathBuf},
};

use ipmi_lan::{
    channels::{AccessMode, ChannelSettings},
    sol::SolConfig,
    users::{ChannelAccess, UserRecord, UserTable},
};
use ipmi_wire::Privilege;
use ring::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305, NONCE_LEN};
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
    /// The key file is not 32 bytes.
    #[error("{path}: the user key must be exactly 32 bytes")]
    BadKey {
        /// The key file.
        path: String,
    },
    /// The store does not parse.
    #[error("{path}: {message}")]
    Corrupt {
        /// The store file.
        path: String,
        /// What is wrong (never a password).
        message: String,
    },
    /// A sealed password does not open with this key.
    #[error(
        "{path}: user {user}'s password does not decrypt with this key; restore the key \
         file, or move the store away to start again from the config's users"
    )]
    WrongKey {
        /// The store file.
        path: String,
        /// The user ID.
        user: u8,
    },
}

/// Everything persisted.
#[derive(Clone, Debug, PartialEq)]
pub struct Persisted {
    /// The user table.
    pub users: UserTable,
    /// The LAN channel's non-volatile access settings.
    pub lan_access: ChannelSettings,
    /// SOL parameters.
    pub sol: SolConfig,
    /// Cipher suite privilege limits (LAN parameter 24), by suite ID.
    pub suite_privileges: Vec<(u8, Privilege)>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct File {
    version: u32,
    #[serde(default)]
    users: Vec<FileUser>,
    lan_access: FileChannel,
    sol: FileSol,
    /// (suite ID, privilege level) pairs.
    #[serde(default)]
    suite_privileges: Vec<(u8, u8)>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct FileUser {
    id: u8,
    name: String,
    /// Hex of nonce || ciphertext || tag; empty when no password is set.
    sealed_password: String,
    password_20: bool,
    enabled: Option<bool>,
    #[serde(default)]
    access: Vec<FileAccess>,
    #[serde(default)]
    payloads: BTreeMap<String, u8>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct FileAccess {
    channel: u8,
    /// 1-4, or 15 for no access.
    privilege: u8,
    ipmi_messaging: bool,
    link_auth: bool,
    callback_only: bool,
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

/// The store's two files.
pub struct Store {
    path: PathBuf,
    key: LessSafeKey,
    /// Serialises writers so an older snapshot never lands after a newer.
    write_lock: std::sync::Mutex<()>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.display().to_string(),
        source,
    }
}

impl Store {
    /// Opens the store at `path` with the key at `key_path`, creating the
    /// key (32 random bytes, mode 0600) if it does not exist.
    pub fn open(path: PathBuf, key_path: &Path) -> Result<Self, StoreError> {
        let key_bytes = match std::fs::read(key_path) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => create_key(key_path)?,
            Err(err) => return Err(io_error(key_path)(err)),
        };
        let key =
            UnboundKey::new(&CHACHA20_POLY1305, &key_bytes).map_err(|_| StoreError::BadKey {
                path: key_path.display().to_string(),
            })?;
        Ok(Self {
            path,
            key: LessSafeKey::new(key),
            write_lock: std::sync::Mutex::new(()),
        })
    }

    /// Loads the persisted state; `None` if the store does not exist yet.
    pub fn load(&self, channels: &[u8]) -> Result<Option<Persisted>, StoreError> {
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
        let mut users = UserTable::new(channels);
        for entry in file.users {
            let record = users
                .get_mut(entry.id)
                .ok_or_else(|| corrupt(format!("user id {} out of range", entry.id)))?;
            record.name = entry.name.into_bytes();
            record.password = self.unseal(entry.id, &entry.sealed_password)?;
            record.password_20 = entry.password_20;
            record.enabled = entry.enabled;
            for access in entry.access {
                record.access.insert(
                    access.channel,
                    ChannelAccess {
                        privilege_limit: Privilege::from_level(access.privilege)
                            .filter(|_| access.privilege <= 4),
                        ipmi_messaging: access.ipmi_messaging,
                        link_auth: access.link_auth,
                        callback_only: access.callback_only,
                    },
                );
            }
            for (channel, enables) in entry.payloads {
                let channel = channel
                    .parse()
                    .map_err(|_| corrupt(format!("payload channel {channel:?}")))?;
                record.payloads.insert(channel, enables);
            }
        }
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
        Ok(Some(Persisted {
            users,
            lan_access,
            sol,
            suite_privileges,
        }))
    }

    /// Replaces the store with `state`, atomically.
    pub fn save(&self, state: &Persisted) -> Result<(), StoreError> {
        let mut file = File {
            version: 1,
            ..File::default()
        };
        for (id, record) in state.users.iter() {
            if *record == UserRecord::default() {
                continue;
            }
            file.users.push(FileUser {
                id,
                name: String::from_utf8_lossy(&record.name).into_owned(),
                sealed_password: self.seal(id, &record.password),
                password_20: record.password_20,
                enabled: record.enabled,
                access: record
                    .access
                    .iter()
                    .map(|(channel, a)| FileAccess {
                        channel: *channel,
                        privilege: a.privilege_limit.map_or(0x0F, Privilege::level),
                        ipmi_messaging: a.ipmi_messaging,
                        link_auth: a.link_auth,
                        callback_only: a.callback_only,
                    })
                    .collect(),
                payloads: record
                    .payloads
                    .iter()
                    .map(|(channel, enables)| (channel.to_string(), *enables))
                    .collect(),
            });
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
        let text = toml::to_string(&file).map_err(|e| StoreError::Corrupt {
            path: self.path.display().to_string(),
            message: e.to_string(),
        })?;
        let _guard = self.write_lock.lock().unwrap_or_else(|e| e.into_inner());
        rbmc_daemon::write_atomic(&self.path, text.as_bytes()).map_err(io_error(&self.path))
    }

    fn seal(&self, user: u8, password: &[u8]) -> String {
        if password.is_empty() {
            return String::new();
        }
        use ring::rand::SecureRandom;
        let mut nonce = [0u8; NONCE_LEN];
        ring::rand::SystemRandom::new()
            .fill(&mut nonce)
            .expect("the kernel random number generator failed");
        let mut sealed = password.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad(user)),
                &mut sealed,
            )
            .expect("a password is far below ChaCha20-Poly1305's length limit");
        let mut out = nonce.to_vec();
        out.extend(sealed);
        hex(&out)
    }

    fn unseal(&self, user: u8, text: &str) -> Result<Vec<u8>, StoreError> {
        if text.is_empty() {
            return Ok(Vec::new());
        }
        let wrong = || StoreError::WrongKey {
            path: self.path.display().to_string(),
            user,
        };
        let bytes = unhex(text).ok_or_else(wrong)?;
        if bytes.len() < NONCE_LEN + aead::MAX_TAG_LEN {
            return Err(wrong());
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| wrong())?;
        let mut sealed = sealed.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(aad(user)), &mut sealed)
            .map_err(|_| wrong())?;
        Ok(plain.to_vec())
    }
}

fn aad(user: u8) -> [u8; 20] {
    let mut aad = *b"rbmc user password \0";
    aad[19] = user;
    aad
}

fn create_key(path: &Path) -> Result<Vec<u8>, StoreError> {
    use ring::rand::SecureRandom;
    use std::os::unix::fs::OpenOptionsExt;
    let mut key = vec![0u8; 32];
    ring::rand::SystemRandom::new()
        .fill(&mut key)
        .expect("the kernel random number generator failed");
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io_error(dir))?;
    }
    // create_new: never replace a key another process just made.
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io_error(path))?;
    file.write_all(&key).map_err(io_error(path))?;
    file.sync_all().map_err(io_error(path))?;
    if let Some(dir) = path.parent() {
        if let Ok(dir) = std::fs::File::open(dir) {
            let _ = dir.sync_all();
        }
    }
    Ok(key)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> Persisted {
        let mut users = UserTable::new(&[1]);
        let bob = users.get_mut(3).unwrap();
        bob.name = b"bob".to_vec();
        bob.password = b"hunter2-secret".to_vec();
        bob.enabled = Some(true);
        bob.access.insert(
            1,
            ChannelAccess {
                privilege_limit: Some(Privilege::User),
                ipmi_messaging: true,
                link_auth: false,
                callback_only: false,
            },
        );
        bob.payloads.insert(1, 0x02);
        Persisted {
            users,
            lan_access: ChannelSettings::default(),
            sol: SolConfig::default(),
            suite_privileges: vec![(17, Privilege::Administrator), (3, Privilege::User)],
        }
    }

    #[test]
    fn round_trips_without_a_clear_password_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(
            dir.path().join("netipmid.toml"),
            &dir.path().join("user.key"),
        )
        .unwrap();
        assert_eq!(store.load(&[1]).unwrap(), None);
        store.save(&state()).unwrap();
        assert_eq!(store.load(&[1]).unwrap(), Some(state()));
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            assert!(!bytes.windows(7).any(|w| w == b"hunter2"));
        }
        let mode = std::fs::metadata(dir.path().join("user.key")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(mode.permissions().mode() & 0o777, 0o600);
    }

    #[test]
    fn another_key_or_a_moved_password_does_not_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("netipmid.toml");
        let store = Store::open(path.clone(), &dir.path().join("user.key")).unwrap();
        store.save(&state()).unwrap();
        let other = Store::open(path.clone(), &dir.path().join("other.key")).unwrap();
        assert!(matches!(
            other.load(&[1]),
            Err(StoreError::WrongKey { user: 3, .. })
        ));
        // A sealed password copied to user 4 fails its associated data.
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replace("id = 3", "id = 4")).unwrap();
        assert!(matches!(
            store.load(&[1]),
            Err(StoreError::WrongKey { user: 4, .. })
        ));
    }

    #[test]
    fn a_short_key_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("user.key"), b"short").unwrap();
        assert!(matches!(
            Store::open(dir.path().join("s.toml"), &dir.path().join("user.key")),
            Err(StoreError::BadKey { .. })
        ));
    }
}
