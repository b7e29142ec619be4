//! Configuration: built-in defaults, then an optional TOML file (`--config`), then `CASTELLAN_*`
//! environment variables, then command-line flags; each later layer wins.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use serde::Deserialize;

#[derive(Debug, Parser)]
#[command(
    name = "castellan",
    version,
    about = "Multi-tenant OAuth 2.0 / OpenID Connect authorization server",
    after_help = "Each sub-command lists its own flags: castellan serve --help, castellan client create --help.\n\
Managing a running server (client, server, scope, policy, token) exits with 2 for a wrong command \
or input, 3 when the credentials are refused or lack the permission, 4 when something is not \
found, 5 when the server fails, 6 when it cannot be reached."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply migrations, bootstrap an empty store, and serve HTTP(S).
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate(StoreArgs),
    /// Put many tenants and clients into the store quickly, for benchmarks and capacity tests
    /// (clients with the client-credentials grant, ids `--prefix` and their number, secrets from
    /// `--secret`).
    Load(LoadArgs),
    /// Write the configuration of every tenant (or of `--tenant`) to stdout as JSON, in the
    /// shape `GET /api/system/configuration` answers. Reads the store; no server needed.
    Export(ExportArgs),
    /// Import a configuration dump (a file, or `-` for stdin) into the store in one
    /// transaction, as `PUT /api/system/configuration` does. With the embedded SQLite store run
    /// it while the server is stopped (or restart it after); on PostgreSQL running nodes learn
    /// of it at once.
    Import(ImportArgs),
    /// The privacy ledger.
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// The admin audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Recovering admin access.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Manage the clients of a running server (over HTTP, with an admin client's credentials).
    #[command(subcommand)]
    Client(crate::remote::ResourceCommand),
    /// Manage the authorization servers of a running server.
    #[command(subcommand)]
    Server(crate::remote::ResourceCommand),
    /// Manage the scopes of a running server.
    #[command(subcommand)]
    Scope(crate::remote::ResourceCommand),
    /// Manage and test the policies of a running server.
    #[command(subcommand)]
    Policy(crate::remote::PolicyCommand),
    /// Print an access token of the credentials' client (client credentials grant).
    Token(crate::remote::TokenArgs),
    /// People who administer a tenant.
    #[command(subcommand, name = "admin-user")]
    AdminUser(crate::remote::AdminUserCommand),
    /// Print a shell completion script: `castellan completion bash > /etc/bash_completion.d/castellan`.
    Completion(CompletionArgs),
    /// Evaluates Rego policies for a server that started it, one JSON line per line on stdin
    /// (internal: `serve` starts these itself).
    #[command(hide = true)]
    PolicyWorker,
}

#[derive(Debug, Clone, Args)]
pub struct CompletionArgs {
    /// bash, zsh, fish, elvish or powershell.
    pub shell: clap_complete::Shell,
}

/// `castellan ledger …`.
#[derive(Debug, Clone, Subcommand)]
pub enum LedgerCommand {
    /// Verify a tenant's privacy ledger against the store (offline: no server, no master key);
    /// prints `{verified, events, first_broken}` and exits non-zero when the chain is broken.
    Verify(LedgerVerifyArgs),
}

/// `castellan audit …`.
#[derive(Debug, Clone, Subcommand)]
pub enum AuditCommand {
    /// Verify a tenant's admin audit trail against the store (offline: no server, no master
    /// key); prints `{verified, events, first_broken}` and exits non-zero when the chain is broken.
    Verify(LedgerVerifyArgs),
}

