//! The FAPI profiles of a server: `fapi_rw` (FAPI 1.0 Advanced) and `fapi2` (FAPI 2.0 Security
//! Profile). Each rule is broken once — in the server's settings, a client's settings (refused
//! with `422` naming the rule), a client saved before the profile, or a request — and a
//! compliant client goes through: mutual TLS with a self-signed certificate, bound tokens, PS256
//! ID tokens, `s_hash`/`c_hash` in the hybrid flow, PAR for `fapi2`.

use castellan_jose::{b64url, sha256};
use reqwest::Method;
use serde_json::{Value, json};

use crate::flows::{Browser, CB, VERIFIER, challenge, code_for, jwt_claims, params_of};
use crate::helpers::*;
use crate::mtls::{Authority, Cert, behind_proxy, self_signed, token_with};
use crate::tokens::{assert_oauth_error, client, issuer};

/// The app (believing `Client-Cert` from loopback), server `default` with the people of
/// `flows::setup`, switched to `profile` with settings it allows.
async fn fapi_app(profile: &str) -> TestApp {
    let app = behind_proxy(&Authority::new("Client CA")).await;
    crate::flows::setup(&app).await;
    let r = app
        .admin(
            Method::PUT,
            "/servers/default",
            Some(json!({"name": "Bank", "profiles": [profile], "key_type": "ps",
                "grant_types": ["authorization_code", "refresh_token", "client_credentials"],
                "authorization_code_ttl": "1m"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    app
}

/// A compliant client `bank-app`: self-signed mTLS, certificate-bound tokens.
async fn bank_app(app: &TestApp, cert: &Cert, response_types: &[&str]) {
    client(
        app,
        json!({"client_id": "bank-app", "token_endpoint_auth_method": "self_signed_tls_client_auth",
            "jwks": {"keys": [cert.jwk()]}, "redirect_uris": [CB],
            "grant_types": ["authorization_code", "refresh_token"], "response_types": response_types,
            "scopes": ["openid", "offline_access"], "tls_client_certificate_bound_access_tokens": true}),
    )
    .await;
}

fn half_hash(v: &str) -> String {
    b64url(&sha256(v.as_bytes())[..16])
}

fn header_alg(jwt: &str) -> String {
    use base64::Engine as _;
    let h = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(jwt.split('.').next().unwrap())
        .unwrap();
    serde_json::from_slice::<Value>(&h).unwrap()["alg"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Each `(body, field, rule)`: saving it is refused with 422 naming the rule at the field.
async fn refused(app: &TestApp, method: Method, path: &str, cases: Vec<(Value, &str, &str)>) {
    for (body, field, rule) in cases {
        let r = app.admin(method.clone(), path, Some(body.clone())).await;
        let e = assert_api_error(&r, 422).to_string();
        assert!(e.contains(rule) && e.contains(field), "{body}: {e}");
    }
}

fn client_cases(cert: &Cert, profile: &str, bad_response_type: &str) -> Vec<(Value, &'static str, String)> {
    let good = json!({"client_id": "c", "token_endpoint_auth_method": "self_signed_tls_client_auth",
        "jwks": {"keys": [cert.jwk()]}, "redirect_uris": [CB], "grant_types": ["authorization_code"],
        "response_types": ["code"], "scopes": ["openid"], "tls_client_certificate_bound_access_tokens": true,
        "authorization_server_id": "default"});
    let with = |k: &str, v: Value| {
        let mut b = good.clone();
        b[k] = v;
        b
    };
    vec![
        (
            with("token_endpoint_auth_method", json!("client_secret_basic")),
            "token_endpoint_auth_method",
            format!("{profile}.client_auth"),
        ),
        (
            with("tls_client_certificate_bound_access_tokens", json!(false)),
            "tls_client_certificate_bound_access_tokens",
            format!("{profile}.sender_constrained"),
        ),
        (
            with("response_types", json!([bad_response_type])),
            "response_types",
            format!("{profile}.response_types"),
        ),
        (
            with("redirect_uris", json!(["http://127.0.0.1:8080/cb"])),
            "redirect_uris",
            format!("{profile}.https_redirect_uris"),
        ),
        (
            with("id_token_signed_response_alg", json!("RS256")),
            "id_token_signed_response_alg",
            format!("{profile}.signing_alg"),
        ),
    ]
}

#[tokio::test]
async fn fapi_rw_rules_are_each_enforced_and_a_compliant_client_goes_through() {
    let app = fapi_app("fapi_rw").await;
    // The server's own settings.
    let server_cases = vec![
        (json!({"key_type": "rsa"}), "key_type", "fapi_rw.signing_alg"),
        (
            json!({"grant_types": ["authorization_code", "implicit"]}),
            "grant_types",
            "fapi_rw.no_implicit_password",
        ),
        (
            json!({"authorization_code_ttl": "11m"}),
            "authorization_code_ttl",
            "fapi_rw.code_lifetime",
        ),
        (json!({"profiles": ["fapi_rw", "fapi2"]}), "profiles", "one_profile"),
    ];
    refused(&app, Method::PUT, "/servers/default", server_cases).await;
    // A system server takes no profile (its clients authenticate with secrets).
    let r = app
        .admin(
            Method::PUT,
            "/servers/admin",
            Some(json!({"profiles": ["fapi_rw"], "key_type": "ps",
            "grant_types": ["authorization_code", "client_credentials"], "authorization_code_ttl": "1m"})),
        )
        .await;
    assert_eq!(assert_api_error(&r, 422)["details"]["field"], "profiles");
    let s = app.admin(Method::GET, "/servers/default", None).await;
    assert_eq!(
        (s.body["key_type"].clone(), s.body["profiles"].clone()),
        (json!("ps"), json!(["fapi_rw"])),
        "nothing changed"
    );
    // A client's settings.
    let cert = self_signed("bank-app.example");
    let cases = client_cases(&cert, "fapi_rw", "code token");
    refused(
        &app,
        Method::POST,
        "/clients",
        cases.iter().map(|(b, f, r)| (b.clone(), *f, r.as_str())).collect(),
    )
    .await;

    // `web`, saved before the profile (client_secret_basic, unbound), is refused at requests.
    let b = Browser::new();
    let r = b.get(&crate::flows::authorize_url(&app, &[])).await;
    let p = params_of(r.location.as_deref().unwrap());
    assert_eq!(p["error"], "unauthorized_client", "{p:?}");
    assert!(p["error_description"].contains("fapi_rw.client_auth"), "{p:?}");
    let web_secret = {
        let r = app.admin(Method::GET, "/clients/web", None).await;
        r.body["client_secret"].as_str().unwrap().to_owned()
    };
    let r = crate::tokens::form(
        &app,
        &format!("{}/oauth2/token", issuer(&app, "default")),
        Some(("web", &web_secret)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_oauth_error(&r, 401, "invalid_client");
    assert!(
        r.body["error_description"]
            .as_str()
            .unwrap()
            .contains("fapi_rw.client_auth")
    );

    // A compliant client: PKCE (or a signed request object) is required.
    bank_app(&app, &cert, &["code", "code id_token"]).await;
    let r = b
        .get(&crate::flows::authorize_url(
            &app,
            &[("client_id", "bank-app"), ("scope", "openid offline_access")],
        ))
        .await;
    let p = params_of(r.location.as_deref().unwrap());
    assert_eq!(p["error"], "invalid_request", "{p:?}");
    assert!(p["error_description"].contains("fapi_rw.pkce"), "{p:?}");
    // A signed request object stands in for PKCE.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let object = cert.sign_jwt(
        &json!({"iss": "bank-app", "aud": issuer(&app, "default"), "exp": now + 300,
        "client_id": "bank-app", "response_type": "code", "redirect_uri": CB, "scope": "openid",
        "state": "s-ro", "nonce": "n-ro"}),
    );
    let url = format!(
        "{}/oauth2/authorize?client_id=bank-app&request={object}",
        issuer(&app, "default")
    );
    let r = b.get(&url).await;
    assert!(
        r.location.as_deref().unwrap().contains("/login?"),
        "{:?} {}",
        r.location,
        r.html
    );

    // The hybrid flow: the front-channel ID token carries c_hash and s_hash, signed PS256.
    let code = {
        let b = Browser::new();
        let r = b
            .get(&crate::flows::authorize_url(
                &app,
                &[
                    ("client_id", "bank-app"),
                    ("response_type", "code id_token"),
                    ("scope", "openid offline_access"),
                    ("state", "state-of-the-app"),
                    ("code_challenge", &challenge(VERIFIER)),
                    ("code_challenge_method", "S256"),
                ],
            ))
            .await;
        let mut loc = r.location.clone().unwrap();
        loc = crate::flows::sign_in(&app, &b, &loc, "alice-password-1")
            .await
            .location
            .unwrap();
        if loc.contains("/consent?") {
            loc = crate::flows::decide(&app, &b, &loc, "allow").await.location.unwrap();
        }
        assert!(loc.starts_with(&format!("{CB}#")), "{loc}");
        let p = params_of(&loc);
        let id = jwt_claims(&p["id_token"]);
        assert_eq!(header_alg(&p["id_token"]), "PS256");
        assert_eq!(id["c_hash"], half_hash(&p["code"]));
        assert_eq!(id["s_hash"], half_hash("state-of-the-app"));
        assert_eq!(p["iss"], issuer(&app, "default"));
        p["code"].clone()
    };
    let redeem = [
        ("grant_type", "authorization_code"),
        ("client_id", "bank-app"),
        ("code", code.as_str()),
        ("redirect_uri", CB),
        ("code_verifier", VERIFIER),
    ];
    let r = token_with(&app, None, &redeem).await;
    assert_oauth_error(&r, 401, "invalid_client");
    let r = token_with(&app, Some(&cert), &redeem).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(header_alg(r.body["id_token"].as_str().unwrap()), "PS256");
    assert_eq!(
        jwt_claims(r.body["access_token"].as_str().unwrap())["cnf"]["x5t#S256"],
        cert.thumbprint()
    );
}

#[tokio::test]
async fn fapi2_rules_are_each_enforced_and_a_pushed_request_goes_through() {
    let app = fapi_app("fapi2").await;
    let meta = app
        .raw(
            app.http
                .get(format!("{}/.well-known/openid-configuration", issuer(&app, "default"))),
        )
        .await;
    assert_eq!(meta.body["require_pushed_authorization_requests"], true);
    refused(
        &app,
        Method::PUT,
        "/servers/default",
        vec![
            (
                json!({"authorization_code_ttl": "2m"}),
                "authorization_code_ttl",
                "fapi2.code_lifetime",
            ),
            (json!({"key_type": "rsa"}), "key_type", "fapi2.signing_alg"),
            (
                json!({"grant_types": ["authorization_code", "password"]}),
                "grant_types",
                "fapi2.no_implicit_password",
            ),
        ],
    )
    .await;
    let cert = self_signed("bank-app.example");
    let cases = client_cases(&cert, "fapi2", "code id_token");
    refused(
        &app,
        Method::POST,
        "/clients",
        cases.iter().map(|(b, f, r)| (b.clone(), *f, r.as_str())).collect(),
    )
    .await;
    bank_app(&app, &cert, &["code"]).await;

    // Not pushed: refused.
    let b = Browser::new();
    let r = b
        .get(&crate::flows::authorize_url(
            &app,
            &[
                ("client_id", "bank-app"),
                ("scope", "openid offline_access"),
                ("code_challenge", &challenge(VERIFIER)),
                ("code_challenge_method", "S256"),
            ],
        ))
        .await;
    let p = params_of(r.location.as_deref().unwrap());
    assert_eq!(p["error"], "invalid_request", "{p:?}");
    assert!(p["error_description"].contains("fapi2.par"), "{p:?}");

    // Pushed without PKCE: refused at the PAR endpoint; with it, accepted.
    let push = |pkce: bool| {
        let mut params = vec![
            ("client_id", "bank-app".to_owned()),
            ("response_type", "code".to_owned()),
            ("redirect_uri", CB.to_owned()),
            ("scope", "openid offline_access".to_owned()),
            ("state", "st-2".to_owned()),
        ];
        if pkce {
            params.push(("code_challenge", challenge(VERIFIER)));
            params.push(("code_challenge_method", "S256".to_owned()));
        }
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        app.raw(
            app.http
                .post(format!("{}/oauth2/par", issuer(&app, "default")))
                .header("content-type", "application/x-www-form-urlencoded")
                .header("Client-Cert", cert.header())
                .body(body),
        )
    };
    let r = push(false).await;
    assert_oauth_error(&r, 400, "invalid_request");
    assert!(
        r.body["error_description"].as_str().unwrap().contains("fapi2.pkce"),
        "{}",
        r.body
    );
    let r = push(true).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let uri = r.body["request_uri"].as_str().unwrap().to_owned();
    let code = code_for(&app, &b, &[("client_id", "bank-app"), ("request_uri", &uri)]).await;
    let r = token_with(
        &app,
        Some(&cert),
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "bank-app"),
            ("code", &code),
            ("redirect_uri", CB),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(header_alg(r.body["access_token"].as_str().unwrap()), "PS256");
    assert_eq!(header_alg(r.body["id_token"].as_str().unwrap()), "PS256");
    assert_eq!(
        jwt_claims(r.body["access_token"].as_str().unwrap())["cnf"]["x5t#S256"],
        cert.thumbprint()
    );
    // The refresh token is not rotated: each refresh answers an access token only, and the same
    // refresh token keeps working; revoking it ends it and what it issued.
    let refresh = r.body["refresh_token"].as_str().unwrap().to_owned();
    let again = [
        ("grant_type", "refresh_token"),
        ("client_id", "bank-app"),
        ("refresh_token", refresh.as_str()),
    ];
    let mut last = String::new();
    for _ in 0..2 {
        let r = token_with(&app, Some(&cert), &again).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(r.body.get("refresh_token").is_none(), "{}", r.body);
        last = r.body["access_token"].as_str().unwrap().to_owned();
    }
    let revoke: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([("client_id", "bank-app"), ("token", refresh.as_str())])
        .finish();
    let r = app
        .raw(
            app.http
                .post(format!("{}/oauth2/revoke", issuer(&app, "default")))
                .header("content-type", "application/x-www-form-urlencoded")
                .header("Client-Cert", cert.header())
                .body(revoke),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_oauth_error(&token_with(&app, Some(&cert), &again).await, 400, "invalid_grant");
    let userinfo = app
        .raw(
            app.http
                .get(format!("{}/userinfo", issuer(&app, "default")))
                .bearer_auth(&last)
                .header("Client-Cert", cert.header()),
        )
        .await;
    assert_eq!(
        userinfo.status, 401,
        "the access token of a kept refresh token is revoked with it"
    );

    // A client saved before the profile without bound tokens is refused at the token endpoint.
    let r = app
        .admin(Method::PUT, "/servers/default", Some(json!({"profiles": []})))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    client(
        &app,
        json!({"client_id": "loose", "token_endpoint_auth_method": "self_signed_tls_client_auth",
            "jwks": {"keys": [cert.jwk()]}, "grant_types": ["client_credentials"]}),
    )
    .await;
    let r = app
        .admin(Method::PUT, "/servers/default", Some(json!({"profiles": ["fapi2"]})))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = token_with(
        &app,
        Some(&cert),
        &[("grant_type", "client_credentials"), ("client_id", "loose")],
    )
    .await;
    assert_oauth_error(&r, 400, "unauthorized_client");
    assert!(
        r.body["error_description"]
            .as_str()
            .unwrap()
            .contains("fapi2.sender_constrained"),
        "{}",
        r.body
    );
}
