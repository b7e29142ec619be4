//! Privacy consents, subjects' grants and the signed, chained ledger.

use super::*;

/// A signer for tests: the "signature" spells out the link, the "hash" is the text reversed.
pub struct PlainSigner;

impl LedgerSigner for PlainSigner {
    fn sign(&self, l: &LedgerLink) -> Result<String, String> {
        Ok(format!("{}|{}|{}|{}", l.seq, l.id, l.payload_sha256, l.prev))
    }
    fn hash(&self, data: &[u8]) -> String {
        String::from_utf8_lossy(data).chars().rev().collect()
    }
}

/// Checks that `chain` is 1..=n and each link names the hash of the signature before it.
fn assert_chained(chain: &[LedgerEvent]) {
    let mut prev = String::new();
    for (i, e) in chain.iter().enumerate() {
        assert_eq!(e.seq, i as i64 + 1, "sequence without gaps");
        let parts: Vec<&str> = e.signature.splitn(4, '|').collect();
        assert_eq!(parts[0], e.seq.to_string());
        assert_eq!(parts[3], prev, "event {} chains to the one before", e.seq);
        assert_eq!(parts[2], PlainSigner.hash(e.payload.as_bytes()));
        prev = PlainSigner.hash(e.signature.as_bytes());
    }
}