/// `castellan admin …`.
#[derive(Debug, Clone, Subcommand)]
pub enum AdminCommand {
    /// Give a client of a tenant's admin server a new generated secret, print it, and, for the
    /// bootstrap client, rewrite the credentials file in the data directory. Needs the store and
    /// the master key, not the old secret. On PostgreSQL running nodes learn of it at once; with
    /// the embedded SQLite store run it while the server is stopped (or restart it after).
    ResetSecret(ResetSecretArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ResetSecretArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// The admin client whose secret to replace.
    #[arg(long, value_name = "ID")]
    pub client: String,
    /// Its tenant.
    #[arg(long, value_name = "ID", default_value = "default")]
    pub tenant: String,
}

#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Only this tenant.
    #[arg(long, value_name = "ID")]
    pub tenant: Option<String>,
    /// Include secrets (server secrets and keys, client secrets in clear, password hashes).
    /// Needs the master key.
    #[arg(long)]
    pub with_secrets: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// What to do with objects that exist: `fail` (refuse the import), `update` (overwrite them)
    /// or `ignore` (keep them).
    #[arg(long, value_name = "MODE", default_value = "fail", value_parser = ["fail", "update", "ignore"])]
    pub mode: String,
    /// The tenant of objects that name none.
    #[arg(long, value_name = "ID")]
    pub tenant: Option<String>,
    /// The dump to import; `-` reads stdin.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

#[derive(Debug, Clone, Args)]
pub struct LedgerVerifyArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// The tenant whose ledger (or audit trail) to verify.
    #[arg(long, value_name = "ID")]
    pub tenant: String,
}

/// The flags of `castellan load`.
#[derive(Debug, Clone, Args)]
pub struct LoadArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Clients to create in each tenant.
    #[arg(long, value_name = "N")]
    pub clients: u64,
    /// Create this many new tenants (ids `--tenant-prefix` and their number) and load each; 0
    /// loads `--tenant`.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub tenants: u64,
    /// The existing tenant to load when `--tenants` is 0.
    #[arg(long, value_name = "ID", default_value = "default")]
    pub tenant: String,
    #[arg(long, value_name = "TEXT", default_value = "load-t")]
    pub tenant_prefix: String,
    /// Key type the new tenants' servers sign with: `rsa` (as the system API creates them) or
    /// `ecdsa` (faster to create: one RSA key per tenant, for ID tokens, instead of three).
    #[arg(long, value_name = "TYPE", default_value = "rsa")]
    pub tenant_key_type: String,
    /// The authorization server of each tenant the clients belong to.
    #[arg(long, value_name = "ID", default_value = "default")]
    pub server: String,
    /// Create `--server` first in each tenant, signing with this key type (`ecdsa` or `rsa`).
    #[arg(long, value_name = "TYPE")]
    pub create_server: Option<String>,
    /// Client ids are this followed by the client's number.
    #[arg(long, value_name = "TEXT", default_value = "load-c")]
    pub prefix: String,
    // The placeholder is named only in the default: in help text clap reads it as a line break.
    /// Client secrets: the placeholder in braces, as in the default, is replaced by the client's
    /// number (at least 20 characters).
    #[arg(long, value_name = "TEMPLATE", default_value = "load-secret-{n}-0123456789abcdef")]
    pub secret: String,
}

/// The flags of `castellan migrate`, which `castellan serve` has too: what reaches the database.
#[derive(Debug, Default, Clone, Args)]
pub struct StoreArgs {
    /// TOML configuration file; its keys are the long flag names with `_` for `-`.
    #[arg(long, env = "CASTELLAN_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Directory for the embedded database and key files [default: ./castellan-data].
    #[arg(long, env = "CASTELLAN_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database URL: `sqlite:…` or `postgres://…` [default: the file castellan.db in the data dir].
    #[arg(long, env = "CASTELLAN_DATABASE_URL", value_name = "URL")]
    pub database_url: Option<String>,
    /// Log filter, e.g. `info` or `castellan=debug` [default: info].
    #[arg(long, env = "CASTELLAN_LOG", value_name = "FILTER")]
    pub log: Option<String>,
}

