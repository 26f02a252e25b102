//! The host as `Systems/system`: its power state (rbmc-powerd's
//! `State.Host`), `ComputerSystem.Reset` (its host and chassis
//! transitions, and NMI) and the boot override (its `Control.Boot.*`
//! objects, the same IPMI boot flags `chassis bootparam` shows).

use hyper::StatusCode;
use rbmc_contracts::{
    control::{BootModeProxy, BootOneTimeProxy, BootSourceProxy, BootTypeProxy, NmiProxy},
    state::{ChassisProxy, HostProxy},
};
use redfish_core::ApiError;
use serde_json::{json, Map, Value};
use tracing::info;

use crate::{
    resources::{body_object, bus_error},
    service::{Caller, Reply, Request, Service},
};

/// The system's `Id`.
pub const SYSTEM: &str = "system";
const PATH: &str = "/redfish/v1/Systems/system";
const RESET: &str = "ComputerSystem.Reset";

/// The reset types offered, and what each asks of rbmc-powerd.
const RESET_TYPES: [&str; 7] = [
    "On",
    "ForceOff",
    "GracefulShutdown",
    "GracefulRestart",
    "ForceRestart",
    "PowerCycle",
    "Nmi",
];

/// Boot override targets, with the OpenBMC source and mode each is.
const TARGETS: [(&str, &str, &str); 7] = [
    ("None", "Default", "Regular"),
    ("Pxe", "Network", "Regular"),
    ("Hdd", "Disk", "Regular"),
    ("Cd", "ExternalMedia", "Regular"),
    ("Usb", "RemovableMedia", "Regular"),
    ("BiosSetup", "Default", "Setup"),
    ("Diags", "Default", "Safe"),
];

const HOST_STATE: &str = "xyz.openbmc_project.State.Host.HostState.";
const SOURCES: &str = "xyz.openbmc_project.Control.Boot.Source.Sources.";
const MODES: &str = "xyz.openbmc_project.Control.Boot.Mode.Modes.";
const TYPES: &str = "xyz.openbmc_project.Control.Boot.Type.Types.";

/// `GET /redfish/v1/Systems`.
pub fn collection() -> Reply {
    Reply::ok(json!({
        "@odata.id": "/redfish/v1/Systems",
        "@odata.type": "#ComputerSystemCollection.ComputerSystemCollection",
        "Name": "Computer System Collection",
        "Members@odata.count": 1,
        "Members": [{ "@odata.id": PATH }],
    }))
}

/// Redfish's `PowerState` for OpenBMC's host state.
fn power_state(host_state: &str) -> &'static str {
    match host_state.strip_prefix(HOST_STATE) {
        Some("Running" | "Quiesced" | "DiagnosticMode") => "On",
        Some("TransitioningToRunning") => "PoweringOn",
        Some("TransitioningToOff") => "PoweringOff",
        _ => "Off",
    }
}

/// The boot override as Redfish says it.
struct Boot {
    target: &'static str,
    enabled: &'static str,
    mode: &'static str,
}

async fn read_boot(bus: &zbus::Connection) -> zbus::Result<Boot> {
    let source = BootSourceProxy::new(bus).await?.boot_source().await?;
    let mode = BootModeProxy::new(bus).await?.boot_mode().await?;
    let efi = BootTypeProxy::new(bus).await?.boot_type().await? == format!("{TYPES}EFI");
    let one_time = BootOneTimeProxy::new(bus).await?.enabled().await?;
    let (source, mode) = (
        source.strip_prefix(SOURCES).unwrap_or_default(),
        mode.strip_prefix(MODES).unwrap_or_default(),
    );
    let target = TARGETS
        .iter()
        .find(|(_, s, m)| *s == source && *m == mode)
        .or_else(|| TARGETS.iter().find(|(_, s, _)| *s == source))
        .map_or("None", |(target, _, _)| *target);
    let enabled = match (target, one_time) {
        ("None", _) => "Disabled",
        (_, true) => "Once",
        (_, false) => "Continuous",
    };
    Ok(Boot {
        target,
        enabled,
        mode: if efi { "UEFI" } else { "Legacy" },
    })
}

/// `GET /redfish/v1/Systems/system`.
pub async fn get(service: &Service) -> Result<Reply, ApiError> {
    let bus = &service.bus;
    let host_state = async { HostProxy::new(bus).await?.current_host_state().await }
        .await
        .map_err(|e| bus_error(&e))?;
    let boot = read_boot(bus).await.map_err(|e| bus_error(&e))?;
    let targets: Vec<&str> = TARGETS.iter().map(|(t, _, _)| *t).collect();
    Ok(Reply::ok(json!({
        "@odata.id": PATH,
        "@odata.type": "#ComputerSystem.v1_28_0.ComputerSystem",
        "Id": SYSTEM,
        "Name": "System",
        "SystemType": "Physical",
        "PowerState": power_state(&host_state),
        "Status": { "State": "Enabled", "Health": "OK" },
        "Boot": {
            "BootSourceOverrideTarget": boot.target,
            "BootSourceOverrideTarget@Redfish.AllowableValues": targets,
            "BootSourceOverrideEnabled": boot.enabled,
            "BootSourceOverrideMode": boot.mode,
        },
        "LogServices": { "@odata.id": format!("{PATH}/LogServices") },
        "Links": {
            "Chassis": [{ "@odata.id": "/redfish/v1/Chassis/chassis" }],
        },
        "Actions": {
            "#ComputerSystem.Reset": {
                "target": format!("{PATH}/Actions/{RESET}"),
                "@Redfish.ActionInfo": format!("{PATH}/ResetActionInfo"),
            }
        },
    })))
}

