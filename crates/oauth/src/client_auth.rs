//! Client authentication at the token, introspection and revocation endpoints (RFC 6749 §2.3,
//! RFC 7523 §2.2 and §3, OIDC Core §9). Only the method the client registered is accepted.

use std::sync::Arc;

use castellan_domain::{Client, SigningAlg, seal};
use castellan_jose::jwt;
use serde::Deserialize;

use crate::snapshot::ServerRuntime;
use crate::{Engine, Form, OAuthError};

pub const JWT_BEARER_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// RFC 8705 §2.1 and §2.2.
pub const TLS_CLIENT_AUTH: &str = "tls_client_auth";
pub const SELF_SIGNED_TLS_CLIENT_AUTH: &str = "self_signed_tls_client_auth";
/// Assertions may be valid for at most this long (seconds) and are accepted this much (seconds)
/// past `exp` to allow for clock skew.
const MAX_ASSERTION_LIFETIME: i64 = 3600;
const CLOCK_SKEW: i64 = 30;

/// What the request presented: the `Authorization: Basic` pair (already decoded) and the form.
pub struct Presented<'a> {
    pub basic: Option<(String, String)>,
    pub form: &'a Form,
    /// The caller's address (behind trusted proxies, the forwarded one), for throttling.
    pub addr: Option<std::net::IpAddr>,
    /// The TLS client certificate the caller presented (RFC 8705), directly or through a
    /// trusted proxy.
    pub certificate: Option<&'a crate::mtls::ClientCertificate>,
}

#[derive(Deserialize)]
struct AssertionClaims {
    iss: Option<String>,
    sub: Option<String>,
    #[serde(default, deserialize_with = "one_or_many")]
    aud: Vec<String>,
    exp: Option<i64>,
    nbf: Option<i64>,
    jti: Option<String>,
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
}

fn bad_client(basic: bool, description: &str) -> OAuthError {
    let mut e = OAuthError::invalid_client(description);
    e.basic_challenge = basic;
    e
}

