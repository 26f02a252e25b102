//! Power and watchdog events to the SEL logger, over the contract in
//! docs/ARCHITECTURE.md (`IpmiSelAdd` on `xyz.openbmc_project.Logging.IPMI`).
//!
//! Two event-only sensors carry them, each an object with
//! `org.rbmc.Ipmi.Sensor` so the SEL logger can name the record's sensor:
//! - `/xyz/openbmc_project/sensors/acpi_power/host0`: System ACPI Power State
//!   (sensor type 22h, sensor-specific 6Fh): 00h S0/G0 working on power-on,
//!   05h G2/S5 soft-off on power-off; power lost and failed transitions go to
//!   the power unit.
//! - `/xyz/openbmc_project/sensors/power_unit/host0`: Power Unit (09h): 04h AC
//!   lost (power lost on its own), 05h soft power control failure (a
//!   transition the host did not follow).
//! - `/xyz/openbmc_project/sensors/watchdog/host0`: Watchdog 2 (23h).

use ipmi_router::events::{ACPI_POWER_STATE, POWER_UNIT, WATCHDOG};
use ipmi_wire::{AcpiPowerStateOffset, PowerUnitOffset};
use tracing::info;

use crate::{control::Events, sequencer::PowerEvent};

/// ACPI power state sensor path.
pub const ACPI_PATH: &str = ACPI_POWER_STATE.path;
/// Power unit sensor path.
pub const POWER_UNIT_PATH: &str = POWER_UNIT.path;
/// Watchdog 2 sensor path.
pub const WATCHDOG_PATH: &str = WATCHDOG.path;

/// Serves the event-only sensors' objects (numbers, types and names are in
/// `ipmi_router::events`, shared with the SDR).
pub async fn serve_sensors(conn: &zbus::Connection) -> zbus::Result<()> {
    let server = conn.object_server();
    for sensor in [ACPI_POWER_STATE, POWER_UNIT, WATCHDOG] {
        server.at(sensor.path, sensor.identity()).await?;
    }
    Ok(())
}

/// Where a power event goes: path, event data, message; `None` for events
/// that are not logged in the SEL.
fn power_record(event: PowerEvent) -> Option<(&'static str, [u8; 3], &'static str)> {
    use AcpiPowerStateOffset as Acpi;
    Some(match event {
        PowerEvent::PoweredOn => (
            ACPI_PATH,
            sensor_specific(Acpi::S0_G0_WORKING.code()),
            "host powered on (S0/G0)",
        ),
        PowerEvent::PoweredOff => (
            ACPI_PATH,
            sensor_specific(Acpi::S5_G2_SOFT_OFF.code()),
            "host powered off (G2/S5)",
        ),
        PowerEvent::PowerLost => (
            POWER_UNIT_PATH,
            sensor_specific(PowerUnitOffset::AC_LOST.code()),
            "host lost power",
        ),
        PowerEvent::PowerOnFailed | PowerEvent::PowerOffFailed => (
            POWER_UNIT_PATH,
            sensor_specific(PowerUnitOffset::SOFT_POWER_CONTROL_FAILURE.code()),
            "power control failure: the host did not follow",
        ),
        PowerEvent::Reset | PowerEvent::DiagnosticInterrupt => return None,
    })
}

/// Event data for a sensor-specific event: the offset in data 1 bits 3:0,
/// data 2 and 3 unspecified (FFh) (IPMI v2.0 Table 29-6).
fn sensor_specific(offset: u8) -> [u8; 3] {
    [offset, 0xFF, 0xFF]
}

async fn log(conn: &zbus::Connection, path: &str, data: &[u8; 3], message: &str) {
    ipmi_router::events::log_event(conn, message, path, data, true).await;
}

/// Logs events as they come, until the controller goes away.
pub async fn report(conn: zbus::Connection, mut events: Events) {
    loop {
        tokio::select! {
            Some(event) = events.power.recv() => {
                info!(?event, "power event");
                if let Some((path, data, message)) = power_record(event) {
                    log(&conn, path, &data, message).await;
                }
            }
            Some(event) = events.watchdog.recv() => {
                info!(?event, "watchdog event");
                let log_it = match event {
                    ipmi_watchdog::WatchdogEvent::Expired { log, .. }
                    | ipmi_watchdog::WatchdogEvent::PreTimeout { log, .. } => log,
                };
                if log_it {
                    log(&conn, WATCHDOG_PATH, &event.sel_event_data(), "watchdog").await;
                }
            }
            else => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn power_events_use_the_table_42_3_offsets() {
        for (event, expected) in [
            (PowerEvent::PoweredOn, Some((ACPI_PATH, [0x00, 0xFF, 0xFF]))),
            (
                PowerEvent::PoweredOff,
                Some((ACPI_PATH, [0x05, 0xFF, 0xFF])),
            ),
            (
                PowerEvent::PowerLost,
                Some((POWER_UNIT_PATH, [0x04, 0xFF, 0xFF])),
            ),
            (
                PowerEvent::PowerOnFailed,
                Some((POWER_UNIT_PATH, [0x05, 0xFF, 0xFF])),
            ),
            (
                PowerEvent::PowerOffFailed,
                Some((POWER_UNIT_PATH, [0x05, 0xFF, 0xFF])),
            ),
            (PowerEvent::Reset, None),
            (PowerEvent::DiagnosticInterrupt, None),
        ] {
            let record = power_record(event).map(|(path, data, _)| (path, data));
            assert_eq!(record, expected, "{event:?}");
        }
    }
}
