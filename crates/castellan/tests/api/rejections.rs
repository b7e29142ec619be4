//! Inputs the framework or a narrow permission used to get through: every rejection answers in
//! its family's error shape, privacy subjects carry no control characters, and testing a policy
//! for a subject needs the permission that reads the subject's grants.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::permissions::{Cred, admin_client, call, map};

#[tokio::test]
async fn malformed_queries_and_paths_answer_in_the_family_shape() {
    let app = spawn_app().await;
    let boot = Cred::Basic(&app.id, &app.secret);
    // The Cloudentity ACP family.
    for path in [
        "/api/admin/default/events?from=1&from=2",
        "/api/admin/default/servers/default/apis?without_data_classifications=maybe",
    ] {
        let r = call(&app, boot, Method::GET, path, None).await;
        assert_eq!(r.headers["content-type"], "application/json", "{path}: {}", r.body);
        let e = assert_api_error(&r, 400);
        assert_eq!(e["error"], "invalid query", "{path}");
        assert!(!e["details"]["reason"].as_str().unwrap().is_empty(), "{path}");
    }
    // The gateway authorizer (the same shape).
    let r = app
        .raw(app.http.get(format!(
            "{}/api/gateway/default/edge/authorize?service=a&service=b",
            app.base
        )))
        .await;
    assert_eq!(assert_api_error(&r, 400)["error"], "invalid query");
    // Nexus (`/v1`): RFC 9457 problem details, for a query and for a path id that is not UTF-8.
    for (method, path) in [
        (Method::DELETE, "/v1/roles/r1/connection-maps?groupName=a&groupName=b"),
        (Method::GET, "/v1/sts-clients/%FF%FE"),
    ] {
        let r = call(&app, boot, method, path, None).await;
        assert_eq!(r.status, 400, "{path}: {}", r.body);
        assert_eq!(r.headers["content-type"], "application/problem+json", "{path}");
        assert_eq!(r.body["status"], 400, "{path}");
    }
}

