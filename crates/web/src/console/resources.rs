//! The console's pages of each resource: a handler opens the person's session, asks for the
//! permission the admin API's operation needs, calls the same control-plane operation, and
//! renders the answer — or the field error next to the field, or the refusal in words.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Path, RawQuery, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use axum_extra::extract::cookie::CookieJar;
use castellan_control::{ApiFilter, ControlError, need};
use castellan_domain::{Access, Resource};
use castellan_types as wire;

use super::{Chrome, Console, Fields, PAGE_SIZE, open, seg, show};
use crate::AppState;
use crate::pages::see_other;

pub(super) fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/console/{tid}/servers", get(servers).post(create_server))
        .route("/console/{tid}/servers/{aid}", get(server).post(update_server))
        .route("/console/{tid}/clients", get(clients_of))
        .route("/console/{tid}/servers/{aid}/clients", get(clients))
        .route(
            "/console/{tid}/servers/{aid}/clients/new",
            get(new_client).post(create_client),
        )
        .route(
            "/console/{tid}/servers/{aid}/clients/{cid}",
            get(client).post(update_client),
        )
        .route(
            "/console/{tid}/servers/{aid}/clients/{cid}/delete",
            get(confirm_delete_client).post(delete_client),
        )
        .route("/console/{tid}/servers/{aid}/scopes", get(scopes).post(create_scope))
        .route("/console/{tid}/servers/{aid}/scopes/{sid}/delete", post(delete_scope))
        .route("/console/{tid}/policies", get(policies))
        .route("/console/{tid}/policies/{pid}", get(policy).post(try_policy))
        .route("/console/{tid}/ledger", get(ledger).post(verify_ledger))
        .route("/console/{tid}/services", get(services).post(create_service))
        .route("/console/{tid}/services/{sid}", get(service).post(import_specification))
        .route("/console/{tid}/servers/{aid}/people", get(people).post(add_person))
        .route("/console/{tid}/servers/{aid}/people/remove", post(remove_person))
        .route("/console/{tid}/servers/{aid}/claims", get(claims).post(create_claim))
        .route("/console/{tid}/servers/{aid}/claims/{id}/delete", post(delete_claim))
        .route("/console/{tid}/consents", get(consents).post(create_consent))
        .route("/console/{tid}/consents/{id}/delete", post(delete_consent))
        .route("/console/{tid}/tenants", get(tenants).post(create_tenant))
        .route("/console/{tid}/gateways", get(gateways).post(create_gateway))
        .route("/console/{tid}/gateways/{gw}/package", get(gateway_package))
        .route("/console/{tid}/roles", get(roles).post(create_role))
        .route("/console/{tid}/roles/{id}", post(update_role))
        .route("/console/{tid}/roles/{id}/groups", post(map_group))
        .route("/console/{tid}/roles/{id}/groups/remove", post(unmap_group))
        .route("/console/{tid}/sts-clients", get(sts_clients).post(create_sts_client))
        .route("/console/{tid}/sts-clients/{cid}/delete", post(delete_sts_client))
        .route(
            "/console/{tid}/tenants/{id}/delete",
            get(confirm_delete_tenant).post(delete_tenant),
        )
}

/// Field errors of a form: the API's `details.field` (its first path segment, which names the
/// form's field) and reason.
#[derive(Default)]
pub(crate) struct Errors(Vec<(String, String)>);

impl Errors {
    /// The error of field `f` ("" when it has none).
    pub fn of(&self, f: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == f)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    /// The errors naming no field of the form.
    /// `fields`: the form's field names, separated by spaces.
    pub fn other(&self, fields: &str) -> Vec<String> {
        let fields: Vec<&str> = fields.split(' ').collect();
        self.0
            .iter()
            .filter(|(k, _)| !fields.contains(&k.as_str()))
            .map(|(k, v)| if k.is_empty() { v.clone() } else { format!("{k}: {v}") })
            .collect()
    }

    fn any(&self) -> bool {
        !self.0.is_empty()
    }
}

/// A control error as a field error of the form, when it is one.
fn field_error(e: ControlError) -> Result<Errors, ControlError> {
    match e {
        ControlError::Invalid { field, reason } => {
            let name = field.split(['[', '.']).next().unwrap_or("").to_owned();
            Ok(Errors(vec![(name, reason)]))
        }
        ControlError::Conflict { .. } => Ok(Errors(vec![("id".into(), e.to_string())])),
        other => Err(other),
    }
}

/// One page of a list: the rows of page `page` (from 1) whose text contains `q`.
pub(crate) struct Paged<T> {
    pub rows: Vec<T>,
    pub q: String,
    pub page: usize,
    pub pages: usize,
    pub total: usize,
}

impl<T> Paged<T> {
    fn of(all: Vec<T>, fields: &Fields, text: impl Fn(&T) -> String) -> Self {
        let q = fields.get("q").to_owned();
        let needle = q.to_lowercase();
        let matching: Vec<T> = all
            .into_iter()
            .filter(|r| needle.is_empty() || text(r).to_lowercase().contains(&needle))
            .collect();
        let total = matching.len();
        let pages = total.div_ceil(PAGE_SIZE).max(1);
        let page = fields.get("page").parse::<usize>().unwrap_or(1).clamp(1, pages);
        let rows = matching
            .into_iter()
            .skip((page - 1) * PAGE_SIZE)
            .take(PAGE_SIZE)
            .collect();
        Self {
            rows,
            q,
            page,
            pages,
            total,
        }
    }

    /// The query of page `n` with the same filter.
    pub fn link(&self, n: usize) -> String {
        let mut s = form_urlencoded::Serializer::new(String::new());
        if !self.q.is_empty() {
            s.append_pair("q", &self.q);
        }
        s.append_pair("page", &n.to_string());
        format!("?{}", s.finish())
    }

    pub fn prev(&self) -> usize {
        self.page.saturating_sub(1)
    }

    pub fn next(&self) -> usize {
        self.page + 1
    }
}

macro_rules! session {
    ($st:expr, $tid:expr, $jar:expr, $back:expr) => {
        match open(&$st, &$tid, &$jar, &$back).await {
            Ok(cx) => cx,
            Err(r) => return r,
        }
    };
}

macro_rules! allowed {
    ($cx:expr, $need:ty) => {
        match $cx.allow::<$need>() {
            Ok(a) => a,
            Err(r) => return r,
        }
    };
}

macro_rules! or_fail {
    ($cx:expr, $e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => return $cx.fail(e),
        }
    };
}

macro_rules! posted {
    ($cx:expr, $headers:expr, $body:expr) => {
        match $cx.form(&$headers, &$body) {
            Ok(f) => f,
            Err(r) => return r,
        }
    };
}

fn here(tid: &str, rest: &str) -> String {
    format!("/console/{}{rest}", seg(tid))
}

// ---- servers ----

#[derive(Template)]
#[template(path = "console/servers.html")]
struct ServersPage {
    chrome: Chrome,
    servers: Paged<wire::Server>,
    can_write: bool,
    errors: Errors,
    id: String,
    name: String,
}

#[derive(Template)]
#[template(path = "console/start.html")]
struct StartPage {
    chrome: Chrome,
    clients: bool,
}

/// `GET /console/{tid}/`: the servers, where everything else starts — or, for a person who may
/// not list servers, the sections they may open.
pub(super) async fn home(
    State(st): State<AppState>,
    Path(tid): Path<String>,
    RawQuery(q): RawQuery,
    jar: CookieJar,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, "/"));
    if cx.can(Resource::Server, Access::Read) {
        return servers_page(
            &st,
            &cx,
            &Fields::from_query(q.as_deref()),
            Errors::default(),
            "",
            "",
            StatusCode::OK,
        )
        .await;
    }
    show(
        StatusCode::OK,
        &StartPage {
            chrome: cx.chrome(""),
            clients: cx.can(Resource::Client, Access::Read),
        },
    )
}

/// `GET /console/{tid}/clients?server=…`: the clients of the server named (for people who may
/// read clients but not list servers).
async fn clients_of(Path(tid): Path<String>, RawQuery(q): RawQuery) -> Response {
    let q = Fields::from_query(q.as_deref());
    let server = q
        .optional("server")
        .unwrap_or_else(|| castellan_domain::DEFAULT_SERVER.into());
    see_other(&here(&tid, &format!("/servers/{}/clients", seg(&server))))
}

async fn servers(
    State(st): State<AppState>,
    Path(tid): Path<String>,
    RawQuery(q): RawQuery,
    jar: CookieJar,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, "/servers"));
    servers_page(
        &st,
        &cx,
        &Fields::from_query(q.as_deref()),
        Errors::default(),
        "",
        "",
        StatusCode::OK,
    )
    .await
}

