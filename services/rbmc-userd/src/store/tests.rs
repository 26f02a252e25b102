//! The store round trip, its seal, and reading rbmc-netipmid's old store.

use super::*;

fn accounts() -> Accounts {
    let mut accounts = Accounts::new(UserTable::new(&[1]), AccountPolicy::default(), 1, [5; 32]);
    let id = accounts
        .create_user(b"bob", Some(Privilege::User), true, true, true)
        .unwrap();
    accounts.set_password(id, b"hunter2-secret", false).unwrap();
    accounts.policy.max_failed_logins = 3;
    accounts
}

#[test]
fn round_trips_without_a_clear_password_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("userd.toml"), &dir.path().join("user.key")).unwrap();
    assert_eq!(store.load(1).unwrap(), None);
    store.save_now(&accounts()).unwrap();
    assert_eq!(store.load(1).unwrap(), Some(accounts()));
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
    let path = dir.path().join("userd.toml");
    let store = Store::open(path.clone(), &dir.path().join("user.key")).unwrap();
    store.save_now(&accounts()).unwrap();
    let other = Store::open(path.clone(), &dir.path().join("other.key")).unwrap();
    assert!(matches!(other.load(1), Err(StoreError::WrongKey { .. })));
    // A sealed password copied to another user fails its associated data.
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("id = 2", "id = 4", 1)).unwrap();
    assert!(matches!(
        store.load(1),
        Err(StoreError::WrongKey { user: 4, .. })
    ));
}

#[test]
fn netipmid_s_old_store_yields_its_users() {
    let dir = tempfile::tempdir().unwrap();
    // rbmc-netipmid's store had the same user entries, sealed the same way,
    // beside its channel and SOL settings.
    let old = Store::open(
        dir.path().join("netipmid.toml"),
        &dir.path().join("user.key"),
    )
    .unwrap();
    let mut text = String::from_utf8(old.encode(&accounts()).unwrap()).unwrap();
    text = text.replace("[policy]", "[lan-access]\naccess-mode = 2\n\n[policy]");
    std::fs::write(dir.path().join("netipmid.toml"), text).unwrap();
    let legacy = Store::open_legacy(dir.path())
        .unwrap()
        .expect("an old store");
    let users = legacy.load_legacy_users(1).unwrap();
    assert_eq!(users, accounts().users);
    let empty = tempfile::tempdir().unwrap();
    assert!(Store::open_legacy(empty.path()).unwrap().is_none());
}
