//! The PostgreSQL store: the scale-out deployment, several castellan nodes on one database.
//!
//! Every write transaction also sends `NOTIFY castellan_config, '<tenant id>'`; PostgreSQL delivers
//! it on commit, so [`PostgresStore::changes`] lets every node drop exactly the configuration
//! snapshots that changed. Migrations and bootstrap take advisory locks, so nodes may start at once.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use castellan_store::{Changes, ConfigChange, StoreError, StoreResult};
use castellan_store_sql::{Backend, PurgeTurn, begin_detached, map_err};
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use sqlx::{PgPool, Postgres, Transaction};
use tokio::sync::{MutexGuard, mpsc};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The channel configuration changes are announced on.
pub const CHANNEL: &str = "castellan_config";
/// Serialises first-start bootstrap across nodes (`pg_advisory_xact_lock`).
const BOOTSTRAP_LOCK: i64 = 0x6361_7374_656c_6c61; // "castella"
/// The advisory lock one node holds while it purges what expired.
const PURGE_LOCK: i64 = 0x6361_7374_7075_7267; // "castpurg"
/// How often a node re-reads all the configuration it holds even without notifications. A
/// reconnecting listener already asks for that (notifications sent while it was away are lost);
/// this is the net under that net. Every five minutes: a node holding 10,000 tenants spends a few
/// seconds of database reads on it, which every 30 s was a measurable load on two cores.
pub const FULL_RELOAD_EVERY: Duration = Duration::from_secs(300);

#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects to a `postgres://` URL. Connections are made lazily, so a node starts (and
    /// reports not-ready) while the database is down, and recovers when it returns.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let opts = PgConnectOptions::from_str(url)
            .map_err(map_err)?
            .application_name("castellan");
        let pool = PgPoolOptions::new()
            .max_connections(16)
            // Fail fast when the database is gone: callers get a clean 503, not a hung request.
            .acquire_timeout(Duration::from_secs(3))
            .connect_lazy_with(opts);
        Ok(Self { pool })
    }

    /// Applies pending migrations; sqlx holds an advisory lock meanwhile, so concurrent nodes
    /// run them exactly once.
    pub async fn migrate(&self) -> StoreResult<()> {
        MIGRATOR
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))
    }
}

/// PostgreSQL for tests: the server `CASTELLAN_TEST_POSTGRES_URL` names, else a throw-away
/// cluster this process starts itself when PostgreSQL's programs are installed, so the PostgreSQL
/// tests run for everyone who has PostgreSQL; fresh databases on it.
pub mod testing {
    use std::io::Write;
    use std::path::{Path, PathBuf};
    use std::process::{Command, Stdio};
    use std::sync::OnceLock;
    use std::time::{Duration, Instant};

    use sqlx::Connection;

    /// The URL of the test server: `CASTELLAN_TEST_POSTGRES_URL`, else a local throw-away
    /// cluster started on first use (one per test process, stopped and removed when it exits).
    /// `None` when neither is possible; the reason is kept for [`server_url_or_skip`].
    pub fn server_url() -> Option<String> {
        if let Some(u) = std::env::var("CASTELLAN_TEST_POSTGRES_URL")
            .ok()
            .filter(|u| !u.is_empty())
        {
            return Some(u);
        }
        local().as_ref().ok().cloned()
    }

