//! Browser flows: the authorization endpoint, login and consent pages, the code and refresh
//! grants, id_tokens, userinfo and logout — driven like a browser (cookies, no automatic
//! redirects) against the real server.

use base64::Engine as _;
use reqwest::Method;
use reqwest::redirect::Policy;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::tokens::{assert_oauth_error, client, form, issuer};

pub(crate) const CB: &str = "https://app.example/cb";
pub(crate) const VERIFIER: &str = "dBjftJeZ4CVP-mJ92K9Ni7hvGHe8OoaZqFQ1rWJE3BmfEWCv8yO3QkFl";

pub(crate) fn challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(castellan_jose::sha256(verifier.as_bytes()))
}

/// A server `default` with a static user, OIDC scopes and a confidential client `web`.
pub(crate) async fn setup(app: &TestApp) -> String {
    let r = app
        .admin(
            Method::PUT,
            "/servers/default/authentications",
            Some(
                json!({"methods": [{"id": "people", "method": "static", "name": "Password", "static": {"users": [
                {"username": "alice", "password": "alice-password-1",
                 "authentication_context": {"email": "alice@example.com", "email_verified": true,
                    "name": "Alice Liddell", "phone_number": "+4712345678", "dept": "wonder"}}]}}]}),
            ),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // openid, profile, email, address, phone and offline_access come with every new server.
    for (name, display, desc) in [("orders.read", "Read orders", "")] {
        let r = app
            .admin(
                Method::POST,
                "/scopes",
                Some(json!({"name": name, "display_name": display, "description": desc, "authorization_server_id": "default"})),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let r = app
        .admin(
            Method::POST,
            "/claims",
            Some(
                json!({"authorization_server_id": "default", "name": "department", "mapping": "dept",
                "type": "id_token", "scopes": ["profile"]}),
            ),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let c = client(
        app,
        json!({"client_id": "web", "client_name": "Web Shop", "redirect_uris": [CB, "https://app.example/other"],
            "post_logout_redirect_uris": ["https://app.example/bye"],
            "grant_types": ["authorization_code", "refresh_token"],
            "scopes": ["openid", "profile", "email", "offline_access", "orders.read"]}),
    )
    .await;
    c["client_secret"].as_str().unwrap().to_owned()
}

/// The server `default` and the client `web` may use the password grant too.
pub(crate) async fn enable_password_grant(app: &TestApp) {
    let r = app
        .admin(
            Method::PUT,
            "/servers/default",
            Some(json!({"grant_types": ["authorization_code", "refresh_token", "password"]})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app
        .admin(
            Method::PUT,
            "/clients/web",
            Some(json!({"grant_types": ["authorization_code", "password", "refresh_token"]})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

/// A browser: keeps cookies, does not follow redirects.
pub(crate) struct Browser {
    http: reqwest::Client,
}

pub(crate) struct Page {
    pub(crate) status: u16,
    pub(crate) location: Option<String>,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) html: String,
}

impl Browser {
    pub(crate) fn new() -> Self {
        Self {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(Policy::none())
                .build()
                .unwrap(),
        }
    }

    pub(crate) async fn get(&self, url: &str) -> Page {
        Self::page(self.http.get(url).send().await.unwrap()).await
    }

    pub(crate) async fn post(&self, url: &str, params: &[(&str, &str)]) -> Page {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        let r = self
            .http
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        Self::page(r).await
    }

    async fn page(r: reqwest::Response) -> Page {
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let location = headers.get("location").map(|v| v.to_str().unwrap().to_owned());
        Page {
            status,
            location,
            headers,
            html: r.text().await.unwrap(),
        }
    }
}

/// The value of a hidden form field.
pub(crate) fn field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no field {name} in {html}"))
        + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

/// Query (or fragment) parameters of a redirect.
pub(crate) fn params_of(location: &str) -> std::collections::HashMap<String, String> {
    let q = location
        .split_once('#')
        .map(|(_, f)| f)
        .or_else(|| location.split_once('?').map(|(_, q)| q))
        .unwrap_or("");
    form_urlencoded::parse(q.as_bytes()).into_owned().collect()
}

pub(crate) fn authorize_url(app: &TestApp, extra: &[(&str, &str)]) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    let defaults = [
        ("response_type", "code"),
        ("client_id", "web"),
        ("redirect_uri", CB),
        ("scope", "openid profile email offline_access"),
        ("state", "st-1"),
        ("nonce", "n-1"),
    ];
    for (k, v) in defaults {
        if !extra.iter().any(|(e, _)| *e == k) {
            q.append_pair(k, v);
        }
    }
    for (k, v) in extra {
        q.append_pair(k, v);
    }
    format!("{}/oauth2/authorize?{}", issuer(app, "default"), q.finish())
}

/// Opens the interaction page at `location` (which must be `/default/default/{page}?…`) and
/// submits its form with its interaction and CSRF token plus `fields`; returns the next redirect.
pub(crate) async fn submit_page(
    app: &TestApp,
    b: &Browser,
    location: &str,
    page: &str,
    fields: &[(&str, &str)],
) -> Page {
    let path = format!("/default/default/{page}");
    assert!(location.starts_with(&format!("{path}?")), "{location}");
    let shown = b.get(&format!("{}{location}", app.base)).await;
    assert_eq!(shown.status, 200, "{}", shown.html);
    let interaction = field(&shown.html, "interaction");
    let csrf = field(&shown.html, "csrf_token");
    let mut form = vec![("interaction", interaction.as_str()), ("csrf_token", csrf.as_str())];
    form.extend_from_slice(fields);
    b.post(&format!("{}{path}", app.base), &form).await
}

/// Signs in as alice on the login page the authorization redirected to; returns the next redirect.
pub(crate) async fn sign_in(app: &TestApp, b: &Browser, login_location: &str, password: &str) -> Page {
    submit_page(
        app,
        b,
        login_location,
        "login",
        &[("username", "alice"), ("password", password)],
    )
    .await
}

/// Allows (or denies) on the consent page; returns the redirect to the client.
pub(crate) async fn decide(app: &TestApp, b: &Browser, consent_location: &str, decision: &str) -> Page {
    submit_page(app, b, consent_location, "consent", &[("decision", decision)]).await
}

/// Runs a first authorization to its code (login and consent included).
pub(crate) async fn code_for(app: &TestApp, b: &Browser, extra: &[(&str, &str)]) -> String {
    let r = b.get(&authorize_url(app, extra)).await;
    let mut loc = r.location.clone().unwrap_or_else(|| panic!("{} {}", r.status, r.html));
    if loc.contains("/login?") {
        loc = sign_in(app, b, &loc, "alice-password-1").await.location.unwrap();
    }
    if loc.contains("/consent?") {
        loc = decide(app, b, &loc, "allow").await.location.unwrap();
    }
    assert!(loc.starts_with(CB), "{loc}");
    params_of(&loc)["code"].clone()
}

pub(crate) async fn exchange(app: &TestApp, secret: &str, code: &str, verifier: Option<&str>) -> Resp {
    let mut p = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", CB),
    ];
    if let Some(v) = verifier {
        p.push(("code_verifier", v));
    }
    form(
        app,
        &format!("{}/oauth2/token", issuer(app, "default")),
        Some(("web", secret)),
        &p,
    )
    .await
}

pub(crate) async fn introspect(app: &TestApp, secret: &str, token: &str) -> Value {
    form(
        app,
        &format!("{}/oauth2/introspect", issuer(app, "default")),
        Some(("web", secret)),
        &[("token", token)],
    )
    .await
    .body
}

pub(crate) fn jwt_claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn code_flow_with_pkce_login_consent_id_token_and_userinfo() {
    let app = spawn_app().await;
    let secret = setup(&app).await;
    let b = Browser::new();
    let s256 = challenge(VERIFIER);
    let url = authorize_url(&app, &[("code_challenge", &s256), ("code_challenge_method", "S256")]);

    // Not signed in: to the login page.
    let r = b.get(&url).await;
    assert_eq!(r.status, 303);
    let login = r.location.unwrap();
    let page = b.get(&format!("{}{login}", app.base)).await;
    assert_eq!(page.status, 200);
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert_eq!(page.headers["x-frame-options"], "DENY");
    assert_eq!(page.headers["cache-control"], "no-store");
    assert!(page.html.contains("Web Shop") && page.html.contains("name=\"password\""));
    assert!(!page.html.contains("<script"), "no scripts on the login page");

    // Wrong password: the page says so, no session.
    let wrong = sign_in(&app, &b, &login, "not-the-password").await;
    assert_eq!(wrong.status, 200);
    assert!(wrong.html.contains("not correct"), "{}", wrong.html);
    assert!(wrong.location.is_none());

    // Without the CSRF token the form is refused.
    let forged = b
        .post(
            &format!("{}/default/default/login", app.base),
            &[
                ("interaction", &field(&page.html, "interaction")),
                ("username", "alice"),
                ("password", "alice-password-1"),
            ],
        )
        .await;
    assert_eq!(forged.status, 403);

    // Signed in: the session cookie is HttpOnly, SameSite=Lax, scoped to the server.
    let signed = sign_in(&app, &b, &login, "alice-password-1").await;
    assert_eq!(signed.status, 303, "{}", signed.html);
    let cookie = signed
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|c| c.starts_with("castellan_session="))
        .unwrap()
        .to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/default/default"));
    assert!(cookie.contains("Max-Age=2592000"), "cookie_max_age: {cookie}");

    // Consent lists the scopes by display name and description.
    let consent = signed.location.unwrap();
    let page = b.get(&format!("{}{consent}", app.base)).await;
    for text in [
        "Web Shop",
        "Your email address",
        "Your email address and whether it has been verified.",
        "Stay connected",
        "alice",
    ] {
        assert!(page.html.contains(text), "{text} missing: {}", page.html);
    }
    let back = decide(&app, &b, &consent, "allow").await;
    let loc = back.location.unwrap();
    assert!(loc.starts_with(&format!("{CB}?")), "{loc}");
    let p = params_of(&loc);
    assert_eq!(p["state"], "st-1");
    assert_eq!(p["iss"], issuer(&app, "default"));
    let code = &p["code"];

    // The exchange needs the verifier.
    let t = exchange(&app, &secret, code, Some(VERIFIER)).await;
    assert_eq!(t.status, 200, "{}", t.body);
    assert_eq!(t.headers["cache-control"], "no-store");
    assert_eq!(t.body["scope"], "openid profile email offline_access");
    let access = t.body["access_token"].as_str().unwrap();
    assert!(
        t.body["refresh_token"].is_string(),
        "offline_access gives a refresh token"
    );
    let at = jwt_claims(access);
    assert_eq!(at["sub"], "alice");
    assert_eq!(at["client_id"], "web");
    let id = jwt_claims(t.body["id_token"].as_str().unwrap());
    assert_eq!(id["iss"], issuer(&app, "default"));
    assert_eq!(id["sub"], "alice");
    assert_eq!(id["aud"], json!(["web"]));
    assert_eq!(id["nonce"], "n-1");
    assert_eq!(id["email"], "alice@example.com");
    assert_eq!(id["name"], "Alice Liddell");
    assert_eq!(id["department"], "wonder", "custom id_token claim released by profile");
    assert!(id.get("phone_number").is_none(), "phone scope not granted");
    assert!(id["auth_time"].as_i64().unwrap() <= id["iat"].as_i64().unwrap());
    let at_hash =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&castellan_jose::sha256(access.as_bytes())[..16]);
    assert_eq!(id["at_hash"], at_hash);
    assert_eq!(
        id["exp"].as_i64().unwrap() - id["iat"].as_i64().unwrap(),
        3600,
        "id_token_ttl"
    );

    // Userinfo: the claims the scopes allow, GET and POST.
    let ui = app
        .raw(
            app.http
                .get(format!("{}/userinfo", issuer(&app, "default")))
                .bearer_auth(access),
        )
        .await;
    assert_eq!(ui.status, 200, "{}", ui.body);
    assert_eq!(ui.body["sub"], "alice");
    assert_eq!(ui.body["email"], "alice@example.com");
    assert_eq!(ui.body["email_verified"], true);
    assert!(ui.body.get("phone_number").is_none());
    let ui = form(
        &app,
        &format!("{}/userinfo", issuer(&app, "default")),
        None,
        &[("access_token", access)],
    )
    .await;
    assert_eq!(ui.body["sub"], "alice");

    // The same browser again: signed in and consented, straight back with a code.
    let again = b
        .get(&authorize_url(
            &app,
            &[("code_challenge", &s256), ("code_challenge_method", "S256")],
        ))
        .await;
    assert!(
        again.location.as_deref().unwrap().starts_with(CB),
        "{:?}",
        again.location
    );
    // prompt=consent asks again; prompt=login signs in again.
    let r = b.get(&authorize_url(&app, &[("prompt", "consent")])).await;
    assert!(r.location.unwrap().contains("/consent?"));
    let r = b.get(&authorize_url(&app, &[("prompt", "login")])).await;
    assert!(r.location.unwrap().contains("/login?"));
    // prompt=select_account shows the login page, where another account can be chosen.
    // Signing in there (with consent asked too) completes without being sent back to sign in.
    let r = b
        .get(&authorize_url(&app, &[("prompt", "select_account consent")]))
        .await;
    let consent = sign_in(&app, &b, &r.location.unwrap(), "alice-password-1").await;
    let back = decide(&app, &b, &consent.location.unwrap(), "allow").await;
    assert!(back.location.as_deref().unwrap().starts_with(CB), "{:?}", back.location);
    // More scopes than remembered: consent again.
    let r = b.get(&authorize_url(&app, &[("scope", "openid orders.read")])).await;
    assert!(r.location.unwrap().contains("/consent?"));

    // Another browser with prompt=none: login_required, back to the client.
    let other = Browser::new();
    let r = other.get(&authorize_url(&app, &[("prompt", "none")])).await;
    let p = params_of(&r.location.unwrap());
    assert_eq!(p["error"], "login_required");
    assert_eq!(p["state"], "st-1");
}

#[tokio::test]
async fn codes_are_single_use_and_a_replay_revokes_what_they_issued() {
    let app = spawn_app().await;
    let secret = setup(&app).await;
    let b = Browser::new();
    let code = code_for(&app, &b, &[]).await;
    let first = exchange(&app, &secret, &code, None).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let access = first.body["access_token"].as_str().unwrap();
    let refresh = first.body["refresh_token"].as_str().unwrap();
    assert_eq!(introspect(&app, &secret, access).await["active"], true);

    let replay = exchange(&app, &secret, &code, None).await;
    assert_oauth_error(&replay, 400, "invalid_grant");
    assert_eq!(
        introspect(&app, &secret, access).await["active"],
        false,
        "replay revokes the access token"
    );
    let r = form(
        &app,
        &format!("{}/oauth2/token", issuer(&app, "default")),
        Some(("web", &secret)),
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await;
    assert_oauth_error(&r, 400, "invalid_grant");

    // Codes are bound to their client, redirect URI and PKCE challenge.
    let other = client(
        &app,
        json!({"client_id": "other", "redirect_uris": [CB], "grant_types": ["authorization_code"], "scopes": ["openid"]}),
    )
    .await;
    let code = code_for(&app, &b, &[]).await;
    let r = form(
        &app,
        &format!("{}/oauth2/token", issuer(&app, "default")),
        Some(("other", other["client_secret"].as_str().unwrap())),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CB),
        ],
    )
    .await;
    assert_oauth_error(&r, 400, "invalid_grant");
    let r = form(
        &app,
        &format!("{}/oauth2/token", issuer(&app, "default")),
        Some(("web", &secret)),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "https://app.example/other"),
        ],
    )
    .await;
    assert_oauth_error(&r, 400, "invalid_grant");
    let r = exchange(&app, &secret, &code, Some(VERIFIER)).await;
    assert_oauth_error(&r, 400, "invalid_grant");

    let s256 = challenge(VERIFIER);
    let code = code_for(
        &app,
        &b,
        &[("code_challenge", &s256), ("code_challenge_method", "S256")],
    )
    .await;
    assert_oauth_error(&exchange(&app, &secret, &code, None).await, 400, "invalid_grant");
    let wrong = "x".repeat(43);
    assert_oauth_error(
        &exchange(&app, &secret, &code, Some(&wrong)).await,
        400,
        "invalid_grant",
    );
    assert_eq!(exchange(&app, &secret, &code, Some(VERIFIER)).await.status, 200);
    assert_oauth_error(&exchange(&app, &secret, "not-a-code", None).await, 400, "invalid_grant");
}

/// Sends a code redemption over a raw connection and closes it right after the request, before
/// any answer: a caller that times out. The redemption still runs to completion (its changes are
/// committed), so the code is spent and a replay is refused as a reuse.
#[tokio::test]
async fn a_redemption_whose_caller_leaves_still_completes() {
    use tokio::io::AsyncWriteExt;

    let app = spawn_app().await;
    let secret = setup(&app).await;
    let b = Browser::new();
    let code = code_for(&app, &b, &[]).await;
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CB),
        ])
        .finish();
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("web:{secret}"));
    let addr = app.base.trim_start_matches("http://");
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "POST /default/default/oauth2/token HTTP/1.1\r\nhost: {addr}\r\nauthorization: Basic {basic}\r\n\
         content-type: application/x-www-form-urlencoded\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    conn.write_all(request.as_bytes()).await.unwrap();
    conn.shutdown().await.unwrap();
    drop(conn);

    // Give the first redemption time to commit (it takes milliseconds), then replay the code: a
    // first redemption that was dropped with its caller would leave the code redeemable.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let replay = exchange(&app, &secret, &code, None).await;
    assert_oauth_error(&replay, 400, "invalid_grant");
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_revokes_the_grant() {
    let app = spawn_app().await;
    let secret = setup(&app).await;
    let b = Browser::new();
    let code = code_for(&app, &b, &[]).await;
    let t = exchange(&app, &secret, &code, None).await;
    let r1 = t.body["refresh_token"].as_str().unwrap().to_owned();
    let a1 = t.body["access_token"].as_str().unwrap().to_owned();
    let url = format!("{}/oauth2/token", issuer(&app, "default"));
    let refresh = |token: String, scope: Option<&'static str>| {
        let (url, secret, app) = (url.clone(), secret.clone(), &app);
        async move {
            let mut p = vec![("grant_type", "refresh_token"), ("refresh_token", token.as_str())];
            if let Some(s) = scope {
                p.push(("scope", s));
            }
            form(app, &url, Some(("web", &secret)), &p).await
        }
    };
    // Narrowing is allowed, widening is not.
    assert_oauth_error(
        &refresh(r1.clone(), Some("openid orders.read")).await,
        400,
        "invalid_scope",
    );
    let t2 = refresh(r1.clone(), Some("openid email")).await;
    assert_eq!(t2.status, 200, "{}", t2.body);
    assert_eq!(t2.body["scope"], "openid email");
    let r2 = t2.body["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(r1, r2, "rotated");
    let a2 = t2.body["access_token"].as_str().unwrap().to_owned();
    let id = jwt_claims(t2.body["id_token"].as_str().unwrap());
    assert_eq!(id["sub"], "alice");
    assert!(id.get("nonce").is_none(), "no nonce on refresh");
    // The old token again: reuse — the whole grant goes.
    assert_oauth_error(&refresh(r1, None).await, 400, "invalid_grant");
    assert_oauth_error(&refresh(r2, None).await, 400, "invalid_grant");
    for a in [a1, a2] {
        assert_eq!(introspect(&app, &secret, &a).await["active"], false);
    }

    // Revoking a refresh token (RFC 7009) ends its grant too.
    let code = code_for(&app, &b, &[]).await;
    let t = exchange(&app, &secret, &code, None).await;
    let rt = t.body["refresh_token"].as_str().unwrap().to_owned();
    let r = form(
        &app,
        &format!("{}/oauth2/revoke", issuer(&app, "default")),
        Some(("web", &secret)),
        &[("token", &rt), ("token_type_hint", "refresh_token")],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        introspect(&app, &secret, t.body["access_token"].as_str().unwrap()).await["active"],
        false
    );
    assert_oauth_error(&refresh(rt, None).await, 400, "invalid_grant");
}

