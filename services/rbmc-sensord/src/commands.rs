//! The sensor commands (IPMI v2.0 §35, Sensor/Event NetFn 04h).
//!
//! | Cmd | command                      | privilege |
//! |-----|------------------------------|-----------|
//! | 23h | Get Sensor Reading Factors   | User      |
//! | 24h | Set Sensor Hysteresis        | Operator  |
//! | 25h | Get Sensor Hysteresis        | User      |
//! | 26h | Set Sensor Thresholds        | Operator  |
//! | 27h | Get Sensor Thresholds        | User      |
//! | 28h | Set Sensor Event Enable      | Operator  |
//! | 29h | Get Sensor Event Enable      | User      |
//! | 2Bh | Get Sensor Event Status      | User      |
//! | 2Dh | Get Sensor Reading           | User      |

use ipmi_router::{
    events::{EventOnlySensor, EVENT_ONLY_SENSORS},
    HandlerResult, IpmiRequest,
};
use ipmi_sdr::Thresholds;
use ipmi_wire::CompletionCode;

use crate::{sensor::Sensor, Sensord};

/// Get Sensor Reading Factors.
pub const CMD_GET_SENSOR_READING_FACTORS: u8 = 0x23;
/// Set Sensor Hysteresis.
pub const CMD_SET_SENSOR_HYSTERESIS: u8 = 0x24;
/// Get Sensor Hysteresis.
pub const CMD_GET_SENSOR_HYSTERESIS: u8 = 0x25;
/// Set Sensor Thresholds.
pub const CMD_SET_SENSOR_THRESHOLDS: u8 = 0x26;
/// Get Sensor Thresholds.
pub const CMD_GET_SENSOR_THRESHOLDS: u8 = 0x27;
/// Set Sensor Event Enable.
pub const CMD_SET_SENSOR_EVENT_ENABLE: u8 = 0x28;
/// Get Sensor Event Enable.
pub const CMD_GET_SENSOR_EVENT_ENABLE: u8 = 0x29;
/// Get Sensor Event Status.
pub const CMD_GET_SENSOR_EVENT_STATUS: u8 = 0x2B;
/// Get Sensor Reading.
pub const CMD_GET_SENSOR_READING: u8 = 0x2D;

/// The sensor a request names: its number in the data, on the LUN the
/// request was addressed to.
fn sensor<'a>(
    state: &'a Sensord,
    request: &IpmiRequest,
    number: u8,
) -> Result<&'a Sensor, CompletionCode> {
    state
        .sensor(request.lun, number)
        .ok_or(CompletionCode::NOT_PRESENT)
}

/// An event-only sensor of another daemon (power, watchdog, session
/// audit) that the SDR describes: it has no reading, and its events are
/// always enabled. Clients that walk the SDR (FreeIPMI's `ipmi-config`)
/// ask it what they ask every sensor.
fn event_only(request: &IpmiRequest, number: u8) -> Option<EventOnlySensor> {
    (request.lun == 0)
        .then(|| EVENT_ONLY_SENSORS.into_iter().find(|s| s.number == number))
        .flatten()
}

/// Events and scanning enabled, reading unavailable (Table 35-15 byte 2).
const EVENT_ONLY_FLAGS: u8 = 0xE0;

fn status_flags(s: &crate::sensor::SensorState) -> u8 {
    let unavailable = s.raw.is_none() || !s.initial_update_done;
    (if s.events_enabled { 0x80 } else { 0 })
        | (if s.scanning_enabled { 0x40 } else { 0 })
        | (if unavailable { 0x20 } else { 0 })
}

/// Get Sensor Reading (§35.14, Table 35-15): reading, flags (events,
/// scanning, reading unavailable), threshold comparison status with the
/// reserved bits 7:6 returned as 1, and the optional byte as 80h.
pub fn cmd_get_sensor_reading(state: &Sensord, request: &IpmiRequest) -> HandlerResult {
    let [number] = request.data[..] else {
        return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
    };
    if event_only(request, number).is_some() {
        return Ok(vec![0x00, EVENT_ONLY_FLAGS, 0x00, 0x80]);
    }
    let s = sensor(state, request, number)?.snapshot();
    let status = if s.raw.is_some() {
        s.asserted & 0x3F
    } else {
        0
    };
    Ok(vec![
        s.raw.unwrap_or(0),
        status_flags(&s),
        0xC0 | status,
        0x80,
    ])
}

