//! RMCP+ session establishment (IPMI v2.0 §13.17-13.23, §13.31) as explicit
//! states. Each state is consumed by the message it expects and yields the
//! next state plus the reply to send; a wrong message is a typed error that
//! carries the RMCP+ status code to report.

use ipmi_wire::{
    crypto::{CipherSuite, RakpTranscript, SessionKeys},
    rakp::{OpenSessionRequest, OpenSessionResponse, Rakp1, RakpReply},
    Privilege, RakpStatus,
};

use crate::directory::User;

/// Why a handshake step failed; `status` goes back to the console.
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
#[error("RMCP+ session setup refused: {status}")]
pub struct HandshakeError {
    /// The RMCP+ status code to report (IPMI v2.0 Table 13-15).
    pub status: RakpStatus,
}

impl From<RakpStatus> for HandshakeError {
    fn from(status: RakpStatus) -> Self {
        Self { status }
    }
}

/// Chooses the cipher suite for an Open Session Request among `allowed`, or
/// names the first algorithm no allowed suite has (§13.17).
pub fn choose_suite(
    request: &OpenSessionRequest,
    allowed: &[CipherSuite],
) -> Result<CipherSuite, HandshakeError> {
    if let Some(suite) =
        CipherSuite::by_algorithms(request.auth, request.integrity, request.confidentiality)
            .filter(|suite| allowed.contains(suite))
    {
        return Ok(suite);
    }
    let status = if !allowed.iter().any(|s| s.auth == request.auth) {
        RakpStatus::INVALID_AUTH_ALGORITHM
    } else if !allowed.iter().any(|s| s.integrity == request.integrity) {
        RakpStatus::INVALID_INTEGRITY_ALGORITHM
    } else if !allowed
        .iter()
        .any(|s| s.confidentiality == request.confidentiality)
    {
        RakpStatus::INVALID_CONFIDENTIALITY_ALGORITHM
    } else {
        RakpStatus::NO_CIPHER_SUITE_MATCH
    };
    Err(status.into())
}

/// State after a successful Open Session: waiting for RAKP 1.
#[derive(Clone, Debug)]
pub struct ExpectRakp1 {
    /// The console's session ID (SIDm).
    pub console_session_id: u32,
    /// The BMC's session ID (SIDc).
    pub bmc_session_id: u32,
    /// The negotiated suite.
    pub suite: CipherSuite,
}

impl ExpectRakp1 {
    /// Accepts an Open Session Request: returns the state and the response.
    pub fn open(
        request: &OpenSessionRequest,
        allowed: &[CipherSuite],
        bmc_session_id: u32,
    ) -> Result<(Self, OpenSessionResponse), HandshakeError> {
        // Requested maximum privilege: 0 means "highest available", 1-5 a
        // level; reserved values are an invalid role (§13.17).
        if request.max_privilege > Privilege::Oem.level() {
            return Err(RakpStatus::INVALID_ROLE.into());
        }
        // SIDm 0 is reserved: the BMC's packets would look sessionless.
        if request.console_session_id == 0 {
            return Err(RakpStatus::INVALID_SESSION_ID.into());
        }
        let suite = choose_suite(request, allowed)?;
        let response = OpenSessionResponse {
            tag: request.tag,
            status: RakpStatus::NO_ERRORS,
            max_privilege: if request.max_privilege == 0 {
                Privilege::Administrator.level()
            } else {
                request.max_privilege
            },
            console_session_id: request.console_session_id,
            bmc_session_id,
            auth: suite.auth,
            integrity: suite.integrity,
            confidentiality: suite.confidentiality,
        };
        Ok((
            Self {
                console_session_id: request.console_session_id,
                bmc_session_id,
                suite,
            },
            response,
        ))
    }

