//! The power controller: the sequencer, the board and everything the
//! chassis commands read and change, under one lock, plus the tasks that
//! carry out the sequencer's actions, follow the board's inputs and write
//! the state file.
//!
//! The lock is held only for short sections with no await and no I/O. The
//! state file is written on the blocking pool, one write at a time, in two
//! ways:
//! - a setting an operator changes (restore policy, boot options) goes
//!   through [`Controller::change_setting`]: staged on a copy, written, and
//!   made on the live state (and acknowledged) only once durable; a failed
//!   write changes nothing and is answered C4h (full disk) or FFh;
//! - what the host's power does (on/off for the "previous" policy, power-on
//!   minutes, restart cause) is recorded by [`Controller::persist`], which
//!   wakes the background writer: it writes the live state as it is when it
//!   runs, so a burst of events costs one write, and a failure is logged and
//!   retried by the next change.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use ipmi_wire::CompletionCode;
use power_sequencer::{Action, Button, PowerEvent, Request, Sequencer, Timings};
use rbmc_config::{Power, RestorePolicyName};
use rbmc_daemon::durable;
use tokio::sync::{mpsc, Notify};
use tracing::{info, warn};

use crate::{
    board::{Board, Line},
    store::{Store, Stored},
};

/// Get System Restart Cause codes (IPMI v2.0 §28.11, Table 28-11).
pub mod cause {
    /// Unknown.
    pub const UNKNOWN: u8 = 0x00;
    /// Chassis Control command.
    pub const CHASSIS_CONTROL: u8 = 0x01;
    /// Reset via pushbutton.
    pub const RESET_BUTTON: u8 = 0x02;
    /// Power-up via power pushbutton.
    pub const POWER_BUTTON: u8 = 0x03;
    /// Watchdog expiration.
    pub const WATCHDOG: u8 = 0x04;
    /// Automatic power-up on AC being applied, "always restore" policy.
    pub const ALWAYS_ON_POLICY: u8 = 0x06;
    /// Automatic power-up on AC being applied, "restore previous" policy.
    pub const PREVIOUS_POLICY: u8 = 0x07;
}

/// The identify LED's state.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Identify {
    /// Off.
    Off,
    /// On until then.
    Until(Instant),
    /// On until told otherwise.
    Forever,
}

/// Everything under the lock.
#[derive(Debug)]
pub struct State {
    /// The power state machine.
    pub sequencer: Sequencer,
    /// What is persisted.
    pub stored: Stored,
    /// The cause to record when the host next comes up or resets.
    pub pending_cause: u8,
    /// The cause of the request queued behind the transition under way.
    pub queued_cause: u8,
    /// Get Chassis Status "last power event" bits (Table 28-4 byte 2).
    pub last_power_event: u8,
    /// The identify LED.
    pub identify: Identify,
    /// When the host came on, for the POH counter.
    pub on_since: Option<Instant>,
    /// Chassis intrusion input.
    pub intrusion: bool,
    /// System boot options (parameters 0-6).
    pub boot: ipmi_boot::BootOptions,
    /// The BMC watchdog timer.
    pub watchdog: ipmi_watchdog::Watchdog,
    /// When the boot options' timers last advanced.
    pub last_tick: Instant,
    /// ACPI system and device power states (Get ACPI Power State, §20.7):
    /// what system software last set, or what power-good implies.
    pub acpi: crate::acpi::AcpiState,
}

impl State {
    /// Power-on minutes including the present on-period.
    pub fn power_on_minutes(&self, now: Instant) -> u64 {
        self.stored.power_on_minutes
            + self
                .on_since
                .map(|since| now.saturating_duration_since(since).as_secs() / 60)
                .unwrap_or(0)
    }

    /// What the state file holds for this state.
    fn persisted(&self, now: Instant) -> Stored {
        persisted(&self.stored, &self.boot, self.power_on_minutes(now))
    }

    /// The restore policy code in force.
    pub fn policy(&self, default: RestorePolicyName) -> u8 {
        self.stored.restore_policy.unwrap_or(match default {
            RestorePolicyName::AlwaysOff => 0,
            RestorePolicyName::Previous => 1,
            RestorePolicyName::AlwaysOn => 2,
        })
    }
}

