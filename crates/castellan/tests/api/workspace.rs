//! Workspace clients (`/admin/workspaceClients`, TMF errors) and access-manager clients
//! (`/oam/…/oauthpolicyadmin/client`, `{message, field}` errors): the seeds' example requests,
//! every field rule, exchanges limited to the configured issuers and scopes, token attributes in
//! real tokens, and one client model shared with the admin API.

use reqwest::Method;
use serde_json::{Value, json};

use crate::exchange::{BEARER, EXCHANGE, Upstream};
use crate::helpers::*;
use crate::permissions::{admin_client, map};
use crate::tokens::{assert_oauth_error, client, form, issuer};

pub(crate) const WSC: &str = "/admin/workspaceClients";
pub(crate) const OAM: &str = "/oam/services/rest/ssa/api/v1/oauthpolicyadmin/client";

/// Asserts the TMF error object with `status` and returns its message.
fn assert_tmf(r: &Resp, status: u16) -> String {
    assert_eq!(r.status.as_u16(), status, "{}", r.body);
    assert_eq!(r.body["status"], status.to_string(), "status as a string: {}", r.body);
    assert!(r.body["code"].as_str().is_some_and(|c| !c.is_empty()), "{}", r.body);
    assert!(r.body["reason"].as_str().is_some_and(|c| !c.is_empty()), "{}", r.body);
    r.body["message"].as_str().unwrap().to_owned()
}

/// Asserts the access-manager error with `status`; returns `field`.
fn assert_oam(r: &Resp, status: u16) -> Value {
    assert_eq!(r.status.as_u16(), status, "{}", r.body);
    assert!(r.body["message"].as_str().is_some_and(|m| !m.is_empty()), "{}", r.body);
    r.body["field"].clone()
}

