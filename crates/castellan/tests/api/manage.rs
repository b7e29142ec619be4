//! The management command line (`castellan client|server|scope|policy|token|completion`) against
//! a running server: every sub-command, tables and `--json`, credentials from flags, the
//! environment and the bootstrap credentials file, and the exit codes that tell usage,
//! authentication, not-found and unreachable apart.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }
}

/// Runs the program with `args`, nothing of the developer's `CASTELLAN_*` environment, and `env`.
async fn run(args: &[&str], env: &[(&str, &str)]) -> Out {
    let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_castellan"));
    for (k, _) in std::env::vars() {
        if k.starts_with("CASTELLAN_") {
            c.env_remove(k);
        }
    }
    let out = c.args(args).envs(env.iter().copied()).output().await.unwrap();
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// As the bootstrap client, with `--json` when asked.
async fn as_admin(app: &TestApp, args: &[&str]) -> Out {
    let mut all: Vec<&str> = args.to_vec();
    all.extend([
        "--url",
        &app.base,
        "--client-id",
        "bootstrap",
        "--client-secret",
        &app.secret,
    ]);
    run(&all, &[]).await
}

fn ok(o: &Out) {
    assert_eq!(o.code, 0, "stdout: {}\nstderr: {}", o.stdout, o.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sub_command_works_against_a_running_server() {
    let app = spawn_app().await;

    // Servers.
    let o = as_admin(
        &app,
        &[
            "server",
            "create",
            "--id",
            "shop",
            "--name",
            "Shop",
            "--set",
            "key_type=ecdsa",
            "--json",
        ],
    )
    .await;
    ok(&o);
    assert_eq!(o.json()["key_type"], "ecdsa");
    let o = as_admin(&app, &["server", "list"]).await;
    ok(&o);
    let first = o.stdout.lines().next().unwrap();
    assert!(first.starts_with("ID") && first.contains("KEY TYPE"), "{}", o.stdout);
    assert!(
        o.stdout.lines().any(|l| l.starts_with("shop ") && l.contains("ecdsa")),
        "{}",
        o.stdout
    );
    let o = as_admin(
        &app,
        &["server", "update", "shop", "--set", "access_token_ttl=15m", "--json"],
    )
    .await;
    ok(&o);
    assert_eq!(o.json()["access_token_ttl"], "15m0s");
    let o = as_admin(&app, &["server", "get", "shop"]).await;
    ok(&o);
    assert!(
        o.stdout
            .lines()
            .any(|l| l.starts_with("access_token_ttl") && l.ends_with("15m0s")),
        "{}",
        o.stdout
    );

    // Scopes.
    let o = as_admin(
        &app,
        &["scope", "create", "--name", "orders.read", "--server", "shop", "--json"],
    )
    .await;
    ok(&o);
    let scope_id = o.json()["id"].as_str().unwrap().to_owned();
    let o = as_admin(&app, &["scope", "list", "--server", "shop", "--json"]).await;
    ok(&o);
    assert!(o.json().as_array().unwrap().iter().any(|s| s["name"] == "orders.read"));
    let o = as_admin(
        &app,
        &[
            "scope",
            "update",
            &scope_id,
            "--set",
            "display_name=Read orders",
            "--json",
        ],
    )
    .await;
    ok(&o);
    assert_eq!(o.json()["display_name"], "Read orders");
    ok(&as_admin(&app, &["scope", "get", &scope_id]).await);

    // Clients: the secret is shown once, with a warning in the human form.
    let o = as_admin(
        &app,
        &[
            "client",
            "create",
            "--id",
            "backend",
            "--server",
            "shop",
            "--set",
            r#"grant_types=["client_credentials"]"#,
            "--set",
            r#"scopes=["orders.read"]"#,
        ],
    )
    .await;
    ok(&o);
    assert!(o.stdout.contains("Keep the client_secret now"), "{}", o.stdout);
    let secret = o
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("client_secret"))
        .map(|s| s.trim().to_owned())
        .expect("the secret is printed");
    let o = as_admin(&app, &["client", "list", "--server", "shop", "--filter", "back"]).await;
    ok(&o);
    assert_eq!(o.stdout.lines().count(), 2, "{}", o.stdout);
    let o = as_admin(&app, &["client", "update", "backend", "--name", "Back end", "--json"]).await;
    ok(&o);
    assert_eq!(o.json()["client_name"], "Back end");
    let o = as_admin(&app, &["client", "get", "backend", "--json"]).await;
    ok(&o);
    assert_eq!(o.json()["client_id"], "backend");
    // The command line's writes are in the audit trail, as the client it acted with.
    let r = app.admin(Method::GET, "/audit?object=clients/backend", None).await;
    let ops: Vec<_> = r.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["operation"].as_str().unwrap(), e["actor"].as_str().unwrap()))
        .collect();
    assert_eq!(
        ops,
        [
            ("updateClient", "client:bootstrap"),
            ("createClient", "client:bootstrap")
        ],
        "{}",
        r.body
    );
    assert!(
        r.body["events"][0]["payload"]["from"]["user_agent"]
            .as_str()
            .unwrap()
            .starts_with("castellan-cli/"),
        "{}",
        r.body
    );

    // A token of that client, from the environment's credentials, used at the token's server.
    let o = run(
        &["token", "--server", "shop", "--scope", "orders.read"],
        &[
            ("CASTELLAN_URL", &app.base),
            ("CASTELLAN_CLIENT_ID", "backend"),
            ("CASTELLAN_CLIENT_SECRET", &secret),
        ],
    )
    .await;
    ok(&o);
    let token = o.stdout.trim();
    assert_eq!(token.split('.').count(), 3, "a JWT alone: {}", o.stdout);
    let r = app
        .raw(
            app.http
                .post(format!("{}/default/shop/oauth2/introspect", app.base))
                .basic_auth("backend", Some(&secret))
                .form(&[("token", token)]),
        )
        .await;
    assert_eq!(r.body["active"], true, "{}", r.body);
    assert_eq!(r.body["scope"], "orders.read");

    // Policies, and testing one.
    let policy = json!({"validators": [{"name": "identity-context",
        "conf": {"fields": [{"field": "email_verified", "comparator": "equals", "value": true}]}}]});
    let o = as_admin(
        &app,
        &[
            "policy",
            "create",
            "--id",
            "verified",
            "--name",
            "Verified",
            "--body",
            &policy.to_string(),
            "--json",
        ],
    )
    .await;
    ok(&o);
    let o = as_admin(&app, &["policy", "list"]).await;
    ok(&o);
    assert!(o.stdout.lines().any(|l| l.starts_with("verified ")), "{}", o.stdout);
    let o = as_admin(&app, &["policy", "update", "verified", "--name", "Verified email"]).await;
    ok(&o);
    let input = json!({"authentication_context": {"email_verified": true}}).to_string();
    let o = as_admin(&app, &["policy", "test", "verified", "--body", &input, "--json"]).await;
    ok(&o);
    assert_eq!(o.json()["result"], "pass");
    let bad = json!({"authentication_context": {"email_verified": false}}).to_string();
    let o = as_admin(&app, &["policy", "test", "verified", "--body", &bad]).await;
    ok(&o);
    assert!(o.stdout.starts_with("failed"), "{}", o.stdout);
    ok(&as_admin(&app, &["policy", "get", "verified"]).await);

    // Deleting, each kind.
    for (kind, id) in [
        ("client", "backend"),
        ("scope", scope_id.as_str()),
        ("policy", "verified"),
        ("server", "shop"),
    ] {
        let o = as_admin(&app, &[kind, "delete", id]).await;
        ok(&o);
        assert_eq!(o.stdout.trim(), format!("deleted {kind} {id}"));
        let o = as_admin(&app, &[kind, "get", id]).await;
        assert_eq!(o.code, 4, "{kind} {id} is gone: {}", o.stderr);
    }

    // Completion scripts.
    for shell in ["bash", "zsh", "fish"] {
        let o = run(&["completion", shell], &[]).await;
        ok(&o);
        assert!(o.stdout.contains("castellan") && o.stdout.contains("client"), "{shell}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_codes_tell_what_went_wrong_in_one_line() {
    let app = spawn_app().await;
    let one_line = |o: &Out| {
        assert_eq!(o.stderr.trim().lines().count(), 1, "one line: {}", o.stderr);
        assert!(o.stderr.starts_with("error"), "{}", o.stderr);
    };
    // Usage: a missing argument, a bad --set, input the API refuses.
    let o = run(&["client", "get"], &[]).await;
    assert_eq!(o.code, 2, "{}", o.stderr);
    let o = as_admin(&app, &["client", "create", "--set", "oops"]).await;
    assert_eq!(o.code, 2);
    one_line(&o);
    let o = as_admin(&app, &["client", "create", "--set", r#"grant_types=["magic"]"#]).await;
    assert_eq!(o.code, 2, "{}", o.stderr);
    one_line(&o);
    assert!(
        o.stderr.contains("422") && o.stderr.contains("grant_types"),
        "{}",
        o.stderr
    );
    // Authentication: a wrong secret.
    let o = run(
        &[
            "server",
            "list",
            "--url",
            &app.base,
            "--client-id",
            "bootstrap",
            "--client-secret",
            "wrong-secret-0123456789",
        ],
        &[],
    )
    .await;
    assert_eq!(o.code, 3, "{}", o.stderr);
    one_line(&o);
    let o = run(
        &[
            "token",
            "--url",
            &app.base,
            "--client-id",
            "bootstrap",
            "--client-secret",
            "wrong-secret-0123456789",
        ],
        &[],
    )
    .await;
    assert_eq!(o.code, 3, "{}", o.stderr);
    // Not found.
    let o = as_admin(&app, &["server", "get", "nope"]).await;
    assert_eq!(o.code, 4);
    one_line(&o);
    // Unreachable: nothing listens there.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let o = run(
        &[
            "server",
            "list",
            "--url",
            &format!("http://127.0.0.1:{port}"),
            "--client-id",
            "a",
            "--client-secret",
            "b",
        ],
        &[],
    )
    .await;
    assert_eq!(o.code, 6, "{}", o.stderr);
    one_line(&o);
    assert!(o.stderr.contains("cannot reach"), "{}", o.stderr);
    // No credentials at all.
    let o = run(
        &[
            "server",
            "list",
            "--url",
            &app.base,
            "--credentials",
            "/nonexistent/creds.json",
        ],
        &[],
    )
    .await;
    assert_eq!(o.code, 2);
    one_line(&o);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bootstrap_credentials_file_is_read_by_default() {
    let app = spawn_app().await;
    let data = app.data_dir();
    assert!(data.join("bootstrap-credentials.json").exists());
    // From the data directory named in the environment, and from --credentials.
    let o = run(
        &["server", "list", "--json"],
        &[
            ("CASTELLAN_URL", &app.base),
            ("CASTELLAN_DATA_DIR", data.to_str().unwrap()),
        ],
    )
    .await;
    ok(&o);
    let listed = o.json();
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["id"].as_str())
        .collect();
    assert!(ids.contains(&"admin") && ids.contains(&"default"), "{ids:?}");
    let creds = data.join("bootstrap-credentials.json");
    let o = run(
        &["token", "--url", &app.base, "--credentials", creds.to_str().unwrap()],
        &[],
    )
    .await;
    ok(&o);
    // The bootstrap client's token, of its server (admin), works on the admin API.
    let r = app
        .raw(
            app.http
                .get(format!("{}/api/admin/default/servers", app.base))
                .bearer_auth(o.stdout.trim()),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_user_add_makes_a_person_who_holds_every_permission() {
    let app = spawn_app().await;
    let o = as_admin(
        &app,
        &[
            "admin-user",
            "add",
            "--username",
            "ada",
            "--password",
            "ada-password-1",
            "--email",
            "ada@example.com",
        ],
    )
    .await;
    ok(&o);
    assert!(o.stdout.contains("castellan-admins-developers"), "{}", o.stdout);
    // Once per username; a second person reuses the role and its mapping.
    let o = as_admin(
        &app,
        &[
            "admin-user",
            "add",
            "--username",
            "ada",
            "--password",
            "another-password",
        ],
    )
    .await;
    assert_eq!(o.code, 2, "{}", o.stderr);
    let o = as_admin(
        &app,
        &[
            "admin-user",
            "add",
            "--username",
            "bob",
            "--password",
            "bob-password-1",
            "--json",
        ],
    )
    .await;
    ok(&o);
    assert_eq!(o.json()["permissions"], "*");
    let o = as_admin(&app, &["admin-user", "add", "--username", "eve", "--password", "short"]).await;
    assert_eq!(o.code, 2);
    let roles = app
        .raw(
            app.http
                .get(format!("{}/v1/roles", app.base))
                .basic_auth("bootstrap", Some(&app.secret)),
        )
        .await;
    let ours: Vec<&Value> = roles
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["name"] == "castellan-admins-developers")
        .collect();
    assert_eq!(ours.len(), 1, "{}", roles.body);
    assert_eq!(ours[0]["connectionMaps"].as_array().unwrap().len(), 1);

    // Ada signs in on the admin server (the password grant, enabled here for the check) and
    // holds everything; a person outside the group holds nothing.
    let server = app.admin(reqwest::Method::GET, "/servers/admin", None).await;
    let mut grants: Vec<Value> = server.body["grant_types"].as_array().unwrap().clone();
    grants.push(json!("password"));
    let r = app
        .admin(
            reqwest::Method::PUT,
            "/servers/admin",
            Some(json!({"grant_types": grants})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app
        .admin(
            reqwest::Method::POST,
            "/clients",
            Some(
                json!({"client_id": "ops", "client_secret": "ops-secret-0123456789", "authorization_server_id": "admin",
                "grant_types": ["password"]}),
            ),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let mut methods = app.admin(reqwest::Method::GET, "/servers/admin", None).await.body["authentications"]["methods"]
        .as_array()
        .unwrap()
        .clone();
    methods[0]["static"]["users"]
        .as_array_mut()
        .unwrap()
        .push(json!({"username": "mallory", "password": "mallory-password", "authentication_context": {"groups": ["visitors"]}}));
    let r = app
        .admin(
            reqwest::Method::PUT,
            "/servers/admin/authentications",
            Some(json!({"methods": methods})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let person_token = |user: &'static str, password: &'static str| {
        let app = &app;
        async move {
            let r = app
                .raw(
                    app.http
                        .post(format!("{}/default/admin/oauth2/token", app.base))
                        .basic_auth("ops", Some("ops-secret-0123456789"))
                        .form(&[("grant_type", "password"), ("username", user), ("password", password)]),
                )
                .await;
            assert_eq!(r.status, 200, "{}", r.body);
            r.body["access_token"].as_str().unwrap().to_owned()
        }
    };
    let ada = person_token("ada", "ada-password-1").await;
    let r = app
        .raw(
            app.http
                .post(format!("{}/api/admin/default/servers", app.base))
                .bearer_auth(&ada)
                .json(&json!({"id": "made-by-ada", "name": "Ada's"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let mallory = person_token("mallory", "mallory-password").await;
    let r = app
        .raw(
            app.http
                .get(format!("{}/api/admin/default/servers", app.base))
                .bearer_auth(&mallory),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
}