/// Get Sensor Thresholds (§35.9): readable mask, then LNC, LCR, LNR, UNC,
/// UCR, UNR (unreadable ones as 0).
pub fn cmd_get_sensor_thresholds(state: &Sensord, request: &IpmiRequest) -> HandlerResult {
    let [number] = request.data[..] else {
        return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
    };
    let t = sensor(state, request, number)?.snapshot().thresholds;
    Ok(vec![
        t.mask(),
        t.lnc.unwrap_or(0),
        t.lcr.unwrap_or(0),
        t.lnr.unwrap_or(0),
        t.unc.unwrap_or(0),
        t.ucr.unwrap_or(0),
        t.unr.unwrap_or(0),
    ])
}

/// Set Sensor Thresholds (§35.8): sets the thresholds named in the mask.
/// Only thresholds the sensor has are settable (CCh otherwise), and the
/// result must stay in order (CCh otherwise). Persisted before the reply.
pub async fn cmd_set_sensor_thresholds(state: &Sensord, request: &IpmiRequest) -> HandlerResult {
    let [number, mask, lnc, lcr, lnr, unc, ucr, unr] = request.data[..] else {
        return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
    };
    let sensor = sensor(state, request, number)?;
    let change = |s: &mut crate::sensor::SensorState| {
        let settable = s.thresholds.mask();
        if mask & 0xC0 != 0 || mask & !settable != 0 {
            return Err(CompletionCode::INVALID_DATA_FIELD);
        }
        let pick = |bit: u8, new: u8, old: Option<u8>| {
            if mask & (1 << bit) != 0 {
                Some(new)
            } else {
                old
            }
        };
        let t = s.thresholds;
        let updated = Thresholds {
            lnc: pick(0, lnc, t.lnc),
            lcr: pick(1, lcr, t.lcr),
            lnr: pick(2, lnr, t.lnr),
            unc: pick(3, unc, t.unc),
            ucr: pick(4, ucr, t.ucr),
            unr: pick(5, unr, t.unr),
        };
        let ordered: Vec<i16> = [
            updated.lnr,
            updated.lcr,
            updated.lnc,
            updated.unc,
            updated.ucr,
            updated.unr,
        ]
        .into_iter()
        .flatten()
        .map(|raw| sensor.ordered(raw))
        .collect();
        if ordered.windows(2).any(|w| w[0] > w[1]) {
            return Err(CompletionCode::INVALID_DATA_FIELD);
        }
        s.thresholds = updated;
        Ok(())
    };
    state.change_settings(sensor, change).await?;
    Ok(Vec::new())
}

/// Get Sensor Hysteresis (§35.7): `number, FFh` → positive, negative.
pub fn cmd_get_sensor_hysteresis(state: &Sensord, request: &IpmiRequest) -> HandlerResult {
    let [number, _reserved] = request.data[..] else {
        return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
    };
    let s = sensor(state, request, number)?.snapshot();
    Ok(vec![s.positive_hysteresis, s.negative_hysteresis])
}

/// Set Sensor Hysteresis (§35.6): `number, FFh, positive, negative`.
/// Persisted before the reply.
pub async fn cmd_set_sensor_hysteresis(state: &Sensord, request: &IpmiRequest) -> HandlerResult {
    let [number, _reserved, positive, negative] = request.data[..] else {
        return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
    };
    let sensor = sensor(state, request, number)?;
    state
        .change_settings(sensor, |s| {
            s.positive_hysteresis = positive;
            s.negative_hysteresis = negative;
            Ok(())
        })
        .await?;
    Ok(Vec::new())
}

/// Get Sensor Reading Factors (§35.5): the factors are the same for every
/// reading of a linear sensor, so "next reading" echoes the request.
pub fn cmd_get_sensor_reading_factors(state: &Sensord, request: &IpmiRequest) -> HandlerResult {
    let [number, reading] = request.data[..] else {
        return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
    };
    let sensor = sensor(state, request, number)?;
    let mut out = vec![reading];
    out.extend_from_slice(&factor_bytes(&sensor.factors));
    Ok(out)
}

/// The six factor bytes of Table 43-1 bytes 25-30 (Table 35-6 bytes 3-8):
/// M, M/tolerance, B, B/accuracy, accuracy/direction, R exp/B exp.
pub fn factor_bytes(f: &ipmi_sdr::LinearFactors) -> [u8; 6] {
    let [m_lo, m_hi] = f.m.to_le_bytes();
    let [b_lo, b_hi] = f.b.to_le_bytes();
    let nibble = |v: i8| v.to_le_bytes()[0] & 0x0F;
    [
        m_lo,
        (m_hi & 0x03) << 6,
        b_lo,
        (b_hi & 0x03) << 6,
        0,
        (nibble(f.r_exp) << 4) | nibble(f.b_exp),
    ]
}

