//! The power/GPIO controller: chassis power, identify, restore policy,
//! restart cause and power-on hours, over GPIO lines or the simulated host.
//!
//! # Layout
//! - [`sequencer`]: the sans-IO power state machine (the `power-sequencer`
//!   crate, re-exported under its old name).
//! - [`board`]: the line seam, and its GPIO character device implementation.
//! - [`simboard`]: the simulated host board for development.
//! - [`control`]: the controller that runs the sequencer against a board.
//! - [`chassis`]: the chassis commands.
//! - [`acpi`]: the ACPI power state commands.
//! - [`dbus`]: OpenBMC state objects.
//! - [`store`]: what survives restarts.
//! - [`watchdog`]: the BMC watchdog commands.
//! - [`events`]: power and watchdog events to the SEL logger.
//! - [`dcmi`]: DCMI power management: the power reading and the power
//!   limit.

pub mod cli;

pub mod acpi;
pub mod board;
pub mod chassis;
pub mod control;
pub mod dbus;
pub mod dcmi;
pub mod events;
pub mod simboard;
pub mod store;
pub mod watchdog;

/// The power state machine under its old path, which `dbus` and `events`
/// still name.
pub use power_sequencer as sequencer;

use std::{future::Future, path::Path, sync::Arc, time::Duration};

use anyhow::Context as _;
use ipmi_router::{names, owner::Execute, CommandTable};
use ipmi_wire::{NetFn, Privilege};
use rbmc_config::{Config, PowerBackend};
use tracing::{info, warn};

use crate::{board::Board, control::Controller, store::Store};

/// What the command handlers share.
#[derive(Debug)]
pub struct Powerd {
    /// The power controller.
    pub control: Arc<Controller>,
    /// Whether a chassis intrusion line exists.
    pub has_intrusion: bool,
    /// rbmc-sensord's faults (a fan, or a supply rail, past a critical
    /// threshold), as last signalled.
    pub faults: Arc<chassis::SensorFaults>,
    /// DCMI power management.
    pub dcmi: Arc<dcmi::Dcmi>,
}

/// Adds every command the power daemon owns.
pub fn register(table: &mut CommandTable<Powerd>) -> anyhow::Result<()> {
    use chassis::*;
    let c = NetFn::CHASSIS;
    let (user, operator) = (Privilege::User, Privilege::Operator);
    table
        .add_sync(
            c,
            CMD_GET_CHASSIS_CAPABILITIES,
            user,
            cmd_get_chassis_capabilities,
        )?
        .add_sync(c, CMD_GET_CHASSIS_STATUS, user, cmd_get_chassis_status)?
        .add_sync(c, CMD_CHASSIS_CONTROL, operator, cmd_chassis_control)?
        .add_sync(c, CMD_CHASSIS_IDENTIFY, operator, cmd_chassis_identify)?
        .add(
            c,
            CMD_SET_POWER_RESTORE_POLICY,
            operator,
            |p, r| async move { cmd_set_power_restore_policy(&p, &r).await },
        )?
        .add_sync(
            c,
            CMD_GET_SYSTEM_RESTART_CAUSE,
            user,
            cmd_get_system_restart_cause,
        )?
        .add_sync(c, CMD_GET_POH_COUNTER, user, cmd_get_poh_counter)?
        .add(
            c,
            CMD_SET_SYSTEM_BOOT_OPTIONS,
            operator,
            |p, r| async move { cmd_set_system_boot_options(&p, &r).await },
        )?
        .add(c, CMD_GET_SYSTEM_BOOT_OPTIONS, user, |p, r| async move {
            cmd_get_system_boot_options(&p, &r).await
        })?
        .add(
            c,
            CMD_SET_POWER_CYCLE_INTERVAL,
            Privilege::Administrator,
            |p, r| async move { cmd_set_power_cycle_interval(&p, &r).await },
        )?;
    let app = NetFn::APP;
    table
        .add_sync(
            app,
            watchdog::CMD_RESET_WATCHDOG,
            operator,
            watchdog::cmd_reset_watchdog,
        )?
        .add_sync(
            app,
            watchdog::CMD_SET_WATCHDOG,
            operator,
            watchdog::cmd_set_watchdog,
        )?
        .add_sync(
            app,
            watchdog::CMD_GET_WATCHDOG,
            user,
            watchdog::cmd_get_watchdog,
        )?
        .add_sync(
            app,
            acpi::CMD_SET_ACPI_POWER_STATE,
            Privilege::Administrator,
            acpi::cmd_set_acpi_power_state,
        )?
        .add_sync(
            app,
            acpi::CMD_GET_ACPI_POWER_STATE,
            user,
            acpi::cmd_get_acpi_power_state,
        )?;
    // DCMI (group DCh): the power commands (DCMI v1.5 Table 6-1's
    // privileges: reading User, changing the limit Operator).
    let group = NetFn::GROUP_EXTENSION;
    table
        .add_sync(
            group,
            ipmi_dcmi::wire::GET_CAPABILITIES,
            user,
            dcmi::cmd_get_capabilities,
        )?
        .add_sync(
            group,
            ipmi_dcmi::wire::GET_POWER_READING,
            user,
            dcmi::cmd_get_power_reading,
        )?
        .add_answering(
            group,
            ipmi_dcmi::wire::GET_POWER_LIMIT,
            user,
            |p, r| async move { dcmi::cmd_get_power_limit(&p, &r) },
        )?
        .add(
            group,
            ipmi_dcmi::wire::SET_POWER_LIMIT,
            operator,
            |p, r| async move { dcmi::cmd_set_power_limit(&p, &r).await },
        )?
        .add(
            group,
            ipmi_dcmi::wire::ACTIVATE_POWER_LIMIT,
            operator,
            |p, r| async move { dcmi::cmd_activate_power_limit(&p, &r).await },
        )?;
    Ok(())
}

