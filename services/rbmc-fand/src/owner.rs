//! The control task: it owns every zone (`fan_control::Zone`) and every PWM
//! output, and nothing else writes either. At each poll it reads the
//! sensors and the host's power over D-Bus, lets each zone decide, writes
//! the PWM outputs, logs a SEL event when a zone enters or leaves failsafe,
//! and publishes each zone's state for the D-Bus objects and the IPMI
//! command. Mode changes and manual targets come to it as [`Command`]s and
//! apply at once.
//!
//! When the daemon stops, every output is left at its zone's failsafe PWM:
//! nobody controls the fans until it is back.

use std::time::Duration;

use fan_control::{FailsafeCause, Mode, Poll, Reading, TargetError, Zone};
use ipmi_router::events::FAN_FAILSAFE;
use rbmc_config::{Config, FanZone, SensorEntry};
use tokio::sync::{mpsc, oneshot, watch};
use tracing::{info, warn};

use crate::{outputs::PwmOutput, readings};

/// How long the host's last known power state holds while rbmc-powerd does
/// not answer; then the host counts as on.
const POWER_STATE_STALE: Duration = Duration::from_secs(5);

/// Why a change was refused.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ControlError {
    /// No zone has that number.
    #[error("no fan zone {0}")]
    NoSuchZone(u8),
    /// No zone drives a PWM output of that name.
    #[error("no fan zone drives {0:?}")]
    NoSuchFan(String),
    /// The zone refused the target.
    #[error("{0}")]
    Target(TargetError),
    /// The control task is gone (the daemon is stopping).
    #[error("fan control is stopping")]
    Stopped,
}

/// A change asked of the control task.
#[derive(Debug)]
pub enum Command {
    /// Manual (true) or automatic mode for a zone.
    SetManual {
        /// The zone.
        zone: u8,
        /// Manual or not.
        manual: bool,
        /// The outcome.
        reply: oneshot::Sender<Result<(), ControlError>>,
    },
    /// A manual PWM target for the fan whose output is the `pwm` sensor
    /// `fan`, in hwmon counts.
    SetTarget {
        /// The `pwm` sensor's name.
        fan: String,
        /// 0-255.
        raw: u8,
        /// The outcome.
        reply: oneshot::Sender<Result<(), ControlError>>,
    },
}

/// One zone's state, as published after every poll and change.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ZoneState {
    /// The zone's number.
    pub id: u8,
    /// Manual mode.
    pub manual: bool,
    /// In failsafe.
    pub failsafe: bool,
    /// Why, one sentence per cause.
    pub causes: Vec<String>,
    /// The highest PWM of its fans, percent.
    pub pwm: f64,
    /// The controllers' highest demand, percent.
    pub demand: f64,
    /// Each fan's `pwm` sensor name and its PWM in counts.
    pub fans: Vec<(String, u8)>,
}

/// The way to the control task, for the D-Bus objects and the IPMI
/// command.
#[derive(Clone, Debug)]
pub struct FanHandle {
    commands: mpsc::Sender<Command>,
    state: watch::Receiver<Vec<ZoneState>>,
}

impl FanHandle {
    /// Puts zone `zone` in manual (true) or automatic mode.
    pub async fn set_manual(&self, zone: u8, manual: bool) -> Result<(), ControlError> {
        let (reply, answer) = oneshot::channel();
        self.ask(Command::SetManual {
            zone,
            manual,
            reply,
        })
        .await?;
        answer.await.map_err(|_| ControlError::Stopped)?
    }

    /// Sets a manual target, in counts, for the fan driven by `fan`.
    pub async fn set_target(&self, fan: &str, raw: u8) -> Result<(), ControlError> {
        let (reply, answer) = oneshot::channel();
        self.ask(Command::SetTarget {
            fan: fan.to_owned(),
            raw,
            reply,
        })
        .await?;
        answer.await.map_err(|_| ControlError::Stopped)?
    }

