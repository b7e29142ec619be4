//! The management command line: `castellan client|server|scope|policy …` and `castellan token`
//! act on a running server over HTTP through its admin API (Cloudentity ACP v1.1.0 shapes), with
//! an admin client's credentials, so the permission model decides what each may do exactly as
//! it does for any other caller. Output is a table for people or the API's JSON (`--json`) for
//! scripts; the exit code tells what went wrong (see [`Failure`]).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};
use serde_json::{Map, Value};

/// How the command line reaches the server, and as whom.
#[derive(Debug, Clone, Args)]
pub struct Remote {
    /// The server's URL [default: http://127.0.0.1:8443].
    #[arg(long, env = "CASTELLAN_URL", value_name = "URL", global = true)]
    pub url: Option<String>,
    /// The tenant to manage [default: the credentials file's, else default].
    #[arg(long, env = "CASTELLAN_TENANT", value_name = "TID", global = true)]
    pub tenant: Option<String>,
    /// An admin client's id (with --client-secret); without both, the bootstrap credentials file
    /// is read.
    #[arg(long, env = "CASTELLAN_CLIENT_ID", value_name = "ID", global = true)]
    pub client_id: Option<String>,
    /// The admin client's secret.
    #[arg(
        long,
        env = "CASTELLAN_CLIENT_SECRET",
        value_name = "SECRET",
        global = true,
        hide_env_values = true
    )]
    pub client_secret: Option<String>,
    /// The bootstrap credentials file the first start wrote [default:
    /// ./castellan-data/bootstrap-credentials.json, or in $CASTELLAN_DATA_DIR].
    #[arg(long, value_name = "FILE", global = true)]
    pub credentials: Option<PathBuf>,
    /// Print the API's JSON instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
}

/// `castellan client|server|scope …`.
#[derive(Debug, Clone, Subcommand)]
pub enum ResourceCommand {
    /// Create one from flags and/or a JSON body; prints it (a client's secret is shown once).
    Create(WriteArgs),
    /// List them (clients and scopes: of one server).
    List(ListArgs),
    /// Show one.
    Get(ItemArgs),
    /// Change the fields given (flags and/or a JSON body); prints the result.
    Update(UpdateArgs),
    /// Delete one.
    Delete(ItemArgs),
}

/// `castellan policy …`: the resource commands and `test`.
#[derive(Debug, Clone, Subcommand)]
pub enum PolicyCommand {
    #[command(flatten)]
    Resource(ResourceCommand),
    /// Evaluate a policy against an input (the JSON body, as `POST /policies/{id}/test` takes).
    Test(UpdateArgs),
}

/// The fields a create or an update sends.
#[derive(Debug, Clone, Args)]
pub struct Fields {
    /// Its name (`client_name`, `policy_name`).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Any field, `KEY=VALUE`; VALUE is read as JSON when it is JSON (`grant_types=["password"]`,
    /// `public=true`), else as a string. Repeatable; applied after --body.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// The request body as JSON, `@FILE`, or `-` for stdin.
    #[arg(long, value_name = "JSON")]
    pub body: Option<String>,
}

impl Fields {
    /// The body: `--body`, then `--set`, then `--name` as `name_field`.
    fn body(&self, name_field: &str) -> Result<Map<String, Value>, Failure> {
        let mut body = body_of(self.body.as_deref(), &self.set)?;
        if let Some(n) = &self.name {
            body.insert(name_field.into(), n.clone().into());
        }
        Ok(body)
    }
}

#[derive(Debug, Clone, Args)]
pub struct WriteArgs {
    /// The id to give it (`client_id` of a client).
    #[arg(long, value_name = "ID")]
    pub id: Option<String>,
    /// The authorization server it belongs to (clients and scopes) [default: default].
    #[arg(long, value_name = "AID")]
    pub server: Option<String>,
    #[command(flatten)]
    pub fields: Fields,
    #[command(flatten)]
    pub remote: Remote,
}

#[derive(Debug, Clone, Args)]
pub struct UpdateArgs {
    /// Which one.
    pub id: String,
    #[command(flatten)]
    pub fields: Fields,
    #[command(flatten)]
    pub remote: Remote,
}

#[derive(Debug, Clone, Args)]
pub struct ItemArgs {
    /// Which one.
    pub id: String,
    #[command(flatten)]
    pub remote: Remote,
}

