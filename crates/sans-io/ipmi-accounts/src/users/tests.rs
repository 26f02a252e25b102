//! The user commands run as ipmitool sends them: names, passwords, access
//! and SOL payload access, and refused requests that change nothing.

use super::*;

/// The dispatcher the service's command table replaces: one
/// entry per command, for these tests.
impl UserTable {
    /// Runs one user command from a request on `present_channel`. Returns
    /// the response data and whether the table changed (and so must be
    /// persisted). `None` for a command this module does not own.
    fn execute(
        &mut self,
        cmd: u8,
        data: &[u8],
        present_channel: u8,
    ) -> Option<(CommandResult, bool)> {
        let before = self.clone();
        let result = match cmd {
            CMD_SET_USER_ACCESS => self.cmd_set_user_access(data, present_channel),
            CMD_GET_USER_ACCESS => self.cmd_get_user_access(data, present_channel),
            CMD_SET_USER_NAME => self.cmd_set_user_name(data),
            CMD_GET_USER_NAME => self.cmd_get_user_name(data),
            CMD_SET_USER_PASSWORD => self.cmd_set_user_password(data),
            CMD_SET_USER_PAYLOAD_ACCESS => self.cmd_set_user_payload_access(data, present_channel),
            CMD_GET_USER_PAYLOAD_ACCESS => self.cmd_get_user_payload_access(data, present_channel),
            _ => return None,
        };
        let changed = *self != before;
        Some((result, changed))
    }
}

fn run(table: &mut UserTable, cmd: u8, data: &[u8]) -> CommandResult {
    table.execute(cmd, data, 1).expect("a user command").0
}

fn name16(name: &str) -> Vec<u8> {
    let mut bytes = name.as_bytes().to_vec();
    bytes.resize(16, 0);
    bytes
}

fn password(id: u8, op: u8, pw: &str, twenty: bool) -> Vec<u8> {
    let mut data = vec![id | if twenty { 0x80 } else { 0 }, op];
    let mut pw = pw.as_bytes().to_vec();
    pw.resize(if twenty { 20 } else { 16 }, 0);
    data.extend(pw);
    data
}

/// The acceptance sequence, as ipmitool sends it: name, password,
/// privilege, enable; then the user can log in with that privilege.
#[test]
fn a_new_user_becomes_able_to_log_in() {
    let mut t = UserTable::new(&[1]);
    assert_eq!(t.login(b"bob", 1), None);
    run(
        &mut t,
        CMD_SET_USER_NAME,
        &[&[3][..], &name16("bob")].concat(),
    )
    .unwrap();
    run(
        &mut t,
        CMD_SET_USER_PASSWORD,
        &password(3, 0b10, "bob-pass", false),
    )
    .unwrap();
    assert_eq!(t.login(b"bob", 1), None, "no privilege and not enabled yet");
    run(&mut t, CMD_SET_USER_ACCESS, &[0x01, 3, 0x02, 0x00]).unwrap();
    assert_eq!(t.login(b"bob", 1), None, "not enabled yet");
    run(&mut t, CMD_SET_USER_PASSWORD, &[3, 0b01]).unwrap();
    assert_eq!(
        t.login(b"bob", 1),
        Some(LoginUser {
            id: 3,
            password: b"bob-pass".to_vec(),
            privilege_limit: Privilege::User
        })
    );
    assert_eq!(t.login(b"bob", 2), None, "no access on another channel");
    assert_eq!(
        run(&mut t, CMD_GET_USER_ACCESS, &[0x01, 3]).unwrap(),
        [15, 0x41, 0x01, 0x12]
    );
    assert_eq!(run(&mut t, CMD_GET_USER_NAME, &[3]).unwrap(), name16("bob"));
    // Disabling, or turning IPMI messaging off, stops the login.
    run(&mut t, CMD_SET_USER_ACCESS, &[0x81, 3, 0x02]).unwrap();
    assert_eq!(t.login(b"bob", 1), None);
    run(&mut t, CMD_SET_USER_ACCESS, &[0x91, 3, 0x02]).unwrap();
    assert!(t.login(b"bob", 1).is_some());
    // Callback-only: a LAN login runs at Callback.
    run(&mut t, CMD_SET_USER_ACCESS, &[0xD1, 3, 0x02]).unwrap();
    assert_eq!(
        t.login(b"bob", 1).unwrap().privilege_limit,
        Privilege::Callback
    );
    run(&mut t, CMD_SET_USER_ACCESS, &[0x91, 3, 0x02]).unwrap();
    run(&mut t, CMD_SET_USER_PASSWORD, &[3, 0b00]).unwrap();
    assert_eq!(t.login(b"bob", 1), None);
    assert_eq!(
        run(&mut t, CMD_GET_USER_ACCESS, &[0x01, 3]).unwrap()[1],
        0x80
    );
}

