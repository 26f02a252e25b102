//! Reading the D-Bus owners: one `GetManagedObjects` of an owner's
//! objects, the latest read of rbmc-sensord's sensors shared by the
//! requests of a short window ([`SensorSnapshot`]), and what a failed call
//! means to a client.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use rbmc_contracts::{names, sensor::SENSORS_ROOT};
use redfish_core::ApiError;
use zbus::zvariant::{OwnedObjectPath, OwnedValue};

/// What an owner's ObjectManager answers: each object's interfaces and
/// their properties.
pub type ManagedObjects = std::collections::HashMap<
    zbus::zvariant::OwnedObjectPath,
    std::collections::HashMap<
        zbus::names::OwnedInterfaceName,
        std::collections::HashMap<String, zbus::zvariant::OwnedValue>,
    >,
>;

/// Every object under `root` of the owner `destination`, in one
/// `GetManagedObjects` call.
pub async fn managed_objects(
    bus: &zbus::Connection,
    destination: &'static str,
    root: &'static str,
) -> Result<ManagedObjects, ApiError> {
    async {
        zbus::fdo::ObjectManagerProxy::builder(bus)
            .destination(destination)?
            .path(root)?
            .build()
            .await?
            .get_managed_objects()
            .await
            .map_err(zbus::Error::from)
    }
    .await
    .map_err(|e| bus_error(&e))
}

/// One object's interfaces and their properties.
pub type Interfaces = HashMap<zbus::names::OwnedInterfaceName, HashMap<String, OwnedValue>>;

/// Every sensor object with its interfaces, sorted by path.
pub type SensorObjects = Arc<Vec<(String, Interfaces)>>;

/// How long one read of the sensors answers further requests. Well under
/// rbmc-sensord's poll (1 s): a reading served is at most this much older
/// than sensord's own, and a burst of requests costs sensord one call.
pub const SENSOR_SNAPSHOT_AGE: Duration = Duration::from_millis(250);

/// The latest read of every sensor object, shared by the requests within
/// [`SENSOR_SNAPSHOT_AGE`] of it. Requests that find it old wait for one
/// read between them.
#[derive(Debug, Default)]
pub struct SensorSnapshot {
    latest: tokio::sync::Mutex<Option<(Instant, SensorObjects)>>,
}

impl SensorSnapshot {
    /// The sensor objects, read again if the last read is too old.
    pub async fn get(&self, bus: &zbus::Connection) -> Result<SensorObjects, ApiError> {
        let mut latest = self.latest.lock().await;
        if let Some((read_at, objects)) = &*latest {
            if read_at.elapsed() < SENSOR_SNAPSHOT_AGE {
                return Ok(objects.clone());
            }
        }
        let objects = Arc::new(sensor_objects(bus).await?);
        *latest = Some((Instant::now(), objects.clone()));
        Ok(objects)
    }
}

/// Every sensor object, by path.
async fn sensor_objects(bus: &zbus::Connection) -> Result<Vec<(String, Interfaces)>, ApiError> {
    let objects = managed_objects(bus, names::SENSORD, SENSORS_ROOT).await?;
    let mut sensors: Vec<(String, Interfaces)> = objects
        .into_iter()
        .filter(|(_, interfaces)| {
            interfaces
                .keys()
                .any(|i| i.as_str() == "xyz.openbmc_project.Sensor.Value")
        })
        .map(|(path, interfaces): (OwnedObjectPath, Interfaces)| (path.to_string(), interfaces))
        .collect();
    sensors.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(sensors)
}

/// A D-Bus failure while reading or changing an owner's object, as the
/// client sees it: the owner is away (503) or refused (500).
pub fn bus_error(err: &zbus::Error) -> ApiError {
    match err {
        zbus::Error::MethodError(name, _, _)
            if name.as_str() == "org.freedesktop.DBus.Error.ServiceUnknown"
                || name.as_str() == "org.freedesktop.DBus.Error.NoReply"
                || name.as_str() == "org.freedesktop.DBus.Error.TimedOut" =>
        {
            ApiError::unavailable(5)
        }
        zbus::Error::FDO(fdo)
            if matches!(
                **fdo,
                zbus::fdo::Error::ServiceUnknown(_)
                    | zbus::fdo::Error::NoReply(_)
                    | zbus::fdo::Error::TimedOut(_)
            ) =>
        {
            ApiError::unavailable(5)
        }
        _ => ApiError::internal(),
    }
}