    async fn ask(&self, command: Command) -> Result<(), ControlError> {
        self.commands
            .send(command)
            .await
            .map_err(|_| ControlError::Stopped)
    }

    /// Every zone's latest state.
    pub fn zones(&self) -> Vec<ZoneState> {
        self.state.borrow().clone()
    }

    /// Zone `id`'s latest state.
    pub fn zone(&self, id: u8) -> Option<ZoneState> {
        self.state.borrow().iter().find(|z| z.id == id).cloned()
    }

    /// Changes to the zones' state.
    pub fn watch(&self) -> watch::Receiver<Vec<ZoneState>> {
        self.state.clone()
    }
}

/// A zone with its sensors and outputs.
pub struct ControlledZone {
    id: u8,
    zone: Zone,
    inputs: Vec<SensorEntry>,
    fans: Vec<(PwmOutput, Option<SensorEntry>)>,
    failing_writes: Vec<bool>,
    causes: Vec<FailsafeCause>,
    demand: f64,
}

impl ControlledZone {
    /// The zone `config` describes, with its outputs opened under the
    /// config's sysfs root (a missing output is a config problem).
    pub fn open(config: &Config, zone: &FanZone) -> Result<Self, rbmc_daemon::ConfigProblem> {
        let sensor = |name: &str| {
            config
                .sensors
                .iter()
                .find(|s| s.name.0 == name)
                .cloned()
                .ok_or_else(|| {
                    rbmc_daemon::ConfigProblem(format!("zone {}: no sensor {name:?}", zone.id))
                })
        };
        let inputs = zone
            .inputs
            .iter()
            .map(|input| sensor(&input.sensor))
            .collect::<Result<Vec<_>, _>>()?;
        let mut fans = Vec::new();
        for fan in &zone.fans {
            let output = PwmOutput::open(&config.hwmon.sysfs_root, &sensor(&fan.pwm)?)
                .map_err(|p| rbmc_daemon::ConfigProblem(format!("zone {}: {p}", zone.id)))?;
            let tach = fan.tach.as_deref().map(sensor).transpose()?;
            fans.push((output, tach));
        }
        Ok(Self {
            id: zone.id,
            zone: Zone::new(zone.settings()),
            inputs,
            failing_writes: vec![false; fans.len()],
            fans,
            causes: Vec::new(),
            demand: 0.0,
        })
    }

    fn state(&self) -> ZoneState {
        ZoneState {
            id: self.id,
            manual: self.zone.mode() == Mode::Manual,
            failsafe: self.zone.in_failsafe(),
            causes: self.causes.iter().map(|c| self.describe(*c)).collect(),
            pwm: self.zone.pwm().iter().copied().fold(0.0, f64::max),
            demand: self.demand,
            fans: self
                .fans
                .iter()
                .zip(self.zone.pwm())
                .map(|((output, _), pwm)| {
                    (output.name.clone(), crate::outputs::raw_of_percent(*pwm))
                })
                .collect(),
        }
    }

    /// A cause in words, naming the sensor.
    fn describe(&self, cause: FailsafeCause) -> String {
        let input = |i: usize| self.inputs.get(i).map_or("?", |s| s.name.0.as_str());
        let tach = |i: usize| {
            self.fans
                .get(i)
                .and_then(|(_, tach)| tach.as_ref())
                .map_or("?", |s| s.name.0.as_str())
        };
        let settings = self.zone.settings();
        match cause {
            FailsafeCause::InputFailed(i) => format!("input {:?} has no reading", input(i)),
            FailsafeCause::InputStale(i) => format!(
                "input {:?} unanswered for {} ms",
                input(i),
                settings.stale_after.as_millis()
            ),
            FailsafeCause::FanStopped(i) => format!(
                "fan {:?} stopped (below {} RPM while driven)",
                tach(i),
                settings.stopped_rpm
            ),
            FailsafeCause::TachFailed(i) => format!("fan {:?} has no tach reading", tach(i)),
            FailsafeCause::InputCritical(i) => {
                format!("input {:?} past its critical threshold", input(i))
            }
            FailsafeCause::OutputFailed(i) => format!(
                "PWM output {:?} cannot be written",
                self.fans
                    .get(i)
                    .map_or("?", |(output, _)| output.name.as_str())
            ),
        }
    }

