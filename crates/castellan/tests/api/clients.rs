use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

async fn scope(app: &TestApp, server: &str, name: &str) -> Value {
    let r = app
        .admin(
            Method::POST,
            "/scopes",
            Some(json!({"name": name, "authorization_server_id": server})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body
}

async fn client(app: &TestApp, body: Value) -> Value {
    let r = app.admin(Method::POST, "/clients", Some(body)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body
}

#[tokio::test]
async fn create_client_applies_the_acp_defaults() {
    let app = spawn_app().await;
    let c = client(
        &app,
        json!({"authorization_server_id": "default", "redirect_uris": ["https://app.example.com/cb"]}),
    )
    .await;
    assert_eq!(c["client_id"].as_str().unwrap().len(), 32, "id generated");
    assert!(
        c["client_secret"].as_str().unwrap().len() >= 43,
        "secret generated and shown to the admin"
    );
    assert_eq!(c["grant_types"], json!(["authorization_code"]));
    assert_eq!(c["response_types"], json!(["code"]));
    assert_eq!(c["token_endpoint_auth_method"], "client_secret_basic");
    assert_eq!(c["authorization_server_id"], "default");
    assert_eq!(c["tenant_id"], "default");
    assert_eq!((c["public"].clone(), c["system"].clone()), (json!(false), json!(false)));
    let got = app
        .admin(
            Method::GET,
            &format!("/clients/{}", c["client_id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(got.body, c, "the admin sees the same client, secret included");
}

#[tokio::test]
async fn create_client_with_every_field() {
    let app = spawn_app().await;
    scope(&app, "default", "orders.read").await;
    scope(&app, "default", "orders.write").await;
    let body = json!({
        "client_id": "shop", "client_name": "Shop", "authorization_server_id": "default",
        "client_secret": "a-chosen-secret-of-some-length",
        "grant_types": ["client_credentials", "authorization_code", "refresh_token"],
        "response_types": ["code"], "redirect_uris": ["https://shop.example.com/cb", "http://127.0.0.1:9000/cb", "com.example.shop:/cb"],
        "scope": "orders.read orders.write", "audience": ["https://api.example.com"],
        "token_endpoint_auth_method": "client_secret_post", "trusted": true,
        "description": "The shop", "client_uri": "https://shop.example.com", "logo_uri": "https://shop.example.com/logo.png",
        "privacy": {"scopes": {"orders.read": {"purpose": "show orders"}}}, "client_secret_expires_at": 0,
        "system": true, "tenant_id": "default",
        "request_object_signing_alg": "ES256", "request_uris": ["https://shop.example.com/request.jwt"],
        "sector_identifier_uri": "https://shop.example.com/sector.json", "userinfo_signed_response_alg": "none",
        "tls_client_auth_subject_dn": "CN=shop,O=Example", "tls_client_auth_san_dns": "shop.example.com",
        "tls_client_certificate_bound_access_tokens": false
    });
    let c = client(&app, body).await;
    assert_eq!(c["client_id"], "shop");
    assert_eq!(c["client_secret"], "a-chosen-secret-of-some-length");
    assert_eq!(c["scopes"], json!(["orders.read", "orders.write"]));
    assert_eq!(c["scope"], "orders.read orders.write");
    assert_eq!(c["system"], false);
    assert_eq!(c["trusted"], true);
    assert_eq!(c["token_endpoint_auth_method"], "client_secret_post");
    assert_eq!(c["privacy"]["scopes"]["orders.read"]["purpose"], "show orders");
    assert_eq!(c["request_object_signing_alg"], "ES256");
    assert_eq!(c["request_uris"], json!(["https://shop.example.com/request.jwt"]));
    assert_eq!(c["sector_identifier_uri"], "https://shop.example.com/sector.json");
    assert_eq!(c["userinfo_signed_response_alg"], "none");
    assert_eq!(c["tls_client_auth_subject_dn"], "CN=shop,O=Example");
    assert_eq!(c["tls_client_auth_san_dns"], "shop.example.com");
    assert_eq!(c["tls_client_certificate_bound_access_tokens"], false);
    let got = app.admin(Method::GET, "/clients/shop", None).await;
    assert_eq!(got.body, c, "every field is kept");
    let list = app.admin(Method::GET, "/servers/default/clients", None).await;
    assert_eq!(list.body["clients"], json!([c]));
    let r = app
        .admin(
            Method::POST,
            "/clients",
            Some(json!({"client_id": "shop", "authorization_server_id": "default"})),
        )
        .await;
    assert_api_error(&r, 409);
}

#[tokio::test]
async fn public_clients_have_no_secret() {
    let app = spawn_app().await;
    let c = client(
        &app,
        json!({"authorization_server_id": "default", "token_endpoint_auth_method": "none", "redirect_uris": ["https://spa.example.com/cb"]}),
    )
    .await;
    assert_eq!(c["client_secret"], "");
    assert_eq!(c["public"], true);
    let c = client(&app, json!({"authorization_server_id": "default", "public": true})).await;
    assert_eq!(c["token_endpoint_auth_method"], "none");
}

/// Cloudentity ACP's `client_hashed_secret`: how the secret is kept, shown with the secret and
/// withheld with it.
#[tokio::test]
async fn the_hashed_secret_is_shown_with_the_secret() {
    let app = spawn_app().await;
    let generated = client(&app, json!({"authorization_server_id": "default"})).await;
    let hashed = generated["client_hashed_secret"].as_str().unwrap();
    assert!(
        hashed.starts_with("hmac-sha256:") && hashed.len() == 12 + 43,
        "{hashed}"
    );
    let chosen = client(
        &app,
        json!({"authorization_server_id": "default", "client_secret": "a secret the admin chose, long enough"}),
    )
    .await;
    assert!(
        chosen["client_hashed_secret"]
            .as_str()
            .unwrap()
            .starts_with("$argon2id$"),
        "{chosen}"
    );
    let public = client(&app, json!({"authorization_server_id": "default", "public": true})).await;
    assert!(public.get("client_hashed_secret").is_none(), "{public}");
    // A caller who may not see the bootstrap's secret does not see its hash either.
    let reader = crate::permissions::admin_client(&app, "reader").await;
    crate::permissions::map(&app, "reader", "client.read").await;
    let cred = crate::permissions::Cred::Basic("reader", &reader);
    let r = crate::permissions::call(&app, cred, Method::GET, "/api/admin/default/clients/bootstrap", None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["client_secret"], "");
    assert!(r.body.get("client_hashed_secret").is_none(), "{}", r.body);
    let own = app.admin(Method::GET, "/clients/bootstrap", None).await;
    assert!(own.body["client_hashed_secret"].is_string(), "{}", own.body);
}

#[tokio::test]
async fn create_client_refuses_bad_input_naming_the_field() {
    let app = spawn_app().await;
    let cases = [
        (json!({}), 422, "authorization_server_id"),
        (
            json!({"authorization_server_id": "default", "redirect_uris": ["/relative"]}),
            422,
            "redirect_uris[0]",
        ),
        (
            json!({"authorization_server_id": "default", "redirect_uris": ["https://a.example.com/cb#frag"]}),
            422,
            "redirect_uris[0]",
        ),
        (
            json!({"authorization_server_id": "default", "redirect_uris": ["http://evil.example.com/cb"]}),
            422,
            "redirect_uris[0]",
        ),
        (
            json!({"authorization_server_id": "default", "grant_types": ["magic"]}),
            422,
            "grant_types[0]",
        ),
        (
            json!({"authorization_server_id": "default", "grant_types": ["password"]}),
            422,
            "grant_types[0]",
        ),
        (
            json!({"authorization_server_id": "default", "response_types": ["codes"]}),
            422,
            "response_types[0]",
        ),
        (
            json!({"authorization_server_id": "default", "token_endpoint_auth_method": "magic"}),
            422,
            "token_endpoint_auth_method",
        ),
        (
            json!({"authorization_server_id": "default", "token_endpoint_auth_method": "private_key_jwt"}),
            422,
            "jwks",
        ),
        (
            json!({"authorization_server_id": "default", "scopes": ["missing"]}),
            422,
            "scopes[0]",
        ),
        (
            json!({"authorization_server_id": "default", "client_secret": "short"}),
            422,
            "client_secret",
        ),
        (
            json!({"authorization_server_id": "default", "client_id": "bad id"}),
            422,
            "client_id",
        ),
        (
            json!({"authorization_server_id": "default", "public": true, "grant_types": ["client_credentials"]}),
            422,
            "grant_types",
        ),
        (
            json!({"authorization_server_id": "default", "jwks": {"keys": [{"kty": "EC", "d": "x"}]}}),
            422,
            "jwks.keys[0]",
        ),
        (
            json!({"authorization_server_id": "default", "logo_uri": "nope"}),
            422,
            "logo_uri",
        ),
        (
            json!({"authorization_server_id": "default", "privacy": [null, null]}),
            400,
            "privacy",
        ),
        (
            json!({"authorization_server_id": "default", "request_object_signing_alg": "HS256"}),
            422,
            "request_object_signing_alg",
        ),
        (
            json!({"authorization_server_id": "default", "request_uris": ["ftp://x"]}),
            422,
            "request_uris[0]",
        ),
        (
            json!({"authorization_server_id": "default", "sector_identifier_uri": "not a url"}),
            422,
            "sector_identifier_uri",
        ),
        (
            json!({"authorization_server_id": "default", "userinfo_signed_response_alg": "RS256"}),
            422,
            "userinfo_signed_response_alg",
        ),
        (
            json!({"authorization_server_id": "default", "token_endpoint_auth_method": "tls_client_auth"}),
            422,
            "tls_client_auth_subject_dn",
        ),
        (
            json!({"authorization_server_id": "default", "tls_client_auth_subject_dn": "CN=a\nb"}),
            422,
            "tls_client_auth_subject_dn",
        ),
    ];
    for (body, status, field) in cases {
        let r = app.admin(Method::POST, "/clients", Some(body.clone())).await;
        assert_eq!(assert_api_error(&r, status)["details"]["field"], field, "{body}");
    }
    let r = app
        .admin(
            Method::POST,
            "/clients",
            Some(json!({"authorization_server_id": "ghost"})),
        )
        .await;
    assert_eq!(assert_api_error(&r, 404)["details"]["id"], "ghost");
    let list = app.admin(Method::GET, "/servers/default/clients", None).await;
    assert_eq!(list.body["clients"], json!([]), "nothing was created");
}

#[tokio::test]
async fn update_and_delete_clients() {
    let app = spawn_app().await;
    scope(&app, "default", "a").await;
    let c = client(
        &app,
        json!({"client_id": "c", "authorization_server_id": "default", "grant_types": ["client_credentials"]}),
    )
    .await;
    let r = app
        .admin(
            Method::PUT,
            "/clients/c",
            Some(json!({"client_name": "Renamed", "scopes": ["a"]})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["client_name"], "Renamed");
    assert_eq!(r.body["client_secret"], c["client_secret"], "secret kept");
    assert_eq!(r.body["scopes"], json!(["a"]));
    let r = app
        .admin(
            Method::PUT,
            "/clients/c",
            Some(json!({"client_secret": "a-brand-new-secret-value"})),
        )
        .await;
    assert_eq!(r.body["client_secret"], "a-brand-new-secret-value");
    let r = app
        .admin(
            Method::PUT,
            "/clients/c",
            Some(json!({"authorization_server_id": "admin"})),
        )
        .await;
    assert_eq!(assert_api_error(&r, 422)["details"]["field"], "authorization_server_id");
    let r = app
        .admin(Method::PUT, "/clients/c", Some(json!({"client_id": "d"})))
        .await;
    assert_eq!(assert_api_error(&r, 422)["details"]["field"], "client_id");
    assert_api_error(&app.admin(Method::PUT, "/clients/ghost", Some(json!({}))).await, 404);

    assert_eq!(app.admin(Method::DELETE, "/clients/c", None).await.status, 204);
    assert_api_error(&app.admin(Method::GET, "/clients/c", None).await, 404);
    assert_api_error(&app.admin(Method::DELETE, "/clients/c", None).await, 404);
    let r = app.admin(Method::DELETE, "/clients/bootstrap", None).await;
    assert_api_error(&r, 400);
    assert_eq!(
        app.admin(Method::GET, "/tenant", None).await.status,
        200,
        "the bootstrap client still works"
    );
}

#[tokio::test]
async fn a_new_admin_client_can_use_the_admin_api_and_loses_access_when_deleted() {
    let app = spawn_app().await;
    let c = client(&app, json!({"client_id": "ops", "authorization_server_id": "admin", "grant_types": ["client_credentials"], "client_secret": "ops-secret-chosen-by-a-person"})).await;
    let creds = Some(("ops", c["client_secret"].as_str().unwrap()));
    for _ in 0..2 {
        // A chosen secret: argon2id on the first call, the verified-secret cache after
        // (asserted in castellan-oauth's secrets tests); both must succeed.
        assert_eq!(
            app.call(Method::GET, "/api/admin/default/tenant", None, creds)
                .await
                .status,
            200
        );
    }
    let wrong = app
        .call(
            Method::GET,
            "/api/admin/default/tenant",
            None,
            Some(("ops", "ops-secret-chosen-by-a-persoN")),
        )
        .await;
    assert_api_error(&wrong, 401);
    assert_eq!(app.admin(Method::DELETE, "/clients/ops", None).await.status, 204);
    assert_api_error(
        &app.call(Method::GET, "/api/admin/default/tenant", None, creds).await,
        401,
    );
}

#[tokio::test]
async fn scopes_round_trip_and_rules() {
    let app = spawn_app().await;
    let s = app
        .admin(
            Method::POST,
            "/scopes",
            Some(
                json!({"id": "1", "name": "orders.archive", "authorization_server_id": "default",
                "display_name": "Offline Access", "description": "Refresh tokens", "user_policy_id": "block"}),
            ),
        )
        .await;
    assert_eq!(s.status, 201, "{}", s.body);
    assert_eq!(
        s.body,
        json!({"id": "1", "name": "orders.archive", "authorization_server_id": "default", "tenant_id": "default",
               "display_name": "Offline Access", "description": "Refresh tokens", "user_policy_id": "block"})
    );
    // Get answers `ScopeWithService`: here without a service.
    let mut with_service = s.body.clone();
    with_service["with_service"] = json!(false);
    assert_eq!(app.admin(Method::GET, "/scopes/1", None).await.body, with_service);
    // Same name on the same server: 409; on another server: fine.
    let r = app
        .admin(
            Method::POST,
            "/scopes",
            Some(json!({"name": "orders.archive", "authorization_server_id": "default"})),
        )
        .await;
    assert_api_error(&r, 409);
    scope(&app, "admin", "orders.archive").await;
    for (body, status, field) in [
        (json!({"authorization_server_id": "default"}), 422, "name"),
        (
            json!({"name": "has space", "authorization_server_id": "default"}),
            422,
            "name",
        ),
        (json!({"name": "x"}), 422, "authorization_server_id"),
    ] {
        let r = app.admin(Method::POST, "/scopes", Some(body)).await;
        assert_eq!(assert_api_error(&r, status)["details"]["field"], field);
    }
    assert_api_error(
        &app.admin(
            Method::POST,
            "/scopes",
            Some(json!({"name": "x", "authorization_server_id": "ghost"})),
        )
        .await,
        404,
    );

    let r = app
        .admin(
            Method::PUT,
            "/scopes/1",
            Some(json!({"description": "Long-lived access"})),
        )
        .await;
    assert_eq!(r.body["description"], "Long-lived access");
    assert_eq!(r.body["display_name"], "Offline Access");
    let r = app
        .admin(Method::PUT, "/scopes/1", Some(json!({"name": "renamed"})))
        .await;
    assert_eq!(assert_api_error(&r, 422)["details"]["field"], "name");

    let list = app.admin(Method::GET, "/servers/default/scopes", None).await;
    assert_eq!(
        list.body["scopes"].as_array().unwrap().len(),
        7,
        "the six OpenID scopes every server starts with, and this one"
    );

    // Deleting a scope takes it off the clients that had it.
    client(&app, json!({"client_id": "c", "authorization_server_id": "default", "grant_types": ["client_credentials"], "scopes": ["orders.archive"]})).await;
    assert_eq!(app.admin(Method::DELETE, "/scopes/1", None).await.status, 204);
    assert_api_error(&app.admin(Method::GET, "/scopes/1", None).await, 404);
    assert_eq!(
        app.admin(Method::GET, "/clients/c", None).await.body["scopes"],
        json!([])
    );
}
