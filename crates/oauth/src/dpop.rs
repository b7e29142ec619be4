//! DPoP (RFC 9449): a client proves, with each request, that it holds the private key its tokens
//! are bound to. At the token endpoint a proof binds the access token (`cnf.jkt`, `token_type:
//! DPoP`) and, for a public client, the refresh token; at a resource (userinfo, the gateway
//! authorizer) a bound token must come with a proof by the same key that names the request and
//! the token (`ath`).
//!
//! A proof is checked as §4.3 says: one JWT, `typ: dpop+jwt`, an asymmetric algorithm, the
//! public key in the header (never a private one), a valid signature, `htm` and `htu` naming this
//! request, `iat` within the window, `jti` used once (remembered in the store for the window, so
//! every node refuses a replay; a store only this process uses keeps them in memory, which spares
//! a write per request), and — where the server requires it — a nonce this server issued.
//! Nonces are stateless: a keyed hash of the server and the five-minute window, so any node
//! accepts those of the current and the previous window.

use castellan_domain::SigningAlg;
use castellan_jose::{b64url, jwt, keys::thumbprint, sha256};
use serde::Deserialize;

use crate::snapshot::ServerRuntime;
use crate::{Engine, ErrorCode, OAuthError};

/// Algorithms a proof may be signed with (`dpop_signing_alg_values_supported`).
pub const DPOP_ALGS: [&str; 3] = ["ES256", "PS256", "RS256"];
/// How old a proof may be (seconds), and how far ahead of this server's clock.
const MAX_AGE: i64 = 300;
const MAX_AHEAD: i64 = 60;
/// A server nonce is good for this window and the next (seconds).
const NONCE_WINDOW: i64 = 300;
/// Proof ids remembered in memory at most (8 bytes each, in sets by the minute they expire: about
/// 40 MB when full, which a node reaches only past ~11,000 proofs a second sustained); past it,
/// the store remembers the next ones.
const MAX_REMEMBERED: usize = 4_000_000;

/// The `jti`s of the proofs this node accepted, until each could no longer be accepted: 64 bits of
/// a hash of each, in one set per minute of expiry, so that whole minutes are dropped once past.
pub(crate) struct ReplayCache {
    seen: std::sync::Mutex<Minutes>,
    capacity: usize,
}

#[derive(Default)]
struct Minutes {
    /// By the minute (Unix time / 60) in which the ids expire.
    sets: std::collections::BTreeMap<i64, std::collections::HashSet<u64>>,
    len: usize,
}

impl Default for ReplayCache {
    fn default() -> Self {
        Self {
            seen: Default::default(),
            capacity: MAX_REMEMBERED,
        }
    }
}

impl ReplayCache {
    /// `Some(true)` the first time `key` is seen, `Some(false)` for a replay, `None` when full.
    fn first_use(&self, key: [u8; 32], expires_at: i64, now: i64) -> Option<bool> {
        let id = u64::from_le_bytes([key[0], key[1], key[2], key[3], key[4], key[5], key[6], key[7]]);
        let mut m = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        // Minutes that ended are forgotten (every id in them has expired).
        while let Some((&minute, _)) = m.sets.first_key_value() {
            if (minute + 1) * 60 > now {
                break;
            }
            if let Some(gone) = m.sets.remove(&minute) {
                m.len -= gone.len();
            }
        }
        if m.sets.values().any(|s| s.contains(&id)) {
            return Some(false);
        }
        if m.len >= self.capacity {
            return None;
        }
        m.sets.entry(expires_at.div_euclid(60)).or_default().insert(id);
        m.len += 1;
        Some(true)
    }
}

#[derive(Deserialize)]
struct ProofClaims {
    jti: String,
    htm: String,
    htu: String,
    iat: i64,
    #[serde(default)]
    ath: Option<String>,
    #[serde(default)]
    nonce: Option<String>,
}