pub async fn privacy_consents_grants_and_the_ledger(store: Arc<dyn Store>) {
    store.create_tenant(&tenant("a")).await.unwrap();
    store.create_tenant(&tenant("b")).await.unwrap();
    let (a, b) = (tid("a"), tid("b"));
    let create = |c: PrivacyConsent| PrivacyWrite {
        consent: Some(c),
        ..Default::default()
    };
    assert!(
        store
            .privacy_write(&a, &create(privacy_consent("a", "eula", 1)), &PlainSigner)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        store
            .privacy_write(&a, &create(privacy_consent("a", "eula", 1)), &PlainSigner)
            .await,
        Err(StoreError::Conflict(_))
    ));
    store
        .privacy_write(&b, &create(privacy_consent("b", "eula", 7)), &PlainSigner)
        .await
        .unwrap();
    assert_eq!(
        store.get_privacy_consent(&a, "eula").await.unwrap(),
        Some(privacy_consent("a", "eula", 1))
    );
    let update = PrivacyWrite {
        consent: Some(privacy_consent("a", "eula", 2)),
        update: true,
        grants: vec![grant("a", "pat", "eula", 2, true)],
        events: vec![event("e1", "pat", 100), event("e2", "pat", 200)],
    };
    let appended = store.privacy_write(&a, &update, &PlainSigner).await.unwrap();
    assert_eq!(appended.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(store.get_privacy_consent(&a, "eula").await.unwrap().unwrap().version, 2);
    let missing = PrivacyWrite {
        consent: Some(privacy_consent("a", "nope", 2)),
        update: true,
        events: vec![event("lost", "pat", 1)],
        ..Default::default()
    };
    assert!(matches!(
        store.privacy_write(&a, &missing, &PlainSigner).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(
        store.ledger_chain(&a).await.unwrap().head,
        2,
        "a failed write appends nothing"
    );

    // Grants are upserted per subject and consent.
    let more = PrivacyWrite {
        grants: vec![grant("a", "pat", "eula", 2, false), grant("a", "sam", "eula", 2, true)],
        events: vec![event("e3", "pat", 300), event("e4", "sam", 300)],
        ..Default::default()
    };
    store.privacy_write(&a, &more, &PlainSigner).await.unwrap();
    assert_eq!(
        store.list_subject_grants(&a, "pat").await.unwrap(),
        vec![grant("a", "pat", "eula", 2, false)]
    );
    assert_eq!(store.list_consent_grants(&a, "eula").await.unwrap().len(), 2);
    assert!(store.list_subject_grants(&b, "pat").await.unwrap().is_empty());

    // The chain, the head, and the filters.
    let chain = store.ledger_chain(&a).await.unwrap();
    assert_eq!(chain.events.len(), 4);
    assert_chained(&chain.events);
    assert_eq!(chain.head, 4);
    assert_eq!(store.ledger_chain(&b).await.unwrap(), LedgerChain::default());
    let ids = |v: Vec<LedgerEvent>| v.into_iter().map(|e| e.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.list_ledger_events(&a, Some("pat"), 0, i64::MAX).await.unwrap()),
        ["e1", "e2", "e3"]
    );
    assert_eq!(
        ids(store.list_ledger_events(&a, None, 150, 300).await.unwrap()),
        ["e2", "e3", "e4"]
    );
    assert!(
        store
            .list_ledger_events(&b, None, 0, i64::MAX)
            .await
            .unwrap()
            .is_empty()
    );

    // Deleting a consent deletes its grants; its events stay.
    assert!(store.delete_privacy_consent(&a, "eula").await.unwrap());
    assert!(store.list_consent_grants(&a, "eula").await.unwrap().is_empty());
    assert_eq!(store.ledger_chain(&a).await.unwrap().events.len(), 4);
    assert!(store.get_privacy_consent(&b, "eula").await.unwrap().is_some());

    // Consent actions.
    let action = ConsentActionDef {
        tenant_id: a.clone(),
        id: "signup".into(),
        name: "signup".into(),
        description: Some("d".into()),
        consents: vec![("eula".into(), true), ("news".into(), false)],
    };
    store.create_consent_action(&action).await.unwrap();
    assert!(matches!(
        store.create_consent_action(&action).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store.get_consent_action(&a, "signup").await.unwrap(),
        Some(action.clone())
    );
    assert_eq!(store.get_consent_action(&b, "signup").await.unwrap(), None);
    let changed = ConsentActionDef {
        consents: vec![("news".into(), true)],
        ..action.clone()
    };
    store.update_consent_action(&changed).await.unwrap();
    assert_eq!(store.list_consent_actions(&a).await.unwrap(), vec![changed]);
    assert!(matches!(
        store
            .update_consent_action(&ConsentActionDef {
                tenant_id: b.clone(),
                ..action
            })
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert!(store.delete_consent_action(&a, "signup").await.unwrap());
    assert!(!store.delete_consent_action(&a, "signup").await.unwrap());

    // One ledger key per tenant.
    let key = LedgerKey {
        tenant_id: a.clone(),
        kid: "k1".into(),
        public_jwk: Jwk::default(),
        private_sealed: vec![1, 2, 3],
        created_at: 5,
    };
    assert!(store.create_ledger_key(&key).await.unwrap());
    assert!(
        !store
            .create_ledger_key(&LedgerKey {
                kid: "k2".into(),
                ..key.clone()
            })
            .await
            .unwrap()
    );
    assert_eq!(store.get_ledger_key(&a).await.unwrap(), Some(key));
    assert_eq!(store.get_ledger_key(&b).await.unwrap(), None);
}

/// Eight writers appending to one tenant's ledger at once: every event gets its own place, the
/// sequence has no gaps, and each event chains to the one before it.
pub async fn concurrent_ledger_appends_leave_no_gaps(store: Arc<dyn Store>) {
    store.create_tenant(&tenant("a")).await.unwrap();
    let mut tasks = Vec::new();
    for w in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..10 {
                let write = PrivacyWrite {
                    grants: vec![grant("a", &format!("s{w}"), "c", 1, i % 2 == 0)],
                    events: vec![event(&format!("w{w}-{i}"), &format!("s{w}"), i)],
                    ..Default::default()
                };
                store.privacy_write(&tid("a"), &write, &PlainSigner).await.unwrap();
            }
        }));
    }
    // Verification reads while the appends commit: every read is one consistent snapshot (its
    // head is the number of events it holds), never a chain that looks cut short.
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (store, done) = (store.clone(), done.clone());
        tokio::spawn(async move {
            loop {
                let finished = done.load(std::sync::atomic::Ordering::SeqCst);
                let chain = store.ledger_chain(&tid("a")).await.unwrap();
                assert_eq!(
                    chain.head,
                    chain.events.len() as i64,
                    "a read during appends saw a head that does not match its events"
                );
                if finished {
                    return chain;
                }
                tokio::task::yield_now().await;
            }
        })
    };
    for t in tasks {
        t.await.unwrap();
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let chain = reader.await.unwrap();
    assert_eq!(chain.events.len(), 80);
    assert_chained(&chain.events);
    assert_eq!(chain.head, 80);
}

