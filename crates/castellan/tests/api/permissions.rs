//! Permissions on every management operation (403 in each family's error shape), STS client
//! mappings and developer roles (`/v1/sts-clients`, `/v1/roles`, Cloudentity Nexus), and the
//! `permissions` claim of the tokens they govern.

use std::collections::BTreeSet;

use castellan_domain::{Access, Permission, Resource};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::flows::jwt_claims;
use crate::helpers::*;
use crate::tokens::{client, form, issuer};

/// One management operation as the OpenAPI document lists it, with the permission it declares.
pub(crate) struct Op {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) permission: String,
}

/// Every operation of every management family (`/api/…` and `/v1/…`), from the generated
/// OpenAPI document — the router is built from the same declarations, so a route cannot be
/// missing here. Fails when one does not declare its permission.
pub(crate) fn management_ops() -> Vec<Op> {
    let spec = castellan_web::openapi();
    let mut ops = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        // The gateway authorizer is a protocol endpoint (gateway credentials, no permission);
        // the developer API takes developer tokens, which hold no permission (its own tests).
        if !(path.starts_with("/api/")
            || path.starts_with("/v1/")
            || path.starts_with("/admin/")
            || path.starts_with("/oam/"))
            || path.starts_with("/api/gateway/")
            || path.starts_with("/api/developer/")
        {
            continue;
        }
        for (method, op) in item.as_object().unwrap() {
            let permission = op["x-castellan-permission"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} declares no x-castellan-permission"));
            assert!(
                Permission::parse(permission).is_some(),
                "{method} {path}: {permission} is no permission code"
            );
            // Path parameters name nothing that exists, so an allowed call is a 404 or a
            // validation error and changes nothing; only the tenant is real.
            let mut concrete = path.replace("{tid}", "default");
            while let Some(start) = concrete.find('{') {
                let end = concrete[start..].find('}').unwrap() + start;
                concrete.replace_range(start..=end, "nosuch");
            }
            if path.starts_with("/oam/") && method != "post" {
                concrete.push_str("?id=nosuch");
            }
            ops.push(Op {
                method: Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
                path: concrete,
                permission: permission.to_owned(),
            });
        }
    }
    assert!(ops.len() >= 35, "only {} management operations found", ops.len());
    ops
}

pub(crate) fn all_codes() -> Vec<String> {
    Resource::ALL
        .iter()
        .flat_map(|r| [Access::Read, Access::Write].map(|a| Permission::new(*r, a).to_string()))
        .collect()
}

/// How a test authenticates.
#[derive(Clone, Copy)]
pub(crate) enum Cred<'a> {
    Basic(&'a str, &'a str),
    Bearer(&'a str),
}

pub(crate) async fn call(app: &TestApp, cred: Cred<'_>, method: Method, path: &str, body: Option<Value>) -> Resp {
    let mut req = app.http.request(method, format!("{}{path}", app.base));
    req = match cred {
        Cred::Basic(id, secret) => req.basic_auth(id, Some(secret)),
        Cred::Bearer(token) => req.bearer_auth(token),
    };
    if let Some(b) = body {
        req = req.json(&b);
    }
    app.raw(req).await
}

/// Asserts an RFC 9457 problem document (the `/v1` family) with `status`; returns its detail.
fn assert_problem(r: &Resp, status: u16, instance: &str) -> String {
    assert_eq!(r.status.as_u16(), status, "{}", r.body);
    assert_eq!(r.headers["content-type"], "application/problem+json", "{}", r.body);
    assert_eq!(r.body["status"], status, "{}", r.body);
    assert_eq!(r.body["type"], "about:blank", "{}", r.body);
    assert!(r.body["title"].as_str().is_some_and(|t| !t.is_empty()), "{}", r.body);
    assert_eq!(r.body["instance"], instance, "{}", r.body);
    let detail = r.body["detail"].as_str().unwrap_or_default().to_owned();
    assert!(!detail.is_empty(), "{}", r.body);
    detail
}

