//! Carries out what PEF asks for, one output at a time, off the PEF
//! task: the host actions through rbmc-powerd's OpenBMC objects (each call
//! bounded, so a missing powerd is logged, never waited on forever); the
//! alerts go to [`crate::alerts`], which delivers them apart.
//!
//! - power down: `State.Chassis.RequestedPowerTransition = Off`;
//! - power cycle: `... = PowerCycle`;
//! - reset: `State.Host.RequestedHostTransition = ForceWarmReboot`;
//! - diagnostic interrupt: `Control.Host.NMI.NMI()`.

use std::{sync::Arc, time::Duration};

use ipmi_pef::{filter::PowerAction, processor::Output};
use rbmc_contracts::{
    control::NmiProxy,
    state::{ChassisProxy, HostProxy},
};
use tokio::sync::mpsc;
use tracing::{info, warn};

use crate::alerts::Alerter;

/// How long one call to rbmc-powerd may take.
const CALL_LIMIT: Duration = Duration::from_secs(5);

const CHASSIS_TRANSITION: &str = "xyz.openbmc_project.State.Chassis.Transition";
const HOST_TRANSITION: &str = "xyz.openbmc_project.State.Host.Transition";

/// Runs the outputs until the PEF task ends.
pub async fn run(
    bus: zbus::Connection,
    alerter: Arc<Alerter>,
    mut outputs: mpsc::Receiver<Output>,
) {
    while let Some(output) = outputs.recv().await {
        match output {
            Output::Act { event, action, .. } => {
                let record = event.record_id;
                match tokio::time::timeout(CALL_LIMIT, act(&bus, action)).await {
                    Ok(Ok(())) => info!(record, ?action, "PEF action taken"),
                    Ok(Err(err)) => warn!(record, ?action, %err, "PEF action failed"),
                    Err(_) => warn!(
                        record,
                        ?action,
                        "PEF action failed: rbmc-powerd did not answer"
                    ),
                }
            }
            Output::Alert { event, request } => alerter.alert(event, request),
        }
    }
}

async fn act(bus: &zbus::Connection, action: PowerAction) -> zbus::Result<()> {
    match action {
        PowerAction::PowerDown | PowerAction::PowerCycle => {
            let transition = if action == PowerAction::PowerDown {
                "Off"
            } else {
                "PowerCycle"
            };
            ChassisProxy::new(bus)
                .await?
                .set_requested_power_transition(&format!("{CHASSIS_TRANSITION}.{transition}"))
                .await
        }
        PowerAction::Reset => {
            HostProxy::new(bus)
                .await?
                .set_requested_host_transition(&format!("{HOST_TRANSITION}.ForceWarmReboot"))
                .await
        }
        PowerAction::DiagnosticInterrupt => NmiProxy::new(bus)
            .await?
            .nmi()
            .await
            .map_err(|err| zbus::Error::Failure(err.to_string())),
    }
}