/// What a token is bound to: the confirmation members of its `cnf` (RFC 7800).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Binding {
    /// The JWK thumbprint of a DPoP key (RFC 9449 §6.1).
    pub jkt: Option<String>,
    /// The SHA-256 thumbprint of a TLS client certificate (RFC 8705 §3.1).
    pub x5t: Option<String>,
}

impl Binding {
    /// The `cnf` claim, when bound.
    pub(crate) fn cnf(&self) -> Option<serde_json::Value> {
        let mut cnf = serde_json::Map::new();
        if let Some(j) = &self.jkt {
            cnf.insert("jkt".into(), j.clone().into());
        }
        if let Some(x) = &self.x5t {
            cnf.insert("x5t#S256".into(), x.clone().into());
        }
        (!cnf.is_empty()).then_some(serde_json::Value::Object(cnf))
    }

    /// `DPoP` for a DPoP-bound token (RFC 9449 §5), `Bearer` otherwise.
    pub(crate) fn token_type(&self) -> &'static str {
        if self.jkt.is_some() { "DPoP" } else { "Bearer" }
    }
}

/// What a DPoP proof must name of the request it comes with.
#[derive(Debug, Clone, Copy)]
pub struct DpopRequest<'a> {
    /// The request's method and its URL without query or fragment.
    pub method: &'a str,
    pub url: &'a str,
    /// The same endpoint at the mutual-TLS alias host, which the request may have gone to.
    pub alias: Option<&'a str>,
}

fn invalid(why: &str) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidDpopProof, format!("the DPoP proof is invalid: {why}"))
}

impl Engine {
    fn nonce_for(&self, rt: &ServerRuntime, window: i64) -> String {
        b64url(
            &self
                .master
                .secret_hasher()
                .hash(&format!("dpop-nonce/{}/{}/{window}", rt.tenant_id(), rt.id())),
        )
    }

    /// A nonce of the current window, for `DPoP-Nonce` (RFC 9449 §8).
    pub fn dpop_nonce(&self, rt: &ServerRuntime) -> String {
        self.nonce_for(rt, self.clock.now().div_euclid(NONCE_WINDOW))
    }

    fn nonce_ok(&self, rt: &ServerRuntime, nonce: &str) -> bool {
        let window = self.clock.now().div_euclid(NONCE_WINDOW);
        [window, window - 1]
            .iter()
            .any(|w| castellan_jose::constant_time_eq(self.nonce_for(rt, *w).as_bytes(), nonce.as_bytes()))
    }