/// Events to report (log and SEL).
pub struct Events {
    /// Power events.
    pub power: mpsc::UnboundedReceiver<PowerEvent>,
    /// Watchdog events.
    pub watchdog: mpsc::UnboundedReceiver<ipmi_watchdog::WatchdogEvent>,
}

/// The controller shared by the command handlers, D-Bus and the tasks.
pub struct Controller {
    state: Mutex<State>,
    board: Arc<dyn Board>,
    store: Store,
    /// The configured default restore policy.
    pub default_policy: RestorePolicyName,
    actions: mpsc::UnboundedSender<Action>,
    events: mpsc::UnboundedSender<PowerEvent>,
    watchdog_events: mpsc::UnboundedSender<ipmi_watchdog::WatchdogEvent>,
    /// Wakes the background writer ([`Controller::save_in_background`]).
    dirty: Notify,
    /// Wakes the timer task ([`Controller::run_timers`]) after any change,
    /// which may have set or moved a deadline.
    rearm: Notify,
}

/// The state, locked; releasing it wakes the timer task, so a deadline a
/// change set is never slept past.
pub struct StateGuard<'a> {
    guard: std::sync::MutexGuard<'a, State>,
    rearm: &'a Notify,
}

impl std::ops::Deref for StateGuard<'_> {
    type Target = State;

    fn deref(&self) -> &State {
        &self.guard
    }
}

impl std::ops::DerefMut for StateGuard<'_> {
    fn deref_mut(&mut self) -> &mut State {
        &mut self.guard
    }
}

impl Drop for StateGuard<'_> {
    fn drop(&mut self) {
        self.rearm.notify_one();
    }
}

impl std::fmt::Debug for Controller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Controller").finish_non_exhaustive()
    }
}

/// The off time of a power cycle set to `seconds` (Set Power Cycle
/// Interval): at least 1 s, the spec's floor for a cycle, so 0 means the
/// shortest.
pub fn cycle_interval(seconds: u8) -> Duration {
    Duration::from_secs(u64::from(seconds.max(1)))
}

fn timings(config: &Power) -> Timings {
    let ms = Duration::from_millis;
    Timings {
        press: ms(config.press_ms),
        force_off: ms(config.force_off_ms),
        reset_pulse: ms(config.reset_pulse_ms),
        nmi_pulse: ms(config.nmi_pulse_ms),
        power_on_timeout: ms(config.power_on_timeout_ms),
        soft_off_timeout: ms(config.soft_off_timeout_ms),
        cycle_off: ms(config.cycle_off_ms),
    }
}

impl Controller {
    /// A controller over `board`; returns it with the receivers of the
    /// actions to carry out and the events to report.
    pub fn new(
        config: &Power,
        board: Arc<dyn Board>,
        store: Store,
    ) -> (Arc<Self>, mpsc::UnboundedReceiver<Action>, Events) {
        let inputs = *board.inputs().borrow();
        let stored = store.load();
        let stored_boot = stored.boot_options.clone();
        let (actions, actions_rx) = mpsc::unbounded_channel();
        let (events, events_rx) = mpsc::unbounded_channel();
        let (watchdog_events, watchdog_rx) = mpsc::unbounded_channel();
        let now = Instant::now();
        let mut sequencer = Sequencer::new(timings(config), inputs.power_good);
        if let Some(seconds) = stored.power_cycle_interval_s {
            sequencer.set_cycle_off(cycle_interval(seconds));
        }
        let controller = Arc::new(Self {
            state: Mutex::new(State {
                sequencer,
                stored,
                pending_cause: cause::UNKNOWN,
                queued_cause: cause::UNKNOWN,
                last_power_event: 0,
                identify: Identify::Off,
                on_since: inputs.power_good.then_some(now),
                intrusion: inputs.intrusion,
                boot: ipmi_boot::BootOptions::from_bytes(&hex_decode(&stored_boot))
                    .unwrap_or_default(),
                watchdog: ipmi_watchdog::Watchdog::new(),
                last_tick: now,
                acpi: crate::acpi::AcpiState::for_power(inputs.power_good),
            }),
            board,
            store,
            default_policy: config.restore_policy,
            actions,
            events,
            watchdog_events,
            dirty: Notify::new(),
            rearm: Notify::new(),
        });
        (
            controller,
            actions_rx,
            Events {
                power: events_rx,
                watchdog: watchdog_rx,
            },
        )
    }