#[tokio::test]
async fn privacy_subjects_refuse_control_characters() {
    let app = spawn_app().await;
    let r = app
        .admin(
            Method::POST,
            "/consents",
            Some(json!({"id": "terms", "name": "Terms", "update_existing_grants": "keepCurrent"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    for subject in ["pat\nforged log line", "pat\r", "pat\u{0}", "\u{7f}"] {
        let r = app
            .call(
                Method::POST,
                "/api/privacy/default/consents/grant",
                Some(json!({"subject": subject, "consents": [{"consent_id": "terms"}]})),
                Some((&app.id, &app.secret)),
            )
            .await;
        assert_eq!(assert_api_error(&r, 422)["details"]["field"], "subject", "{subject:?}");
    }
    // Nothing reached the ledger.
    let r = app.admin(Method::GET, "/events", None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!r.body.to_string().contains("forged log line"), "{}", r.body);
}

#[tokio::test]
async fn testing_a_policy_for_a_subject_needs_privacy_read() {
    let app = spawn_app().await;
    let secret = admin_client(&app, "auditor").await;
    map(&app, "auditor", "policy.read").await;
    let cred = Cred::Basic("auditor", &secret);
    let path = "/api/admin/default/policies/allow/test";
    let r = call(&app, cred, Method::POST, path, Some(json!({"subject": "pat"}))).await;
    let e = assert_api_error(&r, 403);
    assert!(e["error"].as_str().unwrap().contains("privacy.read"), "{e}");
    // Without a subject the test runs; with privacy.read too, so does the subject's.
    let r = call(&app, cred, Method::POST, path, Some(json!({}))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    map(&app, "auditor", "policy.read privacy.read").await;
    let r = call(&app, cred, Method::POST, path, Some(json!({"subject": "pat"}))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["result"], "pass");
}

#[tokio::test]
async fn policy_and_import_work_an_author_could_make_unbounded_is_refused() {
    let app = spawn_app().await;
    // Rego nested past the parser's bound, and a builtin that allocates what it is asked.
    for (definition, says) in [
        (
            format!(
                "package castellan\nallow if {{ x := {}1{} }}",
                "[".repeat(60),
                "]".repeat(60)
            ),
            "nest more than",
        ),
        (
            "package castellan\nallow if { count(numbers.range(1, 2e7)) > 0 }".to_owned(),
            "numbers.range",
        ),
    ] {
        let r = app
            .admin(
                Method::POST,
                "/policies",
                Some(json!({"id": "p", "policy_name": "p", "language": "rego", "definition": definition})),
            )
            .await;
        let e = assert_api_error(&r, 422);
        assert_eq!(e["details"]["field"], "definition");
        assert!(e["error"].as_str().unwrap().contains(says), "{e}");
    }
    // YAML flow nesting, refused before it is parsed.
    crate::imports::service(&app, "pets").await;
    let doc = format!("openapi: 3.0.3\nx: {}\n", "[".repeat(40_000));
    let r = crate::imports::import_text(&app, "pets", doc).await;
    let e = assert_api_error(&r, 422);
    assert!(e["error"].as_str().unwrap().contains("nests"), "{e}");
}

/// One Rego step can build a gigabyte (`sprintf` with a wide field) or compare 2^40 shared
/// elements (two deep structures built by reference), out of reach of the interpreter's time
/// limit. Evaluations run in worker processes bounded in memory and killed at their deadline:
/// such a step fails the decision, a policy that takes it on an empty input is refused when
/// written, and the server and the next evaluations go on.
#[tokio::test]
async fn rego_is_bounded_in_memory_and_time_by_its_worker() {
    let app = spawn_app().await;
    let wide = "count(sprintf(\"%0999999999d\", [1])) > 0";
    let mut shared = String::from("a0 := [1]\nb0 := [1]\n");
    for i in 1..=40 {
        shared += &format!("a{i} := [a{p}, a{p}]\nb{i} := [b{p}, b{p}]\n", p = i - 1);
    }
    let deep = "a40 == b40";
    // Building the gigabyte meets the memory bound or the deadline first, depending on the build.
    let stopped =
        |reason: &str| reason.contains("evaluation stopped") && (reason.contains("MiB") || reason.contains("ms"));
    let policy = |id: &str, prelude: &str, guard: &str, step: &str| {
        json!({"id": id, "policy_name": id, "language": "rego",
            "definition": format!("package castellan\n{prelude}\nallow if {{\n  {guard}\n  {step}\n}}\n")})
    };
    // Taken on an empty input: refused when written, naming the bound.
    for (id, prelude, step) in [("wide", "", wide), ("deep", shared.as_str(), deep)] {
        let r = app
            .admin(Method::POST, "/policies", Some(policy(id, prelude, "true", step)))
            .await;
        let e = assert_api_error(&r, 422);
        assert_eq!(e["details"]["field"], "definition", "{e}");
        assert!(stopped(e["error"].as_str().unwrap()), "{id}: {e}");
    }
    // Taken only for some requests: stored, and those requests fail.
    let ok = json!({"id": "ok", "policy_name": "ok", "language": "rego",
        "definition": "package castellan\nallow if input.request.path == \"/ok\"\n"});
    assert_eq!(app.admin(Method::POST, "/policies", Some(ok)).await.status, 201);
    let test = |pid: &'static str, path: &'static str| {
        let app = &app;
        async move {
            let input = json!({"request": {"method": "GET", "path": path, "headers": {}}});
            let r = app
                .admin(Method::POST, &format!("/policies/{pid}/test"), Some(input))
                .await;
            assert_eq!(r.status, 200, "{}", r.body);
            r.body
        }
    };
    for (id, prelude, step) in [("wide", "", wide), ("deep", shared.as_str(), deep)] {
        let guarded = policy(id, prelude, "input.request.path == \"/boom\"", step);
        let r = app.admin(Method::POST, "/policies", Some(guarded)).await;
        assert_eq!(r.status, 201, "{}", r.body);
        let d = test(if id == "wide" { "wide" } else { "deep" }, "/boom").await;
        assert_eq!(d["result"], "fail", "{d}");
        assert_eq!(d["failed_validator"], "rego");
        assert!(stopped(d["reason"].as_str().unwrap()), "{id}: {d}");
        // A new worker takes the next evaluation.
        assert_eq!(test("ok", "/ok").await["result"], "pass");
        assert_eq!(test("ok", "/no").await["result"], "fail");
    }
    let health = app.http.get(format!("{}/health/live", app.base)).send().await.unwrap();
    assert_eq!(health.status(), 200);
}

/// Cloudentity ACP clients and policies: what a request states is kept or refused, never quietly
/// turned into something else.
#[tokio::test]
async fn contradictions_are_refused_by_name() {
    let app = spawn_app().await;
    // `public: true` with a secret-based method, and `public: false` with none.
    for body in [
        json!({"authorization_server_id": "default", "public": true, "token_endpoint_auth_method": "client_secret_basic"}),
        json!({"authorization_server_id": "default", "public": false, "token_endpoint_auth_method": "none"}),
    ] {
        let r = app.admin(Method::POST, "/clients", Some(body.clone())).await;
        let e = assert_api_error(&r, 422);
        assert_eq!(e["details"]["field"], "public", "{body}: {e}");
        assert!(e["error"].as_str().unwrap().contains("contradicts"), "{e}");
    }
    // Agreeing statements are fine.
    let r = app
        .admin(
            Method::POST,
            "/clients",
            Some(json!({"authorization_server_id": "default", "public": true, "token_endpoint_auth_method": "none"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    // A policy of no validators would let everything through: 422 naming `validators`.
    for body in [
        json!({"id": "empty", "policy_name": "empty", "validators": []}),
        json!({"id": "empty", "policy_name": "empty"}),
    ] {
        let r = app.admin(Method::POST, "/policies", Some(body)).await;
        let e = assert_api_error(&r, 422);
        assert_eq!(e["details"]["field"], "validators");
    }
    let r = app
        .admin(
            Method::POST,
            "/policies",
            Some(json!({"id": "open", "policy_name": "open", "validators": [{"name": "true"}]})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = app
        .admin(Method::PUT, "/policies/open", Some(json!({"validators": []})))
        .await;
    assert_eq!(assert_api_error(&r, 422)["details"]["field"], "validators");
}

/// One convention across families: a body's `tenant_id` that is not the path's tenant is a 422
/// naming it (clients, servers, scopes and claims ignored it); the path's own is accepted.
#[tokio::test]
async fn a_body_tenant_other_than_the_paths_is_refused_everywhere() {
    let app = spawn_app().await;
    let created = [
        (
            "/clients",
            json!({"authorization_server_id": "default", "client_id": "c1"}),
            "/clients/c1",
        ),
        ("/servers", json!({"id": "s1"}), "/servers/s1"),
        (
            "/scopes",
            json!({"authorization_server_id": "default", "name": "sc1"}),
            "",
        ),
        (
            "/claims",
            json!({"authorization_server_id": "default", "name": "cl1", "mapping": "email", "type": "id_token"}),
            "",
        ),
    ];
    for (path, body, item) in created {
        let mut foreign = body.clone();
        foreign["tenant_id"] = json!("other");
        let r = app.admin(Method::POST, path, Some(foreign)).await;
        assert_eq!(
            assert_api_error(&r, 422)["details"]["field"],
            "tenant_id",
            "POST {path}"
        );
        let mut own = body.clone();
        own["tenant_id"] = json!("default");
        let r = app.admin(Method::POST, path, Some(own)).await;
        assert_eq!(r.status, 201, "POST {path}: {}", r.body);
        let item = if item.is_empty() {
            format!("{path}/{}", r.body["id"].as_str().unwrap())
        } else {
            item.to_owned()
        };
        let r = app.admin(Method::PUT, &item, Some(json!({"tenant_id": "other"}))).await;
        assert_eq!(assert_api_error(&r, 422)["details"]["field"], "tenant_id", "PUT {item}");
        let r = app
            .admin(Method::PUT, &item, Some(json!({"tenant_id": "default"})))
            .await;
        assert_eq!(r.status, 200, "PUT {item}: {}", r.body);
    }
}

/// What the API description says each route answers, it answers: a protocol route of an unknown
/// server is a 404 in RFC 6749's shape, a `/v1` body that is not JSON a 415 problem, a claim
/// renamed onto another a 409.
#[tokio::test]
async fn the_documented_statuses_are_answered() {
    let app = spawn_app().await;
    for path in ["oauth2/token", "oauth2/introspect", "oauth2/revoke", "userinfo"] {
        let r = app
            .raw(
                app.http
                    .post(format!("{}/default/nowhere/{path}", app.base))
                    .basic_auth("c", Some("s"))
                    .form(&[("grant_type", "client_credentials"), ("token", "t")]),
            )
            .await;
        assert_eq!(r.status, 404, "{path}: {}", r.body);
        assert!(r.body["error"].is_string(), "{path}: {}", r.body);
    }
    let r = app
        .raw(
            app.http
                .post(format!("{}/v1/sts-clients", app.base))
                .basic_auth(&app.id, Some(&app.secret))
                .header("content-type", "text/plain")
                .body("clientId=x"),
        )
        .await;
    assert_eq!(r.status, 415, "{}", r.body);
    assert_eq!(r.headers["content-type"], "application/problem+json");
    for name in ["a", "b"] {
        let r = app
            .admin(
                Method::POST,
                "/claims",
                Some(json!({"authorization_server_id": "default", "id": name, "name": name, "mapping": "email", "type": "id_token"})),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let r = app.admin(Method::PUT, "/claims/b", Some(json!({"name": "a"}))).await;
    assert_api_error(&r, 409);
}

/// One convention across families: an optional member without a value is left out of an answer,
/// never `null`.
#[tokio::test]
async fn absent_optional_members_are_omitted_not_null() {
    fn nulls(v: &Value, at: &str, out: &mut Vec<String>) {
        match v {
            Value::Null => out.push(at.to_owned()),
            Value::Object(o) => o.iter().for_each(|(k, c)| nulls(c, &format!("{at}.{k}"), out)),
            Value::Array(a) => a
                .iter()
                .enumerate()
                .for_each(|(i, c)| nulls(c, &format!("{at}[{i}]"), out)),
            _ => {}
        }
    }
    let app = spawn_app().await;
    crate::imports::service(&app, "pets").await;
    let boot = Cred::Basic(&app.id, &app.secret);
    let mut found = Vec::new();
    for path in [
        "/api/admin/default/tenant",
        "/api/admin/default/servers",
        "/api/admin/default/servers/default/clients",
        "/api/admin/default/servers/default/scopes",
        "/api/admin/default/servers/default/claims",
        "/api/admin/default/policies",
        "/api/admin/default/consents",
        "/api/admin/default/services/pets",
        "/api/admin/default/events/verify",
        "/v1/sts-clients",
        "/v1/roles",
    ] {
        let r = call(&app, boot, Method::GET, path, None).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        nulls(&r.body, path, &mut found);
    }
    assert!(found.is_empty(), "null members: {found:?}");
}

/// The sign-in endpoints and the gateway authorizer answer what their API description says.
#[tokio::test]
async fn authorize_logout_and_the_authorizer_answer_as_documented() {
    let app = spawn_app().await;
    let get = |path: String| {
        let app = &app;
        async move {
            let r = app.http.get(format!("{}{path}", app.base)).send().await.unwrap();
            (
                r.status().as_u16(),
                r.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()),
            )
        }
    };
    let (status, ct) = get("/default/nowhere/oauth2/authorize?response_type=code&client_id=x".into()).await;
    assert_eq!(status, 404);
    assert!(ct.unwrap_or_default().starts_with("text/html"));
    let (status, ct) = get("/default/default/oauth2/authorize?response_type=code&client_id=nobody".into()).await;
    assert_eq!(status, 400);
    assert!(ct.unwrap_or_default().starts_with("text/html"));
    let (status, _) = get("/default/nowhere/logout".into()).await;
    assert_eq!(status, 404);
    let (status, _) = get("/default/default/logout?id_token_hint=not-a-token".into()).await;
    assert_eq!(status, 400);
    let (status, _) = get("/default/default/logout".into()).await;
    assert_eq!(status, 200);
    let r = app
        .raw(
            app.http
                .get(format!("{}/api/gateway/default/nowhere/authorize", app.base)),
        )
        .await;
    assert_eq!(r.status, 401, "{}", r.body);
}