async fn servers_page(
    st: &AppState,
    cx: &Console,
    query: &Fields,
    errors: Errors,
    id: &str,
    name: &str,
    status: StatusCode,
) -> Response {
    let a = allowed!(cx, need::ServerRead);
    let list = or_fail!(cx, st.control.list_servers(&a).await);
    show(
        status,
        &ServersPage {
            chrome: cx.chrome("servers"),
            servers: Paged::of(list.servers, query, |s| format!("{} {}", s.id, s.name)),
            can_write: cx.can(Resource::Server, Access::Write),
            errors,
            id: id.into(),
            name: name.into(),
        },
    )
}

async fn create_server(
    State(st): State<AppState>,
    Path(tid): Path<String>,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, "/servers"));
    let f = posted!(cx, headers, body);
    let a = allowed!(cx, need::ServerWrite);
    let req = wire::ServerRequest {
        id: f.optional("id"),
        name: f.optional("name"),
        ..Default::default()
    };
    match st.control.create_server(&a, req).await {
        Ok(s) => see_other(&here(&tid, &format!("/servers/{}?created=1", seg(&s.id)))),
        Err(e) => match field_error(e) {
            Ok(errors) => {
                servers_page(
                    &st,
                    &cx,
                    &Fields::from_query(None),
                    errors,
                    f.get("id"),
                    f.get("name"),
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
            Err(e) => cx.fail(e),
        },
    }
}

#[derive(Template)]
#[template(path = "console/server.html")]
struct ServerPage {
    chrome: Chrome,
    server: wire::Server,
    can_write: bool,
    errors: Errors,
    notice: String,
}

async fn server(
    State(st): State<AppState>,
    Path((tid, aid)): Path<(String, String)>,
    RawQuery(q): RawQuery,
    jar: CookieJar,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, &format!("/servers/{}", seg(&aid))));
    let a = allowed!(cx, need::ServerRead);
    let server = or_fail!(cx, st.control.get_server(&a, &aid).await);
    let query = Fields::from_query(q.as_deref());
    let notice = if query.get("created") == "1" {
        "The server was created."
    } else if query.get("saved") == "1" {
        "The settings were saved."
    } else {
        ""
    };
    show(
        StatusCode::OK,
        &ServerPage {
            chrome: cx.chrome("servers"),
            server,
            can_write: cx.can(Resource::Server, Access::Write),
            errors: Errors::default(),
            notice: notice.into(),
        },
    )
}

async fn update_server(
    State(st): State<AppState>,
    Path((tid, aid)): Path<(String, String)>,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, &format!("/servers/{}", seg(&aid))));
    let f = posted!(cx, headers, body);
    let a = allowed!(cx, need::ServerWrite);
    let req = wire::ServerRequest {
        name: f.optional("name"),
        access_token_ttl: f.optional("access_token_ttl"),
        refresh_token_ttl: f.optional("refresh_token_ttl"),
        id_token_ttl: f.optional("id_token_ttl"),
        authorization_code_ttl: f.optional("authorization_code_ttl"),
        enforce_pkce: Some(f.get("enforce_pkce") == "on"),
        ..Default::default()
    };
    match st.control.update_server(&a, &aid, req).await {
        Ok(_) => see_other(&here(&tid, &format!("/servers/{}?saved=1", seg(&aid)))),
        Err(e) => match field_error(e) {
            Ok(errors) => {
                let read = allowed!(cx, need::ServerRead);
                let mut server = or_fail!(cx, st.control.get_server(&read, &aid).await);
                // What the person typed stays in the form.
                server.name = f.get("name").into();
                server.access_token_ttl = f.get("access_token_ttl").into();
                server.refresh_token_ttl = f.get("refresh_token_ttl").into();
                server.id_token_ttl = f.get("id_token_ttl").into();
                server.authorization_code_ttl = f.get("authorization_code_ttl").into();
                show(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &ServerPage {
                        chrome: cx.chrome("servers"),
                        server,
                        can_write: true,
                        errors,
                        notice: String::new(),
                    },
                )
            }
            Err(e) => cx.fail(e),
        },
    }
}

// ---- clients ----

#[derive(Template)]
#[template(path = "console/clients.html")]
struct ClientsPage {
    chrome: Chrome,
    aid: String,
    clients: Paged<wire::Client>,
    can_write: bool,
    notice: String,
}

async fn clients(
    State(st): State<AppState>,
    Path((tid, aid)): Path<(String, String)>,
    RawQuery(q): RawQuery,
    jar: CookieJar,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, &format!("/servers/{}/clients", seg(&aid))));
    let a = allowed!(cx, need::ClientRead);
    let list = or_fail!(cx, st.control.list_clients(&a, &aid).await);
    let query = Fields::from_query(q.as_deref());
    let notice = match query.get("done") {
        "deleted" => "The client was deleted.",
        _ => "",
    };
    show(
        StatusCode::OK,
        &ClientsPage {
            chrome: cx.chrome("servers"),
            aid,
            clients: Paged::of(list.clients, &query, |c| format!("{} {}", c.client_id, c.client_name)),
            can_write: cx.can(Resource::Client, Access::Write),
            notice: notice.into(),
        },
    )
}

/// What the client form shows: the values typed (or stored), and the choices.
struct ClientFields {
    client_id: String,
    client_name: String,
    description: String,
    grant_types: Vec<String>,
    redirect_uris: String,
    scopes: String,
    token_endpoint_auth_method: String,
    public: bool,
}

impl ClientFields {
    fn blank() -> Self {
        Self {
            client_id: String::new(),
            client_name: String::new(),
            description: String::new(),
            grant_types: vec!["client_credentials".into()],
            redirect_uris: String::new(),
            scopes: String::new(),
            token_endpoint_auth_method: "client_secret_basic".into(),
            public: false,
        }
    }

    fn of(c: &wire::Client) -> Self {
        Self {
            client_id: c.client_id.clone(),
            client_name: c.client_name.clone(),
            description: c.description.clone().unwrap_or_default(),
            grant_types: c.grant_types.clone(),
            redirect_uris: c.redirect_uris.join("\n"),
            scopes: c.scopes.join(" "),
            token_endpoint_auth_method: c.token_endpoint_auth_method.clone(),
            public: c.public,
        }
    }

    fn typed(f: &Fields) -> Self {
        Self {
            client_id: f.get("client_id").into(),
            client_name: f.get("client_name").into(),
            description: f.get("description").into(),
            grant_types: f.all("grant_types"),
            redirect_uris: f.get("redirect_uris").into(),
            scopes: f.get("scopes").into(),
            token_endpoint_auth_method: f.get("token_endpoint_auth_method").into(),
            public: f.get("public") == "on",
        }
    }

    fn request(f: &Fields, aid: &str, creating: bool) -> wire::ClientRequest {
        wire::ClientRequest {
            client_id: if creating { f.optional("client_id") } else { None },
            authorization_server_id: creating.then(|| aid.to_owned()),
            client_name: Some(f.get("client_name").to_owned()),
            description: Some(f.get("description").to_owned()),
            grant_types: Some(f.all("grant_types")),
            redirect_uris: Some(f.lines("redirect_uris")),
            scopes: Some(f.words("scopes")),
            token_endpoint_auth_method: f.optional("token_endpoint_auth_method"),
            public: Some(f.get("public") == "on"),
            ..Default::default()
        }
    }

    pub fn has_grant(&self, g: &str) -> bool {
        self.grant_types.iter().any(|x| x == g)
    }
}

/// The grant types the form offers, with what each is for.
const GRANTS: &[(&str, &str)] = &[
    (
        "authorization_code",
        "A person signs in through a browser (web and mobile apps).",
    ),
    (
        "client_credentials",
        "The application acts on its own behalf (services, jobs).",
    ),
    ("refresh_token", "New access tokens without a new sign-in."),
    (
        "urn:ietf:params:oauth:grant-type:device_code",
        "Devices without a browser (RFC 8628).",
    ),
    (
        "urn:ietf:params:oauth:grant-type:token-exchange",
        "Exchanges one token for another (RFC 8693).",
    ),
    (
        "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "A signed assertion stands for the grant (RFC 7523).",
    ),
    (
        "implicit",
        "Tokens straight from the authorization endpoint (discouraged).",
    ),
    ("password", "The application collects the password (discouraged)."),
];

#[derive(Template)]
#[template(path = "console/client_form.html")]
struct ClientFormPage {
    chrome: Chrome,
    aid: String,
    /// `None`: a new client.
    editing: Option<String>,
    fields: ClientFields,
    errors: Errors,
    other_errors: Vec<String>,
    grants: &'static [(&'static str, &'static str)],
    methods: &'static [&'static str],
    available_scopes: Vec<String>,
    can_write: bool,
    notice: String,
}

