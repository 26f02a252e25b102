//! DCMI's sensor and identity commands (NetFn 2Ch, group DCh), owned here
//! with the sensors, the SDR, the BMC's identity and FRU:
//! - Get DCMI Sensor Info and Get Temperature Readings: the temperature
//!   sensors whose entity is the air inlet, a processor or the baseboard,
//!   by the config's entity instance, with their SDR record IDs and
//!   current readings;
//! - Get/Set Asset Tag, which is the FRU product area's asset tag (so
//!   `ipmitool fru print` and DCMI agree, and a write of either shows in
//!   the other);
//! - Get/Set Management Controller Identifier String, kept in the state
//!   directory (`controller-id-string`).
//!
//! Each write is durable before it is answered.

use std::{path::Path, sync::Mutex};

use ipmi_dcmi::{
    identity::{self, Field},
    sensors::{self, Entity, TemperatureSensor},
};
use ipmi_router::HandlerResult;
use rbmc_config::SensorKind;
use rbmc_daemon::durable::{self, DurableFile};
use tracing::{info, warn};

use crate::Sensord;

/// The management controller identifier string and its file.
#[derive(Debug)]
pub struct ControllerId {
    value: Mutex<Vec<u8>>,
    file: DurableFile,
}

impl ControllerId {
    /// Loads `<state_dir>/controller-id-string` (empty without one; a
    /// damaged one, too long, is ignored and logged).
    pub fn open(state_dir: &Path) -> Self {
        let file = DurableFile::new(state_dir.join("controller-id-string"));
        let value = match std::fs::read(file.path()) {
            Ok(bytes) if bytes.len() <= Field::ControllerId.max_len() => bytes,
            Ok(bytes) => {
                warn!(
                    len = bytes.len(),
                    "ignoring a stored controller ID string that is too long"
                );
                Vec::new()
            }
            Err(_) => Vec::new(),
        };
        Self {
            value: Mutex::new(value),
            file,
        }
    }

    fn value(&self) -> std::sync::MutexGuard<'_, Vec<u8>> {
        self.value.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The temperature sensors DCMI reports, as they read now.
fn temperature_sensors(s: &Sensord) -> Vec<TemperatureSensor> {
    let sdr = s.sdr.lock().unwrap_or_else(|e| e.into_inner());
    s.sensors
        .iter()
        .filter(|sensor| sensor.entry.kind == SensorKind::Temperature)
        .filter_map(|sensor| {
            let entry = &sensor.entry;
            Some(TemperatureSensor {
                entity: Entity::from_id(entry.entity_id)?,
                instance: entry.entity_instance,
                record_id: sdr.record_id_of(entry.lun, entry.number.0)?,
                reading: sensor.snapshot().value,
            })
        })
        .collect()
}

/// Get DCMI Sensor Info.
pub fn cmd_get_sensor_info(s: &Sensord, data: &[u8]) -> HandlerResult {
    sensors::get_sensor_info(&temperature_sensors(s), data)
}

/// Get Temperature Readings.
pub fn cmd_get_temperature_readings(s: &Sensord, data: &[u8]) -> HandlerResult {
    sensors::get_temperature_readings(&temperature_sensors(s), data)
}

/// Get Asset Tag.
pub fn cmd_get_asset_tag(s: &Sensord, data: &[u8]) -> HandlerResult {
    identity::get(Field::AssetTag, &s.fru.asset_tag(), data)
}

/// Set Asset Tag: the FRU's product asset tag, stored before the answer.
pub async fn cmd_set_asset_tag(s: &Sensord, data: &[u8]) -> HandlerResult {
    let (tag, reply) = identity::set(Field::AssetTag, &s.fru.asset_tag(), data)?;
    s.fru.set_asset_tag(&tag).await?;
    info!(len = tag.len(), "asset tag set");
    Ok(reply)
}

/// Get Management Controller Identifier String.
pub fn cmd_get_controller_id(s: &Sensord, data: &[u8]) -> HandlerResult {
    identity::get(Field::ControllerId, &s.controller_id.value(), data)
}

/// Set Management Controller Identifier String, stored before the answer.
pub async fn cmd_set_controller_id(s: &Sensord, data: &[u8]) -> HandlerResult {
    let store = &s.controller_id;
    // One write at a time: the chunk applies to the value as stored.
    let mut write = store.file.begin().await;
    let current = store.value().clone();
    let (next, reply) = identity::set(Field::ControllerId, &current, data)?;
    write.write(next.clone()).await.map_err(|err| {
        warn!(cause = %err, "cannot store the controller ID string; refused");
        durable::completion_code(&err)
    })?;
    *store.value() = next;
    Ok(reply)
}
