//! The `castellan` binary's library half: start-up wiring, the one place that picks the store.
//! Integration tests start the real server through [`start`] on port 0.

pub mod config;
mod documents;
mod jwks;
pub mod load;
pub mod outbound;
pub mod remote;
mod tls;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use castellan_control::{AuditKind, AuditRecord, BootstrapCredentials, BootstrapOptions, Control};
use castellan_domain::SystemClock;
use castellan_jose::MasterKey;
use castellan_store::Store;
use castellan_store_postgres::PostgresStore;
use castellan_store_sqlite::SqliteStore;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use config::{Config, SharedClock};

/// Name of the file the first start writes the bootstrap credentials to (mode 0600).
pub const BOOTSTRAP_FILE: &str = "bootstrap-credentials.json";
const MASTER_KEY_FILE: &str = "master.key";
const SQLITE_FILE: &str = "castellan.db";

/// Opens the configured store and applies migrations. The one place that picks the adapter:
/// `postgres://` URLs select PostgreSQL, `sqlite:` URLs or no URL the embedded SQLite store.
pub async fn open_store(cfg: &Config) -> anyhow::Result<Arc<dyn Store>> {
    match cfg.database_url.as_deref() {
        None => {
            create_private_dir(&cfg.data_dir)?;
            let store = SqliteStore::open(&cfg.data_dir.join(SQLITE_FILE)).await?;
            store.migrate().await.context("applying migrations")?;
            Ok(Arc::new(store))
        }
        Some(url) if url.starts_with("sqlite:") => {
            let store = SqliteStore::connect(url).await.context("--database-url")?;
            store.migrate().await.context("applying migrations")?;
            Ok(Arc::new(store))
        }
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            let store = PostgresStore::connect(url).await.context("--database-url")?;
            store
                .migrate()
                .await
                .context("applying PostgreSQL migrations (is the database reachable?)")?;
            Ok(Arc::new(store))
        }
        Some(_) => bail!("--database-url must start with postgres://, postgresql:// or sqlite:"),
    }
}

fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
        .with_context(|| format!("cannot create data dir {}", dir.display()))
}

/// Writes `contents` to a new file readable only by the owner; fails if it exists.
fn write_private_file(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    let mut f = o
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(contents)?;
    f.sync_all()?;
    Ok(())
}

/// `CASTELLAN_MASTER_KEY`, else the key file in the data dir, generated on first start.
fn master_key(cfg: &Config) -> anyhow::Result<MasterKey> {
    if let Some(k) = &cfg.master_key {
        return MasterKey::from_secret(k).context("CASTELLAN_MASTER_KEY");
    }
    create_private_dir(&cfg.data_dir)?;
    let path = cfg.data_dir.join(MASTER_KEY_FILE);
    if !path.exists() {
        let secret = MasterKey::generate_secret()?;
        write_private_file(&path, format!("{secret}\n").as_bytes())?;
        tracing::info!(path = %path.display(), "generated a master key; keep this file safe and back it up");
    }
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    MasterKey::from_secret(text.trim()).with_context(|| format!("master key file {}", path.display()))
}

