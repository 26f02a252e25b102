//! `rbmc-kcsd`: the KCS host interface.

fn main() -> std::process::ExitCode {
    rbmc_kcsd::cli::main_from(std::env::args_os())
}
