//! The behaviour every [`Store`] adapter must show. Adapters expand [`conformance_suite!`] in
//! their tests with a factory that returns a fresh, migrated, empty store: one test per check.
// Test-support code: a failed expectation is meant to abort the test run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use castellan_domain::*;
use castellan_types::{AuthenticationContextSettings, Jwk, Jwks};

use crate::{
    BootstrapSeed, Changes, CodeRecord, ConfigChange, IssuedTokens, LedgerSigner, PrivacyWrite, RefreshRecord,
    ServiceImport, SessionRecord, Store, StoreError,
};

fn tid(s: &str) -> TenantId {
    TenantId::parse(s).unwrap()
}
fn aid(s: &str) -> ServerId {
    ServerId::parse(s).unwrap()
}

pub fn tenant(id: &str) -> Tenant {
    Tenant {
        id: tid(id),
        name: format!("Tenant {id}"),
        authentication_context_settings: AuthenticationContextSettings::default(),
        jwks: Jwks::default(),
        created_at: 1_700_000_000,
    }
}

pub fn server(t: &str, id: &str) -> AuthorizationServer {
    AuthorizationServer {
        tenant_id: tid(t),
        id: aid(id),
        name: format!("Server {id}"),
        system: false,
        settings: ServerSettings::default(),
        authentications: Vec::new(),
        secrets_sealed: vec![1, 2, 3],
        created_at: 1_700_000_000,
        updated_at: 1_700_000_000,
    }
}

pub fn key(kid: &str) -> SigningKey {
    SigningKey {
        kid: kid.into(),
        alg: SigningAlg::ES256,
        status: KeyStatus::Current,
        public_jwk: Jwk {
            kty: "EC".into(),
            kid: Some(kid.into()),
            ..Jwk::default()
        },
        private_sealed: vec![9, 9, 9],
        created_at: 1_700_000_000,
    }
}

pub fn client(t: &str, a: &str, id: &str) -> Client {
    Client {
        tenant_id: tid(t),
        server_id: aid(a),
        id: ClientId::parse(id).unwrap(),
        name: id.into(),
        system: false,
        grant_types: vec!["client_credentials".into()],
        token_endpoint_auth_method: "client_secret_basic".into(),
        secret_hash: Some(vec![7; 32]),
        secret_sealed: Some(vec![8; 40]),
        settings: ClientSettings {
            audience: vec!["x".into()],
            scopes: vec!["read".into()],
            privacy: Some(serde_json::json!({"scopes": {"read": {"purpose": "testing"}}})),
            ..ClientSettings::default()
        },
        created_at: 1_700_000_000,
    }
}

fn seed(t: &str) -> BootstrapSeed {
    BootstrapSeed {
        tenant: tenant(t),
        servers: vec![
            (server(t, "admin"), vec![key("k-admin")]),
            (server(t, "default"), vec![key("k-default")]),
        ],
        scopes: vec![scope(t, "default", "s-openid", "openid")],
        clients: vec![client(t, "admin", "bootstrap")],
        policies: vec![policy(t, "allow", serde_json::json!([{"name": "true"}]))],
        key_check: format!("check-{t}").into_bytes(),
    }
}

/// One `#[tokio::test]` per check of this suite, each on a fresh store: `$store` is an async fn
/// taking the check's name and returning a fresh, migrated, empty store, or `None` when the
/// adapter cannot run here (the adapter then reports the check as skipped).
///
/// ```ignore
/// mod conformance {
///     castellan_store::conformance_suite!(super::fresh_store);
/// }
/// ```
#[macro_export]
macro_rules! conformance_suite {
    ($store:path) => {
        $crate::conformance_suite!(@cases $store;
            bootstrap_writes_once,
            seeded_tenant_creation_is_all_or_nothing,
            tenants_round_trip,
            servers_round_trip,
            server_update_replaces_keys_only_when_given,
            deleting_a_server_deletes_what_is_under_it,
            tenants_are_isolated,
            clients_round_trip,
            clients_are_created_in_bulk_all_or_nothing,
            scopes_round_trip,
            revocations_and_assertion_ids,
            claims_round_trip,
            codes_are_redeemed_once,
            refresh_tokens_rotate_once_and_grants_revoke_everything,
            consents_and_sessions,
            deleting_a_client_ends_what_it_was_given,
            ending_subjects_revokes_their_grants_and_sessions,
            deleting_a_scope_takes_it_off_clients,
            sts_clients_and_roles_round_trip,
            policies_round_trip,
            privacy_consents_grants_and_the_ledger,
            concurrent_ledger_appends_leave_no_gaps,
            cancelled_writes_leave_the_store_writable,
            services_and_apis_round_trip,
            gateways_round_trip,
            writes_return_what_they_changed,
        );
    };
    (@cases $store:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                if let Some(store) = $store(stringify!($case)).await {
                    $crate::conformance::$case(store).await;
                }
            }
        )*
    };
}

