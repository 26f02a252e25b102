//! `rbmc-netipmid`: the RMCP+ network bridge.

fn main() -> std::process::ExitCode {
    rbmc_netipmid::cli::main_from(std::env::args_os())
}
