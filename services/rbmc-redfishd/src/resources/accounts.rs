//! `AccountService`: the accounts rbmc-userd owns, their roles and the
//! lockout and password policy, read from its user objects
//! (`xyz.openbmc_project.User.Attributes`, one `GetManagedObjects`) and
//! `xyz.openbmc_project.User.AccountPolicy`. A user's role is its
//! privilege on the LAN channel; an account without one (Callback, OEM or
//! none) shows `NoAccess`.

use std::collections::HashMap;

use rbmc_contracts::{
    names,
    user::{AuthenticatorProxy, USER_ROOT},
};
use redfish_core::{ApiError, Role};
use serde_json::{json, Value};
use zbus::zvariant::OwnedValue;

use crate::{
    resources::{bus_error, managed_objects},
    service::{Reply, Service},
};

const SERVICE: &str = "/redfish/v1/AccountService";
/// The Accounts collection.
pub const ACCOUNTS: &str = "/redfish/v1/AccountService/Accounts";
const ROLES: &str = "/redfish/v1/AccountService/Roles";
/// A user's attributes at rbmc-userd.
pub const ATTRIBUTES: &str = "xyz.openbmc_project.User.Attributes";
/// The account policy at rbmc-userd.
pub const POLICY: &str = "xyz.openbmc_project.User.AccountPolicy";

type Properties = HashMap<String, OwnedValue>;

/// The user name an object path under [`USER_ROOT`] carries (the inverse
/// of `rbmc_contracts::user::user_path`: `_` and two hex digits is a byte).
fn user_name(path: &str) -> Option<String> {
    let escaped = path.strip_prefix(USER_ROOT)?.strip_prefix('/')?;
    let mut bytes = Vec::new();
    let mut rest = escaped.as_bytes();
    while let Some((&first, tail)) = rest.split_first() {
        if first == b'_' {
            let hex = std::str::from_utf8(tail.get(..2)?).ok()?;
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
            rest = &tail[2..];
        } else {
            bytes.push(first);
            rest = tail;
        }
    }
    String::from_utf8(bytes).ok()
}

/// Every user with its attributes, by name.
pub async fn users(bus: &zbus::Connection) -> Result<Vec<(String, Properties)>, ApiError> {
    let objects = managed_objects(bus, names::USERD, USER_ROOT).await?;
    let mut users: Vec<(String, Properties)> = objects
        .into_iter()
        .filter_map(|(path, mut interfaces)| {
            let name = user_name(path.as_str())?;
            let attributes = interfaces
                .drain()
                .find(|(interface, _)| interface.as_str() == ATTRIBUTES)?
                .1;
            Some((name, attributes))
        })
        .collect();
    users.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(users)
}

/// The role of OpenBMC's privilege name (`priv-admin`...), if any.
fn role_of(privilege: &str) -> Option<Role> {
    match privilege {
        "priv-admin" => Some(Role::Administrator),
        "priv-operator" => Some(Role::Operator),
        "priv-user" => Some(Role::ReadOnly),
        _ => None,
    }
}

fn text(properties: &Properties, name: &str) -> String {
    properties
        .get(name)
        .and_then(|v| String::try_from(v.try_clone().ok()?).ok())
        .unwrap_or_default()
}

fn groups(properties: &Properties) -> Vec<String> {
    properties
        .get("UserGroups")
        .and_then(|v| Vec::<String>::try_from(v.try_clone().ok()?).ok())
        .unwrap_or_default()
}

fn flag(properties: &Properties, name: &str) -> bool {
    properties
        .get(name)
        .and_then(|v| bool::try_from(&**v).ok())
        .unwrap_or(false)
}

/// `AccountTypes` for the owner's groups: Redfish for every account (a
/// Redfish login needs only a role), IPMI and HostConsole (SOL) as the
/// user's groups say.
fn account_types(groups: &[String]) -> Vec<&'static str> {
    let mut types = vec!["Redfish"];
    if groups.iter().any(|g| g == "ipmi") {
        types.push("IPMI");
    }
    if groups.iter().any(|g| g == "hostconsole") {
        types.push("HostConsole");
    }
    types
}

fn account_json(name: &str, properties: &Properties) -> Value {
    let role = role_of(&text(properties, "UserPrivilege")).map_or("NoAccess", Role::id);
    let mut account = json!({
        "@odata.id": format!("{ACCOUNTS}/{name}"),
        "@odata.type": "#ManagerAccount.v1_14_1.ManagerAccount",
        "Id": name,
        "Name": "User Account",
        "Description": "User Account",
        "UserName": name,
        "RoleId": role,
        "Enabled": flag(properties, "UserEnabled"),
        "Locked": flag(properties, "UserLockedForFailedAttempt"),
        "Password": null,
        "AccountTypes": account_types(&groups(properties)),
    });
    if role != "NoAccess" {
        account["Links"] = json!({ "Role": { "@odata.id": format!("{ROLES}/{role}") } });
    }
    account
}

/// The account policy's properties.
pub async fn policy(bus: &zbus::Connection) -> Result<Properties, ApiError> {
    async {
        zbus::fdo::PropertiesProxy::builder(bus)
            .destination(names::USERD)?
            .path(USER_ROOT)?
            .build()
            .await?
            .get_all(zbus::names::InterfaceName::from_static_str_unchecked(
                POLICY,
            ))
            .await
            .map_err(zbus::Error::from)
    }
    .await
    .map_err(|e| bus_error(&e))
}

