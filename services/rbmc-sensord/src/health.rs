//! Faults derived from the sensors, for whoever reports the chassis:
//! `org.rbmc.Sensord.Health` at `/org/rbmc/Sensord/Health`. rbmc-powerd
//! follows `CoolingFault` and `PowerFault` for Get Chassis Status
//! ("cooling/fan fault detected", Table 28-4 byte 3 bit 3; "main power
//! fault", byte 1 bit 3). The drive fault bit (byte 3 bit 2) stays clear:
//! no sensor kind rbmc reads describes a drive.

use rbmc_config::SensorKind;
use zbus::object_server::InterfaceRef;

use crate::sensor::Sensor;

/// Mask bits of the critical and non-recoverable thresholds (lower and
/// upper): a fan past one of them has failed or is failing.
const CRITICAL_OR_WORSE: u8 = 1 << 1 | 1 << 2 | 1 << 4 | 1 << 5;

/// Whether any fan reads past a critical or non-recoverable threshold.
pub fn cooling_fault(sensors: &[Sensor]) -> bool {
    any_critical(sensors, |kind| kind == SensorKind::Fan)
}

/// Whether any voltage, current or power sensor (the supply's rails and
/// draw) reads past a critical or non-recoverable threshold.
pub fn power_fault(sensors: &[Sensor]) -> bool {
    any_critical(sensors, |kind| {
        matches!(
            kind,
            SensorKind::Voltage | SensorKind::Current | SensorKind::Power
        )
    })
}

fn any_critical(sensors: &[Sensor], kinds: impl Fn(SensorKind) -> bool) -> bool {
    sensors
        .iter()
        .filter(|s| kinds(s.entry.kind))
        .any(|s| s.snapshot().asserted & CRITICAL_OR_WORSE != 0)
}

/// `org.rbmc.Sensord.Health`.
#[derive(Debug, Default)]
pub struct HealthObject {
    cooling_fault: bool,
    power_fault: bool,
}

#[zbus::interface(name = "org.rbmc.Sensord.Health")]
impl HealthObject {
    /// A fan reads past a critical or non-recoverable threshold.
    #[zbus(property)]
    fn cooling_fault(&self) -> bool {
        self.cooling_fault
    }

    /// A voltage, current or power sensor reads past a critical or
    /// non-recoverable threshold.
    #[zbus(property)]
    fn power_fault(&self) -> bool {
        self.power_fault
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
    let fault = power_fault(sensors);
    if health.power_fault != fault {
        health.power_fault = fault;
        health.power_fault_changed(emitter).await?;
    }
    Ok(())
}
