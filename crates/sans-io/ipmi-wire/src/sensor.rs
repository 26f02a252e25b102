//! Sensor and event code sets (IPMI v2.0 §42): what an SDR or a SEL entry
//! says a sensor is, and which of its states an event reports.
//!
//! The same codes travel in Platform Event messages and SEL entries (Table
//! 29-5, 29-6) and in sensor records (Table 43-1), so they live here, beside
//! the message layer, for the SDR encoder and every service that logs an
//! event. All are open sets: an unknown code read back from a log still
//! parses and prints as hex.

use crate::code_set;

code_set! {
    /// A sensor type code (IPMI v2.0 §42.2, Table 42-3). Only the types the
    /// suite uses or reports are named.
    pub struct SensorType(u8) {
        /// Temperature.
        TEMPERATURE = 0x01, "Temperature";
        /// Voltage.
        VOLTAGE = 0x02, "Voltage";
        /// Current.
        CURRENT = 0x03, "Current";
        /// Fan.
        FAN = 0x04, "Fan";
        /// Physical security (chassis intrusion).
        PHYSICAL_SECURITY = 0x05, "Physical Security";
        /// Processor.
        PROCESSOR = 0x07, "Processor";
        /// Power supply.
        POWER_SUPPLY = 0x08, "Power Supply";
        /// Power unit; offsets in [`PowerUnitOffset`].
        POWER_UNIT = 0x09, "Power Unit";
        /// Cooling device.
        COOLING_DEVICE = 0x0A, "Cooling Device";
        /// Other units-based sensor (e.g. power in watts).
        OTHER_UNITS_BASED = 0x0B, "Other Units-based Sensor";
        /// Memory.
        MEMORY = 0x0C, "Memory";
        /// Event logging disabled.
        EVENT_LOGGING_DISABLED = 0x10, "Event Logging Disabled";
        /// System event.
        SYSTEM_EVENT = 0x12, "System Event";
        /// Button / switch.
        BUTTON_SWITCH = 0x14, "Button / Switch";
        /// System ACPI power state; offsets in [`AcpiPowerStateOffset`].
        SYSTEM_ACPI_POWER_STATE = 0x22, "System ACPI Power State";
        /// Watchdog 2; offsets in [`Watchdog2Offset`].
        WATCHDOG_2 = 0x23, "Watchdog 2";
        /// Entity presence.
        ENTITY_PRESENCE = 0x25, "Entity Presence";
        /// Management subsystem health.
        MANAGEMENT_SUBSYSTEM_HEALTH = 0x28, "Management Subsystem Health";
        /// Battery.
        BATTERY = 0x29, "Battery";
    }
}

code_set! {
    /// An event/reading type code (IPMI v2.0 §42.1, Table 42-1): how to read
    /// a sensor's states and the offsets of its events.
    pub struct EventReadingType(u8) {
        /// Unspecified.
        UNSPECIFIED = 0x00, "Unspecified";
        /// Threshold-based sensor.
        THRESHOLD = 0x01, "Threshold";
        /// Generic discrete: DMI-based usage state.
        USAGE_STATE = 0x02, "DMI-based Usage State";
        /// Generic discrete: state deasserted / asserted.
        DIGITAL_DISCRETE = 0x03, "Digital Discrete";
        /// Generic discrete: predictive failure.
        PREDICTIVE_FAILURE = 0x04, "Predictive Failure";
        /// Generic discrete: limit not exceeded / exceeded.
        LIMIT = 0x05, "Limit";
        /// Generic discrete: device removed / inserted.
        PRESENCE = 0x08, "Device Presence";
        /// Generic discrete: device disabled / enabled.
        ENABLED = 0x09, "Device Enabled";
        /// Generic discrete: redundancy states.
        REDUNDANCY = 0x0B, "Redundancy";
        /// Sensor-specific: offsets from the sensor type (Table 42-3).
        SENSOR_SPECIFIC = 0x6F, "Sensor-specific";
    }
}

code_set! {
    /// A sensor-specific offset of the Power Unit sensor, type 09h (IPMI
    /// v2.0 Table 42-3), event data 1 bits 3:0.
    pub struct PowerUnitOffset(u8) {
        /// Power off / power down.
        POWER_OFF = 0x00, "Power Off / Power Down";
        /// Power cycle.
        POWER_CYCLE = 0x01, "Power Cycle";
        /// 240VA power down.
        POWER_DOWN_240VA = 0x02, "240VA Power Down";
        /// Interlock power down.
        INTERLOCK_POWER_DOWN = 0x03, "Interlock Power Down";
        /// AC lost / power input lost.
        AC_LOST = 0x04, "AC lost / Power input lost";
        /// Soft power control failure: the unit did not respond to a request
        /// to turn on or off.
        SOFT_POWER_CONTROL_FAILURE = 0x05, "Soft Power Control Failure";
        /// Power unit failure detected.
        FAILURE_DETECTED = 0x06, "Power Unit Failure detected";
        /// Predictive failure.
        PREDICTIVE_FAILURE = 0x07, "Predictive Failure";
    }
}

