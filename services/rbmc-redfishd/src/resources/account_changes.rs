//! Changes to the AccountService, each made by rbmc-userd, the accounts'
//! owner: creating an account (`POST` to `Accounts`), changing one
//! (`PATCH`: password, role, enabled, unlock, rename) and deleting one.
//! The lockout and password policy is `account_policy`'s.
//!
//! Each request is checked whole (unknown and read-only properties, types,
//! allowed values, the password's length) before the owner is asked for
//! anything, so a refused request changes nothing. A new account is
//! created disabled and gets its password before it is enabled; if the
//! password is refused the account is deleted again.

use std::time::{Duration, Instant};

use hyper::{header, StatusCode};
use rbmc_contracts::{
    names,
    user::{user_path, USER_ROOT},
    CommonError,
};
use redfish_core::{ApiError, Privilege};
use serde_json::{Map, Value};
use tracing::{info, warn};

use crate::{
    resources::{
        accounts::{self, ACCOUNTS, ATTRIBUTES},
        body_object,
    },
    service::{Caller, Reply, Request, Service},
};

/// The longest password an account can have (IPMI's 20-byte form).
pub const MAX_PASSWORD_LENGTH: usize = 20;
/// How long a new account's object may take to appear at the owner.
const OBJECT_WAIT: Duration = Duration::from_secs(2);

/// OpenBMC's privilege for a Redfish `RoleId`.
fn privilege_of(role_id: &str) -> Option<&'static str> {
    Some(match role_id {
        "Administrator" => "priv-admin",
        "Operator" => "priv-operator",
        "ReadOnly" => "priv-user",
        "NoAccess" => "priv-noaccess",
        _ => return None,
    })
}

fn text<'a>(value: &'a Value, property: &str) -> Result<&'a str, ApiError> {
    value
        .as_str()
        .ok_or_else(|| ApiError::property_value_type(&value.to_string(), property))
}

fn boolean(value: &Value, property: &str) -> Result<bool, ApiError> {
    value
        .as_bool()
        .ok_or_else(|| ApiError::property_value_type(&value.to_string(), property))
}

fn role(value: &Value) -> Result<&'static str, ApiError> {
    let role_id = text(value, "RoleId")?;
    privilege_of(role_id).ok_or_else(|| ApiError::property_value_not_in_list(role_id, "RoleId"))
}

/// A password's length against the policy (the owner checks the rest:
/// reuse, its own rules). A refusal never echoes the password.
fn check_password_length(password: &str, min: usize) -> Result<(), ApiError> {
    if password.len() < min || password.len() > MAX_PASSWORD_LENGTH {
        return Err(ApiError::property_value_format("<hidden>", "Password"));
    }
    Ok(())
}

/// A `POST` to `Accounts`, checked.
#[derive(Debug, PartialEq)]
struct NewAccount {
    name: String,
    password: String,
    privilege: &'static str,
    enabled: bool,
    groups: Vec<&'static str>,
}

fn new_account(body: &Map<String, Value>) -> Result<NewAccount, ApiError> {
    let (mut name, mut password, mut privilege) = (None, None, None);
    let mut enabled = true;
    let mut groups = vec!["redfish", "ipmi"];
    for (key, value) in body {
        match key.as_str() {
            "UserName" => name = Some(text(value, key)?.to_owned()),
            "Password" => password = Some(text(value, key)?.to_owned()),
            "RoleId" => privilege = Some(role(value)?),
            "Enabled" => enabled = boolean(value, key)?,
            "AccountTypes" => groups = account_groups(value)?,
            k if k.contains('@') => {}
            "Id" | "Name" | "Description" | "Locked" | "Links" | "PasswordChangeRequired" => {
                return Err(ApiError::property_not_writable(key))
            }
            _ => return Err(ApiError::property_unknown(key)),
        }
    }
    Ok(NewAccount {
        name: name.ok_or_else(|| ApiError::property_missing("UserName"))?,
        password: password.ok_or_else(|| ApiError::property_missing("Password"))?,
        privilege: privilege.ok_or_else(|| ApiError::property_missing("RoleId"))?,
        enabled,
        groups,
    })
}

