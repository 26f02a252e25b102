//! The command line of `rbmc-powerd`, shared by its own binary and the
//! `rbmc` multi-call binary.

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
    /// Power backend, overriding `[power] backend`: gpio, simulated, qemu.
    #[arg(long)]
    power_backend: Option<String>,
}

/// Parses `args` (the program name first) and runs the daemon to its end.
pub fn main_from<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let args = Args::parse_from(args);
    let (state_dir, power_backend) = (args.common.state_dir.clone(), args.power_backend.clone());
    rbmc_daemon::main(&args.common, |mut config| async move {
        if let Some(backend) = &power_backend {
            config.power.backend = match backend.as_str() {
                "gpio" => rbmc_config::PowerBackend::Gpio,
                "simulated" => rbmc_config::PowerBackend::Simulated,
                "qemu" => rbmc_config::PowerBackend::Qemu,
                other => anyhow::bail!("unknown power backend {other:?} (gpio, simulated, qemu)"),
            };
        }
        crate::run(config, &state_dir, rbmc_daemon::shutdown_signal()).await
    })
}
