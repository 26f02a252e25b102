//! `rbmc-kcsd`: the KCS host interface.

use std::{net::SocketAddr, process::ExitCode};

use clap::Parser;

/// Command line.
#[derive(Parser)]
#[command(version, about = "rbmc KCS host interface")]
struct Args {
    #[command(flatten)]
    common: rbmc_daemon::CommonArgs,
    /// Listen for QEMU's ipmi-bmc-extern link here, overriding `[kcs]
    /// qemu-listen`.
    #[arg(long)]
    qemu_listen: Option<SocketAddr>,
    /// The KCS character device, overriding `[kcs] device` (the systemd
    /// template passes `/dev/%i`).
    #[arg(long)]
    kcs_device: Option<std::path::PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    rbmc_daemon::main(&args.common, |mut config| {
        if let Some(listen) = args.qemu_listen {
            config.kcs.qemu_listen = Some(listen);
        }
        if let Some(device) = &args.kcs_device {
            config.kcs.device = Some(device.clone());
        }
        rbmc_kcsd::run(
            config,
            &args.common.state_dir,
            rbmc_daemon::shutdown_signal(),
        )
    })
}