impl Engine {
    /// Authenticates the calling client of `rt`; every failure is `invalid_client` (401) without
    /// saying whether the client exists.
    pub async fn authenticate_client(&self, rt: &ServerRuntime, p: &Presented<'_>) -> Result<Arc<Client>, OAuthError> {
        let form = p.form;
        let post_id = form.get("client_id")?;
        let post_secret = form.get("client_secret")?;
        let assertion_type = form.get("client_assertion_type")?;
        let assertion = form.get("client_assertion")?;
        let used_basic = p.basic.is_some();
        let presented = [used_basic, post_secret.is_some(), assertion.is_some()]
            .iter()
            .filter(|b| **b)
            .count();
        if presented > 1 {
            return Err(OAuthError::invalid_request(
                "use exactly one client authentication method",
            ));
        }

        let (method, client_id): (&str, String) = if let Some((id, _)) = &p.basic {
            if post_id.is_some_and(|pid| pid != id) {
                return Err(OAuthError::invalid_request(
                    "client_id does not match the Authorization header",
                ));
            }
            ("client_secret_basic", id.clone())
        } else if post_secret.is_some() {
            let id = post_id.ok_or_else(|| OAuthError::invalid_request("client_secret_post needs client_id"))?;
            ("client_secret_post", id.to_owned())
        } else if let Some(a) = assertion {
            if assertion_type != Some(JWT_BEARER_ASSERTION) {
                return Err(OAuthError::invalid_request(format!(
                    "client_assertion_type must be {JWT_BEARER_ASSERTION}"
                )));
            }
            let parsed = jwt::parse(a).ok_or_else(|| bad_client(false, "client_assertion is not a valid JWT"))?;
            let claims: AssertionClaims = parsed
                .claims()
                .ok_or_else(|| bad_client(false, "client_assertion claims are malformed"))?;
            let id = claims.sub.clone().or(claims.iss.clone()).unwrap_or_default();
            if post_id.is_some_and(|pid| pid != id) {
                return Err(OAuthError::invalid_request(
                    "client_id does not match the client assertion",
                ));
            }
            let method = if parsed.header.alg == "HS256" {
                "client_secret_jwt"
            } else {
                "private_key_jwt"
            };
            (method, id)
        } else if let Some(id) = post_id {
            ("none", id.to_owned())
        } else {
            // RFC 6749 §5.2: 401, with the scheme it may use (RFC 7009 §2.1, RFC 7662 §2.1).
            return Err(bad_client(true, "client authentication is required"));
        };

        let hasher = self.master.secret_hasher();
        let Some(client) = self.client(rt, client_id.as_str()).await? else {
            hasher.verify_dummy("");
            return Err(bad_client(used_basic, "client authentication failed"));
        };
        // A client id alone names a public client, or one that authenticates with its TLS
        // certificate (RFC 8705 §2).
        let method = match (method, client.token_endpoint_auth_method.as_str()) {
            ("none", m @ (TLS_CLIENT_AUTH | SELF_SIGNED_TLS_CLIENT_AUTH)) => m,
            (m, _) => m,
        };
        if client.token_endpoint_auth_method != method {
            return Err(bad_client(
                used_basic,
                &format!(
                    "client authentication failed: the client is registered for {}",
                    client.token_endpoint_auth_method
                ),
            ));
        }
        let exp = client.settings.client_secret_expires_at;
        if exp > 0 && exp <= self.clock.now() && method.starts_with("client_secret") {
            return Err(bad_client(
                used_basic,
                "client authentication failed: the client secret has expired",
            ));
        }
        match method {
            "client_secret_basic" | "client_secret_post" => {
                let secret = match &p.basic {
                    Some((_, s)) => s.as_str(),
                    None => post_secret.unwrap_or_default(),
                };
                let ok = match &client.secret_hash {
                    Some(h) => self.verified.verify(&self.master, secret, h).await,
                    None => false,
                };
                if !ok {
                    return Err(bad_client(used_basic, "client authentication failed"));
                }
            }
            "client_secret_jwt" | "private_key_jwt" => {
                self.check_assertion(rt, &client, assertion.unwrap_or_default(), method)
                    .await?;
            }
            TLS_CLIENT_AUTH | SELF_SIGNED_TLS_CLIENT_AUTH => {
                self.check_certificate(&client, p.certificate, method).await?;
            }
            _ => {} // `none`: a public client; identified, not authenticated.
        }
        Ok(client)
    }

    /// RFC 8705 §2: `tls_client_auth` — a chain to a trusted authority and the registered
    /// name; `self_signed_tls_client_auth` — the certificate's key among the client's keys.
    async fn check_certificate(
        &self,
        client: &Client,
        cert: Option<&crate::mtls::ClientCertificate>,
        method: &str,
    ) -> Result<(), OAuthError> {
        let fail = |why: &str| Err(bad_client(false, &format!("client authentication failed: {why}")));
        let Some(cert) = cert else {
            return fail("this client authenticates with a TLS client certificate and none was presented");
        };
        if method == TLS_CLIENT_AUTH {
            let Some(ca) = self.client_certs.get().and_then(|c| c.authority.as_ref()) else {
                return fail("no certificate authority is trusted for client certificates on this server");
            };
            if let Err(why) = ca.verifies(cert, self.clock.now()) {
                tracing::info!(client = %client.id, %why, "client certificate chain refused");
                return fail("the certificate is not issued for client authentication by a trusted authority");
            }
            if !cert.has_name(&client.settings.tls_client_auth) {
                return fail("the certificate does not carry the client's registered subject or name");
            }
            return Ok(());
        }
        let Some(jwk) = cert.public_jwk() else {
            return fail("the certificate's key type is not supported");
        };
        let want = castellan_jose::keys::thumbprint(&jwk);
        let keys = match self.client_keys(client, None).await {
            Ok(k) => k,
            Err(why) => return fail(&why),
        };
        if !keys.keys.iter().any(|k| castellan_jose::keys::thumbprint(k) == want) {
            return fail("the certificate's key is not one of the client's registered keys");
        }
        Ok(())
    }

