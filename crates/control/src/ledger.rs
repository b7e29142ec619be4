//! The privacy ledger's cryptography: each event's link (its content, its place and the hash of
//! the event before it) is signed with the tenant's ledger key (ES256 compact JWS), and
//! verification walks the chain to the first event where any of that does not hold.

use castellan_domain::{LedgerChain, LedgerEvent, LedgerLink, SigningAlg, TenantId};
use castellan_jose::keys::LoadedKey;
use castellan_store::{LedgerSigner, Store, StoreError};
use castellan_types::Jwk;
use castellan_types::privacy as wire;

/// base64url SHA-256: of a payload (what a link names) and of a signature (what the next link names).
fn hash(data: &[u8]) -> String {
    castellan_jose::b64url(&castellan_jose::sha256(data))
}

/// Signs ledger links with a tenant's ledger key.
pub(crate) struct KeySigner {
    key: LoadedKey,
    header: String,
}

impl KeySigner {
    /// The signer of the ledger key `kid` (its PKCS#8 private key).
    pub(crate) fn new(kid: &str, pkcs8: &[u8]) -> Result<Self, castellan_jose::keys::KeyError> {
        Ok(KeySigner {
            key: LoadedKey::from_pkcs8(SigningAlg::ES256, pkcs8)?,
            header: castellan_jose::jwt::encode_header(SigningAlg::ES256, kid, "JWT"),
        })
    }
}

impl LedgerSigner for KeySigner {
    fn sign(&self, link: &LedgerLink) -> Result<String, String> {
        castellan_jose::jwt::sign(&self.key, &self.header, link).map_err(|e| e.to_string())
    }
    fn hash(&self, data: &[u8]) -> String {
        hash(data)
    }
}

/// Reads the tenant's ledger (one snapshot) and its key from the store and verifies the chain:
/// `GET /events/verify`, and `castellan ledger verify` straight from the database.
pub async fn verify_stored(store: &dyn Store, tid: &TenantId) -> Result<wire::LedgerVerification, StoreError> {
    let chain = store.ledger_chain(tid).await?;
    let key = store.get_ledger_key(tid).await?;
    Ok(verify_chain(
        tid,
        &chain,
        key.as_ref().map(|k| &k.public_jwk),
        PRIVACY_CHAIN,
    ))
}

/// The [`LedgerLink::chain`] of the privacy ledger's events.
pub(crate) const PRIVACY_CHAIN: &str = "";
/// The [`LedgerLink::chain`] of the admin audit trail's events.
pub(crate) const AUDIT_CHAIN: &str = "audit";

