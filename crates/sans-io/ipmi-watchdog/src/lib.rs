//! The BMC watchdog timer (IPMI v2.0 §27) as a sans-IO state machine.
//!
//! This crate reads no clock and does no I/O: every call that depends on time
//! takes `now`. The service owns one [`Watchdog`] and
//!
//! 1. passes the request data of Reset (App 22h), Set (App 24h) and Get
//!    (App 25h) Watchdog Timer to [`Watchdog::reset`], [`Watchdog::set`] and
//!    [`Watchdog::get`], and replies with the data or the completion code;
//! 2. sleeps until [`Watchdog::next_deadline`], calls [`Watchdog::poll`] and
//!    carries out each [`WatchdogEvent`]: raise the pre-timeout interrupt,
//!    reset or power the host, add the Watchdog 2 SEL entry when `log` is set;
//! 3. calls [`Watchdog::on_host_reset`] whenever the host is reset or powered
//!    off, including by a watchdog action.
//!
//! # Layout
//!
//! - [`Watchdog`]: the timer and the three command handlers.
//! - [`SetRequest`]: the Set Watchdog Timer request (Table 27-7).
//! - [`TimerUse`], [`PreTimeoutInterrupt`], [`TimeoutAction`]: its code sets.
//! - [`WatchdogEvent`]: what `poll` reports, with its SEL encoding (Table 42-3).
#![forbid(unsafe_code)]

use std::time::{Duration, Instant};

use ipmi_wire::{code_set, CompletionCode, SensorType, Watchdog2Offset};

/// The BMC watchdog timer (IPMI v2.0 §27).
///
/// Time only moves when a call passes a later `now`. Every command first
/// catches up to its `now`, so a pre-timeout or expiry that fell due before
/// the command is never lost: it is queued for the next [`Watchdog::poll`].
#[derive(Clone, Debug)]
pub struct Watchdog {
    /// The last accepted Set request (its `dont_stop` only mattered then).
    config: SetRequest,
    /// Timer use expiration flags, laid out as Get response byte 5.
    expiration_flags: u8,
    /// Whether Set was issued since power-on or the last host reset (§27.5).
    initialized: bool,
    run: Run,
    /// Events that fell due and `poll` has not returned, oldest first, each
    /// with the instant it fell due.
    pending: Vec<(Instant, WatchdogEvent)>,
}

/// Whether the countdown runs.
#[derive(Clone, Copy, Debug)]
enum Run {
    /// Stopped; `present` is the countdown Get reports.
    Stopped { present: u16 },
    /// Counting down to `expires_at`.
    Running {
        expires_at: Instant,
        pre_timeout: PreTimeout,
    },
}

/// The pre-timeout interrupt of a running countdown.
#[derive(Clone, Copy, Debug)]
enum PreTimeout {
    /// No interrupt is configured.
    Disabled,
    /// The interrupt fires at this instant.
    Armed(Instant),
    /// The interrupt fired; Reset may no longer restart the timer (§27.5).
    Fired,
}

impl Watchdog {
    /// The power-on state: stopped, never set (Reset answers 80h), timer use
    /// 0 (reserved), no actions, countdown 0, no expiration flags.
    pub fn new() -> Self {
        Self {
            config: SetRequest {
                dont_log: false,
                dont_stop: false,
                timer_use: TimerUse(0),
                interrupt: PreTimeoutInterrupt::None,
                action: TimeoutAction::NoAction,
                pre_timeout_secs: 0,
                clear_flags: 0,
                initial_countdown: 0,
            },
            expiration_flags: 0,
            initialized: false,
            run: Run::Stopped { present: 0 },
            pending: Vec::new(),
        }
    }

    /// Set Watchdog Timer (App 24h, IPMI v2.0 §27.6, Table 27-7).
    ///
    /// Takes the 6 request data bytes ([`SetRequest`]) and returns empty
    /// response data. A bad length (C7h) or field (CCh) leaves the timer as
    /// it was.
    ///
    /// The timer stops, unless "don't stop" is set and it was running: then
    /// it restarts from the new countdown and the pre-timeout re-arms (Table
    /// 27-7 byte 1 bit 6). The flags in the clear mask are cleared. Set also
    /// clears the watchdog pre-timeout flag of Get Message Flags (§27.6); the
    /// service that keeps that flag clears it when this returns Ok.
    pub fn set(&mut self, now: Instant, request: &[u8]) -> Result<Vec<u8>, CompletionCode> {
        let request = SetRequest::parse(request)?;
        self.advance(now);
        let keep_running = request.dont_stop && matches!(self.run, Run::Running { .. });
        self.config = request;
        self.expiration_flags &= !request.clear_flags;
        self.initialized = true;
        self.run = if keep_running {
            self.start(now)
        } else {
            Run::Stopped {
                present: request.initial_countdown,
            }
        };
        Ok(Vec::new())
    }

