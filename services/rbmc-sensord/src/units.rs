//! How each sensor kind is described to IPMI: sensor type (IPMI v2.0 Table
//! 42-3) and base unit (Table 43-15).

use ipmi_sdr::{SensorType, Unit};
use rbmc_config::SensorKind;

/// The IPMI sensor type code, as the byte SDRs and D-Bus carry.
pub fn sensor_type(kind: SensorKind) -> u8 {
    let sensor_type = match kind {
        SensorKind::Temperature => SensorType::TEMPERATURE,
        SensorKind::Voltage => SensorType::VOLTAGE,
        SensorKind::Current => SensorType::CURRENT,
        // A fan's PWM duty is a Fan (04h) sensor too, as OpenBMC's ipmid
        // describes its fan_pwm sensors.
        SensorKind::Fan | SensorKind::Pwm => SensorType::FAN,
        // 08h Power Supply: what OpenBMC's ipmid and most BMCs use for input
        // power readings.
        SensorKind::Power => SensorType::POWER_SUPPLY,
    };
    sensor_type.code()
}

/// The IPMI base unit code, as the byte SDRs carry.
pub fn base_unit(kind: SensorKind) -> u8 {
    let unit = match kind {
        SensorKind::Temperature => Unit::DEGREES_C,
        SensorKind::Voltage => Unit::VOLTS,
        SensorKind::Current => Unit::AMPS,
        SensorKind::Power => Unit::WATTS,
        SensorKind::Fan => Unit::RPM,
        // Percent of nothing in particular: unspecified, with the
        // percentage bit (see [`percentage`]).
        SensorKind::Pwm => Unit::UNSPECIFIED,
    };
    unit.code()
}

/// Whether the reading is a percentage (Sensor Units 1 bit 0, Table 43-1
/// byte 21): a fan's PWM duty.
pub fn percentage(kind: SensorKind) -> bool {
    kind == SensorKind::Pwm
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_tables_42_3_and_43_15() {
        for (kind, ty, unit) in [
            (SensorKind::Temperature, 0x01, 1),
            (SensorKind::Voltage, 0x02, 4),
            (SensorKind::Current, 0x03, 5),
            (SensorKind::Fan, 0x04, 18),
            (SensorKind::Power, 0x08, 6),
            (SensorKind::Pwm, 0x04, 0),
        ] {
            assert_eq!(sensor_type(kind), ty);
            assert_eq!(base_unit(kind), unit);
            assert_eq!(percentage(kind), kind == SensorKind::Pwm);
        }
    }
}
