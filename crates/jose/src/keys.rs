//! Server signing keys: generation (Cloudentity ACP `key_type`), import from private JWKs, public JWKs
//! with RFC 7638 thumbprint `kid`s, and JWS signatures (RFC 7515 / RFC 7518 §3).

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{
    self, ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair, RsaKeyPair,
    UnparsedPublicKey,
};
use aws_lc_rs::{digest, rand};
use castellan_domain::SigningAlg;
use castellan_types::Jwk;
use zeroize::Zeroizing;

use crate::{b64url, b64url_decode};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("key generation failed")]
    Generate,
    #[error("unsupported key: {0}")]
    Unsupported(String),
    #[error("invalid key: {0}")]
    Invalid(String),
    #[error("signing failed")]
    Sign,
}

/// A new or imported key, ready to be sealed and stored.
pub struct GeneratedKey {
    pub kid: String,
    pub alg: SigningAlg,
    pub public_jwk: Jwk,
    /// PKCS#8 v1 DER of the private key.
    pub pkcs8: Zeroizing<Vec<u8>>,
}

/// Generates a key for `alg`: RSA 2048 for RS256/PS256, P-256 for ES256.
pub fn generate(alg: SigningAlg) -> Result<GeneratedKey, KeyError> {
    let pkcs8 = match alg {
        SigningAlg::RS256 | SigningAlg::PS256 => {
            let kp = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| KeyError::Generate)?;
            let der = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&kp).map_err(|_| KeyError::Generate)?;
            Zeroizing::new(der.as_ref().to_vec())
        }
        SigningAlg::ES256 => {
            let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rand::SystemRandom::new())
                .map_err(|_| KeyError::Generate)?;
            Zeroizing::new(doc.as_ref().to_vec())
        }
    };
    let loaded = LoadedKey::from_pkcs8(alg, &pkcs8)?;
    let public_jwk = loaded.public_jwk();
    Ok(GeneratedKey {
        kid: public_jwk.kid.clone().unwrap_or_default(),
        alg,
        public_jwk,
        pkcs8,
    })
}

/// Imports a private JWK (RSA with all CRT members, or EC P-256). `alg` comes from the JWK, else
/// from `default_alg` when the key family matches it.
pub fn import_private_jwk(jwk: &Jwk, default_alg: SigningAlg) -> Result<GeneratedKey, KeyError> {
    let member = |name: &str, v: &Option<String>| -> Result<Vec<u8>, KeyError> {
        let s = v
            .as_deref()
            .ok_or_else(|| KeyError::Invalid(format!("missing member \"{name}\"")))?;
        b64url_decode(s).ok_or_else(|| KeyError::Invalid(format!("member \"{name}\" is not base64url")))
    };
    let alg = match jwk.alg.as_deref() {
        Some(a) => SigningAlg::parse(a).ok_or_else(|| KeyError::Unsupported(format!("alg {a}")))?,
        None => match (jwk.kty.as_str(), default_alg) {
            ("RSA", SigningAlg::ES256) => SigningAlg::RS256,
            ("EC", _) => SigningAlg::ES256,
            _ => default_alg,
        },
    };
    let pkcs8 = match (jwk.kty.as_str(), alg) {
        ("RSA", SigningAlg::RS256 | SigningAlg::PS256) => {
            let parts = [
                member("n", &jwk.n)?,
                member("e", &jwk.e)?,
                member("d", &jwk.d)?,
                member("p", &jwk.p)?,
                member("q", &jwk.q)?,
                member("dp", &jwk.dp)?,
                member("dq", &jwk.dq)?,
                member("qi", &jwk.qi)?,
            ];
            let der = Zeroizing::new(rsa_private_key_der(&parts));
            let kp = RsaKeyPair::from_der(&der).map_err(|e| KeyError::Invalid(e.to_string()))?;
            if kp.public_modulus_len() < 256 {
                return Err(KeyError::Unsupported("RSA keys shorter than 2048 bits".into()));
            }
            let pk = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&kp).map_err(|_| KeyError::Generate)?;
            Zeroizing::new(pk.as_ref().to_vec())
        }
        ("EC", SigningAlg::ES256) => {
            if jwk.crv.as_deref() != Some("P-256") {
                return Err(KeyError::Unsupported("EC curves other than P-256".into()));
            }
            let d = Zeroizing::new(member("d", &jwk.d)?);
            let mut point = vec![4u8];
            point.extend(member("x", &jwk.x)?);
            point.extend(member("y", &jwk.y)?);
            let kp = EcdsaKeyPair::from_private_key_and_public_key(&ECDSA_P256_SHA256_FIXED_SIGNING, &d, &point)
                .map_err(|e| KeyError::Invalid(e.to_string()))?;
            let doc = kp.to_pkcs8v1().map_err(|_| KeyError::Generate)?;
            Zeroizing::new(doc.as_ref().to_vec())
        }
        (kty, alg) => {
            return Err(KeyError::Unsupported(format!("kty {kty} with alg {}", alg.as_str())));
        }
    };
    let loaded = LoadedKey::from_pkcs8(alg, &pkcs8)?;
    let mut public_jwk = loaded.public_jwk();
    if let Some(kid) = &jwk.kid {
        public_jwk.kid = Some(kid.clone());
    }
    Ok(GeneratedKey {
        kid: public_jwk.kid.clone().unwrap_or_default(),
        alg,
        public_jwk,
        pkcs8,
    })
}