/// A running server.
pub struct Running {
    pub addr: SocketAddr,
    pub public_url: String,
    /// Set when this start bootstrapped the store.
    pub bootstrap: Option<BootstrapCredentials>,
    shutdown: Option<oneshot::Sender<()>>,
    handle: JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// Stops accepting connections, finishes in-flight requests, and waits.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.handle.await??;
        Ok(())
    }

    /// Serves until Ctrl-C or SIGTERM.
    pub async fn wait_for_signal(self) -> anyhow::Result<()> {
        shutdown_signal().await;
        tracing::info!("shutting down");
        self.stop().await
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

/// Timed upkeep. Every `interval`: signing keys due to rotate are rotated (several nodes may
/// try; the store lets one rotation through). Every `purge_every`: what expired is removed in
/// batches of 1,000 rows, by one node at a time (the others skip their turn).
async fn maintain(
    control: Arc<Control>,
    interval: std::time::Duration,
    purge_every: std::time::Duration,
    pace: castellan_store::PurgePace,
) {
    let mut every = tokio::time::interval(interval.min(purge_every));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut rotated_at: Option<tokio::time::Instant> = None;
    let mut purged_at: Option<tokio::time::Instant> = None;
    let due = |at: Option<tokio::time::Instant>, period| at.is_none_or(|t: tokio::time::Instant| t.elapsed() >= period);
    loop {
        every.tick().await;
        if due(rotated_at, interval) {
            rotated_at = Some(tokio::time::Instant::now());
            if let Err(e) = control.rotate_due_keys().await {
                tracing::warn!(error = %e, "looking for signing keys due to rotate failed");
            }
        }
        if due(purged_at, purge_every) {
            purged_at = Some(tokio::time::Instant::now());
            let started = std::time::Instant::now();
            match control.purge_expired_in_batches(pace).await {
                Ok(Some(p)) if p.total() > 0 => tracing::info!(
                    rows = p.total(),
                    batches = p.batches,
                    took_ms = started.elapsed().as_millis() as u64,
                    tables = ?p.tables.iter().filter(|(_, n)| *n > 0).collect::<Vec<_>>(),
                    "expired rows purged"
                ),
                Ok(Some(_)) => {}
                Ok(None) => tracing::debug!("another node is purging; skipped"),
                Err(e) => tracing::warn!(error = %e, "purging expired rows failed"),
            }
        }
    }
}

/// Verifies a tenant's privacy ledger straight from the store (`castellan ledger verify`).
pub async fn verify_ledger(cfg: &Config, tenant: &str) -> anyhow::Result<castellan_types::privacy::LedgerVerification> {
    let tid = castellan_domain::TenantId::parse(tenant).context("--tenant")?;
    let store = open_store(cfg).await?;
    if store.get_tenant(&tid).await?.is_none() {
        anyhow::bail!("tenant {tid} does not exist");
    }
    Ok(castellan_control::verify_stored(store.as_ref(), &tid).await?)
}

/// `castellan audit verify`: the tenant's admin audit trail checked against the store.
pub async fn verify_audit(cfg: &Config, tenant: &str) -> anyhow::Result<castellan_types::privacy::LedgerVerification> {
    let tid = castellan_domain::TenantId::parse(tenant).context("--tenant")?;
    let store = open_store(cfg).await?;
    if store.get_tenant(&tid).await?.is_none() {
        anyhow::bail!("tenant {tid} does not exist");
    }
    Ok(castellan_control::verify_audit_stored(store.as_ref(), &tid).await?)
}

/// `castellan admin reset-secret`: a new generated secret for an admin client, straight on the
/// store (the master key opens it; the old secret is not needed). For the bootstrap client of
/// the default tenant the credentials file is rewritten too; its path is returned.
/// The control plane over the configured store, for operator commands (no server).
async fn operator_control(cfg: &Config) -> anyhow::Result<Control> {
    if cfg.master_key.is_none() && !cfg.data_dir.join(MASTER_KEY_FILE).exists() {
        bail!(
            "no master key: set CASTELLAN_MASTER_KEY or point --data-dir at the server's data directory (it holds {MASTER_KEY_FILE})"
        );
    }
    let master = Arc::new(master_key(cfg)?);
    let store = open_store(cfg).await?;
    if store.list_tenant_ids().await?.is_empty() {
        bail!("the store is empty: start the server once (castellan serve) to bootstrap it");
    }
    let public_url = cfg
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", cfg.listen));
    let control = Control::new(store, master, Arc::new(SystemClock), &public_url);
    control.check_master_key().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(control)
}

fn operator<N: castellan_control::Need>() -> anyhow::Result<castellan_control::Allowed<N>> {
    let tid = castellan_domain::TenantId::parse(castellan_domain::DEFAULT_TENANT)?;
    castellan_control::AdminAccess::for_operator(tid)
        .allow::<N>()
        .map_err(|e| anyhow::anyhow!("{e}"))
}

/// `castellan export`: the configuration as JSON on `out`, written as it is read.
pub async fn export_configuration(
    cfg: &Config,
    tenant: Option<&str>,
    with_secrets: bool,
    mut out: impl std::io::Write + Send + 'static,
) -> anyhow::Result<()> {
    let control = Arc::new(operator_control(cfg).await?);
    let access = operator::<castellan_control::need::SystemRead>()?;
    let tenants = control
        .export_tenants(&access, tenant, with_secrets)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<u8>>(4);
    let writer = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        while let Some(chunk) = rx.blocking_recv() {
            out.write_all(&chunk)?;
        }
        out.flush()
    });
    let exported = control
        .export_configuration(&access, &tenants, with_secrets, castellan_control::DumpOut::new(tx))
        .await;
    writer.await??;
    exported.map_err(|e| anyhow::anyhow!("{e}"))
}

