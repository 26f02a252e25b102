//! The service's TLS: the certificate it presents and the protocol
//! versions and suites it accepts.
//!
//! A configured certificate and key (`[redfish] certificate`, `key`) are
//! served as they are. Without them the service makes a self-signed
//! certificate at its first start (rcgen, ECDSA P-256) and keeps it in its
//! state directory, the key readable by its own user only, so a client
//! that pinned it sees the same one after a restart.
//!
//! TLS 1.2 and 1.3 only, with rustls's ring provider: its suites are all
//! AEAD with forward secrecy (TLS 1.3's three; ECDHE with AES-GCM or
//! ChaCha20-Poly1305 for 1.2). ALPN offers HTTP/2 and HTTP/1.1.

use std::{
    io::Write,
    os::unix::fs::OpenOptionsExt,
    path::{Path, PathBuf},
    sync::Arc,
};

use anyhow::Context as _;
use rustls::pki_types::{pem::PemObject, CertificateDer, PrivateKeyDer};
use tracing::info;

/// The self-signed certificate's files in the state directory.
const CERTIFICATE_FILE: &str = "redfish-certificate.pem";
const KEY_FILE: &str = "redfish-key.pem";

/// The TLS configuration for `redfish`, making a certificate in
/// `state_dir` if none is configured or kept.
pub fn server_config(
    redfish: &rbmc_config::Redfish,
    state_dir: &Path,
) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    let (certificate, key) = match (&redfish.certificate, &redfish.key) {
        (Some(certificate), Some(key)) => (certificate.clone(), key.clone()),
        _ => self_signed(state_dir)?,
    };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&certificate)
        .and_then(|certs| certs.collect())
        .map_err(|e| rbmc_daemon::ConfigProblem(format!("{}: {e}", certificate.display())))?;
    if chain.is_empty() {
        return Err(rbmc_daemon::ConfigProblem(format!(
            "{}: no certificate in it",
            certificate.display()
        ))
        .into());
    }
    let key = PrivateKeyDer::from_pem_file(&key)
        .map_err(|e| rbmc_daemon::ConfigProblem(format!("{}: {e}", key.display())))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| {
            rbmc_daemon::ConfigProblem(format!(
                "{}: the key does not fit the certificate: {e}",
                certificate.display()
            ))
        })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The kept self-signed certificate's paths, made first if missing.
fn self_signed(state_dir: &Path) -> anyhow::Result<(PathBuf, PathBuf)> {
    let certificate = state_dir.join(CERTIFICATE_FILE);
    let key = state_dir.join(KEY_FILE);
    if certificate.exists() && key.exists() {
        return Ok((certificate, key));
    }
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_default();
    let mut names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    if !hostname.is_empty() && hostname != "localhost" {
        names.insert(0, hostname);
    }
    let mut params = rcgen::CertificateParams::new(names).context("certificate names")?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "rbmc BMC");
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "rbmc");
    let key_pair = rcgen::KeyPair::generate().context("a certificate key")?;
    let cert = params
        .self_signed(&key_pair)
        .context("a self-signed certificate")?;
    std::fs::create_dir_all(state_dir)
        .with_context(|| format!("state directory {}", state_dir.display()))?;
    // The key first: a certificate without its key is never left behind.
    write_private(&key, key_pair.serialize_pem().as_bytes())?;
    write_private(&certificate, cert.pem().as_bytes())?;
    info!(path = %certificate.display(), "self-signed certificate made");
    Ok((certificate, key))
}

/// Writes `path` whole or not at all, readable by this user only.
fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    let written = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(err) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(anyhow::Error::new(err).context(format!("writing {}", path.display())));
    }
    Ok(())
}

/// Where the system keeps the CA certificates a subscriber's certificate
/// is verified against (Debian's and Yocto's `ca-certificates`).
const SYSTEM_CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// A TLS client for event delivery: verifying the destination against the
/// system's CA certificates, or, for a subscription made with
/// `VerifyCertificate: false`, accepting any certificate (encrypted, but
/// not authenticated: the subscriber's choice).
pub fn client(verify: bool) -> tokio_rustls::TlsConnector {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = match rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
    {
        Ok(builder) => builder,
        Err(_) => unreachable!("ring provides TLS 1.2 and 1.3"),
    };
    let config = if verify {
        let mut roots = rustls::RootCertStore::empty();
        if let Ok(certificates) = CertificateDer::pem_file_iter(SYSTEM_CA_BUNDLE) {
            roots.add_parsable_certificates(certificates.flatten());
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
            .with_no_client_auth()
    };
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

/// Accepts any server certificate, still checking the handshake's
/// signatures (for `VerifyCertificate: false`).
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &rustls::pki_types::ServerName<'_>,
        _: &[u8],
        _: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_self_signed_certificate_is_made_once_and_kept_private() {
        let dir = std::env::temp_dir().join(format!("rbmc-redfish-tls-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let redfish = rbmc_config::Redfish::default();
        server_config(&redfish, &dir).unwrap();
        let first = std::fs::read(dir.join(CERTIFICATE_FILE)).unwrap();
        let mode = std::fs::metadata(dir.join(KEY_FILE)).unwrap().permissions();
        assert_eq!(std::os::unix::fs::PermissionsExt::mode(&mode) & 0o077, 0);
        server_config(&redfish, &dir).unwrap();
        assert_eq!(std::fs::read(dir.join(CERTIFICATE_FILE)).unwrap(), first);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_configured_key_that_does_not_fit_is_a_config_problem() {
        let dir = std::env::temp_dir().join(format!("rbmc-redfish-tls-bad-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let (certificate, _) = self_signed(&dir.join("a")).unwrap();
        let (_, other_key) = self_signed(&dir.join("b")).unwrap();
        let redfish = rbmc_config::Redfish {
            certificate: Some(certificate),
            key: Some(other_key),
            ..Default::default()
        };
        let err = server_config(&redfish, &dir).unwrap_err();
        assert!(err.is::<rbmc_daemon::ConfigProblem>(), "{err:#}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