#[tokio::test]
async fn authorization_errors_are_shown_or_sent_back_as_the_rfc_says() {
    let app = spawn_app().await;
    setup(&app).await;
    client(
        &app,
        json!({"client_id": "spa", "token_endpoint_auth_method": "none", "redirect_uris": [CB],
            "grant_types": ["authorization_code"], "scopes": ["openid"]}),
    )
    .await;
    let b = Browser::new();
    let base = format!("{}/oauth2/authorize", issuer(&app, "default"));
    let url = |q: &[(&str, &str)]| {
        format!(
            "{base}?{}",
            form_urlencoded::Serializer::new(String::new()).extend_pairs(q).finish()
        )
    };
    // Unknown client, unregistered redirect URI: an error page, never a redirect.
    for q in [
        vec![("response_type", "code"), ("client_id", "nobody"), ("redirect_uri", CB)],
        vec![
            ("response_type", "code"),
            ("client_id", "web"),
            ("redirect_uri", "https://evil.example/cb"),
        ],
        vec![("response_type", "code"), ("client_id", "web")],
        vec![("response_type", "code")],
    ] {
        let r = b.get(&url(&q)).await;
        assert_eq!(r.status, 400, "{q:?}");
        assert!(r.location.is_none());
        assert!(r.html.contains("<h1>") && !r.html.contains("panicked"), "{}", r.html);
        assert_eq!(r.headers["x-frame-options"], "DENY");
    }
    // Everything else goes back to the client with error and state.
    let s256 = challenge(VERIFIER);
    for (q, error) in [
        (vec![("client_id", "web"), ("redirect_uri", CB)], "invalid_request"),
        (
            vec![("response_type", "magic"), ("client_id", "web"), ("redirect_uri", CB)],
            "unsupported_response_type",
        ),
        (
            vec![("response_type", "token"), ("client_id", "web"), ("redirect_uri", CB)],
            "unauthorized_client",
        ),
        (
            vec![
                ("response_type", "code"),
                ("client_id", "web"),
                ("redirect_uri", CB),
                ("scope", "openid admin"),
            ],
            "invalid_scope",
        ),
        (
            vec![
                ("response_type", "code"),
                ("client_id", "web"),
                ("redirect_uri", CB),
                ("code_challenge", &s256),
                ("code_challenge_method", "plain"),
            ],
            "invalid_request",
        ),
        (
            vec![
                ("response_type", "code"),
                ("client_id", "web"),
                ("redirect_uri", CB),
                ("code_challenge", &s256),
            ],
            "invalid_request",
        ),
        (
            vec![("response_type", "code"), ("client_id", "spa"), ("redirect_uri", CB)],
            "invalid_request",
        ),
        (
            vec![
                ("response_type", "code"),
                ("client_id", "web"),
                ("redirect_uri", CB),
                ("prompt", "none login"),
            ],
            "invalid_request",
        ),
        (
            vec![
                ("response_type", "code"),
                ("client_id", "web"),
                ("redirect_uri", CB),
                ("max_age", "-1"),
            ],
            "invalid_request",
        ),
    ] {
        let mut q = q.clone();
        q.push(("state", "s-9"));
        let r = b.get(&url(&q)).await;
        assert_eq!(r.status, 303, "{q:?}: {}", r.html);
        let loc = r.location.unwrap();
        assert!(loc.starts_with(CB), "{loc}");
        let p = params_of(&loc);
        assert_eq!(p["error"], error, "{q:?}");
        assert_eq!(p["state"], "s-9");
        assert!(p.contains_key("error_description"));
    }
    // A request object that does not verify is shown, never redirected: the redirect URI it
    // carries cannot be trusted (RFC 9101 §6.2).
    let r = b
        .get(&url(&[
            ("response_type", "code"),
            ("client_id", "web"),
            ("redirect_uri", CB),
            ("request", "eyJ"),
        ]))
        .await;
    assert_eq!(r.status, 400, "{}", r.html);
    assert!(r.html.contains("signed request was refused"), "{}", r.html);
    // A server that enforces PKCE refuses confidential clients without it too.
    let r = app
        .admin(Method::PUT, "/servers/default", Some(json!({"enforce_pkce": true})))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = b
        .get(&url(&[
            ("response_type", "code"),
            ("client_id", "web"),
            ("redirect_uri", CB),
        ]))
        .await;
    assert_eq!(params_of(&r.location.unwrap())["error"], "invalid_request");
    // A public client with PKCE gets to the login page.
    let r = b
        .get(&url(&[
            ("response_type", "code"),
            ("client_id", "spa"),
            ("redirect_uri", CB),
            ("code_challenge", &s256),
            ("code_challenge_method", "S256"),
        ]))
        .await;
    assert!(r.location.unwrap().contains("/login?"));
    // Tampered or unknown interactions explain themselves.
    let r = b
        .get(&format!("{}/default/default/login?interaction=forged", app.base))
        .await;
    assert_eq!(r.status, 400);
    assert!(r.html.contains("expired"));
}

