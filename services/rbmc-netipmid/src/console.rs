//! The host console behind Serial over LAN: one task that, while a SOL
//! payload is active, holds a connection to the console source (a Unix
//! stream socket, as obmc-console-server or QEMU's serial chardev offer, or
//! a terminal device: the UART wired to the host, or a pty) and moves
//! characters both ways through the endpoint.
//!
//! The connection opens when SOL is activated and closes when it ends, so
//! the console server sees a client only while someone is watching.

use std::{
    io::{Read as _, Write as _},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Duration,
};

use rbmc_config::ConsoleSource;
use tokio::{
    io::unix::AsyncFd,
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::{UdpSocket, UnixStream},
    sync::{mpsc, Notify},
    time::Instant,
};
use tracing::{info, warn};

use crate::{
    accounts::{lock_endpoint, SharedEndpoint},
    send, SystemRandom,
};

/// What the datagram loop hands the console task.
#[derive(Debug)]
pub enum ToHost {
    /// Characters the remote console typed.
    Characters(Vec<u8>),
    /// A serial break was asked for: sent on a tty, logged on a socket.
    Break,
}

/// How long to wait before trying an unreachable console source again.
const RECONNECT: Duration = Duration::from_secs(2);
/// How often SOL timers are checked when nothing else is due.
const IDLE_POLL: Duration = Duration::from_millis(100);

/// Sends what the endpoint queued.
pub async fn flush_outbox(endpoint: &SharedEndpoint, socket: &UdpSocket) {
    let outbox = lock_endpoint(endpoint).take_outbox();
    for (peer, bytes) in outbox {
        send(socket, &bytes, peer).await;
    }
}

/// Runs the console side of SOL until the process ends.
pub async fn run(
    source: Option<ConsoleSource>,
    endpoint: SharedEndpoint,
    socket: Arc<UdpSocket>,
    changed: Arc<Notify>,
    connected: Arc<AtomicBool>,
    mut to_host: mpsc::Receiver<ToHost>,
) {
    loop {
        flush_outbox(&endpoint, &socket).await;
        if !lock_endpoint(&endpoint).sol_active() {
            tokio::select! {
                () = changed.notified() => {}
                // Characters for a console nobody activated are dropped.
                _ = to_host.recv() => {}
            }
            continue;
        }
        let mut stream = match &source {
            Some(source) => connect(source).await,
            None => None,
        };
        if stream.is_some() {
            info!("SOL active: connected to the host console");
        }
        connected.store(stream.is_some(), Ordering::Relaxed);
        let mut buf = vec![0u8; 1024];
        let mut next_connect = Instant::now() + RECONNECT;
        while lock_endpoint(&endpoint).sol_active() {
            // Backpressure: while the remote console is behind, leave the
            // host's characters with the console server (or in the tty's
            // buffer) instead of reading and dropping them.
            let room = lock_endpoint(&endpoint).sol_room().min(buf.len());
            let deadline = lock_endpoint(&endpoint)
                .sol_deadline()
                .map(Instant::from_std)
                .unwrap_or_else(|| Instant::now() + IDLE_POLL)
                .min(Instant::now() + IDLE_POLL);
            tokio::select! {
                read = async {
                    match &mut stream {
                        Some(s) if room > 0 => s.read(&mut buf[..room]).await,
                        _ => std::future::pending().await,
                    }
                } => match read {
                    Ok(0) | Err(_) => {
                        warn!("the host console closed the connection");
                        stream = None;
                        next_connect = Instant::now() + RECONNECT;
                    }
                    Ok(n) => {
                        lock_endpoint(&endpoint).sol_output(
                            std::time::Instant::now(),
                            &buf[..n],
                            &mut SystemRandom::default(),
                        );
                    }
                },
                message = to_host.recv() => match message {
                    Some(ToHost::Characters(bytes)) => {
                        if let Some(s) = &mut stream {
                            if let Err(err) = s.write_all(&bytes).await {
                                warn!(cause = %err, "writing to the host console failed");
                                stream = None;
                            }
                        }
                    }
                    Some(ToHost::Break) => match &stream {
                        Some(Link::Tty(fd)) => {
                            if let Err(err) = nix::sys::termios::tcsendbreak(fd.get_ref(), 0) {
                                warn!(cause = %err, "sending a serial break failed");
                            }
                        }
                        _ => info!("SOL break requested (a socket console has no break)"),
                    },
                    None => return,
                },
                () = changed.notified() => {}
                () = tokio::time::sleep_until(deadline) => {
                    lock_endpoint(&endpoint).poll_sol(std::time::Instant::now(), &mut SystemRandom::default());
                    if stream.is_none() && Instant::now() >= next_connect {
                        if let Some(source) = &source {
                            stream = connect(source).await;
                        }
                        next_connect = Instant::now() + RECONNECT;
                    }
                }
            }
            connected.store(stream.is_some(), Ordering::Relaxed);
            flush_outbox(&endpoint, &socket).await;
        }
        connected.store(false, Ordering::Relaxed);
        info!("SOL inactive: host console released");
    }
}