/// `GET /redfish/v1/Systems/system/ResetActionInfo`.
pub fn reset_action_info() -> Reply {
    Reply::ok(json!({
        "@odata.id": format!("{PATH}/ResetActionInfo"),
        "@odata.type": "#ActionInfo.v1_6_0.ActionInfo",
        "Id": "ResetActionInfo",
        "Name": "Reset Action Info",
        "Parameters": [{
            "Name": "ResetType",
            "Required": true,
            "DataType": "String",
            "AllowableValues": RESET_TYPES,
        }],
    }))
}

/// `POST .../Actions/ComputerSystem.Reset`.
pub async fn reset(
    service: &Service,
    caller: &Caller,
    request: &Request,
) -> Result<Reply, ApiError> {
    let body = body_object(&request.body)?;
    if let Some(unknown) = body.keys().find(|k| *k != "ResetType" && !k.contains('@')) {
        return Err(ApiError::action_parameter_unknown(RESET, unknown));
    }
    let reset_type = match body.get("ResetType") {
        Some(Value::String(value)) => value.as_str(),
        Some(other) => {
            return Err(ApiError::action_parameter_value_not_in_list(
                &other.to_string(),
                "ResetType",
                RESET,
            ))
        }
        None => return Err(ApiError::action_parameter_missing(RESET, "ResetType")),
    };
    let bus = &service.bus;
    let host = |transition: &'static str| async move {
        HostProxy::new(bus)
            .await?
            .set_requested_host_transition(&format!(
                "xyz.openbmc_project.State.Host.Transition.{transition}"
            ))
            .await
    };
    let chassis = |transition: &'static str| async move {
        ChassisProxy::new(bus)
            .await?
            .set_requested_power_transition(&format!(
                "xyz.openbmc_project.State.Chassis.Transition.{transition}"
            ))
            .await
    };
    let done = match reset_type {
        "On" => host("On").await,
        "ForceOff" => chassis("Off").await,
        "GracefulShutdown" => host("Off").await,
        "GracefulRestart" => host("GracefulWarmReboot").await,
        "ForceRestart" => host("ForceWarmReboot").await,
        "PowerCycle" => chassis("PowerCycle").await,
        "Nmi" => {
            let proxy = NmiProxy::new(bus).await.map_err(|e| bus_error(&e))?;
            let done = proxy.nmi().await;
            info!(user = %caller.user, reset_type, ok = done.is_ok(), "ComputerSystem.Reset");
            done.map_err(|e| common_error(&e))?;
            return Ok(Reply::empty(StatusCode::NO_CONTENT));
        }
        other => {
            return Err(ApiError::action_parameter_value_not_in_list(
                other,
                "ResetType",
                RESET,
            ))
        }
    };
    info!(user = %caller.user, reset_type, ok = done.is_ok(), "ComputerSystem.Reset");
    done.map_err(|e| refused_change(&e))?;
    Ok(Reply::empty(StatusCode::NO_CONTENT))
}

/// A change the owner refused: the host is in the wrong state (409), or
/// the owner is away (503).
fn refused_change(err: &zbus::Error) -> ApiError {
    match err {
        zbus::Error::MethodError(name, _, _)
            if name.as_str().ends_with(".NotAllowed")
                || name.as_str().ends_with(".Unavailable") =>
        {
            ApiError::new(409, vec![redfish_core::Message::new("OperationNotAllowed")])
        }
        _ => bus_error(err),
    }
}

/// A refusal by the owner, in its own terms.
fn common_error(err: &rbmc_contracts::CommonError) -> ApiError {
    use rbmc_contracts::CommonError as E;
    match err {
        E::NotAllowed(_) => {
            ApiError::new(409, vec![redfish_core::Message::new("OperationNotAllowed")])
        }
        E::Unavailable(_) | E::Timeout(_) => ApiError::unavailable(5),
        E::ZBus(err) => bus_error(err),
        _ => ApiError::internal(),
    }
}

