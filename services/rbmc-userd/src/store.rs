//! What rbmc-userd persists, and how: the users (passwords sealed), the
//! account policy and the remembered-password digests, in one TOML file
//! (`userd.toml` in the state directory) replaced atomically after every
//! change, so a kill -9 at any moment leaves the old file or the new one.
//!
//! RAKP needs each user's clear password, so passwords cannot be hashed.
//! They are sealed with ChaCha20-Poly1305 (ring) under a 32-byte key kept in
//! its own file (`user.key`, mode 0600, created on first start, readable by
//! rbmc-userd's user alone), each with a fresh nonce and the user ID as
//! associated data, so a sealed password cannot be moved to another user.
//! The store never holds a password in the clear, and nothing here logs
//! one.
//!
//! The same code reads the store rbmc-netipmid kept before accounts had an
//! owner of their own (`netipmid.toml` and its key), once, to migrate its
//! users.

use std::{
    collections::BTreeMap,
    io::Write as _,
    path::{Path, PathBuf},
    time::Duration,
};

use ipmi_accounts::{
    users::{ChannelAccess, UserRecord, UserTable},
    AccountPolicy, Accounts,
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
    /// A sealed value does not open with this key.
    #[error(
        "{path}: user {user}'s password does not decrypt with this key; restore the key \
         file, or move the store away to start again from the config's users"
    )]
    WrongKey {
        /// The store file.
        path: String,
        /// The user ID (0: the history key).
        user: u8,
    },
}

impl StoreError {
    /// Whether restarting cannot mend it: the key or the store needs an
    /// operator (the I/O errors may pass, a full disk above all).
    pub fn is_lasting(&self) -> bool {
        matches!(
            self,
            Self::BadKey { .. } | Self::WrongKey { .. } | Self::Corrupt { .. }
        )
    }

    /// The I/O error underneath, if any (a full disk answers C4h).
    pub fn io(&self) -> Option<&std::io::Error> {
        match self {
            Self::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct File {
    version: u32,
    #[serde(default)]
    users: Vec<FileUser>,
    policy: FilePolicy,
    /// Sealed, like a password, under user 0.
    history_key: String,
    #[serde(default)]
    history: Vec<FileHistory>,
}

/// rbmc-netipmid's store before rbmc-userd: only its users are read.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct LegacyFile {
    #[serde(default)]
    users: Vec<FileUser>,
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
struct FilePolicy {
    max_failed_logins: u8,
    unlock_timeout_secs: u64,
    attempt_reset_interval_secs: u64,
    lockout_event: bool,
    min_password_length: u8,
    remember_old_passwords: u8,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct FileHistory {
    id: u8,
    /// Hex digests, newest first.
    digests: Vec<String>,
}

/// A store file and the key its passwords are sealed with.
pub struct Store {
    path: PathBuf,
    key: LessSafeKey,
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
        Self::with_key(path, key_path, &key_bytes)
    }

    /// Opens rbmc-netipmid's old store in `dir`, if it and its key exist.
    pub fn open_legacy(dir: &Path) -> Result<Option<Self>, StoreError> {
        let key_path = dir.join("user.key");
        let path = dir.join("netipmid.toml");
        match std::fs::read(&key_path) {
            Ok(bytes) if path.exists() => Self::with_key(path, &key_path, &bytes).map(Some),
            Ok(_) => Ok(None),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(io_error(&key_path)(err)),
        }
    }

    fn with_key(path: PathBuf, key_path: &Path, key_bytes: &[u8]) -> Result<Self, StoreError> {
        let key =
            UnboundKey::new(&CHACHA20_POLY1305, key_bytes).map_err(|_| StoreError::BadKey {
                path: key_path.display().to_string(),
            })?;
        Ok(Self {
            path,
            key: LessSafeKey::new(key),
        })
    }

    fn corrupt(&self, message: impl Into<String>) -> StoreError {
        StoreError::Corrupt {
            path: self.path.display().to_string(),
            message: message.into(),
        }
    }

    fn read(&self) -> Result<Option<String>, StoreError> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => Ok(Some(text)),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(io_error(&self.path)(err)),
        }
    }

    /// Loads the accounts for logins on `channel`; `None` if the store
    /// does not exist yet.
    pub fn load(&self, channel: u8) -> Result<Option<Accounts>, StoreError> {
        let Some(text) = self.read()? else {
            return Ok(None);
        };
        let file: File = toml::from_str(&text).map_err(|e| self.corrupt(e.message()))?;
        if file.version != 1 {
            return Err(self.corrupt(format!("unknown store version {}", file.version)));
        }
        let users = self.users(file.users, channel)?;
        let p = file.policy;
        let policy = AccountPolicy {
            max_failed_logins: p.max_failed_logins,
            unlock_timeout: Duration::from_secs(p.unlock_timeout_secs),
            attempt_reset_interval: Duration::from_secs(p.attempt_reset_interval_secs),
            lockout_event: p.lockout_event,
            min_password_length: p.min_password_length,
            remember_old_passwords: p.remember_old_passwords,
        };
        policy
            .validate()
            .map_err(|e| self.corrupt(format!("policy: {e}")))?;
        let history_key: [u8; 32] = self
            .unseal(0, &file.history_key)?
            .try_into()
            .map_err(|_| self.corrupt("history-key: not 32 bytes"))?;
        let mut history = BTreeMap::new();
        for entry in file.history {
            let digests = entry
                .digests
                .iter()
                .map(|d| unhex(d).and_then(|b| <[u8; 32]>::try_from(b).ok()))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| self.corrupt(format!("history of user {}", entry.id)))?;
            history.insert(entry.id, digests);
        }
        let mut accounts = Accounts::new(users, policy, channel, history_key);
        accounts.set_history(history);
        Ok(Some(accounts))
    }

