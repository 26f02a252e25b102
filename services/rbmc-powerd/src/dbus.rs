//! Power state on D-Bus, with OpenBMC's interfaces, so an operator can also
//! drive power with `busctl`:
//! - `/xyz/openbmc_project/state/chassis0`: `xyz.openbmc_project.State.Chassis`
//!   (`CurrentPowerState`, `RequestedPowerTransition` = On, Off, PowerCycle);
//! - `/xyz/openbmc_project/state/host0`: `xyz.openbmc_project.State.Host`
//!   (`CurrentHostState`, `RequestedHostTransition` = On, Off, Reboot,
//!   GracefulWarmReboot, ForceWarmReboot);
//! - `/xyz/openbmc_project/control/host0/power_restore_policy`:
//!   `xyz.openbmc_project.Control.Power.RestorePolicy` (`PowerRestorePolicy`);
//! - `/xyz/openbmc_project/control/host0/boot`:
//!   `xyz.openbmc_project.Control.Boot.Source` (`BootSource`) and
//!   `xyz.openbmc_project.Control.Boot.Mode` (`BootMode`), the next boot's
//!   override (Default/Regular when none is set).
//!
//! The clients are [`rbmc_contracts::state`] and [`rbmc_contracts::control`].
//! Every `Set` checks its caller: only root and powerd's own user may
//! change state, whatever the bus policy lets through, and each change
//! asked for is audited with the caller's uid ([`rbmc_daemon::caller`]).
//! A refused `Set` is a [`CommonError`] (`InvalidArgument` for an unknown
//! value, `Unavailable` while another transition runs, `NotAllowed` when the
//! host's state forbids it), which zbus answers under the nearest
//! `org.freedesktop.DBus.Error` name.

use std::sync::{Arc, Mutex};

use rbmc_contracts::CommonError;
use rbmc_daemon::caller;
use zbus::message::Header;

use crate::{
    control::{cause, Controller},
    sequencer::{Refused, Request},
};

const CHASSIS: &str = "xyz.openbmc_project.State.Chassis";
const HOST: &str = "xyz.openbmc_project.State.Host";
const POLICY: &str = "xyz.openbmc_project.Control.Power.RestorePolicy.Policy";

pub use rbmc_contracts::{
    control::{
        BOOT_ONE_TIME_PATH, BOOT_PATH, IDENTIFY_LED_PATH, NMI_PATH,
        POWER_RESTORE_POLICY_PATH as POLICY_PATH,
    },
    state::{CHASSIS_PATH, HOST_PATH},
};

/// Where the host's power is, as both OpenBMC state objects name it.
enum Phase {
    On,
    Off,
    ToOn,
    ToOff,
}

fn phase(control: &Controller) -> Phase {
    let state = control.lock();
    let s = &state.sequencer;
    match (s.is_on(), s.in_transition(), s.powering_on()) {
        (_, true, true) => Phase::ToOn,
        (true, true, false) => Phase::ToOff,
        (true, false, _) => Phase::On,
        (false, _, _) => Phase::Off,
    }
}

/// The sequencer's refusal as the D-Bus error.
fn refused(err: Refused) -> CommonError {
    match err {
        Refused::Busy => CommonError::Unavailable(err.to_string()),
        Refused::WrongState(_) => CommonError::NotAllowed(err.to_string()),
    }
}

/// `xyz.openbmc_project.State.Chassis`.
pub struct ChassisObject {
    control: Arc<Controller>,
    requested: Mutex<String>,
}

impl ChassisObject {
    /// The chassis object over `control`.
    pub fn new(control: Arc<Controller>) -> Self {
        Self {
            control,
            requested: Mutex::new(format!("{CHASSIS}.Transition.Off")),
        }
    }
}