#[tokio::test]
async fn consent_can_be_denied_and_trusted_clients_skip_it() {
    let app = spawn_app().await;
    let secret = setup(&app).await;
    let b = Browser::new();
    let r = b.get(&authorize_url(&app, &[])).await;
    let consent = sign_in(&app, &b, &r.location.unwrap(), "alice-password-1")
        .await
        .location
        .unwrap();
    let denied = decide(&app, &b, &consent, "deny").await;
    let p = params_of(&denied.location.unwrap());
    assert_eq!(p["error"], "access_denied");
    assert_eq!(p["state"], "st-1");
    // Nothing was remembered: asked again.
    let r = b.get(&authorize_url(&app, &[])).await;
    assert!(r.location.unwrap().contains("/consent?"));
    // prompt=none without consent: consent_required.
    let r = b.get(&authorize_url(&app, &[("prompt", "none")])).await;
    assert_eq!(params_of(&r.location.unwrap())["error"], "consent_required");

    let r = app
        .admin(Method::PUT, "/clients/web", Some(json!({"trusted": true})))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = b.get(&authorize_url(&app, &[])).await;
    let loc = r.location.unwrap();
    assert!(loc.starts_with(CB), "trusted: no consent page ({loc})");
    assert_eq!(
        exchange(&app, &secret, &params_of(&loc)["code"], None).await.status,
        200
    );
}

