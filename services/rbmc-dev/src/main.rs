//! `rbmc-dev`: brings the whole suite up on a developer's machine. It
//! carries the daemons too: started under a daemon's name (as it starts its
//! children), it is that daemon.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Some(daemon) = rbmc::called_as(&argv) {
        return daemon(argv);
    }
    let args = rbmc_dev::Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("rbmc-dev: cannot start the async runtime: {err}");
            return ExitCode::from(70);
        }
    };
    runtime.block_on(rbmc_dev::run(args))
}
