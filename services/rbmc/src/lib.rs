//! The nine daemons by name, for the executables that carry them all: the
//! `rbmc` multi-call binary the image installs, and `rbmc-dev`, which runs
//! each daemon as a child process of itself.

use std::{ffi::OsString, process::ExitCode};

/// A daemon's `main`, given its arguments (its name first).
pub type DaemonMain = fn(Vec<OsString>) -> ExitCode;

/// Every daemon, by its installed name.
pub const DAEMONS: [(&str, DaemonMain); 9] = [
    ("rbmc-sensord", |args| rbmc_sensord::cli::main_from(args)),
    ("rbmc-powerd", |args| rbmc_powerd::cli::main_from(args)),
    ("rbmc-seld", |args| rbmc_seld::cli::main_from(args)),
    ("rbmc-userd", |args| rbmc_userd::cli::main_from(args)),
    ("rbmc-pefd", |args| rbmc_pefd::cli::main_from(args)),
    ("rbmc-fand", |args| rbmc_fand::cli::main_from(args)),
    ("rbmc-netipmid", |args| rbmc_netipmid::cli::main_from(args)),
    ("rbmc-kcsd", |args| rbmc_kcsd::cli::main_from(args)),
    ("rbmc-redfishd", |args| rbmc_redfishd::cli::main_from(args)),
];

/// The daemon called `name`, with or without the `rbmc-` prefix.
pub fn daemon_named(name: &str) -> Option<DaemonMain> {
    let name = name.strip_prefix("rbmc-").unwrap_or(name);
    DAEMONS
        .iter()
        .find(|(daemon, _)| daemon.strip_prefix("rbmc-") == Some(name))
        .map(|(_, main)| *main)
}

/// The daemon the program was called as: the file name of `argv[0]`.
pub fn called_as(args: &[OsString]) -> Option<DaemonMain> {
    let name = args
        .first()
        .and_then(|a| std::path::Path::new(a).file_name())?
        .to_string_lossy()
        .into_owned();
    // Only the full names: `rbmc` itself must not match a daemon.
    DAEMONS
        .iter()
        .find(|(daemon, _)| *daemon == name)
        .map(|(_, main)| *main)
}
