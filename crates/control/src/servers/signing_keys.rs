//! An authorization server's signing keys: generated and sealed under the master key, imported
//! from a JWKS, and the RS256 ID-token key kept published when the server's key type changes.

use castellan_domain::{KeyStatus, KeyType, ServerId, ServerSettings, SigningAlg, SigningKey, TenantId};
use castellan_jose::{GeneratedKey, keys};
use castellan_types as wire;

use crate::{Control, ControlError, ControlResult};

use super::MAX_KEYS;

impl Control {
    pub(crate) fn seal_key(
        &self,
        tid: &TenantId,
        aid: &ServerId,
        k: GeneratedKey,
        status: KeyStatus,
    ) -> ControlResult<SigningKey> {
        let private_sealed = self
            .master
            .seal(&castellan_domain::seal::server_key(tid, aid, &k.kid), &k.pkcs8)
            .map_err(ControlError::internal)?;
        Ok(SigningKey {
            kid: k.kid,
            alg: k.alg,
            status,
            public_jwk: k.public_jwk,
            private_sealed,
            created_at: self.clock.now(),
            activates_at: None,
            retires_at: None,
            revoked_at: None,
        })
    }

    /// A new signing key for `alg`, generated off the async threads (RSA generation takes a while).
    pub(crate) async fn new_key(&self, tid: &TenantId, aid: &ServerId, alg: SigningAlg) -> ControlResult<SigningKey> {
        let k = tokio::task::spawn_blocking(move || keys::generate(alg))
            .await
            .map_err(ControlError::internal)?
            .map_err(ControlError::internal)?;
        self.seal_key(tid, aid, k, KeyStatus::Current)
    }

    /// Adds the RS256 key a server signs ID tokens with when its current key is of another
    /// algorithm (OIDC Discovery §3 makes RS256 mandatory): the one it had, else a new one. Keys of
    /// an RS256 server need none.
    pub(crate) async fn with_id_token_key(
        &self,
        tid: &TenantId,
        aid: &ServerId,
        mut keys: Vec<SigningKey>,
        existing: &[SigningKey],
    ) -> ControlResult<Vec<SigningKey>> {
        let kept = existing.iter().find(|k| k.status == KeyStatus::IdToken);
        // A JWK Set sent back as the API showed it lists the ID-token key as a plain key.
        keys.retain(|k| k.status != KeyStatus::IdToken && Some(&k.kid) != kept.map(|k| &k.kid));
        let current_is_rs256 = keys
            .iter()
            .any(|k| k.status == KeyStatus::Current && k.alg == SigningAlg::RS256);
        if current_is_rs256 {
            // The current key signs ID tokens now; the one that signed them until now stays
            // published (rotated) for the ID tokens it signed that are still live.
            if let Some(k) = kept {
                let mut k = k.clone();
                k.status = KeyStatus::Retired;
                keys.push(k);
            }
            return Ok(keys);
        }
        // An RS256 key already in the set (the previous signing key of a server that moved away
        // from rsa, or an imported one) becomes the ID-token key; otherwise the one it had, else
        // a new one.
        if let Some(k) = keys.iter_mut().find(|k| k.alg == SigningAlg::RS256) {
            k.status = KeyStatus::IdToken;
            return Ok(keys);
        }
        let id_key = match kept {
            Some(k) => k.clone(),
            None => {
                let mut k = self.new_key(tid, aid, SigningAlg::RS256).await?;
                k.status = KeyStatus::IdToken;
                k
            }
        };
        keys.push(id_key);
        Ok(keys)
    }

    /// Turns a requested JWK Set into stored keys. Keys with private members are imported; a key
    /// without them must be one the server already has (same `kid`), as the API returned it.
    /// The first key signs (`current`); the others stay published for verification.
    pub(crate) async fn keys_from_jwks(
        &self,
        tid: &TenantId,
        aid: &ServerId,
        jwks: &wire::Jwks,
        default_alg: SigningAlg,
        existing: &[SigningKey],
    ) -> ControlResult<Vec<SigningKey>> {
        if jwks.keys.is_empty() {
            return Err(ControlError::invalid(
                "jwks.keys",
                "at least one signing key is required",
            ));
        }
        if jwks.keys.len() > MAX_KEYS {
            return Err(ControlError::invalid("jwks.keys", format!("at most {MAX_KEYS} keys")));
        }
        let mut out: Vec<SigningKey> = Vec::new();
        for (i, jwk) in jwks.keys.iter().enumerate() {
            let field = format!("jwks.keys[{i}]");
            let status = if i == 0 { KeyStatus::Current } else { KeyStatus::Retired };
            let mut key = if jwk.d.is_some() {
                let jwk = jwk.clone();
                let g = tokio::task::spawn_blocking(move || keys::import_private_jwk(&jwk, default_alg))
                    .await
                    .map_err(ControlError::internal)?
                    .map_err(|e| ControlError::invalid(field.clone(), e.to_string()))?;
                self.seal_key(tid, aid, g, status)?
            } else {
                let kid = jwk.kid.as_deref().unwrap_or_default();
                existing
                    .iter()
                    .find(|k| k.kid == kid && k.published())
                    .cloned()
                    .ok_or_else(|| {
                        ControlError::invalid(
                            field.clone(),
                            "a key without its private part must be one of the server's current keys (same kid)",
                        )
                    })?
            };
            key.status = if i > 0 && key.status == KeyStatus::Next {
                KeyStatus::Next
            } else {
                status
            };
            if out.iter().any(|k| k.kid == key.kid) {
                return Err(ControlError::invalid(
                    format!("{field}.kid"),
                    format!("duplicate kid {:?}", key.kid),
                ));
            }
            out.push(key);
        }
        Ok(out)
    }
}

/// The signing key decides the key type. A `key_type` the request states must agree with it;
/// otherwise `key_type` follows the key.
pub(crate) fn reconcile_key_type(s: &mut ServerSettings, keys: &[SigningKey], stated: bool) -> ControlResult<()> {
    let Some(current) = keys.first() else {
        return Ok(());
    };
    let implied = match current.alg {
        SigningAlg::RS256 => KeyType::Rsa,
        SigningAlg::PS256 => KeyType::Ps,
        SigningAlg::ES256 => KeyType::Ecdsa,
    };
    if stated && implied != s.key_type {
        return Err(ControlError::invalid(
            "key_type",
            format!(
                "is {:?} but the first key in jwks is {}",
                s.key_type.as_str(),
                current.alg.as_str()
            ),
        ));
    }
    s.key_type = implied;
    Ok(())
}
