//! Tenants, servers, clients, scopes and claims.

use super::*;

pub async fn claims_round_trip(store: Arc<dyn Store>) {
    store.create_tenant(&tenant("a")).await.unwrap();
    store.create_tenant(&tenant("b")).await.unwrap();
    store.create_server(&server("a", "s1"), &[], &[]).await.unwrap();
    store.create_server(&server("b", "s1"), &[], &[]).await.unwrap();
    let c1 = claim("a", "s1", "1", "email", ClaimType::IdToken);
    store.create_claim(&c1).await.unwrap();
    assert_eq!(store.get_claim(&tid("a"), &c1.id).await.unwrap(), Some(c1.clone()));
    // The same name may exist once per token type; ids are unique per tenant.
    store
        .create_claim(&claim("a", "s1", "2", "email", ClaimType::AccessToken))
        .await
        .unwrap();
    assert!(matches!(
        store
            .create_claim(&claim("a", "s1", "3", "email", ClaimType::IdToken))
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store
            .create_claim(&claim("a", "s1", "1", "other", ClaimType::IdToken))
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store
            .create_claim(&claim("a", "ghost", "4", "x", ClaimType::IdToken))
            .await,
        Err(StoreError::NotFound(_))
    ));
    store
        .create_claim(&claim("b", "s1", "1", "email", ClaimType::IdToken))
        .await
        .unwrap();
    let listed: Vec<_> = store
        .list_claims(&tid("a"), &aid("s1"))
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(
        listed,
        [ClaimId::parse("2").unwrap(), ClaimId::parse("1").unwrap()],
        "access_token before id_token"
    );
    let mut changed = c1.clone();
    changed.mapping = "emails.0".into();
    changed.scopes = vec![];
    store.update_claim(&changed).await.unwrap();
    assert_eq!(store.get_claim(&tid("a"), &c1.id).await.unwrap(), Some(changed));
    assert!(matches!(
        store
            .update_claim(&claim("a", "s1", "9", "x", ClaimType::IdToken))
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert!(store.delete_claim(&tid("a"), &c1.id).await.unwrap().is_some());
    assert!(store.delete_claim(&tid("a"), &c1.id).await.unwrap().is_none());
    assert!(
        store.get_claim(&tid("b"), &c1.id).await.unwrap().is_some(),
        "tenant b keeps its claim 1"
    );
    assert!(
        store
            .delete_server(&tid("a"), &aid("s1"), 100, 5_000)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store.list_claims(&tid("a"), &aid("s1")).await.unwrap().is_empty(),
        "deleted with the server"
    );
}

pub async fn bootstrap_writes_once(store: Arc<dyn Store>) {
    store.ping().await.unwrap();
    assert_eq!(store.key_check().await.unwrap(), None);
    assert!(
        store.bootstrap(&seed("default")).await.unwrap().is_some(),
        "first bootstrap writes"
    );
    assert!(
        store.bootstrap(&seed("other")).await.unwrap().is_none(),
        "second bootstrap writes nothing"
    );
    assert_eq!(
        store.key_check().await.unwrap(),
        Some(b"check-default".to_vec()),
        "the first bootstrap's key check is kept"
    );
    store.create_tenant_seeded(&seed("third")).await.unwrap();
    assert_eq!(store.key_check().await.unwrap(), Some(b"check-default".to_vec()));
    assert_eq!(
        store.list_tenant_ids().await.unwrap(),
        vec![tid("default"), tid("third")]
    );
    let servers = store.list_servers(&tid("default")).await.unwrap();
    assert_eq!(
        servers.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        ["admin", "default"]
    );
    assert_eq!(
        store.list_keys(&tid("default"), &aid("admin")).await.unwrap(),
        vec![key("k-admin")]
    );
    assert_eq!(
        store.list_scopes(&tid("default"), &aid("default")).await.unwrap(),
        vec![scope("default", "default", "s-openid", "openid")]
    );
    let c = store
        .get_client(&tid("default"), &ClientId::parse("bootstrap").unwrap())
        .await
        .unwrap();
    assert_eq!(c, Some(client("default", "admin", "bootstrap")));
}

pub async fn seeded_tenant_creation_is_all_or_nothing(store: Arc<dyn Store>) {
    store.create_tenant_seeded(&seed("a")).await.unwrap();
    assert_eq!(store.list_servers(&tid("a")).await.unwrap().len(), 2);
    assert!(matches!(
        store.create_tenant_seeded(&seed("a")).await,
        Err(StoreError::Conflict(_))
    ));
    // A seed whose client points at a missing server fails whole: no tenant is left behind.
    let mut broken = seed("b");
    broken.clients.push(client("b", "ghost", "c"));
    assert!(store.create_tenant_seeded(&broken).await.is_err());
    assert_eq!(store.get_tenant(&tid("b")).await.unwrap(), None);
    assert!(store.list_servers(&tid("b")).await.unwrap().is_empty());
}

pub async fn tenants_round_trip(store: Arc<dyn Store>) {
    store.create_tenant(&tenant("a")).await.unwrap();
    assert_eq!(store.get_tenant(&tid("a")).await.unwrap(), Some(tenant("a")));
    assert_eq!(store.get_tenant(&tid("nope")).await.unwrap(), None);
    assert!(matches!(
        store.create_tenant(&tenant("a")).await,
        Err(StoreError::Conflict(_))
    ));
    let mut t = tenant("a");
    t.name = "Renamed".into();
    t.authentication_context_settings
        .attributes
        .push(castellan_types::AuthenticationContextAttribute {
            name: "email".into(),
            description: "E-mail".into(),
        });
    store.update_tenant(&t).await.unwrap();
    assert_eq!(store.get_tenant(&tid("a")).await.unwrap(), Some(t));
    assert!(matches!(
        store.update_tenant(&tenant("nope")).await,
        Err(StoreError::NotFound(_))
    ));
}

pub async fn servers_round_trip(store: Arc<dyn Store>) {
    store.create_tenant(&tenant("a")).await.unwrap();
    let mut s = server("a", "s1");
    s.settings.key_type = KeyType::Ecdsa;
    s.settings.access_token_ttl = GoDuration::from_secs(90);
    s.settings.profiles = vec!["fapi_rw".into()];
    store.create_server(&s, &[key("k1")], &[]).await.unwrap();
    assert_eq!(store.get_server(&tid("a"), &aid("s1")).await.unwrap(), Some(s.clone()));
    assert!(matches!(
        store.create_server(&s, &[key("k2")], &[]).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store.list_keys(&tid("a"), &aid("s1")).await.unwrap(),
        vec![key("k1")],
        "failed create wrote nothing"
    );
    assert!(matches!(
        store.create_server(&server("ghost", "s1"), &[], &[]).await,
        Err(StoreError::NotFound(_))
    ));
    store.create_server(&server("a", "s0"), &[], &[]).await.unwrap();
    let ids: Vec<_> = store
        .list_servers(&tid("a"))
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(ids, [aid("s0"), aid("s1")]);
}

pub async fn server_update_replaces_keys_only_when_given(store: Arc<dyn Store>) {
    store.create_tenant(&tenant("a")).await.unwrap();
    store
        .create_server(&server("a", "s1"), &[key("k1")], &[])
        .await
        .unwrap();
    let mut s = server("a", "s1");
    s.name = "New name".into();
    s.updated_at += 10;
    store.update_server(&s, None).await.unwrap();
    assert_eq!(store.get_server(&tid("a"), &aid("s1")).await.unwrap(), Some(s.clone()));
    assert_eq!(store.list_keys(&tid("a"), &aid("s1")).await.unwrap(), vec![key("k1")]);
    store.update_server(&s, Some(&[key("k2"), key("k3")])).await.unwrap();
    let kids: Vec<_> = store
        .list_keys(&tid("a"), &aid("s1"))
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.kid)
        .collect();
    assert_eq!(kids, ["k2", "k3"]);
    assert!(matches!(
        store.update_server(&server("a", "nope"), None).await,
        Err(StoreError::NotFound(_))
    ));
}

pub async fn keys_are_replaced_only_while_unchanged(store: Arc<dyn Store>) {
    store.create_tenant(&tenant("a")).await.unwrap();
    store
        .create_server(&server("a", "s1"), &[key("k1")], &[])
        .await
        .unwrap();
    let (t, s) = (tid("a"), aid("s1"));
    let mut next = key("k2");
    next.status = KeyStatus::Next;
    next.activates_at = Some(1_700_003_600);
    let rotated = vec![key("k1"), next.clone()];
    // Two writers computed their change from the same keys: the first one wins, the second is
    // told the keys moved, and what the first wrote (every field) is what is stored.
    assert!(
        store
            .replace_keys(&t, &s, &[key("k1")], &rotated)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .replace_keys(&t, &s, &[key("k1")], &[key("k9")])
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(store.list_keys(&t, &s).await.unwrap(), rotated);
    let mut revoked = key("k1");
    revoked.status = KeyStatus::Revoked;
    revoked.revoked_at = Some(1_700_000_100);
    revoked.private_sealed = Vec::new();
    let mut retired = next;
    retired.status = KeyStatus::Retired;
    retired.retires_at = Some(1_700_010_000);
    let last = vec![revoked, retired];
    assert!(store.replace_keys(&t, &s, &rotated, &last).await.unwrap().is_some());
    assert_eq!(store.list_keys(&t, &s).await.unwrap(), last);
    assert!(matches!(
        store.replace_keys(&t, &aid("nope"), &[], &[]).await,
        Err(StoreError::NotFound(_))
    ));
    // Another tenant's server of the same id is another server.
    store.create_tenant(&tenant("b")).await.unwrap();
    assert!(matches!(
        store.replace_keys(&tid("b"), &s, &last, &[]).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.list_keys(&t, &s).await.unwrap(), last);
}

pub async fn deleting_a_server_deletes_what_is_under_it(store: Arc<dyn Store>) {
    store.create_tenant(&tenant("a")).await.unwrap();
    store
        .create_server(&server("a", "s1"), &[key("k1")], &[])
        .await
        .unwrap();
    store.create_client(&client("a", "s1", "c1")).await.unwrap();
    assert!(
        store
            .delete_server(&tid("a"), &aid("s1"), 100, 5_000)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .delete_server(&tid("a"), &aid("s1"), 100, 5_000)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(store.get_server(&tid("a"), &aid("s1")).await.unwrap(), None);
    assert!(store.list_keys(&tid("a"), &aid("s1")).await.unwrap().is_empty());
    assert_eq!(
        store
            .get_client(&tid("a"), &ClientId::parse("c1").unwrap())
            .await
            .unwrap(),
        None
    );
    // A server re-created under the same id starts empty.
    store.create_server(&server("a", "s1"), &[], &[]).await.unwrap();
    assert!(store.list_clients(&tid("a"), &aid("s1")).await.unwrap().is_empty());
}

pub async fn tenants_are_isolated(store: Arc<dyn Store>) {
    store.create_tenant(&tenant("a")).await.unwrap();
    store.create_tenant(&tenant("b")).await.unwrap();
    store
        .create_server(&server("a", "s1"), &[key("ka")], &[])
        .await
        .unwrap();
    store.create_client(&client("a", "s1", "c1")).await.unwrap();
    // The same ids may exist in another tenant, and stay apart.
    store
        .create_server(&server("b", "s1"), &[key("kb")], &[])
        .await
        .unwrap();
    assert_eq!(store.list_keys(&tid("b"), &aid("s1")).await.unwrap(), vec![key("kb")]);
    assert_eq!(
        store
            .get_client(&tid("b"), &ClientId::parse("c1").unwrap())
            .await
            .unwrap(),
        None
    );
    assert!(
        store
            .delete_server(&tid("b"), &aid("s1"), 100, 5_000)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store.get_server(&tid("a"), &aid("s1")).await.unwrap().is_some(),
        "tenant a untouched"
    );
    assert_eq!(store.list_keys(&tid("a"), &aid("s1")).await.unwrap(), vec![key("ka")]);
    assert!(store.list_servers(&tid("b")).await.unwrap().is_empty());
}

pub async fn clients_round_trip(store: Arc<dyn Store>) {
    store.create_tenant(&tenant("a")).await.unwrap();
    store.create_server(&server("a", "s1"), &[], &[]).await.unwrap();
    store.create_server(&server("a", "s2"), &[], &[]).await.unwrap();
    store.create_client(&client("a", "s1", "c1")).await.unwrap();
    store.create_client(&client("a", "s2", "c2")).await.unwrap();
    assert!(matches!(
        store.create_client(&client("a", "s2", "c1")).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.create_client(&client("a", "ghost", "c3")).await,
        Err(StoreError::NotFound(_))
    ));
    let in_s1 = store.list_clients(&tid("a"), &aid("s1")).await.unwrap();
    assert_eq!(in_s1, vec![client("a", "s1", "c1")]);
    let all: Vec<_> = store
        .list_tenant_clients(&tid("a"))
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(all, [ClientId::parse("c1").unwrap(), ClientId::parse("c2").unwrap()]);

    let mut c1 = client("a", "s1", "c1");
    c1.name = "renamed".into();
    c1.secret_hash = None;
    c1.settings.redirect_uris = vec!["https://app.example.com/cb".into()];
    store.update_client(&c1).await.unwrap();
    assert_eq!(store.get_client(&tid("a"), &c1.id).await.unwrap(), Some(c1.clone()));
    assert!(matches!(
        store.update_client(&client("a", "s1", "ghost")).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(
        store
            .delete_client(&tid("a"), &c1.id, 100, 5_000)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .delete_client(&tid("a"), &c1.id, 100, 5_000)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(store.get_client(&tid("a"), &c1.id).await.unwrap(), None);
}

pub async fn clients_are_created_in_bulk_all_or_nothing(store: Arc<dyn Store>) {
    store.create_tenant(&tenant("a")).await.unwrap();
    store.create_server(&server("a", "s1"), &[], &[]).await.unwrap();
    let batch: Vec<Client> = (0..250).map(|i| client("a", "s1", &format!("b{i:03}"))).collect();
    store.create_clients(&batch).await.unwrap();
    assert_eq!(store.list_clients(&tid("a"), &aid("s1")).await.unwrap(), batch);
    // One taken id, or one client of a missing server, and none of the batch is written.
    let taken = vec![client("a", "s1", "new1"), client("a", "s1", "b007")];
    assert!(matches!(
        store.create_clients(&taken).await,
        Err(StoreError::Conflict(_))
    ));
    let orphan = vec![client("a", "s1", "new2"), client("a", "ghost", "new3")];
    assert!(matches!(
        store.create_clients(&orphan).await,
        Err(StoreError::NotFound(_))
    ));
    for id in ["new1", "new2", "new3"] {
        let cid = ClientId::parse(id).unwrap();
        assert_eq!(store.get_client(&tid("a"), &cid).await.unwrap(), None, "{id}");
    }
    store.create_clients(&[]).await.unwrap();
    // Paged in id order, across servers, and only the tenant's own.
    store.create_server(&server("a", "s2"), &[], &[]).await.unwrap();
    store.create_client(&client("a", "s2", "b100x")).await.unwrap();
    store.create_tenant(&tenant("z")).await.unwrap();
    store.create_server(&server("z", "s1"), &[], &[]).await.unwrap();
    store.create_client(&client("z", "s1", "b050")).await.unwrap();
    let mut paged = Vec::new();
    let mut after: Option<ClientId> = None;
    loop {
        let page = store
            .list_tenant_clients_after(&tid("a"), after.as_ref(), 100)
            .await
            .unwrap();
        assert!(page.len() <= 100);
        match page.last() {
            Some(c) => after = Some(c.id.clone()),
            None => break,
        }
        paged.extend(page);
    }
    let ids: Vec<&str> = paged.iter().map(|c| c.id.as_str()).collect();
    let mut want: Vec<String> = (0..250).map(|i| format!("b{i:03}")).collect();
    want.insert(101, "b100x".into());
    assert_eq!(ids, want);
}

pub async fn scopes_round_trip(store: Arc<dyn Store>) {
    store.create_tenant(&tenant("a")).await.unwrap();
    store.create_tenant(&tenant("b")).await.unwrap();
    store.create_server(&server("a", "s1"), &[], &[]).await.unwrap();
    store.create_server(&server("a", "s2"), &[], &[]).await.unwrap();
    store.create_server(&server("b", "s1"), &[], &[]).await.unwrap();
    store.create_scope(&scope("a", "s1", "1", "read")).await.unwrap();
    assert_eq!(
        store.get_scope(&tid("a"), &ScopeId::parse("1").unwrap()).await.unwrap(),
        Some(scope("a", "s1", "1", "read"))
    );
    // Names are unique per server, ids per tenant.
    assert!(matches!(
        store.create_scope(&scope("a", "s1", "2", "read")).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.create_scope(&scope("a", "s2", "1", "write")).await,
        Err(StoreError::Conflict(_))
    ));
    store.create_scope(&scope("a", "s2", "2", "read")).await.unwrap();
    store.create_scope(&scope("b", "s1", "1", "read")).await.unwrap();
    assert!(matches!(
        store.create_scope(&scope("a", "ghost", "3", "x")).await,
        Err(StoreError::NotFound(_))
    ));
    store.create_scope(&scope("a", "s1", "3", "admin")).await.unwrap();
    let names: Vec<_> = store
        .list_scopes(&tid("a"), &aid("s1"))
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, ["admin", "read"]);
    assert_eq!(store.list_tenant_scopes(&tid("a")).await.unwrap().len(), 3);
    let mut sc = scope("a", "s1", "1", "read");
    sc.description = "Read things".into();
    store.update_scope(&sc).await.unwrap();
    assert_eq!(store.get_scope(&tid("a"), &sc.id).await.unwrap(), Some(sc.clone()));
    assert!(store.delete_scope(&tid("a"), &sc.id).await.unwrap().is_some());
    assert!(store.delete_scope(&tid("a"), &sc.id).await.unwrap().is_none());
    assert!(
        store.get_scope(&tid("b"), &sc.id).await.unwrap().is_some(),
        "tenant b keeps its scope 1"
    );
    // Deleting a server deletes its scopes, and cuts off every token it issued.
    assert!(
        store
            .delete_server(&tid("a"), &aid("s2"), 100, 5_000)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        store.list_cutoffs(&tid("a"), 200).await.unwrap(),
        vec![crate::TokenCutoff {
            server_id: aid("s2"),
            client_id: None,
            issued_before: 100
        }]
    );
    store.purge_expired(5_001).await.unwrap();
    assert!(
        store.list_cutoffs(&tid("a"), 0).await.unwrap().is_empty(),
        "purged once expired"
    );
    assert_eq!(
        store.get_scope(&tid("a"), &ScopeId::parse("2").unwrap()).await.unwrap(),
        None
    );
}

pub async fn deleting_a_scope_takes_it_off_clients(store: Arc<dyn Store>) {
    store.create_tenant(&tenant("a")).await.unwrap();
    store.create_server(&server("a", "s1"), &[], &[]).await.unwrap();
    store.create_server(&server("a", "s2"), &[], &[]).await.unwrap();
    store.create_scope(&scope("a", "s1", "1", "read")).await.unwrap();
    store.create_scope(&scope("a", "s2", "2", "read")).await.unwrap();
    let mut both = client("a", "s1", "both");
    both.settings.scopes = vec!["read".into(), "write".into()];
    store.create_client(&both).await.unwrap();
    store.create_client(&client("a", "s2", "elsewhere")).await.unwrap();
    assert!(
        store
            .delete_scope(&tid("a"), &ScopeId::parse("1").unwrap())
            .await
            .unwrap()
            .is_some()
    );
    let after = store.get_client(&tid("a"), &both.id).await.unwrap().unwrap();
    assert_eq!(after.settings.scopes, vec!["write".to_owned()]);
    assert_eq!(
        after.settings.privacy, both.settings.privacy,
        "the rest of the client is unchanged"
    );
    let elsewhere = store
        .get_client(&tid("a"), &ClientId::parse("elsewhere").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        elsewhere.settings.scopes,
        vec!["read".to_owned()],
        "another server's scope"
    );
}

pub async fn deleting_a_tenant_deletes_everything_of_it(store: Arc<dyn Store>) {
    for t in ["a", "b"] {
        store.create_tenant_seeded(&seed(t)).await.unwrap();
        store
            .create_sts_client(&sts_client(t, "ops", "client.read"))
            .await
            .unwrap();
        store.create_role(&role(t, "r1", "shop-developers")).await.unwrap();
    }
    let changes = store.delete_tenant(&tid("a")).await.unwrap();
    assert_eq!(changes, Some(Changes::one(ConfigChange::Tenant(tid("a")))));
    assert!(store.delete_tenant(&tid("a")).await.unwrap().is_none(), "deleted once");
    assert_eq!(store.get_tenant(&tid("a")).await.unwrap(), None);
    assert!(store.list_servers(&tid("a")).await.unwrap().is_empty());
    assert!(store.list_tenant_clients(&tid("a")).await.unwrap().is_empty());
    assert!(store.list_tenant_scopes(&tid("a")).await.unwrap().is_empty());
    assert!(store.list_policies(&tid("a")).await.unwrap().is_empty());
    assert!(store.list_sts_clients(&tid("a")).await.unwrap().is_empty());
    assert!(store.list_roles(&tid("a")).await.unwrap().is_empty());
    assert_eq!(store.list_tenant_ids().await.unwrap(), vec![tid("b")]);
    // The other tenant keeps all of its own.
    assert_eq!(store.list_servers(&tid("b")).await.unwrap().len(), 2);
    assert_eq!(store.list_tenant_clients(&tid("b")).await.unwrap().len(), 1);
    assert_eq!(store.list_roles(&tid("b")).await.unwrap().len(), 1);
    // Nothing is left over to collide with a tenant of the same id made afterwards.
    store.create_tenant_seeded(&seed("a")).await.unwrap();
    store
        .create_sts_client(&sts_client("a", "ops", "client.read"))
        .await
        .unwrap();
    store.create_role(&role("a", "r1", "shop-developers")).await.unwrap();
}