#[tokio::test]
async fn implicit_hybrid_and_form_post_responses() {
    let app = spawn_app().await;
    setup(&app).await;
    let r = app
        .admin(
            Method::PUT,
            "/clients/web",
            Some(
                json!({"grant_types": ["authorization_code", "implicit"], "trusted": true,
                "response_types": ["code", "id_token token", "code id_token"]}),
            ),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let b = Browser::new();
    let r = b.get(&authorize_url(&app, &[])).await;
    sign_in(&app, &b, &r.location.unwrap(), "alice-password-1").await;

    // id_token token: in the fragment, with at_hash.
    let r = b
        .get(&authorize_url(&app, &[("response_type", "id_token token")]))
        .await;
    let loc = r.location.unwrap();
    assert!(loc.starts_with(&format!("{CB}#")), "{loc}");
    let p = params_of(&loc);
    let id = jwt_claims(&p["id_token"]);
    assert_eq!(id["nonce"], "n-1");
    assert_eq!(
        id["at_hash"],
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(&castellan_jose::sha256(p["access_token"].as_bytes())[..16])
    );
    assert_eq!(p["token_type"], "Bearer");
    // Hybrid: code and id_token with c_hash.
    let r = b.get(&authorize_url(&app, &[("response_type", "code id_token")])).await;
    let p = params_of(&r.location.unwrap());
    let id = jwt_claims(&p["id_token"]);
    assert_eq!(
        id["c_hash"],
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&castellan_jose::sha256(p["code"].as_bytes())[..16])
    );
    // Implicit needs a nonce, and never uses the query.
    let r = b
        .get(&authorize_url(
            &app,
            &[("response_type", "id_token token"), ("response_mode", "query")],
        ))
        .await;
    assert_eq!(params_of(&r.location.unwrap())["error"], "invalid_request");
    // form_post: an auto-submitting form to the redirect URI, allowed by the CSP nonce only.
    let r = b.get(&authorize_url(&app, &[("response_mode", "form_post")])).await;
    assert_eq!(r.status, 200);
    assert!(r.html.contains(&format!("action=\"{CB}\"")), "{}", r.html);
    assert!(r.html.contains("name=\"code\"") && r.html.contains("name=\"state\" value=\"st-1\""));
    let csp = r.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'nonce-") && csp.contains("form-action 'self' https://app.example"),
        "{csp}"
    );
}

