//! The protocol endpoints: discovery, JWKS, token (client_credentials), introspection, revocation,
//! and the admin API's bearer tokens.

use castellan_jose::jwt;
use oauth2::basic::BasicClient;
use oauth2::{ClientId, ClientSecret, Scope, TokenResponse, TokenUrl};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

async fn setup(app: &TestApp) {
    for name in ["orders.read", "orders.write", "admin.all"] {
        let r = app
            .admin(
                Method::POST,
                "/scopes",
                Some(json!({"name": name, "authorization_server_id": "default"})),
            )
            .await;
        assert_eq!(r.status, 201);
    }
}

pub(crate) async fn client(app: &TestApp, body: Value) -> Value {
    let mut body = body;
    body["authorization_server_id"] = body.get("authorization_server_id").cloned().unwrap_or(json!("default"));
    let r = app.admin(Method::POST, "/clients", Some(body)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body
}

pub(crate) fn issuer(app: &TestApp, aid: &str) -> String {
    format!("{}/default/{aid}", app.base)
}

/// POSTs a form to a protocol endpoint.
pub(crate) async fn form(app: &TestApp, url: &str, basic: Option<(&str, &str)>, params: &[(&str, &str)]) -> Resp {
    let mut req = app
        .http
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded");
    if let Some((id, secret)) = basic {
        req = req.basic_auth(id, Some(secret));
    }
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    app.raw(req.body(body)).await
}

/// A client_credentials request authenticated by a client assertion (RFC 7523 §2.2).
async fn with_assertion(app: &TestApp, url: &str, assertion: &str) -> Resp {
    form(
        app,
        url,
        None,
        &[
            ("grant_type", "client_credentials"),
            ("client_assertion_type", castellan_oauth::JWT_BEARER_ASSERTION),
            ("client_assertion", assertion),
        ],
    )
    .await
}

pub(crate) fn assert_oauth_error(r: &Resp, status: u16, code: &str) {
    assert_eq!(r.status.as_u16(), status, "{}", r.body);
    assert_eq!(r.body["error"], code, "{}", r.body);
    assert!(r.body["error_description"].is_string());
    assert_eq!(r.headers["cache-control"], "no-store");
}

#[tokio::test]
async fn discovery_and_jwks_describe_the_server() {
    let app = spawn_app().await;
    setup(&app).await;
    let iss = issuer(&app, "default");
    for path in [
        "/default/default/.well-known/oauth-authorization-server",
        "/default/default/.well-known/openid-configuration",
        // RFC 8414 §3.1: the well-known segment between the host and the issuer's path.
        "/.well-known/oauth-authorization-server/default/default",
        "/.well-known/openid-configuration/default/default",
    ] {
        let r = app.call(Method::GET, path, None, None).await;
        assert_eq!(r.status, 200);
        let m = &r.body;
        assert_eq!(m["issuer"], iss);
        assert_eq!(m["token_endpoint"], format!("{iss}/oauth2/token"));
        assert_eq!(m["jwks_uri"], format!("{iss}/.well-known/jwks.json"));
        assert_eq!(m["introspection_endpoint"], format!("{iss}/oauth2/introspect"));
        assert_eq!(m["revocation_endpoint"], format!("{iss}/oauth2/revoke"));
        assert_eq!(
            m["scopes_supported"],
            json!([
                "address",
                "admin.all",
                "email",
                "offline_access",
                "openid",
                "orders.read",
                "orders.write",
                "phone",
                "profile"
            ]),
            "the OpenID scopes every new server has, and the ones created"
        );
        assert_eq!(
            m["grant_types_supported"],
            json!(["authorization_code", "implicit", "client_credentials", "refresh_token"]),
            "the server's grants (password is not enabled by default)"
        );
        assert_eq!(m["authorization_endpoint"], format!("{iss}/oauth2/authorize"));
        assert_eq!(m["userinfo_endpoint"], format!("{iss}/userinfo"));
        assert_eq!(m["end_session_endpoint"], format!("{iss}/logout"));
        assert_eq!(m["response_types_supported"][0], "code");
        assert_eq!(m["subject_types_supported"], json!(["public"]));
        assert_eq!(m["id_token_signing_alg_values_supported"], json!(["RS256"]));
        assert_eq!(m["code_challenge_methods_supported"], json!(["S256"]));
        assert_eq!(
            m["token_endpoint_auth_methods_supported"],
            json!([
                "client_secret_basic",
                "client_secret_post",
                "client_secret_jwt",
                "private_key_jwt",
                "none"
            ])
        );
        assert_eq!(
            m["introspection_endpoint_auth_methods_supported"],
            json!([
                "client_secret_basic",
                "client_secret_post",
                "client_secret_jwt",
                "private_key_jwt"
            ]),
            "public clients may not introspect, so none is not offered"
        );
        assert_eq!(m["access_token_signing_alg_values_supported"], json!(["RS256"]));
    }
    let r = app
        .call(
            Method::GET,
            "/.well-known/oauth-authorization-server/default/nope",
            None,
            None,
        )
        .await;
    assert_eq!(r.status, 404);
    let jwks = app
        .call(Method::GET, "/default/default/.well-known/jwks.json", None, None)
        .await;
    let keys = jwks.body["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    for k in keys {
        assert!(k["kid"].is_string() && k["alg"] == "RS256" && k["use"] == "sig");
        assert!(k.get("d").is_none());
    }
    let r = app
        .call(Method::GET, "/default/nope/.well-known/jwks.json", None, None)
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body["error"], "invalid_request");
}