#[zbus::interface(name = "xyz.openbmc_project.State.Chassis")]
impl ChassisObject {
    /// On, Off, TransitioningToOn or TransitioningToOff.
    #[zbus(property)]
    fn current_power_state(&self) -> String {
        let name = match phase(&self.control) {
            Phase::On => "On",
            Phase::Off => "Off",
            Phase::ToOn => "TransitioningToOn",
            Phase::ToOff => "TransitioningToOff",
        };
        format!("{CHASSIS}.PowerState.{name}")
    }

    /// The last transition asked for.
    #[zbus(property)]
    fn requested_power_transition(&self) -> String {
        self.requested
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Asks for On, Off or PowerCycle: root and powerd's own user only,
    /// audited.
    #[zbus(property)]
    async fn set_requested_power_transition(
        &mut self,
        value: String,
        #[zbus(connection)] conn: &zbus::Connection,
        #[zbus(header)] header: Option<Header<'_>>,
    ) -> Result<(), CommonError> {
        let action = format!("set RequestedPowerTransition {value}");
        caller::checked(conn, header.as_ref(), &action, || async {
            self.request_power_transition(value)
        })
        .await
    }
}

impl ChassisObject {
    fn request_power_transition(&mut self, value: String) -> Result<(), CommonError> {
        let request = match value.strip_prefix(&format!("{CHASSIS}.Transition.")) {
            Some("On") => Request::On,
            Some("Off") => Request::Off,
            Some("PowerCycle") => Request::Cycle,
            _ => {
                return Err(CommonError::InvalidArgument(format!(
                    "unknown transition {value}"
                )))
            }
        };
        self.control
            .request(request, cause::CHASSIS_CONTROL)
            .map_err(refused)?;
        *self.requested.lock().unwrap_or_else(|e| e.into_inner()) = value;
        Ok(())
    }
}

/// `xyz.openbmc_project.State.Host`.
pub struct HostObject {
    control: Arc<Controller>,
    requested: Mutex<String>,
}

impl HostObject {
    /// The host object over `control`.
    pub fn new(control: Arc<Controller>) -> Self {
        Self {
            control,
            requested: Mutex::new(format!("{HOST}.Transition.Off")),
        }
    }
}

#[zbus::interface(name = "xyz.openbmc_project.State.Host")]
impl HostObject {
    /// Running, Off, TransitioningToRunning or TransitioningToOff.
    #[zbus(property)]
    fn current_host_state(&self) -> String {
        let name = match phase(&self.control) {
            Phase::On => "Running",
            Phase::Off => "Off",
            Phase::ToOn => "TransitioningToRunning",
            Phase::ToOff => "TransitioningToOff",
        };
        format!("{HOST}.HostState.{name}")
    }

    /// The last transition asked for.
    #[zbus(property)]
    fn requested_host_transition(&self) -> String {
        self.requested
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Asks for On, Off (graceful), Reboot, GracefulWarmReboot or
    /// ForceWarmReboot: root and powerd's own user only, audited.
    #[zbus(property)]
    async fn set_requested_host_transition(
        &mut self,
        value: String,
        #[zbus(connection)] conn: &zbus::Connection,
        #[zbus(header)] header: Option<Header<'_>>,
    ) -> Result<(), CommonError> {
        let action = format!("set RequestedHostTransition {value}");
        caller::checked(conn, header.as_ref(), &action, || async {
            self.request_host_transition(value)
        })
        .await
    }
}

impl HostObject {
    fn request_host_transition(&mut self, value: String) -> Result<(), CommonError> {
        let request = match value.strip_prefix(&format!("{HOST}.Transition.")) {
            Some("On") => Request::On,
            Some("Off") => Request::SoftOff,
            Some("Reboot" | "ForceWarmReboot" | "GracefulWarmReboot") => Request::Reset,
            _ => {
                return Err(CommonError::InvalidArgument(format!(
                    "unknown transition {value}"
                )))
            }
        };
        self.control
            .request(request, cause::CHASSIS_CONTROL)
            .map_err(refused)?;
        *self.requested.lock().unwrap_or_else(|e| e.into_inner()) = value;
        Ok(())
    }
}

/// `xyz.openbmc_project.Led.Group` for the chassis identify LED.
pub struct IdentifyLedObject {
    /// The controller.
    pub control: Arc<Controller>,
}

#[zbus::interface(name = "xyz.openbmc_project.Led.Group")]
impl IdentifyLedObject {
    /// Whether the identify LED is lit, however it was asked for.
    #[zbus(property)]
    fn asserted(&self) -> bool {
        self.control.lock().identify != crate::control::Identify::Off
    }

