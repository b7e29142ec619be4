//! Client secrets: generation and keyed hashing for verification.

use aws_lc_rs::{hmac, rand};

use crate::b64url;

/// A fresh high-entropy secret: 32 random bytes, base64url (43 characters).
pub fn generate_secret() -> String {
    let mut bytes = [0u8; 32];
    // aws-lc's DRBG only fails if the OS entropy source is gone; nothing sensible can continue then.
    if rand::fill(&mut bytes).is_err() {
        std::process::abort();
    }
    b64url(&bytes)
}

/// HMAC-SHA256 under a key derived from the master key. High-entropy secrets need no slow hash:
/// the keyed hash makes a stolen database useless without the master key, and it verifies in
/// microseconds.
#[derive(Clone)]
pub struct SecretHasher {
    key: hmac::Key,
}

impl std::fmt::Debug for SecretHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretHasher(..)")
    }
}

impl SecretHasher {
    pub(crate) fn new(key_bytes: &[u8; 32]) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, key_bytes),
        }
    }

    pub fn hash(&self, secret: &str) -> Vec<u8> {
        hmac::sign(&self.key, secret.as_bytes()).as_ref().to_vec()
    }

    /// Constant-time check of `secret` against a stored hash.
    pub fn verify(&self, secret: &str, stored: &[u8]) -> bool {
        hmac::verify(&self.key, secret.as_bytes(), stored).is_ok()
    }

    /// Spends the same work as [`verify`](Self::verify) when there is nothing to compare against,
    /// so an unknown client id cannot be told apart by timing.
    pub fn verify_dummy(&self, secret: &str) {
        let _ = hmac::verify(&self.key, secret.as_bytes(), &[0u8; 32]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MasterKey;

    #[test]
    fn generated_secrets_are_long_and_distinct() {
        let a = generate_secret();
        let b = generate_secret();
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
    }

    #[test]
    fn keyed_hash_verifies_only_the_right_secret_under_the_right_key() {
        let k1 = MasterKey::from_secret("a master key of at least 32 characters!!").unwrap();
        let k2 = MasterKey::from_secret("another master key, also 32 characters").unwrap();
        let stored = k1.secret_hasher().hash("s3cret");
        assert!(k1.secret_hasher().verify("s3cret", &stored));
        assert!(!k1.secret_hasher().verify("s3cret!", &stored));
        assert!(!k2.secret_hasher().verify("s3cret", &stored));
    }
}
