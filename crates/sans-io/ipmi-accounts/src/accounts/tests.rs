//! Logins against the accounts as a console computes them from the spec,
//! the lockout they lead to, and the password rules.

use std::time::Duration;

use super::*;

fn accounts() -> Accounts {
    let mut accounts = Accounts::new(UserTable::new(&[1]), AccountPolicy::default(), 1, [7; 32]);
    let id = accounts
        .create_user(b"admin", Some(Privilege::Administrator), true, true, true)
        .unwrap();
    assert_eq!(id, 2);
    accounts.set_password(id, b"rbmc-admin", false).unwrap();
    accounts
}

fn transcript(name: &[u8]) -> RakpTranscript {
    RakpTranscript {
        console_session_id: 0x1234,
        bmc_session_id: 0x5678,
        console_random: [1; 16],
        bmc_random: [2; 16],
        bmc_guid: [3; 16],
        role: 0x14,
        username: name.to_vec(),
    }
}

const SUITE: CipherSuite = CipherSuite::SUITE_17;

/// Runs a whole login with `password` at the console's end, the way
/// ipmitool does: RAKP 2's code checked first, RAKP 3 refused if it is
/// wrong.
fn login(
    accounts: &Accounts,
    lockout: &mut Lockout,
    now: Instant,
    password: &[u8],
) -> Rakp3Outcome {
    let t = transcript(b"admin");
    let grant = accounts.rakp2(lockout, now, &SUITE, &t, &[9; 20]).unwrap();
    if grant.code != t.rakp2_code(&SUITE, password) {
        return accounts.rakp3(
            lockout,
            now,
            &SUITE,
            &t,
            RakpStatus::INVALID_INTEGRITY_CHECK_VALUE,
            &[],
        );
    }
    accounts.rakp3(
        lockout,
        now,
        &SUITE,
        &t,
        RakpStatus::NO_ERRORS,
        &t.rakp3_code(&SUITE, password),
    )
}

#[test]
fn the_right_password_gives_the_console_s_session_key() {
    let accounts = accounts();
    let mut lockout = Lockout::default();
    let t = transcript(b"admin");
    let grant = accounts
        .rakp2(&mut lockout, Instant::now(), &SUITE, &t, &[9; 20])
        .unwrap();
    assert_eq!(grant.user_id, 2);
    assert_eq!(grant.privilege_limit, Privilege::Administrator);
    assert!(grant.sol_allowed);
    assert_eq!(grant.code, t.rakp2_code(&SUITE, b"rbmc-admin"));
    let outcome = login(&accounts, &mut lockout, Instant::now(), b"rbmc-admin");
    assert_eq!(
        outcome,
        Rakp3Outcome::Granted {
            user_id: 2,
            sik: t.sik(&SUITE, b"rbmc-admin")
        }
    );
    assert_eq!(
        accounts.rakp2(
            &mut lockout,
            Instant::now(),
            &SUITE,
            &transcript(b"nobody"),
            &[9; 20]
        ),
        Err(RakpStatus::UNAUTHORIZED_NAME)
    );
}

#[test]
fn failures_lock_and_a_locked_user_looks_like_a_wrong_password() {
    let accounts = accounts();
    let mut lockout = Lockout::default();
    let t0 = Instant::now();
    for attempt in 1..=5 {
        let outcome = login(&accounts, &mut lockout, t0, b"guess");
        let Rakp3Outcome::Refused {
            status,
            reason,
            locked_now,
            ..
        } = outcome
        else {
            panic!("a wrong password was accepted");
        };
        assert_eq!(status, RakpStatus::INVALID_INTEGRITY_CHECK_VALUE);
        assert_eq!(reason, LoginRefusal::ConsoleRefused);
        assert_eq!(locked_now, attempt == 5);
    }
    // Locked: the right password now fails exactly as a wrong one.
    let t = transcript(b"admin");
    let grant = accounts
        .rakp2(&mut lockout, t0, &SUITE, &t, &[9; 20])
        .unwrap();
    assert_ne!(grant.code, t.rakp2_code(&SUITE, b"rbmc-admin"));
    let outcome = accounts.rakp3(
        &mut lockout,
        t0,
        &SUITE,
        &t,
        RakpStatus::NO_ERRORS,
        &t.rakp3_code(&SUITE, b"rbmc-admin"),
    );
    assert!(matches!(
        outcome,
        Rakp3Outcome::Refused {
            status: RakpStatus::INVALID_INTEGRITY_CHECK_VALUE,
            reason: LoginRefusal::Locked,
            ..
        }
    ));
    // The lock ends by itself after 300 s.
    let later = t0 + Duration::from_secs(300);
    assert!(matches!(
        login(&accounts, &mut lockout, later, b"rbmc-admin"),
        Rakp3Outcome::Granted { .. }
    ));
}

