//! Signing-key rotation: on a schedule (`key_rotation_period`) and on demand, with the next key
//! published [`KEY_PREPUBLICATION_SECS`] before it signs and the key it replaces published until
//! the last token that key signed has expired; revocation withdraws a key at once.
//!
//! Every change is written with [`Store::replace_keys`](castellan_store::Store::replace_keys),
//! which writes only if the keys are still those the change was computed from: of several nodes
//! rotating the same server at the same moment, one rotation happens.

use castellan_domain::{
    AuthorizationServer, KEY_PREPUBLICATION_SECS, KeyStatus, KeyType, ServerId, ServerSettings, SigningAlg, SigningKey,
    TenantId, UnixTime,
};
use castellan_types as wire;

use crate::access::need;
use crate::views::rfc3339;
use crate::{Allowed, Control, ControlError, ControlResult};

/// How long a retired key stays published beyond the lifetime of the last token it signed:
/// clock skew between issuers and verifiers, and verifiers' caches.
const RETIRE_LEEWAY_SECS: i64 = 300;
/// Revoked keys listed (the newest); older records go.
const KEPT_REVOKED: usize = 5;

/// What the schedule asks of a server's keys at a given time.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Due {
    /// Publish the next key (its signing time comes at the end of the period).
    prepare: bool,
    /// A next key's time has come: it signs, the key it replaces retires.
    promote: bool,
    /// Retired keys whose last tokens have expired, or revoked records beyond those kept.
    drop: bool,
}

impl Due {
    fn any(&self) -> bool {
        self.prepare || self.promote || self.drop
    }
}

fn since(k: &SigningKey) -> UnixTime {
    k.activates_at.unwrap_or(k.created_at)
}

/// When the schedule publishes the next key: a pre-publication ahead of the end of the current
/// key's period. `None` when rotation is on demand only, or a next key is already out.
pub(crate) fn next_rotation_at(keys: &[SigningKey], s: &ServerSettings) -> Option<UnixTime> {
    let period = s.key_rotation_period.as_secs() as i64;
    if period == 0 || keys.iter().any(|k| k.status == KeyStatus::Next) {
        return None;
    }
    let current = keys.iter().find(|k| k.status == KeyStatus::Current)?;
    Some(since(current) + period - KEY_PREPUBLICATION_SECS as i64)
}

pub(crate) fn due(keys: &[SigningKey], s: &ServerSettings, now: UnixTime) -> Due {
    let revoked = keys.iter().filter(|k| k.status == KeyStatus::Revoked).count();
    Due {
        prepare: next_rotation_at(keys, s).is_some_and(|t| t <= now),
        promote: keys
            .iter()
            .any(|k| k.status == KeyStatus::Next && k.activates_at.is_some_and(|t| t <= now)),
        drop: revoked > KEPT_REVOKED
            || keys
                .iter()
                .any(|k| k.status == KeyStatus::Retired && k.retires_at.is_some_and(|t| t <= now)),
    }
}

/// When a key that stops signing at `now` may leave the JWK Set.
pub(crate) fn retire_time(s: &ServerSettings, now: UnixTime) -> UnixTime {
    let longest = s.access_token_ttl.as_secs().max(s.id_token_ttl.as_secs()) as i64;
    now + longest + RETIRE_LEEWAY_SECS
}

/// The role a key of `alg` takes when it signs on a server of `key_type`: its own tokens, the
/// ID tokens (RS256 beside another key type), or none (the key type changed since it was made).
fn role(alg: SigningAlg, key_type: KeyType) -> Option<KeyStatus> {
    if alg == key_type.alg() {
        Some(KeyStatus::Current)
    } else if alg == SigningAlg::RS256 {
        Some(KeyStatus::IdToken)
    } else {
        None
    }
}

