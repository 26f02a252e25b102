//! `rbmc-seld`: the SEL logger.

use std::process::ExitCode;

use clap::Parser;

/// Command line.
#[derive(Parser)]
#[command(version, about = "rbmc SEL logger: the System Event Log")]
struct Args {
    #[command(flatten)]
    common: rbmc_daemon::CommonArgs,
}

fn main() -> ExitCode {
    let args = Args::parse();
    rbmc_daemon::main(&args.common, |config| {
        rbmc_seld::run(
            config,
            &args.common.state_dir,
            rbmc_daemon::shutdown_signal(),
        )
    })
}
