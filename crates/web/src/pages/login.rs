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
    // One method: straight to it.
    let chosen = chosen.or_else(|| (methods.len() == 1).then(|| methods[0].id.clone()));
    let chosen_kind = chosen.as_deref().and_then(|id| {
        rt.server
            .authentications
            .iter()
            .find(|m| m.method.id == id && !m.method.disabled)
            .map(|m| m.method.method.clone())
    });
    let mut error = error;
    if methods.is_empty() {
        error = Some("No way to sign in has been set up for this service yet. Contact its administrator.".into());
    } else if chosen.is_some() && chosen_kind.as_deref() != Some("static") && error.is_none() {
        error = Some("This sign-in method is not available in this version of Castellan. Choose another one.".into());
    }
    let static_form = chosen_kind.as_deref() == Some("static");
    let brand = Brand::of(Some(rt));
    let logo = brand.logo_uri.clone();
    let html = render(&LoginPage {
        brand,
        action: path_of(rt, "/login"),
        client_name: client_name(st, rt, req).await,
        interaction: token.to_owned(),
        csrf,
        error,
        methods: if methods.len() > 1 && !static_form {
            methods
        } else {
            Vec::new()
        },
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
    let InteractionPage { rt, token, req, .. } = match open_interaction(
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
    login_view(&st, &rt, jar, &token, &req, None, None, None, StatusCode::OK).await
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
        Ok((cookie, session)) => {
            // A new sign-in replaces the browser's previous session (no fixation, no leftovers).
            if let Some(old) = jar.get(SESSION_COOKIE)
                && let Err(e) = engine.end_session(&rt, old.value()).await
            {
                return unavailable(Some(&rt), &e);
            }
            let max_age = session.expires_at - session.auth_time;
            let jar = jar.add(session_cookie(&rt, cookie, max_age));
            match engine.authorize_step(&rt, &req, Some(&session), true, false).await {
                Ok(step) => (jar, step_response(&rt, step)).into_response(),
                Err(e) => (jar, unavailable(Some(&rt), &e)).into_response(),
            }
        }
        Err(e @ (LoginError::Invalid | LoginError::Throttled(_))) => {
            let (msg, status) = match e {
                LoginError::Throttled(wait) => {
                    let minutes = (wait + 59) / 60;
                    let plural = if minutes == 1 { "" } else { "s" };
                    let msg =
                        format!("Too many failed attempts. For your security, try again in {minutes} minute{plural}.");
                    (msg, StatusCode::TOO_MANY_REQUESTS)
                }
                _ => ("The username or password is not correct.".to_owned(), StatusCode::OK),
            };
            login_view(&st, &rt, jar, &token, &req, chosen, Some(msg), Some(username), status).await
        }
        Err(LoginError::Unavailable(e)) => unavailable(Some(&rt), &e),
    }
}
