//! `rbmc-fand`: fan control, the owner of the fans' PWM outputs.

fn main() -> std::process::ExitCode {
    rbmc_fand::cli::main_from(std::env::args_os())
}
