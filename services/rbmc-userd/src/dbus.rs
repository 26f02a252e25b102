//! rbmc-userd's fixed objects on D-Bus (the contract is in
//! `rbmc_contracts::user`): the bridges' authenticator, OpenBMC's user
//! manager and account policy. Each method reaches the accounts through the
//! owner task. The per-user objects are in [`crate::user_objects`]; every
//! change asked over D-Bus is recorded in the audit trail with the caller's
//! uid ([`rbmc_daemon::caller`]).

use std::time::Duration;

use ipmi_accounts::{accounts::AccountError, policy::PolicyError, Rakp3Outcome};
use ipmi_wire::{
    crypto::{CipherSuite, RakpTranscript},
    Privilege, RakpStatus,
};
use rbmc_contracts::{
    user::{AUTHENTICATOR_PATH, GROUPS, PRIVILEGES, USER_ROOT},
    CommonError,
};
use rbmc_daemon::caller;
use ring::rand::SecureRandom;
use tracing::{info, warn};
use zbus::object_server::SignalEmitter;

use crate::owner::{AccountsHandle, ChangeError, Changed};

fn invalid(message: impl std::fmt::Display) -> CommonError {
    CommonError::InvalidArgument(message.to_string())
}

pub(crate) fn change_error<E: std::fmt::Display>(err: ChangeError<E>) -> CommonError {
    match err {
        ChangeError::Refused(why) => invalid(why),
        ChangeError::Store(io) if io.raw_os_error() == Some(libc_enospc()) => {
            CommonError::QuotaExceeded(format!("the accounts could not be stored: {io}"))
        }
        ChangeError::Store(io) => {
            CommonError::InternalFailure(format!("the accounts could not be stored: {io}"))
        }
        ChangeError::Gone => CommonError::Unavailable("the accounts are not available".into()),
    }
}

const fn libc_enospc() -> i32 {
    28
}

fn account_error(err: AccountError) -> CommonError {
    match err {
        AccountError::NoUser => CommonError::ResourceNotFound(err.to_string()),
        AccountError::Full => CommonError::TooManyResources(err.to_string()),
        AccountError::NullUser => CommonError::NotAllowed(err.to_string()),
        AccountError::BadName | AccountError::NameTaken => invalid(err),
    }
}

pub(crate) fn flatten<T>(
    result: Result<Result<T, AccountError>, ChangeError<AccountError>>,
) -> Result<T, CommonError> {
    match result {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(err)) | Err(ChangeError::Refused(err)) => Err(account_error(err)),
        Err(other) => Err(change_error(other)),
    }
}

/// OpenBMC's privilege name for a limit.
pub fn privilege_name(privilege: Option<Privilege>) -> &'static str {
    match privilege {
        Some(Privilege::Administrator | Privilege::Oem) => "priv-admin",
        Some(Privilege::Operator) => "priv-operator",
        Some(Privilege::User) => "priv-user",
        Some(Privilege::Callback) | None => "priv-noaccess",
    }
}

pub(crate) fn parse_privilege(name: &str) -> Result<Option<Privilege>, CommonError> {
    match name {
        "priv-admin" => Ok(Some(Privilege::Administrator)),
        "priv-operator" => Ok(Some(Privilege::Operator)),
        "priv-user" => Ok(Some(Privilege::User)),
        "priv-noaccess" => Ok(None),
        other => Err(invalid(format!(
            "privilege {other:?} is not one of {}",
            PRIVILEGES.join(", ")
        ))),
    }
}

fn transcript(
    console_session_id: u32,
    bmc_session_id: u32,
    console_random: &[u8],
    bmc_random: &[u8],
    bmc_guid: &[u8],
    role: u8,
    username: Vec<u8>,
) -> Result<RakpTranscript, CommonError> {
    let sixteen = |bytes: &[u8], what| {
        <[u8; 16]>::try_from(bytes).map_err(|_| invalid(format!("{what} must be 16 bytes")))
    };
    if username.len() > 16 {
        return Err(invalid("a user name has at most 16 bytes"));
    }
    Ok(RakpTranscript {
        console_session_id,
        bmc_session_id,
        console_random: sixteen(console_random, "the console's random number")?,
        bmc_random: sixteen(bmc_random, "the BMC's random number")?,
        bmc_guid: sixteen(bmc_guid, "the GUID")?,
        role,
        username,
    })
}

fn suite(id: u8) -> Result<CipherSuite, CommonError> {
    CipherSuite::by_id(id).ok_or_else(|| invalid(format!("cipher suite {id} is not supported")))
}

pub use authenticator::Authenticator;