    /// Consumes RAKP 1 for a looked-up `user`: returns the next state and the
    /// RAKP 2 body. `user` is `None` when the name is unknown or disabled.
    pub fn on_rakp1(
        self,
        message: &Rakp1,
        user: Option<User>,
        bmc_random: [u8; 16],
        bmc_guid: [u8; 16],
    ) -> Result<(ExpectRakp3, RakpReply), HandshakeError> {
        let requested = Privilege::from_level(message.role).ok_or(RakpStatus::INVALID_ROLE)?;
        // No anonymous or null-user login (§13.20 allows it; we do not).
        if message.username.is_empty() {
            return Err(RakpStatus::UNAUTHORIZED_NAME.into());
        }
        let user = user.ok_or(RakpStatus::UNAUTHORIZED_NAME)?;
        if requested > user.max_privilege {
            return Err(RakpStatus::UNAUTHORIZED_ROLE.into());
        }
        let transcript = RakpTranscript {
            console_session_id: self.console_session_id,
            bmc_session_id: self.bmc_session_id,
            console_random: message.console_random,
            bmc_random,
            bmc_guid,
            role: message.role,
            username: message.username.clone(),
        };
        let mut body = Vec::with_capacity(32 + self.suite.rakp_code_len());
        body.extend_from_slice(&bmc_random);
        body.extend_from_slice(&bmc_guid);
        body.extend_from_slice(&transcript.rakp2_code(&self.suite, &user.password));
        let reply = RakpReply {
            tag: message.tag,
            status: RakpStatus::NO_ERRORS,
            session_id: self.console_session_id,
            body,
        };
        Ok((
            ExpectRakp3 {
                console_session_id: self.console_session_id,
                suite: self.suite,
                transcript,
                user,
                requested,
            },
            reply,
        ))
    }
}

/// State after RAKP 2 was sent: waiting for RAKP 3.
#[derive(Clone, Debug)]
pub struct ExpectRakp3 {
    /// The console's session ID.
    pub console_session_id: u32,
    /// The negotiated suite.
    pub suite: CipherSuite,
    transcript: RakpTranscript,
    user: User,
    requested: Privilege,
}

/// What a completed handshake hands to the session table.
#[derive(Debug)]
pub struct Established {
    /// The session keys.
    pub keys: SessionKeys,
    /// The authenticated user.
    pub user: User,
    /// The privilege limit negotiated in RAKP 1.
    pub privilege_limit: Privilege,
    /// The RAKP 4 message to send.
    pub rakp4: RakpReply,
}

impl ExpectRakp3 {
    /// The user name the console asked to log in as.
    pub fn user_name(&self) -> &[u8] {
        &self.user.name
    }

