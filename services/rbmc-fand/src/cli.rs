//! The command line of `rbmc-fand`, shared by its own binary and the
//! `rbmc` multi-call binary.

use std::process::ExitCode;

use clap::Parser;

/// Command line.
#[derive(Parser)]
#[command(version, about = "rbmc fan control: the PWM owner")]
struct Args {
    #[command(flatten)]
    common: rbmc_daemon::CommonArgs,
    /// Root of sysfs, overriding `[hwmon] sysfs-root` (the dev launcher
    /// points it at the simulator's tree, where the PWM outputs are).
    #[arg(long)]
    sysfs_root: Option<std::path::PathBuf>,
}

/// Parses `args` (the program name first) and runs the daemon to its end.
pub fn main_from<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let args = Args::parse_from(args);
    rbmc_daemon::main(&args.common, |mut config| {
        if let Some(root) = args.sysfs_root {
            config.hwmon.sysfs_root = root;
        }
        crate::run(config, rbmc_daemon::shutdown_signal())
    })
}