/// The flags of `castellan serve`. Each also reads its `CASTELLAN_*` environment variable.
#[derive(Debug, Default, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Address to listen on, `host:port`; a name such as `localhost:9000` is resolved
    /// [default: 127.0.0.1:8443].
    #[arg(long, env = "CASTELLAN_LISTEN", value_name = "ADDR")]
    pub listen: Option<String>,
    /// URL clients use to reach this server; issuers are `{public_url}/{tid}/{aid}`
    /// [default: http://{listen}].
    #[arg(long, env = "CASTELLAN_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
    /// Id of the bootstrap client created on first start [default: bootstrap].
    #[arg(long, env = "CASTELLAN_BOOTSTRAP_CLIENT_ID", value_name = "ID")]
    pub bootstrap_client_id: Option<String>,
    /// PEM certificate chain (leaf first): serve HTTPS instead of HTTP; needs --tls-key.
    #[arg(long, env = "CASTELLAN_TLS_CERT", value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1) of --tls-cert.
    #[arg(long, env = "CASTELLAN_TLS_KEY", value_name = "FILE")]
    pub tls_key: Option<PathBuf>,
    /// Ask TLS clients for a certificate (not required), for mutual-TLS client authentication
    /// and certificate-bound tokens (RFC 8705). Browsers may then offer a person their
    /// certificates; serve people and machines on different hosts if that matters.
    #[arg(long, env = "CASTELLAN_TLS_CLIENT_CERTS")]
    pub tls_client_certs: bool,
    /// PEM certificates of the authorities that issue client certificates for `tls_client_auth`
    /// (RFC 8705 §2.1); implies --tls-client-certs when serving HTTPS.
    #[arg(long, env = "CASTELLAN_TLS_CLIENT_CA", value_name = "FILE")]
    pub tls_client_ca: Option<PathBuf>,
    /// The header a TLS-terminating proxy in --trusted-proxies forwards the client certificate
    /// in (e.g. `Client-Cert`, set by nginx to $ssl_client_escaped_cert); believed only from
    /// those proxies [default: none].
    #[arg(long, env = "CASTELLAN_CLIENT_CERT_HEADER", value_name = "NAME")]
    pub client_cert_header: Option<String>,
    /// The URL clients reach this server at with mutual TLS, when that is not --public-url (a
    /// host whose proxy asks for client certificates); discovery lists the endpoints there as
    /// `mtls_endpoint_aliases` (RFC 8705 §5) [default: none].
    #[arg(long, env = "CASTELLAN_MTLS_URL", value_name = "URL")]
    pub mtls_url: Option<String>,
    /// Comma-separated networks (CIDR, e.g. `10.0.0.0/8,192.168.1.7/32`) of load balancers and
    /// reverse proxies whose X-Forwarded-For / Forwarded headers name the client [default: none].
    #[arg(long, env = "CASTELLAN_TRUSTED_PROXIES", value_name = "CIDRS")]
    pub trusted_proxies: Option<String>,
    /// Comma-separated networks (CIDR) that Castellan's own requests (import URLs, clients'
    /// `jwks_uri`, upstream identity providers) may reach although they are private, loopback,
    /// link-local or otherwise internal [default: none; only public addresses].
    #[arg(long, env = "CASTELLAN_OUTBOUND_ALLOW", value_name = "CIDRS")]
    pub outbound_allow: Option<String>,
    /// How many clients to keep in memory; the others are read from the database when used
    /// (one indexed read) [default: 50000, at most about 150 MB].
    #[arg(long, env = "CASTELLAN_CLIENT_CACHE", value_name = "N")]
    pub client_cache: Option<usize>,
    /// Tenant of `/v1/…` (Nexus-style) requests that name none, neither in their token's `tid`
    /// claim nor in an `X-Castellan-Tenant` header [default: default].
    #[arg(long, env = "CASTELLAN_DEFAULT_TENANT", value_name = "TID")]
    pub default_tenant: Option<String>,
    /// How often expired codes, sessions, grants and revocations are removed (one node at a
    /// time, in batches of 1,000 rows), as a duration such as `10m` or `1h` [default: 10m].
    #[arg(long, env = "CASTELLAN_PURGE_INTERVAL", value_name = "DURATION")]
    pub purge_interval: Option<String>,
}