#[tokio::test]
async fn logout_ends_the_session_and_returns_only_to_registered_addresses() {
    let app = spawn_app().await;
    let secret = setup(&app).await;
    let b = Browser::new();
    let code = code_for(&app, &b, &[]).await;
    let t = exchange(&app, &secret, &code, None).await;
    let id_token = t.body["id_token"].as_str().unwrap().to_owned();
    let logout = format!("{}/logout", issuer(&app, "default"));
    let q = |pairs: &[(&str, &str)]| {
        format!(
            "{logout}?{}",
            form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs)
                .finish()
        )
    };
    // An unregistered address is refused with a page.
    let r = b
        .get(&q(&[
            ("id_token_hint", &id_token),
            ("post_logout_redirect_uri", "https://evil.example/"),
        ]))
        .await;
    assert_eq!(r.status, 400);
    assert!(r.location.is_none());
    // A forged hint too.
    let r = b.get(&q(&[("id_token_hint", "a.b.c")])).await;
    assert_eq!(r.status, 400);
    // Without a hint the person confirms first; nothing ends yet.
    let r = b.get(&q(&[])).await;
    assert_eq!(r.status, 200);
    assert!(r.html.contains("Sign out?"));
    assert!(
        b.get(&authorize_url(&app, &[])).await.location.unwrap().starts_with(CB),
        "still signed in"
    );
    // With a valid hint: signed out and sent back with state.
    let r = b
        .get(&q(&[
            ("id_token_hint", &id_token),
            ("post_logout_redirect_uri", "https://app.example/bye"),
            ("state", "bye-1"),
        ]))
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location.unwrap(), "https://app.example/bye?state=bye-1");
    let again = b.get(&authorize_url(&app, &[])).await;
    assert!(again.location.unwrap().contains("/login?"), "the session is gone");

    // The confirmation form signs out.
    let code_again = code_for(&app, &b, &[]).await;
    assert!(!code_again.is_empty());
    let page = b.get(&q(&[])).await;
    let r = b
        .post(
            &logout,
            &[("csrf_token", &field(&page.html, "csrf_token")), ("confirm", "yes")],
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r.html.contains("signed out"));
    assert!(
        b.get(&authorize_url(&app, &[]))
            .await
            .location
            .unwrap()
            .contains("/login?")
    );
}

