//! The SDR repository (IPMI v2.0 §33, §27): records generated from config,
//! served read-only with Get SDR Repository Info (Storage 20h), Get SDR
//! Repository Allocation Info (21h), Reserve SDR Repository (22h) and Get
//! SDR (23h).
//!
//! Record 1 is the Management Controller Device Locator of the BMC, then
//! one Full Sensor Record per sensor in config order, then the FRU Device
//! Locator of FRU 0. A reservation is needed only for partial reads at a
//! non-zero offset; any change to a record (Set Sensor Thresholds,
//! Set Sensor Hysteresis) cancels it, as the spec requires.

use ipmi_router::{events::EVENT_ONLY_SENSORS, HandlerResult};
use ipmi_sdr::{
    CompactSensorRecord, FruDeviceLocator, FullSensorRecord, McDeviceLocator,
    BMC_SLAVE_ADDRESS as BMC_ADDRESS, SDR_VERSION,
};
use ipmi_wire::CompletionCode;

use crate::sensor::{Sensor, SensorState};

/// The entity the BMC's own records describe: the system board, where the
/// BMC lives.
const ENTITY_SYSTEM_BOARD: u8 = ipmi_sdr::EntityId::SYSTEM_BOARD.0;

/// The repository.
#[derive(Debug)]
pub struct SdrRepository {
    records: Vec<Vec<u8>>,
    /// Index of each sensor's record, by (LUN, sensor number).
    sensor_records: Vec<((u8, u8), usize)>,
    reservation: u16,
    last_addition: u32,
}

impl SdrRepository {
    /// Builds every record; `now` is the addition timestamp (seconds since
    /// 1970, as SEL/SDR timestamps are).
    pub fn build(sensors: &[&Sensor], device_support: u8, now: u32) -> Self {
        let mut records = vec![McDeviceLocator {
            record_id: 1,
            slave_address: BMC_ADDRESS,
            channel: 0,
            device_capabilities: device_support,
            entity_id: ENTITY_SYSTEM_BOARD,
            entity_instance: 1,
            id_string: "BMC".into(),
        }
        .emit()];
        let mut sensor_records = Vec::new();
        for sensor in sensors {
            let id = u16::try_from(records.len() + 1).unwrap_or(u16::MAX);
            sensor_records.push(((sensor.entry.lun, sensor.entry.number.0), records.len()));
            records.push(full_sensor_record(id, sensor, &sensor.snapshot()));
        }
        // The event-only sensors of the other daemons (power, watchdog,
        // session audit): a name and entity for the events they log.
        for sensor in EVENT_ONLY_SENSORS {
            let id = u16::try_from(records.len() + 1).unwrap_or(u16::MAX);
            records.push(
                CompactSensorRecord {
                    record_id: id,
                    lun: 0,
                    number: sensor.number,
                    entity_id: sensor.entity_id,
                    entity_instance: 1,
                    sensor_type: sensor.sensor_type,
                    event_reading_type: sensor.identity().event_reading_type,
                    offsets: sensor.offsets,
                    id_string: sensor.name.into(),
                }
                .emit(),
            );
        }
        let id = u16::try_from(records.len() + 1).unwrap_or(u16::MAX);
        records.push(
            FruDeviceLocator {
                record_id: id,
                device_id: 0,
                entity_id: ENTITY_SYSTEM_BOARD,
                entity_instance: 1,
                id_string: "Builtin FRU".into(),
            }
            .emit(),
        );
        Self {
            records,
            sensor_records,
            reservation: 0,
            last_addition: now,
        }
    }

    /// Rebuilds one sensor's record after its thresholds or hysteresis
    /// changed, and cancels any reservation.
    pub fn update_sensor(&mut self, sensor: &Sensor) {
        let key = (sensor.entry.lun, sensor.entry.number.0);
        if let Some((_, index)) = self.sensor_records.iter().find(|(k, _)| *k == key) {
            let id = u16::try_from(index + 1).unwrap_or(u16::MAX);
            self.records[*index] = full_sensor_record(id, sensor, &sensor.snapshot());
            self.cancel_reservation();
        }
    }

    /// The record ID of the sensor `number` on `lun` (what DCMI's Get
    /// Sensor Info lists).
    pub fn record_id_of(&self, lun: u8, number: u8) -> Option<u16> {
        self.sensor_records
            .iter()
            .find(|(key, _)| *key == (lun, number))
            .and_then(|(_, index)| u16::try_from(index + 1).ok())
    }