const CLIENT_FORM_FIELDS: &str =
    "client_id client_name description grant_types redirect_uris scopes token_endpoint_auth_method public";

#[allow(clippy::too_many_arguments)]
async fn client_form(
    st: &AppState,
    cx: &Console,
    aid: &str,
    editing: Option<String>,
    fields: ClientFields,
    errors: Errors,
    notice: &str,
    status: StatusCode,
) -> Response {
    // The scopes the server offers, when the person may read them.
    let available_scopes = match cx.access.clone().allow::<need::ScopeRead>() {
        Ok(a) => st
            .control
            .list_scopes(&a, aid)
            .await
            .map(|s| s.scopes.into_iter().map(|s| s.scope.name).collect())
            .unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    let other_errors = errors.other(CLIENT_FORM_FIELDS);
    show(
        status,
        &ClientFormPage {
            chrome: cx.chrome("servers"),
            aid: aid.into(),
            editing,
            fields,
            errors,
            other_errors,
            grants: GRANTS,
            methods: &castellan_control::AUTH_METHODS,
            available_scopes,
            can_write: cx.can(Resource::Client, Access::Write),
            notice: notice.into(),
        },
    )
}

async fn new_client(State(st): State<AppState>, Path((tid, aid)): Path<(String, String)>, jar: CookieJar) -> Response {
    let cx = session!(st, tid, jar, here(&tid, &format!("/servers/{}/clients/new", seg(&aid))));
    // The form is offered only to who may create clients.
    let _ = allowed!(cx, need::ClientWrite);
    client_form(
        &st,
        &cx,
        &aid,
        None,
        ClientFields::blank(),
        Errors::default(),
        "",
        StatusCode::OK,
    )
    .await
}

#[derive(Template)]
#[template(path = "console/secret.html")]
struct SecretPage {
    chrome: Chrome,
    aid: String,
    client: wire::Client,
}

async fn create_client(
    State(st): State<AppState>,
    Path((tid, aid)): Path<(String, String)>,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, &format!("/servers/{}/clients/new", seg(&aid))));
    let f = posted!(cx, headers, body);
    let a = allowed!(cx, need::ClientWrite);
    match st
        .control
        .create_client(&a, ClientFields::request(&f, &aid, true))
        .await
    {
        // The secret is shown on this answer only (it is not a page one can return to).
        Ok(client) => show(
            StatusCode::CREATED,
            &SecretPage {
                chrome: cx.chrome("servers"),
                aid,
                client,
            },
        ),
        Err(e) => match field_error(e) {
            Ok(errors) => {
                let errors = rename_id(errors, "client_id");
                client_form(
                    &st,
                    &cx,
                    &aid,
                    None,
                    ClientFields::typed(&f),
                    errors,
                    "",
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
            Err(e) => cx.fail(e),
        },
    }
}

/// A conflict names `id`; on a form whose id field is `name`, it belongs there.
fn rename_id(mut errors: Errors, name: &str) -> Errors {
    for (k, _) in &mut errors.0 {
        if k == "id" {
            *k = name.into();
        }
    }
    errors
}

async fn client(
    State(st): State<AppState>,
    Path((tid, aid, cid)): Path<(String, String, String)>,
    RawQuery(q): RawQuery,
    jar: CookieJar,
) -> Response {
    let cx = session!(
        st,
        tid,
        jar,
        here(&tid, &format!("/servers/{}/clients/{}", seg(&aid), seg(&cid)))
    );
    let a = allowed!(cx, need::ClientRead);
    let c = or_fail!(cx, st.control.get_client(&a, &cid).await);
    if c.authorization_server_id != aid {
        return cx.fail(ControlError::NotFound {
            what: "client",
            id: cid,
        });
    }
    let notice = if Fields::from_query(q.as_deref()).get("saved") == "1" {
        "The client was saved."
    } else {
        ""
    };
    client_form(
        &st,
        &cx,
        &aid,
        Some(cid),
        ClientFields::of(&c),
        Errors::default(),
        notice,
        StatusCode::OK,
    )
    .await
}

async fn update_client(
    State(st): State<AppState>,
    Path((tid, aid, cid)): Path<(String, String, String)>,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let back = here(&tid, &format!("/servers/{}/clients/{}", seg(&aid), seg(&cid)));
    let cx = session!(st, tid, jar, back);
    let f = posted!(cx, headers, body);
    let a = allowed!(cx, need::ClientWrite);
    // The client must be on the server the address names.
    let read = allowed!(cx, need::ClientRead);
    let current = or_fail!(cx, st.control.get_client(&read, &cid).await);
    if current.authorization_server_id != aid {
        return cx.fail(ControlError::NotFound {
            what: "client",
            id: cid,
        });
    }
    match st
        .control
        .update_client(&a, &cid, ClientFields::request(&f, &aid, false))
        .await
    {
        Ok(_) => see_other(&format!("{back}?saved=1")),
        Err(e) => match field_error(e) {
            Ok(errors) => {
                let mut fields = ClientFields::typed(&f);
                fields.client_id = cid.clone();
                client_form(
                    &st,
                    &cx,
                    &aid,
                    Some(cid),
                    fields,
                    errors,
                    "",
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
            Err(e) => cx.fail(e),
        },
    }
}

#[derive(Template)]
#[template(path = "console/confirm.html")]
struct ConfirmPage {
    chrome: Chrome,
    title: String,
    text: String,
    action: String,
    back: String,
}

async fn confirm_delete_client(
    State(st): State<AppState>,
    Path((tid, aid, cid)): Path<(String, String, String)>,
    jar: CookieJar,
) -> Response {
    let path = format!("/servers/{}/clients/{}", seg(&aid), seg(&cid));
    let cx = session!(st, tid, jar, here(&tid, &path));
    let _ = allowed!(cx, need::ClientWrite);
    let read = allowed!(cx, need::ClientRead);
    let c = or_fail!(cx, st.control.get_client(&read, &cid).await);
    let name = if c.client_name.is_empty() {
        c.client_id.clone()
    } else {
        c.client_name.clone()
    };
    show(
        StatusCode::OK,
        &ConfirmPage {
            chrome: cx.chrome("servers"),
            title: format!("Delete client {name}?"),
            text: "Every token it was given stops working at once, and it can no longer sign anyone in. \
                   This cannot be undone."
                .into(),
            action: here(&tid, &format!("{path}/delete")),
            back: here(&tid, &path),
        },
    )
}

async fn delete_client(
    State(st): State<AppState>,
    Path((tid, aid, cid)): Path<(String, String, String)>,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, &format!("/servers/{}/clients", seg(&aid))));
    let _ = posted!(cx, headers, body);
    let a = allowed!(cx, need::ClientWrite);
    let read = allowed!(cx, need::ClientRead);
    let c = or_fail!(cx, st.control.get_client(&read, &cid).await);
    if c.authorization_server_id != aid {
        return cx.fail(ControlError::NotFound {
            what: "client",
            id: cid,
        });
    }
    or_fail!(cx, st.control.delete_client(&a, &cid).await);
    see_other(&here(&tid, &format!("/servers/{}/clients?done=deleted", seg(&aid))))
}

// ---- scopes ----

#[derive(Template)]
#[template(path = "console/scopes.html")]
struct ScopesPage {
    chrome: Chrome,
    aid: String,
    scopes: Paged<wire::Scope>,
    can_write: bool,
    errors: Errors,
    name: String,
    display_name: String,
    description: String,
    notice: String,
}

async fn scopes(
    State(st): State<AppState>,
    Path((tid, aid)): Path<(String, String)>,
    RawQuery(q): RawQuery,
    jar: CookieJar,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, &format!("/servers/{}/scopes", seg(&aid))));
    let query = Fields::from_query(q.as_deref());
    let notice = match query.get("done") {
        "created" => "The scope was created.",
        "deleted" => "The scope was deleted.",
        _ => "",
    };
    scopes_page(
        &st,
        &cx,
        &aid,
        &query,
        Errors::default(),
        &Fields::from_query(None),
        notice,
        StatusCode::OK,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn scopes_page(
    st: &AppState,
    cx: &Console,
    aid: &str,
    query: &Fields,
    errors: Errors,
    typed: &Fields,
    notice: &str,
    status: StatusCode,
) -> Response {
    let a = allowed!(cx, need::ScopeRead);
    let list = or_fail!(cx, st.control.list_scopes(&a, aid).await);
    let scopes = list.scopes.into_iter().map(|s| s.scope).collect();
    show(
        status,
        &ScopesPage {
            chrome: cx.chrome("servers"),
            aid: aid.into(),
            scopes: Paged::of(scopes, query, |s: &wire::Scope| {
                format!("{} {}", s.name, s.display_name)
            }),
            can_write: cx.can(Resource::Scope, Access::Write),
            errors,
            name: typed.get("name").into(),
            display_name: typed.get("display_name").into(),
            description: typed.get("description").into(),
            notice: notice.into(),
        },
    )
}

async fn create_scope(
    State(st): State<AppState>,
    Path((tid, aid)): Path<(String, String)>,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, &format!("/servers/{}/scopes", seg(&aid))));
    let f = posted!(cx, headers, body);
    let a = allowed!(cx, need::ScopeWrite);
    let req = wire::ScopeRequest {
        name: f.optional("name"),
        display_name: f.optional("display_name"),
        description: f.optional("description"),
        authorization_server_id: Some(aid.clone()),
        ..Default::default()
    };
    match st.control.create_scope(&a, req).await {
        Ok(_) => see_other(&here(&tid, &format!("/servers/{}/scopes?done=created", seg(&aid)))),
        Err(e) => match field_error(e) {
            Ok(errors) => {
                let errors = rename_id(errors, "name");
                scopes_page(
                    &st,
                    &cx,
                    &aid,
                    &Fields::from_query(None),
                    errors,
                    &f,
                    "",
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
            Err(e) => cx.fail(e),
        },
    }
}

async fn delete_scope(
    State(st): State<AppState>,
    Path((tid, aid, sid)): Path<(String, String, String)>,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, &format!("/servers/{}/scopes", seg(&aid))));
    let _ = posted!(cx, headers, body);
    let a = allowed!(cx, need::ScopeWrite);
    // The scope must be on the server the address names.
    let read = allowed!(cx, need::ScopeRead);
    let list = or_fail!(cx, st.control.list_scopes(&read, &aid).await);
    if !list.scopes.iter().any(|s| s.scope.id == sid) {
        return cx.fail(ControlError::NotFound { what: "scope", id: sid });
    }
    or_fail!(cx, st.control.delete_scope(&a, &sid).await);
    see_other(&here(&tid, &format!("/servers/{}/scopes?done=deleted", seg(&aid))))
}