#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    /// The server whose clients or scopes to list [default: default].
    #[arg(long, value_name = "AID")]
    pub server: Option<String>,
    /// Only those whose id or name contains this text.
    #[arg(long, value_name = "TEXT")]
    pub filter: Option<String>,
    #[command(flatten)]
    pub remote: Remote,
}

/// `castellan token`.
#[derive(Debug, Clone, Args)]
pub struct TokenArgs {
    /// The authorization server to ask [default: the credentials file's server, else admin].
    #[arg(long, value_name = "AID")]
    pub server: Option<String>,
    /// Scopes to ask for (space-separated).
    #[arg(long, value_name = "SCOPES")]
    pub scope: Option<String>,
    #[command(flatten)]
    pub remote: Remote,
}

/// `castellan admin-user …`.
#[derive(Debug, Clone, Subcommand)]
pub enum AdminUserCommand {
    /// Add a person who administers the tenant: a static user of its `admin` server in a group
    /// that a role holding every permission (`*`) is mapped to (made if missing).
    Add(AdminUserArgs),
}

#[derive(Debug, Clone, Args)]
pub struct AdminUserArgs {
    /// The person's username.
    #[arg(long, value_name = "NAME")]
    pub username: String,
    /// Their password (at least 8 characters).
    #[arg(
        long,
        env = "CASTELLAN_ADMIN_PASSWORD",
        value_name = "PASSWORD",
        hide_env_values = true
    )]
    pub password: String,
    /// Their email address, in their authentication context.
    #[arg(long, value_name = "EMAIL")]
    pub email: Option<String>,
    /// The group the role is mapped to.
    #[arg(long, value_name = "GROUP", default_value = "castellan-admins")]
    pub group: String,
    #[command(flatten)]
    pub remote: Remote,
}

/// What kind of object a resource command acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Client,
    Server,
    Scope,
    Policy,
}

impl Kind {
    fn collection(self) -> &'static str {
        match self {
            Self::Client => "clients",
            Self::Server => "servers",
            Self::Scope => "scopes",
            Self::Policy => "policies",
        }
    }

    fn word(self) -> &'static str {
        match self {
            Self::Client => "client",
            Self::Server => "server",
            Self::Scope => "scope",
            Self::Policy => "policy",
        }
    }

    /// The body fields --id, --name and --server set.
    fn fields(self) -> (&'static str, &'static str, Option<&'static str>) {
        match self {
            Self::Client => ("client_id", "client_name", Some("authorization_server_id")),
            Self::Server => ("id", "name", None),
            Self::Scope => ("id", "name", Some("authorization_server_id")),
            Self::Policy => ("id", "policy_name", None),
        }
    }

    /// The table's columns: heading and field.
    fn columns(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Self::Client => &[
                ("ID", "client_id"),
                ("NAME", "client_name"),
                ("SERVER", "authorization_server_id"),
                ("AUTH METHOD", "token_endpoint_auth_method"),
                ("GRANT TYPES", "grant_types"),
            ],
            Self::Server => &[
                ("ID", "id"),
                ("NAME", "name"),
                ("KEY TYPE", "key_type"),
                ("PROFILES", "profiles"),
                ("ISSUER", "issuer_url"),
            ],
            Self::Scope => &[
                ("ID", "id"),
                ("NAME", "name"),
                ("SERVER", "authorization_server_id"),
                ("DISPLAY NAME", "display_name"),
            ],
            Self::Policy => &[("ID", "id"), ("NAME", "policy_name"), ("LANGUAGE", "language")],
        }
    }
}

/// A failed command: its exit code and one line for the operator.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

/// Exit codes: 2 the command or its input was wrong (also the API's 400, 409 and 422), 3 the
/// credentials were refused or lack the permission (401, 403), 4 not found (404), 5 the server
/// failed (5xx) or answered something else, 6 the server could not be reached.
pub mod exit {
    pub const USAGE: u8 = 2;
    pub const AUTH: u8 = 3;
    pub const NOT_FOUND: u8 = 4;
    pub const SERVER: u8 = 5;
    pub const UNREACHABLE: u8 = 6;
}

fn usage(message: impl Into<String>) -> Failure {
    Failure {
        code: exit::USAGE,
        message: message.into(),
    }
}

/// The credentials and where to send them.
struct Connection {
    http: reqwest::Client,
    url: String,
    tenant: String,
    client_id: String,
    client_secret: String,
    /// The server the credentials file names (the bootstrap client's: admin).
    server: Option<String>,
}

#[derive(serde::Deserialize)]
struct CredentialsFile {
    tenant_id: String,
    server_id: String,
    client_id: String,
    client_secret: String,
}

