//! Fetching clients' `jwks_uri` for `private_key_jwt`: bounded in time and size, no redirects,
//! under the outbound policy.

use std::time::Duration;

use castellan_oauth::jwks_uri::JwksFetcher;
use castellan_types::Jwks;

use crate::outbound::Outbound;

const MAX_BYTES: usize = 64 * 1024;

pub struct HttpJwksFetcher {
    http: reqwest::Client,
    outbound: Outbound,
}

impl HttpJwksFetcher {
    pub fn new(outbound: &Outbound) -> anyhow::Result<Self> {
        let http = outbound
            .client_builder()
            .timeout(Duration::from_secs(5))
            .connect_timeout(Duration::from_secs(3))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("castellan/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            http,
            outbound: outbound.clone(),
        })
    }
}

impl HttpJwksFetcher {
    /// A JSON document of at most [`MAX_BYTES`] at `uri`, under the outbound policy.
    async fn get(&self, uri: &str) -> Result<Vec<u8>, String> {
        let url = reqwest::Url::parse(uri).map_err(|e| e.to_string())?;
        self.outbound.check_url(&url)?;
        let mut resp = self.http.get(url).send().await.map_err(|e| e.to_string())?;
        if !resp.status().is_success() {
            return Err(format!("status {}", resp.status()));
        }
        if resp.content_length().is_some_and(|n| n > MAX_BYTES as u64) {
            return Err("the document is too large".into());
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| e.to_string())? {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_BYTES {
                return Err("the document is too large".into());
            }
        }
        Ok(body)
    }
}

#[async_trait::async_trait]
impl JwksFetcher for HttpJwksFetcher {
    async fn fetch(&self, uri: &str) -> Result<Jwks, String> {
        let body = self.get(uri).await?;
        let jwks: Jwks = serde_json::from_slice(&body).map_err(|e| format!("not a JWK Set: {e}"))?;
        if jwks.keys.iter().any(|k| k.d.is_some()) {
            return Err("the JWK Set contains private keys".into());
        }
        Ok(jwks)
    }

    async fn discover_jwks_uri(&self, issuer: &str) -> Result<String, String> {
        #[derive(serde::Deserialize)]
        struct Metadata {
            issuer: String,
            jwks_uri: String,
        }
        let body = self
            .get(&format!(
                "{}/.well-known/openid-configuration",
                issuer.trim_end_matches('/')
            ))
            .await?;
        let m: Metadata =
            serde_json::from_slice(&body).map_err(|e| format!("not an OpenID provider metadata document: {e}"))?;
        // OIDC Discovery §4.3: the document is the issuer's only if it says so.
        if m.issuer.trim_end_matches('/') != issuer.trim_end_matches('/') {
            return Err(format!("the discovery document names another issuer ({})", m.issuer));
        }
        Ok(m.jwks_uri)
    }
}
