//! OpenBMC's common D-Bus errors, `xyz.openbmc_project.Common.Error.*`
//! (phosphor-dbus-interfaces, `yaml/xyz/openbmc_project/Common.errors.yaml`).
//!
//! Every method of the suite's interfaces fails with a [`CommonError`], so
//! an OpenBMC client (bmcweb, phosphor-ipmi-host) reads our errors as it
//! reads OpenBMC's own. A client proxy returns the same type: an error reply
//! with one of these names comes back as its variant, and anything else
//! (the bus's own `org.freedesktop.DBus.Error.*`, a broken connection) as
//! [`CommonError::ZBus`].
//!
//! Property setters are the exception: zbus answers a failed `Set` with an
//! `org.freedesktop.DBus.Error.*` name, so a setter returns a
//! [`CommonError`] and zbus converts it with the explicit table of
//! `From<CommonError> for zbus::fdo::Error`.

use zbus::fdo;

/// An error a method of the suite answers with, under OpenBMC's common
/// error names, in the order of OpenBMC's table (`NoCACertificate` is left
/// out: nothing in rbmc handles certificates).
///
/// Deliberately not `#[non_exhaustive]`: every receiver maps each variant to
/// its own terms (the bridges to a completion code), and a new variant must
/// fail to compile there until someone decides its mapping.
#[derive(Clone, Debug, PartialEq, zbus::DBusError)]
#[zbus(prefix = "xyz.openbmc_project.Common.Error")]
pub enum CommonError {
    /// Not an OpenBMC error: the call failed on the way (the bus's own
    /// errors such as `ServiceUnknown` or `NoReply`, a lost connection, a
    /// reply that does not decode). Never sent by a service.
    #[zbus(error)]
    ZBus(zbus::Error),
    /// `Timeout`: the operation timed out.
    Timeout(String),
    /// `InternalFailure`: the operation failed inside the service.
    InternalFailure(String),
    /// `InvalidArgument`: an argument is malformed or out of range.
    InvalidArgument(String),
    /// `InsufficientPermission`: the caller may not do this.
    InsufficientPermission(String),
    /// `NotAllowed`: not possible in the present state.
    NotAllowed(String),
    /// `TooManyResources`: too many resources have already been granted.
    TooManyResources(String),
    /// `ResourceNotFound`: what the call names does not exist.
    ResourceNotFound(String),
    /// `Unavailable`: the service (or what it drives) is temporarily
    /// unavailable; try again.
    Unavailable(String),
    /// `UnsupportedRequest`: the request is not supported.
    UnsupportedRequest(String),
    /// `QuotaExceeded`: a configured quota or limit would be exceeded.
    QuotaExceeded(String),
}

/// The answer of a failed property `Set`, which zbus can only send under an
/// `org.freedesktop.DBus.Error.*` name: each common error becomes the
/// nearest freedesktop error, its description kept.
impl From<CommonError> for fdo::Error {
    fn from(err: CommonError) -> Self {
        match err {
            CommonError::ZBus(err) => fdo::Error::from(err),
            CommonError::Timeout(d) => fdo::Error::Timeout(d),
            CommonError::InternalFailure(d) => fdo::Error::Failed(d),
            CommonError::InvalidArgument(d) => fdo::Error::InvalidArgs(d),
            CommonError::InsufficientPermission(d) => fdo::Error::AccessDenied(d),
            CommonError::NotAllowed(d) => fdo::Error::Failed(d),
            CommonError::TooManyResources(d) => fdo::Error::LimitsExceeded(d),
            CommonError::ResourceNotFound(d) => fdo::Error::Failed(d),
            CommonError::Unavailable(d) => fdo::Error::Failed(d),
            CommonError::UnsupportedRequest(d) => fdo::Error::NotSupported(d),
            CommonError::QuotaExceeded(d) => fdo::Error::LimitsExceeded(d),
        }
    }
}

#[cfg(test)]
mod tests {
    use zbus::{connection, DBusError};

