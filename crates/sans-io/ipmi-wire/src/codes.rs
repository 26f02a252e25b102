//! Code sets of the IPMI specification's message and session layers, each a
//! [`code_set!`](crate::code_set) table.
//!
//! All but [`Privilege`] are open sets: a newtype over the raw byte with named
//! constants, so an unknown value still parses (the handler answers it with
//! 0xC1 rather than the parser failing). `Debug` prints the spec name where
//! there is one.

use crate::code_set;

code_set! {
    /// A network function code (IPMI v2.0 §5.1, Table 5-1). Requests use the
    /// even value; the response NetFn is the request's plus one.
    pub struct NetFn(u8) {
        /// Chassis device requests.
        CHASSIS = 0x00, "Chassis";
        /// Bridge requests (ICMB).
        BRIDGE = 0x02, "Bridge";
        /// Sensor and event requests.
        SENSOR_EVENT = 0x04, "Sensor/Event";
        /// Application requests (device identity, sessions, users, channels).
        APP = 0x06, "App";
        /// Firmware transfer requests.
        FIRMWARE = 0x08, "Firmware";
        /// Non-volatile storage requests: FRU, SDR, SEL.
        STORAGE = 0x0A, "Storage";
        /// Media-specific configuration: LAN, serial, SOL.
        TRANSPORT = 0x0C, "Transport";
        /// Group extension requests; the first data byte names the group.
        GROUP_EXTENSION = 0x2C, "Group Extension";
        /// OEM group requests; the first three data bytes are an IANA number.
        OEM_GROUP = 0x2E, "OEM/Group";
    }
}

impl NetFn {
    /// Whether this is a request NetFn (even) rather than a response (odd).
    pub fn is_request(self) -> bool {
        self.0 & 1 == 0
    }

    /// The NetFn a response to this request carries.
    pub fn response(self) -> NetFn {
        NetFn(self.0 | 1)
    }
}

code_set! {
    /// A completion code, the first byte of every response (IPMI v2.0 §5.2,
    /// Table 5-2).
    pub struct CompletionCode(u8) {
        /// Command completed normally.
        SUCCESS = 0x00, "Command Completed Normally";
        /// Node busy: processing resources are temporarily unavailable.
        NODE_BUSY = 0xC0, "Node Busy";
        /// Invalid command: not supported or not recognised.
        INVALID_COMMAND = 0xC1, "Invalid Command";
        /// Command invalid for the given LUN.
        INVALID_FOR_LUN = 0xC2, "Command invalid for given LUN";
        /// Timeout while processing the command; response unavailable.
        TIMEOUT = 0xC3, "Timeout while processing command";
        /// Out of space.
        OUT_OF_SPACE = 0xC4, "Out of space";
        /// Reservation cancelled or invalid reservation ID.
        RESERVATION_CANCELLED = 0xC5, "Reservation Canceled or Invalid Reservation ID";
        /// Request data truncated.
        REQUEST_DATA_TRUNCATED = 0xC6, "Request data truncated";
        /// Request data length invalid.
        REQUEST_DATA_LENGTH_INVALID = 0xC7, "Request data length invalid";
        /// Request data field length limit exceeded.
        REQUEST_DATA_FIELD_LENGTH_EXCEEDED = 0xC8, "Request data field length limit exceeded";
        /// Parameter out of range.
        PARAMETER_OUT_OF_RANGE = 0xC9, "Parameter out of range";
        /// Cannot return the number of requested data bytes.
        CANNOT_RETURN_REQUESTED_BYTES = 0xCA, "Cannot return number of requested data bytes";
        /// Requested sensor, data or record not present.
        NOT_PRESENT = 0xCB, "Requested Sensor, data, or record not present";
        /// Invalid data field in request.
        INVALID_DATA_FIELD = 0xCC, "Invalid data field in Request";
        /// Command illegal for the specified sensor or record type.
        ILLEGAL_FOR_SENSOR_OR_RECORD = 0xCD, "Command illegal for specified sensor or record type";
        /// Command response could not be provided.
        RESPONSE_NOT_PROVIDED = 0xCE, "Command response could not be provided";
        /// Cannot execute a duplicated request.
        DUPLICATED_REQUEST = 0xCF, "Cannot execute duplicated request";
        /// SDR repository in update mode.
        SDR_IN_UPDATE_MODE = 0xD0, "SDR Repository in update mode";
        /// Device in firmware update mode.
        FIRMWARE_UPDATE_MODE = 0xD1, "Device in firmware update mode";
        /// BMC initialisation in progress.
        INITIALIZATION_IN_PROGRESS = 0xD2, "BMC initialization in progress";
        /// Destination unavailable.
        DESTINATION_UNAVAILABLE = 0xD3, "Destination unavailable";
        /// Insufficient privilege level.
        INSUFFICIENT_PRIVILEGE = 0xD4, "Insufficient privilege level";
        /// Not supported in present state.
        NOT_SUPPORTED_IN_PRESENT_STATE = 0xD5, "Command not supported in present state";
        /// Sub-function disabled or unavailable.
        SUBFUNCTION_DISABLED = 0xD6, "Command sub-function has been disabled or is unavailable";
        /// Unspecified error.
        UNSPECIFIED = 0xFF, "Unspecified error";
    }
}