// ---- policies ----

#[derive(Template)]
#[template(path = "console/policies.html")]
struct PoliciesPage {
    chrome: Chrome,
    policies: Paged<wire::policies::Policy>,
}

async fn policies(
    State(st): State<AppState>,
    Path(tid): Path<String>,
    RawQuery(q): RawQuery,
    jar: CookieJar,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, "/policies"));
    let a = allowed!(cx, need::PolicyRead);
    let list = or_fail!(cx, st.control.list_policies(&a).await);
    show(
        StatusCode::OK,
        &PoliciesPage {
            chrome: cx.chrome("policies"),
            policies: Paged::of(list.policies, &Fields::from_query(q.as_deref()), |p| {
                format!("{} {} {}", p.id, p.policy_name, p.language)
            }),
        },
    )
}

#[derive(Template)]
#[template(path = "console/policy.html")]
struct PolicyPage {
    chrome: Chrome,
    policy: wire::policies::Policy,
    definition: String,
    context: String,
    client: String,
    scopes: String,
    errors: Errors,
    result: Option<wire::policies::PolicyTestResult>,
}

async fn policy(State(st): State<AppState>, Path((tid, pid)): Path<(String, String)>, jar: CookieJar) -> Response {
    let cx = session!(st, tid, jar, here(&tid, &format!("/policies/{}", seg(&pid))));
    policy_page(
        &st,
        &cx,
        &pid,
        &Fields::from_query(None),
        Errors::default(),
        None,
        StatusCode::OK,
    )
    .await
}

async fn policy_page(
    st: &AppState,
    cx: &Console,
    pid: &str,
    typed: &Fields,
    errors: Errors,
    result: Option<wire::policies::PolicyTestResult>,
    status: StatusCode,
) -> Response {
    let a = allowed!(cx, need::PolicyRead);
    let list = or_fail!(cx, st.control.list_policies(&a).await);
    let Some(policy) = list.policies.into_iter().find(|p| p.id == pid) else {
        return cx.fail(ControlError::NotFound {
            what: "policy",
            id: pid.into(),
        });
    };
    let definition = match &policy.definition {
        Some(d) => d.clone(),
        None => serde_json::to_string_pretty(&policy.validators).unwrap_or_default(),
    };
    let or = |name: &str, default: &str| {
        let v = typed.get(name);
        if v.is_empty() { default.to_owned() } else { v.to_owned() }
    };
    show(
        status,
        &PolicyPage {
            chrome: cx.chrome("policies"),
            policy,
            definition,
            context: or("authentication_context", "{\"sub\": \"alice\"}"),
            client: or("client", "{\"client_id\": \"app\"}"),
            scopes: typed.get("scopes").into(),
            errors,
            result,
        },
    )
}

async fn try_policy(
    State(st): State<AppState>,
    Path((tid, pid)): Path<(String, String)>,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, &format!("/policies/{}", seg(&pid))));
    let f = posted!(cx, headers, body);
    let a = allowed!(cx, need::PolicyRead);
    let json = |name: &str| -> Result<serde_json::Value, Errors> {
        let v = f.get(name);
        if v.is_empty() {
            return Ok(serde_json::json!({}));
        }
        match serde_json::from_str::<serde_json::Value>(v) {
            Ok(j) if j.is_object() => Ok(j),
            Ok(_) => Err(Errors(vec![(name.into(), "must be a JSON object".into())])),
            Err(e) => Err(Errors(vec![(name.into(), format!("is not valid JSON: {e}"))])),
        }
    };
    let input = json("authentication_context").and_then(|ctx| {
        json("client").map(|client| wire::policies::PolicyTestRequest {
            authentication_context: ctx,
            client,
            scopes: f.words("scopes"),
            ..Default::default()
        })
    });
    let input = match input {
        Ok(i) => i,
        Err(errors) => {
            return policy_page(&st, &cx, &pid, &f, errors, None, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    match st.control.test_policy(&a, &pid, input).await {
        Ok(result) => policy_page(&st, &cx, &pid, &f, Errors::default(), Some(result), StatusCode::OK).await,
        Err(e) => match field_error(e) {
            Ok(errors) => policy_page(&st, &cx, &pid, &f, errors, None, StatusCode::UNPROCESSABLE_ENTITY).await,
            Err(e) => cx.fail(e),
        },
    }
}

// ---- the privacy ledger ----

#[derive(Template)]
#[template(path = "console/ledger.html")]
struct LedgerPage {
    chrome: Chrome,
    events: Paged<wire::privacy::PrivacyLedgerEvent>,
    subject: String,
    from: String,
    to: String,
    errors: Errors,
    verification: Option<wire::privacy::LedgerVerification>,
}

async fn ledger(
    State(st): State<AppState>,
    Path(tid): Path<String>,
    RawQuery(q): RawQuery,
    jar: CookieJar,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, "/ledger"));
    ledger_page(&st, &cx, &Fields::from_query(q.as_deref()), None).await
}

async fn ledger_page(
    st: &AppState,
    cx: &Console,
    query: &Fields,
    verification: Option<wire::privacy::LedgerVerification>,
) -> Response {
    let a = allowed!(cx, need::LedgerRead);
    let (subject, from, to) = (query.optional("subject"), query.optional("from"), query.optional("to"));
    let (events, errors, status) = match st
        .control
        .list_events(&a, subject.as_deref(), from.as_deref(), to.as_deref())
        .await
    {
        Ok(list) => (list.events, Errors::default(), StatusCode::OK),
        Err(e) => match field_error(e) {
            Ok(errors) => (Vec::new(), errors, StatusCode::UNPROCESSABLE_ENTITY),
            Err(e) => return cx.fail(e),
        },
    };
    show(
        status,
        &LedgerPage {
            chrome: cx.chrome("ledger"),
            events: Paged::of(events, query, |_| String::new()),
            subject: subject.unwrap_or_default(),
            from: from.unwrap_or_default(),
            to: to.unwrap_or_default(),
            errors,
            verification,
        },
    )
}

async fn verify_ledger(
    State(st): State<AppState>,
    Path(tid): Path<String>,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, "/ledger"));
    let _ = posted!(cx, headers, body);
    let a = allowed!(cx, need::LedgerRead);
    let v = or_fail!(cx, st.control.verify_ledger(&a).await);
    ledger_page(&st, &cx, &Fields::from_query(None), Some(v)).await
}

// ---- services and their specifications ----

