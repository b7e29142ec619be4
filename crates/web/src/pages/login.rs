//! The login page: the server's login methods, and a sign-in that starts a session.

use super::*;

#[allow(clippy::too_many_arguments)]
pub(super) async fn login_view(
    st: &AppState,
    rt: &ServerRuntime,
    jar: CookieJar,
    token: &str,
    req: &AuthorizeRequest,
    chosen: Option<String>,
    error: Option<String>,
    username: Option<&str>,
    status: StatusCode,
) -> Response {
    let (jar, csrf) = csrf(st, rt, jar);
    let methods = methods(rt);
    let kind_of = |id: &str| {
        rt.server
            .authentications
            .iter()
            .find(|m| m.method.id == id && !m.method.disabled)
            .map(|m| m.method.method.clone())
    };
    // What to show: the method the person chose, else the one the application hinted
    // (`idp_hint`), else the only one, else a static method that asks to be offered first.
    let chosen = chosen
        .filter(|c| kind_of(c).is_some())
        .or_else(|| req.idp_hint.clone().filter(|h| kind_of(h).is_some()))
        .or_else(|| (methods.len() == 1).then(|| methods[0].id.clone()))
        .or_else(|| {
            rt.server
                .authentications
                .iter()
                .find(|m| !m.method.disabled && m.method.static_.as_ref().is_some_and(|s| s.hint))
                .map(|m| m.method.id.clone())
        });
    let chosen_kind = chosen.as_deref().and_then(kind_of);
    let mut error = error;
    let mut status = status;
    if methods.is_empty() {
        error = Some("No way to sign in has been set up for this service yet. Contact its administrator.".into());
    } else if let (Some(id), Some(kind)) = (chosen.as_deref(), chosen_kind.as_deref())
        && kind != "static"
        && error.is_none()
    {
        // An upstream provider or an external login page: off to it, unless it failed here
        // before (then the page offers every method again).
        let browser = jar.get(CSRF_COOKIE).map(|c| c.value().to_owned()).unwrap_or_default();
        match st
            .control
            .engine()
            .start_sign_in(rt, id, token, &browser, req.login_hint.as_deref())
            .await
        {
            Ok(url) => return (jar, see_other(&url)).into_response(),
            Err(e) => {
                error = Some(e.message);
                status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_GATEWAY);
            }
        }
    }
    let static_form = chosen_kind.as_deref() == Some("static");
    let others: Vec<MethodChoice> = if static_form {
        methods.into_iter().filter(|m| Some(&m.id) != chosen.as_ref()).collect()
    } else {
        methods
    };
    let brand = Brand::of(Some(rt));
    let logo = brand.logo_uri.clone();
    let html = render(&LoginPage {
        brand,
        action: path_of(rt, "/login"),
        client_name: client_name(st, rt, req).await,
        interaction: token.to_owned(),
        csrf,
        error,
        methods: others,
        chosen: if static_form { chosen } else { None },
        static_form,
        username: username.or(req.login_hint.as_deref()).unwrap_or("").to_owned(),
    });
    (jar, page(status, html, logo.as_deref(), &[&req.redirect_uri], None)).into_response()
}

pub(super) async fn login_page(
    State(st): State<AppState>,
    Path(ids): Path<(String, String)>,
    RawQuery(query): RawQuery,
    jar: CookieJar,
) -> Response {
    let InteractionPage { rt, token, req, form } = match open_interaction(
        &st,
        &ids,
        &Method::GET,
        query.as_deref(),
        &HeaderMap::new(),
        &Bytes::new(),
    )
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let chosen = form.get("method").ok().flatten().map(str::to_owned);
    login_view(&st, &rt, jar, &token, &req, chosen, None, None, StatusCode::OK).await
}