/// The owner's groups for `AccountTypes`: Redfish is always allowed (and
/// must be asked for), IPMI and HostConsole (SOL) on request.
fn account_groups(value: &Value) -> Result<Vec<&'static str>, ApiError> {
    let types = value
        .as_array()
        .ok_or_else(|| ApiError::property_value_type(&value.to_string(), "AccountTypes"))?;
    let mut groups = vec!["redfish"];
    let mut redfish = false;
    for account_type in types {
        match text(account_type, "AccountTypes")? {
            "Redfish" => redfish = true,
            "IPMI" => groups.push("ipmi"),
            "HostConsole" => groups.push("hostconsole"),
            other => return Err(ApiError::property_value_not_in_list(other, "AccountTypes")),
        }
    }
    if !redfish {
        return Err(ApiError::property_value_incorrect(
            "AccountTypes",
            &value.to_string(),
        ));
    }
    Ok(groups)
}

/// A `PATCH` of an account, checked.
#[derive(Debug, Default, PartialEq)]
struct AccountChange {
    new_name: Option<String>,
    password: Option<String>,
    privilege: Option<&'static str>,
    enabled: Option<bool>,
    unlock: bool,
}

impl AccountChange {
    /// Whether it changes only the password (which a user may do to their
    /// own account with ConfigureSelf).
    fn only_password(&self) -> bool {
        self.password.is_some()
            && self.new_name.is_none()
            && self.privilege.is_none()
            && self.enabled.is_none()
            && !self.unlock
    }
}

fn account_change(body: &Map<String, Value>) -> Result<AccountChange, ApiError> {
    let mut change = AccountChange::default();
    for (key, value) in body {
        match key.as_str() {
            "UserName" => change.new_name = Some(text(value, key)?.to_owned()),
            "Password" => change.password = Some(text(value, key)?.to_owned()),
            "RoleId" => change.privilege = Some(role(value)?),
            "Enabled" => change.enabled = Some(boolean(value, key)?),
            // Only an administrator's unlock: a lock comes from failures.
            "Locked" => {
                if boolean(value, key)? {
                    return Err(ApiError::property_value_not_in_list("true", key));
                }
                change.unlock = true;
            }
            k if k.contains('@') => {}
            "Id" | "Name" | "Description" | "Links" | "AccountTypes" | "PasswordChangeRequired" => {
                return Err(ApiError::property_not_writable(key))
            }
            _ => return Err(ApiError::property_unknown(key)),
        }
    }
    if change == AccountChange::default() {
        return Err(ApiError::no_operation());
    }
    Ok(change)
}

/// How the owner refused, in its terms.
#[derive(Debug, PartialEq)]
pub(super) enum Refusal {
    /// The value breaks one of its rules (says which).
    Invalid(String),
    /// No such user (or its object is not there yet).
    NoObject,
    /// Every user slot is taken.
    Full,
    /// The change could not be stored: the disk is full.
    NoSpace,
    /// Anything else, for the log.
    Failed(String),
}

pub(super) fn refusal(err: CommonError) -> Refusal {
    match err {
        CommonError::InvalidArgument(why) => Refusal::Invalid(why),
        CommonError::ResourceNotFound(_) => Refusal::NoObject,
        CommonError::TooManyResources(_) => Refusal::Full,
        CommonError::QuotaExceeded(_) => Refusal::NoSpace,
        // A property `Set` comes back in the bus's own error names.
        CommonError::ZBus(zbus::Error::MethodError(name, why, _)) => match name.as_str() {
            "org.freedesktop.DBus.Error.InvalidArgs" => Refusal::Invalid(why.unwrap_or_default()),
            "org.freedesktop.DBus.Error.UnknownObject"
            | "org.freedesktop.DBus.Error.UnknownInterface"
            | "org.freedesktop.DBus.Error.UnknownMethod" => Refusal::NoObject,
            "org.freedesktop.DBus.Error.LimitsExceeded" => Refusal::NoSpace,
            other => Refusal::Failed(format!("{other}: {}", why.unwrap_or_default())),
        },
        other => Refusal::Failed(other.to_string()),
    }
}

