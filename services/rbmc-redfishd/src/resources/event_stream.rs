//! The EventService's Server-Sent Events stream at `ServerSentEventUri`:
//! every event from the moment it opens that passes its `$filter` (by
//! registry, message and origin), until the client goes or its session
//! ends; a client reconnecting with `Last-Event-ID` first gets the events
//! it missed that the hub still keeps (`crate::events`).

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use bytes::Bytes;
use hyper::{header, StatusCode};
use redfish_core::{events::EventFilter, ApiError, SessionTable};
use tokio::sync::{broadcast, mpsc};
use tracing::info;

use crate::{
    events::{Published, Resumed},
    service::{Body, Caller, Reply, Request, Service},
};

/// `ServerSentEventUri`.
pub const SSE: &str = "/redfish/v1/EventService/SSE";
/// The most SSE streams open at once.
pub const MAX_SSE_STREAMS: usize = 8;
/// How often an idle stream gets a comment line, so a client (and the
/// service) learn soon when the other end is gone.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Counts an open SSE stream while it lives.
struct StreamSlot(Arc<AtomicUsize>);

impl Drop for StreamSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// One event as an SSE message: `id:` and `data:` lines, a blank line.
fn sse_message(event: &Published) -> Bytes {
    let data = redfish_core::events::event(event.id, event.record.clone(), None);
    Bytes::from(format!("id: {}\ndata: {data}\n\n", event.id))
}

/// `GET /redfish/v1/EventService/SSE[?$filter=...]`: a stream of every
/// event from now on that passes the filter, until the client goes or its
/// session ends.
pub fn sse(service: &Service, caller: &Caller, request: &Request) -> Result<Reply, ApiError> {
    let filter = match sse_filter(request.query.as_deref())? {
        Some(text) => EventFilter::parse(&text)?,
        None => EventFilter::default(),
    };
    let open = service.sse_streams.fetch_add(1, Ordering::Relaxed);
    let slot = StreamSlot(service.sse_streams.clone());
    if open >= MAX_SSE_STREAMS {
        drop(slot);
        return Err(ApiError::new(
            503,
            vec![redfish_core::Message::new("EventSubscriptionLimitExceeded")],
        ));
    }
    let (sender, receiver) = mpsc::channel(16);
    // A reconnecting client (`Last-Event-ID`) first gets what it missed.
    let resumed = match request.headers.get("last-event-id") {
        Some(value) => {
            let last = value
                .to_str()
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .ok_or_else(|| {
                    ApiError::header_invalid(&format!(
                        "Last-Event-ID: {}",
                        value.to_str().unwrap_or("(not text)")
                    ))
                })?;
            service.events.subscribe_after(last)
        }
        None => Resumed {
            replay: Vec::new(),
            gap: false,
            live: service.events.subscribe(),
        },
    };
    let session = caller.session.clone();
    let sessions = service.sessions.clone();
    info!(user = %caller.user, ?filter, "SSE stream opened");
    tokio::spawn(stream(resumed, filter, sender, session, sessions, slot));
    Ok(Reply {
        status: StatusCode::OK,
        body: Some(Body::Stream(receiver)),
        headers: Vec::new(),
    }
    .with_header(header::CONTENT_TYPE, "text/event-stream"))
}

/// `$filter`'s value from a raw query, percent-decoded.
fn sse_filter(query: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(query) = query else { return Ok(None) };
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if key == "$filter" || key == "%24filter" {
            let decoded = redfish_core::query::percent_decode(value)
                .ok_or_else(|| ApiError::query_parameter_format(value, "$filter"))?;
            return Ok(Some(decoded));
        }
    }
    Ok(None)
}

async fn stream(
    resumed: Resumed,
    filter: EventFilter,
    sender: mpsc::Sender<Bytes>,
    session: Option<String>,
    sessions: Arc<Mutex<SessionTable>>,
    _slot: StreamSlot,
) {
    // A first comment, so the client has the headers and a byte at once.
    if sender
        .send(Bytes::from_static(b": stream open\n\n"))
        .await
        .is_err()
    {
        return;
    }
    let mut events = resumed.live;
    let mut missed = Vec::new();
    if resumed.gap {
        missed.push(Bytes::from_static(
            b": events missed: older than the service keeps\n\n",
        ));
    }
    missed.extend(
        resumed
            .replay
            .iter()
            .filter(|event| filter.matches(&event.message))
            .map(|event| sse_message(event)),
    );
    for bytes in missed {
        if sender.send(bytes).await.is_err() {
            return;
        }
    }
    loop {
        let next = tokio::time::timeout(KEEP_ALIVE, events.recv()).await;
        if let Some(id) = &session {
            let alive = sessions
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(id, Instant::now())
                .is_some();
            if !alive {
                return;
            }
        }
        let bytes = match next {
            Err(_) => Bytes::from_static(b": keep-alive\n\n"),
            Ok(Ok(event)) if filter.matches(&event.message) => sse_message(&event),
            Ok(Ok(_)) => continue,
            Ok(Err(broadcast::error::RecvError::Lagged(missed))) => Bytes::from(format!(
                ": {missed} events missed: the stream fell behind\n\n"
            )),
            Ok(Err(broadcast::error::RecvError::Closed)) => return,
        };
        if sender.send(bytes).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sse_filter_is_read_from_the_query() {
        assert_eq!(
            sse_filter(Some("$filter=RegistryPrefix%20eq%20%27SensorEvent%27")).unwrap(),
            Some("RegistryPrefix eq 'SensorEvent'".into())
        );
        assert_eq!(sse_filter(Some("other=1")).unwrap(), None);
    }
}