pub fn policy(t: &str, id: &str, validators: serde_json::Value) -> Policy {
    Policy {
        tenant_id: tid(t),
        id: id.into(),
        name: format!("policy {id}"),
        language: "cloudentity".into(),
        validators,
        definition: None,
        read_only: id == "allow",
        imported_by: None,
        created_at: 1_700_000_000,
        updated_at: 1_700_000_000,
    }
}

pub fn sts_client(t: &str, id: &str, permissions: &str) -> StsClient {
    StsClient {
        tenant_id: tid(t),
        client_id: id.into(),
        description: Some(format!("mapping of {id}")),
        permissions: permissions.into(),
        created_by: Some("app".into()),
        modified_by: Some("app".into()),
        user_id: Some("bootstrap".into()),
        created_at: 1_700_000_000,
        modified_at: 1_700_000_000,
    }
}

pub fn role(t: &str, id: &str, name: &str) -> Role {
    Role {
        tenant_id: tid(t),
        id: id.into(),
        name: name.into(),
        audience: "https://api.example.com".into(),
        description: None,
        permissions: "client.read client.write".into(),
        connection_maps: Vec::new(),
        created_at: 1_700_000_000,
    }
}

fn map(role_id: &str, group: &str, connection: Option<&str>) -> ConnectionMap {
    ConnectionMap {
        id: 0,
        role_id: role_id.into(),
        name: Some(format!("{group} developers")),
        group_name: group.into(),
        connection_id: connection.map(Into::into),
    }
}

