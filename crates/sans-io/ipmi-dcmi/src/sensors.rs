//! Get DCMI Sensor Info (07h) and Get Temperature Readings (10h) (DCMI
//! v1.5 §6.5, §6.7): the temperature sensors of three entities (the air
//! inlet, the processors and the baseboard), by entity instance, at most
//! eight in one reply.
//!
//! DCMI 1.1's entity IDs (40h, 41h, 42h, which ipmitool and FreeIPMI
//! send) and IPMI's (37h, 03h, 07h) name the same entities. An entity
//! instance of 0 asks for all of them from the start instance on (0 and 1
//! both mean the first: ipmitool sends 0, FreeIPMI 1); another asks for
//! that one. An entity with no sensor answers a total of 0, not an error.

use ipmi_wire::CompletionCode;

use crate::wire::{body, reply};

/// The most sensors one reply lists.
pub const PER_REPLY: usize = 8;
/// The sensor type DCMI asks about: temperature.
const TEMPERATURE: u8 = 0x01;

/// An entity DCMI reports temperatures of.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Entity {
    /// The air inlet (IPMI 37h, DCMI 40h).
    Inlet,
    /// A processor (IPMI 03h, DCMI 41h).
    Cpu,
    /// The baseboard (IPMI 07h, DCMI 42h).
    Baseboard,
}

impl Entity {
    /// The entity an ID names, in either numbering.
    pub fn from_id(id: u8) -> Option<Self> {
        match id {
            0x37 | 0x40 => Some(Self::Inlet),
            0x03 | 0x41 => Some(Self::Cpu),
            0x07 | 0x42 => Some(Self::Baseboard),
            _ => None,
        }
    }
}

/// One temperature sensor as DCMI sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TemperatureSensor {
    /// Its entity.
    pub entity: Entity,
    /// Its entity instance.
    pub instance: u8,
    /// Its SDR's record ID.
    pub record_id: u16,
    /// The reading, °C (`None` without one).
    pub reading: Option<f64>,
}

/// The request's sensors, and how many the entity has.
fn select<'a>(
    sensors: &'a [TemperatureSensor],
    data: &[u8],
) -> Result<(Vec<&'a TemperatureSensor>, usize), CompletionCode> {
    let request = body(data, 4)?;
    let (sensor_type, entity_id, instance, start) =
        (request[0], request[1], request[2], request[3]);
    if sensor_type != TEMPERATURE {
        return Err(CompletionCode::INVALID_DATA_FIELD);
    }
    let entity = Entity::from_id(entity_id).ok_or(CompletionCode::INVALID_DATA_FIELD)?;
    let mut matching: Vec<&TemperatureSensor> =
        sensors.iter().filter(|s| s.entity == entity).collect();
    matching.sort_by_key(|s| (s.instance, s.record_id));
    let total = matching.len();
    let page = if instance == 0 {
        matching
            .into_iter()
            .filter(|s| s.instance >= start.max(1))
            .take(PER_REPLY)
            .collect()
    } else {
        matching
            .into_iter()
            .filter(|s| s.instance == instance)
            .take(1)
            .collect()
    };
    Ok((page, total))
}

fn count(n: usize) -> u8 {
    u8::try_from(n).unwrap_or(u8::MAX)
}

/// Get DCMI Sensor Info: the total, then the SDR record IDs of the page.
pub fn get_sensor_info(
    sensors: &[TemperatureSensor],
    data: &[u8],
) -> Result<Vec<u8>, CompletionCode> {
    let (page, total) = select(sensors, data)?;
    let mut fields = vec![count(total), count(page.len())];
    for sensor in page {
        fields.extend_from_slice(&sensor.record_id.to_le_bytes());
    }
    Ok(reply(&fields))
}

/// A temperature as DCMI writes it: bit 7 the sign, bits 6:0 the whole
/// degrees (at most 127).
pub fn temperature_byte(celsius: f64) -> u8 {
    // Clamped to 0-127 first: the cast cannot truncate.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let magnitude = celsius.abs().round().min(127.0) as u8;
    if celsius < 0.0 && magnitude > 0 {
        0x80 | magnitude
    } else {
        magnitude
    }
}