    /// Lights the LED until turned off (as Chassis Identify's force-on), or
    /// turns it off: root, powerd's own user and the Redfish bridge only,
    /// audited.
    #[zbus(property)]
    async fn set_asserted(
        &mut self,
        value: bool,
        #[zbus(connection)] conn: &zbus::Connection,
        #[zbus(header)] header: Option<Header<'_>>,
    ) -> Result<(), CommonError> {
        let action = format!("set identify LED Asserted {value}");
        caller::checked(conn, header.as_ref(), &action, || async {
            self.control.identify(if value {
                crate::control::Identify::Forever
            } else {
                crate::control::Identify::Off
            });
            Ok(())
        })
        .await
    }
}

/// `xyz.openbmc_project.Control.Host.NMI`: the diagnostic interrupt.
pub struct NmiObject {
    /// The controller.
    pub control: Arc<Controller>,
}

#[zbus::interface(name = "xyz.openbmc_project.Control.Host.NMI")]
impl NmiObject {
    /// Pulses NMI: root and powerd's own user only, audited.
    #[zbus(name = "NMI")]
    async fn nmi(
        &self,
        #[zbus(connection)] conn: &zbus::Connection,
        #[zbus(header)] header: Header<'_>,
    ) -> Result<(), CommonError> {
        caller::checked(conn, Some(&header), "NMI", || async {
            self.control
                .request(Request::Diagnostic, cause::CHASSIS_CONTROL)
                .map_err(refused)
        })
        .await
    }
}

/// `xyz.openbmc_project.Control.Power.RestorePolicy`.
pub struct RestorePolicyObject {
    /// The controller.
    pub control: Arc<Controller>,
}

#[zbus::interface(name = "xyz.openbmc_project.Control.Power.RestorePolicy")]
impl RestorePolicyObject {
    /// AlwaysOff, Restore or AlwaysOn.
    #[zbus(property)]
    fn power_restore_policy(&self) -> String {
        let state = self.control.lock();
        let name = match state.policy(self.control.default_policy) {
            2 => "AlwaysOn",
            1 => "Restore",
            _ => "AlwaysOff",
        };
        format!("{POLICY}.{name}")
    }

    /// Sets the policy: root and powerd's own user only, audited.
    #[zbus(property)]
    async fn set_power_restore_policy(
        &mut self,
        value: String,
        #[zbus(connection)] conn: &zbus::Connection,
        #[zbus(header)] header: Option<Header<'_>>,
    ) -> Result<(), CommonError> {
        let action = format!("set PowerRestorePolicy {value}");
        caller::checked(conn, header.as_ref(), &action, || self.change_policy(value)).await
    }
}

impl RestorePolicyObject {
    async fn change_policy(&mut self, value: String) -> Result<(), CommonError> {
        let code = match value.strip_prefix(&format!("{POLICY}.")) {
            Some("AlwaysOff") => 0,
            Some("Restore") => 1,
            Some("AlwaysOn") => 2,
            _ => {
                return Err(CommonError::InvalidArgument(format!(
                    "unknown policy {value}"
                )))
            }
        };
        // Acknowledged only once the policy is stored.
        self.control
            .change_setting(|stored, _| {
                stored.restore_policy = Some(code);
                Ok(())
            })
            .await
            .map_err(not_stored)
    }
}

/// A setting that could not be stored: the change was not made.
fn not_stored(code: ipmi_wire::CompletionCode) -> CommonError {
    CommonError::InternalFailure(format!(
        "the change could not be stored ({code}); nothing changed"
    ))
}

const SOURCES: &str = "xyz.openbmc_project.Control.Boot.Source.Sources";
const MODES: &str = "xyz.openbmc_project.Control.Boot.Mode.Modes";

/// `xyz.openbmc_project.Control.Boot.Source` and `.Mode` over the IPMI boot
/// flags, so both views agree.
pub struct BootObject {
    /// The controller.
    pub control: Arc<Controller>,
}

impl BootObject {
    fn device(&self) -> ipmi_boot::BootDevice {
        self.control
            .lock()
            .boot
            .boot_request()
            .map(|r| r.device)
            .unwrap_or(ipmi_boot::BootDevice::NoOverride)
    }

