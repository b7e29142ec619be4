//! Client secrets: how they are hashed and checked.
//!
//! A secret Castellan generated has 256 bits of entropy, so a keyed hash (HMAC-SHA256 under the
//! master key) is enough and verifies in microseconds. A secret a person chose may be guessable, so
//! it is hashed with argon2id; to keep the token endpoint fast, a successful check is remembered as
//! a keyed hash of the secret, so later checks of the same secret cost one HMAC.

use std::collections::HashMap;
use std::sync::Mutex;

use castellan_jose::{MasterKey, password};

const ARGON2_PREFIX: &[u8] = b"$argon2";
const CACHE_LIMIT: usize = 10_000;

/// Recently verified user-chosen secrets: stored argon2 hash → keyed hash of the secret that
/// matched it. Keyed by the stored hash, so a changed secret can never hit a stale entry.
#[derive(Default)]
pub struct VerifiedSecrets {
    entries: Mutex<HashMap<Vec<u8>, Vec<u8>>>,
}

/// Hashes a client secret for storage: a keyed hash when Castellan generated it, argon2id when a
/// person chose it.
pub async fn hash_secret(
    master: &MasterKey,
    secret: &str,
    generated: bool,
) -> Result<Vec<u8>, password::PasswordError> {
    if generated {
        return Ok(master.secret_hasher().hash(secret));
    }
    let secret = secret.to_owned();
    let phc = tokio::task::spawn_blocking(move || password::hash(&secret))
        .await
        .map_err(|_| password::PasswordError)??;
    Ok(phc.into_bytes())
}

impl VerifiedSecrets {
    /// Constant-time check of `secret` against a stored hash of either kind.
    pub async fn verify(&self, master: &MasterKey, secret: &str, stored: &[u8]) -> bool {
        let hasher = master.secret_hasher();
        if !stored.starts_with(ARGON2_PREFIX) {
            return hasher.verify(secret, stored);
        }
        let cached = self
            .entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(stored)
            .cloned();
        if let Some(h) = cached {
            return hasher.verify(secret, &h);
        }
        let Ok(phc) = std::str::from_utf8(stored).map(str::to_owned) else {
            return false;
        };
        let pw = secret.to_owned();
        let ok = tokio::task::spawn_blocking(move || password::verify(&pw, &phc))
            .await
            .unwrap_or(false);
        if ok {
            let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            if entries.len() >= CACHE_LIMIT {
                entries.clear();
            }
            entries.insert(stored.to_vec(), hasher.hash(secret));
        }
        ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cached(v: &VerifiedSecrets) -> usize {
        v.entries.lock().unwrap().len()
    }

    #[tokio::test]
    async fn chosen_secrets_use_argon2id_and_are_cached_only_after_a_match() {
        let master = MasterKey::from_secret("secrets test master key 0123456789abcdef").unwrap();
        let stored = hash_secret(&master, "a chosen secret", false).await.unwrap();
        assert!(stored.starts_with(b"$argon2id$"));
        let v = VerifiedSecrets::default();
        assert!(!v.verify(&master, "wrong", &stored).await);
        assert_eq!(cached(&v), 0, "a failed check caches nothing");
        assert!(v.verify(&master, "a chosen secret", &stored).await);
        assert_eq!(cached(&v), 1);
        // From the cache: the right secret passes, a wrong one still fails.
        assert!(v.verify(&master, "a chosen secret", &stored).await);
        assert!(!v.verify(&master, "a chosen secreT", &stored).await);
        // A changed secret has another stored hash, so the old entry cannot match it.
        let rotated = hash_secret(&master, "another secret", false).await.unwrap();
        assert!(!v.verify(&master, "a chosen secret", &rotated).await);
        // Each stored hash keeps its own entry (the cache is cleared only when full).
        assert!(v.verify(&master, "another secret", &rotated).await);
        assert_eq!(cached(&v), 2);
    }

    #[tokio::test]
    async fn generated_secrets_use_a_keyed_hash_without_caching() {
        let master = MasterKey::from_secret("secrets test master key 0123456789abcdef").unwrap();
        let stored = hash_secret(&master, "generated", true).await.unwrap();
        assert_eq!(stored.len(), 32, "HMAC-SHA256");
        let v = VerifiedSecrets::default();
        assert!(v.verify(&master, "generated", &stored).await);
        assert!(!v.verify(&master, "generateD", &stored).await);
        assert_eq!(cached(&v), 0);
    }
}
