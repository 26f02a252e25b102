//! The accounts as one value: the user table, the policy and each user's
//! remembered passwords. It answers the two questions a login asks of the
//! password (RAKP 2's code, RAKP 3's check and the session key), applies
//! the password rules to every change, and carries the account operations
//! of OpenBMC's user manager (create, rename, delete, privilege, enable).
//! Failed logins are counted in a [`Lockout`] the caller keeps beside it,
//! since they are not persisted.

use std::{collections::BTreeMap, time::Instant};

use ipmi_wire::{
    crypto::{CipherSuite, RakpTranscript},
    CompletionCode, Privilege, RakpStatus,
};
use ring::hmac;

use crate::{
    lockout::Lockout,
    policy::AccountPolicy,
    users::{
        ChannelAccess, PasswordOperation, PasswordRequest, UserRecord, UserTable, MAX_USERS,
        NAME_LEN, NULL_USER, PASSWORD_LEN, PAYLOAD_SOL,
    },
    CommandResult,
};

/// What RAKP 2 needs from the accounts: who the user is on the channel,
/// and the key-exchange authentication code.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Rakp2Grant {
    /// The user ID.
    pub user_id: u8,
    /// The user's privilege limit on the channel.
    pub privilege_limit: Privilege,
    /// Whether the user may activate SOL on the channel.
    pub sol_allowed: bool,
    /// HMAC over the transcript, keyed with the password (or, for a locked
    /// user, with a key nobody knows, so the console sees what a wrong
    /// password looks like).
    pub code: Vec<u8>,
}

/// Why a login was refused, for the logs and the audit trail (the console
/// only ever sees the RMCP+ status).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum LoginRefusal {
    /// No user of that name may log in on the channel.
    UnknownName,
    /// The RAKP 3 code did not verify: a wrong password.
    WrongPassword,
    /// The console refused RAKP 2: a wrong password at its end.
    ConsoleRefused,
    /// The user is locked after failed logins.
    Locked,
}

impl LoginRefusal {
    /// A short stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UnknownName => "unknown name",
            Self::WrongPassword => "wrong password",
            Self::ConsoleRefused => "wrong password (console refused RAKP 2)",
            Self::Locked => "locked",
        }
    }
}

/// How RAKP 3 ended.
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum Rakp3Outcome {
    /// The code verified: the session integrity key.
    Granted {
        /// The user ID.
        user_id: u8,
        /// SIK, from which the session keys derive.
        sik: Vec<u8>,
    },
    /// Refused.
    Refused {
        /// The RMCP+ status for RAKP 4.
        status: RakpStatus,
        /// The user, when the name was known.
        user_id: Option<u8>,
        /// Why.
        reason: LoginRefusal,
        /// This failure locked the user.
        locked_now: bool,
    },
}

/// A login with a name and a password (HTTP Basic or a Redfish session)
/// that succeeded.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct PasswordGrant {
    /// The user ID.
    pub user_id: u8,
    /// The user's privilege limit on the accounts' channel.
    pub privilege_limit: Privilege,
}

/// A login with a name and a password that was refused.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct PasswordLoginRefused {
    /// The user, when the name was known.
    pub user_id: Option<u8>,
    /// Why.
    pub reason: LoginRefusal,
    /// This failure locked the user.
    pub locked_now: bool,
}

/// Why a password was not accepted. None of these carries the password.
#[derive(Clone, Copy, Debug, Eq, PartialEq, thiserror::Error)]
pub enum PasswordRefusal {
    /// Shorter than the policy's minimum.
    #[error("the password is shorter than the minimum length")]
    TooShort,
    /// Longer than 20 bytes.
    #[error("the password is longer than 20 bytes")]
    TooLong,
    /// Not printable ASCII, or contains a NUL.
    #[error("the password must be printable ASCII")]
    NotPrintable,
    /// The same as the user's name.
    #[error("the password equals the user name")]
    SameAsName,
    /// One of the user's remembered passwords.
    #[error("the password was used recently")]
    Reused,
    /// No such user.
    #[error("no such user")]
    NoUser,
}

