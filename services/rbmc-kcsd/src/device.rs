//! The BMC side of a KCS interface on an ASPEED BMC: the
//! `kcs_bmc_cdev_ipmi` character device, `/dev/ipmi-kcsN`.
//!
//! The driver frames messages itself: `read()` returns one whole request
//! (`netFn<<2|LUN, cmd, data`) and `write()` sends one whole response
//! (`netFn<<2|LUN, cmd, cc, data`). SMS attention is an ioctl. Requests are
//! served one at a time, as the KCS state machine allows, by a thread that
//! owns the file; routing happens on the async side.

use std::{
    fs::{File, OpenOptions},
    io::{Read, Write},
    os::fd::AsRawFd,
    path::{Path, PathBuf},
    sync::Arc,
};

use crate::host::HostPath;
use anyhow::Context as _;
use tokio::sync::{mpsc, oneshot};
use tracing::{info, warn};

use crate::system::SystemInterface;

/// The largest request the driver hands over (`KCS_MSG_BUFSIZ`, 1000).
const MAX_MESSAGE: usize = 1000;

/// The driver's ioctls (include/uapi/linux/ipmi_bmc.h): magic B1h,
/// `_IO(0xB1, 0x00)` set SMS_ATN, `_IO(0xB1, 0x01)` clear it.
mod ioctl {
    #![allow(unsafe_code)]
    nix::ioctl_none!(set_sms_atn, 0xB1, 0x00);
    nix::ioctl_none!(clear_sms_atn, 0xB1, 0x01);

    /// Sets or clears the SMS attention bit.
    pub fn sms_attention(fd: std::os::fd::RawFd, on: bool) -> nix::Result<()> {
        // SAFETY: both ioctls take no argument and only act on the open KCS
        // device behind `fd`, which the caller owns for the whole call.
        let result = unsafe {
            if on {
                set_sms_atn(fd)
            } else {
                clear_sms_atn(fd)
            }
        };
        result.map(|_| ())
    }
}

struct Exchange {
    request: Vec<u8>,
    reply: oneshot::Sender<Option<Vec<u8>>>,
}

/// Opens `path` and serves the host through it until an I/O error.
pub async fn serve(
    path: PathBuf,
    router: HostPath,
    system: Arc<SystemInterface>,
) -> anyhow::Result<()> {
    let file = open(&path)?;
    // A second handle on the same open file, for the attention ioctls.
    let control = file
        .try_clone()
        .context("duplicating the KCS device handle")?;
    info!(device = %path.display(), "serving the host on KCS");
    let (tx, mut rx) = mpsc::channel::<Exchange>(1);
    let reader = std::thread::spawn(move || device_loop(file, &tx));
    let mut attention = false;
    while let Some(exchange) = rx.recv().await {
        let response = router.handle(&exchange.request).await;
        if response.is_none() {
            warn!(
                len = exchange.request.len(),
                "KCS request too short to answer; dropped"
            );
        }
        let _ = exchange.reply.send(response);
        attention = update_attention(&control, &system, attention);
    }
    match reader.join() {
        Ok(result) => result,
        Err(_) => anyhow::bail!("the KCS device thread panicked"),
    }
}

fn open(path: &Path) -> anyhow::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .with_context(|| {
            format!(
                "opening KCS device {} (is the kcs_bmc_cdev_ipmi driver bound to this channel?)",
                path.display()
            )
        })
}

fn update_attention(control: &File, system: &SystemInterface, was: bool) -> bool {
    let now = system.attention();
    if now != was {
        match ioctl::sms_attention(control.as_raw_fd(), now) {
            Ok(()) => info!(attention = now, "SMS attention"),
            Err(err) => warn!(cause = %err, "cannot change SMS attention"),
        }
    }
    now
}

fn device_loop(mut file: File, tx: &mpsc::Sender<Exchange>) -> anyhow::Result<()> {
    let mut buf = vec![0u8; MAX_MESSAGE];
    loop {
        let n = file.read(&mut buf).context("reading a KCS request")?;
        if n == 0 {
            continue;
        }
        let (reply, answer) = oneshot::channel();
        tx.blocking_send(Exchange {
            request: buf[..n].to_vec(),
            reply,
        })
        .context("the router is gone")?;
        if let Ok(Some(response)) = answer.blocking_recv() {
            file.write_all(&response)
                .context("writing a KCS response")?;
        }
    }
}
