//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0).

use super::*;

/// `GET|POST /logout` (OpenID Connect RP-Initiated Logout 1.0). With a valid `id_token_hint` the
/// session ends at once; otherwise the person confirms first (a form with a CSRF token).
pub(super) async fn logout(
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
    let req = match engine.logout_request(&rt, &form).await {
        Ok(r) => r,
        Err(m) => return error_page(Some(&rt), StatusCode::BAD_REQUEST, &m),
    };
    let confirmed =
        method == Method::POST && form.get("confirm").ok().flatten() == Some("yes") && csrf_ok(&st, &rt, &jar, &form);
    if !req.hinted && !confirmed {
        let (jar, csrf) = csrf(&st, &rt, jar);
        let mut kept = Vec::new();
        for k in ["client_id", "post_logout_redirect_uri", "state"] {
            if let Some(v) = form.get(k).ok().flatten() {
                kept.push((k.to_owned(), v.to_owned()));
            }
        }
        let brand = Brand::of(Some(&rt));
        let logo = brand.logo_uri.clone();
        let html = render(&LogoutPage {
            brand,
            action: path_of(&rt, "/logout"),
            client_name: req.client.as_ref().map(|c| c.name.clone()),
            csrf,
            params: kept,
        });
        let targets: Vec<&str> = req.redirect.iter().map(String::as_str).collect();
        return (jar, page(StatusCode::OK, html, logo.as_deref(), &targets, None)).into_response();
    }
    if let Some(c) = jar.get(SESSION_COOKIE)
        && let Err(e) = engine.end_session(&rt, c.value()).await
    {
        return unavailable(Some(&rt), &e);
    }
    let jar = jar.remove(Cookie::build(SESSION_COOKIE).path(cookie_path(&rt)).build());
    match req.redirect {
        Some(uri) => (jar, see_other(&uri)).into_response(),
        None => (
            jar,
            message(
                Some(&rt),
                StatusCode::OK,
                "You are signed out",
                "You have been signed out. You can close this window.",
                None,
            ),
        )
            .into_response(),
    }
}
