//! Configuration export and import (`/api/system/configuration`): a tenant built from a
//! hand-written dump, exported with its secrets, imported into another installation with
//! another master key, where its clients, users, policies and gateway keep working.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::permissions::{Cred, call, map};
use crate::tokens::form;

/// A tenant holding one of every kind of object, as a person would write it.
fn acme() -> Value {
    json!({
        "tenants": [{"id": "acme", "name": "Acme"}],
        "policies": [{"id": "pets-reader", "policy_name": "Pets reader", "tenant_id": "acme",
            "validators": [{"name": "scopes", "conf": {"scopes": ["pets.read"]}}]}],
        "servers": [{"id": "shop", "tenant_id": "acme", "name": "Shop", "key_type": "ecdsa",
            "grant_types": ["client_credentials", "password", "refresh_token", "authorization_code"],
            "authentications": {"methods": [{"id": "people", "method": "static", "static": {"users": [
                {"username": "alice", "password": "alice-password-1", "authentication_context": {"email": "alice@example.com"}}]}}]}}],
        "services": [{"id": "pets", "name": "Pets", "tenant_id": "acme", "authorization_server_id": "shop",
            "gateway_id": "edge", "scopes": [{"name": "pets.read", "authorization_server_id": "shop"}]}],
        "scopes_without_service": [{"name": "orders.read", "authorization_server_id": "shop", "tenant_id": "acme"}],
        "claims": [{"id": "email-claim", "tenant_id": "acme", "authorization_server_id": "shop", "name": "email",
            "mapping": "email", "type": "access_token"}],
        "clients": [
            {"client_id": "reader", "tenant_id": "acme", "authorization_server_id": "shop",
             "client_secret": "reader-secret-0123456789", "grant_types": ["client_credentials"], "scopes": ["pets.read"]},
            {"client_id": "stranger", "tenant_id": "acme", "authorization_server_id": "shop",
             "client_secret": "stranger-secret-0123456789", "grant_types": ["client_credentials"], "scopes": ["orders.read"]},
            {"client_id": "app", "tenant_id": "acme", "authorization_server_id": "shop",
             "client_secret": "app-secret-0123456789abc", "grant_types": ["password"], "scopes": ["orders.read"]},
            {"client_id": "edge-gw", "tenant_id": "acme", "authorization_server_id": "shop",
             "client_secret": "edge-secret-0123456789", "grant_types": ["client_credentials"]}],
        "gateways": [{"id": "edge", "tenant_id": "acme", "authorization_server_id": "shop", "client_id": "edge-gw",
            "name": "Edge", "type": "nginx"}],
        "apis": [{"id": "list-pets", "tenant_id": "acme", "service_id": "pets", "method": "GET", "path": "/pets",
            "policy_id": "pets-reader"}],
        "consents": [{"id": "eula", "tenant_id": "acme", "name": "EULA", "update_existing_grants": "explicitAll"}],
        "consent_actions": [{"id": "signup", "tenant_id": "acme", "name": "signup",
            "consents": [{"id": "eula", "required": true}]}],
        "roles": [{"tenant_id": "acme", "id": "shop-devs", "name": "Shop-developers", "audience": "https://shop.example",
            "permissions": "client.read", "connection_maps": [{"group_name": "shop-team"}]}],
        "sts_clients": [{"tenant_id": "acme", "client_id": "reporting", "permissions": "client.read"}]
    })
}

async fn import(app: &TestApp, query: &str, dump: &Value) -> Resp {
    call(
        app,
        Cred::Basic(&app.id, &app.secret),
        Method::PUT,
        &format!("/api/system/configuration{query}"),
        Some(dump.clone()),
    )
    .await
}