/// `PATCH /redfish/v1/Systems/system`: the boot override.
pub async fn patch(
    service: &Service,
    caller: &Caller,
    request: &Request,
) -> Result<Reply, ApiError> {
    let body = body_object(&request.body)?;
    let mut boot_patch = None;
    for (key, value) in &body {
        match key.as_str() {
            "Boot" => {
                boot_patch = Some(
                    value
                        .as_object()
                        .ok_or_else(|| ApiError::property_value_type(&value.to_string(), "Boot"))?,
                )
            }
            k if k.starts_with("@odata.") => {}
            "Id" | "Name" | "PowerState" | "SystemType" | "Status" | "Links" | "Actions" => {
                return Err(ApiError::property_not_writable(key))
            }
            _ => return Err(ApiError::property_unknown(key)),
        }
    }
    let Some(boot_patch) = boot_patch else {
        return Err(ApiError::no_operation());
    };
    let change = boot_change(boot_patch)?;
    apply_boot(&service.bus, &change)
        .await
        .map_err(|e| refused_change(&e))?;
    info!(user = %caller.user, ?change, "boot override changed");
    service.events.resource("ResourceChanged", PATH);
    get(service).await
}

/// What a Boot PATCH asks for, checked before anything changes.
#[derive(Debug, Default)]
struct BootChange {
    target: Option<&'static (&'static str, &'static str, &'static str)>,
    enabled: Option<&'static str>,
    efi: Option<bool>,
}

fn boot_change(patch: &Map<String, Value>) -> Result<BootChange, ApiError> {
    let mut change = BootChange::default();
    for (key, value) in patch {
        let property = format!("Boot/{key}");
        let text = || {
            value
                .as_str()
                .ok_or_else(|| ApiError::property_value_type(&value.to_string(), &property))
        };
        match key.as_str() {
            "BootSourceOverrideTarget" => {
                let wanted = text()?;
                change.target = Some(
                    TARGETS
                        .iter()
                        .find(|(t, _, _)| *t == wanted)
                        .ok_or_else(|| ApiError::property_value_not_in_list(wanted, &property))?,
                );
            }
            "BootSourceOverrideEnabled" => {
                change.enabled = Some(match text()? {
                    "Disabled" => "Disabled",
                    "Once" => "Once",
                    "Continuous" => "Continuous",
                    other => return Err(ApiError::property_value_not_in_list(other, &property)),
                });
            }
            "BootSourceOverrideMode" => {
                change.efi = Some(match text()? {
                    "UEFI" => true,
                    "Legacy" => false,
                    other => return Err(ApiError::property_value_not_in_list(other, &property)),
                });
            }
            k if k.contains('@') => {}
            _ => return Err(ApiError::property_unknown(&property)),
        }
    }
    Ok(change)
}

async fn apply_boot(bus: &zbus::Connection, change: &BootChange) -> zbus::Result<()> {
    if let Some(efi) = change.efi {
        let value = format!("{TYPES}{}", if efi { "EFI" } else { "Legacy" });
        BootTypeProxy::new(bus).await?.set_boot_type(&value).await?;
    }
    if let Some(enabled) = change.enabled {
        if enabled != "Disabled" {
            BootOneTimeProxy::new(bus)
                .await?
                .set_enabled(enabled == "Once")
                .await?;
        }
    }
    // Disabled clears the override whatever the target; a target alone
    // keeps the current persistence.
    let target = if change.enabled == Some("Disabled") {
        Some(&TARGETS[0])
    } else {
        change.target
    };
    if let Some((_, source, mode)) = target {
        BootSourceProxy::new(bus)
            .await?
            .set_boot_source(&format!("{SOURCES}{source}"))
            .await?;
        if *mode != "Regular" || *source == "Default" {
            BootModeProxy::new(bus)
                .await?
                .set_boot_mode(&format!("{MODES}{mode}"))
                .await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_states_map_to_power_states() {
        assert_eq!(
            power_state("xyz.openbmc_project.State.Host.HostState.Running"),
            "On"
        );
        assert_eq!(
            power_state("xyz.openbmc_project.State.Host.HostState.Off"),
            "Off"
        );
        assert_eq!(
            power_state("xyz.openbmc_project.State.Host.HostState.TransitioningToOff"),
            "PoweringOff"
        );
        assert_eq!(power_state("garbage"), "Off");
    }

    #[test]
    fn a_boot_patch_is_checked_whole_before_anything_changes() {
        let patch = |v: Value| boot_change(v.as_object().unwrap());
        let ok =
            patch(json!({"BootSourceOverrideTarget": "Pxe", "BootSourceOverrideEnabled": "Once"}))
                .unwrap();
        assert_eq!(ok.target.unwrap().1, "Network");
        assert_eq!(ok.enabled, Some("Once"));
        let bad = patch(json!({"BootSourceOverrideTarget": "Floppy"})).unwrap_err();
        assert_eq!(bad.status(), 400);
        assert_eq!(bad.messages()[0].name, "PropertyValueNotInList");
        let wrong_type = patch(json!({"BootSourceOverrideMode": 1})).unwrap_err();
        assert_eq!(wrong_type.messages()[0].name, "PropertyValueTypeError");
        let unknown = patch(json!({"BootOrder": []})).unwrap_err();
        assert_eq!(unknown.messages()[0].name, "PropertyUnknown");
    }
}
