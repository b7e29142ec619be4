//! The consent page: the scopes a client asks for, and the person's decision.

use super::*;

pub(super) async fn consent_view(
    st: &AppState,
    rt: &ServerRuntime,
    jar: CookieJar,
    token: &str,
    req: &AuthorizeRequest,
    session: &Session,
) -> Response {
    let (jar, csrf) = csrf(st, rt, jar);
    let scopes = req
        .scopes
        .iter()
        .map(|s| match rt.scopes.get(s) {
            Some(sc) => ScopeView {
                title: if sc.display_name.is_empty() {
                    sc.name.clone()
                } else {
                    sc.display_name.clone()
                },
                description: sc.description.clone(),
            },
            None => ScopeView {
                title: s.clone(),
                description: String::new(),
            },
        })
        .collect();
    let brand = Brand::of(Some(rt));
    let logo = brand.logo_uri.clone();
    let html = render(&ConsentPage {
        brand,
        action: path_of(rt, "/consent"),
        client_name: client_name(st, rt, req).await,
        subject: session.subject.clone(),
        scopes,
        interaction: token.to_owned(),
        csrf,
        device_code: req.device.as_ref().map(|d| d.user_code.clone()),
    });
    (
        jar,
        page(StatusCode::OK, html, logo.as_deref(), &[&req.redirect_uri], None),
    )
        .into_response()
}

pub(super) async fn consent_page(
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
    match current_session(&st, &rt, &jar).await {
        Ok(Some(session)) => consent_view(&st, &rt, jar, &token, &req, &session).await,
        // Signed out in between: sign in first.
        Ok(None) => see_other(&format!("{}?interaction={token}", path_of(&rt, "/login"))),
        Err(e) => unavailable(Some(&rt), &e),
    }
}

pub(super) async fn consent_submit(
    State(st): State<AppState>,
    Path(ids): Path<(String, String)>,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let InteractionPage { rt, form, token, req } =
        match open_interaction(&st, &ids, &Method::POST, None, &headers, &body).await {
            Ok(x) => x,
            Err(r) => return r,
        };
    let session = match current_session(&st, &rt, &jar).await {
        Ok(Some(s)) => s,
        Ok(None) => return see_other(&format!("{}?interaction={token}", path_of(&rt, "/login"))),
        Err(e) => return unavailable(Some(&rt), &e),
    };
    if !csrf_ok(&st, &rt, &jar, &form) {
        return error_page(
            Some(&rt),
            StatusCode::FORBIDDEN,
            "This form expired or was not sent from this page, so nothing was changed.",
        );
    }
    let allow = match form.get("decision").ok().flatten() {
        Some("allow") => true,
        Some("deny") => false,
        _ => return consent_view(&st, &rt, jar, &token, &req, &session).await,
    };
    match st.control.engine().decide_consent(&rt, &req, &session, allow).await {
        Ok(step) => step_response(&rt, step),
        Err(e) => unavailable(Some(&rt), &e),
    }
}
