//! No escalation: nobody obtains, through any operation, a credential that holds a permission
//! they do not hold. For each single permission P, a credential holding only P tries every way
//! this suite knows to obtain another credential — reading admin clients' secrets, creating or
//! re-keying admin clients, importing a signing key into the admin server, adding a person to
//! the admin server's users, a gateway on the admin server, widening or removing its own STS
//! mapping, a client with the `manage_consents` scope — and every credential it ends up able to
//! use must hold a subset of {P}.

use std::collections::BTreeSet;

use castellan_domain::SigningAlg;
use castellan_jose::{jwt, keys};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;
use crate::permissions::{Cred, Op, all_codes, call, management_ops, map, password_token};
use crate::servers::test_keys;
use crate::tokens::{client, form, issuer};

/// A credential the attacker can use, as it would present it.
#[derive(Debug, Clone)]
enum Obtained {
    Basic(String, String),
    Bearer(String),
}

impl Obtained {
    fn cred(&self) -> Cred<'_> {
        match self {
            Obtained::Basic(id, s) => Cred::Basic(id, s),
            Obtained::Bearer(t) => Cred::Bearer(t),
        }
    }
}

/// What `cred` holds: the permission of every management operation (all families, the privacy
/// API included) that does not answer it 401 or 403.
async fn held_by(app: &TestApp, ops: &[Op], cred: Cred<'_>) -> BTreeSet<String> {
    let mut held = BTreeSet::new();
    for op in ops {
        if held.contains(&op.permission) {
            continue;
        }
        let r = call(app, cred, op.method.clone(), &op.path, Some(json!({}))).await;
        if r.status != StatusCode::FORBIDDEN && r.status != StatusCode::UNAUTHORIZED {
            held.insert(op.permission.clone());
        }
    }
    held
}

