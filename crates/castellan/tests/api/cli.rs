use std::process::Command;

fn castellan() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_castellan"));
    // The developer's environment must not leak into these checks.
    for (k, _) in std::env::vars() {
        if k.starts_with("CASTELLAN_") {
            c.env_remove(k);
        }
    }
    c
}

fn help(args: &[&str]) -> String {
    let out = castellan().args(args).output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn help_lists_the_sub_commands_and_each_its_own_flags() {
    let text = help(&["--help"]);
    for word in ["serve", "migrate", "load", "ledger", "admin", "serve --help"] {
        assert!(text.contains(word), "--help mentions {word}:\n{text}");
    }
    // Clap reads a brace-n placeholder in help text as a line break: none may be left.
    let load = help(&["load", "--help"]);
    for line in load.lines().chain(text.lines()) {
        assert!(
            !line.trim_end().ends_with('{') && !line.trim_start().starts_with('`'),
            "a broken line: {line:?}\n{load}"
        );
    }
    assert!(help(&["admin", "reset-secret", "--help"]).contains("--client"));
    let serve = help(&["serve", "--help"]);
    for word in [
        "--listen",
        "--public-url",
        "--data-dir",
        "--database-url",
        "--config",
        "--tls-cert",
        "--trusted-proxies",
    ] {
        assert!(serve.contains(word), "serve --help mentions {word}:\n{serve}");
    }
    let migrate = help(&["migrate", "--help"]);
    for word in ["--config", "--data-dir", "--database-url", "--log"] {
        assert!(migrate.contains(word), "migrate --help mentions {word}:\n{migrate}");
    }
    for word in [
        "--listen",
        "--public-url",
        "--tls-cert",
        "--trusted-proxies",
        "--bootstrap-client-id",
    ] {
        assert!(
            !migrate.contains(word),
            "migrate --help does not offer {word}:\n{migrate}"
        );
    }
    let v = castellan().arg("--version").output().unwrap();
    assert!(String::from_utf8(v.stdout).unwrap().starts_with("castellan "));
}

#[test]
fn a_bad_flag_is_named_in_the_error() {
    let out = castellan().args(["serve", "--listne", "x"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8(out.stderr).unwrap().contains("--listne"));
    let out = castellan()
        .args(["serve", "--listen", "not-an-address"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("--listen"), "{err}");
}

#[test]
fn user_errors_are_one_line_without_a_backtrace() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("castellan.toml");
    std::fs::write(&file, "log = \"info\"\ndata_dir = [\"x\"\n").unwrap();
    for (args, needle) in [
        (vec!["serve", "--log", "castellan=loud"], "--log"),
        (vec!["migrate", "--config", file.to_str().unwrap()], "line 2"),
        (vec!["serve", "--listen", "no-such-host.invalid:80"], "--listen"),
    ] {
        let out = castellan().args(&args).env("RUST_BACKTRACE", "1").output().unwrap();
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(err.starts_with("error: "), "{args:?}: {err}");
        assert!(
            !err.contains("Stack backtrace") && !err.contains("stack backtrace"),
            "{err}"
        );
    }
}

#[test]
fn an_unknown_key_in_the_config_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("castellan.toml");
    std::fs::write(&file, "data_dir = \"x\"\nlisten_addr = \"127.0.0.1:1\"\n").unwrap();
    let out = castellan().args(["migrate", "--config"]).arg(&file).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("listen_addr"), "{err}");
}

#[test]
fn migrate_creates_the_database_and_env_is_honoured() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = castellan()
        .arg("migrate")
        .env("CASTELLAN_DATA_DIR", &data)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(data.join("castellan.db").exists());
    assert!(
        !data.join(castellan::BOOTSTRAP_FILE).exists(),
        "migrate alone bootstraps nothing"
    );
    // A flag wins over the environment.
    let other = dir.path().join("other");
    let out = castellan()
        .arg("migrate")
        .env("CASTELLAN_DATA_DIR", &data)
        .arg("--data-dir")
        .arg(&other)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(other.join("castellan.db").exists());
}