    /// Consumes RAKP 3: on a valid code, derives the keys and builds RAKP 4.
    /// The Kg (BMC key) is `None` when unset, in which case Kuid is used.
    pub fn on_rakp3(
        self,
        message: &RakpReply,
        kg: Option<&[u8]>,
    ) -> Result<Established, HandshakeError> {
        if message.status != RakpStatus::NO_ERRORS {
            // The console gave up (e.g. it could not verify RAKP 2).
            return Err(message.status.into());
        }
        if message.body.len() != self.suite.rakp_code_len()
            || !self
                .transcript
                .verify_rakp3(&self.suite, &self.user.password, &message.body)
        {
            return Err(RakpStatus::INVALID_INTEGRITY_CHECK_VALUE.into());
        }
        let sik = self
            .transcript
            .sik(&self.suite, kg.unwrap_or(&self.user.password));
        let rakp4 = RakpReply {
            tag: message.tag,
            status: RakpStatus::NO_ERRORS,
            session_id: self.console_session_id,
            body: self.transcript.rakp4_icv(&self.suite, &sik),
        };
        Ok(Established {
            keys: SessionKeys::derive(self.suite, &sik),
            user: self.user,
            privilege_limit: self.requested,
            rakp4,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ipmi_wire::{AuthAlgorithm, ConfidentialityAlgorithm, IntegrityAlgorithm};

    fn request(auth: u8, integrity: u8, conf: u8) -> OpenSessionRequest {
        OpenSessionRequest {
            tag: 1,
            max_privilege: 4,
            console_session_id: 0x1234,
            auth: AuthAlgorithm(auth),
            integrity: IntegrityAlgorithm(integrity),
            confidentiality: ConfidentialityAlgorithm(conf),
        }
    }

    #[test]
    fn suite_zero_and_mismatches_are_named() {
        let allowed = CipherSuite::SUPPORTED;
        let status = |r| choose_suite(&r, &allowed).unwrap_err().status;
        // -C 0: RAKP-none, no integrity, no confidentiality.
        assert_eq!(status(request(0, 0, 0)), RakpStatus::INVALID_AUTH_ALGORITHM);
        assert_eq!(
            status(request(1, 0, 1)),
            RakpStatus::INVALID_INTEGRITY_ALGORITHM
        );
        assert_eq!(
            status(request(1, 1, 0)),
            RakpStatus::INVALID_CONFIDENTIALITY_ALGORITHM
        );
        assert_eq!(status(request(1, 4, 1)), RakpStatus::NO_CIPHER_SUITE_MATCH);
        assert_eq!(choose_suite(&request(3, 4, 1), &allowed).unwrap().id, 17);
        assert_eq!(
            choose_suite(&request(3, 4, 1), &[CipherSuite::SUITE_3])
                .unwrap_err()
                .status,
            RakpStatus::INVALID_AUTH_ALGORITHM
        );
    }

    fn admin() -> User {
        User {
            id: 2,
            name: b"admin".to_vec(),
            password: b"secret".to_vec(),
            max_privilege: Privilege::Operator,
        }
    }

    #[test]
    fn rakp1_refuses_anonymous_unknown_and_too_high_roles() {
        let (state, _) = ExpectRakp1::open(&request(1, 1, 1), &CipherSuite::SUPPORTED, 7).unwrap();
        let rakp1 = |role: u8, name: &[u8]| Rakp1 {
            tag: 2,
            bmc_session_id: 7,
            console_random: [1; 16],
            role,
            username: name.to_vec(),
        };
        let run = |msg: Rakp1, user| {
            state
                .clone()
                .on_rakp1(&msg, user, [2; 16], [3; 16])
                .map(|_| ())
                .unwrap_err()
                .status
        };
        assert_eq!(
            run(rakp1(0x14, b""), Some(admin())),
            RakpStatus::UNAUTHORIZED_NAME
        );
        assert_eq!(
            run(rakp1(0x14, b"nobody"), None),
            RakpStatus::UNAUTHORIZED_NAME
        );
        assert_eq!(
            run(rakp1(0x14, b"admin"), Some(admin())),
            RakpStatus::UNAUTHORIZED_ROLE
        );
        assert_eq!(
            run(rakp1(0x10, b"admin"), Some(admin())),
            RakpStatus::INVALID_ROLE
        );
    }

    #[test]
    fn full_handshake_agrees_with_a_console_computation() {
        let (state, response) =
            ExpectRakp1::open(&request(3, 4, 1), &CipherSuite::SUPPORTED, 7).unwrap();
        assert_eq!(response.bmc_session_id, 7);
        let msg = Rakp1 {
            tag: 2,
            bmc_session_id: 7,
            console_random: [1; 16],
            role: 0x13,
            username: b"admin".to_vec(),
        };
        let (state, rakp2) = state
            .on_rakp1(&msg, Some(admin()), [2; 16], [3; 16])
            .unwrap();
        assert_eq!(rakp2.session_id, 0x1234);
        // The console's side, from the same public transcript and password.
        let console = RakpTranscript {
            console_session_id: 0x1234,
            bmc_session_id: 7,
            console_random: [1; 16],
            bmc_random: [2; 16],
            bmc_guid: [3; 16],
            role: 0x13,
            username: b"admin".to_vec(),
        };
        let suite = CipherSuite::SUITE_17;
        assert_eq!(rakp2.body[32..], console.rakp2_code(&suite, b"secret")[..]);
        let rakp3 = RakpReply {
            tag: 3,
            status: RakpStatus::NO_ERRORS,
            session_id: 7,
            body: console.rakp3_code(&suite, b"wrong"),
        };
        assert_eq!(
            state.clone().on_rakp3(&rakp3, None).unwrap_err().status,
            RakpStatus::INVALID_INTEGRITY_CHECK_VALUE
        );
        let rakp3 = RakpReply {
            body: console.rakp3_code(&suite, b"secret"),
            ..rakp3
        };
        let done = state.on_rakp3(&rakp3, None).unwrap();
        let sik = console.sik(&suite, b"secret");
        assert_eq!(done.rakp4.body, console.rakp4_icv(&suite, &sik));
        assert_eq!(done.privilege_limit, Privilege::Operator);
    }
}