async fn export(app: &TestApp, query: &str) -> Value {
    let r = call(
        app,
        Cred::Basic(&app.id, &app.secret),
        Method::GET,
        &format!("/api/system/configuration{query}"),
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

async fn token(app: &TestApp, id: &str, secret: &str, extra: &[(&str, &str)]) -> Resp {
    let mut params = vec![("grant_type", "client_credentials")];
    params.extend_from_slice(extra);
    form(
        app,
        &format!("{}/acme/shop/oauth2/token", app.base),
        Some((id, secret)),
        &params,
    )
    .await
}

async fn alice(app: &TestApp) -> Resp {
    form(
        app,
        &format!("{}/acme/shop/oauth2/token", app.base),
        Some(("app", "app-secret-0123456789abc")),
        &[
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", "alice-password-1"),
        ],
    )
    .await
}

/// The gateway's authorizer asked about `GET /pets` with `bearer`.
async fn authorize(app: &TestApp, bearer: &str) -> u16 {
    use base64::Engine as _;
    let basic = base64::engine::general_purpose::STANDARD.encode("edge-gw:edge-secret-0123456789");
    let req = app
        .http
        .get(format!("{}/api/gateway/acme/edge/authorize", app.base))
        .header("X-Castellan-Gateway", format!("Basic {basic}"))
        .header("X-Original-Method", "GET")
        .header("X-Original-URI", "/pets")
        .header("Authorization", format!("Bearer {bearer}"));
    app.raw(req).await.status.as_u16()
}

/// What differs between two installations holding the same configuration: where they are and
/// when objects were written there.
fn comparable(mut v: Value) -> Value {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(m) => {
                for k in ["issuer_url", "client_id_issued_at", "created_at", "valid_from"] {
                    m.remove(k);
                }
                // A generated secret's keyed hash is made again under the importer's master key.
                if m.get("client_hashed_secret")
                    .and_then(Value::as_str)
                    .is_some_and(|h| h.starts_with("hmac-sha256:"))
                {
                    m.remove("client_hashed_secret");
                }
                m.values_mut().for_each(strip);
            }
            Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut v);
    v
}

async fn works(app: &TestApp) {
    let reader = token(app, "reader", "reader-secret-0123456789", &[]).await;
    assert_eq!(reader.status, 200, "{}", reader.body);
    let stranger = token(app, "stranger", "stranger-secret-0123456789", &[]).await;
    assert_eq!(stranger.status, 200, "{}", stranger.body);
    let r = alice(app).await;
    assert_eq!(r.status, 200, "alice signs in with her password: {}", r.body);
    // The API's policy lets pets.read through and stops a token without it.
    assert_eq!(authorize(app, reader.body["access_token"].as_str().unwrap()).await, 200);
    assert_eq!(
        authorize(app, stranger.body["access_token"].as_str().unwrap()).await,
        403
    );
}

#[tokio::test]
async fn a_tenant_moves_to_another_installation_with_its_secrets_and_keeps_working() {
    let a = spawn_app().await;
    let r = import(&a, "", &acme()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["tenants"], json!(["acme"]), "{}", r.body);
    works(&a).await;
    let before = token(&a, "reader", "reader-secret-0123456789", &[]).await.body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();

    // Without secrets nothing secret leaves.
    let bare = export(&a, "?tid=acme").await;
    let text = bare.to_string();
    for secret in ["reader-secret-0123456789", "alice-password-1", "$argon2", "pkcs8"] {
        assert!(!text.contains(secret), "{secret} in an export without secrets");
    }
    assert!(
        bare["servers"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s.get("secret").is_none())
    );

    let dump = export(&a, "?tid=acme&with_secrets=true").await;
    let kinds = [
        "apis",
        "claims",
        "clients",
        "consent_actions",
        "consents",
        "policies",
        "scopes_without_service",
        "servers",
        "services",
        "tenants",
        "gateways",
        "roles",
        "sts_clients",
    ];
    for k in kinds {
        assert!(
            dump[k].as_array().is_some_and(|l| !l.is_empty()),
            "{k} missing from the export"
        );
    }
    assert!(
        dump["clients"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["tenant_id"] == "acme")
    );
    // A secret a person chose is kept as argon2id, as the admin API keeps it.
    let reader = dump["clients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["client_id"] == "reader")
        .unwrap();
    assert!(
        reader["client_hashed_secret"]
            .as_str()
            .unwrap()
            .starts_with("$argon2id$"),
        "{reader}"
    );

    // Another installation, another master key.
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path()).await;
    cfg.master_key = Some("another master key, also long enough: 9876543210".into());
    // Where the tenant moves to answers at the address its tokens name (a DNS switch, here).
    cfg.public_url = Some(a.base.clone());
    let b = spawn_with(dir, cfg).await;
    let r = import(&b, "", &dump).await;
    assert_eq!(r.status, 200, "{}", r.body);
    works(&b).await;
    // The signing keys came along: a token the first installation signed verifies at the second.
    let introspected = form(
        &b,
        &format!("{}/acme/shop/oauth2/introspect", b.base),
        Some(("reader", "reader-secret-0123456789")),
        &[("token", &before)],
    )
    .await;
    assert_eq!(introspected.status, 200, "{}", introspected.body);
    assert_eq!(introspected.body["active"], true, "{}", introspected.body);

    // The second installation exports what the first did.
    let again = export(&b, "?tid=acme&with_secrets=true").await;
    assert_eq!(comparable(again), comparable(dump.clone()));

    // Its ledger starts with the import.
    let tid = castellan_domain::TenantId::parse("acme").unwrap();
    let events = b
        .store()
        .await
        .list_ledger_events(&tid, None, 0, i64::MAX)
        .await
        .unwrap();
    assert_eq!(
        events.first().map(|e| e.event_type.as_str()),
        Some("configuration_imported")
    );
    // The ledger key never leaves.
    assert!(!dump.to_string().contains("ledger"));
}

#[tokio::test]
async fn import_modes_decide_about_existing_objects_and_a_bad_dump_changes_nothing() {
    let app = spawn_app().await;
    assert_eq!(import(&app, "", &acme()).await.status, 200);
    let client = |id: &str, name: &str| {
        json!({"client_id": id, "client_name": name, "authorization_server_id": "shop",
               "grant_types": ["client_credentials"], "scopes": ["pets.read"]})
    };
    let dump = json!({"clients": [client("reader", "Renamed"), client("extra", "Extra")]});
    let name_of = |app: &TestApp, id: &'static str| {
        let store = app.cfg.clone();
        async move {
            let store = castellan::open_store(&store).await.unwrap();
            let tid = castellan_domain::TenantId::parse("acme").unwrap();
            let cid = castellan_domain::ClientId::parse(id).unwrap();
            store.get_client(&tid, &cid).await.unwrap().map(|c| c.name)
        }
    };

    // fail: one object exists, nothing is written.
    let r = import(&app, "?tid=acme", &dump).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(r.body["details"]["id"], "reader", "{}", r.body);
    assert_eq!(name_of(&app, "extra").await, None);

    // ignore: the existing one stays, the new one is written.
    let r = import(&app, "?tid=acme&mode=ignore", &dump).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        (r.body["created"].clone(), r.body["kept"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(name_of(&app, "reader").await.as_deref(), Some("reader"));
    assert_eq!(name_of(&app, "extra").await.as_deref(), Some("Extra"));

    // update: overwritten, and its secret (not in the dump) is the one it had.
    let r = import(&app, "?tid=acme&mode=update", &dump).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["replaced"], 2, "{}", r.body);
    assert_eq!(name_of(&app, "reader").await.as_deref(), Some("Renamed"));
    assert_eq!(token(&app, "reader", "reader-secret-0123456789", &[]).await.status, 200);

    // One bad object: the whole dump is refused, naming it; nothing else is written.
    let bad = json!({"clients": [
        client("good", "Good"),
        {"client_id": "bad", "authorization_server_id": "shop", "redirect_uris": ["not a url"]}]});
    let r = import(&app, "?tid=acme", &bad).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body["error"].as_str().unwrap().contains("client bad"), "{}", r.body);
    assert!(r.body.to_string().contains("clients[1]"), "{}", r.body);
    assert_eq!(name_of(&app, "good").await, None);

    // A reference to nothing is refused the same way.
    let r = import(
        &app,
        "?tid=acme",
        &json!({"clients": [{"client_id": "lost", "authorization_server_id": "nowhere"}]}),
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);

    // Creating a tenant that exists is a conflict; objects of a tenant that does not exist and
    // is not created are refused.
    let r = import(&app, "", &json!({"tenants": [{"id": "acme"}]})).await;
    assert_eq!(r.status, 409, "{}", r.body);
    let r = import(&app, "?tid=ghost", &json!({"clients": [client("x", "X")]})).await;
    assert_eq!(r.status, 422, "{}", r.body);

    // The system tenant and its system servers are kept by update.
    let system = export(&app, "?tid=default").await;
    let r = import(
        &app,
        "?mode=update",
        &json!({"tenants": system["tenants"], "servers": system["servers"]}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body["replaced"], 1,
        "only the default server is rewritten: {}",
        r.body
    );

    // Secrets are worth system.write (the system tenant's admin secrets among them): a caller
    // holding system.read exports without them only.
    let r = app
        .admin(
            Method::POST,
            "/clients",
            Some(json!({"client_id": "auditor", "authorization_server_id": "admin", "grant_types": ["client_credentials"]})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let auditor = r.body["client_secret"].as_str().unwrap().to_owned();
    map(&app, "auditor", "* system.read").await;
    let as_auditor = |q: &'static str| call(&app, Cred::Basic("auditor", &auditor), Method::GET, q, None);
    let r = as_auditor("/api/system/configuration?tid=acme&with_secrets=true").await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body["error"].as_str().unwrap().contains("system.write"), "{}", r.body);
    let r = as_auditor("/api/system/configuration?tid=acme").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!r.body.to_string().contains("reader-secret-0123456789"));

    // Only the system tenant's credentials may export or import.
    let r = call(
        &app,
        Cred::Basic("reader", "reader-secret-0123456789"),
        Method::GET,
        "/api/system/configuration",
        None,
    )
    .await;
    assert!(r.status == 401 || r.status == 403, "{}", r.body);
}

/// `castellan export` / `castellan import` on the store, without a server: the same move.
#[tokio::test]
async fn the_command_line_exports_and_imports_on_the_store() {
    let a = spawn_app().await;
    assert_eq!(import(&a, "", &acme()).await.status, 200);
    let (a_dir, a_cfg) = a.stop().await;
    let run = |cfg: &castellan::Config, args: &[&str], key: &str| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_castellan"));
        for (k, _) in std::env::vars() {
            if k.starts_with("CASTELLAN_") {
                c.env_remove(k);
            }
        }
        c.args(args)
            .arg("--data-dir")
            .arg(&cfg.data_dir)
            .env("CASTELLAN_MASTER_KEY", key);
        if let Some(url) = &cfg.database_url {
            c.arg("--database-url").arg(url);
        }
        c.output().unwrap()
    };
    let out = run(&a_cfg, &["export", "--tenant", "acme", "--with-secrets"], MASTER_KEY);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let dump: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(dump["tenants"][0]["id"], "acme");
    let file = a_dir.path().join("acme.json");
    std::fs::write(&file, &out.stdout).unwrap();

    let key = "the second installation's master key 0123456789";
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path()).await;
    cfg.master_key = Some(key.into());
    let (dir, cfg) = spawn_with(dir, cfg).await.stop().await;
    let bad = run(&cfg, &["import", "--mode", "sideways", file.to_str().unwrap()], key);
    assert!(!bad.status.success());
    let out = run(&cfg, &["import", "--mode", "fail", file.to_str().unwrap()], key);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let done: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(done["tenants"], json!(["acme"]), "{done}");
    // Again: the tenant exists now, and `fail` refuses the whole dump.
    let again = run(&cfg, &["import", "--mode", "fail", file.to_str().unwrap()], key);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    let b = spawn_with(dir, cfg).await;
    works(&b).await;
}