/// Set Sensor Event Enable (§35.10): byte 2 bit 7 all event messages, bit 6
/// scanning, bits 5:4 00b keep / 01b enable selected / 10b disable selected;
/// then up to four bytes of assertion and deassertion offsets. Persisted
/// before the reply.
pub async fn cmd_set_sensor_event_enable(state: &Sensord, request: &IpmiRequest) -> HandlerResult {
    let data = &request.data;
    if !(2..=6).contains(&data.len()) {
        return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
    }
    let byte = |i: usize| data.get(i).copied().unwrap_or(0);
    let assertion = u16::from_le_bytes([byte(2), byte(3)]);
    let deassertion = u16::from_le_bytes([byte(4), byte(5)]);
    if let Some(fixed) = event_only(request, data[0]) {
        // Its enables are fixed: a request that leaves them as they are
        // succeeds (a configuration committed back unchanged); any other is
        // refused.
        let unchanged = byte(1) & 0xC0 == 0xC0
            && match (byte(1) >> 4) & 0x03 {
                0b00 => true,
                0b01 => assertion & !fixed.offsets == 0 && deassertion == 0,
                0b10 => assertion == 0 && deassertion == 0,
                _ => false,
            };
        return if unchanged {
            Ok(Vec::new())
        } else {
            Err(CompletionCode::INVALID_DATA_FIELD)
        };
    }
    let sensor = sensor(state, request, data[0])?;
    let change = |s: &mut crate::sensor::SensorState| {
        let supported = crate::sensor::supported_offsets(&s.thresholds);
        match (byte(1) >> 4) & 0x03 {
            0b00 => {}
            0b01 => {
                if (assertion | deassertion) & !supported != 0 {
                    return Err(CompletionCode::INVALID_DATA_FIELD);
                }
                s.assertion_enables |= assertion;
                s.deassertion_enables |= deassertion;
            }
            0b10 => {
                s.assertion_enables &= !assertion;
                s.deassertion_enables &= !deassertion;
            }
            _ => return Err(CompletionCode::INVALID_DATA_FIELD),
        }
        s.events_enabled = byte(1) & 0x80 != 0;
        s.scanning_enabled = byte(1) & 0x40 != 0;
        Ok(())
    };
    state.change_settings(sensor, change).await?;
    Ok(Vec::new())
}

/// Get Sensor Event Enable (§35.11).
pub fn cmd_get_sensor_event_enable(state: &Sensord, request: &IpmiRequest) -> HandlerResult {
    let [number] = request.data[..] else {
        return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
    };
    if let Some(fixed) = event_only(request, number) {
        let [lo, hi] = fixed.offsets.to_le_bytes();
        return Ok(vec![0xC0, lo, hi, 0, 0]);
    }
    let s = sensor(state, request, number)?.snapshot();
    let a = s.assertion_enables.to_le_bytes();
    let d = s.deassertion_enables.to_le_bytes();
    Ok(vec![status_flags(&s) & 0xC0, a[0], a[1], d[0], d[1]])
}

/// Get Sensor Event Status (§35.13): which events are asserted now.
pub fn cmd_get_sensor_event_status(state: &Sensord, request: &IpmiRequest) -> HandlerResult {
    let [number] = request.data[..] else {
        return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
    };
    if event_only(request, number).is_some() {
        return Ok(vec![EVENT_ONLY_FLAGS, 0, 0, 0, 0]);
    }
    let s = sensor(state, request, number)?.snapshot();
    let asserted = (0..6u8)
        .filter(|bit| s.asserted & (1 << bit) != 0)
        .map(|bit| {
            1u16 << crate::thresholds::Crossing {
                bit,
                asserted: true,
            }
            .event_offset()
        })
        .fold(0u16, |acc, b| acc | b)
        .to_le_bytes();
    Ok(vec![status_flags(&s), asserted[0], asserted[1], 0, 0])
}

#[cfg(test)]
mod tests {
    use super::*;
    use ipmi_router::Context;
    use ipmi_wire::{NetFn, Privilege};

