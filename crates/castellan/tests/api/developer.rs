//! The developer API (`/api/developer/{tid}/…`, Cloudentity ACP): people sign in at the tenant's
//! `developer` server through its real login page and manage their own clients with that token.

use reqwest::Method;
use serde_json::{Value, json};

use crate::flows::{Browser, challenge, field, params_of};
use crate::helpers::*;
use crate::tokens::{assert_oauth_error, client, form, issuer};

const PORTAL_CB: &str = "https://portal.example/cb";
const VERIFIER: &str = "developer-portal-verifier-0123456789-abcdefghijklmnop";

/// Two developers (static users of `default/developer`) and the portal they sign in through (a
/// public, trusted client of that server).
pub(crate) async fn setup_portal(app: &TestApp) {
    let r = app
        .admin(
            Method::PUT,
            "/servers/developer/authentications",
            Some(
                json!({"methods": [{"id": "devs", "method": "static", "name": "Developers", "static": {"users": [
                {"username": "dana", "password": "dana-password-1", "authentication_context": {"team": "payments"}},
                {"username": "omar", "password": "omar-password-1", "authentication_context": {"team": "ops"}}]}}]}),
            ),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    client(
        app,
        json!({"client_id": "portal", "authorization_server_id": "developer", "token_endpoint_auth_method": "none",
            "redirect_uris": [PORTAL_CB], "grant_types": ["authorization_code"], "trusted": true}),
    )
    .await;
}

/// Signs `username` in at `default/developer` like a browser (authorization request, the login
/// page's form, the code, PKCE) and returns the access token.
pub(crate) async fn developer_token(app: &TestApp, username: &str, password: &str) -> String {
    let b = Browser::new();
    let q = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", "portal"),
            ("redirect_uri", PORTAL_CB),
            ("state", "s"),
            ("code_challenge", &challenge(VERIFIER)),
            ("code_challenge_method", "S256"),
        ])
        .finish();
    let r = b
        .get(&format!("{}/oauth2/authorize?{q}", issuer(app, "developer")))
        .await;
    let login = r.location.unwrap_or_else(|| panic!("{} {}", r.status, r.html));
    assert!(login.starts_with("/default/developer/login?"), "{login}");
    let page = b.get(&format!("{}{login}", app.base)).await;
    assert_eq!(page.status, 200, "{}", page.html);
    let interaction = field(&page.html, "interaction");
    let csrf = field(&page.html, "csrf_token");
    let r = b
        .post(
            &format!("{}/default/developer/login", app.base),
            &[
                ("interaction", &interaction),
                ("csrf_token", &csrf),
                ("username", username),
                ("password", password),
            ],
        )
        .await;
    let back = r.location.unwrap_or_else(|| panic!("{} {}", r.status, r.html));
    assert!(back.starts_with(PORTAL_CB), "{back}");
    let code = params_of(&back)["code"].clone();
    let r = form(
        app,
        &format!("{}/oauth2/token", issuer(app, "developer")),
        None,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", PORTAL_CB),
            ("client_id", "portal"),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["access_token"].as_str().unwrap().to_owned()
}

pub(crate) async fn dev(app: &TestApp, token: &str, method: Method, path: &str, body: Option<Value>) -> Resp {
    dev_with(app, token, method, path, body, &[]).await
}