#[test]
fn password_test_forms_and_sizes() {
    let mut t = UserTable::new(&[1]);
    run(
        &mut t,
        CMD_SET_USER_PASSWORD,
        &password(4, 0b10, "twenty-byte-secret!!", true),
    )
    .unwrap();
    assert_eq!(
        run(
            &mut t,
            CMD_SET_USER_PASSWORD,
            &password(4, 0b11, "twenty-byte-secre", false)
        ),
        Err(CC_PASSWORD_WRONG_SIZE)
    );
    assert_eq!(
        run(
            &mut t,
            CMD_SET_USER_PASSWORD,
            &password(4, 0b11, "twenty-byte-secret!?", true)
        ),
        Err(CC_PASSWORD_TEST_FAILED)
    );
    run(
        &mut t,
        CMD_SET_USER_PASSWORD,
        &password(4, 0b11, "twenty-byte-secret!!", true),
    )
    .unwrap();
    run(
        &mut t,
        CMD_SET_USER_PASSWORD,
        &password(4, 0b10, "short", false),
    )
    .unwrap();
    // The form is remembered: the 20-byte form of a 16-byte password is
    // the wrong size.
    assert_eq!(
        run(
            &mut t,
            CMD_SET_USER_PASSWORD,
            &password(4, 0b11, "short", true)
        ),
        Err(CC_PASSWORD_WRONG_SIZE)
    );
    run(
        &mut t,
        CMD_SET_USER_PASSWORD,
        &password(4, 0b11, "short", false),
    )
    .unwrap();
    // Set and test need the whole password field.
    assert_eq!(
        run(&mut t, CMD_SET_USER_PASSWORD, &[4, 0b10, b'x']),
        Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID)
    );
}

#[test]
fn the_null_user_stays_nameless_and_disabled() {
    let mut t = UserTable::new(&[1]);
    assert_eq!(
        run(
            &mut t,
            CMD_SET_USER_NAME,
            &[&[1][..], &name16("anon")].concat()
        ),
        Err(CompletionCode::INVALID_DATA_FIELD)
    );
    assert_eq!(
        run(&mut t, CMD_SET_USER_PASSWORD, &[1, 0b01]),
        Err(CompletionCode::INVALID_DATA_FIELD)
    );
    assert_eq!(
        run(&mut t, CMD_SET_USER_ACCESS, &[0x01, 1, 0x04]),
        Err(CompletionCode::INVALID_DATA_FIELD)
    );
    assert_eq!(t.login(b"", 1), None);
}

#[test]
fn bad_fields_are_refused_and_change_nothing() {
    let mut t = UserTable::new(&[1]);
    let before = t.clone();
    for (cmd, data) in [
        (CMD_GET_USER_NAME, &[0u8][..]),
        (CMD_GET_USER_NAME, &[16]),
        (CMD_GET_USER_ACCESS, &[0x02, 3]),
        (CMD_SET_USER_ACCESS, &[0x01, 3, 0x06]),
        (CMD_SET_USER_ACCESS, &[0x01, 3, 0x02, 0x10]),
        (CMD_SET_USER_ACCESS, &[0x01, 3, 0x02, 0x01]),
        (CMD_SET_USER_PASSWORD, &[3, 0x04]),
        (CMD_SET_USER_PAYLOAD_ACCESS, &[0x01, 3, 0x04, 0, 0, 0]),
        (CMD_SET_USER_PAYLOAD_ACCESS, &[0x01, 0x83, 0x02, 0, 0, 0]),
    ] {
        let (result, changed) = t.execute(cmd, data, 1).unwrap();
        assert_eq!(
            result,
            Err(CompletionCode::INVALID_DATA_FIELD),
            "{cmd:#x} {data:x?}"
        );
        assert!(!changed);
    }
    let mut bad_name = name16("bo b");
    bad_name[2] = b' ';
    assert!(run(&mut t, CMD_SET_USER_NAME, &[&[3][..], &bad_name].concat()).is_err());
    assert_eq!(
        run(&mut t, CMD_SET_USER_NAME, &[3, b'x']),
        Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID)
    );
    assert_eq!(t, before);
    assert_eq!(t.execute(0x01, &[], 1), None);
}

#[test]
fn names_are_unique() {
    let mut t = UserTable::new(&[1]);
    run(
        &mut t,
        CMD_SET_USER_NAME,
        &[&[2][..], &name16("admin")].concat(),
    )
    .unwrap();
    assert_eq!(
        run(
            &mut t,
            CMD_SET_USER_NAME,
            &[&[3][..], &name16("admin")].concat()
        ),
        Err(CompletionCode::INVALID_DATA_FIELD)
    );
    // Renaming a user to its own name, or clearing it, is fine.
    run(
        &mut t,
        CMD_SET_USER_NAME,
        &[&[2][..], &name16("admin")].concat(),
    )
    .unwrap();
    run(
        &mut t,
        CMD_SET_USER_NAME,
        &[&[2][..], &[0; 16][..]].concat(),
    )
    .unwrap();
}

#[test]
fn sol_payload_access_per_user_and_channel() {
    let mut t = UserTable::new(&[1]);
    assert!(!t.payload_allowed(3, 1, PAYLOAD_SOL));
    run(
        &mut t,
        CMD_SET_USER_PAYLOAD_ACCESS,
        &[0x01, 0x03, 0x02, 0, 0, 0],
    )
    .unwrap();
    assert!(t.payload_allowed(3, 1, PAYLOAD_SOL));
    assert_eq!(
        run(&mut t, CMD_GET_USER_PAYLOAD_ACCESS, &[0x0E, 3]).unwrap(),
        [0x02, 0, 0, 0]
    );
    run(
        &mut t,
        CMD_SET_USER_PAYLOAD_ACCESS,
        &[0x01, 0x43, 0x02, 0, 0, 0],
    )
    .unwrap();
    assert!(!t.payload_allowed(3, 1, PAYLOAD_SOL));
}
