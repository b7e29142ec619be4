use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn get_tenant_shows_the_acp_tenant_fields() {
    let app = spawn_app().await;
    let r = app.admin(Method::GET, "/tenant", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body,
        json!({"id": "default", "name": "Default", "url": format!("{}/default", app.base),
               "authentication_context_settings": {"attributes": []}, "jwks": {"keys": []}})
    );
}

#[tokio::test]
async fn put_tenant_updates_given_fields_and_keeps_the_rest() {
    let app = spawn_app().await;
    let attrs = json!({"attributes": [{"name": "email", "description": "E-mail address"}]});
    let r = app
        .admin(
            Method::PUT,
            "/tenant",
            Some(json!({"authentication_context_settings": attrs})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["authentication_context_settings"], attrs);
    assert_eq!(r.body["name"], "Default", "name kept");

    let jwks = json!({"keys": [{"kty": "EC", "crv": "P-256", "kid": "k1", "x": "abc", "y": "def", "use": "sig"}]});
    let r = app
        .admin(
            Method::PUT,
            "/tenant",
            Some(json!({"id": "default", "name": "Acme Corp", "url": "http://ignored", "jwks": jwks})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["name"], "Acme Corp");
    assert_eq!(r.body["url"], format!("{}/default", app.base), "url is read-only");
    assert_eq!(r.body["jwks"], jwks);
    assert_eq!(r.body["authentication_context_settings"], attrs, "settings kept");
    assert_eq!(app.admin(Method::GET, "/tenant", None).await.body, r.body, "persisted");
}

#[tokio::test]
async fn put_tenant_refuses_bad_input_and_changes_nothing() {
    let app = spawn_app().await;
    let before = app.admin(Method::GET, "/tenant", None).await.body;
    let cases = [
        (json!({"id": "other"}), "id"),
        (json!({"name": ""}), "name"),
        (json!({"name": "x".repeat(300)}), "name"),
        (json!({"name": 42}), "name"),
        (
            json!({"jwks": {"keys": [{"kty": "EC", "d": "private"}]}}),
            "jwks.keys[0]",
        ),
        (json!({"jwks": {"keys": [{"kty": "oct"}]}}), "jwks.keys[0].kty"),
        (
            json!({"authentication_context_settings": {"attributes": [{"name": ""}]}}),
            "authentication_context_settings.attributes[0].name",
        ),
    ];
    for (body, field) in cases {
        let r = app.admin(Method::PUT, "/tenant", Some(body.clone())).await;
        // A member of the wrong JSON type is malformed (400); a bad value breaks a rule (422).
        let status = if body["name"].is_number() { 400 } else { 422 };
        let e = assert_api_error(&r, status);
        assert_eq!(e["details"]["field"], field, "{body}: {e}");
        assert!(e["details"]["reason"].as_str().is_some_and(|s| !s.is_empty()));
    }
    assert_eq!(app.admin(Method::GET, "/tenant", None).await.body, before);
}