    /// [`server_url`], or a `SKIPPED` line with the reason written straight to the test output
    /// (past the test harness's capture), so a skipped PostgreSQL test is seen, not silently passed.
    pub fn server_url_or_skip(test: &str) -> Option<String> {
        let url = server_url();
        if url.is_none() {
            let why = local().as_ref().err().cloned().unwrap_or_default();
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED {test}: no PostgreSQL ({why}); install the postgresql package or set CASTELLAN_TEST_POSTGRES_URL"
            );
        }
        url
    }

    fn local() -> &'static Result<String, String> {
        static LOCAL: OnceLock<Result<String, String>> = OnceLock::new();
        LOCAL.get_or_init(start_local)
    }

    /// The newest `/usr/lib/postgresql/*/bin` (Debian), else the directory of `initdb` on `PATH`.
    fn bindir() -> Option<PathBuf> {
        let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let v = e.file_name().to_string_lossy().parse::<u32>().ok()?;
                let bin = e.path().join("bin");
                bin.join("initdb").exists().then_some((v, bin))
            })
            .collect();
        found.sort();
        if let Some((_, bin)) = found.pop() {
            return Some(bin);
        }
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths).find(|p| p.join("initdb").exists() && p.join("postgres").exists())
        })
    }

    fn is_root() -> bool {
        Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
    }

    /// PostgreSQL refuses to run as root: as root, run its programs as the `postgres` user.
    fn pg_command(root: bool, program: &Path) -> Command {
        if root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        }
    }

    fn start_local() -> Result<String, String> {
        let bin = bindir().ok_or("initdb not found")?;
        let root = is_root();
        let dir = std::env::temp_dir().join(format!("castellan-test-pg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        if root {
            let ok = Command::new("chown")
                .args(["-R", "postgres"])
                .arg(&dir)
                .status()
                .is_ok_and(|s| s.success());
            if !ok {
                return Err("cannot hand the cluster directory to the postgres user".into());
            }
        }
        let data = dir.join("data");
        let out = pg_command(root, &bin.join("initdb"))
            .arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "-A", "trust", "--no-sync"])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("initdb: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "initdb failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?
            .port();
        // The server runs under a small shell that stops it and removes the cluster once this
        // test process is gone, whichever way it ends.
        let postgres = bin.join("postgres");
        let script = format!(
            "'{pg}' -D '{data}' -p {port} -k '{dir}' -c listen_addresses=127.0.0.1 -c fsync=off \
             -c max_connections=400 >'{dir}/server.log' 2>&1 & pg=$!; \
             while [ -d /proc/{parent} ] && kill -0 $pg 2>/dev/null; do sleep 1; done; \
             kill -INT $pg 2>/dev/null; wait $pg; rm -rf '{dir}'",
            pg = postgres.display(),
            data = data.display(),
            dir = dir.display(),
            parent = std::process::id(),
        );
        pg_command(root, Path::new("/bin/sh"))
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start postgres: {e}"))?;
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
                return Err(format!("postgres did not start: {}", log.trim()));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(format!("postgres://postgres@127.0.0.1:{port}/postgres"))
    }

    /// Creates an empty database with a unique name and returns its URL.
    pub async fn fresh_database(server_url: &str) -> Result<String, sqlx::Error> {
        let name = format!("castellan_test_{}", uuid_like());
        // A cluster just started takes connections before it accepts them ("the database system
        // is starting up", SQLSTATE 57P03): wait for it.
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut conn = loop {
            match sqlx::PgConnection::connect(server_url).await {
                Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("57P03") && Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                other => break other?,
            }
        };
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await?;
        conn.close().await?;
        let (base, query) = match server_url.split_once('?') {
            Some((b, q)) => (b, format!("?{q}")),
            None => (server_url, String::new()),
        };
        let root = base.rsplit_once('/').map_or(base, |(r, _)| r);
        Ok(format!("{root}/{name}{query}"))
    }

    fn uuid_like() -> String {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        format!("{}_{}_{}", std::process::id(), nanos, N.fetch_add(1, Ordering::Relaxed))
    }
}

castellan_store_sql::sql_store!(PostgresStore, Postgres);

#[async_trait]
impl Backend for PostgresStore {
    type Db = Postgres;

    fn pool(&self) -> &PgPool {
        &self.pool
    }

