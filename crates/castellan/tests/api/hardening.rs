//! What an attacker or a removed party must no longer get: deleted clients and servers, removed
//! users, throttled passwords (also behind proxies), scopes taken away, loose redirect URIs,
//! `max_age=0`, refresh-token introspection, ID-token algorithms and `offline_access`.

use reqwest::Method;
use serde_json::{Value, json};

use crate::flows::*;
use crate::helpers::*;
use crate::tokens::{assert_oauth_error, client, form, issuer};

fn s(v: &Value, k: &str) -> String {
    v[k].as_str().unwrap_or_else(|| panic!("no {k} in {v}")).to_owned()
}

/// A confidential client of `default` that may introspect (its own, separate from `web`).
async fn resource_server(app: &TestApp) -> String {
    let c = client(
        app,
        json!({"client_id": "api", "grant_types": ["client_credentials"], "scopes": ["orders.read"]}),
    )
    .await;
    s(&c, "client_secret")
}

async fn introspect_as(app: &TestApp, id: &str, secret: &str, token: &str) -> Value {
    form(
        app,
        &format!("{}/oauth2/introspect", issuer(app, "default")),
        Some((id, secret)),
        &[("token", token)],
    )
    .await
    .body
}

async fn userinfo(app: &TestApp, token: &str) -> Resp {
    let url = format!("{}/userinfo", issuer(app, "default"));
    app.raw(app.http.get(&url).bearer_auth(token)).await
}

async fn refresh(app: &TestApp, secret: &str, token: &str) -> Resp {
    form(
        app,
        &format!("{}/oauth2/token", issuer(app, "default")),
        Some(("web", secret)),
        &[("grant_type", "refresh_token"), ("refresh_token", token)],
    )
    .await
}

/// A person's tokens for `web` through a real code flow.
async fn tokens_for(app: &TestApp, b: &Browser, secret: &str, extra: &[(&str, &str)]) -> Value {
    let code = code_for(app, b, extra).await;
    let t = exchange(app, secret, &code, None).await;
    assert_eq!(t.status, 200, "{}", t.body);
    t.body
}

#[tokio::test]
async fn deleting_a_client_ends_everything_it_was_given() {
    let app = spawn_app().await;
    let secret = setup(&app).await;
    let api = resource_server(&app).await;
    let b = Browser::new();
    let t = tokens_for(&app, &b, &secret, &[]).await;
    let (access, refresh_token) = (s(&t, "access_token"), s(&t, "refresh_token"));
    // A machine client's token (recorded nowhere) too.
    let m2m = client(
        &app,
        json!({"client_id": "m2m", "client_secret": "m2m-client-secret-0123", "grant_types": ["client_credentials"]}),
    )
    .await;
    let cc = form(
        &app,
        &format!("{}/oauth2/token", issuer(&app, "default")),
        Some(("m2m", m2m["client_secret"].as_str().unwrap())),
        &[("grant_type", "client_credentials")],
    )
    .await;
    let cc_token = s(&cc.body, "access_token");
    assert_eq!(introspect_as(&app, "api", &api, &access).await["active"], true);
    assert_eq!(introspect_as(&app, "api", &api, &cc_token).await["active"], true);

    for cid in ["web", "m2m"] {
        let r = app.admin(Method::DELETE, &format!("/clients/{cid}"), None).await;
        assert_eq!(r.status, 204, "{}", r.body);
    }
    assert_eq!(introspect_as(&app, "api", &api, &access).await["active"], false);
    assert_eq!(introspect_as(&app, "api", &api, &cc_token).await["active"], false);
    assert_eq!(userinfo(&app, &access).await.status, 401);

    // Re-created with the same id and secret, the client inherits nothing.
    client(
        &app,
        json!({"client_id": "web", "client_secret": secret, "redirect_uris": [CB],
               "grant_types": ["authorization_code", "refresh_token"], "scopes": ["openid", "email", "offline_access"]}),
    )
    .await;
    client(
        &app,
        json!({"client_id": "m2m", "client_secret": "m2m-client-secret-0123", "grant_types": ["client_credentials"]}),
    )
    .await;
    assert_oauth_error(&refresh(&app, &secret, &refresh_token).await, 400, "invalid_grant");
    assert_eq!(introspect_as(&app, "api", &api, &access).await["active"], false);
    assert_eq!(
        introspect_as(&app, "api", &api, &cc_token).await["active"],
        false,
        "a token issued before the client was re-created stays dead"
    );
    // The person's consent went with the old client: the new one asks again.
    let r = b.get(&authorize_url(&app, &[("scope", "openid email")])).await;
    assert!(r.location.as_deref().unwrap().contains("/consent?"), "{:?}", r.location);
}