    /// Writes every fan's PWM; a failed write is logged when it starts
    /// failing and when it recovers.
    fn write_outputs(&mut self, pwm: &[f64]) {
        for (((output, _), failing), percent) in
            self.fans.iter().zip(&mut self.failing_writes).zip(pwm)
        {
            match output.write(*percent) {
                Ok(_) if *failing => {
                    info!(fan = %output.name, "PWM output writable again");
                    *failing = false;
                }
                Ok(_) => {}
                Err(err) if !*failing => {
                    warn!(fan = %output.name, %err, "cannot write the PWM output");
                    *failing = true;
                }
                Err(_) => {}
            }
        }
    }
}

/// Stops the control task, leaving the fans at failsafe.
#[derive(Debug)]
pub struct Stopper {
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Stopper {
    /// Stops the task and waits until the outputs are left at failsafe.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// Starts the control task over `zones`, polling every `poll`.
pub fn spawn(
    bus: zbus::Connection,
    zones: Vec<ControlledZone>,
    poll: Duration,
) -> (FanHandle, Stopper) {
    let (commands, receiver) = mpsc::channel(16);
    let initial = zones.iter().map(ControlledZone::state).collect();
    let (publish, state) = watch::channel(initial);
    let (stop, stopped) = oneshot::channel();
    let task = tokio::spawn(run(bus, zones, poll, receiver, publish, stopped));
    (FanHandle { commands, state }, Stopper { stop, task })
}

async fn run(
    bus: zbus::Connection,
    mut zones: Vec<ControlledZone>,
    poll: Duration,
    mut commands: mpsc::Receiver<Command>,
    publish: watch::Sender<Vec<ZoneState>>,
    mut stopped: oneshot::Receiver<()>,
) {
    let start = tokio::time::Instant::now();
    // Failsafe edges to the SEL, one at a time (each edge is rare; the
    // queue holds what a slow SEL has not taken yet).
    let (events, to_log) = mpsc::unbounded_channel();
    tokio::spawn(log_failsafe_events(bus.clone(), to_log));
    let mut tick = tokio::time::interval(poll);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Until rbmc-powerd answers, or once it has not answered for a while,
    // the host counts as on: the controllers run (and judge their inputs)
    // rather than idle the fans.
    let mut host_on = true;
    let mut powerd_answered = tokio::time::Instant::now();
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let sensors = readings::sensors(&bus, poll / 2).await;
                match readings::host_on(&bus, poll / 4).await {
                    Some(on) => {
                        host_on = on;
                        powerd_answered = tokio::time::Instant::now();
                    }
                    None if powerd_answered.elapsed() >= POWER_STATE_STALE => host_on = true,
                    None => {}
                }
                let now = start.elapsed();
                for zone in &mut zones {
                    poll_zone(&events, zone, &sensors, host_on, now);
                }
            }
            command = commands.recv() => {
                let Some(command) = command else { break };
                handle(&mut zones, command);
            }
            _ = &mut stopped => {
                leave_safe(&mut zones);
                info!("fan control stopped: the fans are left at failsafe");
                return;
            }
        }
        let state: Vec<ZoneState> = zones.iter().map(ControlledZone::state).collect();
        publish.send_if_modified(|published| {
            let changed = *published != state;
            *published = state;
            changed
        });
    }
}

/// A failsafe edge for the SEL.
struct FailsafeEvent {
    message: String,
    data: [u8; 3],
    entered: bool,
}

/// Logs the failsafe edges in the order they came, until the control task
/// ends.
async fn log_failsafe_events(
    bus: zbus::Connection,
    mut events: mpsc::UnboundedReceiver<FailsafeEvent>,
) {
    while let Some(event) = events.recv().await {
        ipmi_router::events::log_event(
            &bus,
            &event.message,
            FAN_FAILSAFE.path,
            &event.data,
            event.entered,
        )
        .await;
    }
}

