//! Policies, and trying one against an input.

use super::*;

// ---- policies ----

#[derive(Template)]
#[template(path = "console/policies.html")]
struct PoliciesPage {
    chrome: Chrome,
    policies: Paged<wire::policies::Policy>,
}

pub(super) async fn policies(
    State(st): State<AppState>,
    Path(tid): Path<String>,
    RawQuery(q): RawQuery,
    jar: CookieJar,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, "/policies"));
    let a = allowed!(cx, need::PolicyRead);
    let list = or_fail!(cx, st.control.list_policies(&a).await);
    show(
        StatusCode::OK,
        &PoliciesPage {
            chrome: cx.chrome("policies"),
            policies: Paged::of(list.policies, &Fields::from_query(q.as_deref()), |p| {
                format!("{} {} {}", p.id, p.policy_name, p.language)
            }),
        },
    )
}

#[derive(Template)]
#[template(path = "console/policy.html")]
struct PolicyPage {
    chrome: Chrome,
    policy: wire::policies::Policy,
    definition: String,
    context: String,
    client: String,
    scopes: String,
    errors: Errors,
    result: Option<wire::policies::PolicyTestResult>,
}

pub(super) async fn policy(
    State(st): State<AppState>,
    Path((tid, pid)): Path<(String, String)>,
    jar: CookieJar,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, &format!("/policies/{}", seg(&pid))));
    policy_page(
        &st,
        &cx,
        &pid,
        &Fields::from_query(None),
        Errors::default(),
        None,
        StatusCode::OK,
    )
    .await
}

pub(super) async fn policy_page(
    st: &AppState,
    cx: &Console,
    pid: &str,
    typed: &Fields,
    errors: Errors,
    result: Option<wire::policies::PolicyTestResult>,
    status: StatusCode,
) -> Response {
    let a = allowed!(cx, need::PolicyRead);
    let list = or_fail!(cx, st.control.list_policies(&a).await);
    let Some(policy) = list.policies.into_iter().find(|p| p.id == pid) else {
        return cx.fail(ControlError::NotFound {
            what: "policy",
            id: pid.into(),
        });
    };
    let definition = match &policy.definition {
        Some(d) => d.clone(),
        None => serde_json::to_string_pretty(&policy.validators).unwrap_or_default(),
    };
    let or = |name: &str, default: &str| {
        let v = typed.get(name);
        if v.is_empty() { default.to_owned() } else { v.to_owned() }
    };
    show(
        status,
        &PolicyPage {
            chrome: cx.chrome("policies"),
            policy,
            definition,
            context: or("authentication_context", "{\"sub\": \"alice\"}"),
            client: or("client", "{\"client_id\": \"app\"}"),
            scopes: typed.get("scopes").into(),
            errors,
            result,
        },
    )
}

pub(super) async fn try_policy(
    State(st): State<AppState>,
    Path((tid, pid)): Path<(String, String)>,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let cx = session!(st, tid, jar, here(&tid, &format!("/policies/{}", seg(&pid))));
    let f = posted!(cx, headers, body);
    let a = allowed!(cx, need::PolicyRead);
    let json = |name: &str| -> Result<serde_json::Value, Errors> {
        let v = f.get(name);
        if v.is_empty() {
            return Ok(serde_json::json!({}));
        }
        match serde_json::from_str::<serde_json::Value>(v) {
            Ok(j) if j.is_object() => Ok(j),
            Ok(_) => Err(Errors(vec![(name.into(), "must be a JSON object".into())])),
            Err(e) => Err(Errors(vec![(name.into(), format!("is not valid JSON: {e}"))])),
        }
    };
    let input = json("authentication_context").and_then(|ctx| {
        json("client").map(|client| wire::policies::PolicyTestRequest {
            authentication_context: ctx,
            client,
            scopes: f.words("scopes"),
            ..Default::default()
        })
    });
    let input = match input {
        Ok(i) => i,
        Err(errors) => {
            return policy_page(&st, &cx, &pid, &f, errors, None, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    match st.control.test_policy(&a, &pid, input).await {
        Ok(result) => policy_page(&st, &cx, &pid, &f, Errors::default(), Some(result), StatusCode::OK).await,
        Err(e) => match field_error(e) {
            Ok(errors) => policy_page(&st, &cx, &pid, &f, errors, None, StatusCode::UNPROCESSABLE_ENTITY).await,
            Err(e) => cx.fail(e),
        },
    }
}
