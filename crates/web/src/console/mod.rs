//! The admin console at `/console/{tid}/`: server-rendered pages (askama, one stylesheet, no
//! script) over the same control-plane operations as the admin API. A person signs in through the
//! tenant's `admin` server as the public client `console` (authorization code with PKCE S256);
//! the callback redeems the code in process and keeps the access token sealed under the master
//! key in an HttpOnly, SameSite=Strict cookie scoped to `/console/{tid}`. Every page turns that
//! token into the person's [`AdminAccess`] exactly as a Bearer token at the admin API is turned,
//! so the permission model decides what is shown and what is allowed: controls the person may
//! not use are not rendered, and a crafted request is refused with the API's 403, in words.
//! Forms carry a CSRF token kept in the sealed session (double-submit through a cookie the page
//! cannot read).

// Helpers return a finished page as their error so handlers can return it as is.
#![allow(clippy::result_large_err)]

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use castellan_control::{AdminAccess, Allowed, ControlError, Need};
use castellan_domain::{Access, Permission, Resource};
use castellan_oauth::{Form, Presented};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::client_addr::ClientAddr;
use crate::pages::{page, render, see_other};

mod resources;

const SESSION_COOKIE: &str = "castellan_console";
const SIGN_IN_COOKIE: &str = "castellan_console_sign_in";
/// A sign-in must come back within this many seconds.
const SIGN_IN_SECONDS: i64 = 900;
/// The largest console form (a specification pasted into the import form is the largest).
const MAX_FORM: usize = 1024 * 1024;
/// Rows per page of every list.
pub(crate) const PAGE_SIZE: usize = 20;

pub(crate) fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/console/{tid}", get(to_home))
        .route("/console/{tid}/", get(resources::home))
        .route("/console/{tid}/sign-in", get(sign_in))
        .route("/console/{tid}/callback", get(callback))
        .route("/console/{tid}/sign-out", post(sign_out))
        .route("/console/{tid}/signed-out", get(signed_out))
        .merge(resources::router())
        .route("/assets/console.css", get(stylesheet))
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../assets/console.css"),
    )
        .into_response()
}

async fn to_home(Path(tid): Path<String>) -> Response {
    see_other(&format!("/console/{}/", seg(&tid)))
}

