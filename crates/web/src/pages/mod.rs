//! What a person sees: the authorization endpoint and the login, consent and logout pages
//! (server-rendered with askama, no external assets), one file per flow. Every page is `no-store`,
//! framed by nobody (`X-Frame-Options: DENY`, `frame-ancestors 'none'`) and under a strict
//! Content-Security-Policy. Errors are explained in words; nothing internal is shown.

// Helpers return a finished page as their error so handlers can return it as is.
#![allow(clippy::result_large_err)]

use std::sync::Arc;

use crate::client_addr::ClientAddr;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use castellan_oauth::{
    AnswerError, AuthorizeError, AuthorizeRequest, ErrorCode, Form, LoginError, OAuthError, Redirect, ResponseMode,
    ServerRuntime, Session, SignInError, SignedIn, Step,
};

use crate::AppState;

mod consent;
mod device;
mod login;
mod logout;

const SESSION_COOKIE: &str = "castellan_session";
const CSRF_COOKIE: &str = "castellan_csrf";
/// Largest form a page accepts.
const MAX_PAGE_FORM: usize = 16 * 1024;

pub(crate) fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/{tid}/{aid}/oauth2/authorize", get(authorize).post(authorize))
        .route("/{tid}/{aid}/login", get(login::login_page).post(login::login_submit))
        .route("/{tid}/{aid}/login/callback", get(login::upstream_callback))
        .route("/{tid}/{aid}/login/custom/{login_id}", get(login::custom_return))
        .route(
            "/{tid}/{aid}/login/custom/{login_id}/{verb}",
            axum::routing::post(login::custom_answer),
        )
        .route(
            "/{tid}/{aid}/consent",
            get(consent::consent_page).post(consent::consent_submit),
        )
        .route("/{tid}/{aid}/logout", get(logout::logout).post(logout::logout))
        .route(
            "/{tid}/{aid}/device",
            get(device::device_page).post(device::device_submit),
        )
        .route("/assets/castellan.css", get(stylesheet))
        .route("/", get(home))
        .route("/favicon.svg", get(favicon))
        .route("/favicon.ico", get(favicon))
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    brand: Brand,
    public_url: String,
}

/// `GET /`: what this server is and where to go next.
async fn home(State(st): State<AppState>) -> Response {
    let html = render(&HomePage {
        brand: Brand::of(None),
        public_url: st.control.public_url().to_owned(),
    });
    page(StatusCode::OK, html, None, &[], None)
}

async fn favicon() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        include_str!("../../assets/favicon.svg"),
    )
        .into_response()
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../assets/castellan.css"),
    )
        .into_response()
}

/// The server's name and logo on every page.
struct Brand {
    server_name: String,
    logo_uri: Option<String>,
}

impl Brand {
    fn of(rt: Option<&ServerRuntime>) -> Self {
        match rt {
            Some(rt) => Self {
                server_name: rt.server.name.clone(),
                logo_uri: rt.server.settings.logo_uri.clone(),
            },
            None => Self {
                server_name: "Castellan".into(),
                logo_uri: None,
            },
        }
    }
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    brand: Brand,
    title: String,
    message: String,
    hint: Option<String>,
    is_error: bool,
}

struct MethodChoice {
    id: String,
    name: String,
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    brand: Brand,
    action: String,
    client_name: String,
    interaction: String,
    csrf: String,
    error: Option<String>,
    methods: Vec<MethodChoice>,
    chosen: Option<String>,
    static_form: bool,
    username: String,
}

struct ScopeView {
    title: String,
    description: String,
}

#[derive(Template)]
#[template(path = "consent.html")]
struct ConsentPage {
    brand: Brand,
    action: String,
    client_name: String,
    subject: String,
    scopes: Vec<ScopeView>,
    interaction: String,
    csrf: String,
    /// The user code of the device asking (device flow), to compare with the device's screen.
    device_code: Option<String>,
}

#[derive(Template)]
#[template(path = "logout.html")]
struct LogoutPage {
    brand: Brand,
    action: String,
    client_name: Option<String>,
    csrf: String,
    params: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "form_post.html")]