#[tokio::test]
async fn deleting_a_server_ends_everything_under_it_even_if_it_is_re_created() {
    let app = spawn_app().await;
    // A server with imported keys, so the re-created one signs with the very same key.
    let keys = crate::servers::test_keys();
    let create_shop = || {
        let (app, server) = (&app, json!({"id": "shop", "jwks": {"keys": [keys["ec"]]}}));
        async move {
            let r = app.admin(Method::POST, "/servers", Some(server)).await;
            assert_eq!(r.status, 201, "{}", r.body);
        }
    };
    create_shop().await;
    let body = json!({"client_id": "c", "client_secret": "c-client-secret-0123456", "authorization_server_id": "shop",
                      "grant_types": ["client_credentials"]});
    client(&app, body.clone()).await;
    let token_url = format!("{}/oauth2/token", issuer(&app, "shop"));
    let t = form(
        &app,
        &token_url,
        Some(("c", "c-client-secret-0123456")),
        &[("grant_type", "client_credentials")],
    )
    .await;
    let token = s(&t.body, "access_token");
    let introspect = |token: String| {
        let app = &app;
        async move {
            form(
                app,
                &format!("{}/oauth2/introspect", issuer(app, "shop")),
                Some(("c", "c-client-secret-0123456")),
                &[("token", token.as_str())],
            )
            .await
        }
    };
    assert_eq!(introspect(token.clone()).await.body["active"], true);
    assert_eq!(app.admin(Method::DELETE, "/servers/shop", None).await.status, 204);
    assert_oauth_error(&introspect(token.clone()).await, 404, "invalid_request");
    create_shop().await;
    client(&app, body).await;
    assert_eq!(
        introspect(token).await.body["active"],
        false,
        "same key, same client id: still not the server that issued it"
    );
}

