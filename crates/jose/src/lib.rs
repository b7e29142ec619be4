//! The only crate that touches cryptography: signing keys and JWKs, sealing secrets at rest with
//! the master key, keyed hashes of client secrets, and argon2id password hashes.
//!
//! Everything is built on aws-lc-rs (signing, AEAD, HMAC, HKDF, randomness) and the `argon2` crate.

pub mod jwt;
pub mod keys;
pub mod password;
pub mod seal;
pub mod secret;

pub use keys::{GeneratedKey, KeyError, LoadedKey};
pub use seal::{MasterKey, SealError};
pub use secret::{SecretHasher, generate_secret};

use base64::Engine;

/// A random identifier: 16 bytes (128 bits), base64url. For `jti`s and similar.
pub fn random_id() -> String {
    let mut bytes = [0u8; 16];
    if aws_lc_rs::rand::fill(&mut bytes).is_err() {
        std::process::abort();
    }
    b64url(&bytes)
}

/// `n` characters drawn uniformly from `alphabet` (at most 256 characters): short codes a
/// person types, such as the user codes of the device flow (RFC 8628 §6.1).
pub fn random_chars(alphabet: &[u8], n: usize) -> String {
    assert!(!alphabet.is_empty() && alphabet.len() <= 256);
    // Bytes at or above the largest multiple of the alphabet's size are drawn again, so every
    // character is equally likely.
    let limit = 256 - 256 % alphabet.len();
    let mut out = String::with_capacity(n);
    let mut buf = [0u8; 32];
    while out.len() < n {
        if aws_lc_rs::rand::fill(&mut buf).is_err() {
            std::process::abort();
        }
        for &b in buf.iter().filter(|&&b| (b as usize) < limit) {
            if out.len() == n {
                break;
            }
            out.push(alphabet[b as usize % alphabet.len()] as char);
        }
    }
    out
}

/// base64url without padding (RFC 7515 §2), the encoding of JWK members and JWS parts.
pub fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes base64url without padding.
pub fn b64url_decode(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s).ok()
}

/// SHA-256 of `data`: how codes, refresh tokens and session ids are stored (they are 256-bit
/// random values, so a fast hash suffices), and the hash of PKCE S256 (RFC 7636 §4.2) and of
/// `at_hash`/`c_hash` (OIDC Core §3.3.2.11) for the `*256` algorithms Castellan signs with.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// base64url of the SHA-256 of a token: its storage key.
pub fn token_hash(token: &str) -> String {
    b64url(&sha256(token.as_bytes()))
}

/// Constant-time equality of two byte strings (lengths are not secret).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && aws_lc_rs::constant_time::verify_slices_are_equal(a, b).is_ok()
}

/// 32 random bytes, base64url: authorization codes, refresh tokens, session ids, CSRF tokens.
pub fn random_token() -> String {
    secret::generate_secret()
}
