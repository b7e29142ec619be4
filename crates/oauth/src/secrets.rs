//! Client secrets: how they are hashed and checked (DESIGN.md §4).
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
