//! The access token itself (RFC 9068): its claims, how one is minted and signed, and how a
//! presented one is verified (signature, issuer, time, cutoffs, revocation).

use std::sync::Arc;

use castellan_domain::Client;
use castellan_jose::{jwt, random_id};
use serde::{Deserialize, Serialize};

use crate::snapshot::ServerRuntime;
use crate::{Engine, OAuthError};

/// The claims of an access token (RFC 9068 §2.2) plus Castellan's `tid`/`aid`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AccessClaims {
    pub iss: String,
    pub sub: String,
    pub aud: Vec<String>,
    pub client_id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub scope: String,
    pub exp: i64,
    pub iat: i64,
    pub nbf: i64,
    pub jti: String,
    pub tid: String,
    pub aid: String,
    /// How the token was issued, for a token no person is involved in: `client_credentials`.
    /// Castellan sets it and trusts it only under its own signature, so a client's own token is
    /// told from a person's by how it was issued, never by comparing `sub` with `client_id` (a
    /// person's username may equal a client id; RFC 9068 §5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gty: Option<String>,
    /// Custom claims (Cloudentity ACP claims of type `access_token`).
    #[serde(flatten, default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub extra: serde_json::Map<String, serde_json::Value>,
    /// What a policy reads of the token, built on first use; the verified-token cache keeps it
    /// with the claims, so the gateway authorizer builds it once per token, not per request.
    #[serde(skip)]
    pub(crate) view: ViewCell,
}

/// A policy's view of an access token: the identity context (the claims as JSON), the client,
/// the scopes.
#[derive(Debug)]
pub(crate) struct PolicyView {
    pub context: serde_json::Value,
    pub client: serde_json::Value,
    pub scopes: Vec<String>,
}

/// A cache, not a claim: ignored by equality, empty in a clone.
#[derive(Default)]
pub(crate) struct ViewCell(std::sync::OnceLock<PolicyView>);

impl Clone for ViewCell {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl PartialEq for ViewCell {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for ViewCell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ViewCell")
    }
}

/// The `gty` of a client's own token.
pub const CLIENT_GRANT: &str = "client_credentials";

/// Whom an access token is about.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Subject<'a> {
    /// The client itself (`client_credentials`): `sub` is the client id.
    Client,
    /// A person.
    Person(&'a str),
}

impl AccessClaims {
    /// Whether this is a client's own token (issued with `client_credentials`), not a person's.
    pub fn is_client_own(&self) -> bool {
        self.gty.as_deref() == Some(CLIENT_GRANT)
    }

    /// The policy's view of these claims (built once).
    pub(crate) fn policy_view(&self) -> &PolicyView {
        self.view.0.get_or_init(|| PolicyView {
            // A struct of strings, numbers and a JSON map: serialising it cannot fail.
            context: serde_json::to_value(self).unwrap_or_default(),
            client: serde_json::json!({"client_id": self.client_id}),
            scopes: self.scope.split_whitespace().map(str::to_owned).collect(),
        })
    }
}

/// Claim names a custom claim may not overwrite (`act` and `cnf` are Castellan's to set:
/// RFC 8693 §4.1, RFC 7800).
pub(crate) const RESERVED: [&str; 17] = [
    "act",
    "cnf",
    "idp",
    "iss",
    "sub",
    "gty",
    "aud",
    "client_id",
    "scope",
    "exp",
    "iat",
    "nbf",
    "jti",
    "tid",
    "aid",
    "typ",
    "permissions",
];

/// `a.b.c` inside an authentication context.
pub(crate) fn lookup<'a>(
    ctx: &'a serde_json::Map<String, serde_json::Value>,
    path: &str,
) -> Option<&'a serde_json::Value> {
    let mut parts = path.split('.');
    let mut v = ctx.get(parts.next()?)?;
    for p in parts {
        v = v.get(p)?;
    }
    Some(v)
}

/// One signed access token and what must be remembered of it.
pub(crate) struct Minted {
    pub token: String,
    pub jti: String,
    pub exp: i64,
    pub ttl: u64,
}

/// The `aud` of an access token for `client`: its configured audience, else its own id.
pub(crate) fn audience(client: &Client) -> Vec<String> {
    if client.settings.audience.is_empty() {
        vec![client.id.to_string()]
    } else {
        client.settings.audience.clone()
    }
}

