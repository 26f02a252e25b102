//! `rbmc-netipmid`: the RMCP+ network bridge.

use std::{net::SocketAddr, process::ExitCode};

use clap::Parser;

/// Command line.
#[derive(Parser)]
#[command(version, about = "rbmc RMCP+ network bridge")]
struct Args {
    #[command(flatten)]
    common: rbmc_daemon::CommonArgs,
    /// UDP address to listen on, overriding `[network] listen`.
    #[arg(long)]
    listen: Option<SocketAddr>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    rbmc_daemon::main(&args.common, |mut config| {
        if let Some(listen) = args.listen {
            config.network.listen = listen;
        }
        rbmc_netipmid::run(config, rbmc_daemon::shutdown_signal())
    })
}
