//! rbmc-fand: fan control. It owns the fans' PWM outputs (hwmon `pwmN`;
//! nothing else writes them) and drives them in closed loop: each fan zone
//! of `[cooling]` reads its temperature inputs from rbmc-sensord's sensor
//! objects, runs their PID or stepwise controllers, and sets its fans to
//! the highest demand within its minimum and slew limits, with a ramp at
//! host power-on. A failed, stale or stopped part puts the zone in
//! failsafe (full PWM, a SEL event, `FailSafe` on D-Bus). An operator can
//! take a zone into manual mode over D-Bus (OpenBMC's `Control.Mode` and
//! `Control.FanPwm`) or IPMI (phosphor-pid-control's OEM command).
//!
//! # Layout
//! - [`owner`]: the control task that owns the zones and the outputs.
//! - [`outputs`]: the hwmon PWM outputs.
//! - [`readings`]: the sensors and the host's power, over D-Bus.
//! - [`dbus`]: the zone and PWM objects.
//! - [`commands`]: the OEM IPMI command.

pub mod cli;
pub mod commands;
pub mod dbus;
pub mod outputs;
pub mod owner;
pub mod readings;

use std::{future::Future, sync::Arc, time::Duration};

use ipmi_router::owner::Execute;
use rbmc_config::Config;
use rbmc_contracts::names;

use crate::owner::ControlledZone;

/// Drives the fans until `shutdown` resolves, then leaves them at their
/// failsafe PWM.
pub async fn run(config: Config, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    // Every output is found before anything is served: a missing one stops
    // the daemon with 78, naming it.
    let zones = config
        .cooling
        .zones
        .iter()
        .map(|zone| ControlledZone::open(&config, zone))
        .collect::<Result<Vec<_>, _>>()?;
    let mut startup = rbmc_daemon::Startup::connect().await?;
    let bus = startup.connection().clone();
    let poll = Duration::from_millis(config.cooling.poll_ms);
    let (handle, stopper) = owner::spawn(bus.clone(), zones, poll);
    // Whatever ends the daemon from here (a failed start, a lost bus, a
    // signal), the fans are left at failsafe.
    let outcome = async {
        let objects = dbus::serve(&bus, &handle).await?;
        tokio::spawn(dbus::publish(objects, handle.clone()));
        let table = commands::command_table(handle);
        startup
            .serve_commands(Arc::new(table) as Arc<dyn Execute>)
            .await?;
        startup.name(names::FAND).name(names::FAN_CTRL);
        let running = startup.claim_names().await?.ready();
        running.until(shutdown).await
    }
    .await;
    stopper.stop().await;
    outcome
}
