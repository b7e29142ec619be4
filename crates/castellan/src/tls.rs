//! HTTPS: the rustls server configuration from `--tls-cert` / `--tls-key` (PEM files).

use std::sync::Arc;

use anyhow::{Context, bail};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::TlsFiles;

/// Reads the certificate chain and key and builds a server configuration with rustls' safe
/// defaults (TLS 1.2 and 1.3, aws-lc-rs), offering HTTP/2 and HTTP/1.1 by ALPN. Every failure
/// names the flag and the file.
pub(crate) fn server_config(files: &TlsFiles) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    let cert_path = files.cert.display();
    let key_path = files.key.display();
    let certs = CertificateDer::pem_file_iter(&files.cert)
        .with_context(|| format!("--tls-cert {cert_path}: cannot read the file"))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("--tls-cert {cert_path}: not a PEM certificate chain"))?;
    if certs.is_empty() {
        bail!("--tls-cert {cert_path}: no CERTIFICATE block in the file");
    }
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .with_context(|| format!("--tls-key {key_path}: no PEM private key could be read from the file"))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .with_context(|| format!("--tls-key {key_path} does not fit --tls-cert {cert_path}"))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
