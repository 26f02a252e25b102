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
    time::Duration,
};

use rbmc_config::ConsoleSource;
use tokio::{
    io::unix::AsyncFd,
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::UnixStream,
    sync::{mpsc, watch},
    time::Instant,
};
use tracing::{info, warn};

use crate::engine::{EngineHandle, SolStatus, ToHost};

/// How long to wait before trying an unreachable console source again.
const RECONNECT: Duration = Duration::from_secs(2);

/// Runs the console side of SOL until the engine goes away.
pub async fn run(
    source: Option<ConsoleSource>,
    engine: EngineHandle,
    mut status: watch::Receiver<SolStatus>,
    mut to_host: mpsc::Receiver<ToHost>,
) {
    loop {
        if !status.borrow_and_update().active {
            tokio::select! {
                changed = status.changed() => if changed.is_err() { return },
                // Characters for a console nobody activated are dropped.
                message = to_host.recv() => if message.is_none() { return },
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
        engine.console_connected(stream.is_some()).await;
        let mut buf = vec![0u8; 1024];
        let mut room = status.borrow().room;
        let mut next_connect = Instant::now() + RECONNECT;
        while status.borrow().active {
            let was_connected = stream.is_some();
            // Backpressure: while the remote console is behind, leave the
            // host's characters with the console server (or in the tty's
            // buffer) instead of reading and dropping them.
            let want = room.min(buf.len());
            let reconnect_at = (stream.is_none() && source.is_some()).then_some(next_connect);
            tokio::select! {
                read = async {
                    match &mut stream {
                        Some(s) if want > 0 => s.read(&mut buf[..want]).await,
                        _ => std::future::pending().await,
                    }
                } => match read {
                    Ok(0) | Err(_) => {
                        warn!("the host console closed the connection");
                        stream = None;
                        next_connect = Instant::now() + RECONNECT;
                    }
                    Ok(n) => {
                        room = engine.sol_output(buf[..n].to_vec()).await;
                        // What was published before the engine took these
                        // characters is older than the room it answered.
                        let _ = status.borrow_and_update();
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
                changed = status.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    room = status.borrow_and_update().room;
                }
                () = async {
                    match reconnect_at {
                        Some(at) => tokio::time::sleep_until(at).await,
                        None => std::future::pending().await,
                    }
                } => {
                    if let Some(source) = &source {
                        stream = connect(source).await;
                    }
                    next_connect = Instant::now() + RECONNECT;
                }
            }
            if stream.is_some() != was_connected {
                engine.console_connected(stream.is_some()).await;
            }
        }
        engine.console_connected(false).await;
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