    /// Get Watchdog Timer (App 25h, IPMI v2.0 §27.7, Table 27-8).
    ///
    /// Takes empty request data (else C7h) and returns these 8 bytes (the
    /// spec numbers them from 2, after the completion code), with the present
    /// countdown as of `now`:
    ///
    /// ```text
    ///  byte   7    6    5  4  3    2  1  0
    ///       +----+----+---------+----------+
    ///    2  | DL |RUN | reserved| timer use|  DL = don't log, RUN = running
    ///       +----+----+----+----+----+-----+
    ///    3  |rsv | pre-timeout  |rsv |action|  as Set byte 2
    ///       +----+--------------+----+-----+
    ///    4  | pre-timeout interval, seconds |
    ///    5  | expiration flags              |  as Set byte 4; 1 = expired
    ///  6, 7 | initial countdown, LS first   |  100 ms counts
    ///  8, 9 | present countdown, LS first   |  100 ms counts
    ///       +-------------------------------+
    /// ```
    pub fn get(&self, now: Instant, request: &[u8]) -> Result<Vec<u8>, CompletionCode> {
        if !request.is_empty() {
            return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
        }
        // Get cannot change state, so catch a copy up to `now`: a timer that
        // is due reads as expired even before the service polls it.
        let mut view = self.clone();
        view.advance(now);
        let config = view.config;
        let (running, present) = match view.run {
            Run::Stopped { present } => (false, present),
            Run::Running { expires_at, .. } => (true, config.counts_left(now, expires_at)),
        };
        let mut timer_use = config.emit()[0] & !DONT_STOP;
        if running {
            timer_use |= RUNNING;
        }
        let [initial_ls, initial_ms] = config.initial_countdown.to_le_bytes();
        let [present_ls, present_ms] = present.to_le_bytes();
        Ok(vec![
            timer_use,
            config.emit()[1],
            config.pre_timeout_secs,
            view.expiration_flags,
            initial_ls,
            initial_ms,
            present_ls,
            present_ms,
        ])
    }

    /// Reset Watchdog Timer (App 22h, IPMI v2.0 §27.5).
    ///
    /// Takes empty request data (else C7h), (re)starts the countdown from
    /// the initial value and returns empty response data. Answers 80h
    /// ([`CC_UNINITIALIZED`]) if Set was not issued since power-on or the
    /// last host reset, and D5h once the pre-timeout interrupt has fired:
    /// §27.5 says Reset then no longer restarts the timer; only Set stops it.
    pub fn reset(&mut self, now: Instant, request: &[u8]) -> Result<Vec<u8>, CompletionCode> {
        if !request.is_empty() {
            return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
        }
        self.advance(now);
        if !self.initialized {
            return Err(CC_UNINITIALIZED);
        }
        if let Run::Running {
            pre_timeout: PreTimeout::Fired,
            ..
        } = self.run
        {
            return Err(CompletionCode::NOT_SUPPORTED_IN_PRESENT_STATE);
        }
        self.run = self.start(now);
        Ok(Vec::new())
    }

    /// Advances to `now` and returns the events that fell due, oldest first.
    ///
    /// On expiry the timer stops, the expiration flag of its timer use is set
    /// and "don't log" clears (§27.2: it "is cleared after every system hard
    /// reset or timer time-out").
    pub fn poll(&mut self, now: Instant) -> Vec<WatchdogEvent> {
        self.advance(now);
        self.pending.drain(..).map(|(_, event)| event).collect()
    }

    /// When [`Watchdog::poll`] should next be called: at the pre-timeout or
    /// the expiry, whichever is first, or at once if events are queued.
    /// `None` when stopped with nothing queued.
    pub fn next_deadline(&self) -> Option<Instant> {
        let queued = self.pending.first().map(|&(at, _)| at);
        let timer = match self.run {
            Run::Stopped { .. } => None,
            Run::Running {
                expires_at,
                pre_timeout: PreTimeout::Armed(at),
            } => Some(at.min(expires_at)),
            Run::Running { expires_at, .. } => Some(expires_at),
        };
        queued.into_iter().chain(timer).min()
    }