impl Connection {
    fn open(r: &Remote) -> Result<Self, Failure> {
        let url = r
            .url
            .clone()
            .unwrap_or_else(|| "http://127.0.0.1:8443".into())
            .trim_end_matches('/')
            .to_owned();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(usage(format!("--url {url:?} must be an http(s) URL")));
        }
        let (client_id, client_secret, file) = match (&r.client_id, &r.client_secret) {
            (Some(id), Some(secret)) => (id.clone(), secret.clone(), None),
            (Some(_), None) | (None, Some(_)) => {
                return Err(usage("--client-id and --client-secret go together"));
            }
            (None, None) => {
                let path = r.credentials.clone().unwrap_or_else(|| {
                    std::env::var_os("CASTELLAN_DATA_DIR")
                        .map(PathBuf::from)
                        .unwrap_or_else(|| PathBuf::from("castellan-data"))
                        .join(crate::BOOTSTRAP_FILE)
                });
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    usage(format!(
                        "no credentials: give --client-id and --client-secret (or CASTELLAN_CLIENT_ID and \
                         CASTELLAN_CLIENT_SECRET), or a credentials file ({}: {e})",
                        path.display()
                    ))
                })?;
                let f: CredentialsFile = serde_json::from_str(&text)
                    .map_err(|e| usage(format!("{} is not a credentials file: {e}", path.display())))?;
                (f.client_id, f.client_secret, Some((f.tenant_id, f.server_id)))
            }
        };
        let tenant = r
            .tenant
            .clone()
            .or_else(|| file.as_ref().map(|(t, _)| t.clone()))
            .unwrap_or_else(|| "default".into());
        // The user agent names the command line in the admin audit trail (`from.user_agent`).
        let http = reqwest::Client::builder()
            .user_agent(concat!("castellan-cli/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| usage(format!("cannot make an HTTP client: {e}")))?;
        Ok(Self {
            http,
            url,
            tenant,
            client_id,
            client_secret,
            server: file.map(|(_, s)| s),
        })
    }

    fn admin(&self, path: &str) -> String {
        format!("{}/api/admin/{}{path}", self.url, seg(&self.tenant))
    }

    /// Sends `req` with the credentials; the answer's JSON (`Null` for an empty body), or the
    /// failure its status means.
    async fn send(&self, req: reqwest::RequestBuilder) -> Result<Value, Failure> {
        let resp = req
            .basic_auth(&self.client_id, Some(&self.client_secret))
            .send()
            .await
            .map_err(|e| self.unreachable(&e))?;
        let status = resp.status();
        let text = resp.text().await.map_err(|e| self.unreachable(&e))?;
        let body: Value = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        if status.is_success() {
            return Ok(body);
        }
        let said = body
            .get("error")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| body.get("detail").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_else(|| body.to_string());
        let code = match status.as_u16() {
            400 | 409 | 422 => exit::USAGE,
            401 | 403 => exit::AUTH,
            404 => exit::NOT_FOUND,
            _ => exit::SERVER,
        };
        Err(Failure {
            code,
            message: format!(
                "{} {}: {said}",
                status.as_u16(),
                status.canonical_reason().unwrap_or("")
            ),
        })
    }

    fn unreachable(&self, e: &reqwest::Error) -> Failure {
        let why = std::error::Error::source(e)
            .map(|s| s.to_string())
            .unwrap_or_else(|| e.to_string());
        Failure {
            code: exit::UNREACHABLE,
            message: format!("cannot reach {}: {why}", self.url),
        }
    }
}

/// A JSON body from `--body` (JSON text, `@FILE` or `-`), with `--set KEY=VALUE` applied.
fn body_of(body: Option<&str>, set: &[String]) -> Result<Map<String, Value>, Failure> {
    let text = match body {
        None => None,
        Some("-") => {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
                .map_err(|e| usage(format!("--body -: cannot read stdin: {e}")))?;
            Some(s)
        }
        Some(b) if b.starts_with('@') => Some(
            std::fs::read_to_string(&b[1..]).map_err(|e| usage(format!("--body {b}: cannot read the file: {e}")))?,
        ),
        Some(b) => Some(b.to_owned()),
    };
    let mut map = match text {
        None => Map::new(),
        Some(t) => match serde_json::from_str::<Value>(&t) {
            Ok(Value::Object(m)) => m,
            Ok(_) => return Err(usage("--body must be a JSON object")),
            Err(e) => return Err(usage(format!("--body is not JSON: {e}"))),
        },
    };
    for kv in set {
        let (k, v) = kv
            .split_once('=')
            .filter(|(k, _)| !k.is_empty())
            .ok_or_else(|| usage(format!("--set {kv:?} must be KEY=VALUE")))?;
        let value = serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.to_owned()));
        map.insert(k.to_owned(), value);
    }
    Ok(map)
}

