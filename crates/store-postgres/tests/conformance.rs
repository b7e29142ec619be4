//! The store conformance suite on PostgreSQL, and the change feed. Runs on the server
//! `CASTELLAN_TEST_POSTGRES_URL` names, else on a throw-away cluster when PostgreSQL is installed;
//! reported as skipped otherwise.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use castellan_domain::{ClaimType, ClientId, ServerId, TenantId};
use castellan_store::conformance;
use castellan_store::{
    AccessStore, ClaimStore, ClientStore, ConfigChange, PolicyStore, ScopeStore, ServerStore, ServiceStore, Store,
    TenantStore, TokenStore,
};
use castellan_store_postgres::{PostgresStore, testing};

async fn fresh(server: &str) -> PostgresStore {
    let url = testing::fresh_database(server).await.unwrap();
    let store = PostgresStore::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    store
}

/// A fresh, migrated database on the test server, or `None` (reported as skipped) without one.
async fn fresh_store(check: &str) -> Option<Arc<dyn Store>> {
    let server = testing::server_url_or_skip(&format!("conformance::{check}"))?;
    Some(Arc::new(fresh(&server).await) as Arc<dyn Store>)
}

/// The store conformance suite, one test per check.
mod suite {
    castellan_store::conformance_suite!(super::fresh_store);
}

#[tokio::test]
async fn migrations_run_once_when_nodes_start_together() {
    let Some(server) = testing::server_url_or_skip("migrations_run_once_when_nodes_start_together") else {
        return;
    };
    let url = testing::fresh_database(&server).await.unwrap();
    let mut nodes = Vec::new();
    for _ in 0..4 {
        let url = url.clone();
        nodes.push(tokio::spawn(async move {
            let s = PostgresStore::connect(&url).await.unwrap();
            s.migrate().await.unwrap();
            s
        }));
    }
    let mut stores = Vec::new();
    for n in nodes {
        stores.push(n.await.unwrap());
    }
    // Bootstraps racing each other: exactly one writes.
    let mut racing = Vec::new();
    for (i, s) in stores.into_iter().enumerate() {
        racing.push(tokio::spawn(async move {
            let mut seed = castellan_store::BootstrapSeed {
                tenant: conformance::tenant(&format!("t{i}")),
                servers: vec![],
                scopes: vec![],
                clients: vec![],
                policies: vec![],
                key_check: format!("k{i}").into_bytes(),
            };
            seed.servers
                .push((conformance::server(&format!("t{i}"), "admin"), vec![]));
            s.bootstrap(&seed).await.unwrap()
        }));
    }
    let mut wrote = 0;
    for r in racing {
        wrote += usize::from(r.await.unwrap().is_some());
    }
    assert_eq!(wrote, 1, "exactly one bootstrap wrote");
    let s = PostgresStore::connect(&url).await.unwrap();
    let tenants = s.list_tenant_ids().await.unwrap();
    assert_eq!(tenants.len(), 1);
    // The key check kept is the winner's: every loser is held to the winner's master key.
    let winner = tenants[0].as_str().trim_start_matches('t');
    assert_eq!(s.key_check().await.unwrap(), Some(format!("k{winner}").into_bytes()));
}

async fn next(rx: &mut tokio::sync::mpsc::Receiver<ConfigChange>) -> ConfigChange {
    tokio::time::timeout(Duration::from_secs(1), rx.recv())
        .await
        .expect("a change within 1 s")
        .unwrap()
}

