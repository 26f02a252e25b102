//! `rbmc-sensord`: the hwmon sensor reader. Today it owns the BMC's identity
//! (Get Device ID, GUIDs, self test); sensors, SDR and FRU follow.

use std::process::ExitCode;

use clap::Parser;

/// Command line.
#[derive(Parser)]
#[command(version, about = "rbmc sensor, SDR, FRU and identity owner")]
struct Args {
    #[command(flatten)]
    common: rbmc_daemon::CommonArgs,
}

fn main() -> ExitCode {
    let args = Args::parse();
    rbmc_daemon::main(&args.common, |config| {
        rbmc_sensord::run(config, rbmc_daemon::shutdown_signal())
    })
}