/// A private key parsed and ready to sign.
pub enum LoadedKey {
    Rsa { alg: SigningAlg, kp: RsaKeyPair },
    Ec { kp: EcdsaKeyPair },
}

impl LoadedKey {
    pub fn from_pkcs8(alg: SigningAlg, pkcs8: &[u8]) -> Result<Self, KeyError> {
        match alg {
            SigningAlg::RS256 | SigningAlg::PS256 => RsaKeyPair::from_pkcs8(pkcs8)
                .map(|kp| Self::Rsa { alg, kp })
                .map_err(|e| KeyError::Invalid(e.to_string())),
            SigningAlg::ES256 => EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8)
                .map(|kp| Self::Ec { kp })
                .map_err(|e| KeyError::Invalid(e.to_string())),
        }
    }

    pub fn alg(&self) -> SigningAlg {
        match self {
            Self::Rsa { alg, .. } => *alg,
            Self::Ec { .. } => SigningAlg::ES256,
        }
    }

    /// The public JWK, with `kid` the RFC 7638 SHA-256 thumbprint, `use: sig` and `alg`.
    pub fn public_jwk(&self) -> Jwk {
        let mut jwk = match self {
            Self::Rsa { kp, .. } => {
                let pk = kp.public_key();
                Jwk {
                    kty: "RSA".into(),
                    n: Some(b64url(pk.modulus().big_endian_without_leading_zero())),
                    e: Some(b64url(pk.exponent().big_endian_without_leading_zero())),
                    ..Jwk::default()
                }
            }
            Self::Ec { kp } => {
                let point = kp.public_key().as_ref();
                let (x, y) = point[1..].split_at(32);
                Jwk {
                    kty: "EC".into(),
                    crv: Some("P-256".into()),
                    x: Some(b64url(x)),
                    y: Some(b64url(y)),
                    ..Jwk::default()
                }
            }
        };
        jwk.kid = Some(thumbprint(&jwk));
        jwk.use_ = Some("sig".into());
        jwk.alg = Some(self.alg().as_str().into());
        jwk
    }

    /// The JWS signature of `message` (ECDSA in the fixed `r||s` form RFC 7518 §3.4 requires).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        let rng = rand::SystemRandom::new();
        match self {
            Self::Rsa { alg, kp } => {
                let padding: &'static dyn signature::RsaEncoding = match alg {
                    SigningAlg::PS256 => &signature::RSA_PSS_SHA256,
                    _ => &signature::RSA_PKCS1_SHA256,
                };
                let mut sig = vec![0u8; kp.public_modulus_len()];
                kp.sign(padding, &rng, message, &mut sig).map_err(|_| KeyError::Sign)?;
                Ok(sig)
            }
            Self::Ec { kp } => kp
                .sign(&rng, message)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| KeyError::Sign),
        }
    }
}

