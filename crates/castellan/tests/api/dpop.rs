//! DPoP (RFC 9449) with proofs made here: tokens bound at the token endpoint, userinfo and the
//! gateway authorizer asking for a proof by the bound key, every way a proof can be wrong, server
//! nonces, bound refresh tokens of public clients, clients that must use DPoP; and the Node
//! `openid-client` package doing all of it as a client would.

use castellan_domain::SigningAlg;
use castellan_jose::{GeneratedKey, LoadedKey, b64url, jwt, sha256};
use reqwest::Method;
use serde_json::{Value, json};

use crate::flows::{Browser, CB, VERIFIER, challenge, decide, jwt_claims, params_of, setup};
use crate::helpers::*;
use crate::tokens::{assert_oauth_error, client, form, issuer};

/// A DPoP key of the client's.
pub(crate) struct Key {
    key: GeneratedKey,
    signer: LoadedKey,
}

impl Key {
    pub(crate) fn new() -> Self {
        let key = castellan_jose::keys::generate(SigningAlg::ES256).unwrap();
        let signer = LoadedKey::from_pkcs8(SigningAlg::ES256, &key.pkcs8).unwrap();
        Self { key, signer }
    }

    /// Its RFC 7638 thumbprint (`cnf.jkt`).
    pub(crate) fn jkt(&self) -> String {
        castellan_jose::keys::thumbprint(&self.key.public_jwk)
    }

    fn public(&self) -> Value {
        let j = &self.key.public_jwk;
        json!({"kty": j.kty, "crv": j.crv, "x": j.x, "y": j.y})
    }

    /// A proof of `method url` with `over` replacing claims (null removes one) and `header`
    /// replacing header members.
    pub(crate) fn proof_with(&self, method: &str, url: &str, over: Value, header: Value) -> String {
        let mut h = json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": self.public()});
        for (k, v) in header.as_object().unwrap() {
            h[k] = v.clone();
        }
        let mut claims = json!({"jti": castellan_jose::random_id(), "htm": method, "htu": url, "iat": now()});
        for (k, v) in over.as_object().unwrap() {
            if v.is_null() {
                claims.as_object_mut().unwrap().remove(k);
            } else {
                claims[k] = v.clone();
            }
        }
        jwt::sign(&self.signer, &b64url(&serde_json::to_vec(&h).unwrap()), &claims).unwrap()
    }

    pub(crate) fn proof(&self, method: &str, url: &str) -> String {
        self.proof_with(method, url, json!({}), json!({}))
    }

    /// A proof for a resource request with `token` (`ath`).
    pub(crate) fn proof_for(&self, method: &str, url: &str, token: &str) -> String {
        self.proof_with(method, url, json!({"ath": ath(token)}), json!({}))
    }
}