fn poll_zone(
    events: &mpsc::UnboundedSender<FailsafeEvent>,
    zone: &mut ControlledZone,
    sensors: &readings::SensorValues,
    host_on: bool,
    now: Duration,
) {
    let inputs: Vec<Reading> = zone.inputs.iter().map(|s| sensors.reading(s)).collect();
    let tachs: Vec<Option<Reading>> = zone
        .fans
        .iter()
        .map(|(_, tach)| tach.as_ref().map(|s| sensors.reading(s)))
        .collect();
    let critical: Vec<bool> = zone.inputs.iter().map(|s| sensors.critical(s)).collect();
    let failed_outputs = zone.failing_writes.clone();
    let decision = zone.zone.poll(&Poll {
        now,
        host_on,
        inputs: &inputs,
        tachs: &tachs,
        critical: &critical,
        failed_outputs: &failed_outputs,
    });
    zone.write_outputs(&decision.pwm);
    zone.causes = decision.failsafe;
    zone.demand = decision.demand;
    if let Some(entered) = decision.failsafe_changed {
        let message = if entered {
            let causes: Vec<String> = zone.causes.iter().map(|c| zone.describe(*c)).collect();
            format!("fan zone {} in failsafe: {}", zone.id, causes.join("; "))
        } else {
            format!("fan zone {} out of failsafe", zone.id)
        };
        if entered {
            warn!(zone = zone.id, "{message}");
        } else {
            info!(zone = zone.id, "{message}");
        }
        // In order, off the control loop: one logger takes them in turn.
        let _ = events.send(FailsafeEvent {
            message,
            data: [0x81, zone.id, 0xFF],
            entered,
        });
    }
}

fn handle(zones: &mut [ControlledZone], command: Command) {
    match command {
        Command::SetManual {
            zone,
            manual,
            reply,
        } => {
            let outcome = match zones.iter_mut().find(|z| z.id == zone) {
                Some(z) => {
                    z.zone.set_mode(if manual {
                        Mode::Manual
                    } else {
                        Mode::Automatic
                    });
                    info!(zone, manual, "fan zone mode");
                    Ok(())
                }
                None => Err(ControlError::NoSuchZone(zone)),
            };
            let _ = reply.send(outcome);
        }
        Command::SetTarget { fan, raw, reply } => {
            let found = zones.iter_mut().find_map(|z| {
                let index = z.fans.iter().position(|(output, _)| output.name == fan)?;
                Some((z, index))
            });
            let outcome = match found {
                None => Err(ControlError::NoSuchFan(fan)),
                Some((z, index)) => {
                    let percent = crate::outputs::percent_of_raw(raw);
                    z.zone
                        .set_target(index, percent)
                        .map_err(ControlError::Target)
                        .map(|()| {
                            // Pinned at once, not at the next poll.
                            let pwm = z.zone.pwm().to_vec();
                            z.write_outputs(&pwm);
                            info!(fan = %fan, raw, "manual PWM target");
                        })
                }
            };
            let _ = reply.send(outcome);
        }
    }
}

/// Leaves every output at its zone's failsafe PWM (the daemon stops).
fn leave_safe(zones: &mut [ControlledZone]) {
    for zone in zones {
        let failsafe = zone.zone.settings().failsafe_pwm;
        let pwm = vec![failsafe; zone.fans.len()];
        zone.write_outputs(&pwm);
    }
}

#[cfg(test)]
impl FanHandle {
    /// A handle over `zones` with no task behind it: the commands it sends
    /// come out of the receiver.
    pub(crate) fn detached(zones: Vec<ZoneState>) -> (Self, mpsc::Receiver<Command>) {
        let (commands, receiver) = mpsc::channel(4);
        let (publish, state) = watch::channel(zones);
        // The sender lives as long as the receivers need the value.
        std::mem::forget(publish);
        (Self { commands, state }, receiver)
    }
}