    /// The client's public keys: its `jwks`, or what its `jwks_uri` publishes.
    pub(crate) async fn client_keys(
        &self,
        client: &Client,
        kid: Option<&str>,
    ) -> Result<Arc<castellan_types::Jwks>, String> {
        match (&client.settings.jwks, &client.settings.jwks_uri) {
            (Some(jwks), _) => Ok(Arc::new(jwks.clone())),
            (None, Some(uri)) => self
                .client_jwks
                .keys(uri, kid, self.clock.now())
                .await
                .map_err(|why| format!("the client's jwks_uri could not be fetched: {why}")),
            (None, None) => Err("the client has no registered keys".into()),
        }
    }

    /// RFC 7523 §3: signature, `iss` = `sub` = client, `aud` the token endpoint or the issuer,
    /// unexpired, and a `jti` never seen before.
    async fn check_assertion(
        &self,
        rt: &ServerRuntime,
        client: &Client,
        a: &str,
        method: &str,
    ) -> Result<(), OAuthError> {
        let fail = |why: &str| Err(bad_client(false, &format!("client assertion rejected: {why}")));
        let Some(parsed) = jwt::parse(a) else {
            return fail("malformed");
        };
        let verified = if method == "client_secret_jwt" {
            let Some(sealed) = &client.secret_sealed else {
                return fail("the client has no shared secret");
            };
            let secret = self
                .master
                .open_string(&seal::client_secret(&client.tenant_id, &client.id), sealed)
                .map_err(OAuthError::server_error)?;
            parsed.verify_hs256(&secret)
        } else {
            let Some(alg) = SigningAlg::parse(&parsed.header.alg) else {
                return fail("unsupported alg");
            };
            let keys = match self.client_keys(client, parsed.header.kid.as_deref()).await {
                Ok(k) => k,
                Err(why) => {
                    tracing::warn!(client = %client.id, %why, "cannot read the client's keys");
                    return fail(if client.settings.jwks_uri.is_some() {
                        "the client's jwks_uri could not be fetched"
                    } else {
                        "the client has no registered keys"
                    });
                }
            };
            keys.keys
                .iter()
                .filter(|k| parsed.header.kid.is_none() || k.kid == parsed.header.kid)
                // `verify_with` refuses a key whose type does not fit `alg`.
                .any(|k| parsed.verify_with(k, alg))
        };
        if !verified {
            return fail("bad signature");
        }
        let claims: AssertionClaims = parsed.claims().ok_or_else(|| bad_client(false, "malformed claims"))?;
        let id = client.id.as_str();
        if claims.iss.as_deref() != Some(id) || claims.sub.as_deref() != Some(id) {
            return fail("iss and sub must both be the client_id");
        }
        let token_endpoint = rt.endpoint("/oauth2/token");
        let alias = self.mtls_alias(rt, "/oauth2/token");
        if !claims
            .aud
            .iter()
            .any(|a| *a == token_endpoint || *a == rt.issuer || Some(a) == alias.as_ref())
        {
            return fail("aud must be the token endpoint or the issuer");
        }
        let now = self.clock.now();
        let Some(exp) = claims.exp else {
            return fail("exp is required");
        };
        if exp + CLOCK_SKEW < now {
            return fail("expired");
        }
        if exp > now + MAX_ASSERTION_LIFETIME {
            return fail("exp is too far in the future");
        }
        if claims.nbf.is_some_and(|nbf| nbf > now + CLOCK_SKEW) {
            return fail("not yet valid");
        }
        let Some(jti) = claims.jti.filter(|j| !j.is_empty() && j.len() <= 256) else {
            return fail("jti is required");
        };
        let fresh = self
            .store
            .use_assertion_id(rt.tenant_id(), rt.id(), &format!("{id}:{jti}"), exp + CLOCK_SKEW)
            .await?;
        if !fresh {
            return fail("jti was already used");
        }
        Ok(())
    }
}