/// The next keys whose time has come start signing; the keys they replace retire.
fn promote(keys: &mut [SigningKey], s: &ServerSettings, now: UnixTime) {
    let retires_at = retire_time(s, now);
    for i in 0..keys.len() {
        let k = &keys[i];
        if k.status != KeyStatus::Next || k.activates_at.is_none_or(|t| t > now) {
            continue;
        }
        let Some(new) = role(k.alg, s.key_type) else {
            keys[i].status = KeyStatus::Retired;
            keys[i].retires_at = Some(now);
            continue;
        };
        for old in keys.iter_mut().filter(|o| o.status == new) {
            old.status = KeyStatus::Retired;
            old.retires_at = Some(retires_at);
        }
        keys[i].status = new;
        keys[i].activates_at = Some(now);
    }
}

/// Retired keys whose time is up leave; of the revoked, the newest [`KEPT_REVOKED`] stay listed.
fn drop_expired(keys: &mut Vec<SigningKey>, now: UnixTime) {
    keys.retain(|k| !(k.status == KeyStatus::Retired && k.retires_at.is_some_and(|t| t <= now)));
    let mut revoked: Vec<UnixTime> = keys
        .iter()
        .filter(|k| k.status == KeyStatus::Revoked)
        .map(|k| k.revoked_at.unwrap_or(0))
        .collect();
    if revoked.len() > KEPT_REVOKED {
        revoked.sort_unstable_by(|a, b| b.cmp(a));
        let oldest_kept = revoked[KEPT_REVOKED - 1];
        let mut kept = 0;
        keys.retain(|k| {
            if k.status != KeyStatus::Revoked {
                return true;
            }
            let keep = k.revoked_at.unwrap_or(0) >= oldest_kept && kept < KEPT_REVOKED;
            kept += usize::from(keep);
            keep
        });
    }
}

/// Signing key first, then the ID-token key, the next keys, the retired and the revoked: the
/// order the API lists them in and the first-key-signs rule of a JWK Set sent back.
fn order(keys: &mut [SigningKey]) {
    let rank = |s: KeyStatus| match s {
        KeyStatus::Current => 0,
        KeyStatus::IdToken => 1,
        KeyStatus::Next => 2,
        KeyStatus::Retired => 3,
        KeyStatus::Revoked => 4,
    };
    keys.sort_by_key(|k| rank(k.status));
}

impl Control {
    /// New next keys signing from `activates_at`: one of the server's key type and, when that
    /// is not RSA and the server signs ID tokens with a separate RS256 key, one to follow it.
    async fn next_keys(
        &self,
        tid: &TenantId,
        aid: &ServerId,
        keys: &[SigningKey],
        key_type: KeyType,
        activates_at: UnixTime,
    ) -> ControlResult<Vec<SigningKey>> {
        let mut algs = vec![key_type.alg()];
        if key_type.alg() != SigningAlg::RS256 && keys.iter().any(|k| k.status == KeyStatus::IdToken) {
            algs.push(SigningAlg::RS256);
        }
        let mut out = Vec::new();
        for alg in algs {
            let mut k = self.new_key(tid, aid, alg).await?;
            k.status = KeyStatus::Next;
            k.activates_at = Some(activates_at);
            out.push(k);
        }
        Ok(out)
    }

    /// One pass of the schedule over every server of every tenant: publishes next keys that are
    /// due, lets next keys sign when their time comes, drops retired keys whose tokens have all
    /// expired. Returns how many servers changed. Any node may run it at any time.
    pub async fn rotate_due_keys(&self) -> ControlResult<usize> {
        let mut changed = 0;
        for tid in self.store.list_tenant_ids().await? {
            for server in self.store.list_servers(&tid).await? {
                match self.rotate_server_if_due(&server).await {
                    Ok(true) => changed += 1,
                    Ok(false) => {}
                    Err(e) => {
                        tracing::warn!(tenant = %tid, server = %server.id, error = %e, "key rotation failed")
                    }
                }
            }
        }
        Ok(changed)
    }

