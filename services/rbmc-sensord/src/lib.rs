//! The sensor daemon: reads sensors, serves the SDR repository, the FRU
//! inventory and the BMC's identity, publishes sensors on D-Bus and sends
//! threshold events to the SEL logger.
//!
//! # Layout
//! - [`health`]: faults derived from the sensors (cooling) for the
//!   chassis status.
//! - [`source`]: where readings come from (hwmon sysfs).
//! - [`sensor`]: one sensor's conversion, source and run-time state.
//! - [`thresholds`]: threshold evaluation with hysteresis.
//! - [`commands`]: the sensor commands (Sensor/Event NetFn).
//! - [`sdr`]: the SDR repository and its commands.
//! - [`fru`]: the FRU inventory device and its commands.
//! - [`dcmi`]: DCMI's temperature sensors, asset tag (the FRU's) and
//!   controller identifier string.
//! - [`identity`]: Get Device ID, Self Test, GUIDs.
//! - [`dbus`]: sensors as OpenBMC D-Bus objects.
//! - [`events`]: threshold events to the SEL logger.
//! - [`settings`]: run-time changes persisted in the state directory.
//! - [`units`]: sensor type and unit codes.

pub mod cli;

pub mod commands;
pub mod dbus;
pub mod dcmi;
pub mod events;
pub mod fru;
pub mod health;
pub mod identity;
pub mod master_write_read;
pub mod reset;
pub mod sdr;
pub mod sensor;
pub mod settings;
pub mod source;
pub mod thresholds;
pub mod units;

use std::{
    future::Future,
    path::Path,
    sync::{Arc, Mutex},
    time::{Duration, SystemTime},
};

use anyhow::Context as _;
use ipmi_router::{names, owner::Execute, CommandTable};
use ipmi_wire::{CompletionCode, NetFn, Privilege};
use rbmc_config::Config;
use tracing::{info, warn};

use crate::{
    fru::FruStore, identity::Identity, sdr::SdrRepository, sensor::Sensor, settings::Settings,
};

/// Everything the command handlers share.
#[derive(Debug)]
pub struct Sensord {
    identity: Identity,
    sensors: Vec<Sensor>,
    by_number: std::collections::HashMap<(u8, u8), usize>,
    sdr: Mutex<SdrRepository>,
    fru: FruStore,
    controller_id: dcmi::ControllerId,
    settings: Settings,
    /// Announces BMC resets once the bus is up.
    pub reset: reset::Reset,
    /// Master Write-Read's allowlist and buses.
    pub master_write_read: master_write_read::MasterWriteRead,
}

impl AsRef<Identity> for Sensord {
    fn as_ref(&self) -> &Identity {
        &self.identity
    }
}

impl Sensord {
    /// The FRU area decoded, as it is now (`None` if it does not decode).
    pub fn fru_info(&self) -> Option<ipmi_fru::FruInfo> {
        self.fru.info()
    }