/// A path segment, percent-encoded.
pub(crate) fn seg(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// What the session cookie holds, sealed.
#[derive(Serialize, Deserialize)]
struct SessionData {
    token: String,
    csrf: String,
    exp: i64,
}

/// What the sign-in cookie holds, sealed: the PKCE verifier and state of a sign-in under way, and
/// the console page to return to.
#[derive(Serialize, Deserialize)]
struct SignInData {
    state: String,
    verifier: String,
    back: String,
    exp: i64,
}

fn seal<T: Serialize>(st: &AppState, tid: &str, what: &str, v: &T) -> Option<String> {
    let json = serde_json::to_vec(v).ok()?;
    let sealed = st
        .control
        .engine()
        .master()
        .seal(&castellan_domain::seal::console(tid, what), &json)
        .ok()?;
    Some(castellan_jose::b64url(&sealed))
}

fn unseal<T: for<'de> Deserialize<'de>>(st: &AppState, tid: &str, what: &str, v: &str) -> Option<T> {
    if v.len() > 8192 {
        return None;
    }
    let bytes = castellan_jose::b64url_decode(v)?;
    let plain = st
        .control
        .engine()
        .master()
        .open(&castellan_domain::seal::console(tid, what), &bytes)
        .ok()?;
    serde_json::from_slice(&plain).ok()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn secure(st: &AppState) -> bool {
    st.control.public_url().starts_with("https://")
}

fn cookie(st: &AppState, tid: &str, name: &'static str, value: String, max_age: i64, strict: bool) -> Cookie<'static> {
    Cookie::build((name, value))
        .path(format!("/console/{}", seg(tid)))
        .http_only(true)
        .same_site(if strict { SameSite::Strict } else { SameSite::Lax })
        .secure(secure(st))
        .max_age(time::Duration::seconds(max_age))
        .build()
}

fn removal(tid: &str, name: &'static str) -> Cookie<'static> {
    Cookie::build(name).path(format!("/console/{}", seg(tid))).build()
}

/// A signed-in person on one tenant's console.
pub(crate) struct Console {
    pub tid: String,
    pub access: AdminAccess,
    pub csrf: String,
}

impl Console {
    pub fn can(&self, resource: Resource, access: Access) -> bool {
        self.access.held().allows(Permission::new(resource, access))
    }

    /// The person's right to an operation that needs `N`, or the page saying they lack it.
    pub fn allow<N: Need>(&self) -> Result<Allowed<N>, Response> {
        self.access.clone().allow::<N>().map_err(|e| self.fail(e))
    }

    /// The frame every page shares: the tenant, the person, the sign-out form, the sections
    /// they may open.
    pub fn chrome(&self, section: &'static str) -> Chrome {
        let can = |r| self.can(r, Access::Read);
        Chrome {
            tid: self.tid.clone(),
            base: format!("/console/{}", seg(&self.tid)),
            caller: self.access.caller().to_owned(),
            csrf: self.csrf.clone(),
            section,
            servers: can(Resource::Server),
            clients: can(Resource::Client),
            policies: can(Resource::Policy),
            services: can(Resource::Service),
            ledger: can(Resource::Ledger),
            audit: can(Resource::Audit),
            gateways: can(Resource::Gateway),
            consents: can(Resource::Consent),
            sts: can(Resource::StsClient),
            tenants: can(Resource::System),
            roles: can(Resource::Role),
        }
    }

    /// A refused or failed operation, in words.
    pub fn fail(&self, e: ControlError) -> Response {
        let (status, title, text) = match &e {
            ControlError::Forbidden(m) => (
                StatusCode::FORBIDDEN,
                "You may not do this",
                format!("Your account is not allowed to do this: {m}. Ask an administrator of the tenant for it."),
            ),
            ControlError::NotFound { .. } => (StatusCode::NOT_FOUND, "Not found", capitalized(&e.to_string())),
            ControlError::Unauthorized(_) => (
                StatusCode::UNAUTHORIZED,
                "Please sign in again",
                "Your console session is no longer valid.".into(),
            ),
            ControlError::Invalid { .. } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "Not saved",
                capitalized(&e.to_string()),
            ),
            ControlError::Refused(m) | ControlError::InUse(m) => (StatusCode::CONFLICT, "Not done", capitalized(m)),
            ControlError::Conflict { .. } => (StatusCode::CONFLICT, "Already exists", capitalized(&e.to_string())),
            ControlError::Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Try again in a moment",
                "The store cannot be reached right now.".into(),
            ),
            ControlError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "The operation failed; the server's log says why.".into(),
            ),
        };
        self.message(status, title, &text)
    }

    pub fn message(&self, status: StatusCode, title: &str, text: &str) -> Response {
        show(
            status,
            &MessagePage {
                chrome: self.chrome(""),
                title: title.into(),
                text: text.into(),
            },
        )
    }

    /// The submitted form, after its CSRF token is checked.
    pub fn form(&self, headers: &HeaderMap, body: &Bytes) -> Result<Fields, Response> {
        let fields = Fields::parse(headers, body).map_err(|m| self.message(StatusCode::BAD_REQUEST, "Not sent", &m))?;
        if !castellan_jose::constant_time_eq(fields.get("csrf_token").as_bytes(), self.csrf.as_bytes()) {
            return Err(self.message(
                StatusCode::FORBIDDEN,
                "This form has expired",
                "The form was not sent from this console session. Reload the page and try again.",
            ));
        }
        Ok(fields)
    }
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The shared frame of every console page.
pub(crate) struct Chrome {
    pub tid: String,
    /// `/console/{tid}`, encoded.
    pub base: String,
    pub caller: String,
    pub csrf: String,
    pub section: &'static str,
    pub servers: bool,
    pub clients: bool,
    pub policies: bool,
    pub services: bool,
    pub ledger: bool,
    pub audit: bool,
    pub gateways: bool,
    pub roles: bool,
    pub consents: bool,
    pub sts: bool,
    pub tenants: bool,
}

#[derive(Template)]
#[template(path = "console/message.html")]
struct MessagePage {
    chrome: Chrome,
    title: String,
    text: String,
}

#[derive(Template)]
#[template(path = "console/signed_out.html")]
struct SignedOutPage {
    base: String,
    tid: String,
}

/// Renders a console page with the headers every page carries.
pub(crate) fn show<T: Template>(status: StatusCode, t: &T) -> Response {
    page(status, render(t), None, &[], None)
}

/// A form's fields (repeated names kept, for checkboxes).
pub(crate) struct Fields(Vec<(String, String)>);

impl Fields {
    fn parse(headers: &HeaderMap, body: &Bytes) -> Result<Self, String> {
        let ct = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        if !ct.trim_start().starts_with("application/x-www-form-urlencoded") {
            return Err("The request was not sent as a form.".into());
        }
        if body.len() > MAX_FORM {
            return Err("The form is too large.".into());
        }
        Ok(Self(form_urlencoded::parse(body).into_owned().collect()))
    }

    pub fn from_query(q: Option<&str>) -> Self {
        let q = q.unwrap_or("");
        if q.len() > 16 * 1024 {
            return Self(Vec::new());
        }
        Self(form_urlencoded::parse(q.as_bytes()).into_owned().collect())
    }

    /// The first value of `name`, trimmed ("" when absent).
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .unwrap_or("")
    }

    /// Every value of `name`.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// `name`'s value as one item per line (or per space for `words`).
    pub fn lines(&self, name: &str) -> Vec<String> {
        self.get(name)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()
    }

    pub fn words(&self, name: &str) -> Vec<String> {
        self.get(name).split_whitespace().map(str::to_owned).collect()
    }

    pub fn optional(&self, name: &str) -> Option<String> {
        Some(self.get(name)).filter(|v| !v.is_empty()).map(str::to_owned)
    }

    /// The fields but `name` (a secret, never written back into a page).
    pub fn without(&self, name: &str) -> Fields {
        Fields(self.0.iter().filter(|(k, _)| k != name).cloned().collect())
    }
}

/// The person's console session, or the answer that sends them to sign in (back to `back`).
pub(crate) async fn open(st: &AppState, tid: &str, jar: &CookieJar, back: &str) -> Result<Console, Response> {
    let to_sign_in = || {
        see_other(&format!(
            "/console/{}/sign-in?back={}",
            seg(tid),
            form_urlencoded::byte_serialize(back.as_bytes()).collect::<String>()
        ))
    };
    let Some(data) = jar
        .get(SESSION_COOKIE)
        .and_then(|c| unseal::<SessionData>(st, tid, "session", c.value()))
        .filter(|d| d.exp > now())
    else {
        return Err(to_sign_in());
    };
    match st.control.authenticate_admin_bearer(tid, &data.token).await {
        Ok(access) => Ok(Console {
            tid: {
                crate::audit::note_actor(&st.control, access.tenant(), access.actor()).await;
                tid.to_owned()
            },
            access,
            csrf: data.csrf,
        }),
        Err(ControlError::Unauthorized(_)) => Err(to_sign_in()),
        Err(e) => Err(bare_message(
            StatusCode::SERVICE_UNAVAILABLE,
            "Try again in a moment",
            &format!("The console cannot open this session: {e}."),
        )),
    }
}

#[derive(Template)]
#[template(path = "console/bare.html")]
struct BarePage {
    title: String,
    text: String,
}

/// A message outside a session (no navigation).
fn bare_message(status: StatusCode, title: &str, text: &str) -> Response {
    show(
        status,
        &BarePage {
            title: title.into(),
            text: text.into(),
        },
    )
}

/// `GET /console/{tid}/sign-in?back=…`: starts the authorization code flow at the tenant's admin
/// server (RFC 6749 §4.1 with PKCE S256, RFC 7636), the console client made on first use.
async fn sign_in(
    State(st): State<AppState>,
    Path(tid): Path<String>,
    RawQuery(q): RawQuery,
    jar: CookieJar,
) -> Response {
    let tenant = match castellan_domain::TenantId::parse(tid.as_str()) {
        Ok(t) => t,
        Err(_) => {
            return bare_message(
                StatusCode::NOT_FOUND,
                "No such tenant",
                "This console address names no tenant.",
            );
        }
    };
    let client = match st.control.ensure_console_client(&tenant).await {
        Ok(c) => c,
        Err(ControlError::NotFound { .. }) => {
            return bare_message(
                StatusCode::NOT_FOUND,
                "No such tenant",
                "This console address names no tenant.",
            );
        }
        Err(e) => {
            return bare_message(
                StatusCode::CONFLICT,
                "The console cannot start",
                &capitalized(&e.to_string()),
            );
        }
    };
    let fields = Fields::from_query(q.as_deref());
    let back = safe_back(&tid, fields.get("back"));
    let data = SignInData {
        state: castellan_jose::random_token(),
        verifier: castellan_jose::random_token(),
        back,
        exp: now() + SIGN_IN_SECONDS,
    };
    let challenge = castellan_jose::b64url(&castellan_jose::sha256(data.verifier.as_bytes()));
    let redirect = st.control.console_redirect_uri(&tenant);
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", client.as_str())
        .append_pair("redirect_uri", &redirect)
        .append_pair("state", &data.state)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .finish();
    let Some(sealed) = seal(&st, &tid, "sign-in", &data) else {
        return bare_message(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong",
            "The sign-in could not start.",
        );
    };
    let jar = jar.add(cookie(&st, &tid, SIGN_IN_COOKIE, sealed, SIGN_IN_SECONDS, false));
    (
        jar,
        see_other(&format!("/{}/admin/oauth2/authorize?{query}", seg(&tid))),
    )
        .into_response()
}

/// Only a console page of the same tenant is a place to return to.
fn safe_back(tid: &str, back: &str) -> String {
    let home = format!("/console/{}/", seg(tid));
    if back.starts_with(&home) && !back.contains("//") && !back.contains('\\') && back.len() < 512 {
        back.to_owned()
    } else {
        home
    }
}

/// `GET /console/{tid}/callback`: the admin server's answer; the code is redeemed here, in
/// process, and the access token kept in the sealed session cookie.
async fn callback(
    State(st): State<AppState>,
    Path(tid): Path<String>,
    RawQuery(q): RawQuery,
    ClientAddr(addr): ClientAddr,
    jar: CookieJar,
) -> Response {
    let fields = Fields::from_query(q.as_deref());
    let pending = jar
        .get(SIGN_IN_COOKIE)
        .and_then(|c| unseal::<SignInData>(&st, &tid, "sign-in", c.value()))
        .filter(|p| p.exp > now());
    let jar = jar.remove(removal(&tid, SIGN_IN_COOKIE));
    let invalid = |jar: CookieJar, text: &str| {
        (
            jar,
            bare_message(StatusCode::BAD_REQUEST, "This sign-in did not complete", text),
        )
            .into_response()
    };
    let Some(pending) =
        pending.filter(|p| castellan_jose::constant_time_eq(p.state.as_bytes(), fields.get("state").as_bytes()))
    else {
        return invalid(
            jar,
            "It expired, was already used, or was started in another browser. Start again from the console.",
        );
    };
    if !fields.get("error").is_empty() {
        let why = fields
            .optional("error_description")
            .unwrap_or_else(|| fields.get("error").to_owned());
        return invalid(jar, &format!("The admin server refused the sign-in: {why}."));
    }
    let tenant = match castellan_domain::TenantId::parse(tid.as_str()) {
        Ok(t) => t,
        Err(_) => return invalid(jar, "This console address names no tenant."),
    };
    let redirect = st.control.console_redirect_uri(&tenant);
    let engine = st.control.engine();
    let rt = match engine.server(&tid, castellan_domain::ADMIN_SERVER).await {
        Ok(Some(rt)) => rt,
        _ => return invalid(jar, "This console address names no tenant."),
    };
    let form = Form::new(vec![
        ("grant_type".into(), "authorization_code".into()),
        ("code".into(), fields.get("code").to_owned()),
        ("redirect_uri".into(), redirect),
        ("client_id".into(), castellan_control::CONSOLE_CLIENT.into()),
        ("code_verifier".into(), pending.verifier.clone()),
    ]);
    let Ok(form) = form else {
        return invalid(jar, "The admin server's answer could not be read.");
    };
    // Redeeming writes (the code is used, the grant recorded): it runs to completion.
    let issued = crate::detach::detached({
        let engine = engine.clone();
        async move {
            let presented = Presented {
                basic: None,
                form: &form,
                addr,
                certificate: None,
            };
            engine.token_with_dpop(&rt, &presented, None).await
        }
    })
    .await;
    let token = match issued {
        Ok(Ok((_, t))) => t,
        Ok(Err(e)) => {
            return invalid(
                jar,
                &format!(
                    "The admin server did not issue a token: {}. Start again from the console.",
                    e.description
                ),
            );
        }
        Err(()) => return invalid(jar, "The sign-in did not finish. Start again from the console."),
    };
    let max_age = token.expires_in.min(86_400) as i64;
    let data = SessionData {
        token: token.access_token,
        csrf: castellan_jose::random_token(),
        exp: now() + max_age,
    };
    let Some(sealed) = seal(&st, &tid, "session", &data) else {
        return invalid(jar, "The session could not be kept.");
    };
    let jar = jar.add(cookie(&st, &tid, SESSION_COOKIE, sealed, max_age, true));
    (jar, see_other(&pending.back)).into_response()
}

/// `POST /console/{tid}/sign-out`: the console's session ends here, and the admin server's
/// (RP-initiated logout, where the person confirms) sends the person to the signed-out page.
async fn sign_out(
    State(st): State<AppState>,
    Path(tid): Path<String>,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // Without a valid session or CSRF token there is nothing to end.
    let cx = match open(&st, &tid, &jar, &format!("/console/{}/", seg(&tid))).await {
        Ok(cx) => cx,
        Err(r) => return r,
    };
    if let Err(r) = cx.form(&headers, &body) {
        return r;
    }
    let jar = jar.remove(removal(&tid, SESSION_COOKIE));
    let Ok(tenant) = castellan_domain::TenantId::parse(tid.as_str()) else {
        return (jar, see_other("/")).into_response();
    };
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", castellan_control::CONSOLE_CLIENT)
        .append_pair("post_logout_redirect_uri", &st.control.console_signed_out_uri(&tenant))
        .finish();
    (jar, see_other(&format!("/{}/admin/logout?{query}", seg(&tid)))).into_response()
}

/// `GET /console/{tid}/signed-out`.
async fn signed_out(Path(tid): Path<String>) -> Response {
    show(
        StatusCode::OK,
        &SignedOutPage {
            base: format!("/console/{}", seg(&tid)),
            tid,
        },
    )
}