    /// The state, locked (releasing it rearms the timers).
    pub fn lock(&self) -> StateGuard<'_> {
        StateGuard {
            guard: self.lock_quietly(),
            rearm: &self.rearm,
        }
    }

    /// The state, locked, without waking the timer task: for the timer
    /// task itself.
    fn lock_quietly(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The earliest time [`Controller::tick`] has something to do: a
    /// power transition's deadline, the watchdog's, the boot options'
    /// valid-bit timeout, the end of a timed identify.
    fn next_deadline(&self) -> Option<Instant> {
        let state = self.lock_quietly();
        let identify = match state.identify {
            Identify::Until(until) => Some(until),
            _ => None,
        };
        [
            state.sequencer.next_deadline(),
            state.watchdog.next_deadline(),
            state
                .boot
                .timeout_remaining()
                .map(|left| state.last_tick + left),
            identify,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Runs the timers: sleeps until the next deadline, or until a change
    /// may have moved it, and ticks. No periodic wake-up: an idle BMC
    /// costs nothing here.
    pub async fn run_timers(self: Arc<Self>) {
        loop {
            self.tick();
            let deadline = self.next_deadline();
            let rearmed = self.rearm.notified();
            match deadline {
                Some(deadline) => {
                    tokio::select! {
                        () = tokio::time::sleep_until(deadline.into()) => {}
                        () = rearmed => {}
                    }
                }
                None => rearmed.await,
            }
        }
    }

    /// Has the background writer save the state soon; returns at once (the
    /// caller may hold the lock). The write takes the state as it is then,
    /// with every change made up to it. For a change that is acknowledged
    /// only once durable, use [`Controller::change_setting`].
    pub fn persist(&self, _state: &State) {
        self.dirty.notify_one();
    }

    /// Writes the state whenever [`Controller::persist`] asked for it, until
    /// the controller is dropped. A failure is logged; the next change
    /// writes again.
    pub async fn save_in_background(self: Arc<Self>) {
        loop {
            self.dirty.notified().await;
            if let Err(err) = self.save_now().await {
                warn!(cause = %err, "cannot persist power state; the next change retries");
            }
        }
    }

    /// Writes the live state now (after any change under way), and waits
    /// for it to be durable: the last write before the daemon exits.
    pub async fn save_now(&self) -> std::io::Result<()> {
        let mut write = self.store.file().begin().await;
        let stored = self.lock().persisted(Instant::now());
        write.write(stored.encode()?).await
    }

    /// Changes what an operator sets (the restore policy, the boot
    /// options): `change` runs on a copy of the stored state and the boot
    /// options, and may refuse with a completion code. If what is persisted
    /// changed, the copy is written off the runtime's thread; only once it
    /// is durable is `change` made on the live state and its result
    /// returned. A failed write changes nothing: C4h for a full disk, FFh
    /// otherwise. One change (or background write) runs at a time, so none
    /// is staged from a state another is about to replace.
    pub async fn change_setting<R>(
        &self,
        change: impl Fn(&mut Stored, &mut ipmi_boot::BootOptions) -> Result<R, CompletionCode>,
    ) -> Result<R, CompletionCode> {
        let mut write = self.store.file().begin().await;
        let (result, staged) = {
            let mut state = self.lock();
            let mut stored = state.stored.clone();
            let mut boot = state.boot.clone();
            let result = change(&mut stored, &mut boot)?;
            let minutes = state.power_on_minutes(Instant::now());
            let staged = persisted(&stored, &boot, minutes);
            if staged == persisted(&state.stored, &state.boot, minutes) {
                // Nothing persisted changes (a read, or a volatile part of
                // the boot options): made at once, under the same lock.
                state.stored = stored;
                state.boot = boot;
                return Ok(result);
            }
            (result, staged)
        };
        let bytes = staged.encode().map_err(|_| CompletionCode::UNSPECIFIED)?;
        write.write(bytes).await.map_err(|err| {
            warn!(cause = %err, "cannot persist power state; change refused");
            durable::completion_code(&err)
        })?;
        let mut state = self.lock();
        let State { stored, boot, .. } = &mut *state;
        // The same change again, now on the live state: what the power path
        // did meanwhile (an event, a timer) stays. Should it come out
        // differently, the background writer brings the file in line.
        if change(stored, boot).is_err() || state.persisted(Instant::now()) != staged {
            self.persist(&state);
        }
        Ok(result)
    }

    /// Asks for a transition; `cause` is recorded if the host comes up or
    /// resets because of it.
    pub fn request(&self, request: Request, cause: u8) -> Result<(), power_sequencer::Refused> {
        let mut state = self.lock();
        let was_queued = state.sequencer.queued().is_some();
        let actions = state.sequencer.request(Instant::now(), request)?;
        if !actions.is_empty() {
            self.note_start(&mut state, request, cause);
        } else if !was_queued && state.sequencer.queued().is_some() {
            info!(?request, "queued behind the power transition under way");
            state.queued_cause = cause;
        }
        drop(state);
        self.handle(actions);
        Ok(())
    }

    /// Book-keeping for a request that starts now.
    fn note_start(&self, state: &mut State, request: Request, cause: u8) {
        state.pending_cause = cause;
        if request == Request::On && cause == cause::CHASSIS_CONTROL {
            // Table 28-4 byte 2 bit 4: last power-on via IPMI command.
            state.last_power_event = 0x10;
        }
        if request == Request::Reset {
            state.stored.restart_cause = cause;
            self.persist(state);
        }
    }

    /// Sets the identify LED.
    pub fn identify(&self, identify: Identify) {
        self.lock().identify = identify;
        if let Err(err) = self.board.set(Line::IdentifyLed, identify != Identify::Off) {
            warn!(cause = %err, "cannot drive the identify LED");
        }
    }

    fn run(&self, actions: Vec<Action>) {
        for action in actions {
            // The receiver lives as long as the daemon.
            let _ = self.actions.send(action);
        }
    }

    /// Applies the restore policy after the daemon starts (a BMC start is
    /// when AC power has come back, as far as the host is concerned).
    pub fn apply_restore_policy(&self) {
        let (policy, was_on, is_on) = {
            let state = self.lock();
            (
                state.policy(self.default_policy),
                state.stored.host_on,
                state.sequencer.is_on(),
            )
        };
        let cause = match (policy, was_on) {
            (2, _) => cause::ALWAYS_ON_POLICY,
            (1, true) => cause::PREVIOUS_POLICY,
            _ => return,
        };
        if !is_on {
            info!(policy, "restore policy: powering the host on");
            if let Err(err) = self.request(Request::On, cause) {
                warn!(cause = %err, "restore policy could not power on");
            }
        }
    }

    /// Handles what is due: called by the timer task ([`Controller::run_timers`]).
    pub fn tick(&self) {
        let now = Instant::now();
        let mut state = self.lock_quietly();
        let actions = state.sequencer.poll(now);
        let identify_done = matches!(state.identify, Identify::Until(until) if now >= until);
        let elapsed = now.saturating_duration_since(state.last_tick);
        state.last_tick = now;
        state.boot.tick(elapsed);
        let expired = state.watchdog.poll(now);
        drop(state);
        self.handle(actions);
        if identify_done {
            self.identify(Identify::Off);
        }
        for event in expired {
            self.on_watchdog(event);
        }
    }

    /// Carries out a watchdog event: the timeout action on the host, and the
    /// event report.
    fn on_watchdog(&self, event: ipmi_watchdog::WatchdogEvent) {
        use ipmi_watchdog::{TimeoutAction, WatchdogEvent};
        let _ = self.watchdog_events.send(event);
        if let WatchdogEvent::PreTimeout {
            interrupt: ipmi_watchdog::PreTimeoutInterrupt::Nmi,
            ..
        } = event
        {
            // The pre-timeout interrupt the host asked for: pulse NMI.
            if let Err(err) = self.request(Request::Diagnostic, cause::WATCHDOG) {
                warn!(cause = %err, "watchdog pre-timeout NMI refused");
            }
        }
        if let WatchdogEvent::Expired { action, .. } = event {
            let request = match action {
                TimeoutAction::NoAction => return,
                TimeoutAction::HardReset => Request::Reset,
                TimeoutAction::PowerDown => Request::Off,
                TimeoutAction::PowerCycle => Request::Cycle,
            };
            info!(?action, "watchdog expired");
            if let Err(err) = self.request(request, cause::WATCHDOG) {
                warn!(cause = %err, ?action, "watchdog action refused");
            }
        }
    }

    /// Follows the board's inputs until the board goes away.
    pub async fn follow_inputs(self: Arc<Self>) {
        let mut inputs = self.board.inputs();
        loop {
            let now = *inputs.borrow_and_update();
            let actions = {
                let mut state = self.lock();
                state.intrusion = now.intrusion;
                state.sequencer.power_good(Instant::now(), now.power_good)
            };
            self.handle(actions);
            if inputs.changed().await.is_err() {
                return;
            }
        }
    }

    /// Book-keeping for sequencer actions, then hands them to the executor.
    fn handle(&self, actions: Vec<Action>) {
        for action in &actions {
            if let Action::Dequeued { request, refused } = action {
                let mut state = self.lock();
                match refused {
                    None => {
                        info!(?request, "queued power request runs now");
                        let cause = state.queued_cause;
                        self.note_start(&mut state, *request, cause);
                    }
                    Some(reason) => {
                        warn!(?request, %reason, "queued power request not carried out");
                    }
                }
                state.queued_cause = cause::UNKNOWN;
            }
            if let Action::Event(event) = action {
                let mut state = self.lock();
                let now = Instant::now();
                match event {
                    PowerEvent::PoweredOn => {
                        let boot_cause = match state.pending_cause {
                            cause::WATCHDOG => ipmi_boot::ResetCause::Watchdog,
                            cause::CHASSIS_CONTROL => ipmi_boot::ResetCause::ChassisControl,
                            _ => ipmi_boot::ResetCause::PowerButtonOrWake,
                        };
                        state.boot.on_host_reset(boot_cause);
                        state.watchdog.on_host_reset();
                        state.on_since = Some(now);
                        state.stored.host_on = true;
                        state.stored.restart_cause = if state.pending_cause == cause::UNKNOWN {
                            cause::POWER_BUTTON
                        } else {
                            state.pending_cause
                        };
                        state.pending_cause = cause::UNKNOWN;
                        state.acpi.power_changed(true);
                    }
                    PowerEvent::Reset => {
                        let boot_cause = if state.stored.restart_cause == cause::WATCHDOG {
                            ipmi_boot::ResetCause::Watchdog
                        } else {
                            ipmi_boot::ResetCause::ChassisControl
                        };
                        state.boot.on_host_reset(boot_cause);
                        state.watchdog.on_host_reset();
                    }
                    PowerEvent::PoweredOff | PowerEvent::PowerLost => {
                        state.watchdog.on_host_reset();
                        state.stored.power_on_minutes = state.power_on_minutes(now);
                        state.on_since = None;
                        state.stored.host_on = false;
                        state.acpi.power_changed(false);
                        if *event == PowerEvent::PowerLost {
                            // Table 28-4 byte 2 bit 3: power down caused by
                            // a power fault.
                            state.last_power_event = 0x08;
                        }
                    }
                    _ => {}
                }
                self.persist(&state);
                let _ = self.events.send(*event);
            }
        }
        self.run(
            actions
                .into_iter()
                .filter(|a| matches!(a, Action::Press { .. }))
                .collect(),
        );
    }

    /// Carries out button presses until the controller is dropped.
    pub async fn execute(self: Arc<Self>, mut actions: mpsc::UnboundedReceiver<Action>) {
        while let Some(action) = actions.recv().await {
            let Action::Press { button, hold } = action else {
                continue;
            };
            let line = match button {
                Button::Power => Line::PowerButton,
                Button::Reset => Line::ResetButton,
                Button::Nmi => Line::Nmi,
            };
            let board = self.board.clone();
            tokio::spawn(async move {
                if let Err(err) = board.set(line, true) {
                    warn!(cause = %err, "cannot press {line:?}");
                    return;
                }
                tokio::time::sleep(hold).await;
                if let Err(err) = board.set(line, false) {
                    warn!(cause = %err, "cannot release {line:?}");
                }
            });
        }
    }
}

/// What the state file holds: `stored` with the power-on minutes so far and
/// the boot options.
fn persisted(stored: &Stored, boot: &ipmi_boot::BootOptions, power_on_minutes: u64) -> Stored {
    Stored {
        power_on_minutes,
        boot_options: hex_encode(&boot.to_bytes()),
        ..stored.clone()
    }
}

/// Lower-case hex, for the boot options in the TOML state file.
fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The inverse of [`hex_encode`]; anything malformed gives no bytes.
fn hex_decode(text: &str) -> Vec<u8> {
    (0..text.len() / 2)
        .map_while(|i| {
            text.get(2 * i..2 * i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect()
}
