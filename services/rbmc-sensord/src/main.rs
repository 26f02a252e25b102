//! `rbmc-sensord`: the hwmon sensor reader. Today it owns the BMC's identity
//! (Get Device ID, GUIDs, self test); sensors, SDR and FRU follow.

fn main() -> std::process::ExitCode {
    rbmc_sensord::cli::main_from(std::env::args_os())
}
