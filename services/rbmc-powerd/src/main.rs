//! `rbmc-powerd`: the power/GPIO controller.

use std::process::ExitCode;

use clap::Parser;

/// Command line.
#[derive(Parser)]
#[command(
    version,
    about = "rbmc power/GPIO controller: chassis, power, boot options, watchdog"
)]
struct Args {
    #[command(flatten)]
    common: rbmc_daemon::CommonArgs,
}

fn main() -> ExitCode {
    let args = Args::parse();
    rbmc_daemon::main(&args.common, |config| {
        rbmc_powerd::run(
            config,
            &args.common.state_dir,
            rbmc_daemon::shutdown_signal(),
        )
    })
}