/// A path segment, percent-encoded.
fn seg(s: &str) -> String {
    percent_encode(s)
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Runs a resource command; returns what to print.
pub async fn resource(kind: Kind, cmd: &ResourceCommand) -> Result<String, Failure> {
    let (id_field, name_field, server_field) = kind.fields();
    match cmd {
        ResourceCommand::Create(a) => {
            let c = Connection::open(&a.remote)?;
            let mut body = a.fields.body(name_field)?;
            if let Some(id) = &a.id {
                body.insert(id_field.into(), id.clone().into());
            }
            match (server_field, &a.server) {
                (Some(f), Some(s)) => {
                    body.insert(f.into(), s.clone().into());
                }
                (Some(f), None) => {
                    body.entry(f).or_insert_with(|| "default".into());
                }
                (None, Some(_)) => return Err(usage(format!("a {} has no --server", kind.word()))),
                (None, None) => {}
            }
            let v = c
                .send(c.http.post(c.admin(&format!("/{}", kind.collection()))).json(&body))
                .await?;
            Ok(show_one(kind, &v, a.remote.json, true))
        }
        ResourceCommand::List(a) => {
            let c = Connection::open(&a.remote)?;
            let path = match kind {
                Kind::Client | Kind::Scope => format!(
                    "/servers/{}/{}",
                    seg(a.server.as_deref().unwrap_or("default")),
                    kind.collection()
                ),
                _ if a.server.is_some() => {
                    return Err(usage(format!("{} are not listed by server", kind.collection())));
                }
                _ => format!("/{}", kind.collection()),
            };
            let v = c.send(c.http.get(c.admin(&path))).await?;
            let mut items: Vec<Value> = v
                .get(kind.collection())
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if let Some(f) = &a.filter {
                items.retain(|i| {
                    [id_field, name_field].iter().any(|k| {
                        i.get(*k)
                            .and_then(Value::as_str)
                            .is_some_and(|s| s.contains(f.as_str()))
                    })
                });
            }
            Ok(if a.remote.json {
                pretty(&Value::Array(items))
            } else {
                table(kind.columns(), &items)
            })
        }
        ResourceCommand::Get(a) => {
            let c = Connection::open(&a.remote)?;
            let v = c
                .send(c.http.get(c.admin(&format!("/{}/{}", kind.collection(), seg(&a.id)))))
                .await?;
            Ok(show_one(kind, &v, a.remote.json, false))
        }
        ResourceCommand::Update(a) => {
            let c = Connection::open(&a.remote)?;
            let body = a.fields.body(name_field)?;
            if body.is_empty() {
                return Err(usage("nothing to change: give --name, --set KEY=VALUE or --body"));
            }
            // The admin API's PUT changes only the fields it carries.
            let url = c.admin(&format!("/{}/{}", kind.collection(), seg(&a.id)));
            let v = c.send(c.http.put(&url).json(&body)).await?;
            Ok(show_one(kind, &v, a.remote.json, false))
        }
        ResourceCommand::Delete(a) => {
            let c = Connection::open(&a.remote)?;
            c.send(
                c.http
                    .delete(c.admin(&format!("/{}/{}", kind.collection(), seg(&a.id)))),
            )
            .await?;
            Ok(if a.remote.json {
                pretty(&serde_json::json!({"deleted": a.id}))
            } else {
                format!("deleted {} {}", kind.word(), a.id)
            })
        }
    }
}

/// `castellan policy test ID --body INPUT`.
pub async fn test_policy(a: &UpdateArgs) -> Result<String, Failure> {
    let c = Connection::open(&a.remote)?;
    let body = body_of(a.fields.body.as_deref(), &a.fields.set)?;
    let v = c
        .send(
            c.http
                .post(c.admin(&format!("/policies/{}/test", seg(&a.id))))
                .json(&body),
        )
        .await?;
    if a.remote.json {
        return Ok(pretty(&v));
    }
    let pass = v
        .get("result")
        .or_else(|| v.get("pass"))
        .cloned()
        .unwrap_or(Value::Null);
    Ok(format!("{}\n{}", describe_pass(&pass), pretty(&v)))
}

fn describe_pass(v: &Value) -> &'static str {
    match v {
        Value::Bool(true) => "passed",
        Value::Bool(false) => "failed",
        Value::String(s) if s == "pass" || s == "allow" => "passed",
        Value::String(_) => "failed",
        _ => "result:",
    }
}