/// An unsigned number among `properties` (0 if absent).
pub fn number(properties: &Properties, name: &str) -> u64 {
    properties
        .get(name)
        .and_then(|v| {
            u64::try_from(&**v)
                .ok()
                .or_else(|| u32::try_from(&**v).ok().map(u64::from))
                .or_else(|| u16::try_from(&**v).ok().map(u64::from))
                .or_else(|| u8::try_from(&**v).ok().map(u64::from))
        })
        .unwrap_or(0)
}

/// How long failed logins are remembered: LAN parameter 26's attempt
/// count reset interval (bytes 2-3, tens of seconds), which only the
/// authenticator carries.
async fn counter_reset_after(bus: &zbus::Connection) -> Result<u64, ApiError> {
    let authenticator = AuthenticatorProxy::new(bus)
        .await
        .map_err(|e| bus_error(&e))?;
    let data = authenticator
        .bad_password_threshold()
        .await
        .map_err(|e| match e {
            rbmc_contracts::CommonError::ZBus(e) => bus_error(&e),
            _ => ApiError::internal(),
        })?;
    Ok(data
        .get(2..4)
        .map_or(0, |b| u64::from(u16::from_le_bytes([b[0], b[1]])) * 10))
}

/// `GET /redfish/v1/AccountService`.
pub async fn service(service: &Service) -> Result<Reply, ApiError> {
    let policy = policy(&service.bus).await?;
    let number = |name: &str| number(&policy, name);
    let reset_after = counter_reset_after(&service.bus).await?;
    Ok(Reply::ok(json!({
        "@odata.id": SERVICE,
        "@odata.type": "#AccountService.v1_18_1.AccountService",
        "Id": "AccountService",
        "Name": "Account Service",
        "Description": "Account Service",
        "ServiceEnabled": true,
        "AccountLockoutThreshold": number("MaxLoginAttemptBeforeLockout"),
        "AccountLockoutDuration": number("AccountUnlockTimeout"),
        "AccountLockoutCounterResetAfter": reset_after,
        "MinPasswordLength": number("MinPasswordLength"),
        "MaxPasswordLength": super::account_changes::MAX_PASSWORD_LENGTH,
        "HTTPBasicAuth": "Enabled",
        "Accounts": { "@odata.id": ACCOUNTS },
        "Roles": { "@odata.id": ROLES },
    })))
}

/// `GET` the Accounts collection.
pub async fn collection(service: &Service) -> Result<Reply, ApiError> {
    let members: Vec<Value> = users(&service.bus)
        .await?
        .iter()
        .map(|(name, _)| json!({ "@odata.id": format!("{ACCOUNTS}/{name}") }))
        .collect();
    Ok(Reply::ok(json!({
        "@odata.id": ACCOUNTS,
        "@odata.type": "#ManagerAccountCollection.ManagerAccountCollection",
        "Name": "Accounts Collection",
        "Members@odata.count": members.len(),
        "Members": members,
    })))
}

/// Every account's resource, by `@odata.id`, from one `GetManagedObjects`
/// (for `$expand` of the collection).
pub async fn account_bodies(service: &Service) -> Result<Vec<(String, Value)>, ApiError> {
    Ok(users(&service.bus)
        .await?
        .iter()
        .map(|(name, properties)| (format!("{ACCOUNTS}/{name}"), account_json(name, properties)))
        .collect())
}

/// `GET` one account.
pub async fn account(service: &Service, name: &str) -> Result<Reply, ApiError> {
    users(&service.bus)
        .await?
        .iter()
        .find(|(user, _)| user == name)
        .map(|(user, properties)| Reply::ok(account_json(user, properties)))
        .ok_or_else(|| ApiError::not_found("ManagerAccount", name))
}

/// `GET` the Roles collection.
pub fn roles() -> Reply {
    let members: Vec<Value> = Role::ALL
        .iter()
        .map(|role| json!({ "@odata.id": format!("{ROLES}/{}", role.id()) }))
        .collect();
    Reply::ok(json!({
        "@odata.id": ROLES,
        "@odata.type": "#RoleCollection.RoleCollection",
        "Name": "Roles Collection",
        "Members@odata.count": members.len(),
        "Members": members,
    }))
}

/// `GET` one role.
pub fn role(id: &str) -> Result<Reply, ApiError> {
    let role = Role::from_id(id).ok_or_else(|| ApiError::not_found("Role", id))?;
    let privileges: Vec<&str> = role.privileges().iter().map(|p| p.name()).collect();
    Ok(Reply::ok(json!({
        "@odata.id": format!("{ROLES}/{}", role.id()),
        "@odata.type": "#Role.v1_3_3.Role",
        "Id": role.id(),
        "Name": format!("{} Role", role.id()),
        "RoleId": role.id(),
        "IsPredefined": true,
        "AssignedPrivileges": privileges,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names_come_back_from_their_object_paths() {
        for name in ["admin", "bob2", "dot.name", "under_score"] {
            let path = rbmc_contracts::user::user_path(name);
            assert_eq!(user_name(&path).as_deref(), Some(name), "{path}");
        }
        assert_eq!(user_name("/elsewhere/admin"), None);
        assert_eq!(user_name(&format!("{USER_ROOT}/bad_z")), None);
    }
}
