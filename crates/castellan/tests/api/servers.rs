use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

pub(crate) fn test_keys() -> Value {
    serde_json::from_str(include_str!("../fixtures/test-keys.json")).unwrap()
}

async fn create(app: &TestApp, body: Value) -> Value {
    let r = app.admin(Method::POST, "/servers", Some(body)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body
}

#[tokio::test]
async fn create_server_applies_the_acp_defaults() {
    let app = spawn_app().await;
    let s = create(&app, json!({"name": "Shop"})).await;
    let id = s["id"].as_str().unwrap();
    assert_eq!(id.len(), 36, "a UUID is generated: {id}");
    assert_eq!(s["tenant_id"], "default");
    assert_eq!(s["name"], "Shop");
    assert_eq!(s["issuer_url"], format!("{}/default/{id}", app.base));
    assert_eq!(s["system"], false);
    assert_eq!(
        s["grant_types"],
        json!(["authorization_code", "implicit", "client_credentials", "refresh_token"])
    );
    assert_eq!(s["authorization_code_ttl"], "10m0s");
    assert_eq!(s["access_token_ttl"], "1h0m0s");
    assert_eq!(s["id_token_ttl"], "1h0m0s");
    assert_eq!(s["refresh_token_ttl"], "720h0m0s");
    assert_eq!(s["key_type"], "rsa");
    assert_eq!(s["enforce_pkce"], false);
    assert_eq!(s["enable_dynamic_client_registration"], false);
    assert_eq!(s["profiles"], json!([]));
    assert_eq!(s["rotated_secrets"], json!([]));
    assert!(s["secret"].as_str().unwrap().len() >= 32, "secret generated");
    let keys = s["jwks"]["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    let k = &keys[0];
    assert_eq!(
        (k["kty"].as_str(), k["alg"].as_str(), k["use"].as_str()),
        (Some("RSA"), Some("RS256"), Some("sig"))
    );
    assert!(k["kid"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(k["n"].as_str().unwrap().len() >= 342, "2048-bit modulus");
    for private in ["d", "p", "q", "dp", "dq", "qi"] {
        assert!(
            k.get(private).is_none(),
            "private member {private} must never be returned"
        );
    }
    assert_eq!(
        app.admin(Method::GET, &format!("/servers/{id}"), None).await.body,
        s,
        "GET returns what POST did"
    );
}

#[tokio::test]
async fn create_stores_and_returns_every_given_field() {
    let app = spawn_app().await;
    let body = json!({
        "id": "shop", "name": "Shop", "key_type": "ecdsa",
        "secret": "0123456789abcdef0123456789abcdef",
        "rotated_secrets": ["fedcba9876543210fedcba9876543210"],
        "grant_types": ["client_credentials", "authorization_code"],
        "access_token_ttl": "15m", "authorization_code_ttl": "1m30s", "id_token_ttl": "2h",
        "refresh_token_ttl": "1.5h", "cookie_max_age": "1h10m30s",
        "enforce_pkce": true, "enable_dynamic_client_registration": true, "profiles": ["fapi_rw"],
        "logo_uri": "https://example.com/logo.png", "developer_policy_id": "allow", "user_policy_id": "allow",
        "tenant_id": "default", "issuer_url": "http://ignored", "system": true
    });
    let s = create(&app, body).await;
    assert_eq!(s["id"], "shop");
    assert_eq!(s["tenant_id"], "default");
    assert_eq!(s["system"], false, "system cannot be set through the API");
    assert_eq!(s["issuer_url"], format!("{}/default/shop", app.base));
    assert_eq!(s["secret"], "0123456789abcdef0123456789abcdef");
    assert_eq!(s["rotated_secrets"], json!(["fedcba9876543210fedcba9876543210"]));
    assert_eq!(s["grant_types"], json!(["client_credentials", "authorization_code"]));
    assert_eq!(s["access_token_ttl"], "15m0s");
    assert_eq!(s["authorization_code_ttl"], "1m30s");
    assert_eq!(s["id_token_ttl"], "2h0m0s");
    assert_eq!(s["refresh_token_ttl"], "1h30m0s");
    assert_eq!(s["cookie_max_age"], "1h10m30s");
    assert_eq!(
        (
            s["enforce_pkce"].clone(),
            s["enable_dynamic_client_registration"].clone()
        ),
        (json!(true), json!(true))
    );
    assert_eq!(s["profiles"], json!(["fapi_rw"]));
    assert_eq!(s["logo_uri"], "https://example.com/logo.png");
    assert_eq!(s["developer_policy_id"], "allow");
    assert_eq!(s["user_policy_id"], "allow");
    let k = &s["jwks"]["keys"][0];
    assert_eq!(
        (k["kty"].as_str(), k["crv"].as_str(), k["alg"].as_str()),
        (Some("EC"), Some("P-256"), Some("ES256"))
    );
    assert!(k.get("d").is_none());
    assert_eq!(app.admin(Method::GET, "/servers/shop", None).await.body, s);
}

#[tokio::test]
async fn key_type_ps_generates_a_ps256_rsa_key() {
    let app = spawn_app().await;
    let s = create(&app, json!({"id": "ps", "key_type": "ps"})).await;
    let k = &s["jwks"]["keys"][0];
    assert_eq!((k["kty"].as_str(), k["alg"].as_str()), (Some("RSA"), Some("PS256")));
}

#[tokio::test]
async fn given_private_jwks_are_imported_and_only_public_parts_returned() {
    let app = spawn_app().await;
    let keys = test_keys();
    let s = create(&app, json!({"id": "imp", "jwks": {"keys": [keys["ec"], keys["rsa"]]}})).await;
    assert_eq!(s["key_type"], "ecdsa", "key_type follows the first (signing) key");
    let got = s["jwks"]["keys"].as_array().unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0]["kid"], "imported-ec");
    assert_eq!(got[0]["x"], keys["ec"]["x"]);
    assert_eq!(got[1]["kid"], "imported-rsa");
    assert_eq!(got[1]["n"], keys["rsa"]["n"]);
    for k in got {
        assert!(k.get("d").is_none() && k.get("p").is_none());
    }
    // A stated key_type that contradicts the signing key is refused.
    let r = app
        .admin(
            Method::POST,
            "/servers",
            Some(json!({"id": "imp2", "key_type": "rsa", "jwks": {"keys": [keys["ec"]]}})),
        )
        .await;
    assert_eq!(assert_api_error(&r, 422)["details"]["field"], "key_type");
}

#[tokio::test]
async fn create_refuses_bad_input_naming_the_field_and_creates_nothing() {
    let app = spawn_app().await;
    let keys = test_keys();
    let mut broken_ec = keys["ec"].clone();
    broken_ec["d"] = json!("AAAA");
    let cases = [
        (json!({"id": "a", "secret": "too-short"}), "secret"),
        (json!({"id": "a", "key_type": "dsa"}), "key_type"),
        (
            json!({"id": "a", "grant_types": ["client_credentials", "magic"]}),
            "grant_types[1]",
        ),
        (json!({"id": "a", "grant_types": []}), "grant_types"),
        (json!({"id": "a", "access_token_ttl": "1 hour"}), "access_token_ttl"),
        (json!({"id": "a", "refresh_token_ttl": "0s"}), "refresh_token_ttl"),
        (
            json!({"id": "a", "authorization_code_ttl": "-5m"}),
            "authorization_code_ttl",
        ),
        (json!({"id": "a", "profiles": ["fapi_xx"]}), "profiles[0]"),
        (json!({"id": "a", "logo_uri": "not a url"}), "logo_uri"),
        (json!({"id": "a", "name": ""}), "name"),
        (json!({"id": "a/b"}), "id"),
        (json!({"id": "a", "rotated_secrets": ["short"]}), "rotated_secrets[0]"),
        (json!({"id": "a", "jwks": {"keys": []}}), "jwks.keys"),
        (
            json!({"id": "a", "jwks": {"keys": [{"kty": "EC", "kid": "public-only"}]}}),
            "jwks.keys[0]",
        ),
        (json!({"id": "a", "jwks": {"keys": [broken_ec]}}), "jwks.keys[0]"),
        (
            json!({"id": "a", "authentications": {"methods": [{"method": "magic"}]}}),
            "authentications.methods[0].method",
        ),
    ];
    for (body, field) in cases {
        let r = app.admin(Method::POST, "/servers", Some(body.clone())).await;
        let e = assert_api_error(&r, 422);
        assert_eq!(e["details"]["field"], field, "{body}: {e}");
    }
    assert_eq!(app.admin(Method::GET, "/servers/a", None).await.status, 404);
    assert_eq!(
        app.admin(Method::GET, "/servers", None).await.body["servers"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[tokio::test]
async fn duplicate_id_is_a_409() {
    let app = spawn_app().await;
    let first = create(&app, json!({"id": "dup", "name": "First"})).await;
    let r = app
        .admin(Method::POST, "/servers", Some(json!({"id": "dup", "name": "Second"})))
        .await;
    assert_eq!(assert_api_error(&r, 409)["details"]["id"], "dup");
    let r = app.admin(Method::POST, "/servers", Some(json!({"id": "admin"}))).await;
    assert_api_error(&r, 409);
    assert_eq!(
        app.admin(Method::GET, "/servers/dup", None).await.body,
        first,
        "the first one is untouched"
    );
}

#[tokio::test]
async fn update_changes_given_fields_and_keeps_the_rest() {
    let app = spawn_app().await;
    let before = create(
        &app,
        json!({"id": "u", "name": "Before", "enforce_pkce": true, "profiles": ["fapi_rw"], "key_type": "ps",
            "grant_types": ["authorization_code", "refresh_token"]}),
    )
    .await;
    let r = app
        .admin(
            Method::PUT,
            "/servers/u",
            Some(json!({"name": "After", "access_token_ttl": "5m"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut expected = before.clone();
    expected["name"] = json!("After");
    expected["access_token_ttl"] = json!("5m0s");
    assert_eq!(r.body, expected);
    assert_eq!(app.admin(Method::GET, "/servers/u", None).await.body, expected);

    // A full GET → PUT round trip changes nothing (public keys sent back are kept).
    let r = app.admin(Method::PUT, "/servers/u", Some(expected.clone())).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body, expected);

    // Clearing optional fields.
    let r = app
        .admin(Method::PUT, "/servers/u", Some(json!({"profiles": [], "logo_uri": ""})))
        .await;
    assert_eq!(r.body["profiles"], json!([]));
    assert!(r.body.get("logo_uri").is_none());
}

#[tokio::test]
async fn update_with_a_new_secret_rotates_the_old_one() {
    let app = spawn_app().await;
    let s = create(&app, json!({"id": "r", "secret": "first-secret-0123456789abcdef0123"})).await;
    assert_eq!(s["rotated_secrets"], json!([]));
    let r = app
        .admin(
            Method::PUT,
            "/servers/r",
            Some(json!({"secret": "second-secret-0123456789abcdef012"})),
        )
        .await;
    assert_eq!(r.body["secret"], "second-secret-0123456789abcdef012");
    assert_eq!(r.body["rotated_secrets"], json!(["first-secret-0123456789abcdef0123"]));
    let r = app
        .admin(Method::PUT, "/servers/r", Some(json!({"secret": "short"})))
        .await;
    assert_eq!(assert_api_error(&r, 422)["details"]["field"], "secret");
}

#[tokio::test]
async fn changing_key_type_adds_a_new_signing_key_and_keeps_the_old_one_published() {
    let app = spawn_app().await;
    let s = create(&app, json!({"id": "k"})).await;
    let old_kid = s["jwks"]["keys"][0]["kid"].clone();
    let r = app
        .admin(Method::PUT, "/servers/k", Some(json!({"key_type": "ecdsa"})))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let keys = r.body["jwks"]["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0]["alg"], "ES256", "the new key signs");
    assert_eq!(keys[1]["kid"], old_kid, "the old key stays published for verification");
}

#[tokio::test]
async fn update_jwks_keeps_listed_public_keys_imports_private_ones_and_refuses_unknown() {
    let app = spawn_app().await;
    let s = create(&app, json!({"id": "j"})).await;
    let current = s["jwks"]["keys"][0].clone();
    let keys = test_keys();
    let r = app
        .admin(
            Method::PUT,
            "/servers/j",
            Some(json!({"jwks": {"keys": [keys["rsa"], current]}})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let got: Vec<_> = r.body["jwks"]["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].clone())
        .collect();
    assert_eq!(got, [json!("imported-rsa"), current["kid"].clone()]);

    let before = app.admin(Method::GET, "/servers/j", None).await.body;
    let unknown = json!({"kty": "RSA", "kid": "never-seen", "n": "AQAB", "e": "AQAB"});
    let r = app
        .admin(
            Method::PUT,
            "/servers/j",
            Some(json!({"name": "changed", "jwks": {"keys": [unknown]}})),
        )
        .await;
    assert_eq!(assert_api_error(&r, 422)["details"]["field"], "jwks.keys[0]");
    assert_eq!(
        app.admin(Method::GET, "/servers/j", None).await.body,
        before,
        "a refused update changes nothing"
    );
}

#[tokio::test]
async fn update_refuses_a_mismatched_id_and_unknown_servers() {
    let app = spawn_app().await;
    create(&app, json!({"id": "m"})).await;
    let r = app.admin(Method::PUT, "/servers/m", Some(json!({"id": "other"}))).await;
    assert_eq!(assert_api_error(&r, 422)["details"]["field"], "id");
    let r = app
        .admin(Method::PUT, "/servers/ghost", Some(json!({"name": "x"})))
        .await;
    assert_eq!(assert_api_error(&r, 404)["details"]["id"], "ghost");
    assert_api_error(&app.admin(Method::GET, "/servers/ghost", None).await, 404);
}

#[tokio::test]
async fn system_servers_can_be_updated_but_not_deleted() {
    let app = spawn_app().await;
    for id in ["admin", "developer"] {
        let r = app.admin(Method::DELETE, &format!("/servers/{id}"), None).await;
        assert_api_error(&r, 400);
        assert_eq!(
            app.admin(Method::GET, &format!("/servers/{id}"), None).await.status,
            200
        );
    }
    let r = app
        .admin(
            Method::PUT,
            "/servers/admin",
            Some(json!({"access_token_ttl": "10m", "system": false})),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["system"], true);
    assert_eq!(r.body["access_token_ttl"], "10m0s");
    // The admin API still works after the admin server changed.
    assert_eq!(app.admin(Method::GET, "/tenant", None).await.status, 200);
}

#[tokio::test]
async fn delete_removes_the_server_and_everything_under_it() {
    let app = spawn_app().await;
    let s = create(&app, json!({"id": "gone"})).await;
    let r = app.admin(Method::DELETE, "/servers/gone", None).await;
    assert_eq!(r.status, 204);
    assert_eq!(r.body, Value::Null);
    assert_api_error(&app.admin(Method::GET, "/servers/gone", None).await, 404);
    assert_api_error(&app.admin(Method::DELETE, "/servers/gone", None).await, 404);
    // Re-created under the same id, it starts afresh: new key, new secret.
    let again = create(&app, json!({"id": "gone"})).await;
    assert_ne!(again["jwks"]["keys"][0]["kid"], s["jwks"]["keys"][0]["kid"]);
    assert_ne!(again["secret"], s["secret"]);
    let default_delete = app.admin(Method::DELETE, "/servers/default", None).await;
    assert_eq!(
        default_delete.status, 204,
        "the non-system default server can be deleted"
    );
}

#[tokio::test]
async fn authentications_store_methods_and_never_return_passwords() {
    let app = spawn_app().await;
    create(&app, json!({"id": "login"})).await;
    let body = json!({"methods": [
        {"id": "users", "method": "static", "name": "Users", "static": {"hint": true, "users": [
            {"username": "peter", "password": "peter-password", "authentication_context": {"email": "peter@example.com"}},
            {"username": "anna", "password": "anna-password"}
        ]}},
        {"method": "oidc", "name": "Corporate", "oidc": {"client_id": "castellan", "client_secret": "upstream-secret",
            "issuer_url": "https://idp.example.com", "scopes": ["openid", "email"]}}
    ]});
    let r = app
        .admin(Method::PUT, "/servers/login/authentications", Some(body))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let methods = r.body["methods"].as_array().unwrap();
    assert_eq!(methods.len(), 2);
    assert_eq!(methods[0]["id"], "users");
    assert_eq!(
        methods[0]["static"]["users"][0],
        json!({"username": "peter", "authentication_context": {"email": "peter@example.com"}})
    );
    assert_eq!(methods[1]["id"], "oidc", "id defaults to the method");
    assert!(
        methods[1]["oidc"].get("client_secret").is_none(),
        "upstream secret is write-only"
    );
    assert_eq!(methods[1]["oidc"]["issuer_url"], "https://idp.example.com");
    let text = r.body.to_string();
    assert!(
        !text.contains("password") && !text.contains("upstream-secret"),
        "{text}"
    );
    let server = app.admin(Method::GET, "/servers/login", None).await.body;
    assert_eq!(server["authentications"], r.body, "the server shows the same methods");
    assert!(!server.to_string().contains("peter-password"));

    // Sending the methods back as returned keeps passwords; a new user needs one.
    let r = app
        .admin(Method::PUT, "/servers/login/authentications", Some(r.body.clone()))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut with_new_user = r.body.clone();
    with_new_user["methods"][0]["static"]["users"]
        .as_array_mut()
        .unwrap()
        .push(json!({"username": "new"}));
    let e = app
        .admin(Method::PUT, "/servers/login/authentications", Some(with_new_user))
        .await;
    assert_eq!(
        assert_api_error(&e, 422)["details"]["field"],
        "methods[0].static.users[2].password"
    );
}

#[tokio::test]
async fn authentications_refuse_bad_methods_and_change_nothing() {
    let app = spawn_app().await;
    let before = app.admin(Method::GET, "/servers/default", None).await.body;
    let cases = [
        (json!({"methods": [{"method": "kerberos"}]}), "methods[0].method"),
        (json!({"methods": [{"method": "oidc"}]}), "methods[0].oidc"),
        (
            json!({"methods": [{"method": "static"}, {"method": "static"}]}),
            "methods[1].id",
        ),
        (
            json!({"methods": [{"method": "static", "static": {"users": [{"username": "", "password": "x"}]}}]}),
            "methods[0].static.users[0].username",
        ),
        (
            json!({"methods": [{"method": "static", "static": {"users": [{"username": "a", "password": "x"}, {"username": "a", "password": "y"}]}}]}),
            "methods[0].static.users[1].username",
        ),
        (
            json!({"methods": [{"method": "static", "static": {"users": [{"username": "a", "password": ""}]}}]}),
            "methods[0].static.users[0].password",
        ),
        (
            json!({"methods": [{"id": "bad id!", "method": "custom", "custom": {"login_url": "https://x"}}]}),
            "methods[0].id",
        ),
    ];
    for (body, field) in cases {
        let r = app
            .admin(Method::PUT, "/servers/default/authentications", Some(body.clone()))
            .await;
        assert_eq!(assert_api_error(&r, 422)["details"]["field"], field, "{body}");
    }
    let r = app
        .admin(
            Method::PUT,
            "/servers/ghost/authentications",
            Some(json!({"methods": []})),
        )
        .await;
    assert_api_error(&r, 404);
    assert_eq!(app.admin(Method::GET, "/servers/default", None).await.body, before);
}

/// Changing `key_type` both ways keeps every key that signed a live token published: access
/// tokens and ID tokens issued before each change still verify against the JWKS, and an ID token
/// issued under ECDSA (signed by the RS256 ID-token key) still ends a session at sign-out.
#[tokio::test]
async fn key_type_changes_keep_every_live_tokens_key_published() {
    let app = spawn_app().await;
    let secret = crate::flows::setup(&app).await;
    crate::flows::enable_password_grant(&app).await;
    let url = format!("{}/oauth2/token", crate::tokens::issuer(&app, "default"));
    let tokens = || {
        let app = &app;
        let url = &url;
        let secret = &secret;
        async move {
            let t = crate::tokens::form(
                app,
                url,
                Some(("web", secret)),
                &[
                    ("grant_type", "password"),
                    ("username", "alice"),
                    ("password", "alice-password-1"),
                    ("scope", "openid email"),
                ],
            )
            .await;
            assert_eq!(t.status, 200, "{}", t.body);
            (
                t.body["access_token"].as_str().unwrap().to_owned(),
                t.body["id_token"].as_str().unwrap().to_owned(),
            )
        }
    };
    let kid = |jwt: &str| {
        let header = jwt.split('.').next().unwrap();
        let bytes = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, header).unwrap();
        serde_json::from_slice::<Value>(&bytes).unwrap()["kid"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let published = || {
        let app = &app;
        async move {
            let jwks: Value = app
                .http
                .get(format!(
                    "{}/.well-known/jwks.json",
                    crate::tokens::issuer(app, "default")
                ))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            jwks["keys"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k["kid"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    let mut live = vec![tokens().await];
    for key_type in ["ecdsa", "rsa", "ecdsa"] {
        let r = app
            .admin(Method::PUT, "/servers/default", Some(json!({"key_type": key_type})))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        live.push(tokens().await);
        let kids = published().await;
        for (access, id) in &live {
            assert!(
                kids.contains(&kid(access)),
                "{key_type}: access token key {} in {kids:?}",
                kid(access)
            );
            assert!(
                kids.contains(&kid(id)),
                "{key_type}: ID token key {} in {kids:?}",
                kid(id)
            );
        }
    }
    // The ID token issued under ECDSA, before the change to RSA, still names its session at sign-out.
    let (_, id_token) = &live[1];
    let r = app
        .raw(app.http.get(format!(
            "{}/logout?id_token_hint={id_token}",
            crate::tokens::issuer(&app, "default")
        )))
        .await;
    assert!(
        !r.body.to_string().contains("did not issue"),
        "{}: {}",
        r.status,
        r.body
    );
}

#[tokio::test]
async fn dashboards_link_to_the_metrics_that_exist() {
    let app = spawn_app().await;
    let r = app.admin(Method::GET, "/servers/default/dashboards", None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let metrics = format!("{}/metrics", app.base);
    assert_eq!(
        r.body,
        json!({"enabled": true, "tenant_business_url": metrics, "tenant_threat_url": metrics,
            "sample_business_url": "", "sample_threat_url": ""})
    );
    // The page named is there.
    let page = app.http.get(&metrics).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("castellan_token_request_duration_seconds")
    );
    assert_api_error(&app.admin(Method::GET, "/servers/nosuch/dashboards", None).await, 404);
}
