//! One object per user, at `/xyz/openbmc_project/user/<name>`:
//! `xyz.openbmc_project.User.Attributes`, `xyz.openbmc_project.Object.Delete`
//! and `org.rbmc.User.Password`. `follow` adds and removes them as users
//! come and go; each reaches the accounts through the owner task. Each
//! change is allowed only to a trusted caller (`rbmc_daemon::caller`:
//! root, userd's own user, the Redfish bridge) and is recorded in the
//! audit trail with the caller's uid.

use ipmi_accounts::{accounts::AccountError, users::PAYLOAD_SOL};
use rbmc_contracts::CommonError;
use tracing::info;
use zbus::message::Header;

use rbmc_daemon::caller;

use crate::{
    dbus::{change_error, flatten, parse_privilege, privilege_name},
    owner::AccountsHandle,
};

/// One user's object: `xyz.openbmc_project.User.Attributes`.
pub struct UserAttributes {
    /// The user's ID.
    pub id: u8,
    /// The accounts.
    pub accounts: AccountsHandle,
}

impl UserAttributes {
    async fn user<T: Send + 'static>(
        &self,
        read: impl FnOnce(&ipmi_accounts::users::UserRecord, u8) -> T + Send + 'static,
    ) -> zbus::fdo::Result<T> {
        let id = self.id;
        self.accounts
            .with(move |accounts, _, _| {
                accounts
                    .users
                    .get(id)
                    .map(|record| read(record, accounts.channel))
            })
            .await
            .flatten()
            .ok_or_else(|| zbus::fdo::Error::UnknownObject("no such user".into()))
    }
}

#[zbus::interface(name = "xyz.openbmc_project.User.Attributes")]
impl UserAttributes {
    #[zbus(property)]
    async fn user_groups(&self) -> zbus::fdo::Result<Vec<String>> {
        self.user(|record, channel| {
            let mut groups = Vec::new();
            if record
                .access
                .get(&channel)
                .is_some_and(|a| a.ipmi_messaging)
            {
                groups.push("ipmi".to_owned());
            }
            if record
                .payloads
                .get(&channel)
                .is_some_and(|p| p & PAYLOAD_SOL != 0)
            {
                groups.push("hostconsole".to_owned());
            }
            groups
        })
        .await
    }

    #[zbus(property)]
    async fn user_privilege(&self) -> zbus::fdo::Result<String> {
        self.user(|record, channel| {
            privilege_name(record.access.get(&channel).and_then(|a| a.privilege_limit)).to_owned()
        })
        .await
    }

    #[zbus(property)]
    async fn set_user_privilege(
        &self,
        value: String,
        #[zbus(connection)] conn: &zbus::Connection,
        #[zbus(header)] header: Option<Header<'_>>,
    ) -> Result<(), CommonError> {
        let id = self.id;
        let action = format!("set UserPrivilege {value} user {id}");
        caller::checked(conn, header.as_ref(), &action, || async {
            let privilege = parse_privilege(&value)?;
            self.accounts
                .change(move |accounts, _, _| accounts.set_privilege(id, privilege))
                .await
                .map_err(change_error)
        })
        .await
    }

    #[zbus(property)]
    async fn user_enabled(&self) -> zbus::fdo::Result<bool> {
        self.user(|record, _| record.enabled == Some(true)).await
    }

    #[zbus(property)]
    async fn set_user_enabled(
        &self,
        value: bool,
        #[zbus(connection)] conn: &zbus::Connection,
        #[zbus(header)] header: Option<Header<'_>>,
    ) -> Result<(), CommonError> {
        let id = self.id;
        let action = format!("set UserEnabled {value} user {id}");
        caller::checked(conn, header.as_ref(), &action, || async {
            self.accounts
                .change(move |accounts, _, _| accounts.set_enabled(id, value))
                .await
                .map_err(change_error)
        })
        .await
    }

    #[zbus(property)]
    async fn user_locked_for_failed_attempt(&self) -> zbus::fdo::Result<bool> {
        let id = self.id;
        self.accounts
            .with(move |_, lockout, now| lockout.is_locked(id, now))
            .await
            .ok_or_else(|| zbus::fdo::Error::Failed("the accounts are not available".into()))
    }

    /// Only `false` may be written: an administrator's unlock.
    #[zbus(property)]
    async fn set_user_locked_for_failed_attempt(
        &self,
        value: bool,
        #[zbus(connection)] conn: &zbus::Connection,
        #[zbus(header)] header: Option<Header<'_>>,
    ) -> Result<(), CommonError> {
        let id = self.id;
        let action = format!("set UserLockedForFailedAttempt {value} user {id}");
        caller::checked(conn, header.as_ref(), &action, || async {
            if value {
                return Err(CommonError::InvalidArgument(
                    "a user is locked only by failed logins; write false to unlock".into(),
                ));
            }
            self.accounts
                .change(move |_, lockout, now| {
                    lockout.unlock(id, now);
                    Ok::<(), AccountError>(())
                })
                .await
                .map_err(change_error)
        })
        .await
    }

    #[zbus(property)]
    fn remote_user(&self) -> bool {
        false
    }

    #[zbus(property)]
    fn user_password_expired(&self) -> bool {
        false
    }
}

/// `xyz.openbmc_project.Object.Delete` on a user's object.
pub struct DeleteUser {
    /// The user's ID.
    pub id: u8,
    /// The accounts.
    pub accounts: AccountsHandle,
}

#[zbus::interface(name = "xyz.openbmc_project.Object.Delete")]
impl DeleteUser {
    async fn delete(
        &self,
        #[zbus(connection)] conn: &zbus::Connection,
        #[zbus(header)] header: Header<'_>,
    ) -> Result<(), CommonError> {
        let id = self.id;
        caller::checked(
            conn,
            Some(&header),
            &format!("Object.Delete user {id}"),
            || async {
                flatten(
                    self.accounts
                        .change(move |accounts, lockout, now| {
                            lockout.unlock(id, now);
                            Ok(accounts.delete_user(id))
                        })
                        .await,
                )
            },
        )
        .await?;
        info!(id, "user deleted over D-Bus");
        Ok(())
    }
}

/// `org.rbmc.User.Password` on a user's object.
pub struct UserPassword {
    /// The user's ID.
    pub id: u8,
    /// The accounts.
    pub accounts: AccountsHandle,
}

#[zbus::interface(name = "org.rbmc.User.Password")]
impl UserPassword {
    /// Sets the password after the policy's checks (`InvalidArgument`
    /// names the rule it breaks, never the password).
    async fn set_password(
        &self,
        password: String,
        #[zbus(connection)] conn: &zbus::Connection,
        #[zbus(header)] header: Header<'_>,
    ) -> Result<(), CommonError> {
        let id = self.id;
        let action = format!("User.Password.SetPassword user {id}");
        caller::checked(conn, Some(&header), &action, || async {
            self.accounts
                .change(move |accounts, _, _| accounts.set_password(id, password.as_bytes(), false))
                .await
                .map_err(change_error)
        })
        .await
    }
}