    use super::*;

    /// Every variant OpenBMC names, with its full D-Bus error name.
    fn table() -> Vec<(&'static str, CommonError)> {
        let d = || "why".to_owned();
        vec![
            ("Timeout", CommonError::Timeout(d())),
            ("InternalFailure", CommonError::InternalFailure(d())),
            ("InvalidArgument", CommonError::InvalidArgument(d())),
            (
                "InsufficientPermission",
                CommonError::InsufficientPermission(d()),
            ),
            ("NotAllowed", CommonError::NotAllowed(d())),
            ("TooManyResources", CommonError::TooManyResources(d())),
            ("ResourceNotFound", CommonError::ResourceNotFound(d())),
            ("Unavailable", CommonError::Unavailable(d())),
            ("UnsupportedRequest", CommonError::UnsupportedRequest(d())),
            ("QuotaExceeded", CommonError::QuotaExceeded(d())),
        ]
    }

    #[test]
    fn names_are_openbmcs() {
        for (name, err) in table() {
            assert_eq!(
                err.name().as_str(),
                format!("xyz.openbmc_project.Common.Error.{name}")
            );
            assert_eq!(err.description(), Some("why"));
        }
    }

    /// Fails with the `n`th error of [`table`].
    struct FailingObject;

    #[zbus::interface(name = "org.rbmc.Test.Failing")]
    impl FailingObject {
        fn fail(&self, n: u32) -> Result<(), CommonError> {
            let n = usize::try_from(n).unwrap_or(usize::MAX);
            Err(table().swap_remove(n).1)
        }
    }

    #[zbus::proxy(interface = "org.rbmc.Test.Failing", default_path = "/test")]
    trait Failing {
        fn fail(&self, n: u32) -> Result<(), CommonError>;
    }

    #[tokio::test]
    async fn every_error_crosses_a_connection_as_itself() {
        let (a, b) = tokio::net::UnixStream::pair().unwrap();
        let server = connection::Builder::unix_stream(a)
            .server(zbus::Guid::generate())
            .unwrap()
            .p2p()
            .serve_at("/test", FailingObject)
            .unwrap()
            .build();
        let client = connection::Builder::unix_stream(b).p2p().build();
        let (_server, client) = tokio::try_join!(server, client).unwrap();
        let proxy = FailingProxy::builder(&client)
            .destination("org.rbmc.Test")
            .unwrap()
            .build()
            .await
            .unwrap();
        for (n, (_, sent)) in (0u32..).zip(table()) {
            assert_eq!(proxy.fail(n).await, Err(sent));
        }
        // A failure of the call itself (here, no such object) arrives as
        // the zbus variant, for the receiver to map.
        let missing = FailingProxy::builder(&client)
            .destination("org.rbmc.Test")
            .unwrap()
            .path("/nowhere")
            .unwrap()
            .build()
            .await
            .unwrap();
        let err = missing.fail(0).await.unwrap_err();
        assert!(matches!(err, CommonError::ZBus(_)), "{err:?}");
        assert!(matches!(
            fdo::Error::from(err),
            fdo::Error::UnknownObject(_)
        ));
    }

    #[test]
    fn property_setters_answer_the_nearest_freedesktop_error() {
        let d = || "why".to_owned();
        for (common, fdo) in [
            (
                CommonError::InvalidArgument(d()),
                fdo::Error::InvalidArgs(d()),
            ),
            (
                CommonError::InsufficientPermission(d()),
                fdo::Error::AccessDenied(d()),
            ),
            (CommonError::NotAllowed(d()), fdo::Error::Failed(d())),
            (CommonError::Unavailable(d()), fdo::Error::Failed(d())),
            (CommonError::Timeout(d()), fdo::Error::Timeout(d())),
            (
                CommonError::UnsupportedRequest(d()),
                fdo::Error::NotSupported(d()),
            ),
        ] {
            assert_eq!(fdo::Error::from(common), fdo);
        }
    }
}
