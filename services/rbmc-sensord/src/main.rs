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
    /// Root of sysfs, overriding `[hwmon] sysfs-root` (the dev launcher
    /// points it at the simulator's tree).
    #[arg(long)]
    sysfs_root: Option<std::path::PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    rbmc_daemon::main(&args.common, |mut config| {
        if let Some(root) = args.sysfs_root {
            config.hwmon.sysfs_root = root;
        }
        rbmc_sensord::run(
            config,
            &args.common.state_dir,
            rbmc_daemon::shutdown_signal(),
        )
    })
}
