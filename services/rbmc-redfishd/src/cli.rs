//! The command line of `rbmc-redfishd`, shared by its own binary and the
//! `rbmc` multi-call binary.

use std::{net::SocketAddr, process::ExitCode};

use clap::Parser;

/// Command line.
#[derive(Parser)]
#[command(version, about = "rbmc Redfish service")]
struct Args {
    #[command(flatten)]
    common: rbmc_daemon::CommonArgs,
    /// Listen here, overriding `[redfish] listen` (when no socket is
    /// handed over).
    #[arg(long)]
    listen: Option<SocketAddr>,
}

/// Parses `args` (the program name first) and runs the daemon to its end.
pub fn main_from<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let args = Args::parse_from(args);
    rbmc_daemon::main(&args.common, |mut config| {
        if let Some(listen) = args.listen {
            config.redfish.listen = listen;
        }
        crate::run(
            config,
            args.common.state_dir.clone(),
            rbmc_daemon::shutdown_signal(),
        )
    })
}