/// A refusal as the client sees it; `invalid` says which property an
/// `Invalid` is about.
pub(super) fn api_error(refused: Refusal, invalid: impl FnOnce() -> ApiError) -> ApiError {
    match refused {
        Refusal::Invalid(why) => {
            info!(%why, "the accounts owner refused a change");
            invalid()
        }
        Refusal::NoObject => ApiError::not_found("ManagerAccount", ""),
        Refusal::Full => ApiError::create_limit(),
        Refusal::NoSpace => ApiError::insufficient_storage(),
        Refusal::Failed(why) => {
            warn!(%why, "the accounts owner failed a change");
            ApiError::internal()
        }
    }
}

pub(super) async fn call<B>(
    bus: &zbus::Connection,
    path: &str,
    interface: &str,
    method: &str,
    body: &B,
) -> Result<(), Refusal>
where
    B: serde::Serialize + zbus::zvariant::DynamicType,
{
    bus.call_method(Some(names::USERD), path, Some(interface), method, body)
        .await
        .map(|_| ())
        .map_err(|e| refusal(CommonError::from(e)))
}

pub(super) async fn set<V>(
    bus: &zbus::Connection,
    path: &str,
    interface: &str,
    property: &str,
    value: V,
) -> Result<(), Refusal>
where
    V: Into<zbus::zvariant::Value<'static>>,
{
    let value = value.into();
    call(
        bus,
        path,
        "org.freedesktop.DBus.Properties",
        "Set",
        &(interface, property, &value),
    )
    .await
}

/// Sets a password, waiting up to [`OBJECT_WAIT`] for a new user's object
/// to appear at the owner.
async fn set_password(bus: &zbus::Connection, path: &str, password: &str) -> Result<(), Refusal> {
    let deadline = Instant::now() + OBJECT_WAIT;
    loop {
        match call(
            bus,
            path,
            "org.rbmc.User.Password",
            "SetPassword",
            &password,
        )
        .await
        {
            Err(Refusal::NoObject) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            done => return done,
        }
    }
}

/// The policy's shortest password.
async fn min_password_length(bus: &zbus::Connection) -> Result<usize, ApiError> {
    let policy = accounts::policy(bus).await?;
    Ok(usize::try_from(accounts::number(&policy, "MinPasswordLength")).unwrap_or(1))
}

/// `POST /redfish/v1/AccountService/Accounts`.
pub async fn create(
    service: &Service,
    caller: &Caller,
    request: &Request,
) -> Result<Reply, ApiError> {
    let account = new_account(&body_object(&request.body)?)?;
    let bus = &service.bus;
    check_password_length(&account.password, min_password_length(bus).await?)?;
    if accounts::users(bus)
        .await?
        .iter()
        .any(|(name, _)| *name == account.name)
    {
        return Err(ApiError::already_exists(
            "ManagerAccount",
            "UserName",
            &account.name,
        ));
    }
    let groups: Vec<String> = account.groups.iter().map(|g| (*g).to_owned()).collect();
    call(
        bus,
        USER_ROOT,
        "xyz.openbmc_project.User.Manager",
        "CreateUser",
        &(&account.name, &groups, account.privilege, false),
    )
    .await
    .map_err(|r| {
        api_error(r, || {
            ApiError::property_value_format(&account.name, "UserName")
        })
    })?;
    let path = user_path(&account.name);
    let finished = async {
        set_password(bus, &path, &account.password)
            .await
            .map_err(|r| {
                api_error(r, || {
                    ApiError::property_value_format("<hidden>", "Password")
                })
            })?;
        if account.enabled {
            set(bus, &path, ATTRIBUTES, "UserEnabled", true)
                .await
                .map_err(|r| api_error(r, ApiError::internal))?;
        }
        Ok::<(), ApiError>(())
    }
    .await;
    if let Err(err) = finished {
        // Leave no half-made account behind.
        if let Err(undo) = call(
            bus,
            &path,
            "xyz.openbmc_project.Object.Delete",
            "Delete",
            &(),
        )
        .await
        {
            warn!(user = %account.name, ?undo, "a half-made account could not be deleted");
        }
        return Err(err);
    }
    info!(by = %caller.user, user = %account.name, privilege = account.privilege, "account created");
    let location = format!("{ACCOUNTS}/{}", account.name);
    service.events.resource("ResourceCreated", &location);
    let created = accounts::account(service, &account.name).await?;
    Ok(created
        .with_status_code(StatusCode::CREATED)
        .with_header(header::LOCATION, &location))
}