    async fn write_tx(&self) -> StoreResult<Transaction<'static, Postgres>> {
        begin_detached(&self.pool, "BEGIN").await
    }

    /// Read-only, and every statement sees one snapshot of the database.
    async fn read_tx(&self) -> StoreResult<Transaction<'static, Postgres>> {
        begin_detached(&self.pool, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await
    }

    /// `NOTIFY castellan_config` once per change; PostgreSQL delivers them when `tx` commits and
    /// drops them if it rolls back.
    async fn announce(&self, tx: &mut Transaction<'static, Postgres>, changes: &Changes) -> StoreResult<()> {
        for change in changes {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHANNEL)
                .bind(change.to_payload())
                .execute(&mut **tx)
                .await
                .map_err(map_err)?;
        }
        Ok(())
    }

    async fn bootstrap_turn(&self, tx: &mut Transaction<'static, Postgres>) -> StoreResult<()> {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(BOOTSTRAP_LOCK)
            .execute(&mut **tx)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    /// None: an append locks its ledger's head row (`FOR UPDATE`), so appends from every node
    /// queue in the database.
    async fn ledger_turn(&self) -> Option<MutexGuard<'_, ()>> {
        None
    }

    fn shared(&self) -> bool {
        true
    }

    async fn changes(&self) -> StoreResult<Option<mpsc::Receiver<ConfigChange>>> {
        let (tx, rx) = mpsc::channel(256);
        tokio::spawn(listen(self.pool.clone(), tx));
        Ok(Some(rx))
    }

    /// A session advisory lock on one connection: held while that connection purges, released
    /// by `end_purge` or, should the node die, by PostgreSQL when the connection closes.
    async fn purge_turn(&self) -> StoreResult<Option<PurgeTurn<Postgres>>> {
        let mut conn = self.pool.acquire().await.map_err(map_err)?;
        let (got,): (bool,) = sqlx::query_as("SELECT pg_try_advisory_lock($1)")
            .bind(PURGE_LOCK)
            .fetch_one(&mut *conn)
            .await
            .map_err(map_err)?;
        Ok(got.then_some(PurgeTurn { conn, guard: None }))
    }

    async fn end_purge(&self, mut turn: PurgeTurn<Postgres>) {
        let released = sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(PURGE_LOCK)
            .execute(&mut *turn.conn)
            .await;
        if released.is_err() {
            // Closing the connection releases the lock for sure.
            let _ = turn.conn.detach();
        }
    }
}

/// Forwards notifications until the receiver is dropped. Whenever the listener (re)connects, and
/// every [`FULL_RELOAD_EVERY`], it sends `Everything`: notifications sent while it was away are lost.
async fn listen(pool: PgPool, out: mpsc::Sender<ConfigChange>) {
    let mut backoff = Duration::from_millis(100);
    loop {
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(l) => l,
            Err(e) => {
                tracing::debug!(error = %e, "configuration listener cannot connect; retrying");
                if out.is_closed() {
                    return;
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        if let Err(e) = listener.listen(CHANNEL).await {
            tracing::debug!(error = %e, "LISTEN failed; retrying");
            tokio::time::sleep(backoff).await;
            continue;
        }
        backoff = Duration::from_millis(100);
        if out.send(ConfigChange::Everything).await.is_err() {
            return;
        }
        let mut reload = tokio::time::interval(FULL_RELOAD_EVERY);
        reload.tick().await;
        loop {
            tokio::select! {
                n = listener.try_recv() => match n {
                    Ok(Some(n)) => {
                        let change = ConfigChange::from_payload(n.payload()).unwrap_or(ConfigChange::Everything);
                        if out.send(change).await.is_err() {
                            return;
                        }
                    }
                    // The connection dropped; reconnect and start over with a full reload.
                    Ok(None) | Err(_) => {
                        tracing::warn!("lost the configuration listener connection; reconnecting");
                        break;
                    }
                },
                _ = reload.tick() => {
                    if out.send(ConfigChange::Everything).await.is_err() {
                        return;
                    }
                }
                _ = out.closed() => return,
            }
        }
    }
}
