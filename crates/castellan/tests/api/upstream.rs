//! Signing in through another identity provider: a second Castellan server as the upstream
//! OpenID provider (its own process state, store and keys), a hostile provider that answers with
//! bad ID tokens, an unreachable and a slow one, and an external login page (`custom`) that
//! answers server to server. Driven like a browser (cookies, no automatic redirects).

use std::sync::{Arc, Mutex};

use castellan_domain::SigningAlg;
use castellan_jose::{GeneratedKey, LoadedKey, b64url, jwt};
use reqwest::Method;
use serde_json::{Value, json};

use crate::flows::{Browser, CB, Page, authorize_url, decide, exchange, field, jwt_claims, params_of, setup};
use crate::helpers::*;
use crate::tokens::{client, issuer};

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn callback_of(app: &TestApp) -> String {
    format!("{}/login/callback", issuer(app, "default"))
}

/// The upstream: server `idp` of another Castellan with the static user alice, claims `groups`
/// and `department` in ID tokens, and a trusted client for the downstream server's callback.
/// Returns the upstream issuer and the client's secret.
pub(crate) async fn upstream_castellan(b: &TestApp, downstream_callback: &str) -> (String, String) {
    let r = b
        .admin(
            Method::POST,
            "/servers",
            Some(json!({"id": "idp", "name": "Upstream IdP"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = b
        .admin(
            Method::PUT,
            "/servers/idp/authentications",
            Some(
                json!({"methods": [{"id": "people", "method": "static", "static": {"users": [
                {"username": "alice", "password": "upstream-password-1", "authentication_context": {
                    "email": "alice@upstream.example", "email_verified": true, "name": "Alice Upstream",
                    "groups": ["staff", "auditors"], "dept": "finance", "age": "42"}}]}}]}),
            ),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    for (name, mapping) in [("groups", "groups"), ("department", "dept"), ("age", "age")] {
        let r = b
            .admin(
                Method::POST,
                "/claims",
                Some(
                    json!({"authorization_server_id": "idp", "name": name, "mapping": mapping,
                    "type": "id_token", "scopes": ["profile"]}),
                ),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let c = client(
        b,
        json!({"authorization_server_id": "idp", "client_id": "downstream", "client_name": "Downstream",
            "redirect_uris": [downstream_callback], "grant_types": ["authorization_code"], "trusted": true,
            "scopes": ["openid", "profile", "email"]}),
    )
    .await;
    (issuer(b, "idp"), c["client_secret"].as_str().unwrap().to_owned())
}

/// Puts `methods` on the downstream server `default`.
async fn methods(app: &TestApp, methods: Value) -> Resp {
    app.admin(
        Method::PUT,
        "/servers/default/authentications",
        Some(json!({ "methods": methods })),
    )
    .await
}

fn session_cookie(p: &Page) -> Option<String> {
    p.headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("castellan_session="))
}

/// From the downstream authorization to the upstream's login page, then signed in there:
/// returns the upstream's redirect back to the downstream callback.
async fn through_upstream(a: &TestApp, b: &TestApp, browser: &Browser, extra: &[(&str, &str)]) -> String {
    let r = browser.get(&authorize_url(a, extra)).await;
    let login = r.location.unwrap_or_else(|| panic!("{} {}", r.status, r.html));
    let r = browser.get(&format!("{}{login}", a.base)).await;
    assert_eq!(
        r.status, 303,
        "one upstream method and no static users: straight to it ({})",
        r.html
    );
    let upstream = r.location.unwrap();
    assert!(
        upstream.starts_with(&format!("{}/default/idp/oauth2/authorize?", b.base)),
        "{upstream}"
    );
    let q = params_of(&upstream);
    assert_eq!(q["code_challenge_method"], "S256");
    assert!(!q["state"].is_empty() && !q["nonce"].is_empty());
    let r = browser.get(&upstream).await;
    let login = r.location.unwrap();
    let shown = browser.get(&format!("{}{login}", b.base)).await;
    let r = browser
        .post(
            &format!("{}/default/idp/login", b.base),
            &[
                ("interaction", &field(&shown.html, "interaction")),
                ("csrf_token", &field(&shown.html, "csrf_token")),
                ("username", "alice"),
                ("password", "upstream-password-1"),
            ],
        )
        .await;
    let back = r.location.unwrap_or_else(|| panic!("{} {}", r.status, r.html));
    assert!(back.starts_with(&callback_of(a)), "{back}");
    back
}

#[tokio::test]
async fn a_person_signs_in_through_another_castellan_with_mapped_claims() {
    let a = spawn_app().await;
    let b = spawn_app().await;
    let secret = setup(&a).await;
    let (upstream, upstream_secret) = upstream_castellan(&b, &callback_of(&a)).await;
    let r = methods(
        &a,
        json!([{"id": "partner", "method": "oidc", "name": "Partner IdP",
            "oidc": {"issuer_url": upstream, "client_id": "downstream", "client_secret": upstream_secret,
                "scopes": ["profile", "email"], "get_user_info": true},
            "mappings": [
                {"source": "id_token.email", "target": "email", "type": "string"},
                {"source": "id_token.groups", "target": "groups", "type": "string_array"},
                {"source": "userinfo.department", "target": "dept", "type": "string"},
                {"source": "id_token.age", "target": "age", "type": "number"},
                {"source": "id_token.nickname", "target": "nickname", "type": "string"}],
            "attributes": [{"name": "email"}, {"name": "email_verified"}, {"name": "name"}, {"name": "groups"},
                {"name": "dept"}, {"name": "age"}, {"name": "nickname"}]}]),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // The answer shows the callback to register at the provider.
    assert_eq!(r.body["methods"][0]["oidc"]["redirect_url"], json!(callback_of(&a)));
    assert!(r.body["methods"][0]["oidc"].get("client_secret").is_none());

    let browser = Browser::new();
    let back = through_upstream(&a, &b, &browser, &[]).await;
    let r = browser.get(&back).await;
    assert_eq!(r.status, 303, "{}", r.html);
    assert!(session_cookie(&r).is_some(), "signed in at the downstream server");
    let consent = r.location.unwrap();
    assert!(consent.contains("/consent?"), "{consent}");
    let done = decide(&a, &browser, &consent, "allow").await.location.unwrap();
    assert!(done.starts_with(CB), "{done}");
    let t = exchange(&a, &secret, &params_of(&done)["code"], None).await;
    assert_eq!(t.status, 200, "{}", t.body);
    let id = jwt_claims(t.body["id_token"].as_str().unwrap());
    let sub = id["sub"].as_str().unwrap().to_owned();
    assert_ne!(sub, "alice", "a person of this server, not the upstream's subject");
    assert_eq!(id["idp"], "partner");
    assert_eq!(id["amr"], json!(["pwd"]), "the upstream's amr");
    assert_eq!(id["email"], "alice@upstream.example");
    assert_eq!(id["name"], "Alice Upstream");
    let userinfo = a
        .http
        .get(format!("{}/userinfo", issuer(&a, "default")))
        .bearer_auth(t.body["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(userinfo.status(), 200);
    let info: Value = userinfo.json().await.unwrap();
    assert_eq!(info["sub"], json!(sub));
    assert_eq!(info["email"], "alice@upstream.example");

    // The context the mappings and attributes made (what claims and policies read): the
    // `department` claim arrives through userinfo; `age` became a number; a missing source
    // claim (`nickname`) sets nothing; undeclared attributes are gone.
    let store = a.store().await;
    let tid = castellan_domain::TenantId::parse("default").unwrap();
    let aid = castellan_domain::ServerId::parse("default").unwrap();
    let person = store.get_person(&tid, &aid, &sub).await.unwrap().unwrap();
    assert_eq!(person.method_id, "partner");
    assert_eq!(
        person.upstream_subject,
        format!("{upstream} alice"),
        "unique per issuer"
    );
    let ctx: Value = serde_json::from_str(&person.data).unwrap();
    assert_eq!(
        ctx,
        json!({"email": "alice@upstream.example", "email_verified": true, "name": "Alice Upstream",
            "groups": ["staff", "auditors"], "dept": "finance", "age": 42})
    );

    // Signing in again (a new browser) is the same person.
    let browser = Browser::new();
    let back = through_upstream(&a, &b, &browser, &[("prompt", "login")]).await;
    let r = browser.get(&back).await;
    let loc = r.location.unwrap();
    let loc = if loc.contains("/consent?") {
        decide(&a, &browser, &loc, "allow").await.location.unwrap()
    } else {
        loc
    };
    let t = exchange(&a, &secret, &params_of(&loc)["code"], None).await;
    assert_eq!(jwt_claims(t.body["id_token"].as_str().unwrap())["sub"], json!(sub));

    // Replaying the callback signs no one in.
    let again = browser.get(&back).await;
    assert_eq!(again.status, 400, "{}", again.html);
    assert!(again.html.contains("already used"), "{}", again.html);
    assert!(session_cookie(&again).is_none());

    // Disabling the method ends what its people hold: userinfo refuses the token.
    let r = a.admin(Method::GET, "/servers/default", None).await;
    let mut m = r.body["authentications"]["methods"].clone();
    m[0]["disabled"] = json!(true);
    assert_eq!(methods(&a, m).await.status, 200);
    let r = a
        .http
        .get(format!("{}/userinfo", issuer(&a, "default")))
        .bearer_auth(t.body["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn a_callback_without_its_state_from_another_browser_or_denied_signs_no_one_in() {
    let a = spawn_app().await;
    let b = spawn_app().await;
    setup(&a).await;
    let (upstream, upstream_secret) = upstream_castellan(&b, &callback_of(&a)).await;
    let r = methods(
        &a,
        json!([{"id": "partner", "method": "oidc", "name": "Partner IdP",
            "oidc": {"issuer_url": upstream, "client_id": "downstream", "client_secret": upstream_secret}}]),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let browser = Browser::new();
    let back = through_upstream(&a, &b, &browser, &[]).await;
    let q = params_of(&back);

    // A made-up state.
    let r = browser
        .get(&format!("{}?code={}&state=made-up", callback_of(&a), q["code"]))
        .await;
    assert_eq!(r.status, 400);
    assert!(session_cookie(&r).is_none());
    // The right state in another browser (login CSRF): refused, and the sign-in is spent.
    let other = Browser::new();
    let r = other.get(&back).await;
    assert_eq!(r.status, 400, "{}", r.html);
    assert!(r.html.contains("another browser"), "{}", r.html);
    assert!(session_cookie(&r).is_none());
    let r = browser.get(&back).await;
    assert_eq!(r.status, 400, "spent by the attempt: {}", r.html);

    // The provider says no.
    let r = browser.get(&authorize_url(&a, &[])).await;
    let r = browser.get(&format!("{}{}", a.base, r.location.unwrap())).await;
    let state = params_of(&r.location.unwrap())["state"].clone();
    let r = browser
        .get(&format!("{}?error=access_denied&state={state}", callback_of(&a)))
        .await;
    assert_eq!(r.status, 403, "{}", r.html);
    assert!(r.html.contains("access was denied"), "{}", r.html);
    assert!(session_cookie(&r).is_none());
    assert!(!r.html.contains("<script"), "a page in words");
}

/// What the hostile provider's token endpoint answers.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    Good,
    WrongAud,
    WrongNonce,
    WrongIss,
    BadSignature,
    AlgNone,
    Expired,
    OtherKey,
}

/// An OpenID provider that signs whatever the test asks for: discovery, JWKS, and a token
/// endpoint whose `code` is the nonce to put in the ID token.
struct Hostile {
    issuer: String,
    mode: Arc<Mutex<Mode>>,
}

impl Hostile {
    async fn start(slow: bool) -> Self {
        let key = castellan_jose::keys::generate(SigningAlg::ES256).unwrap();
        let other = castellan_jose::keys::generate(SigningAlg::ES256).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let doc = json!({"issuer": issuer, "jwks_uri": format!("{issuer}/jwks"),
            "authorization_endpoint": format!("{issuer}/authorize"), "token_endpoint": format!("{issuer}/token"),
            "response_types_supported": ["code"], "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["ES256"]});
        let jwks = json!({"keys": [key.public_jwk]});
        let mode = Arc::new(Mutex::new(Mode::Good));
        let (m, iss) = (mode.clone(), issuer.clone());
        let key = Arc::new(key);
        let other = Arc::new(other);
        let token = move |body: String| {
            let (m, iss, key, other) = (m.clone(), iss.clone(), key.clone(), other.clone());
            async move {
                let p: std::collections::HashMap<String, String> =
                    form_urlencoded::parse(body.as_bytes()).into_owned().collect();
                let mode = *m.lock().unwrap();
                let mut claims = json!({"iss": iss, "sub": "hostile-user", "aud": "castellan", "iat": now(),
                    "exp": now() + 300, "nonce": p["code"], "email": "h@hostile.example"});
                match mode {
                    Mode::WrongAud => claims["aud"] = json!("someone-else"),
                    Mode::WrongNonce => claims["nonce"] = json!("another-nonce"),
                    Mode::WrongIss => claims["iss"] = json!("https://evil.example"),
                    Mode::Expired => claims["exp"] = json!(now() - 600),
                    _ => {}
                }
                let signer = |k: &GeneratedKey| LoadedKey::from_pkcs8(SigningAlg::ES256, &k.pkcs8).unwrap();
                let header = jwt::encode_header(SigningAlg::ES256, &key.kid, "JWT");
                let id_token = match mode {
                    Mode::AlgNone => format!(
                        "{}.{}.",
                        b64url(br#"{"alg":"none","typ":"JWT"}"#),
                        b64url(claims.to_string().as_bytes())
                    ),
                    Mode::BadSignature => {
                        let t = jwt::sign(&signer(&key), &header, &claims).unwrap();
                        let (head, sig) = t.rsplit_once('.').unwrap();
                        let mut sig = sig.to_owned();
                        let flip = if sig.starts_with('A') { "B" } else { "A" };
                        sig.replace_range(0..1, flip);
                        format!("{head}.{sig}")
                    }
                    // Signed by a key the provider does not publish, under its kid.
                    Mode::OtherKey => jwt::sign(&signer(&other), &header, &claims).unwrap(),
                    _ => jwt::sign(&signer(&key), &header, &claims).unwrap(),
                };
                axum::Json(json!({"access_token": "at", "token_type": "Bearer", "expires_in": 60,
                    "id_token": id_token}))
            }
        };
        let router = axum::Router::new()
            .route(
                "/.well-known/openid-configuration",
                axum::routing::get(move || async move {
                    if slow {
                        tokio::time::sleep(std::time::Duration::from_secs(8)).await;
                    }
                    axum::Json(doc)
                }),
            )
            .route("/jwks", axum::routing::get(move || async move { axum::Json(jwks) }))
            .route("/token", axum::routing::post(token));
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { issuer, mode }
    }
}

/// Starts a sign-in at the hostile provider and comes back with `code` = the nonce it was given.
async fn hostile_round(a: &TestApp, browser: &Browser) -> Page {
    let r = browser.get(&authorize_url(a, &[])).await;
    let r = browser.get(&format!("{}{}", a.base, r.location.unwrap())).await;
    let loc = r.location.unwrap_or_else(|| panic!("{} {}", r.status, r.html));
    let q = params_of(&loc);
    browser
        .get(&format!("{}?code={}&state={}", callback_of(a), q["nonce"], q["state"]))
        .await
}

#[tokio::test]
async fn bad_id_tokens_and_unreachable_or_slow_providers_sign_no_one_in() {
    let a = spawn_app().await;
    setup(&a).await;
    let hostile = Hostile::start(false).await;
    let r = methods(
        &a,
        json!([{"id": "hostile", "method": "oidc", "name": "Hostile",
            "oidc": {"issuer_url": hostile.issuer, "client_id": "castellan", "client_secret": "s",
                "token_endpoint_auth_method": "client_secret_post"}}]),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let browser = Browser::new();
    // The well-behaved answer signs in (so each refusal below is the token's fault).
    let ok = hostile_round(&a, &browser).await;
    assert_eq!(ok.status, 303, "{}", ok.html);
    assert!(session_cookie(&ok).is_some());
    for mode in [
        Mode::WrongAud,
        Mode::WrongNonce,
        Mode::WrongIss,
        Mode::BadSignature,
        Mode::AlgNone,
        Mode::Expired,
        Mode::OtherKey,
    ] {
        *hostile.mode.lock().unwrap() = mode;
        let browser = Browser::new();
        let r = hostile_round(&a, &browser).await;
        assert_eq!(r.status, 502, "{mode:?}: {}", r.html);
        assert!(r.html.contains("could not be accepted"), "{mode:?}: {}", r.html);
        assert!(session_cookie(&r).is_none(), "{mode:?}");
    }

    // Unreachable: nothing listens there.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let slow = Hostile::start(true).await;
    for (issuer, what) in [(dead, "down"), (slow.issuer.clone(), "slow")] {
        let r = methods(
            &a,
            json!([{"id": "gone", "method": "oidc", "name": "Gone IdP",
                "oidc": {"issuer_url": issuer, "client_id": "castellan", "client_secret": "s"}}]),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let browser = Browser::new();
        let started = std::time::Instant::now();
        let r = browser.get(&authorize_url(&a, &[])).await;
        let r = browser.get(&format!("{}{}", a.base, r.location.unwrap())).await;
        assert_eq!(r.status, 502, "{what}: {}", r.html);
        assert!(r.html.contains("cannot be reached"), "{what}: {}", r.html);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(8),
            "{what}: bounded by the time limit"
        );
    }
}

/// An external login page's answer.
async fn answer(a: &TestApp, login_id: &str, verb: &str, creds: Option<(&str, &str)>, body: Value) -> Resp {
    a.call(
        Method::POST,
        &format!("/default/default/login/custom/{login_id}/{verb}"),
        Some(body),
        creds,
    )
    .await
}

/// To the external page: returns its `login_id` and `return_url`.
async fn to_custom_page(a: &TestApp, browser: &Browser) -> (String, String) {
    let r = browser.get(&authorize_url(a, &[("idp_hint", "page")])).await;
    let r = browser.get(&format!("{}{}", a.base, r.location.unwrap())).await;
    let loc = r.location.unwrap_or_else(|| panic!("{} {}", r.status, r.html));
    assert!(loc.starts_with("https://login.example.com/start?"), "{loc}");
    let q = params_of(&loc);
    (q["login_id"].clone(), q["return_url"].clone())
}

#[tokio::test]
async fn an_external_login_page_accepts_or_rejects_once_with_its_credentials() {
    let a = spawn_app().await;
    let secret = setup(&a).await;
    let r = a.admin(Method::GET, "/servers/default", None).await;
    let mut m = r.body["authentications"]["methods"].as_array().unwrap().clone();
    m.push(json!({"id": "page", "method": "custom", "name": "Partner page",
        "custom": {"login_url": "https://login.example.com/start", "client_id": "page-client",
            "client_secret": "page-secret-0123456789"},
        "mappings": [{"source": "authentication_context.mail", "target": "email", "type": "string"}]}));
    let r = methods(&a, json!(m)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body["methods"][1]["custom"].get("client_secret").is_none());
    let creds = Some(("page-client", "page-secret-0123456789"));

    let browser = Browser::new();
    let (login_id, back) = to_custom_page(&a, &browser).await;
    assert_eq!(back, format!("{}/login/custom/{login_id}", issuer(&a, "default")));
    // Back before the page answered: nothing yet, and the sign-in still waits.
    let r = browser.get(&back).await;
    assert_eq!(r.status, 409, "{}", r.html);
    let body = json!({"subject": "ext-42", "authentication_context": {"mail": "ext@partner.example"}});
    for wrong in [
        None,
        Some(("page-client", "wrong")),
        Some(("other", "page-secret-0123456789")),
    ] {
        let r = answer(&a, &login_id, "accept", wrong, body.clone()).await;
        assert_eq!(r.status, 401, "{wrong:?}: {}", r.body);
        assert_eq!(r.body["error"], "invalid_client");
    }
    let r = answer(&a, &login_id, "accept", creds, json!({"authentication_context": {}})).await;
    assert_eq!(r.status, 400, "a subject is required: {}", r.body);
    let r = answer(&a, &login_id, "accept", creds, body.clone()).await;
    assert_eq!(r.status, 204, "{}", r.body);
    let r = answer(&a, &login_id, "accept", creds, body.clone()).await;
    assert_eq!(r.status, 409, "answered once: {}", r.body);
    // Another browser cannot take the sign-in.
    assert_eq!(Browser::new().get(&back).await.status, 400);
    let r = browser.get(&back).await;
    assert_eq!(r.status, 303, "{}", r.html);
    assert!(session_cookie(&r).is_some());
    let loc = decide(&a, &browser, &r.location.unwrap(), "allow")
        .await
        .location
        .unwrap();
    let t = exchange(&a, &secret, &params_of(&loc)["code"], None).await;
    let id = jwt_claims(t.body["id_token"].as_str().unwrap());
    assert_eq!(id["idp"], "page");
    assert_eq!(id["amr"], json!(["ext"]));
    assert_eq!(id["email"], "ext@partner.example");
    // Reused: nothing.
    let r = browser.get(&back).await;
    assert_eq!(r.status, 400);
    assert_eq!(answer(&a, &login_id, "accept", creds, body.clone()).await.status, 404);
    assert_eq!(
        answer(&a, "never-issued", "accept", creds, body.clone()).await.status,
        404
    );

    // Rejected: the person is told, and not signed in.
    let browser = Browser::new();
    let (login_id, back) = to_custom_page(&a, &browser).await;
    assert_eq!(answer(&a, &login_id, "reject", creds, json!({})).await.status, 204);
    let r = browser.get(&back).await;
    assert_eq!(r.status, 403, "{}", r.html);
    assert!(r.html.contains("did not sign you in"));
    assert!(session_cookie(&r).is_none());

    // Expired: a sign-in whose time ran out accepts nothing.
    let browser = Browser::new();
    let (login_id, _) = to_custom_page(&a, &browser).await;
    let store = a.store().await;
    let tid = castellan_domain::TenantId::parse("default").unwrap();
    let aid = castellan_domain::ServerId::parse("default").unwrap();
    let hash = castellan_jose::token_hash(&login_id);
    let mut p = store
        .take_pending_login(&tid, &aid, &hash, now())
        .await
        .unwrap()
        .unwrap();
    p.expires_at = now() - 1;
    store.save_pending_login(&tid, &p).await.unwrap();
    assert_eq!(answer(&a, &login_id, "accept", creds, body).await.status, 404);
}

#[tokio::test]
async fn login_methods_are_checked_when_saved() {
    let a = spawn_app().await;
    for (method, field) in [
        (
            json!({"method": "oidc", "oidc": {"issuer_url": "not a url", "client_id": "c"}}),
            "methods[0].oidc.issuer_url",
        ),
        (
            json!({"method": "oidc", "oidc": {"issuer_url": "https://idp.example", "client_id": ""}}),
            "methods[0].oidc.client_id",
        ),
        (
            json!({"method": "oidc", "oidc": {"issuer_url": "https://idp.example", "client_id": "c",
                "token_endpoint_auth_method": "none"}}),
            "methods[0].oidc.token_endpoint_auth_method",
        ),
        (
            json!({"method": "azure", "azure": {"client_id": "c"}}),
            "methods[0].azure.tenant",
        ),
        (
            json!({"method": "cognito", "cognito": {"client_id": "c", "region": "eu-west-1"}}),
            "methods[0].cognito.pool_id",
        ),
        (
            json!({"method": "custom", "custom": {"login_url": "/relative"}}),
            "methods[0].custom.login_url",
        ),
        (
            json!({"method": "static", "mappings": [{"source": "a", "target": "b", "type": "date"}]}),
            "methods[0].mappings[0].type",
        ),
        (
            json!({"method": "static", "mappings": [{"source": "", "target": "b"}]}),
            "methods[0].mappings[0].source",
        ),
        (
            json!({"method": "static", "attributes": [{"name": ""}]}),
            "methods[0].attributes[0].name",
        ),
    ] {
        let r = methods(&a, json!([method])).await;
        assert_eq!(r.status, 422, "{method}: {}", r.body);
        assert!(r.body.to_string().contains(field), "{field}: {}", r.body);
    }
    // Nothing was saved.
    let r = a.admin(Method::GET, "/servers/default", None).await;
    assert_eq!(r.body["authentications"]["methods"], json!([]));
}

/// The groups a provider vouches for, mapped into the context, decide what policies allow and
/// which roles (by their connection maps) the person's tokens carry.
#[tokio::test]
async fn groups_from_the_provider_reach_policies_and_roles() {
    let a = spawn_app().await;
    let b = spawn_app().await;
    let secret = setup(&a).await;
    let (upstream, upstream_secret) = upstream_castellan(&b, &callback_of(&a)).await;
    let r = methods(
        &a,
        json!([{"id": "partner", "method": "oidc", "name": "Partner IdP",
            "oidc": {"issuer_url": upstream, "client_id": "downstream", "client_secret": upstream_secret,
                "scopes": ["profile"]},
            "mappings": [{"source": "id_token.groups", "target": "groups", "type": "string_array"}]}]),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Two scopes, each guarded by a policy on the groups: alice is staff, not in finance-team.
    for (id, group) in [("staff-only", "staff"), ("finance-only", "finance-team")] {
        let rego = json!({"id": id, "policy_name": id, "language": "rego",
            "definition": format!("package castellan\n\ndefault allow := false\n\nallow if \"{group}\" in input.authentication_context.groups\n")});
        let r = a.admin(Method::POST, "/policies", Some(rego)).await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    for (scope, policy) in [("reports.read", "staff-only"), ("ledger.read", "finance-only")] {
        let r = a
            .admin(
                Method::POST,
                "/scopes",
                Some(json!({"name": scope, "authorization_server_id": "default", "user_policy_id": policy})),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let r = a
        .admin(
            Method::PUT,
            "/clients/web",
            Some(json!({"scopes": ["openid", "profile", "reports.read", "ledger.read"],
                "audience": ["https://reports.example.com"]})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // A role for the reports API, mapped to the group `staff`.
    let basic = Some((a.id.as_str(), a.secret.as_str()));
    let r = a
        .call(
            Method::POST,
            "/v1/roles",
            Some(json!({"audience": "https://reports.example.com", "productName": "Reports", "description": "staff"})),
            basic,
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let role = r.body["id"].as_str().unwrap().to_owned();
    let r = a
        .call(
            Method::POST,
            &format!("/v1/roles/{role}/connection-maps"),
            Some(json!({"groupName": "staff", "name": "staff", "azoConnectionId": "partner"})),
            basic,
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);

    let browser = Browser::new();
    let back = through_upstream(
        &a,
        &b,
        &browser,
        &[("scope", "openid profile reports.read ledger.read")],
    )
    .await;
    let r = browser.get(&back).await;
    let loc = r.location.unwrap_or_else(|| panic!("{} {}", r.status, r.html));
    let loc = if loc.contains("/consent?") {
        decide(&a, &browser, &loc, "allow").await.location.unwrap()
    } else {
        loc
    };
    let t = exchange(&a, &secret, &params_of(&loc)["code"], None).await;
    assert_eq!(t.status, 200, "{}", t.body);
    let scopes: Vec<&str> = t.body["scope"].as_str().unwrap().split(' ').collect();
    assert!(scopes.contains(&"reports.read"), "staff may: {scopes:?}");
    assert!(!scopes.contains(&"ledger.read"), "not in finance-team: {scopes:?}");
    let access = jwt_claims(t.body["access_token"].as_str().unwrap());
    let permissions = access["permissions"].as_str().unwrap_or_default();
    assert!(permissions.contains("client.read"), "the role's permissions: {access}");
}

/// `private_key_jwt` towards the provider: Castellan signs its client assertion with the server's
/// own key, which the provider reads at the server's `jwks_uri`; a provider that knows the client
/// by another key refuses the code, and no one is signed in.
#[tokio::test]
async fn castellan_can_authenticate_to_the_provider_with_its_signing_key() {
    let a = spawn_app().await;
    let b = spawn_app().await;
    let secret = setup(&a).await;
    upstream_castellan(&b, &callback_of(&a)).await;
    let jwks_uri = format!("{}/.well-known/jwks.json", issuer(&a, "default"));
    let r = b
        .admin(
            Method::PUT,
            "/clients/downstream",
            Some(json!({"token_endpoint_auth_method": "private_key_jwt", "jwks_uri": jwks_uri})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = methods(
        &a,
        json!([{"id": "partner", "method": "oidc", "name": "Partner IdP",
            "oidc": {"issuer_url": issuer(&b, "idp"), "client_id": "downstream",
                "token_endpoint_auth_method": "private_key_jwt"}}]),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let browser = Browser::new();
    let back = through_upstream(&a, &b, &browser, &[]).await;
    let r = browser.get(&back).await;
    assert_eq!(r.status, 303, "{}", r.html);
    let loc = decide(&a, &browser, &r.location.unwrap(), "allow")
        .await
        .location
        .unwrap();
    let t = exchange(&a, &secret, &params_of(&loc)["code"], None).await;
    assert_eq!(jwt_claims(t.body["id_token"].as_str().unwrap())["idp"], "partner");

    // The provider expects another key now: the code is refused, no one is signed in.
    let other = castellan_jose::keys::generate(SigningAlg::ES256).unwrap();
    let r = b
        .admin(
            Method::PUT,
            "/clients/downstream",
            Some(json!({"jwks_uri": null, "jwks": {"keys": [other.public_jwk]}})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let browser = Browser::new();
    let back = through_upstream(&a, &b, &browser, &[]).await;
    let r = browser.get(&back).await;
    assert_eq!(r.status, 502, "{}", r.html);
    assert!(session_cookie(&r).is_none());
}

/// A static method's mappings and attributes shape its users' context like any method's.
#[tokio::test]
async fn static_users_are_shaped_by_their_methods_mappings() {
    let a = spawn_app().await;
    let secret = setup(&a).await;
    crate::flows::enable_password_grant(&a).await;
    let r = methods(
        &a,
        json!([{"id": "people", "method": "static", "static": {"users": [
            {"username": "alice", "password": "alice-password-1",
             "authentication_context": {"profile": {"mail": "alice@example.com", "admin": "true"}, "internal": 1}}]},
            "mappings": [{"source": "profile.mail", "target": "email", "type": "string"},
                {"source": "authentication_context.profile.admin", "target": "is_admin", "type": "bool"}],
            "attributes": [{"name": "email"}, {"name": "is_admin"}]}]),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = a
        .admin(
            Method::POST,
            "/claims",
            Some(
                json!({"authorization_server_id": "default", "name": "is_admin", "mapping": "is_admin",
                "type": "access_token"}),
            ),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let t = crate::tokens::form(
        &a,
        &format!("{}/oauth2/token", issuer(&a, "default")),
        Some(("web", &secret)),
        &[
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", "alice-password-1"),
            ("scope", "openid email"),
        ],
    )
    .await;
    assert_eq!(t.status, 200, "{}", t.body);
    let access = jwt_claims(t.body["access_token"].as_str().unwrap());
    assert_eq!(access["is_admin"], json!(true));
    let id = jwt_claims(t.body["id_token"].as_str().unwrap());
    assert_eq!(id["email"], "alice@example.com");
    assert_eq!(id["amr"], json!(["pwd"]));
    assert!(id.get("idp").is_none(), "static users are this server's own");
    let info: Value = a
        .http
        .get(format!("{}/userinfo", issuer(&a, "default")))
        .bearer_auth(t.body["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["email"], "alice@example.com");
}
