use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn claims_round_trip_as_the_acp_claims_api_states() {
    let app = spawn_app().await;
    let body = json!({"id": "1", "authorization_server_id": "default", "name": "email", "mapping": "email",
                      "type": "id_token", "scopes": ["email"], "tenant_id": "default"});
    let r = app.admin(Method::POST, "/claims", Some(body)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        r.body,
        json!({"id": "1", "authorization_server_id": "default", "tenant_id": "default", "name": "email",
               "mapping": "email", "type": "id_token", "scopes": ["email"]})
    );
    // Generated id; same name allowed for the other token type.
    let r = app
        .admin(Method::POST, "/claims", Some(json!({"authorization_server_id": "default", "name": "email", "mapping": "email", "type": "access_token"})))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["id"].as_str().unwrap().len(), 32);
    assert_eq!(r.body["scopes"], json!([]));
    let generated = r.body["id"].as_str().unwrap().to_owned();

    let list = app.admin(Method::GET, "/servers/default/claims", None).await;
    assert_eq!(list.status, 200);
    let ids: Vec<_> = list.body["claims"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].clone())
        .collect();
    assert_eq!(ids, [json!(generated), json!("1")]);

    let r = app
        .admin(
            Method::PUT,
            "/claims/1",
            Some(json!({"mapping": "emails.primary", "scopes": ["email", "profile"]})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["mapping"], "emails.primary");
    assert_eq!(r.body["name"], "email", "kept");
    assert_eq!(r.body["scopes"], json!(["email", "profile"]));

    assert_eq!(app.admin(Method::DELETE, "/claims/1", None).await.status, 204);
    assert_api_error(&app.admin(Method::DELETE, "/claims/1", None).await, 404);
    assert_api_error(&app.admin(Method::PUT, "/claims/1", Some(json!({}))).await, 404);
    let list = app.admin(Method::GET, "/servers/default/claims", None).await;
    assert_eq!(list.body["claims"].as_array().unwrap().len(), 1);
    assert_api_error(&app.admin(Method::GET, "/servers/ghost/claims", None).await, 404);
}

#[tokio::test]
async fn claims_refuse_bad_input_and_duplicates() {
    let app = spawn_app().await;
    let ok = json!({"authorization_server_id": "default", "name": "email", "mapping": "email", "type": "id_token"});
    let with = |k: &str, v: serde_json::Value| {
        let mut b = ok.clone();
        b[k] = v;
        b
    };
    let without = |k: &str| {
        let mut b = ok.clone();
        b.as_object_mut().unwrap().remove(k);
        b
    };
    for (body, field) in [
        (without("authorization_server_id"), "authorization_server_id"),
        (without("name"), "name"),
        (without("mapping"), "mapping"),
        (without("type"), "type"),
        (with("type", json!("string")), "type"),
        (with("name", json!("has space")), "name"),
        (with("mapping", json!("")), "mapping"),
        (with("scopes", json!(["bad scope"])), "scopes[0]"),
        (with("id", json!("bad/id")), "id"),
    ] {
        let r = app.admin(Method::POST, "/claims", Some(body.clone())).await;
        assert_eq!(assert_api_error(&r, 422)["details"]["field"], field, "{body}");
    }
    assert_api_error(
        &app.admin(
            Method::POST,
            "/claims",
            Some(with("authorization_server_id", json!("ghost"))),
        )
        .await,
        404,
    );
    assert_eq!(
        app.admin(Method::POST, "/claims", Some(with("id", json!("c1"))))
            .await
            .status,
        201
    );
    assert_api_error(
        &app.admin(Method::POST, "/claims", Some(with("id", json!("c2")))).await,
        409,
    );
    assert_api_error(
        &app.admin(Method::POST, "/claims", Some(with("id", json!("c1")))).await,
        409,
    );
    let r = app
        .admin(
            Method::PUT,
            "/claims/c1",
            Some(json!({"authorization_server_id": "admin"})),
        )
        .await;
    assert_eq!(assert_api_error(&r, 422)["details"]["field"], "authorization_server_id");
    let r = app
        .admin(Method::PUT, "/claims/c1", Some(json!({"type": "saml"})))
        .await;
    assert_eq!(assert_api_error(&r, 422)["details"]["field"], "type");
    let list = app.admin(Method::GET, "/servers/default/claims", None).await;
    assert_eq!(
        list.body["claims"].as_array().unwrap().len(),
        1,
        "refused requests created nothing"
    );
    assert_eq!(
        list.body["claims"][0]["type"], "id_token",
        "refused update changed nothing"
    );
}
