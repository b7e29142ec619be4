//! Servers: their settings and token lifetimes, keys, login methods and people, claims and scopes.

use super::*;

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
pub(in crate::console) async fn home(
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
pub(super) async fn clients_of(Path(tid): Path<String>, RawQuery(q): RawQuery) -> Response {
    let q = Fields::from_query(q.as_deref());
    let server = q
        .optional("server")
        .unwrap_or_else(|| castellan_domain::DEFAULT_SERVER.into());
    see_other(&here(&tid, &format!("/servers/{}/clients", seg(&server))))
}

pub(super) async fn servers(
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

pub(super) async fn servers_page(
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

pub(super) async fn create_server(
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
        Ok(s) => created(
            see_other(&here(&tid, &format!("/servers/{}?done=created", seg(&s.id)))),
            Some(&s.id),
        ),
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
    keys: wire::SigningKeys,
    can_write: bool,
    errors: Errors,
    notice: String,
}

impl ServerPage {
    /// A key's times, in words.
    pub fn key_times(&self, k: &wire::SigningKeyInfo) -> String {
        let mut out = Vec::new();
        match k.state.as_str() {
            "next" => out.extend(k.activates_at.as_ref().map(|t| format!("signs from {t}"))),
            "current" => out.extend(k.activates_at.as_ref().map(|t| format!("since {t}"))),
            "retired" => out.push(match &k.retires_at {
                Some(t) => format!("published until {t}"),
                None => "published until removed".into(),
            }),
            _ => out.extend(k.revoked_at.as_ref().map(|t| format!("revoked {t}"))),
        }
        out.join(", ")
    }
}

pub(super) async fn server(
    State(st): State<AppState>,
    Path((tid, aid)): Path<(String, String)>,
    RawQuery(q): RawQuery,
    jar: CookieJar,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, &format!("/servers/{}", seg(&aid))));
    let a = allowed!(cx, need::ServerRead);
    let server = or_fail!(cx, st.control.get_server(&a, &aid).await);
    let keys = or_fail!(cx, st.control.list_signing_keys(&a, &aid).await);
    let query = Fields::from_query(q.as_deref());
    let notice = match query.get("done") {
        "created" => "The server was created.",
        "saved" => "The settings were saved.",
        "rotated" => "A next key is published; it starts signing in an hour.",
        "revoked" => "The key was revoked: tokens it signed no longer work.",
        _ => "",
    };
    show(
        StatusCode::OK,
        &ServerPage {
            chrome: cx.chrome("servers"),
            server,
            keys,
            can_write: cx.can(Resource::Server, Access::Write),
            errors: Errors::default(),
            notice: notice.into(),
        },
    )
}

pub(super) async fn update_server(
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
        key_rotation_period: f.optional("key_rotation_period"),
        enforce_pkce: Some(f.get("enforce_pkce") == "on"),
        ..Default::default()
    };
    match st.control.update_server(&a, &aid, req).await {
        Ok(_) => see_other(&here(&tid, &format!("/servers/{}?done=saved", seg(&aid)))),
        Err(e) => match field_error(e) {
            Ok(errors) => {
                let read = allowed!(cx, need::ServerRead);
                let mut server = or_fail!(cx, st.control.get_server(&read, &aid).await);
                let keys = or_fail!(cx, st.control.list_signing_keys(&read, &aid).await);
                // What the person typed stays in the form.
                server.name = f.get("name").into();
                server.access_token_ttl = f.get("access_token_ttl").into();
                server.refresh_token_ttl = f.get("refresh_token_ttl").into();
                server.id_token_ttl = f.get("id_token_ttl").into();
                server.authorization_code_ttl = f.get("authorization_code_ttl").into();
                server.key_rotation_period = f.get("key_rotation_period").into();
                show(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &ServerPage {
                        chrome: cx.chrome("servers"),
                        server,
                        keys,
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

pub(super) async fn rotate_keys(
    State(st): State<AppState>,
    Path((tid, aid)): Path<(String, String)>,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, &format!("/servers/{}", seg(&aid))));
    let _ = posted!(cx, headers, body);
    let a = allowed!(cx, need::ServerWrite);
    or_fail!(cx, st.control.rotate_signing_keys(&a, &aid).await);
    see_other(&here(&tid, &format!("/servers/{}?done=rotated#keys", seg(&aid))))
}

pub(super) async fn confirm_revoke_key(
    State(st): State<AppState>,
    Path((tid, aid, kid)): Path<(String, String, String)>,
    jar: CookieJar,
) -> Response {
    let path = format!("/servers/{}", seg(&aid));
    let cx = session!(st, tid, jar, here(&tid, &path));
    let _ = allowed!(cx, need::ServerWrite);
    let read = allowed!(cx, need::ServerRead);
    let keys = or_fail!(cx, st.control.list_signing_keys(&read, &aid).await);
    let Some(key) = keys.keys.iter().find(|k| k.kid == kid) else {
        return cx.fail(ControlError::NotFound {
            what: "signing key",
            id: kid,
        });
    };
    let text = if key.state == "current" {
        "It leaves the JWK Set now and every token it signed stops working at once; the next key \
         (or a new one) signs from now on, before relying parties may have fetched it. Revoke a \
         key that may have leaked; to change keys without disruption, rotate instead."
    } else {
        "It leaves the JWK Set now and every token it signed stops working at once."
    };
    show(
        StatusCode::OK,
        &ConfirmPage {
            chrome: cx.chrome("servers"),
            title: format!("Revoke key {kid}?"),
            text: text.into(),
            action: here(&tid, &format!("{path}/keys/{}/revoke", seg(&kid))),
            back: here(&tid, &format!("{path}#keys")),
            button: "Revoke".into(),
        },
    )
}

pub(super) async fn revoke_key(
    State(st): State<AppState>,
    Path((tid, aid, kid)): Path<(String, String, String)>,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, &format!("/servers/{}", seg(&aid))));
    let _ = posted!(cx, headers, body);
    let a = allowed!(cx, need::ServerWrite);
    or_fail!(cx, st.control.revoke_signing_key(&a, &aid, &kid).await);
    see_other(&here(&tid, &format!("/servers/{}?done=revoked#keys", seg(&aid))))
}

// ---- login methods and static users ----

#[derive(Template)]
#[template(path = "console/people.html")]
struct PeoplePage {
    chrome: Chrome,
    aid: String,
    /// The server's login methods, filtered and paged (`mq`, `mpage`).
    methods: Paged<wire::AuthenticationMethod>,
    /// The people of the server's static methods, filtered and paged.
    people: Paged<wire::StaticUser>,
    can_write: bool,
    /// The errors of the form that was refused: `person` or `provider`.
    form: &'static str,
    errors: Errors,
    typed: Fields,
    notice: String,
}

impl PeoplePage {
    /// The provider kind the form shows chosen: what was typed, else `oidc`.
    pub fn kind(&self) -> &str {
        match self.typed.get("kind") {
            "" => "oidc",
            k => k,
        }
    }

    /// A static user's groups, for the list.
    pub fn groups_of(&self, u: &wire::StaticUser) -> String {
        groups(u)
    }
}

fn groups(u: &wire::StaticUser) -> String {
    u.authentication_context
        .get("groups")
        .and_then(|g| g.as_array())
        .map(|g| g.iter().filter_map(|v| v.as_str()).collect::<Vec<_>>().join(", "))
        .unwrap_or_default()
}

pub(super) async fn people(
    State(st): State<AppState>,
    Path((tid, aid)): Path<(String, String)>,
    RawQuery(q): RawQuery,
    jar: CookieJar,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, &format!("/servers/{}/people", seg(&aid))));
    let notice = match Fields::from_query(q.as_deref()).get("done") {
        "added" => "The person was added.",
        "removed" => "The person was removed.",
        "provider-added" => "The sign-in provider was added.",
        "method-removed" => "The login method was removed.",
        _ => "",
    };
    people_page(
        &st,
        &cx,
        &aid,
        Errors::default(),
        &Fields::from_query(q.as_deref()),
        notice,
        StatusCode::OK,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn people_page(
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
    let form = if typed.get("form") == "provider" {
        "provider"
    } else {
        "person"
    };
    let users: Vec<wire::StaticUser> = server
        .authentications
        .methods
        .iter()
        .filter_map(|m| m.static_.as_ref())
        .flat_map(|s| s.users.iter().cloned())
        .collect();
    let people = Paged::of(users, typed, |u: &wire::StaticUser| {
        format!("{} {}", u.username, groups(u))
    })
    .keeping(typed, &["mq", "mpage"]);
    show(
        status,
        &PeoplePage {
            chrome: cx.chrome("servers"),
            aid: aid.into(),
            methods: Paged::named(
                server.authentications.methods,
                typed,
                "m",
                "Pages of login methods",
                |m| format!("{} {} {}", m.id, m.name, m.method),
            )
            .keeping(typed, &["q", "page"]),
            people,
            can_write: cx.can(Resource::Server, Access::Write),
            form,
            errors,
            typed: typed.without("password").without("client_secret"),
            notice: notice.into(),
        },
    )
}

/// The kinds of provider the console adds, with their form names.
const PROVIDER_KINDS: [&str; 4] = ["oidc", "azure", "cognito", "custom"];

/// Mappings typed one per line, `source target [type]`.
fn typed_mappings(text: &str) -> Result<Vec<wire::AuthenticationMapping>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().map(str::trim).filter(|l| !l.is_empty()).enumerate() {
        let parts: Vec<&str> = line.split_whitespace().collect();
        match parts.as_slice() {
            [source, target] | [source, target, _] => out.push(wire::AuthenticationMapping {
                source: (*source).to_owned(),
                target: (*target).to_owned(),
                type_: parts.get(2).map(|t| (*t).to_owned()).unwrap_or_default(),
            }),
            _ => {
                return Err(format!(
                    "line {}: write a source, a target and optionally a type, separated by spaces",
                    n + 1
                ));
            }
        }
    }
    Ok(out)
}

/// Attributes typed one per line: a name, then a description.
fn typed_attributes(text: &str) -> Vec<wire::AuthenticationContextAttribute> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (name, description) = l.split_once(char::is_whitespace).unwrap_or((l, ""));
            wire::AuthenticationContextAttribute {
                name: name.to_owned(),
                description: description.trim().to_owned(),
            }
        })
        .collect()
}

