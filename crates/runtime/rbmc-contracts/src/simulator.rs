//! The development doubles' controls, on rbmc-dev's private bus only.
//!
//! - `org.rbmc.Simulator` at [`SIMULATOR_PATH`] on
//!   [`crate::names::SIMULATOR`] ([`SimulatorProxy`]), rbmc-dev's fake
//!   hwmon tree: `Inject(s sensor, s fault)` with fault `stop`, `runaway`
//!   or `remove`; `Clear(s sensor)`; `SetLoad(d load)` (0-1, negative for
//!   the slow wave); `Pause(b paused)`; the `Sensors` property.
//! - `org.rbmc.SimulatedHost` at [`SIMULATED_HOST_PATH`] on rbmc-powerd with
//!   the simulated board ([`SimulatedHostProxy`]): what the ATX-like host
//!   saw, and `Inject(s fault)` with `no-power-good` or `power-loss`.
//!
//! An unknown fault fails with [`CommonError::InvalidArgument`], an unknown
//! sensor with [`CommonError::ResourceNotFound`], a failed write of the
//! simulated tree with [`CommonError::InternalFailure`].

use crate::CommonError;

/// The simulator object.
pub const SIMULATOR_PATH: &str = "/org/rbmc/Simulator";
/// The simulated host object.
pub const SIMULATED_HOST_PATH: &str = "/org/rbmc/SimulatedHost";

/// Client of `org.rbmc.Simulator`.
#[zbus::proxy(
    interface = "org.rbmc.Simulator",
    default_service = "org.rbmc.Simulator",
    default_path = "/org/rbmc/Simulator"
)]
pub trait Simulator {
    /// Injects a fault (`stop`, `runaway`, `remove`) into a sensor, named as
    /// in the config (`CPU0 Temp`).
    fn inject(&self, sensor: &str, fault: &str) -> Result<(), CommonError>;

    /// Clears a sensor's fault.
    fn clear(&self, sensor: &str) -> Result<(), CommonError>;

    /// Fixes the load (0-1); negative returns to the slow wave.
    fn set_load(&self, load: f64) -> Result<(), CommonError>;

    /// Stops (true) or restarts (false) simulated time.
    fn pause(&self, paused: bool) -> Result<(), CommonError>;

    /// Names of the simulated sensors.
    #[zbus(property)]
    fn sensors(&self) -> zbus::Result<Vec<String>>;
}

/// Client of `org.rbmc.SimulatedHost`.
#[zbus::proxy(
    interface = "org.rbmc.SimulatedHost",
    default_service = "org.rbmc.Powerd",
    default_path = "/org/rbmc/SimulatedHost"
)]
pub trait SimulatedHost {
    /// Whether the host has power.
    #[zbus(property)]
    fn power_good(&self) -> zbus::Result<bool>;

    /// Reset pulses received while on.
    #[zbus(property)]
    fn resets(&self) -> zbus::Result<u32>;

    /// NMI pulses received while on.
    #[zbus(property)]
    fn nmis(&self) -> zbus::Result<u32>;

    /// Whether the identify LED is lit.
    #[zbus(property)]
    fn identify_led(&self) -> zbus::Result<bool>;

    /// Injects a fault: `no-power-good` or `power-loss`.
    fn inject(&self, fault: &str) -> Result<(), CommonError>;

    /// Clears injected faults.
    fn clear(&self) -> Result<(), CommonError>;
}
