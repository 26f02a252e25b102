//! The hub that numbers the EventService's events and hands each one to
//! every SSE stream and push subscription. Events come from everything
//! that reaches the SEL (`resources::sel_events`) and from the changes
//! made through this service (accounts, the boot override, the event
//! log: `ResourceCreated`, `ResourceRemoved`, `ResourceChanged`).
//!
//! The hub keeps the last [`REPLAYED`] events, so an SSE client that
//! reconnects with `Last-Event-ID` (the HTML living standard's
//! reconnection) gets what it missed meanwhile ([`EventHub::subscribe_after`]).
//! `EventId`s increase across restarts too: the first of a run is the
//! start time in milliseconds since the epoch, so an ID from before a
//! restart is never reused for another event.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    time::{SystemTime, UNIX_EPOCH},
};

use redfish_core::events::EventMessage;
use serde_json::Value;
use tokio::sync::broadcast;
use tracing::debug;

/// How many events a slow stream or subscription may fall behind before it
/// misses some.
const BACKLOG: usize = 256;

/// How many recent events a reconnecting SSE client can be given.
pub const REPLAYED: usize = 64;

/// One event, numbered, as every receiver gets it.
#[derive(Debug)]
pub struct Published {
    /// Its `EventId`.
    pub id: u64,
    /// Its message.
    pub message: EventMessage,
    /// The record in an `Event`'s `Events` array.
    pub record: Value,
}

/// The events after a client's last one.
pub struct Resumed {
    /// The events it missed that the hub still has, oldest first.
    pub replay: Vec<Arc<Published>>,
    /// Whether some it missed are no longer kept.
    pub gap: bool,
    /// Every event after those.
    pub live: broadcast::Receiver<Arc<Published>>,
}

#[derive(Debug)]
struct Numbering {
    next_id: u64,
    recent: VecDeque<Arc<Published>>,
}

/// Numbers events and hands them to every receiver.
#[derive(Debug)]
pub struct EventHub {
    sender: broadcast::Sender<Arc<Published>>,
    numbering: Mutex<Numbering>,
}

impl Default for EventHub {
    fn default() -> Self {
        let started_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(1, |d| u64::try_from(d.as_millis()).unwrap_or(1));
        Self::starting_at(started_ms.max(1))
    }
}

impl EventHub {
    /// A hub whose first event is `first_id`.
    fn starting_at(first_id: u64) -> Self {
        Self {
            sender: broadcast::channel(BACKLOG).0,
            numbering: Mutex::new(Numbering {
                next_id: first_id,
                recent: VecDeque::with_capacity(REPLAYED),
            }),
        }
    }

    fn numbering(&self) -> std::sync::MutexGuard<'_, Numbering> {
        self.numbering.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sends `message` to every receiver now listening.
    pub fn publish(&self, message: EventMessage) {
        // Numbered, kept and sent under one lock: a client resuming sees
        // each event exactly once, in order.
        let mut numbering = self.numbering();
        let id = numbering.next_id;
        numbering.next_id += 1;
        let record = message.record(id, &crate::clock::now_rfc3339());
        debug!(id, message_id = %message.message_id, origin = %message.origin, "event");
        let event = Arc::new(Published {
            id,
            message,
            record,
        });
        if numbering.recent.len() == REPLAYED {
            numbering.recent.pop_front();
        }
        numbering.recent.push_back(event.clone());
        let _ = self.sender.send(event);
    }

    /// Publishes the `ResourceEvent` message `key` (one without arguments)
    /// about `origin`.
    pub fn resource(&self, key: &str, origin: &str) {
        if let Some(message) = EventMessage::new(key, Vec::new(), origin) {
            self.publish(message);
        }
    }

    /// Every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Published>> {
        self.sender.subscribe()
    }

    /// The events after `last_id` that the hub still keeps, then every
    /// event from now on.
    pub fn subscribe_after(&self, last_id: u64) -> Resumed {
        let numbering = self.numbering();
        let replay: Vec<Arc<Published>> = numbering
            .recent
            .iter()
            .filter(|e| e.id > last_id)
            .cloned()
            .collect();
        let oldest_kept = numbering.recent.front().map_or(numbering.next_id, |e| e.id);
        // Some it missed are gone if events after its last were dropped
        // to keep the newest.
        let gap = last_id.saturating_add(1) < oldest_kept && numbering.recent.len() == REPLAYED;
        Resumed {
            replay,
            gap,
            live: self.sender.subscribe(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message() -> EventMessage {
        EventMessage::new("ResourceChanged", Vec::new(), "/redfish/v1").expect("known")
    }

    #[test]
    fn a_resumed_client_gets_what_it_missed_then_the_rest() {
        let hub = EventHub::starting_at(100);
        for _ in 0..3 {
            hub.publish(message());
        }
        let mut resumed = hub.subscribe_after(100);
        let ids: Vec<u64> = resumed.replay.iter().map(|e| e.id).collect();
        assert_eq!(ids, [101, 102]);
        assert!(!resumed.gap);
        hub.publish(message());
        assert_eq!(resumed.live.try_recv().expect("live").id, 103);
        assert!(hub.subscribe_after(103).replay.is_empty());
    }

    #[test]
    fn only_the_last_events_are_kept_and_a_gap_says_so() {
        let hub = EventHub::starting_at(1);
        for _ in 0..REPLAYED + 10 {
            hub.publish(message());
        }
        let resumed = hub.subscribe_after(1);
        assert_eq!(resumed.replay.len(), REPLAYED);
        assert_eq!(resumed.replay[0].id, 11);
        assert!(resumed.gap);
        assert!(!hub.subscribe_after(10).gap);
    }

    #[test]
    fn ids_start_from_the_clock_so_a_restart_does_not_reuse_them() {
        assert!(EventHub::default().subscribe_after(0).live.is_empty());
        let first = EventHub::default();
        first.publish(message());
        let id = first.subscribe_after(0).replay[0].id;
        assert!(id > 1_700_000_000_000, "{id}");
    }
}