#[derive(Template)]
#[template(path = "console/services.html")]
struct ServicesPage {
    chrome: Chrome,
    server: String,
    servers: Vec<String>,
    services: Paged<wire::services::ServiceResponse>,
    can_write: bool,
    errors: Errors,
    name: String,
    description: String,
}

async fn services(
    State(st): State<AppState>,
    Path(tid): Path<String>,
    RawQuery(q): RawQuery,
    jar: CookieJar,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, "/services"));
    let query = Fields::from_query(q.as_deref());
    services_page(
        &st,
        &cx,
        &query,
        Errors::default(),
        &Fields::from_query(None),
        StatusCode::OK,
    )
    .await
}

async fn services_page(
    st: &AppState,
    cx: &Console,
    query: &Fields,
    errors: Errors,
    typed: &Fields,
    status: StatusCode,
) -> Response {
    let a = allowed!(cx, need::ServiceRead);
    let server = query
        .optional("server")
        .or_else(|| typed.optional("server"))
        .unwrap_or_else(|| castellan_domain::DEFAULT_SERVER.into());
    let list = or_fail!(cx, st.control.list_server_services(&a, &server).await);
    // The servers to choose from, when the person may list them.
    let servers = match cx.access.clone().allow::<need::ServerRead>() {
        Ok(r) => st
            .control
            .list_servers(&r)
            .await
            .map(|s| s.servers.into_iter().filter(|s| !s.system).map(|s| s.id).collect())
            .unwrap_or_default(),
        Err(_) => vec![server.clone()],
    };
    show(
        status,
        &ServicesPage {
            chrome: cx.chrome("services"),
            server,
            servers,
            services: Paged::of(list.services, query, |s| {
                format!(
                    "{} {}",
                    s.service.name.clone().unwrap_or_default(),
                    s.service.description.clone().unwrap_or_default()
                )
            }),
            can_write: cx.can(Resource::Service, Access::Write),
            errors,
            name: typed.get("name").into(),
            description: typed.get("description").into(),
        },
    )
}

async fn create_service(
    State(st): State<AppState>,
    Path(tid): Path<String>,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, "/services"));
    let f = posted!(cx, headers, body);
    let a = allowed!(cx, need::ServiceWrite);
    let req = wire::services::Service {
        name: f.optional("name"),
        description: f.optional("description"),
        authorization_server_id: f.optional("server"),
        ..Default::default()
    };
    match st.control.create_service(&a, req).await {
        Ok(s) => see_other(&here(
            &tid,
            &format!("/services/{}?created=1", seg(s.id.as_deref().unwrap_or(""))),
        )),
        Err(e) => match field_error(e) {
            Ok(errors) => {
                services_page(
                    &st,
                    &cx,
                    &Fields::from_query(None),
                    errors,
                    &f,
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
            Err(e) => cx.fail(e),
        },
    }
}

#[derive(Template)]
#[template(path = "console/service.html")]
struct ServicePage {
    chrome: Chrome,
    service: wire::services::ServiceWithScopesResponse,
    apis: Vec<wire::services::Api>,
    can_write: bool,
    errors: Errors,
    url: String,
    notice: String,
    imported: Option<wire::services::ImportServiceConfigurationResult>,
}

async fn service(
    State(st): State<AppState>,
    Path((tid, sid)): Path<(String, String)>,
    RawQuery(q): RawQuery,
    jar: CookieJar,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, &format!("/services/{}", seg(&sid))));
    let notice = if Fields::from_query(q.as_deref()).get("created") == "1" {
        "The service was created. Import its specification to describe its APIs."
    } else {
        ""
    };
    service_page(&st, &cx, &sid, Errors::default(), "", notice, None, StatusCode::OK).await
}

#[allow(clippy::too_many_arguments)]
async fn service_page(
    st: &AppState,
    cx: &Console,
    sid: &str,
    errors: Errors,
    url: &str,
    notice: &str,
    imported: Option<wire::services::ImportServiceConfigurationResult>,
    status: StatusCode,
) -> Response {
    let a = allowed!(cx, need::ServiceRead);
    let service = or_fail!(cx, st.control.get_service(&a, sid).await);
    let apis = or_fail!(cx, st.control.list_service_apis(&a, sid, &ApiFilter::default()).await);
    show(
        status,
        &ServicePage {
            chrome: cx.chrome("services"),
            service,
            apis: apis.apis,
            can_write: cx.can(Resource::Service, Access::Write),
            errors,
            url: url.into(),
            notice: notice.into(),
            imported,
        },
    )
}

/// `POST /console/{tid}/services/{sid}`: a specification imported from a file, pasted text or a
/// URL (a `multipart/form-data` form, so that a file can be chosen).
async fn import_specification(
    State(st): State<AppState>,
    Path((tid, sid)): Path<(String, String)>,
    jar: CookieJar,
    req: Request,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, &format!("/services/{}", seg(&sid))));
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    if !is_multipart {
        return cx.message(
            StatusCode::BAD_REQUEST,
            "Not sent",
            "The import form was not sent as a form with a file.",
        );
    }
    let mut parts = match Multipart::from_request(req, &st).await {
        Ok(m) => m,
        Err(e) => return cx.message(StatusCode::BAD_REQUEST, "Not sent", &e.body_text()),
    };
    let (mut csrf, mut file, mut text, mut url) = (String::new(), Vec::new(), String::new(), String::new());
    loop {
        match parts.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or("").to_owned();
                let Ok(bytes) = field.bytes().await else {
                    return cx.message(StatusCode::PAYLOAD_TOO_LARGE, "Not sent", "The form is too large.");
                };
                match name.as_str() {
                    "csrf_token" => csrf = String::from_utf8_lossy(&bytes).into_owned(),
                    "file" => file = bytes.to_vec(),
                    "text" => text = String::from_utf8_lossy(&bytes).into_owned(),
                    "url" => url = String::from_utf8_lossy(&bytes).trim().to_owned(),
                    _ => {}
                }
            }
            Ok(None) => break,
            Err(e) => return cx.message(StatusCode::BAD_REQUEST, "Not sent", &e.body_text()),
        }
    }
    if !castellan_jose::constant_time_eq(csrf.as_bytes(), cx.csrf.as_bytes()) {
        return cx.message(
            StatusCode::FORBIDDEN,
            "This form has expired",
            "The form was not sent from this console session. Reload the page and try again.",
        );
    }
    let a = allowed!(cx, need::ServiceWrite);
    let result = if !file.is_empty() {
        st.control.import_specification(&a, &sid, "file", &file).await
    } else if !text.trim().is_empty() {
        st.control.import_specification(&a, &sid, "text", text.as_bytes()).await
    } else if !url.is_empty() {
        st.control
            .import_specification_from_url(&a, &sid, wire::services::ImportFromUrl { url: Some(url.clone()) })
            .await
    } else {
        Err(ControlError::invalid(
            "file",
            "choose a file, paste a specification or give its URL",
        ))
    };
    match result {
        Ok(imported) => {
            service_page(
                &st,
                &cx,
                &sid,
                Errors::default(),
                "",
                "The specification was imported.",
                Some(imported),
                StatusCode::OK,
            )
            .await
        }
        Err(e) => match field_error(e) {
            Ok(errors) => service_page(&st, &cx, &sid, errors, &url, "", None, StatusCode::UNPROCESSABLE_ENTITY).await,
            Err(e) => cx.fail(e),
        },
    }
}

// ---- login methods and static users ----

#[derive(Template)]
#[template(path = "console/people.html")]
struct PeoplePage {
    chrome: Chrome,
    aid: String,
    methods: Vec<wire::AuthenticationMethod>,
    can_write: bool,
    errors: Errors,
    username: String,
    groups: String,
    notice: String,
}

impl PeoplePage {
    /// A static user's groups, for the list.
    pub fn groups_of(&self, u: &wire::StaticUser) -> String {
        u.authentication_context
            .get("groups")
            .and_then(|g| g.as_array())
            .map(|g| g.iter().filter_map(|v| v.as_str()).collect::<Vec<_>>().join(", "))
            .unwrap_or_default()
    }
}

