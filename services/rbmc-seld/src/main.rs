//! `rbmc-seld`: the SEL logger.

fn main() -> std::process::ExitCode {
    rbmc_seld::cli::main_from(std::env::args_os())
}
