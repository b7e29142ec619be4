use reqwest::Method;

use crate::helpers::*;

#[tokio::test]
async fn first_start_creates_the_default_tenant_servers_and_bootstrap_client() {
    let app = spawn_app().await;
    let creds = app
        .running
        .as_ref()
        .unwrap()
        .bootstrap
        .clone()
        .expect("first start bootstraps");
    assert_eq!(creds.client_id, "bootstrap");
    assert_eq!(
        creds.client_secret, BOOTSTRAP_SECRET,
        "secret comes from CASTELLAN_BOOTSTRAP_CLIENT_SECRET"
    );

    let r = app.admin(Method::GET, "/servers", None).await;
    assert_eq!(r.status, 200);
    let servers = r.body["servers"].as_array().unwrap();
    let summary: Vec<(String, bool)> = servers
        .iter()
        .map(|s| (s["id"].as_str().unwrap().to_owned(), s["system"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        summary,
        [
            ("admin".to_owned(), true),
            ("default".to_owned(), false),
            ("developer".to_owned(), true)
        ]
    );
    let t = app.admin(Method::GET, "/tenant", None).await;
    assert_eq!(t.body["id"], "default");
    assert_eq!(t.body["url"], format!("{}/default", app.base));
}

#[cfg(unix)]
#[tokio::test]
async fn credentials_file_is_written_once_with_mode_0600() {
    use std::os::unix::fs::PermissionsExt;
    let app = spawn_app().await;
    let path = app.data_dir().join(castellan::BOOTSTRAP_FILE);
    let meta = std::fs::metadata(&path).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let file: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(file["client_id"], "bootstrap");
    assert_eq!(file["client_secret"], BOOTSTRAP_SECRET);
    assert_eq!(file["tenant_id"], "default");
}

#[tokio::test]
async fn generated_secret_is_used_when_none_is_configured() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path()).await;
    cfg.bootstrap_client_secret = None;
    cfg.bootstrap_client_id = "ops".into();
    let app = spawn_with(dir, cfg).await;
    let creds = app.running.as_ref().unwrap().bootstrap.clone().unwrap();
    assert_eq!(creds.client_id, "ops");
    assert!(creds.client_secret.len() >= 43, "a generated secret is long");
    let r = app
        .call(
            Method::GET,
            "/api/admin/default/tenant",
            None,
            Some(("ops", &creds.client_secret)),
        )
        .await;
    assert_eq!(r.status, 200);
    let file = std::fs::read_to_string(app.data_dir().join(castellan::BOOTSTRAP_FILE)).unwrap();
    assert!(file.contains(&creds.client_secret));
}

#[tokio::test]
async fn restart_keeps_data_and_creates_nothing() {
    let app = spawn_app().await;
    let created = app
        .admin(
            Method::POST,
            "/servers",
            Some(serde_json::json!({"id": "kept", "key_type": "ecdsa"})),
        )
        .await;
    assert_eq!(created.status, 201);
    let before = app.admin(Method::GET, "/servers", None).await.body;
    let cred_path = app.data_dir().join(castellan::BOOTSTRAP_FILE);
    let cred_file = std::fs::read(&cred_path).unwrap();
    let (dir, mut cfg) = app.stop().await;

    // Second start: another secret in the environment must not change the stored client.
    cfg.bootstrap_client_secret = Some("a-different-secret-0123456789".into());
    let app = spawn_with(dir, cfg).await;
    assert!(
        app.running.as_ref().unwrap().bootstrap.is_none(),
        "second start bootstraps nothing"
    );
    assert_eq!(
        std::fs::read(&cred_path).unwrap(),
        cred_file,
        "credentials file untouched"
    );
    let app = TestApp {
        secret: BOOTSTRAP_SECRET.into(),
        ..app
    };
    let after = app.admin(Method::GET, "/servers", None).await;
    assert_eq!(after.status, 200);
    // Same servers, same secrets (decrypted with the same master key), same keys.
    let strip = |v: &serde_json::Value| {
        let mut v = v.clone();
        for s in v["servers"].as_array_mut().unwrap() {
            s.as_object_mut().unwrap().remove("issuer_url"); // the port differs between runs
        }
        v
    };
    assert_eq!(strip(&after.body), strip(&before));
}

