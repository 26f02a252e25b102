//! The simulated host's serial console, for Serial over LAN on a dev box:
//! a Unix stream socket (like obmc-console-server's) where each client is
//! greeted with a short boot log and a login prompt, and every character it
//! types is echoed back, as a getty on a real serial line would. Enter ends
//! a line and shows the prompt again.

use std::path::Path;

use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::{UnixListener, UnixStream},
};

/// What the host "printed" while it booted.
const BOOT_LOG: &str = "\r\n[    0.000000] Linux version 6.1.0-rbmc-sim (rbmc simulated host)\r\n\
[    0.412233] Serial: 8250/16550 driver, 4 ports, IRQ sharing enabled\r\n\
[    1.020411] EXT4-fs (sda1): mounted filesystem with ordered data mode\r\n\
[    2.318002] systemd[1]: Reached target Multi-User System.\r\n\
\r\nrbmc simulated host ttyS0\r\n";
/// The getty's prompt.
pub const LOGIN_PROMPT: &str = "rbmc-sim login: ";

/// Serves the console at `path` until the task is dropped.
pub fn serve(path: &Path) -> std::io::Result<tokio::task::JoinHandle<()>> {
    let _ = std::fs::remove_file(path);
    let listener = UnixListener::bind(path)?;
    Ok(tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let _ = session(stream).await;
            });
        }
    }))
}

async fn session(mut stream: UnixStream) -> std::io::Result<()> {
    stream.write_all(BOOT_LOG.as_bytes()).await?;
    stream.write_all(LOGIN_PROMPT.as_bytes()).await?;
    let mut buf = [0u8; 256];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        let mut out = Vec::with_capacity(n + 32);
        for &byte in &buf[..n] {
            match byte {
                b'\r' | b'\n' => {
                    out.extend_from_slice(b"\r\n");
                    out.extend_from_slice(LOGIN_PROMPT.as_bytes());
                }
                _ => out.push(byte),
            }
        }
        stream.write_all(&out).await?;
    }
}
