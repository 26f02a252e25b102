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
    /// Power backend, overriding `[power] backend`: gpio, simulated, qemu.
    #[arg(long)]
    power_backend: Option<String>,
}

fn main() -> ExitCode {
    let args = Args::parse();
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
        rbmc_powerd::run(config, &state_dir, rbmc_daemon::shutdown_signal()).await
    })
}