    /// Sets the next boot's device, acknowledged only once stored.
    async fn set_device(&self, device: ipmi_boot::BootDevice) -> Result<(), CommonError> {
        self.control
            .change_setting(|_, boot| {
                // The stored type and persistence carry over.
                let mut request = boot.stored_flags();
                request.device = device;
                let request = (device != ipmi_boot::BootDevice::NoOverride).then_some(request);
                boot.set_boot_request(request);
                Ok(())
            })
            .await
            .map_err(not_stored)
    }
}

#[zbus::interface(name = "xyz.openbmc_project.Control.Boot.Source")]
impl BootObject {
    /// Default, Network, Disk, ExternalMedia or RemovableMedia.
    #[zbus(property)]
    fn boot_source(&self) -> String {
        use ipmi_boot::BootDevice::*;
        let name = match self.device() {
            Pxe => "Network",
            Disk | DiskSafeMode | RemoteDisk => "Disk",
            CdDvd | RemoteCdDvd | RemotePrimaryMedia => "ExternalMedia",
            Floppy | RemoteFloppy => "RemovableMedia",
            _ => "Default",
        };
        format!("{SOURCES}.{name}")
    }

    /// Sets the next boot's source: root and powerd's own user only,
    /// audited.
    #[zbus(property)]
    async fn set_boot_source(
        &mut self,
        value: String,
        #[zbus(connection)] conn: &zbus::Connection,
        #[zbus(header)] header: Option<Header<'_>>,
    ) -> Result<(), CommonError> {
        let action = format!("set BootSource {value}");
        caller::checked(conn, header.as_ref(), &action, || self.change_source(value)).await
    }
}

impl BootObject {
    async fn change_source(&mut self, value: String) -> Result<(), CommonError> {
        use ipmi_boot::BootDevice::*;
        let device = match value.strip_prefix(&format!("{SOURCES}.")) {
            Some("Default") => NoOverride,
            Some("Network") => Pxe,
            Some("Disk") => Disk,
            Some("ExternalMedia") => CdDvd,
            Some("RemovableMedia") => Floppy,
            _ => {
                return Err(CommonError::InvalidArgument(format!(
                    "unknown source {value}"
                )))
            }
        };
        self.set_device(device).await
    }
}

/// `xyz.openbmc_project.Control.Boot.Mode` (served on the same path).
pub struct BootModeObject {
    /// The boot object it shares state with.
    pub boot: BootObject,
}

#[zbus::interface(name = "xyz.openbmc_project.Control.Boot.Mode")]
impl BootModeObject {
    /// Regular, Safe or Setup.
    #[zbus(property)]
    fn boot_mode(&self) -> String {
        use ipmi_boot::BootDevice::*;
        let name = match self.boot.device() {
            DiskSafeMode => "Safe",
            BiosSetup => "Setup",
            _ => "Regular",
        };
        format!("{MODES}.{name}")
    }

