//! `rbmc-userd`: the owner of accounts.

fn main() -> std::process::ExitCode {
    rbmc_userd::cli::main_from(std::env::args_os())
}