/// Verifies a JWS signature against a public JWK.
pub fn verify(jwk: &Jwk, alg: SigningAlg, message: &[u8], sig: &[u8]) -> bool {
    let dec = |v: &Option<String>| v.as_deref().and_then(b64url_decode);
    match (jwk.kty.as_str(), alg) {
        ("RSA", SigningAlg::RS256 | SigningAlg::PS256) => {
            let (Some(n), Some(e)) = (dec(&jwk.n), dec(&jwk.e)) else {
                return false;
            };
            let params: &'static signature::RsaParameters = match alg {
                SigningAlg::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
                _ => &signature::RSA_PKCS1_2048_8192_SHA256,
            };
            PublicKeyComponents {
                n: n.as_slice(),
                e: e.as_slice(),
            }
            .verify(params, message, sig)
            .is_ok()
        }
        ("EC", SigningAlg::ES256) => {
            let (Some(x), Some(y)) = (dec(&jwk.x), dec(&jwk.y)) else {
                return false;
            };
            let mut point = vec![4u8];
            point.extend(x);
            point.extend(y);
            UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
                .verify(message, sig)
                .is_ok()
        }
        _ => false,
    }
}

/// RFC 7638 JWK thumbprint (SHA-256) over the required members in lexicographic order.
pub fn thumbprint(jwk: &Jwk) -> String {
    let s = |v: &Option<String>| v.clone().unwrap_or_default();
    let canonical = match jwk.kty.as_str() {
        "RSA" => format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, s(&jwk.e), s(&jwk.n)),
        "EC" => format!(
            r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
            s(&jwk.crv),
            s(&jwk.x),
            s(&jwk.y)
        ),
        other => format!(r#"{{"kty":"{other}"}}"#),
    };
    b64url(digest::digest(&digest::SHA256, canonical.as_bytes()).as_ref())
}

/// DER of a PKCS#1 `RSAPrivateKey` (RFC 8017 A.1.2): a SEQUENCE of version 0 and eight INTEGERs.
fn rsa_private_key_der(parts: &[Vec<u8>; 8]) -> Vec<u8> {
    fn len(out: &mut Vec<u8>, n: usize) {
        if n < 0x80 {
            out.push(n as u8);
        } else {
            let bytes: Vec<u8> = n.to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
            out.push(0x80 | bytes.len() as u8);
            out.extend(bytes);
        }
    }
    fn integer(out: &mut Vec<u8>, v: &[u8]) {
        let v: &[u8] = match v.iter().position(|b| *b != 0) {
            Some(i) => &v[i..],
            None => &[0],
        };
        let pad = v[0] & 0x80 != 0;
        out.push(0x02);
        len(out, v.len() + usize::from(pad));
        if pad {
            out.push(0);
        }
        out.extend_from_slice(v);
    }
    let mut body = Vec::new();
    integer(&mut body, &[0]);
    for p in parts {
        integer(&mut body, p);
    }
    let mut out = vec![0x30];
    len(&mut out, body.len());
    out.extend(body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(alg: SigningAlg) {
        let key = generate(alg).unwrap();
        assert_eq!(key.public_jwk.alg.as_deref(), Some(alg.as_str()));
        assert_eq!(key.public_jwk.use_.as_deref(), Some("sig"));
        assert!(key.public_jwk.d.is_none(), "public JWK must not carry private parts");
        assert_eq!(key.kid, thumbprint(&key.public_jwk));
        let loaded = LoadedKey::from_pkcs8(alg, &key.pkcs8).unwrap();
        let sig = loaded.sign(b"header.payload").unwrap();
        assert!(verify(&key.public_jwk, alg, b"header.payload", &sig));
        assert!(!verify(&key.public_jwk, alg, b"header.payload2", &sig));
    }

    #[test]
    fn rs256_keys_sign_and_verify() {
        round_trip(SigningAlg::RS256);
    }

    #[test]
    fn ps256_keys_sign_and_verify() {
        round_trip(SigningAlg::PS256);
    }

    #[test]
    fn es256_keys_sign_and_verify() {
        let key = generate(SigningAlg::ES256).unwrap();
        assert_eq!(key.public_jwk.crv.as_deref(), Some("P-256"));
        round_trip(SigningAlg::ES256);
    }

    #[test]
    fn rfc7638_thumbprint_example() {
        // The example key of RFC 7638 §3.1 and its published thumbprint.
        let jwk = Jwk {
            kty: "RSA".into(),
            e: Some("AQAB".into()),
            n: Some("0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw".into()),
            ..Jwk::default()
        };
        assert_eq!(thumbprint(&jwk), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    }
}
