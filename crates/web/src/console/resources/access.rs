//! Who may do what: roles and the groups mapped to them, admin client mappings (Nexus STS
//! clients), and tenants for system administrators.

use super::*;

// ---- roles ----

#[derive(Template)]
#[template(path = "console/roles.html")]
struct RolesPage {
    chrome: Chrome,
    roles: Paged<RoleView>,
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

pub(super) async fn roles(
    State(st): State<AppState>,
    Path(tid): Path<String>,
    RawQuery(q): RawQuery,
    jar: CookieJar,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, "/roles"));
    let notice = if Fields::from_query(q.as_deref()).get("saved") == "1" {
        "The role was saved."
    } else {
        ""
    };
    let query = Fields::from_query(q.as_deref());
    let failed = Failed {
        errors: Errors::default(),
        role: "",
        typed: None,
    };
    roles_page(&st, &cx, &query, failed, notice, StatusCode::OK).await
}

/// Back to the roles page after a post: saved; or the refused form with the API's errors at its
/// fields (`role`: the role whose form it was, `new` for the create form); or the refusal in words.
async fn after_role_post<T>(
    st: &AppState,
    cx: &Console,
    outcome: Result<T, ControlError>,
    role: &str,
    typed: Option<&str>,
) -> Response {
    match outcome {
        Ok(_) => see_other(&here(&cx.tid, "/roles?saved=1")),
        Err(e) => match field_error(e) {
            Ok(errors) => {
                let failed = Failed { errors, role, typed };
                let status = StatusCode::UNPROCESSABLE_ENTITY;
                roles_page(st, cx, &Fields::from_query(None), failed, "", status).await
            }
            Err(e) => cx.fail(e),
        },
    }
}

/// The role form a post was refused on: its errors, the role (`new` for the create form) and the
/// permissions typed.
pub(super) struct Failed<'a> {
    errors: Errors,
    role: &'a str,
    typed: Option<&'a str>,
}

pub(super) async fn roles_page(
    st: &AppState,
    cx: &Console,
    query: &Fields,
    failed: Failed<'_>,
    notice: &str,
    status: StatusCode,
) -> Response {
    let Failed {
        errors,
        role: failed,
        typed,
    } = failed;
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
            roles: Paged::of(roles, query, |r: &RoleView| {
                format!("{} {} {} {}", r.id, r.name, r.permissions, r.groups.join(" "))
            }),
            can_write: cx.can(Resource::Role, Access::Write),
            errors,
            failed: failed.into(),
            notice: notice.into(),
        },
    )
}

pub(super) async fn create_role(
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
    let outcome = st.control.create_role(&a, req).await;
    let id = outcome.as_ref().ok().and_then(|r| r.id.clone());
    created(after_role_post(&st, &cx, outcome, "new", None).await, id.as_deref())
}

pub(super) async fn map_group(
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
    let outcome = st.control.add_connection_map(&a, &id, req).await;
    after_role_post(&st, &cx, outcome, &id, None).await
}

pub(super) async fn unmap_group(
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

pub(super) async fn update_role(
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
    let outcome = st.control.update_role(&a, &id, req).await;
    after_role_post(&st, &cx, outcome, &id, Some(f.get("permissions"))).await
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

pub(super) async fn sts_clients(
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

pub(super) async fn sts_page(
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

pub(super) async fn create_sts_client(
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
        Ok(c) => created(
            see_other(&here(&tid, "/sts-clients?done=created")),
            c.client_id.as_deref(),
        ),
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

pub(super) async fn delete_sts_client(
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

pub(super) async fn confirm_delete_tenant(
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
            button: "Delete".into(),
        },
    )
}

pub(super) async fn delete_tenant(
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

pub(super) async fn tenants(
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

pub(super) async fn tenants_page(
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

pub(super) async fn create_tenant(
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
        Ok(done) => {
            let id = done.tenant.id.clone();
            let page = tenants_page(
                &st,
                &cx,
                &Fields::from_query(None),
                Errors::default(),
                &Fields::from_query(None),
                Some(done),
                StatusCode::CREATED,
            )
            .await;
            created(page, Some(&id))
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