struct FormPostPage {
    action: String,
    params: Vec<(String, String)>,
    nonce: String,
}

/// The CSP source of a redirect target: its origin, or its scheme for a native app's URI.
fn csp_source(uri: &str) -> Option<String> {
    let (scheme, rest) = uri.split_once(':')?;
    if !scheme
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
    {
        return None;
    }
    match scheme {
        "http" | "https" => {
            let authority = rest.strip_prefix("//")?.split(['/', '?', '#']).next()?;
            if authority.is_empty() || authority.contains(['\'', ';', ' ', ',']) {
                return None;
            }
            Some(format!("{scheme}://{authority}"))
        }
        _ => Some(format!("{scheme}:")),
    }
}

/// Renders a page with the security headers every page carries. `form_targets` are the places
/// a form on the page may lead to (browsers apply `form-action` to the redirects after a POST).
pub(crate) fn page(
    status: StatusCode,
    html: String,
    brand_logo: Option<&str>,
    form_targets: &[&str],
    script_nonce: Option<&str>,
) -> Response {
    let mut img = String::from("'self' data:");
    if let Some(src) = brand_logo.and_then(csp_source) {
        img.push(' ');
        img.push_str(&src);
    }
    let mut form_action = String::from("'self'");
    for t in form_targets.iter().filter_map(|t| csp_source(t)) {
        form_action.push(' ');
        form_action.push_str(&t);
    }
    let script = match script_nonce {
        Some(n) => format!("script-src 'nonce-{n}'; "),
        None => String::new(),
    };
    let csp = format!(
        "default-src 'none'; {script}style-src 'self'; img-src {img}; form-action {form_action}; \
         frame-ancestors 'none'; base-uri 'none'"
    );
    let mut resp = (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response();
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

pub(crate) fn render<T: Template>(t: &T) -> String {
    t.render().unwrap_or_else(|e| {
        tracing::error!(error = %e, "page template failed");
        "<!doctype html><title>Error</title><p>Something went wrong. Please try again.</p>".into()
    })
}

fn message(rt: Option<&ServerRuntime>, status: StatusCode, title: &str, message: &str, hint: Option<&str>) -> Response {
    let brand = Brand::of(rt);
    let logo = brand.logo_uri.clone();
    let html = render(&MessagePage {
        brand,
        title: title.into(),
        message: message.into(),
        hint: hint.map(str::to_owned),
        is_error: status.is_client_error() || status.is_server_error(),
    });
    page(status, html, logo.as_deref(), &[], None)
}

fn error_page(rt: Option<&ServerRuntime>, status: StatusCode, msg: &str) -> Response {
    message(
        rt,
        status,
        "Something is not right",
        msg,
        Some("Go back to the application you came from and try again."),
    )
}

fn unavailable(rt: Option<&ServerRuntime>, e: &OAuthError) -> Response {
    let status = if e.code == ErrorCode::TemporarilyUnavailable {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    };
    message(
        rt,
        status,
        "We could not complete this",
        "The sign-in service is having trouble right now.",
        Some("Please wait a moment and try again."),
    )
}

async fn runtime(st: &AppState, tid: &str, aid: &str) -> Result<Arc<ServerRuntime>, Response> {
    match st.control.engine().server(tid, aid).await {
        Ok(Some(rt)) => Ok(rt),
        Ok(None) => Err(error_page(
            None,
            StatusCode::NOT_FOUND,
            "This sign-in address does not exist.",
        )),
        Err(e) => Err(unavailable(None, &e)),
    }
}

fn path_of(rt: &ServerRuntime, p: &str) -> String {
    format!("/{}/{}{p}", rt.tenant_id(), rt.id())
}

fn cookie_path(rt: &ServerRuntime) -> String {
    format!("/{}/{}", rt.tenant_id(), rt.id())
}

fn secure(rt: &ServerRuntime) -> bool {
    rt.issuer.starts_with("https://")
}

fn session_cookie(rt: &ServerRuntime, value: String, max_age: i64) -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, value))
        .path(cookie_path(rt))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure(rt))
        .max_age(time::Duration::seconds(max_age))
        .build()
}