    /// Sets the next boot's mode: root and powerd's own user only, audited.
    #[zbus(property)]
    async fn set_boot_mode(
        &mut self,
        value: String,
        #[zbus(connection)] conn: &zbus::Connection,
        #[zbus(header)] header: Option<Header<'_>>,
    ) -> Result<(), CommonError> {
        let action = format!("set BootMode {value}");
        caller::checked(conn, header.as_ref(), &action, || self.change_mode(value)).await
    }
}

impl BootModeObject {
    async fn change_mode(&mut self, value: String) -> Result<(), CommonError> {
        use ipmi_boot::BootDevice::*;
        let device = match value.strip_prefix(&format!("{MODES}.")) {
            Some("Regular") => NoOverride,
            Some("Safe") => DiskSafeMode,
            Some("Setup") => BiosSetup,
            _ => {
                return Err(CommonError::InvalidArgument(format!(
                    "unknown mode {value}"
                )))
            }
        };
        self.boot.set_device(device).await
    }
}

/// `xyz.openbmc_project.Control.Boot.Type` (on the boot path): whether the
/// override boots EFI or legacy (boot flags data 1 bit 5).
pub struct BootTypeObject {
    /// The boot object it shares state with.
    pub boot: BootObject,
}

const TYPES: &str = "xyz.openbmc_project.Control.Boot.Type.Types";

#[zbus::interface(name = "xyz.openbmc_project.Control.Boot.Type")]
impl BootTypeObject {
    /// Legacy or EFI.
    #[zbus(property)]
    fn boot_type(&self) -> String {
        let efi = self.boot.control.lock().boot.stored_flags().efi;
        format!("{TYPES}.{}", if efi { "EFI" } else { "Legacy" })
    }

    /// Sets the override's boot type: root and powerd's own user only,
    /// audited.
    #[zbus(property)]
    async fn set_boot_type(
        &mut self,
        value: String,
        #[zbus(connection)] conn: &zbus::Connection,
        #[zbus(header)] header: Option<Header<'_>>,
    ) -> Result<(), CommonError> {
        let action = format!("set BootType {value}");
        caller::checked(conn, header.as_ref(), &action, || async {
            let efi = match value.strip_prefix(&format!("{TYPES}.")) {
                Some("EFI") => true,
                Some("Legacy") => false,
                _ => {
                    return Err(CommonError::InvalidArgument(format!(
                        "unknown boot type {value}"
                    )))
                }
            };
            self.boot.change_flags(move |flags| flags.efi = efi).await
        })
        .await
    }
}

/// `xyz.openbmc_project.Object.Enable` at `.../boot/one_time`: whether
/// the override applies to the next boot only (enabled) or to every boot
/// (boot flags data 1 bit 6, persistent).
pub struct OneTimeObject {
    /// The boot object it shares state with.
    pub boot: BootObject,
}

#[zbus::interface(name = "xyz.openbmc_project.Object.Enable")]
impl OneTimeObject {
    /// Next boot only.
    #[zbus(property)]
    fn enabled(&self) -> bool {
        !self.boot.control.lock().boot.stored_flags().persistent
    }

    /// Sets next-boot-only (true) or every boot (false): root and powerd's
    /// own user only, audited.
    #[zbus(property)]
    async fn set_enabled(
        &mut self,
        value: bool,
        #[zbus(connection)] conn: &zbus::Connection,
        #[zbus(header)] header: Option<Header<'_>>,
    ) -> Result<(), CommonError> {
        let action = format!("set boot one_time Enabled {value}");
        caller::checked(conn, header.as_ref(), &action, || async {
            self.boot
                .change_flags(move |flags| flags.persistent = !value)
                .await
        })
        .await
    }
}

impl BootObject {
    /// Changes the stored flags, keeping whether an override is in force;
    /// acknowledged only once stored.
    async fn change_flags(
        &self,
        change: impl Fn(&mut ipmi_boot::BootRequest) + Send,
    ) -> Result<(), CommonError> {
        self.control
            .change_setting(|_, boot| {
                let mut flags = boot.stored_flags();
                change(&mut flags);
                boot.set_stored_flags(flags);
                Ok(())
            })
            .await
            .map_err(not_stored)
    }
}
