//! `[redfish]`: rbmc-redfishd's address, certificate, sessions and limits.
//!
//! ```toml
//! [redfish]
//! listen = "127.0.0.1:8443"       # TCP; the image's socket unit binds 443
//! # certificate = "/etc/rbmc/redfish.pem"   # PEM chain; with `key`
//! # key = "/etc/rbmc/redfish.key"           # else a self-signed one is made
//! session-timeout-secs = 1800
//! ```

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use serde::Deserialize;

/// `[redfish]`: the Redfish service.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct Redfish {
    /// TCP address to listen on when no socket is handed over.
    pub listen: SocketAddr,
    /// A PEM certificate chain to serve, with [`Self::key`]. Without both,
    /// rbmc-redfishd makes a self-signed certificate at its first start and
    /// keeps it in its state directory.
    pub certificate: Option<PathBuf>,
    /// The PEM private key of [`Self::certificate`].
    pub key: Option<PathBuf>,
    /// Seconds a Redfish session may stay unused (SessionService
    /// SessionTimeout: 30-86400).
    pub session_timeout_secs: u64,
    /// Sessions open at once.
    pub max_sessions: usize,
    /// Connections open at once; past that new ones wait in the kernel's
    /// backlog.
    pub max_connections: usize,
    /// Largest request body, in bytes (larger: 413).
    pub max_body_bytes: usize,
    /// Seconds a client may take to send a request's headers (and its TLS
    /// handshake): slow clients are cut off.
    pub header_timeout_secs: u64,
    /// Failed logins one source address may make in a row before it is
    /// refused for a while (on top of the accounts' lockout).
    pub failed_login_burst: u32,
    /// Seconds per failed login that budget refills (0: no limit).
    pub failed_login_interval_secs: u64,
}

impl Default for Redfish {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8443)),
            certificate: None,
            key: None,
            session_timeout_secs: 1800,
            max_sessions: 64,
            max_connections: 64,
            max_body_bytes: 64 * 1024,
            header_timeout_secs: 10,
            failed_login_burst: 16,
            failed_login_interval_secs: 2,
        }
    }
}

impl Redfish {
    /// The session idle timeout.
    pub fn session_timeout(&self) -> Duration {
        Duration::from_secs(self.session_timeout_secs)
    }

    /// The header (and handshake) read timeout.
    pub fn header_timeout(&self) -> Duration {
        Duration::from_secs(self.header_timeout_secs)
    }

    /// Checks the values.
    pub fn validate(&self) -> Result<(), String> {
        if self.certificate.is_some() != self.key.is_some() {
            return Err("redfish: certificate and key go together".into());
        }
        if !(30..=86_400).contains(&self.session_timeout_secs) {
            return Err(
                "redfish: session-timeout-secs must be 30-86400 (Redfish SessionService)".into(),
            );
        }
        if self.max_sessions == 0 || self.max_connections == 0 {
            return Err("redfish: max-sessions and max-connections must be at least 1".into());
        }
        if self.max_body_bytes < 1024 {
            return Err("redfish: max-body-bytes must be at least 1024".into());
        }
        if self.header_timeout_secs == 0 {
            return Err("redfish: header-timeout-secs must be at least 1".into());
        }
        if self.failed_login_burst == 0 {
            return Err("redfish: failed-login-burst must be at least 1".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Redfish, String> {
        let redfish: Redfish = toml::from_str(text).map_err(|e| e.to_string())?;
        redfish.validate()?;
        Ok(redfish)
    }

    #[test]
    fn defaults_listen_on_loopback_8443() {
        let redfish = parse("").unwrap();
        assert_eq!(redfish.listen.to_string(), "127.0.0.1:8443");
        assert_eq!(redfish.session_timeout(), Duration::from_secs(1800));
    }

    #[test]
    fn refuses_half_a_certificate_and_bad_limits() {
        assert!(parse("certificate = \"/c.pem\"")
            .unwrap_err()
            .contains("go together"));
        assert!(parse("session-timeout-secs = 5")
            .unwrap_err()
            .contains("30-86400"));
        assert!(parse("max-body-bytes = 10").is_err());
        assert!(parse("max-connections = 0").is_err());
        assert!(parse("colour = \"blue\"")
            .unwrap_err()
            .contains("unknown field"));
    }
}
