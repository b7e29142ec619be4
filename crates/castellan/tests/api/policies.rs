//! Policies (Cloudentity ACP `/policies`): the operations, their errors, the test operation, and
//! where they apply — a server's user policy after sign-in and a scope's user policy when a
//! person's grant is issued.

use reqwest::Method;
use serde_json::{Value, json};

use crate::flows::{Browser, CB, authorize_url, decide, exchange, params_of, setup, submit_page};
use crate::helpers::*;
use crate::tokens::{form, issuer};

fn verified_policy() -> Value {
    json!({"id": "verified", "policy_name": "Verified email", "validators": [
        {"name": "identity-context", "conf": {"fields": [{"field": "email_verified", "comparator": "equals", "value": true}]},
         "recovery": [{"id": "verify-email", "type": "email"}]}]})
}

#[tokio::test]
async fn policies_round_trip_with_the_built_in_ones() {
    let app = spawn_app().await;
    let r = app.admin(Method::GET, "/policies", None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let ids: Vec<&str> = r.body["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["allow", "block"]);
    assert_eq!(r.body["policies"][0]["read_only"], true);
    assert_eq!(r.body["policies"][1]["validators"][0]["name"], "false");

    let r = app.admin(Method::POST, "/policies", Some(verified_policy())).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["id"], "verified");
    assert_eq!(r.body["policy_name"], "Verified email");
    assert_eq!(r.body["tenant_id"], "default");
    assert_eq!(r.body["language"], "cloudentity");
    assert_eq!(r.body["read_only"], false);
    assert_eq!(r.body["validators"], verified_policy()["validators"]);
    assert_eq!(app.admin(Method::GET, "/policies/verified", None).await.body, r.body);
    let r = app.admin(Method::POST, "/policies", Some(verified_policy())).await;
    assert_api_error(&r, 409);

    // PUT answers 201 and keeps what it does not name.
    let r = app
        .admin(
            Method::PUT,
            "/policies/verified",
            Some(json!({"policy_name": "Email verified"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["policy_name"], "Email verified");
    assert_eq!(r.body["validators"], verified_policy()["validators"]);

    // A Rego policy.
    let rego = json!({"id": "staff", "policy_name": "Staff", "language": "rego",
        "definition": "package castellan\n\ndefault allow := false\n\nallow if \"staff\" in input.authentication_context.groups\n"});
    let r = app.admin(Method::POST, "/policies", Some(rego)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["language"], "rego");
    assert_eq!(r.body["validators"], json!([]));

    // The built-in ones stay as they are.
    for pid in ["allow", "block"] {
        let r = app
            .admin(
                Method::PUT,
                &format!("/policies/{pid}"),
                Some(json!({"policy_name": "x"})),
            )
            .await;
        assert!(
            assert_api_error(&r, 400)["error"]
                .as_str()
                .unwrap()
                .contains("built in")
        );
        let r = app.admin(Method::DELETE, &format!("/policies/{pid}"), None).await;
        assert_api_error(&r, 400);
    }

    // In use by a server and a scope: 400 naming both; free again: 204.
    let r = app
        .admin(
            Method::PUT,
            "/servers/default",
            Some(json!({"user_policy_id": "verified"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app
        .admin(
            Method::POST,
            "/scopes",
            Some(
                json!({"name": "orders.read", "authorization_server_id": "default", "developer_policy_id": "verified"}),
            ),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let scope_id = r.body["id"].as_str().unwrap().to_owned();
    let r = app.admin(Method::DELETE, "/policies/verified", None).await;
    let msg = assert_api_error(&r, 409)["error"].as_str().unwrap().to_owned();
    assert!(msg.contains("server default (user_policy_id)"), "{msg}");
    assert!(
        msg.contains("scope orders.read on default (developer_policy_id)"),
        "{msg}"
    );
    assert_eq!(app.admin(Method::GET, "/policies/verified", None).await.status, 200);
    app.admin(Method::PUT, "/servers/default", Some(json!({"user_policy_id": ""})))
        .await;
    app.admin(Method::DELETE, &format!("/scopes/{scope_id}"), None).await;
    let r = app.admin(Method::DELETE, "/policies/verified", None).await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_api_error(&app.admin(Method::GET, "/policies/verified", None).await, 404);
    assert_api_error(&app.admin(Method::DELETE, "/policies/verified", None).await, 404);
}

#[tokio::test]
async fn bad_policies_are_refused_naming_the_member_and_nothing_is_written() {
    let app = spawn_app().await;
    let cases = [
        (json!({"policy_name": "x"}), "id", ""),
        (json!({"id": "p"}), "policy_name", ""),
        (json!({"id": "bad id!", "policy_name": "x"}), "id", ""),
        (
            json!({"id": "p", "policy_name": "x", "tenant_id": "other"}),
            "tenant_id",
            "",
        ),
        (
            json!({"id": "p", "policy_name": "x", "language": "cel"}),
            "language",
            "cel",
        ),
        (
            json!({"id": "p", "policy_name": "x", "validators": [{"name": "magic"}]}),
            "validators[0].name",
            "magic",
        ),
        (
            json!({"id": "p", "policy_name": "x", "validators": [{"name": "identity-context", "conf": {"fields": [
                {"field": "email", "comparator": "matches", "value": "([a-z"}]}}]}),
            "validators[0].conf.fields[0].value",
            "regular expression",
        ),
        (
            json!({"id": "p", "policy_name": "x", "validators": [{"name": "header", "conf": {"fields": "x-region"}}]}),
            "validators[0].conf.fields",
            "",
        ),
        (
            json!({"id": "p", "policy_name": "x", "language": "rego", "definition": "package castellan\n\nallow if {\n  input.x ==\n}\n"}),
            "definition",
            ":5:",
        ),
        (
            json!({"id": "p", "policy_name": "x", "language": "rego"}),
            "definition",
            "required",
        ),
    ];
    for (body, field, needle) in cases {
        let r = app.admin(Method::POST, "/policies", Some(body.clone())).await;
        let e = assert_api_error(&r, 422);
        assert_eq!(e["details"]["field"], field, "{body}: {e}");
        assert!(e["error"].as_str().unwrap().contains(needle), "{body}: {e}");
    }
    // Not JSON, or a member of the wrong type: 400.
    let r = app
        .raw(
            app.http
                .post(format!("{}/api/admin/default/policies", app.base))
                .basic_auth(&app.id, Some(&app.secret))
                .header("content-type", "application/json")
                .body("{\"id\": "),
        )
        .await;
    assert_api_error(&r, 400);
    let r = app
        .admin(
            Method::POST,
            "/policies",
            Some(json!({"id": "p", "policy_name": "x", "validators": {"name": "true"}})),
        )
        .await;
    assert_api_error(&r, 400);
    // An update that would not compile changes nothing.
    let r = app.admin(Method::POST, "/policies", Some(verified_policy())).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = app
        .admin(
            Method::PUT,
            "/policies/verified",
            Some(json!({"validators": [{"name": "scopes", "conf": {"scopes": "x"}}]})),
        )
        .await;
    assert_eq!(
        assert_api_error(&r, 422)["details"]["field"],
        "validators[0].conf.scopes"
    );
    let r = app.admin(Method::GET, "/policies", None).await;
    assert_eq!(r.body["policies"].as_array().unwrap().len(), 3, "{}", r.body);
    assert_eq!(
        app.admin(Method::GET, "/policies/verified", None).await.body["validators"],
        verified_policy()["validators"]
    );
    // Policy ids given to servers and scopes must exist.
    let r = app
        .admin(Method::PUT, "/servers/default", Some(json!({"user_policy_id": "nope"})))
        .await;
    assert_eq!(assert_api_error(&r, 422)["details"]["field"], "user_policy_id");
    let r = app
        .admin(
            Method::POST,
            "/servers",
            Some(json!({"id": "other", "developer_policy_id": "nope"})),
        )
        .await;
    assert_eq!(assert_api_error(&r, 422)["details"]["field"], "developer_policy_id");
    assert_api_error(&app.admin(Method::GET, "/servers/other", None).await, 404);
    let r = app
        .admin(
            Method::POST,
            "/scopes",
            Some(json!({"name": "x", "authorization_server_id": "default", "user_policy_id": "nope"})),
        )
        .await;
    assert_eq!(assert_api_error(&r, 422)["details"]["field"], "user_policy_id");
}

#[tokio::test]
async fn the_test_operation_says_which_validator_failed_and_stops_runaway_rego() {
    let app = spawn_app().await;
    app.admin(Method::POST, "/policies", Some(verified_policy())).await;
    let test = |pid: &'static str, input: Value| {
        let app = &app;
        async move {
            app.admin(Method::POST, &format!("/policies/{pid}/test"), Some(input))
                .await
        }
    };
    let r = test("verified", json!({"authentication_context": {"email_verified": true}})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["result"], "pass");
    assert_eq!(r.body["failed_validator"], Value::Null);
    let r = test(
        "verified",
        json!({"authentication_context": {"email_verified": "true"}}),
    )
    .await;
    assert_eq!(r.body["result"], "fail");
    assert_eq!(r.body["failed_validator"], "identity-context");
    assert_eq!(r.body["recovery"], json!([{"id": "verify-email", "type": "email"}]));
    let r = test("block", json!({})).await;
    assert_eq!(r.body["result"], "fail");
    assert_eq!(r.body["failed_validator"], "false");
    assert_eq!(test("allow", json!({})).await.body["result"], "pass");
    assert_api_error(&test("nope", json!({})).await, 404);

    // Headers, scopes and consents from the input.
    let r = app
        .admin(
            Method::POST,
            "/policies",
            Some(json!({"id": "gw", "policy_name": "gateway", "validators": [
                {"name": "header", "conf": {"fields": [{"field": "X-Region", "comparator": "one_of", "value": ["eu", "us"]}]}},
                {"name": "scopes", "conf": {"scopes": ["orders.read"]}},
                {"name": "consent", "conf": {"consents": ["terms"]}}]})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let full = json!({"scopes": ["orders.read"], "consents": ["terms"],
        "request": {"method": "GET", "path": "/orders", "headers": {"x-region": "eu"}}});
    assert_eq!(test("gw", full.clone()).await.body["result"], "pass");
    let mut no_consent = full.clone();
    no_consent["consents"] = json!([]);
    assert_eq!(test("gw", no_consent).await.body["failed_validator"], "consent");
    let mut wrong_region = full;
    wrong_region["request"]["headers"]["x-region"] = json!("ap");
    assert_eq!(test("gw", wrong_region).await.body["failed_validator"], "header");

    // A Rego policy that would run for minutes is stopped by the limit and fails.
    let r = app
        .admin(
            Method::POST,
            "/policies",
            Some(json!({"id": "slow", "policy_name": "slow", "language": "rego",
                "definition": format!("package castellan\nxs := split(\"{}\", \",\")\nallow if {{\n  count([[a, b, c, d] | some a in xs; some b in xs; some c in xs; some d in xs]) > 0\n}}\n",
                    vec!["a"; 200].join(","))})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = test("slow", json!({})).await;
    assert_eq!(r.body["result"], "fail", "{}", r.body);
    assert_eq!(r.body["failed_validator"], "rego");
    assert!(r.body["reason"].as_str().unwrap().contains("time limit"), "{}", r.body);
}

/// Signs `user` in on the login page and allows on the consent page; returns the redirect to the
/// client.
async fn authorize_as(app: &TestApp, user: &str, password: &str, scope: &str) -> String {
    let b = Browser::new();
    let r = b.get(&authorize_url(app, &[("scope", scope)])).await;
    let mut loc = r.location.unwrap();
    assert!(loc.contains("/login?"), "{loc}");
    loc = submit_page(app, &b, &loc, "login", &[("username", user), ("password", password)])
        .await
        .location
        .unwrap();
    if loc.contains("/consent?") {
        loc = decide(app, &b, &loc, "allow").await.location.unwrap();
    }
    assert!(loc.starts_with(CB), "{loc}");
    loc
}

#[tokio::test]
async fn a_scope_policy_grants_for_one_person_and_withholds_for_another() {
    let app = spawn_app().await;
    let secret = setup(&app).await;
    // bob's email is not verified.
    let r = app
        .admin(
            Method::PUT,
            "/servers/default/authentications",
            Some(json!({"methods": [{"id": "people", "method": "static", "name": "Password", "static": {"users": [
                {"username": "alice", "password": "alice-password-1", "authentication_context": {"email_verified": true}},
                {"username": "bob", "password": "bob-password-1", "authentication_context": {"email_verified": false}}]}}]})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    app.admin(Method::POST, "/policies", Some(verified_policy())).await;
    let scopes = app.admin(Method::GET, "/servers/default/scopes", None).await.body;
    let orders = scopes["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "orders.read")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .admin(
            Method::PUT,
            &format!("/scopes/{orders}"),
            Some(json!({"user_policy_id": "verified"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    for (user, password, granted) in [
        ("alice", "alice-password-1", "openid orders.read offline_access"),
        ("bob", "bob-password-1", "openid offline_access"),
    ] {
        let loc = authorize_as(&app, user, password, "openid orders.read offline_access").await;
        let code = params_of(&loc)["code"].clone();
        let r = exchange(&app, &secret, &code, None).await;
        assert_eq!(r.status, 200, "{user}: {}", r.body);
        assert_eq!(r.body["scope"], granted, "{user}");
        // Refreshing does not bring a withheld scope back.
        let refresh = r.body["refresh_token"].as_str().unwrap();
        let r = form(
            &app,
            &format!("{}/oauth2/token", issuer(&app, "default")),
            Some(("web", &secret)),
            &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
        )
        .await;
        assert_eq!(r.status, 200, "{user}: {}", r.body);
        assert_eq!(r.body["scope"], granted, "{user} after refresh");
    }

    // The password grant applies the same policy.
    crate::flows::enable_password_grant(&app).await;
    for (user, password, granted) in [
        ("alice", "alice-password-1", json!("orders.read")),
        ("bob", "bob-password-1", Value::Null),
    ] {
        let r = form(
            &app,
            &format!("{}/oauth2/token", issuer(&app, "default")),
            Some(("web", &secret)),
            &[
                ("grant_type", "password"),
                ("username", user),
                ("password", password),
                ("scope", "orders.read"),
            ],
        )
        .await;
        assert_eq!(r.status, 200, "{user}: {}", r.body);
        assert_eq!(
            r.body["scope"], granted,
            "{user}: the scope is withheld, the token issued"
        );
    }
}

#[tokio::test]
async fn a_server_user_policy_that_fails_sends_access_denied_to_the_client() {
    let app = spawn_app().await;
    let secret = setup(&app).await;
    let r = app
        .admin(
            Method::PUT,
            "/servers/default",
            Some(json!({"user_policy_id": "block"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let b = Browser::new();
    let r = b.get(&authorize_url(&app, &[])).await;
    let loc = r.location.unwrap();
    let r = submit_page(
        &app,
        &b,
        &loc,
        "login",
        &[("username", "alice"), ("password", "alice-password-1")],
    )
    .await;
    let loc = r.location.unwrap();
    assert!(loc.starts_with(CB), "{loc}");
    let p = params_of(&loc);
    assert_eq!(p["error"], "access_denied");
    assert_eq!(p["state"], "st-1");
    assert!(!p.contains_key("code"));

    // The password grant too; with the policy passing, both work.
    crate::flows::enable_password_grant(&app).await;
    let token_url = format!("{}/oauth2/token", issuer(&app, "default"));
    let password = [
        ("grant_type", "password"),
        ("username", "alice"),
        ("password", "alice-password-1"),
    ];
    let r = form(&app, &token_url, Some(("web", &secret)), &password).await;
    crate::tokens::assert_oauth_error(&r, 400, "invalid_grant");
    app.admin(Method::POST, "/policies", Some(verified_policy())).await;
    let r = app
        .admin(
            Method::PUT,
            "/servers/default",
            Some(json!({"user_policy_id": "verified"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = form(&app, &token_url, Some(("web", &secret)), &password).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let loc = authorize_as(&app, "alice", "alice-password-1", "openid").await;
    assert!(params_of(&loc).contains_key("code"), "{loc}");
}
