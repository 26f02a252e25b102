//! Push subscriptions (`EventService/Subscriptions`): kept in the state
//! directory (`event-subscriptions.json`, replaced whole and fsynced before
//! a change is answered), so they survive a restart; and delivered, each
//! by its own task, as an HTTPS POST of the `Event` to the subscriber's
//! `Destination`.
//!
//! A delivery that fails (no connection, a TLS failure, a status other
//! than 2xx, no answer in 10 s) is retried `DeliveryRetryAttempts` times,
//! `DeliveryRetryIntervalSeconds` apart (the EventService's settings, kept
//! in the same file). Then the subscription's `DeliveryRetryPolicy`
//! decides: `TerminateAfterRetries` deletes it, `SuspendRetries` suspends
//! it (no more deliveries until a PATCH of `Status/State` to `Enabled`).

use std::{
    collections::HashMap,
    path::Path,
    sync::{Arc, Mutex},
    time::Duration,
};

use bytes::Bytes;
use http_body_util::Full;
use hyper::{client::conn::http1, Request};
use hyper_util::rt::TokioIo;
use rbmc_daemon::durable::DurableFile;
use serde::{Deserialize, Serialize};
use tokio::{net::TcpStream, sync::broadcast, task::JoinHandle};
use tracing::{info, warn};

use crate::events::{EventHub, Published};

/// How long one delivery attempt may take.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);
/// The most subscriptions kept.
pub const MAX_SUBSCRIPTIONS: usize = 16;
/// The file in the state directory.
const FILE: &str = "event-subscriptions.json";

/// What happens once a delivery's retries run out.
#[derive(Clone, Copy, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub enum RetryPolicy {
    /// The subscription is deleted.
    TerminateAfterRetries,
    /// The subscription stays, suspended.
    SuspendRetries,
}

impl RetryPolicy {
    /// Redfish's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::TerminateAfterRetries => "TerminateAfterRetries",
            Self::SuspendRetries => "SuspendRetries",
        }
    }
}

/// One push subscription.
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
pub struct Subscription {
    /// Its `Id`.
    pub id: String,
    /// Where events are POSTed (`https://...`).
    pub destination: String,
    /// Sent back in each event.
    pub context: String,
    /// Only these registries (none: all).
    pub registry_prefixes: Vec<String>,
    /// Only events about these resources (none: all).
    pub origin_resources: Vec<String>,
    /// Whether the destination's certificate must verify against the
    /// system's CA certificates.
    pub verify_certificate: bool,
    /// After the retries.
    pub retry_policy: RetryPolicy,
    /// Extra headers for each POST (never shown back).
    pub http_headers: Vec<(String, String)>,
    /// Suspended after its retries ran out.
    pub suspended: bool,
}

impl Subscription {
    /// Whether `event` is for it.
    pub fn wants(&self, event: &Published) -> bool {
        let message = &event.message;
        (self.registry_prefixes.is_empty()
            || self
                .registry_prefixes
                .iter()
                .any(|p| p == message.registry_prefix))
            && (self.origin_resources.is_empty() || self.origin_resources.contains(&message.origin))
    }
}

/// What the file holds.
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
pub struct Stored {
    /// `DeliveryRetryAttempts`.
    pub retry_attempts: u32,
    /// `DeliveryRetryIntervalSeconds`.
    pub retry_interval_secs: u32,
    /// The next `Id`.
    pub next_id: u64,
    /// The subscriptions.
    pub subscriptions: Vec<Subscription>,
}

impl Default for Stored {
    /// Three retries, 30 s apart (bmcweb's defaults).
    fn default() -> Self {
        Self {
            retry_attempts: 3,
            retry_interval_secs: 30,
            next_id: 1,
            subscriptions: Vec::new(),
        }
    }
}

/// Why a change was not made.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    /// Already [`MAX_SUBSCRIPTIONS`].
    #[error("every subscription slot is taken")]
    Full,
    /// No such subscription.
    #[error("no such subscription")]
    NotFound,
    /// The file could not be written (nothing changed).
    #[error("the subscriptions could not be stored: {0}")]
    Store(#[from] std::io::Error),
}

/// The subscriptions, their file and their delivery tasks.
#[derive(Debug)]
pub struct Subscriptions {
    file: DurableFile,
    stored: Mutex<Stored>,
    deliveries: Mutex<HashMap<String, JoinHandle<()>>>,
}