    fn cancel_reservation(&mut self) {
        self.reservation = 0;
    }

    /// Get SDR Repository Info (§33.9, Table 33-3).
    pub fn cmd_info(&self, data: &[u8]) -> HandlerResult {
        no_data(data)?;
        let count = u16::try_from(self.records.len())
            .unwrap_or(u16::MAX)
            .to_le_bytes();
        let mut out = vec![SDR_VERSION, count[0], count[1], 0x00, 0x00];
        out.extend_from_slice(&self.last_addition.to_le_bytes());
        // Never erased.
        out.extend_from_slice(&[0, 0, 0, 0]);
        // Operation support: no overflow, update mode unspecified (the
        // repository is generated, not written), reserve (bit 1) and
        // allocation info (bit 0) supported.
        out.push(0x03);
        Ok(out)
    }

    /// Get SDR Repository Allocation Info (§33.10): one 64-byte unit per
    /// record, none free (the repository is read-only).
    pub fn cmd_allocation_info(&self, data: &[u8]) -> HandlerResult {
        no_data(data)?;
        let units = u16::try_from(self.records.len())
            .unwrap_or(u16::MAX)
            .to_le_bytes();
        Ok(vec![units[0], units[1], 64, 0, 0, 0, 0, 0, 1])
    }

    /// Reserve SDR Repository (§33.11): a new non-zero ID, cancelling the
    /// previous one.
    pub fn cmd_reserve(&mut self, data: &[u8]) -> HandlerResult {
        no_data(data)?;
        self.reservation = self.reservation.wrapping_add(1).max(1);
        Ok(self.reservation.to_le_bytes().to_vec())
    }

    /// Get SDR (§33.12): `reservation (2), record ID (2), offset, count`
    /// (count FFh = the whole record). Record ID 0000h is the first record,
    /// FFFFh the last.
    pub fn cmd_get(&self, data: &[u8]) -> HandlerResult {
        let [r0, r1, id0, id1, offset, count] = *data else {
            return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
        };
        let reservation = u16::from_le_bytes([r0, r1]);
        let offset = usize::from(offset);
        if offset != 0 && (reservation == 0 || reservation != self.reservation) {
            return Err(CompletionCode::RESERVATION_CANCELLED);
        }
        let index = match u16::from_le_bytes([id0, id1]) {
            0x0000 => 0,
            0xFFFF => self.records.len().saturating_sub(1),
            id => usize::from(id) - 1,
        };
        let record = self.records.get(index).ok_or(CompletionCode::NOT_PRESENT)?;
        if offset > record.len() {
            return Err(CompletionCode::PARAMETER_OUT_OF_RANGE);
        }
        let next = if index + 1 < self.records.len() {
            u16::try_from(index + 2).unwrap_or(0xFFFF)
        } else {
            0xFFFF
        };
        let end = if count == 0xFF {
            record.len()
        } else {
            (offset + usize::from(count)).min(record.len())
        };
        let mut out = next.to_le_bytes().to_vec();
        out.extend_from_slice(&record[offset..end]);
        Ok(out)
    }
}

fn no_data(data: &[u8]) -> Result<(), CompletionCode> {
    if data.is_empty() {
        Ok(())
    } else {
        Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID)
    }
}

