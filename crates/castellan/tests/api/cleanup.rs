//! The cleanup at scale: a store holding a million expired rows is emptied by the server's own
//! maintenance task, in batches, while clients keep asking for tokens; nothing unexpired goes,
//! and `/metrics` counts what went.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::*;
use crate::tokens::{client, form, issuer};

/// Raw SQL on the server's database, as an operator's tool would run it.
enum Db {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Db {
    async fn open(app: &TestApp) -> Self {
        match &app.cfg.database_url {
            Some(url) => Self::Postgres(sqlx::PgPool::connect(url).await.unwrap()),
            None => {
                let path = app.data_dir().join("castellan.db");
                Self::Sqlite(
                    sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
                        .await
                        .unwrap(),
                )
            }
        }
    }

    async fn exec(&self, sql: &str) {
        match self {
            Self::Sqlite(p) => {
                sqlx::query(sql).execute(p).await.unwrap();
            }
            Self::Postgres(p) => {
                sqlx::query(sql).execute(p).await.unwrap();
            }
        }
    }

    async fn count(&self, sql: &str) -> i64 {
        match self {
            Self::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
            Self::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
        }
    }

    /// `n` rows of `used_assertions` for default/default expiring at `expires_at`, ids
    /// `{prefix}{i}`, in one statement.
    async fn fill(&self, prefix: &str, n: i64, expires_at: i64) {
        let rows = match self {
            Self::Sqlite(_) => format!(
                "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {last}) \
                 SELECT 'default', 'default', '{prefix}' || i, {expires_at} FROM n",
                last = n - 1
            ),
            Self::Postgres(_) => format!(
                "SELECT 'default', 'default', '{prefix}' || i, {expires_at}::BIGINT FROM generate_series(0, {last}) AS i",
                last = n - 1
            ),
        };
        self.exec(&format!(
            "INSERT INTO used_assertions (tenant_id, server_id, jti, expires_at) {rows}"
        ))
        .await;
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::test]
async fn a_million_expired_rows_go_in_batches_while_tokens_are_issued() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path()).await;
    // The first purge runs at start, on an empty store; the test fills it before the next one.
    // Without rests between batches (the default rests four times as long as each batch took;
    // `bench/cleanup.sh` measures that pace against the token path's p99).
    cfg.purge_interval = Duration::from_secs(2);
    cfg.purge_pace = castellan_store::PurgePace {
        batch: 1000,
        rest_factor: 0,
    };
    let app = Arc::new(spawn_with(dir, cfg).await);
    let c = client(
        &app,
        json!({"client_id": "load", "client_name": "load", "grant_types": ["client_credentials"]}),
    )
    .await;
    let secret = c["client_secret"].as_str().unwrap().to_owned();
    let db = Db::open(&app).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;

    let filled = Instant::now();
    db.fill("old-", 1_000_000, now - 3600).await;
    db.fill("live-", 1_000, now + 86_400).await;
    db.exec(&format!(
        "INSERT INTO revoked_tokens (tenant_id, server_id, jti, expires_at) VALUES ('default', 'default', 'live-jti', {})",
        now + 86_400
    ))
    .await;
    let expired = "SELECT COUNT(*) FROM used_assertions WHERE jti LIKE 'old-%'";
    eprintln!("filled 1,000,000 expired rows in {:?}", filled.elapsed());

    // Clients keep asking for tokens throughout.
    let stop = Arc::new(AtomicBool::new(false));
    let mut load = Vec::new();
    for _ in 0..2 {
        let (app, secret, stop) = (app.clone(), secret.clone(), stop.clone());
        load.push(tokio::spawn(async move {
            let url = format!("{}/oauth2/token", issuer(&app, "default"));
            let mut took = Vec::new();
            let mut failed = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                let r = form(
                    &app,
                    &url,
                    Some(("load", &secret)),
                    &[("grant_type", "client_credentials")],
                )
                .await;
                took.push(t.elapsed());
                if r.status != 200 {
                    failed.push(r.status.as_u16());
                }
            }
            (took, failed)
        }));
    }

    let started = Instant::now();
    let mut emptied = None;
    while started.elapsed() < Duration::from_secs(240) {
        if db.count(expired).await == 0 {
            emptied = Some(started.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let mut took = Vec::new();
    for l in load {
        let (t, failed) = l.await.unwrap();
        assert!(failed.is_empty(), "token requests failed during the purge: {failed:?}");
        took.extend(t);
    }
    let Some(emptied) = emptied else {
        panic!("{} expired rows left after 240 s", db.count(expired).await);
    };
    took.sort_unstable();
    eprintln!(
        "emptied within {emptied:?}; {} token requests meanwhile, p50 {:?}, p99 {:?}, max {:?}",
        took.len(),
        percentile(&took, 0.5),
        percentile(&took, 0.99),
        took.last().copied().unwrap_or_default()
    );
    assert!(!took.is_empty(), "the load ran");

    // Nothing unexpired went.
    assert_eq!(
        db.count("SELECT COUNT(*) FROM used_assertions WHERE jti LIKE 'live-%'")
            .await,
        1_000
    );
    assert_eq!(
        db.count("SELECT COUNT(*) FROM revoked_tokens WHERE jti = 'live-jti'")
            .await,
        1
    );
    // The metric counts the rows this node removed (once the purge has visited every table).
    let mut purged = 0;
    for _ in 0..100 {
        let r = app.raw(app.http.get(format!("{}/metrics", app.base))).await;
        let text = match &r.body {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        purged = text
            .lines()
            .find(|l| l.starts_with("castellan_purged_rows_total{table=\"used_assertions\"}"))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0u64);
        if purged >= 1_000_000 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(purged >= 1_000_000, "{purged}");
}
