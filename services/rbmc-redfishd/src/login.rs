//! Password logins (HTTP Basic, and the POST that opens a session): the
//! accounts owner checks the password with the same users and lockout as
//! an RMCP+ login, and this service keeps a per-address budget of failed
//! ones on top (`[redfish] failed-login-burst`), so a guesser from one
//! address is slowed to one try per interval whatever user it tries. Every
//! login, granted or refused, goes to the audit trail.

use std::{net::IpAddr, sync::Mutex, time::Instant};

use base64::Engine as _;
use ipmi_lan::guess_limit::FailureBudget;
use rbmc_contracts::user::AuthenticatorProxy;
use rbmc_daemon::caller::record_audit;
use redfish_core::{ApiError, Role};
use tracing::{debug, info};

/// A granted login.
#[derive(Clone, Copy, Debug)]
pub struct Granted {
    /// The user's ID.
    pub user_id: u8,
    /// Its role, from its privilege limit.
    pub role: Role,
}

/// Password logins against the accounts owner.
pub struct Logins {
    bus: zbus::Connection,
    budget: Mutex<FailureBudget>,
}

/// `user:password` from a Basic credential (RFC 7617), if well formed.
pub fn decode_basic(encoded: &str) -> Option<(String, String)> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

impl Logins {
    /// Logins over `bus`, with `redfish`'s per-address budget.
    pub fn new(bus: zbus::Connection, redfish: &rbmc_config::Redfish) -> Self {
        Self {
            bus,
            budget: Mutex::new(FailureBudget::new(
                redfish.failed_login_burst,
                std::time::Duration::from_secs(redfish.failed_login_interval_secs),
            )),
        }
    }

    /// Checks `user`'s `password` for a request from `peer`; `how` names
    /// the way in for the audit trail ("basic", "session").
    pub async fn login(
        &self,
        user: &str,
        password: &str,
        peer: IpAddr,
        how: &str,
    ) -> Result<Granted, ApiError> {
        let now = Instant::now();
        if self
            .budget
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .exhausted(peer, now)
        {
            self.audit(
                user,
                peer,
                how,
                "refused: too many failed logins from this address",
            )
            .await;
            return Err(ApiError::no_valid_session());
        }
        let answer = async {
            let proxy = AuthenticatorProxy::new(&self.bus)
                .await
                .map_err(|e| e.to_string())?;
            proxy
                .password_login(user, password, &peer.to_string())
                .await
                .map_err(|e| e.to_string())
        };
        let (granted, user_id, privilege, reason) = match answer.await {
            Ok(answer) => answer,
            Err(err) => {
                debug!(%err, "the accounts owner did not answer");
                return Err(ApiError::unavailable(5));
            }
        };
        let role = Role::from_ipmi_privilege(privilege);
        match (granted, role) {
            (true, Some(role)) => {
                self.audit(user, peer, how, "granted").await;
                Ok(Granted { user_id, role })
            }
            (true, None) => {
                self.audit(
                    user,
                    peer,
                    how,
                    "refused: no Redfish role for its privilege",
                )
                .await;
                Err(ApiError::no_valid_session())
            }
            (false, _) => {
                self.budget
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .spend(peer, now);
                info!(%user, %peer, %reason, "Redfish login refused");
                self.audit(user, peer, how, &format!("refused: {reason}"))
                    .await;
                Err(ApiError::no_valid_session())
            }
        }
    }

    async fn audit(&self, user: &str, peer: IpAddr, how: &str, result: &str) {
        let action = format!("login ({how})");
        record_audit(
            &self.bus,
            "redfishd",
            user,
            &peer.to_string(),
            0,
            &action,
            result,
        )
        .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_decode_and_garbage_does_not() {
        assert_eq!(
            decode_basic("YWRtaW46cmJtYy1hZG1pbg=="),
            Some(("admin".into(), "rbmc-admin".into()))
        );
        // A colon in the password stays in it.
        assert_eq!(decode_basic("YTpiOmM="), Some(("a".into(), "b:c".into())));
        assert_eq!(decode_basic("not base64!"), None);
        assert_eq!(decode_basic("bm9jb2xvbg=="), None);
    }
}
