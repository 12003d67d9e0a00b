//! TLS to the server through rustls (ring): `require` encrypts without checking the certificate
//! (as libpq does), `verify-full` checks it against `sslrootcert` (else `~/.postgresql/root.crt`,
//! else the public web roots) and the host name. No OpenSSL anywhere.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::settings::SslMode;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read the root certificates {} (sslrootcert / PGSSLROOTCERT): {cause}", path.display())]
    RootCert { path: PathBuf, cause: String },
    #[error("the root certificates file {} holds no certificate", path.display())]
    NoCert { path: PathBuf },
    #[error("cannot set up TLS: {0}")]
    Setup(String),
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The connector for `mode` (None: no TLS at all).
pub fn connector(
    mode: SslMode,
    root_cert: Option<&Path>,
) -> Result<Option<tokio_postgres_rustls::MakeRustlsConnect>, TlsError> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Setup(e.to_string()))?;
    let config = match mode {
        SslMode::Disable => return Ok(None),
        SslMode::Prefer | SslMode::Require => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerify(provider())))
            .with_no_client_auth(),
        SslMode::VerifyFull => {
            let mut roots = RootCertStore::empty();
            let default_file = std::env::var_os("HOME")
                .map(|h| PathBuf::from(h).join(".postgresql/root.crt"))
                .filter(|p| p.is_file());
            match root_cert.map(Path::to_path_buf).or(default_file) {
                Some(path) => {
                    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&path)
                        .map_err(|e| TlsError::RootCert {
                            path: path.clone(),
                            cause: e.to_string(),
                        })?
                        .collect::<Result<_, _>>()
                        .map_err(|e| TlsError::RootCert {
                            path: path.clone(),
                            cause: e.to_string(),
                        })?;
                    if certs.is_empty() {
                        return Err(TlsError::NoCert { path });
                    }
                    for c in certs {
                        roots.add(c).map_err(|e| TlsError::RootCert {
                            path: path.clone(),
                            cause: e.to_string(),
                        })?;
                    }
                }
                None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
    };
    Ok(Some(tokio_postgres_rustls::MakeRustlsConnect::new(config)))
}

/// `sslmode=require`: the channel is encrypted, the server is not authenticated (the handshake's
/// signatures are still checked, so the session key is the server's).
#[derive(Debug)]
struct NoVerify(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
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
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
