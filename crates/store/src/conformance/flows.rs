//! Revocations, codes, refresh tokens, consents, sessions, and what deletions end.

use super::*;

pub async fn revocations_and_assertion_ids(store: Arc<dyn Store>) {
    store.create_tenant(&tenant("a")).await.unwrap();
    store.create_server(&server("a", "s1"), &[], &[]).await.unwrap();
    store.create_server(&server("a", "s2"), &[], &[]).await.unwrap();
    let revoked = |now| {
        let store = store.clone();
        async move {
            let mut v = store.list_revoked(&tid("a"), now).await.unwrap();
            v.sort();
            v
        }
    };
    assert!(revoked(0).await.is_empty());
    store.revoke_token(&tid("a"), &aid("s1"), "j1", 100).await.unwrap();
    store.revoke_token(&tid("a"), &aid("s1"), "j1", 100).await.unwrap();
    assert_eq!(
        revoked(0).await,
        vec![(aid("s1"), "j1".to_owned())],
        "recorded once, for its server"
    );
    store.revoke_token(&tid("a"), &aid("s2"), "j2", 300).await.unwrap();
    let mut live = store.list_revoked(&tid("a"), 150).await.unwrap();
    live.sort();
    assert_eq!(
        live,
        vec![(aid("s2"), "j2".to_owned())],
        "only unexpired revocations are listed"
    );
    assert_eq!(store.list_revoked(&tid("a"), 50).await.unwrap().len(), 2);
    assert!(store.use_assertion_id(&tid("a"), &aid("s1"), "x", 100).await.unwrap());
    assert!(
        !store.use_assertion_id(&tid("a"), &aid("s1"), "x", 100).await.unwrap(),
        "a replay"
    );
    assert!(store.use_assertion_id(&tid("a"), &aid("s2"), "x", 300).await.unwrap());
    assert_eq!(store.purge_expired(200).await.unwrap(), 2);
    assert_eq!(
        store.list_revoked(&tid("a"), 0).await.unwrap(),
        vec![(aid("s2"), "j2".to_owned())]
    );
    assert!(
        !store.use_assertion_id(&tid("a"), &aid("s2"), "x", 300).await.unwrap(),
        "not yet expired"
    );
}

pub async fn codes_are_redeemed_once(store: Arc<dyn Store>) {
    store.bootstrap(&seed("a")).await.unwrap();
    store.create_tenant_seeded(&seed("b")).await.unwrap();
    let code = CodeRecord {
        server_id: aid("default"),
        hash: "h1".into(),
        grant_id: "g1".into(),
        client_id: ClientId::parse("web").unwrap(),
        data: "{\"x\":1}".into(),
        expires_at: 600,
        used: false,
    };
    store.save_code(&tid("a"), &code).await.unwrap();
    assert_eq!(
        store.get_code(&tid("a"), &aid("default"), "h1").await.unwrap(),
        Some(code.clone())
    );
    assert_eq!(
        store.get_code(&tid("b"), &aid("default"), "h1").await.unwrap(),
        None,
        "tenant isolation"
    );
    assert_eq!(
        store.get_code(&tid("a"), &aid("admin"), "h1").await.unwrap(),
        None,
        "server isolation"
    );
    assert!(
        !store
            .redeem_code(&tid("b"), "h1", 100, &issued("g1", "j1", None))
            .await
            .unwrap()
    );
    assert!(
        !store
            .redeem_code(&tid("a"), "h1", 600, &issued("g1", "j1", None))
            .await
            .unwrap(),
        "expired"
    );
    assert!(
        store
            .redeem_code(&tid("a"), "h1", 100, &issued("g1", "j1", Some("r1")))
            .await
            .unwrap()
    );
    assert!(
        store
            .get_code(&tid("a"), &aid("default"), "h1")
            .await
            .unwrap()
            .unwrap()
            .used
    );
    assert!(
        !store
            .redeem_code(&tid("a"), "h1", 101, &issued("g1", "j2", None))
            .await
            .unwrap(),
        "used once"
    );
    let r = store
        .get_refresh(&tid("a"), &aid("default"), "r1")
        .await
        .unwrap()
        .unwrap();
    assert!(!r.used && !r.grant_revoked);
    assert_eq!(r.data, "{\"r\":\"r1\"}");
    // Replay: the grant is revoked with the access token it issued.
    assert_eq!(
        store.revoke_grant(&tid("a"), &aid("default"), "g1", 100).await.unwrap(),
        vec!["j1".to_owned()]
    );
    assert!(
        store
            .get_refresh(&tid("a"), &aid("default"), "r1")
            .await
            .unwrap()
            .unwrap()
            .grant_revoked
    );
    assert_eq!(
        store.list_revoked(&tid("a"), 100).await.unwrap(),
        vec![(aid("default"), "j1".to_owned())]
    );
}

