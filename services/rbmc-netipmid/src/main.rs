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
    /// The host console for Serial over LAN, overriding `[sol] console`:
    /// `unix:/path` or `unix:@abstract-name`.
    #[arg(long)]
    sol_console: Option<String>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let sol_console = match args.sol_console.map(rbmc_config::ConsoleSource::try_from) {
        Some(Ok(source)) => Some(source),
        Some(Err(message)) => {
            eprintln!("rbmc-netipmid: --sol-console: {message}");
            return ExitCode::from(rbmc_daemon::exit::USAGE);
        }
        None => None,
    };
    rbmc_daemon::main(&args.common, |mut config| {
        if let Some(listen) = args.listen {
            config.network.listen = listen;
        }
        if sol_console.is_some() {
            config.sol.console = sol_console;
        }
        rbmc_netipmid::run(
            config,
            &args.common.state_dir,
            rbmc_daemon::shutdown_signal(),
        )
    })
}
