//! Host and chassis power state, with OpenBMC's interfaces
//! (phosphor-state-manager's), served by rbmc-powerd under OpenBMC's bus
//! names so an operator or OpenBMC tool drives power with them:
//!
//! - `xyz.openbmc_project.State.Host` at [`HOST_PATH`] ([`HostProxy`]):
//!   `CurrentHostState` and the writable `RequestedHostTransition`;
//! - `xyz.openbmc_project.State.Chassis` at [`CHASSIS_PATH`]
//!   ([`ChassisProxy`]): `CurrentPowerState` and the writable
//!   `RequestedPowerTransition`.
//!
//! Values are OpenBMC's enumeration strings, such as
//! `xyz.openbmc_project.State.Host.Transition.On`. A refused request fails
//! the property `Set` (zbus sends `org.freedesktop.DBus.Error.InvalidArgs`
//! for an unknown value, `.Failed` when the host cannot do it now; see
//! [`crate::common`]).

/// The host state object.
pub const HOST_PATH: &str = "/xyz/openbmc_project/state/host0";
/// The chassis state object.
pub const CHASSIS_PATH: &str = "/xyz/openbmc_project/state/chassis0";

/// Client of `xyz.openbmc_project.State.Host`.
#[zbus::proxy(
    interface = "xyz.openbmc_project.State.Host",
    default_service = "xyz.openbmc_project.State.Host",
    default_path = "/xyz/openbmc_project/state/host0"
)]
pub trait Host {
    /// `...State.Host.HostState.` Running, Off, TransitioningToRunning or
    /// TransitioningToOff.
    #[zbus(property)]
    fn current_host_state(&self) -> zbus::Result<String>;

    /// The last transition asked for.
    #[zbus(property)]
    fn requested_host_transition(&self) -> zbus::Result<String>;

    /// Asks for `...State.Host.Transition.` On, Off (graceful), Reboot,
    /// GracefulWarmReboot or ForceWarmReboot.
    #[zbus(property)]
    fn set_requested_host_transition(&self, value: &str) -> zbus::Result<()>;
}

/// Client of `xyz.openbmc_project.State.Chassis`.
#[zbus::proxy(
    interface = "xyz.openbmc_project.State.Chassis",
    default_service = "xyz.openbmc_project.State.Chassis",
    default_path = "/xyz/openbmc_project/state/chassis0"
)]
pub trait Chassis {
    /// `...State.Chassis.PowerState.` On, Off, TransitioningToOn or
    /// TransitioningToOff.
    #[zbus(property)]
    fn current_power_state(&self) -> zbus::Result<String>;

    /// The last transition asked for.
    #[zbus(property)]
    fn requested_power_transition(&self) -> zbus::Result<String>;

    /// Asks for `...State.Chassis.Transition.` On, Off or PowerCycle.
    #[zbus(property)]
    fn set_requested_power_transition(&self, value: &str) -> zbus::Result<()>;
}
