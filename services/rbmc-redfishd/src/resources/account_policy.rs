//! The AccountService's lockout and password policy (`PATCH` of the
//! AccountService), kept by rbmc-userd: the lockout threshold and duration
//! and the shortest password through OpenBMC's `User.AccountPolicy`, and
//! how long failures are remembered through LAN parameter 26 (the only
//! place it is kept, in tens of seconds). Each value is checked against
//! the bounds parameter 26 puts on it before anything is written.

use rbmc_contracts::user::{AuthenticatorProxy, USER_ROOT};
use redfish_core::ApiError;
use serde_json::{Map, Value};
use tracing::info;

use crate::{
    resources::{
        account_changes::{api_error, refusal, set, MAX_PASSWORD_LENGTH},
        accounts::{self, POLICY},
        body_object,
    },
    service::{Caller, Reply, Request, Service},
};

/// A `PATCH` of the AccountService's policy, checked.
#[derive(Debug, Default, PartialEq)]
struct PolicyChange {
    threshold: Option<u16>,
    duration: Option<u32>,
    reset_after: Option<u32>,
    min_password_length: Option<u8>,
}

fn policy_change(body: &Map<String, Value>) -> Result<PolicyChange, ApiError> {
    let mut change = PolicyChange::default();
    for (key, value) in body {
        match key.as_str() {
            // LAN parameter 26's threshold is one byte.
            "AccountLockoutThreshold" => change.threshold = Some(bounded(value, key, 0, 255)?),
            // Its intervals are 16-bit counts of ten seconds.
            "AccountLockoutDuration" => change.duration = Some(bounded(value, key, 0, 655_350)?),
            "AccountLockoutCounterResetAfter" => {
                change.reset_after = Some(bounded(value, key, 0, 655_350)?);
            }
            "MinPasswordLength" => {
                change.min_password_length =
                    Some(bounded(value, key, 1, MAX_PASSWORD_LENGTH as u64)?);
            }
            k if k.contains('@') => {}
            "Id" | "Name" | "Description" | "ServiceEnabled" | "MaxPasswordLength"
            | "HTTPBasicAuth" | "Accounts" | "Roles" => {
                return Err(ApiError::property_not_writable(key))
            }
            _ => return Err(ApiError::property_unknown(key)),
        }
    }
    if change == PolicyChange::default() {
        return Err(ApiError::no_operation());
    }
    Ok(change)
}

/// A whole number within `min..=max` for `property`.
fn bounded<T: TryFrom<u64>>(
    value: &Value,
    property: &str,
    min: u64,
    max: u64,
) -> Result<T, ApiError> {
    let n = value
        .as_u64()
        .ok_or_else(|| ApiError::property_value_type(&value.to_string(), property))?;
    if !(min..=max).contains(&n) {
        return Err(ApiError::property_value_incorrect(
            property,
            &value.to_string(),
        ));
    }
    T::try_from(n).map_err(|_| ApiError::property_value_incorrect(property, &value.to_string()))
}

/// Redfish's rule for the two intervals: failures are forgotten no later
/// than a lock ends (`AccountLockoutCounterResetAfter` at most
/// `AccountLockoutDuration`, unless the lock lasts until an administrator
/// ends it, 0), checked against the values the change leaves.
async fn check_reset_within_duration(
    service: &Service,
    change: &PolicyChange,
) -> Result<(), ApiError> {
    if change.duration.is_none() && change.reset_after.is_none() {
        return Ok(());
    }
    let current = accounts::service(service).await?;
    let current = |name: &str| {
        current
            .json()
            .and_then(|body| body[name].as_u64())
            .unwrap_or(0)
    };
    let duration = change
        .duration
        .map_or_else(|| current("AccountLockoutDuration"), u64::from);
    let reset_after = change
        .reset_after
        .map_or_else(|| current("AccountLockoutCounterResetAfter"), u64::from);
    if duration > 0 && reset_after > duration {
        let (property, other) = if change.reset_after.is_some() {
            ("AccountLockoutCounterResetAfter", "AccountLockoutDuration")
        } else {
            ("AccountLockoutDuration", "AccountLockoutCounterResetAfter")
        };
        return Err(ApiError::property_value_conflict(property, other));
    }
    Ok(())
}

/// `PATCH /redfish/v1/AccountService`.
pub async fn patch(
    service: &Service,
    caller: &Caller,
    request: &Request,
) -> Result<Reply, ApiError> {
    let change = policy_change(&body_object(&request.body)?)?;
    check_reset_within_duration(service, &change).await?;
    let bus = &service.bus;
    let invalid = |property: &'static str, value: String| {
        move |r| api_error(r, || ApiError::property_value_incorrect(property, &value))
    };
    if let Some(threshold) = change.threshold {
        set(
            bus,
            USER_ROOT,
            POLICY,
            "MaxLoginAttemptBeforeLockout",
            threshold,
        )
        .await
        .map_err(invalid("AccountLockoutThreshold", threshold.to_string()))?;
    }
    if let Some(duration) = change.duration {
        set(bus, USER_ROOT, POLICY, "AccountUnlockTimeout", duration)
            .await
            .map_err(invalid("AccountLockoutDuration", duration.to_string()))?;
    }
    if let Some(length) = change.min_password_length {
        set(bus, USER_ROOT, POLICY, "MinPasswordLength", length)
            .await
            .map_err(invalid("MinPasswordLength", length.to_string()))?;
    }
    if let Some(reset_after) = change.reset_after {
        // Only LAN parameter 26 carries it, in tens of seconds.
        let authenticator = AuthenticatorProxy::new(bus)
            .await
            .map_err(|e| crate::resources::bus_error(&e))?;
        let mut data = authenticator
            .bad_password_threshold()
            .await
            .map_err(|e| api_error(refusal(e), ApiError::internal))?;
        let tens = u16::try_from(reset_after.div_ceil(10)).unwrap_or(u16::MAX);
        if let Some(field) = data.get_mut(2..4) {
            field.copy_from_slice(&tens.to_le_bytes());
        }
        authenticator
            .set_bad_password_threshold(&data)
            .await
            .map_err(|e| {
                api_error(refusal(e), || {
                    ApiError::property_value_incorrect(
                        "AccountLockoutCounterResetAfter",
                        &reset_after.to_string(),
                    )
                })
            })?;
    }
    info!(by = %caller.user, ?change, "account policy changed");
    accounts::service(service).await
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn policy_values_are_bounded_by_lan_parameter_26() {
        let ok = policy_change(&object(json!({
            "AccountLockoutThreshold": 3, "AccountLockoutDuration": 60
        })))
        .unwrap();
        assert_eq!((ok.threshold, ok.duration), (Some(3), Some(60)));
        for bad in [
            json!({"AccountLockoutThreshold": 256}),
            json!({"MinPasswordLength": 0}),
            json!({"MinPasswordLength": 21}),
        ] {
            assert_eq!(
                policy_change(&object(bad)).unwrap_err().messages()[0].name,
                "PropertyValueIncorrect"
            );
        }
        assert_eq!(
            policy_change(&object(json!({"AccountLockoutThreshold": "3"})))
                .unwrap_err()
                .messages()[0]
                .name,
            "PropertyValueTypeError"
        );
    }
}
