//! What each configuration write says it changed.

use super::*;

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
