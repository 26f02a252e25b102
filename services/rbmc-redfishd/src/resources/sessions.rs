//! The SessionService and its Sessions (DSP0266 §13.3.4): POST a user
//! name and password to the collection to log in (201, the session in the
//! body, its URI in `Location` and its token in `X-Auth-Token`), DELETE
//! the session to log out. A user sees and ends its own sessions; an
//! administrator any.

use std::time::Instant;

use hyper::{header, StatusCode};
use redfish_core::{sessions::SESSION_RANDOM_BYTES, ApiError, Privilege, Session, SessionError};
use ring::rand::SecureRandom as _;
use serde_json::{json, Value};

use crate::{
    resources::body_object,
    service::{Caller, Reply, Request, Service},
};

const COLLECTION: &str = "/redfish/v1/SessionService/Sessions";

/// `GET /redfish/v1/SessionService`.
pub fn service(service: &Service) -> Reply {
    let timeout = service
        .sessions
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .timeout()
        .as_secs();
    Reply::ok(json!({
        "@odata.id": "/redfish/v1/SessionService",
        "@odata.type": "#SessionService.v1_1_9.SessionService",
        "Id": "SessionService",
        "Name": "Session Service",
        "Description": "Session Service",
        "ServiceEnabled": true,
        "SessionTimeout": timeout,
        "Sessions": { "@odata.id": COLLECTION },
    }))
}

fn session_json(session: &Session) -> Value {
    json!({
        "@odata.id": format!("{COLLECTION}/{}", session.id),
        "@odata.type": "#Session.v1_7_0.Session",
        "Id": session.id,
        "Name": "User Session",
        "Description": "Manager User Session",
        "UserName": session.user,
        "ClientOriginIPAddress": session.peer,
        "SessionType": "Redfish",
    })
}

/// `GET` the Sessions collection.
pub fn collection(service: &Service) -> Reply {
    let sessions = service
        .sessions
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .list(Instant::now());
    let members: Vec<Value> = sessions
        .iter()
        .map(|s| json!({ "@odata.id": format!("{COLLECTION}/{}", s.id) }))
        .collect();
    Reply::ok(json!({
        "@odata.id": COLLECTION,
        "@odata.type": "#SessionCollection.SessionCollection",
        "Name": "Session Collection",
        "Members@odata.count": members.len(),
        "Members": members,
    }))
}

/// `POST` to the collection: a login.
pub async fn create(service: &Service, request: &Request) -> Result<Reply, ApiError> {
    let body = body_object(&request.body)?;
    for key in body.keys() {
        if !matches!(key.as_str(), "UserName" | "Password") && !key.contains('@') {
            return Err(ApiError::property_unknown(key));
        }
    }
    let text = |name: &str| -> Result<String, ApiError> {
        match body.get(name) {
            Some(Value::String(value)) => Ok(value.clone()),
            Some(other) => Err(ApiError::property_value_type(&other.to_string(), name)),
            None => Err(ApiError::property_missing(name)),
        }
    };
    let (user, password) = (text("UserName")?, text("Password")?);
    let granted = service
        .logins
        .login(&user, &password, request.peer.ip(), "session")
        .await?;
    let mut random = [0u8; SESSION_RANDOM_BYTES];
    ring::rand::SystemRandom::new()
        .fill(&mut random)
        .map_err(|_| ApiError::internal())?;
    let created = service
        .sessions
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .create(
            &user,
            granted.user_id,
            granted.role,
            &request.peer.ip().to_string(),
            Instant::now(),
            random,
        );
    let (session, token) = created.map_err(|SessionError::Full(_)| ApiError::session_limit())?;
    let location = format!("{COLLECTION}/{}", session.id);
    Ok(
        Reply::with_status(StatusCode::CREATED, session_json(&session))
            .with_header(header::LOCATION, &location)
            .with_header(header::HeaderName::from_static("x-auth-token"), &token),
    )
}

/// The caller's own session, or any for a caller who may configure users
/// (an administrator sees and ends any session).
fn own_session_or_admin(caller: &Caller, owner: &str) -> Result<(), ApiError> {
    if caller.user == owner || caller.role.has(Privilege::ConfigureUsers) {
        Ok(())
    } else {
        Err(ApiError::insufficient_privilege())
    }
}

fn find(service: &Service, id: &str) -> Result<Session, ApiError> {
    service
        .sessions
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(id, Instant::now())
        .ok_or_else(|| ApiError::not_found("Session", id))
}

/// `GET` one session.
pub fn get(service: &Service, caller: &Caller, id: &str) -> Result<Reply, ApiError> {
    let session = find(service, id)?;
    own_session_or_admin(caller, &session.user)?;
    Ok(Reply::ok(session_json(&session)))
}

/// `DELETE` one session: a logout.
pub fn delete(service: &Service, caller: &Caller, id: &str) -> Result<Reply, ApiError> {
    let session = find(service, id)?;
    own_session_or_admin(caller, &session.user)?;
    service
        .sessions
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(id);
    Ok(Reply::empty(StatusCode::NO_CONTENT))
}
