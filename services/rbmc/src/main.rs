//! `rbmc`: the six daemons in one executable, for the BMC's flash. Installed
//! as `/usr/bin/rbmc` with `rbmc-sensord`, `rbmc-powerd`, `rbmc-seld`,
//! `rbmc-userd`, `rbmc-netipmid` and `rbmc-kcsd` as links to it, it runs the daemon it is
//! called as; `rbmc <daemon> [args]` works too. The reason, with the
//! measured sizes, is in docs/SIZE.md.

use std::{ffi::OsString, process::ExitCode};

fn main() -> ExitCode {
    let mut args: Vec<OsString> = std::env::args_os().collect();
    if let Some(main) = rbmc::called_as(&args) {
        return main(args);
    }
    // `rbmc <daemon> [args]`: the daemon's name becomes its argv[0].
    if let Some(main) = args
        .get(1)
        .and_then(|a| rbmc::daemon_named(&a.to_string_lossy()))
    {
        args.remove(0);
        return main(args);
    }
    eprintln!("usage: rbmc <daemon> [args], or run it as one of its links");
    eprintln!(
        "daemons: {}",
        rbmc::DAEMONS.map(|(name, _)| name).join(", ")
    );
    ExitCode::from(64)
}
