//! The event contract with the SEL logger.
//!
//! Threshold crossings go to the SEL logger over the contract in
//! [`ipmi_router::events`] (OpenBMC's `IpmiSelAdd`); each sensor object
//! carries `org.rbmc.Ipmi.Sensor` so the SEL logger can number the record.
//!
//! Event data follows IPMI v2.0 Table 29-6 for threshold events: byte 1 =
//! 50h | offset (byte 2 holds the trigger reading, byte 3 the trigger
//! threshold), byte 2 = reading, byte 3 = threshold, all raw.

use tracing::info;

use crate::sensor::ThresholdEvent;

/// The three event data bytes of a threshold event.
pub fn event_data(event: &ThresholdEvent) -> [u8; 3] {
    [
        0x50 | event.crossing.event_offset(),
        event.reading,
        event.threshold,
    ]
}

/// A human-readable message for the log.
pub fn message(sensor: &str, event: &ThresholdEvent) -> String {
    const NAMES: [&str; 6] = [
        "lower non-critical",
        "lower critical",
        "lower non-recoverable",
        "upper non-critical",
        "upper critical",
        "upper non-recoverable",
    ];
    let name = NAMES[usize::from(event.crossing.bit.min(5))];
    format!(
        "{sensor}: {name} threshold {}",
        if event.crossing.asserted {
            "crossed"
        } else {
            "cleared"
        }
    )
}

/// Sends one event; a missing SEL logger is logged, never fatal.
pub async fn log(conn: &zbus::Connection, sensor: &str, path: &str, event: ThresholdEvent) {
    let text = message(sensor, &event);
    info!(sensor, event = %text, "threshold event");
    ipmi_router::events::log_event(
        conn,
        &text,
        path,
        &event_data(&event),
        event.crossing.asserted,
    )
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::thresholds::Crossing;

    #[test]
    fn threshold_event_data_follows_table_29_6() {
        let event = ThresholdEvent {
            crossing: Crossing {
                bit: 4,
                asserted: true,
            },
            reading: 0x5F,
            threshold: 0x5A,
        };
        // UCR going high is offset 09h.
        assert_eq!(event_data(&event), [0x59, 0x5F, 0x5A]);
        assert_eq!(
            message("CPU0 Temp", &event),
            "CPU0 Temp: upper critical threshold crossed"
        );
    }
}