pub async fn refresh_tokens_rotate_once_and_grants_revoke_everything(store: Arc<dyn Store>) {
    store.bootstrap(&seed("a")).await.unwrap();
    store
        .record_grant(&tid("a"), &issued("g", "j1", Some("r1")))
        .await
        .unwrap();
    assert!(
        store
            .rotate_refresh(&tid("a"), "r1", 100, &issued("g", "j2", Some("r2")))
            .await
            .unwrap()
    );
    assert!(
        !store
            .rotate_refresh(&tid("a"), "r1", 101, &issued("g", "j3", Some("r3")))
            .await
            .unwrap(),
        "once"
    );
    assert!(
        store
            .get_refresh(&tid("a"), &aid("default"), "r3")
            .await
            .unwrap()
            .is_none(),
        "nothing written"
    );
    let r1 = store
        .get_refresh(&tid("a"), &aid("default"), "r1")
        .await
        .unwrap()
        .unwrap();
    assert!(r1.used);
    assert!(
        !store
            .get_refresh(&tid("a"), &aid("default"), "r2")
            .await
            .unwrap()
            .unwrap()
            .used
    );
    assert!(
        store
            .get_refresh(&tid("b"), &aid("default"), "r2")
            .await
            .unwrap()
            .is_none()
    );
    let mut revoked = store.revoke_grant(&tid("a"), &aid("default"), "g", 100).await.unwrap();
    revoked.sort();
    assert_eq!(revoked, vec!["j1".to_owned(), "j2".to_owned()]);
    assert!(
        store
            .get_refresh(&tid("a"), &aid("default"), "r2")
            .await
            .unwrap()
            .unwrap()
            .grant_revoked
    );
    assert!(
        !store
            .rotate_refresh(&tid("a"), "r2", 102, &issued("g", "j4", Some("r4")))
            .await
            .unwrap(),
        "a revoked grant cannot be refreshed"
    );
    assert_eq!(store.list_revoked(&tid("a"), 0).await.unwrap().len(), 2);
    // Expired grants go with their refresh tokens.
    store.purge_expired(6_000).await.unwrap();
    assert!(
        store
            .get_refresh(&tid("a"), &aid("default"), "r2")
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn consents_and_sessions(store: Arc<dyn Store>) {
    store.bootstrap(&seed("a")).await.unwrap();
    let web = ClientId::parse("web").unwrap();
    assert_eq!(
        store
            .get_consent(&tid("a"), &aid("default"), &web, "alice")
            .await
            .unwrap(),
        None
    );
    let scopes = vec!["openid".to_owned(), "email".to_owned()];
    store
        .save_consent(&tid("a"), &aid("default"), &web, "alice", &scopes, 10)
        .await
        .unwrap();
    store
        .save_consent(&tid("a"), &aid("default"), &web, "alice", &scopes[..1], 11)
        .await
        .unwrap();
    assert_eq!(
        store
            .get_consent(&tid("a"), &aid("default"), &web, "alice")
            .await
            .unwrap(),
        Some(vec!["openid".to_owned()]),
        "replaced"
    );
    assert_eq!(
        store
            .get_consent(&tid("a"), &aid("default"), &web, "bob")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .get_consent(&tid("a"), &aid("admin"), &web, "alice")
            .await
            .unwrap(),
        None
    );
    let s = SessionRecord {
        server_id: aid("default"),
        id_hash: "sh".into(),
        subject: "alice".into(),
        auth_time: 1_700_000_000,
        data: "{}".into(),
        expires_at: 1_800_000_000,
        method_id: "static".into(),
    };
    store.create_session(&tid("a"), &s).await.unwrap();
    assert_eq!(
        store.get_session(&tid("a"), &aid("default"), "sh").await.unwrap(),
        Some(s)
    );
    assert_eq!(store.get_session(&tid("a"), &aid("admin"), "sh").await.unwrap(), None);
    assert!(store.delete_session(&tid("a"), &aid("default"), "sh").await.unwrap());
    assert!(!store.delete_session(&tid("a"), &aid("default"), "sh").await.unwrap());
    assert_eq!(store.get_session(&tid("a"), &aid("default"), "sh").await.unwrap(), None);
}

pub async fn people_and_pending_logins(store: Arc<dyn Store>) {
    store.bootstrap(&seed("a")).await.unwrap();
    store.create_tenant_seeded(&seed("b")).await.unwrap();
    let person = |subject: &str, upstream: &str, data: &str, at: i64| PersonRecord {
        server_id: aid("default"),
        subject: subject.into(),
        method_id: "oidc".into(),
        upstream_subject: upstream.into(),
        data: data.into(),
        created_at: at,
        updated_at: at,
    };
    let first = person("p1", "u-1", r#"{"email":"a@example.com"}"#, 10);
    assert_eq!(store.link_person(&tid("a"), &first).await.unwrap(), "p1");
    // Signing in again keeps the subject and refreshes the context.
    let again = person("p-other", "u-1", r#"{"email":"b@example.com"}"#, 20);
    assert_eq!(store.link_person(&tid("a"), &again).await.unwrap(), "p1");
    let got = store
        .get_person(&tid("a"), &aid("default"), "p1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (got.data.as_str(), got.created_at, got.updated_at),
        (again.data.as_str(), 10, 20)
    );
    assert_eq!(
        store.get_person(&tid("a"), &aid("default"), "p-other").await.unwrap(),
        None
    );
    assert_eq!(
        store.get_person(&tid("b"), &aid("default"), "p1").await.unwrap(),
        None,
        "tenants apart"
    );
    // Another method with the same upstream subject is another person.
    let mut other_method = person("p2", "u-1", "{}", 30);
    other_method.method_id = "custom".into();
    assert_eq!(store.link_person(&tid("a"), &other_method).await.unwrap(), "p2");

    let pending = PendingLogin {
        server_id: aid("default"),
        id_hash: "h1".into(),
        data: "{}".into(),
        result: None,
        expires_at: 100,
    };
    store.save_pending_login(&tid("a"), &pending).await.unwrap();
    assert_eq!(
        store
            .get_pending_login(&tid("b"), &aid("default"), "h1", 50)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .get_pending_login(&tid("a"), &aid("default"), "h1", 100)
            .await
            .unwrap(),
        None,
        "expired"
    );
    assert!(
        !store
            .answer_pending_login(&tid("a"), &aid("default"), "h1", "{}", 100)
            .await
            .unwrap()
    );
    assert!(
        store
            .answer_pending_login(&tid("a"), &aid("default"), "h1", r#"{"ok":1}"#, 50)
            .await
            .unwrap()
    );
    assert!(
        !store
            .answer_pending_login(&tid("a"), &aid("default"), "h1", "{}", 50)
            .await
            .unwrap(),
        "answered once"
    );
    assert_eq!(
        store
            .get_pending_login(&tid("a"), &aid("default"), "h1", 50)
            .await
            .unwrap()
            .unwrap()
            .result
            .as_deref(),
        Some(r#"{"ok":1}"#)
    );
    assert_eq!(
        store
            .take_pending_login(&tid("b"), &aid("default"), "h1", 50)
            .await
            .unwrap(),
        None
    );
    assert!(
        store
            .take_pending_login(&tid("a"), &aid("default"), "h1", 50)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        store
            .take_pending_login(&tid("a"), &aid("default"), "h1", 50)
            .await
            .unwrap(),
        None,
        "taken once"
    );
    let mut late = pending.clone();
    late.id_hash = "h2".into();
    store.save_pending_login(&tid("a"), &late).await.unwrap();
    assert_eq!(
        store
            .take_pending_login(&tid("a"), &aid("default"), "h2", 100)
            .await
            .unwrap(),
        None,
        "expired"
    );
}

pub async fn device_requests_are_settled_once(store: Arc<dyn Store>) {
    store.bootstrap(&seed("a")).await.unwrap();
    store.create_tenant_seeded(&seed("b")).await.unwrap();
    let request = |device: &str, user: &str| DeviceRecord {
        server_id: aid("default"),
        device_hash: device.into(),
        user_hash: user.into(),
        client_id: ClientId::parse("tv").unwrap(),
        data: r#"{"scopes":["openid"]}"#.into(),
        status: DeviceStatus::Pending,
        interval: 5,
        polled_at: 0,
        expires_at: 100,
    };
    let first = request("d1", "u1");
    assert!(store.save_device(&tid("a"), &first).await.unwrap());
    assert!(
        !store.save_device(&tid("a"), &request("d2", "u1")).await.unwrap(),
        "a user code is unique within its server"
    );
    assert!(
        !store.save_device(&tid("a"), &request("d1", "u2")).await.unwrap(),
        "so is a device code"
    );
    assert!(
        store.save_device(&tid("b"), &request("d1", "u1")).await.unwrap(),
        "tenants apart"
    );
    let get = |t: &'static str, d: &'static str| {
        let store = store.clone();
        async move { store.get_device(&tid(t), &aid("default"), d).await.unwrap() }
    };
    assert_eq!(get("a", "d1").await, Some(first.clone()));
    assert_eq!(get("a", "d2").await, None);
    let find = |t: &'static str, u: &'static str, now: i64| {
        let store = store.clone();
        async move {
            store
                .find_device_by_user_code(&tid(t), &aid("default"), u, now)
                .await
                .unwrap()
        }
    };
    assert_eq!(find("a", "u1", 50).await.map(|d| d.device_hash), Some("d1".into()));
    assert_eq!(find("a", "u1", 100).await, None, "expired");
    assert_eq!(find("a", "u9", 50).await, None);

    store
        .record_device_poll(&tid("a"), &aid("default"), "d1", 40, 10)
        .await
        .unwrap();
    let polled = get("a", "d1").await.unwrap();
    assert_eq!((polled.polled_at, polled.interval), (40, 10));
    assert_eq!(get("b", "d1").await.unwrap().polled_at, 0, "tenants apart");

    let settle = |d: &'static str, status, now| {
        let store = store.clone();
        async move {
            store
                .settle_device(&tid("a"), &aid("default"), d, status, 500, now)
                .await
                .unwrap()
        }
    };
    assert!(!settle("d1", DeviceStatus::Approved, 100).await, "expired");
    assert!(settle("d1", DeviceStatus::Approved, 50).await);
    assert!(!settle("d1", DeviceStatus::Denied, 50).await, "settled once");
    let settled = get("a", "d1").await.unwrap();
    assert_eq!((settled.status, settled.expires_at), (DeviceStatus::Approved, 500));
    assert_eq!(find("a", "u1", 50).await, None, "a settled code is not found again");
    assert_eq!(get("b", "d1").await.unwrap().status, DeviceStatus::Pending);

    assert!(store.purge_expired(200).await.unwrap() >= 1);
    assert_eq!(get("b", "d1").await, None, "purged once expired");
    assert!(get("a", "d1").await.is_some(), "kept while the device may still ask");
}

pub async fn deleting_a_client_ends_what_it_was_given(store: Arc<dyn Store>) {
    store.bootstrap(&seed("a")).await.unwrap();
    store.create_tenant_seeded(&seed("b")).await.unwrap();
    let web = client("a", "default", "web");
    store.create_client(&web).await.unwrap();
    store.create_client(&client("a", "default", "other")).await.unwrap();
    store.create_client(&client("b", "default", "web")).await.unwrap();
    store
        .record_grant(&tid("a"), &issued("g1", "j1", Some("r1")))
        .await
        .unwrap();
    store
        .record_grant(&tid("b"), &issued("g1", "jb", Some("rb")))
        .await
        .unwrap();
    let mut other = issued("g2", "j2", Some("r2"));
    other.client_id = ClientId::parse("other").unwrap();
    if let Some(r) = other.refresh.as_mut() {
        r.client_id = other.client_id.clone();
    }
    store.record_grant(&tid("a"), &other).await.unwrap();
    store
        .save_code(
            &tid("a"),
            &CodeRecord {
                server_id: aid("default"),
                hash: "c1".into(),
                grant_id: "g3".into(),
                client_id: web.id.clone(),
                data: "{}".into(),
                expires_at: 600,
                used: false,
            },
        )
        .await
        .unwrap();
    store
        .save_consent(&tid("a"), &aid("default"), &web.id, "alice", &["openid".into()], 10)
        .await
        .unwrap();
    assert!(
        store
            .delete_client(&tid("a"), &web.id, 100, 5_000)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        store.list_revoked(&tid("a"), 100).await.unwrap(),
        vec![(aid("default"), "j1".to_owned())],
        "its live access tokens are revoked, the other client's are not"
    );
    assert!(
        store
            .get_refresh(&tid("a"), &aid("default"), "r1")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .get_code(&tid("a"), &aid("default"), "c1")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        store
            .get_consent(&tid("a"), &aid("default"), &web.id, "alice")
            .await
            .unwrap(),
        None
    );
    assert!(
        store
            .get_refresh(&tid("a"), &aid("default"), "r2")
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .get_refresh(&tid("b"), &aid("default"), "rb")
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store.list_revoked(&tid("b"), 100).await.unwrap().is_empty(),
        "tenant isolation"
    );
    // A client re-created with the same id inherits nothing.
    store.create_client(&web).await.unwrap();
    assert!(
        store
            .get_refresh(&tid("a"), &aid("default"), "r1")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        store
            .get_consent(&tid("a"), &aid("default"), &web.id, "alice")
            .await
            .unwrap(),
        None
    );
}

pub async fn ending_subjects_revokes_their_grants_and_sessions(store: Arc<dyn Store>) {
    store.bootstrap(&seed("a")).await.unwrap();
    store
        .record_grant(&tid("a"), &issued("g1", "j1", Some("r1")))
        .await
        .unwrap();
    let mut bob = issued("g2", "j2", Some("r2"));
    bob.subject = "bob".into();
    store.record_grant(&tid("a"), &bob).await.unwrap();
    let web = ClientId::parse("web").unwrap();
    for who in ["alice", "bob"] {
        store
            .create_session(
                &tid("a"),
                &SessionRecord {
                    server_id: aid("default"),
                    id_hash: format!("s-{who}"),
                    subject: who.into(),
                    auth_time: 1,
                    data: "{}".into(),
                    expires_at: 1_800_000_000,
                    method_id: String::new(),
                },
            )
            .await
            .unwrap();
        store
            .save_consent(&tid("a"), &aid("default"), &web, who, &["openid".into()], 10)
            .await
            .unwrap();
    }
    let revoked = store
        .end_subjects(&tid("a"), &aid("admin"), &["alice".into()], 100)
        .await
        .unwrap();
    assert!(revoked.is_empty(), "another server's people are not touched");
    let revoked = store
        .end_subjects(&tid("a"), &aid("default"), &["alice".into()], 100)
        .await
        .unwrap();
    assert_eq!(revoked, vec!["j1".to_owned()]);
    assert_eq!(
        store.list_revoked(&tid("a"), 100).await.unwrap(),
        vec![(aid("default"), "j1".to_owned())]
    );
    assert!(
        store
            .get_refresh(&tid("a"), &aid("default"), "r1")
            .await
            .unwrap()
            .unwrap()
            .grant_revoked
    );
    assert!(
        !store
            .get_refresh(&tid("a"), &aid("default"), "r2")
            .await
            .unwrap()
            .unwrap()
            .grant_revoked
    );
    assert!(
        !store
            .rotate_refresh(&tid("a"), "r1", 101, &issued("g1", "j3", Some("r3")))
            .await
            .unwrap()
    );
    assert_eq!(
        store.get_session(&tid("a"), &aid("default"), "s-alice").await.unwrap(),
        None
    );
    assert!(
        store
            .get_session(&tid("a"), &aid("default"), "s-bob")
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        store
            .get_consent(&tid("a"), &aid("default"), &web, "alice")
            .await
            .unwrap(),
        None
    );
    assert!(
        store
            .get_consent(&tid("a"), &aid("default"), &web, "bob")
            .await
            .unwrap()
            .is_some()
    );
}