#[tokio::test]
async fn every_write_is_announced_to_other_nodes() {
    let Some(server) = testing::server_url_or_skip("every_write_is_announced_to_other_nodes") else {
        return;
    };
    let url = testing::fresh_database(&server).await.unwrap();
    let writer = PostgresStore::connect(&url).await.unwrap();
    writer.migrate().await.unwrap();
    let reader = PostgresStore::connect(&url).await.unwrap();
    let mut changes = reader.changes().await.unwrap().expect("PostgreSQL has a change feed");
    assert_eq!(
        next(&mut changes).await,
        ConfigChange::Everything,
        "a (re)connected listener reloads everything"
    );

    let t = TenantId::parse("a").unwrap();
    let aid = ServerId::parse("s").unwrap();
    let cid = ClientId::parse("c").unwrap();
    writer.create_tenant(&conformance::tenant("a")).await.unwrap();
    assert_eq!(next(&mut changes).await, ConfigChange::Tenant(t.clone()));
    writer
        .create_server(&conformance::server("a", "s"), &[], &[])
        .await
        .unwrap();
    assert_eq!(
        next(&mut changes).await,
        ConfigChange::Tenant(t.clone()),
        "a new server: the tenant"
    );
    writer
        .update_server(&conformance::server("a", "s"), None)
        .await
        .unwrap();
    let server_changed = ConfigChange::Server(t.clone(), aid.clone());
    assert_eq!(next(&mut changes).await, server_changed, "one server");
    // Scopes and claims are the server's configuration.
    let scope = conformance::scope("a", "s", "sc", "read");
    writer.create_scope(&scope).await.unwrap();
    assert_eq!(next(&mut changes).await, server_changed);
    writer.update_scope(&scope).await.unwrap();
    assert_eq!(next(&mut changes).await, server_changed);
    let claim = conformance::claim("a", "s", "cl", "email", ClaimType::IdToken);
    writer.create_claim(&claim).await.unwrap();
    assert_eq!(next(&mut changes).await, server_changed);
    writer.delete_claim(&t, &claim.id).await.unwrap();
    assert_eq!(next(&mut changes).await, server_changed);
    // A client is announced alone, so other nodes drop only it.
    let client = conformance::client("a", "s", "c");
    writer.create_client(&client).await.unwrap();
    let client_changed = ConfigChange::Client(t.clone(), cid.clone());
    assert_eq!(next(&mut changes).await, client_changed);
    writer.update_client(&client).await.unwrap();
    assert_eq!(next(&mut changes).await, client_changed);
    writer.delete_scope(&t, &scope.id).await.unwrap();
    assert_eq!(
        next(&mut changes).await,
        server_changed,
        "and its clients lose the scope"
    );
    writer.revoke_token(&t, &aid, "jti-1", 5_000).await.unwrap();
    let revoked = ConfigChange::Revoked(t.clone(), aid.clone());
    assert_eq!(next(&mut changes).await, revoked, "revocations: the server's list");
    writer.delete_client(&t, &cid, 100, 5_000).await.unwrap();
    assert_eq!(next(&mut changes).await, client_changed);
    assert_eq!(next(&mut changes).await, revoked, "the client's cutoff");
    // Bulk-created clients are cached nowhere yet: nothing to announce.
    writer
        .create_clients(&[
            conformance::client("a", "s", "bulk1"),
            conformance::client("a", "s", "bulk2"),
        ])
        .await
        .unwrap();
    writer.delete_server(&t, &aid, 100, 5_000).await.unwrap();
    assert_eq!(next(&mut changes).await, ConfigChange::Tenant(t.clone()));
    // Who may manage what: every mapping and role write, alone.
    let access = ConfigChange::Access(t.clone());
    let sts = conformance::sts_client("a", "svc@clients", "client.read");
    writer.create_sts_client(&sts).await.unwrap();
    assert_eq!(next(&mut changes).await, access);
    writer.update_sts_client(&sts).await.unwrap();
    assert_eq!(next(&mut changes).await, access);
    writer.delete_sts_client(&t, "svc@clients").await.unwrap();
    assert_eq!(next(&mut changes).await, access);
    let role = conformance::role("a", "r", "Shop-developers");
    writer.create_role(&role).await.unwrap();
    assert_eq!(next(&mut changes).await, access);
    let (map, _) = writer
        .add_connection_map(
            &t,
            &castellan_domain::ConnectionMap {
                id: 0,
                role_id: "r".into(),
                name: None,
                group_name: "devs".into(),
                connection_id: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(next(&mut changes).await, access);
    writer.update_role(&role).await.unwrap();
    assert_eq!(next(&mut changes).await, access);
    writer.delete_connection_map(&t, "r", map.id).await.unwrap();
    assert_eq!(next(&mut changes).await, access);
    writer.delete_role(&t, "r").await.unwrap();
    assert_eq!(next(&mut changes).await, access);
    // Policies: every write, alone.
    let policies = ConfigChange::Policies(t.clone());
    let p = conformance::policy("a", "p1", serde_json::json!([{"name": "true"}]));
    writer.create_policy(&p).await.unwrap();
    assert_eq!(next(&mut changes).await, policies);
    writer.update_policy(&p).await.unwrap();
    assert_eq!(next(&mut changes).await, policies);
    writer.delete_policy(&t, "p1").await.unwrap();
    assert_eq!(next(&mut changes).await, policies);
    // Services and APIs: every write, alone.
    let services = ConfigChange::Services(t.clone());
    writer
        .create_server(&conformance::server("a", "s2"), &[], &[])
        .await
        .unwrap();
    assert_eq!(next(&mut changes).await, ConfigChange::Tenant(t.clone()));
    let svc = conformance::service("a", "s2", "svc");
    writer.create_service(&svc).await.unwrap();
    assert_eq!(next(&mut changes).await, services);
    let api = conformance::api("a", "svc", "s2", "api1", "GET", "/x", 1);
    writer.create_api(&api).await.unwrap();
    assert_eq!(next(&mut changes).await, services);
    writer.update_api(&api).await.unwrap();
    assert_eq!(next(&mut changes).await, services);
    writer.delete_api(&t, "api1").await.unwrap();
    assert_eq!(next(&mut changes).await, services);
    writer.update_service(&svc).await.unwrap();
    assert_eq!(next(&mut changes).await, services);
    writer.delete_service(&t, "svc").await.unwrap();
    assert_eq!(next(&mut changes).await, services);
    assert!(
        writer.delete_role(&t, "r").await.unwrap().is_none(),
        "nothing deleted, nothing announced"
    );
    // A failed write announces nothing.
    assert!(writer.create_tenant(&conformance::tenant("a")).await.is_err());
    assert!(
        tokio::time::timeout(Duration::from_millis(300), changes.recv())
            .await
            .is_err()
    );
}

#[tokio::test]
async fn one_purge_at_a_time_across_nodes() {
    use castellan_store_sql::Backend;
    let Some(server) = testing::server_url_or_skip("one_purge_at_a_time_across_nodes") else {
        return;
    };
    let url = testing::fresh_database(&server).await.unwrap();
    let one = PostgresStore::connect(&url).await.unwrap();
    one.migrate().await.unwrap();
    let two = PostgresStore::connect(&url).await.unwrap();
    let turn = one.purge_turn().await.unwrap().expect("the turn is free");
    assert!(two.purge_turn().await.unwrap().is_none(), "another node holds it");
    assert_eq!(
        two.purge_expired_in_batches(10, castellan_store::PurgePace::default())
            .await
            .unwrap(),
        None,
        "skipped"
    );
    one.end_purge(turn).await;
    let purged = two
        .purge_expired_in_batches(10, castellan_store::PurgePace::default())
        .await
        .unwrap()
        .expect("its turn now");
    assert_eq!(purged.total(), 0);
    // A node that dies holding the turn gives it back with its connection.
    let turn = one.purge_turn().await.unwrap().expect("free again");
    drop(turn.conn.detach());
    for _ in 0..50 {
        if two.purge_turn().await.unwrap().is_some() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the lock of a closed connection was never released");
}
