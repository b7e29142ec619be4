//! HTTPS: the rustls server configuration from `--tls-cert` / `--tls-key` (PEM files), and — with
//! `--tls-client-certs` or `--tls-client-ca` — TLS client certificates (RFC 8705): the listener
//! asks for one without requiring it, proves that the client holds its key (the handshake
//! signature is verified), and hands the chain to every request of the connection. What the
//! certificate is worth (a chain to a trusted authority, a registered name or key) is decided by
//! the protocol engine, per client.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;

use anyhow::{Context, bail};
use axum_server::accept::Accept;
use axum_server::tls_rustls::RustlsAcceptor;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite};
use tower::Layer;

use crate::config::TlsFiles;

/// Reads the certificate chain and key and builds a server configuration with rustls' safe
/// defaults (TLS 1.2 and 1.3, aws-lc-rs), offering HTTP/2 and HTTP/1.1 by ALPN. With
/// `client_certs`, client certificates are asked for (not required). Every failure names the
/// flag and the file.
pub(crate) fn server_config(files: &TlsFiles, client_certs: bool) -> anyhow::Result<Arc<rustls::ServerConfig>> {
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
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?;
    let builder = if client_certs {
        builder.with_client_cert_verifier(Arc::new(AnyClientCertificate {
            algorithms: provider.signature_verification_algorithms,
        }))
    } else {
        builder.with_no_client_auth()
    };
    let mut config = builder
        .with_single_cert(certs, key)
        .with_context(|| format!("--tls-key {key_path} does not fit --tls-cert {cert_path}"))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The authorities of `--tls-client-ca` (PEM), for `tls_client_auth`.
pub(crate) fn client_ca(path: &std::path::Path) -> anyhow::Result<castellan_oauth::mtls::ClientCa> {
    let shown = path.display();
    let certs = CertificateDer::pem_file_iter(path)
        .with_context(|| format!("--tls-client-ca {shown}: cannot read the file"))?
        .map(|c| c.map(|c| c.to_vec()))
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("--tls-client-ca {shown}: not PEM certificates"))?;
    castellan_oauth::mtls::ClientCa::new(certs).map_err(|why| anyhow::anyhow!("--tls-client-ca {shown}: {why}"))
}

/// Asks for a client certificate, accepts any (self-signed ones are what
/// `self_signed_tls_client_auth` is for) and checks the handshake signature with it, so the
/// client holds the certificate's private key. Without a certificate the handshake goes on.
#[derive(Debug)]
struct AnyClientCertificate {
    algorithms: rustls::crypto::WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for AnyClientCertificate {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        // No hints: a client then offers whichever certificate it has, self-signed ones too.
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// The TLS acceptor that puts the connection's client certificate (if any) into every request's
/// extensions, where `castellan_web`'s `PeerCertificate` finds it.
#[derive(Clone)]
pub(crate) struct ClientCertAcceptor(pub RustlsAcceptor);

type Accepted<St, Sv> = Pin<Box<dyn Future<Output = io::Result<(St, Sv)>> + Send>>;

impl<I, S> Accept<I, S> for ClientCertAcceptor
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: Send + 'static,
{
    type Stream = <RustlsAcceptor as Accept<I, S>>::Stream;
    type Service = axum::middleware::AddExtension<S, castellan_web::PeerCertificate>;
    type Future = Accepted<Self::Stream, Self::Service>;

    fn accept(&self, stream: I, service: S) -> Self::Future {
        let inner = self.0.clone();
        Box::pin(async move {
            let (stream, service) = inner.accept(stream, service).await?;
            let chain = stream
                .get_ref()
                .1
                .peer_certificates()
                .map(|certs| certs.iter().map(|c| c.to_vec()).collect::<Vec<_>>());
            let cert = chain.and_then(castellan_oauth::mtls::ClientCertificate::from_chain);
            Ok((
                stream,
                axum::Extension(castellan_web::PeerCertificate(cert)).layer(service),
            ))
        })
    }
}