// zbus generates an undocumented method for the signal.
#[allow(missing_docs)]
mod authenticator {
    use super::*;

    /// `org.rbmc.Userd.Authenticator`.
    pub struct Authenticator {
        /// The accounts.
        pub accounts: AccountsHandle,
    }

    #[zbus::interface(name = "org.rbmc.Userd.Authenticator")]
    impl Authenticator {
        #[allow(clippy::too_many_arguments)]
        async fn rakp2(
            &self,
            suite_id: u8,
            console_session_id: u32,
            bmc_session_id: u32,
            console_random: Vec<u8>,
            bmc_random: Vec<u8>,
            bmc_guid: Vec<u8>,
            role: u8,
            username: Vec<u8>,
            peer: String,
        ) -> Result<(u8, u8, u8, bool, Vec<u8>), CommonError> {
            let suite = suite(suite_id)?;
            let transcript = transcript(
                console_session_id,
                bmc_session_id,
                &console_random,
                &bmc_random,
                &bmc_guid,
                role,
                username,
            )?;
            let mut decoy = [0u8; 20];
            ring::rand::SystemRandom::new()
                .fill(&mut decoy)
                .map_err(|_| CommonError::InternalFailure("no random numbers".into()))?;
            let answer = self
                .accounts
                .with(move |accounts, lockout, now| {
                    accounts.rakp2(lockout, now, &suite, &transcript, &decoy)
                })
                .await
                .ok_or_else(|| CommonError::Unavailable("the accounts are not available".into()))?;
            Ok(match answer {
                Ok(grant) => (
                    RakpStatus::NO_ERRORS.code(),
                    grant.user_id,
                    grant.privilege_limit.level(),
                    grant.sol_allowed,
                    grant.code,
                ),
                Err(status) => {
                    info!(%peer, %status, "login refused at RAKP 2");
                    (status.code(), 0, 0, false, Vec::new())
                }
            })
        }

        #[allow(clippy::too_many_arguments)]
        async fn rakp3(
            &self,
            suite_id: u8,
            console_session_id: u32,
            bmc_session_id: u32,
            console_random: Vec<u8>,
            bmc_random: Vec<u8>,
            bmc_guid: Vec<u8>,
            role: u8,
            username: Vec<u8>,
            peer: String,
            console_status: u8,
            code: Vec<u8>,
        ) -> Result<(u8, Vec<u8>), CommonError> {
            let suite = suite(suite_id)?;
            let name = String::from_utf8_lossy(&username).into_owned();
            let transcript = transcript(
                console_session_id,
                bmc_session_id,
                &console_random,
                &bmc_random,
                &bmc_guid,
                role,
                username,
            )?;
            let console_status = RakpStatus(console_status);
            let outcome = self
                .accounts
                .with(move |accounts, lockout, now| {
                    accounts.rakp3(lockout, now, &suite, &transcript, console_status, &code)
                })
                .await
                .ok_or_else(|| CommonError::Unavailable("the accounts are not available".into()))?;
            Ok(match outcome {
                Rakp3Outcome::Granted { sik, .. } => (RakpStatus::NO_ERRORS.code(), sik),
                Rakp3Outcome::Refused {
                    status,
                    user_id,
                    reason,
                    locked_now,
                } => {
                    info!(user = %name, %peer, reason = reason.as_str(), "login refused");
                    if locked_now {
                        warn!(user = %name, %peer, "user locked after failed logins");
                        if let Some(id) = user_id {
                            self.accounts
                                .report(Changed {
                                    revoked: Vec::new(),
                                    locked_now: vec![id],
                                })
                                .await;
                        }
                    }
                    (status.code(), Vec::new())
                }
            })
        }

        /// A login with a name and the password itself (Redfish's HTTP
        /// Basic and sessions): `(granted, user ID, privilege limit on the
        /// LAN channel, why refused)`. The same users and lockout as an
        /// RMCP+ login; a locked user is refused whatever the password.
        async fn password_login(
            &self,
            username: String,
            password: String,
            peer: String,
        ) -> Result<(bool, u8, u8, String), CommonError> {
            let name = username.clone();
            let outcome = self
                .accounts
                .with(move |accounts, lockout, now| {
                    accounts.password_login(lockout, now, username.as_bytes(), password.as_bytes())
                })
                .await
                .ok_or_else(|| CommonError::Unavailable("the accounts are not available".into()))?;
            Ok(match outcome {
                Ok(grant) => (
                    true,
                    grant.user_id,
                    grant.privilege_limit.level(),
                    String::new(),
                ),
                Err(refused) => {
                    info!(user = %name, %peer, reason = refused.reason.as_str(), "password login refused");
                    if refused.locked_now {
                        warn!(user = %name, %peer, "user locked after failed logins");
                        if let Some(id) = refused.user_id {
                            self.accounts
                                .report(Changed {
                                    revoked: Vec::new(),
                                    locked_now: vec![id],
                                })
                                .await;
                        }
                    }
                    (false, 0, 0, refused.reason.as_str().to_owned())
                }
            })
        }