/// Why an account operation failed.
#[derive(Clone, Copy, Debug, Eq, PartialEq, thiserror::Error)]
pub enum AccountError {
    /// The name is empty, too long, or not printable ASCII.
    #[error("user names are 1-16 printable ASCII characters")]
    BadName,
    /// Another user has that name.
    #[error("a user of that name exists")]
    NameTaken,
    /// Every user ID is in use.
    #[error("all {MAX_USERS} user IDs are in use")]
    Full,
    /// No user of that name or ID.
    #[error("no such user")]
    NoUser,
    /// The null user cannot be changed.
    #[error("user 1 is the reserved null user")]
    NullUser,
}

/// The accounts.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Accounts {
    /// The user table.
    pub users: UserTable,
    /// The policy.
    pub policy: AccountPolicy,
    /// The channel that logins and the account operations concern.
    pub channel: u8,
    /// Keyed digests of each user's last passwords, newest first.
    history: BTreeMap<u8, Vec<[u8; 32]>>,
    history_key: [u8; 32],
}

impl Accounts {
    /// Accounts over `users` for logins on `channel`. `history_key` keys
    /// the digests of remembered passwords (random, kept with the store).
    pub fn new(
        users: UserTable,
        policy: AccountPolicy,
        channel: u8,
        history_key: [u8; 32],
    ) -> Self {
        Self {
            users,
            policy,
            channel,
            history: BTreeMap::new(),
            history_key,
        }
    }

    /// The remembered password digests, for the store.
    pub fn history(&self) -> &BTreeMap<u8, Vec<[u8; 32]>> {
        &self.history
    }

    /// Restores remembered password digests from the store.
    pub fn set_history(&mut self, history: BTreeMap<u8, Vec<[u8; 32]>>) {
        self.history = history;
    }

    /// The key of the remembered-password digests, for the store.
    pub fn history_key(&self) -> &[u8; 32] {
        &self.history_key
    }

    fn digest(&self, id: u8, password: &[u8]) -> [u8; 32] {
        let key = hmac::Key::new(hmac::HMAC_SHA256, &self.history_key);
        let mut ctx = hmac::Context::with_key(&key);
        ctx.update(&[id]);
        ctx.update(password);
        let mut out = [0u8; 32];
        out.copy_from_slice(ctx.sign().as_ref());
        out
    }

    /// RAKP 2 for the name in `transcript`. A locked user gets a code
    /// keyed with `decoy_key` (random bytes the caller drew), so that a
    /// locked account answers exactly as a wrong password does.
    pub fn rakp2(
        &self,
        lockout: &mut Lockout,
        now: Instant,
        suite: &CipherSuite,
        transcript: &RakpTranscript,
        decoy_key: &[u8],
    ) -> Result<Rakp2Grant, RakpStatus> {
        let login = self
            .users
            .login(&transcript.username, self.channel)
            .ok_or(RakpStatus::UNAUTHORIZED_NAME)?;
        let key: &[u8] = if lockout.is_locked(login.id, now) {
            decoy_key
        } else {
            &login.password
        };
        Ok(Rakp2Grant {
            user_id: login.id,
            privilege_limit: login.privilege_limit,
            sol_allowed: self
                .users
                .payload_allowed(login.id, self.channel, PAYLOAD_SOL),
            code: transcript.rakp2_code(suite, key),
        })
    }

    /// RAKP 3: checks the console's code (or takes its refusal of RAKP 2,
    /// `console_status` not zero), counts a failure or a success, and
    /// derives the session integrity key.
    pub fn rakp3(
        &self,
        lockout: &mut Lockout,
        now: Instant,
        suite: &CipherSuite,
        transcript: &RakpTranscript,
        console_status: RakpStatus,
        code: &[u8],
    ) -> Rakp3Outcome {
        let Some(login) = self.users.login(&transcript.username, self.channel) else {
            return Rakp3Outcome::Refused {
                status: RakpStatus::UNAUTHORIZED_NAME,
                user_id: None,
                reason: LoginRefusal::UnknownName,
                locked_now: false,
            };
        };
        let refused = |status, reason, locked_now| Rakp3Outcome::Refused {
            status,
            user_id: Some(login.id),
            reason,
            locked_now,
        };
        if lockout.is_locked(login.id, now) {
            let status = if console_status == RakpStatus::NO_ERRORS {
                RakpStatus::INVALID_INTEGRITY_CHECK_VALUE
            } else {
                console_status
            };
            return refused(status, LoginRefusal::Locked, false);
        }
        if console_status != RakpStatus::NO_ERRORS {
            let locked_now = lockout.record_failure(login.id, now, &self.policy);
            return refused(console_status, LoginRefusal::ConsoleRefused, locked_now);
        }
        if code.len() != suite.rakp_code_len()
            || !transcript.verify_rakp3(suite, &login.password, code)
        {
            let locked_now = lockout.record_failure(login.id, now, &self.policy);
            return refused(
                RakpStatus::INVALID_INTEGRITY_CHECK_VALUE,
                LoginRefusal::WrongPassword,
                locked_now,
            );
        }
        lockout.record_success(login.id);
        Rakp3Outcome::Granted {
            user_id: login.id,
            sik: transcript.sik(suite, &login.password),
        }
    }