/// The browser's CSRF cookie (created when missing) and the token its forms carry.
fn csrf(st: &AppState, rt: &ServerRuntime, jar: CookieJar) -> (CookieJar, String) {
    if let Some(c) = jar
        .get(CSRF_COOKIE)
        .filter(|c| !c.value().is_empty() && c.value().len() <= 128)
    {
        let token = st.control.engine().csrf_token(rt, c.value());
        return (jar, token);
    }
    let value = castellan_jose::random_token();
    let token = st.control.engine().csrf_token(rt, &value);
    let cookie = Cookie::build((CSRF_COOKIE, value))
        .path(cookie_path(rt))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure(rt))
        .build();
    (jar.add(cookie), token)
}

fn csrf_ok(st: &AppState, rt: &ServerRuntime, jar: &CookieJar, form: &Form) -> bool {
    st.control.engine().check_csrf(
        rt,
        jar.get(CSRF_COOKIE).map(|c| c.value()),
        form.get("csrf_token").ok().flatten(),
    )
}

/// Query string or form body as protocol parameters.
fn params(method: &Method, query: Option<&str>, headers: &HeaderMap, body: &Bytes) -> Result<Form, String> {
    let raw: &[u8] = if method == Method::POST {
        let ct = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !ct
            .trim_start()
            .to_ascii_lowercase()
            .starts_with("application/x-www-form-urlencoded")
        {
            return Err("The request was not sent as a form.".into());
        }
        body
    } else {
        query.unwrap_or("").as_bytes()
    };
    if raw.len() > MAX_PAGE_FORM {
        return Err("The request is too large.".into());
    }
    Form::new(form_urlencoded::parse(raw).into_owned().collect()).map_err(|e| e.description)
}