    /// Checks a DPoP proof (RFC 9449 §4.3) for `req`; with `access_token`, also that it names
    /// that token (`ath`, §7.1). Returns the thumbprint of the proof's key. `invalid_dpop_proof`,
    /// or `use_dpop_nonce` with a fresh nonce where the server requires one.
    pub async fn check_dpop(
        &self,
        rt: &ServerRuntime,
        req: &DpopRequest<'_>,
        proof: &str,
        access_token: Option<&str>,
    ) -> Result<String, OAuthError> {
        let parsed = jwt::parse(proof).ok_or_else(|| invalid("not a signed JWT"))?;
        if parsed.header.typ.as_deref() != Some("dpop+jwt") {
            return Err(invalid("typ must be dpop+jwt"));
        }
        let alg = DPOP_ALGS
            .iter()
            .find(|a| **a == parsed.header.alg)
            .and_then(|a| SigningAlg::parse(a))
            .ok_or_else(|| invalid(&format!("alg must be one of {}", DPOP_ALGS.join(", "))))?;
        let jwk = parsed
            .header
            .jwk
            .as_ref()
            .ok_or_else(|| invalid("no jwk in the header"))?;
        let private = [&jwk.d, &jwk.p, &jwk.q, &jwk.dp, &jwk.dq, &jwk.qi];
        if private.iter().any(|m| m.is_some()) {
            return Err(invalid("the jwk holds a private key"));
        }
        if jwk.kty == "EC" && jwk.crv.as_deref() != Some("P-256") {
            return Err(invalid("an EC key must be on P-256"));
        }
        if !parsed.verify_with(jwk, alg) {
            return Err(invalid("the signature does not verify with the header's jwk"));
        }
        let claims: ProofClaims = parsed
            .claims()
            .ok_or_else(|| invalid("jti, htm, htu and iat are required"))?;
        if claims.jti.is_empty() || claims.jti.len() > 256 {
            return Err(invalid("jti must have 1 to 256 characters"));
        }
        if claims.htm != req.method {
            return Err(invalid(&format!("htm must be {}", req.method)));
        }
        let htu = claims.htu.split(['?', '#']).next().unwrap_or_default();
        if htu != req.url && Some(htu) != req.alias {
            return Err(invalid(&format!("htu must be {}", req.url)));
        }
        let now = self.clock.now();
        if claims.iat < now - MAX_AGE || claims.iat > now + MAX_AHEAD {
            return Err(invalid("iat is not within five minutes of now"));
        }
        if rt.server.settings.require_dpop_nonce && !claims.nonce.as_deref().is_some_and(|n| self.nonce_ok(rt, n)) {
            let mut e = OAuthError::new(
                ErrorCode::UseDpopNonce,
                "the DPoP proof must carry the server's nonce (DPoP-Nonce)",
            );
            e.dpop_nonce = Some(self.dpop_nonce(rt));
            return Err(e);
        }
        if let Some(token) = access_token {
            let ath = b64url(&sha256(token.as_bytes()));
            if !claims
                .ath
                .as_deref()
                .is_some_and(|a| castellan_jose::constant_time_eq(a.as_bytes(), ath.as_bytes()))
            {
                return Err(invalid("ath must be the hash of the access token"));
            }
        }
        let jkt = thumbprint(jwk);
        // Each proof once: its jti is remembered until it could no longer be accepted — in
        // memory, and in the store too when other nodes share it (or memory is full).
        let key = sha256(format!("dpop {} {} {jkt} {}", rt.tenant_id(), rt.id(), claims.jti).as_bytes());
        let expires_at = claims.iat + MAX_AGE + MAX_AHEAD;
        let first = match self.dpop_seen.first_use(key, expires_at, now) {
            Some(false) => false,
            Some(true) if !self.store.shared() => true,
            _ => {
                self.store
                    .use_assertion_id(rt.tenant_id(), rt.id(), &b64url(&key), expires_at)
                    .await?
            }
        };
        if !first {
            return Err(invalid("this proof was used already (jti)"));
        }
        Ok(jkt)
    }

    /// What a token request's tokens are bound to: the key of its DPoP proof, if it has one
    /// (a client registered with `dpop_bound_access_tokens` must send one), and the TLS client
    /// certificate of a client registered with `tls_client_certificate_bound_access_tokens`
    /// (RFC 8705 §3), which must present one.
    pub(crate) async fn token_binding(
        &self,
        rt: &ServerRuntime,
        client: &castellan_domain::Client,
        dpop: Option<&str>,
        certificate: Option<&crate::mtls::ClientCertificate>,
    ) -> Result<Binding, OAuthError> {
        let x5t = if client.settings.tls_client_certificate_bound_access_tokens {
            let Some(cert) = certificate else {
                return Err(OAuthError::invalid_request(
                    "this client's tokens are bound to its TLS client certificate (RFC 8705 §3): present one",
                ));
            };
            Some(cert.thumbprint().to_owned())
        } else {
            None
        };
        let Some(proof) = dpop else {
            if client.settings.dpop_bound_access_tokens {
                return Err(OAuthError::new(
                    ErrorCode::InvalidDpopProof,
                    "this client must send a DPoP proof with its token requests",
                ));
            }
            return Ok(Binding { jkt: None, x5t });
        };
        let url = rt.endpoint("/oauth2/token");
        let alias = self.mtls_alias(rt, "/oauth2/token");
        let req = DpopRequest {
            method: "POST",
            url: &url,
            alias: alias.as_deref(),
        };
        let jkt = self.check_dpop(rt, &req, proof, None).await?;
        Ok(Binding { jkt: Some(jkt), x5t })
    }
}