async fn dev_with(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> Resp {
    let mut req = app
        .http
        .request(method, format!("{}/api/developer/default{path}", app.base))
        .bearer_auth(token);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    app.raw(req).await
}

#[tokio::test]
async fn developers_manage_their_own_clients() {
    let app = spawn_app().await;
    setup_portal(&app).await;
    let dana = developer_token(&app, "dana", "dana-password-1").await;
    let omar = developer_token(&app, "omar", "omar-password-1").await;

    // Create: id and secret generated, the admin API's defaults, the secret answered once.
    let r = dev(
        &app,
        &dana,
        Method::POST,
        "/clients",
        Some(
            json!({"authorization_server_id": "default", "client_name": "Dana's app",
            "redirect_uris": ["https://dana.example/cb"], "scopes": ["openid", "email"]}),
        ),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let cid = r.body["client_id"].as_str().unwrap().to_owned();
    let secret = r.body["client_secret"].as_str().unwrap().to_owned();
    assert!(secret.len() >= 32, "{}", r.body);
    assert_eq!(r.body["grant_types"], json!(["authorization_code"]));
    assert_eq!(r.body["response_types"], json!(["code"]));
    assert_eq!(r.body["token_endpoint_auth_method"], "client_secret_basic");
    assert_eq!(r.body["scope"], "openid email");
    assert!(r.body.get("developer_id").is_none(), "{}", r.body);

    // Read back by its developer: the secret is not shown again.
    let r = dev(&app, &dana, Method::GET, &format!("/clients/{cid}"), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["client_secret"], "");
    assert_eq!(r.body["client_name"], "Dana's app");
    let r = dev(&app, &dana, Method::GET, "/clients", None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let ids: Vec<&str> = r.body["clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["client_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [cid.as_str()]);

    // The admin sees whose it is, and an empty secret.
    let r = app.admin(Method::GET, &format!("/clients/{cid}"), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["client_secret"], "");
    assert_eq!(r.body["developer_id"], "dana");

    // Another developer sees nothing of it.
    let r = dev(&app, &omar, Method::GET, "/clients", None).await;
    assert_eq!(r.body["clients"], json!([]));
    for (method, body) in [
        (Method::GET, None),
        (Method::PUT, Some(json!({"client_name": "mine now"}))),
        (Method::DELETE, None),
    ] {
        let r = dev(&app, &omar, method.clone(), &format!("/clients/{cid}"), body).await;
        assert_api_error(&r, 404);
    }
    // Nor of an admin's client.
    client(
        &app,
        json!({"client_id": "admins-own", "grant_types": ["client_credentials"]}),
    )
    .await;
    assert_api_error(&dev(&app, &dana, Method::GET, "/clients/admins-own", None).await, 404);

    // PUT replaces the whole client: what it leaves out returns to its default.
    let r = dev(
        &app,
        &dana,
        Method::PUT,
        &format!("/clients/{cid}"),
        Some(json!({"client_name": "Dana's backend", "grant_types": ["client_credentials"], "client_secret": ""})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["client_name"], "Dana's backend");
    assert_eq!(r.body["redirect_uris"], json!([]));
    assert_eq!(r.body["scopes"], json!([]));
    assert_eq!(r.body["response_types"], json!([]));
    assert_eq!(r.body["client_secret"], "", "the secret stays and is not shown");
    let r = dev(
        &app,
        &dana,
        Method::PUT,
        &format!("/clients/{cid}"),
        Some(json!({"grant_types": ["client_credentials"], "client_secret": "my-own-secret-0123456789"})),
    )
    .await;
    assert_eq!(assert_api_error(&r, 422)["details"]["field"], "client_secret");

    // The client obtains tokens with the secret it was given once.
    let r = form(
        &app,
        &format!("{}/oauth2/token", issuer(&app, "default")),
        Some((&cid, &secret)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let token = r.body["access_token"].as_str().unwrap().to_owned();

    // Delete: gone, and its tokens with it.
    let r = dev(&app, &dana, Method::DELETE, &format!("/clients/{cid}"), None).await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_api_error(
        &dev(&app, &dana, Method::GET, &format!("/clients/{cid}"), None).await,
        404,
    );
    let r = form(
        &app,
        &format!("{}/oauth2/introspect", issuer(&app, "default")),
        Some(("admins-own", "x")),
        &[("token", &token)],
    )
    .await;
    assert_oauth_error(&r, 401, "invalid_client");
    let r = form(
        &app,
        &format!("{}/oauth2/token", issuer(&app, "default")),
        Some((&cid, &secret)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_oauth_error(&r, 401, "invalid_client");
}

#[tokio::test]
async fn developer_credentials_and_admin_credentials_do_not_cross() {
    let app = spawn_app().await;
    setup_portal(&app).await;
    let dana = developer_token(&app, "dana", "dana-password-1").await;

    // A developer token on the admin API, admin credentials on the developer API: 401.
    let r = app
        .raw(
            app.http
                .get(format!("{}/api/admin/default/clients/portal", app.base))
                .bearer_auth(&dana),
        )
        .await;
    assert_api_error(&r, 401);
    let r = app
        .call(
            Method::GET,
            "/api/developer/default/clients",
            None,
            Some((&app.id, &app.secret)),
        )
        .await;
    assert_api_error(&r, 401);
    let r = app
        .raw(
            app.http
                .get(format!("{}/api/developer/default/clients", app.base))
                .bearer_auth("not-a-token"),
        )
        .await;
    assert_api_error(&r, 401);
    // An admin's own token is not a developer's.
    let r = form(
        &app,
        &format!("{}/oauth2/token", issuer(&app, "admin")),
        Some((&app.id, &app.secret)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    let admin_token = r.body["access_token"].as_str().unwrap().to_owned();
    assert_api_error(&dev(&app, &admin_token, Method::GET, "/clients", None).await, 401);
    // A developer token names its tenant: another tenant's path refuses it.
    let r = app
        .raw(
            app.http
                .get(format!("{}/api/developer/other/clients", app.base))
                .bearer_auth(&dana),
        )
        .await;
    assert_api_error(&r, 401);

    // No client in a system server; none that would hold management permissions.
    for aid in ["admin", "developer"] {
        let r = dev(
            &app,
            &dana,
            Method::POST,
            "/clients",
            Some(json!({"authorization_server_id": aid, "grant_types": ["client_credentials"]})),
        )
        .await;
        assert_eq!(assert_api_error(&r, 422)["details"]["field"], "authorization_server_id");
    }
    assert_api_error(&dev(&app, &dana, Method::GET, "/servers/admin", None).await, 404);
    let r = app
        .admin(
            Method::POST,
            "/scopes",
            Some(json!({"name": "manage_consents", "authorization_server_id": "default"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = dev(
        &app,
        &dana,
        Method::POST,
        "/clients",
        Some(json!({"authorization_server_id": "default", "grant_types": ["client_credentials"], "scopes": ["manage_consents"]})),
    )
    .await;
    assert_api_error(&r, 403);
    // An admin client an admin labelled with the developer's id is still not the developer's.
    let r = app
        .admin(
            Method::POST,
            "/clients",
            Some(
                json!({"client_id": "ops", "authorization_server_id": "admin", "grant_types": ["client_credentials"],
                "developer_id": "dana"}),
            ),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    for method in [Method::GET, Method::DELETE] {
        assert_api_error(&dev(&app, &dana, method, "/clients/ops", None).await, 404);
    }
    assert_eq!(app.admin(Method::GET, "/clients/ops", None).await.status, 200);
    // Nothing was created by the refused requests.
    let r = dev(&app, &dana, Method::GET, "/clients", None).await;
    assert_eq!(r.body["clients"], json!([]));
}

#[tokio::test]
async fn developer_policies_decide_which_servers_and_scopes_a_developer_may_use() {
    let app = spawn_app().await;
    setup_portal(&app).await;
    let dana = developer_token(&app, "dana", "dana-password-1").await;
    let omar = developer_token(&app, "omar", "omar-password-1").await;

    // A scope only the payments team may assign; a server only reachable with a header.
    let r = app
        .admin(
            Method::POST,
            "/policies",
            Some(json!({"id": "payments-team", "policy_name": "Payments team", "validators": [
                {"name": "identity-context", "conf": {"fields": [{"field": "team", "comparator": "equals", "value": "payments"}]}}]})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = app
        .admin(
            Method::POST,
            "/policies",
            Some(json!({"id": "from-intranet", "policy_name": "From the intranet", "validators": [
                {"name": "header", "conf": {"fields": [{"field": "x-network", "comparator": "equals", "value": "intranet"}]}}]})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = app
        .admin(
            Method::POST,
            "/scopes",
            Some(
                json!({"name": "payments.write", "display_name": "Write payments", "authorization_server_id": "default",
                "developer_policy_id": "payments-team"}),
            ),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = app
        .admin(
            Method::POST,
            "/servers",
            Some(json!({"id": "internal", "name": "Internal", "developer_policy_id": "from-intranet"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);

    // Servers: system ones never, the internal one only with the header.
    let listed = |r: &Resp| -> Vec<String> {
        r.body["servers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let r = dev(&app, &dana, Method::GET, "/servers", None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(listed(&r), ["default"]);
    assert_eq!(r.body["servers"][0]["issuer_url"], issuer(&app, "default"));
    let intranet = [("x-network", "intranet")];
    let r = dev_with(&app, &dana, Method::GET, "/servers", None, &intranet).await;
    let mut ids = listed(&r);
    ids.sort();
    assert_eq!(ids, ["default", "internal"]);
    let r = dev(&app, &dana, Method::GET, "/servers/internal", None).await;
    assert!(
        assert_api_error(&r, 403)["error"]
            .as_str()
            .unwrap()
            .contains("internal")
    );
    let r = dev(
        &app,
        &dana,
        Method::POST,
        "/clients",
        Some(json!({"authorization_server_id": "internal", "grant_types": ["client_credentials"]})),
    )
    .await;
    assert_api_error(&r, 403);
    let r = dev_with(
        &app,
        &dana,
        Method::POST,
        "/clients",
        Some(json!({"authorization_server_id": "internal", "grant_types": ["client_credentials"]})),
        &intranet,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);

    // Scopes: the server shows only those the developer may assign.
    let scope_names = |r: &Resp| -> Vec<String> {
        r.body["scopes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["scope_name"].as_str().unwrap().to_owned())
            .collect()
    };
    let r = dev(&app, &dana, Method::GET, "/servers/default", None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(scope_names(&r).contains(&"payments.write".to_owned()), "{}", r.body);
    assert_eq!(r.body["scopes"][0]["with_service"], false);
    let r = dev(&app, &omar, Method::GET, "/servers/default", None).await;
    assert!(!scope_names(&r).contains(&"payments.write".to_owned()), "{}", r.body);
    assert!(scope_names(&r).contains(&"openid".to_owned()), "{}", r.body);

    // Assigning it: the payments developer may, the other gets a 403 naming the scope.
    let body = json!({"authorization_server_id": "default", "grant_types": ["client_credentials"],
        "scopes": ["payments.write"]});
    let r = dev(&app, &omar, Method::POST, "/clients", Some(body.clone())).await;
    let e = assert_api_error(&r, 403);
    assert!(e["error"].as_str().unwrap().contains("payments.write"), "{e}");
    assert_eq!(
        dev(&app, &omar, Method::GET, "/clients", None).await.body["clients"],
        json!([])
    );
    let r = dev(&app, &dana, Method::POST, "/clients", Some(body)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let cid = r.body["client_id"].as_str().unwrap().to_owned();
    let secret = r.body["client_secret"].as_str().unwrap().to_owned();
    let r = form(
        &app,
        &format!("{}/oauth2/token", issuer(&app, "default")),
        Some((&cid, &secret)),
        &[("grant_type", "client_credentials"), ("scope", "payments.write")],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["scope"], "payments.write");
}