pub(crate) fn ath(token: &str) -> String {
    b64url(&sha256(token.as_bytes()))
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A token request with `proofs` as its `DPoP` headers.
async fn token_request(app: &TestApp, basic: Option<(&str, &str)>, params: &[(&str, &str)], proofs: &[&str]) -> Resp {
    let mut req = app
        .http
        .post(format!("{}/oauth2/token", issuer(app, "default")))
        .header("content-type", "application/x-www-form-urlencoded");
    if let Some((id, secret)) = basic {
        req = req.basic_auth(id, Some(secret));
    }
    for p in proofs {
        req = req.header("DPoP", *p);
    }
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    app.raw(req.body(body)).await
}

async fn userinfo(app: &TestApp, scheme: &str, token: &str, proof: Option<&str>) -> Resp {
    let mut req = app
        .http
        .get(format!("{}/userinfo", issuer(app, "default")))
        .header("authorization", format!("{scheme} {token}"));
    if let Some(p) = proof {
        req = req.header("DPoP", p);
    }
    app.raw(req).await
}

const SVC_SECRET: &str = "svc-secret-0123456789abcdef";

async fn service_client(app: &TestApp) {
    client(
        app,
        json!({"client_id": "svc", "client_secret": SVC_SECRET, "grant_types": ["client_credentials"],
            "scopes": ["orders.read"]}),
    )
    .await;
}

fn token_url(app: &TestApp) -> String {
    format!("{}/oauth2/token", issuer(app, "default"))
}

#[tokio::test]
async fn a_proof_binds_the_token_and_a_bound_token_needs_proofs_by_its_key() {
    let app = spawn_app().await;
    let secret = setup(&app).await;
    service_client(&app).await;
    let key = Key::new();
    let iss = issuer(&app, "default");
    let meta = app
        .raw(app.http.get(format!("{iss}/.well-known/openid-configuration")))
        .await;
    assert_eq!(
        meta.body["dpop_signing_alg_values_supported"],
        json!(["ES256", "PS256", "RS256"])
    );

    // Client credentials with a proof: a DPoP token bound to the key.
    let proof = key.proof("POST", &token_url(&app));
    let r = token_request(
        &app,
        Some(("svc", SVC_SECRET)),
        &[("grant_type", "client_credentials")],
        &[&proof],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["token_type"], "DPoP");
    let at = r.body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(jwt_claims(&at)["cnf"], json!({"jkt": key.jkt()}));
    // Introspection says so.
    let i = crate::flows::introspect(&app, &secret, &at).await;
    assert_eq!(
        (i["active"].clone(), i["token_type"].clone()),
        (json!(true), json!("DPoP"))
    );
    assert_eq!(i["cnf"]["jkt"], key.jkt());
    // The same proof again is a replay.
    let r = token_request(
        &app,
        Some(("svc", SVC_SECRET)),
        &[("grant_type", "client_credentials")],
        &[&proof],
    )
    .await;
    assert_oauth_error(&r, 400, "invalid_dpop_proof");
    assert!(r.body["error_description"].as_str().unwrap().contains("jti"));
    // Without a proof, a bearer token as before.
    let r = form(
        &app,
        &token_url(&app),
        Some(("svc", SVC_SECRET)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(r.body["token_type"], "Bearer");
    assert!(
        jwt_claims(r.body["access_token"].as_str().unwrap())
            .get("cnf")
            .is_none()
    );

    // A person's token through the code flow, bound at the token endpoint.
    let b = Browser::new();
    let code = crate::flows::code_for(
        &app,
        &b,
        &[
            ("code_challenge", &challenge(VERIFIER)),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    let r = token_request(
        &app,
        Some(("web", &secret)),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CB),
            ("code_verifier", VERIFIER),
        ],
        &[&key.proof("POST", &token_url(&app))],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["token_type"], "DPoP");
    let at = r.body["access_token"].as_str().unwrap().to_owned();
    let url = format!("{iss}/userinfo");

    // Userinfo: the DPoP scheme with a proof of this request by the key, naming the token.
    let r = userinfo(&app, "DPoP", &at, Some(&key.proof_for("GET", &url, &at))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["sub"], "alice");
    let other = Key::new();
    let refusals: Vec<(&str, &str, Option<String>, &str)> = vec![
        ("as a bearer token", "Bearer", None, "invalid_token"),
        ("without a proof", "DPoP", None, "invalid_dpop_proof"),
        (
            "a proof without ath",
            "DPoP",
            Some(key.proof("GET", &url)),
            "invalid_dpop_proof",
        ),
        (
            "a proof of another token",
            "DPoP",
            Some(key.proof_with("GET", &url, json!({"ath": ath("other")}), json!({}))),
            "invalid_dpop_proof",
        ),
        (
            "another key's proof",
            "DPoP",
            Some(other.proof_for("GET", &url, &at)),
            "invalid_dpop_proof",
        ),
        (
            "a proof for POST",
            "DPoP",
            Some(key.proof_for("POST", &url, &at)),
            "invalid_dpop_proof",
        ),
        (
            "a proof for another URL",
            "DPoP",
            Some(key.proof_for("GET", &format!("{iss}/other"), &at)),
            "invalid_dpop_proof",
        ),
    ];
    for (what, scheme, proof, code) in refusals {
        let r = userinfo(&app, scheme, &at, proof.as_deref()).await;
        assert_eq!(r.status, 401, "{what}: {}", r.body);
        assert_eq!(r.body["error"], code, "{what}: {}", r.body);
        let challenge = r.headers["www-authenticate"].to_str().unwrap();
        if code == "invalid_dpop_proof" {
            assert!(
                challenge.starts_with("DPoP algs=\"ES256 PS256 RS256\""),
                "{what}: {challenge}"
            );
        }
    }
    let proof = key.proof_for("GET", &url, &at);
    assert_eq!(userinfo(&app, "DPoP", &at, Some(&proof)).await.status, 200);
    let r = userinfo(&app, "DPoP", &at, Some(&proof)).await;
    assert_eq!(
        (r.status.as_u16(), r.body["error"].clone()),
        (401, json!("invalid_dpop_proof")),
        "replayed"
    );
    // A bearer token presented with the DPoP scheme is refused too.
    let plain = form(
        &app,
        &token_url(&app),
        Some(("svc", SVC_SECRET)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    let plain = plain.body["access_token"].as_str().unwrap();
    let r = userinfo(&app, "DPoP", plain, Some(&key.proof_for("GET", &url, plain))).await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn every_wrong_proof_is_refused_at_the_token_endpoint() {
    let app = spawn_app().await;
    setup(&app).await;
    service_client(&app).await;
    let key = Key::new();
    let url = token_url(&app);
    let private = {
        let mut j = serde_json::to_value(&key.key.public_jwk).unwrap();
        j["d"] = json!("AAAA");
        j
    };
    let cases: Vec<(&str, String)> = vec![
        ("wrong htm", key.proof("GET", &url)),
        (
            "wrong htu",
            key.proof("POST", &format!("{}/oauth2/other", issuer(&app, "default"))),
        ),
        (
            "htu of another server",
            key.proof("POST", &format!("{}/oauth2/token", issuer(&app, "admin"))),
        ),
        (
            "stale iat",
            key.proof_with("POST", &url, json!({"iat": now() - 600}), json!({})),
        ),
        (
            "iat ahead",
            key.proof_with("POST", &url, json!({"iat": now() + 600}), json!({})),
        ),
        ("no jti", key.proof_with("POST", &url, json!({"jti": null}), json!({}))),
        ("no iat", key.proof_with("POST", &url, json!({"iat": null}), json!({}))),
        (
            "wrong typ",
            key.proof_with("POST", &url, json!({}), json!({"typ": "JWT"})),
        ),
        ("no jwk", key.proof_with("POST", &url, json!({}), json!({"jwk": null}))),
        (
            "a private key",
            key.proof_with("POST", &url, json!({}), json!({"jwk": private})),
        ),
        (
            "another key in the header",
            key.proof_with("POST", &url, json!({}), json!({"jwk": Key::new().public()})),
        ),
        ("alg none", {
            let h =
                b64url(&serde_json::to_vec(&json!({"typ": "dpop+jwt", "alg": "none", "jwk": key.public()})).unwrap());
            let c = b64url(&serde_json::to_vec(&json!({"jti": "x", "htm": "POST", "htu": url, "iat": now()})).unwrap());
            format!("{h}.{c}.")
        }),
        ("HS256", {
            let token = jwt::sign_hs256("secret", &json!({"jti": "y", "htm": "POST", "htu": url, "iat": now()}));
            let (_, rest) = token.split_once('.').unwrap();
            let h =
                b64url(&serde_json::to_vec(&json!({"typ": "dpop+jwt", "alg": "HS256", "jwk": key.public()})).unwrap());
            format!("{h}.{rest}")
        }),
        ("not a JWT", "not-a-jwt".to_owned()),
    ];
    for (what, proof) in cases {
        let r = token_request(
            &app,
            Some(("svc", SVC_SECRET)),
            &[("grant_type", "client_credentials")],
            &[&proof],
        )
        .await;
        assert_eq!(r.status, 400, "{what}: {}", r.body);
        assert_eq!(r.body["error"], "invalid_dpop_proof", "{what}: {}", r.body);
    }
    // Two proofs in one request.
    let r = token_request(
        &app,
        Some(("svc", SVC_SECRET)),
        &[("grant_type", "client_credentials")],
        &[&key.proof("POST", &url), &key.proof("POST", &url)],
    )
    .await;
    assert_oauth_error(&r, 400, "invalid_dpop_proof");
    // The query of htu is not part of it (RFC 9449 §4.3).
    let r = token_request(
        &app,
        Some(("svc", SVC_SECRET)),
        &[("grant_type", "client_credentials")],
        &[&key.proof("POST", &format!("{url}?x=1"))],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test]
async fn a_server_can_require_its_nonce_and_a_client_can_require_dpop() {
    let app = spawn_app().await;
    setup(&app).await;
    service_client(&app).await;
    let r = app
        .admin(
            Method::PUT,
            "/servers/default",
            Some(json!({"require_dpop_nonce": true})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["require_dpop_nonce"], true);
    let key = Key::new();
    let url = token_url(&app);
    let params = [("grant_type", "client_credentials")];
    let r = token_request(&app, Some(("svc", SVC_SECRET)), &params, &[&key.proof("POST", &url)]).await;
    assert_oauth_error(&r, 400, "use_dpop_nonce");
    let nonce = r.headers["dpop-nonce"].to_str().unwrap().to_owned();
    // A nonce the server did not issue is no better.
    let forged = key.proof_with("POST", &url, json!({"nonce": "made-up"}), json!({}));
    assert_oauth_error(
        &token_request(&app, Some(("svc", SVC_SECRET)), &params, &[&forged]).await,
        400,
        "use_dpop_nonce",
    );
    let proof = key.proof_with("POST", &url, json!({"nonce": nonce}), json!({}));
    let r = token_request(&app, Some(("svc", SVC_SECRET)), &params, &[&proof]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["token_type"], "DPoP");

    // A client that must use DPoP gets nothing without a proof.
    let r = app
        .admin(
            Method::PUT,
            "/clients/svc",
            Some(json!({"dpop_bound_access_tokens": true})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["dpop_bound_access_tokens"], true);
    let r = form(&app, &url, Some(("svc", SVC_SECRET)), &params).await;
    assert_oauth_error(&r, 400, "invalid_dpop_proof");

    // A client can ask for it when it registers itself (RFC 7591 metadata, RFC 9449 §5.2).
    let r = app
        .admin(
            Method::PUT,
            "/servers/default",
            Some(json!({"enable_dynamic_client_registration": true})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let req = app
        .http
        .post(format!("{}/oauth2/register", issuer(&app, "default")))
        .json(
            &json!({"grant_types": ["client_credentials"], "scope": "orders.read", "dpop_bound_access_tokens": true}),
        );
    let reg = app.raw(req).await;
    assert_eq!(reg.status, 201, "{}", reg.body);
    assert_eq!(reg.body["dpop_bound_access_tokens"], true);
    let id = reg.body["client_id"].as_str().unwrap();
    let secret = reg.body["client_secret"].as_str().unwrap();
    assert_oauth_error(
        &form(&app, &url, Some((id, secret)), &params).await,
        400,
        "invalid_dpop_proof",
    );
}

#[tokio::test]
async fn a_public_clients_refresh_token_is_bound_to_its_key() {
    let app = spawn_app().await;
    setup(&app).await;
    client(
        &app,
        json!({"client_id": "spa", "token_endpoint_auth_method": "none", "redirect_uris": [CB],
            "grant_types": ["authorization_code", "refresh_token"], "scopes": ["openid", "offline_access"]}),
    )
    .await;
    let key = Key::new();
    let b = Browser::new();
    let code = crate::flows::code_for(
        &app,
        &b,
        &[
            ("client_id", "spa"),
            ("scope", "openid offline_access"),
            ("code_challenge", &challenge(VERIFIER)),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    let url = token_url(&app);
    let r = token_request(
        &app,
        None,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "spa"),
            ("code", &code),
            ("redirect_uri", CB),
            ("code_verifier", VERIFIER),
        ],
        &[&key.proof("POST", &url)],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let refresh = r.body["refresh_token"].as_str().unwrap().to_owned();
    let params = [
        ("grant_type", "refresh_token"),
        ("client_id", "spa"),
        ("refresh_token", refresh.as_str()),
    ];
    // Without a proof, or with another key: refused (and the token is not spent).
    assert_oauth_error(
        &token_request(&app, None, &params, &[]).await,
        400,
        "invalid_dpop_proof",
    );
    let other = Key::new();
    assert_oauth_error(
        &token_request(&app, None, &params, &[&other.proof("POST", &url)]).await,
        400,
        "invalid_dpop_proof",
    );
    let r = token_request(&app, None, &params, &[&key.proof("POST", &url)]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        jwt_claims(r.body["access_token"].as_str().unwrap())["cnf"]["jkt"],
        key.jkt()
    );
    // The next refresh token is bound to the same key.
    let next = r.body["refresh_token"].as_str().unwrap();
    let params = [
        ("grant_type", "refresh_token"),
        ("client_id", "spa"),
        ("refresh_token", next),
    ];
    assert_oauth_error(
        &token_request(&app, None, &params, &[]).await,
        400,
        "invalid_dpop_proof",
    );
}

/// The Node `openid-client` package as a DPoP client: password grant, refresh and userinfo with
/// proofs of one key, with the server requiring its nonce (which the library fetches itself).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openid_client_uses_dpop_with_server_nonces() {
    let Some(node_dir) = crate::browser::node_package("openid-client") else {
        eprintln!("skipped: CASTELLAN_NODE_PACKAGES not set (set CASTELLAN_E2E=1 to require it)");
        return;
    };
    let app = spawn_app().await;
    let secret = setup(&app).await;
    crate::flows::enable_password_grant(&app).await;
    let r = app
        .admin(
            Method::PUT,
            "/servers/default",
            Some(json!({"require_dpop_nonce": true})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let iss = issuer(&app, "default");
    let s = secret.clone();
    let out = tokio::task::spawn_blocking(move || {
        crate::registration::openid_client(&node_dir, &["dpop", &iss, "web", &s, "alice", "alice-password-1"])
    })
    .await
    .unwrap();
    assert!(out.get("error").is_none(), "{out}");
    // The library reports the type in lower case.
    for t in ["token_type", "refreshed_token_type"] {
        assert!(out[t].as_str().unwrap().eq_ignore_ascii_case("DPoP"), "{out}");
    }
    assert_eq!(
        (out["sub"].clone(), out["email"].clone()),
        (json!("alice"), json!("alice@example.com"))
    );
    let first = jwt_claims(out["access_token"].as_str().unwrap());
    let second = jwt_claims(out["refreshed_access_token"].as_str().unwrap());
    assert!(first["cnf"]["jkt"].is_string());
    assert_eq!(first["cnf"], second["cnf"], "one key throughout");
}

/// RFC 9449 §10: `dpop_jkt` on the authorization request (or a proof at the PAR endpoint) binds
/// the code to a key, so a stolen code is worthless without it.
#[tokio::test]
async fn a_code_can_be_bound_to_a_dpop_key() {
    let app = spawn_app().await;
    let secret = setup(&app).await;
    let key = Key::new();
    let url = token_url(&app);
    let redeem = |code: String, proofs: Vec<String>| {
        let app = &app;
        let secret = secret.clone();
        async move {
            let proofs: Vec<&str> = proofs.iter().map(String::as_str).collect();
            token_request(
                app,
                Some(("web", &secret)),
                &[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", CB),
                    ("code_verifier", VERIFIER),
                ],
                &proofs,
            )
            .await
        }
    };
    let pkce = [
        ("code_challenge", challenge(VERIFIER)),
        ("code_challenge_method", "S256".to_owned()),
    ];
    let b = Browser::new();
    let code_for = |extra: Vec<(&'static str, String)>| {
        let b = &b;
        let app = &app;
        async move {
            let extra: Vec<(&str, &str)> = extra.iter().map(|(k, v)| (*k, v.as_str())).collect();
            crate::flows::code_for(app, b, &extra).await
        }
    };
    let mut with_jkt: Vec<(&'static str, String)> = pkce.to_vec();
    with_jkt.push(("dpop_jkt", key.jkt()));
    let code = code_for(with_jkt.clone()).await;
    assert_oauth_error(&redeem(code, vec![]).await, 400, "invalid_grant");
    let code = code_for(with_jkt.clone()).await;
    assert_oauth_error(
        &redeem(code, vec![Key::new().proof("POST", &url)]).await,
        400,
        "invalid_grant",
    );
    let code = code_for(with_jkt).await;
    let r = redeem(code, vec![key.proof("POST", &url)]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["token_type"], "DPoP");
    // A malformed thumbprint goes back to the client.
    let r = b
        .get(&crate::flows::authorize_url(&app, &[("dpop_jkt", "short")]))
        .await;
    assert!(r.location.unwrap().contains("error=invalid_request"));

    // Through PAR: the proof on the push binds the code.
    let par = format!("{}/oauth2/par", issuer(&app, "default"));
    let push = |proof: Option<String>, extra: &[(&str, &str)]| {
        let mut body = form_urlencoded::Serializer::new(String::new());
        body.extend_pairs([
            ("response_type", "code"),
            ("redirect_uri", CB),
            ("scope", "openid"),
            ("code_challenge", challenge(VERIFIER).as_str()),
            ("code_challenge_method", "S256"),
        ]);
        body.extend_pairs(extra);
        let mut req = app
            .http
            .post(&par)
            .header("content-type", "application/x-www-form-urlencoded")
            .basic_auth("web", Some(&secret))
            .body(body.finish());
        if let Some(p) = proof {
            req = req.header("DPoP", p);
        }
        app.raw(req)
    };
    let r = push(Some(key.proof("POST", &par)), &[("dpop_jkt", &Key::new().jkt())]).await;
    assert_oauth_error(&r, 400, "invalid_dpop_proof");
    let r = push(Some(key.proof("POST", &par)), &[]).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let request_uri = r.body["request_uri"].as_str().unwrap().to_owned();
    let q = form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", "web")
        .append_pair("request_uri", &request_uri)
        .finish();
    let r = b
        .get(&format!("{}/oauth2/authorize?{q}", issuer(&app, "default")))
        .await;
    let loc = r.location.unwrap_or_else(|| panic!("{} {}", r.status, r.html));
    let loc = if loc.contains("/consent?") {
        decide(&app, &b, &loc, "allow").await.location.unwrap()
    } else {
        loc
    };
    let code = params_of(&loc)["code"].clone();
    let r = redeem(code.clone(), vec![Key::new().proof("POST", &url)]).await;
    assert_oauth_error(&r, 400, "invalid_grant");
    let code2 = {
        let r = push(Some(key.proof("POST", &par)), &[]).await;
        let request_uri = r.body["request_uri"].as_str().unwrap().to_owned();
        let q = form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", "web")
            .append_pair("request_uri", &request_uri)
            .finish();
        let r = b
            .get(&format!("{}/oauth2/authorize?{q}", issuer(&app, "default")))
            .await;
        params_of(&r.location.unwrap())["code"].clone()
    };
    let r = redeem(code2, vec![key.proof("POST", &url)]).await;
    assert_eq!(r.status, 200, "{}", r.body);
}