/// `castellan token`: a client-credentials token of the credentials' client, printed alone (or
/// the whole token response with `--json`).
pub async fn token(a: &TokenArgs) -> Result<String, Failure> {
    let c = Connection::open(&a.remote)?;
    let server = a
        .server
        .clone()
        .or_else(|| c.server.clone())
        .unwrap_or_else(|| "admin".into());
    let mut form = vec![("grant_type", "client_credentials".to_owned())];
    if let Some(s) = &a.scope {
        form.push(("scope", s.clone()));
    }
    let url = format!("{}/{}/{}/oauth2/token", c.url, seg(&c.tenant), seg(&server));
    let v = c.send(c.http.post(url).form(&form)).await.map_err(|f| Failure {
        // The token endpoint's 400s are about the client or the request it may make.
        code: if f.code == exit::USAGE && f.message.contains("invalid_client") {
            exit::AUTH
        } else {
            f.code
        },
        ..f
    })?;
    if a.remote.json {
        return Ok(pretty(&v));
    }
    v.get("access_token")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| Failure {
            code: exit::SERVER,
            message: "the token response has no access_token".into(),
        })
}

/// The login method `admin-user add` puts people into when the admin server has no static one.
const ADMIN_METHOD: &str = "admins";
/// The role it maps the group to: `{productName}-developers` (Cloudentity Nexus names roles so).
const ADMIN_PRODUCT: &str = "castellan-admins";

/// `castellan admin-user add`: the person as a static user of `{tid}/admin` (added to its static
/// login method, or to a new one), and the group mapped to a role holding `*`.
pub async fn add_admin_user(a: &AdminUserArgs) -> Result<String, Failure> {
    if a.password.chars().count() < 8 {
        return Err(usage("--password must be at least 8 characters"));
    }
    let c = Connection::open(&a.remote)?;
    // 1. The person, among the admin server's login methods (the others are sent back as they
    // are; users sent without a password keep theirs).
    let server = c.send(c.http.get(c.admin("/servers/admin"))).await?;
    let mut methods: Vec<Value> = server
        .pointer("/authentications/methods")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut context = serde_json::json!({"groups": [a.group]});
    if let Some(e) = &a.email {
        context["email"] = e.clone().into();
        context["email_verified"] = true.into();
    }
    let user = serde_json::json!({"username": a.username, "password": a.password, "authentication_context": context});
    let taken = methods.iter().any(|m| {
        m.pointer("/static/users")
            .and_then(Value::as_array)
            .is_some_and(|us| us.iter().any(|u| u["username"] == a.username.as_str()))
    });
    if taken {
        return Err(usage(format!("the admin server already has a user {}", a.username)));
    }
    let method_id = match methods.iter_mut().find(|m| m["method"] == "static") {
        Some(m) => {
            let users = m
                .pointer_mut("/static/users")
                .and_then(Value::as_array_mut)
                .ok_or_else(|| usage("the admin server's static login method has no users list"))?;
            users.push(user);
            m["id"].as_str().unwrap_or(ADMIN_METHOD).to_owned()
        }
        None => {
            methods.push(
                serde_json::json!({"id": ADMIN_METHOD, "method": "static", "name": "Administrators",
                "static": {"users": [user]}}),
            );
            ADMIN_METHOD.to_owned()
        }
    };
    c.send(
        c.http
            .put(c.admin("/servers/admin/authentications"))
            .json(&serde_json::json!({"methods": methods})),
    )
    .await?;
    // 2. The role holding `*`, and the group mapped to it (Cloudentity Nexus API).
    let nexus = |path: &str| format!("{}/v1/{path}", c.url);
    let with_tenant = |r: reqwest::RequestBuilder| r.header("X-Castellan-Tenant", &c.tenant);
    let role_name = format!("{ADMIN_PRODUCT}-developers");
    let roles = c.send(with_tenant(c.http.get(nexus("roles")))).await?;
    let list = roles
        .get("roles")
        .or(Some(&roles))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let role = match list.into_iter().find(|r| r["name"] == role_name.as_str()) {
        Some(r) => r,
        None => {
            c.send(with_tenant(c.http.post(nexus("roles"))).json(&serde_json::json!({
                "productName": ADMIN_PRODUCT,
                "audience": format!("{}/{}/admin", c.url, c.tenant),
                "description": "People who administer the tenant (castellan admin-user add)",
            })))
            .await?
        }
    };
    let role_id = role["id"]
        .as_str()
        .ok_or_else(|| Failure {
            code: exit::SERVER,
            message: "the role has no id".into(),
        })?
        .to_owned();
    c.send(
        with_tenant(c.http.put(nexus(&format!("roles/{}", seg(&role_id)))))
            .json(&serde_json::json!({"permissions": "*"})),
    )
    .await?;
    let mapped = role["connectionMaps"]
        .as_array()
        .is_some_and(|ms| ms.iter().any(|m| m["groupName"] == a.group.as_str()));
    if !mapped {
        c.send(
            with_tenant(c.http.post(nexus(&format!("roles/{}/connection-maps", seg(&role_id))))).json(
                &serde_json::json!({"groupName": a.group, "name": "Castellan administrators", "azoConnectionId": method_id}),
            ),
        )
        .await?;
    }
    let out = serde_json::json!({"username": a.username, "tenant_id": c.tenant, "server_id": "admin",
        "login_method": method_id, "group": a.group, "role": role_name, "permissions": "*"});
    Ok(if a.remote.json {
        pretty(&out)
    } else {
        format!(
            "added {} to {}/admin (login method {method_id}); group {} is mapped to role {role_name}, which holds *",
            a.username, c.tenant, a.group
        )
    })
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
}