/// A 403 in the family's error shape, naming the permission.
fn assert_forbidden(r: &Resp, op: &Op) {
    let detail = if op.path.starts_with("/v1/") {
        assert_problem(r, 403, op.path.split('?').next().unwrap())
    } else if op.path.starts_with("/admin/") {
        assert_eq!(r.status, 403, "{}", r.body);
        assert_eq!(r.body["status"], "403", "the TMF error object: {}", r.body);
        r.body["message"].as_str().unwrap().to_owned()
    } else if op.path.starts_with("/oam/") {
        assert_eq!(r.status, 403, "{}", r.body);
        r.body["message"].as_str().unwrap().to_owned()
    } else {
        assert_api_error(r, 403)["error"].as_str().unwrap().to_owned()
    };
    assert!(detail.contains(&op.permission), "{} {}: {detail}", op.method, op.path);
}

/// Creates a confidential client of the tenant's `admin` server; returns its secret.
pub(crate) async fn admin_client(app: &TestApp, id: &str) -> String {
    let c = client(
        app,
        json!({"client_id": id, "authorization_server_id": "admin", "grant_types": ["client_credentials"]}),
    )
    .await;
    c["client_secret"].as_str().unwrap().to_owned()
}

/// Maps STS client `id` to `permissions` (creating or replacing the mapping) as the bootstrap
/// client.
pub(crate) async fn map(app: &TestApp, id: &str, permissions: &str) {
    let boot = Cred::Basic(&app.id, &app.secret);
    let path = format!("/v1/sts-clients/{id}");
    let r = call(app, boot, Method::PUT, &path, Some(json!({"permissions": permissions}))).await;
    if r.status == StatusCode::NOT_FOUND {
        let r = call(
            app,
            boot,
            Method::POST,
            "/v1/sts-clients",
            Some(json!({"clientId": id, "permissions": permissions})),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.body);
    } else {
        assert_eq!(r.status, 200, "{}", r.body);
    }
}

