use std::path::PathBuf;

use castellan::{Config, Running};
use reqwest::{Method, StatusCode};
use serde_json::Value;

pub const MASTER_KEY: &str = "test master key: 0123456789abcdef0123456789abcdef";
pub const BOOTSTRAP_SECRET: &str = "bootstrap-secret-for-tests-0123456789";

pub struct TestApp {
    pub running: Option<Running>,
    pub dir: tempfile::TempDir,
    pub base: String,
    pub http: reqwest::Client,
    pub id: String,
    pub secret: String,
}

pub fn config(dir: &std::path::Path) -> Config {
    let mut cfg = Config::for_tests(dir);
    cfg.master_key = Some(MASTER_KEY.into());
    cfg.bootstrap_client_secret = Some(BOOTSTRAP_SECRET.into());
    cfg
}

pub async fn spawn_app() -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    spawn_in(dir, config).await
}

pub async fn spawn_in(dir: tempfile::TempDir, cfg: impl Fn(&std::path::Path) -> Config) -> TestApp {
    let running = castellan::start(cfg(dir.path())).await.unwrap();
    let secret = match &running.bootstrap {
        Some(c) => c.client_secret.clone(),
        None => BOOTSTRAP_SECRET.into(),
    };
    TestApp {
        base: format!("http://{}", running.addr),
        running: Some(running),
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

    pub async fn stop(mut self) -> tempfile::TempDir {
        self.running.take().unwrap().stop().await.unwrap();
        self.dir
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

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        basic: Option<(&str, &str)>,
    ) -> Resp {
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
    Resp {
        status,
        headers,
        body,
    }
}

/// Asserts the seed-003 error envelope and returns it.
pub fn assert_api_error(r: &Resp, status: u16) -> &Value {
    assert_eq!(
        r.status.as_u16(),
        status,
        "unexpected status; body: {}",
        r.body
    );
    assert_eq!(
        r.body["status_code"], status,
        "status_code in body: {}",
        r.body
    );
    assert!(
        r.body["error"].as_str().is_some_and(|s| !s.is_empty()),
        "error message: {}",
        r.body
    );
    assert!(r.body["details"].is_object(), "details object: {}", r.body);
    &r.body
}
