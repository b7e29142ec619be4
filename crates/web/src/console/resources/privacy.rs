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
    /// Every consent, for the action form's choices.
    all_consents: Vec<wire::privacy::Consent>,
    /// Consent actions with the consents they group (their own filter and pages: `aq`, `apage`).
    actions: Paged<wire::privacy::ConsentActionWithConsents>,
    can_write: bool,
    errors: Errors,
    id: String,
    name: String,
    description: String,
    action_errors: Errors,
    action_id: String,
    action_name: String,
    action_description: String,
    notice: String,
}

impl ConsentsPage {
    /// An action's consents, in words.
    pub fn grouped(&self, a: &wire::privacy::ConsentActionWithConsents) -> String {
        a.consents
            .iter()
            .flatten()
            .map(|c| {
                let id = c.consent.id.as_deref().unwrap_or("");
                if c.required == Some(true) {
                    format!("{id} (required)")
                } else {
                    id.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
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
        "action-created" => "The consent action was created.",
        "action-deleted" => "The consent action was deleted.",
        _ => "",
    };
    consents_page(&st, &cx, &query, Forms::default(), notice, StatusCode::OK).await
}

/// What was typed into the page's two forms, and their errors (after a refused post).
#[derive(Default)]
pub(super) struct Forms {
    consent: Option<(Errors, Fields)>,
    action: Option<(Errors, Fields)>,
}

pub(super) async fn consents_page(
    st: &AppState,
    cx: &Console,
    query: &Fields,
    forms: Forms,
    notice: &str,
    status: StatusCode,
) -> Response {
    let a = allowed!(cx, need::ConsentRead);
    let list = or_fail!(cx, st.control.list_consents(&a).await);
    let mut actions = Vec::new();
    for act in or_fail!(cx, st.control.list_consent_actions(&a).await).consent_actions {
        actions.push(or_fail!(cx, st.control.get_consent_action(&a, &act.id).await));
    }
    let blank = || (Errors::default(), Fields::from_query(None));
    let (errors, typed) = forms.consent.unwrap_or_else(blank);
    let (action_errors, action_typed) = forms.action.unwrap_or_else(blank);
    show(
        status,
        &ConsentsPage {
            chrome: cx.chrome("consents"),
            all_consents: list.consents.clone(),
            actions: Paged::named(actions, query, "a", "Pages of consent actions", |a| {
                format!(
                    "{} {}",
                    a.id.clone().unwrap_or_default(),
                    a.name.clone().unwrap_or_default()
                )
            })
            .keeping(query, &["q", "page"]),
            action_errors,
            action_id: action_typed.get("id").into(),
            action_name: action_typed.get("name").into(),
            action_description: action_typed.get("description").into(),
            consents: Paged::of(list.consents, query, |c| {
                format!(
                    "{} {}",
                    c.id.clone().unwrap_or_default(),
                    c.name.clone().unwrap_or_default()
                )
            })
            .keeping(query, &["aq", "apage"]),
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
    let done = st.control.create_consent(&a, req).await;
    let id = done.as_ref().ok().and_then(|c| c.id.clone());
    let resp = after_post(&st, &cx, done.map(|_| ()), "created", |errors| Forms {
        consent: Some((errors, f)),
        action: None,
    })
    .await;
    created(resp, id.as_deref())
}

/// Back to the consents page after a post: with `done` in its query when the write succeeded,
/// else with the form that was refused (its fields and their errors), or the refusal in words.
async fn after_post(
    st: &AppState,
    cx: &Console,
    outcome: Result<(), ControlError>,
    done: &str,
    refused: impl FnOnce(Errors) -> Forms,
) -> Response {
    match outcome {
        Ok(()) => see_other(&here(&cx.tid, &format!("/consents?done={done}"))),
        Err(e) => match field_error(e) {
            Ok(errors) => {
                consents_page(
                    st,
                    cx,
                    &Fields::from_query(None),
                    refused(errors),
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

// ---- consent actions ----

pub(super) async fn create_action(
    State(st): State<AppState>,
    Path(tid): Path<String>,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, "/consents"));
    let f = posted!(cx, headers, body);
    let a = allowed!(cx, need::ConsentWrite);
    let required = f.all("required");
    let consents = f
        .all("consents")
        .into_iter()
        .map(|id| wire::privacy::ActionConsent {
            required: Some(required.contains(&id)),
            consent: wire::privacy::Consent {
                id: Some(id),
                ..Default::default()
            },
        })
        .collect();
    let req = wire::privacy::ConsentActionWithConsents {
        id: f.optional("id"),
        name: f.optional("name"),
        description: f.optional("description"),
        consents: Some(consents),
        tenant_id: None,
    };
    let done = st.control.create_consent_action(&a, req).await;
    let id = done.as_ref().ok().and_then(|c| c.id.clone());
    let resp = after_post(&st, &cx, done.map(|_| ()), "action-created#actions", |errors| Forms {
        consent: None,
        action: Some((errors, f)),
    })
    .await;
    created(resp, id.as_deref())
}

pub(super) async fn delete_action(
    State(st): State<AppState>,
    Path((tid, id)): Path<(String, String)>,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, "/consents"));
    let _ = posted!(cx, headers, body);
    let a = allowed!(cx, need::ConsentWrite);
    or_fail!(cx, st.control.delete_consent_action(&a, &id).await);
    see_other(&here(&tid, "/consents?done=action-deleted#actions"))
}
