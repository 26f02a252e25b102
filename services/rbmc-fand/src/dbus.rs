//! rbmc-fand's objects, with phosphor-pid-control's and dbus-sensors'
//! interfaces (the contract is in [`rbmc_contracts::fan`]):
//! - each zone at `/xyz/openbmc_project/settings/fanctrl/zone<N>`:
//!   `xyz.openbmc_project.Control.Mode` (`Manual` read-write, `FailSafe`
//!   read-only) and `org.rbmc.Fand.Zone` (causes, PWM, demand);
//! - each PWM output at `/xyz/openbmc_project/control/fanpwm/<name>`:
//!   `xyz.openbmc_project.Control.FanPwm` (`Target`, 0-255, writable in
//!   manual mode);
//! - the Fan Failsafe event-only sensor's `org.rbmc.Ipmi.Sensor`, so the SEL
//!   logger can number its events.
//!
//! Every write goes through `rbmc_daemon::caller::checked` (root, fand's own
//! user and the trusted bridges; audited) and then to the control task.
//! [`publish`] keeps the properties current and signals their changes.

use rbmc_contracts::{fan, CommonError};
use rbmc_daemon::caller;
use zbus::{message::Header, object_server::InterfaceRef};

use crate::owner::{ControlError, FanHandle, ZoneState};

/// The control task's refusal as the D-Bus error.
pub fn refused(err: ControlError) -> CommonError {
    let description = err.to_string();
    match err {
        ControlError::NoSuchZone(_) | ControlError::NoSuchFan(_) => {
            CommonError::ResourceNotFound(description)
        }
        ControlError::Target(fan_control::TargetError::NotManual) => {
            CommonError::NotAllowed(description)
        }
        ControlError::Target(_) => CommonError::InvalidArgument(description),
        // `Stopped`, and whatever the task learns to refuse next.
        _ => CommonError::Unavailable(description),
    }
}

/// A zone's `xyz.openbmc_project.Control.Mode`.
pub struct ModeObject {
    id: u8,
    handle: FanHandle,
    manual: bool,
    fail_safe: bool,
}

#[zbus::interface(name = "xyz.openbmc_project.Control.Mode")]
impl ModeObject {
    /// Whether the operator holds the zone's fans.
    #[zbus(property)]
    fn manual(&self) -> bool {
        self.manual
    }

    /// Manual (true) or automatic: root, fand's own user and the trusted
    /// bridges only, audited.
    #[zbus(property)]
    async fn set_manual(
        &mut self,
        manual: bool,
        #[zbus(connection)] conn: &zbus::Connection,
        #[zbus(header)] header: Option<Header<'_>>,
    ) -> Result<(), CommonError> {
        let action = format!("set fan zone {} Manual {manual}", self.id);
        let handle = self.handle.clone();
        let id = self.id;
        caller::checked(conn, header.as_ref(), &action, || async move {
            handle.set_manual(id, manual).await.map_err(refused)
        })
        .await?;
        self.manual = manual;
        Ok(())
    }

    /// Whether the zone is in failsafe.
    #[zbus(property)]
    fn fail_safe(&self) -> bool {
        self.fail_safe
    }
}

/// A zone's `org.rbmc.Fand.Zone`.
pub struct ZoneObject {
    causes: Vec<String>,
    pwm: f64,
    demand: f64,
}

#[zbus::interface(name = "org.rbmc.Fand.Zone")]
impl ZoneObject {
    /// Why the zone is in failsafe (empty: it is not).
    #[zbus(property)]
    fn fail_safe_causes(&self) -> Vec<String> {
        self.causes.clone()
    }

    /// The zone's highest fan PWM, percent.
    #[zbus(property)]
    fn pwm(&self) -> f64 {
        self.pwm
    }

    /// The controllers' highest demand, percent.
    #[zbus(property)]
    fn demand(&self) -> f64 {
        self.demand
    }
}

/// A PWM output's `xyz.openbmc_project.Control.FanPwm`.
pub struct FanPwmObject {
    name: String,
    handle: FanHandle,
    target: u64,
}

#[zbus::interface(name = "xyz.openbmc_project.Control.FanPwm")]
impl FanPwmObject {
    /// The duty, 0-255.
    #[zbus(property)]
    fn target(&self) -> u64 {
        self.target
    }

