//! Fan control on rbmc-fand (`org.rbmc.Fand`, also OpenBMC's
//! `xyz.openbmc_project.State.FanCtrl`), with phosphor-pid-control's
//! objects:
//!
//! - each zone at `/xyz/openbmc_project/settings/fanctrl/zone<N>`
//!   ([`zone_path`]):
//!   - `xyz.openbmc_project.Control.Mode` ([`ModeProxy`]): `Manual`
//!     (read-write: true pins every fan of the zone at its present PWM
//!     until a `FanPwm.Target` moves it; false gives the fans back to the
//!     controllers) and `FailSafe` (read-only: the zone runs at its
//!     failsafe PWM);
//!   - `org.rbmc.Fand.Zone` ([`ZoneProxy`]): why it is in failsafe, its PWM
//!     and its controllers' demand;
//! - each fan's PWM output at `/xyz/openbmc_project/control/fanpwm/<name>`
//!   ([`fan_pwm_path`]): `xyz.openbmc_project.Control.FanPwm`
//!   ([`FanPwmProxy`]): `Target`, the duty as hwmon counts it (0-255);
//!   writable only while its zone is in manual mode.
//!
//! Writes are allowed to root, rbmc-fand's own user and the trusted
//! bridges (see `rbmc_daemon::caller`), and audited. A write outside the
//! rules is refused: `Target` in automatic mode is `NotAllowed`, a value
//! out of range `InvalidArgument`; `FailSafe` is read-only.

/// The object of fan zone `id`.
pub fn zone_path(id: u8) -> String {
    format!("/xyz/openbmc_project/settings/fanctrl/zone{id}")
}

/// The object of the PWM output whose sensor is called `name` (already an
/// object-path element: `FAN1_PWM`).
pub fn fan_pwm_path(name: &str) -> String {
    format!("/xyz/openbmc_project/control/fanpwm/{name}")
}

/// Client of `xyz.openbmc_project.Control.Mode` (a zone).
#[zbus::proxy(
    interface = "xyz.openbmc_project.Control.Mode",
    default_service = "org.rbmc.Fand"
)]
pub trait Mode {
    /// Whether the operator holds the zone's fans.
    #[zbus(property)]
    fn manual(&self) -> zbus::Result<bool>;

    /// Takes the fans (true) or gives them back to the controllers.
    #[zbus(property)]
    fn set_manual(&self, manual: bool) -> zbus::Result<()>;

    /// Whether the zone is in failsafe.
    #[zbus(property)]
    fn fail_safe(&self) -> zbus::Result<bool>;
}

/// Client of `org.rbmc.Fand.Zone` (a zone).
#[zbus::proxy(interface = "org.rbmc.Fand.Zone", default_service = "org.rbmc.Fand")]
pub trait Zone {
    /// Why the zone is in failsafe, one sentence per cause (empty: it is
    /// not).
    #[zbus(property)]
    fn fail_safe_causes(&self) -> zbus::Result<Vec<String>>;

    /// The highest PWM the zone gives its fans, percent.
    #[zbus(property)]
    fn pwm(&self) -> zbus::Result<f64>;

    /// The controllers' highest demand, percent, before slew limits.
    #[zbus(property)]
    fn demand(&self) -> zbus::Result<f64>;
}

/// Client of `xyz.openbmc_project.Control.FanPwm` (a fan's PWM output).
#[zbus::proxy(
    interface = "xyz.openbmc_project.Control.FanPwm",
    default_service = "org.rbmc.Fand"
)]
pub trait FanPwm {
    /// The duty, 0-255.
    #[zbus(property)]
    fn target(&self) -> zbus::Result<u64>;

    /// Sets the duty (0-255) of a fan in a manual zone.
    #[zbus(property)]
    fn set_target(&self, target: u64) -> zbus::Result<()>;
}