        async fn bad_password_threshold(&self) -> Result<Vec<u8>, CommonError> {
            self.accounts
                .with(|accounts, _, _| accounts.policy.bad_password_threshold().to_vec())
                .await
                .ok_or_else(|| CommonError::Unavailable("the accounts are not available".into()))
        }

        async fn set_bad_password_threshold(&self, data: Vec<u8>) -> Result<(), CommonError> {
            self.accounts
                .change(move |accounts, _, _| {
                    accounts
                        .policy
                        .set_bad_password_threshold(&data)
                        .map_err(|cc| format!("LAN parameter 26: completion code {cc}"))
                })
                .await
                .map_err(change_error)
        }

        /// The sessions of this user must end: it was deleted, renamed or
        /// disabled.
        #[zbus(signal)]
        pub(crate) async fn sessions_revoked(
            emitter: &SignalEmitter<'_>,
            user_id: u8,
        ) -> zbus::Result<()>;
    }
}

/// OpenBMC's `xyz.openbmc_project.User.Manager` at the user root.
pub struct Manager {
    /// The accounts.
    pub accounts: AccountsHandle,
}

#[zbus::interface(name = "xyz.openbmc_project.User.Manager")]
impl Manager {
    async fn create_user(
        &self,
        user_name: String,
        group_names: Vec<String>,
        privilege: String,
        enabled: bool,
        #[zbus(connection)] conn: &zbus::Connection,
        #[zbus(header)] header: zbus::message::Header<'_>,
    ) -> Result<(), CommonError> {
        let action = format!("User.Manager.CreateUser {user_name} {privilege}");
        caller::checked(conn, Some(&header), &action, || {
            self.create(user_name, group_names, privilege, enabled)
        })
        .await
    }

    async fn rename_user(
        &self,
        user_name: String,
        new_user_name: String,
        #[zbus(connection)] conn: &zbus::Connection,
        #[zbus(header)] header: zbus::message::Header<'_>,
    ) -> Result<(), CommonError> {
        let action = format!("User.Manager.RenameUser {user_name} {new_user_name}");
        caller::checked(conn, Some(&header), &action, || async {
            flatten(
                self.accounts
                    .change(move |accounts, _, _| {
                        let id = accounts
                            .id_of(user_name.as_bytes())
                            .ok_or(AccountError::NoUser)?;
                        Ok(accounts.rename_user(id, new_user_name.as_bytes()))
                    })
                    .await,
            )
        })
        .await
    }

    #[zbus(property)]
    fn all_privileges(&self) -> Vec<String> {
        PRIVILEGES.iter().map(|p| (*p).to_owned()).collect()
    }

    #[zbus(property)]
    fn all_groups(&self) -> Vec<String> {
        GROUPS.iter().map(|g| (*g).to_owned()).collect()
    }
}

impl Manager {
    async fn create(
        &self,
        user_name: String,
        group_names: Vec<String>,
        privilege: String,
        enabled: bool,
    ) -> Result<(), CommonError> {
        let privilege = parse_privilege(&privilege)?;
        if let Some(unknown) = group_names.iter().find(|g| !GROUPS.contains(&g.as_str())) {
            return Err(invalid(format!("unknown group {unknown:?}")));
        }
        let ipmi = group_names.iter().any(|g| g == "ipmi");
        let sol = group_names.iter().any(|g| g == "hostconsole");
        let id = flatten(
            self.accounts
                .change(move |accounts, _, _| {
                    Ok::<_, AccountError>(accounts.create_user(
                        user_name.as_bytes(),
                        privilege,
                        enabled,
                        ipmi,
                        sol,
                    ))
                })
                .await,
        )?;
        info!(id, "user created over D-Bus");
        Ok(())
    }
}

/// OpenBMC's `xyz.openbmc_project.User.AccountPolicy` at the user root.
pub struct AccountPolicy {
    /// The accounts.
    pub accounts: AccountsHandle,
}

