//! The service's state shared by every connection, what a route sees of a
//! request ([`Request`]) and what it answers ([`Reply`]), and who is asking
//! ([`Service::authenticate`]: a session token, or HTTP Basic checked by
//! the accounts owner).

use std::{
    net::SocketAddr,
    sync::{atomic::AtomicUsize, Arc, Mutex},
    time::Instant,
};

use bytes::Bytes;
use hyper::{
    header::{self, HeaderMap, HeaderValue},
    Method, StatusCode,
};
use redfish_core::{ApiError, Role, SessionTable};
use serde_json::Value;
use tracing::info;

use crate::login::Logins;

/// What a route sees of a request.
#[derive(Debug)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// The path, without a trailing slash (but `/redfish/v1` stays).
    pub path: String,
    /// The raw query string.
    pub query: Option<String>,
    /// The headers.
    pub headers: HeaderMap,
    /// The body (within `max-body-bytes`).
    pub body: Bytes,
    /// The client's address.
    pub peer: SocketAddr,
}

impl Request {
    /// The same request as a GET without a body: what the resource is now,
    /// for an `If-Match` check.
    pub fn as_get(&self) -> Self {
        Self {
            method: Method::GET,
            path: self.path.clone(),
            query: None,
            headers: self.headers.clone(),
            body: Bytes::new(),
            peer: self.peer,
        }
    }
}

/// Who is asking: from a session or HTTP Basic.
#[derive(Clone, Debug)]
pub struct Caller {
    /// The user's name.
    pub user: String,
    /// The user's ID.
    pub user_id: u8,
    /// The role.
    pub role: Role,
    /// The session, when the request carried its token.
    pub session: Option<String>,
}

/// A reply's body.
#[derive(Debug)]
pub enum Body {
    /// JSON (`application/json`).
    Json(Value),
    /// Other text, with its media type (`$metadata`'s XML).
    Text(String, &'static str),
    /// A stream of chunks, sent as they come until the sender drops (its
    /// media type in the reply's headers).
    Stream(tokio::sync::mpsc::Receiver<Bytes>),
}

/// What a route answers.
#[derive(Debug)]
pub struct Reply {
    /// The status.
    pub status: StatusCode,
    /// The body (none for 204).
    pub body: Option<Body>,
    /// Headers beyond the standard ones (Location, X-Auth-Token, ETag...).
    pub headers: Vec<(header::HeaderName, HeaderValue)>,
}

impl Reply {
    /// 200 with `body`.
    pub fn ok(body: Value) -> Self {
        Self {
            status: StatusCode::OK,
            body: Some(Body::Json(body)),
            headers: Vec::new(),
        }
    }

    /// 200 with an XML document.
    pub fn xml(document: String) -> Self {
        Self {
            status: StatusCode::OK,
            body: Some(Body::Text(document, "application/xml")),
            headers: Vec::new(),
        }
    }

    /// `status` with a JSON `body`.
    pub fn with_status(status: StatusCode, body: Value) -> Self {
        Self {
            status,
            body: Some(Body::Json(body)),
            headers: Vec::new(),
        }
    }

    /// `status` with no body.
    pub fn empty(status: StatusCode) -> Self {
        Self {
            status,
            body: None,
            headers: Vec::new(),
        }
    }

    /// Gives a resource (a JSON object that is not a collection) its
    /// strong ETag, in the `ETag` header and as `@odata.etag`: a digest of
    /// its content, so it changes exactly when the resource does.
    pub fn tag_with_etag(&mut self) -> Option<String> {
        let Some(Body::Json(Value::Object(object))) = &mut self.body else {
            return None;
        };
        if object.contains_key("Members") || !object.contains_key("@odata.id") {
            return None;
        }
        object.remove("@odata.etag");
        let etag = etag_of(&Value::Object(object.clone()));
        object.insert("@odata.etag".into(), Value::String(etag.clone()));
        self.headers.push((
            header::ETAG,
            HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"\"")),
        ));
        Some(etag)
    }

    /// The JSON body, if it has one.
    pub fn json(&self) -> Option<&Value> {
        match &self.body {
            Some(Body::Json(value)) => Some(value),
            _ => None,
        }
    }

    /// The ETag [`Self::tag_with_etag`] would give.
    pub fn etag(&self) -> Option<String> {
        let Some(Body::Json(Value::Object(object))) = &self.body else {
            return None;
        };
        let mut object = object.clone();
        object.remove("@odata.etag");
        Some(etag_of(&Value::Object(object)))
    }

    /// The same reply with another status.
    pub fn with_status_code(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// Adds a header.
    pub fn with_header(mut self, name: header::HeaderName, value: &str) -> Self {
        if let Ok(value) = HeaderValue::from_str(value) {
            self.headers.push((name, value));
        }
        self
    }
}