/// `PATCH` one account: ConfigureUsers, or ConfigureSelf for one's own
/// password alone.
pub async fn patch(
    service: &Service,
    caller: &Caller,
    name: &str,
    request: &Request,
) -> Result<Reply, ApiError> {
    let change = account_change(&body_object(&request.body)?)?;
    let own_password = caller.user == name && change.only_password();
    let needed = if own_password {
        Privilege::ConfigureSelf
    } else {
        Privilege::ConfigureUsers
    };
    if !caller.role.has(needed) {
        return Err(ApiError::insufficient_privilege());
    }
    let bus = &service.bus;
    if !accounts::users(bus)
        .await?
        .iter()
        .any(|(user, _)| user == name)
    {
        return Err(ApiError::not_found("ManagerAccount", name));
    }
    if let Some(password) = &change.password {
        check_password_length(password, min_password_length(bus).await?)?;
    }
    if let Some(new_name) = &change.new_name {
        if new_name != name
            && accounts::users(bus)
                .await?
                .iter()
                .any(|(user, _)| user == new_name)
        {
            return Err(ApiError::already_exists(
                "ManagerAccount",
                "UserName",
                new_name,
            ));
        }
    }
    let path = user_path(name);
    // The password first: it is the change the owner is likeliest to
    // refuse (reuse), and then nothing else has changed.
    if let Some(password) = &change.password {
        set_password(bus, &path, password).await.map_err(|r| {
            api_error(r, || {
                ApiError::property_value_format("<hidden>", "Password")
            })
        })?;
    }
    if let Some(privilege) = change.privilege {
        set(bus, &path, ATTRIBUTES, "UserPrivilege", privilege)
            .await
            .map_err(|r| {
                api_error(r, || {
                    ApiError::property_value_incorrect("RoleId", privilege)
                })
            })?;
        // A session carries its role: the user logs in again.
        service.end_sessions_of(name);
    }
    if let Some(enabled) = change.enabled {
        set(bus, &path, ATTRIBUTES, "UserEnabled", enabled)
            .await
            .map_err(|r| api_error(r, ApiError::internal))?;
    }
    if change.unlock {
        set(bus, &path, ATTRIBUTES, "UserLockedForFailedAttempt", false)
            .await
            .map_err(|r| api_error(r, ApiError::internal))?;
    }
    if let Some(new_name) = change.new_name.as_deref().filter(|n| *n != name) {
        call(
            bus,
            USER_ROOT,
            "xyz.openbmc_project.User.Manager",
            "RenameUser",
            &(name, new_name),
        )
        .await
        .map_err(|r| api_error(r, || ApiError::property_value_format(new_name, "UserName")))?;
    }
    info!(by = %caller.user, user = name, ?change.privilege, ?change.enabled, unlock = change.unlock,
          password = change.password.is_some(), renamed = ?change.new_name, "account changed");
    service
        .events
        .resource("ResourceChanged", &format!("{ACCOUNTS}/{name}"));
    Ok(Reply::empty(StatusCode::NO_CONTENT))
}

