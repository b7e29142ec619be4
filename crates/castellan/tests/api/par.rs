//! Pushed authorization requests (RFC 9126): the PAR endpoint authenticates the client and checks
//! the request; its `request_uri` is used once, within a minute, by the client that pushed it;
//! a server or a client may require it. Driven by hand and by the Node `openid-client` package.

use reqwest::Method;
use serde_json::{Value, json};

use crate::flows::{Browser, CB, VERIFIER, challenge, decide, exchange, params_of, setup, sign_in};
use crate::helpers::*;
use crate::tokens::{form, issuer};

fn par_url(app: &TestApp) -> String {
    format!("{}/oauth2/par", issuer(app, "default"))
}

async fn push(app: &TestApp, creds: Option<(&str, &str)>, extra: &[(&str, &str)]) -> Resp {
    let mut p = vec![
        ("response_type", "code"),
        ("redirect_uri", CB),
        ("scope", "openid profile"),
        ("state", "st-par"),
        ("nonce", "n-par"),
        ("code_challenge_method", "S256"),
    ];
    let ch = challenge(VERIFIER);
    p.push(("code_challenge", &ch));
    for (k, v) in extra {
        p.retain(|(pk, _)| pk != k);
        p.push((k, v));
    }
    form(app, &par_url(app), creds, &p).await
}

fn authorize_with(app: &TestApp, client_id: &str, request_uri: &str) -> String {
    let q = form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", client_id)
        .append_pair("request_uri", request_uri)
        .finish();
    format!("{}/oauth2/authorize?{q}", issuer(app, "default"))
}