    /// The host was reset or powered off.
    ///
    /// The timer stops and its countdown reloads (§27.6: system hard resets
    /// "stop the timer"; §27.1: a command must start it after power-up).
    /// "Don't log" clears (§27.2). The expiration flags are kept: they
    /// "retain their state across system resets and power cycles" (§27.2).
    /// Reset answers 80h until the next Set, as §27.5 recommends when Set was
    /// not issued "since the last system power on, reset, or BMC reset".
    /// Queued events are kept; poll first so timers due before now fire.
    pub fn on_host_reset(&mut self) {
        self.run = Run::Stopped {
            present: self.config.initial_countdown,
        };
        self.config.dont_log = false;
        self.initialized = false;
    }

    /// The timer use expiration flags, as Get response byte 5.
    pub fn expiration_flags(&self) -> u8 {
        self.expiration_flags
    }

    /// Whether the countdown runs, as of the last call that took `now`.
    pub fn is_running(&self) -> bool {
        matches!(self.run, Run::Running { .. })
    }

    /// A countdown that starts at `now`.
    fn start(&self, now: Instant) -> Run {
        let countdown = COUNT * u32::from(self.config.initial_countdown);
        // Only an `Instant` near the end of time overflows; expiring at once
        // is the safe answer and keeps the handler panic-free.
        let expires_at = now.checked_add(countdown).unwrap_or(now);
        let pre_timeout = if self.config.interrupt == PreTimeoutInterrupt::None {
            PreTimeout::Disabled
        } else {
            // Set checked interval <= countdown, so this is not before `now`.
            let lead = Duration::from_secs(u64::from(self.config.pre_timeout_secs));
            PreTimeout::Armed(expires_at.checked_sub(lead).unwrap_or(now).max(now))
        };
        Run::Running {
            expires_at,
            pre_timeout,
        }
    }

    /// Fires whatever fell due by `now`. The pre-timeout is checked first
    /// because it is never due after the expiry.
    fn advance(&mut self, now: Instant) {
        let Run::Running {
            expires_at,
            pre_timeout,
        } = self.run
        else {
            return;
        };
        let SetRequest {
            dont_log,
            timer_use,
            interrupt,
            action,
            ..
        } = self.config;
        if let PreTimeout::Armed(at) = pre_timeout {
            if now >= at {
                let log = !dont_log;
                self.queue(
                    at,
                    WatchdogEvent::PreTimeout {
                        interrupt,
                        timer_use,
                        log,
                    },
                );
                self.run = Run::Running {
                    expires_at,
                    pre_timeout: PreTimeout::Fired,
                };
            }
        }
        if now >= expires_at {
            let log = !dont_log;
            let event = WatchdogEvent::Expired {
                action,
                interrupt,
                timer_use,
                log,
            };
            self.queue(expires_at, event);
            self.expiration_flags |= timer_use.expiration_flag();
            self.config.dont_log = false;
            self.run = Run::Stopped { present: 0 };
        }
    }

    /// Queues an event, dropping the oldest beyond [`MAX_PENDING`] so a host
    /// that loops Set/Reset faster than the service polls cannot grow memory.
    fn queue(&mut self, at: Instant, event: WatchdogEvent) {
        if self.pending.len() >= MAX_PENDING {
            self.pending.remove(0);
        }
        self.pending.push((at, event));
    }
}

impl Default for Watchdog {
    fn default() -> Self {
        Self::new()
    }
}

/// A Set Watchdog Timer request (IPMI v2.0 §27.6, Table 27-7).
///
/// ```text
///  byte   7    6    5  4  3    2  1  0
///       +----+----+---------+----------+
///    1  | DL | DS | reserved| timer use|  DL = don't log, DS = don't stop
///       +----+----+----+----+----+-----+
///    2  |rsv | pre-timeout  |rsv |action|
///       +----+--------------+----+-----+
///    3  | pre-timeout interval, seconds |
///       +----+----+----+----+----+----+----+----+
///    4  |rsv |rsv |OEM |SMS |OS  |POST|FRB2|rsv |  1 = clear that flag
///       +----+----+----+----+----+----+----+----+
///  5, 6 | initial countdown, LS first   |  100 ms counts
///       +-------------------------------+
/// ```
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct SetRequest {
    /// Byte 1 bit 7: do not log the expiry in the SEL.
    pub dont_log: bool,
    /// Byte 1 bit 6: a running timer keeps running, restarted with the new
    /// countdown; a stopped one stays stopped.
    pub dont_stop: bool,
    /// Byte 1 bits 2:0; `parse` rejects reserved codes.
    pub timer_use: TimerUse,
    /// Byte 2 bits 6:4.
    pub interrupt: PreTimeoutInterrupt,
    /// Byte 2 bits 2:0.
    pub action: TimeoutAction,
    /// Byte 3: pre-timeout interval in seconds.
    pub pre_timeout_secs: u8,
    /// Byte 4: expiration flags to clear, in Get byte 5 layout.
    pub clear_flags: u8,
    /// Bytes 5-6: initial countdown in 100 ms counts.
    pub initial_countdown: u16,
}

