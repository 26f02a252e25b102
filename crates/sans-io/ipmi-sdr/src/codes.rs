//! The SDR's code sets (IPMI v2.0 §42, §43), each an `ipmi_wire::code_set!`
//! table. Sensor types and event/reading types are ipmi-wire's, because SEL
//! entries carry them too; they are re-exported here.

use ipmi_wire::code_set;
pub use ipmi_wire::{EventReadingType, SensorType};

code_set! {
    /// SDR record type codes (IPMI v2.0 §43; header byte 4).
    pub struct RecordType(u8) {
        /// Full Sensor Record (IPMI v2.0 §43.1, Table 43-1).
        FULL_SENSOR = 0x01, "Full Sensor Record";
        /// Compact Sensor Record (IPMI v2.0 §43.2, Table 43-2).
        COMPACT_SENSOR = 0x02, "Compact Sensor Record";
        /// Event-Only Record (IPMI v2.0 §43.3, Table 43-3).
        EVENT_ONLY = 0x03, "Event-Only Record";
        /// Entity Association Record (IPMI v2.0 §43.4, Table 43-4).
        ENTITY_ASSOCIATION = 0x08, "Entity Association Record";
        /// Generic Device Locator Record (IPMI v2.0 §43.7).
        GENERIC_DEVICE_LOCATOR = 0x10, "Generic Device Locator Record";
        /// FRU Device Locator Record (IPMI v2.0 §43.8, Table 43-7).
        FRU_DEVICE_LOCATOR = 0x11, "FRU Device Locator Record";
        /// Management Controller Device Locator (IPMI v2.0 §43.9, Table 43-8).
        MC_DEVICE_LOCATOR = 0x12, "Management Controller Device Locator Record";
        /// OEM record (IPMI v2.0 §43).
        OEM = 0xC0, "OEM Record";
    }
}

code_set! {
    /// Sensor unit type codes (IPMI v2.0 §43.17, Table 43-15), as the base
    /// and modifier unit bytes of a Full Sensor Record carry them.
    pub struct Unit(u8) {
        /// Unspecified.
        UNSPECIFIED = 0, "unspecified";
        /// Degrees C.
        DEGREES_C = 1, "degrees C";
        /// Degrees F.
        DEGREES_F = 2, "degrees F";
        /// Degrees K.
        DEGREES_K = 3, "degrees K";
        /// Volts.
        VOLTS = 4, "Volts";
        /// Amps.
        AMPS = 5, "Amps";
        /// Watts.
        WATTS = 6, "Watts";
        /// Joules.
        JOULES = 7, "Joules";
        /// CFM (cubic feet per minute).
        CFM = 17, "CFM";
        /// RPM.
        RPM = 18, "RPM";
        /// Hz.
        HZ = 19, "Hz";
        /// Seconds.
        SECOND = 22, "second";
    }
}

code_set! {
    /// Entity ID codes (IPMI v2.0 §43.14, Table 43-13).
    pub struct EntityId(u8) {
        /// Unspecified.
        UNSPECIFIED = 0x00, "unspecified";
        /// Processor.
        PROCESSOR = 0x03, "processor";
        /// System management module (e.g. the BMC).
        SYSTEM_MANAGEMENT_MODULE = 0x06, "system management module";
        /// System board.
        SYSTEM_BOARD = 0x07, "system board";
        /// Memory module.
        MEMORY_MODULE = 0x08, "memory module";
        /// Power supply.
        POWER_SUPPLY = 0x0A, "power supply";
        /// System chassis.
        SYSTEM_CHASSIS = 0x17, "system chassis";
        /// Fan / cooling device.
        FAN = 0x1D, "fan / cooling device";
        /// Cooling unit / cooling domain.
        COOLING_UNIT = 0x1E, "cooling unit / cooling domain";
        /// Memory device.
        MEMORY_DEVICE = 0x20, "memory device";
        /// Air inlet.
        AIR_INLET = 0x37, "air inlet";
    }
}

/// Device capability bits of the MC Device Locator (IPMI v2.0 Table 43-8
/// byte 9). Bits of a mask, not a code set, so plain constants.
pub mod device_capabilities {
    /// Sensor device: accepts sensor commands.
    pub const SENSOR_DEVICE: u8 = 0x01;
    /// SDR repository device.
    pub const SDR_REPOSITORY: u8 = 0x02;
    /// SEL device.
    pub const SEL: u8 = 0x04;
    /// FRU inventory device: FRU commands to device 0 at LUN 00b.
    pub const FRU_INVENTORY: u8 = 0x08;
    /// IPMB event receiver.
    pub const IPMB_EVENT_RECEIVER: u8 = 0x10;
    /// IPMB event generator.
    pub const IPMB_EVENT_GENERATOR: u8 = 0x20;
    /// Bridge: responds to Bridge NetFn commands.
    pub const BRIDGE: u8 = 0x40;
    /// Chassis device (per the ICMB spec).
    pub const CHASSIS: u8 = 0x80;
}
