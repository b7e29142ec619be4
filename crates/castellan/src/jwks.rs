//! Fetching clients' `jwks_uri` for `private_key_jwt`, and every call to an upstream identity
//! provider (discovery, keys, token, userinfo): bounded in time (5 s) and size, no redirects,
//! under the outbound policy.

use std::time::Duration;

use castellan_oauth::jwks_uri::JwksFetcher;
use castellan_oauth::upstream;
use castellan_types::Jwks;

use crate::outbound::Outbound;

const MAX_BYTES: usize = 64 * 1024;
/// Largest answer an upstream identity provider may give (discovery documents run large).
const MAX_UPSTREAM_BYTES: usize = 256 * 1024;

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
        read_limited(&mut resp, MAX_BYTES).await
    }
}

/// The body of `resp`, refused past `max` bytes.
async fn read_limited(resp: &mut reqwest::Response, max: usize) -> Result<Vec<u8>, String> {
    if resp.content_length().is_some_and(|n| n > max as u64) {
        return Err("the document is too large".into());
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| e.to_string())? {
        body.extend_from_slice(&chunk);
        if body.len() > max {
            return Err("the document is too large".into());
        }
    }
    Ok(body)
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

    async fn send(&self, req: upstream::HttpRequest) -> Result<upstream::HttpResponse, String> {
        let (parts, body) = req.into_parts();
        let url = reqwest::Url::parse(&parts.uri.to_string()).map_err(|e| e.to_string())?;
        self.outbound.check_url(&url)?;
        let mut out = self.http.request(parts.method, url).body(body);
        for (name, value) in &parts.headers {
            out = out.header(name, value);
        }
        let mut resp = out.send().await.map_err(|e| {
            if e.is_timeout() {
                "the provider did not answer in time".to_owned()
            } else {
                e.to_string()
            }
        })?;
        let mut answer = upstream::http::Response::builder().status(resp.status());
        for (name, value) in resp.headers() {
            answer = answer.header(name, value);
        }
        let body = read_limited(&mut resp, MAX_UPSTREAM_BYTES).await?;
        answer.body(body).map_err(|e| e.to_string())
    }
}
