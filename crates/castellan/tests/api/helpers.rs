use std::path::PathBuf;

use castellan::{Config, Running};
use reqwest::{Method, StatusCode};
use serde_json::Value;

pub const MASTER_KEY: &str = "test master key: 0123456789abcdef0123456789abcdef";
pub const BOOTSTRAP_SECRET: &str = "bootstrap-secret-for-tests-0123456789";

pub struct TestApp {
    pub running: Option<Running>,
    pub cfg: Config,
    pub dir: tempfile::TempDir,
    pub base: String,
    pub http: reqwest::Client,
    pub id: String,
    pub secret: String,
}

/// The store the API suite runs on: SQLite, or PostgreSQL with `CASTELLAN_TEST_STORE=postgres`
/// (a fresh database on the server `CASTELLAN_TEST_POSTGRES_URL` names, per app).
pub fn on_postgres() -> bool {
    std::env::var("CASTELLAN_TEST_STORE").is_ok_and(|v| v == "postgres")
}

/// A fresh configuration: new data dir contents, new database.
pub async fn config(dir: &std::path::Path) -> Config {
    let mut cfg = Config::for_tests(dir);
    // Rego runs in worker processes of the built program (the test harness is not one).
    cfg.policy_worker = Some(env!("CARGO_BIN_EXE_castellan").into());
    cfg.master_key = Some(MASTER_KEY.into());
    cfg.bootstrap_client_secret = Some(BOOTSTRAP_SECRET.into());
    if on_postgres() {
        let server = castellan_store_postgres::testing::server_url()
            .expect("CASTELLAN_TEST_STORE=postgres needs PostgreSQL installed or CASTELLAN_TEST_POSTGRES_URL");
        cfg.database_url = Some(
            castellan_store_postgres::testing::fresh_database(&server)
                .await
                .unwrap(),
        );
    }
    cfg
}

pub async fn spawn_app() -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path()).await;
    spawn_with(dir, cfg).await
}

/// Starts the server with `cfg` (whose data dir is inside `dir`).
pub async fn spawn_with(dir: tempfile::TempDir, cfg: Config) -> TestApp {
    let running = castellan::start(cfg.clone()).await.unwrap();
    let secret = match &running.bootstrap {
        Some(c) => c.client_secret.clone(),
        None => BOOTSTRAP_SECRET.into(),
    };
    TestApp {
        base: format!("http://{}", running.addr),
        running: Some(running),
        cfg,
        dir,
        http: reqwest::Client::new(),
        id: "bootstrap".into(),
        secret,
    }
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl TestApp {
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().to_owned()
    }

    pub async fn stop(mut self) -> (tempfile::TempDir, Config) {
        self.running.take().unwrap().stop().await.unwrap();
        (self.dir, self.cfg)
    }

    /// A second handle on the running server's store (as another node or an operator tool).
    pub async fn store(&self) -> std::sync::Arc<dyn castellan_store::Store> {
        castellan::open_store(&self.cfg).await.unwrap()
    }

    /// An admin call authenticated as the bootstrap client.
    pub async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        self.call(
            method,
            &format!("/api/admin/default{path}"),
            body,
            Some((&self.id, &self.secret)),
        )
        .await
    }

    pub async fn call(&self, method: Method, path: &str, body: Option<Value>, basic: Option<(&str, &str)>) -> Resp {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some((id, secret)) = basic {
            req = req.basic_auth(id, Some(secret));
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        to_resp(req.send().await.unwrap()).await
    }

    pub async fn raw(&self, req: reqwest::RequestBuilder) -> Resp {
        to_resp(req.send().await.unwrap()).await
    }
}

async fn to_resp(r: reqwest::Response) -> Resp {
    let status = r.status();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    Resp { status, headers, body }
}

/// Asserts the Cloudentity ACP error envelope and returns it.
pub fn assert_api_error(r: &Resp, status: u16) -> &Value {
    assert_eq!(r.status.as_u16(), status, "unexpected status; body: {}", r.body);
    assert_eq!(r.body["status_code"], status, "status_code in body: {}", r.body);
    assert!(
        r.body["error"].as_str().is_some_and(|s| !s.is_empty()),
        "error message: {}",
        r.body
    );
    assert!(r.body["details"].is_object(), "details object: {}", r.body);
    &r.body
}

/// A `castellan serve` process (killed when dropped).
pub struct ServerProcess(std::process::Child);

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the built program as a separate `castellan serve` process on a fresh store (the same
/// kind as the suite's), and waits until it answers. The handle makes admin calls as usual.
pub async fn spawn_process() -> (ServerProcess, TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path()).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_castellan"));
    for (k, _) in std::env::vars() {
        if k.starts_with("CASTELLAN_") {
            c.env_remove(k);
        }
    }
    c.arg("serve")
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--data-dir")
        .arg(&cfg.data_dir)
        .arg("--outbound-allow")
        .arg("127.0.0.0/8")
        .arg("--log")
        .arg("warn")
        .env("CASTELLAN_MASTER_KEY", MASTER_KEY)
        .env("CASTELLAN_BOOTSTRAP_CLIENT_SECRET", BOOTSTRAP_SECRET)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    if let Some(url) = &cfg.database_url {
        c.arg("--database-url").arg(url);
    }
    let process = ServerProcess(c.spawn().unwrap());
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    for _ in 0..150 {
        if http.get(format!("{base}/")).send().await.is_ok() {
            let app = TestApp {
                running: None,
                cfg,
                dir,
                base,
                http,
                id: "bootstrap".into(),
                secret: BOOTSTRAP_SECRET.into(),
            };
            return (process, app);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("castellan serve did not start");
}
