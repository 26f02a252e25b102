//! DCMI power management (NetFn 2Ch, group DCh): Get DCMI Capabilities
//! Info, Get Power Reading, Get/Set Power Limit and Activate/Deactivate
//! Power Limit. rbmc-powerd owns them because the power limit's exception
//! action is the host's power.
//!
//! The readings are the `[dcmi] power-sensor`'s, as rbmc-sensord serves
//! it, read once a second by [`run_sampler`] into the sans-IO statistics
//! ([`ipmi_dcmi::power`]); after each reading the limit monitor says
//! whether the exception action is due, and it is carried out here: a hard
//! power off through the controller, and an OEM SEL record (type C0h:
//! `DCh`, the action, the watts read and the limit) either way. The limit
//! is stored with the rest of the power state (`store`), durably before a
//! Set or an Activate is answered.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use ipmi_dcmi::{
    capabilities::{get_capabilities, Platform},
    power::{
        self, Exception, ExceptionAction, LimitMonitor, LimitRanges, LimitSettings, PowerStatistics,
    },
    wire,
};
use ipmi_router::{HandlerResult, IpmiRequest};
use ipmi_wire::{Answer, CompletionCode};
use rbmc_config::{Config, SelFullPolicy, SensorKind};
use rbmc_contracts::{logging::IpmiSelLoggerProxy, sensor::ValueProxy};
use tracing::{info, warn};

use crate::{
    control::{cause, Controller},
    sequencer::Request,
    store::StoredPowerLimit,
    Powerd,
};

/// How often the power sensor is read.
pub const SAMPLE_INTERVAL: Duration = Duration::from_secs(1);

/// The power management state the commands and the sampler share.
#[derive(Debug)]
pub struct Dcmi {
    /// rbmc-sensord's object of the power sensor; `None` without `[dcmi]
    /// power-sensor` (no power management).
    sensor_path: Option<String>,
    ranges: LimitRanges,
    platform: Platform,
    manufacturer_id: u32,
    statistics: Mutex<PowerStatistics>,
    monitor: Mutex<LimitMonitor>,
    started: Instant,
}

impl Dcmi {
    /// The power management `config` describes.
    pub fn new(config: &Config) -> Self {
        let sensor = config.dcmi.power_sensor(&config.sensors);
        let sensor_path = sensor.map(|entry| {
            rbmc_contracts::sensor::sensor_path(entry.kind.dbus_kind(), &entry.name.object_name())
        });
        // The sensor's range caps the limit: a limit it cannot read past
        // could never be enforced.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let max_watts = sensor.map_or(0, |entry| entry.range[1].clamp(0.0, 65535.0) as u16);
        let sampling = config
            .sensors
            .iter()
            .filter(|s| s.kind == SensorKind::Temperature)
            .map(|s| s.poll_ms.div_ceil(1000))
            .min()
            .unwrap_or(1);
        Self {
            platform: Platform {
                power_management: sensor_path.is_some(),
                in_band_system_interface: config.kcs.device.is_some()
                    || config.kcs.qemu_listen.is_some(),
                sel_entries: config.sel.capacity,
                sel_overwrites_oldest: config.sel.full_policy == SelFullPolicy::Wrap,
                temperature_sampling_secs: u8::try_from(sampling.max(1)).unwrap_or(u8::MAX),
                primary_lan_channel: Some(config.network.channel),
            },
            sensor_path,
            ranges: LimitRanges::for_sensor(max_watts),
            manufacturer_id: config.bmc.manufacturer_id.0,
            statistics: Mutex::new(PowerStatistics::default()),
            monitor: Mutex::new(LimitMonitor::default()),
            started: Instant::now(),
        }
    }

    fn now(&self) -> Duration {
        self.started.elapsed()
    }

    fn offered(&self) -> Result<(), CompletionCode> {
        if self.platform.power_management {
            Ok(())
        } else {
            // No power sensor configured: the power commands do not exist
            // here (Get DCMI Capabilities says so too).
            Err(CompletionCode::INVALID_COMMAND)
        }
    }
}

fn settings(stored: &StoredPowerLimit) -> LimitSettings {
    LimitSettings {
        action: ExceptionAction::from_code(stored.action).unwrap_or_default(),
        limit_watts: stored.watts,
        correction_ms: stored.correction_ms,
        sampling_secs: stored.sampling_secs,
        active: stored.active,
    }
}

fn to_stored(settings: &LimitSettings) -> StoredPowerLimit {
    StoredPowerLimit {
        action: settings.action.code(),
        watts: settings.limit_watts,
        correction_ms: settings.correction_ms,
        sampling_secs: settings.sampling_secs,
        active: settings.active,
    }
}

/// The IPMI timestamp of now: seconds since the epoch.
fn ipmi_now() -> u32 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX))
}

/// Get DCMI Capabilities Info.
pub fn cmd_get_capabilities(p: &Powerd, r: &IpmiRequest) -> HandlerResult {
    get_capabilities(&p.dcmi.platform, &r.data)
}

/// Get Power Reading.
pub fn cmd_get_power_reading(p: &Powerd, r: &IpmiRequest) -> HandlerResult {
    p.dcmi.offered()?;
    let statistics = p.dcmi.statistics.lock().unwrap_or_else(|e| e.into_inner());
    power::get_power_reading(&statistics, &r.data, p.dcmi.now(), ipmi_now())
}

