//! Several castellan nodes on one PostgreSQL. Runs on the server CASTELLAN_TEST_POSTGRES_URL names,
//! else on a throw-away cluster when PostgreSQL is installed; reported as skipped otherwise.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use castellan::Config;
use castellan_store_postgres::testing;
use reqwest::Method;
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

use crate::helpers::*;

fn node_config(dir: &std::path::Path, url: &str) -> Config {
    let mut c = Config::for_tests(dir);
    c.policy_worker = Some(env!("CARGO_BIN_EXE_castellan").into());
    c.master_key = Some(MASTER_KEY.into());
    c.bootstrap_client_secret = Some(BOOTSTRAP_SECRET.into());
    c.database_url = Some(url.into());
    // Behind one load balancer every node has the same public URL.
    c.public_url = Some("https://castellan.example.com".into());
    c
}

async fn node(url: &str, start: castellan::Running, dir: tempfile::TempDir) -> TestApp {
    let cfg = node_config(dir.path(), url);
    TestApp {
        base: format!("http://{}", start.addr),
        running: Some(start),
        cfg,
        dir,
        http: reqwest::Client::new(),
        id: "bootstrap".into(),
        secret: BOOTSTRAP_SECRET.into(),
    }
}

/// Polls `check` until it holds or `within` passes; returns how long it took.
async fn eventually<F, Fut>(within: Duration, mut check: F) -> Option<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while start.elapsed() < within {
        if check().await {
            return Some(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

#[tokio::test]
async fn two_nodes_started_together_share_one_database() {
    let Some(server) = testing::server_url_or_skip("two_nodes_started_together_share_one_database") else {
        return;
    };
    let url = testing::fresh_database(&server).await.unwrap();
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (s1, s2) = tokio::join!(
        castellan::start(node_config(d1.path(), &url)),
        castellan::start(node_config(d2.path(), &url))
    );
    let (s1, s2) = (s1.unwrap(), s2.unwrap());
    assert_eq!(
        usize::from(s1.bootstrap.is_some()) + usize::from(s2.bootstrap.is_some()),
        1,
        "exactly one node bootstraps"
    );
    let a = node(&url, s1, d1).await;
    let b = node(&url, s2, d2).await;

    // Create through A, read through B.
    let created = a
        .admin(
            Method::POST,
            "/servers",
            Some(json!({"id": "shared", "key_type": "ecdsa"})),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let seen = b.admin(Method::GET, "/servers/shared", None).await;
    assert_eq!(
        seen.body, created.body,
        "B sees exactly what A created (keys and sealed secret included)"
    );

    // Update through B, read through A.
    let updated = b
        .admin(
            Method::PUT,
            "/servers/shared",
            Some(json!({"name": "Renamed", "access_token_ttl": "5m"})),
        )
        .await;
    assert_eq!(updated.status, 200);
    assert_eq!(a.admin(Method::GET, "/servers/shared", None).await.body, updated.body);
    let t = a
        .admin(Method::PUT, "/tenant", Some(json!({"name": "Shared tenant"})))
        .await;
    assert_eq!(b.admin(Method::GET, "/tenant", None).await.body, t.body);

    // Delete through A; gone at B.
    assert_eq!(a.admin(Method::DELETE, "/servers/shared", None).await.status, 204);
    assert_eq!(b.admin(Method::GET, "/servers/shared", None).await.status, 404);

    // B's in-memory snapshot (admin credentials) follows a change committed elsewhere within 1 s.
    let store = a.store().await;
    let master = castellan_jose::MasterKey::from_secret(MASTER_KEY).unwrap();
    let mut c = castellan_store::conformance::client("default", "admin", "second-admin");
    c.secret_hash = Some(master.secret_hasher().hash("second-admin-secret-0123456789"));
    store.create_client(&c).await.unwrap();
    let took = eventually(Duration::from_secs(1), || async {
        b.call(
            Method::GET,
            "/api/admin/default/tenant",
            None,
            Some(("second-admin", "second-admin-secret-0123456789")),
        )
        .await
        .status
            == 200
    })
    .await;
    assert!(took.is_some(), "node B accepts the new admin client within 1 s");

    // A token revoked through A is refused by B within 1 s (B keeps revocations in memory).
    let form = |app: &TestApp, path: &str, body: String| {
        app.http
            .post(format!("{}/default/admin/oauth2/{path}", app.base))
            .basic_auth("bootstrap", Some(BOOTSTRAP_SECRET))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
    };
    let token = a
        .raw(form(&a, "token", "grant_type=client_credentials".into()))
        .await
        .body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let b_active = || {
        let req = form(&b, "introspect", format!("token={token}"));
        let b = &b;
        async move { b.raw(req).await.body["active"] == true }
    };
    assert!(b_active().await, "B sees the token as active");
    assert_eq!(a.raw(form(&a, "revoke", format!("token={token}"))).await.status, 200);
    let took = eventually(Duration::from_secs(1), || async { !b_active().await }).await;
    assert!(took.is_some(), "node B sees the revocation within 1 s");

    // A client deleted through A: its token (recorded nowhere, client credentials) is refused by
    // B within 1 s, and stays refused after the client is created again with the same id.
    let doomed_client = json!({"client_id": "doomed", "client_secret": "doomed-client-secret-0123",
                               "authorization_server_id": "admin", "grant_types": ["client_credentials"]});
    let created = a.admin(Method::POST, "/clients", Some(doomed_client.clone())).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let doomed = a
        .raw(
            a.http
                .post(format!("{}/default/admin/oauth2/token", a.base))
                .basic_auth("doomed", Some("doomed-client-secret-0123"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body("grant_type=client_credentials"),
        )
        .await
        .body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let b_doomed_active = || {
        let req = form(&b, "introspect", format!("token={doomed}"));
        let b = &b;
        async move { b.raw(req).await.body["active"] == true }
    };
    assert!(b_doomed_active().await);
    assert_eq!(a.admin(Method::DELETE, "/clients/doomed", None).await.status, 204);
    let took = eventually(Duration::from_secs(1), || async { !b_doomed_active().await }).await;
    assert!(took.is_some(), "node B refuses a deleted client's token within 1 s");
    let again = a.admin(Method::POST, "/clients", Some(doomed_client)).await;
    assert_eq!(again.status, 201, "{}", again.body);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(!b_doomed_active().await, "re-created, the old token stays dead on B");
}

/// A TCP proxy standing in for the database's network: `stop` cuts every connection and refuses
/// new ones, `restart` serves again on the same port.
struct Proxy {
    addr: SocketAddr,
    target: SocketAddr,
    task: Option<JoinHandle<()>>,
}

impl Proxy {
    async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        Self {
            addr,
            target,
            task: Some(tokio::spawn(Self::serve(listener, target))),
        }
    }

    async fn serve(listener: TcpListener, target: SocketAddr) {
        // Dropping the set (when this task is aborted) aborts every connection.
        let mut conns = JoinSet::new();
        loop {
            let Ok((mut inbound, _)) = listener.accept().await else {
                continue;
            };
            conns.spawn(async move {
                if let Ok(mut outbound) = TcpStream::connect(target).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    }

    fn stop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }

    async fn restart(&mut self) {
        let listener = TcpListener::bind(self.addr).await.unwrap();
        self.task = Some(tokio::spawn(Self::serve(listener, self.target)));
    }
}

#[tokio::test]
async fn a_node_reports_a_lost_database_and_recovers_by_itself() {
    let Some(server) = testing::server_url_or_skip("a_node_reports_a_lost_database_and_recovers_by_itself") else {
        return;
    };
    let url = testing::fresh_database(&server).await.unwrap();
    let host_port = url.split('@').nth(1).unwrap().split('/').next().unwrap();
    let mut proxy = Proxy::start(host_port.parse().unwrap()).await;
    let via_proxy = url.replace(host_port, &proxy.addr.to_string());
    let dir = tempfile::tempdir().unwrap();
    let cfg = node_config(dir.path(), &via_proxy);
    let app = spawn_with(dir, cfg).await;
    let ready = || async { app.call(Method::GET, "/health/ready", None, None).await.status.as_u16() };
    assert_eq!(ready().await, 200);
    assert_eq!(app.admin(Method::GET, "/servers", None).await.status, 200);

    proxy.stop();
    assert!(
        eventually(Duration::from_secs(15), || async { ready().await == 503 })
            .await
            .is_some(),
        "readiness goes to 503"
    );
    let r = app.admin(Method::GET, "/servers", None).await;
    let e = assert_api_error(&r, 503);
    assert!(!e.to_string().contains("postgres"), "no internals leak: {e}");
    let r = app
        .admin(Method::POST, "/servers", Some(json!({"id": "during-outage"})))
        .await;
    assert_api_error(&r, 503);

    proxy.restart().await;
    assert!(
        eventually(Duration::from_secs(15), || async { ready().await == 200 })
            .await
            .is_some(),
        "recovers by itself"
    );
    let r = app.admin(Method::GET, "/servers", None).await;
    assert_eq!(r.status, 200);
    let ids: Vec<_> = r.body["servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].clone())
        .collect();
    assert_eq!(
        ids,
        [json!("admin"), json!("default"), json!("developer")],
        "nothing half-written during the outage"
    );
    assert_eq!(
        app.admin(Method::POST, "/servers", Some(json!({"id": "after-outage"})))
            .await
            .status,
        201
    );
}

#[tokio::test]
async fn nodes_with_different_master_keys_started_together_cannot_both_run() {
    let Some(server) = testing::server_url_or_skip("nodes_with_different_master_keys_started_together_cannot_both_run")
    else {
        return;
    };
    for round in 0..3 {
        let url = testing::fresh_database(&server).await.unwrap();
        let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let mut c2 = node_config(d2.path(), &url);
        c2.master_key = Some("a different master key: 0123456789abcdef0123".into());
        let (s1, s2) = tokio::join!(castellan::start(node_config(d1.path(), &url)), castellan::start(c2));
        let (ok, refused) = match (s1, s2) {
            (Ok(a), Err(e)) | (Err(e), Ok(a)) => (a, e.to_string()),
            (Ok(_), Ok(_)) => panic!("round {round}: both nodes run with different master keys"),
            (Err(a), Err(b)) => panic!("round {round}: both refused: {a} / {b}"),
        };
        assert!(
            ok.bootstrap.is_some(),
            "the node that runs is the one that bootstrapped"
        );
        assert!(
            refused.contains("CASTELLAN_MASTER_KEY"),
            "the refusal names the key: {refused}"
        );
        ok.stop().await.unwrap();
    }
}

#[tokio::test]
async fn clients_changed_on_one_node_are_changed_on_the_other_while_it_serves() {
    let name = "clients_changed_on_one_node_are_changed_on_the_other_while_it_serves";
    let Some(server) = testing::server_url_or_skip(name) else {
        return;
    };
    use crate::snapshots::{busy_server, create_m2m, readers, secret, token_status};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let url = testing::fresh_database(&server).await.unwrap();
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let s1 = castellan::start(node_config(d1.path(), &url)).await.unwrap();
    let s2 = castellan::start(node_config(d2.path(), &url)).await.unwrap();
    let a = node(&url, s1, d1).await;
    let b = Arc::new(node(&url, s2, d2).await);
    let steady = busy_server(&a, 4).await;
    let b_sees = |id: String, secret: String, status: u16| {
        let b = b.clone();
        async move {
            eventually(Duration::from_secs(1), || async {
                token_status(&b, "busy", &id, &secret).await == status
            })
            .await
            .is_some()
        }
    };
    for id in &steady {
        assert!(b_sees(id.clone(), secret(id, 0), 200).await, "{id} on B");
    }
    let stop = Arc::new(AtomicBool::new(false));
    let (mut set, done, failures) = readers(b.clone(), "busy", steady, stop.clone());
    for i in 0..8 {
        let id = format!("churn-{i}");
        let (first, second) = (secret(&id, 1), secret(&id, 2));
        create_m2m(&a, "busy", &id, &first).await;
        assert!(
            b_sees(id.clone(), first.clone(), 200).await,
            "{id}: created on A, usable on B"
        );
        let change = json!({"client_secret": second});
        assert_eq!(
            a.admin(Method::PUT, &format!("/clients/{id}"), Some(change))
                .await
                .status,
            200
        );
        assert!(
            b_sees(id.clone(), first.clone(), 401).await,
            "{id}: B refuses the replaced secret"
        );
        assert_eq!(
            token_status(&b, "busy", &id, &second).await,
            200,
            "{id}: and takes the new one"
        );
        assert_eq!(
            a.admin(Method::DELETE, &format!("/clients/{id}"), None).await.status,
            204
        );
        assert!(
            b_sees(id.clone(), second.clone(), 401).await,
            "{id}: deleted on A, refused on B"
        );
    }
    stop.store(true, Ordering::Relaxed);
    while set.join_next().await.is_some() {}
    assert!(done.load(Ordering::Relaxed) > 8, "B served alongside");
    assert_eq!(
        *failures.lock().unwrap(),
        Vec::<String>::new(),
        "no request on B failed"
    );
}

#[tokio::test]
async fn a_change_missed_while_disconnected_is_picked_up_on_reconnecting() {
    let name = "a_change_missed_while_disconnected_is_picked_up_on_reconnecting";
    let Some(server) = testing::server_url_or_skip(name) else {
        return;
    };
    use crate::snapshots::{create_m2m, secret, token_status};
    let url = testing::fresh_database(&server).await.unwrap();
    let host_port = url.split('@').nth(1).unwrap().split('/').next().unwrap();
    let mut proxy = Proxy::start(host_port.parse().unwrap()).await;
    let via_proxy = url.replace(host_port, &proxy.addr.to_string());
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = node(&url, castellan::start(node_config(d1.path(), &url)).await.unwrap(), d1).await;
    let b = node(
        &via_proxy,
        castellan::start(node_config(d2.path(), &via_proxy)).await.unwrap(),
        d2,
    )
    .await;
    create_m2m(&a, "default", "kept", &secret("kept", 1)).await;
    assert_eq!(
        token_status(&b, "default", "kept", &secret("kept", 1)).await,
        200,
        "B caches it"
    );

    // B loses the database; A re-keys the client meanwhile. The notification is lost.
    proxy.stop();
    let ready = || async { b.call(Method::GET, "/health/ready", None, None).await.status.as_u16() };
    assert!(
        eventually(Duration::from_secs(15), || async { ready().await == 503 })
            .await
            .is_some()
    );
    let change = json!({"client_secret": secret("kept", 2)});
    assert_eq!(a.admin(Method::PUT, "/clients/kept", Some(change)).await.status, 200);
    proxy.restart().await;
    let took = eventually(Duration::from_secs(15), || async {
        token_status(&b, "default", "kept", &secret("kept", 1)).await == 401
    })
    .await;
    assert!(
        took.is_some(),
        "after reconnecting, B refuses the secret replaced while it was away"
    );
    assert_eq!(token_status(&b, "default", "kept", &secret("kept", 2)).await, 200);
}

#[tokio::test]
async fn permission_changes_on_one_node_apply_on_the_other() {
    let name = "permission_changes_on_one_node_apply_on_the_other";
    let Some(server) = testing::server_url_or_skip(name) else {
        return;
    };
    let url = testing::fresh_database(&server).await.unwrap();
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let s1 = castellan::start(node_config(d1.path(), &url)).await.unwrap();
    let s2 = castellan::start(node_config(d2.path(), &url)).await.unwrap();
    let a = node(&url, s1, d1).await;
    let b = node(&url, s2, d2).await;
    let r = a
        .admin(
            Method::POST,
            "/clients",
            Some(json!({"client_id": "bot", "authorization_server_id": "admin",
                        "grant_types": ["client_credentials"], "client_secret": "bot-secret-0123456789"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let tenant_status = |node: &TestApp| {
        let req = node
            .http
            .get(format!("{}/api/admin/default/tenant", node.base))
            .basic_auth("bot", Some("bot-secret-0123456789"));
        async move { req.send().await.unwrap().status().as_u16() }
    };
    assert!(
        eventually(Duration::from_secs(2), || async { tenant_status(&b).await == 200 })
            .await
            .is_some()
    );
    // Mapped read-only for clients on A: B refuses the tenant at once.
    let r = a
        .call(
            Method::POST,
            "/v1/sts-clients",
            Some(json!({"clientId": "bot", "permissions": "client.read"})),
            Some(("bootstrap", BOOTSTRAP_SECRET)),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(
        eventually(Duration::from_secs(2), || async { tenant_status(&b).await == 403 })
            .await
            .is_some(),
        "the mapping made on A applies on B"
    );
    // Deleted on B: A gives `*` back.
    let r = b
        .call(
            Method::DELETE,
            "/v1/sts-clients/bot",
            None,
            Some(("bootstrap", BOOTSTRAP_SECRET)),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert!(
        eventually(Duration::from_secs(2), || async { tenant_status(&a).await == 200 })
            .await
            .is_some(),
        "the deletion made on B applies on A"
    );
}
