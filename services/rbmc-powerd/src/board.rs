//! The seam between power control and the hardware: named lines.
//!
//! [`Board`] drives outputs (buttons, NMI, identify LED) and reports inputs
//! (power-good, chassis intrusion). [`cdev`] implements it with the Linux GPIO
//! character device, lines found by their names; [`crate::simboard`] with a
//! simulated host for development; [`qemu`] with a QEMU virtual machine on
//! rbmc-kcsd's link. Everything above this trait is the code
//! that ships.

pub mod cdev;
pub mod qemu;

use tokio::sync::watch;

/// A line's role.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum Line {
    /// Power button output.
    PowerButton,
    /// Reset button output.
    ResetButton,
    /// NMI output.
    Nmi,
    /// Identify LED output.
    IdentifyLed,
}

/// Input levels, asserted = true.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct Inputs {
    /// Power-good.
    pub power_good: bool,
    /// Chassis intrusion.
    pub intrusion: bool,
}

/// Why a line could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BoardError {
    /// The power-good input is required by the GPIO backend and missing.
    #[error(
        "[power] power-good is not configured (the GPIO backend needs it to know the host's state)"
    )]
    NoPowerGood,
    /// No GPIO line has the configured name.
    #[error("no GPIO line named {0:?} (check the device tree's gpio-line-names)")]
    LineNotFound(String),
    /// The config does not name a line this operation needs.
    #[error("no {0:?} line is configured")]
    NotConfigured(Line),
    /// The kernel refused a request.
    #[error("GPIO {line:?}: {cause}")]
    Gpio {
        /// The line's name.
        line: String,
        /// The kernel's error.
        cause: String,
    },
}

/// Power control hardware.
pub trait Board: Send + Sync {
    /// Asserts or releases an output.
    fn set(&self, line: Line, asserted: bool) -> Result<(), BoardError>;
    /// The input levels, updated on every edge.
    fn inputs(&self) -> watch::Receiver<Inputs>;
}
