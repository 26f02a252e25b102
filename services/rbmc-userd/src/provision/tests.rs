//! First users: the config on a first start, rbmc-netipmid's old store
//! instead when there is one, and the one-time provisioning file.

use super::*;

const CONFIG: &str = r#"
[[users]]
id = 2
name = "admin"
password = "config-pw-1"
privilege = "administrator"
"#;

fn config() -> Config {
    Config::from_toml(CONFIG, "test").unwrap()
}

fn store(dir: &Path) -> Store {
    Store::open(dir.join("userd.toml"), &dir.join("user.key")).unwrap()
}

#[test]
fn a_first_start_seeds_the_config_s_users_and_later_starts_keep_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let accounts = load_or_create(&config(), &store(dir.path()), None).unwrap();
    assert_eq!(
        accounts.users.login(b"admin", 1).unwrap().password,
        b"config-pw-1"
    );
    // The config no longer matters once the store exists.
    let empty = Config::from_toml("", "test").unwrap();
    let again = load_or_create(&empty, &store(dir.path()), None).unwrap();
    assert_eq!(again, accounts);
}

#[test]
fn netipmid_s_old_users_are_migrated_and_its_key_removed() {
    let old = tempfile::tempdir().unwrap();
    let mut users = UserTable::new(&[1]);
    let record = users.get_mut(3).unwrap();
    record.name = b"bob".to_vec();
    record.password = b"old-bob-pw".to_vec();
    record.enabled = Some(true);
    record.access.insert(
        1,
        ChannelAccess {
            privilege_limit: Some(ipmi_wire::Privilege::User),
            ipmi_messaging: true,
            ..ChannelAccess::default()
        },
    );
    let legacy = Store::open(
        old.path().join("netipmid.toml"),
        &old.path().join("user.key"),
    )
    .unwrap();
    let accounts = Accounts::new(users, AccountPolicy::default(), 1, [0; 32]);
    legacy.save_now(&accounts).unwrap();
    let new = tempfile::tempdir().unwrap();
    let migrated = load_or_create(&config(), &store(new.path()), Some(old.path())).unwrap();
    assert_eq!(
        migrated.users.login(b"bob", 1).unwrap().password,
        b"old-bob-pw"
    );
    // The config's users are not added on top of migrated ones.
    assert!(migrated.users.login(b"admin", 1).is_none());
    assert!(!old.path().join("user.key").exists());
}

#[test]
fn the_provisioning_file_is_applied_stored_and_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let empty = Config::from_toml("", "test").unwrap();
    let store = store(dir.path());
    let accounts = load_or_create(&empty, &store, None).unwrap();
    assert!(
        accounts.users.login(b"admin", 1).is_none(),
        "no user on the image"
    );
    std::fs::write(
        dir.path().join(PROVISION_FILE),
        CONFIG.replace("config-pw-1", "first-admin-pw"),
    )
    .unwrap();
    let accounts = apply_provisioning_file(&store, accounts, dir.path()).unwrap();
    assert_eq!(
        accounts.users.login(b"admin", 1).unwrap().password,
        b"first-admin-pw"
    );
    assert!(!dir.path().join(PROVISION_FILE).exists());
    assert_eq!(store.load(1).unwrap(), Some(accounts.clone()));
    // A file that does not parse stops the start, and stays for a fix.
    std::fs::write(dir.path().join(PROVISION_FILE), "[[users]]\nid = 99\n").unwrap();
    assert!(apply_provisioning_file(&store, accounts, dir.path()).is_err());
    assert!(dir.path().join(PROVISION_FILE).exists());
}