pub async fn sts_clients_and_roles_round_trip(store: Arc<dyn Store>) {
    store.create_tenant(&tenant("a")).await.unwrap();
    store.create_tenant(&tenant("b")).await.unwrap();
    let (a, b) = (tid("a"), tid("b"));

    // STS client mappings: ids with `@` and `:`, conflict, update, tenant isolation, delete.
    let m = sts_client("a", "svc@clients:1", "client.read");
    store.create_sts_client(&m).await.unwrap();
    assert!(matches!(
        store.create_sts_client(&m).await,
        Err(StoreError::Conflict(_))
    ));
    store.create_sts_client(&sts_client("a", "another", "*")).await.unwrap();
    store
        .create_sts_client(&sts_client("b", "svc@clients:1", "scope.read"))
        .await
        .unwrap();
    assert_eq!(
        store.get_sts_client(&a, "svc@clients:1").await.unwrap(),
        Some(m.clone())
    );
    let ids: Vec<String> = store
        .list_sts_clients(&a)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.client_id)
        .collect();
    assert_eq!(ids, ["another", "svc@clients:1"]);
    let changed = StsClient {
        permissions: "client.read scope.write".into(),
        description: None,
        modified_by: Some("other".into()),
        modified_at: 1_700_000_100,
        ..m.clone()
    };
    store.update_sts_client(&changed).await.unwrap();
    assert_eq!(store.get_sts_client(&a, "svc@clients:1").await.unwrap(), Some(changed));
    assert_eq!(
        store
            .get_sts_client(&b, "svc@clients:1")
            .await
            .unwrap()
            .unwrap()
            .permissions,
        "scope.read",
        "the other tenant's mapping of the same id is its own"
    );
    assert!(matches!(
        store.update_sts_client(&sts_client("a", "nobody", "*")).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(store.delete_sts_client(&a, "svc@clients:1").await.unwrap().is_some());
    assert!(store.delete_sts_client(&a, "svc@clients:1").await.unwrap().is_none());
    assert!(store.get_sts_client(&a, "svc@clients:1").await.unwrap().is_none());
    assert!(store.get_sts_client(&b, "svc@clients:1").await.unwrap().is_some());

    // Roles: names unique per tenant, connection maps with store-given ids, cascade on delete.
    let r = role("a", "r1", "Shop-developers");
    store.create_role(&r).await.unwrap();
    assert!(matches!(store.create_role(&r).await, Err(StoreError::Conflict(_))));
    assert!(
        matches!(
            store.create_role(&role("a", "r2", "Shop-developers")).await,
            Err(StoreError::Conflict(_))
        ),
        "the name is taken"
    );
    store.create_role(&role("b", "r2", "Shop-developers")).await.unwrap();
    let (m1, _) = store.add_connection_map(&a, &map("r1", "devs", None)).await.unwrap();
    let (m2, _) = store
        .add_connection_map(&a, &map("r1", "qa", Some("static")))
        .await
        .unwrap();
    assert_ne!(m1.id, m2.id);
    assert_eq!(m1.group_name, "devs");
    assert_eq!(m2.connection_id.as_deref(), Some("static"));
    assert!(matches!(
        store.add_connection_map(&a, &map("r1", "devs", None)).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.add_connection_map(&a, &map("nope", "devs", None)).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(
        matches!(
            store.add_connection_map(&b, &map("r1", "devs", None)).await,
            Err(StoreError::NotFound(_))
        ),
        "another tenant's role is not found"
    );
    let got = store.get_role(&a, "r1").await.unwrap().unwrap();
    assert_eq!(got.connection_maps, vec![m1.clone(), m2.clone()]);
    assert_eq!(
        Role {
            connection_maps: Vec::new(),
            ..got
        },
        r
    );
    let updated = Role {
        audience: "https://other.example.com".into(),
        description: Some("who builds the shop".into()),
        permissions: "scope.read".into(),
        ..r.clone()
    };
    store.update_role(&updated).await.unwrap();
    let got = store.get_role(&a, "r1").await.unwrap().unwrap();
    assert_eq!(got.audience, "https://other.example.com");
    assert_eq!(got.permissions, "scope.read");
    assert_eq!(got.connection_maps.len(), 2, "an update keeps the maps");
    assert!(matches!(
        store.update_role(&role("a", "nope", "x")).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(
        store.delete_connection_map(&b, "r1", m1.id).await.unwrap().is_none(),
        "tenant b cannot delete a's map"
    );
    assert!(
        store
            .delete_connection_map(&a, "r1", m1.id + 1000)
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.delete_connection_map(&a, "r1", m1.id).await.unwrap().is_some());
    assert_eq!(
        store.get_role(&a, "r1").await.unwrap().unwrap().connection_maps,
        vec![m2]
    );
    store.create_role(&role("a", "r0", "Admin-developers")).await.unwrap();
    let names: Vec<String> = store
        .list_roles(&a)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(names, ["Admin-developers", "Shop-developers"]);
    assert_eq!(store.list_roles(&a).await.unwrap()[1].connection_maps.len(), 1);
    assert!(store.delete_role(&a, "r1").await.unwrap().is_some());
    assert!(store.delete_role(&a, "r1").await.unwrap().is_none());
    // The maps went with it: a role re-created with the id starts with none.
    store.create_role(&r).await.unwrap();
    assert!(
        store
            .get_role(&a, "r1")
            .await
            .unwrap()
            .unwrap()
            .connection_maps
            .is_empty()
    );
    assert_eq!(store.list_roles(&b).await.unwrap().len(), 1);
}

pub fn claim(t: &str, a: &str, id: &str, name: &str, ty: ClaimType) -> Claim {
    Claim {
        tenant_id: tid(t),
        server_id: aid(a),
        id: ClaimId::parse(id).unwrap(),
        name: name.into(),
        mapping: format!("attr.{name}"),
        claim_type: ty,
        scopes: vec!["email".into(), "profile".into()],
        created_at: 1_700_000_000,
    }
}

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
}

pub fn scope(t: &str, a: &str, id: &str, name: &str) -> Scope {
    Scope {
        tenant_id: tid(t),
        server_id: aid(a),
        id: ScopeId::parse(id).unwrap(),
        name: name.into(),
        display_name: format!("Display {name}"),
        description: String::new(),
        developer_policy_id: None,
        user_policy_id: Some("block".into()),
        service_id: None,
        created_at: 1_700_000_000,
    }
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

fn issued(grant: &str, jti: &str, refresh: Option<&str>) -> IssuedTokens {
    IssuedTokens {
        server_id: aid("default"),
        grant_id: grant.into(),
        client_id: ClientId::parse("web").unwrap(),
        subject: "alice".into(),
        access_jti: jti.into(),
        access_expires_at: 1_000,
        refresh: refresh.map(|h| RefreshRecord {
            server_id: aid("default"),
            hash: h.into(),
            grant_id: grant.into(),
            client_id: ClientId::parse("web").unwrap(),
            data: format!("{{\"r\":\"{h}\"}}"),
            expires_at: 5_000,
            used: false,
            grant_revoked: false,
        }),
        grant_expires_at: 5_000,
    }
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

pub async fn policies_round_trip(store: Arc<dyn Store>) {
    // A seeded tenant has its seed's policies.
    store.create_tenant_seeded(&seed("a")).await.unwrap();
    store.create_tenant(&tenant("b")).await.unwrap();
    let (a, b) = (tid("a"), tid("b"));
    let allow = store.get_policy(&a, "allow").await.unwrap().unwrap();
    assert!(allow.read_only);
    assert_eq!(allow.validators, serde_json::json!([{"name": "true"}]));

    let mut p = policy(
        "a",
        "verified",
        serde_json::json!([{"name": "identity-context", "conf": {"fields": [
            {"field": "email_verified", "comparator": "equals", "value": true}]}, "recovery": []}]),
    );
    store.create_policy(&p).await.unwrap();
    assert!(matches!(store.create_policy(&p).await, Err(StoreError::Conflict(_))));
    assert_eq!(store.get_policy(&a, "verified").await.unwrap(), Some(p.clone()));
    assert_eq!(
        store.get_policy(&b, "verified").await.unwrap(),
        None,
        "tenant isolation"
    );
    let rego = Policy {
        language: "rego".into(),
        validators: serde_json::json!([]),
        definition: Some("package castellan\nallow := true\n".into()),
        ..policy("a", "rego-1", serde_json::json!([]))
    };
    store.create_policy(&rego).await.unwrap();
    let ids: Vec<String> = store
        .list_policies(&a)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(ids, ["allow", "rego-1", "verified"]);
    assert!(store.list_policies(&b).await.unwrap().is_empty());

    p.name = "renamed".into();
    p.validators = serde_json::json!([{"name": "false"}]);
    p.updated_at += 60;
    store.update_policy(&p).await.unwrap();
    assert_eq!(store.get_policy(&a, "verified").await.unwrap(), Some(p.clone()));
    let mut elsewhere = p.clone();
    elsewhere.tenant_id = b.clone();
    assert!(matches!(
        store.update_policy(&elsewhere).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(store.delete_policy(&b, "verified").await.unwrap().is_none());
    assert!(store.delete_policy(&a, "verified").await.unwrap().is_some());
    assert!(store.delete_policy(&a, "verified").await.unwrap().is_none());
    assert_eq!(store.get_policy(&a, "verified").await.unwrap(), None);
}

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

pub fn privacy_consent(t: &str, id: &str, version: i64) -> PrivacyConsent {
    PrivacyConsent {
        tenant_id: tid(t),
        id: id.into(),
        version,
        can_be_withdrawn: true,
        update_existing_grants: "explicitAll".into(),
        doc: castellan_types::privacy::Consent {
            id: Some(id.into()),
            name: Some(format!("consent {id}")),
            version: Some(version),
            ..Default::default()
        },
    }
}

fn event(id: &str, subject: &str, date: i64) -> NewLedgerEvent {
    NewLedgerEvent {
        id: id.into(),
        subject: subject.into(),
        date,
        event_type: "consent_granted".into(),
        payload: format!("{{\"e\":\"{id}\"}}"),
    }
}

pub fn grant(t: &str, subject: &str, consent: &str, version: i64, granted: bool) -> ConsentGrant {
    ConsentGrant {
        tenant_id: tid(t),
        subject: subject.into(),
        consent_id: consent.into(),
        version,
        granted,
        updated_at: 1_700_000_000,
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

pub fn service(t: &str, server: &str, id: &str) -> Service {
    Service {
        tenant_id: tid(t),
        id: id.into(),
        server_id: aid(server),
        name: format!("service {id}"),
        description: Some("d".into()),
        gateway_id: None,
        with_specification: false,
        created_at: 1_700_000_000,
    }
}

#[allow(clippy::too_many_arguments)]
pub fn api(t: &str, service: &str, server: &str, id: &str, method: &str, path: &str, position: i64) -> Api {
    Api {
        tenant_id: tid(t),
        id: id.into(),
        service_id: service.into(),
        server_id: aid(server),
        method: method.into(),
        path: path.into(),
        position,
        policy_id: None,
        data_classifications: vec!["pii".into()],
        can_have_policy: true,
        imported: false,
    }
}

pub async fn services_and_apis_round_trip(store: Arc<dyn Store>) {
    store.create_tenant_seeded(&seed("a")).await.unwrap();
    store.create_tenant_seeded(&seed("b")).await.unwrap();
    let (a, b) = (tid("a"), tid("b"));
    let pets = service("a", "default", "pets");
    store.create_service(&pets).await.unwrap();
    assert!(matches!(
        store.create_service(&pets).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.create_service(&service("a", "nope", "x")).await,
        Err(StoreError::NotFound(_))
    ));
    store.create_service(&service("a", "admin", "ops")).await.unwrap();
    store.create_service(&service("b", "default", "pets")).await.unwrap();
    assert_eq!(store.get_service(&a, "pets").await.unwrap(), Some(pets.clone()));
    let ids = |v: Vec<Service>| v.into_iter().map(|s| s.id).collect::<Vec<_>>();
    assert_eq!(ids(store.list_services(&a, None).await.unwrap()), ["ops", "pets"]);
    assert_eq!(
        ids(store.list_services(&a, Some(&aid("default"))).await.unwrap()),
        ["pets"]
    );
    let changed = Service {
        name: "Pets".into(),
        with_specification: true,
        gateway_id: Some("gw".into()),
        ..pets.clone()
    };
    store.update_service(&changed).await.unwrap();
    assert_eq!(store.get_service(&a, "pets").await.unwrap(), Some(changed));

    // APIs: by position; one method and path per service.
    store
        .create_api(&api("a", "pets", "default", "a2", "POST", "/pets", 2))
        .await
        .unwrap();
    store
        .create_api(&api("a", "pets", "default", "a1", "GET", "/pets/{id}", 1))
        .await
        .unwrap();
    assert!(matches!(
        store
            .create_api(&api("a", "pets", "default", "a3", "GET", "/pets/{id}", 3))
            .await,
        Err(StoreError::Conflict(_))
    ));
    store
        .create_api(&api("a", "ops", "admin", "o1", "GET", "/health", 1))
        .await
        .unwrap();
    store
        .create_api(&api("b", "pets", "default", "a1", "GET", "/pets", 1))
        .await
        .unwrap();
    let api_ids = |v: Vec<Api>| v.into_iter().map(|a| a.id).collect::<Vec<_>>();
    assert_eq!(
        api_ids(store.list_apis(&a, Some("pets"), None).await.unwrap()),
        ["a1", "a2"]
    );
    assert_eq!(
        api_ids(store.list_apis(&a, None, Some(&aid("admin"))).await.unwrap()),
        ["o1"]
    );
    assert_eq!(
        api_ids(store.list_apis(&a, None, None).await.unwrap()),
        ["o1", "a1", "a2"]
    );
    let mut a1 = store.get_api(&a, "a1").await.unwrap().unwrap();
    assert_eq!(a1, api("a", "pets", "default", "a1", "GET", "/pets/{id}", 1));
    a1.policy_id = Some("allow".into());
    a1.data_classifications = vec![];
    store.update_api(&a1).await.unwrap();
    assert_eq!(store.get_api(&a, "a1").await.unwrap(), Some(a1.clone()));
    assert!(matches!(
        store
            .update_api(&Api {
                tenant_id: tid("b"),
                id: "zz".into(),
                ..a1
            })
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert!(store.delete_api(&a, "a2").await.unwrap().is_some());
    assert!(store.delete_api(&a, "a2").await.unwrap().is_none());
    // Deleting a service deletes its APIs, in its tenant only.
    assert!(store.delete_service(&a, "pets").await.unwrap().is_some());
    assert!(store.list_apis(&a, Some("pets"), None).await.unwrap().is_empty());
    assert_eq!(store.list_apis(&b, Some("pets"), None).await.unwrap().len(), 1);
    assert!(store.delete_service(&a, "pets").await.unwrap().is_none());
    service_imports_are_all_or_nothing(&store).await;
}

/// An import replaces the service's APIs and the policies its previous import made in one
/// transaction; a failing part leaves everything as it was.
async fn service_imports_are_all_or_nothing(store: &Arc<dyn Store>) {
    let a = tid("a");
    let svc = service("a", "default", "shop");
    store.create_service(&svc).await.unwrap();
    store
        .create_api(&api("a", "shop", "default", "m1", "GET", "/manual", 1))
        .await
        .unwrap();
    let imported_policy = |id: &str| Policy {
        imported_by: Some("shop".into()),
        ..policy(
            "a",
            id,
            serde_json::json!([{"name": "scopes", "conf": {"scopes": ["orders"]}}]),
        )
    };
    let imported_api = |id: &str, path: &str, pos: i64| Api {
        imported: true,
        policy_id: Some("shop-orders".into()),
        ..api("a", "shop", "default", id, "GET", path, pos)
    };
    let first = ServiceImport {
        service: Service {
            with_specification: true,
            ..svc.clone()
        },
        remove_apis: vec!["m1".into()],
        remove_policies: vec![],
        policies: vec![imported_policy("shop-orders")],
        scopes: vec![Scope {
            service_id: Some("shop".into()),
            ..scope("a", "default", "s-orders", "orders")
        }],
        apis: vec![imported_api("i1", "/orders", 1), imported_api("i2", "/orders/{id}", 2)],
    };
    // The import says what it changed: services, policies (one written) and the server (a scope).
    assert_eq!(
        store.apply_service_import(&first).await.unwrap().0,
        [
            ConfigChange::Services(a.clone()),
            ConfigChange::Policies(a.clone()),
            ConfigChange::Server(a.clone(), aid("default")),
        ]
    );
    let apis = store.list_apis(&a, Some("shop"), None).await.unwrap();
    assert_eq!(apis, first.apis);
    assert_eq!(
        store.get_policy(&a, "shop-orders").await.unwrap(),
        Some(imported_policy("shop-orders"))
    );
    assert!(store.get_service(&a, "shop").await.unwrap().unwrap().with_specification);
    assert!(
        store
            .get_scope(&a, &ScopeId::parse("s-orders").unwrap())
            .await
            .unwrap()
            .is_some()
    );

    // A second import whose last API collides with its first: nothing changes.
    let broken = ServiceImport {
        remove_apis: vec!["i1".into(), "i2".into()],
        remove_policies: vec!["shop-orders".into()],
        policies: vec![imported_policy("shop-orders")],
        scopes: vec![],
        apis: vec![imported_api("j1", "/v2", 1), imported_api("j2", "/v2", 2)],
        ..first.clone()
    };
    assert!(matches!(
        store.apply_service_import(&broken).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.list_apis(&a, Some("shop"), None).await.unwrap(), first.apis);
    assert!(store.get_policy(&a, "shop-orders").await.unwrap().is_some());

    // Removal: the APIs and the policy go, the scope stays, the service has no specification.
    let removal = ServiceImport {
        service: svc.clone(),
        remove_apis: vec!["i1".into(), "i2".into()],
        remove_policies: vec!["shop-orders".into(), "allow".into()],
        policies: vec![],
        scopes: vec![],
        apis: vec![],
    };
    assert_eq!(
        store.apply_service_import(&removal).await.unwrap().0,
        [ConfigChange::Services(a.clone()), ConfigChange::Policies(a.clone())]
    );
    // Without policies or scopes, only the services changed.
    let plain = ServiceImport {
        remove_policies: vec![],
        ..removal.clone()
    };
    assert_eq!(
        store.apply_service_import(&plain).await.unwrap().0,
        [ConfigChange::Services(a.clone())]
    );
    assert!(store.list_apis(&a, Some("shop"), None).await.unwrap().is_empty());
    assert_eq!(store.get_policy(&a, "shop-orders").await.unwrap(), None);
    assert!(
        store.get_policy(&a, "allow").await.unwrap().is_some(),
        "built-in policies stay"
    );
    assert!(!store.get_service(&a, "shop").await.unwrap().unwrap().with_specification);
    assert!(
        store
            .get_scope(&a, &ScopeId::parse("s-orders").unwrap())
            .await
            .unwrap()
            .is_some()
    );
    assert!(matches!(
        store
            .apply_service_import(&ServiceImport {
                service: service("a", "default", "ghost"),
                ..removal
            })
            .await,
        Err(StoreError::NotFound(_))
    ));
}

pub fn gateway(t: &str, server: &str, id: &str) -> Gateway {
    Gateway {
        tenant_id: tid(t),
        id: id.into(),
        server_id: aid(server),
        name: format!("Gateway {id}"),
        description: Some("at the edge".into()),
        kind: "nginx".into(),
        client_id: ClientId::parse(format!("gw-{id}")).unwrap(),
        created_at: 1_700_000_000,
        last_active: None,
    }
}

/// A gateway comes with its client; deleting it disconnects its services.
pub async fn gateways_round_trip(store: Arc<dyn Store>) {
    store.create_tenant_seeded(&seed("a")).await.unwrap();
    store.create_tenant_seeded(&seed("b")).await.unwrap();
    let (a, b) = (tid("a"), tid("b"));
    let g = gateway("a", "default", "edge");
    store
        .create_gateway(&g, &client("a", "default", "gw-edge"))
        .await
        .unwrap();
    assert_eq!(store.get_gateway(&a, "edge").await.unwrap(), Some(g.clone()));
    assert!(
        store
            .get_client(&a, &ClientId::parse("gw-edge").unwrap())
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(store.get_gateway(&b, "edge").await.unwrap(), None, "tenant isolation");
    // The same id again: nothing written, not even a second client.
    assert!(matches!(
        store.create_gateway(&g, &client("a", "default", "gw-other")).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(
        store
            .get_client(&a, &ClientId::parse("gw-other").unwrap())
            .await
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        store
            .create_gateway(&gateway("a", "nope", "x"), &client("a", "default", "gw-x"))
            .await,
        Err(StoreError::NotFound(_))
    ));
    store
        .create_gateway(&gateway("a", "admin", "ops"), &client("a", "admin", "gw-ops"))
        .await
        .unwrap();
    let ids = |v: Vec<Gateway>| v.into_iter().map(|g| g.id).collect::<Vec<_>>();
    assert_eq!(ids(store.list_gateways(&a, None).await.unwrap()), ["edge", "ops"]);
    assert_eq!(
        ids(store.list_gateways(&a, Some(&aid("default"))).await.unwrap()),
        ["edge"]
    );
    let renamed = Gateway {
        name: "Edge".into(),
        description: None,
        ..g.clone()
    };
    store.update_gateway(&renamed).await.unwrap();
    store.touch_gateway(&a, "edge", 1_700_000_100).await.unwrap();
    assert_eq!(
        store.get_gateway(&a, "edge").await.unwrap(),
        Some(Gateway {
            last_active: Some(1_700_000_100),
            ..renamed
        })
    );
    // Deleting disconnects its services.
    let svc = Service {
        gateway_id: Some("edge".into()),
        ..service("a", "default", "pets")
    };
    store.create_service(&svc).await.unwrap();
    assert!(store.delete_gateway(&a, "edge").await.unwrap().is_some());
    assert!(store.delete_gateway(&a, "edge").await.unwrap().is_none());
    assert_eq!(store.get_service(&a, "pets").await.unwrap().unwrap().gateway_id, None);
    assert!(matches!(store.update_gateway(&g).await, Err(StoreError::NotFound(_))));
}

/// Every configuration write returns what it changed, decided by the store: the writer applies
/// exactly these to its own snapshots, and a shared store announces exactly these to the others.
pub async fn writes_return_what_they_changed(store: Arc<dyn Store>) {
    let t = tid("a");
    let s = aid("s");
    let changed = |c: &[ConfigChange]| Changes(c.to_vec());
    let one = |c: &ConfigChange| Changes::one(c.clone());
    let tenant_changed = ConfigChange::Tenant(t.clone());
    let server_changed = ConfigChange::Server(t.clone(), s.clone());
    let revoked = ConfigChange::Revoked(t.clone(), s.clone());
    let (access, policies, services) = (
        ConfigChange::Access(t.clone()),
        ConfigChange::Policies(t.clone()),
        ConfigChange::Services(t.clone()),
    );

    let tenant_changes = store.create_tenant(&tenant("a")).await.unwrap();
    assert_eq!(tenant_changes, one(&tenant_changed));
    assert_eq!(store.update_tenant(&tenant("a")).await.unwrap(), one(&tenant_changed));
    assert_eq!(
        store.create_server(&server("a", "s"), &[key("k")], &[]).await.unwrap(),
        one(&tenant_changed),
        "a new server: the tenant's set of servers"
    );
    assert_eq!(
        store.update_server(&server("a", "s"), None).await.unwrap(),
        one(&server_changed)
    );

    let sc = scope("a", "s", "sc", "read");
    assert_eq!(store.create_scope(&sc).await.unwrap(), one(&server_changed));
    assert_eq!(store.update_scope(&sc).await.unwrap(), one(&server_changed));
    let cl = claim("a", "s", "cl", "email", ClaimType::IdToken);
    assert_eq!(store.create_claim(&cl).await.unwrap(), one(&server_changed));
    assert_eq!(store.update_claim(&cl).await.unwrap(), one(&server_changed));
    assert_eq!(
        store.delete_claim(&t, &cl.id).await.unwrap(),
        Some(one(&server_changed))
    );
    assert_eq!(store.delete_claim(&t, &cl.id).await.unwrap(), None, "nothing to delete");

    let c = client("a", "s", "c");
    let client_changed = ConfigChange::Client(t.clone(), c.id.clone());
    assert_eq!(store.create_client(&c).await.unwrap(), one(&client_changed));
    assert_eq!(store.update_client(&c).await.unwrap(), one(&client_changed));
    assert_eq!(
        store
            .create_clients(&[client("a", "s", "bulk1"), client("a", "s", "bulk2")])
            .await
            .unwrap(),
        Changes::default(),
        "new clients are in no snapshot yet"
    );
    assert_eq!(
        store.delete_scope(&t, &sc.id).await.unwrap(),
        Some(one(&server_changed)),
        "the server, whose clients lose the scope"
    );
    assert_eq!(store.revoke_token(&t, &s, "jti-1", 5_000).await.unwrap(), one(&revoked));
    assert_eq!(
        store.delete_client(&t, &c.id, 100, 5_000).await.unwrap(),
        Some(changed(&[client_changed, revoked.clone()])),
        "the client, and its server's cutoffs"
    );
    assert_eq!(store.delete_client(&t, &c.id, 100, 5_000).await.unwrap(), None);

    let sts = sts_client("a", "svc@clients", "client.read");
    assert_eq!(store.create_sts_client(&sts).await.unwrap(), one(&access));
    assert_eq!(store.update_sts_client(&sts).await.unwrap(), one(&access));
    assert_eq!(
        store.delete_sts_client(&t, "svc@clients").await.unwrap(),
        Some(one(&access))
    );
    let r = role("a", "r", "Shop-developers");
    assert_eq!(store.create_role(&r).await.unwrap(), one(&access));
    assert_eq!(store.update_role(&r).await.unwrap(), one(&access));
    let (m, map_changes) = store.add_connection_map(&t, &map("r", "devs", None)).await.unwrap();
    assert_eq!(map_changes, one(&access));
    assert_eq!(
        store.delete_connection_map(&t, "r", m.id).await.unwrap(),
        Some(one(&access))
    );
    assert_eq!(store.delete_role(&t, "r").await.unwrap(), Some(one(&access)));

    let p = policy("a", "p1", serde_json::json!([{"name": "true"}]));
    assert_eq!(store.create_policy(&p).await.unwrap(), one(&policies));
    assert_eq!(store.update_policy(&p).await.unwrap(), one(&policies));
    assert_eq!(store.delete_policy(&t, "p1").await.unwrap(), Some(one(&policies)));

    let svc = service("a", "s", "svc");
    assert_eq!(store.create_service(&svc).await.unwrap(), one(&services));
    assert_eq!(store.update_service(&svc).await.unwrap(), one(&services));
    let a = api("a", "svc", "s", "api1", "GET", "/x", 1);
    assert_eq!(store.create_api(&a).await.unwrap(), one(&services));
    assert_eq!(store.update_api(&a).await.unwrap(), one(&services));
    assert_eq!(store.delete_api(&t, "api1").await.unwrap(), Some(one(&services)));
    let g = gateway("a", "s", "edge");
    let gw_client = client("a", "s", "gw-edge");
    assert_eq!(
        store.create_gateway(&g, &gw_client).await.unwrap(),
        changed(&[ConfigChange::Client(t.clone(), gw_client.id.clone()), services.clone()]),
        "the gateway's client, and the services the authorizer reads"
    );
    assert_eq!(store.update_gateway(&g).await.unwrap(), one(&services));
    assert_eq!(store.delete_gateway(&t, "edge").await.unwrap(), Some(one(&services)));
    assert_eq!(store.delete_service(&t, "svc").await.unwrap(), Some(one(&services)));
    assert_eq!(
        store.delete_server(&t, &s, 100, 5_000).await.unwrap(),
        Some(changed(&[tenant_changed])),
        "a deleted server: the tenant's set of servers"
    );
    assert_eq!(store.delete_server(&t, &s, 100, 5_000).await.unwrap(), None);
}
