//! How each sensor kind is described to IPMI: sensor type (IPMI v2.0 Table
//! 42-3) and base unit (Table 43-15).

use rbmc_config::SensorKind;

/// The IPMI sensor type code.
pub fn sensor_type(kind: SensorKind) -> u8 {
    match kind {
        SensorKind::Temperature => 0x01,
        SensorKind::Voltage => 0x02,
        SensorKind::Current => 0x03,
        SensorKind::Fan => 0x04,
        // 08h Power Supply: what OpenBMC's ipmid and most BMCs use for input
        // power readings.
        SensorKind::Power => 0x08,
    }
}

/// The IPMI base unit code.
pub fn base_unit(kind: SensorKind) -> u8 {
    match kind {
        SensorKind::Temperature => 1,
        SensorKind::Voltage => 4,
        SensorKind::Current => 5,
        SensorKind::Power => 6,
        SensorKind::Fan => 18,
    }
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
        ] {
            assert_eq!(sensor_type(kind), ty);
            assert_eq!(base_unit(kind), unit);
        }
    }
}
