//! The PostgreSQL store: the scale-out deployment, several castellan nodes on one database.
//!
//! Every write transaction also sends `NOTIFY castellan_config, '<tenant id>'`; PostgreSQL delivers
//! it on commit, so [`PostgresStore::changes`] lets every node drop exactly the configuration
//! snapshots that changed. Migrations and bootstrap take advisory locks, so nodes may start at once.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use castellan_domain::{
    AuthorizationServer, Client, ClientId, Scope, ServerId, SigningKey, Tenant, TenantId, UnixTime,
};
use castellan_store::{
    BootstrapSeed, ClientStore, ConfigChange, ServerStore, Store, StoreError, StoreResult, TenantStore,
};
use castellan_store_sql::*;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use sqlx::{PgPool, Postgres, Transaction};
use tokio::sync::mpsc;

mod access;
mod claims;
mod flows;
mod gateways;
mod policies;
mod privacy;
mod scopes;
mod services;
mod tokens;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The channel configuration changes are announced on.
pub const CHANNEL: &str = "castellan_config";
/// Serialises first-start bootstrap across nodes (`pg_advisory_xact_lock`).
const BOOTSTRAP_LOCK: i64 = 0x6361_7374_656c_6c61; // "castella"
/// How often a node re-reads all the configuration it holds even without notifications. A
/// reconnecting listener already asks for that (notifications sent while it was away are lost);
/// this is the net under that net. Every five minutes: a node holding 10,000 tenants spends a few
/// seconds of database reads on it, which every 30 s was a measurable load on two cores.
pub const FULL_RELOAD_EVERY: Duration = Duration::from_secs(300);

#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

// Column lists: JSON as text, times as Unix seconds, so the shared row types decode them.
const TENANT_COLS: &str = "id, name, authentication_context_settings, \
     jwks, created_at";
const SERVER_COLS: &str = "tenant_id, id, name, system, settings, \
     authentications, secrets_sealed, \
     created_at, updated_at";
const KEY_COLS: &str = "kid, alg, status, public_jwk, private_sealed, \
     created_at";
const CLIENT_COLS: &str = "tenant_id, id, server_id, name, system, grant_types, \
     token_endpoint_auth_method, secret_hash, secret_sealed, metadata, \
     created_at";

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

    async fn tx(&self) -> StoreResult<Transaction<'static, Postgres>> {
        begin_detached(&self.pool, "BEGIN").await
    }

    /// A read-only transaction whose statements all see one snapshot of the database.
    async fn snapshot_tx(&self) -> StoreResult<Transaction<'static, Postgres>> {
        begin_detached(&self.pool, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await
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

impl PostgresStore {
    /// One row (or none) of a query whose placeholders take `binds` in order, as an entity.
    async fn fetch_opt<R, T>(&self, sql: &str, binds: &[&str]) -> StoreResult<Option<T>>
    where
        R: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
        T: TryFrom<R, Error = StoreError>,
    {
        let mut q = sqlx::query_as::<_, R>(sql);
        for b in binds {
            q = q.bind(*b);
        }
        q.fetch_optional(&self.pool)
            .await
            .map_err(map_err)?
            .map(T::try_from)
            .transpose()
    }

    /// Every row of a query whose placeholders take `binds` in order, as entities.
    async fn fetch_all<R, T>(&self, sql: &str, binds: &[&str]) -> StoreResult<Vec<T>>
    where
        R: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
        T: TryFrom<R, Error = StoreError>,
    {
        let mut q = sqlx::query_as::<_, R>(sql);
        for b in binds {
            q = q.bind(*b);
        }
        q.fetch_all(&self.pool)
            .await
            .map_err(map_err)?
            .into_iter()
            .map(T::try_from)
            .collect()
    }
}

/// Announces a configuration change to every node; delivered when the transaction commits.
pub(crate) async fn notify(tx: &mut Transaction<'static, Postgres>, change: &ConfigChange) -> StoreResult<()> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(change.to_payload())
        .execute(&mut **tx)
        .await
        .map_err(map_err)?;
    Ok(())
}

#[async_trait]
impl TenantStore for PostgresStore {
    async fn get_tenant(&self, id: &TenantId) -> StoreResult<Option<Tenant>> {
        self.fetch_opt::<TenantRow, _>(
            &format!("SELECT {TENANT_COLS} FROM tenants WHERE id = $1"),
            &[id.as_str()],
        )
        .await
    }

    async fn list_tenant_ids(&self) -> StoreResult<Vec<TenantId>> {
        let ids: Vec<(String,)> = sqlx::query_as("SELECT id FROM tenants ORDER BY id COLLATE \"C\"")
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        ids.into_iter()
            .map(|(id,)| TenantId::parse(id).map_err(corrupt))
            .collect()
    }

    async fn create_tenant(&self, t: &Tenant) -> StoreResult<()> {
        let mut tx = self.tx().await?;
        insert_tenant(&mut tx, t).await?;
        notify(&mut tx, &ConfigChange::Tenant(t.id.clone())).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn update_tenant(&self, t: &Tenant) -> StoreResult<()> {
        let mut tx = self.tx().await?;
        let r =
            sqlx::query("UPDATE tenants SET name = $1, authentication_context_settings = $2, jwks = $3 WHERE id = $4")
                .bind(&t.name)
                .bind(to_json(&t.authentication_context_settings)?)
                .bind(to_json(&t.jwks)?)
                .bind(t.id.as_str())
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("tenant {}", t.id)));
        }
        notify(&mut tx, &ConfigChange::Tenant(t.id.clone())).await?;
        tx.commit().await.map_err(map_err)
    }
}

