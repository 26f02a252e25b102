//! Where the first users come from. At the first start (no store yet):
//! rbmc-netipmid's old store if there is one (`--migrate-from`), so no user
//! is lost, else the config's `[[users]]` (the dev config's documented dev
//! user; the image's config has none). At any start: a one-time
//! provisioning file, `provision.toml` in the state directory, with
//! `[[users]]` entries in the config's form; it is applied, stored, and
//! then deleted. The image ships with no password at all: its first
//! administrator comes from that file or in-band from the host over KCS
//! (Set User Name and Set User Password, which the system interface may
//! send at Administrator).

use std::path::Path;

use anyhow::Context as _;
use ipmi_accounts::{
    users::{ChannelAccess, UserRecord, UserTable, PAYLOAD_SOL},
    AccountPolicy, Accounts,
};
use rbmc_config::{Config, UserEntry};
use ring::rand::SecureRandom;
use serde::Deserialize;
use tracing::{info, warn};

use crate::store::Store;

/// The name of the provisioning file in the state directory.
pub const PROVISION_FILE: &str = "provision.toml";

/// The stored accounts, or new ones for a first start.
pub fn load_or_create(
    config: &Config,
    store: &Store,
    migrate_from: Option<&Path>,
) -> anyhow::Result<Accounts> {
    let channel = config.network.channel;
    if let Some(accounts) = store.load(channel)? {
        info!("accounts loaded from the store");
        return Ok(accounts);
    }
    let mut key = [0u8; 32];
    ring::rand::SystemRandom::new()
        .fill(&mut key)
        .map_err(|_| anyhow::anyhow!("the kernel's random number generator failed"))?;
    let legacy = match migrate_from {
        Some(dir) => Store::open_legacy(dir)
            .with_context(|| format!("reading rbmc-netipmid's old store in {}", dir.display()))?,
        None => None,
    };
    let (users, from) = match &legacy {
        Some(old) => (old.load_legacy_users(channel)?, "rbmc-netipmid's old store"),
        None => (UserTable::new(&[channel]), "the config"),
    };
    let mut accounts = Accounts::new(users, AccountPolicy::default(), channel, key);
    if legacy.is_none() {
        for entry in &config.users {
            seed(&mut accounts, entry);
        }
    }
    store.save_now(&accounts)?;
    let count = accounts
        .users
        .iter()
        .filter(|(_, u)| !u.name.is_empty())
        .count();
    info!(
        users = count,
        from, "first start: accounts created and stored"
    );
    if let (Some(dir), Some(_)) = (migrate_from, legacy) {
        // The old key goes, so the old sealed passwords open for nobody;
        // rbmc-netipmid drops them at its next write.
        let old_key = dir.join("user.key");
        match std::fs::remove_file(&old_key) {
            Ok(()) => info!(path = %old_key.display(), "old seal key removed after migration"),
            Err(err) => warn!(
                path = %old_key.display(), %err,
                "remove rbmc-netipmid's old seal key by hand: it can open the migrated passwords"
            ),
        }
    }
    Ok(accounts)
}

/// Puts a config or provisioning entry into the accounts. The password is
/// checked against the policy; one that fails is still set (the
/// integrator chose it) and the reason is logged.
fn seed(accounts: &mut Accounts, entry: &UserEntry) {
    let id = entry.id.0;
    let channel = accounts.channel;
    let Some(record) = accounts.users.get_mut(id) else {
        return;
    };
    *record = UserRecord {
        name: entry.name.0.as_bytes().to_vec(),
        enabled: Some(entry.enabled),
        ..UserRecord::default()
    };
    record.access.insert(
        channel,
        ChannelAccess {
            privilege_limit: Some(entry.privilege.0),
            ipmi_messaging: true,
            link_auth: false,
            callback_only: false,
        },
    );
    if entry.sol {
        record.payloads.insert(channel, PAYLOAD_SOL);
    }
    let password = entry.password.0.as_bytes();
    if let Err(refusal) = accounts.set_password(id, password, password.len() > 16) {
        warn!(id, %refusal, "a configured password breaks the password policy; set anyway");
        if let Some(record) = accounts.users.get_mut(id) {
            record.password = password.to_vec();
            record.password_20 = password.len() > 16;
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProvisionFile {
    users: Vec<UserEntry>,
}

/// Applies `provision.toml` from `state_dir` if it exists: its users are
/// stored, then the file is deleted. A file that does not parse stops the
/// daemon with the line named, rather than starting without the intended
/// administrator.
pub fn apply_provisioning_file(
    store: &Store,
    mut accounts: Accounts,
    state_dir: &Path,
) -> anyhow::Result<Accounts> {
    let path = state_dir.join(PROVISION_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(accounts),
        Err(err) => return Err(err).with_context(|| format!("reading {}", path.display())),
    };
    let file: ProvisionFile =
        toml::from_str(&text).with_context(|| format!("{} does not parse", path.display()))?;
    for entry in &file.users {
        seed(&mut accounts, entry);
    }
    store.save_now(&accounts)?;
    std::fs::remove_file(&path).with_context(|| format!("deleting {}", path.display()))?;
    info!(
        users = file.users.len(),
        "provisioning file applied and deleted"
    );
    Ok(accounts)
}

#[cfg(test)]
mod tests;
