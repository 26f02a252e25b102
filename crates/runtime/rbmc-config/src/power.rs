//! `[power]`: rbmc-powerd's lines, timings and policy defaults.
//!
//! ```toml
//! [power]
//! backend = "gpio"                 # or "simulated" (development)
//! power-button = { name = "POWER_OUT", active-low = true }
//! reset-button = { name = "RESET_OUT", active-low = true }
//! power-good = { name = "PS_PWROK" }
//! identify-led = { name = "LED_IDENTIFY" }
//! ```

use serde::Deserialize;

/// `[power]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct Power {
    /// Where the lines are: the GPIO character device, or the simulated host
    /// board for development.
    pub backend: PowerBackend,
    /// Power button output.
    pub power_button: Option<LineConfig>,
    /// Reset button output.
    pub reset_button: Option<LineConfig>,
    /// Power-good input.
    pub power_good: Option<LineConfig>,
    /// Identify LED output.
    pub identify_led: Option<LineConfig>,
    /// NMI (diagnostic interrupt) output, optional.
    pub nmi: Option<LineConfig>,
    /// Chassis intrusion input, optional.
    pub intrusion: Option<LineConfig>,
    /// A short press of the power button (power on, ACPI soft off), ms.
    pub press_ms: u64,
    /// How long the button is held to force the host off, ms.
    pub force_off_ms: u64,
    /// Reset button pulse, ms.
    pub reset_pulse_ms: u64,
    /// NMI pulse, ms.
    pub nmi_pulse_ms: u64,
    /// Power-good must arrive within this after a power-on press, ms.
    pub power_on_timeout_ms: u64,
    /// Power-good must drop within this after a soft-off press, ms.
    pub soft_off_timeout_ms: u64,
    /// Off time in a power cycle, ms (the spec asks for at least 1 s).
    pub cycle_off_ms: u64,
    /// The restore policy until one is set with IPMI.
    pub restore_policy: RestorePolicyName,
    /// Simulated host board timings (backend "simulated").
    pub simulated: SimulatedHost,
}

impl Default for Power {
    fn default() -> Self {
        Self {
            backend: PowerBackend::Gpio,
            power_button: None,
            reset_button: None,
            power_good: None,
            identify_led: None,
            nmi: None,
            intrusion: None,
            // x86-power-control's defaults: 200 ms presses, 15 s to force
            // off (the spec's 4 s minimum plus margin), 10 s for power-good.
            press_ms: 200,
            force_off_ms: 15_000,
            reset_pulse_ms: 500,
            nmi_pulse_ms: 200,
            power_on_timeout_ms: 10_000,
            soft_off_timeout_ms: 300_000,
            cycle_off_ms: 5_000,
            restore_policy: RestorePolicyName::AlwaysOff,
            simulated: SimulatedHost::default(),
        }
    }
}

/// Where power control lines live.
#[derive(Clone, Copy, Debug, Deserialize, Eq, PartialEq)]
#[serde(rename_all = "kebab-case")]
pub enum PowerBackend {
    /// Linux GPIO character device lines, found by name.
    Gpio,
    /// The simulated host board (development).
    Simulated,
    /// A QEMU virtual machine on rbmc-kcsd's `ipmi-bmc-extern` link
    /// (development): power-good is the VM being connected, the buttons
    /// become the link's power-off, shutdown, reset and NMI operations.
    Qemu,
}

/// One GPIO line.
#[derive(Clone, Debug, Deserialize, Eq, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct LineConfig {
    /// The line's name (from the device tree's gpio-line-names).
    pub name: String,
    /// Whether the line is asserted low.
    #[serde(default)]
    pub active_low: bool,
}

/// A restore policy by name.
#[derive(Clone, Copy, Debug, Deserialize, Eq, PartialEq)]
#[serde(rename_all = "kebab-case")]
pub enum RestorePolicyName {
    /// Stay off after power returns.
    AlwaysOff,
    /// Return to the state before power was lost.
    Previous,
    /// Power on when power returns.
    AlwaysOn,
}

/// `[power.simulated]`: the development host board.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct SimulatedHost {
    /// Power-good follows a power-on press after this, ms.
    pub power_good_delay_ms: u64,
    /// An ACPI soft-off press turns the host off after this, ms.
    pub shutdown_delay_ms: u64,
    /// A press held at least this long forces the host off, ms.
    pub force_off_threshold_ms: u64,
}

impl Default for SimulatedHost {
    fn default() -> Self {
        Self {
            power_good_delay_ms: 500,
            shutdown_delay_ms: 1_000,
            force_off_threshold_ms: 4_000,
        }
    }
}