#[test]
fn an_unsupported_database_url_is_refused_naming_the_flag() {
    let out = castellan()
        .args(["migrate", "--database-url", "mysql://x"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8(out.stderr).unwrap().contains("--database-url"));
}

#[tokio::test]
async fn request_logs_name_tenant_server_and_client_but_never_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let secret = "log-test-bootstrap-secret-0123456789";
    let mut child = castellan()
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--log", "info"])
        .arg("--data-dir")
        .arg(dir.path())
        .env("CASTELLAN_BOOTSTRAP_CLIENT_SECRET", secret)
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let mut up = false;
    for _ in 0..100 {
        if http.get(format!("{base}/health/live")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(up, "server started");
    let token: serde_json::Value = http
        .post(format!("{base}/default/admin/oauth2/token?should_not_be_logged=1"))
        .basic_auth("bootstrap", Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["access_token"].as_str().unwrap().to_owned();
    let r = http
        .get(format!("{base}/api/admin/default/servers/default"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let _ = http
        .get(format!("{base}/api/admin/default/tenant"))
        .basic_auth("bootstrap", Some("wrong"))
        .send()
        .await;
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    // The banner on stdout says where the docs and the admin credentials are.
    let banner = String::from_utf8_lossy(&out.stdout);
    assert!(banner.contains(&format!("API reference: {base}/docs")), "{banner}");
    assert!(banner.contains("bootstrap-credentials.json"), "{banner}");
    let logs = String::from_utf8_lossy(&out.stderr);
    let line = |needle: &str| {
        logs.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no {needle} in:\n{logs}"))
            .to_owned()
    };
    let token_line = line("path=/default/admin/oauth2/token");
    for part in [
        "tenant=default",
        "server=admin",
        "client=bootstrap",
        "status=200",
        "latency_ms=",
    ] {
        assert!(token_line.contains(part), "{part} missing: {token_line}");
    }
    let admin_line = line("path=/api/admin/default/servers/default");
    assert!(
        admin_line.contains("client=bootstrap") && admin_line.contains("server=default"),
        "{admin_line}"
    );
    assert!(line("path=/api/admin/default/tenant").contains("status=401"));
    for secret_text in [secret, token.as_str(), "should_not_be_logged", "wrong"] {
        assert!(!logs.contains(secret_text), "{secret_text} appeared in the logs");
    }
}

#[tokio::test]
async fn load_puts_clients_and_tenants_a_started_server_serves() {
    use crate::helpers::*;
    let dir = tempfile::tempdir().unwrap();
    let load = |args: &[&str]| {
        castellan()
            .arg("load")
            .args(args)
            .arg("--data-dir")
            .arg(dir.path())
            .env("CASTELLAN_MASTER_KEY", MASTER_KEY)
            .env("CASTELLAN_BOOTSTRAP_CLIENT_SECRET", BOOTSTRAP_SECRET)
            .env("CASTELLAN_LOG", "warn")
            .output()
            .unwrap()
    };
    let out = load(&["--clients", "2500", "--secret", "bench-secret-{n}-0123456789"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("2500 clients"));
    let out = load(&["--tenants", "2", "--clients", "3", "--prefix", "m"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for bad in [
        &["--clients", "1", "--secret", "same-for-everyone-0123456789"][..],
        &["--clients", "1", "--secret", "{n}"],
    ] {
        let out = load(bad);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("--secret"));
    }

    let mut cfg = castellan::Config::for_tests(dir.path());
    cfg.policy_worker = Some(env!("CARGO_BIN_EXE_castellan").into());
    cfg.master_key = Some(MASTER_KEY.into());
    let app = spawn_with(dir, cfg).await;
    let token = |tenant: &str, id: &str, secret: String| {
        let req = app
            .http
            .post(format!("{}/{tenant}/default/oauth2/token", app.base))
            .basic_auth(id, Some(secret))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials");
        let app = &app;
        async move { app.raw(req).await.status.as_u16() }
    };
    assert_eq!(
        token("default", "load-c2499", "bench-secret-2499-0123456789".into()).await,
        200
    );
    assert_eq!(
        token("default", "load-c2499", "bench-secret-2498-0123456789".into()).await,
        401
    );
    assert_eq!(
        token("load-t1", "m2", "load-secret-2-0123456789abcdef".into()).await,
        200
    );
    assert_eq!(
        token("load-t0", "m3", "load-secret-3-0123456789abcdef".into()).await,
        401,
        "3 clients: 0..2"
    );
}

/// Starts `castellan serve` on `dir` with `env`, waits until it answers, and returns it with its
/// base URL.
async fn serve(dir: &std::path::Path, env: &[(&str, &str)]) -> (std::process::Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cmd = castellan();
    cmd.args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(dir)
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..200 {
        if reqwest::get(format!("{base}/health/live")).await.is_ok() {
            return (child, base);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    panic!("the server did not start: {}", String::from_utf8_lossy(&out.stderr));
}

async fn admin_status(base: &str, secret: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{base}/api/admin/default/tenant"))
        .basic_auth("bootstrap", Some(secret))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Recovering admin access: `castellan admin reset-secret` replaces the bootstrap client's secret
/// on the store and rewrites the credentials file; a bootstrap secret in the environment of an
/// already bootstrapped store is ignored, and the server says so.
#[tokio::test]
async fn an_operator_resets_the_bootstrap_secret_and_is_told_when_the_variable_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let first = "first-bootstrap-secret-0123456789";
    let (mut child, base) = serve(dir.path(), &[("CASTELLAN_BOOTSTRAP_CLIENT_SECRET", first)]).await;
    assert_eq!(admin_status(&base, first).await, 200);
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("is ignored"));

    let out = castellan()
        .args(["admin", "reset-secret", "--client", "bootstrap", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let file: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("bootstrap-credentials.json")).unwrap()).unwrap();
    let new = file["client_secret"].as_str().unwrap().to_owned();
    assert_ne!(new, first);
    assert!(stdout.contains(&new), "{stdout}");

    let (mut child, base) = serve(dir.path(), &[("CASTELLAN_BOOTSTRAP_CLIENT_SECRET", first)]).await;
    assert_eq!(admin_status(&base, first).await, 401, "the old secret no longer works");
    assert_eq!(admin_status(&base, &new).await, 200);
    // The operator's reset is in the audit trail, as the operator's.
    let trail: serde_json::Value = reqwest::Client::new()
        .get(format!("{base}/api/admin/default/audit?object=clients/bootstrap"))
        .basic_auth("bootstrap", Some(&new))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let e = &trail["events"][0];
    assert_eq!(
        (&e["operation"], &e["actor"], &e["payload"]["via"]),
        (
            &serde_json::json!("resetAdminSecret"),
            &serde_json::json!("operator:operator"),
            &serde_json::json!("cli")
        ),
        "{trail}"
    );
    assert!(!trail.to_string().contains(&new), "no secret in the trail");
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    let logs = String::from_utf8_lossy(&out.stderr);
    assert!(
        logs.contains("CASTELLAN_BOOTSTRAP_CLIENT_SECRET is set but the store is already bootstrapped"),
        "{logs}"
    );
    assert!(!logs.contains(first) && !logs.contains(&new), "no secret in the logs");

    // Only admin clients, and only ones that exist.
    for (client, says) in [("nobody", "not found"), ("bad id!", "client")] {
        let out = castellan()
            .args(["admin", "reset-secret", "--client", client, "--data-dir"])
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{client}: {err}");
    }
}
