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

    /// Consumes RAKP 1: checks the role and the name and fixes the
    /// transcript. The password's part (RAKP 2's code) comes from the
    /// accounts owner, asked with the transcript; `cap` is the highest
    /// privilege the channel and the suite allow.
    pub fn on_rakp1(
        self,
        message: &Rakp1,
        bmc_random: [u8; 16],
        bmc_guid: [u8; 16],
        cap: Privilege,
    ) -> Result<AwaitRakp2, HandshakeError> {
        let requested = Privilege::from_level(message.role).ok_or(RakpStatus::INVALID_ROLE)?;
        // No anonymous or null-user login (§13.20 allows it; we do not).
        if message.username.is_empty() {
            return Err(RakpStatus::UNAUTHORIZED_NAME.into());
        }
        Ok(AwaitRakp2 {
            console_session_id: self.console_session_id,
            suite: self.suite,
            transcript: RakpTranscript {
                console_session_id: self.console_session_id,
                bmc_session_id: self.bmc_session_id,
                console_random: message.console_random,
                bmc_random,
                bmc_guid,
                role: message.role,
                username: message.username.clone(),
            },
            requested,
            cap,
            tag: message.tag,
        })
    }
}

/// What the accounts owner answers for RAKP 2.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Rakp2Answer {
    /// The user ID.
    pub user_id: u8,
    /// The user's privilege limit on the channel.
    pub privilege_limit: Privilege,
    /// Whether the user may activate SOL.
    pub sol_allowed: bool,
    /// The key-exchange authentication code.
    pub code: Vec<u8>,
}

/// State after RAKP 1: waiting for the accounts owner's RAKP 2 code.
#[derive(Clone, Debug)]
pub struct AwaitRakp2 {
    /// The console's session ID.
    pub console_session_id: u32,
    /// The negotiated suite.
    pub suite: CipherSuite,
    /// The public values of the exchange.
    pub transcript: RakpTranscript,
    requested: Privilege,
    cap: Privilege,
    tag: u8,
}

impl AwaitRakp2 {
    /// The RAKP 1 message tag (for an error reply).
    pub fn tag(&self) -> u8 {
        self.tag
    }

