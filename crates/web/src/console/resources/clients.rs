//! The clients of a server: the list, the form that explains each field, the secret shown once,
//! deletion after a confirmation.

use super::*;

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

pub(super) async fn clients(
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

pub(super) async fn new_client(
    State(st): State<AppState>,
    Path((tid, aid)): Path<(String, String)>,
    jar: CookieJar,
) -> Response {
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

pub(super) async fn create_client(
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
        Ok(client) => {
            let id = client.client_id.clone();
            created(
                show(
                    StatusCode::CREATED,
                    &SecretPage {
                        chrome: cx.chrome("servers"),
                        aid,
                        client,
                    },
                ),
                Some(&id),
            )
        }
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

pub(super) async fn client(
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

pub(super) async fn update_client(
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

pub(super) async fn confirm_delete_client(
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
            button: "Delete".into(),
        },
    )
}

pub(super) async fn delete_client(
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