/// The server and the parameters of a page request, or the page explaining what is wrong.
async fn open_page(
    st: &AppState,
    (tid, aid): &(String, String),
    method: &Method,
    query: Option<&str>,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(Arc<ServerRuntime>, Form), Response> {
    let rt = runtime(st, tid, aid).await?;
    match params(method, query, headers, body) {
        Ok(f) => Ok((rt, f)),
        Err(m) => Err(error_page(Some(&rt), StatusCode::BAD_REQUEST, &m)),
    }
}

async fn current_session(st: &AppState, rt: &ServerRuntime, jar: &CookieJar) -> Result<Option<Session>, OAuthError> {
    match jar.get(SESSION_COOKIE) {
        Some(c) => st.control.engine().session(rt, c.value()).await,
        None => Ok(None),
    }
}

/// Sends the person to the next step of an authorization.
fn step_response(rt: &ServerRuntime, step: Step) -> Response {
    match step {
        Step::Login(i) => see_other(&format!("{}?interaction={i}", path_of(rt, "/login"))),
        Step::Consent(i) => see_other(&format!("{}?interaction={i}", path_of(rt, "/consent"))),
        Step::Respond(r) => to_client(r),
    }
}

pub(crate) fn see_other(location: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// The authorization response (or error) in the request's response mode.
fn to_client(r: Redirect) -> Response {
    match r.mode {
        ResponseMode::FormPost => {
            let nonce = castellan_jose::random_id();
            let html = render(&FormPostPage {
                action: r.uri.clone(),
                params: r.params,
                nonce: nonce.clone(),
            });
            page(StatusCode::OK, html, None, &[&r.uri], Some(&nonce))
        }
        _ => see_other(&r.location()),
    }
}

/// `GET|POST /oauth2/authorize`.
async fn authorize(
    State(st): State<AppState>,
    Path(ids): Path<(String, String)>,
    method: Method,
    RawQuery(query): RawQuery,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (rt, form) = match open_page(&st, &ids, &method, query.as_deref(), &headers, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let engine = st.control.engine();
    // RFC 9126 §4: a pushed request's parameters replace the front channel's.
    let (form, pushed) = match engine.authorization_parameters(&rt, &form).await {
        Ok(x) => x,
        Err(AuthorizeError::Page(m)) => return error_page(Some(&rt), StatusCode::BAD_REQUEST, &m),
        Err(AuthorizeError::Redirect(r)) => return to_client(r),
    };
    let req = match engine.authorize_request_with(&rt, &form, pushed).await {
        Ok(r) => r,
        Err(AuthorizeError::Page(m)) => return error_page(Some(&rt), StatusCode::BAD_REQUEST, &m),
        Err(AuthorizeError::Redirect(r)) => return to_client(r),
    };
    begin(&st, &rt, &jar, &req).await
}

/// The first step of a validated authorization (from the authorization endpoint or the device
/// page): with the browser's session, if it has one.
async fn begin(st: &AppState, rt: &ServerRuntime, jar: &CookieJar, req: &AuthorizeRequest) -> Response {
    let result = async {
        let session = current_session(st, rt, jar).await?;
        st.control
            .engine()
            .authorize_step(rt, req, session.as_ref(), false, false)
            .await
    }
    .await;
    match result {
        Ok(step) => step_response(rt, step),
        Err(e) => unavailable(Some(rt), &e),
    }
}

/// "Try again in N minutes", for `wait` seconds.
fn try_again_in(wait: i64) -> String {
    let minutes = (wait + 59) / 60;
    let plural = if minutes == 1 { "" } else { "s" };
    format!("try again in {minutes} minute{plural}")
}

/// What every interaction page (login, consent) opens first: the server, the page's parameters and
/// the pending authorization they carry.
struct InteractionPage {
    rt: Arc<ServerRuntime>,
    form: Form,
    token: String,
    req: AuthorizeRequest,
}

async fn open_interaction(
    st: &AppState,
    ids: &(String, String),
    method: &Method,
    query: Option<&str>,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<InteractionPage, Response> {
    let (rt, form) = open_page(st, ids, method, query, headers, body).await?;
    let (token, req) = interaction(st, &rt, &form)?;
    Ok(InteractionPage { rt, form, token, req })
}

/// An interaction from the page's query or form, or the page explaining it expired.
fn interaction(st: &AppState, rt: &ServerRuntime, form: &Form) -> Result<(String, AuthorizeRequest), Response> {
    let token = form.get("interaction").ok().flatten().unwrap_or("");
    match st.control.engine().open_interaction(rt, token) {
        Some(req) => Ok((token.to_owned(), req)),
        None => Err(message(
            Some(rt),
            StatusCode::BAD_REQUEST,
            "This sign-in link has expired",
            "Sign-in requests are valid for 15 minutes and cannot be reused.",
            Some("Go back to the application you came from and start again."),
        )),
    }
}

async fn client_name(st: &AppState, rt: &ServerRuntime, req: &AuthorizeRequest) -> String {
    let client = st.control.engine().interaction_client(rt, req).await.ok().flatten();
    client
        .map(|c| {
            if c.name.is_empty() {
                c.id.to_string()
            } else {
                c.name.clone()
            }
        })
        .unwrap_or_else(|| req.client_id.clone())
}

/// The enabled login methods, in order.
fn methods(rt: &ServerRuntime) -> Vec<MethodChoice> {
    rt.server
        .authentications
        .iter()
        .filter(|m| !m.method.disabled)
        .map(|m| MethodChoice {
            id: m.method.id.clone(),
            name: if m.method.name.is_empty() {
                m.method.method.clone()
            } else {
                m.method.name.clone()
            },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csp_sources_are_origins_or_schemes() {
        assert_eq!(
            csp_source("https://app.example:8443/cb?x=1").as_deref(),
            Some("https://app.example:8443")
        );
        assert_eq!(csp_source("com.example.app:/cb").as_deref(), Some("com.example.app:"));
        assert_eq!(csp_source("https://a.example;script-src *"), None);
        assert_eq!(csp_source("no scheme"), None);
    }
}
