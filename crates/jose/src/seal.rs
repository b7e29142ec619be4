//! Encryption at rest: private signing keys and showable secrets are sealed with
//! AES-256-GCM under a key derived from the master key.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::{hkdf, rand};
use zeroize::Zeroizing;

use crate::SecretHasher;
use crate::b64url;

const VERSION: u8 = 1;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("the master key must be at least 32 characters")]
    MasterKeyTooShort,
    #[error("sealed data is corrupt or was sealed with another master key")]
    Open,
    #[error("encryption failed")]
    Seal,
}

/// The root of every at-rest secret. Two derived keys: one seals, one hashes client secrets.
pub struct MasterKey {
    aead: LessSafeKey,
    hasher: SecretHasher,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

struct Len32;
impl hkdf::KeyType for Len32 {
    fn len(&self) -> usize {
        32
    }
}

fn derive(prk: &hkdf::Prk, label: &[u8]) -> Result<Zeroizing<[u8; 32]>, SealError> {
    let mut out = Zeroizing::new([0u8; 32]);
    let info = [label];
    prk.expand(&info, Len32)
        .and_then(|okm| okm.fill(out.as_mut()))
        .map_err(|_| SealError::Seal)?;
    Ok(out)
}

impl MasterKey {
    /// Derives the working keys from a master secret (`CASTELLAN_MASTER_KEY` or the key file).
    pub fn from_secret(secret: &str) -> Result<Self, SealError> {
        if secret.trim().len() < 32 {
            return Err(SealError::MasterKeyTooShort);
        }
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, b"castellan master key v1").extract(secret.trim().as_bytes());
        let seal_key = derive(&prk, b"seal")?;
        let hash_key = derive(&prk, b"client-secret-hash")?;
        let unbound = UnboundKey::new(&AES_256_GCM, seal_key.as_ref()).map_err(|_| SealError::Seal)?;
        Ok(Self {
            aead: LessSafeKey::new(unbound),
            hasher: SecretHasher::new(&hash_key),
        })
    }

    /// A new random master secret, for the key file written on first start.
    pub fn generate_secret() -> Result<String, SealError> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rand::fill(bytes.as_mut()).map_err(|_| SealError::Seal)?;
        Ok(b64url(bytes.as_ref()))
    }

    pub fn secret_hasher(&self) -> &SecretHasher {
        &self.hasher
    }

    /// Encrypts `plaintext`, bound to `context` (e.g. `"server-key/{tid}/{aid}/{kid}"`) so a sealed
    /// value copied to another row does not open there.
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> Result<Vec<u8>, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::fill(&mut nonce).map_err(|_| SealError::Seal)?;
        let mut buf = plaintext.to_vec();
        self.aead
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                &mut buf,
            )
            .map_err(|_| SealError::Seal)?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + buf.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&buf);
        Ok(out)
    }

    pub fn open(&self, context: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, SealError> {
        if sealed.len() < 1 + NONCE_LEN || sealed[0] != VERSION {
            return Err(SealError::Open);
        }
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&sealed[1..1 + NONCE_LEN]);
        let mut buf = Zeroizing::new(sealed[1 + NONCE_LEN..].to_vec());
        let len = self
            .aead
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                buf.as_mut(),
            )
            .map_err(|_| SealError::Open)?
            .len();
        buf.truncate(len);
        Ok(buf)
    }

    pub fn open_string(&self, context: &str, sealed: &[u8]) -> Result<String, SealError> {
        let bytes = self.open(context, sealed)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| SealError::Open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> MasterKey {
        MasterKey::from_secret(s).unwrap()
    }

    #[test]
    fn seal_round_trips_and_hides_plaintext() {
        let k = key("0123456789abcdef0123456789abcdef");
        let sealed = k.seal("ctx", b"private key bytes").unwrap();
        assert!(!sealed.windows(7).any(|w| w == b"private"));
        assert_eq!(k.open("ctx", &sealed).unwrap().as_slice(), b"private key bytes");
    }

    #[test]
    fn wrong_context_or_key_or_tampering_fails() {
        let k = key("0123456789abcdef0123456789abcdef");
        let sealed = k.seal("ctx-a", b"x").unwrap();
        assert_eq!(k.open("ctx-b", &sealed), Err(SealError::Open));
        assert_eq!(
            key("another-master-key-of-32-characters").open("ctx-a", &sealed),
            Err(SealError::Open)
        );
        let mut bad = sealed.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert_eq!(k.open("ctx-a", &bad), Err(SealError::Open));
        assert_eq!(k.open("ctx-a", &[1, 2]), Err(SealError::Open));
        // Shorter than version + nonce, or exactly that with no ciphertext: refused, no panic.
        assert_eq!(k.open("ctx-a", &[1; 12]), Err(SealError::Open));
        assert_eq!(k.open("ctx-a", &[1; 13]), Err(SealError::Open));
    }

    #[test]
    fn debug_output_never_shows_the_key() {
        let k = key("0123456789abcdef0123456789abcdef");
        assert_eq!(format!("{k:?}"), "MasterKey(..)");
    }

    #[test]
    fn short_master_key_is_refused() {
        assert_eq!(
            MasterKey::from_secret("short").err(),
            Some(SealError::MasterKeyTooShort)
        );
        assert_eq!(MasterKey::generate_secret().unwrap().len(), 43);
    }
}
