//! Faults derived from the sensors, for whoever reports the chassis:
//! `org.rbmc.Sensord.Health` at `/org/rbmc/Sensord/Health`. rbmc-powerd
//! follows `CoolingFault` for Get Chassis Status ("cooling/fan fault
//! detected", Table 28-4 byte 3 bit 3).

use rbmc_config::SensorKind;
use zbus::object_server::InterfaceRef;

use crate::sensor::Sensor;

/// Mask bits of the critical and non-recoverable thresholds (lower and
/// upper): a fan past one of them has failed or is failing.
const CRITICAL_OR_WORSE: u8 = 1 << 1 | 1 << 2 | 1 << 4 | 1 << 5;

/// Whether any fan reads past a critical or non-recoverable threshold.
pub fn cooling_fault(sensors: &[Sensor]) -> bool {
    sensors
        .iter()
        .filter(|s| s.entry.kind == SensorKind::Fan)
        .any(|s| s.snapshot().asserted & CRITICAL_OR_WORSE != 0)
}

/// `org.rbmc.Sensord.Health`.
#[derive(Debug, Default)]
pub struct HealthObject {
    cooling_fault: bool,
}

#[zbus::interface(name = "org.rbmc.Sensord.Health")]
impl HealthObject {
    /// A fan reads past a critical or non-recoverable threshold.
    #[zbus(property)]
    fn cooling_fault(&self) -> bool {
        self.cooling_fault
    }
}

/// Publishes the faults of `sensors` now, signalling a change.
pub async fn publish(object: &InterfaceRef<HealthObject>, sensors: &[Sensor]) -> zbus::Result<()> {
    let fault = cooling_fault(sensors);
    let emitter = object.signal_emitter();
    let mut health = object.get_mut().await;
    if health.cooling_fault != fault {
        health.cooling_fault = fault;
        health.cooling_fault_changed(emitter).await?;
    }
    Ok(())
}