async fn people(
    State(st): State<AppState>,
    Path((tid, aid)): Path<(String, String)>,
    RawQuery(q): RawQuery,
    jar: CookieJar,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, &format!("/servers/{}/people", seg(&aid))));
    let notice = match Fields::from_query(q.as_deref()).get("done") {
        "added" => "The person was added.",
        "removed" => "The person was removed.",
        _ => "",
    };
    people_page(
        &st,
        &cx,
        &aid,
        Errors::default(),
        &Fields::from_query(None),
        notice,
        StatusCode::OK,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn people_page(
    st: &AppState,
    cx: &Console,
    aid: &str,
    errors: Errors,
    typed: &Fields,
    notice: &str,
    status: StatusCode,
) -> Response {
    let a = allowed!(cx, need::ServerRead);
    let server = or_fail!(cx, st.control.get_server(&a, aid).await);
    show(
        status,
        &PeoplePage {
            chrome: cx.chrome("servers"),
            aid: aid.into(),
            methods: server.authentications.methods,
            can_write: cx.can(Resource::Server, Access::Write),
            errors,
            username: typed.get("username").into(),
            groups: typed.get("groups").into(),
            notice: notice.into(),
        },
    )
}

/// The server's login methods as stored (write-only members left out, which keeps them).
async fn methods_of(st: &AppState, cx: &Console, aid: &str) -> Result<Vec<wire::AuthenticationMethod>, Response> {
    let a = cx.allow::<need::ServerRead>()?;
    match st.control.get_server(&a, aid).await {
        Ok(s) => Ok(s.authentications.methods),
        Err(e) => Err(cx.fail(e)),
    }
}

async fn add_person(
    State(st): State<AppState>,
    Path((tid, aid)): Path<(String, String)>,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, &format!("/servers/{}/people", seg(&aid))));
    let f = posted!(cx, headers, body);
    let a = allowed!(cx, need::ServerWrite);
    let mut methods = match methods_of(&st, &cx, &aid).await {
        Ok(m) => m,
        Err(r) => return r,
    };
    let username = f.get("username").to_owned();
    let mut context = serde_json::Map::new();
    let groups: Vec<String> = f
        .get("groups")
        .split([',', ' '])
        .map(str::trim)
        .filter(|g| !g.is_empty())
        .map(str::to_owned)
        .collect();
    if !groups.is_empty() {
        context.insert("groups".into(), serde_json::json!(groups));
    }
    let user = wire::StaticUser {
        username: username.clone(),
        password: Some(f.get("password").to_owned()),
        password_hash: None,
        authentication_context: context,
    };
    let taken = methods
        .iter()
        .filter_map(|m| m.static_.as_ref())
        .any(|s| s.users.iter().any(|u| u.username == username));
    let errors = if username.is_empty() {
        Some(("username", "is required".to_owned()))
    } else if taken {
        Some(("username", format!("the server already has a person named {username}")))
    } else {
        None
    };
    if let Some((field, reason)) = errors {
        return people_page(
            &st,
            &cx,
            &aid,
            Errors(vec![(field.into(), reason)]),
            &f,
            "",
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    match methods.iter_mut().find(|m| m.method == "static") {
        Some(m) => m.static_.get_or_insert_with(Default::default).users.push(user),
        None => methods.push(wire::AuthenticationMethod {
            id: "people".into(),
            method: "static".into(),
            name: "Password".into(),
            static_: Some(wire::StaticSettings {
                hint: false,
                users: vec![user],
            }),
            ..Default::default()
        }),
    }
    match st
        .control
        .update_authentications(&a, &aid, wire::Authentications { methods })
        .await
    {
        Ok(_) => see_other(&here(&tid, &format!("/servers/{}/people?done=added", seg(&aid)))),
        Err(e) => match field_error(e) {
            Ok(Errors(list)) => {
                // `methods[0].static.users[1].password` → the form's field.
                let errors = list
                    .into_iter()
                    .map(|(_, reason)| ("password".to_owned(), reason))
                    .collect();
                people_page(&st, &cx, &aid, Errors(errors), &f, "", StatusCode::UNPROCESSABLE_ENTITY).await
            }
            Err(e) => cx.fail(e),
        },
    }
}

async fn remove_person(
    State(st): State<AppState>,
    Path((tid, aid)): Path<(String, String)>,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, &format!("/servers/{}/people", seg(&aid))));
    let f = posted!(cx, headers, body);
    let a = allowed!(cx, need::ServerWrite);
    let mut methods = match methods_of(&st, &cx, &aid).await {
        Ok(m) => m,
        Err(r) => return r,
    };
    let username = f.get("username");
    let mut found = false;
    for m in &mut methods {
        if let Some(s) = m.static_.as_mut() {
            let before = s.users.len();
            s.users.retain(|u| u.username != username);
            found |= s.users.len() != before;
        }
    }
    if !found {
        return cx.fail(ControlError::NotFound {
            what: "person",
            id: username.to_owned(),
        });
    }
    or_fail!(
        cx,
        st.control
            .update_authentications(&a, &aid, wire::Authentications { methods })
            .await
    );
    see_other(&here(&tid, &format!("/servers/{}/people?done=removed", seg(&aid))))
}

// ---- claims ----

#[derive(Template)]
#[template(path = "console/claims.html")]
struct ClaimsPage {
    chrome: Chrome,
    aid: String,
    claims: Paged<wire::Claim>,
    can_write: bool,
    errors: Errors,
    name: String,
    mapping: String,
    scopes: String,
    notice: String,
}

async fn claims(
    State(st): State<AppState>,
    Path((tid, aid)): Path<(String, String)>,
    RawQuery(q): RawQuery,
    jar: CookieJar,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, &format!("/servers/{}/claims", seg(&aid))));
    let query = Fields::from_query(q.as_deref());
    let notice = match query.get("done") {
        "created" => "The claim was created.",
        "deleted" => "The claim was deleted.",
        _ => "",
    };
    claims_page(
        &st,
        &cx,
        &aid,
        &query,
        Errors::default(),
        &Fields::from_query(None),
        notice,
        StatusCode::OK,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn claims_page(
    st: &AppState,
    cx: &Console,
    aid: &str,
    query: &Fields,
    errors: Errors,
    typed: &Fields,
    notice: &str,
    status: StatusCode,
) -> Response {
    let a = allowed!(cx, need::ClaimRead);
    let list = or_fail!(cx, st.control.list_claims(&a, aid).await);
    show(
        status,
        &ClaimsPage {
            chrome: cx.chrome("servers"),
            aid: aid.into(),
            claims: Paged::of(list.claims, query, |c| format!("{} {}", c.name, c.mapping)),
            can_write: cx.can(Resource::Claim, Access::Write),
            errors,
            name: typed.get("name").into(),
            mapping: typed.get("mapping").into(),
            scopes: typed.get("scopes").into(),
            notice: notice.into(),
        },
    )
}

async fn create_claim(
    State(st): State<AppState>,
    Path((tid, aid)): Path<(String, String)>,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, &format!("/servers/{}/claims", seg(&aid))));
    let f = posted!(cx, headers, body);
    let a = allowed!(cx, need::ClaimWrite);
    let req = wire::ClaimRequest {
        name: f.optional("name"),
        mapping: f.optional("mapping"),
        claim_type: f.optional("type"),
        scopes: Some(f.words("scopes")),
        authorization_server_id: Some(aid.clone()),
        ..Default::default()
    };
    match st.control.create_claim(&a, req).await {
        Ok(_) => see_other(&here(&tid, &format!("/servers/{}/claims?done=created", seg(&aid)))),
        Err(e) => match field_error(e) {
            Ok(errors) => {
                claims_page(
                    &st,
                    &cx,
                    &aid,
                    &Fields::from_query(None),
                    rename_id(errors, "name"),
                    &f,
                    "",
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
            Err(e) => cx.fail(e),
        },
    }
}

async fn delete_claim(
    State(st): State<AppState>,
    Path((tid, aid, id)): Path<(String, String, String)>,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, &format!("/servers/{}/claims", seg(&aid))));
    let _ = posted!(cx, headers, body);
    let a = allowed!(cx, need::ClaimWrite);
    let read = allowed!(cx, need::ClaimRead);
    let list = or_fail!(cx, st.control.list_claims(&read, &aid).await);
    if !list.claims.iter().any(|c| c.id == id) {
        return cx.fail(ControlError::NotFound { what: "claim", id });
    }
    or_fail!(cx, st.control.delete_claim(&a, &id).await);
    see_other(&here(&tid, &format!("/servers/{}/claims?done=deleted", seg(&aid))))
}

// ---- consents ----

#[derive(Template)]
#[template(path = "console/consents.html")]
struct ConsentsPage {
    chrome: Chrome,
    consents: Paged<wire::privacy::Consent>,
    can_write: bool,
    errors: Errors,
    id: String,
    name: String,
    description: String,
    notice: String,
}

async fn consents(
    State(st): State<AppState>,
    Path(tid): Path<String>,
    RawQuery(q): RawQuery,
    jar: CookieJar,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, "/consents"));
    let query = Fields::from_query(q.as_deref());
    let notice = match query.get("done") {
        "created" => "The consent was created.",
        "deleted" => "The consent was deleted.",
        _ => "",
    };
    consents_page(
        &st,
        &cx,
        &query,
        Errors::default(),
        &Fields::from_query(None),
        notice,
        StatusCode::OK,
    )
    .await
}