/// `DELETE` one account.
pub async fn delete(service: &Service, caller: &Caller, name: &str) -> Result<Reply, ApiError> {
    let bus = &service.bus;
    if !accounts::users(bus)
        .await?
        .iter()
        .any(|(user, _)| user == name)
    {
        return Err(ApiError::not_found("ManagerAccount", name));
    }
    call(
        bus,
        &user_path(name),
        "xyz.openbmc_project.Object.Delete",
        "Delete",
        &(),
    )
    .await
    .map_err(|r| match r {
        Refusal::Invalid(_) => {
            ApiError::new(409, vec![redfish_core::Message::new("OperationNotAllowed")])
        }
        other => api_error(other, ApiError::internal),
    })?;
    service.end_sessions_of(name);
    info!(by = %caller.user, user = name, "account deleted");
    service
        .events
        .resource("ResourceRemoved", &format!("{ACCOUNTS}/{name}"));
    Ok(Reply::empty(StatusCode::NO_CONTENT))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn a_new_account_needs_a_name_a_password_and_a_role() {
        let ok = new_account(&object(json!({
            "UserName": "op1", "Password": "op1-password", "RoleId": "Operator"
        })))
        .unwrap();
        assert_eq!(ok.privilege, "priv-operator");
        assert!(ok.enabled);
        assert_eq!(ok.groups, ["redfish", "ipmi"]);
        let missing = new_account(&object(json!({"UserName": "x", "Password": "y"}))).unwrap_err();
        assert_eq!(missing.messages()[0].name, "PropertyMissing");
        let bad_role = new_account(&object(json!({
            "UserName": "x", "Password": "y", "RoleId": "Root"
        })))
        .unwrap_err();
        assert_eq!(bad_role.messages()[0].name, "PropertyValueNotInList");
        let locked = new_account(&object(json!({"UserName": "x", "Locked": true}))).unwrap_err();
        assert_eq!(locked.messages()[0].name, "PropertyNotWritable");
        let only_sol = new_account(&object(json!({
            "UserName": "x", "Password": "y", "RoleId": "ReadOnly",
            "AccountTypes": ["Redfish", "HostConsole"]
        })))
        .unwrap();
        assert_eq!(only_sol.groups, ["redfish", "hostconsole"]);
    }

    #[test]
    fn an_account_change_is_checked_whole() {
        let change = account_change(&object(json!({"Password": "new-password-1"}))).unwrap();
        assert!(change.only_password());
        let more =
            account_change(&object(json!({"Password": "p", "RoleId": "Administrator"}))).unwrap();
        assert!(!more.only_password());
        assert_eq!(
            account_change(&object(json!({"Locked": true})))
                .unwrap_err()
                .messages()[0]
                .name,
            "PropertyValueNotInList"
        );
        assert!(
            account_change(&object(json!({"Locked": false})))
                .unwrap()
                .unlock
        );
        assert_eq!(
            account_change(&object(json!({"Id": "x"})))
                .unwrap_err()
                .messages()[0]
                .name,
            "PropertyNotWritable"
        );
        assert_eq!(
            account_change(&object(json!({"Shoe": 1})))
                .unwrap_err()
                .messages()[0]
                .name,
            "PropertyUnknown"
        );
        assert_eq!(
            account_change(&object(json!({}))).unwrap_err().messages()[0].name,
            "NoOperation"
        );
    }

    #[test]
    fn a_password_refusal_never_echoes_it() {
        let err = check_password_length("short", 8).unwrap_err();
        assert!(!err.body().to_string().contains("short"));
        assert!(check_password_length(&"x".repeat(21), 1).is_err());
        assert!(check_password_length("long-enough", 8).is_ok());
    }

    #[test]
    fn owner_errors_keep_their_meaning() {
        assert_eq!(
            refusal(CommonError::TooManyResources("full".into())),
            Refusal::Full
        );
        assert_eq!(
            refusal(CommonError::InvalidArgument("too short".into())),
            Refusal::Invalid("too short".into())
        );
        assert_eq!(
            api_error(Refusal::NoSpace, ApiError::internal).status(),
            507
        );
    }
}
