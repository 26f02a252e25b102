//! Sans-IO IPMI 2.0 wire formats.
//!
//! This crate turns bytes into typed IPMI values and back. It owns no socket,
//! file or clock: every function takes bytes (and, where the protocol needs it,
//! keys or random numbers supplied by the caller) and returns values or bytes.
//! Nothing here may panic on input from the network or the host; every parser
//! returns a [`WireError`] instead, which a property test checks.
//!
//! # Layout
//! - [`code_set!`]: the one form of a spec code table, used by every crate
//!   of the suite (open sets as newtypes, closed sets as enums).
//! - [`answer`]: a response's completion code with the data after it.
//! - [`codes`]: code sets of messages and sessions — NetFn, completion codes,
//!   privilege levels, payload types, RMCP+ algorithms (IPMI v2.0 §5, §13).
//! - [`sensor`]: sensor types, event/reading types and the sensor-specific
//!   offsets the suite logs (IPMI v2.0 §42).
//! - [`message`]: the IPMI message inside a LAN packet: addresses, NetFn/LUN,
//!   sequence, command, data and both checksums (IPMI v2.0 §13.8).
//! - [`rmcp`]: the RMCP header and ASF presence ping/pong (IPMI v2.0 §13.1-13.2,
//!   DSP0136).
//! - [`session`]: IPMI v1.5 and v2.0 session headers and the RMCP+ integrity
//!   trailer (IPMI v2.0 §13.6, §13.28.4).
//! - [`rakp`]: Open Session Request/Response and RAKP messages 1-4 (IPMI v2.0
//!   §13.17-13.23).
//! - [`crypto`]: cipher suites 3 and 17: key derivation (SIK, K1, K2),
//!   HMAC-SHA1-96, HMAC-SHA256-128 and AES-CBC-128 with the spec's padding
//!   (IPMI v2.0 §13.28-13.29).
#![forbid(unsafe_code)]

pub mod answer;
pub mod codes;
pub mod crypto;
pub mod message;
pub mod rakp;
pub mod rmcp;
pub mod sensor;
pub mod session;

mod code_set;
mod error;
mod reader;

pub use answer::Answer;
pub use codes::{
    AuthAlgorithm, CompletionCode, ConfidentialityAlgorithm, IntegrityAlgorithm, NetFn,
    PayloadType, Privilege, RakpStatus,
};
pub use error::WireError;
pub use reader::Reader;
pub use sensor::{
    AcpiPowerStateOffset, EventReadingType, PowerUnitOffset, SensorType, Watchdog2Offset,
};

#[cfg(test)]
mod no_panic_tests {
    //! Every parser in the crate, fed arbitrary bytes: errors, never panics;
    //! whatever parses re-encodes to a form that parses to the same value.
    use proptest::prelude::*;

    use crate::{
        message::{Request, Response},
        rakp::{OpenSessionRequest, OpenSessionResponse, Rakp1, RakpReply},
        rmcp::{AsfHeader, RmcpHeader},
        session::{V15Packet, V20Packet},
    };

    proptest! {
        #[test]
        fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = RmcpHeader::parse(&bytes);
            let _ = AsfHeader::parse(&bytes);
            let _ = V15Packet::parse(&bytes);
            let _ = V20Packet::parse(&bytes);
            let _ = OpenSessionResponse::parse(&bytes);
            let _ = RakpReply::parse(&bytes);
            let _ = Response::parse(&bytes);
            if let Ok(request) = Request::parse(&bytes) {
                prop_assert_eq!(Request::parse(&request.emit()).unwrap(), request);
            }
            if let Ok(open) = OpenSessionRequest::parse(&bytes) {
                prop_assert_eq!(OpenSessionRequest::parse(&open.emit()).unwrap(), open);
            }
            if let Ok(rakp1) = Rakp1::parse(&bytes) {
                prop_assert_eq!(Rakp1::parse(&rakp1.emit()).unwrap(), rakp1);
            }
        }

        #[test]
        fn decrypt_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let keys = crate::crypto::SessionKeys::derive(crate::crypto::CipherSuite::SUITE_17, b"k");
            let _ = keys.decrypt(&bytes);
        }
    }
}