/// The Full Sensor Record of a sensor in its present state.
pub fn full_sensor_record(record_id: u16, sensor: &Sensor, state: &SensorState) -> Vec<u8> {
    let entry = &sensor.entry;
    let factors = sensor.factors;
    let [min, max] = entry.range;
    FullSensorRecord {
        record_id,
        owner_id: BMC_ADDRESS,
        owner_lun: entry.lun,
        sensor_number: entry.number.0,
        entity_id: entry.entity_id,
        entity_instance: entry.entity_instance,
        sensor_type: crate::units::sensor_type(entry.kind),
        event_reading_type: ipmi_sdr::EventReadingType::THRESHOLD.0,
        base_unit: crate::units::base_unit(entry.kind),
        percentage: crate::units::percentage(entry.kind),
        factors,
        nominal: entry.simulate.map(|s| factors.to_raw(s.nominal)),
        sensor_min: factors.to_raw(min),
        sensor_max: factors.to_raw(max),
        thresholds: state.thresholds,
        settable: state.thresholds.mask(),
        positive_hysteresis: state.positive_hysteresis,
        negative_hysteresis: state.negative_hysteresis,
        events_enabled: state.events_enabled,
        id_string: entry.name.0.clone(),
    }
    .emit()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repository() -> SdrRepository {
        let config = rbmc_config::Config::from_toml(
            r#"
[[sensors]]
name = "A"
number = 1
kind = "voltage"
entity-id = 7
range = [0.0, 15.0]
source = { type = "hwmon", name = "x", input = "in1" }
thresholds = { lcr = 10.0, ucr = 13.0 }
"#,
            "t.toml",
        )
        .unwrap();
        let sensor = Sensor::new(&config.sensors[0], std::path::Path::new("/nonexistent")).unwrap();
        SdrRepository::build(&[&sensor], 0x8F, 1_700_000_000)
    }

    #[test]
    fn records_chain_and_read_whole() {
        let sdr = repository();
        // MC locator, one full sensor record, the five event-only
        // sensors' compact records, FRU locator.
        let info = sdr.cmd_info(&[]).unwrap();
        assert_eq!(info[..3], [0x51, 8, 0]);
        let first = sdr.cmd_get(&[0, 0, 0, 0, 0, 0xFF]).unwrap();
        assert_eq!(first[..2], [2, 0], "next record ID");
        assert_eq!(first[2 + 3], 0x12, "MC device locator");
        let second = sdr.cmd_get(&[0, 0, 2, 0, 0, 0xFF]).unwrap();
        assert_eq!(second[..2], [3, 0]);
        assert_eq!(second[2 + 3], 0x01, "full sensor record");
        for id in 3..=7u8 {
            let compact = sdr.cmd_get(&[0, 0, id, 0, 0, 0xFF]).unwrap();
            assert_eq!(compact[2 + 3], 0x02, "compact sensor record {id}");
        }
        let last = sdr.cmd_get(&[0, 0, 0xFF, 0xFF, 0, 0xFF]).unwrap();
        assert_eq!(last[..2], [0xFF, 0xFF]);
        assert_eq!(last[2 + 3], 0x11, "FRU device locator");
        assert_eq!(
            sdr.cmd_get(&[0, 0, 9, 1, 0, 0xFF]),
            Err(CompletionCode::NOT_PRESENT)
        );
    }

    #[test]
    fn partial_reads_need_a_live_reservation() {
        let config = rbmc_config::Config::from_toml(
            "[[sensors]]\nname = \"A\"\nnumber = 1\nkind = \"fan\"\nentity-id = 29\nrange = [0.0, 9000.0]\nsource = { type = \"hwmon\", name = \"x\", input = \"fan1\" }\nthresholds = { lcr = 500.0 }\n",
            "t.toml",
        )
        .unwrap();
        let sensor = Sensor::new(&config.sensors[0], std::path::Path::new("/nonexistent")).unwrap();
        let mut sdr = SdrRepository::build(&[&sensor], 0, 0);
        let whole = sdr.cmd_get(&[0, 0, 2, 0, 0, 0xFF]).unwrap();
        // Offset 5 without a reservation: refused.
        assert_eq!(
            sdr.cmd_get(&[0, 0, 2, 0, 5, 16]),
            Err(CompletionCode::RESERVATION_CANCELLED)
        );
        let reservation = sdr.cmd_reserve(&[]).unwrap();
        let part = sdr
            .cmd_get(&[reservation[0], reservation[1], 2, 0, 5, 16])
            .unwrap();
        assert_eq!(part[2..], whole[2 + 5..2 + 5 + 16]);
        // A record change cancels the reservation (§33.11).
        sdr.update_sensor(&sensor);
        assert_eq!(
            sdr.cmd_get(&[reservation[0], reservation[1], 2, 0, 5, 16]),
            Err(CompletionCode::RESERVATION_CANCELLED)
        );
        // Reading past the end is shortened, not refused.
        let len = u8::try_from(whole.len() - 2).unwrap();
        let r = sdr.cmd_reserve(&[]).unwrap();
        assert_eq!(
            sdr.cmd_get(&[r[0], r[1], 2, 0, len - 1, 10]).unwrap().len(),
            2 + 1
        );
    }
}