    /// A daemon state over a one-sensor hwmon tree at 50.0 °C.
    fn state(tag: &str) -> Sensord {
        let dir = std::env::temp_dir().join(format!("rbmc-cmd-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let hwmon = dir.join("sys/class/hwmon/hwmon0");
        std::fs::create_dir_all(&hwmon).unwrap();
        std::fs::write(hwmon.join("name"), "t\n").unwrap();
        std::fs::write(hwmon.join("temp1_input"), "50000\n").unwrap();
        let config = rbmc_config::Config::from_toml(
            &format!(
                r#"
[hwmon]
sysfs-root = "{}"

[[sensors]]
name = "T"
number = 7
kind = "temperature"
entity-id = 3
range = [0.0, 255.0]
source = {{ type = "hwmon", name = "t", input = "temp1" }}
thresholds = {{ lnc = 10.0, unc = 80.0, ucr = 90.0 }}
hysteresis = 2.0
"#,
                dir.join("sys").display()
            ),
            "t.toml",
        )
        .unwrap();
        let state = Sensord::new(&config, &dir.join("state")).unwrap();
        state.sensor(0, 7).unwrap().poll();
        state
    }

    fn request(data: &[u8]) -> IpmiRequest {
        IpmiRequest {
            netfn: NetFn::SENSOR_EVENT,
            lun: 0,
            cmd: 0,
            data: data.to_vec(),
            context: Context {
                channel: 1,
                privilege: Privilege::Operator,
                user_id: 2,
                session_id: 1,
            },
        }
    }

    #[test]
    fn reading_and_thresholds_in_raw_counts() {
        // 0..255 °C gives M = 1: raw counts are degrees.
        let s = state("reading");
        assert_eq!(
            cmd_get_sensor_reading(&s, &request(&[7])).unwrap(),
            [50, 0xC0, 0xC0, 0x80]
        );
        assert_eq!(
            cmd_get_sensor_thresholds(&s, &request(&[7])).unwrap(),
            [0b011001, 10, 0, 0, 80, 90, 0]
        );
        assert_eq!(
            cmd_get_sensor_reading(&s, &request(&[8])),
            Err(CompletionCode::NOT_PRESENT)
        );
        assert_eq!(
            cmd_get_sensor_reading(&s, &request(&[])),
            Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID)
        );
    }

    #[tokio::test]
    async fn set_thresholds_checks_mask_and_order() {
        let s = state("set");
        // UNC (bit 3) to 70: allowed.
        cmd_set_sensor_thresholds(&s, &request(&[7, 0x08, 0, 0, 0, 70, 0, 0]))
            .await
            .unwrap();
        assert_eq!(
            cmd_get_sensor_thresholds(&s, &request(&[7])).unwrap()[4],
            70
        );
        // UNR (bit 5) was not configured: not settable.
        assert_eq!(
            cmd_set_sensor_thresholds(&s, &request(&[7, 0x20, 0, 0, 0, 0, 0, 99])).await,
            Err(CompletionCode::INVALID_DATA_FIELD)
        );
        // UNC above UCR breaks the order.
        assert_eq!(
            cmd_set_sensor_thresholds(&s, &request(&[7, 0x08, 0, 0, 0, 95, 0, 0])).await,
            Err(CompletionCode::INVALID_DATA_FIELD)
        );
        assert_eq!(
            cmd_set_sensor_thresholds(&s, &request(&[7, 0x08])).await,
            Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID)
        );
    }

    #[tokio::test]
    async fn hysteresis_and_event_enables_round_trip() {
        let s = state("enables");
        assert_eq!(
            cmd_get_sensor_hysteresis(&s, &request(&[7, 0xFF])).unwrap(),
            [2, 2]
        );
        cmd_set_sensor_hysteresis(&s, &request(&[7, 0xFF, 3, 4]))
            .await
            .unwrap();
        assert_eq!(
            cmd_get_sensor_hysteresis(&s, &request(&[7, 0xFF])).unwrap(),
            [3, 4]
        );
        // Offsets: LNC going low (bit 0), UNC going high (bit 7), UCR going
        // high (bit 9).
        let all = cmd_get_sensor_event_enable(&s, &request(&[7])).unwrap();
        assert_eq!(all, [0xC0, 0x81, 0x02, 0x81, 0x02]);
        // Disable UNC going-high assertions, keep events and scanning on.
        cmd_set_sensor_event_enable(&s, &request(&[7, 0xE0, 0x80, 0x00]))
            .await
            .unwrap();
        assert_eq!(
            cmd_get_sensor_event_enable(&s, &request(&[7])).unwrap()[1],
            0x01
        );
        // Enabling an offset the sensor cannot generate is refused.
        assert_eq!(
            cmd_set_sensor_event_enable(&s, &request(&[7, 0xD0, 0x10, 0x00])).await,
            Err(CompletionCode::INVALID_DATA_FIELD)
        );
    }

