//! `rbmc-kcsd`: the KCS host interface.

use std::process::ExitCode;

use clap::Parser;

/// Command line.
#[derive(Parser)]
#[command(version, about = "rbmc KCS host interface")]
struct Args {
    #[command(flatten)]
    common: rbmc_daemon::CommonArgs,
}

fn main() -> ExitCode {
    let args = Args::parse();
    rbmc_daemon::main(&args.common, |config| {
        rbmc_kcsd::run(config, rbmc_daemon::shutdown_signal())
    })
}