/// `castellan import`: a dump from `file` (`-`: stdin) in one transaction.
pub async fn import_configuration(
    cfg: &Config,
    mode: &str,
    tenant: Option<&str>,
    file: &std::path::Path,
) -> anyhow::Result<castellan_types::ConfigurationImported> {
    let mode = castellan_control::ImportMode::parse(mode)
        .ok_or_else(|| anyhow::anyhow!("--mode must be fail, update or ignore"))?;
    let path = file.to_owned();
    let dump: castellan_types::Dump = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let reader: Box<dyn std::io::Read> = if path.as_os_str() == "-" {
            Box::new(std::io::stdin().lock())
        } else {
            Box::new(std::fs::File::open(&path).map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))?)
        };
        serde_json::from_reader(std::io::BufReader::new(reader))
            .map_err(|e| anyhow::anyhow!("{} is not a configuration dump: {e}", path.display()))
    })
    .await??;
    let control = operator_control(cfg).await?;
    let access = operator::<castellan_control::need::SystemWrite>()?;
    let done = control
        .import_configuration(&access, tenant, mode, dump)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    operator_audit(
        &control,
        castellan_domain::DEFAULT_TENANT,
        "importConfiguration",
        AuditKind::Configuration,
        None,
        "castellan import",
    )
    .await?;
    Ok(done)
}

/// An operator command's write in the tenant's admin audit trail (as `operator:operator`, via
/// `cli`; the request is the command).
async fn operator_audit(
    control: &Control,
    tenant: &str,
    operation: &'static str,
    kind: AuditKind,
    id: Option<&str>,
    command: &str,
) -> anyhow::Result<()> {
    let tenant = castellan_domain::TenantId::parse(tenant).context("tenant")?;
    let after = match id {
        Some(id) => control.audit_digest(&tenant, kind, id).await,
        None => None,
    };
    let record = AuditRecord {
        tenant,
        actor: "operator:operator".into(),
        operation,
        kind,
        id: id.map(str::to_owned),
        via: "cli",
        method: String::new(),
        path: command.to_owned(),
        status: 0,
        address: None,
        user_agent: None,
        before: None,
        after,
    };
    control
        .record_audit(record)
        .await
        .map_err(|e| anyhow::anyhow!("the admin audit trail could not record this: {e}"))
}

pub async fn reset_admin_secret(
    cfg: &Config,
    tenant: &str,
    client: &str,
) -> anyhow::Result<(BootstrapCredentials, Option<std::path::PathBuf>)> {
    let control = operator_control(cfg).await?;
    let creds = control
        .reset_admin_secret(tenant, client)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    operator_audit(
        &control,
        tenant,
        "resetAdminSecret",
        AuditKind::Client,
        Some(client),
        "castellan admin reset-secret",
    )
    .await?;
    let file = (tenant == castellan_domain::DEFAULT_TENANT && client == cfg.bootstrap_client_id)
        .then(|| cfg.data_dir.join(BOOTSTRAP_FILE));
    if let Some(path) = &file {
        // Written beside it, then renamed over it: the file is whole at every moment.
        let pending = path.with_extension("json.new");
        let _ = std::fs::remove_file(&pending);
        write_private_file(&pending, serde_json::to_string_pretty(&creds)?.as_bytes())?;
        std::fs::rename(&pending, path).with_context(|| format!("cannot replace {}", path.display()))?;
    }
    Ok((creds, file))
}

/// Rego policies run in worker processes of this program (`castellan policy-worker`), one per
/// core, each with bounded memory and killed when it overruns.
fn policy_workers(cfg: &Config) -> anyhow::Result<castellan_policy::Rego> {
    let program = match &cfg.policy_worker {
        Some(p) => p.clone(),
        None => std::env::current_exe().context("cannot find this program to start policy workers")?,
    };
    let workers = std::thread::available_parallelism().map_or(2, usize::from);
    Ok(castellan_policy::Rego::isolated(program, workers))
}

fn clock(cfg: &Config) -> Arc<dyn castellan_domain::Clock> {
    match &cfg.clock {
        Some(c) => c.0.clone(),
        None => Arc::new(SystemClock),
    }
}

