//! Compact JWS (RFC 7515 §7.1) for JWTs: signing with a server key, and parsing and verifying
//! tokens and client assertions. Claims are (de)serialized by the caller's types.

use aws_lc_rs::hmac;
use castellan_domain::SigningAlg;
use castellan_types::Jwk;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::keys::{KeyError, LoadedKey, verify};
use crate::{b64url, b64url_decode};

/// Longest token or assertion accepted for parsing (input size limit).
pub const MAX_JWT_LEN: usize = 16 * 1024;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Header {
    pub alg: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typ: Option<String>,
    /// The public key a DPoP proof (RFC 9449 §4.2) is signed with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwk: Option<Jwk>,
}

/// The base64url-encoded protected header, computed once per key and reused for every token.
pub fn encode_header(alg: SigningAlg, kid: &str, typ: &str) -> String {
    let h = Header {
        alg: alg.as_str().into(),
        kid: Some(kid.into()),
        typ: Some(typ.into()),
        jwk: None,
    };
    b64url(serde_json::to_vec(&h).unwrap_or_default().as_slice())
}

/// `header.payload.signature` with `header_b64` from [`encode_header`].
pub fn sign<C: Serialize>(key: &LoadedKey, header_b64: &str, claims: &C) -> Result<String, KeyError> {
    let payload = serde_json::to_vec(claims).map_err(|_| KeyError::Sign)?;
    let mut out = String::with_capacity(header_b64.len() + payload.len() * 4 / 3 + 400);
    out.push_str(header_b64);
    out.push('.');
    out.push_str(&b64url(&payload));
    let sig = key.sign(out.as_bytes())?;
    out.push('.');
    out.push_str(&b64url(&sig));
    Ok(out)
}

/// A parsed, not yet verified JWS.
#[derive(Debug)]
pub struct Unverified<'a> {
    pub header: Header,
    signing_input: &'a str,
    payload: Vec<u8>,
    signature: Vec<u8>,
}

/// Splits and decodes a compact JWS; `None` for anything malformed or oversized.
pub fn parse(token: &str) -> Option<Unverified<'_>> {
    if token.len() > MAX_JWT_LEN {
        return None;
    }
    let mut parts = token.split('.');
    let (h, p, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let header: Header = serde_json::from_slice(&b64url_decode(h)?).ok()?;
    Some(Unverified {
        header,
        signing_input: &token[..h.len() + 1 + p.len()],
        payload: b64url_decode(p)?,
        signature: b64url_decode(s)?,
    })
}

impl Unverified<'_> {
    /// Verifies with a public key; the header's `alg` must be the one expected for the key
    /// (never trusted on its own: no `none`, no algorithm confusion).
    pub fn verify_with(&self, jwk: &Jwk, alg: SigningAlg) -> bool {
        self.header.alg == alg.as_str() && verify(jwk, alg, self.signing_input.as_bytes(), &self.signature)
    }

    /// Verifies an HS256 signature keyed with a client secret (RFC 7523 `client_secret_jwt`).
    pub fn verify_hs256(&self, secret: &str) -> bool {
        let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
        self.header.alg == "HS256" && hmac::verify(&key, self.signing_input.as_bytes(), &self.signature).is_ok()
    }

    /// The claims, decoded (call only after verifying).
    pub fn claims<C: DeserializeOwned>(&self) -> Option<C> {
        serde_json::from_slice(&self.payload).ok()
    }
}

/// Signs an HS256 JWS (used by tests and tools that act as a `client_secret_jwt` client).
pub fn sign_hs256<C: Serialize>(secret: &str, claims: &C) -> String {
    let header = b64url(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = b64url(&serde_json::to_vec(claims).unwrap_or_default());
    let input = format!("{header}.{payload}");
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let sig = hmac::sign(&key, input.as_bytes());
    format!("{input}.{}", b64url(sig.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::generate;

    #[test]
    fn signs_and_verifies_a_token() {
        let g = generate(SigningAlg::ES256).unwrap();
        let key = LoadedKey::from_pkcs8(SigningAlg::ES256, &g.pkcs8).unwrap();
        let token = sign(
            &key,
            &encode_header(SigningAlg::ES256, &g.kid, "at+jwt"),
            &serde_json::json!({"sub": "x"}),
        )
        .unwrap();
        let parsed = parse(&token).unwrap();
        assert_eq!(parsed.header.typ.as_deref(), Some("at+jwt"));
        assert!(parsed.verify_with(&g.public_jwk, SigningAlg::ES256));
        assert!(
            !parsed.verify_with(&g.public_jwk, SigningAlg::RS256),
            "alg must match the key"
        );
        let claims: serde_json::Value = parsed.claims().unwrap();
        assert_eq!(claims["sub"], "x");
        // Tampering with the payload breaks the signature.
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = b64url(br#"{"sub":"admin"}"#);
        parts[1] = &forged;
        assert!(
            !parse(&parts.join("."))
                .unwrap()
                .verify_with(&g.public_jwk, SigningAlg::ES256)
        );
    }

    #[test]
    fn hs256_assertions_verify_only_with_the_secret() {
        let t = sign_hs256("s3cret-s3cret-s3cret", &serde_json::json!({"iss": "c"}));
        let p = parse(&t).unwrap();
        assert!(p.verify_hs256("s3cret-s3cret-s3cret"));
        assert!(!p.verify_hs256("other"));
    }

    #[test]
    fn malformed_tokens_do_not_parse() {
        for bad in ["", "a.b", "a.b.c.d", "!!.e30.e30", &"a".repeat(MAX_JWT_LEN + 1)] {
            assert!(parse(bad).is_none(), "{bad}");
        }
        // Up to the limit (16 KiB, written out here so the test does not follow the constant) a
        // token parses: an assertion with a large claim is fine.
        assert_eq!(MAX_JWT_LEN, 16_384);
        let at_limit = sign_hs256(
            "s",
            &serde_json::json!({"pad": "x".repeat((MAX_JWT_LEN - 200) * 3 / 4)}),
        );
        assert!(
            at_limit.len() > MAX_JWT_LEN / 2 && at_limit.len() <= MAX_JWT_LEN,
            "{}",
            at_limit.len()
        );
        assert!(parse(&at_limit).is_some());
        let exactly = format!("{at_limit}{}", "A".repeat(MAX_JWT_LEN - at_limit.len()));
        assert_eq!(exactly.len(), MAX_JWT_LEN);
        assert!(parse(&exactly).is_some(), "exactly the limit");
        let none_alg = format!("{}.{}.", b64url(br#"{"alg":"none"}"#), b64url(b"{}"));
        let p = parse(&none_alg).unwrap();
        let g = generate(SigningAlg::ES256).unwrap();
        assert!(!p.verify_with(&g.public_jwk, SigningAlg::ES256));
    }
}
