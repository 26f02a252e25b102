//! IPMI Platform Event Filtering (IPMI v2.0 §17 and §30) and Platform
//! Event Traps (PET 1.0), without I/O.
//!
//! - [`params`]: the PEF configuration parameters (Set/Get PEF
//!   Configuration Parameters), their wire forms and their checks.
//! - [`filter`]: an event as the SEL holds it, and the event filter
//!   table's matching: which actions an event asks for, and which alert
//!   policies it starts.
//! - [`processor`]: when events are processed: PEF's enable, the startup
//!   delays, the postpone timer (Arm PEF Postpone Timer), and the last
//!   processed event IDs (Get/Set Last Processed Event ID).
//! - [`policy`]: walking an alert policy: which destinations an alert
//!   goes to, given how the previous one went.
//! - [`pet`]: the Platform Event Trap: its specific trap number, its
//!   variable binding and the SNMPv1 Trap-PDU around it (BER, by yasna).
//!
//! Time is the caller's: a monotonic [`std::time::Duration`] since any
//! fixed start.
#![forbid(unsafe_code)]

pub mod filter;
pub mod params;
pub mod pet;
pub mod policy;
pub mod processor;

/// Sensor/Event NetFn command numbers of PEF and alerting (IPMI v2.0
/// Table G-1).
pub mod cmd {
    /// Get PEF Capabilities.
    pub const GET_PEF_CAPABILITIES: u8 = 0x10;
    /// Arm PEF Postpone Timer.
    pub const ARM_POSTPONE_TIMER: u8 = 0x11;
    /// Set PEF Configuration Parameters.
    pub const SET_PEF_CONFIG: u8 = 0x12;
    /// Get PEF Configuration Parameters.
    pub const GET_PEF_CONFIG: u8 = 0x13;
    /// Set Last Processed Event ID.
    pub const SET_LAST_PROCESSED: u8 = 0x14;
    /// Get Last Processed Event ID.
    pub const GET_LAST_PROCESSED: u8 = 0x15;
    /// Alert Immediate.
    pub const ALERT_IMMEDIATE: u8 = 0x16;
    /// PET Acknowledge.
    pub const PET_ACKNOWLEDGE: u8 = 0x17;
}

/// Get PEF Capabilities' answer: version 1.5 (51h, BCD with the minor
/// digit high), the actions this PEF carries out (alert, power down,
/// reset, power cycle, diagnostic interrupt; no OEM action and no OEM
/// event record filtering), and the number of event filters, which
/// parameter 5 also reports.
pub fn capabilities() -> Vec<u8> {
    vec![
        0x51,
        filter::Actions::SUPPORTED.bits(),
        params::FILTER_COUNT,
    ]
}