/// Keys allowed in the TOML file. Secrets (master key, bootstrap secret) are read only from the
/// environment, never from a file that might be committed.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    public_url: Option<String>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    log: Option<String>,
    bootstrap_client_id: Option<String>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    tls_client_certs: Option<bool>,
    tls_client_ca: Option<PathBuf>,
    client_cert_header: Option<String>,
    mtls_url: Option<String>,
    trusted_proxies: Option<Vec<String>>,
    outbound_allow: Option<Vec<String>>,
    client_cache: Option<usize>,
    default_tenant: Option<String>,
    purge_interval: Option<String>,
}

/// The effective configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub public_url: Option<String>,
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    pub log: String,
    pub bootstrap_client_id: String,
    pub bootstrap_client_secret: Option<String>,
    pub master_key: Option<String>,
    /// Certificate chain and key files: HTTPS when set (both or neither).
    pub tls: Option<TlsFiles>,
    /// Networks whose forwarded-address headers are believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// TLS client certificates (RFC 8705): asked for on the listener, trusted authorities, and
    /// the header a trusted proxy forwards them in.
    pub client_certs: ClientCertConfig,
    /// The program started as `PROGRAM policy-worker` to evaluate Rego policies; `None`: this
    /// program (tests name the built binary, since they run inside a test harness).
    pub policy_worker: Option<PathBuf>,
    /// Internal networks Castellan's own outbound requests may reach.
    pub outbound_allow: Vec<ipnet::IpNet>,
    /// Clients kept in memory.
    pub client_cache: usize,
    /// Tenant of `/v1/…` requests that name none.
    pub default_tenant: String,
    /// How often a node looks for signing keys due to rotate.
    pub maintenance_interval: std::time::Duration,
    /// How often a node removes what expired (when no other node is doing it).
    pub purge_interval: std::time::Duration,
    /// Rows per delete statement and the rest between statements.
    pub purge_pace: castellan_store::PurgePace,
    /// The time the server runs on; `None`: the wall clock. Tests move it.
    pub clock: Option<SharedClock>,
}

/// A clock for [`Config::clock`].
#[derive(Clone)]
pub struct SharedClock(pub std::sync::Arc<dyn castellan_domain::Clock>);

impl std::fmt::Debug for SharedClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedClock")
    }
}

/// How client certificates reach the server (RFC 8705).
#[derive(Debug, Clone, Default)]
pub struct ClientCertConfig {
    /// The TLS listener asks for a client certificate (without requiring one).
    pub ask: bool,
    /// PEM file of the authorities `tls_client_auth` certificates must chain to.
    pub ca: Option<PathBuf>,
    /// The header trusted proxies forward the certificate in.
    pub header: Option<String>,
    /// The base URL of the mutual-TLS host, when it is not the public URL.
    pub alias: Option<String>,
}