#[tokio::test]
async fn an_independent_oauth2_client_gets_a_token_that_verifies_against_the_jwks() {
    let app = spawn_app().await;
    setup(&app).await;
    let c = client(
        &app,
        json!({"client_id": "shop", "grant_types": ["client_credentials"], "scopes": ["orders.read", "orders.write"],
               "audience": ["https://api.example.com"]}),
    )
    .await;
    let iss = issuer(&app, "default");
    // Discovery through RFC 8414, then the grant through the oauth2 crate.
    let meta = app
        .http
        .get(format!("{iss}/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap();
    let meta: Value = meta.json().await.unwrap();
    let oauth = BasicClient::new(ClientId::new("shop".into()))
        .set_client_secret(ClientSecret::new(c["client_secret"].as_str().unwrap().into()))
        .set_token_uri(TokenUrl::new(meta["token_endpoint"].as_str().unwrap().into()).unwrap());
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let token = oauth
        .exchange_client_credentials()
        .add_scope(Scope::new("orders.read".into()))
        .request_async(&http)
        .await
        .expect("client_credentials grant");
    assert_eq!(token.token_type().as_ref(), "bearer");
    assert_eq!(token.expires_in().unwrap().as_secs(), 3600);
    assert_eq!(token.scopes().unwrap()[0].as_str(), "orders.read");

    // Verify with jsonwebtoken (RustCrypto), keys from the JWKS.
    let jwks: jsonwebtoken::jwk::JwkSet = app
        .http
        .get(meta["jwks_uri"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let at = token.access_token().secret();
    let header = jsonwebtoken::decode_header(at).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"), "RFC 9068 typ");
    let jwk = jwks
        .find(header.kid.as_deref().unwrap())
        .expect("the signing key is published");
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    v.set_audience(&["https://api.example.com"]);
    v.set_issuer(&[&iss]);
    v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    let data = jsonwebtoken::decode::<Value>(at, &jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap(), &v).unwrap();
    let claims = data.claims;
    assert_eq!(claims["sub"], "shop");
    assert_eq!(claims["client_id"], "shop");
    assert_eq!(claims["scope"], "orders.read");
    assert_eq!(claims["tid"], "default");
    assert_eq!(claims["aid"], "default");
    assert!(claims["jti"].as_str().is_some_and(|j| j.len() >= 16));
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 3600);
}

#[tokio::test]
async fn es256_servers_sign_es256_tokens_with_their_ttl() {
    let app = spawn_app().await;
    let r = app
        .admin(
            Method::POST,
            "/servers",
            Some(json!({"id": "fast", "key_type": "ecdsa", "access_token_ttl": "5m"})),
        )
        .await;
    assert_eq!(r.status, 201);
    let c = client(
        &app,
        json!({"authorization_server_id": "fast", "grant_types": ["client_credentials"]}),
    )
    .await;
    let (id, secret) = (c["client_id"].as_str().unwrap(), c["client_secret"].as_str().unwrap());
    let r = form(
        &app,
        &format!("{}/oauth2/token", issuer(&app, "fast")),
        Some((id, secret)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["expires_in"], 300);
    assert!(r.body.get("scope").is_none(), "a client without scopes gets none");
    let at = r.body["access_token"].as_str().unwrap();
    let parsed = jwt::parse(at).unwrap();
    assert_eq!(parsed.header.alg, "ES256");
    let claims: Value = parsed.claims().unwrap();
    assert_eq!(
        claims["aud"],
        json!([id]),
        "without an audience the client itself is the audience"
    );
}

#[tokio::test]
async fn scopes_requested_must_be_the_clients() {
    let app = spawn_app().await;
    setup(&app).await;
    let c = client(
        &app,
        json!({"grant_types": ["client_credentials"], "scopes": ["orders.read", "orders.write"]}),
    )
    .await;
    let (id, secret) = (c["client_id"].as_str().unwrap(), c["client_secret"].as_str().unwrap());
    let url = format!("{}/oauth2/token", issuer(&app, "default"));
    let all = form(&app, &url, Some((id, secret)), &[("grant_type", "client_credentials")]).await;
    assert_eq!(
        all.body["scope"], "orders.read orders.write",
        "none requested: all the client's scopes"
    );
    let one = form(
        &app,
        &url,
        Some((id, secret)),
        &[("grant_type", "client_credentials"), ("scope", "orders.write")],
    )
    .await;
    assert_eq!(one.body["scope"], "orders.write");
    let bad = form(
        &app,
        &url,
        Some((id, secret)),
        &[("grant_type", "client_credentials"), ("scope", "orders.read admin.all")],
    )
    .await;
    assert_oauth_error(&bad, 400, "invalid_scope");
}

#[tokio::test]
async fn client_secret_post_and_method_mismatch() {
    let app = spawn_app().await;
    let c = client(
        &app,
        json!({"grant_types": ["client_credentials"], "token_endpoint_auth_method": "client_secret_post"}),
    )
    .await;
    let (id, secret) = (c["client_id"].as_str().unwrap(), c["client_secret"].as_str().unwrap());
    let url = format!("{}/oauth2/token", issuer(&app, "default"));
    let ok = form(
        &app,
        &url,
        None,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
        ],
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    // Registered for client_secret_post: Basic is refused, even with the right secret.
    let r = form(&app, &url, Some((id, secret)), &[("grant_type", "client_credentials")]).await;
    assert_oauth_error(&r, 401, "invalid_client");
    let r = form(
        &app,
        &url,
        None,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", "wrong"),
        ],
    )
    .await;
    assert_oauth_error(&r, 401, "invalid_client");
    assert!(
        r.headers.get("www-authenticate").is_none(),
        "no Basic challenge when Basic was not used"
    );
}

#[tokio::test]
async fn token_endpoint_errors_follow_rfc6749() {
    let app = spawn_app().await;
    let c = client(&app, json!({"grant_types": ["client_credentials"]})).await;
    let code_only = client(
        &app,
        json!({"grant_types": ["authorization_code"], "redirect_uris": ["https://a.example.com/cb"]}),
    )
    .await;
    let (id, secret) = (c["client_id"].as_str().unwrap(), c["client_secret"].as_str().unwrap());
    let url = format!("{}/oauth2/token", issuer(&app, "default"));

    let r = form(&app, &url, Some((id, "wrong")), &[("grant_type", "client_credentials")]).await;
    assert_oauth_error(&r, 401, "invalid_client");
    assert!(r.headers["www-authenticate"].to_str().unwrap().starts_with("Basic"));
    let r = form(
        &app,
        &url,
        Some(("ghost", "whatever")),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_oauth_error(&r, 401, "invalid_client");
    let r = form(&app, &url, None, &[("grant_type", "client_credentials")]).await;
    assert_oauth_error(&r, 401, "invalid_client");
    let r = form(&app, &url, Some((id, secret)), &[]).await;
    assert_oauth_error(&r, 400, "invalid_request");
    let r = form(
        &app,
        &url,
        Some((id, secret)),
        &[
            ("grant_type", "client_credentials"),
            ("grant_type", "client_credentials"),
        ],
    )
    .await;
    assert_oauth_error(&r, 400, "invalid_request");
    let r = form(&app, &url, Some((id, secret)), &[("grant_type", "magic")]).await;
    assert_oauth_error(&r, 400, "unsupported_grant_type");
    let r = form(
        &app,
        &url,
        Some((
            code_only["client_id"].as_str().unwrap(),
            code_only["client_secret"].as_str().unwrap(),
        )),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_oauth_error(&r, 400, "unauthorized_client");
    let r = form(
        &app,
        &url,
        Some((id, secret)),
        &[("grant_type", "client_credentials"), ("client_id", "other")],
    )
    .await;
    assert_oauth_error(&r, 400, "invalid_request");
    // A client of another server is unknown here.
    let r = form(
        &app,
        &format!("{}/oauth2/token", issuer(&app, "admin")),
        Some((id, secret)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_oauth_error(&r, 401, "invalid_client");
    // Wrong content type, oversized and malformed bodies: errors, never 5xx.
    let r = app
        .raw(
            app.http
                .post(&url)
                .basic_auth(id, Some(secret))
                .json(&json!({"grant_type": "client_credentials"})),
        )
        .await;
    assert_oauth_error(&r, 400, "invalid_request");
    let big = format!("grant_type=client_credentials&x={}", "a".repeat(70 * 1024));
    let r = app
        .raw(
            app.http
                .post(&url)
                .basic_auth(id, Some(secret))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(big),
        )
        .await;
    assert_oauth_error(&r, 400, "invalid_request");
    let r = app
        .raw(
            app.http
                .post(&url)
                .header("authorization", "Basic !!!")
                .header("content-type", "application/x-www-form-urlencoded")
                .body("grant_type=client_credentials"),
        )
        .await;
    assert_oauth_error(&r, 401, "invalid_client");
}

fn assertion_claims(app: &TestApp, client_id: &str, jti: &str) -> Value {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    json!({"iss": client_id, "sub": client_id, "aud": format!("{}/oauth2/token", issuer(app, "default")),
           "exp": now + 60, "iat": now, "jti": jti})
}

#[tokio::test]
async fn client_secret_jwt_assertions_are_accepted_once() {
    let app = spawn_app().await;
    let c = client(&app, json!({"client_id": "jwt-client", "grant_types": ["client_credentials"], "token_endpoint_auth_method": "client_secret_jwt"})).await;
    let secret = c["client_secret"].as_str().unwrap();
    let url = format!("{}/oauth2/token", issuer(&app, "default"));
    let assertion = jwt::sign_hs256(secret, &assertion_claims(&app, "jwt-client", "one"));
    let r = with_assertion(&app, &url, &assertion).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let replay = with_assertion(&app, &url, &assertion).await;
    assert_oauth_error(&replay, 401, "invalid_client");
    assert!(replay.body["error_description"].as_str().unwrap().contains("jti"));
    let forged = jwt::sign_hs256("not-the-secret", &assertion_claims(&app, "jwt-client", "two"));
    let r = with_assertion(&app, &url, &forged).await;
    assert_oauth_error(&r, 401, "invalid_client");
    let mut wrong_aud = assertion_claims(&app, "jwt-client", "three");
    wrong_aud["aud"] = json!("https://elsewhere.example.com");
    let r = with_assertion(&app, &url, &jwt::sign_hs256(secret, &wrong_aud)).await;
    assert_oauth_error(&r, 401, "invalid_client");
    let mut expired = assertion_claims(&app, "jwt-client", "four");
    expired["exp"] = json!(1_000_000);
    let r = with_assertion(&app, &url, &jwt::sign_hs256(secret, &expired)).await;
    assert_oauth_error(&r, 401, "invalid_client");
}

#[tokio::test]
async fn private_key_jwt_assertions_verify_against_the_clients_keys() {
    let app = spawn_app().await;
    let key = castellan_jose::keys::generate(castellan_domain::SigningAlg::ES256).unwrap();
    let signer = castellan_jose::LoadedKey::from_pkcs8(castellan_domain::SigningAlg::ES256, &key.pkcs8).unwrap();
    client(
        &app,
        json!({"client_id": "pkj", "grant_types": ["client_credentials"], "token_endpoint_auth_method": "private_key_jwt",
               "jwks": {"keys": [key.public_jwk]}}),
    )
    .await;
    let url = format!("{}/oauth2/token", issuer(&app, "default"));
    let header = jwt::encode_header(castellan_domain::SigningAlg::ES256, &key.kid, "JWT");
    let sign = |jti: &str| jwt::sign(&signer, &header, &assertion_claims(&app, "pkj", jti)).unwrap();
    let a1 = sign("a1");
    let r = with_assertion(&app, &url, &a1).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Signed by another key: refused.
    let other = castellan_jose::keys::generate(castellan_domain::SigningAlg::ES256).unwrap();
    let other_signer =
        castellan_jose::LoadedKey::from_pkcs8(castellan_domain::SigningAlg::ES256, &other.pkcs8).unwrap();
    let forged = jwt::sign(&other_signer, &header, &assertion_claims(&app, "pkj", "a2")).unwrap();
    let r = with_assertion(&app, &url, &forged).await;
    assert_oauth_error(&r, 401, "invalid_client");
}

async fn token_for(app: &TestApp, aid: &str, id: &str, secret: &str) -> String {
    let r = form(
        app,
        &format!("{}/oauth2/token", issuer(app, aid)),
        Some((id, secret)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn introspection_and_revocation() {
    let app = spawn_app().await;
    let a = client(&app, json!({"client_id": "a", "grant_types": ["client_credentials"]})).await;
    let b = client(&app, json!({"client_id": "b", "grant_types": ["client_credentials"]})).await;
    let (a_secret, b_secret) = (
        a["client_secret"].as_str().unwrap(),
        b["client_secret"].as_str().unwrap(),
    );
    let iss = issuer(&app, "default");
    let token = token_for(&app, "default", "a", a_secret).await;

    // Another client of the same server may introspect.
    let r = form(
        &app,
        &format!("{iss}/oauth2/introspect"),
        Some(("b", b_secret)),
        &[("token", &token)],
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["active"], true);
    assert_eq!(r.body["client_id"], "a");
    assert_eq!(r.body["iss"], iss);
    assert_eq!(r.headers["cache-control"], "no-store");
    // A public client (identified by its id alone) may not introspect.
    let spa = client(&app, json!({"client_id": "spa", "token_endpoint_auth_method": "none", "redirect_uris": ["https://spa.example.com/cb"]})).await;
    assert_eq!(spa["public"], true);
    let r = form(
        &app,
        &format!("{iss}/oauth2/introspect"),
        None,
        &[("token", &token), ("client_id", "spa")],
    )
    .await;
    assert_oauth_error(&r, 401, "invalid_client");
    // Without client authentication: refused.
    let r = form(&app, &format!("{iss}/oauth2/introspect"), None, &[("token", &token)]).await;
    assert_oauth_error(&r, 401, "invalid_client");
    // Garbage and tokens of other servers are inactive.
    let admin_token = token_for(&app, "admin", "bootstrap", BOOTSTRAP_SECRET).await;
    for t in ["garbage", "a.b.c", admin_token.as_str()] {
        let r = form(
            &app,
            &format!("{iss}/oauth2/introspect"),
            Some(("a", a_secret)),
            &[("token", t)],
        )
        .await;
        assert_eq!(r.body, json!({"active": false}), "{t}");
    }
    let mut tampered: Vec<String> = token.split('.').map(str::to_owned).collect();
    tampered[1] = castellan_jose::b64url(br#"{"iss":"x","sub":"a","client_id":"a","exp":99999999999}"#);
    let r = form(
        &app,
        &format!("{iss}/oauth2/introspect"),
        Some(("a", a_secret)),
        &[("token", &tampered.join("."))],
    )
    .await;
    assert_eq!(r.body["active"], false);

    // Revocation: another client's token is refused; the owner's revocation sticks.
    let r = form(
        &app,
        &format!("{iss}/oauth2/revoke"),
        Some(("b", b_secret)),
        &[("token", &token)],
    )
    .await;
    assert_oauth_error(&r, 400, "unauthorized_client");
    let r = form(
        &app,
        &format!("{iss}/oauth2/revoke"),
        Some(("a", a_secret)),
        &[("token", &token)],
    )
    .await;
    assert_eq!(r.status, 200);
    let r = form(
        &app,
        &format!("{iss}/oauth2/introspect"),
        Some(("b", b_secret)),
        &[("token", &token)],
    )
    .await;
    assert_eq!(r.body, json!({"active": false}), "a revoked token introspects inactive");
    let r = form(
        &app,
        &format!("{iss}/oauth2/revoke"),
        Some(("a", a_secret)),
        &[("token", "not-a-token")],
    )
    .await;
    assert_eq!(r.status, 200, "RFC 7009: invalid tokens are not an error");
    let r = form(
        &app,
        &format!("{iss}/oauth2/revoke"),
        Some(("a", a_secret)),
        &[("token", "x"), ("token_type_hint", "id_token")],
    )
    .await;
    assert_eq!(r.status, 200, "RFC 7009 §2.1: an unknown hint is ignored: {}", r.body);
    // Without client credentials: 401 with the scheme to use, before anything else is read.
    for (endpoint, params) in [
        ("revoke", vec![("token", token.as_str())]),
        ("introspect", vec![("token", token.as_str())]),
        ("revoke", vec![]),
        ("introspect", vec![]),
    ] {
        let r = form(&app, &format!("{iss}/oauth2/{endpoint}"), None, &params).await;
        assert_oauth_error(&r, 401, "invalid_client");
        assert!(
            r.headers["www-authenticate"].to_str().unwrap().starts_with("Basic"),
            "{endpoint}: {:?}",
            r.headers
        );
    }
}

#[tokio::test]
async fn the_admin_api_accepts_tokens_of_its_own_admin_server_only() {
    let app = spawn_app().await;
    let admin_token = token_for(&app, "admin", "bootstrap", BOOTSTRAP_SECRET).await;
    let bearer = |t: &str| {
        app.http
            .get(format!("{}/api/admin/default/servers", app.base))
            .bearer_auth(t)
    };
    let r = app.raw(bearer(&admin_token)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["servers"].as_array().unwrap().len(), 3);

    // A token of the tenant's default server is not an admin token.
    let c = client(&app, json!({"client_id": "app", "grant_types": ["client_credentials"]})).await;
    let app_token = token_for(&app, "default", "app", c["client_secret"].as_str().unwrap()).await;
    assert_api_error(&app.raw(bearer(&app_token)).await, 401);
    assert_api_error(&app.raw(bearer("garbage")).await, 401);
    // Another tenant's admin path refuses default's admin token.
    let r = app
        .raw(
            app.http
                .get(format!("{}/api/admin/other/tenant", app.base))
                .bearer_auth(&admin_token),
        )
        .await;
    assert_api_error(&r, 401);

    // A revoked token stops working; so do tokens of a deleted admin client.
    let ops = client(
        &app,
        json!({"client_id": "ops", "authorization_server_id": "admin", "grant_types": ["client_credentials"]}),
    )
    .await;
    let ops_token = token_for(&app, "admin", "ops", ops["client_secret"].as_str().unwrap()).await;
    assert_eq!(app.raw(bearer(&ops_token)).await.status, 200);
    assert_eq!(app.admin(Method::DELETE, "/clients/ops", None).await.status, 204);
    assert_api_error(&app.raw(bearer(&ops_token)).await, 401);
    let r = form(
        &app,
        &format!("{}/oauth2/revoke", issuer(&app, "admin")),
        Some(("bootstrap", BOOTSTRAP_SECRET)),
        &[("token", &admin_token)],
    )
    .await;
    assert_eq!(r.status, 200);
    assert_api_error(&app.raw(bearer(&admin_token)).await, 401);
}

#[tokio::test]
async fn metrics_count_tokens_by_grant_and_outcome() {
    let app = spawn_app().await;
    token_for(&app, "admin", "bootstrap", BOOTSTRAP_SECRET).await;
    form(
        &app,
        &format!("{}/oauth2/token", issuer(&app, "admin")),
        Some(("bootstrap", "wrong")),
        &[("grant_type", "client_credentials")],
    )
    .await;
    let text = app.raw(app.http.get(format!("{}/metrics", app.base))).await.body;
    let text = text.as_str().unwrap();
    assert!(
        text.contains(r#"castellan_token_requests_total{grant_type="client_credentials",outcome="issued"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"castellan_token_requests_total{grant_type="client_credentials",outcome="invalid_client"} 1"#)
    );
    assert!(text.contains("castellan_token_request_duration_seconds_count 2"));
}

#[tokio::test]
async fn private_key_jwt_with_a_jwks_uri_fetches_the_clients_keys() {
    let app = spawn_app().await;
    let es = castellan_domain::SigningAlg::ES256;
    let k1 = castellan_jose::keys::generate(es).unwrap();
    let published = json!({"keys": [k1.public_jwk]});
    let router = axum::Router::new().route(
        "/jwks.json",
        axum::routing::get(move || async move { axum::Json(published) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let jwks_uri = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });

    let r = app
        .admin(
            Method::POST,
            "/clients",
            Some(json!({"client_id": "remote", "authorization_server_id": "default", "grant_types": ["client_credentials"],
                        "token_endpoint_auth_method": "private_key_jwt", "jwks_uri": "http://10.1.2.3/jwks.json"})),
        )
        .await;
    assert_eq!(
        assert_api_error(&r, 422)["details"]["field"],
        "jwks_uri",
        "plain http only on loopback"
    );
    client(
        &app,
        json!({"client_id": "remote", "grant_types": ["client_credentials"], "token_endpoint_auth_method": "private_key_jwt",
               "jwks_uri": jwks_uri}),
    )
    .await;
    let url = format!("{}/oauth2/token", issuer(&app, "default"));
    let assert_with = |key: &castellan_jose::GeneratedKey, jti: &str| {
        let signer = castellan_jose::LoadedKey::from_pkcs8(es, &key.pkcs8).unwrap();
        jwt::sign(
            &signer,
            &jwt::encode_header(es, &key.kid, "JWT"),
            &assertion_claims(&app, "remote", jti),
        )
        .unwrap()
    };
    let r = with_assertion(&app, &url, &assert_with(&k1, "r1")).await;
    assert_eq!(r.status, 200, "{}", r.body);

    // A key the client never published is refused. (Rotation and the refetch rate limit are
    // covered with a fake fetcher and explicit times in castellan-oauth's jwks_uri tests.)
    let stranger = castellan_jose::keys::generate(es).unwrap();
    let r = with_assertion(&app, &url, &assert_with(&stranger, "r3")).await;
    assert_oauth_error(&r, 401, "invalid_client");
}

#[tokio::test]
async fn password_grant_for_static_users_with_access_token_claims() {
    let app = spawn_app().await;
    let r = app
        .admin(
            Method::POST,
            "/servers",
            Some(
                json!({"id": "people", "grant_types": ["password", "client_credentials"],
                "authentications": {"methods": [{"method": "static", "static": {"users": [
                    {"username": "peter", "password": "peter-password-1",
                     "authentication_context": {"email": "peter@example.com", "address": {"country": "NO"}}}]}}]}}),
            ),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    for name in ["email", "profile"] {
        app.admin(
            Method::POST,
            "/scopes",
            Some(json!({"name": name, "authorization_server_id": "people"})),
        )
        .await;
    }
    for (id, name, mapping, ty, scopes) in [
        ("c-email", "email", "email", "access_token", json!(["email"])),
        (
            "c-country",
            "country",
            "address.country",
            "access_token",
            json!(["profile"]),
        ),
        ("c-id-only", "nickname", "email", "id_token", json!([])),
        ("c-reserved", "sub", "email", "access_token", json!([])),
    ] {
        let r = app
            .admin(
                Method::POST,
                "/claims",
                Some(json!({"id": id, "authorization_server_id": "people", "name": name, "mapping": mapping, "type": ty, "scopes": scopes})),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let c = client(
        &app,
        json!({"client_id": "app", "authorization_server_id": "people", "grant_types": ["password"], "scopes": ["email", "profile"]}),
    )
    .await;
    let secret = c["client_secret"].as_str().unwrap();
    let url = format!("{}/oauth2/token", issuer(&app, "people"));
    let grant = |user: &'static str, pw: &'static str, scope: &'static str| {
        let url = url.clone();
        let app = &app;
        async move {
            let mut params = vec![("grant_type", "password"), ("username", user), ("password", pw)];
            if !scope.is_empty() {
                params.push(("scope", scope));
            }
            form(app, &url, Some(("app", secret)), &params).await
        }
    };

    let r = grant("peter", "peter-password-1", "email").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["scope"], "email");
    let claims: Value = jwt::parse(r.body["access_token"].as_str().unwrap())
        .unwrap()
        .claims()
        .unwrap();
    assert_eq!(
        claims["sub"], "peter",
        "the user is the subject; a claim named sub cannot override it"
    );
    assert_eq!(claims["client_id"], "app");
    assert_eq!(claims["email"], "peter@example.com", "released by the granted scope");
    assert!(claims.get("country").is_none(), "its scope (profile) was not granted");
    assert!(
        claims.get("nickname").is_none(),
        "id_token claims stay out of access tokens"
    );
    let all = grant("peter", "peter-password-1", "").await;
    let claims: Value = jwt::parse(all.body["access_token"].as_str().unwrap())
        .unwrap()
        .claims()
        .unwrap();
    assert_eq!(claims["country"], "NO", "nested attribute through its mapping path");
    // Introspection shows the custom claims too.
    let r = form(
        &app,
        &format!("{}/oauth2/introspect", issuer(&app, "people")),
        Some(("app", secret)),
        &[("token", all.body["access_token"].as_str().unwrap())],
    )
    .await;
    assert_eq!(
        (r.body["active"].clone(), r.body["email"].clone()),
        (json!(true), json!("peter@example.com"))
    );

    assert_oauth_error(&grant("peter", "wrong", "").await, 400, "invalid_grant");
    assert_oauth_error(&grant("nobody", "peter-password-1", "").await, 400, "invalid_grant");
    assert_oauth_error(&grant("peter", "peter-password-1", "admin").await, 400, "invalid_scope");
    let r = form(
        &app,
        &url,
        Some(("app", secret)),
        &[("grant_type", "password"), ("username", "peter")],
    )
    .await;
    assert_oauth_error(&r, 400, "invalid_request");
    // A client without the grant, and a server without it.
    let cc = client(
        &app,
        json!({"authorization_server_id": "people", "grant_types": ["client_credentials"]}),
    )
    .await;
    let r = form(
        &app,
        &url,
        Some((cc["client_id"].as_str().unwrap(), cc["client_secret"].as_str().unwrap())),
        &[
            ("grant_type", "password"),
            ("username", "peter"),
            ("password", "peter-password-1"),
        ],
    )
    .await;
    assert_oauth_error(&r, 400, "unauthorized_client");
    let d = client(&app, json!({"grant_types": ["client_credentials"]})).await;
    let r = form(
        &app,
        &format!("{}/oauth2/token", issuer(&app, "default")),
        Some((d["client_id"].as_str().unwrap(), d["client_secret"].as_str().unwrap())),
        &[("grant_type", "password"), ("username", "peter"), ("password", "x")],
    )
    .await;
    assert_oauth_error(&r, 400, "unsupported_grant_type");
}