#[async_trait]
impl ServerStore for PostgresStore {
    async fn list_servers(&self, tid: &TenantId) -> StoreResult<Vec<AuthorizationServer>> {
        self.fetch_all::<ServerRow, _>(
            &format!("SELECT {SERVER_COLS} FROM servers WHERE tenant_id = $1 ORDER BY id COLLATE \"C\""),
            &[tid.as_str()],
        )
        .await
    }

    async fn get_server(&self, tid: &TenantId, aid: &ServerId) -> StoreResult<Option<AuthorizationServer>> {
        self.fetch_opt::<ServerRow, _>(
            &format!("SELECT {SERVER_COLS} FROM servers WHERE tenant_id = $1 AND id = $2"),
            &[tid.as_str(), aid.as_str()],
        )
        .await
    }

    async fn create_server(&self, s: &AuthorizationServer, keys: &[SigningKey], scopes: &[Scope]) -> StoreResult<()> {
        let mut tx = self.tx().await?;
        insert_server(&mut tx, s, keys).await?;
        for sc in scopes {
            Sql::<Postgres>::insert_scope(&mut tx, sc).await?;
        }
        notify(&mut tx, &ConfigChange::Tenant(s.tenant_id.clone())).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn update_server(&self, s: &AuthorizationServer, keys: Option<&[SigningKey]>) -> StoreResult<()> {
        let mut tx = self.tx().await?;
        let r = sqlx::query(
            "UPDATE servers SET name = $1, system = $2, settings = $3, authentications = $4, \
             secrets_sealed = $5, updated_at = $6 WHERE tenant_id = $7 AND id = $8",
        )
        .bind(&s.name)
        .bind(s.system)
        .bind(to_json(&s.settings)?)
        .bind(to_json(&s.authentications)?)
        .bind(&s.secrets_sealed)
        .bind(s.updated_at)
        .bind(s.tenant_id.as_str())
        .bind(s.id.as_str())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("authorization server {}", s.id)));
        }
        if let Some(keys) = keys {
            sqlx::query("DELETE FROM signing_keys WHERE tenant_id = $1 AND server_id = $2")
                .bind(s.tenant_id.as_str())
                .bind(s.id.as_str())
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            insert_keys(&mut tx, &s.tenant_id, &s.id, keys).await?;
        }
        notify(&mut tx, &ConfigChange::Server(s.tenant_id.clone(), s.id.clone())).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn delete_server(
        &self,
        tid: &TenantId,
        aid: &ServerId,
        now: UnixTime,
        keep_until: UnixTime,
    ) -> StoreResult<bool> {
        let mut tx = self.tx().await?;
        let r = sqlx::query("DELETE FROM servers WHERE tenant_id = $1 AND id = $2")
            .bind(tid.as_str())
            .bind(aid.as_str())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        if r.rows_affected() > 0 {
            Sql::<Postgres>::insert_cutoff(&mut tx, tid, aid, "", now, keep_until).await?;
        }
        notify(&mut tx, &ConfigChange::Tenant(tid.clone())).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(r.rows_affected() > 0)
    }

    async fn list_keys(&self, tid: &TenantId, aid: &ServerId) -> StoreResult<Vec<SigningKey>> {
        self.fetch_all::<KeyRow, _>(
            &format!("SELECT {KEY_COLS} FROM signing_keys WHERE tenant_id = $1 AND server_id = $2 ORDER BY position"),
            &[tid.as_str(), aid.as_str()],
        )
        .await
    }
}

