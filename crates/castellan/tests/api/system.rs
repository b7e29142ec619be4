//! The system API (`/api/system/…`): tenants created and deleted without touching the database.

use reqwest::Method;
use serde_json::json;

use crate::helpers::*;
use crate::permissions::{Cred, call, map};
use crate::tokens::{client, form};

#[tokio::test]
async fn a_tenant_created_through_the_system_api_works_end_to_end_and_deleting_it_ends_it() {
    let app = spawn_app().await;
    let boot = Cred::Basic(&app.id, &app.secret);
    let r = call(
        &app,
        boot,
        Method::POST,
        "/api/system/tenants",
        Some(json!({"id": "acme", "name": "Acme Corp", "key_type": "ecdsa"})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["tenant"]["id"], "acme");
    assert_eq!(r.body["tenant"]["url"], format!("{}/acme", app.base));
    assert_eq!(r.body["authorization_server_id"], "admin");
    let cid = r.body["client_id"].as_str().unwrap().to_owned();
    let secret = r.body["client_secret"].as_str().unwrap().to_owned();
    let acme = Cred::Basic(&cid, &secret);

    // Its admin client manages it: the bootstrap shape is there.
    let r = call(&app, acme, Method::GET, "/api/admin/acme/servers", None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut ids: Vec<&str> = r.body["servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, ["admin", "default", "developer"]);
    let r = call(&app, acme, Method::GET, "/api/admin/acme/policies", None).await;
    assert_eq!(r.body["policies"].as_array().unwrap().len(), 2, "{}", r.body);
    let r = call(&app, acme, Method::GET, "/api/admin/acme/servers/default/scopes", None).await;
    assert!(
        r.body["scopes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["name"] == "openid"),
        "{}",
        r.body
    );
    let r = call(
        &app,
        acme,
        Method::POST,
        "/api/admin/acme/clients",
        Some(json!({"client_id": "shop", "authorization_server_id": "default", "grant_types": ["client_credentials"]})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let shop_secret = r.body["client_secret"].as_str().unwrap().to_owned();
    let tokens = format!("{}/acme/default/oauth2/token", app.base);
    let r = form(
        &app,
        &tokens,
        Some(("shop", &shop_secret)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let admin_token = {
        let r = form(
            &app,
            &format!("{}/acme/admin/oauth2/token", app.base),
            Some((&cid, &secret)),
            &[("grant_type", "client_credentials")],
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.body["access_token"].as_str().unwrap().to_owned()
    };
    let r = call(
        &app,
        Cred::Bearer(&admin_token),
        Method::GET,
        "/api/admin/acme/tenant",
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);

    // Tenants stay apart: neither tenant's admin credentials work in the other, and only the
    // system tenant's reach the system API.
    assert_api_error(
        &call(&app, boot, Method::GET, "/api/admin/acme/tenant", None).await,
        401,
    );
    assert_api_error(
        &call(&app, acme, Method::GET, "/api/admin/default/tenant", None).await,
        401,
    );
    let r = call(
        &app,
        acme,
        Method::POST,
        "/api/system/tenants",
        Some(json!({"id": "evil"})),
    )
    .await;
    assert_api_error(&r, 401);
    let r = call(
        &app,
        Cred::Bearer(&admin_token),
        Method::DELETE,
        "/api/system/tenants/default",
        None,
    )
    .await;
    assert_api_error(&r, 401);

    // Conflicts and bad input change nothing.
    let r = call(
        &app,
        boot,
        Method::POST,
        "/api/system/tenants",
        Some(json!({"id": "acme"})),
    )
    .await;
    assert_api_error(&r, 409);
    for (body, field) in [
        (json!({}), "id"),
        (json!({"id": "has space"}), "id"),
        (json!({"id": "x1", "key_type": "dsa"}), "key_type"),
        (json!({"id": "x2", "name": " "}), "name"),
    ] {
        let r = call(&app, boot, Method::POST, "/api/system/tenants", Some(body)).await;
        assert_eq!(assert_api_error(&r, 422)["details"]["field"], field);
    }
    assert_api_error(
        &call(
            &app,
            Cred::Basic("bootstrap", "wrong-secret-0123456789"),
            Method::GET,
            "/api/admin/x1/tenant",
            None,
        )
        .await,
        401,
    );
    // The system tenant cannot be deleted.
    let r = call(&app, boot, Method::DELETE, "/api/system/tenants/default", None).await;
    assert_api_error(&r, 400);

    // Deleting it ends it: its tokens, its credentials, its endpoints.
    let r = call(&app, boot, Method::DELETE, "/api/system/tenants/acme", None).await;
    assert_eq!(r.status, 204, "{}", r.body);
    let r = call(
        &app,
        Cred::Bearer(&admin_token),
        Method::GET,
        "/api/admin/acme/tenant",
        None,
    )
    .await;
    assert_api_error(&r, 401);
    assert_api_error(
        &call(&app, acme, Method::GET, "/api/admin/acme/tenant", None).await,
        401,
    );
    let r = form(
        &app,
        &tokens,
        Some(("shop", &shop_secret)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert_api_error(
        &call(&app, boot, Method::DELETE, "/api/system/tenants/acme", None).await,
        404,
    );
    // Created again under the same id, it starts anew: old tokens and secrets stay dead.
    let r = call(
        &app,
        boot,
        Method::POST,
        "/api/system/tenants",
        Some(json!({"id": "acme"})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = call(
        &app,
        Cred::Bearer(&admin_token),
        Method::GET,
        "/api/admin/acme/tenant",
        None,
    )
    .await;
    assert_api_error(&r, 401);
    assert_api_error(
        &call(&app, acme, Method::GET, "/api/admin/acme/tenant", None).await,
        401,
    );
    // The system tenant is untouched.
    client(
        &app,
        json!({"client_id": "still-here", "grant_types": ["client_credentials"]}),
    )
    .await;
}

#[tokio::test]
async fn the_system_api_needs_system_write_of_the_system_tenant() {
    let app = spawn_app().await;
    // An admin client of the system tenant mapped to everything but system.write.
    let r = app
        .admin(
            Method::POST,
            "/clients",
            Some(
                json!({"client_id": "ops", "authorization_server_id": "admin", "grant_types": ["client_credentials"]}),
            ),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let secret = r.body["client_secret"].as_str().unwrap().to_owned();
    map(&app, "ops", "* system.read").await;
    let r = call(
        &app,
        Cred::Basic("ops", &secret),
        Method::POST,
        "/api/system/tenants",
        Some(json!({"id": "acme"})),
    )
    .await;
    assert!(
        assert_api_error(&r, 403)["error"]
            .as_str()
            .unwrap()
            .contains("system.write"),
        "{}",
        r.body
    );
    let r = call(
        &app,
        Cred::Basic("ops", &secret),
        Method::DELETE,
        "/api/system/tenants/acme",
        None,
    )
    .await;
    assert_api_error(&r, 403);
    map(&app, "ops", "system.write").await;
    let r = call(
        &app,
        Cred::Basic("ops", &secret),
        Method::POST,
        "/api/system/tenants",
        Some(json!({"id": "acme"})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
}
