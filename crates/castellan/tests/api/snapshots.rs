//! The configuration snapshot under writes: token requests running while clients are created,
//! re-keyed and deleted never see a deleted client's credentials or a replaced secret accepted,
//! and never fail because of a change to another client (on SQLite and on PostgreSQL; the
//! two-node version is in `cluster`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

/// The status of a client-credentials token request at `server` of the default tenant.
pub async fn token_status(app: &TestApp, server: &str, id: &str, secret: &str) -> u16 {
    app.raw(
        app.http
            .post(format!("{}/default/{server}/oauth2/token", app.base))
            .basic_auth(id, Some(secret))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials"),
    )
    .await
    .status
    .as_u16()
}

pub fn m2m_client(server: &str, id: &str, secret: &str) -> serde_json::Value {
    json!({"client_id": id, "client_secret": secret, "authorization_server_id": server,
           "grant_types": ["client_credentials"]})
}

/// Registers a client-credentials client with a chosen secret.
pub async fn create_m2m(app: &TestApp, server: &str, id: &str, secret: &str) {
    let r = app
        .admin(Method::POST, "/clients", Some(m2m_client(server, id, secret)))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
}

/// The ES256 server `busy` with `n` clients `steady-{i}` (secret version 0); their ids.
pub async fn busy_server(app: &TestApp, n: usize) -> Vec<String> {
    let created = app
        .admin(
            Method::POST,
            "/servers",
            Some(json!({"id": "busy", "key_type": "ecdsa"})),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let steady: Vec<String> = (0..n).map(|i| format!("steady-{i}")).collect();
    for id in &steady {
        create_m2m(app, "busy", id, &secret(id, 0)).await;
    }
    steady
}

pub fn secret(id: &str, version: u32) -> String {
    format!("{id}-secret-version-{version}-0123456789")
}

/// Token requests of `clients` in a loop until `stop`; counts the requests and any that failed.
pub fn readers(
    app: Arc<TestApp>,
    server: &'static str,
    clients: Vec<String>,
    stop: Arc<AtomicBool>,
) -> (
    tokio::task::JoinSet<()>,
    Arc<AtomicUsize>,
    Arc<std::sync::Mutex<Vec<String>>>,
) {
    let done = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut set = tokio::task::JoinSet::new();
    for r in 0..4 {
        let (app, clients, stop, done, failures) = (
            app.clone(),
            clients.clone(),
            stop.clone(),
            done.clone(),
            failures.clone(),
        );
        set.spawn(async move {
            let mut i = r;
            while !stop.load(Ordering::Relaxed) {
                let id = &clients[i % clients.len()];
                let status = token_status(&app, server, id, &secret(id, 0)).await;
                if status != 200 {
                    failures.lock().unwrap().push(format!("{id}: {status}"));
                }
                done.fetch_add(1, Ordering::Relaxed);
                i += 1;
            }
        });
    }
    (set, done, failures)
}

#[tokio::test]
async fn token_requests_during_client_writes_see_each_change_and_only_it() {
    let app = Arc::new(spawn_app().await);
    let steady = busy_server(&app, 8).await;
    let stop = Arc::new(AtomicBool::new(false));
    let (mut set, done, failures) = readers(app.clone(), "busy", steady, stop.clone());

    for i in 0..25 {
        let id = format!("churn-{i}");
        let (first, second) = (secret(&id, 1), secret(&id, 2));
        create_m2m(&app, "busy", &id, &first).await;
        assert_eq!(token_status(&app, "busy", &id, &first).await, 200, "{id}: created");
        let r = app
            .admin(
                Method::PUT,
                &format!("/clients/{id}"),
                Some(json!({"client_secret": second})),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(
            token_status(&app, "busy", &id, &first).await,
            401,
            "{id}: the replaced secret"
        );
        assert_eq!(
            token_status(&app, "busy", &id, &second).await,
            200,
            "{id}: the new secret"
        );
        // A change to the server itself (a scope) leaves its clients working.
        let scope = json!({"id": format!("sc-{i}"), "name": format!("scope-{i}"), "authorization_server_id": "busy"});
        assert_eq!(app.admin(Method::POST, "/scopes", Some(scope)).await.status, 201);
        assert_eq!(
            token_status(&app, "busy", &id, &second).await,
            200,
            "{id}: after a scope"
        );
        assert_eq!(
            app.admin(Method::DELETE, &format!("/clients/{id}"), None).await.status,
            204
        );
        assert_eq!(token_status(&app, "busy", &id, &second).await, 401, "{id}: deleted");
    }
    stop.store(true, Ordering::Relaxed);
    while set.join_next().await.is_some() {}
    assert!(done.load(Ordering::Relaxed) > 25, "the readers ran alongside");
    assert_eq!(
        *failures.lock().unwrap(),
        Vec::<String>::new(),
        "no reader saw an error"
    );
}