/// [`AccessClaims`] as minted: the same members in the same order, borrowed from the client, the
/// server and the request instead of copied (a token is signed once, then the claims are dropped).
#[derive(Serialize)]
struct Outgoing<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: Audience<'a>,
    client_id: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    scope: &'a str,
    exp: i64,
    iat: i64,
    nbf: i64,
    jti: &'a str,
    tid: &'a str,
    aid: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    gty: Option<&'a str>,
    #[serde(flatten, skip_serializing_if = "serde_json::Map::is_empty")]
    extra: &'a serde_json::Map<String, serde_json::Value>,
}

/// `aud`: the client's configured audience, else its own id (see [`audience`]).
#[derive(Serialize, Clone, Copy)]
#[serde(untagged)]
enum Audience<'a> {
    Own(&'a [&'a str; 1]),
    Set(&'a [String]),
}

/// How a token is being issued, beyond whom it is about: the grant, the person's authentication
/// context (for the client's dynamic attributes) and an audience other than the client's own.
#[derive(Clone, Copy)]
pub(crate) struct How<'a> {
    pub grant: &'a str,
    pub ctx: Option<&'a serde_json::Map<String, serde_json::Value>>,
    pub aud: Option<&'a [String]>,
    /// The key (or certificate) the token is bound to (`cnf`).
    pub bind: Option<&'a crate::dpop::Binding>,
}

impl<'a> How<'a> {
    pub(crate) fn grant(grant: &'a str) -> Self {
        Self {
            grant,
            ctx: None,
            aud: None,
            bind: None,
        }
    }
    pub(crate) fn person(grant: &'a str, ctx: &'a serde_json::Map<String, serde_json::Value>) -> Self {
        Self {
            grant,
            ctx: Some(ctx),
            aud: None,
            bind: None,
        }
    }
    /// Bound to what `bind` says (nothing when it says nothing).
    pub(crate) fn bound(self, bind: &'a crate::dpop::Binding) -> Self {
        Self {
            bind: Some(bind),
            ..self
        }
    }
}

impl Engine {
    pub(crate) fn mint(
        &self,
        rt: &ServerRuntime,
        client: &Client,
        subject: Subject<'_>,
        scope: &str,
        mut extra: serde_json::Map<String, serde_json::Value>,
        how: How<'_>,
    ) -> Result<Minted, OAuthError> {
        let (sub, gty) = match subject {
            Subject::Client => (client.id.as_str(), Some(CLIENT_GRANT)),
            Subject::Person(sub) => (sub, None),
        };
        if !client.settings.token_attributes.is_empty() {
            let empty = serde_json::Map::new();
            crate::attributes::add(
                &mut extra,
                &crate::attributes::Facts {
                    person: match subject {
                        Subject::Client => None,
                        Subject::Person(sub) => Some((sub, how.ctx.unwrap_or(&empty))),
                    },
                    client,
                    scope,
                    grant: how.grant,
                    server: rt.id().as_str(),
                    tenant: rt.tenant_id().as_str(),
                },
            );
        }
        if let Some(cnf) = how.bind.and_then(crate::dpop::Binding::cnf) {
            extra.insert("cnf".into(), cnf);
        }
        let signer = rt
            .signer
            .as_ref()
            .ok_or_else(|| OAuthError::server_error("the server has no usable signing key"))?;
        let now = self.clock.now();
        let ttl = rt.server.settings.access_token_ttl.as_secs();
        let own_id = [client.id.as_str()];
        let aud: &[String] = how.aud.unwrap_or(&client.settings.audience);
        let jti = random_id();
        let claims = Outgoing {
            iss: &rt.issuer,
            sub,
            aud: if aud.is_empty() {
                Audience::Own(&own_id)
            } else {
                Audience::Set(aud)
            },
            client_id: client.id.as_str(),
            scope,
            exp: now + ttl as i64,
            iat: now,
            nbf: now,
            jti: &jti,
            tid: rt.tenant_id().as_str(),
            aid: rt.id().as_str(),
            gty,
            extra: &extra,
        };
        let token = jwt::sign(&signer.key, &signer.at_header, &claims).map_err(OAuthError::server_error)?;
        let exp = claims.exp;
        Ok(Minted { token, jti, exp, ttl })
    }