/// Get Power Limit: 80h with the settings while none is active.
pub fn cmd_get_power_limit(p: &Powerd, r: &IpmiRequest) -> Answer {
    if let Err(code) = p.dcmi.offered() {
        return code.into();
    }
    let stored = p.control.lock().stored.power_limit;
    match power::get_power_limit(&settings(&stored), &r.data) {
        Ok((code, data)) => Answer::new(code, data),
        Err(code) => code.into(),
    }
}

/// Set Power Limit: stored durably, then answered.
pub async fn cmd_set_power_limit(p: &Powerd, r: &IpmiRequest) -> HandlerResult {
    p.dcmi.offered()?;
    let ranges = p.dcmi.ranges;
    let changed = p
        .control
        .change_setting(|stored, _| {
            let next = power::set_power_limit(&settings(&stored.power_limit), &ranges, &r.data)?;
            stored.power_limit = to_stored(&next);
            Ok(next)
        })
        .await?;
    info!(limit_watts = changed.limit_watts, action = ?changed.action,
        correction_ms = changed.correction_ms, "DCMI power limit set");
    Ok(wire::reply(&[]))
}

/// Activate/Deactivate Power Limit: stored durably, then answered.
pub async fn cmd_activate_power_limit(p: &Powerd, r: &IpmiRequest) -> HandlerResult {
    p.dcmi.offered()?;
    let changed = p
        .control
        .change_setting(|stored, _| {
            let next = power::activate_power_limit(&settings(&stored.power_limit), &r.data)?;
            stored.power_limit = to_stored(&next);
            Ok(next)
        })
        .await?;
    info!(
        active = changed.active,
        "DCMI power limit activated or deactivated"
    );
    Ok(wire::reply(&[]))
}

/// Reads the power sensor once a second for as long as the daemon runs,
/// keeping the statistics and acting on the limit.
pub async fn run_sampler(dcmi: Arc<Dcmi>, control: Arc<Controller>, conn: zbus::Connection) {
    let Some(path) = dcmi.sensor_path.clone() else {
        return;
    };
    // Read at each tick, not from a cache of signalled changes.
    let sensor = async {
        ValueProxy::builder(&conn)
            .path(path.clone())?
            .cache_properties(zbus::proxy::CacheProperties::No)
            .build()
            .await
    };
    let sensor = match sensor.await {
        Ok(sensor) => sensor,
        Err(err) => {
            warn!(%path, cause = %err, "cannot reach the DCMI power sensor");
            return;
        }
    };
    info!(%path, "DCMI power readings from the sensor");
    let mut ticks = tokio::time::interval(SAMPLE_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut reading = true;
    loop {
        ticks.tick().await;
        let now = dcmi.now();
        // Bounded: a call to a name not on the bus yet may never be
        // answered (a broker can drop it).
        let read = tokio::time::timeout(SAMPLE_INTERVAL, sensor.value())
            .await
            .unwrap_or_else(|_| Err(zbus::Error::Failure("no answer within a second".into())));
        // Said once per change, not once a second.
        match (&read, reading) {
            (Err(err), true) => warn!(%path, cause = %err, "no DCMI power reading"),
            (Ok(_), false) => info!(%path, "DCMI power readings again"),
            _ => {}
        }
        reading = read.is_ok();
        let watts = match read {
            Ok(watts) if watts.is_finite() => watts,
            // No reading (the sensor failed, or sensord is restarting):
            // what is kept no longer describes the present.
            _ => {
                dcmi.statistics
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clear();
                continue;
            }
        };
        dcmi.statistics
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .record(now, watts);
        let (limit, host_on) = {
            let state = control.lock();
            (settings(&state.stored.power_limit), state.sequencer.is_on())
        };
        let due = dcmi
            .monitor
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .observe(&limit, now, watts, host_on);
        if let Some(exception) = due {
            act(&dcmi, &control, &conn, exception).await;
        }
    }
}

/// Carries out the limit's exception action.
async fn act(dcmi: &Dcmi, control: &Controller, conn: &zbus::Connection, exception: Exception) {
    let Exception {
        action,
        watts,
        limit_watts,
    } = exception;
    warn!(
        watts,
        limit_watts,
        ?action,
        "DCMI power limit exceeded past its correction time"
    );
    if action == ExceptionAction::HardPowerOff {
        if let Err(refused) = control.request(Request::Off, cause::UNKNOWN) {
            warn!(?refused, "the power limit's power off was refused");
        }
    }
    if action == ExceptionAction::None {
        return;
    }
    // A timestamped OEM record: the manufacturer ID, then DCh, the action,
    // the watts read and the limit.
    let mut data = dcmi.manufacturer_id.to_le_bytes()[..3].to_vec();
    data.extend_from_slice(&[wire::GROUP, action.code()]);
    data.extend_from_slice(&watts.to_le_bytes());
    data.extend_from_slice(&limit_watts.to_le_bytes());
    let message = format!("DCMI power limit exceeded: {watts} W over {limit_watts} W");
    let logged = match IpmiSelLoggerProxy::new(conn).await {
        Ok(logger) => logger
            .ipmi_sel_add_oem(&message, &data, 0xC0)
            .await
            .map(|_| ())
            .map_err(|err| err.to_string()),
        Err(err) => Err(err.to_string()),
    };
    if let Err(cause) = logged {
        warn!(%cause, "could not log the power limit exception");
    }
}