    /// Sets the duty of a fan in a manual zone: root, fand's own user and
    /// the trusted bridges only, audited.
    #[zbus(property)]
    async fn set_target(
        &mut self,
        target: u64,
        #[zbus(connection)] conn: &zbus::Connection,
        #[zbus(header)] header: Option<Header<'_>>,
    ) -> Result<(), CommonError> {
        let action = format!("set {} Target {target}", self.name);
        let handle = self.handle.clone();
        let name = self.name.clone();
        caller::checked(conn, header.as_ref(), &action, || async move {
            let raw = u8::try_from(target).map_err(|_| {
                CommonError::InvalidArgument(format!("Target {target} is outside 0-255"))
            })?;
            handle.set_target(&name, raw).await.map_err(refused)
        })
        .await?;
        self.target = target;
        Ok(())
    }
}

/// The objects' interfaces, kept current by [`publish`].
pub struct Objects {
    zones: Vec<(u8, InterfaceRef<ModeObject>, InterfaceRef<ZoneObject>)>,
    fans: Vec<(String, InterfaceRef<FanPwmObject>)>,
}

/// Serves every zone's and every output's object on `conn`.
pub async fn serve(conn: &zbus::Connection, handle: &FanHandle) -> zbus::Result<Objects> {
    let server = conn.object_server();
    server
        .at(
            ipmi_router::events::FAN_FAILSAFE.path,
            ipmi_router::events::FAN_FAILSAFE.identity(),
        )
        .await?;
    let mut objects = Objects {
        zones: Vec::new(),
        fans: Vec::new(),
    };
    for zone in handle.zones() {
        let path = fan::zone_path(zone.id);
        server
            .at(
                path.as_str(),
                ModeObject {
                    id: zone.id,
                    handle: handle.clone(),
                    manual: zone.manual,
                    fail_safe: zone.failsafe,
                },
            )
            .await?;
        server
            .at(
                path.as_str(),
                ZoneObject {
                    causes: zone.causes.clone(),
                    pwm: zone.pwm,
                    demand: zone.demand,
                },
            )
            .await?;
        objects.zones.push((
            zone.id,
            server.interface(path.as_str()).await?,
            server.interface(path.as_str()).await?,
        ));
        for (name, raw) in &zone.fans {
            let path = fan::fan_pwm_path(&rbmc_config::SensorName(name.clone()).object_name());
            server
                .at(
                    path.as_str(),
                    FanPwmObject {
                        name: name.clone(),
                        handle: handle.clone(),
                        target: u64::from(*raw),
                    },
                )
                .await?;
            objects
                .fans
                .push((name.clone(), server.interface(path.as_str()).await?));
        }
    }
    Ok(objects)
}

/// Follows the control task's state into the objects, signalling each
/// property that changes, until the task ends.
pub async fn publish(objects: Objects, handle: FanHandle) {
    let mut changes = handle.watch();
    while changes.changed().await.is_ok() {
        let zones = changes.borrow_and_update().clone();
        for zone in &zones {
            if let Err(err) = update(&objects, zone).await {
                tracing::warn!(%err, zone = zone.id, "cannot signal the zone's state");
            }
        }
    }
}

async fn update(objects: &Objects, zone: &ZoneState) -> zbus::Result<()> {
    let Some((_, mode, info)) = objects.zones.iter().find(|(id, _, _)| *id == zone.id) else {
        return Ok(());
    };
    {
        let emitter = mode.signal_emitter();
        let mut object = mode.get_mut().await;
        if object.manual != zone.manual {
            object.manual = zone.manual;
            object.manual_changed(emitter).await?;
        }
        if object.fail_safe != zone.failsafe {
            object.fail_safe = zone.failsafe;
            object.fail_safe_changed(emitter).await?;
        }
    }
    {
        let emitter = info.signal_emitter();
        let mut object = info.get_mut().await;
        if object.causes != zone.causes {
            object.causes.clone_from(&zone.causes);
            object.fail_safe_causes_changed(emitter).await?;
        }
        if object.pwm != zone.pwm {
            object.pwm = zone.pwm;
            object.pwm_changed(emitter).await?;
        }
        if object.demand != zone.demand {
            object.demand = zone.demand;
            object.demand_changed(emitter).await?;
        }
    }
    for (name, raw) in &zone.fans {
        let Some((_, fan)) = objects.fans.iter().find(|(n, _)| n == name) else {
            continue;
        };
        let emitter = fan.signal_emitter();
        let mut object = fan.get_mut().await;
        if object.target != u64::from(*raw) {
            object.target = u64::from(*raw);
            object.target_changed(emitter).await?;
        }
    }
    Ok(())
}