/// Serves the power daemon until `shutdown` resolves.
pub async fn run(
    config: Config,
    state_dir: &Path,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    // Hardware first: a board without its power lines fails at once,
    // naming the missing line, before the daemon claims anything on the bus.
    let gpio_board = match config.power.backend {
        PowerBackend::Gpio => Some(Arc::new(
            board::cdev::CdevBoard::open(&config.power).context("opening GPIO lines")?,
        )),
        _ => None,
    };
    let mut startup = rbmc_daemon::Startup::connect().await?;
    let conn = startup.connection().clone();
    let (board, simulated): (Arc<dyn Board>, Option<simboard::SimBoard>) =
        match config.power.backend {
            PowerBackend::Gpio => (gpio_board.expect("opened above for the GPIO backend"), None),
            PowerBackend::Simulated => {
                let sim = simboard::SimBoard::new(config.power.simulated.clone());
                (Arc::new(sim.clone()), Some(sim))
            }
            PowerBackend::Qemu => (
                board::qemu::QemuBoard::open(
                    conn.clone(),
                    Duration::from_millis(config.power.force_off_ms),
                ),
                None,
            ),
        };
    let (control, actions, events) = Controller::new(&config.power, board, Store::new(state_dir));
    tokio::spawn(control.clone().execute(actions));
    tokio::spawn(control.clone().follow_inputs());
    tokio::spawn(control.clone().save_in_background());
    tokio::spawn(control.clone().run_timers());

    let faults = Arc::new(chassis::SensorFaults::default());
    tokio::spawn(chassis::follow_sensor_faults(conn.clone(), faults.clone()));
    let dcmi = Arc::new(dcmi::Dcmi::new(&config));
    tokio::spawn(dcmi::run_sampler(
        dcmi.clone(),
        control.clone(),
        conn.clone(),
    ));
    let mut table = CommandTable::new(Powerd {
        control: control.clone(),
        has_intrusion: config.power.intrusion.is_some(),
        faults,
        dcmi,
    });
    register(&mut table).context("registering commands")?;
    startup
        .serve_commands(Arc::new(table) as Arc<dyn Execute>)
        .await?
        .serve_at(
            dbus::CHASSIS_PATH,
            dbus::ChassisObject::new(control.clone()),
        )
        .await?
        .serve_at(dbus::HOST_PATH, dbus::HostObject::new(control.clone()))
        .await?
        .serve_at(
            dbus::POLICY_PATH,
            dbus::RestorePolicyObject {
                control: control.clone(),
            },
        )
        .await?
        .serve_at(
            dbus::NMI_PATH,
            dbus::NmiObject {
                control: control.clone(),
            },
        )
        .await?
        .serve_at(
            dbus::IDENTIFY_LED_PATH,
            dbus::IdentifyLedObject {
                control: control.clone(),
            },
        )
        .await?;
    events::serve_sensors(&conn).await?;
    startup
        .serve_at(
            dbus::BOOT_PATH,
            dbus::BootObject {
                control: control.clone(),
            },
        )
        .await?
        .serve_at(
            dbus::BOOT_PATH,
            dbus::BootModeObject {
                boot: dbus::BootObject {
                    control: control.clone(),
                },
            },
        )
        .await?
        .serve_at(
            dbus::BOOT_PATH,
            dbus::BootTypeObject {
                boot: dbus::BootObject {
                    control: control.clone(),
                },
            },
        )
        .await?
        .serve_at(
            dbus::BOOT_ONE_TIME_PATH,
            dbus::OneTimeObject {
                boot: dbus::BootObject {
                    control: control.clone(),
                },
            },
        )
        .await?;
    if let Some(sim) = &simulated {
        startup
            .serve_at("/org/rbmc/SimulatedHost", sim.object())
            .await?;
    }
    startup
        .name(names::POWERD)
        .name("xyz.openbmc_project.State.Host")
        .name("xyz.openbmc_project.State.Chassis");
    let named = startup.claim_names().await?;
    info!(backend = ?config.power.backend, "power backend");
    // Only the instance that owns the names acts on the host.
    control.apply_restore_policy();
    // Tests (and operators) wait on this line: the policy has acted.
    info!("restore policy applied");
    let running = named.ready();
    let report = events::report(conn, events);
    // The event reporter ends only when the controller is gone.
    let result = running
        .until(async {
            tokio::select! {
                () = shutdown => {}
                () = report => {}
            }
        })
        .await;
    // What the power path recorded last (the host's state, the power-on
    // minutes) is on disk before the process ends.
    if let Err(err) = control.save_now().await {
        warn!(cause = %err, "cannot persist power state at exit");
    }
    result
}