code_set! {
    /// A sensor-specific offset of the System ACPI Power State sensor, type
    /// 22h (IPMI v2.0 Table 42-3), event data 1 bits 3:0. Only the states
    /// the suite reports are named.
    pub struct AcpiPowerStateOffset(u8) {
        /// S0/G0, working.
        S0_G0_WORKING = 0x00, "S0/G0 \"working\"";
        /// G2/S5, soft-off.
        S5_G2_SOFT_OFF = 0x05, "S5/G2 \"soft-off\"";
    }
}

code_set! {
    /// A sensor-specific offset of the Watchdog 2 sensor, type 23h (IPMI v2.0
    /// Table 42-3), event data 1 bits 3:0. Offsets 00h-03h equal the timeout
    /// action codes of Set Watchdog Timer (Table 27-7).
    pub struct Watchdog2Offset(u8) {
        /// Timer expired, status only (no action).
        TIMER_EXPIRED = 0x00, "Timer expired";
        /// Hard reset.
        HARD_RESET = 0x01, "Hard Reset";
        /// Power down.
        POWER_DOWN = 0x02, "Power Down";
        /// Power cycle.
        POWER_CYCLE = 0x03, "Power Cycle";
        /// Timer interrupt (the pre-timeout interrupt fired).
        TIMER_INTERRUPT = 0x08, "Timer interrupt";
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensor_types_match_table_42_3() {
        use SensorType as T;
        #[rustfmt::skip]
        let pinned = [
            (0x01, T::TEMPERATURE), (0x02, T::VOLTAGE), (0x03, T::CURRENT), (0x04, T::FAN),
            (0x05, T::PHYSICAL_SECURITY), (0x07, T::PROCESSOR), (0x08, T::POWER_SUPPLY),
            (0x09, T::POWER_UNIT), (0x0A, T::COOLING_DEVICE), (0x0B, T::OTHER_UNITS_BASED),
            (0x0C, T::MEMORY), (0x10, T::EVENT_LOGGING_DISABLED), (0x12, T::SYSTEM_EVENT),
            (0x14, T::BUTTON_SWITCH), (0x22, T::SYSTEM_ACPI_POWER_STATE), (0x23, T::WATCHDOG_2),
            (0x25, T::ENTITY_PRESENCE), (0x28, T::MANAGEMENT_SUBSYSTEM_HEALTH), (0x29, T::BATTERY),
        ];
        for (expected, code) in pinned {
            assert_eq!(expected, code.0, "{code:?}");
        }
        assert_eq!(pinned.len(), T::KNOWN.len());
    }

    #[test]
    fn event_reading_types_match_table_42_1() {
        use EventReadingType as E;
        #[rustfmt::skip]
        let pinned = [
            (0x00, E::UNSPECIFIED), (0x01, E::THRESHOLD), (0x02, E::USAGE_STATE),
            (0x03, E::DIGITAL_DISCRETE), (0x04, E::PREDICTIVE_FAILURE), (0x05, E::LIMIT),
            (0x08, E::PRESENCE), (0x09, E::ENABLED), (0x0B, E::REDUNDANCY),
            (0x6F, E::SENSOR_SPECIFIC),
        ];
        for (expected, code) in pinned {
            assert_eq!(expected, code.0, "{code:?}");
        }
        assert_eq!(pinned.len(), E::KNOWN.len());
    }

    #[test]
    fn sensor_specific_offsets_match_table_42_3() {
        use PowerUnitOffset as P;
        for (expected, offset) in [
            (0x00, P::POWER_OFF),
            (0x01, P::POWER_CYCLE),
            (0x02, P::POWER_DOWN_240VA),
            (0x03, P::INTERLOCK_POWER_DOWN),
            (0x04, P::AC_LOST),
            (0x05, P::SOFT_POWER_CONTROL_FAILURE),
            (0x06, P::FAILURE_DETECTED),
            (0x07, P::PREDICTIVE_FAILURE),
        ] {
            assert_eq!(expected, offset.0, "{offset:?}");
        }
        use AcpiPowerStateOffset as A;
        for (expected, offset) in [(0x00, A::S0_G0_WORKING), (0x05, A::S5_G2_SOFT_OFF)] {
            assert_eq!(expected, offset.0, "{offset:?}");
        }
        use Watchdog2Offset as W;
        for (expected, offset) in [
            (0x00, W::TIMER_EXPIRED),
            (0x01, W::HARD_RESET),
            (0x02, W::POWER_DOWN),
            (0x03, W::POWER_CYCLE),
            (0x08, W::TIMER_INTERRUPT),
        ] {
            assert_eq!(expected, offset.0, "{offset:?}");
        }
    }
}