    /// Verifies an access token issued by `rt` and presented as a bearer token: signature with
    /// one of its published keys, `typ`, issuer, tenant and server, time, and that it has not been
    /// revoked. A token bound to a key (`cnf`: DPoP) is no bearer token and is refused.
    pub async fn verify_access_token(
        &self,
        rt: &ServerRuntime,
        token: &str,
    ) -> Result<Option<AccessClaims>, OAuthError> {
        Ok(self
            .verify_access_claims(rt, token)
            .await?
            .filter(|c| !c.extra.contains_key("cnf"))
            .map(|c| AccessClaims::clone(&c)))
    }

    /// [`Engine::verify_access_token`] without copying the claims out of the verified-token cache.
    pub(crate) async fn verify_access_claims(
        &self,
        rt: &ServerRuntime,
        token: &str,
    ) -> Result<Option<Arc<AccessClaims>>, OAuthError> {
        let key = castellan_jose::sha256(token.as_bytes());
        let claims = match rt.verified.get(&key) {
            Some(c) => c,
            None => {
                let Some(c) = Self::verify_signed(rt, token) else {
                    return Ok(None);
                };
                let c = Arc::new(c);
                rt.verified.insert(key, c.clone());
                c
            }
        };
        let now = self.clock.now();
        if claims.exp <= now || claims.nbf > now + 30 {
            return Ok(None);
        }
        // The client must still exist, and a client or server deleted (perhaps re-created since
        // with the same id) does not revive the tokens issued before its deletion.
        let cid = claims.client_id.as_str();
        let cut = |t: Option<&i64>| t.is_some_and(|t| claims.iat <= *t);
        if cut(rt.server_cutoff.as_ref()) || cut(rt.client_cutoffs.get(cid)) || self.client(rt, cid).await?.is_none() {
            return Ok(None);
        }
        if rt
            .revoked
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&claims.jti)
        {
            return Ok(None);
        }
        Ok(Some(claims))
    }

    /// Signature (with one of the server's published keys), `typ`, issuer, tenant and server.
    fn verify_signed(rt: &ServerRuntime, token: &str) -> Option<AccessClaims> {
        let parsed = jwt::parse(token)?;
        if parsed.header.typ.as_deref() != Some("at+jwt") {
            return None;
        }
        let (jwk, alg) = parsed.header.kid.as_deref().and_then(|kid| rt.verification_key(kid))?;
        if !parsed.verify_with(jwk, alg) {
            return None;
        }
        let claims = parsed.claims::<AccessClaims>()?;
        (claims.iss == rt.issuer && claims.tid == rt.tenant_id().as_str() && claims.aid == rt.id().as_str())
            .then_some(claims)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A minted token's claims read back as the same [`AccessClaims`], member for member, for a
    /// client's own token and a person's, with and without a configured audience and extras.
    #[test]
    fn outgoing_claims_serialise_as_access_claims() {
        let mut extra = serde_json::Map::new();
        extra.insert("dept".into(), serde_json::json!("wonder"));
        let own = ["web"];
        let set = vec!["https://api.example".to_owned(), "orders".to_owned()];
        for (aud, gty, scope, extra) in [
            (Audience::Own(&own), Some(CLIENT_GRANT), "", serde_json::Map::new()),
            (Audience::Set(&set), None, "openid orders.read", extra),
        ] {
            let out = Outgoing {
                iss: "https://id.example/t/s",
                sub: "alice",
                aud,
                client_id: "web",
                scope,
                exp: 200,
                iat: 100,
                nbf: 100,
                jti: "j1",
                tid: "t",
                aid: "s",
                gty,
                extra: &extra,
            };
            let text = serde_json::to_string(&out).unwrap();
            let back: AccessClaims = serde_json::from_str(&text).unwrap();
            let expected = AccessClaims {
                iss: "https://id.example/t/s".into(),
                sub: "alice".into(),
                aud: match aud {
                    Audience::Own(a) => a.iter().map(|s| s.to_string()).collect(),
                    Audience::Set(a) => a.to_vec(),
                },
                client_id: "web".into(),
                scope: scope.into(),
                exp: 200,
                iat: 100,
                nbf: 100,
                jti: "j1".into(),
                tid: "t".into(),
                aid: "s".into(),
                gty: gty.map(str::to_owned),
                extra: extra.clone(),
                view: ViewCell::default(),
            };
            assert_eq!(back, expected);
            assert_eq!(
                text,
                serde_json::to_string(&expected).unwrap(),
                "same members, same order"
            );
        }
    }
}
