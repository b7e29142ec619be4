//! Consents and the privacy ledger.

use super::*;

// ---- the privacy ledger ----

#[derive(Template)]
#[template(path = "console/ledger.html")]
struct LedgerPage {
    chrome: Chrome,
    events: Paged<wire::privacy::PrivacyLedgerEvent>,
    subject: String,
    from: String,
    to: String,
    errors: Errors,
    verification: Option<wire::privacy::LedgerVerification>,
}

pub(super) async fn ledger(
    State(st): State<AppState>,
    Path(tid): Path<String>,
    RawQuery(q): RawQuery,
    jar: CookieJar,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, "/ledger"));
    ledger_page(&st, &cx, &Fields::from_query(q.as_deref()), None).await
}

pub(super) async fn ledger_page(
    st: &AppState,
    cx: &Console,
    query: &Fields,
    verification: Option<wire::privacy::LedgerVerification>,
) -> Response {
    let a = allowed!(cx, need::LedgerRead);
    let (subject, from, to) = (query.optional("subject"), query.optional("from"), query.optional("to"));
    let (events, errors, status) = match st
        .control
        .list_events(&a, subject.as_deref(), from.as_deref(), to.as_deref())
        .await
    {
        Ok(list) => (list.events, Errors::default(), StatusCode::OK),
        Err(e) => match field_error(e) {
            Ok(errors) => (Vec::new(), errors, StatusCode::UNPROCESSABLE_ENTITY),
            Err(e) => return cx.fail(e),
        },
    };
    show(
        status,
        &LedgerPage {
            chrome: cx.chrome("ledger"),
            events: Paged::of(events, query, |_| String::new()),
            subject: subject.unwrap_or_default(),
            from: from.unwrap_or_default(),
            to: to.unwrap_or_default(),
            errors,
            verification,
        },
    )
}

pub(super) async fn verify_ledger(
    State(st): State<AppState>,
    Path(tid): Path<String>,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, "/ledger"));
    let _ = posted!(cx, headers, body);
    let a = allowed!(cx, need::LedgerRead);
    let v = or_fail!(cx, st.control.verify_ledger(&a).await);
    ledger_page(&st, &cx, &Fields::from_query(None), Some(v)).await
}

// ---- consents ----

#[derive(Template)]
#[template(path = "console/consents.html")]
struct ConsentsPage {
    chrome: Chrome,
    consents: Paged<wire::privacy::Consent>,
    can_write: bool,
    errors: Errors,
    id: String,
    name: String,
    description: String,
    notice: String,
}

pub(super) async fn consents(
    State(st): State<AppState>,
    Path(tid): Path<String>,
    RawQuery(q): RawQuery,
    jar: CookieJar,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, "/consents"));
    let query = Fields::from_query(q.as_deref());
    let notice = match query.get("done") {
        "created" => "The consent was created.",
        "deleted" => "The consent was deleted.",
        _ => "",
    };
    consents_page(
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

pub(super) async fn consents_page(
    st: &AppState,
    cx: &Console,
    query: &Fields,
    errors: Errors,
    typed: &Fields,
    notice: &str,
    status: StatusCode,
) -> Response {
    let a = allowed!(cx, need::ConsentRead);
    let list = or_fail!(cx, st.control.list_consents(&a).await);
    show(
        status,
        &ConsentsPage {
            chrome: cx.chrome("consents"),
            consents: Paged::of(list.consents, query, |c| {
                format!(
                    "{} {}",
                    c.id.clone().unwrap_or_default(),
                    c.name.clone().unwrap_or_default()
                )
            }),
            can_write: cx.can(Resource::Consent, Access::Write),
            errors,
            id: typed.get("id").into(),
            name: typed.get("name").into(),
            description: typed.get("description").into(),
            notice: notice.into(),
        },
    )
}

pub(super) async fn create_consent(
    State(st): State<AppState>,
    Path(tid): Path<String>,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, "/consents"));
    let f = posted!(cx, headers, body);
    let a = allowed!(cx, need::ConsentWrite);
    let req = wire::privacy::Consent {
        id: f.optional("id"),
        name: f.optional("name"),
        description: f.optional("description"),
        can_be_withdrawn: Some(f.get("can_be_withdrawn") == "on"),
        update_existing_grants: f.optional("update_existing_grants"),
        ..Default::default()
    };
    match st.control.create_consent(&a, req).await {
        Ok(_) => see_other(&here(&tid, "/consents?done=created")),
        Err(e) => match field_error(e) {
            Ok(errors) => {
                consents_page(
                    &st,
                    &cx,
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

pub(super) async fn delete_consent(
    State(st): State<AppState>,
    Path((tid, id)): Path<(String, String)>,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, "/consents"));
    let _ = posted!(cx, headers, body);
    let a = allowed!(cx, need::ConsentWrite);
    or_fail!(cx, st.control.delete_consent(&a, &id).await);
    see_other(&here(&tid, "/consents?done=deleted"))
}