/// An open console: a socket, or a terminal device.
enum Link {
    Socket(UnixStream),
    Tty(AsyncFd<std::fs::File>),
}

impl Link {
    async fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Self::Socket(stream) => stream.read(buf).await,
            Self::Tty(fd) => loop {
                let mut ready = fd.readable().await?;
                if let Ok(result) = ready.try_io(|file| file.get_ref().read(buf)) {
                    return result;
                }
            },
        }
    }

    async fn write_all(&mut self, mut bytes: &[u8]) -> std::io::Result<()> {
        match self {
            Self::Socket(stream) => stream.write_all(bytes).await,
            Self::Tty(fd) => {
                while !bytes.is_empty() {
                    let mut ready = fd.writable().await?;
                    if let Ok(written) = ready.try_io(|file| file.get_ref().write(bytes)) {
                        bytes = &bytes[written?..];
                    }
                }
                Ok(())
            }
        }
    }
}

/// Opens a terminal device non-blocking, not as a controlling terminal, in
/// raw mode (no echo, no line editing, no CR/LF mapping: SOL carries bytes).
fn open_tty(path: &std::path::Path) -> std::io::Result<AsyncFd<std::fs::File>> {
    use nix::{fcntl::OFlag, sys::termios};
    use std::os::unix::fs::OpenOptionsExt as _;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags((OFlag::O_NONBLOCK | OFlag::O_NOCTTY).bits())
        .open(path)?;
    let mut settings = termios::tcgetattr(&file)?;
    termios::cfmakeraw(&mut settings);
    termios::tcsetattr(&file, termios::SetArg::TCSANOW, &settings)?;
    // Deprecated because a generic `T` may hand out a different descriptor
    // over time; an owned `File` cannot, which is what the unsafe
    // replacement (`register`) would have us promise in an unsafe block.
    #[allow(deprecated)]
    AsyncFd::new(file)
}

async fn connect(source: &ConsoleSource) -> Option<Link> {
    let result = match source {
        ConsoleSource::UnixPath(path) => UnixStream::connect(path).await.map(Link::Socket),
        ConsoleSource::UnixAbstract(name) => connect_abstract(name).map(Link::Socket),
        ConsoleSource::Tty(path) => open_tty(path).map(Link::Tty),
    };
    match result {
        Ok(stream) => Some(stream),
        Err(err) => {
            warn!(console = ?source, cause = %err, "cannot reach the host console");
            None
        }
    }
}

fn connect_abstract(name: &str) -> std::io::Result<UnixStream> {
    use std::os::linux::net::SocketAddrExt as _;
    let address = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())?;
    let stream = std::os::unix::net::UnixStream::connect_addr(&address)?;
    stream.set_nonblocking(true)?;
    UnixStream::from_std(stream)
}
