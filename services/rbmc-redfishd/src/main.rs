//! `rbmc-redfishd`: the Redfish service.

fn main() -> std::process::ExitCode {
    rbmc_redfishd::cli::main_from(std::env::args_os())
}