    /// A login with a name and a password, for the services that receive
    /// the password itself (Redfish): the same users, the same lockout, and
    /// the same rules as an RMCP+ login on the accounts' channel. A locked
    /// user is refused whatever the password, and that is not counted.
    pub fn password_login(
        &self,
        lockout: &mut Lockout,
        now: Instant,
        name: &[u8],
        password: &[u8],
    ) -> Result<PasswordGrant, PasswordLoginRefused> {
        let Some(login) = self.users.login(name, self.channel) else {
            return Err(PasswordLoginRefused {
                user_id: None,
                reason: LoginRefusal::UnknownName,
                locked_now: false,
            });
        };
        let refused = |reason, locked_now| PasswordLoginRefused {
            user_id: Some(login.id),
            reason,
            locked_now,
        };
        if lockout.is_locked(login.id, now) {
            return Err(refused(LoginRefusal::Locked, false));
        }
        let unpadded = |bytes: &[u8]| -> Vec<u8> {
            let end = bytes.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1);
            bytes[..end].to_vec()
        };
        if !crate::users::constant_time_eq(&unpadded(&login.password), &unpadded(password)) {
            let locked_now = lockout.record_failure(login.id, now, &self.policy);
            return Err(refused(LoginRefusal::WrongPassword, locked_now));
        }
        lockout.record_success(login.id);
        Ok(PasswordGrant {
            user_id: login.id,
            privilege_limit: login.privilege_limit,
        })
    }

    /// Whether `password` may become user `id`'s password.
    pub fn check_password(&self, id: u8, password: &[u8]) -> Result<(), PasswordRefusal> {
        let record = self.users.get(id).ok_or(PasswordRefusal::NoUser)?;
        if password.len() > PASSWORD_LEN {
            return Err(PasswordRefusal::TooLong);
        }
        if !password.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
            return Err(PasswordRefusal::NotPrintable);
        }
        if password.len() < usize::from(self.policy.min_password_length) {
            return Err(PasswordRefusal::TooShort);
        }
        if !record.name.is_empty() && password.eq_ignore_ascii_case(&record.name) {
            return Err(PasswordRefusal::SameAsName);
        }
        let remembered = usize::from(self.policy.remember_old_passwords);
        let digest = self.digest(id, password);
        if self
            .history
            .get(&id)
            .is_some_and(|old| old.iter().take(remembered).any(|d| *d == digest))
        {
            return Err(PasswordRefusal::Reused);
        }
        Ok(())
    }

    /// Sets user `id`'s password after the checks, remembering it.
    pub fn set_password(
        &mut self,
        id: u8,
        password: &[u8],
        form_20: bool,
    ) -> Result<(), PasswordRefusal> {
        self.check_password(id, password)?;
        let digest = self.digest(id, password);
        let keep = usize::from(crate::policy::MAX_REMEMBERED);
        let old = self.history.entry(id).or_default();
        old.insert(0, digest);
        old.truncate(keep);
        let record = self.users.get_mut(id).ok_or(PasswordRefusal::NoUser)?;
        record.password = password.to_vec();
        record.password_20 = form_20 || password.len() > 16;
        Ok(())
    }

    /// Set User Password (Table 22-30) with the policy: a new password
    /// must pass [`Self::check_password`] (CCh otherwise: the spec has no
    /// code of its own for a weak password), and enabling a user also
    /// ends its lock, which is how an administrator unlocks early
    /// (`ipmitool user enable`). Returns the reason of a refusal, for the
    /// log, beside the completion code.
    pub fn cmd_set_user_password(
        &mut self,
        lockout: &mut Lockout,
        now: Instant,
        data: &[u8],
    ) -> (CommandResult, Option<PasswordRefusal>) {
        let request = match PasswordRequest::parse(data) {
            Ok(request) => request,
            Err(cc) => return (Err(cc), None),
        };
        match request.operation {
            PasswordOperation::Set => {
                if request.user_id == NULL_USER {
                    return (Err(CompletionCode::INVALID_DATA_FIELD), None);
                }
                match self.set_password(request.user_id, &request.password, request.form_20) {
                    Ok(()) => (Ok(Vec::new()), None),
                    Err(refusal) => (Err(CompletionCode::INVALID_DATA_FIELD), Some(refusal)),
                }
            }
            PasswordOperation::Enable => {
                let result = self.users.cmd_set_user_password(data);
                if result.is_ok() {
                    lockout.unlock(request.user_id, now);
                }
                (result, None)
            }
            PasswordOperation::Disable | PasswordOperation::Test => {
                (self.users.cmd_set_user_password(data), None)
            }
        }
    }

    /// The ID of the user named `name`.
    pub fn id_of(&self, name: &[u8]) -> Option<u8> {
        if name.is_empty() {
            return None;
        }
        self.users
            .iter()
            .find(|(_, user)| user.name == name)
            .map(|(id, _)| id)
    }

    fn check_name(&self, name: &[u8], except: Option<u8>) -> Result<(), AccountError> {
        if name.is_empty() || name.len() > NAME_LEN || !name.iter().all(u8::is_ascii_graphic) {
            return Err(AccountError::BadName);
        }
        match self.id_of(name) {
            Some(other) if Some(other) != except => Err(AccountError::NameTaken),
            _ => Ok(()),
        }
    }

    /// A new user with the lowest free ID: able to send IPMI messages when
    /// `ipmi` is set, SOL when `sol` is, at `privilege` on the channel.
    /// It cannot log in until it has a password.
    pub fn create_user(
        &mut self,
        name: &[u8],
        privilege: Option<Privilege>,
        enabled: bool,
        ipmi: bool,
        sol: bool,
    ) -> Result<u8, AccountError> {
        self.check_name(name, None)?;
        let id = self
            .users
            .iter()
            .find(|(id, user)| *id != NULL_USER && user.name.is_empty())
            .map(|(id, _)| id)
            .ok_or(AccountError::Full)?;
        let channel = self.channel;
        let record = self.users.get_mut(id).ok_or(AccountError::Full)?;
        *record = UserRecord {
            name: name.to_vec(),
            enabled: Some(enabled),
            ..UserRecord::default()
        };
        record.access.insert(
            channel,
            ChannelAccess {
                privilege_limit: privilege,
                ipmi_messaging: ipmi,
                ..ChannelAccess::default()
            },
        );
        if sol {
            record.payloads.insert(channel, PAYLOAD_SOL);
        }
        self.history.remove(&id);
        Ok(id)
    }

    /// Renames user `id`.
    pub fn rename_user(&mut self, id: u8, new_name: &[u8]) -> Result<(), AccountError> {
        self.check_name(new_name, Some(id))?;
        let record = self.user_mut(id)?;
        record.name = new_name.to_vec();
        Ok(())
    }

    /// Deletes user `id`: its ID becomes free, with no name, password or
    /// access.
    pub fn delete_user(&mut self, id: u8) -> Result<(), AccountError> {
        let record = self.user_mut(id)?;
        *record = UserRecord::default();
        self.history.remove(&id);
        Ok(())
    }

    /// Sets user `id`'s privilege limit on the channel (`None`: no access).
    pub fn set_privilege(
        &mut self,
        id: u8,
        privilege: Option<Privilege>,
    ) -> Result<(), AccountError> {
        let channel = self.channel;
        let record = self.user_mut(id)?;
        record.access.entry(channel).or_default().privilege_limit = privilege;
        Ok(())
    }

    /// Enables or disables user `id`.
    pub fn set_enabled(&mut self, id: u8, enabled: bool) -> Result<(), AccountError> {
        self.user_mut(id)?.enabled = Some(enabled);
        Ok(())
    }

    fn user_mut(&mut self, id: u8) -> Result<&mut UserRecord, AccountError> {
        if id == NULL_USER {
            return Err(AccountError::NullUser);
        }
        match self.users.get_mut(id) {
            Some(record) if !record.name.is_empty() => Ok(record),
            _ => Err(AccountError::NoUser),
        }
    }
}

#[cfg(test)]
mod tests;
