//! The event contract with the SEL logger.
//!
//! Threshold crossings go to `xyz.openbmc_project.Logging.IPMI` at
//! `/xyz/openbmc_project/Logging/IPMI`, method
//! `IpmiSelAdd(s message, s sensor_path, ay event_data, b assert, q generator_id) -> q record_id`
//! — OpenBMC's phosphor-sel-logger method, so OpenBMC tools and ours agree.
//! The SEL logger finds the sensor number and type from `sensor_path`: each
//! sensor object carries `org.rbmc.Ipmi.Sensor` (`Number`, `SensorType`,
//! `EventReadingType`).
//!
//! Event data follows IPMI v2.0 Table 29-6 for threshold events: byte 1 =
//! 50h | offset (byte 2 holds the trigger reading, byte 3 the trigger
//! threshold), byte 2 = reading, byte 3 = threshold, all raw.

use tracing::{info, warn};

use crate::sensor::ThresholdEvent;

/// The SEL logger's bus name.
pub const SEL_LOGGER: &str = "xyz.openbmc_project.Logging.IPMI";
/// Generator ID of events the BMC itself generates: slave address 20h,
/// channel 0, LUN 0 (IPMI v2.0 §32.1, Table 32-1 bytes 8-9).
pub const BMC_GENERATOR_ID: u16 = 0x0020;

/// Client of the SEL logger.
#[zbus::proxy(
    interface = "xyz.openbmc_project.Logging.IPMI",
    default_service = "xyz.openbmc_project.Logging.IPMI",
    default_path = "/xyz/openbmc_project/Logging/IPMI"
)]
pub trait IpmiSelLogger {
    /// Logs a system event record; returns its record ID.
    fn ipmi_sel_add(
        &self,
        message: &str,
        sensor_path: &str,
        event_data: &[u8],
        assert: bool,
        generator_id: u16,
    ) -> zbus::Result<u16>;
}

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
    let result = async {
        IpmiSelLoggerProxy::new(conn)
            .await?
            .ipmi_sel_add(
                &text,
                path,
                &event_data(&event),
                event.crossing.asserted,
                BMC_GENERATOR_ID,
            )
            .await
    }
    .await;
    if let Err(err) = result {
        warn!(sensor, cause = %err, "could not log the event in the SEL");
    }
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
