//! RFC 8693 token exchange and the RFC 7523 JWT bearer grant: trusted issuers (this server,
//! another server of the tenant through an `oidc` login method, an upstream provider with its
//! discovery document and JWKS, the client's own keys), and every refusal.

use castellan_domain::SigningAlg;
use castellan_jose::{GeneratedKey, LoadedKey, jwt};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::tokens::{assert_oauth_error, client, form, issuer};

pub(crate) const EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
pub(crate) const BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
pub(crate) const AT: &str = "urn:ietf:params:oauth:token-type:access_token";
const JWT_TYPE: &str = "urn:ietf:params:oauth:token-type:jwt";

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn claims_of(token: &str) -> Value {
    jwt::parse(token).unwrap().claims().unwrap()
}

/// An OpenID provider outside Castellan: a discovery document and a JWKS on a local port, and
/// a key to sign its tokens with.
pub(crate) struct Upstream {
    pub issuer: String,
    key: GeneratedKey,
}

impl Upstream {
    pub(crate) async fn start() -> Self {
        let key = castellan_jose::keys::generate(SigningAlg::ES256).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let doc = json!({"issuer": issuer, "jwks_uri": format!("{issuer}/jwks"),
            "authorization_endpoint": format!("{issuer}/authorize"), "token_endpoint": format!("{issuer}/token")});
        let jwks = json!({"keys": [key.public_jwk]});
        let router = axum::Router::new()
            .route(
                "/.well-known/openid-configuration",
                axum::routing::get(move || async move { axum::Json(doc) }),
            )
            .route("/jwks", axum::routing::get(move || async move { axum::Json(jwks) }));
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { issuer, key }
    }

    pub(crate) fn sign(&self, claims: &Value) -> String {
        let signer = LoadedKey::from_pkcs8(SigningAlg::ES256, &self.key.pkcs8).unwrap();
        jwt::sign(
            &signer,
            &jwt::encode_header(SigningAlg::ES256, &self.key.kid, "JWT"),
            claims,
        )
        .unwrap()
    }

    /// A token of this provider about `sub`, issued to `aud`, valid for a minute.
    pub(crate) fn token(&self, sub: &str, aud: &str) -> Value {
        json!({"iss": self.issuer, "sub": sub, "aud": aud, "iat": now(), "exp": now() + 60,
               "email": format!("{sub}@upstream.example")})
    }
}