    async fn rotate_server_if_due(&self, server: &AuthorizationServer) -> ControlResult<bool> {
        let (tid, aid) = (&server.tenant_id, &server.id);
        let before = self.store.list_keys(tid, aid).await?;
        let now = self.clock.now();
        let due = due(&before, &server.settings, now);
        if !due.any() {
            return Ok(false);
        }
        let mut keys = before.clone();
        if due.prepare {
            let activates_at = now + KEY_PREPUBLICATION_SECS as i64;
            keys.extend(
                self.next_keys(tid, aid, &before, server.settings.key_type, activates_at)
                    .await?,
            );
        }
        promote(&mut keys, &server.settings, now);
        drop_expired(&mut keys, now);
        order(&mut keys);
        let written = self.store.replace_keys(tid, aid, &before, &keys).await?;
        match written {
            Some(changes) => {
                self.engine.apply(&changes).await;
                tracing::info!(tenant = %tid, server = %aid, prepared = due.prepare, promoted = due.promote,
                    "signing keys rotated on schedule");
                Ok(true)
            }
            // Another node (or an administrator) changed the keys first; the next pass looks again.
            None => Ok(false),
        }
    }

    /// The server's keys and where each is in its life.
    pub async fn list_signing_keys(
        &self,
        access: &Allowed<need::ServerRead>,
        aid: &str,
    ) -> ControlResult<wire::SigningKeys> {
        let server = self.load_server(access, aid).await?;
        let keys = self.store.list_keys(&server.tenant_id, &server.id).await?;
        Ok(keys_view(&server, keys))
    }

    /// Publishes a next key now (two for a server with a separate ID-token key); it signs after
    /// the pre-publication hour, and the key it replaces stays published until its tokens
    /// expire. 409 while a rotation is already under way.
    pub async fn rotate_signing_keys(
        &self,
        access: &Allowed<need::ServerWrite>,
        aid: &str,
    ) -> ControlResult<wire::SigningKeys> {
        let server = self.load_server(access, aid).await?;
        self.require_holds_server(access, &server).await?;
        let (tid, sid) = (&server.tenant_id, &server.id);
        let before = self.store.list_keys(tid, sid).await?;
        let under_way = || {
            let next = before.iter().find(|k| k.status == KeyStatus::Next);
            ControlError::InUse(match next.and_then(|k| k.activates_at) {
                Some(t) => format!(
                    "a rotation is under way: key {} signs from {}",
                    next.map_or("", |k| k.kid.as_str()),
                    rfc3339(t)
                ),
                None => "a rotation is under way: a next key is published".into(),
            })
        };
        if before.iter().any(|k| k.status == KeyStatus::Next) {
            return Err(under_way());
        }
        let now = self.clock.now();
        let mut keys = before.clone();
        keys.extend(
            self.next_keys(
                tid,
                sid,
                &before,
                server.settings.key_type,
                now + KEY_PREPUBLICATION_SECS as i64,
            )
            .await?,
        );
        drop_expired(&mut keys, now);
        order(&mut keys);
        let Some(changes) = self.store.replace_keys(tid, sid, &before, &keys).await? else {
            return Err(ControlError::InUse(
                "the keys changed while this rotation was prepared (another node rotated them); read them again".into(),
            ));
        };
        self.engine.apply(&changes).await;
        Ok(keys_view(&server, keys))
    }