    /// Builds the daemon's state from config; persisted settings and FRU
    /// data come from `state_dir`.
    pub fn new(config: &Config, state_dir: &Path) -> anyhow::Result<Self> {
        let sensors = config
            .sensors
            .iter()
            .map(|entry| Sensor::new(entry, &config.hwmon.sysfs_root))
            .collect::<Result<Vec<_>, _>>()?;
        let settings = Settings::new(state_dir);
        let refs: Vec<&Sensor> = sensors.iter().collect();
        settings.apply(&refs);
        let device_support = config
            .bmc
            .device_support
            .iter()
            .fold(0, |bits, s| bits | s.bit());
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX))
            .unwrap_or(0);
        let sdr = SdrRepository::build(&refs, device_support, now);
        let fru = FruStore::open(&config.fru, state_dir)?;
        let by_number = sensors
            .iter()
            .enumerate()
            .map(|(i, s)| ((s.entry.lun, s.entry.number.0), i))
            .collect();
        Ok(Self {
            identity: Identity::from_config(&config.bmc),
            sensors,
            by_number,
            sdr: Mutex::new(sdr),
            fru,
            controller_id: dcmi::ControllerId::open(state_dir),
            settings,
            reset: reset::Reset::default(),
            master_write_read: master_write_read::MasterWriteRead::new(
                config.i2c_allow.clone(),
                config.i2c.backend,
            ),
        })
    }

    /// The sensor with this number on this LUN.
    pub fn sensor(&self, lun: u8, number: u8) -> Option<&Sensor> {
        self.by_number
            .get(&(lun, number))
            .map(|index| &self.sensors[*index])
    }

    /// Changes `sensor`'s settings once the change is durable (see
    /// [`Settings::change`]), then refreshes its SDR.
    pub async fn change_settings(
        &self,
        sensor: &Sensor,
        change: impl FnOnce(&mut sensor::SensorState) -> Result<(), CompletionCode>,
    ) -> Result<(), CompletionCode> {
        self.settings.change(&self.sensors, sensor, change).await?;
        lock(&self.sdr).update_sensor(sensor);
        Ok(())
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Adds every command the sensor daemon owns.
pub fn register(table: &mut CommandTable<Sensord>) -> anyhow::Result<()> {
    use commands::*;
    identity::register(table)?;
    let admin = Privilege::Administrator;
    table
        .add_sync(NetFn::APP, reset::CMD_COLD_RESET, admin, |s, r| {
            s.reset.cmd_reset(r)
        })?
        .add_sync(NetFn::APP, reset::CMD_WARM_RESET, admin, |s, r| {
            s.reset.cmd_reset(r)
        })?
        .add(
            NetFn::APP,
            master_write_read::CMD_MASTER_WRITE_READ,
            admin,
            master_write_read::cmd_master_write_read,
        )?;
    let se = NetFn::SENSOR_EVENT;
    let st = NetFn::STORAGE;
    let user = Privilege::User;
    let operator = Privilege::Operator;
    table
        .add_sync(
            se,
            CMD_GET_SENSOR_READING_FACTORS,
            user,
            cmd_get_sensor_reading_factors,
        )?
        .add(se, CMD_SET_SENSOR_HYSTERESIS, operator, |s, r| async move {
            cmd_set_sensor_hysteresis(&s, &r).await
        })?
        .add_sync(
            se,
            CMD_GET_SENSOR_HYSTERESIS,
            user,
            cmd_get_sensor_hysteresis,
        )?
        .add(se, CMD_SET_SENSOR_THRESHOLDS, operator, |s, r| async move {
            cmd_set_sensor_thresholds(&s, &r).await
        })?
        .add_sync(
            se,
            CMD_GET_SENSOR_THRESHOLDS,
            user,
            cmd_get_sensor_thresholds,
        )?
        .add(
            se,
            CMD_SET_SENSOR_EVENT_ENABLE,
            operator,
            |s, r| async move { cmd_set_sensor_event_enable(&s, &r).await },
        )?
        .add_sync(
            se,
            CMD_GET_SENSOR_EVENT_ENABLE,
            user,
            cmd_get_sensor_event_enable,
        )?
        .add_sync(
            se,
            CMD_GET_SENSOR_EVENT_STATUS,
            user,
            cmd_get_sensor_event_status,
        )?
        .add_sync(se, CMD_GET_SENSOR_READING, user, cmd_get_sensor_reading)?
        // SDR repository (Storage 20h-23h).
        .add_sync(st, 0x20, user, |s, r| lock(&s.sdr).cmd_info(&r.data))?
        .add_sync(st, 0x21, user, |s, r| {
            lock(&s.sdr).cmd_allocation_info(&r.data)
        })?
        .add_sync(st, 0x22, user, |s, r| lock(&s.sdr).cmd_reserve(&r.data))?
        .add_sync(st, 0x23, user, |s, r| lock(&s.sdr).cmd_get(&r.data))?
        // FRU inventory (Storage 10h-12h).
        .add_sync(st, 0x10, user, |s, r| s.fru.cmd_area_info(&r.data))?
        .add_sync(st, 0x11, user, |s, r| s.fru.cmd_read(&r.data))?
        .add(st, 0x12, operator, |s, r| async move {
            s.fru.cmd_write(&r.data).await
        })?;
    // DCMI's identity (group DCh): the asset tag (the FRU's) and the
    // controller identifier string (DCMI v1.5 Table 6-1's privileges).
    let dcmi = NetFn::GROUP_EXTENSION;
    table
        .add_sync(dcmi, ipmi_dcmi::wire::GET_SENSOR_INFO, operator, |s, r| {
            dcmi::cmd_get_sensor_info(s, &r.data)
        })?
        .add_sync(
            dcmi,
            ipmi_dcmi::wire::GET_TEMPERATURE_READINGS,
            user,
            |s, r| dcmi::cmd_get_temperature_readings(s, &r.data),
        )?
        .add_sync(dcmi, ipmi_dcmi::wire::GET_ASSET_TAG, user, |s, r| {
            dcmi::cmd_get_asset_tag(s, &r.data)
        })?
        .add(
            dcmi,
            ipmi_dcmi::wire::SET_ASSET_TAG,
            operator,
            |s, r| async move { dcmi::cmd_set_asset_tag(&s, &r.data).await },
        )?
        .add_sync(dcmi, ipmi_dcmi::wire::GET_CONTROLLER_ID, user, |s, r| {
            dcmi::cmd_get_controller_id(s, &r.data)
        })?
        .add(
            dcmi,
            ipmi_dcmi::wire::SET_CONTROLLER_ID,
            Privilege::Administrator,
            |s, r| async move { dcmi::cmd_set_controller_id(&s, &r.data).await },
        )?;
    Ok(())
}

/// Serves the sensor daemon until `shutdown` resolves.
pub async fn run(
    config: Config,
    state_dir: &Path,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let mut table = CommandTable::new(Sensord::new(&config, state_dir)?);
    register(&mut table).context("registering commands")?;
    let table = Arc::new(table);
    let state = table.state().clone();
    check_devices(&state.sensors)?;

    let mut startup = rbmc_daemon::Startup::connect().await?;
    startup
        .serve_commands(table.clone() as Arc<dyn Execute>)
        .await?;
    let conn = startup.connection().clone();
    state.reset.connect(conn.clone());
    // One GetManagedObjects call reads every sensor (the Redfish bridge's
    // Sensors collection), as dbus-sensors allows.
    conn.object_server()
        .at(
            rbmc_contracts::sensor::SENSORS_ROOT,
            zbus::fdo::ObjectManager,
        )
        .await?;
    let mut objects = Vec::new();
    for sensor in &state.sensors {
        objects.push(dbus::SensorObjects::serve(&conn, sensor).await?);
    }
    conn.object_server()
        .at(
            rbmc_contracts::bmc::BMC_PATH,
            reset::BmcObject {
                state: state.clone(),
            },
        )
        .await?;
    conn.object_server()
        .at(
            rbmc_contracts::sensor::CHASSIS_INVENTORY_PATH,
            fru::AssetObject {
                state: state.clone(),
            },
        )
        .await?;
    conn.object_server()
        .at(
            rbmc_contracts::sensor::HEALTH_PATH,
            health::HealthObject::default(),
        )
        .await?;
    let health = conn
        .object_server()
        .interface::<_, health::HealthObject>(rbmc_contracts::sensor::HEALTH_PATH)
        .await?;
    startup.name(names::SENSORD);
    let named = startup.claim_names().await?;
    info!(sensors = state.sensors.len(), "sensors on the bus");
    let poller = {
        let state = state.clone();
        tokio::spawn(async move { poll_forever(&state, &objects, &health, &conn).await })
    };
    let result = named.ready().until(shutdown).await;
    poller.abort();
    result
}

/// Fails fast when none of the configured sensors' devices exists (the
/// wrong board's config, or drivers not bound), naming them; a few missing
/// ones are logged and read as unavailable until they appear.
fn check_devices(sensors: &[sensor::Sensor]) -> anyhow::Result<()> {
    let missing: Vec<String> = sensors
        .iter()
        .filter_map(|s| {
            s.probe()
                .err()
                .map(|e| format!("{:?}: {e}", s.entry.name.0))
        })
        .collect();
    if !sensors.is_empty() && missing.len() == sensors.len() {
        anyhow::bail!(
            "none of the {} configured sensors can be read; missing devices: {}",
            sensors.len(),
            missing.join("; ")
        );
    }
    for sensor in &missing {
        tracing::warn!(%sensor, "sensor device missing at start; reported unavailable until it appears");
    }
    Ok(())
}

/// Reads every sensor when it is due, publishes it and logs its events.
///
/// One task and a queue ordered by due time serve all sensors: a task per
/// sensor would cost each one its own copy of this future's state (measured
/// with `rbmc-bench sensors`).
async fn poll_forever(
    state: &Sensord,
    objects: &[dbus::SensorObjects],
    health: &zbus::object_server::InterfaceRef<health::HealthObject>,
    conn: &zbus::Connection,
) {
    use std::{cmp::Reverse, collections::BinaryHeap};
    let start = tokio::time::Instant::now();
    let mut due: BinaryHeap<Reverse<(tokio::time::Instant, usize)>> = (0..state.sensors.len())
        .map(|i| Reverse((start, i)))
        .collect();
    let mut failing = vec![false; state.sensors.len()];
    while let Some(Reverse((when, index))) = due.pop() {
        tokio::time::sleep_until(when).await;
        let sensor = &state.sensors[index];
        let events = sensor.poll();
        let failure = sensor.lock().failure.clone();
        match (&failure, failing[index]) {
            (Some(cause), false) => warn!(sensor = %sensor.entry.name.0, %cause, "no reading"),
            (None, true) => info!(sensor = %sensor.entry.name.0, "reading again"),
            _ => {}
        }
        failing[index] = failure.is_some();
        if let Err(err) = objects[index].update(sensor).await {
            warn!(sensor = %sensor.entry.name.0, cause = %err, "cannot publish on D-Bus");
        }
        if sensor.entry.kind == rbmc_config::SensorKind::Fan {
            if let Err(err) = health::publish(health, &state.sensors).await {
                warn!(cause = %err, "cannot publish the sensors' health");
            }
        }
        if !events.is_empty() {
            let path = dbus::sensor_path(&sensor.entry);
            for event in events {
                events::log(conn, &sensor.entry.name.0, &path, event).await;
            }
        }
        // Keep the cadence; if the daemon fell behind, do not try to catch
        // up with a burst.
        let period = Duration::from_millis(sensor.entry.poll_ms);
        let next = (when + period).max(tokio::time::Instant::now());
        due.push(Reverse((next, index)));
    }
}