impl SetRequest {
    /// Parses and validates request data. C7h unless exactly
    /// [`SetRequest::LEN`] bytes. CCh for a set reserved bit, a reserved
    /// timer use, interrupt or action code, or, while an interrupt is
    /// selected, a pre-timeout interval longer than the countdown (it would
    /// have to fire before the timer starts).
    pub fn parse(data: &[u8]) -> Result<Self, CompletionCode> {
        let &[use_byte, actions, pre_timeout_secs, clear_flags, ls, ms] = data else {
            return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
        };
        let invalid = CompletionCode::INVALID_DATA_FIELD;
        if use_byte & 0x38 != 0 || actions & 0x88 != 0 || clear_flags & 0xC1 != 0 {
            return Err(invalid);
        }
        let timer_use = TimerUse::from_code(use_byte & 0x07).ok_or(invalid)?;
        let interrupt = PreTimeoutInterrupt::from_code(actions >> 4).ok_or(invalid)?;
        let action = TimeoutAction::from_code(actions & 0x07).ok_or(invalid)?;
        let initial_countdown = u16::from_le_bytes([ls, ms]);
        if interrupt != PreTimeoutInterrupt::None
            && u32::from(pre_timeout_secs) * 10 > u32::from(initial_countdown)
        {
            return Err(invalid);
        }
        Ok(Self {
            dont_log: use_byte & DONT_LOG != 0,
            dont_stop: use_byte & DONT_STOP != 0,
            timer_use,
            interrupt,
            action,
            pre_timeout_secs,
            clear_flags,
            initial_countdown,
        })
    }

    /// The request data bytes.
    pub fn emit(&self) -> [u8; Self::LEN] {
        let flag = |set: bool, bit: u8| if set { bit } else { 0 };
        let [ls, ms] = self.initial_countdown.to_le_bytes();
        [
            flag(self.dont_log, DONT_LOG)
                | flag(self.dont_stop, DONT_STOP)
                | (self.timer_use.code() & 0x07),
            (self.interrupt.code() << 4) | self.action.code(),
            self.pre_timeout_secs,
            self.clear_flags,
            ls,
            ms,
        ]
    }

    /// Whole 100 ms counts left until `expires_at`, rounded up so that the
    /// present countdown equals the initial one right after Set or Reset
    /// (§27.7) and reads 0 only at expiry.
    fn counts_left(&self, now: Instant, expires_at: Instant) -> u16 {
        let initial = self.initial_countdown;
        let left = expires_at.saturating_duration_since(now);
        let counts = left.as_nanos().div_ceil(COUNT.as_nanos());
        u16::try_from(counts).map_or(initial, |counts| counts.min(initial))
    }

    /// Request data length (Table 27-7).
    pub const LEN: usize = 6;
}

code_set! {
    /// What the timer is used for (IPMI v2.0 §27.2; Table 27-7 byte 1 bits
    /// 2:0). An open set: 0 (the power-on value), 6 and 7 are reserved, but
    /// Get reports whatever is stored, so the type holds them; Set refuses
    /// them with CCh.
    pub struct TimerUse(u8) {
        /// 1: BIOS FRB2.
        BIOS_FRB2 = 1, "BIOS FRB2";
        /// 2: BIOS/POST.
        BIOS_POST = 2, "BIOS/POST";
        /// 3: OS Load.
        OS_LOAD = 3, "OS Load";
        /// 4: SMS/OS.
        SMS_OS = 4, "SMS/OS";
        /// 5: OEM.
        OEM = 5, "OEM";
    }
}

impl TimerUse {
    /// This use's bit in the expiration flags (Set byte 4, Get byte 5):
    /// bit n for code n, none for reserved codes.
    pub fn expiration_flag(self) -> u8 {
        match Self::from_code(self.0) {
            Some(known) => 1 << known.0,
            None => 0,
        }
    }
}

code_set! {
    /// The pre-timeout interrupt (IPMI v2.0 §27.6, Table 27-7 byte 2 bits
    /// 6:4); 4-7 are reserved. The code is also the interrupt type of SEL
    /// event data 2 bits 7:4.
    pub enum PreTimeoutInterrupt {
        /// 0: none.
        None = 0, "none";
        /// 1: SMI.
        Smi = 1, "SMI";
        /// 2: NMI / diagnostic interrupt.
        Nmi = 2, "NMI / Diagnostic Interrupt";
        /// 3: messaging interrupt (the system interface's interrupt).
        MessagingInterrupt = 3, "Messaging Interrupt";
    }
}

