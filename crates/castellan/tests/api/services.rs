//! Services and APIs (Cloudentity ACP `/services`, `/apis`): the operations, their rules and
//! errors, and the scope's service.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

async fn create_service(app: &TestApp, id: &str) -> Value {
    let r = app
        .admin(
            Method::POST,
            "/services",
            Some(json!({"id": id, "name": format!("Service {id}"), "authorization_server_id": "default"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body
}

async fn create_api(app: &TestApp, body: Value) -> Value {
    let r = app.admin(Method::POST, "/apis", Some(body)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body
}

fn details_field(r: &Resp) -> String {
    r.body["details"]["field"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn services_round_trip_and_refuse_what_breaks_a_rule() {
    let app = spawn_app().await;
    let s = create_service(&app, "petstore").await;
    assert_eq!(
        s,
        json!({"authorization_server_id": "default", "id": "petstore",
            "name": "Service petstore", "tenant_id": "default", "with_specification": false})
    );
    // Generated id.
    let r = app
        .admin(
            Method::POST,
            "/services",
            Some(json!({"name": "Other", "authorization_server_id": "default"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["id"].as_str().unwrap().len(), 32);

    // Conflicts and bad input.
    let r = app
        .admin(
            Method::POST,
            "/services",
            Some(json!({"id": "petstore", "name": "x", "authorization_server_id": "default"})),
        )
        .await;
    assert_api_error(&r, 409);
    for (body, field) in [
        (json!({"authorization_server_id": "default"}), "name"),
        (
            json!({"name": "x", "authorization_server_id": "nope"}),
            "authorization_server_id",
        ),
        (
            json!({"name": "x", "authorization_server_id": "default", "gateway_id": "gw"}),
            "gateway_id",
        ),
        (
            json!({"name": "x", "authorization_server_id": "default", "id": "a b"}),
            "id",
        ),
        (
            json!({"name": "x", "authorization_server_id": "default", "tenant_id": "other"}),
            "tenant_id",
        ),
    ] {
        let r = app.admin(Method::POST, "/services", Some(body.clone())).await;
        assert_api_error(&r, 422);
        assert_eq!(details_field(&r), field, "{body}");
    }
    let r = app
        .admin(
            Method::POST,
            "/services",
            Some(json!({"name": 5, "authorization_server_id": "default"})),
        )
        .await;
    assert_api_error(&r, 400);

    // Update: name and description; the server stays.
    let r = app
        .admin(
            Method::PUT,
            "/services/petstore",
            Some(json!({"name": "Pet store", "description": "Pets"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["name"], "Pet store");
    assert_eq!(r.body["description"], "Pets");
    let r = app
        .admin(
            Method::PUT,
            "/services/petstore",
            Some(json!({"authorization_server_id": "admin"})),
        )
        .await;
    assert_api_error(&r, 422);
    assert_api_error(&app.admin(Method::PUT, "/services/nope", Some(json!({}))).await, 404);

    // Get answers the scopes that name it; list answers the lambda flag.
    let r = app
        .admin(
            Method::POST,
            "/scopes",
            Some(json!({"name": "pets.read", "service_id": "petstore", "authorization_server_id": "default"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let sid = r.body["id"].as_str().unwrap().to_owned();
    let r = app.admin(Method::GET, "/services/petstore", None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["protected_by_lambda_authorizer"], false);
    assert_eq!(r.body["scopes"][0]["name"], "pets.read");
    let r = app.admin(Method::GET, "/servers/default/services", None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let ids: Vec<&str> = r.body["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"petstore"), "{ids:?}");
    assert!(
        r.body["services"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["protected_by_lambda_authorizer"] == false)
    );
    assert_api_error(&app.admin(Method::GET, "/servers/nope/services", None).await, 404);
    assert_eq!(
        app.admin(Method::GET, "/servers/admin/services", None).await.body["services"],
        json!([])
    );

    // A scope naming it keeps it; an unknown service_id on a scope is a 422.
    let r = app.admin(Method::DELETE, "/services/petstore", None).await;
    assert!(
        assert_api_error(&r, 409)["error"]
            .as_str()
            .unwrap()
            .contains("pets.read")
    );
    let r = app
        .admin(
            Method::POST,
            "/scopes",
            Some(json!({"name": "ghost", "service_id": "ghost", "authorization_server_id": "default"})),
        )
        .await;
    assert_api_error(&r, 422);
    assert_eq!(details_field(&r), "service_id");
    // …and so is a service of another server.
    let r = app
        .admin(
            Method::POST,
            "/services",
            Some(json!({"id": "adminsvc", "name": "x", "authorization_server_id": "admin"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = app
        .admin(
            Method::POST,
            "/scopes",
            Some(json!({"name": "cross", "service_id": "adminsvc", "authorization_server_id": "default"})),
        )
        .await;
    assert_api_error(&r, 422);
    let r = app.admin(Method::DELETE, &format!("/scopes/{sid}"), None).await;
    assert_eq!(r.status, 204, "{}", r.body);
    let r = app.admin(Method::DELETE, "/services/petstore", None).await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_api_error(&app.admin(Method::GET, "/services/petstore", None).await, 404);
    assert_api_error(&app.admin(Method::DELETE, "/services/petstore", None).await, 404);
}

#[tokio::test]
async fn apis_round_trip_with_their_rules_and_filters() {
    let app = spawn_app().await;
    create_service(&app, "petstore").await;
    let a = create_api(
        &app,
        json!({"service_id": "petstore", "method": "get", "path": "/pets", "data_classifications": ["pii"]}),
    )
    .await;
    assert_eq!(a["method"], "GET");
    assert_eq!(a["position"], 1);
    assert_eq!(a["server_id"], "default");
    assert_eq!(a["tenant_id"], "default");
    assert_eq!(a["can_have_policy"], true);
    assert_eq!(a["policy_id"], Value::Null);
    let b = create_api(
        &app,
        json!({"id": "pet", "service_id": "petstore", "method": "GET", "path": "/pets/{petId}", "policy_id": "allow"}),
    )
    .await;
    assert_eq!(b["position"], 2);
    assert_eq!(b["policy_id"], "allow");

    // The same method and path twice, and bad input.
    let r = app
        .admin(
            Method::POST,
            "/apis",
            Some(json!({"service_id": "petstore", "method": "GET", "path": "/pets"})),
        )
        .await;
    assert_api_error(&r, 409);
    for (body, field) in [
        (json!({"method": "GET", "path": "/x"}), "service_id"),
        (
            json!({"service_id": "nope", "method": "GET", "path": "/x"}),
            "service_id",
        ),
        (json!({"service_id": "petstore", "path": "/x"}), "method"),
        (
            json!({"service_id": "petstore", "method": "FETCH", "path": "/x"}),
            "method",
        ),
        (json!({"service_id": "petstore", "method": "GET"}), "path"),
        (json!({"service_id": "petstore", "method": "GET", "path": "x"}), "path"),
        (
            json!({"service_id": "petstore", "method": "GET", "path": "/a/{b"}),
            "path",
        ),
        (
            json!({"service_id": "petstore", "method": "GET", "path": "/x", "policy_id": "nope"}),
            "policy_id",
        ),
        (
            json!({"service_id": "petstore", "method": "GET", "path": "/x", "server_id": "admin"}),
            "server_id",
        ),
        (
            json!({"service_id": "petstore", "method": "GET", "path": "/x", "data_classifications": [""]}),
            "data_classifications[0]",
        ),
    ] {
        let r = app.admin(Method::POST, "/apis", Some(body.clone())).await;
        assert_api_error(&r, 422);
        assert_eq!(details_field(&r), field, "{body}");
    }

    // The same method on the same template with another parameter name: it would not route.
    let r = app
        .admin(
            Method::POST,
            "/apis",
            Some(json!({"service_id": "petstore", "method": "GET", "path": "/pets/{id}/"})),
        )
        .await;
    assert!(
        assert_api_error(&r, 422)["error"]
            .as_str()
            .unwrap()
            .contains("already an API"),
        "{}",
        r.body
    );

    // Update: the policy and the classifications.
    let r = app
        .admin(
            Method::PUT,
            "/apis/pet",
            Some(json!({"policy_id": "block", "data_classifications": ["pii", "pci"]})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["policy_id"], "block");
    assert_eq!(r.body["path"], "/pets/{petId}");
    let r = app
        .admin(Method::PUT, "/apis/pet", Some(json!({"policy_id": "nope"})))
        .await;
    assert_api_error(&r, 422);
    assert_eq!(
        app.admin(Method::GET, "/apis/pet", None).await.body["policy_id"],
        "block"
    );
    // A policy an API uses cannot be deleted.
    let p = json!({"id": "mine", "policy_name": "Mine", "validators": [{"name": "true"}]});
    assert_eq!(app.admin(Method::POST, "/policies", Some(p)).await.status, 201);
    let r = app
        .admin(Method::PUT, "/apis/pet", Some(json!({"policy_id": "mine"})))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_api_error(&app.admin(Method::DELETE, "/policies/mine", None).await, 409);

    // Filters.
    let list = |q: &'static str| {
        let app = &app;
        async move {
            let r = app
                .admin(Method::GET, &format!("/services/petstore/apis{q}"), None)
                .await;
            assert_eq!(r.status, 200, "{}", r.body);
            r.body["apis"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["path"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(list("").await, ["/pets", "/pets/{petId}"]);
    assert_eq!(list("?data_classification=pci").await, ["/pets/{petId}"]);
    assert_eq!(
        list("?data_classification=pci&data_classification=pii").await,
        ["/pets", "/pets/{petId}"]
    );
    create_api(
        &app,
        json!({"service_id": "petstore", "method": "DELETE", "path": "/pets/{petId}"}),
    )
    .await;
    assert_eq!(list("?without_data_classifications=true").await, ["/pets/{petId}"]);
    let r = app.admin(Method::GET, "/servers/default/apis", None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["apis_by_services"]["petstore"].as_array().unwrap().len(), 3);
    let r = app
        .admin(Method::GET, "/servers/default/apis?data_classification=pci", None)
        .await;
    assert_eq!(r.body["apis_by_services"]["petstore"].as_array().unwrap().len(), 1);
    assert_api_error(&app.admin(Method::GET, "/services/nope/apis", None).await, 404);

    // A manual API can be deleted one by one.
    assert_eq!(app.admin(Method::DELETE, "/apis/pet", None).await.status, 204);
    assert_api_error(&app.admin(Method::GET, "/apis/pet", None).await, 404);
    assert_api_error(&app.admin(Method::DELETE, "/apis/pet", None).await, 404);

    // Deleting the service takes its APIs.
    assert_eq!(app.admin(Method::DELETE, "/services/petstore", None).await.status, 204);
    let id = a["id"].as_str().unwrap();
    assert_api_error(&app.admin(Method::GET, &format!("/apis/{id}"), None).await, 404);
}

#[tokio::test]
async fn services_of_another_tenant_are_invisible() {
    let app = spawn_app().await;
    create_service(&app, "petstore").await;
    create_api(
        &app,
        json!({"id": "pets", "service_id": "petstore", "method": "GET", "path": "/pets"}),
    )
    .await;
    let secret = crate::auth::add_tenant_acme(&app).await;
    let acme = Some(("acme-admin", secret));
    for path in ["/services/petstore", "/apis/pets", "/services/petstore/apis"] {
        let r = app
            .call(Method::GET, &format!("/api/admin/acme{path}"), None, acme)
            .await;
        assert_api_error(&r, 404);
    }
    let r = app.call(Method::DELETE, "/api/admin/acme/apis/pets", None, acme).await;
    assert_api_error(&r, 404);
    // The same ids are free in acme.
    let r = app
        .call(
            Method::POST,
            "/api/admin/acme/services",
            Some(json!({"id": "petstore", "name": "Acme pets", "authorization_server_id": "default"})),
            acme,
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["tenant_id"], "acme");
    assert_eq!(
        app.admin(Method::GET, "/services/petstore", None).await.body["name"],
        "Service petstore"
    );
}

/// The Cloudentity ACP page's own create request: only `name` is required (the server defaults to
/// `default`), and `with_specification` is read-only (an import sets it), so the page's example
/// body still lets APIs be added by hand.
#[tokio::test]
async fn a_service_needs_only_a_name_and_with_specification_is_read_only() {
    let app = spawn_app().await;
    let r = app
        .admin(
            Method::POST,
            "/services",
            Some(json!({"id": "billing", "name": "Billing", "with_specification": true})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["authorization_server_id"], "default");
    assert_eq!(r.body["with_specification"], false);
    let r = app
        .admin(
            Method::POST,
            "/apis",
            Some(json!({"service_id": "billing", "method": "GET", "path": "/invoices"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
}