    /// The users of rbmc-netipmid's old store.
    pub fn load_legacy_users(&self, channel: u8) -> Result<UserTable, StoreError> {
        let text = self.read()?.unwrap_or_default();
        let file: LegacyFile = toml::from_str(&text).map_err(|e| self.corrupt(e.message()))?;
        self.users(file.users, channel)
    }

    fn users(&self, entries: Vec<FileUser>, channel: u8) -> Result<UserTable, StoreError> {
        let mut users = UserTable::new(&[channel]);
        for entry in entries {
            let record = users
                .get_mut(entry.id)
                .ok_or_else(|| self.corrupt(format!("user id {} out of range", entry.id)))?;
            record.name = entry.name.into_bytes();
            record.password = self.unseal(entry.id, &entry.sealed_password)?;
            record.password_20 = entry.password_20;
            record.enabled = entry.enabled;
            for access in entry.access {
                record.access.insert(
                    access.channel,
                    ChannelAccess {
                        // An unknown level reads as no access: never guess
                        // upwards.
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
                    .map_err(|_| self.corrupt(format!("payload channel {channel:?}")))?;
                record.payloads.insert(channel, enables);
            }
        }
        Ok(users)
    }

    /// The file's bytes for `accounts` (sealing draws fresh nonces).
    pub fn encode(&self, accounts: &Accounts) -> Result<Vec<u8>, StoreError> {
        let mut file = File {
            version: 1,
            ..File::default()
        };
        for (id, record) in accounts.users.iter() {
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
        let p = &accounts.policy;
        file.policy = FilePolicy {
            max_failed_logins: p.max_failed_logins,
            unlock_timeout_secs: p.unlock_timeout.as_secs(),
            attempt_reset_interval_secs: p.attempt_reset_interval.as_secs(),
            lockout_event: p.lockout_event,
            min_password_length: p.min_password_length,
            remember_old_passwords: p.remember_old_passwords,
        };
        file.history_key = self.seal(0, accounts.history_key());
        file.history = accounts
            .history()
            .iter()
            .map(|(id, digests)| FileHistory {
                id: *id,
                digests: digests.iter().map(|d| hex(d)).collect(),
            })
            .collect();
        let text = toml::to_string(&file).map_err(|e| self.corrupt(e.to_string()))?;
        Ok(text.into_bytes())
    }

    /// Replaces the store with `accounts`, atomically (at start-up; later
    /// changes go through `rbmc_daemon::durable`).
    pub fn save_now(&self, accounts: &Accounts) -> Result<(), StoreError> {
        let bytes = self.encode(accounts)?;
        rbmc_daemon::write_atomic(&self.path, &bytes).map_err(io_error(&self.path))
    }

    /// The store file's path.
    pub fn path(&self) -> &Path {
        &self.path
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
mod tests;