/// Get Temperature Readings: the total, then each sensor's temperature
/// and instance (a sensor without a reading reads 0).
pub fn get_temperature_readings(
    sensors: &[TemperatureSensor],
    data: &[u8],
) -> Result<Vec<u8>, CompletionCode> {
    let (page, total) = select(sensors, data)?;
    let mut fields = vec![count(total), count(page.len())];
    for sensor in page {
        fields.push(sensor.reading.map_or(0, temperature_byte));
        fields.push(sensor.instance);
    }
    Ok(reply(&fields))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sensors() -> Vec<TemperatureSensor> {
        let mut all: Vec<TemperatureSensor> = (1..=10)
            .map(|instance| TemperatureSensor {
                entity: Entity::Cpu,
                instance,
                record_id: 100 + u16::from(instance),
                reading: Some(40.0 + f64::from(instance)),
            })
            .collect();
        all.push(TemperatureSensor {
            entity: Entity::Inlet,
            instance: 1,
            record_id: 7,
            reading: Some(-3.4),
        });
        all
    }

    #[test]
    fn both_numberings_and_both_first_starts_name_the_same_sensors() {
        let all = sensors();
        let dcmi = get_sensor_info(&all, &[0xDC, 1, 0x40, 0, 0]).unwrap();
        let ipmi = get_sensor_info(&all, &[0xDC, 1, 0x37, 0, 1]).unwrap();
        assert_eq!(dcmi, ipmi);
        assert_eq!(dcmi, [0xDC, 1, 1, 7, 0]);
    }

    #[test]
    fn pages_hold_eight_and_a_start_or_an_instance_picks() {
        let all = sensors();
        let first = get_sensor_info(&all, &[0xDC, 1, 0x41, 0, 1]).unwrap();
        assert_eq!((first[1], first[2]), (10, 8));
        assert_eq!(u16::from_le_bytes([first[3], first[4]]), 101);
        let second = get_sensor_info(&all, &[0xDC, 1, 0x41, 0, 9]).unwrap();
        assert_eq!((second[1], second[2]), (10, 2));
        assert_eq!(u16::from_le_bytes([second[3], second[4]]), 109);
        let one = get_temperature_readings(&all, &[0xDC, 1, 0x03, 8, 0]).unwrap();
        assert_eq!(one, [0xDC, 10, 1, 48, 8]);
        // No such instance, or no sensor of the entity: an empty page.
        assert_eq!(
            get_temperature_readings(&all, &[0xDC, 1, 0x03, 20, 0]).unwrap(),
            [0xDC, 10, 0]
        );
        assert_eq!(
            get_sensor_info(&all, &[0xDC, 1, 0x42, 0, 0]).unwrap(),
            [0xDC, 0, 0]
        );
    }

    #[test]
    fn temperatures_are_sign_and_magnitude() {
        assert_eq!(temperature_byte(-3.4), 0x83);
        assert_eq!(temperature_byte(41.6), 42);
        assert_eq!(temperature_byte(300.0), 127);
        assert_eq!(temperature_byte(-0.2), 0);
        let all = sensors();
        let inlet = get_temperature_readings(&all, &[0xDC, 1, 0x40, 0, 0]).unwrap();
        assert_eq!(inlet, [0xDC, 1, 1, 0x83, 1]);
    }

    #[test]
    fn other_types_entities_and_lengths_are_refused() {
        let all = sensors();
        for request in [[0xDC, 2, 0x40, 0, 0], [0xDC, 1, 0x99, 0, 0]] {
            assert_eq!(
                get_sensor_info(&all, &request),
                Err(CompletionCode::INVALID_DATA_FIELD)
            );
        }
        assert_eq!(
            get_temperature_readings(&all, &[0xDC, 1, 0x40, 0]),
            Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID)
        );
    }
}