    #[test]
    fn event_only_sensors_answer_as_unreadable_with_fixed_enables() {
        let s = state("event-only");
        // Watchdog 2 (E2h): offsets 0-3 and 8.
        assert_eq!(
            cmd_get_sensor_reading(&s, &request(&[0xE2])),
            Ok(vec![0x00, 0xE0, 0x00, 0x80])
        );
        assert_eq!(
            cmd_get_sensor_event_enable(&s, &request(&[0xE2])),
            Ok(vec![0xC0, 0x0F, 0x01, 0, 0])
        );
        let set = |data: &[u8]| {
            tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap()
                .block_on(cmd_set_sensor_event_enable(&s, &request(data)))
        };
        // Unchanged: accepted. Disabling events or an offset: refused.
        assert_eq!(set(&[0xE2, 0xC0]), Ok(Vec::new()));
        assert_eq!(set(&[0xE2, 0xD0, 0x0F, 0x01]), Ok(Vec::new()));
        assert_eq!(set(&[0xE2, 0x40]), Err(CompletionCode::INVALID_DATA_FIELD));
        assert_eq!(
            set(&[0xE2, 0xE0, 0x01]),
            Err(CompletionCode::INVALID_DATA_FIELD)
        );
        // Numbers that are nobody's stay absent.
        assert_eq!(
            cmd_get_sensor_reading(&s, &request(&[0xE9])),
            Err(CompletionCode::NOT_PRESENT)
        );
    }

    #[test]
    fn reading_factors_match_the_sdr_bytes() {
        let s = state("factors");
        let factors = cmd_get_sensor_reading_factors(&s, &request(&[7, 50])).unwrap();
        // M = 1, B = 0, exponents 0 (Table 35-6).
        assert_eq!(factors, [50, 1, 0, 0, 0, 0, 0]);
    }

    /// Every SDR, as Get SDR returns them.
    fn sdr_records(s: &Sensord) -> Vec<Vec<u8>> {
        let sdr = crate::lock(&s.sdr);
        let mut records = Vec::new();
        let mut id = 0u16;
        loop {
            let [lo, hi] = id.to_le_bytes();
            let record = sdr.cmd_get(&[0, 0, lo, hi, 0, 0xFF]).unwrap();
            id = u16::from_le_bytes([record[0], record[1]]);
            records.push(record);
            if id == 0xFFFF {
                return records;
            }
        }
    }

    #[tokio::test]
    async fn a_failed_write_is_refused_and_changes_nothing() {
        let s = state("refused");
        cmd_set_sensor_thresholds(&s, &request(&[7, 0x08, 0, 0, 0, 70, 0, 0]))
            .await
            .unwrap();
        let path = s.settings.path().to_path_buf();
        let on_disk = std::fs::read(&path).unwrap();
        let thresholds = cmd_get_sensor_thresholds(&s, &request(&[7])).unwrap();
        let hysteresis = cmd_get_sensor_hysteresis(&s, &request(&[7, 0xFF])).unwrap();
        let enables = cmd_get_sensor_event_enable(&s, &request(&[7])).unwrap();
        let sdr = sdr_records(&s);
        // A directory where the temporary file goes: every write fails, as
        // on a read-only or broken file system.
        std::fs::create_dir_all(path.with_extension("tmp")).unwrap();
        assert_eq!(
            cmd_set_sensor_thresholds(&s, &request(&[7, 0x08, 0, 0, 0, 60, 0, 0])).await,
            Err(CompletionCode::UNSPECIFIED)
        );
        assert_eq!(
            cmd_set_sensor_hysteresis(&s, &request(&[7, 0xFF, 5, 5])).await,
            Err(CompletionCode::UNSPECIFIED)
        );
        assert_eq!(
            cmd_set_sensor_event_enable(&s, &request(&[7, 0x00])).await,
            Err(CompletionCode::UNSPECIFIED)
        );
        // Memory, the SDR and the file are as they were.
        assert_eq!(
            cmd_get_sensor_thresholds(&s, &request(&[7])).unwrap(),
            thresholds
        );
        assert_eq!(
            cmd_get_sensor_hysteresis(&s, &request(&[7, 0xFF])).unwrap(),
            hysteresis
        );
        assert_eq!(
            cmd_get_sensor_event_enable(&s, &request(&[7])).unwrap(),
            enables
        );
        assert_eq!(sdr_records(&s), sdr);
        assert_eq!(std::fs::read(&path).unwrap(), on_disk);
        // A refused request is still refused for its own reason first.
        assert_eq!(
            cmd_set_sensor_thresholds(&s, &request(&[7, 0x20, 0, 0, 0, 0, 0, 99])).await,
            Err(CompletionCode::INVALID_DATA_FIELD)
        );
    }
}
