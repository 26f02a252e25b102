//! `rbmc`: the five daemons in one executable, for the BMC's flash. Installed
//! as `/usr/bin/rbmc` with `rbmc-sensord`, `rbmc-powerd`, `rbmc-seld`,
//! `rbmc-netipmid` and `rbmc-kcsd` as links to it, it runs the daemon it is
//! called as; `rbmc <daemon> [args]` works too. The reason, with the
//! measured sizes, is in docs/SIZE.md.

use std::{ffi::OsString, process::ExitCode};

type DaemonMain = fn(Vec<OsString>) -> ExitCode;

const DAEMONS: [(&str, DaemonMain); 5] = [
    ("rbmc-sensord", |args| rbmc_sensord::cli::main_from(args)),
    ("rbmc-powerd", |args| rbmc_powerd::cli::main_from(args)),
    ("rbmc-seld", |args| rbmc_seld::cli::main_from(args)),
    ("rbmc-netipmid", |args| rbmc_netipmid::cli::main_from(args)),
    ("rbmc-kcsd", |args| rbmc_kcsd::cli::main_from(args)),
];

fn find(name: &str) -> Option<DaemonMain> {
    let name = name.strip_prefix("rbmc-").unwrap_or(name);
    DAEMONS
        .iter()
        .find(|(daemon, _)| daemon.strip_prefix("rbmc-") == Some(name))
        .map(|(_, main)| *main)
}

fn main() -> ExitCode {
    let mut args: Vec<OsString> = std::env::args_os().collect();
    let called_as = args
        .first()
        .and_then(|a| std::path::Path::new(a).file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if let Some(main) = find(&called_as) {
        return main(args);
    }
    // `rbmc <daemon> [args]`: the daemon's name becomes its argv[0].
    if let Some(main) = args.get(1).and_then(|a| find(&a.to_string_lossy())) {
        args.remove(0);
        return main(args);
    }
    eprintln!("usage: rbmc <daemon> [args], or run it as one of its links");
    eprintln!("daemons: {}", DAEMONS.map(|(name, _)| name).join(", "));
    ExitCode::from(64)
}
