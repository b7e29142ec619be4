//! The admin audit trail: every management write of every family appends exactly one signed,
//! chained event (who, which operation on which object, from where, digests before and after,
//! never a secret); refused and failed writes append none; listing filters and pages; tampering
//! with a stored event is found at that event, online and offline.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::permissions::{admin_client, map};
use crate::privacy::{consent, privacy, tamper};

/// The trail's events, newest first (`query` appended to `/audit`).
async fn audit(app: &TestApp, query: &str) -> Vec<Value> {
    let r = app.admin(Method::GET, &format!("/audit{query}"), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["events"].as_array().unwrap().clone()
}

async fn count(app: &TestApp) -> usize {
    audit(app, "?limit=1000").await.len()
}

/// Runs `write` and asserts it appended exactly one event, which it returns.
async fn one_event(app: &TestApp, what: &str, write: impl std::future::Future<Output = Resp>) -> Value {
    let before = count(app).await;
    let r = write.await;
    assert!(r.status.is_success(), "{what}: {} {}", r.status, r.body);
    let events = audit(app, "?limit=1000").await;
    assert_eq!(events.len(), before + 1, "{what} appends one event: {events:#?}");
    events[0].clone()
}

fn assert_event(e: &Value, operation: &str, object: &str, actor: &str) {
    assert_eq!(e["operation"], operation, "{e:#}");
    assert_eq!(e["object"], object, "{e:#}");
    assert_eq!(e["actor"], actor, "{e:#}");
    assert_eq!(e["payload"]["operation"], operation, "{e:#}");
    assert_eq!(e["payload"]["object"], object, "{e:#}");
    assert_eq!(e["payload"]["actor"], actor, "{e:#}");
    assert_eq!(e["payload"]["tenant_id"], "default", "{e:#}");
    assert!(e["date"].as_str().unwrap().ends_with('Z'), "{e:#}");
    assert_eq!(e["payload_signature"].as_str().unwrap().split('.').count(), 3);
}

async fn verify(app: &TestApp) -> Value {
    let r = app.admin(Method::GET, "/audit/verify", None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let offline = castellan::verify_audit(&app.cfg, "default").await.unwrap();
    assert_eq!(
        serde_json::to_value(&offline).unwrap(),
        r.body,
        "online and offline agree"
    );
    r.body
}

#[tokio::test]
async fn each_write_family_appends_one_event_and_refused_writes_none() {
    let app = spawn_app().await;
    let boot = "client:bootstrap";
    let basic = Some((app.id.as_str(), app.secret.as_str()));

    // Admin API: a server created (nothing before), changed (before = the last after), keys rotated.
    let e = one_event(
        &app,
        "createAuthorizationServer",
        app.admin(Method::POST, "/servers", Some(json!({"id": "aud", "name": "Audited"}))),
    )
    .await;
    assert_event(&e, "createAuthorizationServer", "servers/aud", boot);
    assert_eq!(e["payload"]["via"], "api");
    assert_eq!(e["payload"]["request"]["method"], "POST");
    assert_eq!(e["payload"]["request"]["path"], "/api/admin/default/servers");
    assert_eq!(e["payload"]["request"]["status"], 201);
    assert_eq!(e["payload"]["before"], Value::Null);
    assert!(e["payload"]["from"]["address"].as_str().is_some(), "{e:#}");
    let created = e["payload"]["after"].as_str().unwrap().to_owned();
    let e = one_event(
        &app,
        "updateAuthorizationServer",
        app.admin(Method::PUT, "/servers/aud", Some(json!({"name": "Audited twice"}))),
    )
    .await;
    assert_event(&e, "updateAuthorizationServer", "servers/aud", boot);
    assert_eq!(e["payload"]["before"], created.as_str());
    assert_ne!(e["payload"]["after"], created.as_str(), "the name changed");
    let e = one_event(
        &app,
        "rotateSigningKeys",
        app.admin(Method::POST, "/servers/aud/keys/rotate", None),
    )
    .await;
    assert_event(&e, "rotateSigningKeys", "servers/aud", boot);
    assert_ne!(e["payload"]["before"], e["payload"]["after"], "a next key was added");

    // A client: its secret is in the answer, never in the trail.
    let r = app
        .admin(
            Method::POST,
            "/clients",
            Some(json!({"client_id": "aud-app", "authorization_server_id": "aud",
                        "grant_types": ["client_credentials"]})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let secret = r.body["client_secret"].as_str().unwrap().to_owned();
    let e = &audit(&app, "?limit=1").await[0];
    assert_event(e, "createClient", "clients/aud-app", boot);
    assert!(!e.to_string().contains(&secret), "no secret in {e}");
    // A new secret, and nothing else, still shows as a change (the digest covers the sealed
    // secret's bytes, never the secret).
    let e = one_event(
        &app,
        "updateClient",
        app.admin(
            Method::PUT,
            "/clients/aud-app",
            Some(json!({"client_secret": "a-new-secret-0123456789abcdef"})),
        ),
    )
    .await;
    assert_event(&e, "updateClient", "clients/aud-app", boot);
    assert_ne!(e["payload"]["before"], e["payload"]["after"], "{e:#}");
    assert!(!e.to_string().contains("a-new-secret"), "{e}");
    let e = one_event(
        &app,
        "deleteClient",
        app.admin(Method::DELETE, "/clients/aud-app", None),
    )
    .await;
    assert_event(&e, "deleteClient", "clients/aud-app", boot);
    assert!(
        e["payload"]["before"].is_string() && e["payload"]["after"].is_null(),
        "{e:#}"
    );

    // Privacy consents (admin API) and a subject's grant (privacy API).
    let e = one_event(
        &app,
        "createConsent",
        app.admin(Method::POST, "/consents", Some(consent("news", "explicitAll", true))),
    )
    .await;
    assert_event(&e, "createConsent", "consents/news", boot);
    let e = one_event(
        &app,
        "grantConsents",
        privacy(
            &app,
            "/consents/grant",
            json!({"subject": "pat", "consents": [{"consent_id": "news", "version": 1}]}),
        ),
    )
    .await;
    assert_event(&e, "grantConsents", "grants/pat", boot);
    assert!(e["payload"]["after"].is_string(), "{e:#}");

    // Nexus: STS client mappings and roles.
    let e = one_event(
        &app,
        "createStsClient",
        app.call(
            Method::POST,
            "/v1/sts-clients",
            Some(json!({"clientId": "aud-reader", "permissions": "client.read"})),
            basic,
        ),
    )
    .await;
    assert_event(&e, "createStsClient", "sts-clients/aud-reader", boot);

    // Workspace and access-manager clients (the default server allowing token exchange first).
    let r = app
        .admin(
            Method::PUT,
            "/servers/default",
            Some(
                json!({"grant_types": ["authorization_code", "client_credentials", "refresh_token", "password",
                crate::exchange::EXCHANGE, crate::exchange::BEARER]}),
            ),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app
        .call(
            Method::POST,
            crate::workspace::WSC,
            Some(json!({"client-name": "Audited"})),
            basic,
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let wid = r.body["id"].as_str().unwrap().to_owned();
    assert_event(
        &audit(&app, "?limit=1").await[0],
        "createWorkspaceClient",
        &format!("clients/{wid}"),
        boot,
    );
    let r = app
        .admin(
            Method::POST,
            "/servers",
            Some(
                json!({"id": "TestDomain1", "grant_types": ["password", "client_credentials",
                crate::exchange::BEARER, "refresh_token", "authorization_code"]}),
            ),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let mut oam = crate::workspace::oam_example();
    for field in ["scopes", "defaultScope"] {
        oam.as_object_mut().unwrap().remove(field);
    }
    let e = one_event(
        &app,
        "createAccessManagerClient",
        app.call(Method::POST, crate::workspace::OAM, Some(oam.clone()), basic),
    )
    .await;
    assert_event(&e, "createAccessManagerClient", "clients/TestClient", boot);
    assert!(!e.to_string().contains("secret\":\""), "{e}");

    // System API: a tenant created, by the system tenant's admin client, in the system tenant's trail.
    let e = one_event(
        &app,
        "createTenant",
        app.call(Method::POST, "/api/system/tenants", Some(json!({"id": "aud-t"})), basic),
    )
    .await;
    assert_event(&e, "createTenant", "tenants/aud-t", boot);

    // Developer API: a developer's own client, by the developer.
    crate::developer::setup_portal(&app).await;
    let dana = crate::developer::developer_token(&app, "dana", "dana-password-1").await;
    let r = crate::developer::dev(
        &app,
        &dana,
        Method::POST,
        "/clients",
        Some(
            json!({"authorization_server_id": "default", "client_name": "Dana's app",
                    "redirect_uris": ["https://dana.example/cb"]}),
        ),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let cid = r.body["client_id"].as_str().unwrap();
    let e = &audit(&app, "?limit=1").await[0];
    assert_eq!(e["operation"], "createClientForDeveloper", "{e:#}");
    assert_eq!(e["object"], format!("clients/{cid}"));
    assert!(e["actor"].as_str().unwrap().starts_with("developer:"), "{e:#}");

    // Refused and failed writes append nothing: no credentials, a credential without the
    // permission, a body the API rejects, an object that does not exist.
    let n = count(&app).await;
    let reader = admin_client(&app, "aud-narrow").await;
    map(&app, "aud-narrow", "client.read").await;
    let n = n + 2; // the two writes just made
    assert_eq!(count(&app).await, n);
    let body = json!({"client_id": "nope", "authorization_server_id": "aud"});
    for (r, status) in [
        (
            app.call(Method::POST, "/api/admin/default/clients", Some(body.clone()), None)
                .await,
            401,
        ),
        (
            app.call(
                Method::POST,
                "/api/admin/default/clients",
                Some(body.clone()),
                Some(("aud-narrow", &reader)),
            )
            .await,
            403,
        ),
        (
            app.admin(Method::POST, "/servers", Some(json!({"id": "bad id!"})))
                .await,
            422,
        ),
        (app.admin(Method::DELETE, "/servers/missing", None).await, 404),
        (
            app.call(Method::DELETE, "/v1/sts-clients/missing", None, basic).await,
            404,
        ),
    ] {
        assert_eq!(r.status, status, "{}", r.body);
    }
    assert_eq!(count(&app).await, n, "refused writes appended nothing");
    // Reads append nothing either.
    app.admin(Method::GET, "/servers/aud", None).await;
    assert_eq!(count(&app).await, n);

    // audit.read decides who reads the trail.
    let r = app
        .call(
            Method::GET,
            "/api/admin/default/audit",
            None,
            Some(("aud-narrow", &reader)),
        )
        .await;
    assert!(
        assert_api_error(&r, 403)["error"]
            .as_str()
            .unwrap()
            .contains("audit.read"),
        "{}",
        r.body
    );
    map(&app, "aud-narrow", "audit.read").await;
    let r = app
        .call(
            Method::GET,
            "/api/admin/default/audit",
            None,
            Some(("aud-narrow", &reader)),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Another tenant's credentials never read this trail.
    let r = app
        .call(
            Method::GET,
            "/api/admin/aud-t/audit",
            None,
            Some(("aud-narrow", &reader)),
        )
        .await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(verify(&app).await["verified"], true);
}

#[tokio::test]
async fn the_trail_filters_by_object_actor_and_time_and_pages() {
    let app = spawn_app().await;
    for id in ["f1", "f2"] {
        let r = app.admin(Method::POST, "/servers", Some(json!({"id": id}))).await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    app.admin(Method::POST, "/servers/f1/keys/rotate", None).await;
    let secret = admin_client(&app, "f-admin").await;
    let r = app
        .call(
            Method::PUT,
            "/api/admin/default/servers/f2",
            Some(json!({"name": "by f-admin"})),
            Some(("f-admin", &secret)),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    let objects = |es: &[Value]| {
        es.iter()
            .map(|e| e["object"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let f1 = audit(&app, "?object=servers/f1").await;
    assert_eq!(objects(&f1), ["servers/f1", "servers/f1"]);
    assert_eq!(f1[0]["operation"], "rotateSigningKeys", "newest first");
    assert_eq!(
        objects(&audit(&app, "?object=servers").await).len(),
        4,
        "a kind matches its objects"
    );
    assert!(
        audit(&app, "?object=servers/f").await.is_empty(),
        "a prefix is not an object"
    );
    let by = audit(&app, "?actor=client:f-admin").await;
    assert_eq!(objects(&by), ["servers/f2"]);
    assert!(
        audit(&app, "?from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00Z")
            .await
            .is_empty()
    );
    assert_eq!(audit(&app, "?from=2000-01-01T00:00:00Z").await.len(), 5);

    // Pages: newest first, `next_before` until the oldest.
    let mut seen = Vec::new();
    let mut q = "?limit=2".to_owned();
    loop {
        let r = app.admin(Method::GET, &format!("/audit{q}"), None).await;
        assert_eq!(r.status, 200, "{}", r.body);
        for e in r.body["events"].as_array().unwrap() {
            seen.push(e["sequence"].as_i64().unwrap());
        }
        match r.body["next_before"].as_i64() {
            Some(b) => q = format!("?limit=2&before={b}"),
            None => break,
        }
    }
    assert_eq!(seen, [5, 4, 3, 2, 1]);

    for q in ["?limit=0", "?limit=1001", "?from=yesterday", "?before=0"] {
        let r = app.admin(Method::GET, &format!("/audit{q}"), None).await;
        assert_api_error(&r, 422);
    }
}

#[tokio::test]
async fn tampering_with_a_stored_event_is_found_at_that_event() {
    let app = spawn_app().await;
    for id in ["t1", "t2", "t3", "t4"] {
        let r = app
            .admin(
                Method::POST,
                "/scopes",
                Some(json!({"id": id, "name": id, "authorization_server_id": "default"})),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let v = verify(&app).await;
    assert_eq!(
        (v["verified"].clone(), v["events"].clone()),
        (json!(true), json!(4)),
        "{v}"
    );
    let id = |n: usize, es: &[Value]| es.iter().find(|e| e["sequence"] == n).unwrap()["id"].clone();
    let events = audit(&app, "").await;

    // The payload (who, what, digests) altered.
    tamper(
        &app,
        "UPDATE audit_events SET payload = replace(payload, 'bootstrap', 'someone') WHERE seq = 3",
    )
    .await;
    let v = verify(&app).await;
    assert_eq!(v["verified"], false);
    assert_eq!(v["first_broken"]["sequence"], 3, "{v}");
    assert_eq!(v["first_broken"]["id"], id(3, &events));
    assert!(v["first_broken"]["reason"].as_str().unwrap().contains("payload"), "{v}");
    tamper(
        &app,
        "UPDATE audit_events SET payload = replace(payload, 'someone', 'bootstrap') WHERE seq = 3",
    )
    .await;
    assert_eq!(verify(&app).await["verified"], true, "restored");

    // The actor column (what `?actor=` filters on) altered.
    tamper(&app, "UPDATE audit_events SET actor = 'client:someone' WHERE seq = 2").await;
    let v = verify(&app).await;
    assert_eq!(v["first_broken"]["sequence"], 2, "{v}");
    assert!(v["first_broken"]["reason"].as_str().unwrap().contains("actor"), "{v}");
    tamper(&app, "UPDATE audit_events SET actor = 'client:bootstrap' WHERE seq = 2").await;

    // The last event removed.
    tamper(&app, "DELETE FROM audit_events WHERE seq = 4").await;
    let v = verify(&app).await;
    assert_eq!(v["first_broken"]["sequence"], 4, "{v}");
    assert!(v["first_broken"]["reason"].as_str().unwrap().contains("removed"), "{v}");

    // An event of the privacy ledger (same key) copied in as the first: refused as another chain's.
    let app = spawn_app().await;
    app.admin(Method::POST, "/consents", Some(consent("news", "explicitAll", true)))
        .await;
    let r = privacy(
        &app,
        "/consents/grant",
        json!({"subject": "pat", "consents": [{"consent_id": "news", "version": 1}]}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    tamper(
        &app,
        "DELETE FROM audit_events; INSERT INTO audit_events (tenant_id, seq, id, subject, date, event_type, actor, payload, signature) \
         SELECT tenant_id, seq, id, subject, date, event_type, '', payload, signature FROM ledger_events WHERE seq = 1; \
         UPDATE audit_heads SET seq = 1",
    )
    .await;
    let v = verify(&app).await;
    assert_eq!(v["first_broken"]["sequence"], 1, "{v}");
    assert!(
        v["first_broken"]["reason"].as_str().unwrap().contains("another chain"),
        "{v}"
    );
}