#[tokio::test]
async fn master_key_file_is_generated_and_reused() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path()).await;
    cfg.master_key = None;
    let app = spawn_with(dir, cfg).await;
    let key_path = app.data_dir().join("master.key");
    let key = std::fs::read_to_string(&key_path).unwrap();
    let before = app.admin(Method::GET, "/servers/default", None).await.body;
    let (dir, cfg) = app.stop().await;
    let app = spawn_with(dir, cfg).await;
    assert_eq!(std::fs::read_to_string(&key_path).unwrap(), key);
    let after = app.admin(Method::GET, "/servers/default", None).await;
    assert_eq!(after.status, 200, "sealed data opens after restart: {}", after.body);
    assert_eq!(after.body["secret"], before["secret"]);
}

#[tokio::test]
async fn secrets_never_reach_the_database_in_plain_text() {
    let app = spawn_app().await;
    let server_secret = "a-server-secret-that-is-long-enough-0001";
    let password = "p4ssw0rd-that-must-not-be-stored";
    let upstream = "upstream-client-secret-not-stored";
    let r = app
        .admin(
            Method::POST,
            "/servers",
            Some(serde_json::json!({"id": "s", "secret": server_secret, "authentications": {"methods": [
                {"method": "static", "static": {"users": [{"username": "peter", "password": password}]}},
                {"method": "oidc", "oidc": {"client_id": "c", "client_secret": upstream, "issuer_url": "https://idp.example.com"}}
            ]}})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let bytes = stored_bytes(app).await;
    assert!(bytes.len() > 4096, "read the database files");
    for secret in [server_secret, password, upstream, BOOTSTRAP_SECRET] {
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{secret} found in the database"
        );
    }
    assert!(
        !bytes.windows(5).any(|w| w == b"\"d\":\""),
        "no private JWK member stored in plain text"
    );
}

/// Everything the store holds, as bytes: the SQLite files, or every PostgreSQL row as text.
async fn stored_bytes(app: TestApp) -> Vec<u8> {
    let (dir, cfg) = app.stop().await;
    let mut bytes = Vec::new();
    if let Some(url) = cfg.database_url.as_deref().filter(|u| u.starts_with("postgres")) {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        for table in ["tenants", "servers", "signing_keys", "clients"] {
            let rows: Vec<(String,)> = sqlx::query_as(&format!("SELECT t::text FROM {table} t"))
                .fetch_all(&mut conn)
                .await
                .unwrap();
            for (row,) in rows {
                bytes.extend(row.into_bytes());
            }
        }
        return bytes;
    }
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let p = entry.unwrap().path();
        // The -wal and -shm files come and go with checkpoints: one gone since the listing was
        // written into the database file, which is read too.
        if p.file_name().unwrap().to_string_lossy().starts_with("castellan.db")
            && let Ok(b) = std::fs::read(&p)
        {
            bytes.extend(b);
        }
    }
    bytes
}

#[tokio::test]
async fn a_different_master_key_is_refused_at_start() {
    let app = spawn_app().await;
    let (dir, mut cfg) = app.stop().await;
    cfg.master_key = Some("a completely different master key, 32+ characters".into());
    let err = castellan::start(cfg.clone()).await.err().expect("start must fail");
    assert!(err.to_string().contains("CASTELLAN_MASTER_KEY"), "{err}");
    // With the right key the data is intact.
    cfg.master_key = Some(MASTER_KEY.into());
    let app = spawn_with(dir, cfg).await;
    assert_eq!(app.admin(Method::GET, "/servers/default", None).await.status, 200);
}