/// Where the TLS certificate chain and its private key are (PEM).
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Config {
    /// Defaults suitable for tests: listen on a free loopback port, data in `data_dir`.
    pub fn for_tests(data_dir: &Path) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            public_url: None,
            data_dir: data_dir.to_owned(),
            database_url: None,
            log: "warn".into(),
            bootstrap_client_id: "bootstrap".into(),
            bootstrap_client_secret: None,
            master_key: None,
            tls: None,
            trusted_proxies: Vec::new(),
            client_certs: ClientCertConfig::default(),
            policy_worker: None,
            // Tests serve what they fetch on this machine: loopback, allowed explicitly.
            outbound_allow: ["127.0.0.0/8", "::1/128"]
                .iter()
                .filter_map(|n| n.parse().ok())
                .collect(),
            client_cache: castellan_oauth::DEFAULT_CLIENT_CACHE,
            default_tenant: castellan_domain::DEFAULT_TENANT.into(),
            maintenance_interval: std::time::Duration::from_secs(60),
            purge_interval: std::time::Duration::from_secs(600),
            purge_pace: castellan_store::PurgePace::default(),
            clock: None,
        }
    }

    /// Merges flags/env (already merged by clap, flags first) over the file over defaults.
    pub fn load(args: &ServeArgs) -> anyhow::Result<Self> {
        let file = match &args.store.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read config file {}", path.display()))?;
                // The error's own text names the line and column and shows the line.
                toml::from_str::<FileConfig>(&text)
                    .map_err(|e| anyhow::anyhow!("config file {}: {}", path.display(), e.to_string().trim_end()))?
            }
            None => FileConfig::default(),
        };
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let public_url = args.public_url.clone().or(file.public_url);
        if let Some(u) = &public_url {
            let parsed = url_ok(u);
            if !parsed {
                bail!("--public-url {u:?} must be an absolute http(s) URL without query or fragment");
            }
        }
        let tls = match (
            args.tls_cert.clone().or(file.tls_cert),
            args.tls_key.clone().or(file.tls_key),
        ) {
            (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
            (None, None) => None,
            (Some(_), None) => bail!("--tls-cert needs --tls-key (the certificate's private key)"),
            (None, Some(_)) => bail!("--tls-key needs --tls-cert (the certificate chain)"),
        };
        let trusted_proxies = match (&args.trusted_proxies, file.trusted_proxies) {
            (Some(list), _) => parse_networks(list.split(',').map(str::trim).filter(|s| !s.is_empty()))?,
            (None, Some(list)) => parse_networks(list.iter().map(|s| s.trim()))?,
            (None, None) => Vec::new(),
        };
        let outbound_allow = match (&args.outbound_allow, file.outbound_allow) {
            (Some(list), _) => parse_networks(list.split(',').map(str::trim).filter(|s| !s.is_empty()))?,
            (None, Some(list)) => parse_networks(list.iter().map(|s| s.trim()))?,
            (None, None) => Vec::new(),
        };
        let ca = args.tls_client_ca.clone().or(file.tls_client_ca);
        let client_certs = ClientCertConfig {
            ask: tls.is_some() && (args.tls_client_certs || file.tls_client_certs == Some(true) || ca.is_some()),
            ca,
            header: args.client_cert_header.clone().or(file.client_cert_header),
            alias: args
                .mtls_url
                .clone()
                .or(file.mtls_url)
                .map(|u| u.trim_end_matches('/').to_owned()),
        };
        if let Some(u) = &client_certs.alias {
            if !url_ok(u) {
                bail!("--mtls-url {u:?} must be an absolute http(s) URL without query or fragment");
            }
            if !client_certs.ask && client_certs.header.is_none() {
                bail!("--mtls-url needs client certificates to arrive: --tls-client-certs or --client-cert-header");
            }
        }
        if (args.tls_client_certs || file.tls_client_certs == Some(true)) && tls.is_none() {
            bail!("--tls-client-certs needs --tls-cert and --tls-key (client certificates come with TLS)");
        }
        if let Some(h) = &client_certs.header {
            if axum::http::HeaderName::from_bytes(h.as_bytes()).is_err() {
                bail!("--client-cert-header {h:?} is not a header name");
            }
            if trusted_proxies.is_empty() {
                bail!(
                    "--client-cert-header needs --trusted-proxies: only those proxies' certificate headers are believed"
                );
            }
        }
        if client_certs.ca.is_some() && !client_certs.ask && client_certs.header.is_none() {
            bail!("--tls-client-ca needs HTTPS (--tls-cert) or a proxy's --client-cert-header to receive certificates");
        }
        let log = args.store.log.clone().or(file.log).unwrap_or_else(|| "info".into());
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&log) {
            bail!("--log {log:?} is not a log filter (e.g. info, or castellan=debug,warn): {e}");
        }
        let listen = match args.listen.clone().or(file.listen) {
            Some(l) => resolve_listen(&l)?,
            None => SocketAddr::from(([127, 0, 0, 1], 8443)),
        };
        let client_cache = args
            .client_cache
            .or(file.client_cache)
            .unwrap_or(castellan_oauth::DEFAULT_CLIENT_CACHE);
        if client_cache == 0 {
            bail!("--client-cache must be at least 1");
        }
        let purge_interval = match args.purge_interval.clone().or(file.purge_interval) {
            None => std::time::Duration::from_secs(600),
            Some(v) => {
                let d =
                    castellan_domain::GoDuration::parse(&v).map_err(|e| anyhow::anyhow!("--purge-interval: {e}"))?;
                if d.as_secs() == 0 || d.as_secs() > 7 * 24 * 3600 {
                    bail!("--purge-interval {v:?} must be between 1s and 168h");
                }
                std::time::Duration::from_secs(d.as_secs())
            }
        };
        let default_tenant = args
            .default_tenant
            .clone()
            .or(file.default_tenant)
            .unwrap_or_else(|| castellan_domain::DEFAULT_TENANT.into());
        if let Err(e) = castellan_domain::TenantId::parse(&default_tenant) {
            bail!("--default-tenant {default_tenant:?} is not a tenant id: {e}");
        }
        Ok(Self {
            default_tenant,
            maintenance_interval: std::time::Duration::from_secs(60),
            purge_interval,
            purge_pace: castellan_store::PurgePace::default(),
            clock: None,
            client_cache,
            trusted_proxies,
            client_certs,
            policy_worker: None,
            outbound_allow,
            listen,
            public_url,
            data_dir: args
                .store
                .data_dir
                .clone()
                .or(file.data_dir)
                .unwrap_or_else(|| PathBuf::from("castellan-data")),
            database_url: args.store.database_url.clone().or(file.database_url),
            log,
            bootstrap_client_id: args
                .bootstrap_client_id
                .clone()
                .or(file.bootstrap_client_id)
                .unwrap_or_else(|| "bootstrap".into()),
            bootstrap_client_secret: env("CASTELLAN_BOOTSTRAP_CLIENT_SECRET"),
            master_key: env("CASTELLAN_MASTER_KEY"),
            tls,
        })
    }
}