#[tokio::test]
async fn failed_logins_are_throttled_per_user() {
    let app = spawn_app().await;
    setup(&app).await;
    let b = Browser::new();
    let login = b.get(&authorize_url(&app, &[])).await.location.unwrap();
    for _ in 0..5 {
        let r = sign_in(&app, &b, &login, "wrong-password").await;
        assert_eq!(r.status, 200);
    }
    let r = sign_in(&app, &b, &login, "alice-password-1").await;
    assert_eq!(r.status, 429, "locked even with the right password");
    assert!(r.html.contains("Too many failed attempts"));
    assert!(r.location.is_none());
}

#[tokio::test]
async fn userinfo_needs_a_bearer_token_granted_openid() {
    let app = spawn_app().await;
    let secret = setup(&app).await;
    let url = format!("{}/userinfo", issuer(&app, "default"));
    let r = app.raw(app.http.get(&url)).await;
    assert_eq!(r.status, 401);
    assert!(r.headers["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
    let r = app.raw(app.http.get(&url).bearer_auth("garbage")).await;
    assert_eq!(r.status, 401);
    assert!(
        r.headers["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
    assert_eq!(r.body["error"], "invalid_token");
    // A token without openid: insufficient_scope.
    let b = Browser::new();
    let code = code_for(&app, &b, &[("scope", "orders.read")]).await;
    let t = exchange(&app, &secret, &code, None).await;
    assert!(t.body.get("id_token").is_none(), "no openid, no id_token");
    let r = app
        .raw(app.http.get(&url).bearer_auth(t.body["access_token"].as_str().unwrap()))
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(r.body["error"], "insufficient_scope");
}

#[tokio::test]
async fn several_login_methods_let_the_person_choose_and_pages_show_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path()).await;
    // Behind a TLS-terminating proxy: the session cookie must be Secure.
    cfg.public_url = Some("https://login.example.com".into());
    let app = spawn_with(dir, cfg).await;
    setup(&app).await;
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let r = app
        .admin(
            Method::PUT,
            "/servers/default",
            Some(json!({"name": "Wonderland", "logo_uri": "https://cdn.example.com/logo.png"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app
        .admin(
            Method::PUT,
            "/servers/default/authentications",
            Some(json!({"methods": [
                {"id": "people", "method": "static", "name": "Password", "static": {"users": [
                    {"username": "alice", "password": "alice-password-1", "authentication_context": {}}]}},
                {"id": "corp", "method": "oidc", "name": "Corporate SSO", "oidc": {"issuer_url": dead,
                    "client_id": "c", "client_secret": "s"}}]})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let b = Browser::new();
    let login = b.get(&authorize_url(&app, &[])).await.location.unwrap();
    let page = b.get(&format!("{}{login}", app.base)).await;
    assert!(
        page.html.contains("Corporate SSO") && page.html.contains("Password"),
        "{}",
        page.html
    );
    assert!(!page.html.contains("name=\"password\""), "a choice first, not a form");
    assert!(page.html.contains("Wonderland") && page.html.contains("https://cdn.example.com/logo.png"));
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("img-src 'self' data: https://cdn.example.com"), "{csp}");
    // Each method is a link (no form: the provider's address need not be a form target).
    let choice = |id: &str| format!("{}{login}&method={id}", app.base);
    assert!(page.html.contains("&amp;method=corp"), "{}", page.html);
    // A provider that cannot be reached says so, and offers the methods again.
    let r = b.get(&choice("corp")).await;
    assert_eq!(r.status, 502, "{}", r.html);
    assert!(
        r.html.contains("cannot be reached") && r.html.contains("&amp;method=people"),
        "{}",
        r.html
    );
    // Choosing static users shows the form; signing in sets a Secure cookie.
    let r = b.get(&choice("people")).await;
    assert!(
        r.html.contains("Or sign in with") && r.html.contains("Corporate SSO"),
        "{}",
        r.html
    );
    let csrf = field(&r.html, "csrf_token");
    let interaction = field(&r.html, "interaction");
    let url = format!("{}/default/default/login", app.base);
    assert!(r.html.contains("name=\"password\""));
    let r = b
        .post(
            &url,
            &[
                ("interaction", &interaction),
                ("csrf_token", &csrf),
                ("method", "people"),
                ("username", "alice"),
                ("password", "alice-password-1"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.html);
    let cookie = r
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("castellan_session="))
        .unwrap();
    assert!(cookie.contains("Secure"), "{cookie}");
}

#[tokio::test]
async fn consent_forms_need_their_csrf_token_and_a_session() {
    let app = spawn_app().await;
    setup(&app).await;
    let b = Browser::new();
    let login = b.get(&authorize_url(&app, &[])).await.location.unwrap();
    let consent = sign_in(&app, &b, &login, "alice-password-1").await.location.unwrap();
    let page = b.get(&format!("{}{consent}", app.base)).await;
    let interaction = field(&page.html, "interaction");
    let url = format!("{}/default/default/consent", app.base);
    let r = b
        .post(
            &url,
            &[
                ("interaction", &interaction),
                ("csrf_token", "forged"),
                ("decision", "allow"),
            ],
        )
        .await;
    assert_eq!(r.status, 403);
    assert!(r.location.is_none());
    // Nothing was remembered by the refused form.
    let again = b.get(&authorize_url(&app, &[])).await.location.unwrap();
    assert!(again.contains("/consent?"));
    // Another browser (no session) is sent to sign in.
    let stranger = Browser::new();
    let r = stranger
        .post(
            &url,
            &[
                ("interaction", &interaction),
                ("csrf_token", "x"),
                ("decision", "allow"),
            ],
        )
        .await;
    assert!(r.location.unwrap().contains("/login?"));
}

#[tokio::test]
async fn the_password_grant_issues_refresh_and_id_tokens_for_openid_and_offline_access() {
    let app = spawn_app().await;
    let secret = setup(&app).await;
    enable_password_grant(&app).await;
    let url = format!("{}/oauth2/token", issuer(&app, "default"));
    let t = form(
        &app,
        &url,
        Some(("web", &secret)),
        &[
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", "alice-password-1"),
            ("scope", "openid email offline_access"),
        ],
    )
    .await;
    assert_eq!(t.status, 200, "{}", t.body);
    assert_eq!(
        jwt_claims(t.body["id_token"].as_str().unwrap())["email"],
        "alice@example.com"
    );
    let r = form(
        &app,
        &url,
        Some(("web", &secret)),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", t.body["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
}