async fn consents_page(
    st: &AppState,
    cx: &Console,
    query: &Fields,
    errors: Errors,
    typed: &Fields,
    notice: &str,
    status: StatusCode,
) -> Response {
    let a = allowed!(cx, need::ConsentRead);
    let list = or_fail!(cx, st.control.list_consents(&a).await);
    show(
        status,
        &ConsentsPage {
            chrome: cx.chrome("consents"),
            consents: Paged::of(list.consents, query, |c| {
                format!(
                    "{} {}",
                    c.id.clone().unwrap_or_default(),
                    c.name.clone().unwrap_or_default()
                )
            }),
            can_write: cx.can(Resource::Consent, Access::Write),
            errors,
            id: typed.get("id").into(),
            name: typed.get("name").into(),
            description: typed.get("description").into(),
            notice: notice.into(),
        },
    )
}

async fn create_consent(
    State(st): State<AppState>,
    Path(tid): Path<String>,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, "/consents"));
    let f = posted!(cx, headers, body);
    let a = allowed!(cx, need::ConsentWrite);
    let req = wire::privacy::Consent {
        id: f.optional("id"),
        name: f.optional("name"),
        description: f.optional("description"),
        can_be_withdrawn: Some(f.get("can_be_withdrawn") == "on"),
        update_existing_grants: f.optional("update_existing_grants"),
        ..Default::default()
    };
    match st.control.create_consent(&a, req).await {
        Ok(_) => see_other(&here(&tid, "/consents?done=created")),
        Err(e) => match field_error(e) {
            Ok(errors) => {
                consents_page(
                    &st,
                    &cx,
                    &Fields::from_query(None),
                    errors,
                    &f,
                    "",
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
            Err(e) => cx.fail(e),
        },
    }
}

async fn delete_consent(
    State(st): State<AppState>,
    Path((tid, id)): Path<(String, String)>,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, "/consents"));
    let _ = posted!(cx, headers, body);
    let a = allowed!(cx, need::ConsentWrite);
    or_fail!(cx, st.control.delete_consent(&a, &id).await);
    see_other(&here(&tid, "/consents?done=deleted"))
}

// ---- tenants (system administrators) ----

#[derive(Template)]
#[template(path = "console/tenants.html")]
struct TenantsPage {
    chrome: Chrome,
    tenants: Paged<wire::Tenant>,
    can_write: bool,
    errors: Errors,
    id: String,
    name: String,
    created: Option<wire::SystemTenantCreated>,
}

async fn tenants(
    State(st): State<AppState>,
    Path(tid): Path<String>,
    RawQuery(q): RawQuery,
    jar: CookieJar,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, "/tenants"));
    tenants_page(
        &st,
        &cx,
        &Fields::from_query(q.as_deref()),
        Errors::default(),
        &Fields::from_query(None),
        None,
        StatusCode::OK,
    )
    .await
}

async fn tenants_page(
    st: &AppState,
    cx: &Console,
    query: &Fields,
    errors: Errors,
    typed: &Fields,
    created: Option<wire::SystemTenantCreated>,
    status: StatusCode,
) -> Response {
    let a = allowed!(cx, need::SystemRead);
    let list = or_fail!(cx, st.control.list_system_tenants(&a).await);
    show(
        status,
        &TenantsPage {
            chrome: cx.chrome("tenants"),
            tenants: Paged::of(list, query, |t| format!("{} {}", t.id, t.name)),
            can_write: cx.can(Resource::System, Access::Write),
            errors,
            id: typed.get("id").into(),
            name: typed.get("name").into(),
            created,
        },
    )
}

async fn create_tenant(
    State(st): State<AppState>,
    Path(tid): Path<String>,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, "/tenants"));
    let f = posted!(cx, headers, body);
    let a = allowed!(cx, need::SystemWrite);
    let req = wire::SystemTenantRequest {
        id: f.optional("id"),
        name: f.optional("name"),
        ..Default::default()
    };
    match st.control.create_system_tenant(&a, req).await {
        // The new tenant's admin client secret is shown on this answer only.
        Ok(created) => {
            tenants_page(
                &st,
                &cx,
                &Fields::from_query(None),
                Errors::default(),
                &Fields::from_query(None),
                Some(created),
                StatusCode::CREATED,
            )
            .await
        }
        Err(e) => match field_error(e) {
            Ok(errors) => {
                tenants_page(
                    &st,
                    &cx,
                    &Fields::from_query(None),
                    errors,
                    &f,
                    None,
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
            Err(e) => cx.fail(e),
        },
    }
}

// ---- STS client mappings ----

#[derive(Template)]
#[template(path = "console/sts_clients.html")]
struct StsClientsPage {
    chrome: Chrome,
    mappings: Paged<wire::nexus::StsClient>,
    can_write: bool,
    errors: Errors,
    client_id: String,
    permissions: String,
    notice: String,
}

async fn sts_clients(
    State(st): State<AppState>,
    Path(tid): Path<String>,
    RawQuery(q): RawQuery,
    jar: CookieJar,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, "/sts-clients"));
    let query = Fields::from_query(q.as_deref());
    let notice = match query.get("done") {
        "created" => "The mapping was created.",
        "deleted" => "The mapping was deleted.",
        _ => "",
    };
    sts_page(
        &st,
        &cx,
        &query,
        Errors::default(),
        &Fields::from_query(None),
        notice,
        StatusCode::OK,
    )
    .await
}

async fn sts_page(
    st: &AppState,
    cx: &Console,
    query: &Fields,
    errors: Errors,
    typed: &Fields,
    notice: &str,
    status: StatusCode,
) -> Response {
    let a = allowed!(cx, need::StsClientRead);
    let list = or_fail!(cx, st.control.list_sts_clients(&a).await);
    show(
        status,
        &StsClientsPage {
            chrome: cx.chrome("sts"),
            mappings: Paged::of(list, query, |m| m.client_id.clone().unwrap_or_default()),
            can_write: cx.can(Resource::StsClient, Access::Write),
            errors,
            client_id: typed.get("clientId").into(),
            permissions: typed.get("permissions").into(),
            notice: notice.into(),
        },
    )
}

async fn create_sts_client(
    State(st): State<AppState>,
    Path(tid): Path<String>,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, "/sts-clients"));
    let f = posted!(cx, headers, body);
    let a = allowed!(cx, need::StsClientWrite);
    let req = wire::nexus::StsClientRequest {
        client_id: f.optional("clientId"),
        description: f.optional("description"),
        permissions: Some(f.get("permissions").to_owned()),
    };
    match st.control.create_sts_client(&a, None, req).await {
        Ok(_) => see_other(&here(&tid, "/sts-clients?done=created")),
        Err(e) => match field_error(e) {
            Ok(errors) => {
                sts_page(
                    &st,
                    &cx,
                    &Fields::from_query(None),
                    rename_id(errors, "clientId"),
                    &f,
                    "",
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
            Err(e) => cx.fail(e),
        },
    }
}

async fn delete_sts_client(
    State(st): State<AppState>,
    Path((tid, cid)): Path<(String, String)>,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, "/sts-clients"));
    let _ = posted!(cx, headers, body);
    let a = allowed!(cx, need::StsClientWrite);
    or_fail!(cx, st.control.delete_sts_client(&a, &cid).await);
    see_other(&here(&tid, "/sts-clients?done=deleted"))
}

async fn confirm_delete_tenant(
    State(st): State<AppState>,
    Path((tid, id)): Path<(String, String)>,
    jar: CookieJar,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, "/tenants"));
    let _ = allowed!(cx, need::SystemWrite);
    show(
        StatusCode::OK,
        &ConfirmPage {
            chrome: cx.chrome("tenants"),
            title: format!("Delete tenant {id}?"),
            text: "Its servers, clients, people, keys and consents are deleted, and every token it issued stops \
                   working at once. This cannot be undone."
                .into(),
            action: here(&tid, &format!("/tenants/{}/delete", seg(&id))),
            back: here(&tid, "/tenants"),
        },
    )
}

async fn delete_tenant(
    State(st): State<AppState>,
    Path((tid, id)): Path<(String, String)>,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, "/tenants"));
    let _ = posted!(cx, headers, body);
    let a = allowed!(cx, need::SystemWrite);
    or_fail!(cx, st.control.delete_system_tenant(&a, &id).await);
    see_other(&here(&tid, "/tenants"))
}

// ---- gateways ----

