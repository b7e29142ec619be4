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

/// The longest secret a `file:` reference may name (bytes).
const MAX_REFERENCED: u64 = 64 * 1024;

/// A stored secret reference (a workspace client's issuer data): `env:NAME` and `file:/path`
/// are read now, `sealed:` + base64url is opened with the master key under `label`, anything else
/// is the value itself (a `client-id`). The error says why, never what.
pub fn resolve_reference(master: &MasterKey, label: &str, stored: &str) -> Result<String, String> {
    if let Some(name) = stored.strip_prefix("env:") {
        return match std::env::var(name) {
            Ok(v) if !v.trim().is_empty() => Ok(v.trim().to_owned()),
            _ => Err(format!("the environment variable {name} is not set")),
        };
    }
    if let Some(path) = stored.strip_prefix("file:") {
        let meta = std::fs::metadata(path).map_err(|_| format!("the file {path} cannot be read"))?;
        if !meta.is_file() || meta.len() > MAX_REFERENCED {
            return Err(format!("the file {path} is not a file of at most 64 KiB"));
        }
        let text = std::fs::read_to_string(path).map_err(|_| format!("the file {path} cannot be read"))?;
        let text = text.trim();
        if text.is_empty() {
            return Err(format!("the file {path} is empty"));
        }
        return Ok(text.to_owned());
    }
    if let Some(b64) = stored.strip_prefix("sealed:") {
        let bytes = castellan_jose::b64url_decode(b64).ok_or_else(|| "the sealed value is damaged".to_owned())?;
        return master
            .open_string(label, &bytes)
            .map_err(|_| "the sealed value cannot be opened with this master key".to_owned());
    }
    Ok(stored.to_owned())
}

/// Whether `value` is a reference resolved on use (`env:`, `file:`) rather than a value.
pub fn is_reference(value: &str) -> bool {
    value.starts_with("env:") || value.starts_with("file:")
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
