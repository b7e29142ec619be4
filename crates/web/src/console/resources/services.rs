//! Services, their APIs and specifications, and the gateways that protect them.

use super::*;

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

pub(super) async fn services(
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

pub(super) async fn services_page(
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

pub(super) async fn create_service(
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
        Ok(s) => created(
            see_other(&here(
                &tid,
                &format!("/services/{}?created=1", seg(s.id.as_deref().unwrap_or(""))),
            )),
            s.id.as_deref(),
        ),
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
    apis: Paged<wire::services::Api>,
    can_write: bool,
    errors: Errors,
    url: String,
    notice: String,
    imported: Option<wire::services::ImportServiceConfigurationResult>,
}

pub(super) async fn service(
    State(st): State<AppState>,
    Path((tid, sid)): Path<(String, String)>,
    RawQuery(q): RawQuery,
    jar: CookieJar,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, &format!("/services/{}", seg(&sid))));
    let query = Fields::from_query(q.as_deref());
    let notice = if query.get("created") == "1" {
        "The service was created. Import its specification to describe its APIs."
    } else {
        ""
    };
    let page = Page {
        errors: Errors::default(),
        url: "",
        notice,
        imported: None,
        status: StatusCode::OK,
    };
    service_page(&st, &cx, &sid, &query, page).await
}

/// What a service page says besides the service: a refused import's errors and URL, a notice,
/// an import's result.
pub(super) struct Page<'a> {
    errors: Errors,
    url: &'a str,
    notice: &'a str,
    imported: Option<wire::services::ImportServiceConfigurationResult>,
    status: StatusCode,
}

/// The service, its APIs (filtered and paged by `query`), and the import form.
pub(super) async fn service_page(st: &AppState, cx: &Console, sid: &str, query: &Fields, page: Page<'_>) -> Response {
    let Page {
        errors,
        url,
        notice,
        imported,
        status,
    } = page;
    let a = allowed!(cx, need::ServiceRead);
    let service = or_fail!(cx, st.control.get_service(&a, sid).await);
    let apis = or_fail!(cx, st.control.list_service_apis(&a, sid, &ApiFilter::default()).await);
    show(
        status,
        &ServicePage {
            chrome: cx.chrome("services"),
            service,
            apis: Paged::of(apis.apis, query, |a| {
                format!(
                    "{} {} {}",
                    a.method.as_deref().unwrap_or(""),
                    a.path.as_deref().unwrap_or(""),
                    a.policy_id.as_deref().unwrap_or("")
                )
            }),
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
pub(super) async fn import_specification(
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
            let page = Page {
                errors: Errors::default(),
                url: "",
                notice: "The specification was imported.",
                imported: Some(imported),
                status: StatusCode::OK,
            };
            service_page(&st, &cx, &sid, &Fields::from_query(None), page).await
        }
        Err(e) => match field_error(e) {
            Ok(errors) => {
                let page = Page {
                    errors,
                    url: &url,
                    notice: "",
                    imported: None,
                    status: StatusCode::UNPROCESSABLE_ENTITY,
                };
                service_page(&st, &cx, &sid, &Fields::from_query(None), page).await
            }
            Err(e) => cx.fail(e),
        },
    }
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

pub(super) async fn gateways(
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

pub(super) async fn gateways_page(
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

pub(super) async fn create_gateway(
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
        Ok(g) => created(
            see_other(&here(
                &tid,
                &format!("/gateways?server={}&created=1", seg(&g.gateway.authorization_server_id)),
            )),
            Some(&g.gateway.id),
        ),
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
pub(super) async fn gateway_package(
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