/// The form field an API error about a provider names (`methods[2].azure.tenant` → `tenant`).
fn provider_field(path: &str) -> String {
    let segments: Vec<&str> = path.split('.').collect();
    if segments.iter().any(|s| s.starts_with("mappings")) {
        return "mappings".into();
    }
    if segments.iter().any(|s| s.starts_with("attributes")) {
        return "attributes".into();
    }
    let last = segments.last().copied().unwrap_or_default();
    match last.split('[').next().unwrap_or_default() {
        f @ ("issuer_url" | "client_id" | "client_secret" | "scopes" | "region" | "pool_id" | "login_url") => {
            f.to_owned()
        }
        "tenant" => "azure_tenant".into(),
        "name" => "provider_name".into(),
        _ => String::new(),
    }
}

/// Adds a provider people sign in through: an OpenID Connect provider (`oidc`), Microsoft Entra
/// ID (`azure`), Amazon Cognito (`cognito`) or an external login page (`custom`), with the
/// method's mappings and attributes.
pub(super) async fn add_provider(
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
    let refuse = |field: &str, reason: String| Errors(vec![(field.to_owned(), reason)]);
    let id = f.get("provider_id").trim().to_owned();
    let kind = match f.get("kind") {
        "" => "oidc",
        k => k,
    };
    let problem = if id.is_empty() {
        Some(refuse("provider_id", "is required".into()))
    } else if methods.iter().any(|m| m.id == id) {
        Some(refuse(
            "provider_id",
            format!("the server already has a login method {id}"),
        ))
    } else if !PROVIDER_KINDS.contains(&kind) {
        Some(refuse("kind", format!("one of {}", PROVIDER_KINDS.join(", "))))
    } else {
        None
    };
    if let Some(errors) = problem {
        return people_page(&st, &cx, &aid, errors, &f, "", StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let mappings = match typed_mappings(f.get("mappings")) {
        Ok(m) => m,
        Err(reason) => {
            let errors = refuse("mappings", reason);
            return people_page(&st, &cx, &aid, errors, &f, "", StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    let scopes: Vec<String> = f.get("scopes").split_whitespace().map(str::to_owned).collect();
    let (client_id, client_secret) = (f.get("client_id").trim().to_owned(), f.optional("client_secret"));
    let mut m = wire::AuthenticationMethod {
        id,
        method: kind.into(),
        name: f.get("provider_name").trim().to_owned(),
        mappings,
        attributes: typed_attributes(f.get("attributes")),
        ..Default::default()
    };
    match kind {
        "azure" => {
            m.azure = Some(wire::AzureSettings {
                tenant: f.get("azure_tenant").trim().to_owned(),
                client_id,
                client_secret,
                scopes,
                get_user: f.get("get_user_info") == "on",
                fetch_groups: f.get("fetch_groups") == "on",
                only_security_groups: f.get("only_security_groups") == "on",
                ..Default::default()
            })
        }
        "cognito" => {
            m.cognito = Some(wire::CognitoSettings {
                region: f.get("region").trim().to_owned(),
                pool_id: f.get("pool_id").trim().to_owned(),
                client_id,
                client_secret,
                scopes,
                get_user_info: f.get("get_user_info") == "on",
                ..Default::default()
            })
        }
        "custom" => {
            m.custom = Some(wire::CustomSettings {
                login_url: f.get("login_url").trim().to_owned(),
                client_id,
                client_secret,
            })
        }
        _ => {
            m.oidc = Some(wire::OidcSettings {
                issuer_url: f.get("issuer_url").trim().to_owned(),
                client_id,
                client_secret,
                scopes,
                get_user_info: f.get("get_user_info") == "on",
                ..Default::default()
            })
        }
    }
    methods.push(m);
    match st
        .control
        .update_authentications(&a, &aid, wire::Authentications { methods })
        .await
    {
        Ok(_) => see_other(&here(
            &tid,
            &format!("/servers/{}/people?done=provider-added", seg(&aid)),
        )),
        Err(ControlError::Invalid { field, reason }) => {
            let errors = Errors(vec![(provider_field(&field), reason)]);
            people_page(&st, &cx, &aid, errors, &f, "", StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => cx.fail(e),
    }
}

/// Removes a login method (people who signed in through it can no longer).
pub(super) async fn remove_method(
    State(st): State<AppState>,
    Path((tid, aid, mid)): Path<(String, String, String)>,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, &format!("/servers/{}/people", seg(&aid))));
    let _ = posted!(cx, headers, body);
    let a = allowed!(cx, need::ServerWrite);
    let mut methods = match methods_of(&st, &cx, &aid).await {
        Ok(m) => m,
        Err(r) => return r,
    };
    let before = methods.len();
    methods.retain(|m| m.id != mid);
    if methods.len() == before {
        return cx.fail(ControlError::NotFound {
            what: "login method",
            id: mid,
        });
    }
    or_fail!(
        cx,
        st.control
            .update_authentications(&a, &aid, wire::Authentications { methods })
            .await
    );
    see_other(&here(
        &tid,
        &format!("/servers/{}/people?done=method-removed", seg(&aid)),
    ))
}

/// The server's login methods as stored (write-only members left out, which keeps them).
pub(super) async fn methods_of(
    st: &AppState,
    cx: &Console,
    aid: &str,
) -> Result<Vec<wire::AuthenticationMethod>, Response> {
    let a = cx.allow::<need::ServerRead>()?;
    match st.control.get_server(&a, aid).await {
        Ok(s) => Ok(s.authentications.methods),
        Err(e) => Err(cx.fail(e)),
    }
}

pub(super) async fn add_person(
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

pub(super) async fn remove_person(
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

pub(super) async fn claims(
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
pub(super) async fn claims_page(
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

pub(super) async fn create_claim(
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
        Ok(c) => created(
            see_other(&here(&tid, &format!("/servers/{}/claims?done=created", seg(&aid)))),
            Some(&c.id),
        ),
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

pub(super) async fn delete_claim(
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

pub(super) async fn scopes(
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
pub(super) async fn scopes_page(
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

pub(super) async fn create_scope(
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
        Ok(s) => created(
            see_other(&here(&tid, &format!("/servers/{}/scopes?done=created", seg(&aid)))),
            Some(&s.id),
        ),
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

pub(super) async fn delete_scope(
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