    /// Withdraws a key at once: it leaves the JWK Set, tokens it signed no longer verify, and
    /// its private part is destroyed. A revoked signing key is replaced straight away by the
    /// next key when one is published, else by a new key.
    pub async fn revoke_signing_key(
        &self,
        access: &Allowed<need::ServerWrite>,
        aid: &str,
        kid: &str,
    ) -> ControlResult<wire::SigningKeys> {
        let server = self.load_server(access, aid).await?;
        self.require_holds_server(access, &server).await?;
        let (tid, sid) = (&server.tenant_id, &server.id);
        // A concurrent rotation may move the keys under us; revocation must still happen.
        for _ in 0..5 {
            let before = self.store.list_keys(tid, sid).await?;
            let Some(target) = before.iter().find(|k| k.kid == kid) else {
                return Err(ControlError::NotFound {
                    what: "signing key",
                    id: kid.to_owned(),
                });
            };
            if target.status == KeyStatus::Revoked {
                return Ok(keys_view(&server, before));
            }
            let now = self.clock.now();
            let was = target.status;
            let mut keys = before.clone();
            for k in keys.iter_mut().filter(|k| k.kid == kid) {
                k.status = KeyStatus::Revoked;
                k.revoked_at = Some(now);
                k.activates_at = None;
                k.retires_at = None;
                k.private_sealed = Vec::new();
            }
            if matches!(was, KeyStatus::Current | KeyStatus::IdToken) {
                let successor = keys
                    .iter()
                    .position(|k| k.status == KeyStatus::Next && role(k.alg, server.settings.key_type) == Some(was));
                match successor {
                    Some(i) => {
                        keys[i].status = was;
                        keys[i].activates_at = Some(now);
                    }
                    None => {
                        let alg = if was == KeyStatus::Current {
                            server.settings.key_type.alg()
                        } else {
                            SigningAlg::RS256
                        };
                        let mut k = self.new_key(tid, sid, alg).await?;
                        k.status = was;
                        k.activates_at = Some(now);
                        keys.push(k);
                    }
                }
            }
            drop_expired(&mut keys, now);
            order(&mut keys);
            if let Some(changes) = self.store.replace_keys(tid, sid, &before, &keys).await? {
                self.engine.apply(&changes).await;
                tracing::warn!(tenant = %tid, server = %sid, kid, "signing key revoked");
                return Ok(keys_view(&server, keys));
            }
        }
        Err(ControlError::Unavailable(
            "the keys kept changing while the revocation was written; try again".into(),
        ))
    }
}

pub(crate) fn keys_view(server: &AuthorizationServer, keys: Vec<SigningKey>) -> wire::SigningKeys {
    let next_rotation_at = next_rotation_at(&keys, &server.settings).map(rfc3339);
    let key_type = server.settings.key_type;
    wire::SigningKeys {
        keys: keys
            .into_iter()
            .map(|k| wire::SigningKeyInfo {
                state: match k.status {
                    KeyStatus::IdToken => "current",
                    s => s.as_str(),
                }
                .into(),
                signs: match k.status {
                    KeyStatus::Current => Some("all".into()),
                    KeyStatus::IdToken => Some("id_tokens".into()),
                    KeyStatus::Next => Some(
                        match role(k.alg, key_type) {
                            Some(KeyStatus::IdToken) => "id_tokens",
                            _ => "all",
                        }
                        .into(),
                    ),
                    _ => None,
                },
                alg: k.alg.as_str().into(),
                created_at: rfc3339(k.created_at),
                activates_at: k.activates_at.map(rfc3339),
                retires_at: k.retires_at.map(rfc3339),
                revoked_at: k.revoked_at.map(rfc3339),
                kid: k.kid,
            })
            .collect(),
        key_rotation_period: server.settings.key_rotation_period.to_string(),
        next_rotation_at,
    }
}

#[cfg(test)]
mod tests {
    use castellan_domain::GoDuration;
    use castellan_types::Jwk;

    use super::*;

    fn key(kid: &str, status: KeyStatus, alg: SigningAlg, created_at: UnixTime) -> SigningKey {
        SigningKey {
            kid: kid.into(),
            alg,
            status,
            public_jwk: Jwk::default(),
            private_sealed: vec![1],
            created_at,
            activates_at: None,
            retires_at: None,
            revoked_at: None,
        }
    }