async fn client_credentials(app: &TestApp, server: &str, id: &str, secret: &str) -> Option<String> {
    let r = form(
        app,
        &format!("{}/oauth2/token", issuer(app, server)),
        Some((id, secret)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    (r.status == 200).then(|| r.body["access_token"].as_str().unwrap().to_owned())
}

/// Lets the admin server sign people in with the password grant.
async fn admin_password_grant(app: &TestApp) {
    let r = app
        .admin(
            Method::PUT,
            "/servers/admin",
            Some(json!({"grant_types": ["client_credentials", "authorization_code", "refresh_token", "password"]})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

/// The tenant as an operator set it up: a role holding `*` for the group `admins`; the admin
/// server signs people in with a password through `console`, an app whose secret is not a
/// secret to anyone (its STS mapping grants nothing); the default server has the
/// `manage_consents` scope.
async fn tenant(app: &TestApp) -> String {
    let boot = Cred::Basic(&app.id, &app.secret);
    let r = call(
        app,
        boot,
        Method::POST,
        "/v1/roles",
        Some(json!({"audience": "https://admin.example.com", "productName": "Root"})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let role = r.body["id"].as_str().unwrap().to_owned();
    let r = call(
        app,
        boot,
        Method::PUT,
        &format!("/v1/roles/{role}"),
        Some(json!({"permissions": "*"})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = call(
        app,
        boot,
        Method::POST,
        &format!("/v1/roles/{role}/connection-maps"),
        Some(json!({"groupName": "admins", "name": "admins"})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    admin_password_grant(app).await;
    let console = client(
        app,
        json!({"client_id": "console", "authorization_server_id": "admin", "grant_types": ["password"]}),
    )
    .await;
    map(app, "console", "").await;
    let r = app
        .admin(
            Method::POST,
            "/scopes",
            Some(json!({"name": "manage_consents", "authorization_server_id": "default"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    console["client_secret"].as_str().unwrap().to_owned()
}

/// Every attack of a credential `cred`; returns what it obtained.
async fn attacks(app: &TestApp, cred: Cred<'_>, console_secret: &str) -> Vec<(&'static str, Obtained)> {
    let mut got = Vec::new();
    let secret_of = |body: &Value| {
        body["client_secret"]
            .as_str()
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };

    // Reading admin clients' secrets.
    let r = call(app, cred, Method::GET, "/api/admin/default/clients/bootstrap", None).await;
    if let Some(s) = secret_of(&r.body) {
        got.push(("read the bootstrap's secret", Obtained::Basic("bootstrap".into(), s)));
    }
    let r = call(app, cred, Method::GET, "/api/admin/default/servers/admin/clients", None).await;
    for c in r.body["clients"].as_array().into_iter().flatten() {
        if let Some(s) = secret_of(c) {
            let id = c["client_id"].as_str().unwrap().to_owned();
            got.push(("listed an admin client's secret", Obtained::Basic(id, s)));
        }
    }

    // Creating an admin client.
    let r = call(
        app,
        cred,
        Method::POST,
        "/api/admin/default/clients",
        Some(json!({"client_id": "minted", "authorization_server_id": "admin", "grant_types": ["client_credentials"]})),
    )
    .await;
    if let Some(s) = secret_of(&r.body) {
        got.push(("created an admin client", Obtained::Basic("minted".into(), s)));
    }
    // Importing a signing key into the admin server, then signing a token for the bootstrap.
    let ec = test_keys()["ec"].clone();
    let r = call(
        app,
        cred,
        Method::PUT,
        "/api/admin/default/servers/admin",
        Some(json!({"jwks": {"keys": [ec.clone()]}})),
    )
    .await;
    if r.status == 200 {
        let jwk: castellan_types::Jwk = serde_json::from_value(ec).unwrap();
        let imported = keys::import_private_jwk(&jwk, SigningAlg::ES256).unwrap();
        let key = keys::LoadedKey::from_pkcs8(SigningAlg::ES256, &imported.pkcs8).unwrap();
        let kid = r.body["jwks"]["keys"][0]["kid"].as_str().unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let claims = json!({"iss": issuer(app, "admin"), "sub": "bootstrap", "aud": ["bootstrap"],
            "client_id": "bootstrap", "exp": now + 600, "iat": now, "nbf": now, "jti": "forged",
            "tid": "default", "aid": "admin", "gty": "client_credentials"});
        let header = jwt::encode_header(SigningAlg::ES256, kid, "at+jwt");
        let token = jwt::sign(&key, &header, &claims).unwrap();
        got.push(("signed with an imported admin key", Obtained::Bearer(token)));
    }

    // A person of its own making in the admin server's users, in the group of the `*` role.
    let r = call(
        app,
        cred,
        Method::PUT,
        "/api/admin/default/servers/admin/authentications",
        Some(json!({"methods": [{"method": "static", "static": {"users": [
            {"username": "mallory", "password": "mallory-password-1", "authentication_context": {"groups": ["admins"]}}]}}]})),
    )
    .await;
    if r.status == 200 {
        let token = password_token(app, console_secret, "mallory", "mallory-password-1").await;
        got.push(("signed in as a person it added", Obtained::Bearer(token)));
    }

    // A gateway of the admin server: its client is an admin client.
    let r = call(
        app,
        cred,
        Method::POST,
        "/api/admin/default/gateways",
        Some(json!({"id": "edge", "name": "Edge", "server_id": "admin", "type": "nginx"})),
    )
    .await;
    if let Some(s) = secret_of(&r.body["client"]) {
        let id = r.body["client"]["client_id"].as_str().unwrap().to_owned();
        got.push(("made a gateway of the admin server", Obtained::Basic(id, s)));
    }

    // A client of another server with the scope that acts for every privacy subject, and one
    // without it (a client's own token acts for no subject).
    for (id, scopes) in [("consents-bot", json!(["manage_consents"])), ("plain-bot", json!([]))] {
        let r = call(
            app,
            cred,
            Method::POST,
            "/api/admin/default/clients",
            Some(json!({"client_id": id, "authorization_server_id": "default",
                        "grant_types": ["client_credentials"], "scopes": scopes})),
        )
        .await;
        if let Some(s) = secret_of(&r.body)
            && let Some(t) = client_credentials(app, "default", id, &s).await
        {
            got.push(("a client of another server", Obtained::Bearer(t)));
        }
    }

    // Re-keying the bootstrap (last: it locks the bootstrap's owner out).
    let taken = "taken-over-secret-0123456789abcdef";
    let r = call(
        app,
        cred,
        Method::PUT,
        "/api/admin/default/clients/bootstrap",
        Some(json!({"client_secret": taken})),
    )
    .await;
    if r.status == 200 {
        got.push((
            "re-keyed the bootstrap",
            Obtained::Basic("bootstrap".into(), taken.into()),
        ));
    }

    // Its own STS mapping: widened, or removed (an unmapped admin client holds `*`).
    let r = call(
        app,
        cred,
        Method::PUT,
        "/v1/sts-clients/probe",
        Some(json!({"permissions": "*"})),
    )
    .await;
    if r.status == 200 {
        got.push(("widened its own mapping", Obtained::Basic(String::new(), String::new())));
    }
    let r = call(app, cred, Method::DELETE, "/v1/sts-clients/probe", None).await;
    if r.status == 204 {
        got.push(("removed its own mapping", Obtained::Basic(String::new(), String::new())));
    }
    got
}

#[tokio::test]
async fn no_single_permission_leads_to_another() {
    let ops = management_ops();
    for code in all_codes() {
        let app = spawn_app().await;
        let console_secret = tenant(&app).await;
        let secret = crate::permissions::admin_client(&app, "probe").await;
        map(&app, "probe", &code).await;
        let probe = Obtained::Basic("probe".into(), secret);
        let allowed: BTreeSet<String> = BTreeSet::from([code.clone()]);
        // The measure works: the probe holds exactly its permission, where an operation needs it.
        let held = held_by(&app, &ops, probe.cred()).await;
        let served = ops.iter().any(|o| o.permission == code);
        assert_eq!(held, if served { allowed.clone() } else { BTreeSet::new() }, "{code}");

        let mut got = attacks(&app, probe.cred(), &console_secret).await;
        for (_, o) in &mut got {
            // The mapping attacks change what the probe itself holds.
            if matches!(o, Obtained::Basic(id, _) if id.is_empty()) {
                *o = probe.clone();
            }
        }
        got.push(("itself, after every attack", probe.clone()));
        for (how, o) in &got {
            let held = held_by(&app, &ops, o.cred()).await;
            assert!(
                held.is_subset(&allowed),
                "holding only {code}, it {how} and obtained a credential holding {held:?}"
            );
        }
    }
}

/// The operator's side of the rule: a caller holding everything an admin credential holds may
/// still do each of those things.
#[tokio::test]
async fn a_caller_holding_everything_may_still_manage_the_admin_server() {
    let app = spawn_app().await;
    let console_secret = tenant(&app).await;
    let boot = Cred::Basic(&app.id, &app.secret);
    let got = attacks(&app, boot, &console_secret).await;
    let hows: BTreeSet<&str> = got.iter().map(|(how, _)| *how).collect();
    for how in [
        "read the bootstrap's secret",
        "created an admin client",
        "re-keyed the bootstrap",
        "signed with an imported admin key",
        "signed in as a person it added",
        "a client of another server",
    ] {
        assert!(hows.contains(how), "the bootstrap could not: {how} ({hows:?})");
    }
}

/// A person is told from a client by how their token was issued, never by names (RFC 9068 §5): a
/// person whose username is the id of the confidential client they sign in through holds their
/// own roles, not the client's `*`; a client whose id is a person's username does not act as
/// that person on the privacy API.
#[tokio::test]
async fn a_shared_name_does_not_make_a_person_a_client_or_a_client_a_person() {
    let app = spawn_app().await;
    admin_password_grant(&app).await;
    let r = app
        .admin(
            Method::PUT,
            "/servers/admin/authentications",
            Some(json!({"methods": [{"method": "static", "static": {"users": [
                {"username": "console", "password": "console-person-pw-1"}]}}]})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let console = client(
        &app,
        json!({"client_id": "console", "authorization_server_id": "admin",
               "grant_types": ["password", "client_credentials"]}),
    )
    .await;
    let secret = console["client_secret"].as_str().unwrap();
    let person = password_token(&app, secret, "console", "console-person-pw-1").await;
    let claims = crate::flows::jwt_claims(&person);
    assert_eq!(
        (claims["sub"].as_str(), claims["client_id"].as_str()),
        (Some("console"), Some("console"))
    );
    assert!(claims.get("gty").is_none(), "{claims}");
    let r = call(
        &app,
        Cred::Bearer(&person),
        Method::GET,
        "/api/admin/default/tenant",
        None,
    )
    .await;
    assert_api_error(&r, 403);
    // The client's own token is the client's.
    let own = client_credentials(&app, "admin", "console", secret).await.unwrap();
    assert_eq!(crate::flows::jwt_claims(&own)["gty"], "client_credentials");
    let r = call(&app, Cred::Bearer(&own), Method::GET, "/api/admin/default/tenant", None).await;
    assert_eq!(r.status, 200, "{}", r.body);

    // A client named like a privacy subject.
    let pat = client(&app, json!({"client_id": "pat", "grant_types": ["client_credentials"]})).await;
    let token = client_credentials(&app, "default", "pat", pat["client_secret"].as_str().unwrap())
        .await
        .unwrap();
    let r = call(
        &app,
        Cred::Bearer(&token),
        Method::GET,
        "/api/privacy/default/subjects/pat/consents",
        None,
    )
    .await;
    assert_api_error(&r, 403);
}
