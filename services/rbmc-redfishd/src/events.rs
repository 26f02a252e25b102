//! The hub that numbers the EventService's events and hands each one to
//! every SSE stream and push subscription. Events come from everything
//! that reaches the SEL (`resources::sel_events`) and from the changes
//! made through this service (accounts, the boot override, the event
//! log: `ResourceCreated`, `ResourceRemoved`, `ResourceChanged`).

use std::sync::{
    atomic::{AtomicU64, Ordering},
    Arc,
};

use redfish_core::events::EventMessage;
use serde_json::Value;
use tokio::sync::broadcast;
use tracing::debug;

/// How many events a slow stream or subscription may fall behind before it
/// misses some.
const BACKLOG: usize = 256;

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

/// Numbers events and hands them to every receiver.
#[derive(Debug)]
pub struct EventHub {
    sender: broadcast::Sender<Arc<Published>>,
    next_id: AtomicU64,
}

impl Default for EventHub {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(BACKLOG).0,
            next_id: AtomicU64::new(1),
        }
    }
}

impl EventHub {
    /// Sends `message` to every receiver now listening.
    pub fn publish(&self, message: EventMessage) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let record = message.record(id, &crate::clock::now_rfc3339());
        debug!(id, message_id = %message.message_id, origin = %message.origin, "event");
        let _ = self.sender.send(Arc::new(Published {
            id,
            message,
            record,
        }));
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
}
