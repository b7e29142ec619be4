//! The admin console over HTTP (the browser test drives it in Chromium): a person of the admin
//! server signs in through the `console` client (authorization code with PKCE), and the pages act
//! with that person's permissions — an administrator creates, edits and deletes; a person holding
//! only `client.read` sees clients without controls and is refused a crafted POST in words.

use reqwest::Method;
use serde_json::{Value, json};

use crate::flows::{Browser, Page, field};
use crate::helpers::*;

/// The admin server's people: `root` in group `admins` (a role holding `*`), `reader` in group
/// `readers` (a role holding only `client.read`) and `ops` in group `operators` (a role holding
/// `system.read system.write`).
pub(crate) async fn console_people(app: &TestApp) {
    let r = app
        .admin(
            Method::PUT,
            "/servers/admin/authentications",
            Some(json!({"methods": [{"id": "people", "method": "static", "static": {"users": [
                {"username": "root", "password": "root-password-1", "authentication_context": {"groups": ["admins"]}},
                {"username": "reader", "password": "reader-password-1", "authentication_context": {"groups": ["readers"]}},
                {"username": "ops", "password": "ops-password-1", "authentication_context": {"groups": ["operators"]}}
            ]}}]})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    for (product, permissions, group) in [
        ("Root", "*", "admins"),
        ("Readers", "client.read", "readers"),
        ("Operators", "system.read system.write", "operators"),
    ] {
        let nexus = |m: Method, p: &str| {
            app.http
                .request(m, format!("{}{p}", app.base))
                .basic_auth(&app.id, Some(&app.secret))
                .header("X-Castellan-Tenant", "default")
        };
        let r = app
            .raw(
                nexus(Method::POST, "/v1/roles")
                    .json(&json!({"audience": "https://admin.example.com", "productName": product})),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let role = r.body["id"].as_str().unwrap().to_owned();
        let r = app
            .raw(nexus(Method::PUT, &format!("/v1/roles/{role}")).json(&json!({"permissions": permissions})))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let r = app
            .raw(
                nexus(Method::POST, &format!("/v1/roles/{role}/connection-maps"))
                    .json(&json!({"groupName": group, "name": group})),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
}

/// Follows the console's sign-in from `start` (a console page) through the admin server's login
/// page as `user`; returns the page the console sends the person back to, and the session
/// cookie (`name=value`).
pub(crate) async fn console_sign_in(
    app: &TestApp,
    b: &Browser,
    start: &str,
    user: &str,
    password: &str,
) -> (Page, String) {
    let abs = |l: &str| {
        if l.starts_with("http") {
            l.to_owned()
        } else {
            format!("{}{l}", app.base)
        }
    };
    let r = b.get(&abs(start)).await;
    assert_eq!(r.status, 303, "{}", r.html);
    let sign_in = r.location.unwrap();
    assert!(sign_in.contains("/console/default/sign-in?back="), "{sign_in}");
    let r = b.get(&abs(&sign_in)).await;
    let authorize = r.location.unwrap_or_else(|| panic!("{} {}", r.status, r.html));
    assert!(authorize.starts_with("/default/admin/oauth2/authorize?"), "{authorize}");
    assert!(authorize.contains("code_challenge_method=S256"), "{authorize}");
    let r = b.get(&abs(&authorize)).await;
    let login = r.location.unwrap_or_else(|| panic!("{} {}", r.status, r.html));
    assert!(login.starts_with("/default/admin/login?"), "{login}");
    let shown = b.get(&abs(&login)).await;
    assert_eq!(shown.status, 200, "{}", shown.html);
    let r = b
        .post(
            &abs("/default/admin/login"),
            &[
                ("interaction", &field(&shown.html, "interaction")),
                ("csrf_token", &field(&shown.html, "csrf_token")),
                ("username", user),
                ("password", password),
            ],
        )
        .await;
    let callback = r.location.unwrap_or_else(|| panic!("{} {}", r.status, r.html));
    assert!(callback.contains("/console/default/callback?"), "{callback}");
    let r = b.get(&abs(&callback)).await;
    assert_eq!(r.status, 303, "{}", r.html);
    let back = r.location.unwrap();
    let cookie = r
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect::<Vec<_>>();
    let session = cookie
        .iter()
        .find(|c| c.starts_with("castellan_console="))
        .expect("a session cookie");
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/console/default"] {
        assert!(session.contains(attr), "{session}");
    }
    let value = session.split(';').next().unwrap().to_owned();
    (b.get(&abs(&back)).await, value)
}

/// The audit trail's events made through the console, newest first.
pub(crate) async fn console_trail(app: &TestApp) -> Vec<Value> {
    let r = app.admin(Method::GET, "/audit?limit=1000", None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["payload"]["via"] == "console")
        .cloned()
        .collect()
}

fn url(app: &TestApp, p: &str) -> String {
    format!("{}/console/default{p}", app.base)
}

#[tokio::test]
async fn an_administrator_manages_the_tenant_in_the_console() {
    let app = spawn_app().await;
    console_people(&app).await;
    let b = Browser::new();
    let (home, _) = console_sign_in(&app, &b, "/console/default/", "root", "root-password-1").await;
    assert_eq!(home.status, 200, "{}", home.html);
    assert!(home.html.contains("Authorization servers"), "{}", home.html);
    assert!(home.html.contains("Signed in as <strong>"), "{}", home.html);
    // Every page: a strict CSP, never framed, never cached, nothing from another origin.
    let csp = home.headers["content-security-policy"].to_str().unwrap();
    for d in [
        "default-src 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "style-src 'self'",
    ] {
        assert!(csp.contains(d), "{csp}");
    }
    assert_eq!(home.headers["cache-control"], "no-store");
    assert!(
        !home.html.contains("src=\"http") && !home.html.contains("href=\"http"),
        "{}",
        home.html
    );
    let csrf = field(&home.html, "csrf_token");

    // A server.
    let r = b
        .post(
            &url(&app, "/servers"),
            &[("csrf_token", &csrf), ("id", "shop"), ("name", "Shop")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.html);
    assert_eq!(
        r.location.as_deref(),
        Some("/console/default/servers/shop?done=created")
    );
    let r = app.admin(Method::GET, "/servers/shop", None).await;
    assert_eq!(r.body["name"], "Shop");
    // Taken: the error is shown next to the id field, and nothing changes.
    let r = b
        .post(
            &url(&app, "/servers"),
            &[("csrf_token", &csrf), ("id", "shop"), ("name", "Again")],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.html);
    assert!(r.html.contains("id=\"id-error\""), "{}", r.html);
    assert_eq!(app.admin(Method::GET, "/servers/shop", None).await.body["name"], "Shop");

    // A token lifetime: a bad value is named at its field; a good one is saved.
    let r = b
        .post(
            &url(&app, "/servers/shop"),
            &[("csrf_token", &csrf), ("name", "Shop"), ("access_token_ttl", "soon")],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.html);
    assert!(r.html.contains("id=\"access_token_ttl-error\""), "{}", r.html);
    let r = b
        .post(
            &url(&app, "/servers/shop"),
            &[("csrf_token", &csrf), ("name", "Shop"), ("access_token_ttl", "10m")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.html);
    assert_eq!(
        app.admin(Method::GET, "/servers/shop", None).await.body["access_token_ttl"],
        "10m0s"
    );

    // Signing keys: their states are listed; rotating publishes a next key (a second rotation
    // meanwhile is refused in words); revoking asks first, then withdraws the key.
    let page = b.get(&url(&app, "/servers/shop")).await;
    assert!(page.html.contains("id=\"key_rotation_period\""), "{}", page.html);
    assert!(page.html.contains("<td>current</td>"), "{}", page.html);
    let r = b
        .post(
            &url(&app, "/servers/shop"),
            &[("csrf_token", &csrf), ("name", "Shop"), ("key_rotation_period", "1h")],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.html);
    assert!(r.html.contains("id=\"key_rotation_period-error\""), "{}", r.html);
    let r = b
        .post(&url(&app, "/servers/shop/keys/rotate"), &[("csrf_token", &csrf)])
        .await;
    assert_eq!(r.status, 303, "{}", r.html);
    let page = b.get(&url(&app, "/servers/shop?done=rotated")).await;
    assert!(page.html.contains("<td>next</td>"), "{}", page.html);
    assert!(page.html.contains("A next key is published"), "{}", page.html);
    let r = b
        .post(&url(&app, "/servers/shop/keys/rotate"), &[("csrf_token", &csrf)])
        .await;
    assert_eq!(r.status, 409, "{}", r.html);
    assert!(r.html.contains("rotation is under way"), "{}", r.html);
    let keys = app.admin(Method::GET, "/servers/shop/keys", None).await;
    let next = keys.body["keys"][1]["kid"].as_str().unwrap().to_owned();
    let confirm = b.get(&url(&app, &format!("/servers/shop/keys/{next}/revoke"))).await;
    assert_eq!(confirm.status, 200, "{}", confirm.html);
    assert!(confirm.html.contains("Revoke key"), "{}", confirm.html);
    let r = b
        .post(
            &url(&app, &format!("/servers/shop/keys/{next}/revoke")),
            &[("csrf_token", "forged")],
        )
        .await;
    assert_eq!(r.status, 403, "a forged form changes nothing: {}", r.html);
    let r = b
        .post(
            &url(&app, &format!("/servers/shop/keys/{next}/revoke")),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.html);
    let keys = app.admin(Method::GET, "/servers/shop/keys", None).await;
    assert_eq!(keys.body["keys"][1]["kid"], next.as_str());
    assert_eq!(keys.body["keys"][1]["state"], "revoked");

    // A scope, then a client that may ask for it; the secret is shown once.
    let r = b
        .post(
            &url(&app, "/servers/shop/scopes"),
            &[
                ("csrf_token", &csrf),
                ("name", "orders.read"),
                ("display_name", "Read your orders"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.html);
    let r = b
        .post(
            &url(&app, "/servers/shop/clients/new"),
            &[
                ("csrf_token", &csrf),
                ("client_id", "backend"),
                ("client_name", "Shop backend"),
                ("grant_types", "client_credentials"),
                ("scopes", "orders.read"),
                ("token_endpoint_auth_method", "client_secret_basic"),
            ],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.html);
    let marker = "<code id=\"client-secret\">";
    let start = r.html.find(marker).expect("the secret is shown") + marker.len();
    let secret = r.html[start..start + r.html[start..].find('<').unwrap()].to_owned();
    let token = app
        .raw(
            app.http
                .post(format!("{}/default/shop/oauth2/token", app.base))
                .basic_auth("backend", Some(&secret))
                .form(&[("grant_type", "client_credentials"), ("scope", "orders.read")]),
        )
        .await;
    assert_eq!(token.status, 200, "{}", token.body);
    let page = b.get(&url(&app, "/servers/shop/clients/backend")).await;
    assert_eq!(page.status, 200);
    assert!(!page.html.contains(&secret), "the secret is shown only once");
    // Each change made here is in the audit trail once, as the person's, through the console;
    // the refused forms (a taken id, bad values, a second rotation, a forged form) are not.
    let trail = console_trail(&app).await;
    let ops: Vec<_> = trail
        .iter()
        .map(|e| (e["operation"].as_str().unwrap(), e["object"].as_str().unwrap()))
        .collect();
    assert_eq!(
        ops,
        [
            ("createClient", "clients/backend"),
            ("createScope", ops[1].1),
            ("revokeSigningKey", "servers/shop"),
            ("rotateSigningKeys", "servers/shop"),
            ("updateAuthorizationServer", "servers/shop"),
            ("createAuthorizationServer", "servers/shop"),
        ],
        "{trail:#?}"
    );
    assert!(ops[1].1.starts_with("scopes/"), "{ops:?}");
    assert!(
        trail
            .iter()
            .all(|e| e["actor"].as_str().unwrap().starts_with("person:")),
        "{trail:#?}"
    );
    assert!(
        !serde_json::to_string(&trail).unwrap().contains(&secret),
        "no secret in the trail"
    );
    // A bad redirect URI is named at its field.
    let r = b
        .post(
            &url(&app, "/servers/shop/clients/backend"),
            &[
                ("csrf_token", &csrf),
                ("client_name", "Shop backend"),
                ("grant_types", "authorization_code"),
                ("redirect_uris", "not a url"),
                ("token_endpoint_auth_method", "client_secret_basic"),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.html);
    assert!(r.html.contains("id=\"redirect_uris-error\""), "{}", r.html);
    // The list filters.
    let list = b.get(&url(&app, "/servers/shop/clients?q=backend")).await;
    assert!(
        list.html.contains("Shop backend") && list.html.contains("1 found"),
        "{}",
        list.html
    );
    let list = b.get(&url(&app, "/servers/shop/clients?q=nothing-like-it")).await;
    assert!(list.html.contains("0 found"), "{}", list.html);

    // A form without the session's CSRF token changes nothing.
    let r = b
        .post(&url(&app, "/servers"), &[("csrf_token", "forged"), ("id", "evil")])
        .await;
    assert_eq!(r.status, 403, "{}", r.html);
    assert_eq!(app.admin(Method::GET, "/servers/evil", None).await.status, 404);

    // Deleting asks first, then ends the client.
    let confirm = b.get(&url(&app, "/servers/shop/clients/backend/delete")).await;
    assert!(confirm.html.contains("Delete client Shop backend?"), "{}", confirm.html);
    let r = b
        .post(
            &url(&app, "/servers/shop/clients/backend/delete"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.html);
    assert_eq!(app.admin(Method::GET, "/clients/backend", None).await.status, 404);

    // The ledger verifies; a policy is tried.
    let r = b.post(&url(&app, "/ledger"), &[("csrf_token", &csrf)]).await;
    assert_eq!(r.status, 200, "{}", r.html);
    assert!(r.html.contains("The ledger is intact"), "{}", r.html);
    // The audit trail: the client's life in it (filtered by object), and its verification.
    let r = b.get(&url(&app, "/audit?object=clients/backend")).await;
    assert_eq!(r.status, 200, "{}", r.html);
    for text in [
        "deleteClient",
        "removed",
        "createClient",
        "created",
        "console, 127.0.0.1",
    ] {
        assert!(r.html.contains(text), "{text}: {}", r.html);
    }
    assert!(
        !r.html.contains("servers/shop"),
        "only the object asked for: {}",
        r.html
    );
    let r = b.get(&url(&app, "/audit?from=soon")).await;
    assert_eq!(r.status, 422, "{}", r.html);
    assert!(r.html.contains("id=\"from-error\""), "{}", r.html);
    let r = b.post(&url(&app, "/audit"), &[("csrf_token", &csrf)]).await;
    assert_eq!(r.status, 200, "{}", r.html);
    assert!(r.html.contains("The audit trail is intact"), "{}", r.html);
    // A service's APIs filter and page like every list.
    let r = app
        .admin(
            Method::POST,
            "/services",
            Some(json!({"id": "items", "name": "Items", "authorization_server_id": "shop"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    for n in 0..22 {
        let r = app
            .admin(
                Method::POST,
                "/apis",
                Some(json!({"service_id": "items", "method": "GET", "path": format!("/items/n{n:02}")})),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let page = b.get(&url(&app, "/services/items")).await;
    assert!(
        page.html.contains("22 found") && page.html.contains("/items/n19"),
        "{}",
        page.html
    );
    assert!(
        !page.html.contains("/items/n20") && page.html.contains("href=\"?page=2\""),
        "{}",
        page.html
    );
    let page = b.get(&url(&app, "/services/items?q=n21")).await;
    assert!(
        page.html.contains("1 found") && page.html.contains("/items/n21"),
        "{}",
        page.html
    );
    // So do a server's login methods (`mq`), apart from its people.
    let page = b.get(&url(&app, "/servers/shop/people?mq=no-such-method")).await;
    assert!(
        page.html.contains("id=\"mq\"") && page.html.contains("0 found"),
        "{}",
        page.html
    );

    // A gateway on shop, and its package.
    let r = b
        .post(
            &url(&app, "/gateways"),
            &[
                ("csrf_token", &csrf),
                ("server", "shop"),
                ("name", "Edge"),
                ("type", "nginx"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.html);
    let list = b.get(&format!("{}{}", app.base, r.location.unwrap())).await;
    assert!(list.html.contains("Edge"), "{}", list.html);
    let gw = app.admin(Method::GET, "/servers/shop/gateways", None).await;
    let gw = gw.body["gateways"][0]["id"].as_str().unwrap().to_owned();
    let pkg = b.get(&url(&app, &format!("/gateways/{gw}/package"))).await;
    assert_eq!(pkg.status, 200);
    assert_eq!(pkg.headers["content-type"], "application/gzip");
    assert!(pkg.headers["content-disposition"].to_str().unwrap().contains(".tar.gz"));

    // Roles: the permissions of one are replaced; one the caller does not hold cannot be granted.
    let roles = b.get(&url(&app, "/roles")).await;
    assert!(
        roles.html.contains("Readers") && roles.html.contains("client.read"),
        "{}",
        roles.html
    );
    let readers = app
        .raw(
            app.http
                .get(format!("{}/v1/roles", app.base))
                .basic_auth(&app.id, Some(&app.secret))
                .header("X-Castellan-Tenant", "default"),
        )
        .await;
    let readers = readers
        .body
        .as_array()
        .or(readers.body["roles"].as_array())
        .unwrap()
        .iter()
        .find(|r| r["name"].as_str().unwrap().starts_with("Readers"))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = b
        .post(
            &url(&app, &format!("/roles/{readers}")),
            &[("csrf_token", &csrf), ("permissions", "client.read scope.read")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.html);
    let roles = b.get(&url(&app, "/roles")).await;
    assert!(roles.html.contains("client.read scope.read"), "{}", roles.html);
    let r = b
        .post(
            &url(&app, &format!("/roles/{readers}")),
            &[("csrf_token", &csrf), ("permissions", "no.such")],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.html);
    assert!(r.html.contains("id=\"perm-error\""), "{}", r.html);

    // People of a server: added with a password (never shown again), refused when taken, removed.
    let r = b
        .post(
            &url(&app, "/servers/shop/people"),
            &[
                ("csrf_token", &csrf),
                ("username", "eve"),
                ("password", "eve-password-1"),
                ("groups", "buyers"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.html);
    let r = b
        .post(
            &url(&app, "/servers/shop/people"),
            &[("csrf_token", &csrf), ("username", "eve"), ("password", "x")],
        )
        .await;
    assert_eq!(r.status, 422, "a second eve: {}", r.html);
    assert!(r.html.contains("id=\"username-error\""), "{}", r.html);
    // The people list filters (and pages, 20 to a page).
    let found = b.get(&url(&app, "/servers/shop/people?q=eve")).await;
    assert!(
        found.html.contains("<td>eve</td>") && found.html.contains("1 found"),
        "{}",
        found.html
    );
    let none = b.get(&url(&app, "/servers/shop/people?q=zzz")).await;
    assert!(
        !none.html.contains("<td>eve</td>") && none.html.contains("0 found"),
        "{}",
        none.html
    );
    let people = b.get(&url(&app, "/servers/shop/people")).await;
    assert!(
        people.html.contains("eve") && people.html.contains("buyers"),
        "{}",
        people.html
    );
    assert!(
        !people.html.contains("eve-password-1") && !people.html.contains("$argon2"),
        "{}",
        people.html
    );
    let methods = app.admin(Method::GET, "/servers/shop", None).await;
    assert_eq!(
        methods.body["authentications"]["methods"][0]["static"]["users"][0]["username"],
        "eve"
    );
    let r = b
        .post(
            &url(&app, "/servers/shop/people/remove"),
            &[("csrf_token", &csrf), ("username", "eve")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.html);
    let methods = app.admin(Method::GET, "/servers/shop", None).await;
    assert_eq!(
        methods.body["authentications"]["methods"][0]["static"]["users"],
        json!([])
    );
    // A sign-in provider: a bad issuer is named at its field and nothing is saved; a good one is
    // listed with the redirect URI to register there, its secret never shown; then removed.
    let r = b
        .post(
            &url(&app, "/servers/shop/providers"),
            &[
                ("csrf_token", &csrf),
                ("form", "provider"),
                ("provider_id", "partner"),
                ("issuer_url", "not a url"),
                ("client_id", "castellan"),
                ("client_secret", "provider-secret-0123456789"),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.html);
    assert!(r.html.contains("id=\"issuer_url-error\""), "{}", r.html);
    assert!(
        !r.html.contains("provider-secret-0123456789"),
        "the secret is not written back"
    );
    let shop = app.admin(Method::GET, "/servers/shop", None).await;
    assert!(!shop.body.to_string().contains("partner"), "nothing saved");
    let r = b
        .post(
            &url(&app, "/servers/shop/providers"),
            &[
                ("csrf_token", &csrf),
                ("form", "provider"),
                ("provider_id", "partner"),
                ("provider_name", "Partner"),
                ("issuer_url", "https://id.partner.example"),
                ("client_id", "castellan"),
                ("client_secret", "provider-secret-0123456789"),
                ("scopes", "email profile"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.html);
    let page = b.get(&url(&app, "/servers/shop/people?done=provider-added")).await;
    assert!(page.html.contains("https://id.partner.example"), "{}", page.html);
    assert!(page.html.contains("/default/shop/login/callback"), "{}", page.html);
    assert!(!page.html.contains("provider-secret-0123456789"));
    let shop = app.admin(Method::GET, "/servers/shop", None).await;
    let partner = shop.body["authentications"]["methods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "partner")
        .cloned()
        .unwrap();
    assert_eq!(partner["oidc"]["scopes"], json!(["email", "profile"]));
    let r = b
        .post(
            &url(&app, "/servers/shop/providers"),
            &[("csrf_token", &csrf), ("form", "provider"), ("provider_id", "partner")],
        )
        .await;
    assert_eq!(r.status, 422, "a second method of that id: {}", r.html);
    assert!(r.html.contains("id=\"provider_id-error\""), "{}", r.html);
    let r = b
        .post(
            &url(&app, "/servers/shop/methods/partner/remove"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.html);
    let shop = app.admin(Method::GET, "/servers/shop", None).await;
    assert!(!shop.body.to_string().contains("partner"));
    // The other kinds: Microsoft Entra ID with mappings and attributes, Amazon Cognito (a missing
    // region is named at its field), an external login page; a mapping line that is not one is
    // named at the mappings field. Nothing refused is saved.
    let provider = |fields: Vec<(&'static str, &'static str)>| {
        let mut all = vec![("csrf_token", csrf.clone()), ("form", "provider".to_owned())];
        all.extend(fields.into_iter().map(|(k, v)| (k, v.to_owned())));
        all
    };
    let post = |fields: Vec<(&'static str, String)>| {
        let b = &b;
        let to = url(&app, "/servers/shop/providers");
        async move {
            let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            b.post(&to, &pairs).await
        }
    };
    let r = post(provider(vec![
        ("kind", "azure"),
        ("provider_id", "entra"),
        ("provider_name", "Contoso"),
        ("azure_tenant", "contoso.onmicrosoft.com"),
        ("client_id", "castellan-at-contoso"),
        ("client_secret", "entra-secret-0123456789"),
        ("mappings", "id_token.groups groups string_array\nid_token.email email"),
        ("attributes", "groups The person's directory groups"),
    ]))
    .await;
    assert_eq!(r.status, 303, "{}", r.html);
    let r = post(provider(vec![
        ("kind", "cognito"),
        ("provider_id", "pool"),
        ("client_id", "castellan-at-pool"),
        ("pool_id", "eu-west-1_abc"),
    ]))
    .await;
    assert_eq!(r.status, 422, "{}", r.html);
    assert!(r.html.contains("id=\"region-error\""), "{}", r.html);
    assert!(
        r.html
            .contains("id=\"kind-cognito\" name=\"kind\" value=\"cognito\" checked"),
        "the kind stays chosen: {}",
        r.html
    );
    let r = post(provider(vec![
        ("kind", "cognito"),
        ("provider_id", "pool"),
        ("client_id", "castellan-at-pool"),
        ("region", "eu-west-1"),
        ("pool_id", "eu-west-1_abc"),
        ("get_user_info", "on"),
    ]))
    .await;
    assert_eq!(r.status, 303, "{}", r.html);
    let r = post(provider(vec![
        ("kind", "custom"),
        ("provider_id", "corp"),
        ("login_url", "https://login.corp.example/start"),
        ("client_secret", "corp-secret-0123456789"),
        ("mappings", "one-word-only"),
    ]))
    .await;
    assert_eq!(r.status, 422, "{}", r.html);
    assert!(r.html.contains("id=\"mappings-error\""), "{}", r.html);
    let r = post(provider(vec![
        ("kind", "custom"),
        ("provider_id", "corp"),
        ("login_url", "https://login.corp.example/start"),
        ("client_secret", "corp-secret-0123456789"),
    ]))
    .await;
    assert_eq!(r.status, 303, "{}", r.html);
    let page = b.get(&url(&app, "/servers/shop/people")).await;
    for text in [
        "contoso.onmicrosoft.com",
        "2 mapping(s)",
        "eu-west-1_abc",
        "https://login.corp.example/start",
    ] {
        assert!(page.html.contains(text), "{text}: {}", page.html);
    }
    for secret in ["entra-secret-0123456789", "corp-secret-0123456789"] {
        assert!(!page.html.contains(secret), "no secret written back");
    }
    let shop = app.admin(Method::GET, "/servers/shop", None).await;
    let method = |id: &str| {
        shop.body["authentications"]["methods"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("{id} in {}", shop.body))
    };
    let entra = method("entra");
    assert_eq!(
        (entra["method"].clone(), entra["azure"]["tenant"].clone()),
        (json!("azure"), json!("contoso.onmicrosoft.com"))
    );
    assert_eq!(
        entra["mappings"],
        json!([{"source": "id_token.groups", "target": "groups", "type": "string_array"},
               {"source": "id_token.email", "target": "email", "type": "any"}])
    );
    assert_eq!(entra["attributes"][0]["name"], "groups");
    assert_eq!(method("pool")["cognito"]["region"], "eu-west-1");
    assert_eq!(method("pool")["cognito"]["get_user_info"], true);
    assert_eq!(
        method("corp")["custom"]["login_url"],
        "https://login.corp.example/start"
    );
    for id in ["entra", "pool", "corp"] {
        let r = b
            .post(
                &url(&app, &format!("/servers/shop/methods/{id}/remove")),
                &[("csrf_token", &csrf)],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.html);
    }
    // The admin server's people yield system permissions on this (the system) tenant: a person
    // holding `*` is refused, in words, and nothing changes.
    let r = b
        .post(
            &url(&app, "/servers/admin/people"),
            &[
                ("csrf_token", &csrf),
                ("username", "mallory"),
                ("password", "mallory-password-1"),
                ("groups", "admins"),
            ],
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.html);
    assert!(r.html.contains("system.write"), "{}", r.html);
    let admin = app.admin(Method::GET, "/servers/admin", None).await;
    assert!(!admin.body.to_string().contains("mallory"));

    // Claims and consents.
    let r = b
        .post(
            &url(&app, "/servers/shop/claims"),
            &[
                ("csrf_token", &csrf),
                ("name", "dept"),
                ("mapping", "dept"),
                ("type", "access_token"),
                ("scopes", "orders.read"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.html);
    let claims = app.admin(Method::GET, "/servers/shop/claims", None).await;
    let claim = claims.body["claims"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "dept")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = b
        .post(
            &url(&app, &format!("/servers/shop/claims/{claim}/delete")),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.html);
    let r = b
        .post(
            &url(&app, "/consents"),
            &[
                ("csrf_token", &csrf),
                ("id", "marketing"),
                ("name", "Marketing e-mails"),
                ("update_existing_grants", "keepCurrent"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.html);
    let page = b.get(&url(&app, "/consents")).await;
    assert!(page.html.contains("Marketing e-mails"), "{}", page.html);
    let r = b
        .post(
            &url(&app, "/consents"),
            &[
                ("csrf_token", &csrf),
                ("id", "Not an id!"),
                ("name", "x"),
                ("update_existing_grants", "keepCurrent"),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.html);
    assert!(r.html.contains("id=\"id-error\""), "{}", r.html);
    // A consent action grouping it (required); an unknown consent is named, nothing is saved.
    let r = b
        .post(
            &url(&app, "/actions"),
            &[
                ("csrf_token", &csrf),
                ("id", "signup"),
                ("name", "shop_signup"),
                ("consents", "marketing"),
                ("required", "marketing"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.html);
    let action = app.admin(Method::GET, "/actions/signup", None).await;
    assert_eq!(action.status, 200, "{}", action.body);
    assert_eq!(action.body["consents"][0]["id"], "marketing");
    assert_eq!(action.body["consents"][0]["required"], true);
    let actions_page = b.get(&url(&app, "/consents")).await;
    assert!(
        actions_page.html.contains("marketing (required)"),
        "{}",
        actions_page.html
    );
    let r = b
        .post(
            &url(&app, "/actions"),
            &[
                ("csrf_token", &csrf),
                ("id", "other"),
                ("name", "other"),
                ("consents", "nope"),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.html);
    assert!(r.html.contains("nope"), "{}", r.html);
    assert_eq!(app.admin(Method::GET, "/actions/other", None).await.status, 404);
    let r = b
        .post(&url(&app, "/actions/signup/delete"), &[("csrf_token", &csrf)])
        .await;
    assert_eq!(r.status, 303, "{}", r.html);
    assert_eq!(app.admin(Method::GET, "/actions/signup", None).await.status, 404);
    // Consent actions have their own filter and pages (`aq`, `apage`), which keep the consents'.
    for n in 0..23 {
        let r = app
            .admin(
                Method::POST,
                "/actions",
                Some(json!({"id": format!("step-{n:02}"), "name": format!("step_{n:02}"),
                            "consents": [{"id": "marketing", "required": false}]})),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let page = b.get(&url(&app, "/consents")).await;
    assert!(
        page.html.contains("23 found") && page.html.contains("Pages of consent actions"),
        "{}",
        page.html
    );
    assert!(
        page.html.contains("step-19") && !page.html.contains("step-20"),
        "{}",
        page.html
    );
    assert!(page.html.contains("href=\"?apage=2\""), "{}", page.html);
    let page = b.get(&url(&app, "/consents?q=market&apage=2")).await;
    assert!(
        page.html.contains("step-22") && !page.html.contains("step-19"),
        "{}",
        page.html
    );
    assert!(
        page.html.contains("href=\"?q=market&#38;apage=1\""),
        "the other list's filter is kept: {}",
        page.html
    );
    let page = b.get(&url(&app, "/consents?aq=step-07")).await;
    assert!(
        page.html.contains("step-07") && page.html.contains("1 found") && !page.html.contains("step-08"),
        "{}",
        page.html
    );
    // The roles list filters too.
    let roles = b.get(&url(&app, "/roles?q=zzz-no-such-role")).await;
    assert!(roles.html.contains("0 found"), "{}", roles.html);
    // Tenants are for system administrators: `*` does not reach them.
    assert!(!page.html.contains(">Tenants<"), "{}", page.html);
    assert_eq!(b.get(&url(&app, "/tenants")).await.status, 403);

    // A role of its own, a group mapped to it and unmapped; an admin client mapped to fewer
    // permissions.
    let r = b
        .post(
            &url(&app, "/roles"),
            &[
                ("csrf_token", &csrf),
                ("product_name", "Billing"),
                ("audience", "https://billing.example"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.html);
    let nexus = app
        .raw(
            app.http
                .get(format!("{}/v1/roles", app.base))
                .basic_auth(&app.id, Some(&app.secret))
                .header("X-Castellan-Tenant", "default"),
        )
        .await;
    let billing = nexus
        .body
        .as_array()
        .or(nexus.body["roles"].as_array())
        .unwrap()
        .iter()
        .find(|r| r["name"].as_str().unwrap().starts_with("Billing"))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = b
        .post(
            &url(&app, &format!("/roles/{billing}/groups")),
            &[("csrf_token", &csrf), ("group", "accountants")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.html);
    assert!(b.get(&url(&app, "/roles")).await.html.contains("accountants"));
    let r = b
        .post(
            &url(&app, &format!("/roles/{billing}/groups/remove")),
            &[("csrf_token", &csrf), ("group", "accountants")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.html);
    assert!(!b.get(&url(&app, "/roles")).await.html.contains("accountants"));
    let r = b
        .post(
            &url(&app, "/sts-clients"),
            &[
                ("csrf_token", &csrf),
                ("clientId", "reporting"),
                ("permissions", "client.read"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.html);
    assert!(b.get(&url(&app, "/sts-clients")).await.html.contains("reporting"));
    // Removing it would hand the client the system permissions back, which `*` does not hold.
    let r = b
        .post(&url(&app, "/sts-clients/reporting/delete"), &[("csrf_token", &csrf)])
        .await;
    assert_eq!(r.status, 403, "{}", r.html);
    assert!(r.html.contains("system.write"), "{}", r.html);
    assert!(b.get(&url(&app, "/sts-clients")).await.html.contains("reporting"));

    // Signing out ends the console session and goes through the admin server's logout.
    let r = b.post(&url(&app, "/sign-out"), &[("csrf_token", &csrf)]).await;
    assert_eq!(r.status, 303, "{}", r.html);
    let logout = r.location.unwrap();
    assert!(logout.starts_with("/default/admin/logout?"), "{logout}");
    let after = b.get(&url(&app, "/servers")).await;
    assert_eq!(after.status, 303, "the session is gone");
    assert!(after.location.unwrap().contains("/sign-in"));
}

#[tokio::test]
async fn a_reader_sees_clients_without_controls_and_a_crafted_post_is_refused_in_words() {
    let app = spawn_app().await;
    console_people(&app).await;
    let b = Browser::new();
    let (page, _) = console_sign_in(
        &app,
        &b,
        "/console/default/servers/default/clients",
        "reader",
        "reader-password-1",
    )
    .await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(page.html.contains("Clients of default"), "{}", page.html);
    assert!(!page.html.contains("New client"), "{}", page.html);
    let csrf = field(&page.html, "csrf_token");
    // The servers need server.read: refused in words, and the navigation does not offer them.
    assert!(!page.html.contains(">Servers, clients and scopes<"), "{}", page.html);
    let r = b.get(&url(&app, "/servers")).await;
    assert_eq!(r.status, 403, "{}", r.html);
    assert!(r.html.contains("server.read"), "{}", r.html);
    // Their start page offers what they may open.
    let r = b.get(&url(&app, "/")).await;
    assert_eq!(r.status, 200, "{}", r.html);
    assert!(
        r.html.contains("Open its clients") && !r.html.contains("Create a server"),
        "{}",
        r.html
    );
    // A client page has no save or delete button.
    let r = app
        .admin(Method::POST, "/clients", Some(json!({"client_id": "app", "authorization_server_id": "default", "grant_types": ["client_credentials"]})))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let c = b.get(&url(&app, "/servers/default/clients/app")).await;
    assert_eq!(c.status, 200, "{}", c.html);
    assert!(
        !c.html.contains("Save client") && !c.html.contains("Delete client"),
        "{}",
        c.html
    );
    assert!(c.html.contains("<fieldset disabled>"), "{}", c.html);
    // Crafted POSTs with a valid CSRF token: refused with the permission named, nothing changed.
    let r = b
        .post(
            &url(&app, "/servers/default/clients/new"),
            &[
                ("csrf_token", &csrf),
                ("client_id", "sneaky"),
                ("grant_types", "client_credentials"),
            ],
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.html);
    assert!(
        r.html.contains("You may not do this") && r.html.contains("client.write"),
        "{}",
        r.html
    );
    assert_eq!(app.admin(Method::GET, "/clients/sneaky", None).await.status, 404);
    let r = b
        .post(
            &url(&app, "/servers/default/clients/app/delete"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.html);
    assert_eq!(app.admin(Method::GET, "/clients/app", None).await.status, 200);
    // Roles are not theirs to read, let alone change.
    assert!(!page.html.contains(">Roles<"), "{}", page.html);
    let r = b.get(&url(&app, "/roles")).await;
    assert_eq!(r.status, 403, "{}", r.html);
    let r = b
        .post(
            &url(&app, "/roles/anything"),
            &[("csrf_token", &csrf), ("permissions", "*")],
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.html);
    assert!(
        console_trail(&app).await.is_empty(),
        "refused posts leave no trace in the audit trail"
    );
    // Nor is the trail theirs to read.
    assert!(!page.html.contains(">Audit trail<"), "{}", page.html);
    assert_eq!(b.get(&url(&app, "/audit")).await.status, 403);
}

#[tokio::test]
async fn a_console_session_is_good_for_its_own_tenant_only() {
    let app = spawn_app().await;
    console_people(&app).await;
    let r = app
        .call(
            Method::POST,
            "/api/system/tenants",
            Some(json!({"id": "other"})),
            Some((&app.id, &app.secret)),
        )
        .await;
    assert!(r.status == 201 || r.status == 403, "{}", r.body);
    let b = Browser::new();
    let (home, session) = console_sign_in(&app, &b, "/console/default/", "root", "root-password-1").await;
    assert_eq!(home.status, 200);
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let by_hand = |path: &str, cookie: &str| {
        plain
            .get(format!("{}{path}", app.base))
            .header("cookie", cookie.to_owned())
    };
    // The cookie works where it was given...
    assert_eq!(app.raw(by_hand("/console/default/servers", &session)).await.status, 200);
    // ...and, replayed by hand on another tenant's console, opens nothing (sealed for its tenant).
    let r = app.raw(by_hand("/console/other/servers", &session)).await;
    assert_eq!(r.status, 303);
    // A tampered cookie opens nothing either.
    let mut tampered = session.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    assert_eq!(
        app.raw(by_hand("/console/default/servers", &tampered)).await.status,
        303
    );
    // The callback refuses a code without the sign-in it belongs to.
    let r = app
        .raw(plain.get(format!("{}/console/default/callback?code=x&state=y", app.base)))
        .await;
    assert_eq!(r.status, 400);
    // The console's client is Castellan's: no API changes where its codes go, or deletes it.
    let r = app
        .admin(
            Method::PUT,
            "/clients/console",
            Some(json!({"redirect_uris": ["https://evil.example/cb"]})),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let r = app.admin(Method::DELETE, "/clients/console", None).await;
    assert_eq!(r.status, 400, "{}", r.body);
    let c = app.admin(Method::GET, "/clients/console", None).await;
    assert_eq!(
        c.body["redirect_uris"],
        json!([format!("{}/console/default/callback", app.base)])
    );
    assert_eq!(c.body["public"], true);
    // A console for a tenant that does not exist says so.
    let r = app.raw(plain.get(format!("{}/console/nosuch/sign-in", app.base))).await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn a_system_administrator_creates_a_tenant_in_the_console() {
    let app = spawn_app().await;
    console_people(&app).await;
    let b = Browser::new();
    let (page, _) = console_sign_in(&app, &b, "/console/default/tenants", "ops", "ops-password-1").await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(page.html.contains("/console/default/"), "{}", page.html);
    let csrf = field(&page.html, "csrf_token");
    let r = b
        .post(
            &url(&app, "/tenants"),
            &[("csrf_token", &csrf), ("id", "acme"), ("name", "Acme")],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.html);
    let marker = "<code id=\"tenant-client-secret\">";
    let start = r.html.find(marker).expect("the secret is shown") + marker.len();
    let secret = r.html[start..start + r.html[start..].find('<').unwrap()].to_owned();
    let servers = app
        .raw(
            app.http
                .get(format!("{}/api/admin/acme/servers", app.base))
                .basic_auth("bootstrap", Some(&secret)),
        )
        .await;
    assert_eq!(servers.status, 200, "{}", servers.body);
    let list = b.get(&url(&app, "/tenants")).await;
    assert!(
        list.html.contains("Acme") && !list.html.contains(&secret),
        "{}",
        list.html
    );
    // Taken: named at the id field.
    let r = b
        .post(&url(&app, "/tenants"), &[("csrf_token", &csrf), ("id", "acme")])
        .await;
    assert_eq!(r.status, 422, "{}", r.html);
    assert!(r.html.contains("id=\"id-error\""), "{}", r.html);
    // Deleting asks first; the system tenant cannot be deleted.
    let confirm = b.get(&url(&app, "/tenants/acme/delete")).await;
    assert!(confirm.html.contains("Delete tenant acme?"), "{}", confirm.html);
    let r = b
        .post(&url(&app, "/tenants/acme/delete"), &[("csrf_token", &csrf)])
        .await;
    assert_eq!(r.status, 303, "{}", r.html);
    let gone = app
        .raw(
            app.http
                .get(format!("{}/api/admin/acme/servers", app.base))
                .basic_auth("bootstrap", Some(&secret)),
        )
        .await;
    assert_eq!(gone.status, 401, "{}", gone.body);
    let r = b
        .post(&url(&app, "/tenants/default/delete"), &[("csrf_token", &csrf)])
        .await;
    assert_eq!(r.status, 409, "{}", r.html);
}