impl Subscriptions {
    /// Reads the file in `state_dir` (a missing one is no subscriptions; a
    /// corrupt one is set aside, logged, and started afresh).
    pub fn open(state_dir: &Path) -> Self {
        let path = state_dir.join(FILE);
        let stored = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|err| {
                warn!(%err, path = %path.display(), "event subscriptions unreadable: set aside");
                let _ = std::fs::rename(&path, path.with_extension("json.corrupt"));
                Stored::default()
            }),
            Err(_) => Stored::default(),
        };
        Self {
            file: DurableFile::new(path),
            stored: Mutex::new(stored),
            deliveries: Mutex::new(HashMap::new()),
        }
    }

    /// A copy of what is kept.
    pub fn snapshot(&self) -> Stored {
        self.stored
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Applies `change` to a copy, writes it durably, then keeps it;
    /// returns what `change` returned.
    pub async fn change<T>(
        &self,
        change: impl FnOnce(&mut Stored) -> Result<T, ChangeError>,
    ) -> Result<T, ChangeError> {
        let mut writing = self.file.begin().await;
        let mut staged = self.snapshot();
        let answer = change(&mut staged)?;
        let bytes = serde_json::to_vec_pretty(&staged).map_err(std::io::Error::other)?;
        writing.write(bytes).await?;
        *self.stored.lock().unwrap_or_else(|e| e.into_inner()) = staged;
        Ok(answer)
    }

    /// Starts delivering to every kept subscription (at start).
    pub fn start_all(self: &Arc<Self>, hub: &EventHub) {
        for subscription in self.snapshot().subscriptions {
            self.start(&subscription.id, hub);
        }
    }

    /// Starts delivering to subscription `id`.
    pub fn start(self: &Arc<Self>, id: &str, hub: &EventHub) {
        let task = tokio::spawn(deliver(self.clone(), id.to_owned(), hub.subscribe()));
        if let Some(old) = self
            .deliveries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.to_owned(), task)
        {
            old.abort();
        }
    }

    /// Stops delivering to subscription `id`.
    pub fn stop(&self, id: &str) {
        if let Some(task) = self
            .deliveries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id)
        {
            task.abort();
        }
    }

    fn get(&self, id: &str) -> Option<Subscription> {
        self.snapshot()
            .subscriptions
            .into_iter()
            .find(|s| s.id == id)
    }
}

/// Delivers the events subscription `id` wants, one at a time, until it
/// is deleted.
async fn deliver(
    subscriptions: Arc<Subscriptions>,
    id: String,
    mut events: broadcast::Receiver<Arc<Published>>,
) {
    loop {
        let event = match events.recv().await {
            Ok(event) => event,
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                warn!(subscription = %id, missed, "subscriber fell behind: events not delivered");
                continue;
            }
            Err(broadcast::error::RecvError::Closed) => return,
        };
        let Some(subscription) = subscriptions.get(&id) else {
            return;
        };
        if subscription.suspended || !subscription.wants(&event) {
            continue;
        }
        let body = redfish_core::events::event(
            event.id,
            event.record.clone(),
            Some(&subscription.context),
        )
        .to_string();
        let mut attempt = 0;
        loop {
            match tokio::time::timeout(DELIVERY_TIMEOUT, post(&subscription, &body)).await {
                Ok(Ok(())) => break,
                Ok(Err(why)) => {
                    warn!(subscription = %id, destination = %subscription.destination, attempt, %why, "event not delivered")
                }
                Err(_) => {
                    warn!(subscription = %id, destination = %subscription.destination, attempt, "event not delivered: no answer in 10 s")
                }
            }
            let settings = subscriptions.snapshot();
            if attempt >= settings.retry_attempts {
                give_up(&subscriptions, &subscription).await;
                if subscription.retry_policy == RetryPolicy::TerminateAfterRetries {
                    return;
                }
                break;
            }
            attempt += 1;
            tokio::time::sleep(Duration::from_secs(settings.retry_interval_secs.into())).await;
        }
    }
}