#[derive(Template)]
#[template(path = "console/gateways.html")]
struct GatewaysPage {
    chrome: Chrome,
    server: String,
    servers: Vec<String>,
    gateways: Paged<wire::gateways::Gateway>,
    kinds: &'static [&'static str],
    can_write: bool,
    errors: Errors,
    name: String,
    kind: String,
    notice: String,
}

/// The non-system servers to choose from, when the person may list them.
async fn server_choices(st: &AppState, cx: &Console, current: &str) -> Vec<String> {
    match cx.access.clone().allow::<need::ServerRead>() {
        Ok(r) => st
            .control
            .list_servers(&r)
            .await
            .map(|s| s.servers.into_iter().filter(|s| !s.system).map(|s| s.id).collect())
            .unwrap_or_default(),
        Err(_) => vec![current.to_owned()],
    }
}

async fn gateways(
    State(st): State<AppState>,
    Path(tid): Path<String>,
    RawQuery(q): RawQuery,
    jar: CookieJar,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, "/gateways"));
    let query = Fields::from_query(q.as_deref());
    let notice = if query.get("created") == "1" {
        "The gateway was created. Download its package and set the upstream."
    } else {
        ""
    };
    gateways_page(
        &st,
        &cx,
        &query,
        Errors::default(),
        &Fields::from_query(None),
        notice,
        StatusCode::OK,
    )
    .await
}

async fn gateways_page(
    st: &AppState,
    cx: &Console,
    query: &Fields,
    errors: Errors,
    typed: &Fields,
    notice: &str,
    status: StatusCode,
) -> Response {
    let a = allowed!(cx, need::GatewayRead);
    let server = query
        .optional("server")
        .or_else(|| typed.optional("server"))
        .unwrap_or_else(|| castellan_domain::DEFAULT_SERVER.into());
    let list = or_fail!(cx, st.control.list_gateways(&a, &server).await);
    show(
        status,
        &GatewaysPage {
            chrome: cx.chrome("gateways"),
            servers: server_choices(st, cx, &server).await,
            server,
            gateways: Paged::of(list.gateways, query, |g| format!("{} {}", g.id, g.name)),
            kinds: &castellan_control::GATEWAY_TYPES,
            can_write: cx.can(Resource::Gateway, Access::Write),
            errors,
            name: typed.get("name").into(),
            kind: typed.get("type").into(),
            notice: notice.into(),
        },
    )
}

async fn create_gateway(
    State(st): State<AppState>,
    Path(tid): Path<String>,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, "/gateways"));
    let f = posted!(cx, headers, body);
    let a = allowed!(cx, need::GatewayWrite);
    let req = wire::gateways::CreateGatewayRequest {
        name: f.optional("name"),
        description: f.optional("description"),
        server_id: f.optional("server"),
        kind: f.optional("type"),
        ..Default::default()
    };
    match st.control.create_gateway(&a, req).await {
        Ok(g) => see_other(&here(
            &tid,
            &format!("/gateways?server={}&created=1", seg(&g.gateway.authorization_server_id)),
        )),
        Err(e) => match field_error(e) {
            Ok(errors) => {
                gateways_page(
                    &st,
                    &cx,
                    &Fields::from_query(None),
                    rename_id(errors, "name"),
                    &f,
                    "",
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
            Err(e) => cx.fail(e),
        },
    }
}

/// `GET /console/{tid}/gateways/{gw}/package`: the package, as the admin API serves it.
async fn gateway_package(
    State(st): State<AppState>,
    Path((tid, gw)): Path<(String, String)>,
    jar: CookieJar,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, "/gateways"));
    let a = allowed!(cx, need::GatewayRead);
    let body = or_fail!(cx, st.control.gateway_package(&a, &gw).await);
    let name = format!("attachment; filename=\"castellan-gateway-{}.tar.gz\"", seg(&gw));
    let mut r = axum::response::IntoResponse::into_response(body);
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/gzip"),
    );
    if let Ok(v) = header::HeaderValue::from_str(&name) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    r
}

// ---- roles ----

#[derive(Template)]
#[template(path = "console/roles.html")]
struct RolesPage {
    chrome: Chrome,
    roles: Vec<RoleView>,
    can_write: bool,
    errors: Errors,
    /// The role whose form has `errors`.
    failed: String,
    notice: String,
}

struct RoleView {
    id: String,
    name: String,
    permissions: String,
    groups: Vec<String>,
}

async fn roles(State(st): State<AppState>, Path(tid): Path<String>, RawQuery(q): RawQuery, jar: CookieJar) -> Response {
    let cx = session!(st, tid, jar, here(&tid, "/roles"));
    let notice = if Fields::from_query(q.as_deref()).get("saved") == "1" {
        "The role was saved."
    } else {
        ""
    };
    roles_page(&st, &cx, Errors::default(), "", None, notice, StatusCode::OK).await
}

async fn roles_page(
    st: &AppState,
    cx: &Console,
    errors: Errors,
    failed: &str,
    typed: Option<&str>,
    notice: &str,
    status: StatusCode,
) -> Response {
    let a = allowed!(cx, need::RoleRead);
    let list = or_fail!(cx, st.control.list_roles(&a).await);
    let roles = list
        .into_iter()
        .map(|r| {
            let id = r.id.clone().unwrap_or_default();
            let permissions = match typed {
                Some(t) if id == failed => t.to_owned(),
                _ => r
                    .permissions
                    .iter()
                    .map(|p| p.code.as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
            };
            RoleView {
                name: r.name.clone().unwrap_or_default(),
                groups: r.connection_maps.iter().map(|m| m.group_name.clone()).collect(),
                id,
                permissions,
            }
        })
        .collect();
    show(
        status,
        &RolesPage {
            chrome: cx.chrome("roles"),
            roles,
            can_write: cx.can(Resource::Role, Access::Write),
            errors,
            failed: failed.into(),
            notice: notice.into(),
        },
    )
}

async fn create_role(
    State(st): State<AppState>,
    Path(tid): Path<String>,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, "/roles"));
    let f = posted!(cx, headers, body);
    let a = allowed!(cx, need::RoleWrite);
    let req = wire::nexus::RoleRequest {
        product_name: f.optional("product_name"),
        audience: f.optional("audience"),
        description: f.optional("description"),
    };
    match st.control.create_role(&a, req).await {
        Ok(_) => see_other(&here(&tid, "/roles?saved=1")),
        Err(e) => match field_error(e) {
            Ok(errors) => roles_page(&st, &cx, errors, "new", None, "", StatusCode::UNPROCESSABLE_ENTITY).await,
            Err(e) => cx.fail(e),
        },
    }
}

async fn map_group(
    State(st): State<AppState>,
    Path((tid, id)): Path<(String, String)>,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, "/roles"));
    let f = posted!(cx, headers, body);
    let a = allowed!(cx, need::RoleWrite);
    let req = wire::nexus::ConnectionMapRequest {
        group_name: f.optional("group"),
        name: f.optional("group"),
        azo_connection_id: None,
    };
    match st.control.add_connection_map(&a, &id, req).await {
        Ok(_) => see_other(&here(&tid, "/roles?saved=1")),
        Err(e) => match field_error(e) {
            Ok(errors) => roles_page(&st, &cx, errors, &id, None, "", StatusCode::UNPROCESSABLE_ENTITY).await,
            Err(e) => cx.fail(e),
        },
    }
}

async fn unmap_group(
    State(st): State<AppState>,
    Path((tid, id)): Path<(String, String)>,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, "/roles"));
    let f = posted!(cx, headers, body);
    let a = allowed!(cx, need::RoleWrite);
    or_fail!(
        cx,
        st.control
            .delete_connection_map(&a, &id, None, Some(f.get("group")))
            .await
    );
    see_other(&here(&tid, "/roles?saved=1"))
}

async fn update_role(
    State(st): State<AppState>,
    Path((tid, id)): Path<(String, String)>,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, "/roles"));
    let f = posted!(cx, headers, body);
    let a = allowed!(cx, need::RoleWrite);
    let req = wire::nexus::RoleUpdate {
        permissions: Some(f.get("permissions").to_owned()),
        ..Default::default()
    };
    match st.control.update_role(&a, &id, req).await {
        Ok(_) => see_other(&here(&tid, "/roles?saved=1")),
        Err(e) => match field_error(e) {
            Ok(errors) => {
                roles_page(
                    &st,
                    &cx,
                    errors,
                    &id,
                    Some(f.get("permissions")),
                    "",
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
            Err(e) => cx.fail(e),
        },
    }
}

impl Errors {
    /// Whether the form has any error (for the summary at its top).
    pub fn has_any(&self) -> bool {
        self.any()
    }
}
