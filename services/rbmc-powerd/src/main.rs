//! `rbmc-powerd`: the power/GPIO controller.

fn main() -> std::process::ExitCode {
    rbmc_powerd::cli::main_from(std::env::args_os())
}