impl AccountPolicy {
    async fn read<T: Send + 'static>(
        &self,
        read: impl FnOnce(&ipmi_accounts::AccountPolicy) -> T + Send + 'static,
    ) -> zbus::fdo::Result<T> {
        self.accounts
            .with(move |accounts, _, _| read(&accounts.policy))
            .await
            .ok_or_else(|| zbus::fdo::Error::Failed("the accounts are not available".into()))
    }

    /// A policy change, by a trusted caller only, audited as `action`.
    async fn write(
        &self,
        conn: &zbus::Connection,
        header: Option<&zbus::message::Header<'_>>,
        action: String,
        write: impl FnOnce(&mut ipmi_accounts::AccountPolicy) -> Result<(), PolicyError>
            + Send
            + 'static,
    ) -> Result<(), CommonError> {
        caller::checked(conn, header, &action, || async {
            self.accounts
                .change(move |accounts, _, _| {
                    write(&mut accounts.policy)?;
                    accounts.policy.validate()
                })
                .await
                .map_err(change_error)
        })
        .await
    }
}

#[zbus::interface(name = "xyz.openbmc_project.User.AccountPolicy")]
impl AccountPolicy {
    #[zbus(property)]
    async fn max_login_attempt_before_lockout(&self) -> zbus::fdo::Result<u16> {
        self.read(|p| u16::from(p.max_failed_logins)).await
    }

    #[zbus(property)]
    async fn set_max_login_attempt_before_lockout(
        &self,
        value: u16,
        #[zbus(connection)] conn: &zbus::Connection,
        #[zbus(header)] header: Option<zbus::message::Header<'_>>,
    ) -> Result<(), CommonError> {
        let action = format!("set MaxLoginAttemptBeforeLockout {value}");
        let Ok(value) = u8::try_from(value) else {
            return Err(CommonError::InvalidArgument(
                "at most 255 (LAN parameter 26)".into(),
            ));
        };
        self.write(conn, header.as_ref(), action, move |p| {
            p.max_failed_logins = value;
            Ok(())
        })
        .await
    }

    #[zbus(property)]
    async fn account_unlock_timeout(&self) -> zbus::fdo::Result<u32> {
        self.read(|p| u32::try_from(p.unlock_timeout.as_secs()).unwrap_or(u32::MAX))
            .await
    }

    #[zbus(property)]
    async fn set_account_unlock_timeout(
        &self,
        value: u32,
        #[zbus(connection)] conn: &zbus::Connection,
        #[zbus(header)] header: Option<zbus::message::Header<'_>>,
    ) -> Result<(), CommonError> {
        let action = format!("set AccountUnlockTimeout {value}");
        self.write(conn, header.as_ref(), action, move |p| {
            p.unlock_timeout = Duration::from_secs(value.into());
            Ok(())
        })
        .await
    }

    #[zbus(property)]
    async fn min_password_length(&self) -> zbus::fdo::Result<u8> {
        self.read(|p| p.min_password_length).await
    }

    #[zbus(property)]
    async fn set_min_password_length(
        &self,
        value: u8,
        #[zbus(connection)] conn: &zbus::Connection,
        #[zbus(header)] header: Option<zbus::message::Header<'_>>,
    ) -> Result<(), CommonError> {
        let action = format!("set MinPasswordLength {value}");
        self.write(conn, header.as_ref(), action, move |p| {
            p.min_password_length = value;
            Ok(())
        })
        .await
    }

    #[zbus(property)]
    async fn remember_old_password_times(&self) -> zbus::fdo::Result<u8> {
        self.read(|p| p.remember_old_passwords).await
    }

    #[zbus(property)]
    async fn set_remember_old_password_times(
        &self,
        value: u8,
        #[zbus(connection)] conn: &zbus::Connection,
        #[zbus(header)] header: Option<zbus::message::Header<'_>>,
    ) -> Result<(), CommonError> {
        let action = format!("set RememberOldPasswordTimes {value}");
        self.write(conn, header.as_ref(), action, move |p| {
            p.remember_old_passwords = value;
            Ok(())
        })
        .await
    }
}

/// Serves the fixed objects.
pub async fn serve_fixed(conn: &zbus::Connection, accounts: &AccountsHandle) -> zbus::Result<()> {
    let server = conn.object_server();
    server
        .at(
            AUTHENTICATOR_PATH,
            Authenticator {
                accounts: accounts.clone(),
            },
        )
        .await?;
    server
        .at(
            USER_ROOT,
            Manager {
                accounts: accounts.clone(),
            },
        )
        .await?;
    server
        .at(
            USER_ROOT,
            AccountPolicy {
                accounts: accounts.clone(),
            },
        )
        .await?;
    server.at(USER_ROOT, zbus::fdo::ObjectManager).await?;
    Ok(())
}