/// The `default` server with both grants, scopes, a partner server whose people sign in with
/// the password grant, and two login methods the default server trusts: the partner server and
/// an upstream provider.
async fn setup(app: &TestApp, upstream: &Upstream) {
    let r = app
        .admin(
            Method::PUT,
            "/servers/default",
            Some(
                json!({"grant_types": ["authorization_code", "client_credentials", "refresh_token", EXCHANGE, BEARER]}),
            ),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app
        .admin(
            Method::POST,
            "/servers",
            Some(json!({"id": "partner", "grant_types": ["password", "client_credentials"],
                "authentications": {"methods": [{"method": "static", "static": {"users": [
                    {"username": "alice", "password": "alice-password-1", "authentication_context": {"email": "alice@example.com"}}]}}]}})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    client(
        app,
        json!({"client_id": "partner-app", "authorization_server_id": "partner", "grant_types": ["password"],
               "client_secret": "partner-app-secret-0123456789"}),
    )
    .await;
    for name in ["orders.read", "orders.write"] {
        let r = app
            .admin(
                Method::POST,
                "/scopes",
                Some(json!({"name": name, "authorization_server_id": "default"})),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let r = app
        .admin(
            Method::PUT,
            "/servers/default/authentications",
            Some(json!({"methods": [
                {"id": "partner", "method": "oidc", "name": "Partner",
                 "oidc": {"issuer_url": issuer(app, "partner"), "client_id": "partner-app", "client_secret": "x-not-used-here"}},
                {"id": "ext", "method": "oidc", "name": "Upstream",
                 "oidc": {"issuer_url": upstream.issuer, "client_id": "castellan-at-ext", "client_secret": "x-not-used-here"}}]})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    for (id, aud) in [
        ("svc", json!(["https://api.example", "svc2"])),
        ("svc2", json!(["https://api2.example"])),
    ] {
        client(
            app,
            json!({"client_id": id, "grant_types": ["client_credentials", EXCHANGE, BEARER], "scopes": ["orders.read"],
                   "audience": aud, "client_secret": format!("{id}-secret-0123456789abcdef")}),
        )
        .await;
    }
}

fn secret(id: &str) -> String {
    format!("{id}-secret-0123456789abcdef")
}

async fn alice_at_partner(app: &TestApp) -> String {
    let r = form(
        app,
        &format!("{}/oauth2/token", issuer(app, "partner")),
        Some(("partner-app", "partner-app-secret-0123456789")),
        &[
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", "alice-password-1"),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["access_token"].as_str().unwrap().to_owned()
}

async fn own_token(app: &TestApp, id: &str) -> String {
    let r = form(
        app,
        &format!("{}/oauth2/token", issuer(app, "default")),
        Some((id, &secret(id))),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["access_token"].as_str().unwrap().to_owned()
}

async fn exchange(app: &TestApp, id: &str, params: &[(&str, &str)]) -> Resp {
    let mut all = vec![("grant_type", EXCHANGE)];
    all.extend_from_slice(params);
    form(
        app,
        &format!("{}/oauth2/token", issuer(app, "default")),
        Some((id, &secret(id))),
        &all,
    )
    .await
}

#[tokio::test]
async fn tokens_of_trusted_issuers_are_exchanged_with_act_chains_and_may_act() {
    let app = spawn_app().await;
    let up = Upstream::start().await;
    setup(&app, &up).await;

    // Discovery lists both grants on the server that allows them, and not elsewhere.
    let meta = app
        .http
        .get(format!("{}/.well-known/openid-configuration", issuer(&app, "default")))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let grants = meta["grant_types_supported"].as_array().unwrap();
    assert!(
        grants.contains(&json!(EXCHANGE)) && grants.contains(&json!(BEARER)),
        "{meta}"
    );
    let meta = app
        .http
        .get(format!("{}/.well-known/openid-configuration", issuer(&app, "partner")))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert!(
        !meta["grant_types_supported"]
            .as_array()
            .unwrap()
            .contains(&json!(EXCHANGE))
    );

    // A token of another server of the tenant, trusted through the `partner` login method.
    let alice = alice_at_partner(&app).await;
    let r = exchange(&app, "svc", &[("subject_token", &alice), ("subject_token_type", AT)]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["issued_token_type"], AT);
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["scope"], "orders.read");
    let c = claims_of(r.body["access_token"].as_str().unwrap());
    assert_eq!(
        (
            c["sub"].clone(),
            c["client_id"].clone(),
            c["idp"].clone(),
            c["iss"].clone()
        ),
        (
            json!("alice"),
            json!("svc"),
            json!("partner"),
            json!(issuer(&app, "default"))
        )
    );
    assert!(c.get("act").is_none(), "no actor token, no act: {c}");

    // The same token, presented by a client it was not issued to (svc2 trusts the partner too,
    // but the method's client_id is partner-app and the token names it: accepted), then a token
    // of a server no login method names: refused.
    let other = app
        .admin(
            Method::POST,
            "/servers",
            Some(json!({"id": "stranger", "grant_types": ["client_credentials"]})),
        )
        .await;
    assert_eq!(other.status, 201, "{}", other.body);
    client(
        &app,
        json!({"client_id": "s-app", "authorization_server_id": "stranger", "grant_types": ["client_credentials"],
               "client_secret": "s-app-secret-0123456789abcdef"}),
    )
    .await;
    let r = form(
        &app,
        &format!("{}/oauth2/token", issuer(&app, "stranger")),
        Some(("s-app", "s-app-secret-0123456789abcdef")),
        &[("grant_type", "client_credentials")],
    )
    .await;
    let untrusted = r.body["access_token"].as_str().unwrap().to_owned();
    let r = exchange(
        &app,
        "svc",
        &[("subject_token", &untrusted), ("subject_token_type", AT)],
    )
    .await;
    assert_oauth_error(&r, 400, "invalid_grant");
    assert!(
        r.body["error_description"].as_str().unwrap().contains("does not trust"),
        "{}",
        r.body
    );

    // An upstream provider's token: accepted when issued to the method's client id; expired,
    // for another audience, or signed by a stranger: refused.
    let t = up.sign(&up.token("bob", "castellan-at-ext"));
    let r = exchange(
        &app,
        "svc",
        &[
            ("subject_token", &t),
            ("subject_token_type", JWT_TYPE),
            ("requested_token_type", JWT_TYPE),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["issued_token_type"], JWT_TYPE);
    let c = claims_of(r.body["access_token"].as_str().unwrap());
    assert_eq!((c["sub"].clone(), c["idp"].clone()), (json!("bob"), json!("ext")));
    let mut expired = up.token("bob", "castellan-at-ext");
    expired["exp"] = json!(now() - 120);
    let r = exchange(
        &app,
        "svc",
        &[("subject_token", &up.sign(&expired)), ("subject_token_type", JWT_TYPE)],
    )
    .await;
    assert_oauth_error(&r, 400, "invalid_grant");
    assert!(r.body["error_description"].as_str().unwrap().contains("expired"));
    let r = exchange(
        &app,
        "svc",
        &[
            ("subject_token", &up.sign(&up.token("bob", "someone-else"))),
            ("subject_token_type", JWT_TYPE),
        ],
    )
    .await;
    assert_oauth_error(&r, 400, "invalid_grant");
    assert!(r.body["error_description"].as_str().unwrap().contains("aud"));
    let forger = Upstream::start().await;
    let mut forged = up.token("bob", "castellan-at-ext");
    forged["iss"] = json!(up.issuer);
    let r = exchange(
        &app,
        "svc",
        &[
            ("subject_token", &forger.sign(&forged)),
            ("subject_token_type", JWT_TYPE),
        ],
    )
    .await;
    assert_oauth_error(&r, 400, "invalid_grant");
    // An upstream id token is not an access token.
    let r = exchange(&app, "svc", &[("subject_token", &t), ("subject_token_type", AT)]).await;
    assert_oauth_error(&r, 400, "invalid_grant");

    // Scopes beyond the client's, an audience it may not ask for, an unknown token type.
    let r = exchange(
        &app,
        "svc",
        &[
            ("subject_token", &alice),
            ("subject_token_type", AT),
            ("scope", "orders.write"),
        ],
    )
    .await;
    assert_oauth_error(&r, 400, "invalid_scope");
    let r = exchange(
        &app,
        "svc",
        &[
            ("subject_token", &alice),
            ("subject_token_type", AT),
            ("audience", "https://evil.example"),
        ],
    )
    .await;
    assert_oauth_error(&r, 400, "invalid_target");
    let r = exchange(
        &app,
        "svc",
        &[("subject_token", &alice), ("subject_token_type", "urn:example:saml")],
    )
    .await;
    assert_oauth_error(&r, 400, "invalid_request");
    let r = exchange(&app, "svc", &[("subject_token", &alice)]).await;
    assert_oauth_error(&r, 400, "invalid_request");

    // Two-step delegation: svc acts for bob towards svc2, then svc2 acts for bob.
    let svc_own = own_token(&app, "svc").await;
    let r = exchange(
        &app,
        "svc",
        &[
            ("subject_token", &t),
            ("subject_token_type", JWT_TYPE),
            ("actor_token", &svc_own),
            ("actor_token_type", AT),
            ("audience", "svc2"),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let step1 = r.body["access_token"].as_str().unwrap().to_owned();
    let c = claims_of(&step1);
    assert_eq!(c["act"], json!({"sub": "svc"}));
    assert_eq!(c["aud"], json!(["svc2"]));
    let svc2_own = own_token(&app, "svc2").await;
    let r = exchange(
        &app,
        "svc2",
        &[
            ("subject_token", &step1),
            ("subject_token_type", AT),
            ("actor_token", &svc2_own),
            ("actor_token_type", AT),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let c = claims_of(r.body["access_token"].as_str().unwrap());
    assert_eq!(c["sub"], "bob");
    assert_eq!(c["act"], json!({"sub": "svc2", "act": {"sub": "svc"}}), "{c}");
    assert_eq!(c["scope"], "orders.read", "never more than the subject token held");
    // A token of this server issued neither to nor for the presenting client is refused.
    let r = exchange(
        &app,
        "svc",
        &[("subject_token", &svc2_own), ("subject_token_type", JWT_TYPE)],
    )
    .await;
    assert_oauth_error(&r, 400, "invalid_grant");
    assert!(
        r.body["error_description"].as_str().unwrap().contains("aud"),
        "{}",
        r.body
    );
    // An actor token without its type, and a type without the token.
    let r = exchange(
        &app,
        "svc",
        &[
            ("subject_token", &t),
            ("subject_token_type", JWT_TYPE),
            ("actor_token", &svc_own),
        ],
    )
    .await;
    assert_oauth_error(&r, 400, "invalid_request");

    // may_act: only the party it names may act.
    let mut may = up.token("carol", "castellan-at-ext");
    may["may_act"] = json!({"sub": "svc2"});
    let may = up.sign(&may);
    let r = exchange(
        &app,
        "svc",
        &[("subject_token", &may), ("subject_token_type", JWT_TYPE)],
    )
    .await;
    assert_oauth_error(&r, 400, "invalid_grant");
    assert!(r.body["error_description"].as_str().unwrap().contains("may_act"));
    let mut may_svc = up.token("carol", "castellan-at-ext");
    may_svc["may_act"] = json!({"sub": "svc"});
    let r = exchange(
        &app,
        "svc",
        &[
            ("subject_token", &up.sign(&may_svc)),
            ("subject_token_type", JWT_TYPE),
            ("actor_token", &svc_own),
            ("actor_token_type", AT),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);

    // A client's own token: the client may re-aim it, another client may not become it.
    let r = exchange(
        &app,
        "svc",
        &[
            ("subject_token", &svc_own),
            ("subject_token_type", AT),
            ("audience", "https://api.example"),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let c = claims_of(r.body["access_token"].as_str().unwrap());
    assert_eq!(
        (c["sub"].clone(), c["gty"].clone()),
        (json!("svc"), json!("client_credentials"))
    );
    let r = exchange(&app, "svc2", &[("subject_token", &svc_own), ("subject_token_type", AT)]).await;
    assert_oauth_error(&r, 400, "invalid_grant");
    assert!(
        r.body["error_description"]
            .as_str()
            .unwrap()
            .contains("another client's own token")
    );

    // A client without the grant.
    client(
        &app,
        json!({"client_id": "plain", "grant_types": ["client_credentials"], "scopes": ["orders.read"],
               "client_secret": secret("plain")}),
    )
    .await;
    let r = exchange(
        &app,
        "plain",
        &[("subject_token", &t), ("subject_token_type", JWT_TYPE)],
    )
    .await;
    assert_oauth_error(&r, 400, "unauthorized_client");
}

/// A DPoP-bound token is exchanged only with a proof by its key: otherwise anyone holding a
/// stolen bound token could trade it for an unbound one.
#[tokio::test]
async fn a_dpop_bound_token_is_exchanged_only_by_its_key_holder() {
    let app = spawn_app().await;
    let up = Upstream::start().await;
    setup(&app, &up).await;
    let key = crate::dpop::Key::new();
    let token_url = format!("{}/oauth2/token", issuer(&app, "default"));
    // Alice's token at the partner server, bound to the key.
    let bound = {
        let partner = format!("{}/oauth2/token", issuer(&app, "partner"));
        let req = app
            .http
            .post(&partner)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("DPoP", key.proof("POST", &partner))
            .basic_auth("partner-app", Some("partner-app-secret-0123456789"))
            .body("grant_type=password&username=alice&password=alice-password-1");
        let r = app.raw(req).await;
        assert_eq!(r.body["token_type"], "DPoP", "{}", r.body);
        r.body["access_token"].as_str().unwrap().to_owned()
    };
    let params = [("subject_token", bound.as_str()), ("subject_token_type", AT)];
    let r = exchange(&app, "svc", &params).await;
    assert_oauth_error(&r, 400, "invalid_grant");
    assert!(
        r.body["error_description"].as_str().unwrap().contains("DPoP-bound"),
        "{}",
        r.body
    );
    // With another key's proof: still refused.
    let with_proof = |k: &crate::dpop::Key| {
        let mut body = form_urlencoded::Serializer::new(String::new());
        body.append_pair("grant_type", EXCHANGE).extend_pairs(params);
        app.http
            .post(&token_url)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("DPoP", k.proof("POST", &token_url))
            .basic_auth("svc", Some(secret("svc")))
            .body(body.finish())
    };
    let r = app.raw(with_proof(&crate::dpop::Key::new())).await;
    assert_oauth_error(&r, 400, "invalid_grant");
    // With the key's proof: exchanged, and the new token is bound to the same key.
    let r = app.raw(with_proof(&key)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        claims_of(r.body["access_token"].as_str().unwrap())["cnf"]["jkt"],
        key.jkt()
    );
}

fn bearer_claims(app: &TestApp, iss: &str, sub: &str, jti: &str) -> Value {
    json!({"iss": iss, "sub": sub, "aud": format!("{}/oauth2/token", issuer(app, "default")),
           "iat": now(), "exp": now() + 60, "jti": jti, "email": format!("{sub}@example.com")})
}

#[tokio::test]
async fn jwt_bearer_assertions_of_the_client_or_a_trusted_issuer() {
    let app = spawn_app().await;
    let up = Upstream::start().await;
    setup(&app, &up).await;
    let es = SigningAlg::ES256;
    let key = castellan_jose::keys::generate(es).unwrap();
    client(
        &app,
        json!({"client_id": "jb", "grant_types": [BEARER], "scopes": ["orders.read"], "jwks": {"keys": [key.public_jwk]},
               "client_secret": secret("jb")}),
    )
    .await;
    let sign = |claims: &Value| {
        let signer = LoadedKey::from_pkcs8(es, &key.pkcs8).unwrap();
        jwt::sign(&signer, &jwt::encode_header(es, &key.kid, "JWT"), claims).unwrap()
    };
    let url = format!("{}/oauth2/token", issuer(&app, "default"));
    let grant = |assertion: String, scope: &'static str| {
        let url = url.clone();
        let app = &app;
        async move {
            let mut p = vec![("grant_type", BEARER), ("assertion", assertion.as_str())];
            if !scope.is_empty() {
                p.push(("scope", scope));
            }
            form(app, &url, Some(("jb", &secret("jb"))), &p).await
        }
    };

    let a = sign(&bearer_claims(&app, "jb", "carol", "j1"));
    let r = grant(a.clone(), "orders.read").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let c = claims_of(r.body["access_token"].as_str().unwrap());
    assert_eq!(
        (c["sub"].clone(), c["client_id"].clone(), c["scope"].clone()),
        (json!("carol"), json!("jb"), json!("orders.read"))
    );
    assert!(r.body.get("refresh_token").is_none());

    // Replayed, too long-lived, for another audience, signed by an unknown key, alg none, HS256
    // keyed with the client's public key: all refused.
    assert_oauth_error(&grant(a, "").await, 400, "invalid_grant");
    let mut far = bearer_claims(&app, "jb", "carol", "j2");
    far["exp"] = json!(now() + 7200);
    let r = grant(sign(&far), "").await;
    assert_oauth_error(&r, 400, "invalid_grant");
    assert!(r.body["error_description"].as_str().unwrap().contains("exp"));
    let mut aud = bearer_claims(&app, "jb", "carol", "j3");
    aud["aud"] = json!("https://elsewhere.example");
    let r = grant(sign(&aud), "").await;
    assert_oauth_error(&r, 400, "invalid_grant");
    assert!(r.body["error_description"].as_str().unwrap().contains("aud"));
    let stranger = castellan_jose::keys::generate(es).unwrap();
    let s = LoadedKey::from_pkcs8(es, &stranger.pkcs8).unwrap();
    let forged = jwt::sign(
        &s,
        &jwt::encode_header(es, &key.kid, "JWT"),
        &bearer_claims(&app, "jb", "carol", "j4"),
    )
    .unwrap();
    assert_oauth_error(&grant(forged, "").await, 400, "invalid_grant");
    let payload = castellan_jose::b64url(
        serde_json::to_string(&bearer_claims(&app, "jb", "carol", "j5"))
            .unwrap()
            .as_bytes(),
    );
    let none = format!(
        "{}.{payload}.",
        castellan_jose::b64url(br#"{"alg":"none","typ":"JWT"}"#)
    );
    assert_oauth_error(&grant(none, "").await, 400, "invalid_grant");
    let public_as_secret = serde_json::to_string(&key.public_jwk).unwrap();
    let hs = jwt::sign_hs256(&public_as_secret, &bearer_claims(&app, "jb", "carol", "j6"));
    assert_oauth_error(&grant(hs, "").await, 400, "invalid_grant");
    assert_oauth_error(
        &grant(sign(&bearer_claims(&app, "jb", "carol", "j7")), "orders.write").await,
        400,
        "invalid_scope",
    );
    let r = grant(sign(&bearer_claims(&app, "jb", "jb", "j8")), "").await;
    assert_oauth_error(&r, 400, "invalid_grant");

    // An upstream provider's assertion (iss: the provider, aud: this token endpoint).
    let r = grant(up.sign(&bearer_claims(&app, &up.issuer, "dave", "u1")), "").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let c = claims_of(r.body["access_token"].as_str().unwrap());
    assert_eq!((c["sub"].clone(), c["idp"].clone()), (json!("dave"), json!("ext")));
    // A client without the grant.
    let r = form(
        &app,
        &url,
        Some(("svc", &secret("svc"))),
        &[
            ("grant_type", BEARER),
            ("assertion", &up.sign(&bearer_claims(&app, &up.issuer, "dave", "u2"))),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "svc has the grant too: {}", r.body);
    let r = form(
        &app,
        &url,
        Some(("partner-app", "partner-app-secret-0123456789")),
        &[("grant_type", BEARER), ("assertion", "x.y.z")],
    )
    .await;
    assert_oauth_error(&r, 401, "invalid_client");
}

/// The Python interpreter with Authlib (`.ci/run` makes a virtual environment and names it).
fn authlib_python() -> Option<String> {
    std::env::var("CASTELLAN_AUTHLIB_PYTHON").ok().filter(|p| !p.is_empty())
}

#[tokio::test]
async fn authlib_drives_jwt_bearer_and_token_exchange() {
    let Some(python) = authlib_python() else {
        eprintln!("authlib test not run: set CASTELLAN_AUTHLIB_PYTHON to a python with authlib (.ci/run does)");
        return;
    };
    let app = spawn_app().await;
    let up = Upstream::start().await;
    setup(&app, &up).await;
    let es = SigningAlg::ES256;
    let key = castellan_jose::keys::generate(es).unwrap();
    client(
        &app,
        json!({"client_id": "jb", "grant_types": [BEARER], "scopes": ["orders.read"], "jwks": {"keys": [key.public_jwk]},
               "client_secret": secret("jb")}),
    )
    .await;
    let alice = alice_at_partner(&app).await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/authlib/exchange_and_bearer.py");
    let out = tokio::process::Command::new(python)
        .arg(script)
        .env("TOKEN_URL", format!("{}/oauth2/token", issuer(&app, "default")))
        .env("JWKS_URL", format!("{}/.well-known/jwks.json", issuer(&app, "default")))
        .env("JB_ID", "jb")
        .env("JB_SECRET", secret("jb"))
        .env("JB_KID", &key.kid)
        .env("JB_KEY_DER", castellan_jose::b64url(&key.pkcs8))
        .env("SVC_ID", "svc")
        .env("SVC_SECRET", secret("svc"))
        .env("SUBJECT_TOKEN", &alice)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("authlib: jwt bearer and token exchange ok"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