code_set! {
    /// The timeout action (IPMI v2.0 §27.1; Table 27-7 byte 2 bits 2:0); 4-7
    /// are reserved. The code is also the Watchdog 2 sensor offset of the
    /// expiry ([`Watchdog2Offset`], Table 42-3: 00h timer expired, 01h hard
    /// reset, 02h power down, 03h power cycle).
    pub enum TimeoutAction {
        /// 0: no action.
        NoAction = 0, "no action";
        /// 1: hard reset.
        HardReset = 1, "Hard Reset";
        /// 2: power down.
        PowerDown = 2, "Power Down";
        /// 3: power cycle.
        PowerCycle = 3, "Power Cycle";
    }
}

/// Something [`Watchdog::poll`] reports for the service to carry out.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum WatchdogEvent {
    /// The pre-timeout interval was reached: raise `interrupt` and set the
    /// watchdog pre-timeout flag of Get Message Flags (IPMI v2.0 §27.6, §22.4).
    PreTimeout {
        /// The interrupt to raise; never `None`.
        interrupt: PreTimeoutInterrupt,
        /// The timer use when it fired.
        timer_use: TimerUse,
        /// False when "don't log" was set. The spec only requires logging the
        /// expiry; a service that also logs offset 08h honours this.
        log: bool,
    },
    /// The countdown reached zero: carry out `action`, and when `log` is set
    /// add the Watchdog 2 SEL entry (IPMI v2.0 §27.6 byte 1 bit 7).
    Expired {
        /// What to do to the host.
        action: TimeoutAction,
        /// The configured pre-timeout interrupt, recorded in event data 2.
        interrupt: PreTimeoutInterrupt,
        /// The timer use at expiry; its expiration flag is now set.
        timer_use: TimerUse,
        /// False when the "don't log" bit was set.
        log: bool,
    },
}

impl WatchdogEvent {
    /// Event data 1-3 of the SEL entry for the Watchdog 2 sensor (sensor
    /// type [`SENSOR_TYPE_WATCHDOG_2`], event type 6Fh), per Table 42-3 and
    /// Table 29-6:
    ///
    /// ```text
    ///  data 1: 11b (sensor-specific extension in data 2) | 00b | offset
    ///          offset 00h expired, 01h hard reset, 02h power down,
    ///                 03h power cycle, 08h timer interrupt
    ///  data 2: interrupt type (bits 7:4) | timer use (bits 3:0)
    ///  data 3: FFh, unspecified
    /// ```
    pub fn sel_event_data(&self) -> [u8; 3] {
        let (offset, interrupt, timer_use) = match *self {
            Self::PreTimeout {
                interrupt,
                timer_use,
                ..
            } => (SEL_OFFSET_TIMER_INTERRUPT, interrupt, timer_use),
            Self::Expired {
                action,
                interrupt,
                timer_use,
                ..
            } => (action.code(), interrupt, timer_use),
        };
        [
            0xC0 | offset,
            (interrupt.code() << 4) | timer_use.code(),
            0xFF,
        ]
    }
}

/// Reset Watchdog Timer completion code 80h, "attempt to start un-initialized
/// watchdog" (IPMI v2.0 §27.5).
pub const CC_UNINITIALIZED: CompletionCode = CompletionCode(0x80);

/// Sensor type 23h, Watchdog 2 (IPMI v2.0 Table 42-3), as the byte a SEL
/// entry carries.
pub const SENSOR_TYPE_WATCHDOG_2: u8 = SensorType::WATCHDOG_2.0;

/// Watchdog 2 offset 08h, timer interrupt (IPMI v2.0 Table 42-3).
pub const SEL_OFFSET_TIMER_INTERRUPT: u8 = Watchdog2Offset::TIMER_INTERRUPT.0;

/// One count of the countdown (Table 27-7 bytes 5-6: "100 ms/count").
const COUNT: Duration = Duration::from_millis(100);

/// Set byte 1 / Get byte 2, bit 7: don't log (Table 27-7, 27-8).
const DONT_LOG: u8 = 0x80;

/// Set byte 1 bit 6: don't stop (Table 27-7).
const DONT_STOP: u8 = 0x40;

/// Get byte 2 bit 6: timer is running (Table 27-8).
const RUNNING: u8 = 0x40;

/// Bound on events queued between polls; two per countdown is the norm.
const MAX_PENDING: usize = 16;

#[cfg(test)]
mod tests;
