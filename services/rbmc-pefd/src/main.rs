//! `rbmc-pefd`: the owner of Platform Event Filtering and alerts.

fn main() -> std::process::ExitCode {
    rbmc_pefd::cli::main_from(std::env::args_os())
}