/// Walks the chain (named `chain`: [`PRIVACY_CHAIN`] or [`AUDIT_CHAIN`]) in stored order; the
/// first event whose signature, content, place or link to the previous event does not hold is
/// where it broke.
pub(crate) fn verify_chain(
    tid: &TenantId,
    ledger: &LedgerChain,
    key: Option<&Jwk>,
    chain_name: &str,
) -> wire::LedgerVerification {
    let (chain, head) = (&ledger.events, ledger.head);
    let broken = |e: Option<&LedgerEvent>, seq: i64, reason: String| wire::LedgerVerification {
        verified: false,
        events: chain.len() as i64,
        first_broken: Some(wire::BrokenLink {
            id: e.map(|e| e.id.clone()),
            sequence: seq,
            reason,
        }),
    };
    let mut prev = String::new();
    for (i, e) in chain.iter().enumerate() {
        let expected = i as i64 + 1;
        let Some(key) = key else {
            return broken(Some(e), expected, "the tenant has events but no ledger key".into());
        };
        let Some(jws) = castellan_jose::jwt::parse(&e.signature) else {
            return broken(Some(e), expected, "payload_signature is not a compact JWS".into());
        };
        if !jws.verify_with(key, SigningAlg::ES256) {
            return broken(
                Some(e),
                expected,
                "the signature does not verify with the ledger key".into(),
            );
        }
        let Some(link) = jws.claims::<LedgerLink>() else {
            return broken(Some(e), expected, "the signed claims are not a ledger link".into());
        };
        if link.seq != expected || e.seq != expected {
            return broken(
                Some(e),
                expected,
                format!(
                    "event {} is in place {expected}: events were removed or reordered",
                    link.seq
                ),
            );
        }
        if link.prev != prev {
            return broken(
                Some(e),
                expected,
                "it does not follow the event before it: events were removed or reordered".into(),
            );
        }
        if link.payload_sha256 != hash(e.payload.as_bytes()) {
            return broken(Some(e), expected, "the payload was altered".into());
        }
        if link.id != e.id
            || link.subject != e.subject
            || link.date != e.date
            || link.event_type != e.event_type
            || link.tenant_id != tid.as_str()
            || link.actor != e.actor
        {
            return broken(
                Some(e),
                expected,
                "the event's id, subject, date, type or actor was altered".into(),
            );
        }
        if link.chain != chain_name {
            return broken(
                Some(e),
                expected,
                "the event was signed for another chain: it was copied in".into(),
            );
        }
        prev = hash(e.signature.as_bytes());
    }
    let n = chain.len() as i64;
    if head > n {
        return broken(
            None,
            n + 1,
            format!("{head} events were appended but {n} are stored: the last ones were removed"),
        );
    }
    if head < n {
        return broken(
            chain.get(head as usize),
            head + 1,
            format!("{n} events are stored but {head} were appended: events were added outside the ledger"),
        );
    }
    wire::LedgerVerification {
        verified: true,
        events: n,
        first_broken: None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use castellan_jose::keys::{GeneratedKey, generate};

    fn tid() -> TenantId {
        TenantId::parse("t").unwrap()
    }

    struct Ledger {
        key: GeneratedKey,
        signer: KeySigner,
    }

    impl Ledger {
        fn new() -> Self {
            let key = generate(SigningAlg::ES256).unwrap();
            let signer = KeySigner::new(&key.kid, &key.pkcs8).unwrap();
            Ledger { key, signer }
        }

        /// The signed link of `e` at its place after the event signed `prev_sig` ("" for the first).
        fn sign(&self, e: &LedgerEvent, prev_sig: &str) -> String {
            let link = LedgerLink {
                seq: e.seq,
                id: e.id.clone(),
                tenant_id: e.tenant_id.to_string(),
                subject: e.subject.clone(),
                date: e.date,
                event_type: e.event_type.clone(),
                // The store hashes with the signer, as here.
                payload_sha256: self.signer.hash(e.payload.as_bytes()),
                prev: if prev_sig.is_empty() {
                    String::new()
                } else {
                    self.signer.hash(prev_sig.as_bytes())
                },
                chain: String::new(),
                actor: String::new(),
            };
            self.signer.sign(&link).unwrap()
        }

        /// A sound chain of `n` events.
        fn chain(&self, n: i64) -> LedgerChain {
            let mut events: Vec<LedgerEvent> = Vec::new();
            for seq in 1..=n {
                let mut e = LedgerEvent {
                    tenant_id: tid(),
                    seq,
                    id: format!("e{seq}"),
                    subject: format!("s{seq}"),
                    date: 1_800_000_000 + seq,
                    event_type: "consent_granted".into(),
                    payload: format!("{{\"n\":{seq}}}"),
                    actor: String::new(),
                    signature: String::new(),
                };
                e.signature = self.sign(&e, events.last().map_or("", |p| p.signature.as_str()));
                events.push(e);
            }
            LedgerChain { events, head: n }
        }

        fn verify(&self, c: &LedgerChain) -> wire::LedgerVerification {
            verify_chain(&tid(), c, Some(&self.key.public_jwk), PRIVACY_CHAIN)
        }
    }

    /// Asserts the chain broke at `sequence` (event `id`) for a reason containing `reason`.
    fn broke(v: wire::LedgerVerification, events: i64, sequence: i64, id: Option<&str>, reason: &str) {
        assert!(!v.verified, "{v:?}");
        assert_eq!(v.events, events);
        let b = v.first_broken.unwrap();
        assert_eq!((b.sequence, b.id.as_deref()), (sequence, id), "{}", b.reason);
        assert!(b.reason.contains(reason), "{} does not say {reason:?}", b.reason);
    }

    #[test]
    fn a_sound_chain_verifies() {
        let l = Ledger::new();
        for n in [0, 1, 3] {
            let v = l.verify(&l.chain(n));
            assert_eq!(
                v,
                wire::LedgerVerification {
                    verified: true,
                    events: n,
                    first_broken: None
                }
            );
        }
        // A tenant that never appended has no key yet.
        assert!(verify_chain(&tid(), &LedgerChain::default(), None, PRIVACY_CHAIN).verified);
    }

    #[test]
    fn events_without_a_key_or_signed_otherwise_do_not_verify() {
        let l = Ledger::new();
        let c = l.chain(3);
        broke(
            verify_chain(&tid(), &c, None, PRIVACY_CHAIN),
            3,
            1,
            Some("e1"),
            "no ledger key",
        );
        let other = Ledger::new();
        broke(
            other.verify(&c),
            3,
            1,
            Some("e1"),
            "does not verify with the ledger key",
        );

        let mut c = l.chain(3);
        c.events[1].signature = "not a jws".into();
        broke(l.verify(&c), 3, 2, Some("e2"), "not a compact JWS");

        // Signed with the key, but not a ledger link.
        let mut c = l.chain(3);
        let header = castellan_jose::jwt::encode_header(SigningAlg::ES256, &l.key.kid, "JWT");
        c.events[2].signature =
            castellan_jose::jwt::sign(&l.signer.key, &header, &serde_json::json!({"seq": 3})).unwrap();
        broke(l.verify(&c), 3, 3, Some("e3"), "not a ledger link");
    }

    #[test]
    fn altering_a_stored_event_breaks_the_chain_there() {
        let l = Ledger::new();
        type Alteration = fn(&mut LedgerEvent);
        let alterations: [(&str, Alteration); 6] = [
            ("payload was altered", |e| e.payload = "{\"n\":0}".into()),
            ("id, subject, date, type or actor was altered", |e| {
                e.id = "forged".into()
            }),
            ("id, subject, date, type or actor was altered", |e| {
                e.subject = "mallory".into()
            }),
            ("id, subject, date, type or actor was altered", |e| e.date += 1),
            ("id, subject, date, type or actor was altered", |e| {
                e.event_type = "consent_withdrawn".into()
            }),
            ("events were removed or reordered", |e| e.seq = 7),
        ];
        for (reason, alter) in alterations {
            let mut c = l.chain(3);
            alter(&mut c.events[1]);
            let id = c.events[1].id.clone();
            broke(l.verify(&c), 3, 2, Some(&id), reason);
        }
        // Another tenant's events do not verify as this tenant's.
        let v = verify_chain(
            &TenantId::parse("u").unwrap(),
            &l.chain(2),
            Some(&l.key.public_jwk),
            PRIVACY_CHAIN,
        );
        broke(v, 2, 1, Some("e1"), "id, subject, date, type or actor was altered");
        // Nor the privacy ledger's as the audit trail's, though one key signs both.
        let v = verify_chain(&tid(), &l.chain(2), Some(&l.key.public_jwk), AUDIT_CHAIN);
        broke(v, 2, 1, Some("e1"), "another chain");
    }

    #[test]
    fn removed_reordered_or_unlinked_events_are_found() {
        let l = Ledger::new();
        // The second event removed (the head says 2 now, as if it were rewritten too).
        let mut c = l.chain(3);
        c.events.remove(1);
        c.head = 2;
        broke(l.verify(&c), 2, 2, Some("e3"), "event 3 is in place 2");
        // Two events swapped.
        let mut c = l.chain(3);
        c.events.swap(1, 2);
        broke(l.verify(&c), 3, 2, Some("e3"), "events were removed or reordered");
        // Correctly signed and placed, but not linked to the event before it.
        let mut c = l.chain(3);
        c.events[2].signature = l.sign(&c.events[2], "");
        broke(l.verify(&c), 3, 3, Some("e3"), "does not follow the event before it");
    }

    #[test]
    fn the_head_finds_events_removed_from_the_end_or_added_past_it() {
        let l = Ledger::new();
        let mut c = l.chain(3);
        c.events.pop();
        broke(l.verify(&c), 2, 3, None, "3 events were appended but 2 are stored");
        let mut c = l.chain(3);
        c.head = 1;
        broke(
            l.verify(&c),
            3,
            2,
            Some("e2"),
            "3 events are stored but 1 were appended",
        );
    }
}
