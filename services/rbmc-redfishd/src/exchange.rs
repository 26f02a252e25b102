//! One request, from hyper's to hyper's: the body read within its limit,
//! the route (`crate::routes`: authentication, the resource, its
//! privilege), and the headers every Redfish response carries. Errors are
//! the Base registry's, with their status.

use std::{convert::Infallible, net::SocketAddr};

use bytes::Bytes;
use http_body_util::{combinators::UnsyncBoxBody, BodyExt, Full, Limited, StreamBody};
use hyper::{
    body::Incoming,
    header::{self, HeaderValue},
    Method, StatusCode,
};
use redfish_core::ApiError;
use tracing::{debug, info};

use crate::{
    routes,
    service::{Body, Reply, Request, Service},
};

/// A response's body and headers, before hyper's framing: whole, or a
/// stream (Server-Sent Events).
pub type Response = hyper::Response<UnsyncBoxBody<Bytes, Infallible>>;

/// Answers one request.
pub async fn answer(
    service: &Service,
    request: hyper::Request<Incoming>,
    peer: SocketAddr,
) -> Response {
    let (parts, body) = request.into_parts();
    let head_only = parts.method == Method::HEAD;
    let body = match Limited::new(body, service.max_body_bytes).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(err) => {
            let error = if err.is::<http_body_util::LengthLimitError>() {
                ApiError::payload_too_large(service.max_body_bytes)
            } else {
                debug!(%peer, %err, "request body not read");
                ApiError::malformed_json()
            };
            return finish(error_reply(&error), head_only);
        }
    };
    let path = parts.uri.path();
    let path = if path.len() > "/redfish/v1".len() {
        path.trim_end_matches('/')
    } else {
        path
    };
    let request = Request {
        method: parts.method.clone(),
        path: path.to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        body,
        peer,
    };
    let reply = match routes::route(service, &request).await {
        Ok(reply) => reply,
        Err(error) => {
            if error.status() >= 500 {
                info!(%peer, method = %request.method, path = %request.path, status = error.status(), "request failed");
            }
            error_reply(&error)
        }
    };
    finish(reply, head_only)
}

/// The reply for an error: its status and Base registry body.
pub fn error_reply(error: &ApiError) -> Reply {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut reply = Reply::with_status(status, error.body());
    if status == StatusCode::UNAUTHORIZED {
        reply = reply.with_header(header::WWW_AUTHENTICATE, "Basic realm=\"rbmc\"");
    }
    if let Some(allow) = error.allow() {
        reply = reply.with_header(header::ALLOW, allow);
    }
    reply
}

/// The headers every response carries (DSP0266 §8.2), and the body.
fn finish(mut reply: Reply, head_only: bool) -> Response {
    let (body, media_type) = match reply.body.take() {
        Some(Body::Json(value)) => (value.to_string(), "application/json; charset=utf-8"),
        Some(Body::Text(text, media_type)) => (text, media_type),
        Some(Body::Stream(chunks)) if !head_only => {
            let frames = futures_util::stream::unfold(chunks, |mut chunks| async move {
                let chunk = chunks.recv().await?;
                Some((Ok::<_, Infallible>(hyper::body::Frame::data(chunk)), chunks))
            });
            return with_headers(
                hyper::Response::new(StreamBody::new(frames).boxed_unsync()),
                reply,
                "",
            );
        }
        Some(Body::Stream(_)) | None => (String::new(), ""),
    };
    let body = if head_only {
        Bytes::new()
    } else {
        Bytes::from(body)
    };
    with_headers(
        hyper::Response::new(Full::new(body).boxed_unsync()),
        reply,
        media_type,
    )
}

/// Adds the headers every response carries, and the reply's own.
fn with_headers(mut response: Response, reply: Reply, media_type: &'static str) -> Response {
    *response.status_mut() = reply.status;
    let headers = response.headers_mut();
    headers.insert("OData-Version", HeaderValue::from_static("4.0"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=31536000"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if !media_type.is_empty() {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    }
    for (name, value) in reply.headers {
        headers.append(name, value);
    }
    response
}
