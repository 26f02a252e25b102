//! What PEF hears: every record rbmc-seld adds (its `RecordAdded` signal,
//! sent once the record is durable) and the host's power-on, which starts
//! the startup delays.
//!
//! The signal carries the record as one JSON line of
//! `org.rbmc.Sel.ExportJsonLines`; OEM records have no sensor and are not
//! filtered. A record added while this daemon is not running is not seen
//! by PEF (the SEL keeps it).

use futures_util::StreamExt as _;
use ipmi_pef::filter::Event;
use rbmc_contracts::{logging::SelProxy, state::ChassisProxy};
use serde::Deserialize;
use tracing::{debug, warn};

use crate::owner::PefHandle;

/// A system event record as `RecordAdded` describes it.
#[derive(Debug, Deserialize)]
struct SystemRecord {
    id: u16,
    timestamp: u32,
    generator_id: u16,
    sensor_type_code: u8,
    sensor_number: u8,
    event_reading_type: u8,
    assertion: bool,
    event_data: [u8; 3],
}

/// The event of a `RecordAdded` line; `None` for an OEM record or a line
/// that does not parse.
pub fn event_of(line: &str) -> Option<Event> {
    let record: SystemRecord = serde_json::from_str(line).ok()?;
    Some(Event {
        record_id: record.id,
        timestamp: record.timestamp,
        generator_id: record.generator_id,
        // Every record seld stores is an IPMI v2.0 event message.
        evm_rev: 0x04,
        sensor_type: record.sensor_type_code,
        sensor_number: record.sensor_number,
        dir_type: record.event_reading_type & 0x7F | if record.assertion { 0 } else { 0x80 },
        data: record.event_data,
    })
}

/// Feeds every added record to PEF until the connection ends.
pub async fn follow_sel(bus: zbus::Connection, pef: PefHandle) {
    let stream = async { SelProxy::new(&bus).await?.receive_record_added().await };
    let mut added = match stream.await {
        Ok(stream) => stream,
        Err(err) => {
            warn!(%err, "not following the SEL: PEF sees no events");
            return;
        }
    };
    // What the SEL held before: Get Last Processed Event ID reports it.
    let newest = async { SelProxy::new(&bus).await?.newest().await };
    match tokio::time::timeout(std::time::Duration::from_secs(2), newest).await {
        Ok(Ok((0xFFFF, _))) => {}
        Ok(Ok((id, timestamp))) => pef.last_added(id, timestamp),
        Ok(Err(err)) => warn!(%err, "the SEL's newest record is unknown"),
        Err(_) => warn!("the SEL's newest record is unknown: rbmc-seld did not answer"),
    }
    while let Some(signal) = added.next().await {
        let Ok(args) = signal.args() else { continue };
        match event_of(args.record()) {
            Some(event) => pef.event(event),
            None => debug!(id = args.id(), "SEL record PEF does not filter"),
        }
    }
}

/// Tells PEF each time the host's power comes on.
pub async fn follow_host_power(bus: zbus::Connection, pef: PefHandle) {
    let stream = async {
        let chassis = ChassisProxy::new(&bus).await?;
        zbus::Result::Ok(chassis.receive_current_power_state_changed().await)
    };
    let mut changes = match stream.await {
        Ok(stream) => stream,
        Err(err) => {
            warn!(%err, "not following the host's power: no startup delays");
            return;
        }
    };
    while let Some(change) = changes.next().await {
        if change.get().await.is_ok_and(|state| state.ends_with(".On")) {
            pef.system_started();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_line_becomes_an_event() {
        let line = r#"{"id":7,"timestamp":1,"generator_id":32,"sensor_type":"Temperature","sensor_type_code":1,"sensor_number":1,"event_reading_type":1,"event":"Upper Critical going high","assertion":false,"event_data":[89,95,90]}"#;
        let event = event_of(line).expect("a system record");
        assert_eq!(event.record_id, 7);
        assert_eq!(event.generator_id, 0x20);
        assert_eq!(event.dir_type, 0x81);
        assert_eq!(event.data, [89, 95, 90]);
        assert_eq!(
            event_of(r#"{"id":8,"record_type":192,"oem_data":[1]}"#),
            None
        );
    }
}