async fn token(app: &TestApp, server: &str, id: &str, secret: &str, params: &[(&str, &str)]) -> String {
    let r = form(
        app,
        &format!("{}/oauth2/token", issuer(app, server)),
        Some((id, secret)),
        params,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["access_token"].as_str().unwrap().to_owned()
}

/// A person's token from the admin server's `console` client (password grant).
pub(crate) async fn password_token(app: &TestApp, secret: &str, user: &str, pw: &str) -> String {
    token(
        app,
        "admin",
        "console",
        secret,
        &[("grant_type", "password"), ("username", user), ("password", pw)],
    )
    .await
}

/// Calls every operation with `cred`; asserts 403 exactly for the operations whose permission
/// `allowed` does not answer yes for.
async fn walk(app: &TestApp, cred: Cred<'_>, allowed: impl Fn(&str) -> bool, who: &str) {
    for op in management_ops() {
        let r = call(app, cred, op.method.clone(), &op.path, Some(json!({}))).await;
        if allowed(&op.permission) {
            assert_ne!(
                r.status, 403,
                "{who}: {} {} needs {} and holds it: {}",
                op.method, op.path, op.permission, r.body
            );
            assert_ne!(r.status, 401, "{who}: {} {}: {}", op.method, op.path, r.body);
        } else {
            assert_forbidden(&r, &op);
        }
    }
}

#[tokio::test]
async fn every_management_operation_needs_its_permission() {
    let app = spawn_app().await;
    let secret = admin_client(&app, "probe").await;
    let cred = Cred::Basic("probe", &secret);
    let codes = all_codes();
    let needed: BTreeSet<String> = management_ops().into_iter().map(|o| o.permission).collect();
    for code in &needed {
        // Everything but the one permission: 403 from exactly the operations that need it.
        let others: Vec<&str> = codes.iter().filter(|c| *c != code).map(String::as_str).collect();
        map(&app, "probe", &others.join(" ")).await;
        for op in management_ops().iter().filter(|o| &o.permission == code) {
            let r = call(&app, cred, op.method.clone(), &op.path, Some(json!({}))).await;
            assert_forbidden(&r, op);
        }
        // Only the one permission: none of its operations answers 403.
        map(&app, "probe", code).await;
        for op in management_ops().iter().filter(|o| &o.permission == code) {
            let r = call(&app, cred, op.method.clone(), &op.path, Some(json!({}))).await;
            assert_ne!(r.status, 403, "{} {} with {code}: {}", op.method, op.path, r.body);
            assert_ne!(r.status, 401, "{} {}: {}", op.method, op.path, r.body);
        }
    }
    // Mapped to nothing: 403 everywhere.
    map(&app, "probe", "").await;
    walk(&app, cred, |_| false, "a client mapped to nothing").await;
}

#[tokio::test]
async fn a_person_holds_exactly_the_roles_mapped_to_their_groups() {
    let app = spawn_app().await;
    // The admin server lets people sign in with a password; pat is in `devs`, sam in `ops`.
    let mut server = app.admin(Method::GET, "/servers/admin", None).await.body;
    server["grant_types"].as_array_mut().unwrap().push(json!("password"));
    let r = app.admin(Method::PUT, "/servers/admin", Some(server)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app
        .admin(
            Method::PUT,
            "/servers/admin/authentications",
            Some(json!({"methods": [{"method": "static", "static": {"users": [
                {"username": "pat", "password": "pat-password-1", "authentication_context": {"groups": ["devs", "all"]}},
                {"username": "sam", "password": "sam-password-1", "authentication_context": {"groups": "ops"}}]}}]})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let console = client(
        &app,
        json!({"client_id": "console", "authorization_server_id": "admin", "grant_types": ["password"],
               "audience": ["https://console.example.com"]}),
    )
    .await;
    let console_secret = console["client_secret"].as_str().unwrap();
    let person = |user: &'static str, pw: &'static str| password_token(&app, console_secret, user, pw);
    let pat = person("pat", "pat-password-1").await;
    let sam = person("sam", "sam-password-1").await;
    assert!(
        jwt_claims(&pat).get("permissions").is_none(),
        "no role yet: no permissions claim"
    );

    // Without roles a person holds nothing.
    walk(&app, Cred::Bearer(&pat), |_| false, "pat without roles").await;

    // A role for the console's audience, mapped to `devs`.
    let boot = Cred::Basic(&app.id, &app.secret);
    let r = call(
        &app,
        boot,
        Method::POST,
        "/v1/roles",
        Some(
            json!({"audience": "https://console.example.com", "productName": "Console", "description": "console devs"}),
        ),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let role = r.body.clone();
    assert_eq!(role["name"], "Console-developers");
    let role_id = role["id"].as_str().unwrap().to_owned();
    let codes: Vec<&str> = role["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes.iter().copied().collect::<BTreeSet<_>>(),
        BTreeSet::from(["client.read", "client.write", "server.read", "scope.read"])
    );
    for p in role["permissions"].as_array().unwrap() {
        assert_eq!(p["roleId"], role_id.as_str());
        let code = Permission::parse(p["code"].as_str().unwrap()).unwrap();
        assert_eq!(p["permissionId"], code.number());
    }
    assert_eq!(role["connectionMaps"], json!([]));
    let maps = format!("/v1/roles/{role_id}/connection-maps");
    let r = call(
        &app,
        boot,
        Method::POST,
        &maps,
        Some(json!({"groupName": "devs", "name": "developers", "azoConnectionId": "corp-ad"})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["groupName"], "devs");
    assert_eq!(r.body["roleId"], role_id.as_str());
    assert_eq!(r.body["azoConnectionId"], "corp-ad");
    assert_eq!(r.body["role"]["name"], "Console-developers");
    let map_id = r.body["id"].as_i64().unwrap();

    // pat's token (issued before the role) now holds exactly the role's permissions; sam's
    // groups match no map.
    let held: BTreeSet<String> = codes.iter().map(|c| c.to_string()).collect();
    walk(&app, Cred::Bearer(&pat), |p| held.contains(p), "pat with the role").await;
    walk(&app, Cred::Bearer(&sam), |_| false, "sam").await;

    // New tokens of a person whose audience is the role's carry the permissions, and
    // introspection returns them.
    let pat2 = person("pat", "pat-password-1").await;
    assert_eq!(
        jwt_claims(&pat2)["permissions"],
        "server.read client.read client.write scope.read"
    );
    let sam2 = person("sam", "sam-password-1").await;
    assert!(jwt_claims(&sam2).get("permissions").is_none());
    let r = form(
        &app,
        &format!("{}/oauth2/introspect", issuer(&app, "admin")),
        Some(("console", console_secret)),
        &[("token", pat2.as_str())],
    )
    .await;
    assert_eq!(r.body["active"], true, "{}", r.body);
    assert_eq!(r.body["permissions"], "server.read client.read client.write scope.read");

    // Updating the role's permissions applies at once.
    let r = call(
        &app,
        boot,
        Method::PUT,
        &format!("/v1/roles/{role_id}"),
        Some(json!({"permissions": "tenant.read"})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["permissions"][0]["code"], "tenant.read");
    assert_eq!(r.body["connectionMaps"][0]["groupName"], "devs");
    let r = call(&app, Cred::Bearer(&pat), Method::GET, "/api/admin/default/tenant", None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = call(
        &app,
        Cred::Bearer(&pat),
        Method::GET,
        "/api/admin/default/servers",
        None,
    )
    .await;
    assert_api_error(&r, 403);

    // Removing the map (by id, then again by group: nothing left → 404) takes it away.
    let r = call(&app, boot, Method::DELETE, &format!("{maps}/{map_id}"), None).await;
    assert_eq!(r.status, 204, "{}", r.body);
    let r = call(&app, boot, Method::DELETE, &format!("{maps}?groupName=devs"), None).await;
    assert_problem(&r, 404, &maps);
    let r = call(&app, Cred::Bearer(&pat), Method::GET, "/api/admin/default/tenant", None).await;
    assert_api_error(&r, 403);

    // By group name: the map of that group goes, the others stay; one map per group.
    for group in ["ops", "all"] {
        let r = call(&app, boot, Method::POST, &maps, Some(json!({"groupName": group}))).await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let r = call(&app, boot, Method::POST, &maps, Some(json!({"groupName": "ops"}))).await;
    assert_problem(&r, 409, &maps);
    let r = call(&app, Cred::Bearer(&sam), Method::GET, "/api/admin/default/tenant", None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = call(&app, boot, Method::DELETE, &format!("{maps}?groupName=ops"), None).await;
    assert_eq!(r.status, 204, "{}", r.body);
    let r = call(&app, Cred::Bearer(&sam), Method::GET, "/api/admin/default/tenant", None).await;
    assert_api_error(&r, 403);
    let r = call(&app, Cred::Bearer(&pat), Method::GET, "/api/admin/default/tenant", None).await;
    assert_eq!(r.status, 200, "pat is in `all`: {}", r.body);
    let r = call(&app, boot, Method::GET, &format!("/v1/roles/{role_id}"), None).await;
    let left: Vec<&Value> = r.body["connectionMaps"].as_array().unwrap().iter().collect();
    assert_eq!(left.len(), 1, "{}", r.body);
    assert_eq!(left[0]["groupName"], "all");

    // List, delete, gone.
    let r = call(&app, boot, Method::GET, "/v1/roles", None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body.as_array().unwrap().len(), 1);
    let r = call(&app, boot, Method::DELETE, &format!("/v1/roles/{role_id}"), None).await;
    assert_eq!(r.status, 204, "{}", r.body);
    let r = call(&app, boot, Method::GET, &format!("/v1/roles/{role_id}"), None).await;
    assert_problem(&r, 404, &format!("/v1/roles/{role_id}"));
}

#[tokio::test]
async fn an_sts_mapping_replaces_what_an_admin_client_holds() {
    let app = spawn_app().await;
    let secret = admin_client(&app, "ops-bot").await;
    let ops_token = || {
        token(
            &app,
            "admin",
            "ops-bot",
            &secret,
            &[("grant_type", "client_credentials")],
        )
    };
    let before = ops_token().await;
    assert!(
        jwt_claims(&before).get("permissions").is_none(),
        "an unmapped admin client holds * and its tokens carry no claim"
    );
    let r = call(
        &app,
        Cred::Bearer(&before),
        Method::GET,
        "/api/admin/default/tenant",
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);

    // Mapped read-only for clients: exactly that, whatever the credential.
    let boot = Cred::Basic(&app.id, &app.secret);
    let r = app
        .raw(
            app.http
                .post(format!("{}/v1/sts-clients", app.base))
                .basic_auth(&app.id, Some(&app.secret))
                .header("ApplicationToken", "bootstrap")
                .json(&json!({"clientId": "ops-bot", "description": "read-only bot", "permissions": "client.read"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["clientId"], "ops-bot");
    assert_eq!(r.body["permissions"], "client.read");
    assert_eq!(r.body["description"], "read-only bot");
    assert_eq!(r.body["createdBy"], "bootstrap");
    assert_eq!(r.body["modifiedBy"], "bootstrap");
    assert_eq!(r.body["created"], r.body["modified"]);
    assert!(r.body["created"].as_str().unwrap().ends_with('Z'), "{}", r.body);

    let mapped = ops_token().await;
    assert_eq!(jwt_claims(&mapped)["permissions"], "client.read");
    let web = client(&app, json!({"client_id": "web", "grant_types": ["client_credentials"]})).await;
    let r = form(
        &app,
        &format!("{}/oauth2/introspect", issuer(&app, "admin")),
        Some(("ops-bot", secret.as_str())),
        &[("token", mapped.as_str())],
    )
    .await;
    assert_eq!(r.body["permissions"], "client.read", "{}", r.body);
    assert!(web["client_secret"].is_string());
    for cred in [
        Cred::Bearer(&mapped),
        Cred::Bearer(&before),
        Cred::Basic("ops-bot", &secret),
    ] {
        let r = call(&app, cred, Method::GET, "/api/admin/default/clients/web", None).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let r = call(
            &app,
            cred,
            Method::PUT,
            "/api/admin/default/clients/web",
            Some(json!({"client_name": "renamed"})),
        )
        .await;
        assert_api_error(&r, 403);
        let r = call(&app, cred, Method::GET, "/api/admin/default/tenant", None).await;
        assert_api_error(&r, 403);
        let r = call(&app, cred, Method::GET, "/v1/sts-clients", None).await;
        assert_problem(&r, 403, "/v1/sts-clients");
    }

    // Read, list, update; then delete restores `*`.
    let r = call(&app, boot, Method::GET, "/v1/sts-clients/ops-bot", None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["permissions"], "client.read");
    let r = call(&app, boot, Method::GET, "/v1/sts-clients", None).await;
    assert_eq!(r.body.as_array().unwrap().len(), 1, "{}", r.body);
    let r = call(
        &app,
        boot,
        Method::PUT,
        "/v1/sts-clients/ops-bot",
        Some(json!({"permissions": "client.read client.write"})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["permissions"], "client.read client.write");
    assert_eq!(r.body["createdBy"], "bootstrap");
    assert_eq!(
        r.body["modifiedBy"], "bootstrap",
        "without ApplicationToken the caller is recorded"
    );
    let r = call(
        &app,
        Cred::Bearer(&mapped),
        Method::PUT,
        "/api/admin/default/clients/web",
        Some(json!({"client_name": "renamed"})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);

    let r = call(&app, boot, Method::DELETE, "/v1/sts-clients/ops-bot", None).await;
    assert_eq!(r.status, 204, "{}", r.body);
    let r = call(
        &app,
        Cred::Bearer(&mapped),
        Method::GET,
        "/api/admin/default/tenant",
        None,
    )
    .await;
    assert_eq!(r.status, 200, "deleting the mapping restores *: {}", r.body);
    assert!(jwt_claims(&ops_token().await).get("permissions").is_none());
    let r = call(&app, boot, Method::DELETE, "/v1/sts-clients/ops-bot", None).await;
    assert_problem(&r, 404, "/v1/sts-clients/ops-bot");
}

#[tokio::test]
async fn a_read_only_mapping_cannot_grant_more_than_it_holds() {
    let app = spawn_app().await;
    let secret = admin_client(&app, "delegate").await;
    map(&app, "delegate", "sts-client.write sts-client.read client.read").await;
    let cred = Cred::Basic("delegate", &secret);
    for (permissions, ok) in [
        ("client.read", true),
        ("client.read sts-client.read", true),
        ("client.write", false),
        ("*", false),
        ("system.read", false),
    ] {
        let r = call(
            &app,
            cred,
            Method::POST,
            "/v1/sts-clients",
            Some(json!({"clientId": format!("x-{}", permissions.replace(' ', "-")), "permissions": permissions})),
        )
        .await;
        if ok {
            assert_eq!(r.status, 201, "{permissions}: {}", r.body);
        } else {
            let detail = assert_problem(&r, 403, "/v1/sts-clients");
            assert!(detail.contains("hold"), "{permissions}: {detail}");
        }
    }
    // Nor can it raise a mapping it could read.
    let r = call(
        &app,
        cred,
        Method::PUT,
        "/v1/sts-clients/delegate",
        Some(json!({"permissions": "*"})),
    )
    .await;
    assert_problem(&r, 403, "/v1/sts-clients/delegate");
    let r = call(&app, cred, Method::GET, "/v1/sts-clients/delegate", None).await;
    assert_eq!(
        r.body["permissions"], "client.read sts-client.read sts-client.write",
        "unchanged: {}",
        r.body
    );
}

#[tokio::test]
async fn nexus_errors_are_problem_details() {
    let app = spawn_app().await;
    let boot = Cred::Basic(&app.id, &app.secret);
    let sts = "/v1/sts-clients";

    // Malformed JSON and a member of the wrong type: 400.
    let r = app
        .raw(
            app.http
                .post(format!("{}{sts}", app.base))
                .basic_auth(&app.id, Some(&app.secret))
                .header("content-type", "application/json")
                .body("{\"clientId\": "),
        )
        .await;
    assert_problem(&r, 400, sts);
    let r = call(
        &app,
        boot,
        Method::POST,
        sts,
        Some(json!({"clientId": "a", "permissions": 5})),
    )
    .await;
    assert_problem(&r, 400, sts);
    // Unknown permission code: 400 naming it; nothing written.
    let r = call(
        &app,
        boot,
        Method::POST,
        sts,
        Some(json!({"clientId": "a", "permissions": "client.read client.fly"})),
    )
    .await;
    let detail = assert_problem(&r, 400, sts);
    assert!(detail.contains("client.fly"), "{detail}");
    let r = call(&app, boot, Method::GET, "/v1/sts-clients/a", None).await;
    assert_problem(&r, 404, "/v1/sts-clients/a");
    // clientId: required, at most 256 characters, `@` and `:` allowed.
    let r = call(
        &app,
        boot,
        Method::POST,
        sts,
        Some(json!({"permissions": "client.read"})),
    )
    .await;
    let detail = assert_problem(&r, 400, sts);
    assert!(detail.contains("clientId"), "{detail}");
    let long = "x".repeat(257);
    let r = call(&app, boot, Method::POST, sts, Some(json!({"clientId": long}))).await;
    assert_problem(&r, 400, sts);
    let r = call(
        &app,
        boot,
        Method::POST,
        sts,
        Some(json!({"clientId": "myclient@clients:eu", "permissions": "client.read"})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = call(&app, boot, Method::GET, "/v1/sts-clients/myclient%40clients%3Aeu", None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["clientId"], "myclient@clients:eu");
    // Duplicates: 409.
    let r = call(
        &app,
        boot,
        Method::POST,
        sts,
        Some(json!({"clientId": "myclient@clients:eu"})),
    )
    .await;
    let detail = assert_problem(&r, 409, sts);
    assert!(detail.contains("myclient@clients:eu"), "{detail}");
    let role = json!({"audience": "https://api.example.com", "productName": "shop"});
    let r = call(&app, boot, Method::POST, "/v1/roles", Some(role.clone())).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = call(&app, boot, Method::POST, "/v1/roles", Some(role)).await;
    let detail = assert_problem(&r, 409, "/v1/roles");
    assert!(detail.contains("shop-developers"), "{detail}");
    // Role: audience and productName required (minLength 1).
    for body in [
        json!({"productName": "x"}),
        json!({"audience": "a", "productName": ""}),
        json!({"audience": "", "productName": "x"}),
    ] {
        let r = call(&app, boot, Method::POST, "/v1/roles", Some(body.clone())).await;
        assert_problem(&r, 400, "/v1/roles");
    }
    // Unauthenticated, wrong secret, bad ApplicationToken: 401.
    let r = app.raw(app.http.get(format!("{}{sts}", app.base))).await;
    assert_problem(&r, 401, sts);
    assert!(r.headers.contains_key("www-authenticate"));
    let r = call(&app, Cred::Basic(&app.id, "wrong"), Method::GET, sts, None).await;
    assert_problem(&r, 401, sts);
    let r = app
        .raw(
            app.http
                .post(format!("{}{sts}", app.base))
                .basic_auth(&app.id, Some(&app.secret))
                .header("ApplicationToken", "no-such-client")
                .json(&json!({"clientId": "b"})),
        )
        .await;
    assert_problem(&r, 401, sts);
    // A token of tenant `default` with a header naming another tenant: 401.
    let secret = admin_client(&app, "ops").await;
    let t = token(&app, "admin", "ops", &secret, &[("grant_type", "client_credentials")]).await;
    let r = app
        .raw(
            app.http
                .get(format!("{}{sts}", app.base))
                .bearer_auth(&t)
                .header("X-Castellan-Tenant", "acme"),
        )
        .await;
    assert_problem(&r, 401, sts);
    let r = app
        .raw(
            app.http
                .get(format!("{}{sts}", app.base))
                .bearer_auth(&t)
                .header("X-Castellan-Tenant", "default"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Basic credentials for a tenant that does not exist: 401, not a hint that it is missing.
    let r = app
        .raw(
            app.http
                .get(format!("{}{sts}", app.base))
                .basic_auth(&app.id, Some(&app.secret))
                .header("X-Castellan-Tenant", "acme"),
        )
        .await;
    assert_problem(&r, 401, sts);
    // Not found, of either resource.
    let r = call(&app, boot, Method::GET, "/v1/roles/nosuch", None).await;
    assert_problem(&r, 404, "/v1/roles/nosuch");
    let r = call(
        &app,
        boot,
        Method::POST,
        "/v1/roles/nosuch/connection-maps",
        Some(json!({"groupName": "g"})),
    )
    .await;
    assert_problem(&r, 404, "/v1/roles/nosuch/connection-maps");
    // Routes that do not exist, and methods a route does not have.
    let r = call(&app, boot, Method::GET, "/v1/nothing", None).await;
    assert_problem(&r, 404, "/v1/nothing");
    let r = call(&app, boot, Method::PATCH, sts, None).await;
    assert_problem(&r, 405, sts);
}

#[tokio::test]
async fn mappings_and_roles_stay_in_their_tenant() {
    let app = spawn_app().await;
    let acme_secret = crate::auth::add_tenant_acme(&app).await;
    let boot = Cred::Basic(&app.id, &app.secret);
    map(&app, "shared-name", "client.read").await;
    let r = call(
        &app,
        boot,
        Method::POST,
        "/v1/roles",
        Some(json!({"audience": "a", "productName": "p"})),
    )
    .await;
    let role_id = r.body["id"].as_str().unwrap().to_owned();
    let acme = |method: Method, path: &str| {
        app.http
            .request(method, format!("{}{path}", app.base))
            .basic_auth("acme-admin", Some(acme_secret))
            .header("X-Castellan-Tenant", "acme")
    };
    let r = app.raw(acme(Method::GET, "/v1/sts-clients")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body, json!([]));
    let r = app.raw(acme(Method::GET, "/v1/sts-clients/shared-name")).await;
    assert_problem(&r, 404, "/v1/sts-clients/shared-name");
    let r = app.raw(acme(Method::GET, "/v1/roles")).await;
    assert_eq!(r.body, json!([]));
    let path = format!("/v1/roles/{role_id}");
    let r = app.raw(acme(Method::DELETE, &path)).await;
    assert_problem(&r, 404, &path);
    // The same client id and role name are free in the other tenant.
    let r = app
        .raw(
            acme(Method::POST, "/v1/sts-clients")
                .json(&json!({"clientId": "shared-name", "permissions": "scope.read"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = app
        .raw(acme(Method::POST, "/v1/roles").json(&json!({"audience": "a", "productName": "p"})))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    // `system.*` exists only in the system tenant (the one the first start made).
    let r = app
        .raw(acme(Method::PUT, "/v1/sts-clients/shared-name").json(&json!({"permissions": "system.read"})))
        .await;
    let detail = assert_problem(&r, 400, "/v1/sts-clients/shared-name");
    assert!(detail.contains("system.read"), "{detail}");
    let r = call(&app, boot, Method::GET, "/v1/sts-clients/shared-name", None).await;
    assert_eq!(r.body["permissions"], "client.read", "{}", r.body);
}

/// Castellan as another API's STS: client ids may hold `@` and `:`, and a mapping may list
/// permission names Castellan does not define, which its tokens carry unchanged (they govern
/// nothing here); a name written like one of Castellan's codes must be one.
#[tokio::test]
async fn an_sts_mapping_carries_other_apis_permissions_for_any_client_id() {
    let app = spawn_app().await;
    let boot = Cred::Basic(&app.id, &app.secret);
    for id in ["myclient@clients", "urn:acme:ci"] {
        let c = client(&app, json!({"client_id": id, "grant_types": ["client_credentials"]})).await;
        let secret = c["client_secret"].as_str().unwrap().to_owned();
        let r = call(
            &app,
            boot,
            Method::POST,
            "/v1/sts-clients",
            Some(json!({"clientId": id, "permissions": "read:orders client.read orders write:orders"})),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.body);
        assert_eq!(r.body["permissions"], "client.read orders read:orders write:orders");
        let path = format!("/v1/sts-clients/{}", id.replace(':', "%3A").replace('@', "%40"));
        let r = call(&app, boot, Method::GET, &path, None).await;
        assert_eq!(r.body["clientId"], id, "{}", r.body);
        // RFC 6749 §2.3.1: the id is form-encoded inside Basic credentials.
        let encoded: String = form_urlencoded::byte_serialize(id.as_bytes()).collect();
        let r = app
            .raw(
                app.http
                    .post(format!("{}/oauth2/token", issuer(&app, "default")))
                    .basic_auth(&encoded, Some(&secret))
                    .form(&[("grant_type", "client_credentials")]),
            )
            .await;
        assert_eq!(r.status, 200, "{id}: {}", r.body);
        let claims = jwt_claims(r.body["access_token"].as_str().unwrap());
        assert_eq!(claims["client_id"], id);
        assert_eq!(claims["permissions"], "client.read orders read:orders write:orders");
    }
    // A typo of a Castellan code is not someone else's permission.
    for typo in ["client.reed", "clients.read", "scope.*"] {
        let r = call(
            &app,
            boot,
            Method::PUT,
            "/v1/sts-clients/urn%3Aacme%3Aci",
            Some(json!({"permissions": typo})),
        )
        .await;
        assert_eq!(r.status, 400, "{typo}: {}", r.body);
        assert!(r.body["detail"].as_str().unwrap().contains(typo), "{}", r.body);
    }
}
