//! The command line of `rbmc-pefd`, shared by its own binary and the
//! `rbmc` multi-call binary.

use std::process::ExitCode;

use clap::Parser;

/// Command line.
#[derive(Parser)]
#[command(version, about = "rbmc PEF and alert owner")]
struct Args {
    #[command(flatten)]
    common: rbmc_daemon::CommonArgs,
}

/// Parses `args` (the program name first) and runs the daemon to its end.
pub fn main_from<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let args = Args::parse_from(args);
    rbmc_daemon::main(&args.common, |config| {
        crate::run(
            config,
            args.common.state_dir.clone(),
            rbmc_daemon::shutdown_signal(),
        )
    })
}
