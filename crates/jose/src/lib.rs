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

/// base64url without padding (RFC 7515 §2), the encoding of JWK members and JWS parts.
pub fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes base64url without padding.
pub fn b64url_decode(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s).ok()
}
