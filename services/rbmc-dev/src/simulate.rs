//! The simulator's D-Bus face and clock.
//!
//! `org.rbmc.Simulator` at `/org/rbmc/Simulator` on the private bus:
//! - `Inject(s sensor, s fault)`: fault is `stop`, `runaway` or `remove`;
//! - `Clear(s sensor)`: back to normal;
//! - `SetLoad(d load)`: fix the load (0-1); a negative value returns to the
//!   slow wave;
//! - `Pause(b paused)`: stop or restart time, so values hold still (tests
//!   compare readings with the files).
//!
//! At each step the simulator also learns whether the simulated host has
//! power (rbmc-powerd's `org.rbmc.SimulatedHost.PowerGood`): a power draw
//! with a `standby` level reads it while the host is off.
//!
//! ```text
//! busctl --address=unix:path=$STATE/bus.sock call org.rbmc.Simulator \
//!     /org/rbmc/Simulator org.rbmc.Simulator Inject ss "FAN1" stop
//! ```
//!
//! The client is [`rbmc_contracts::simulator::SimulatorProxy`]; an unknown
//! fault is `InvalidArgument`, an unknown sensor `ResourceNotFound`, a
//! failed write of the tree `InternalFailure`.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use rbmc_contracts::{names, simulator::SIMULATOR_PATH, CommonError};
use rbmc_sim::{Fault, SimError, Simulator};

/// How often the simulated values change.
const STEP: Duration = Duration::from_millis(250);

struct SimulatorObject {
    sim: Arc<Mutex<Simulator>>,
    paused: Arc<AtomicBool>,
}

fn lock(sim: &Mutex<Simulator>) -> std::sync::MutexGuard<'_, Simulator> {
    sim.lock().unwrap_or_else(|e| e.into_inner())
}

/// The simulator's refusal as the D-Bus error.
fn failed(err: SimError) -> CommonError {
    let description = err.to_string();
    match err {
        SimError::UnknownFault(_) => CommonError::InvalidArgument(description),
        SimError::UnknownSensor(_) => CommonError::ResourceNotFound(description),
        // `Io`, and whatever the simulator learns to fail with next.
        _ => CommonError::InternalFailure(description),
    }
}

#[zbus::interface(name = "org.rbmc.Simulator")]
impl SimulatorObject {
    /// Injects a fault (`stop`, `runaway`, `remove`) into a sensor.
    async fn inject(&self, sensor: &str, fault: &str) -> Result<(), CommonError> {
        let fault: Fault = fault.parse().map_err(failed)?;
        let mut sim = lock(&self.sim);
        sim.inject(sensor, fault).map_err(failed)?;
        sim.step(Duration::ZERO).map_err(failed)
    }

    /// Clears a sensor's fault.
    async fn clear(&self, sensor: &str) -> Result<(), CommonError> {
        let mut sim = lock(&self.sim);
        sim.clear(sensor).map_err(failed)?;
        sim.step(Duration::ZERO).map_err(failed)
    }

    /// Fixes the load (0-1); negative returns to the slow wave.
    async fn set_load(&self, load: f64) -> Result<(), CommonError> {
        lock(&self.sim).set_load((load >= 0.0).then_some(load));
        Ok(())
    }

    /// Stops (true) or restarts (false) simulated time.
    async fn pause(&self, paused: bool) -> Result<(), CommonError> {
        self.paused.store(paused, Ordering::SeqCst);
        Ok(())
    }

    /// Names of the simulated sensors.
    #[zbus(property)]
    fn sensors(&self) -> Vec<String> {
        lock(&self.sim).sensor_names().map(str::to_owned).collect()
    }
}

/// Steps the simulator in the background and serves it on the bus at
/// `address`; the returned connection keeps the object alive.
pub async fn serve(simulator: Simulator, address: &str) -> anyhow::Result<zbus::Connection> {
    let sim = Arc::new(Mutex::new(simulator));
    let paused = Arc::new(AtomicBool::new(false));
    let object = SimulatorObject {
        sim: sim.clone(),
        paused: paused.clone(),
    };
    let conn = zbus::connection::Builder::address(address)?
        .serve_at(SIMULATOR_PATH, object)?
        .name(names::SIMULATOR)?
        .build()
        .await?;
    // The simulated host's power (rbmc-powerd's simulated board), read at
    // each step: a power draw with a standby level follows it. Until
    // powerd answers, the host counts as powered.
    let host = rbmc_contracts::simulator::SimulatedHostProxy::builder(&conn)
        .cache_properties(zbus::proxy::CacheProperties::No)
        .build()
        .await?;
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(STEP);
        loop {
            tick.tick().await;
            if paused.load(Ordering::SeqCst) {
                continue;
            }
            // Bounded: until powerd is on the bus the call may go
            // unanswered.
            if let Ok(Ok(powered)) = tokio::time::timeout(STEP, host.power_good()).await {
                lock(&sim).set_host_powered(powered);
            }
            if let Err(err) = lock(&sim).step(STEP) {
                eprintln!("rbmc-dev: simulator: {err}");
            }
        }
    });
    Ok(conn)
}
