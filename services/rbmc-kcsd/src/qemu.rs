//! QEMU's `ipmi-bmc-extern` link: a TCP server the VM's chardev connects to
//! (`-chardev socket,id=ipmi0,host=127.0.0.1,port=9002,reconnect=10
//! -device ipmi-bmc-extern,chardev=ipmi0,id=bmc0 -device
//! isa-ipmi-kcs,bmc=bmc0`), speaking OpenIPMI's VM protocol ([`ipmi_vm`]).
//!
//! One VM at a time. Each request is routed and answered in order; a frame
//! that fails its checksum or is too long is logged and dropped (the VM's
//! driver times out and retries), and the link carries on.

use std::{net::SocketAddr, sync::Arc};

use crate::host::HostPath;
use ipmi_vm::{encode_command, encode_message, op, Decoder, Frame, PROTOCOL_VERSION};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::{mpsc, Mutex},
};
use tracing::{info, warn};

use crate::system::SystemInterface;

/// Hardware operations other daemons ask the VM for (power off, reset,
/// NMI, graceful shutdown), sent as VM commands on the live link.
pub type HardwareOps = mpsc::UnboundedReceiver<u8>;

/// Serves the link on `listen` until the task is dropped.
pub async fn serve(
    listen: SocketAddr,
    router: HostPath,
    system: Arc<SystemInterface>,
    mut ops: HardwareOps,
    connected: tokio::sync::watch::Sender<bool>,
) -> anyhow::Result<()> {
    let listener = TcpListener::bind(listen).await?;
    info!(%listen, "waiting for a QEMU ipmi-bmc-extern link");
    loop {
        let (stream, peer) = listener.accept().await?;
        info!(%peer, "VM connected");
        let _ = connected.send(true);
        if let Err(err) = session(stream, &router, &system, &mut ops).await {
            warn!(%peer, cause = %err, "VM link ended");
        } else {
            info!(%peer, "VM disconnected");
        }
        let _ = connected.send(false);
        system.on_host_reset();
    }
}

async fn session(
    stream: TcpStream,
    router: &HostPath,
    system: &SystemInterface,
    ops: &mut HardwareOps,
) -> std::io::Result<()> {
    let (mut reader, writer) = stream.into_split();
    let writer = Mutex::new(writer);
    writer
        .lock()
        .await
        .write_all(&encode_command(op::VERSION, &[PROTOCOL_VERSION]))
        .await?;
    let mut decoder = Decoder::new();
    let mut buf = [0u8; 1024];
    let mut attention = false;
    loop {
        tokio::select! {
            read = reader.read(&mut buf) => {
                let n = read?;
                if n == 0 {
                    return Ok(());
                }
                for frame in decoder.feed(&buf[..n]) {
                    match frame {
                        Ok(Frame::Message { seq, body }) => {
                            let Some(response) = router.handle(&body).await else {
                                warn!(len = body.len(), "VM request too short to answer; dropped");
                                continue;
                            };
                            writer.lock().await.write_all(&encode_message(seq, &response)).await?;
                            // SMS attention follows the system interface's
                            // message flags.
                            if system.attention() != attention {
                                attention = !attention;
                                let op = if attention { op::ATTN } else { op::NO_ATTN };
                                writer.lock().await.write_all(&encode_command(op, &[])).await?;
                            }
                        }
                        Ok(Frame::Command(command)) => match command[0] {
                            op::VERSION => info!(version = ?command.get(1), "VM protocol version"),
                            op::RESET => {
                                info!("the VM was reset");
                                system.on_host_reset();
                            }
                            other => info!(op = other, "VM command ignored"),
                        },
                        Err(err) => warn!(cause = %err, "malformed frame from the VM; dropped"),
                    }
                }
            }
            Some(operation) = ops.recv() => {
                info!(op = operation, "sending hardware operation to the VM");
                writer.lock().await.write_all(&encode_command(operation, &[])).await?;
            }
        }
    }
}
