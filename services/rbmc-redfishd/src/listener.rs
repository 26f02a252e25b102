//! Connections: accepting them within a cap, TLS, HTTP/1.1 and HTTP/2, and
//! the limits that keep a slow or greedy client from holding the service.
//!
//! - At most `max-connections` are open; further ones wait in the kernel's
//!   backlog until one ends.
//! - A client has `header-timeout-secs` for its TLS handshake and then for
//!   each request's headers (HTTP/1.1), so a slowloris client is cut off.
//! - Headers are capped in size and count; bodies at `max-body-bytes`
//!   (413, in the service).
//! - Plain HTTP on the TLS port gets a 400 that says so, then the
//!   connection closes: nothing is served without TLS.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::{
    io::AsyncWriteExt,
    net::{TcpListener, TcpStream},
    sync::Semaphore,
};
use tokio_rustls::TlsAcceptor;
use tracing::{debug, info};

use crate::service::Service;

/// The largest header block an HTTP/1.1 request may send, in bytes.
const MAX_HEADER_BYTES: usize = 16 * 1024;
/// The most headers an HTTP/1.1 request may send.
const MAX_HEADERS: usize = 64;
/// Concurrent HTTP/2 streams per connection.
const MAX_STREAMS: u32 = 16;

/// The first byte of a TLS handshake record.
const TLS_HANDSHAKE: u8 = 0x16;

/// What plain HTTP gets.
const PLAIN_HTTP_REFUSAL: &[u8] = b"HTTP/1.1 400 Bad Request\r\n\
Content-Type: text/plain\r\nConnection: close\r\nContent-Length: 41\r\n\r\n\
This service speaks HTTPS only (TLS 1.2+)\n";

/// Accepts connections until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    service: Arc<Service>,
    limits: &rbmc_config::Redfish,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let acceptor = TlsAcceptor::from(tls);
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let header_timeout = limits.header_timeout();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            () = &mut shutdown => return,
            permit = Arc::clone(&permits).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => return,
            },
        };
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => return,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    debug!(%err, "accept failed");
                    // EMFILE and the like: give the process a moment.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let acceptor = acceptor.clone();
        let service = Arc::clone(&service);
        tokio::spawn(async move {
            connection(stream, peer, acceptor, service, header_timeout).await;
            drop(permit);
        });
    }
}

/// One connection, from its first byte to its end.
async fn connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    acceptor: TlsAcceptor,
    service: Arc<Service>,
    header_timeout: Duration,
) {
    let _ = stream.set_nodelay(true);
    let mut first = [0u8; 1];
    match tokio::time::timeout(header_timeout, stream.peek(&mut first)).await {
        Ok(Ok(1)) if first[0] == TLS_HANDSHAKE => {}
        Ok(Ok(1)) => {
            debug!(%peer, "plain HTTP refused");
            let _ = stream.write_all(PLAIN_HTTP_REFUSAL).await;
            let _ = stream.shutdown().await;
            return;
        }
        _ => return,
    }
    let tls = match tokio::time::timeout(header_timeout, acceptor.accept(stream)).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(err)) => {
            debug!(%peer, %err, "TLS handshake failed");
            return;
        }
        Err(_) => {
            debug!(%peer, "TLS handshake timed out");
            return;
        }
    };
    let handler = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let service = Arc::clone(&service);
        async move {
            Ok::<_, std::convert::Infallible>(
                crate::exchange::answer(&service, request, peer).await,
            )
        }
    });
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .max_buf_size(MAX_HEADER_BYTES.max(8192))
        .max_headers(MAX_HEADERS);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(MAX_STREAMS)
        .max_header_list_size(u32::try_from(MAX_HEADER_BYTES).unwrap_or(u32::MAX));
    if let Err(err) = builder.serve_connection(TokioIo::new(tls), handler).await {
        debug!(%peer, %err, "connection ended");
    }
}

/// The listening socket: the one systemd hands over, else `[redfish]
/// listen`.
pub async fn bind(redfish: &rbmc_config::Redfish) -> anyhow::Result<TcpListener> {
    if let Some(activated) = rbmc_daemon::activated_tcp_listener() {
        activated.set_nonblocking(true)?;
        let listener = TcpListener::from_std(activated)?;
        info!(address = %listener.local_addr()?, "listening on the socket systemd passed");
        return Ok(listener);
    }
    let listener = TcpListener::bind(redfish.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", redfish.listen))?;
    info!(address = %redfish.listen, "listening");
    Ok(listener)
}
