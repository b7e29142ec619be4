//! Dynamic client registration (RFC 7591) and its management (RFC 7592): served only where a
//! server enables it, metadata checked by the admin API's rules with RFC 7591 errors, the
//! registration access token, initial access tokens, developer policies, and the open
//! registration limit per address.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::tokens::{client, form, issuer};

fn register_url(app: &TestApp) -> String {
    format!("{}/oauth2/register", issuer(app, "default"))
}

async fn register(app: &TestApp, body: Value, bearer: Option<&str>) -> Resp {
    let mut req = app.http.post(register_url(app)).json(&body);
    if let Some(t) = bearer {
        req = req.bearer_auth(t);
    }
    app.raw(req).await
}

async fn manage(app: &TestApp, method: Method, uri: &str, token: &str, body: Option<Value>) -> Resp {
    let mut req = app.http.request(method, uri).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    app.raw(req).await
}

async fn enable(app: &TestApp, extra: Value) {
    let mut body = json!({"enable_dynamic_client_registration": true});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    let r = app.admin(Method::PUT, "/servers/default", Some(body)).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

async fn scope(app: &TestApp, name: &str, policy: Option<&str>) {
    let mut body = json!({"name": name, "authorization_server_id": "default"});
    if let Some(p) = policy {
        body["developer_policy_id"] = json!(p);
    }
    let r = app.admin(Method::POST, "/scopes", Some(body)).await;
    assert_eq!(r.status, 201, "{}", r.body);
}

#[tokio::test]
async fn registration_is_served_only_where_enabled_and_clients_get_tokens() {
    let app = spawn_app().await;
    let disco = format!("{}/.well-known/openid-configuration", issuer(&app, "default"));
    let r = register(&app, json!({"client_name": "x"}), None).await;
    assert_eq!(r.status, 404, "off by default: {}", r.body);
    let doc: Value = app.http.get(&disco).send().await.unwrap().json().await.unwrap();
    assert!(doc.get("registration_endpoint").is_none());
    // Never on a system server: its clients would hold management permissions.
    let r = app
        .admin(
            Method::PUT,
            "/servers/admin",
            Some(json!({"enable_dynamic_client_registration": true})),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);

    enable(&app, json!({})).await;
    let doc: Value = app.http.get(&disco).send().await.unwrap().json().await.unwrap();
    assert_eq!(doc["registration_endpoint"], json!(register_url(&app)));
    scope(&app, "reports.read", None).await;

    let r = register(
        &app,
        json!({"client_name": "Reporter", "grant_types": ["client_credentials"], "scope": "reports.read",
            "contacts": ["ops@example.com"], "software_id": "reporter", "unknown_member": 1}),
        None,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.headers["cache-control"], "no-store");
    let id = r.body["client_id"].as_str().unwrap().to_owned();
    let secret = r.body["client_secret"].as_str().unwrap().to_owned();
    let rat = r.body["registration_access_token"].as_str().unwrap().to_owned();
    let uri = r.body["registration_client_uri"].as_str().unwrap().to_owned();
    assert_eq!(uri, format!("{}/{id}", register_url(&app)));
    assert_eq!(r.body["client_secret_expires_at"], 0);
    assert_eq!(r.body["scope"], "reports.read");
    assert_eq!(r.body["contacts"], json!(["ops@example.com"]));
    assert_eq!(r.body["token_endpoint_auth_method"], "client_secret_basic");

    // It obtains tokens.
    let t = form(
        &app,
        &format!("{}/oauth2/token", issuer(&app, "default")),
        Some((&id, &secret)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(t.status, 200, "{}", t.body);
    assert_eq!(t.body["scope"], "reports.read");

    // The admin API marks it, and never shows its secret.
    let r = app.admin(Method::GET, &format!("/clients/{id}"), None).await;
    assert_eq!(r.body["dynamically_registered"], true);
    assert_eq!(r.body["client_secret"], "");

    // Without `scope`: the server's OpenID Connect scopes.
    let r = register(
        &app,
        json!({"redirect_uris": ["https://app.example.com/cb"], "response_types": ["code"]}),
        None,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["scope"], "openid profile email address phone");

    // RFC 7592: read, replace (the token rotates), delete.
    let r = manage(&app, Method::GET, &uri, &rat, None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["client_name"], "Reporter");
    assert!(r.body.get("client_secret").is_none() && r.body.get("registration_access_token").is_none());
    for wrong in ["wrong-token", ""] {
        let r = manage(&app, Method::GET, &uri, wrong, None).await;
        assert_eq!(r.status, 401, "{}", r.body);
    }
    let r = app.raw(app.http.get(&uri)).await;
    assert_eq!(r.status, 401);
    assert!(r.headers["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
    let r = manage(
        &app,
        Method::PUT,
        &uri,
        &rat,
        Some(json!({"client_id": "another", "client_name": "x"})),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.body["error"], "invalid_client_metadata");
    let r = manage(
        &app,
        Method::PUT,
        &uri,
        &rat,
        Some(json!({"client_id": id, "client_secret": "not-it", "client_name": "x"})),
    )
    .await;
    assert_eq!(r.status, 400, "a wrong current secret: {}", r.body);
    let r = manage(
        &app,
        Method::PUT,
        &uri,
        &rat,
        Some(
            json!({"client_id": id, "client_secret": secret, "client_name": "Reporter 2",
            "grant_types": ["client_credentials"], "scope": "reports.read"}),
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["client_name"], "Reporter 2");
    let new_rat = r.body["registration_access_token"].as_str().unwrap().to_owned();
    assert_ne!(new_rat, rat);
    assert_eq!(
        manage(&app, Method::GET, &uri, &rat, None).await.status,
        401,
        "the old token"
    );
    assert_eq!(manage(&app, Method::GET, &uri, &new_rat, None).await.status, 200);
    // The secret stayed.
    let t = form(
        &app,
        &format!("{}/oauth2/token", issuer(&app, "default")),
        Some((&id, &secret)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(t.status, 200, "{}", t.body);
    // Another client's token does not manage this one.
    let other = register(
        &app,
        json!({"grant_types": ["client_credentials"], "scope": "reports.read"}),
        None,
    )
    .await;
    let other_rat = other.body["registration_access_token"].as_str().unwrap();
    assert_eq!(manage(&app, Method::GET, &uri, other_rat, None).await.status, 401);
    // An admin-made client is not managed here.
    client(
        &app,
        json!({"client_id": "admin-made", "grant_types": ["client_credentials"]}),
    )
    .await;
    let admin_uri = format!("{}/admin-made", register_url(&app));
    assert_eq!(manage(&app, Method::GET, &admin_uri, &new_rat, None).await.status, 401);

    let r = manage(&app, Method::DELETE, &uri, &new_rat, None).await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(manage(&app, Method::GET, &uri, &new_rat, None).await.status, 401);
    let t = form(
        &app,
        &format!("{}/oauth2/token", issuer(&app, "default")),
        Some((&id, &secret)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(t.status, 401, "deleted: {}", t.body);

    // Turned off again: registration and management stop.
    let r = app
        .admin(
            Method::PUT,
            "/servers/default",
            Some(json!({"enable_dynamic_client_registration": false})),
        )
        .await;
    assert_eq!(r.status, 200);
    let other_uri = other.body["registration_client_uri"].as_str().unwrap();
    assert_eq!(manage(&app, Method::GET, other_uri, other_rat, None).await.status, 404);
    assert_eq!(register(&app, json!({}), None).await.status, 404);
}

#[tokio::test]
async fn bad_metadata_gets_the_rfc_7591_error_and_registers_nothing() {
    let app = spawn_app().await;
    enable(&app, json!({})).await;
    scope(&app, "guarded", Some("block")).await;
    let cases = [
        (
            json!({"redirect_uris": ["https://app.example.com/cb#frag"]}),
            "invalid_redirect_uri",
        ),
        (json!({"redirect_uris": ["not a uri"]}), "invalid_redirect_uri"),
        (
            json!({"post_logout_redirect_uris": ["javascript:alert(1)"]}),
            "invalid_redirect_uri",
        ),
        (json!({"grant_types": ["magic"]}), "invalid_client_metadata"),
        (
            json!({"token_endpoint_auth_method": "guess"}),
            "invalid_client_metadata",
        ),
        (json!({"scope": "no.such.scope"}), "invalid_client_metadata"),
        (
            json!({"token_endpoint_auth_method": "private_key_jwt"}),
            "invalid_client_metadata",
        ),
        (json!({"response_types": ["token"]}), "invalid_client_metadata"),
        (
            json!({"redirect_uris": "https://not-a-list.example"}),
            "invalid_client_metadata",
        ),
        (json!({"logo_uri": "ftp://x"}), "invalid_client_metadata"),
        (
            json!({"grant_types": ["client_credentials"], "contacts": [""]}),
            "invalid_client_metadata",
        ),
        (json!({"grant_types": ["authorization_code"]}), "invalid_redirect_uri"),
    ];
    for (body, code) in cases {
        let r = register(&app, body.clone(), None).await;
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        assert_eq!(r.body["error"], code, "{body}: {}", r.body);
        assert!(r.body["error_description"].as_str().is_some_and(|d| !d.is_empty()));
    }
    let r = app
        .raw(
            app.http
                .post(register_url(&app))
                .header("content-type", "text/plain")
                .body("client_name=x"),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"], "invalid_client_metadata");
    // A scope whose developer policy refuses this registrant.
    let r = register(
        &app,
        json!({"grant_types": ["client_credentials"], "scope": "guarded"}),
        None,
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.body);
    // Nothing was registered.
    let r = app.admin(Method::GET, "/servers/default/clients", None).await;
    assert_eq!(r.status, 200);
    assert!(!r.body.to_string().contains("dynamically_registered"), "{}", r.body);
}

#[tokio::test]
async fn an_initial_access_token_can_be_required_and_open_registration_is_limited() {
    let app = spawn_app().await;
    scope(&app, "dcr", None).await;
    scope(&app, "other", None).await;
    enable(&app, json!({"registration_scope": "dcr"})).await;
    let issuer_client = client(
        &app,
        json!({"client_id": "onboarding", "grant_types": ["client_credentials"], "scopes": ["dcr", "other"]}),
    )
    .await;
    let token = |scope: &'static str| {
        let app = &app;
        let secret = issuer_client["client_secret"].as_str().unwrap().to_owned();
        async move {
            let t = form(
                app,
                &format!("{}/oauth2/token", issuer(app, "default")),
                Some(("onboarding", &secret)),
                &[("grant_type", "client_credentials"), ("scope", scope)],
            )
            .await;
            t.body["access_token"].as_str().unwrap().to_owned()
        }
    };
    let body = json!({"grant_types": ["client_credentials"], "scope": "other"});
    let r = register(&app, body.clone(), None).await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(r.body["error"], "invalid_token");
    let r = register(&app, body.clone(), Some(&token("other").await)).await;
    assert_eq!(r.status, 401, "a token without the scope: {}", r.body);
    let r = register(&app, body.clone(), Some("not-a-token")).await;
    assert_eq!(r.status, 401);
    let r = register(&app, body.clone(), Some(&token("dcr").await)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = app.admin(Method::GET, "/servers/default", None).await;
    assert_eq!(r.body["registration_scope"], "dcr");

    // Open registration: a few per address, then 429 with Retry-After.
    let r = app
        .admin(Method::PUT, "/servers/default", Some(json!({"registration_scope": ""})))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let limit = castellan_control::registration::OPEN_PER_ADDRESS;
    for i in 0..limit {
        let r = register(&app, body.clone(), None).await;
        assert_eq!(r.status, 201, "registration {i}: {}", r.body);
    }
    let r = register(&app, body.clone(), None).await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.headers.contains_key("retry-after"));
}

/// Runs `crates/castellan/tests/node/openid_client.mjs` (copied beside the installed package) with
/// `args`; returns the JSON line it printed.
pub(crate) fn openid_client(node_dir: &std::path::Path, args: &[&str]) -> Value {
    let script = node_dir.join("castellan_openid_client.mjs");
    std::fs::copy(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/node/openid_client.mjs"),
        &script,
    )
    .unwrap();
    let out = std::process::Command::new("node")
        .arg(&script)
        .args(args)
        .current_dir(node_dir)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.lines().last().unwrap_or_default())
        .unwrap_or_else(|_| panic!("openid-client printed {text}\n{}", String::from_utf8_lossy(&out.stderr)))
}

/// The Node `openid-client` package registers a client (discovery, then RFC 7591) and gets a
/// token with it; with an initial access token required, without one it is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openid_client_registers_and_uses_a_client() {
    let Some(node_dir) = crate::browser::node_package("openid-client") else {
        eprintln!("skipped: CASTELLAN_NODE_PACKAGES not set (set CASTELLAN_E2E=1 to require it)");
        return;
    };
    let app = spawn_app().await;
    enable(&app, json!({})).await;
    scope(&app, "reports.read", None).await;
    let iss = issuer(&app, "default");
    let dir = node_dir.clone();
    let iss2 = iss.clone();
    let out = tokio::task::spawn_blocking(move || openid_client(&dir, &["register", &iss2, "reports.read"]))
        .await
        .unwrap();
    assert_eq!(out["scope"], "reports.read", "{out}");
    let id = out["client_id"].as_str().unwrap();
    let r = app.admin(Method::GET, &format!("/clients/{id}"), None).await;
    assert_eq!(r.body["dynamically_registered"], true);
    assert_eq!(r.body["token_endpoint_auth_method"], "client_secret_post");
    // Its registration access token manages it.
    let r = manage(
        &app,
        Method::GET,
        out["registration_client_uri"].as_str().unwrap(),
        out["registration_access_token"].as_str().unwrap(),
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);

    // An initial access token required: refused without it.
    scope(&app, "dcr", None).await;
    enable(&app, json!({"registration_scope": "dcr"})).await;
    let dir = node_dir.clone();
    let out = tokio::task::spawn_blocking(move || openid_client(&dir, &["register", &iss, "reports.read"]))
        .await
        .unwrap();
    assert!(out.get("error").is_some(), "{out}");
    assert!(out.to_string().contains("invalid_token"), "{out}");
}