#[test]
fn a_password_login_shares_the_users_and_the_lockout_with_rmcp() {
    let accounts = accounts();
    let mut lockout = Lockout::default();
    let t0 = Instant::now();
    assert_eq!(
        accounts.password_login(&mut lockout, t0, b"admin", b"rbmc-admin"),
        Ok(PasswordGrant {
            user_id: 2,
            privilege_limit: Privilege::Administrator
        })
    );
    let unknown = accounts
        .password_login(&mut lockout, t0, b"mallory", b"rbmc-admin")
        .unwrap_err();
    assert_eq!(
        (unknown.user_id, unknown.reason),
        (None, LoginRefusal::UnknownName)
    );
    // A prefix or an extension of the password is wrong too.
    for (attempt, guess) in [&b"rbmc-admi"[..], b"rbmc-admin!", b"", b"guess", b"x"]
        .into_iter()
        .enumerate()
    {
        let refused = accounts
            .password_login(&mut lockout, t0, b"admin", guess)
            .unwrap_err();
        assert_eq!(refused.reason, LoginRefusal::WrongPassword);
        assert_eq!(refused.locked_now, attempt == 4);
    }
    // Locked by password logins: RMCP+ is refused too, and so is the right
    // password here, without counting.
    assert!(matches!(
        login(&accounts, &mut lockout, t0, b"rbmc-admin"),
        Rakp3Outcome::Refused {
            reason: LoginRefusal::Locked,
            ..
        }
    ));
    let locked = accounts
        .password_login(&mut lockout, t0, b"admin", b"rbmc-admin")
        .unwrap_err();
    assert_eq!(
        (locked.reason, locked.locked_now),
        (LoginRefusal::Locked, false)
    );
    let later = t0 + Duration::from_secs(300);
    assert!(accounts
        .password_login(&mut lockout, later, b"admin", b"rbmc-admin")
        .is_ok());
}

#[test]
fn enabling_the_user_unlocks_it_early() {
    let mut accounts = accounts();
    let mut lockout = Lockout::default();
    let t0 = Instant::now();
    for _ in 0..5 {
        login(&accounts, &mut lockout, t0, b"guess");
    }
    assert!(lockout.is_locked(2, t0));
    let (result, _) = accounts.cmd_set_user_password(&mut lockout, t0, &[2, 0x01]);
    assert_eq!(result, Ok(Vec::new()));
    assert!(!lockout.is_locked(2, t0));
    assert!(matches!(
        login(&accounts, &mut lockout, t0, b"rbmc-admin"),
        Rakp3Outcome::Granted { .. }
    ));
}

fn set_request(id: u8, password: &[u8]) -> Vec<u8> {
    let mut data = vec![id, 0x02];
    let mut field = password.to_vec();
    field.resize(16, 0);
    data.extend(field);
    data
}

#[test]
fn password_rules_refuse_with_cch_and_change_nothing() {
    let mut accounts = accounts();
    accounts.policy.remember_old_passwords = 2;
    let mut lockout = Lockout::default();
    let now = Instant::now();
    let before = accounts.clone();
    let mut refuse = |password: &[u8], why| {
        let (result, reason) =
            accounts.cmd_set_user_password(&mut lockout, now, &set_request(2, password));
        assert_eq!(result, Err(CompletionCode::INVALID_DATA_FIELD));
        assert_eq!(reason, Some(why));
    };
    refuse(b"short", PasswordRefusal::TooShort);
    refuse(b"ADMIN", PasswordRefusal::TooShort);
    refuse(b"rbmc-admin", PasswordRefusal::Reused);
    assert_eq!(accounts, before);
    accounts.policy.min_password_length = 5;
    let (result, reason) =
        accounts.cmd_set_user_password(&mut lockout, now, &set_request(2, b"ADMIN"));
    assert_eq!(
        (result, reason),
        (
            Err(CompletionCode::INVALID_DATA_FIELD),
            Some(PasswordRefusal::SameAsName)
        )
    );
    // Two new passwords push the first out of a memory of two.
    accounts.set_password(2, b"second-pw", false).unwrap();
    assert_eq!(
        accounts.set_password(2, b"rbmc-admin", false),
        Err(PasswordRefusal::Reused)
    );
    accounts.set_password(2, b"third-pw", false).unwrap();
    accounts.set_password(2, b"rbmc-admin", false).unwrap();
    // The 20-byte form.
    accounts
        .set_password(2, b"twenty-byte-password", true)
        .unwrap();
    assert!(accounts.users.get(2).unwrap().password_20);
    assert_eq!(
        accounts.set_password(2, &[b'x'; 21], true),
        Err(PasswordRefusal::TooLong)
    );
}

#[test]
fn create_rename_delete() {
    let mut accounts = accounts();
    assert_eq!(
        accounts.create_user(b"admin", None, true, true, false),
        Err(AccountError::NameTaken)
    );
    assert_eq!(
        accounts.create_user(b"bad name", None, true, true, false),
        Err(AccountError::BadName)
    );
    let id = accounts
        .create_user(b"carol", Some(Privilege::Operator), true, true, false)
        .unwrap();
    assert_eq!(id, 3);
    // No password yet: no login.
    assert_eq!(accounts.users.login(b"carol", 1), None);
    accounts.set_password(id, b"carol-password", false).unwrap();
    assert_eq!(
        accounts.users.login(b"carol", 1).unwrap().privilege_limit,
        Privilege::Operator
    );
    accounts.rename_user(id, b"dave").unwrap();
    assert_eq!(accounts.id_of(b"dave"), Some(3));
    assert_eq!(
        accounts.rename_user(id, b"admin"),
        Err(AccountError::NameTaken)
    );
    accounts.delete_user(id).unwrap();
    assert_eq!(accounts.id_of(b"dave"), None);
    assert_eq!(accounts.delete_user(id), Err(AccountError::NoUser));
    assert_eq!(accounts.delete_user(1), Err(AccountError::NullUser));
    for n in 3..=MAX_USERS {
        accounts
            .create_user(format!("user{n}").as_bytes(), None, true, true, false)
            .unwrap();
    }
    assert_eq!(
        accounts.create_user(b"one-too-many", None, true, true, false),
        Err(AccountError::Full)
    );
}