/// `host:port` to a socket address: an address as is, a name (`localhost:9000`) through the
/// system's resolver (its first address).
fn resolve_listen(v: &str) -> anyhow::Result<SocketAddr> {
    if let Ok(a) = v.parse::<SocketAddr>() {
        return Ok(a);
    }
    let bad = || anyhow::anyhow!("--listen {v:?} must be host:port, e.g. 127.0.0.1:8443 or localhost:9000");
    if v.rsplit_once(':')
        .is_none_or(|(h, p)| h.is_empty() || p.parse::<u16>().is_err())
    {
        return Err(bad());
    }
    std::net::ToSocketAddrs::to_socket_addrs(v)
        .map_err(|e| anyhow::anyhow!("--listen {v:?}: cannot resolve the host name: {e}"))?
        .next()
        .ok_or_else(bad)
}

/// CIDR networks; a bare address means that one host.
fn parse_networks<'a>(items: impl Iterator<Item = &'a str>) -> anyhow::Result<Vec<ipnet::IpNet>> {
    items
        .map(|s| {
            s.parse::<ipnet::IpNet>()
                .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    anyhow::anyhow!("--trusted-proxies: {s:?} is not a network (CIDR such as 10.0.0.0/8) or an address")
                })
        })
        .collect()
}

fn url_ok(u: &str) -> bool {
    let Some(rest) = u.strip_prefix("http://").or_else(|| u.strip_prefix("https://")) else {
        return false;
    };
    !rest.is_empty() && !rest.starts_with('/') && !u.contains('?') && !u.contains('#')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_file(p: PathBuf) -> ServeArgs {
        ServeArgs {
            store: StoreArgs {
                config: Some(p),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn write(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("castellan.toml");
        std::fs::write(&p, text).unwrap();
        (dir, p)
    }

    #[test]
    fn file_values_apply_and_flags_win() {
        let (_d, p) = write("listen = \"127.0.0.1:9000\"\ndata_dir = \"/srv/castellan\"\nlog = \"debug\"\n");
        let mut args = with_file(p);
        let c = Config::load(&args).unwrap();
        assert_eq!(c.listen.port(), 9000);
        assert_eq!(c.data_dir, PathBuf::from("/srv/castellan"));
        assert_eq!(c.log, "debug");
        args.listen = Some("127.0.0.1:9100".into());
        assert_eq!(Config::load(&args).unwrap().listen.port(), 9100);
    }

    #[test]
    fn purge_interval_is_a_checked_duration() {
        let mut args = ServeArgs::default();
        assert_eq!(Config::load(&args).unwrap().purge_interval.as_secs(), 600);
        args.purge_interval = Some("30s".into());
        assert_eq!(Config::load(&args).unwrap().purge_interval.as_secs(), 30);
        for bad in ["0s", "soon", "200h"] {
            args.purge_interval = Some(bad.into());
            let e = Config::load(&args).unwrap_err().to_string();
            assert!(e.contains("--purge-interval"), "{e}");
        }
    }

    #[test]
    fn default_tenant_from_file_or_flag_and_checked() {
        let (_d, p) = write("default_tenant = \"acme\"\n");
        let mut args = with_file(p);
        assert_eq!(Config::load(&args).unwrap().default_tenant, "acme");
        args.default_tenant = Some("beta".into());
        assert_eq!(Config::load(&args).unwrap().default_tenant, "beta");
        args.default_tenant = Some("Not A Tenant!".into());
        let err = Config::load(&args).unwrap_err().to_string();
        assert!(err.contains("--default-tenant"), "{err}");
        assert_eq!(Config::load(&ServeArgs::default()).unwrap().default_tenant, "default");
    }

    #[test]
    fn unknown_key_in_file_is_an_error_naming_it() {
        let (_d, p) = write("listen = \"127.0.0.1:9000\"\nlisten_port = 3\n");
        let err = Config::load(&with_file(p)).unwrap_err().to_string();
        assert!(err.contains("listen_port"), "{err}");
    }

    #[test]
    fn tls_files_come_in_pairs() {
        let (_d, p) = write("tls_cert = \"/etc/castellan/cert.pem\"\n");
        let mut args = with_file(p);
        let err = Config::load(&args).unwrap_err().to_string();
        assert!(err.contains("--tls-key"), "{err}");
        args.tls_key = Some("/etc/castellan/key.pem".into());
        let tls = Config::load(&args).unwrap().tls.unwrap();
        assert_eq!(tls.cert, PathBuf::from("/etc/castellan/cert.pem"));
        assert_eq!(tls.key, PathBuf::from("/etc/castellan/key.pem"));
        let err = Config::load(&ServeArgs {
            tls_key: Some("k.pem".into()),
            ..Default::default()
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains("--tls-cert"), "{err}");
    }

    #[test]
    fn client_certificates_need_a_way_in() {
        let err = |args: ServeArgs| Config::load(&args).unwrap_err().to_string();
        let e = err(ServeArgs {
            tls_client_certs: true,
            ..Default::default()
        });
        assert!(e.contains("--tls-cert"), "{e}");
        let e = err(ServeArgs {
            client_cert_header: Some("Client-Cert".into()),
            ..Default::default()
        });
        assert!(e.contains("--trusted-proxies"), "{e}");
        let e = err(ServeArgs {
            client_cert_header: Some("Client Cert".into()),
            trusted_proxies: Some("10.0.0.1".into()),
            ..Default::default()
        });
        assert!(e.contains("not a header name"), "{e}");
        let e = err(ServeArgs {
            tls_client_ca: Some("ca.pem".into()),
            ..Default::default()
        });
        assert!(e.contains("--tls-client-ca needs"), "{e}");
        let c = Config::load(&ServeArgs {
            client_cert_header: Some("Client-Cert".into()),
            trusted_proxies: Some("10.0.0.1".into()),
            tls_client_ca: Some("ca.pem".into()),
            ..Default::default()
        })
        .unwrap();
        assert!(!c.client_certs.ask, "no TLS listener to ask on");
        assert_eq!(c.client_certs.header.as_deref(), Some("Client-Cert"));
        // From the file, with TLS: the CA makes the listener ask.
        let (_d, p) = write("tls_cert = \"c.pem\"\ntls_key = \"k.pem\"\ntls_client_ca = \"ca.pem\"\n");
        assert!(Config::load(&with_file(p)).unwrap().client_certs.ask);
    }

    #[test]
    fn defaults_without_file() {
        let c = Config::load(&ServeArgs::default()).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8443");
        assert_eq!(c.data_dir, PathBuf::from("castellan-data"));
    }

    #[test]
    fn trusted_proxies_from_flag_or_file() {
        let args = ServeArgs {
            trusted_proxies: Some("10.0.0.0/8, 192.168.1.7".into()),
            ..Default::default()
        };
        let c = Config::load(&args).unwrap();
        assert_eq!(c.trusted_proxies.len(), 2);
        assert!(c.trusted_proxies[1].contains(&"192.168.1.7".parse::<std::net::IpAddr>().unwrap()));
        let (_d, p) = write("trusted_proxies = [\"fd00::/8\"]\n");
        let c = Config::load(&with_file(p)).unwrap();
        assert_eq!(c.trusted_proxies, vec!["fd00::/8".parse::<ipnet::IpNet>().unwrap()]);
        let err = Config::load(&ServeArgs {
            trusted_proxies: Some("10.0.0.0/33".into()),
            ..Default::default()
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains("--trusted-proxies"), "{err}");
    }

    #[test]
    fn listen_names_are_resolved_and_bad_values_named() {
        let c = Config::load(&ServeArgs {
            listen: Some("localhost:9000".into()),
            ..Default::default()
        })
        .unwrap();
        assert!(c.listen.ip().is_loopback() && c.listen.port() == 9000, "{}", c.listen);
        for bad in ["localhost", "localhost:x", ":80", "no-such-host.invalid:80"] {
            let err = Config::load(&ServeArgs {
                listen: Some(bad.into()),
                ..Default::default()
            })
            .unwrap_err()
            .to_string();
            assert!(err.contains("--listen"), "{bad}: {err}");
        }
    }

    #[test]
    fn a_bad_log_filter_is_named() {
        let err = Config::load(&ServeArgs {
            store: StoreArgs {
                log: Some("castellan=loud".into()),
                ..Default::default()
            },
            ..Default::default()
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains("--log"), "{err}");
    }

    #[test]
    fn toml_errors_give_line_and_column() {
        let (_d, p) = write("listen = \"127.0.0.1:9000\"\ndata_dir = [\n");
        let err = Config::load(&with_file(p)).unwrap_err().to_string();
        assert!(err.contains("line 3") || err.contains("line 2"), "{err}");
        assert!(err.contains("column"), "{err}");
    }

    #[test]
    fn bad_public_url_is_refused() {
        let args = ServeArgs {
            public_url: Some("ftp://x".into()),
            ..Default::default()
        };
        assert!(Config::load(&args).unwrap_err().to_string().contains("--public-url"));
    }
}
