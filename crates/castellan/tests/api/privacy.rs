//! Privacy consents, consent actions, the privacy API and the tamper-evident ledger.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::tokens::{client, form, issuer};

pub(crate) fn consent(id: &str, strategy: &str, withdrawable: bool) -> Value {
    json!({"id": id, "name": id.to_uppercase(), "update_existing_grants": strategy, "can_be_withdrawn": withdrawable,
           "description": format!("the {id} consent"), "pii_categories": [{"name": "email"}],
           "internal_services": [{"name": "billing", "purposes": [{"name": "Core Function", "primary": true}]}]})
}

pub(crate) async fn privacy(app: &TestApp, path: &str, body: Value) -> Resp {
    app.call(
        Method::POST,
        &format!("/api/privacy/default{path}"),
        Some(body),
        Some((&app.id, &app.secret)),
    )
    .await
}

async fn statuses(app: &TestApp, sub: &str) -> Value {
    let r = app
        .call(
            Method::GET,
            &format!("/api/privacy/default/subjects/{sub}/consents"),
            None,
            Some((&app.id, &app.secret)),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

fn status_of(s: &Value, consent: &str) -> (String, i64, i64) {
    let c = s["consents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["consent_id"] == consent)
        .unwrap_or_else(|| panic!("{consent} in {s}"));
    (
        c["status"].as_str().unwrap().to_owned(),
        c["version"].as_i64().unwrap(),
        c["current_version"].as_i64().unwrap(),
    )
}

async fn verify(app: &TestApp) -> Value {
    let r = app.admin(Method::GET, "/events/verify", None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // The offline check (`castellan ledger verify`) reads the store and agrees.
    let offline = castellan::verify_ledger(&app.cfg, "default").await.unwrap();
    assert_eq!(serde_json::to_value(&offline).unwrap(), r.body);
    r.body
}

#[tokio::test]
async fn consents_and_actions_round_trip() {
    let app = spawn_app().await;
    let r = app
        .admin(Method::POST, "/consents", Some(consent("eula", "explicitAll", false)))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["version"], 1);
    assert_eq!(r.body["tenant_id"], "default");
    assert!(
        r.body["valid_from"].as_str().unwrap().ends_with('Z'),
        "valid_from defaults to now"
    );
    assert_eq!(r.body["can_be_withdrawn"], false);
    assert_eq!(r.body["third_party_services"], json!([]));
    assert_eq!(app.admin(Method::GET, "/consents/eula", None).await.body, r.body);
    assert_api_error(
        &app.admin(Method::POST, "/consents", Some(consent("eula", "explicitAll", false)))
            .await,
        409,
    );
    for (body, field) in [
        (json!({"id": "x", "name": "X"}), "update_existing_grants"),
        (
            json!({"id": "x", "name": "X", "update_existing_grants": "sometimes"}),
            "update_existing_grants",
        ),
        (json!({"name": "X", "update_existing_grants": "keepCurrent"}), "id"),
        (json!({"id": "x", "update_existing_grants": "keepCurrent"}), "name"),
        (
            json!({"id": "x", "name": "X", "update_existing_grants": "keepCurrent", "valid_from": "yesterday"}),
            "valid_from",
        ),
    ] {
        let r = app.admin(Method::POST, "/consents", Some(body.clone())).await;
        assert_eq!(assert_api_error(&r, 422)["details"]["field"], field, "{body}");
    }
    let r = app
        .admin(
            Method::PUT,
            "/consents/eula",
            Some(json!({"description": "v2", "version": 40})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["version"], 2, "+1 per update; a given version is ignored");
    assert_eq!(r.body["description"], "v2");
    assert_eq!(r.body["name"], "EULA");
    assert_api_error(&app.admin(Method::PUT, "/consents/nope", Some(json!({}))).await, 404);
    assert_eq!(
        app.admin(Method::GET, "/consents", None).await.body["consents"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Actions group consents.
    app.admin(Method::POST, "/consents", Some(consent("news", "keepCurrent", true)))
        .await;
    let r = app
        .admin(
            Method::POST,
            "/actions",
            Some(
                json!({"id": "signup", "name": "shop_signup", "description": "Signing up",
                        "consents": [{"id": "eula", "required": true}, {"id": "news", "required": false}]}),
            ),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["consents"][0]["name"], "EULA");
    assert_eq!(r.body["consents"][0]["required"], true);
    assert_eq!(r.body["consents"][1]["required"], false);
    let list = app.admin(Method::GET, "/actions", None).await.body;
    assert_eq!(
        list,
        json!({"consent_actions": [{"description": "Signing up", "id": "signup", "name": "shop_signup", "tenant_id": "default"}]})
    );
    let got = app.admin(Method::GET, "/actions/signup", None).await.body;
    assert_eq!(got["consents"].as_array().unwrap().len(), 2);
    let r = app
        .admin(
            Method::POST,
            "/actions",
            Some(json!({"id": "bad", "name": "bad", "consents": [{"id": "nope", "required": true}]})),
        )
        .await;
    assert_eq!(assert_api_error(&r, 422)["details"]["field"], "consents[0].id");
    assert_api_error(
        &app.admin(Method::POST, "/actions", Some(json!({"id": "signup", "name": "x"})))
            .await,
        409,
    );
    let r = app
        .admin(
            Method::PUT,
            "/actions/signup",
            Some(json!({"consents": [{"id": "news", "required": true}]})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["consents"].as_array().unwrap().len(), 1);
    // A consent an action groups cannot be deleted; once free, it can.
    assert_api_error(&app.admin(Method::DELETE, "/consents/news", None).await, 409);
    assert_eq!(app.admin(Method::DELETE, "/actions/signup", None).await.status, 204);
    assert_eq!(app.admin(Method::DELETE, "/consents/news", None).await.status, 204);
    assert_api_error(&app.admin(Method::GET, "/actions/signup", None).await, 404);
    assert_api_error(&app.admin(Method::GET, "/consents/news", None).await, 404);
}

#[tokio::test]
async fn new_versions_follow_update_existing_grants() {
    let app = spawn_app().await;
    for (id, strategy) in [("ex", "explicitAll"), ("im", "implicitAll"), ("keep", "keepCurrent")] {
        let r = app
            .admin(Method::POST, "/consents", Some(consent(id, strategy, true)))
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let r = privacy(
        &app,
        "/consents/grant",
        json!({"subject": "pat", "consents": [{"consent_id": "ex", "version": 1}, {"consent_id": "im"}, {"consent_id": "keep"}],
               "context": {"ip": "203.0.113.7"}, "language": "en"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["events"].as_array().unwrap().len(), 3);
    let granted = &r.body["events"][0]["payload"]["consent_granted"];
    assert_eq!(granted["subject"], "pat");
    assert_eq!(granted["consent_id"], "ex");
    assert_eq!(granted["grant_type"], "explicit");
    assert_eq!(granted["context"]["ip"], "203.0.113.7");
    assert_eq!(granted["consent"]["name"], "EX");
    assert_eq!(r.body["events"][0]["payload"]["event_type"], "consent_granted");

    // A policy that needs all three, evaluated for pat through the consent validator.
    let r = app
        .admin(
            Method::POST,
            "/policies",
            Some(json!({"id": "needs-all", "policy_name": "all three", "validators": [
                {"name": "consent", "conf": {"consents": ["ex", "im", "keep"]}}]})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(needs_all(&app).await["result"], "pass");

    for id in ["ex", "im", "keep"] {
        let r = app
            .admin(
                Method::PUT,
                &format!("/consents/{id}"),
                Some(json!({"description": "v2"})),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let s = statuses(&app, "pat").await;
    assert_eq!(status_of(&s, "ex"), ("stale".into(), 1, 2));
    assert_eq!(status_of(&s, "im"), ("granted".into(), 2, 2));
    assert_eq!(status_of(&s, "keep"), ("granted".into(), 1, 2));
    // The implicit move is in the ledger.
    let events = app.admin(Method::GET, "/events?sub=pat", None).await.body;
    let last = events["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["payload"]["consent_granted"]["grant_type"], "implicit");
    assert_eq!(last["payload"]["consent_granted"]["consent_id"], "im");
    assert_eq!(last["payload"]["consent_granted"]["version"], 2);
    // Stale fails the validator until granted again.
    let d = needs_all(&app).await;
    assert_eq!(d["result"], "fail", "{d}");
    assert!(d["reason"].as_str().unwrap().contains("ex"), "{d}");
    let r = privacy(
        &app,
        "/consents/grant",
        json!({"subject": "pat", "consents": [{"consent_id": "ex", "version": 1}]}),
    )
    .await;
    assert_eq!(assert_api_error(&r, 422)["details"]["field"], "consents[0].version");
    let r = privacy(
        &app,
        "/consents/grant",
        json!({"subject": "pat", "consents": [{"consent_id": "ex"}]}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(status_of(&statuses(&app, "pat").await, "ex"), ("granted".into(), 2, 2));
    assert_eq!(needs_all(&app).await["result"], "pass");
    assert_eq!(verify(&app).await["verified"], true);
}

#[tokio::test]
async fn withdrawing_what_cannot_be_withdrawn_writes_nothing() {
    let app = spawn_app().await;
    app.admin(Method::POST, "/consents", Some(consent("eula", "explicitAll", false)))
        .await;
    app.admin(Method::POST, "/consents", Some(consent("news", "explicitAll", true)))
        .await;
    app.admin(
        Method::POST,
        "/actions",
        Some(json!({"id": "signup", "name": "signup", "consents": [{"id": "eula", "required": true}, {"id": "news", "required": false}]})),
    )
    .await;
    let r = privacy(&app, "/consents/grant", json!({"subject": "pat", "action": "signup"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body["events"][1]["payload"]["consent_granted"]["triggered_by_action"],
        "signup"
    );
    let before = app.admin(Method::GET, "/events", None).await.body["events"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(before, 2);
    let r = privacy(
        &app,
        "/consents/withdraw",
        json!({"subject": "pat", "action": "signup"}),
    )
    .await;
    let e = assert_api_error(&r, 422);
    assert!(e["error"].as_str().unwrap().contains("cannot be withdrawn"), "{e}");
    assert_eq!(
        app.admin(Method::GET, "/events", None).await.body["events"]
            .as_array()
            .unwrap()
            .len(),
        before,
        "nothing written"
    );
    assert_eq!(status_of(&statuses(&app, "pat").await, "news").0, "granted");
    // The withdrawable one alone: a consent_revoked event.
    let r = privacy(
        &app,
        "/consents/withdraw",
        json!({"subject": "pat", "consents": [{"consent_id": "news"}]}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["events"][0]["payload"]["event_type"], "consent_revoked");
    assert_eq!(status_of(&statuses(&app, "pat").await, "news").0, "withdrawn");
    // Withdrawing what is not held, and bad requests.
    let r = privacy(
        &app,
        "/consents/withdraw",
        json!({"subject": "pat", "consents": [{"consent_id": "news"}]}),
    )
    .await;
    assert_api_error(&r, 422);
    for body in [
        json!({"consents": [{"consent_id": "news"}]}),
        json!({"subject": "pat"}),
        json!({"subject": "pat", "action": "signup", "consents": [{"consent_id": "news"}]}),
        json!({"subject": "pat", "consents": [{"consent_id": "nope"}]}),
        json!({"subject": "pat", "action": "nope"}),
    ] {
        assert_api_error(&privacy(&app, "/consents/grant", body).await, 422);
    }
    assert_api_error(&privacy(&app, "/consents/grant", json!({"subject": 5})).await, 400);
}

/// The `needs-all` policy evaluated for pat, with what the privacy API holds for pat.
async fn needs_all(app: &TestApp) -> Value {
    app.admin(
        Method::POST,
        "/policies/needs-all/test",
        Some(json!({"subject": "pat"})),
    )
    .await
    .body
}

async fn grant_as(app: &TestApp, token: &str, subject: &str) -> Resp {
    app.raw(
        app.http
            .post(format!("{}/api/privacy/default/consents/grant", app.base))
            .bearer_auth(token)
            .json(&json!({"subject": subject, "consents": [{"consent_id": "news"}]})),
    )
    .await
}

/// Runs a statement on the server's database, as someone with database access would.
pub(crate) async fn tamper(app: &TestApp, sql: &str) {
    if on_postgres() {
        let pool = sqlx::PgPool::connect(app.cfg.database_url.as_deref().unwrap())
            .await
            .unwrap();
        sqlx::raw_sql(sql).execute(&pool).await.unwrap();
    } else {
        let url = format!("sqlite://{}", app.data_dir().join("castellan.db").display());
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        sqlx::raw_sql(sql).execute(&pool).await.unwrap();
    }
}

#[tokio::test]
async fn the_ledger_verifies_and_reports_where_it_was_tampered_with() {
    let app = spawn_app().await;
    app.admin(Method::POST, "/consents", Some(consent("news", "explicitAll", true)))
        .await;
    app.admin(Method::POST, "/consents", Some(consent("terms", "implicitAll", true)))
        .await;
    for (path, sub, id) in [
        ("/consents/grant", "pat", "news"),
        ("/consents/grant", "sam", "terms"),
        ("/consents/withdraw", "pat", "news"),
        ("/consents/grant", "pat", "terms"),
        ("/consents/grant", "pat", "news"),
    ] {
        let r = privacy(&app, path, json!({"subject": sub, "consents": [{"consent_id": id}]})).await;
        assert_eq!(r.status, 200, "{path} {sub} {id}: {}", r.body);
    }
    app.admin(Method::PUT, "/consents/terms", Some(json!({"description": "v2"})))
        .await;
    let events = app.admin(Method::GET, "/events", None).await.body["events"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(events.len(), 7, "five changes and two implicit moves");
    let v = verify(&app).await;
    assert_eq!(v, json!({"verified": true, "events": 7}));

    // Every signature verifies with the published key through an independent JOSE library.
    let jwk = app.admin(Method::GET, "/events/key", None).await.body;
    assert_eq!(jwk["kty"], "EC");
    assert_eq!(jwk["crv"], "P-256");
    let key =
        jsonwebtoken::DecodingKey::from_ec_components(jwk["x"].as_str().unwrap(), jwk["y"].as_str().unwrap()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    let mut prev = String::new();
    for (i, e) in events.iter().enumerate() {
        let sig = e["payload_signature"].as_str().unwrap();
        let data = jsonwebtoken::decode::<Value>(sig, &key, &validation).unwrap();
        assert_eq!(data.header.kid.as_deref(), jwk["kid"].as_str());
        assert_eq!(data.claims["seq"], i as i64 + 1);
        assert_eq!(data.claims["id"], e["id"]);
        assert_eq!(
            data.claims["prev"], prev,
            "each event chains to the signature before it"
        );
        prev = castellan_jose::b64url(&castellan_jose::sha256(sig.as_bytes()));
    }
    let id = |n: usize| events[n - 1]["id"].as_str().unwrap().to_owned();

    // An altered payload.
    tamper(
        &app,
        "UPDATE ledger_events SET payload = replace(payload, '\"pat\"', '\"eve\"') WHERE seq = 3",
    )
    .await;
    let v = verify(&app).await;
    assert_eq!(v["verified"], false);
    assert_eq!(v["first_broken"]["id"], id(3));
    assert_eq!(v["first_broken"]["sequence"], 3);
    assert!(v["first_broken"]["reason"].as_str().unwrap().contains("payload"), "{v}");
    tamper(
        &app,
        "UPDATE ledger_events SET payload = replace(payload, '\"eve\"', '\"pat\"') WHERE seq = 3",
    )
    .await;
    assert_eq!(verify(&app).await["verified"], true, "restored");

    // An altered subject column.
    tamper(&app, "UPDATE ledger_events SET subject = 'eve' WHERE seq = 5").await;
    assert_eq!(verify(&app).await["first_broken"]["id"], id(5));
    tamper(&app, "UPDATE ledger_events SET subject = 'pat' WHERE seq = 5").await;

    // Two events swapped.
    tamper(
        &app,
        "UPDATE ledger_events SET seq = -2 WHERE seq = 2; UPDATE ledger_events SET seq = 2 WHERE seq = 4; \
         UPDATE ledger_events SET seq = 4 WHERE seq = -2",
    )
    .await;
    let v = verify(&app).await;
    assert_eq!(v["first_broken"]["sequence"], 2, "{v}");
    assert_eq!(v["first_broken"]["id"], id(4), "{v}");
    tamper(
        &app,
        "UPDATE ledger_events SET seq = -2 WHERE seq = 2; UPDATE ledger_events SET seq = 2 WHERE seq = 4; \
         UPDATE ledger_events SET seq = 4 WHERE seq = -2",
    )
    .await;
    assert_eq!(verify(&app).await["verified"], true);

    // One event deleted: the next one no longer follows.
    tamper(&app, "DELETE FROM ledger_events WHERE seq = 6").await;
    let v = verify(&app).await;
    assert_eq!(v["first_broken"]["sequence"], 6, "{v}");
    assert_eq!(v["first_broken"]["id"], id(7), "{v}");
    // The last one deleted: the head still counts it.
    tamper(&app, "DELETE FROM ledger_events WHERE seq = 7").await;
    let v = verify(&app).await;
    assert_eq!(v["first_broken"]["sequence"], 6, "{v}");
    assert_eq!(v["first_broken"]["id"], Value::Null, "{v}");
    assert!(v["first_broken"]["reason"].as_str().unwrap().contains("removed"), "{v}");
}

#[tokio::test]
async fn eight_concurrent_writers_leave_a_chain_that_verifies() {
    let app = spawn_app().await;
    app.admin(Method::POST, "/consents", Some(consent("news", "explicitAll", true)))
        .await;
    let mut tasks = Vec::new();
    for w in 0..8 {
        let (base, id, secret) = (app.base.clone(), app.id.clone(), app.secret.clone());
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            for i in 0..6 {
                let path = if i % 2 == 0 { "grant" } else { "withdraw" };
                let r = http
                    .post(format!("{base}/api/privacy/default/consents/{path}"))
                    .basic_auth(&id, Some(&secret))
                    .json(&json!({"subject": format!("s{w}"), "consents": [{"consent_id": "news"}]}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(verify(&app).await, json!({"verified": true, "events": 48}));
}

#[tokio::test]
async fn people_act_for_themselves_and_manage_consents_for_anyone() {
    let app = spawn_app().await;
    app.admin(Method::POST, "/consents", Some(consent("news", "explicitAll", true)))
        .await;
    // A person's token (password grant on the default server) and a service token with the
    // manage_consents scope.
    let r = app
        .admin(
            Method::PUT,
            "/servers/default",
            Some(json!({"grant_types": ["authorization_code", "client_credentials", "password"]})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    app.admin(
        Method::PUT,
        "/servers/default/authentications",
        Some(json!({"methods": [{"method": "static", "static": {"users": [
            {"username": "pat", "password": "pat-password-1"}]}}]})),
    )
    .await;
    app.admin(
        Method::POST,
        "/scopes",
        Some(json!({"name": "manage_consents", "authorization_server_id": "default"})),
    )
    .await;
    let app_client = client(&app, json!({"client_id": "shop", "grant_types": ["password"]})).await;
    let svc = client(
        &app,
        json!({"client_id": "crm", "grant_types": ["client_credentials"], "scopes": ["manage_consents"]}),
    )
    .await;
    let url = format!("{}/oauth2/token", issuer(&app, "default"));
    let pat = form(
        &app,
        &url,
        Some(("shop", app_client["client_secret"].as_str().unwrap())),
        &[
            ("grant_type", "password"),
            ("username", "pat"),
            ("password", "pat-password-1"),
        ],
    )
    .await
    .body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let crm = form(
        &app,
        &url,
        Some(("crm", svc["client_secret"].as_str().unwrap())),
        &[("grant_type", "client_credentials"), ("scope", "manage_consents")],
    )
    .await
    .body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(grant_as(&app, &pat, "pat").await.status, 200, "a person for themselves");
    assert_api_error(&grant_as(&app, &pat, "sam").await, 403);
    assert_eq!(
        grant_as(&app, &crm, "sam").await.status,
        200,
        "manage_consents for anyone"
    );
    assert_api_error(&grant_as(&app, "not-a-token", "pat").await, 401);
    let r = app
        .raw(
            app.http
                .get(format!("{}/api/privacy/default/subjects/pat/consents", app.base))
                .bearer_auth(&pat),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["consents"][0]["status"], "granted");
    let r = app
        .raw(
            app.http
                .get(format!("{}/api/privacy/default/subjects/sam/consents", app.base))
                .bearer_auth(&pat),
        )
        .await;
    assert_api_error(&r, 403);
    assert_eq!(verify(&app).await["events"], 2);
}

#[tokio::test]
async fn a_scope_policy_with_a_consent_validator_reads_the_persons_grants() {
    let app = spawn_app().await;
    app.admin(Method::POST, "/consents", Some(consent("news", "explicitAll", true)))
        .await;
    app.admin(
        Method::POST,
        "/policies",
        Some(json!({"id": "news-consent", "policy_name": "news consent",
                    "validators": [{"name": "consent", "conf": {"consents": ["news"]}}]})),
    )
    .await;
    app.admin(
        Method::PUT,
        "/servers/default",
        Some(json!({"grant_types": ["authorization_code", "password"]})),
    )
    .await;
    app.admin(
        Method::PUT,
        "/servers/default/authentications",
        Some(json!({"methods": [{"method": "static", "static": {"users": [
            {"username": "pat", "password": "pat-password-1"}]}}]})),
    )
    .await;
    let r = app
        .admin(
            Method::POST,
            "/scopes",
            Some(json!({"name": "newsletter", "authorization_server_id": "default", "user_policy_id": "news-consent"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let c = client(
        &app,
        json!({"client_id": "shop", "grant_types": ["password"], "scopes": ["newsletter"]}),
    )
    .await;
    let secret = c["client_secret"].as_str().unwrap().to_owned();
    assert_eq!(
        newsletter_scope(&app, &secret).await,
        Value::Null,
        "no consent yet: withheld"
    );
    let r = privacy(
        &app,
        "/consents/grant",
        json!({"subject": "pat", "consents": [{"consent_id": "news"}]}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        newsletter_scope(&app, &secret).await,
        "newsletter",
        "granted once the person consents"
    );
    // A new version under explicitAll makes the grant stale: withheld again.
    app.admin(Method::PUT, "/consents/news", Some(json!({"description": "v2"})))
        .await;
    assert_eq!(newsletter_scope(&app, &secret).await, Value::Null);
    privacy(
        &app,
        "/consents/grant",
        json!({"subject": "pat", "consents": [{"consent_id": "news"}]}),
    )
    .await;
    privacy(
        &app,
        "/consents/withdraw",
        json!({"subject": "pat", "consents": [{"consent_id": "news"}]}),
    )
    .await;
    assert_eq!(
        newsletter_scope(&app, &secret).await,
        Value::Null,
        "withdrawn: withheld"
    );
}

/// The scope pat's password-grant token gets when asking for `newsletter`.
async fn newsletter_scope(app: &TestApp, secret: &str) -> Value {
    let r = form(
        app,
        &format!("{}/oauth2/token", issuer(app, "default")),
        Some(("shop", secret)),
        &[
            ("grant_type", "password"),
            ("username", "pat"),
            ("password", "pat-password-1"),
            ("scope", "newsletter"),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["scope"].clone()
}

/// Cloudentity ACP's consent `valid_from` keeps its fractional seconds, and a new version without
/// one is valid from now; the ledger's `from` and `to` take RFC 3339 or a Unix time in seconds,
/// milliseconds, microseconds or nanoseconds.
#[tokio::test]
async fn consent_times_and_ledger_ranges_take_what_the_acp_page_sends() {
    let app = spawn_app().await;
    let mut body = consent("terms", "keepCurrent", true);
    body["valid_from"] = json!("2019-12-11T13:44:28.772101Z");
    let r = app.admin(Method::POST, "/consents", Some(body)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["valid_from"], "2019-12-11T13:44:28.772101Z");
    let r = app
        .admin(
            Method::PUT,
            "/consents/terms",
            Some(json!({"valid_from": "2019-12-11T14:44:28.5+01:00"})),
        )
        .await;
    assert_eq!(r.body["valid_from"], "2019-12-11T13:44:28.5Z", "{}", r.body);
    let before = time::OffsetDateTime::now_utc().unix_timestamp();
    let r = app
        .admin(Method::PUT, "/consents/terms", Some(json!({"name": "Terms"})))
        .await;
    assert_eq!(r.body["version"], 3, "{}", r.body);
    let from = time::OffsetDateTime::parse(
        r.body["valid_from"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap()
    .unix_timestamp();
    assert!(from >= before, "{} is not now", r.body["valid_from"]);

    let r = privacy(
        &app,
        "/consents/grant",
        json!({"subject": "pat", "consents": [{"consent_id": "terms"}]}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let date = r.body["events"][0]["date"].as_str().unwrap().to_owned();
    let at = time::OffsetDateTime::parse(&date, &time::format_description::well_known::Rfc3339)
        .unwrap()
        .unix_timestamp();
    let count = |from: String| {
        let app = &app;
        async move {
            let r = app.admin(Method::GET, &format!("/events?from={from}"), None).await;
            assert_eq!(r.status, 200, "{from}: {}", r.body);
            r.body["events"].as_array().unwrap().len()
        }
    };
    for from in [
        at.to_string(),
        (at * 1_000).to_string(),
        (at * 1_000_000).to_string(),
        (at * 1_000_000_000).to_string(),
        date.replace('+', "%2B"),
    ] {
        assert_eq!(count(from.clone()).await, 1, "from={from}");
    }
    for later in [((at + 1) * 1_000).to_string(), ((at + 1) * 1_000_000_000).to_string()] {
        assert_eq!(count(later.clone()).await, 0, "from={later}");
    }
    let r = app
        .admin(Method::GET, &format!("/events?to={}", (at - 1) * 1_000), None)
        .await;
    assert_eq!(r.body["events"].as_array().unwrap().len(), 0, "{}", r.body);
    for bad in ["yesterday", "-5", "2019-12-11"] {
        let r = app.admin(Method::GET, &format!("/events?from={bad}"), None).await;
        assert_eq!(assert_api_error(&r, 422)["details"]["field"], "from", "{bad}");
    }
}