code_set! {
    /// A privilege level (IPMI v2.0 §6.8, and the encoding of Table 22-24).
    /// A closed set: 0 and 6..15 are not levels.
    ///
    /// The order of the variants is the order of authority: a request is
    /// allowed when the session's level is at least the command's minimum.
    /// The names are the spec's level names as ipmitool prints them.
    pub enum Privilege {
        /// Callback: may only ask for a callback (level 1).
        Callback = 1, "CALLBACK";
        /// User: read-only access (level 2).
        User = 2, "USER";
        /// Operator: all but configuration changes (level 3).
        Operator = 3, "OPERATOR";
        /// Administrator: everything (level 4).
        Administrator = 4, "ADMINISTRATOR";
        /// OEM proprietary (level 5).
        Oem = 5, "OEM";
    }
}

impl Privilege {
    /// Decodes the low nibble of a privilege byte; 0 and 6..15 are not levels.
    pub fn from_level(level: u8) -> Option<Self> {
        Self::from_code(level & 0x0F)
    }

    /// The level's wire value.
    pub fn level(self) -> u8 {
        self.code()
    }
}

code_set! {
    /// An RMCP+ payload type, bits 5:0 of the session header's payload byte
    /// (IPMI v2.0 §13.27.3, Table 13-16).
    pub struct PayloadType(u8) {
        /// An IPMI message.
        IPMI = 0x00, "IPMI Message";
        /// Serial over LAN.
        SOL = 0x01, "SOL";
        /// OEM explicit: an IANA number and OEM payload ID follow the header.
        OEM_EXPLICIT = 0x02, "OEM Explicit";
        /// RMCP+ Open Session Request.
        OPEN_SESSION_REQUEST = 0x10, "RMCP+ Open Session Request";
        /// RMCP+ Open Session Response.
        OPEN_SESSION_RESPONSE = 0x11, "RMCP+ Open Session Response";
        /// RAKP Message 1.
        RAKP1 = 0x12, "RAKP Message 1";
        /// RAKP Message 2.
        RAKP2 = 0x13, "RAKP Message 2";
        /// RAKP Message 3.
        RAKP3 = 0x14, "RAKP Message 3";
        /// RAKP Message 4.
        RAKP4 = 0x15, "RAKP Message 4";
    }
}

code_set! {
    /// An RMCP+ authentication (RAKP) algorithm (IPMI v2.0 §13.28, Table 13-17).
    pub struct AuthAlgorithm(u8) {
        /// RAKP-none: no authentication.
        RAKP_NONE = 0x00, "RAKP-none";
        /// RAKP-HMAC-SHA1.
        RAKP_HMAC_SHA1 = 0x01, "RAKP-HMAC-SHA1";
        /// RAKP-HMAC-MD5.
        RAKP_HMAC_MD5 = 0x02, "RAKP-HMAC-MD5";
        /// RAKP-HMAC-SHA256.
        RAKP_HMAC_SHA256 = 0x03, "RAKP-HMAC-SHA256";
    }
}

code_set! {
    /// An RMCP+ integrity algorithm (IPMI v2.0 §13.28.4, Table 13-18).
    pub struct IntegrityAlgorithm(u8) {
        /// No integrity check.
        NONE = 0x00, "none";
        /// HMAC-SHA1 truncated to 96 bits.
        HMAC_SHA1_96 = 0x01, "HMAC-SHA1-96";
        /// HMAC-MD5 truncated to 128 bits.
        HMAC_MD5_128 = 0x02, "HMAC-MD5-128";
        /// MD5-128.
        MD5_128 = 0x03, "MD5-128";
        /// HMAC-SHA256 truncated to 128 bits.
        HMAC_SHA256_128 = 0x04, "HMAC-SHA256-128";
    }
}

