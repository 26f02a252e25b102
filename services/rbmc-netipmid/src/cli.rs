//! The command line of `rbmc-netipmid`, shared by its own binary and the
//! `rbmc` multi-call binary.

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

/// Parses `args` (the program name first) and runs the daemon to its end.
pub fn main_from<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let args = Args::parse_from(args);
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
        crate::run(
            config,
            &args.common.state_dir,
            rbmc_daemon::shutdown_signal(),
        )
    })
}