/// How a request to a resource (userinfo, an API behind a gateway) presented its access token.
#[derive(Debug, Clone, Copy)]
pub struct Presentation<'a> {
    /// `Authorization: DPoP …` rather than `Bearer …`.
    pub dpop_scheme: bool,
    /// The request's `DPoP` header.
    pub proof: Option<&'a str>,
    /// What the proof must name.
    pub request: DpopRequest<'a>,
    /// The TLS client certificate of the connection (or forwarded by a trusted proxy or an
    /// authenticated gateway), for certificate-bound tokens (RFC 8705 §3).
    pub certificate: Option<&'a crate::mtls::ClientCertificate>,
}

/// The DPoP key a token is bound to (`cnf.jkt`).
pub(crate) fn bound_jkt(claims: &crate::access_token::AccessClaims) -> Option<&str> {
    claims.extra.get("cnf")?.get("jkt")?.as_str()
}

/// The certificate a token is bound to (`cnf.x5t#S256`).
pub(crate) fn bound_x5t(claims: &crate::access_token::AccessClaims) -> Option<&str> {
    claims.extra.get("cnf")?.get("x5t#S256")?.as_str()
}

impl Engine {
    /// Whether a verified access token may be used as it was presented (RFC 9449 §7): a
    /// DPoP-bound token only with the `DPoP` scheme and a proof by its key that names this request
    /// and the token; any other only as a bearer token. A certificate-bound token only from a
    /// caller presenting that certificate (RFC 8705 §3). `invalid_token`, `invalid_dpop_proof`
    /// or `use_dpop_nonce`.
    pub(crate) async fn check_presentation(
        &self,
        rt: &ServerRuntime,
        claims: &crate::access_token::AccessClaims,
        token: &str,
        how: &Presentation<'_>,
    ) -> Result<(), OAuthError> {
        if let Some(x5t) = bound_x5t(claims)
            && how.certificate.map(|c| c.thumbprint()) != Some(x5t)
        {
            return Err(OAuthError::new(
                ErrorCode::InvalidToken,
                "the access token is bound to a TLS client certificate: present it with that certificate",
            ));
        }
        match (bound_jkt(claims), how.dpop_scheme) {
            (None, false) => Ok(()),
            (None, true) => Err(OAuthError::new(
                ErrorCode::InvalidToken,
                "the access token is not DPoP-bound: present it as a Bearer token",
            )),
            (Some(_), false) => Err(OAuthError::new(
                ErrorCode::InvalidToken,
                "the access token is DPoP-bound: present it with the DPoP scheme and a proof",
            )),
            (Some(jkt), true) => {
                let proof = how
                    .proof
                    .ok_or_else(|| OAuthError::new(ErrorCode::InvalidDpopProof, "a DPoP proof is required"))?;
                let presented = self.check_dpop(rt, &how.request, proof, Some(token)).await?;
                if presented != jkt {
                    return Err(OAuthError::new(
                        ErrorCode::InvalidDpopProof,
                        "the DPoP proof is signed with another key than the token is bound to",
                    ));
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proof_ids_are_accepted_once_until_they_expire_and_memory_is_bounded() {
        let cache = ReplayCache {
            seen: Default::default(),
            capacity: 2,
        };
        let (a, b, c) = ([1u8; 32], [2u8; 32], [3u8; 32]);
        assert_eq!(cache.first_use(a, 170, 10), Some(true));
        assert_eq!(cache.first_use(a, 170, 20), Some(false), "a replay");
        assert_eq!(cache.first_use(b, 50, 20), Some(true));
        // Full: nothing has expired, so the store must remember the next one.
        assert_eq!(cache.first_use(c, 170, 30), None);
        // Once b's minute has ended it makes room.
        assert_eq!(cache.first_use(c, 170, 60), Some(true));
        assert_eq!(cache.first_use(a, 170, 60), Some(false), "a is still remembered");
        // An expired id is not a replay (its proof is refused for its iat anyway).
        assert_eq!(cache.first_use(a, 300, 180), Some(true));
    }
}