/// One object: its JSON, or its fields one per line (a new client's secret with a warning that
/// it is shown once, which the admin API's `GET` would show again only to a caller worth it).
fn show_one(kind: Kind, v: &Value, json: bool, created: bool) -> String {
    if json {
        return pretty(v);
    }
    let Some(obj) = v.as_object() else {
        return pretty(v);
    };
    let width = obj.keys().map(String::len).max().unwrap_or(0);
    let mut out = String::new();
    for (k, val) in obj {
        if k == "client_secret" && val.as_str().is_none_or(str::is_empty) {
            continue;
        }
        out.push_str(&format!("{k:width$}  {}\n", cell(val)));
    }
    if created
        && kind == Kind::Client
        && obj
            .get("client_secret")
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty())
    {
        out.push_str("\nKeep the client_secret now: store it where the client can read it.\n");
    }
    out.trim_end().to_owned()
}

/// A value in a table cell: strings as they are, lists joined with spaces, the rest as JSON.
fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(cell).collect::<Vec<_>>().join(" "),
        other => other.to_string(),
    }
}

/// Rows under headings, columns padded to their widest cell.
fn table(columns: &[(&str, &str)], items: &[Value]) -> String {
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|i| {
            columns
                .iter()
                .map(|(_, f)| cell(i.get(*f).unwrap_or(&Value::Null)))
                .collect()
        })
        .collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(n, (h, _))| {
            rows.iter()
                .map(|r| r[n].chars().count())
                .max()
                .unwrap_or(0)
                .max(h.len())
        })
        .collect();
    let line = |cells: Vec<String>| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    let mut out = vec![line(columns.iter().map(|(h, _)| (*h).to_owned()).collect())];
    out.extend(rows.into_iter().map(line));
    if items.is_empty() {
        out.push("(none)".into());
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_take_json_and_set_fields() {
        let b = body_of(
            Some(r#"{"a": 1, "b": "x"}"#),
            &["b=y".into(), "c=[\"p\"]".into(), "d=true".into()],
        )
        .unwrap();
        assert_eq!(
            Value::Object(b),
            serde_json::json!({"a": 1, "b": "y", "c": ["p"], "d": true})
        );
        assert_eq!(body_of(Some("[1]"), &[]).unwrap_err().code, exit::USAGE);
        assert_eq!(body_of(None, &["novalue".into()]).unwrap_err().code, exit::USAGE);
        assert_eq!(body_of(Some("{"), &[]).unwrap_err().code, exit::USAGE);
    }

    #[test]
    fn tables_pad_columns_and_join_lists() {
        let t = table(
            &[("ID", "id"), ("GRANTS", "g")],
            &[
                serde_json::json!({"id": "a", "g": ["x", "y"]}),
                serde_json::json!({"id": "long-id"}),
            ],
        );
        assert_eq!(t, "ID       GRANTS\na        x y\nlong-id");
        assert!(table(&[("ID", "id")], &[]).ends_with("(none)"));
        assert_eq!(seg("a b/c"), "a%20b%2Fc");
    }
}