/// Opens the store (migrated), bootstraps it when empty — writing the credentials file and
/// printing them once — and checks the master key: what every command that writes needs.
pub async fn open_control(
    cfg: &Config,
    public_url: &str,
) -> anyhow::Result<(Arc<Control>, Option<BootstrapCredentials>)> {
    let master = Arc::new(master_key(cfg)?);
    let store = open_store(cfg).await?;
    let control = Arc::new(
        Control::new(store, master, clock(cfg), public_url)
            .with_client_cache(cfg.client_cache)
            .with_rego(policy_workers(cfg)?),
    );
    let opts = BootstrapOptions {
        client_id: cfg.bootstrap_client_id.clone(),
        client_secret: cfg.bootstrap_client_secret.clone(),
    };
    let bootstrap = control
        .bootstrap(&opts)
        .await
        .map_err(|e| anyhow::anyhow!("bootstrap: {e}"))?;
    // After the bootstrap: a node that lost the bootstrap race to a node with another key must
    // see that node's check value and refuse.
    control.check_master_key().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    if bootstrap.is_none() && cfg.bootstrap_client_secret.is_some() {
        tracing::warn!(
            "CASTELLAN_BOOTSTRAP_CLIENT_SECRET is set but the store is already bootstrapped: it is ignored; \
             to replace an admin client's secret run `castellan admin reset-secret --client ID`"
        );
    }
    if let Some(creds) = &bootstrap {
        let path = cfg.data_dir.join(BOOTSTRAP_FILE);
        create_private_dir(&cfg.data_dir)?;
        write_private_file(&path, serde_json::to_string_pretty(creds)?.as_bytes())?;
        // Printed once, on the terminal of the operator who started the first run; never logged.
        println!(
            "\nCastellan bootstrapped tenant {tid}.\n  admin client id:     {id}\n  admin client secret: {secret}\n\
             These were written to {path} (mode 0600) and will not be shown again.\n",
            tid = creds.tenant_id,
            id = creds.client_id,
            secret = creds.client_secret,
            path = path.display(),
        );
    }
    Ok((control, bootstrap))
}

/// Opens the store, migrates, bootstraps an empty store, binds and serves.
pub async fn start(cfg: Config) -> anyhow::Result<Running> {
    let tls = cfg
        .tls
        .as_ref()
        .map(|files| tls::server_config(files, cfg.client_certs.ask))
        .transpose()?;
    let client_ca = cfg.client_certs.ca.as_deref().map(tls::client_ca).transpose()?;
    let listener = TcpListener::bind(cfg.listen)
        .await
        .with_context(|| format!("cannot listen on {} (--listen)", cfg.listen))?;
    let addr = listener.local_addr()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let public_url = cfg.public_url.clone().unwrap_or_else(|| format!("{scheme}://{addr}"));
    let (control, bootstrap) = open_control(&cfg, &public_url).await?;
    let outbound = outbound::Outbound::new(cfg.outbound_allow.clone());
    control
        .engine()
        .set_jwks_fetcher(Arc::new(jwks::HttpJwksFetcher::new(&outbound)?));
    control.set_document_fetcher(Arc::new(documents::HttpDocumentFetcher::new(&outbound)?));
    control
        .engine()
        .set_client_certificates(castellan_oauth::mtls::ClientCertificates {
            received: cfg.client_certs.ask || cfg.client_certs.header.is_some(),
            authority: client_ca,
            alias: cfg.client_certs.alias.clone(),
        });

    // Other nodes' changes (PostgreSQL) keep this node's configuration snapshots current.
    let follower = tokio::spawn(control.clone().follow_changes());
    let purger = tokio::spawn(maintain(
        control.clone(),
        cfg.maintenance_interval,
        cfg.purge_interval,
        cfg.purge_pace,
    ));
    let app = castellan_web::router(
        castellan_web::AppState::new(control)
            .with_trusted_proxies(cfg.trusted_proxies.clone())
            .with_client_cert_header(
                cfg.client_certs
                    .header
                    .as_deref()
                    .and_then(|h| axum::http::HeaderName::from_bytes(h.as_bytes()).ok()),
            )
            .with_default_tenant(&cfg.default_tenant),
    );
    let (tx, rx) = oneshot::channel::<()>();
    let make_service = app.into_make_service_with_connect_info::<SocketAddr>();
    let handle = tokio::spawn(async move {
        let served = match tls {
            None => {
                // Each response is written whole: Nagle's algorithm would only hold it back.
                let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
                    let _ = tcp.set_nodelay(true);
                });
                axum::serve(listener, make_service)
                    .with_graceful_shutdown(async {
                        let _ = rx.await;
                    })
                    .await
            }
            Some(tls) => {
                let shutdown = axum_server::Handle::new();
                let on_stop = shutdown.clone();
                tokio::spawn(async move {
                    let _ = rx.await;
                    on_stop.graceful_shutdown(Some(std::time::Duration::from_secs(30)));
                });
                let config = axum_server::tls_rustls::RustlsConfig::from_config(tls);
                match axum_server::tls_rustls::from_tcp_rustls(listener.into_std()?, config) {
                    Ok(server) => {
                        server
                            .map(tls::ClientCertAcceptor)
                            .handle(shutdown)
                            .serve(make_service)
                            .await
                    }
                    Err(e) => Err(e),
                }
            }
        };
        follower.abort();
        purger.abort();
        served
    });
    tracing::info!(%addr, %public_url, "castellan is listening");
    Ok(Running {
        addr,
        public_url,
        bootstrap,
        shutdown: Some(tx),
        handle,
    })
}