#[async_trait]
impl ClientStore for PostgresStore {
    async fn get_client(&self, tid: &TenantId, cid: &ClientId) -> StoreResult<Option<Client>> {
        self.fetch_opt::<ClientRow, _>(
            &format!("SELECT {CLIENT_COLS} FROM clients WHERE tenant_id = $1 AND id = $2"),
            &[tid.as_str(), cid.as_str()],
        )
        .await
    }

    async fn list_clients(&self, tid: &TenantId, aid: &ServerId) -> StoreResult<Vec<Client>> {
        self.fetch_all::<ClientRow, _>(
            &format!(
                "SELECT {CLIENT_COLS} FROM clients WHERE tenant_id = $1 AND server_id = $2 ORDER BY id COLLATE \"C\""
            ),
            &[tid.as_str(), aid.as_str()],
        )
        .await
    }

    async fn create_client(&self, c: &Client) -> StoreResult<()> {
        let mut tx = self.tx().await?;
        insert_client(&mut tx, c).await?;
        notify(&mut tx, &ConfigChange::Client(c.tenant_id.clone(), c.id.clone())).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn create_clients(&self, clients: &[Client]) -> StoreResult<()> {
        let mut tx = self.tx().await?;
        for c in clients {
            insert_client(&mut tx, c).await?;
        }
        // New clients are not cached anywhere yet: nothing to announce.
        tx.commit().await.map_err(map_err)
    }

    async fn update_client(&self, c: &Client) -> StoreResult<()> {
        let mut tx = self.tx().await?;
        let r = sqlx::query(
            "UPDATE clients SET name = $1, system = $2, grant_types = $3, token_endpoint_auth_method = $4, \
             secret_hash = $5, secret_sealed = $6, metadata = $7 WHERE tenant_id = $8 AND id = $9",
        )
        .bind(&c.name)
        .bind(c.system)
        .bind(to_json(&c.grant_types)?)
        .bind(&c.token_endpoint_auth_method)
        .bind(&c.secret_hash)
        .bind(&c.secret_sealed)
        .bind(to_json(&c.settings)?)
        .bind(c.tenant_id.as_str())
        .bind(c.id.as_str())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("client {}", c.id)));
        }
        notify(&mut tx, &ConfigChange::Client(c.tenant_id.clone(), c.id.clone())).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn delete_client(
        &self,
        tid: &TenantId,
        cid: &ClientId,
        now: UnixTime,
        keep_until: UnixTime,
    ) -> StoreResult<bool> {
        let mut tx = self.tx().await?;
        let live: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT t.server_id, t.jti, t.expires_at FROM grant_tokens t JOIN grants g \
             ON g.tenant_id = t.tenant_id AND g.server_id = t.server_id AND g.id = t.grant_id \
             WHERE g.tenant_id = $1 AND g.client_id = $2 AND t.expires_at > $3",
        )
        .bind(tid.as_str())
        .bind(cid.as_str())
        .bind(now)
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
        for (aid, jti, exp) in &live {
            Sql::<Postgres>::insert_revocation(&mut tx, tid, &ServerId::parse(aid).map_err(corrupt)?, jti, *exp)
                .await?;
        }
        // Grants take their refresh tokens and token records with them (ON DELETE CASCADE).
        for table in ["grants", "auth_codes", "consents"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE tenant_id = $1 AND client_id = $2"))
                .bind(tid.as_str())
                .bind(cid.as_str())
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        let server: Option<(String,)> =
            sqlx::query_as("DELETE FROM clients WHERE tenant_id = $1 AND id = $2 RETURNING server_id")
                .bind(tid.as_str())
                .bind(cid.as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(map_err)?;
        let Some(aid) = server.map(|(s,)| ServerId::parse(s).map_err(corrupt)).transpose()? else {
            return Ok(false);
        };
        Sql::<Postgres>::insert_cutoff(&mut tx, tid, &aid, cid.as_str(), now, keep_until).await?;
        // Other nodes drop the client and reload the server's revocations and cutoffs. Grants of
        // this client at other servers cannot exist (a client belongs to one server).
        notify(&mut tx, &ConfigChange::Client(tid.clone(), cid.clone())).await?;
        notify(&mut tx, &ConfigChange::Revoked(tid.clone(), aid)).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(true)
    }

    async fn list_tenant_clients(&self, tid: &TenantId) -> StoreResult<Vec<Client>> {
        self.fetch_all::<ClientRow, _>(
            &format!("SELECT {CLIENT_COLS} FROM clients WHERE tenant_id = $1 ORDER BY id COLLATE \"C\""),
            &[tid.as_str()],
        )
        .await
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(map_err)
            .map(|_| ())
    }

    async fn create_tenant_seeded(&self, seed: &BootstrapSeed) -> StoreResult<()> {
        let mut tx = self.tx().await?;
        insert_seed(&mut tx, seed).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn key_check(&self) -> StoreResult<Option<Vec<u8>>> {
        let row: Option<(Vec<u8>,)> = sqlx::query_as("SELECT value FROM meta WHERE name = 'key_check'")
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(row.map(|(v,)| v))
    }

    async fn bootstrap(&self, seed: &BootstrapSeed) -> StoreResult<bool> {
        let mut tx = self.tx().await?;
        // Nodes starting together queue here; the first writes, the others then see a tenant.
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(BOOTSTRAP_LOCK)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM tenants")
            .fetch_one(&mut *tx)
            .await
            .map_err(map_err)?;
        if count > 0 {
            return Ok(false);
        }
        insert_seed(&mut tx, seed).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(true)
    }

    async fn changes(&self) -> StoreResult<Option<mpsc::Receiver<ConfigChange>>> {
        let (tx, rx) = mpsc::channel(256);
        let pool = self.pool.clone();
        tokio::spawn(listen(pool, tx));
        Ok(Some(rx))
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

async fn insert_seed(tx: &mut Transaction<'static, Postgres>, seed: &BootstrapSeed) -> StoreResult<()> {
    insert_tenant(tx, &seed.tenant).await?;
    for (server, keys) in &seed.servers {
        insert_server(tx, server, keys).await?;
    }
    for scope in &seed.scopes {
        Sql::<Postgres>::insert_scope(tx, scope).await?;
    }
    for client in &seed.clients {
        insert_client(tx, client).await?;
    }
    for policy in &seed.policies {
        castellan_store_sql::Sql::<Postgres>::insert_policy(tx, policy).await?;
    }
    // Only the first seed's check is kept: every tenant's secrets are sealed with the same key.
    sqlx::query("INSERT INTO meta (name, value) VALUES ('key_check', $1) ON CONFLICT DO NOTHING")
        .bind(&seed.key_check)
        .execute(&mut **tx)
        .await
        .map_err(map_err)?;
    notify(tx, &ConfigChange::Tenant(seed.tenant.id.clone())).await
}

async fn insert_tenant(tx: &mut Transaction<'static, Postgres>, t: &Tenant) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO tenants (id, name, authentication_context_settings, jwks, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(t.id.as_str())
    .bind(&t.name)
    .bind(to_json(&t.authentication_context_settings)?)
    .bind(to_json(&t.jwks)?)
    .bind(t.created_at)
    .execute(&mut **tx)
    .await
    .map_err(|e| match map_err(e) {
        StoreError::Conflict(_) => StoreError::Conflict(format!("tenant {}", t.id)),
        e => e,
    })?;
    Ok(())
}

async fn insert_server(
    tx: &mut Transaction<'static, Postgres>,
    s: &AuthorizationServer,
    keys: &[SigningKey],
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO servers (tenant_id, id, name, system, settings, authentications, secrets_sealed, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(s.tenant_id.as_str())
    .bind(s.id.as_str())
    .bind(&s.name)
    .bind(s.system)
    .bind(to_json(&s.settings)?)
    .bind(to_json(&s.authentications)?)
    .bind(&s.secrets_sealed)
    .bind(s.created_at)
    .bind(s.updated_at)
    .execute(&mut **tx)
    .await
    .map_err(|e| match map_err(e) {
        StoreError::Conflict(_) => StoreError::Conflict(format!("authorization server {}", s.id)),
        StoreError::NotFound(_) => StoreError::NotFound(format!("tenant {}", s.tenant_id)),
        e => e,
    })?;
    insert_keys(tx, &s.tenant_id, &s.id, keys).await
}

async fn insert_keys(
    tx: &mut Transaction<'static, Postgres>,
    tid: &TenantId,
    aid: &ServerId,
    keys: &[SigningKey],
) -> StoreResult<()> {
    for (position, k) in keys.iter().enumerate() {
        sqlx::query(
            "INSERT INTO signing_keys (tenant_id, server_id, kid, alg, status, public_jwk, private_sealed, \
             created_at, position) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(tid.as_str())
        .bind(aid.as_str())
        .bind(&k.kid)
        .bind(k.alg.as_str())
        .bind(k.status.as_str())
        .bind(to_json(&k.public_jwk)?)
        .bind(&k.private_sealed)
        .bind(k.created_at)
        .bind(position as i32)
        .execute(&mut **tx)
        .await
        .map_err(|e| match map_err(e) {
            StoreError::Conflict(_) => StoreError::Conflict(format!("key {}", k.kid)),
            e => e,
        })?;
    }
    Ok(())
}

pub(crate) async fn insert_client(tx: &mut Transaction<'static, Postgres>, c: &Client) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO clients (tenant_id, id, server_id, name, system, grant_types, token_endpoint_auth_method, \
         secret_hash, secret_sealed, metadata, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(c.tenant_id.as_str())
    .bind(c.id.as_str())
    .bind(c.server_id.as_str())
    .bind(&c.name)
    .bind(c.system)
    .bind(to_json(&c.grant_types)?)
    .bind(&c.token_endpoint_auth_method)
    .bind(&c.secret_hash)
    .bind(&c.secret_sealed)
    .bind(to_json(&c.settings)?)
    .bind(c.created_at)
    .execute(&mut **tx)
    .await
    .map_err(|e| match map_err(e) {
        StoreError::Conflict(_) => StoreError::Conflict(format!("client {}", c.id)),
        StoreError::NotFound(_) => StoreError::NotFound(format!("authorization server {}", c.server_id)),
        e => e,
    })?;
    Ok(())
}