pub(super) async fn login_submit(
    State(st): State<AppState>,
    Path(ids): Path<(String, String)>,
    ClientAddr(addr): ClientAddr,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let InteractionPage { rt, form, token, req } =
        match open_interaction(&st, &ids, &Method::POST, None, &headers, &body).await {
            Ok(x) => x,
            Err(r) => return r,
        };
    if !csrf_ok(&st, &rt, &jar, &form) {
        return login_view(
            &st,
            &rt,
            jar,
            &token,
            &req,
            None,
            Some("Your sign-in form expired. Please try again.".into()),
            None,
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    let chosen = form.get("method").ok().flatten().map(str::to_owned);
    let (Some(username), Some(password)) = (form.get("username").ok().flatten(), form.get("password").ok().flatten())
    else {
        // A method was chosen (or fields left empty): show the form for it.
        return login_view(&st, &rt, jar, &token, &req, chosen, None, None, StatusCode::OK).await;
    };
    let engine = st.control.engine();
    match engine.login(&rt, username, password, addr).await {
        Ok((cookie, session)) => signed_in(&st, &rt, jar, cookie, &session, &req).await,
        Err(e @ (LoginError::Invalid | LoginError::Throttled(_))) => {
            let (msg, status) = match e {
                LoginError::Throttled(wait) => {
                    let msg = format!("Too many failed attempts. For your security, {}.", try_again_in(wait));
                    (msg, StatusCode::TOO_MANY_REQUESTS)
                }
                _ => ("The username or password is not correct.".to_owned(), StatusCode::OK),
            };
            login_view(&st, &rt, jar, &token, &req, chosen, Some(msg), Some(username), status).await
        }
        Err(LoginError::Unavailable(e)) => unavailable(Some(&rt), &e),
    }
}

/// After a sign-in: the new session replaces the browser's previous one (no fixation, no
/// leftovers) and the authorization goes on.
async fn signed_in(
    st: &AppState,
    rt: &ServerRuntime,
    jar: CookieJar,
    cookie: String,
    session: &Session,
    req: &AuthorizeRequest,
) -> Response {
    let engine = st.control.engine();
    if let Some(old) = jar.get(SESSION_COOKIE)
        && let Err(e) = engine.end_session(rt, old.value()).await
    {
        return unavailable(Some(rt), &e);
    }
    let max_age = session.expires_at - session.auth_time;
    let jar = jar.add(session_cookie(rt, cookie, max_age));
    match engine.authorize_step(rt, req, Some(session), true, false).await {
        Ok(step) => (jar, step_response(rt, step)).into_response(),
        Err(e) => (jar, unavailable(Some(rt), &e)).into_response(),
    }
}

/// A sign-in through another provider or page that could not be finished, in words.
fn sign_in_failed(rt: &ServerRuntime, e: SignInError) -> Response {
    message(
        Some(rt),
        StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
        "You are not signed in",
        &e.message,
        Some("Go back to the application you came from and try again."),
    )
}

/// Where a finished upstream or external sign-in goes on: the pending authorization.
async fn finish(st: &AppState, rt: &ServerRuntime, jar: CookieJar, done: Result<SignedIn, SignInError>) -> Response {
    let s = match done {
        Ok(s) => s,
        Err(e) => return sign_in_failed(rt, e),
    };
    let Some(req) = st.control.engine().open_interaction(rt, &s.interaction) else {
        return message(
            Some(rt),
            StatusCode::BAD_REQUEST,
            "This sign-in link has expired",
            "Sign-in requests are valid for 15 minutes and cannot be reused.",
            Some("Go back to the application you came from and start again."),
        );
    };
    signed_in(st, rt, jar, s.cookie, &s.session, &req).await
}

fn browser(jar: &CookieJar) -> String {
    jar.get(CSRF_COOKIE).map(|c| c.value().to_owned()).unwrap_or_default()
}

/// `GET {issuer}/login/callback`: an OpenID provider sends the person back (OIDC Core §3.1.2.5).
pub(super) async fn upstream_callback(
    State(st): State<AppState>,
    Path(ids): Path<(String, String)>,
    RawQuery(query): RawQuery,
    jar: CookieJar,
) -> Response {
    let (rt, form) = match open_page(
        &st,
        &ids,
        &Method::GET,
        query.as_deref(),
        &HeaderMap::new(),
        &Bytes::new(),
    )
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let done = st.control.engine().finish_upstream(&rt, &form, &browser(&jar)).await;
    finish(&st, &rt, jar, done).await
}

/// `GET {issuer}/login/custom/{login_id}`: the browser returns from an external login page.
pub(super) async fn custom_return(
    State(st): State<AppState>,
    Path((tid, aid, login_id)): Path<(String, String, String)>,
    jar: CookieJar,
) -> Response {
    let rt = match runtime(&st, &tid, &aid).await {
        Ok(rt) => rt,
        Err(r) => return r,
    };
    let done = st.control.engine().finish_custom(&rt, &login_id, &browser(&jar)).await;
    finish(&st, &rt, jar, done).await
}

/// `POST {issuer}/login/custom/{login_id}/accept|reject`: an external login page answers, with
/// the method's client credentials (HTTP Basic). `accept` takes
/// `{"subject": "...", "authentication_context": {...}}`. Errors are OAuth-style JSON.
pub(super) async fn custom_answer(
    State(st): State<AppState>,
    Path((tid, aid, login_id, verb)): Path<(String, String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let json_error = |status: StatusCode, code: &str, description: &str| {
        let mut r = (
            status,
            axum::Json(serde_json::json!({"error": code, "error_description": description})),
        )
            .into_response();
        r.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(r#"Basic realm="castellan", charset="UTF-8""#),
            );
        }
        r
    };
    let accept = match verb.as_str() {
        "accept" => true,
        "reject" => false,
        _ => return json_error(StatusCode::NOT_FOUND, "not_found", "use .../accept or .../reject"),
    };
    let Ok(Some(rt)) = st.control.engine().server(&tid, &aid).await else {
        return json_error(StatusCode::NOT_FOUND, "not_found", "no such authorization server");
    };
    let credentials = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(crate::extract::parse_basic);
    let answer = if accept {
        if body.len() > castellan_oauth::upstream::MAX_CUSTOM_CONTEXT + 1024 {
            return json_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request",
                "the answer is too large",
            );
        }
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Accept {
            subject: String,
            #[serde(default)]
            authentication_context: Option<serde_json::Map<String, serde_json::Value>>,
        }
        match serde_json::from_slice::<Accept>(&body) {
            Ok(a) => Some((a.subject, a.authentication_context.unwrap_or_default())),
            Err(e) => {
                return json_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    &format!("the body must be {{\"subject\": string, \"authentication_context\": object}}: {e}"),
                );
            }
        }
    } else {
        None
    };
    let creds = credentials.as_ref().map(|(i, s)| (i.as_str(), s.as_str()));
    match st.control.engine().answer_custom(&rt, &login_id, creds, answer).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(AnswerError::Unauthorized) => json_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "the login method's client credentials are missing or wrong",
        ),
        Err(AnswerError::NotFound) => json_error(
            StatusCode::NOT_FOUND,
            "not_found",
            "no sign-in with this login_id is waiting (unknown, expired or finished)",
        ),
        Err(AnswerError::Conflict) => json_error(StatusCode::CONFLICT, "conflict", "this sign-in was already answered"),
        Err(AnswerError::Invalid(m)) => json_error(StatusCode::BAD_REQUEST, "invalid_request", &m),
        Err(AnswerError::Unavailable(e)) => {
            tracing::error!(error = %e.description, "custom sign-in answer not stored");
            json_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "try again in a moment",
            )
        }
    }
}