/// The retries ran out: the subscription's policy applies.
async fn give_up(subscriptions: &Subscriptions, subscription: &Subscription) {
    let id = subscription.id.clone();
    let outcome = match subscription.retry_policy {
        RetryPolicy::TerminateAfterRetries => {
            subscriptions
                .change(|stored| {
                    stored.subscriptions.retain(|s| s.id != id);
                    Ok(())
                })
                .await
        }
        RetryPolicy::SuspendRetries => {
            subscriptions
                .change(|stored| {
                    for s in stored.subscriptions.iter_mut().filter(|s| s.id == id) {
                        s.suspended = true;
                    }
                    Ok(())
                })
                .await
        }
    };
    match outcome {
        Ok(()) => info!(
            subscription = %subscription.id,
            destination = %subscription.destination,
            policy = subscription.retry_policy.name(),
            "delivery retries ran out"
        ),
        Err(err) => {
            warn!(subscription = %subscription.id, %err, "delivery retries ran out; not stored")
        }
    }
}

/// One HTTPS POST of `body` to the subscription's destination.
async fn post(subscription: &Subscription, body: &str) -> Result<(), String> {
    let uri: hyper::Uri = subscription
        .destination
        .parse()
        .map_err(|e| format!("destination: {e}"))?;
    let host = uri.host().ok_or("destination has no host")?.to_owned();
    let port = uri.port_u16().unwrap_or(443);
    let tcp = TcpStream::connect((host.trim_matches(['[', ']']), port))
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let name = rustls::pki_types::ServerName::try_from(host.trim_matches(['[', ']']).to_owned())
        .map_err(|e| format!("server name: {e}"))?;
    let tls = crate::tls::client(subscription.verify_certificate)
        .connect(name, tcp)
        .await
        .map_err(|e| format!("TLS: {e}"))?;
    let (mut sender, connection) = http1::handshake(TokioIo::new(tls))
        .await
        .map_err(|e| format!("HTTP: {e}"))?;
    tokio::spawn(connection);
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut request = Request::builder()
        .method("POST")
        .uri(path)
        .header(
            "host",
            uri.authority().map_or(host.as_str(), |a| a.as_str()),
        )
        .header("content-type", "application/json")
        .header("odata-version", "4.0");
    for (name, value) in &subscription.http_headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let request = request
        .body(Full::new(Bytes::from(body.to_owned())))
        .map_err(|e| format!("request: {e}"))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("HTTP: {e}"))?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!("the destination answered {}", response.status()))
    }
}

#[cfg(test)]
mod tests {
    use redfish_core::events::EventMessage;

    use super::*;

    fn subscription() -> Subscription {
        Subscription {
            id: "1".into(),
            destination: "https://127.0.0.1:9/events".into(),
            context: "ctx".into(),
            registry_prefixes: vec!["SensorEvent".into()],
            origin_resources: Vec::new(),
            verify_certificate: true,
            retry_policy: RetryPolicy::TerminateAfterRetries,
            http_headers: Vec::new(),
            suspended: false,
        }
    }

    fn published(key: &str, args: Vec<String>, origin: &str) -> Published {
        let message = EventMessage::new(key, args, origin).unwrap();
        Published {
            id: 1,
            record: message.record(1, "t"),
            message,
        }
    }

    #[test]
    fn a_subscription_takes_its_registries_and_origins() {
        let crossing = published(
            "ReadingAboveUpperCriticalThreshold",
            vec!["a".into(), "1".into(), "Cel".into(), "0".into()],
            "/s",
        );
        let created = published("ResourceCreated", vec![], "/a");
        let mut s = subscription();
        assert!(s.wants(&crossing));
        assert!(!s.wants(&created));
        s.registry_prefixes.clear();
        s.origin_resources = vec!["/a".into()];
        assert!(!s.wants(&crossing));
        assert!(s.wants(&created));
    }

    #[tokio::test]
    async fn a_change_is_kept_only_once_written_and_read_back_at_start() {
        let dir = std::env::temp_dir().join(format!("rbmc-subs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let subscriptions = Subscriptions::open(&dir);
        subscriptions
            .change(|stored| {
                stored.subscriptions.push(subscription());
                Ok(())
            })
            .await
            .unwrap();
        let reopened = Subscriptions::open(&dir);
        assert_eq!(reopened.snapshot().subscriptions, vec![subscription()]);
        // A refused change leaves both as they were.
        let refused = reopened.change(|_| Err::<(), _>(ChangeError::Full)).await;
        assert!(refused.is_err());
        assert_eq!(Subscriptions::open(&dir).snapshot().subscriptions.len(), 1);
        // A corrupt file is set aside.
        std::fs::write(dir.join(FILE), b"{ not json").unwrap();
        assert!(Subscriptions::open(&dir)
            .snapshot()
            .subscriptions
            .is_empty());
        assert!(dir.join("event-subscriptions.json.corrupt").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
