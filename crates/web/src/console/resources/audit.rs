//! The admin audit trail: who changed what, newest first, filtered by object, actor and time,
//! a page at a time (the API's `before` cursor), and its verification.

use super::*;

#[derive(Template)]
#[template(path = "console/audit.html")]
struct AuditPage {
    chrome: Chrome,
    events: Vec<wire::audit::AuditEvent>,
    object: String,
    actor: String,
    from: String,
    to: String,
    errors: Errors,
    /// The query of the next (older) page, when there is one.
    older: Option<String>,
    verification: Option<wire::privacy::LedgerVerification>,
}

impl AuditPage {
    /// Where the event came from, in words.
    pub fn origin(&self, e: &wire::audit::AuditEvent) -> String {
        let p = &e.payload;
        let via = p["via"].as_str().unwrap_or("");
        let address = p["from"]["address"].as_str().unwrap_or("");
        if address.is_empty() {
            via.to_owned()
        } else {
            format!("{via}, {address}")
        }
    }

    /// Whether the object existed before and after, in words.
    pub fn change(&self, e: &wire::audit::AuditEvent) -> &'static str {
        match (e.payload["before"].is_string(), e.payload["after"].is_string()) {
            (false, true) => "created",
            (true, false) => "removed",
            (true, true) if e.payload["before"] == e.payload["after"] => "unchanged",
            (true, true) => "changed",
            (false, false) => "",
        }
    }
}

pub(super) async fn audit(
    State(st): State<AppState>,
    Path(tid): Path<String>,
    RawQuery(q): RawQuery,
    jar: CookieJar,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, "/audit"));
    audit_page(&st, &cx, &Fields::from_query(q.as_deref()), None).await
}

async fn audit_page(
    st: &AppState,
    cx: &Console,
    query: &Fields,
    verification: Option<wire::privacy::LedgerVerification>,
) -> Response {
    let a = allowed!(cx, need::AuditRead);
    let (object, actor) = (query.optional("object"), query.optional("actor"));
    let (from, to) = (query.optional("from"), query.optional("to"));
    let before = query.get("before").parse::<i64>().ok();
    let (events, older, errors, status) = match st
        .control
        .list_audit(
            &a,
            object.as_deref(),
            actor.as_deref(),
            from.as_deref(),
            to.as_deref(),
            before,
            Some(PAGE_SIZE as i64),
        )
        .await
    {
        Ok(list) => {
            let older = list.next_before.map(|b| {
                let mut s = form_urlencoded::Serializer::new(String::new());
                for (k, v) in [("object", &object), ("actor", &actor), ("from", &from), ("to", &to)] {
                    if let Some(v) = v {
                        s.append_pair(k, v);
                    }
                }
                s.append_pair("before", &b.to_string());
                format!("?{}", s.finish())
            });
            (list.events, older, Errors::default(), StatusCode::OK)
        }
        Err(e) => match field_error(e) {
            Ok(errors) => (Vec::new(), None, errors, StatusCode::UNPROCESSABLE_ENTITY),
            Err(e) => return cx.fail(e),
        },
    };
    show(
        status,
        &AuditPage {
            chrome: cx.chrome("audit"),
            events,
            object: object.unwrap_or_default(),
            actor: actor.unwrap_or_default(),
            from: from.unwrap_or_default(),
            to: to.unwrap_or_default(),
            errors,
            older,
            verification,
        },
    )
}

pub(super) async fn verify_audit(
    State(st): State<AppState>,
    Path(tid): Path<String>,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, "/audit"));
    let _ = posted!(cx, headers, body);
    let a = allowed!(cx, need::AuditRead);
    let v = or_fail!(cx, st.control.verify_audit(&a).await);
    audit_page(&st, &cx, &Fields::from_query(None), Some(v)).await
}
