use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn malformed_json_is_a_400_in_the_acp_error_shape() {
    let app = spawn_app().await;
    let req = app
        .http
        .post(format!("{}/api/admin/default/servers", app.base))
        .basic_auth(&app.id, Some(&app.secret))
        .header("content-type", "application/json")
        .body("{\"id\": \"x\",");
    let r = app.raw(req).await;
    let e = assert_api_error(&r, 400);
    assert!(e["details"]["reason"].as_str().unwrap().contains("EOF"), "{e}");
    let req = app
        .http
        .post(format!("{}/api/admin/default/servers", app.base))
        .basic_auth(&app.id, Some(&app.secret))
        .header("content-type", "application/json")
        .body("{} trailing");
    assert_api_error(&app.raw(req).await, 400);
    assert_eq!(
        app.admin(Method::GET, "/servers/x", None).await.status,
        404,
        "nothing created"
    );
}

#[tokio::test]
async fn wrong_content_type_is_a_415() {
    let app = spawn_app().await;
    let req = app
        .http
        .post(format!("{}/api/admin/default/servers", app.base))
        .basic_auth(&app.id, Some(&app.secret))
        .header("content-type", "text/plain")
        .body("{\"id\": \"x\"}");
    let r = app.raw(req).await;
    let e = assert_api_error(&r, 415);
    assert_eq!(e["details"]["content_type"], "text/plain");
    let req = app
        .http
        .post(format!("{}/api/admin/default/servers", app.base))
        .basic_auth(&app.id, Some(&app.secret))
        .body("{}");
    assert_api_error(&app.raw(req).await, 415);
}

#[tokio::test]
async fn a_field_of_the_wrong_type_is_named() {
    let app = spawn_app().await;
    let cases = [
        (json!({"enforce_pkce": "yes"}), "enforce_pkce"),
        (json!({"grant_types": "client_credentials"}), "grant_types"),
        (json!({"grant_types": ["client_credentials", 7]}), "grant_types[1]"),
        (
            json!({"authentications": {"methods": [{"method": "static", "static": {"users": [{"username": 1}]}}]}}),
            "authentications.methods[0].static.users[0].username",
        ),
        (json!([1, 2]), ""),
        (json!("text"), ""),
    ];
    for (body, field) in cases {
        let r = app.admin(Method::POST, "/servers", Some(body.clone())).await;
        let e = assert_api_error(&r, 400);
        assert_eq!(e["details"]["field"], field, "{body}: {e}");
    }
}

#[tokio::test]
async fn a_body_over_one_mebibyte_is_a_413() {
    let app = spawn_app().await;
    let big = format!("{{\"name\": \"{}\"}}", "x".repeat(1024 * 1024 + 10));
    let req = app
        .http
        .put(format!("{}/api/admin/default/tenant", app.base))
        .basic_auth(&app.id, Some(&app.secret))
        .header("content-type", "application/json")
        .body(big);
    let r = app.raw(req).await;
    let e = assert_api_error(&r, 413);
    assert_eq!(e["details"]["limit_bytes"], 1024 * 1024);
    assert_eq!(app.admin(Method::GET, "/tenant", None).await.body["name"], "Default");
}

#[tokio::test]
async fn unknown_routes_and_methods_under_api_use_the_acp_error_shape() {
    let app = spawn_app().await;
    for path in [
        "/api/nothing",
        "/api/admin/default/nothing",
        "/api/admin/default/servers/default/nothing",
        "/api",
    ] {
        let r = app.call(Method::GET, path, None, Some((&app.id, &app.secret))).await;
        assert_api_error(&r, 404);
    }
    let r = app
        .call(
            Method::PATCH,
            "/api/admin/default/servers/default",
            None,
            Some((&app.id, &app.secret)),
        )
        .await;
    assert_api_error(&r, 405);
    let r = app
        .call(
            Method::POST,
            "/api/admin/default/tenant",
            Some(json!({})),
            Some((&app.id, &app.secret)),
        )
        .await;
    assert_api_error(&r, 405);
}

#[tokio::test]
async fn health_and_docs_are_served() {
    let app = spawn_app().await;
    let live = app.call(Method::GET, "/health/live", None, None).await;
    assert_eq!(live.status, 200);
    let ready = app.call(Method::GET, "/health/ready", None, None).await;
    assert_eq!(
        (ready.status.as_u16(), ready.body["status"].clone()),
        (200, json!("ok"))
    );

    let spec = app.call(Method::GET, "/api/openapi.json", None, None).await;
    assert_eq!(spec.status, 200);
    assert!(spec.body["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(spec.body["paths"]["/api/admin/{tid}/servers"]["post"].is_object());

    let docs = app.raw(app.http.get(format!("{}/docs/", app.base))).await;
    assert_eq!(docs.status, 200);
    let html = docs.body.as_str().unwrap();
    assert!(html.contains("swagger-ui"), "the docs page renders Swagger UI");
    assert!(
        !html.contains("://unpkg") && !html.contains("://cdn"),
        "no CDN: assets are served locally"
    );
    for asset in ["swagger-ui.css", "swagger-ui-bundle.js", "swagger-initializer.js"] {
        let r = app.http.get(format!("{}/docs/{asset}", app.base)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{asset}");
    }
    let init = app
        .http
        .get(format!("{}/docs/swagger-initializer.js", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(init.contains("/api/openapi.json"), "the docs page loads our spec");
}

#[tokio::test]
async fn a_well_formed_body_that_breaks_a_rule_is_a_422() {
    let app = spawn_app().await;
    let cases = [
        // A required member missing (the serde model's own rule).
        (
            "/claims",
            json!({"authorization_server_id": "default", "name": "x", "mapping": "y"}),
            "type",
        ),
        // Checked by the control plane.
        ("/clients", json!({}), "authorization_server_id"),
        ("/servers", json!({"secret": "short"}), "secret"),
        ("/servers", json!({"key_type": "dsa"}), "key_type"),
        (
            "/scopes",
            json!({"name": "a b", "authorization_server_id": "default"}),
            "name",
        ),
        // An unknown reference.
        (
            "/clients",
            json!({"authorization_server_id": "default", "scopes": ["nope"]}),
            "scopes[0]",
        ),
    ];
    for (path, body, field) in cases {
        let r = app.admin(Method::POST, path, Some(body.clone())).await;
        let e = assert_api_error(&r, 422);
        assert_eq!(e["details"]["field"], field, "{path} {body}: {e}");
    }
    // A wrong JSON type stays a 400, whatever else is wrong.
    let r = app
        .admin(Method::POST, "/clients", Some(json!({"authorization_server_id": 7})))
        .await;
    assert_api_error(&r, 400);
}
