//! The device authorization grant (RFC 8628): the endpoint, the verification page (code entry,
//! sign-in, consent) and polling — pending, slow_down, denied, expired, guessed user codes and
//! device codes used twice.

use reqwest::Method;
use serde_json::json;

use crate::flows::{Browser, Page, decide, field, setup, sign_in};
use crate::helpers::*;
use crate::tokens::{assert_oauth_error, client, form, issuer};

pub(crate) const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// The server `default` (with `setup`'s user and scopes) allows the device flow; `tv` is a public
/// client that uses it, trusted (which does not skip the device's consent).
pub(crate) async fn enable_device_flow(app: &TestApp) {
    let r = app
        .admin(
            Method::PUT,
            "/servers/default",
            Some(json!({"grant_types": ["authorization_code", "refresh_token", DEVICE_GRANT]})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    client(
        app,
        json!({"client_id": "tv", "client_name": "Living Room TV", "token_endpoint_auth_method": "none",
            "grant_types": [DEVICE_GRANT, "refresh_token"], "trusted": true,
            "scopes": ["openid", "profile", "offline_access", "orders.read"]}),
    )
    .await;
}

async fn start(app: &TestApp, client_id: &str, scope: &str) -> Resp {
    form(
        app,
        &format!("{}/oauth2/device_authorization", issuer(app, "default")),
        None,
        &[("client_id", client_id), ("scope", scope)],
    )
    .await
}

async fn poll(app: &TestApp, client_id: &str, device_code: &str) -> Resp {
    form(
        app,
        &format!("{}/oauth2/token", issuer(app, "default")),
        None,
        &[
            ("grant_type", DEVICE_GRANT),
            ("client_id", client_id),
            ("device_code", device_code),
        ],
    )
    .await
}

/// Lets the device poll again at once (as if it had waited its interval).
async fn wait_interval(app: &TestApp, device_code: &str) {
    let store = app.store().await;
    let (tid, aid) = ids();
    let hash = castellan_jose::token_hash(device_code);
    let d = store.get_device(&tid, &aid, &hash).await.unwrap().unwrap();
    store
        .record_device_poll(&tid, &aid, &hash, d.polled_at - d.interval, d.interval)
        .await
        .unwrap();
}

fn ids() -> (castellan_domain::TenantId, castellan_domain::ServerId) {
    (
        castellan_domain::TenantId::parse("default").unwrap(),
        castellan_domain::ServerId::parse("default").unwrap(),
    )
}

/// Types `user_code` on the verification page (opened at `url`); returns where it leads.
pub(crate) async fn enter_code(b: &Browser, url: &str, user_code: &str) -> Page {
    let shown = b.get(url).await;
    assert_eq!(shown.status, 200, "{}", shown.html);
    let csrf = field(&shown.html, "csrf_token");
    let action = url.split('?').next().unwrap();
    b.post(action, &[("csrf_token", &csrf), ("user_code", user_code)]).await
}

#[tokio::test]
async fn a_device_gets_tokens_once_the_person_allows_it_on_another_screen() {
    let app = spawn_app().await;
    setup(&app).await;
    enable_device_flow(&app).await;
    let iss = issuer(&app, "default");
    let meta = app
        .raw(app.http.get(format!("{iss}/.well-known/openid-configuration")))
        .await;
    assert_eq!(
        meta.body["device_authorization_endpoint"],
        format!("{iss}/oauth2/device_authorization")
    );
    assert!(
        meta.body["grant_types_supported"]
            .as_array()
            .unwrap()
            .contains(&json!(DEVICE_GRANT))
    );

    let r = start(&app, "tv", "openid profile offline_access").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.headers["cache-control"], "no-store");
    let device_code = r.body["device_code"].as_str().unwrap().to_owned();
    let user_code = r.body["user_code"].as_str().unwrap().to_owned();
    assert_eq!(user_code.len(), 9, "{user_code}");
    assert_eq!(&user_code[4..5], "-");
    assert_eq!(r.body["verification_uri"], format!("{iss}/device"));
    assert_eq!(
        r.body["verification_uri_complete"],
        format!("{iss}/device?user_code={user_code}")
    );
    assert_eq!(r.body["expires_in"], 600);
    assert_eq!(r.body["interval"], 5);

    // Nobody has decided yet; polling faster than the interval slows the device down.
    assert_oauth_error(&poll(&app, "tv", &device_code).await, 400, "authorization_pending");
    let r = poll(&app, "tv", &device_code).await;
    assert_oauth_error(&r, 400, "slow_down");
    assert!(r.body["error_description"].as_str().unwrap().contains("10 seconds"));
    wait_interval(&app, &device_code).await;
    assert_oauth_error(&poll(&app, "tv", &device_code).await, 400, "authorization_pending");

    // The person, on their phone: the code is filled in from verification_uri_complete; typed
    // in lower case it is the same code.
    let b = Browser::new();
    let complete = format!("{iss}/device?user_code={user_code}");
    let shown = b.get(&complete).await;
    assert_eq!(shown.status, 200);
    assert!(shown.html.contains(&format!("value=\"{user_code}\"")), "{}", shown.html);
    let csp = shown.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("form-action 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    let r = enter_code(&b, &complete, &user_code.to_lowercase()).await;
    let login = r.location.unwrap_or_else(|| panic!("{} {}", r.status, r.html));
    assert!(login.contains("/login?"), "{login}");
    let consent = sign_in(&app, &b, &login, "alice-password-1").await.location.unwrap();
    // Consent is asked although the client is trusted, and shows the code to compare.
    assert!(consent.contains("/consent?"), "{consent}");
    let page = b.get(&format!("{}{consent}", app.base)).await;
    assert!(
        page.html.contains("Living Room TV") && page.html.contains(&user_code),
        "{}",
        page.html
    );
    let done = decide(&app, &b, &consent, "allow").await.location.unwrap();
    assert_eq!(done, format!("{iss}/device?done=approved"));
    let shown = b.get(&done).await;
    assert!(shown.html.contains("go back to your device"), "{}", shown.html);

    // The device's next poll gets the tokens.
    let t = poll(&app, "tv", &device_code).await;
    assert_eq!(t.status, 200, "{}", t.body);
    assert_eq!(t.body["token_type"], "Bearer");
    assert!(
        t.body["refresh_token"].is_string() && t.body["id_token"].is_string(),
        "{}",
        t.body
    );
    let claims = crate::flows::jwt_claims(t.body["access_token"].as_str().unwrap());
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["client_id"], "tv");
    let id = crate::flows::jwt_claims(t.body["id_token"].as_str().unwrap());
    assert_eq!((id["sub"].clone(), id["aud"].clone()), (json!("alice"), json!(["tv"])));

    // A device code is used once; a second use revokes what the first got.
    assert_oauth_error(&poll(&app, "tv", &device_code).await, 400, "invalid_grant");
    let refreshed = form(
        &app,
        &format!("{iss}/oauth2/token"),
        None,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "tv"),
            ("refresh_token", t.body["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_oauth_error(&refreshed, 400, "invalid_grant");
    // The user code is spent too.
    let r = enter_code(&b, &format!("{iss}/device"), &user_code).await;
    assert_eq!(r.status, 400, "{}", r.html);
    assert!(r.html.contains("not right, or it has expired"), "{}", r.html);
}

#[tokio::test]
async fn a_denied_or_expired_device_request_gets_no_tokens() {
    let app = spawn_app().await;
    setup(&app).await;
    enable_device_flow(&app).await;
    let iss = issuer(&app, "default");

    // Denied on the consent page.
    let r = start(&app, "tv", "openid").await;
    let device_code = r.body["device_code"].as_str().unwrap().to_owned();
    let b = Browser::new();
    let login = enter_code(&b, &format!("{iss}/device"), r.body["user_code"].as_str().unwrap())
        .await
        .location
        .unwrap();
    let consent = sign_in(&app, &b, &login, "alice-password-1").await.location.unwrap();
    let done = decide(&app, &b, &consent, "deny").await.location.unwrap();
    assert_eq!(done, format!("{iss}/device?done=denied"));
    assert_oauth_error(&poll(&app, "tv", &device_code).await, 400, "access_denied");
    assert_oauth_error(&poll(&app, "tv", &device_code).await, 400, "access_denied");

    // Signed in already: the next code goes straight to consent.
    let r = start(&app, "tv", "openid").await;
    let next = enter_code(&b, &format!("{iss}/device"), r.body["user_code"].as_str().unwrap())
        .await
        .location
        .unwrap();
    assert!(next.contains("/consent?"), "{next}");

    // Expired: the device hears expired_token, the page refuses the code.
    let store = app.store().await;
    let (tid, aid) = ids();
    let r = start(&app, "tv", "openid").await;
    let device_code = r.body["device_code"].as_str().unwrap().to_owned();
    let hash = castellan_jose::token_hash(&device_code);
    let mut d = store.get_device(&tid, &aid, &hash).await.unwrap().unwrap();
    // Stored again, expired, under another device code with the same user code.
    d.device_hash = castellan_jose::token_hash("expired-device-code");
    d.user_hash.push('x');
    d.expires_at = 1;
    assert!(store.save_device(&tid, &d).await.unwrap());
    assert_oauth_error(&poll(&app, "tv", "expired-device-code").await, 400, "expired_token");

    // An unknown device code, one of another client, one used as an authorization code.
    assert_oauth_error(&poll(&app, "tv", "no-such-code").await, 400, "invalid_grant");
    client(
        &app,
        json!({"client_id": "other-tv", "token_endpoint_auth_method": "none", "grant_types": [DEVICE_GRANT],
            "scopes": ["openid"]}),
    )
    .await;
    assert_oauth_error(&poll(&app, "other-tv", &device_code).await, 400, "invalid_grant");
    let r = form(
        &app,
        &format!("{iss}/oauth2/token"),
        None,
        &[("grant_type", DEVICE_GRANT), ("client_id", "tv")],
    )
    .await;
    assert_oauth_error(&r, 400, "invalid_request");
}

#[tokio::test]
async fn device_requests_are_checked_like_any_client_request() {
    let app = spawn_app().await;
    let secret = setup(&app).await;
    let iss = issuer(&app, "default");
    // Off unless the server enables the grant: no endpoint in discovery, no page.
    let meta = app
        .raw(app.http.get(format!("{iss}/.well-known/openid-configuration")))
        .await;
    assert!(
        meta.body.get("device_authorization_endpoint").is_none(),
        "{}",
        meta.body
    );
    let r = form(
        &app,
        &format!("{iss}/oauth2/device_authorization"),
        Some(("web", &secret)),
        &[("scope", "openid")],
    )
    .await;
    assert_oauth_error(&r, 400, "unsupported_grant_type");
    let b = Browser::new();
    assert_eq!(b.get(&format!("{iss}/device")).await.status, 404);

    enable_device_flow(&app).await;
    // A client that may not use it; scopes it may not have; a confidential client with a wrong
    // secret.
    let r = form(
        &app,
        &format!("{iss}/oauth2/device_authorization"),
        Some(("web", &secret)),
        &[("scope", "openid")],
    )
    .await;
    assert_oauth_error(&r, 400, "unauthorized_client");
    assert_oauth_error(&start(&app, "tv", "openid email").await, 400, "invalid_scope");
    assert_oauth_error(&start(&app, "nobody", "openid").await, 401, "invalid_client");
    let r = form(
        &app,
        &format!("{iss}/oauth2/device_authorization"),
        Some(("web", "wrong-secret")),
        &[("scope", "openid")],
    )
    .await;
    assert_oauth_error(&r, 401, "invalid_client");
    // No scope asked: the client's scopes.
    let r = start(&app, "tv", "").await;
    assert_eq!(r.status, 200, "{}", r.body);

    // The page's form needs its CSRF token.
    let r = b
        .post(
            &format!("{iss}/device"),
            &[("user_code", r.body["user_code"].as_str().unwrap())],
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.html);
    // A bare page says nothing went wrong; an outcome link for an unknown outcome is the form.
    assert!(
        b.get(&format!("{iss}/device?done=whatever"))
            .await
            .html
            .contains("user_code")
    );
}

#[tokio::test]
async fn guessing_user_codes_is_throttled() {
    let app = spawn_app().await;
    setup(&app).await;
    enable_device_flow(&app).await;
    let iss = issuer(&app, "default");
    let r = start(&app, "tv", "openid").await;
    let right = r.body["user_code"].as_str().unwrap().to_owned();
    let device_code = r.body["device_code"].as_str().unwrap().to_owned();
    let b = Browser::new();
    for guess in ["BCDF-GHJK", "ZZZZ-ZZZZ", "not a code", "BBBB-BBBB", "CCCC-CCCC"]
        .iter()
        .cycle()
        .take(10)
    {
        let r = enter_code(&b, &format!("{iss}/device"), guess).await;
        assert_eq!(r.status, 400, "{guess}: {}", r.html);
    }
    // The eleventh try is refused without looking, even with the right code.
    let r = enter_code(&b, &format!("{iss}/device"), &right).await;
    assert_eq!(r.status, 429, "{}", r.html);
    assert!(r.html.contains("Too many wrong codes"), "{}", r.html);
    // The refused right code started nothing: its device is still waiting, and the request is
    // still pending for the person, from an address that is not locked out.
    assert_oauth_error(&poll(&app, "tv", &device_code).await, 400, "authorization_pending");
    let store = app.store().await;
    let (tid, aid) = ids();
    let pending = store
        .get_device(&tid, &aid, &castellan_jose::token_hash(&device_code))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(pending.status, castellan_store::DeviceStatus::Pending);
}