    fn settings(period_days: u64) -> ServerSettings {
        ServerSettings {
            key_rotation_period: GoDuration::from_secs(period_days * 86400),
            ..ServerSettings::default()
        }
    }

    #[test]
    fn the_next_key_is_due_a_prepublication_before_the_period_ends() {
        let s = settings(90);
        let keys = vec![key("a", KeyStatus::Current, SigningAlg::RS256, 0)];
        let publish = 90 * 86400 - KEY_PREPUBLICATION_SECS as i64;
        assert_eq!(next_rotation_at(&keys, &s), Some(publish));
        assert_eq!(due(&keys, &s, publish - 1), Due::default());
        assert!(due(&keys, &s, publish).prepare);
        assert_eq!(next_rotation_at(&keys, &settings(0)), None, "on demand only");
        assert!(!due(&keys, &settings(0), i64::MAX / 2).any());
    }

    #[test]
    fn promotion_retires_the_old_key_until_its_tokens_have_expired() {
        let s = settings(90);
        let mut next = key("b", KeyStatus::Next, SigningAlg::RS256, 100);
        next.activates_at = Some(100 + KEY_PREPUBLICATION_SECS as i64);
        let mut keys = vec![key("a", KeyStatus::Current, SigningAlg::RS256, 0), next];
        let at = 100 + KEY_PREPUBLICATION_SECS as i64;
        assert!(!due(&keys, &s, at - 1).promote, "not before its time");
        assert!(due(&keys, &s, at).promote);
        promote(&mut keys, &s, at);
        order(&mut keys);
        assert_eq!((keys[0].kid.as_str(), keys[0].status), ("b", KeyStatus::Current));
        assert_eq!((keys[1].kid.as_str(), keys[1].status), ("a", KeyStatus::Retired));
        let gone = at + 3600 + RETIRE_LEEWAY_SECS;
        assert_eq!(
            keys[1].retires_at,
            Some(gone),
            "the longest token lifetime, plus leeway"
        );
        drop_expired(&mut keys, gone - 1);
        assert_eq!(keys.len(), 2);
        drop_expired(&mut keys, gone);
        assert_eq!(keys.len(), 1);
    }

    #[test]
    fn an_id_token_key_is_followed_by_its_own_next_key() {
        let s = ServerSettings {
            key_type: KeyType::Ecdsa,
            ..settings(90)
        };
        let mut keys = vec![
            key("ec", KeyStatus::Current, SigningAlg::ES256, 0),
            key("rsa", KeyStatus::IdToken, SigningAlg::RS256, 0),
        ];
        for (kid, alg) in [("ec2", SigningAlg::ES256), ("rsa2", SigningAlg::RS256)] {
            let mut k = key(kid, KeyStatus::Next, alg, 10);
            k.activates_at = Some(20);
            keys.push(k);
        }
        promote(&mut keys, &s, 20);
        order(&mut keys);
        let states: Vec<(&str, KeyStatus)> = keys.iter().map(|k| (k.kid.as_str(), k.status)).collect();
        assert_eq!(
            states,
            [
                ("ec2", KeyStatus::Current),
                ("rsa2", KeyStatus::IdToken),
                ("ec", KeyStatus::Retired),
                ("rsa", KeyStatus::Retired)
            ]
        );
    }

    #[test]
    fn only_the_newest_revoked_keys_stay_listed() {
        let mut keys = vec![key("cur", KeyStatus::Current, SigningAlg::RS256, 0)];
        for i in 0..8 {
            let mut k = key(&format!("r{i}"), KeyStatus::Revoked, SigningAlg::RS256, 0);
            k.revoked_at = Some(i);
            keys.push(k);
        }
        drop_expired(&mut keys, 100);
        let kids: Vec<&str> = keys.iter().map(|k| k.kid.as_str()).collect();
        assert_eq!(kids, ["cur", "r3", "r4", "r5", "r6", "r7"]);
    }
}