/// A write whose caller goes away at any point (an HTTP client disconnecting drops the future)
/// either happens whole or not at all, and never leaves a connection holding a transaction:
/// afterwards writes go through at once and the ledger is a gapless chain.
pub async fn cancelled_writes_leave_the_store_writable(store: Arc<dyn Store>) {
    store.create_tenant(&tenant("a")).await.unwrap();
    for i in 0..400u64 {
        let write = PrivacyWrite {
            grants: vec![grant("a", &format!("s{i}"), "c", 1, true)],
            events: vec![event(&format!("cancel-{i}"), &format!("s{i}"), 0)],
            ..Default::default()
        };
        // Cancelled after 0 to ~1 ms: before, during and after the BEGIN, the statements and
        // the COMMIT.
        let budget = std::time::Duration::from_micros((i * 37) % 1_000);
        let _ = tokio::time::timeout(budget, store.privacy_write(&tid("a"), &write, &PlainSigner)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    for i in 0..8 {
        let write = PrivacyWrite {
            grants: vec![grant("a", "after", "c", 1, i % 2 == 0)],
            events: vec![event(&format!("after-{i}"), "after", 0)],
            ..Default::default()
        };
        let done = tokio::time::timeout(
            std::time::Duration::from_secs(3),
            store.privacy_write(&tid("a"), &write, &PlainSigner),
        )
        .await;
        assert!(
            matches!(done, Ok(Ok(_))),
            "write {i} after cancelled writes: {:?}",
            done.map(|r| r.map(|_| ()))
        );
    }
    let chain = store.ledger_chain(&tid("a")).await.unwrap();
    assert_chained(&chain.events);
    assert_eq!(chain.head, chain.events.len() as i64);
    assert!(chain.events.iter().filter(|e| e.id.starts_with("after-")).count() == 8);
}

/// The admin audit trail: a chain of its own beside the privacy ledger (each gapless from 1),
/// its actor stored and signed, listed newest first by object (exact, or a kind), actor, date
/// and page, per tenant.
pub async fn audit_trail_appends_and_filters(store: Arc<dyn Store>) {
    store.create_tenant(&tenant("a")).await.unwrap();
    store.create_tenant(&tenant("b")).await.unwrap();
    let (a, b) = (tid("a"), tid("b"));
    let audited = |id: &str, object: &str, actor: &str, date: i64| NewLedgerEvent {
        actor: actor.into(),
        subject: object.into(),
        event_type: "updateClient".into(),
        ..event(id, object, date)
    };
    let rows = [
        ("e1", "clients/web", "client:boot", 100),
        ("e2", "servers/shop", "person:ada", 200),
        ("e3", "clients/web-2", "client:boot", 300),
        ("e4", "clients/web", "person:ada", 400),
    ];
    for (id, object, actor, date) in rows {
        let e = store
            .append_audit(&a, &audited(id, object, actor, date), &PlainSigner)
            .await
            .unwrap();
        assert_eq!((e.id.as_str(), e.actor.as_str()), (id, actor));
    }
    // The privacy ledger is a chain of its own: its first event is 1 still.
    let w = PrivacyWrite {
        events: vec![event("p1", "pat", 50)],
        ..Default::default()
    };
    assert_eq!(store.privacy_write(&a, &w, &PlainSigner).await.unwrap()[0].seq, 1);
    store
        .append_audit(&b, &audited("b1", "clients/web", "client:boot", 100), &PlainSigner)
        .await
        .unwrap();

    let chain = store.audit_chain(&a).await.unwrap();
    assert_eq!(chain.head, 4);
    assert_chained(&chain.events);
    assert_eq!(chain.events[1].actor, "person:ada");
    assert_eq!(store.ledger_chain(&a).await.unwrap().head, 1);

    let list = |f: AuditFilter| {
        let store = store.clone();
        let a = a.clone();
        async move {
            store
                .list_audit(&a, &f)
                .await
                .unwrap()
                .into_iter()
                .map(|e| e.id)
                .collect::<Vec<_>>()
        }
    };
    let all = AuditFilter {
        to: i64::MAX,
        limit: 100,
        ..Default::default()
    };
    assert_eq!(list(all.clone()).await, ["e4", "e3", "e2", "e1"], "newest first");
    let object = |o: &str| AuditFilter {
        object: Some(o.into()),
        ..all.clone()
    };
    assert_eq!(list(object("clients/web")).await, ["e4", "e1"], "exactly that object");
    assert_eq!(
        list(object("clients")).await,
        ["e4", "e3", "e1"],
        "every object of a kind"
    );
    assert!(list(object("clients/w")).await.is_empty(), "a prefix is not an object");
    assert!(list(object("client%")).await.is_empty(), "no pattern characters");
    let actor = AuditFilter {
        actor: Some("person:ada".into()),
        ..all.clone()
    };
    assert_eq!(list(actor).await, ["e4", "e2"]);
    let dates = AuditFilter {
        from: 200,
        to: 300,
        ..all.clone()
    };
    assert_eq!(list(dates).await, ["e3", "e2"]);
    let page = AuditFilter {
        before: Some(4),
        limit: 2,
        ..all.clone()
    };
    assert_eq!(list(page).await, ["e3", "e2"]);
    // Tenants never see each other's trail.
    let b_events = store.list_audit(&b, &all).await.unwrap();
    assert_eq!(b_events.len(), 1);
    assert_eq!(b_events[0].seq, 1);
}