async fn boot(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> Resp {
    app.call(method, path, body, Some((&app.id, &app.secret))).await
}

/// The seed's example request, word for word.
pub(crate) fn seed_example() -> Value {
    json!({ "fusion-client-id": { "client-id": "fusion_client_id_1", "client-secret": "fusion_client_secret_1" },
        "workspace-oidc-server-data": { "buying": { "client-id": "csdhsdkj1wenkwqdnwcsdfsd33e",
            "client-secret": "s213q-wen23e2kwe-dsfdfdefd", "signing-key": "2jdpwe-dksckjdcd-1dewdecw" } },
        "global-oidc-server-data": { "Core": { "client-id": "core_client_id", "client-secret": "core_client_secret",
            "signing-key": "core_signing_key" } },
        "client-name": "Buying",
        "labels": [ { "label-name": "wsc-label-n1", "label-value": "wsc-label-v1" },
                    { "label-name": "wsc-label-n2", "label-value": "wsc-label-v2" } ],
        "client-identity-propagation-required": true })
}

/// The `default` server allows token exchange, has scopes, and two upstream login methods the
/// seed's example names (`buying`, `Core`) plus one it does not (`other`).
async fn setup(app: &TestApp, up: &Upstream, other: &Upstream) {
    let r = app
        .admin(
            Method::PUT,
            "/servers/default",
            Some(json!({"grant_types": ["authorization_code", "client_credentials", "refresh_token", "password", EXCHANGE, BEARER]})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    for name in ["orders.read", "orders.write"] {
        app.admin(
            Method::POST,
            "/scopes",
            Some(json!({"name": name, "authorization_server_id": "default"})),
        )
        .await;
    }
    let r = app
        .admin(
            Method::PUT,
            "/servers/default/authentications",
            Some(json!({"methods": [
                {"id": "buying", "method": "oidc", "oidc": {"issuer_url": up.issuer, "client_id": "castellan-at-buying", "client_secret": "x-not-used-here"}},
                {"id": "Core", "method": "oidc", "oidc": {"issuer_url": "https://core.example.com", "client_id": "core", "client_secret": "x-not-used-here"}},
                {"id": "other", "method": "oidc", "oidc": {"issuer_url": other.issuer, "client_id": "castellan-at-other", "client_secret": "x-not-used-here"}},
                {"id": "static", "method": "static", "static": {"users": [
                    {"username": "robot", "password": "robot-password-1", "authentication_context": {"email": "robot@example.com"}}]}}]})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test]
async fn workspace_clients_follow_the_seed_and_exchange_only_what_they_are_configured_for() {
    let app = spawn_app().await;
    let up = Upstream::start().await;
    let other = Upstream::start().await;
    setup(&app, &up, &other).await;

    // The seed's example: 201, the secret maps left out of the answer.
    let r = boot(&app, Method::POST, WSC, Some(seed_example())).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("buying") && id.len() == "buying".len() + 5, "{id}");
    assert_eq!(r.body["client-name"], "Buying");
    assert_eq!(r.body["labels"], seed_example()["labels"]);
    assert_eq!(r.body["fusion-client-id"], json!({}));
    assert_eq!(r.body["client-identity-propagation-required"], true);
    assert_eq!(r.body["trusted-issuers"], json!(["Core", "buying"]));
    for hidden in ["workspace-oidc-server-data", "global-oidc-server-data"] {
        assert!(r.body.get(hidden).is_none(), "{}", r.body);
    }
    let text = r.body.to_string();
    assert!(!text.contains("s213q-wen23e2kwe-dsfdfdefd") && !text.contains("fusion_client_secret_1"));
    let secret = r.body["client-secret"].as_str().unwrap().to_owned();

    // Kept encrypted, not in clear.
    let store = app.store().await;
    let stored = store
        .get_client(
            &castellan_domain::TenantId::parse("default").unwrap(),
            &castellan_domain::ClientId::parse(&id).unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    let w = stored.settings.workspace.clone().unwrap();
    let kept = w.workspace_issuers["buying"].client_secret.clone().unwrap();
    assert!(kept.starts_with("sealed:") && !kept.contains("s213q"), "{kept}");
    assert_eq!(
        w.workspace_issuers["buying"].client_id.as_deref(),
        Some("csdhsdkj1wenkwqdnwcsdfsd33e")
    );

    // Read back, listed, and the same client through the admin API.
    let r = boot(&app, Method::GET, &format!("{WSC}/{id}"), None).await;
    assert_eq!(
        (r.status.as_u16(), r.body["client-name"].clone()),
        (200, json!("Buying"))
    );
    assert!(r.body.get("client-secret").is_none());
    let r = boot(&app, Method::GET, WSC, None).await;
    assert_eq!(r.body.as_array().unwrap().len(), 1, "{}", r.body);
    let r = app.admin(Method::GET, &format!("/clients/{id}"), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["grant_types"], json!(["client_credentials", EXCHANGE]));
    assert_eq!(r.body["authorization_server_id"], "default");

    // Its exchanges: tokens of `buying` issued to its configured client id, with its scopes.
    let r = app
        .admin(
            Method::PUT,
            &format!("/clients/{id}"),
            Some(json!({"scopes": ["orders.read"]})),
        )
        .await;
    assert_eq!(r.status, 200, "edited through the admin API: {}", r.body);
    let url = format!("{}/oauth2/token", issuer(&app, "default"));
    let exchange = |token: String, scope: &'static str| {
        let url = url.clone();
        let (app, id, secret) = (&app, id.clone(), secret.clone());
        async move {
            let mut p = vec![
                ("grant_type", EXCHANGE),
                ("subject_token", token.as_str()),
                ("subject_token_type", "urn:ietf:params:oauth:token-type:jwt"),
            ];
            if !scope.is_empty() {
                p.push(("scope", scope));
            }
            form(app, &url, Some((&id, &secret)), &p).await
        }
    };
    let r = exchange(up.sign(&up.token("erin", "csdhsdkj1wenkwqdnwcsdfsd33e")), "").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["scope"], "orders.read");
    // The login method's own client id is not what this workspace client was configured with.
    let r = exchange(up.sign(&up.token("erin", "castellan-at-buying")), "").await;
    assert_oauth_error(&r, 400, "invalid_grant");
    // An issuer the server trusts but this client does not name.
    let r = exchange(other.sign(&other.token("erin", "castellan-at-other")), "").await;
    assert_oauth_error(&r, 400, "invalid_grant");
    // A scope beyond supported-outbound-token-scopes.
    let r = exchange(
        up.sign(&up.token("erin", "csdhsdkj1wenkwqdnwcsdfsd33e")),
        "orders.write",
    )
    .await;
    assert_oauth_error(&r, 400, "invalid_scope");

    // Replace: a fixed user for `buying`, a client-id read from a file, an env reference that
    // does not resolve (a warning, and a refusal when used).
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("client-id");
    std::fs::write(&file, "from-a-file\n").unwrap();
    let mut body = seed_example();
    body["workspace-oidc-server-data"]["buying"]["client-id"] = json!(format!("file:{}", file.display()));
    body["global-oidc-server-data"]["Core"]["client-secret"] = json!("env:CASTELLAN_TEST_NEVER_SET_VARIABLE");
    body["fixed-users-for-user-assertion-by-tic"] = json!({"buying": "robot"});
    body["supported-outbound-token-scopes"] = json!(["orders.read", "orders.write"]);
    let r = boot(&app, Method::PUT, &format!("{WSC}/{id}"), Some(body.clone())).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let warnings = r.body["warnings"].to_string();
    assert!(
        warnings.contains("global-oidc-server-data.Core.client-secret"),
        "{warnings}"
    );
    assert!(!warnings.contains("fusion"), "values are not references: {warnings}");
    let r = exchange(up.sign(&up.token("erin", "from-a-file")), "orders.write").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let claims: Value = castellan_jose::jwt::parse(r.body["access_token"].as_str().unwrap())
        .unwrap()
        .claims()
        .unwrap();
    assert_eq!(claims["sub"], "robot", "the fixed user for the issuer: {claims}");
    assert_eq!(claims["act"], Value::Null);
    std::fs::remove_file(&file).unwrap();
    let r = exchange(up.sign(&up.token("erin", "from-a-file")), "").await;
    assert_oauth_error(&r, 400, "invalid_request");
    assert!(
        r.body["error_description"]
            .as_str()
            .unwrap()
            .contains("does not resolve")
    );

    // Every field rule, in the TMF error object; nothing changes.
    for (patch, named) in [
        (json!({"labels": []}), "labels"),
        (
            json!({"supported-outbound-token-scopes": []}),
            "supported-outbound-token-scopes",
        ),
        (json!({"supported-outbound-token-scopes": ["no.such.scope"]}), "scopes"),
        (
            json!({"labels": [{"label-name": "n", "label-value": ""}]}),
            "labels[0].label-value",
        ),
        (
            json!({"fixed-users-for-user-assertion-by-tic": {"buying": "x".repeat(81)}}),
            "fixed-users-for-user-assertion-by-tic.buying",
        ),
        (
            json!({"workspace-oidc-server-data": {"nosuch": {"client-id": "a"}}}),
            "workspace-oidc-server-data.nosuch",
        ),
        (
            json!({"workspace-oidc-server-data": {"static": {"client-id": "a"}}}),
            "workspace-oidc-server-data.static",
        ),
        (json!({"labels": "not a list"}), "labels"),
    ] {
        let mut b = seed_example();
        for (k, v) in patch.as_object().unwrap() {
            b[k] = v.clone();
        }
        let r = boot(&app, Method::POST, WSC, Some(b)).await;
        let message = assert_tmf(&r, 400);
        assert!(message.contains(named), "{named}: {message}");
    }
    let r = app
        .raw(
            app.http
                .post(format!("{}{WSC}", app.base))
                .basic_auth(&app.id, Some(&app.secret))
                .header("content-type", "application/json")
                .body("{not json"),
        )
        .await;
    assert_tmf(&r, 400);
    let r = boot(&app, Method::GET, WSC, None).await;
    assert_eq!(
        r.body.as_array().unwrap().len(),
        1,
        "no failed create left a client: {}",
        r.body
    );
    assert_tmf(&app.call(Method::GET, WSC, None, None).await, 401);
    assert_tmf(&boot(&app, Method::GET, &format!("{WSC}/nosuch"), None).await, 404);
    assert_tmf(
        &boot(&app, Method::PATCH, &format!("{WSC}/{id}"), Some(json!({}))).await,
        405,
    );
    let r = boot(
        &app,
        Method::PUT,
        &format!("{WSC}/{id}"),
        Some(json!({"id": "another", "labels": [{"label-name": "a", "label-value": "b"}]})),
    )
    .await;
    assert_tmf(&r, 400);
    // A configuration export carries the workspace members: references as kept, encrypted
    // values only with secrets; importing it back keeps the workspace client whole.
    let find = |dump: &Value| -> Value {
        dump["clients"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["client_id"] == id.as_str())
            .cloned()
            .unwrap()
    };
    let plain = boot(&app, Method::GET, "/api/system/configuration?tid=default", None).await;
    assert_eq!(plain.status, 200, "{}", plain.body);
    let w = find(&plain.body)["workspace"].clone();
    assert_eq!(w["labels"], seed_example()["labels"], "{w}");
    assert_eq!(
        w["global-oidc-server-data"]["Core"]["client-secret"],
        "env:CASTELLAN_TEST_NEVER_SET_VARIABLE"
    );
    assert_eq!(w["fixed-users-for-user-assertion-by-tic"], json!({"buying": "robot"}));
    assert!(
        w["fusion-client-id"].get("client-secret").is_none(),
        "no secrets without with_secrets: {w}"
    );
    let full = boot(
        &app,
        Method::GET,
        "/api/system/configuration?tid=default&with_secrets=true",
        None,
    )
    .await;
    assert_eq!(full.status, 200, "{}", full.body);
    let w = find(&full.body)["workspace"].clone();
    assert_eq!(w["fusion-client-id"]["client-secret"], "fusion_client_secret_1");
    let r = boot(
        &app,
        Method::PUT,
        "/api/system/configuration?tid=default&mode=update",
        Some(full.body.clone()),
    )
    .await;
    assert_eq!(r.status.as_u16() / 100, 2, "{}", r.body);
    let after = boot(&app, Method::GET, &format!("{WSC}/{id}"), None).await;
    assert_eq!(after.body["labels"], seed_example()["labels"]);
    assert_eq!(after.body["trusted-issuers"], json!(["Core", "buying"]));
    let w = find(
        &boot(
            &app,
            Method::GET,
            "/api/system/configuration?tid=default&with_secrets=true",
            None,
        )
        .await
        .body,
    )["workspace"]
        .clone();
    assert_eq!(
        w["fusion-client-id"]["client-secret"], "fusion_client_secret_1",
        "sealed again, opened again"
    );

    // Permissions: workspace-client.read reads, only workspace-client.write writes; client.write
    // is not what this family asks for.
    let reader = admin_client(&app, "reader").await;
    map(&app, "reader", "workspace-client.read client.write").await;
    let r = app.call(Method::GET, WSC, None, Some(("reader", &reader))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app
        .call(Method::POST, WSC, Some(seed_example()), Some(("reader", &reader)))
        .await;
    assert!(assert_tmf(&r, 403).contains("workspace-client.write"));
    let r = app
        .call(Method::DELETE, &format!("{WSC}/{id}"), None, Some(("reader", &reader)))
        .await;
    assert_tmf(&r, 403);

    // Delete: gone from both APIs, its tokens with it.
    let r = boot(&app, Method::DELETE, &format!("{WSC}/{id}"), None).await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_tmf(&boot(&app, Method::GET, &format!("{WSC}/{id}"), None).await, 404);
    assert_api_error(&app.admin(Method::GET, &format!("/clients/{id}"), None).await, 404);
}

/// The seed's example, with the only change the page's own rules force: a longer secret.
pub(crate) fn oam_example() -> Value {
    json!({"attributes":[{"attrName":"customeAttr1","attrValue":"CustomValue","attrType":"static"}],
        "secret":"welcome1-welcome1","id":"TestClient","scopes":["ResServer1.scope1"],"clientType":"CONFIDENTIAL_CLIENT",
        "idDomain":"TestDomain1", "description":"Client Description","name":"TestClient",
        "grantTypes":["PASSWORD","CLIENT_CREDENTIALS","JWT_BEARER","REFRESH_TOKEN","AUTHORIZATION_CODE"],
        "defaultScope":"ResServer1.scope1","redirectURIs":[{"url":"http://localhost:8080/Sample.jsp","isHttps":true}]})
}

#[tokio::test]
async fn access_manager_clients_follow_the_seed_and_their_attributes_reach_tokens() {
    let app = spawn_app().await;
    let r = app
        .admin(
            Method::POST,
            "/servers",
            Some(json!({"id": "TestDomain1", "grant_types": ["password", "client_credentials", BEARER, "refresh_token", "authorization_code"],
                "authentications": {"methods": [{"method": "static", "static": {"users": [
                    {"username": "peter", "password": "peter-password-1", "authentication_context": {"email": "peter@example.com"}}]}}]}})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = app
        .admin(
            Method::POST,
            "/scopes",
            Some(json!({"name": "ResServer1.scope1", "authorization_server_id": "TestDomain1"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);

    // The page's `welcome1` is too short: 422 naming the rule.
    let mut short = oam_example();
    short["secret"] = json!("welcome1");
    let r = boot(&app, Method::POST, OAM, Some(short)).await;
    assert_eq!(assert_oam(&r, 422), "secret");
    assert!(r.body["message"].as_str().unwrap().contains("16"), "{}", r.body);

    let r = boot(&app, Method::POST, OAM, Some(oam_example())).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["id"], "TestClient");
    assert_eq!(r.body["idDomain"], "TestDomain1");
    assert_eq!(r.body["clientType"], "CONFIDENTIAL_CLIENT");
    assert_eq!(
        r.body["grantTypes"],
        json!([
            "PASSWORD",
            "CLIENT_CREDENTIALS",
            "JWT_BEARER",
            "REFRESH_TOKEN",
            "AUTHORIZATION_CODE"
        ])
    );
    assert_eq!(
        r.body["redirectURIs"],
        json!([{"url": "http://localhost:8080/Sample.jsp", "isHttps": false}]),
        "isHttps as the scheme says"
    );
    assert_eq!(
        r.body["attributes"],
        json!([{"attrName": "customeAttr1", "attrValue": "CustomValue", "attrType": "STATIC"}])
    );
    assert_eq!(r.body["secret"], "welcome1-welcome1");

    // The same client through the admin API, edited there, read back here.
    let r = app.admin(Method::GET, "/clients/TestClient", None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["token_endpoint_auth_method"], "client_secret_basic");
    assert_eq!(r.body["grant_types"][2], BEARER);
    assert_eq!(r.body["token_attributes"][0]["type"], "static");
    let r = app
        .admin(
            Method::PUT,
            "/clients/TestClient",
            Some(json!({"client_name": "Renamed", "token_attributes": [
                {"name": "customeAttr1", "value": "CustomValue", "type": "STATIC"},
                {"name": "who", "value": "${user.email} via ${client.id}", "type": "dynamic"},
                {"name": "asked", "value": "${request.scope}", "type": "DYNAMIC"}]})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = boot(&app, Method::GET, &format!("{OAM}?id=TestClient"), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["name"], "Renamed");
    assert!(r.body.get("secret").is_none(), "{}", r.body);
    assert_eq!(r.body["attributes"][1]["attrType"], "DYNAMIC");

    // STATIC and DYNAMIC attributes in real tokens; a client's own token has no user.
    let url = format!("{}/oauth2/token", issuer(&app, "TestDomain1"));
    let claims = |r: &Resp| -> Value {
        assert_eq!(r.status, 200, "{}", r.body);
        castellan_jose::jwt::parse(r.body["access_token"].as_str().unwrap())
            .unwrap()
            .claims()
            .unwrap()
    };
    let cc = claims(
        &form(
            &app,
            &url,
            Some(("TestClient", "welcome1-welcome1")),
            &[("grant_type", "client_credentials")],
        )
        .await,
    );
    assert_eq!(cc["customeAttr1"], "CustomValue");
    assert_eq!(cc["asked"], "ResServer1.scope1");
    assert!(
        cc.get("who").is_none(),
        "user.* has no value in a client's own token: {cc}"
    );
    let pw = claims(
        &form(
            &app,
            &url,
            Some(("TestClient", "welcome1-welcome1")),
            &[
                ("grant_type", "password"),
                ("username", "peter"),
                ("password", "peter-password-1"),
            ],
        )
        .await,
    );
    assert_eq!(pw["who"], "peter@example.com via TestClient");
    assert_eq!(pw["customeAttr1"], "CustomValue");

    // Field rules, each a 422 naming the access-manager member; nothing is created.
    for (patch, field) in [
        (
            json!({"attributes": [{"attrName": "a", "attrValue": "${nosuch.thing}", "attrType": "DYNAMIC"}]}),
            "attributes[0].attrValue",
        ),
        (
            json!({"attributes": [{"attrName": "a", "attrValue": "v", "attrType": "sometimes"}]}),
            "attributes[0].attrType",
        ),
        (
            json!({"attributes": [{"attrName": "sub", "attrValue": "v", "attrType": "STATIC"}]}),
            "attributes[0].attrName",
        ),
        (json!({"grantTypes": ["IMPLICIT"]}), "grantTypes[0]"),
        (json!({"clientType": "SOMETIMES_CLIENT"}), "clientType"),
        (
            json!({"redirectURIs": [{"url": "not a url", "isHttps": false}]}),
            "redirectURIs[0]",
        ),
        (json!({"scopes": ["no.such"], "defaultScope": "no.such"}), "scopes[0]"),
        (json!({"defaultScope": "other"}), "defaultScope"),
        (json!({"idDomain": "nosuch"}), "idDomain"),
    ] {
        let mut b = oam_example();
        b["id"] = json!("Another");
        for (k, v) in patch.as_object().unwrap() {
            b[k] = v.clone();
        }
        let r = boot(&app, Method::POST, OAM, Some(b)).await;
        let got = if r.status == 404 {
            json!("idDomain")
        } else {
            assert_oam(&r, 422)
        };
        assert_eq!(got, field, "{}", r.body);
    }
    assert_oam(&boot(&app, Method::GET, &format!("{OAM}?id=Another"), None).await, 404);
    let r = boot(&app, Method::POST, OAM, Some(oam_example())).await;
    assert_oam(&r, 422);
    assert!(r.body["message"].as_str().unwrap().contains("exists"), "{}", r.body);
    let r = app
        .raw(
            app.http
                .post(format!("{}{OAM}", app.base))
                .basic_auth(&app.id, Some(&app.secret))
                .header("content-type", "application/json")
                .body("{not json"),
        )
        .await;
    assert_oam(&r, 422);
    assert_oam(
        &app.call(Method::GET, &format!("{OAM}?id=TestClient"), None, None).await,
        401,
    );
    assert_oam(&boot(&app, Method::GET, OAM, None).await, 422);

    // A mobile client is a public one; a client of the admin API is readable here too.
    let mut mobile = oam_example();
    for (k, v) in [
        ("id", json!("Phone")),
        ("clientType", json!("mobile_client")),
        ("grantTypes", json!(["AUTHORIZATION_CODE"])),
        (
            "redirectURIs",
            json!([{"url": "https://app.example/cb", "isHttps": true}]),
        ),
    ] {
        mobile[k] = v;
    }
    mobile.as_object_mut().unwrap().remove("secret");
    let r = boot(&app, Method::POST, OAM, Some(mobile)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        (r.body["clientType"].clone(), r.body.get("secret")),
        (json!("MOBILE_CLIENT"), None)
    );
    assert_eq!(r.body["redirectURIs"][0]["isHttps"], true);
    let r = app.admin(Method::GET, "/clients/Phone", None).await;
    assert_eq!(
        (r.body["token_endpoint_auth_method"].clone(), r.body["public"].clone()),
        (json!("none"), json!(true))
    );
    client(
        &app,
        json!({"client_id": "from-admin", "grant_types": ["client_credentials"]}),
    )
    .await;
    let r = boot(&app, Method::GET, &format!("{OAM}?id=from-admin"), None).await;
    assert_eq!(
        (
            r.status.as_u16(),
            r.body["idDomain"].clone(),
            r.body["grantTypes"].clone()
        ),
        (200, json!("default"), json!(["CLIENT_CREDENTIALS"]))
    );

    // Delete answers what was deleted; the admin API no longer has it.
    let r = boot(&app, Method::DELETE, &format!("{OAM}?id=TestClient"), None).await;
    assert_eq!((r.status.as_u16(), r.body["id"].clone()), (200, json!("TestClient")));
    assert_api_error(&app.admin(Method::GET, "/clients/TestClient", None).await, 404);
    assert_oam(
        &boot(&app, Method::DELETE, &format!("{OAM}?id=TestClient"), None).await,
        404,
    );
}