    /// Takes the owner's answer: the next state and the RAKP 2 body, or
    /// the status to refuse with.
    pub fn answer(
        self,
        answer: Result<Rakp2Answer, RakpStatus>,
    ) -> Result<(ExpectRakp3, RakpReply), HandshakeError> {
        let answer = answer?;
        let max_privilege = answer.privilege_limit.min(self.cap);
        if self.requested > max_privilege {
            return Err(RakpStatus::UNAUTHORIZED_ROLE.into());
        }
        if answer.code.len() != self.suite.rakp_code_len() {
            return Err(RakpStatus::INSUFFICIENT_RESOURCES.into());
        }
        let mut body = Vec::with_capacity(32 + answer.code.len());
        body.extend_from_slice(&self.transcript.bmc_random);
        body.extend_from_slice(&self.transcript.bmc_guid);
        body.extend_from_slice(&answer.code);
        let reply = RakpReply {
            tag: self.tag,
            status: RakpStatus::NO_ERRORS,
            session_id: self.console_session_id,
            body,
        };
        let user = User {
            id: answer.user_id,
            name: self.transcript.username.clone(),
            max_privilege,
            sol_allowed: answer.sol_allowed,
        };
        Ok((
            ExpectRakp3 {
                console_session_id: self.console_session_id,
                suite: self.suite,
                transcript: self.transcript,
                user,
                requested: self.requested,
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
    /// The public values of the exchange.
    pub transcript: RakpTranscript,
    user: User,
    requested: Privilege,
}

/// State after RAKP 3: waiting for the accounts owner's check of its code
/// and the session integrity key.
#[derive(Clone, Debug)]
pub struct AwaitRakp4 {
    /// The console's session ID.
    pub console_session_id: u32,
    suite: CipherSuite,
    transcript: RakpTranscript,
    user: User,
    requested: Privilege,
    tag: u8,
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

    /// The user's ID.
    pub fn user_id(&self) -> u8 {
        self.user.id
    }

    /// Consumes RAKP 3 whose status is "no errors": the state that waits
    /// for the owner's check of `message.body`.
    pub fn on_rakp3(self, message: &RakpReply) -> AwaitRakp4 {
        AwaitRakp4 {
            console_session_id: self.console_session_id,
            suite: self.suite,
            transcript: self.transcript,
            user: self.user,
            requested: self.requested,
            tag: message.tag,
        }
    }
}

impl AwaitRakp4 {
    /// The user name the console asked to log in as.
    pub fn user_name(&self) -> &[u8] {
        &self.user.name
    }

    /// The RAKP 3 message tag (for an error reply).
    pub fn tag(&self) -> u8 {
        self.tag
    }

    /// Takes the owner's answer: the session integrity key (SIK), or the
    /// status to refuse with. Derives the keys and builds RAKP 4.
    pub fn answer(self, sik: Result<Vec<u8>, RakpStatus>) -> Result<Established, HandshakeError> {
        let sik = sik?;
        let rakp4 = RakpReply {
            tag: self.tag,
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

    fn rakp1(role: u8, name: &[u8]) -> Rakp1 {
        Rakp1 {
            tag: 2,
            bmc_session_id: 7,
            console_random: [1; 16],
            role,
            username: name.to_vec(),
        }
    }

    fn grant(code: Vec<u8>) -> Rakp2Answer {
        Rakp2Answer {
            user_id: 2,
            privilege_limit: Privilege::Operator,
            sol_allowed: true,
            code,
        }
    }

    #[test]
    fn rakp1_refuses_anonymous_unknown_and_too_high_roles() {
        let (state, _) = ExpectRakp1::open(&request(1, 1, 1), &CipherSuite::SUPPORTED, 7).unwrap();
        let at_rakp1 = |msg: Rakp1| {
            state
                .clone()
                .on_rakp1(&msg, [2; 16], [3; 16], Privilege::Administrator)
                .map(|_| ())
                .unwrap_err()
                .status
        };
        assert_eq!(at_rakp1(rakp1(0x14, b"")), RakpStatus::UNAUTHORIZED_NAME);
        assert_eq!(at_rakp1(rakp1(0x10, b"admin")), RakpStatus::INVALID_ROLE);
        let awaiting = |role, cap| {
            state
                .clone()
                .on_rakp1(&rakp1(role, b"admin"), [2; 16], [3; 16], cap)
                .unwrap()
        };
        let status = |result: Result<(ExpectRakp3, RakpReply), HandshakeError>| {
            result.map(|_| ()).unwrap_err().status
        };
        // The owner knows no such user.
        assert_eq!(
            status(
                awaiting(0x14, Privilege::Administrator).answer(Err(RakpStatus::UNAUTHORIZED_NAME))
            ),
            RakpStatus::UNAUTHORIZED_NAME
        );
        // Above the user's limit, or above the channel's cap.
        assert_eq!(
            status(awaiting(0x14, Privilege::Administrator).answer(Ok(grant(vec![0; 20])))),
            RakpStatus::UNAUTHORIZED_ROLE
        );
        assert_eq!(
            status(awaiting(0x13, Privilege::User).answer(Ok(grant(vec![0; 20])))),
            RakpStatus::UNAUTHORIZED_ROLE
        );
    }

    #[test]
    fn full_handshake_agrees_with_a_console_computation() {
        let (state, response) =
            ExpectRakp1::open(&request(3, 4, 1), &CipherSuite::SUPPORTED, 7).unwrap();
        assert_eq!(response.bmc_session_id, 7);
        let awaiting = state
            .on_rakp1(
                &rakp1(0x13, b"admin"),
                [2; 16],
                [3; 16],
                Privilege::Administrator,
            )
            .unwrap();
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
        let code = console.rakp2_code(&suite, b"secret");
        let (state, rakp2) = awaiting.answer(Ok(grant(code.clone()))).unwrap();
        assert_eq!(rakp2.session_id, 0x1234);
        assert_eq!(rakp2.body[32..], code[..]);
        let rakp3 = RakpReply {
            tag: 3,
            status: RakpStatus::NO_ERRORS,
            session_id: 7,
            body: console.rakp3_code(&suite, b"secret"),
        };
        let sik = console.sik(&suite, b"secret");
        let done = state.on_rakp3(&rakp3).answer(Ok(sik.clone())).unwrap();
        assert_eq!(done.rakp4.body, console.rakp4_icv(&suite, &sik));
        assert_eq!(done.rakp4.tag, 3);
        assert_eq!(done.privilege_limit, Privilege::Operator);
        assert!(done.user.sol_allowed);
    }
}
