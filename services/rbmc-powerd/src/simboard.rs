//! The simulated host board (development), behind the same [`Board`] seam
//! as the GPIO lines.
//!
//! It behaves like an ATX host: a short power-button press turns it on
//! (power-good follows after a delay) or, when on, asks the OS to shut down
//! (power-good falls after a delay); a press held past the force-off
//! threshold cuts power at once; a reset pulse reboots it; NMI pulses are
//! counted. Faults: the host fails to come up, or loses power on its own.
//!
//! Its state is on D-Bus as `org.rbmc.SimulatedHost` at
//! `/org/rbmc/SimulatedHost` (`PowerGood`, `Resets`, `Nmis`, `IdentifyLed`,
//! `Inject(s)` with `no-power-good` or `power-loss`, `Clear()`), so tests
//! check the host, not just the BMC's replies.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

// tokio's clock, so tests with paused time see presses last as long as they
// virtually do.
use tokio::time::Instant;

use rbmc_config::SimulatedHost;
use tokio::sync::watch;

use crate::board::{Board, BoardError, Inputs, Line};

#[derive(Debug, Default)]
struct HostState {
    pressed_at: Option<Instant>,
    reset_pressed: bool,
    resets: u32,
    nmis: u32,
    identify: bool,
    fail_to_start: bool,
    /// Bumped by every press, so a delayed effect of an older press is
    /// dropped.
    generation: u64,
}

/// The simulated board.
#[derive(Clone)]
pub struct SimBoard {
    timings: SimulatedHost,
    state: Arc<Mutex<HostState>>,
    inputs: watch::Sender<Inputs>,
}

impl SimBoard {
    /// A host that starts powered off (as after AC power returns).
    pub fn new(timings: SimulatedHost) -> Self {
        let (inputs, _) = watch::channel(Inputs::default());
        Self {
            timings,
            state: Arc::default(),
            inputs,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HostState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn power_good(&self) -> bool {
        self.inputs.borrow().power_good
    }

    fn set_power_good(&self, level: bool) {
        self.inputs.send_modify(|i| i.power_good = level);
    }

    /// After `delay`, sets power-good to `level` unless another press came.
    fn later(&self, delay: Duration, level: bool) {
        let generation = self.lock().generation;
        let board = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            if board.lock().generation == generation {
                board.set_power_good(level);
            }
        });
    }

    fn release_power_button(&self, held: Duration) {
        let on = self.power_good();
        let fail_to_start = {
            let mut s = self.lock();
            s.generation += 1;
            s.fail_to_start
        };
        if held >= Duration::from_millis(self.timings.force_off_threshold_ms) {
            // Held: the power supply cuts out at once.
            if on {
                self.set_power_good(false);
            }
        } else if on {
            self.later(Duration::from_millis(self.timings.shutdown_delay_ms), false);
        } else if !fail_to_start {
            self.later(
                Duration::from_millis(self.timings.power_good_delay_ms),
                true,
            );
        }
    }

    /// Injects a fault: `no-power-good` (the host will not come up) or
    /// `power-loss` (power-good drops now).
    pub fn inject(&self, fault: &str) -> Result<(), String> {
        match fault {
            "no-power-good" => {
                self.lock().fail_to_start = true;
                Ok(())
            }
            "power-loss" => {
                self.lock().generation += 1;
                self.set_power_good(false);
                Ok(())
            }
            other => Err(format!(
                "unknown fault {other:?} (no-power-good, power-loss)"
            )),
        }
    }

    /// Clears injected faults.
    pub fn clear(&self) {
        self.lock().fail_to_start = false;
    }

    /// The D-Bus face of the simulated host.
    pub fn object(&self) -> SimHostObject {
        SimHostObject {
            board: self.clone(),
        }
    }
}

impl Board for SimBoard {
    fn set(&self, line: Line, asserted: bool) -> Result<(), BoardError> {
        match line {
            Line::PowerButton => {
                let pressed_at = {
                    let mut s = self.lock();
                    if asserted {
                        s.pressed_at = Some(Instant::now());
                        None
                    } else {
                        s.pressed_at.take()
                    }
                };
                if let Some(at) = pressed_at {
                    self.release_power_button(at.elapsed());
                }
            }
            Line::ResetButton => {
                let mut s = self.lock();
                if s.reset_pressed && !asserted && self.power_good() {
                    s.resets += 1;
                }
                s.reset_pressed = asserted;
            }
            Line::Nmi => {
                if asserted && self.power_good() {
                    self.lock().nmis += 1;
                }
            }
            Line::IdentifyLed => self.lock().identify = asserted,
        }
        Ok(())
    }

    fn inputs(&self) -> watch::Receiver<Inputs> {
        self.inputs.subscribe()
    }
}

/// `org.rbmc.SimulatedHost` (its client is
/// [`rbmc_contracts::simulator::SimulatedHostProxy`]).
pub struct SimHostObject {
    board: SimBoard,
}

#[zbus::interface(name = "org.rbmc.SimulatedHost")]
impl SimHostObject {
    /// Whether the host has power.
    #[zbus(property)]
    fn power_good(&self) -> bool {
        self.board.power_good()
    }
    /// Reset pulses received while on.
    #[zbus(property)]
    fn resets(&self) -> u32 {
        self.board.lock().resets
    }
    /// NMI pulses received while on.
    #[zbus(property)]
    fn nmis(&self) -> u32 {
        self.board.lock().nmis
    }
    /// Whether the identify LED is lit.
    #[zbus(property)]
    fn identify_led(&self) -> bool {
        self.board.lock().identify
    }
    /// Injects a fault: `no-power-good` or `power-loss`.
    fn inject(&self, fault: &str) -> Result<(), rbmc_contracts::CommonError> {
        self.board
            .inject(fault)
            .map_err(rbmc_contracts::CommonError::InvalidArgument)
    }
    /// Clears injected faults.
    fn clear(&self) {
        self.board.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn board() -> SimBoard {
        SimBoard::new(SimulatedHost {
            power_good_delay_ms: 50,
            shutdown_delay_ms: 50,
            force_off_threshold_ms: 100,
        })
    }

    async fn press(board: &SimBoard, line: Line, ms: u64) {
        board.set(line, true).unwrap();
        tokio::time::sleep(Duration::from_millis(ms)).await;
        board.set(line, false).unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn behaves_like_an_atx_host() {
        let board = board();
        let mut inputs = board.inputs();
        press(&board, Line::PowerButton, 20).await;
        assert!(!inputs.borrow().power_good);
        inputs.changed().await.unwrap();
        assert!(inputs.borrow().power_good);
        press(&board, Line::ResetButton, 20).await;
        assert_eq!(board.lock().resets, 1);
        // A long press cuts power at once.
        press(&board, Line::PowerButton, 150).await;
        assert!(!inputs.borrow_and_update().power_good);
        // A host that fails to start never raises power-good.
        board.inject("no-power-good").unwrap();
        press(&board, Line::PowerButton, 20).await;
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert!(!board.power_good());
    }
}