#[tokio::test]
async fn removing_a_user_or_disabling_their_method_ends_their_sessions_and_grants() {
    let app = spawn_app().await;
    let secret = setup(&app).await;
    let api = resource_server(&app).await;
    for change in ["remove the user", "disable the method"] {
        let b = Browser::new();
        let t = tokens_for(&app, &b, &secret, &[]).await;
        let (access, refresh_token) = (s(&t, "access_token"), s(&t, "refresh_token"));
        // The implicit flow's tokens are recorded too.
        let r = app
            .admin(
                Method::PUT,
                "/clients/web",
                Some(
                    json!({"grant_types": ["authorization_code", "refresh_token", "implicit"],
                            "response_types": ["code", "token"]}),
                ),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let r = b
            .get(&authorize_url(
                &app,
                &[("response_type", "token"), ("scope", "openid email")],
            ))
            .await;
        let implicit = params_of(r.location.as_deref().unwrap())["access_token"].clone();
        for a in [&access, &implicit] {
            assert_eq!(introspect_as(&app, "api", &api, a).await["active"], true);
        }

        let methods = match change {
            "remove the user" => json!({"methods": [{"id": "people", "method": "static", "name": "Password",
                "static": {"users": [{"username": "bob", "password": "bob-password-0123"}]}}]}),
            _ => json!({"methods": [{"id": "people", "method": "static", "name": "Password", "disabled": true,
                "static": {"users": [{"username": "alice"}]}}]}),
        };
        let r = app
            .admin(Method::PUT, "/servers/default/authentications", Some(methods))
            .await;
        assert_eq!(r.status, 200, "{change}: {}", r.body);

        // The browser session no longer signs anyone in silently.
        let r = b.get(&authorize_url(&app, &[("prompt", "none")])).await;
        assert_eq!(
            params_of(r.location.as_deref().unwrap())["error"],
            "login_required",
            "{change}"
        );
        assert_oauth_error(&refresh(&app, &secret, &refresh_token).await, 400, "invalid_grant");
        for a in [&access, &implicit] {
            assert_eq!(introspect_as(&app, "api", &api, a).await["active"], false, "{change}");
        }
        assert_eq!(userinfo(&app, &access).await.status, 401);

        // Back as before for the next round (alice is a new person now: no old grant revives).
        let r = app
            .admin(
                Method::PUT,
                "/servers/default/authentications",
                Some(json!({"methods": [{"id": "people", "method": "static", "name": "Password", "static": {"users": [
                    {"username": "alice", "password": "alice-password-1", "authentication_context": {"email": "alice@example.com"}}]}}]})),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_oauth_error(&refresh(&app, &secret, &refresh_token).await, 400, "invalid_grant");
        assert_eq!(introspect_as(&app, "api", &api, &access).await["active"], false);
    }
}

async fn password_grant(app: &TestApp, secret: &str, user: &str, pw: &str, forwarded_for: Option<&str>) -> Resp {
    let mut req = app
        .http
        .post(format!("{}/oauth2/token", issuer(app, "default")))
        .basic_auth("web", Some(secret))
        .header("content-type", "application/x-www-form-urlencoded");
    if let Some(f) = forwarded_for {
        req = req.header("x-forwarded-for", f);
    }
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([("grant_type", "password"), ("username", user), ("password", pw)])
        .finish();
    app.raw(req.body(body)).await
}

#[tokio::test]
async fn the_password_grant_shares_the_login_throttle() {
    let app = spawn_app().await;
    let secret = setup(&app).await;
    enable_password_grant(&app).await;
    for _ in 0..5 {
        let r = password_grant(&app, &secret, "alice", "wrong-password", None).await;
        assert_oauth_error(&r, 400, "invalid_grant");
    }
    let r = password_grant(&app, &secret, "alice", "alice-password-1", None).await;
    assert_oauth_error(&r, 400, "invalid_grant");
    assert!(s(&r.body, "error_description").contains("too many"), "{}", r.body);
    // The login page counts the same failures.
    let b = Browser::new();
    let login = b.get(&authorize_url(&app, &[])).await.location.unwrap();
    assert_eq!(sign_in(&app, &b, &login, "alice-password-1").await.status, 429);
}

#[tokio::test]
async fn forwarded_addresses_count_only_behind_trusted_proxies() {
    // Without --trusted-proxies the header is the client's word and is ignored: twenty failures
    // "from" one address lock the real peer (127.0.0.1), whatever the next request claims.
    let app = spawn_app().await;
    let secret = setup(&app).await;
    enable_password_grant(&app).await;
    for i in 0..20 {
        let r = password_grant(&app, &secret, &format!("nobody{i}"), "x", Some("203.0.113.1")).await;
        assert_oauth_error(&r, 400, "invalid_grant");
    }
    let r = password_grant(&app, &secret, "alice", "alice-password-1", Some("203.0.113.2")).await;
    assert!(s(&r.body, "error_description").contains("too many"), "{}", r.body);

    // Behind a trusted proxy the forwarded client is counted: another client is not locked out.
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path()).await;
    cfg.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
    let app = spawn_with(dir, cfg).await;
    let secret = setup(&app).await;
    enable_password_grant(&app).await;
    for i in 0..20 {
        let r = password_grant(&app, &secret, &format!("nobody{i}"), "x", Some("203.0.113.1")).await;
        assert_oauth_error(&r, 400, "invalid_grant");
    }
    let r = password_grant(&app, &secret, "alice", "alice-password-1", Some("203.0.113.1")).await;
    assert!(s(&r.body, "error_description").contains("too many"), "{}", r.body);
    let r = password_grant(&app, &secret, "alice", "alice-password-1", Some("203.0.113.2")).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test]
async fn scopes_taken_away_do_not_come_back_at_refresh_or_userinfo() {
    let app = spawn_app().await;
    let secret = setup(&app).await;
    let b = Browser::new();
    let t = tokens_for(
        &app,
        &b,
        &secret,
        &[("scope", "openid email offline_access orders.read")],
    )
    .await;
    assert_eq!(t["scope"], "openid email offline_access orders.read");
    let access = s(&t, "access_token");
    assert_eq!(userinfo(&app, &access).await.body["email"], "alice@example.com");
    // email is taken off the client; orders.read is deleted from the server.
    let r = app
        .admin(
            Method::PUT,
            "/clients/web",
            Some(json!({"scopes": ["openid", "profile", "offline_access", "orders.read"]})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let scopes = app.admin(Method::GET, "/servers/default/scopes", None).await;
    let orders = scopes.body["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "orders.read")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        app.admin(Method::DELETE, &format!("/scopes/{orders}"), None)
            .await
            .status,
        204
    );

    let ui = userinfo(&app, &access).await;
    assert_eq!(ui.status, 200, "{}", ui.body);
    assert!(ui.body.get("email").is_none(), "email no longer released: {}", ui.body);
    let r = refresh(&app, &secret, &s(&t, "refresh_token")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["scope"], "openid offline_access");
    let id = jwt_claims(&s(&r.body, "id_token"));
    assert!(id.get("email").is_none(), "{id}");
}

#[tokio::test]
async fn redirect_and_fetched_uris_are_parsed_strictly() {
    let app = spawn_app().await;
    let field_of = |f: &str| f.split('[').next().unwrap().to_owned();
    let cases: Vec<(&str, &str)> = vec![
        ("redirect_uris", "http://127.0.0.1:3000\\@evil.example/cb"),
        ("redirect_uris", "https://app.example/cb\r\nX-Injected: 1"),
        ("redirect_uris", "https://app.example/c\tb"),
        ("redirect_uris", "https://app.example/a b"),
        ("redirect_uris", "https://user:pw@app.example/cb"),
        ("redirect_uris", "https://user@app.example/cb"),
        ("redirect_uris", "HTTPS://app.example/cb"),
        ("redirect_uris", "https://app.example"),
        ("redirect_uris", "https://app.example/../cb"),
        ("post_logout_redirect_uris", "http://127.0.0.1\\@evil.example/"),
        ("post_logout_redirect_uris", "https://app.example/bye\n"),
        ("request_uris", "https://user@app.example/r"),
        ("jwks_uri", "https://keys.example/jwks\\x"),
        ("sector_identifier_uri", "https://u:p@sector.example/s.json"),
    ];
    for (field, value) in cases {
        let v = if field.ends_with('s') && field != "jwks_uri" {
            json!([value])
        } else {
            json!(value)
        };
        let mut body =
            json!({"authorization_server_id": "default", "client_id": "strict", "grant_types": ["authorization_code"]});
        body[field] = v;
        let r = app.admin(Method::POST, "/clients", Some(body)).await;
        let e = assert_api_error(&r, 422);
        assert_eq!(
            field_of(e["details"]["field"].as_str().unwrap()),
            field,
            "{value:?}: {e}"
        );
    }
    assert_api_error(&app.admin(Method::GET, "/clients/strict", None).await, 404);
    // Well-formed ones are kept exactly as sent.
    let c = client(
        &app,
        json!({"client_id": "ok", "redirect_uris": ["https://app.example/cb?x=1", "http://127.0.0.1:3000/cb", "com.example.app:/cb"]}),
    )
    .await;
    assert_eq!(
        c["redirect_uris"],
        json!([
            "https://app.example/cb?x=1",
            "http://127.0.0.1:3000/cb",
            "com.example.app:/cb"
        ])
    );
}

#[tokio::test]
async fn max_age_zero_asks_for_a_new_sign_in_even_within_the_same_second() {
    let app = spawn_app().await;
    setup(&app).await;
    let b = Browser::new();
    code_for(&app, &b, &[]).await;
    let r = b.get(&authorize_url(&app, &[("max_age", "0")])).await;
    let login = r.location.unwrap();
    assert!(
        login.contains("/login?"),
        "signed in a moment ago, still asked: {login}"
    );
    let back = sign_in(&app, &b, &login, "alice-password-1").await;
    let loc = back.location.unwrap();
    assert!(
        loc.starts_with(CB),
        "after signing in, straight back to the client: {loc}"
    );
    assert!(params_of(&loc).contains_key("code"));
    // A positive max_age the session satisfies needs no sign-in.
    let r = b.get(&authorize_url(&app, &[("max_age", "3600")])).await;
    assert!(r.location.unwrap().starts_with(CB));
}

#[tokio::test]
async fn a_live_refresh_token_introspects_active() {
    let app = spawn_app().await;
    let secret = setup(&app).await;
    let api = resource_server(&app).await;
    let b = Browser::new();
    let t = tokens_for(&app, &b, &secret, &[]).await;
    let rt = s(&t, "refresh_token");
    let v = introspect_as(&app, "api", &api, &rt).await;
    assert_eq!(v["active"], true, "{v}");
    assert_eq!(v["token_type"], "refresh_token");
    assert_eq!(v["client_id"], "web");
    assert_eq!(v["sub"], "alice");
    assert_eq!(v["scope"], "openid profile email offline_access");
    assert!(v["exp"].as_i64().unwrap() > t["expires_in"].as_i64().unwrap());
    assert_eq!(refresh(&app, &secret, &rt).await.status, 200);
    assert_eq!(
        introspect_as(&app, "api", &api, &rt).await,
        json!({"active": false}),
        "used"
    );
    assert_eq!(
        introspect_as(&app, "api", &api, "not-a-token").await,
        json!({"active": false})
    );
}

#[tokio::test]
async fn id_tokens_are_rs256_unless_the_client_asks_for_the_servers_algorithm() {
    let app = spawn_app().await;
    let r = app
        .admin(
            Method::POST,
            "/servers",
            Some(json!({"id": "shop", "key_type": "ecdsa"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let keys = r.body["jwks"]["keys"].as_array().unwrap();
    assert_eq!(
        keys.iter().map(|k| k["alg"].clone()).collect::<Vec<_>>(),
        [json!("ES256"), json!("RS256")],
        "the signing key and the ID-token key"
    );
    let m = app
        .call(
            Method::GET,
            "/default/shop/.well-known/openid-configuration",
            None,
            None,
        )
        .await
        .body;
    assert_eq!(m["id_token_signing_alg_values_supported"], json!(["RS256", "ES256"]));
    assert_eq!(m["access_token_signing_alg_values_supported"], json!(["ES256"]));
    let r = app
        .admin(
            Method::PUT,
            "/servers/shop",
            Some(
                json!({"grant_types": ["password"], "authentications": {"methods": [{"method": "static",
                "static": {"users": [{"username": "ann", "password": "ann-password-0123"}]}}]}}),
            ),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let jwks = app
        .call(Method::GET, "/default/shop/.well-known/jwks.json", None, None)
        .await
        .body;
    for (cid, alg) in [("rs", None), ("es", Some("ES256"))] {
        let mut body = json!({"client_id": cid, "client_secret": "client-secret-0123456789", "authorization_server_id": "shop",
                              "grant_types": ["password"], "scopes": ["openid"]});
        if let Some(a) = alg {
            body["id_token_signed_response_alg"] = json!(a);
        }
        let c = client(&app, body).await;
        assert_eq!(c["id_token_signed_response_alg"], alg.map_or(Value::Null, |a| json!(a)));
        let t = form(
            &app,
            &format!("{}/oauth2/token", issuer(&app, "shop")),
            Some((cid, "client-secret-0123456789")),
            &[
                ("grant_type", "password"),
                ("username", "ann"),
                ("password", "ann-password-0123"),
                ("scope", "openid"),
            ],
        )
        .await;
        assert_eq!(t.status, 200, "{}", t.body);
        let id = s(&t.body, "id_token");
        // Verified with an independent JOSE library against the published keys.
        let header = jsonwebtoken::decode_header(&id).unwrap();
        assert_eq!(format!("{:?}", header.alg), alg.unwrap_or("RS256"));
        let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(
            jwks["keys"]
                .as_array()
                .unwrap()
                .iter()
                .find(|k| k["kid"] == json!(header.kid.clone().unwrap()))
                .unwrap()
                .clone(),
        )
        .unwrap();
        let mut v = jsonwebtoken::Validation::new(header.alg);
        v.set_audience(&[cid]);
        v.set_issuer(&[issuer(&app, "shop")]);
        jsonwebtoken::decode::<Value>(&id, &jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap(), &v).unwrap();
    }
    let r = app
        .admin(
            Method::POST,
            "/clients",
            Some(json!({"authorization_server_id": "shop", "id_token_signed_response_alg": "PS256"})),
        )
        .await;
    assert_eq!(
        assert_api_error(&r, 422)["details"]["field"],
        "id_token_signed_response_alg"
    );
}

#[tokio::test]
async fn offline_access_gives_no_refresh_token_to_a_client_without_the_grant() {
    let app = spawn_app().await;
    let secret = setup(&app).await;
    let r = app
        .admin(
            Method::PUT,
            "/clients/web",
            Some(json!({"grant_types": ["authorization_code"]})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let b = Browser::new();
    let t = tokens_for(&app, &b, &secret, &[("scope", "openid offline_access")]).await;
    assert!(t.get("refresh_token").is_none(), "{t}");
    assert_eq!(t["scope"], "openid", "offline_access is not granted: {t}");
}

#[tokio::test]
async fn new_servers_come_with_the_openid_scopes_worded_for_people() {
    let app = spawn_app().await;
    let r = app.admin(Method::POST, "/servers", Some(json!({"id": "shop"}))).await;
    assert_eq!(r.status, 201);
    for aid in ["default", "shop"] {
        let list = app.admin(Method::GET, &format!("/servers/{aid}/scopes"), None).await;
        let scopes = list.body["scopes"].as_array().unwrap();
        let names: Vec<&str> = scopes.iter().map(|s| s["name"].as_str().unwrap()).collect();
        assert_eq!(
            names,
            ["address", "email", "offline_access", "openid", "phone", "profile"],
            "{aid}"
        );
        let email = scopes.iter().find(|s| s["name"] == "email").unwrap();
        assert_eq!(email["display_name"], "Your email address");
        assert!(!email["description"].as_str().unwrap().is_empty());
    }
    // Ordinary scopes: editable and deletable.
    let list = app.admin(Method::GET, "/servers/shop/scopes", None).await;
    let phone = list.body["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "phone")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .admin(
            Method::PUT,
            &format!("/scopes/{phone}"),
            Some(json!({"display_name": "Your mobile number"})),
        )
        .await;
    assert_eq!(r.body["display_name"], "Your mobile number");
    assert_eq!(
        app.admin(Method::DELETE, &format!("/scopes/{phone}"), None)
            .await
            .status,
        204
    );
    // The system servers have none.
    let list = app.admin(Method::GET, "/servers/admin/scopes", None).await;
    assert_eq!(list.body["scopes"], json!([]));
}
