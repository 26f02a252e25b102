//! The command line of `rbmc-kcsd`, shared by its own binary and the
//! `rbmc` multi-call binary.

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

/// Parses `args` (the program name first) and runs the daemon to its end.
pub fn main_from<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let args = Args::parse_from(args);
    rbmc_daemon::main(&args.common, |mut config| {
        if let Some(listen) = args.qemu_listen {
            config.kcs.qemu_listen = Some(listen);
        }
        if let Some(device) = &args.kcs_device {
            config.kcs.device = Some(device.clone());
        }
        crate::run(
            config,
            &args.common.state_dir,
            rbmc_daemon::shutdown_signal(),
        )
    })
}