code_set! {
    /// An RMCP+ confidentiality algorithm (IPMI v2.0 §13.28.5, Table 13-19).
    pub struct ConfidentialityAlgorithm(u8) {
        /// No encryption.
        NONE = 0x00, "none";
        /// AES-CBC-128.
        AES_CBC_128 = 0x01, "AES-CBC-128";
        /// xRC4-128.
        XRC4_128 = 0x02, "xRC4-128";
        /// xRC4-40.
        XRC4_40 = 0x03, "xRC4-40";
    }
}

code_set! {
    /// An RMCP+ / RAKP message status code (IPMI v2.0 §13.24, Table 13-15).
    pub struct RakpStatus(u8) {
        /// No errors.
        NO_ERRORS = 0x00, "No errors";
        /// Insufficient resources to create a session.
        INSUFFICIENT_RESOURCES = 0x01, "Insufficient resources to create a session";
        /// Invalid session ID.
        INVALID_SESSION_ID = 0x02, "Invalid Session ID";
        /// Invalid payload type.
        INVALID_PAYLOAD_TYPE = 0x03, "Invalid payload type";
        /// Invalid authentication algorithm.
        INVALID_AUTH_ALGORITHM = 0x04, "Invalid authentication algorithm";
        /// Invalid integrity algorithm.
        INVALID_INTEGRITY_ALGORITHM = 0x05, "Invalid integrity algorithm";
        /// No matching authentication payload.
        NO_MATCHING_AUTH_PAYLOAD = 0x06, "No matching authentication payload";
        /// No matching integrity payload.
        NO_MATCHING_INTEGRITY_PAYLOAD = 0x07, "No matching integrity payload";
        /// Inactive session ID.
        INACTIVE_SESSION_ID = 0x08, "Inactive Session ID";
        /// Invalid role.
        INVALID_ROLE = 0x09, "Invalid role";
        /// Unauthorized role or privilege level requested.
        UNAUTHORIZED_ROLE = 0x0A, "Unauthorized role or privilege level requested";
        /// Insufficient resources to create a session at the requested role.
        INSUFFICIENT_RESOURCES_FOR_ROLE = 0x0B, "Insufficient resources to create a session at the requested role";
        /// Invalid name length.
        INVALID_NAME_LENGTH = 0x0C, "Invalid name length";
        /// Unauthorized name.
        UNAUTHORIZED_NAME = 0x0D, "Unauthorized name";
        /// Unauthorized GUID.
        UNAUTHORIZED_GUID = 0x0E, "Unauthorized GUID";
        /// Invalid integrity check value.
        INVALID_INTEGRITY_CHECK_VALUE = 0x0F, "Invalid integrity check value";
        /// Invalid confidentiality algorithm.
        INVALID_CONFIDENTIALITY_ALGORITHM = 0x10, "Invalid confidentiality algorithm";
        /// No cipher suite match with proposed security algorithms.
        NO_CIPHER_SUITE_MATCH = 0x11, "No Cipher Suite match with proposed security algorithms";
        /// Illegal or unrecognised parameter.
        ILLEGAL_PARAMETER = 0x12, "Illegal or Unrecognized parameter";
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completion_codes_match_table_5_2() {
        for (expected, code) in [
            (0x00, CompletionCode::SUCCESS),
            (0xC0, CompletionCode::NODE_BUSY),
            (0xC1, CompletionCode::INVALID_COMMAND),
            (0xC3, CompletionCode::TIMEOUT),
            (0xC7, CompletionCode::REQUEST_DATA_LENGTH_INVALID),
            (0xCC, CompletionCode::INVALID_DATA_FIELD),
            (0xD4, CompletionCode::INSUFFICIENT_PRIVILEGE),
            (0xD5, CompletionCode::NOT_SUPPORTED_IN_PRESENT_STATE),
            (0xFF, CompletionCode::UNSPECIFIED),
        ] {
            assert_eq!(expected, code.0);
        }
    }

    #[test]
    fn unknown_codes_still_print() {
        assert_eq!(
            format!("{:?}", CompletionCode(0x80)),
            "CompletionCode(0x80)"
        );
        assert_eq!(
            format!("{}", CompletionCode::INSUFFICIENT_PRIVILEGE),
            "0xd4 (Insufficient privilege level)"
        );
    }

    #[test]
    fn privilege_levels_are_ordered_and_pinned() {
        for (expected, level) in [
            (1, Privilege::Callback),
            (2, Privilege::User),
            (3, Privilege::Operator),
            (4, Privilege::Administrator),
            (5, Privilege::Oem),
        ] {
            assert_eq!(level.level(), expected);
            assert_eq!(Privilege::from_level(expected), Some(level));
        }
        assert!(Privilege::User < Privilege::Operator);
        assert_eq!(Privilege::from_level(0), None);
        assert_eq!(Privilege::from_level(6), None);
    }

    #[test]
    fn algorithm_codes_match_tables_13_17_to_13_19() {
        assert_eq!(AuthAlgorithm::RAKP_HMAC_SHA1.0, 0x01);
        assert_eq!(AuthAlgorithm::RAKP_HMAC_SHA256.0, 0x03);
        assert_eq!(IntegrityAlgorithm::HMAC_SHA1_96.0, 0x01);
        assert_eq!(IntegrityAlgorithm::HMAC_SHA256_128.0, 0x04);
        assert_eq!(ConfidentialityAlgorithm::AES_CBC_128.0, 0x01);
        assert_eq!(RakpStatus::UNAUTHORIZED_NAME.0, 0x0D);
        assert_eq!(RakpStatus::NO_CIPHER_SUITE_MATCH.0, 0x11);
        assert_eq!(RakpStatus::ILLEGAL_PARAMETER.0, 0x12);
    }

    #[test]
    fn netfns_match_table_5_1() {
        for (expected, netfn) in [
            (0x00, NetFn::CHASSIS),
            (0x02, NetFn::BRIDGE),
            (0x04, NetFn::SENSOR_EVENT),
            (0x06, NetFn::APP),
            (0x08, NetFn::FIRMWARE),
            (0x0A, NetFn::STORAGE),
            (0x0C, NetFn::TRANSPORT),
            (0x2C, NetFn::GROUP_EXTENSION),
            (0x2E, NetFn::OEM_GROUP),
        ] {
            assert_eq!(expected, netfn.0, "{netfn:?}");
        }
        assert_eq!(NetFn::KNOWN.len(), 9);
    }

    #[test]
    fn rakp_status_codes_match_table_13_15() {
        use RakpStatus as S;
        #[rustfmt::skip]
        let pinned = [
            (0x00, S::NO_ERRORS), (0x01, S::INSUFFICIENT_RESOURCES), (0x02, S::INVALID_SESSION_ID),
            (0x03, S::INVALID_PAYLOAD_TYPE), (0x04, S::INVALID_AUTH_ALGORITHM),
            (0x05, S::INVALID_INTEGRITY_ALGORITHM), (0x06, S::NO_MATCHING_AUTH_PAYLOAD),
            (0x07, S::NO_MATCHING_INTEGRITY_PAYLOAD), (0x08, S::INACTIVE_SESSION_ID),
            (0x09, S::INVALID_ROLE), (0x0A, S::UNAUTHORIZED_ROLE),
            (0x0B, S::INSUFFICIENT_RESOURCES_FOR_ROLE), (0x0C, S::INVALID_NAME_LENGTH),
            (0x0D, S::UNAUTHORIZED_NAME), (0x0E, S::UNAUTHORIZED_GUID),
            (0x0F, S::INVALID_INTEGRITY_CHECK_VALUE), (0x10, S::INVALID_CONFIDENTIALITY_ALGORITHM),
            (0x11, S::NO_CIPHER_SUITE_MATCH), (0x12, S::ILLEGAL_PARAMETER),
        ];
        for (expected, status) in pinned {
            assert_eq!(expected, status.0, "{status:?}");
        }
        assert_eq!(pinned.len(), S::KNOWN.len());
    }

    #[test]
    fn netfn_request_response_pairing() {
        assert!(NetFn::APP.is_request());
        assert_eq!(NetFn::APP.response(), NetFn(0x07));
        assert!(!NetFn(0x07).is_request());
    }

    #[test]
    fn payload_types_match_table_13_16() {
        for (expected, kind) in [
            (0x00, PayloadType::IPMI),
            (0x01, PayloadType::SOL),
            (0x10, PayloadType::OPEN_SESSION_REQUEST),
            (0x11, PayloadType::OPEN_SESSION_RESPONSE),
            (0x12, PayloadType::RAKP1),
            (0x13, PayloadType::RAKP2),
            (0x14, PayloadType::RAKP3),
            (0x15, PayloadType::RAKP4),
        ] {
            assert_eq!(expected, kind.0);
        }
    }
}
