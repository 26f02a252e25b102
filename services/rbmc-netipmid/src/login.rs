//! The password's part of a login, asked of rbmc-userd: the endpoint's
//! [`Event::Authenticate`](ipmi_lan::Event::Authenticate) questions go out
//! over `org.rbmc.Userd.Authenticator`, and only RAKP 2's code and the
//! session integrity key come back. No password ever reaches this process.
//! When rbmc-userd cannot be reached, the login is refused with
//! "insufficient resources" (RMCP+ status 01h), which ipmitool prints as
//! such; sessions already open go on. rbmc-userd's `SessionsRevoked`
//! signal ends the sessions of a deleted or disabled user.

use std::{future::Future, pin::Pin, sync::Arc, time::Duration};

use ipmi_lan::{AuthAnswer, AuthRequest, AuthStep, LoginEvent, Rakp2Answer};
use ipmi_router::audit::AuditRecord;
use ipmi_wire::{Privilege, RakpStatus};
use rbmc_contracts::user::AuthenticatorProxy;
use tracing::warn;

/// How long a login waits for rbmc-userd: well inside ipmitool's 1 s
/// retransmit interval, so the console hears the refusal, not silence
/// (userd answers a question in well under a millisecond).
pub const ANSWER_TIMEOUT: Duration = Duration::from_millis(500);

/// Where the engine sends a login's questions.
pub trait Authenticates: Send + Sync {
    /// The answer to `request`; `None` for a report that needs none (the
    /// console's refusal of RAKP 2).
    fn authenticate(
        &self,
        request: AuthRequest,
    ) -> Pin<Box<dyn Future<Output = Option<AuthAnswer>> + Send>>;
}

/// rbmc-userd over the bus.
pub struct Userd {
    proxy: AuthenticatorProxy<'static>,
    timeout: Duration,
}

impl Userd {
    /// A client of rbmc-userd on `conn`; each question waits `timeout` at
    /// most.
    pub async fn new(conn: &zbus::Connection, timeout: Duration) -> zbus::Result<Self> {
        Ok(Self {
            proxy: AuthenticatorProxy::new(conn).await?,
            timeout,
        })
    }
}

impl Authenticates for Userd {
    fn authenticate(
        &self,
        request: AuthRequest,
    ) -> Pin<Box<dyn Future<Output = Option<AuthAnswer>> + Send>> {
        let proxy = self.proxy.clone();
        let timeout = self.timeout;
        Box::pin(async move {
            let t = &request.transcript;
            let peer = request.peer.ip().to_string();
            let suite = request.suite.id;
            let unavailable = |err: &dyn std::fmt::Display| {
                warn!(%err, "rbmc-userd did not answer a login: refused");
                RakpStatus::INSUFFICIENT_RESOURCES
            };
            match &request.step {
                AuthStep::Rakp2 => {
                    let call = proxy.rakp2(
                        suite,
                        t.console_session_id,
                        t.bmc_session_id,
                        &t.console_random,
                        &t.bmc_random,
                        &t.bmc_guid,
                        t.role,
                        &t.username,
                        &peer,
                    );
                    let answer = match tokio::time::timeout(timeout, call).await {
                        Ok(Ok((0, user_id, privilege, sol_allowed, code))) => {
                            match Privilege::from_level(privilege) {
                                Some(privilege_limit) => Ok(Rakp2Answer {
                                    user_id,
                                    privilege_limit,
                                    sol_allowed,
                                    code,
                                }),
                                None => Err(RakpStatus::UNAUTHORIZED_ROLE),
                            }
                        }
                        Ok(Ok((status, ..))) => Err(RakpStatus(status)),
                        Ok(Err(err)) => Err(unavailable(&err)),
                        Err(elapsed) => Err(unavailable(&elapsed)),
                    };
                    Some(AuthAnswer::Rakp2(answer))
                }
                AuthStep::Rakp3 { code } => {
                    let answer = rakp3(&proxy, &request, &peer, 0, code, timeout)
                        .await
                        .map_err(|err| unavailable(&err))
                        .and_then(|(status, sik)| match status {
                            0 => Ok(sik),
                            other => Err(RakpStatus(other)),
                        });
                    Some(AuthAnswer::Rakp3(answer))
                }
                AuthStep::ConsoleRefused { status } => {
                    if let Err(err) = rakp3(&proxy, &request, &peer, status.0, &[], timeout).await {
                        warn!(%err, "rbmc-userd was not told of a failed login");
                    }
                    None
                }
            }
        })
    }
}

async fn rakp3(
    proxy: &AuthenticatorProxy<'static>,
    request: &AuthRequest,
    peer: &str,
    console_status: u8,
    code: &[u8],
    timeout: Duration,
) -> Result<(u8, Vec<u8>), String> {
    let t = &request.transcript;
    let call = proxy.rakp3(
        request.suite.id,
        t.console_session_id,
        t.bmc_session_id,
        &t.console_random,
        &t.bmc_random,
        &t.bmc_guid,
        t.role,
        &t.username,
        peer,
        console_status,
        code,
    );
    match tokio::time::timeout(timeout, call).await {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(elapsed) => Err(elapsed.to_string()),
    }
}

/// The audit trail's record of a login.
pub fn login_record(event: &LoginEvent, channel: u8) -> AuditRecord {
    let address = |peer: &Option<std::net::IpAddr>| peer.map(|p| p.to_string()).unwrap_or_default();
    let (user, address, result) = match event {
        LoginEvent::Opened {
            user,
            peer,
            session_id,
            privilege,
        } => (
            user,
            address(peer),
            format!("ok: session {session_id:#010x}, limit {privilege:?}"),
        ),
        LoginEvent::Refused { user, peer, status } => {
            (user, address(peer), format!("refused: {status}"))
        }
        LoginEvent::Abandoned { user, peer } => (
            user,
            address(peer),
            "refused: the console gave up after RAKP 2 (a wrong password)".to_owned(),
        ),
    };
    AuditRecord {
        source: "rmcp+",
        user: user.clone(),
        address,
        channel,
        action: "login".to_owned(),
        result,
    }
}

/// Keeps an `Arc` to an authenticator usable as one.
impl<T: Authenticates + ?Sized> Authenticates for Arc<T> {
    fn authenticate(
        &self,
        request: AuthRequest,
    ) -> Pin<Box<dyn Future<Output = Option<AuthAnswer>> + Send>> {
        (**self).authenticate(request)
    }
}