/// A strong ETag: the first 8 bytes of the SHA-256 of the JSON text
/// (serde_json writes object keys in order, so equal content gives equal
/// text).
fn etag_of(value: &Value) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, value.to_string().as_bytes());
    let hex: String = digest.as_ref()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("\"{hex}\"")
}

/// The service's state shared by every connection.
pub struct Service {
    /// The bus, to the owners.
    pub bus: zbus::Connection,
    /// The open sessions (shared with the SSE streams, which end with
    /// their session).
    pub sessions: Arc<Mutex<SessionTable>>,
    /// Password logins and their per-address budget.
    pub logins: Logins,
    /// The suite's configuration.
    pub config: rbmc_config::Config,
    /// Held by each request that changes something, from its `If-Match`
    /// check to its reply, so two changes against one ETag cannot both
    /// pass the check.
    pub changes: tokio::sync::Mutex<()>,
    /// The latest read of the sensors.
    pub sensors: crate::owners::SensorSnapshot,
    /// The events, to every stream and subscription.
    pub events: crate::events::EventHub,
    /// SSE streams open.
    pub sse_streams: Arc<AtomicUsize>,
    /// The push subscriptions.
    pub subscriptions: Arc<crate::subscriptions::Subscriptions>,
    /// The largest request body read (413 past it).
    pub max_body_bytes: usize,
}

impl Service {
    /// The service for `config`, reaching the owners over `bus`, keeping
    /// its subscriptions in `state_dir`.
    pub fn new(
        bus: zbus::Connection,
        config: &rbmc_config::Config,
        state_dir: &std::path::Path,
    ) -> Self {
        let redfish = &config.redfish;
        Self {
            logins: Logins::new(bus.clone(), redfish),
            bus,
            sessions: Arc::new(Mutex::new(SessionTable::new(
                redfish.session_timeout(),
                redfish.max_sessions,
            ))),
            config: config.clone(),
            changes: tokio::sync::Mutex::new(()),
            sensors: crate::owners::SensorSnapshot::default(),
            events: crate::events::EventHub::default(),
            sse_streams: Arc::new(AtomicUsize::new(0)),
            subscriptions: Arc::new(crate::subscriptions::Subscriptions::open(state_dir)),
            max_body_bytes: redfish.max_body_bytes,
        }
    }

    /// Ends every session of the user `name` (deleted, or its role
    /// changed: a session carries the role it was opened with).
    pub fn end_sessions_of(&self, name: &str) {
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        let ended: Vec<String> = sessions
            .list(Instant::now())
            .into_iter()
            .filter(|s| s.user == name)
            .map(|s| s.id)
            .collect();
        for id in &ended {
            sessions.remove(id);
        }
        if !ended.is_empty() {
            info!(user = name, sessions = ended.len(), "sessions ended");
        }
    }

    /// Ends every session of user `user_id` (the accounts owner revoked
    /// them: the user was deleted or disabled).
    pub fn end_sessions_of_id(&self, user_id: u8) {
        let ended = self
            .sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove_user(user_id);
        if !ended.is_empty() {
            info!(user_id, sessions = ended.len(), "sessions revoked");
        }
    }

    /// The caller of `request`: its session, or its Basic credentials, or
    /// a 401 that says how to authenticate.
    pub async fn authenticate(&self, request: &Request) -> Result<Caller, ApiError> {
        let now = Instant::now();
        if let Some(token) = request.headers.get("x-auth-token") {
            let token = token.to_str().unwrap_or_default();
            let session = self
                .sessions
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .authenticate(token, now);
            return session
                .map(|s| Caller {
                    user: s.user,
                    user_id: s.user_id,
                    role: s.role,
                    session: Some(s.id),
                })
                .ok_or_else(ApiError::no_valid_session);
        }
        if let Some(basic) = request
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Basic "))
        {
            let (user, password) =
                crate::login::decode_basic(basic).ok_or_else(ApiError::no_valid_session)?;
            let granted = self
                .logins
                .login(&user, &password, request.peer.ip(), "basic")
                .await?;
            return Ok(Caller {
                user,
                user_id: granted.user_id,
                role: granted.role,
                session: None,
            });
        }
        Err(ApiError::no_valid_session())
    }
}
