//! The owned commands as their owners run them: the command tables of
//! rbmc-sensord (sensors, SDR, FRU, BMC identity), rbmc-seld (the SEL) and
//! rbmc-powerd (chassis, boot options, watchdog, on its simulated board),
//! built in-process as the daemons build them, minus the bus. Their state
//! lives for the whole run (in a temporary directory), so a request meets
//! whatever earlier ones left. The first byte picks the owner, the second
//! one of its declared commands; the rest is the request data, sent at
//! Administrator privilege so that every handler runs.

#![no_main]

use std::{
    path::PathBuf,
    sync::{Arc, OnceLock},
};

use ipmi_router::{owner::Execute, CommandTable, Context, IpmiRequest};
use ipmi_wire::Privilege;
use libfuzzer_sys::fuzz_target;

struct Owners {
    runtime: tokio::runtime::Runtime,
    tables: Vec<Arc<dyn Execute>>,
}

fn state_dir() -> PathBuf {
    // tmpfs when there is one: the owners fsync every change.
    let base = if std::path::Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    let dir = base.join(format!("rbmc-fuzz-owners-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a state directory");
    dir
}

fn owners() -> &'static Owners {
    static OWNERS: OnceLock<Owners> = OnceLock::new();
    OWNERS.get_or_init(|| {
        let dir = state_dir();
        let mut config = rbmc_config::Config::from_toml(
            include_str!("../../../configs/dev.toml"),
            "configs/dev.toml",
        )
        .expect("the dev config");
        let sysfs = dir.join("sys");
        rbmc_sim::Simulator::new(&config, &sysfs).expect("the simulated hwmon tree");
        config.hwmon.sysfs_root = sysfs;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let tables = runtime.block_on(async {
            let mut sensord = CommandTable::new(
                rbmc_sensord::Sensord::new(&config, &dir.join("sensord")).expect("sensord"),
            );
            rbmc_sensord::register(&mut sensord).expect("sensord's commands");

            let sel =
                rbmc_seld::sel::SelState::open(&dir.join("seld"), &config.sel).expect("the SEL");
            let mut seld = CommandTable::new(rbmc_seld::Seld {
                sel: rbmc_seld::sel::Sel::spawn(sel),
            });
            rbmc_seld::register(&mut seld).expect("seld's commands");

            let board = rbmc_powerd::simboard::SimBoard::new(config.power.simulated.clone());
            let (control, actions, _events) = rbmc_powerd::control::Controller::new(
                &config.power,
                Arc::new(board),
                rbmc_powerd::store::Store::new(&dir.join("powerd")),
            );
            tokio::spawn(control.clone().execute(actions));
            tokio::spawn(control.clone().run_timers());
            let mut powerd = CommandTable::new(rbmc_powerd::Powerd {
                control,
                has_intrusion: false,
                faults: Arc::default(),
                dcmi: Arc::new(rbmc_powerd::dcmi::Dcmi::new(&config)),
            });
            rbmc_powerd::register(&mut powerd).expect("powerd's commands");
            vec![
                Arc::new(sensord) as Arc<dyn Execute>,
                Arc::new(seld),
                Arc::new(powerd),
            ]
        });
        Owners { runtime, tables }
    })
}

fuzz_target!(|input: &[u8]| {
    let [owner, command, data @ ..] = input else {
        return;
    };
    let owners = owners();
    let table = &owners.tables[usize::from(*owner) % owners.tables.len()];
    let specs = table.specs();
    let spec = &specs[usize::from(*command) % specs.len()];
    let request = IpmiRequest {
        netfn: spec.netfn,
        lun: 0,
        cmd: spec.cmd,
        data: data.to_vec(),
        context: Context {
            channel: 1,
            privilege: Privilege::Administrator,
            user_id: 2,
            session_id: 1,
        },
    };
    let _ = owners.runtime.block_on(async {
        match table.execute_now(&request) {
            Some(answer) => answer,
            None => table.execute(request).await,
        }
    });
});