#[tokio::test]
async fn a_pushed_request_is_used_once_by_its_client_within_a_minute() {
    let app = spawn_app().await;
    let secret = setup(&app).await;
    let disco: Value = app
        .http
        .get(format!("{}/.well-known/openid-configuration", issuer(&app, "default")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(disco["pushed_authorization_request_endpoint"], json!(par_url(&app)));
    assert_eq!(disco["require_pushed_authorization_requests"], false);

    // The client authenticates as at the token endpoint.
    let r = push(&app, Some(("web", "wrong")), &[]).await;
    assert_eq!(r.status, 401, "{}", r.body);
    let r = push(&app, None, &[]).await;
    assert_eq!(r.status, 401, "{}", r.body);
    // The request is checked when pushed.
    for (extra, code) in [
        (vec![("redirect_uri", "https://evil.example/cb")], "invalid_request"),
        (vec![("response_type", "magic")], "unsupported_response_type"),
        (vec![("scope", "openid admin.everything")], "invalid_scope"),
        (
            vec![("request_uri", "urn:ietf:params:oauth:request_uri:x")],
            "invalid_request",
        ),
    ] {
        let r = push(&app, Some(("web", &secret)), &extra).await;
        assert_eq!(r.status, 400, "{extra:?}: {}", r.body);
        assert_eq!(r.body["error"], code, "{extra:?}: {}", r.body);
    }

    let r = push(&app, Some(("web", &secret)), &[]).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.headers["cache-control"], "no-store");
    assert_eq!(r.body["expires_in"], 60);
    let request_uri = r.body["request_uri"].as_str().unwrap().to_owned();
    assert!(request_uri.starts_with("urn:ietf:params:oauth:request_uri:"));

    // Another client cannot use it (and the attempt spends it).
    let b = Browser::new();
    let r = b.get(&authorize_with(&app, "someone-else", &request_uri)).await;
    assert_eq!(r.status, 400, "{}", r.html);
    let r = b.get(&authorize_with(&app, "web", &request_uri)).await;
    assert_eq!(r.status, 400, "spent: {}", r.html);

    // Its own client: the pushed parameters are the request; the front channel's are ignored.
    let r = push(&app, Some(("web", &secret)), &[]).await;
    let request_uri = r.body["request_uri"].as_str().unwrap().to_owned();
    let url = format!("{}&state=front-channel", authorize_with(&app, "web", &request_uri));
    let r = b.get(&url).await;
    let login = r.location.unwrap_or_else(|| panic!("{} {}", r.status, r.html));
    let consent = sign_in(&app, &b, &login, "alice-password-1").await.location.unwrap();
    let done = decide(&app, &b, &consent, "allow").await.location.unwrap();
    let p = params_of(&done);
    assert_eq!(p["state"], "st-par", "the pushed state");
    let t = exchange(&app, &secret, &p["code"], Some(VERIFIER)).await;
    assert_eq!(t.status, 200, "{}", t.body);
    // Used once.
    let r = b.get(&authorize_with(&app, "web", &request_uri)).await;
    assert_eq!(r.status, 400, "{}", r.html);

    // Expired: a minute later it is gone.
    let r = push(&app, Some(("web", &secret)), &[]).await;
    let request_uri = r.body["request_uri"].as_str().unwrap().to_owned();
    let store = app.store().await;
    let tid = castellan_domain::TenantId::parse("default").unwrap();
    let aid = castellan_domain::ServerId::parse("default").unwrap();
    let hash = castellan_jose::token_hash(&request_uri);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let mut rec = store.take_pending_login(&tid, &aid, &hash, now).await.unwrap().unwrap();
    assert!(rec.expires_at <= now + 60);
    rec.expires_at = now - 1;
    store.save_pending_login(&tid, &rec).await.unwrap();
    let r = b.get(&authorize_with(&app, "web", &request_uri)).await;
    assert_eq!(r.status, 400, "{}", r.html);
    assert!(r.html.contains("expired"), "{}", r.html);
    // A request_uri this server did not issue.
    let r = b
        .get(&authorize_with(&app, "web", "https://elsewhere.example/req"))
        .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn a_server_or_a_client_can_require_pushed_requests() {
    let app = spawn_app().await;
    let secret = setup(&app).await;
    let b = Browser::new();
    let plain = crate::flows::authorize_url(&app, &[]);
    // Required by the client.
    let r = app
        .admin(
            Method::PUT,
            "/clients/web",
            Some(json!({"require_pushed_authorization_requests": true})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["require_pushed_authorization_requests"], true);
    let r = b.get(&plain).await;
    let p = params_of(&r.location.unwrap());
    assert_eq!(p["error"], "invalid_request");
    assert!(p["error_description"].contains("this client requires pushed"), "{p:?}");
    let pushed = push(&app, Some(("web", &secret)), &[]).await;
    let r = b
        .get(&authorize_with(
            &app,
            "web",
            pushed.body["request_uri"].as_str().unwrap(),
        ))
        .await;
    assert!(r.location.unwrap().contains("/login?"), "a pushed request goes on");

    // Required by the server (and said in discovery).
    let r = app
        .admin(
            Method::PUT,
            "/clients/web",
            Some(json!({"require_pushed_authorization_requests": false})),
        )
        .await;
    assert_eq!(r.status, 200);
    let r = app
        .admin(
            Method::PUT,
            "/servers/default",
            Some(json!({"require_pushed_authorization_requests": true})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let disco: Value = app
        .http
        .get(format!("{}/.well-known/openid-configuration", issuer(&app, "default")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(disco["require_pushed_authorization_requests"], true);
    let r = b.get(&plain).await;
    let p = params_of(&r.location.unwrap());
    assert!(p["error_description"].contains("this server requires pushed"), "{p:?}");
}

/// The Node `openid-client` package builds an authorization URL through PAR; the person signs in
/// with it and the code is redeemed with the library's PKCE verifier.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openid_client_pushes_its_authorization_request() {
    let Some(node_dir) = crate::browser::node_package("openid-client") else {
        eprintln!("skipped: CASTELLAN_NODE_PACKAGES not set (set CASTELLAN_E2E=1 to require it)");
        return;
    };
    let app = spawn_app().await;
    let secret = setup(&app).await;
    let r = app
        .admin(
            Method::PUT,
            "/servers/default",
            Some(json!({"require_pushed_authorization_requests": true})),
        )
        .await;
    assert_eq!(r.status, 200);
    let iss = issuer(&app, "default");
    let s = secret.clone();
    let out = tokio::task::spawn_blocking(move || {
        crate::registration::openid_client(&node_dir, &["par", &iss, "web", &s, CB, "openid profile"])
    })
    .await
    .unwrap();
    let url = out["url"].as_str().unwrap_or_else(|| panic!("{out}"));
    assert!(
        url.contains("request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3A"),
        "{url}"
    );
    let b = Browser::new();
    let r = b.get(url).await;
    let login = r.location.unwrap_or_else(|| panic!("{} {}", r.status, r.html));
    let consent = sign_in(&app, &b, &login, "alice-password-1").await.location.unwrap();
    let done = decide(&app, &b, &consent, "allow").await.location.unwrap();
    let p = params_of(&done);
    assert_eq!(p["state"], out["state"].as_str().unwrap());
    let t = exchange(&app, &secret, &p["code"], out["code_verifier"].as_str()).await;
    assert_eq!(t.status, 200, "{}", t.body);
}

/// The Node `openid-client` package signs its authorization request as a request object (RFC
/// 9101, `buildAuthorizationUrlWithJAR`) with a key of its own; once that key is the client's,
/// the object stands for the request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openid_client_signs_its_authorization_request() {
    let Some(node_dir) = crate::browser::node_package("openid-client") else {
        eprintln!("skipped: CASTELLAN_NODE_PACKAGES not set (set CASTELLAN_E2E=1 to require it)");
        return;
    };
    let app = spawn_app().await;
    let secret = setup(&app).await;
    let iss = issuer(&app, "default");
    let s = secret.clone();
    let out = tokio::task::spawn_blocking(move || {
        crate::registration::openid_client(&node_dir, &["jar", &iss, "web", &s, CB, "openid profile"])
    })
    .await
    .unwrap();
    let url = out["url"].as_str().unwrap_or_else(|| panic!("{out}"));
    assert!(url.contains("request=ey"), "{url}");
    // Before the client has the key, the object is refused (a page: its redirect URI is not
    // trusted).
    let b = Browser::new();
    let r = b.get(url).await;
    assert_eq!(r.status, 400, "{}", r.html);
    let r = app
        .admin(
            Method::PUT,
            "/clients/web",
            Some(json!({"jwks": {"keys": [out["jwk"]]}})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = b.get(url).await;
    let login = r.location.unwrap_or_else(|| panic!("{} {}", r.status, r.html));
    let consent = sign_in(&app, &b, &login, "alice-password-1").await.location.unwrap();
    let done = decide(&app, &b, &consent, "allow").await.location.unwrap();
    let p = params_of(&done);
    assert_eq!(p["state"], out["state"].as_str().unwrap(), "the signed state");
    let t = exchange(&app, &secret, &p["code"], out["code_verifier"].as_str()).await;
    assert_eq!(t.status, 200, "{}", t.body);
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A request object for the client `web`, signed with `key`, with `over` replacing claims.
fn request_object(app: &TestApp, key: &castellan_jose::GeneratedKey, over: Value) -> String {
    let mut claims = json!({"iss": "web", "aud": issuer(app, "default"), "exp": now() + 300, "client_id": "web",
        "response_type": "code", "redirect_uri": CB, "scope": "openid profile", "state": "st-jar", "nonce": "n-jar",
        "code_challenge": challenge(VERIFIER), "code_challenge_method": "S256"});
    for (k, v) in over.as_object().unwrap() {
        if v.is_null() {
            claims.as_object_mut().unwrap().remove(k);
        } else {
            claims[k] = v.clone();
        }
    }
    let signer = castellan_jose::LoadedKey::from_pkcs8(castellan_domain::SigningAlg::ES256, &key.pkcs8).unwrap();
    castellan_jose::jwt::sign(
        &signer,
        &castellan_jose::jwt::encode_header(castellan_domain::SigningAlg::ES256, &key.kid, "oauth-authz-req+jwt"),
        &claims,
    )
    .unwrap()
}

fn authorize_signed(app: &TestApp, client_id: &str, object: &str) -> String {
    let q = form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", client_id)
        .append_pair("request", object)
        .append_pair("response_type", "code")
        .append_pair("scope", "openid")
        .finish();
    format!("{}/oauth2/authorize?{q}", issuer(app, "default"))
}

#[tokio::test]
async fn signed_request_objects_are_verified_and_stand_for_the_request() {
    use castellan_domain::SigningAlg;
    let app = spawn_app().await;
    let secret = setup(&app).await;
    let key = castellan_jose::keys::generate(SigningAlg::ES256).unwrap();
    let other = castellan_jose::keys::generate(SigningAlg::ES256).unwrap();
    let r = app
        .admin(
            Method::PUT,
            "/clients/web",
            Some(json!({"jwks": {"keys": [key.public_jwk]}})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let disco: Value = app
        .http
        .get(format!("{}/.well-known/openid-configuration", issuer(&app, "default")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(disco["request_parameter_supported"], true);
    assert_eq!(
        disco["request_object_signing_alg_values_supported"],
        json!(["RS256", "PS256", "ES256"])
    );

    // A good object: its claims are the request (its state, not the front channel's).
    let b = Browser::new();
    let r = b
        .get(&authorize_signed(&app, "web", &request_object(&app, &key, json!({}))))
        .await;
    let login = r.location.unwrap_or_else(|| panic!("{} {}", r.status, r.html));
    let consent = sign_in(&app, &b, &login, "alice-password-1").await.location.unwrap();
    let done = decide(&app, &b, &consent, "allow").await.location.unwrap();
    let p = params_of(&done);
    assert_eq!(p["state"], "st-jar");
    let t = exchange(&app, &secret, &p["code"], Some(VERIFIER)).await;
    assert_eq!(t.status, 200, "{}", t.body);
    assert_eq!(
        crate::flows::jwt_claims(t.body["id_token"].as_str().unwrap())["nonce"],
        "n-jar"
    );

    // Each refusal is a page (the object's redirect_uri is not trusted before it verifies).
    let unsigned = format!(
        "{}.{}.",
        castellan_jose::b64url(br#"{"alg":"none"}"#),
        castellan_jose::b64url(
            json!({"iss": "web", "aud": issuer(&app, "default"), "exp": now() + 300, "client_id": "web",
                "response_type": "code", "redirect_uri": CB})
            .to_string()
            .as_bytes()
        )
    );
    let hs = castellan_jose::jwt::sign_hs256(
        &secret,
        &json!({"iss": "web", "aud": issuer(&app, "default"),
        "exp": now() + 300, "response_type": "code", "redirect_uri": CB}),
    );
    for (what, object) in [
        ("another key", request_object(&app, &other, json!({}))),
        ("alg none", unsigned),
        ("HS256", hs),
        ("expired", request_object(&app, &key, json!({"exp": now() - 120}))),
        ("no exp", request_object(&app, &key, json!({"exp": null}))),
        ("too long", request_object(&app, &key, json!({"exp": now() + 7200}))),
        (
            "client_id mismatch",
            request_object(&app, &key, json!({"client_id": "someone-else"})),
        ),
        (
            "iss mismatch",
            request_object(&app, &key, json!({"iss": "someone-else"})),
        ),
        (
            "aud elsewhere",
            request_object(&app, &key, json!({"aud": "https://other.example"})),
        ),
        ("not yet valid", request_object(&app, &key, json!({"nbf": now() + 600}))),
    ] {
        let r = b.get(&authorize_signed(&app, "web", &object)).await;
        assert_eq!(r.status, 400, "{what}: {:?} {}", r.location, r.html);
        assert!(r.html.contains("signed request was refused"), "{what}: {}", r.html);
    }
    // A registered request_object_signing_alg must be used.
    let r = app
        .admin(
            Method::PUT,
            "/clients/web",
            Some(json!({"request_object_signing_alg": "PS256"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = b
        .get(&authorize_signed(&app, "web", &request_object(&app, &key, json!({}))))
        .await;
    assert_eq!(r.status, 400, "{}", r.html);
    let r = app
        .admin(
            Method::PUT,
            "/clients/web",
            Some(json!({"request_object_signing_alg": "ES256"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    // Pushed: the object goes to the PAR endpoint; its request_uri stands for it.
    let object = request_object(&app, &key, json!({"state": "st-pushed-jar"}));
    let r = form(&app, &par_url(&app), Some(("web", &secret)), &[("request", &object)]).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = b
        .get(&authorize_with(&app, "web", r.body["request_uri"].as_str().unwrap()))
        .await;
    let loc = r.location.unwrap_or_else(|| panic!("{} {}", r.status, r.html));
    assert!(loc.starts_with(CB) || loc.contains("/consent?"), "{loc}");
    let bad = request_object(&app, &other, json!({}));
    let r = form(&app, &par_url(&app), Some(("web", &secret)), &[("request", &bad)]).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.body["error"], "invalid_request_object");
}
