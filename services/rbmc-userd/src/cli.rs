//! The command line of `rbmc-userd`, shared by its own binary and the
//! `rbmc` multi-call binary.

use std::{path::PathBuf, process::ExitCode};

use clap::Parser;

/// Command line.
#[derive(Parser)]
#[command(version, about = "rbmc accounts owner")]
struct Args {
    #[command(flatten)]
    common: rbmc_daemon::CommonArgs,
    /// rbmc-netipmid's state directory from before accounts had an owner
    /// of their own: its users are migrated at the first start.
    #[arg(long)]
    migrate_from: Option<PathBuf>,
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
            args.migrate_from.clone(),
            rbmc_daemon::shutdown_signal(),
        )
    })
}
