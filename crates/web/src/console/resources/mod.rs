//! The console's pages of each resource: a handler opens the person's session, asks for the
//! permission the admin API's operation needs, calls the same control-plane operation, and
//! renders the answer — or the field error next to the field, or the refusal in words.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Path, RawQuery, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use axum_extra::extract::cookie::CookieJar;
use castellan_control::{ApiFilter, ControlError, need};
use castellan_domain::{Access, Resource};
use castellan_types as wire;

use super::{Chrome, Console, Fields, PAGE_SIZE, open, seg, show};
use crate::AppState;
use crate::audit::created;
use crate::pages::see_other;

macro_rules! session {
    ($st:expr, $tid:expr, $jar:expr, $back:expr) => {
        match open(&$st, &$tid, &$jar, &$back).await {
            Ok(cx) => cx,
            Err(r) => return r,
        }
    };
}

macro_rules! allowed {
    ($cx:expr, $need:ty) => {
        match $cx.allow::<$need>() {
            Ok(a) => a,
            Err(r) => return r,
        }
    };
}

macro_rules! or_fail {
    ($cx:expr, $e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => return $cx.fail(e),
        }
    };
}

macro_rules! posted {
    ($cx:expr, $headers:expr, $body:expr) => {
        match $cx.form(&$headers, &$body) {
            Ok(f) => f,
            Err(r) => return r,
        }
    };
}

mod access;
mod audit;
mod clients;
mod policies;
mod privacy;
mod servers;
mod services;

use access::*;
use audit::*;
use clients::*;
use policies::*;
use privacy::*;
pub(super) use servers::home;
use servers::*;
use services::*;

pub(super) fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/console/{tid}/servers", get(servers).post(create_server))
        .route("/console/{tid}/servers/{aid}", get(server).post(update_server))
        .route("/console/{tid}/servers/{aid}/keys/rotate", post(rotate_keys))
        .route(
            "/console/{tid}/servers/{aid}/keys/{kid}/revoke",
            get(confirm_revoke_key).post(revoke_key),
        )
        .route("/console/{tid}/clients", get(clients_of))
        .route("/console/{tid}/servers/{aid}/clients", get(clients))
        .route(
            "/console/{tid}/servers/{aid}/clients/new",
            get(new_client).post(create_client),
        )
        .route(
            "/console/{tid}/servers/{aid}/clients/{cid}",
            get(client).post(update_client),
        )
        .route(
            "/console/{tid}/servers/{aid}/clients/{cid}/delete",
            get(confirm_delete_client).post(delete_client),
        )
        .route("/console/{tid}/servers/{aid}/scopes", get(scopes).post(create_scope))
        .route("/console/{tid}/servers/{aid}/scopes/{sid}/delete", post(delete_scope))
        .route("/console/{tid}/policies", get(policies))
        .route("/console/{tid}/policies/{pid}", get(policy).post(try_policy))
        .route("/console/{tid}/ledger", get(ledger).post(verify_ledger))
        .route("/console/{tid}/audit", get(audit).post(verify_audit))
        .route("/console/{tid}/services", get(services).post(create_service))
        .route("/console/{tid}/services/{sid}", get(service).post(import_specification))
        .route("/console/{tid}/servers/{aid}/people", get(people).post(add_person))
        .route("/console/{tid}/servers/{aid}/people/remove", post(remove_person))
        .route("/console/{tid}/servers/{aid}/providers", post(add_provider))
        .route("/console/{tid}/servers/{aid}/methods/{mid}/remove", post(remove_method))
        .route("/console/{tid}/servers/{aid}/claims", get(claims).post(create_claim))
        .route("/console/{tid}/servers/{aid}/claims/{id}/delete", post(delete_claim))
        .route("/console/{tid}/consents", get(consents).post(create_consent))
        .route("/console/{tid}/consents/{id}/delete", post(delete_consent))
        .route("/console/{tid}/actions", post(create_action))
        .route("/console/{tid}/actions/{id}/delete", post(delete_action))
        .route("/console/{tid}/tenants", get(tenants).post(create_tenant))
        .route("/console/{tid}/gateways", get(gateways).post(create_gateway))
        .route("/console/{tid}/gateways/{gw}/package", get(gateway_package))
        .route("/console/{tid}/roles", get(roles).post(create_role))
        .route("/console/{tid}/roles/{id}", post(update_role))
        .route("/console/{tid}/roles/{id}/groups", post(map_group))
        .route("/console/{tid}/roles/{id}/groups/remove", post(unmap_group))
        .route("/console/{tid}/sts-clients", get(sts_clients).post(create_sts_client))
        .route("/console/{tid}/sts-clients/{cid}/delete", post(delete_sts_client))
        .route(
            "/console/{tid}/tenants/{id}/delete",
            get(confirm_delete_tenant).post(delete_tenant),
        )
}

/// Field errors of a form: the API's `details.field` (its first path segment, which names the
/// form's field) and reason.
#[derive(Default)]
pub(crate) struct Errors(Vec<(String, String)>);

impl Errors {
    /// The error of field `f` ("" when it has none).
    pub fn of(&self, f: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == f)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    /// The errors naming no field of the form.
    /// `fields`: the form's field names, separated by spaces.
    pub fn other(&self, fields: &str) -> Vec<String> {
        let fields: Vec<&str> = fields.split(' ').collect();
        self.0
            .iter()
            .filter(|(k, _)| !fields.contains(&k.as_str()))
            .map(|(k, v)| if k.is_empty() { v.clone() } else { format!("{k}: {v}") })
            .collect()
    }

    fn any(&self) -> bool {
        !self.0.is_empty()
    }
}

/// A control error as a field error of the form, when it is one.
pub(super) fn field_error(e: ControlError) -> Result<Errors, ControlError> {
    match e {
        ControlError::Invalid { field, reason } => {
            let name = field.split(['[', '.']).next().unwrap_or("").to_owned();
            Ok(Errors(vec![(name, reason)]))
        }
        ControlError::Conflict { .. } => Ok(Errors(vec![("id".into(), e.to_string())])),
        other => Err(other),
    }
}

/// One page of a list: the rows of page `page` (from 1) whose text contains `q`. A page with two
/// lists names the second's parameters with a prefix (`aq`, `apage`), and each list's links keep
/// the other's.
pub(crate) struct Paged<T> {
    pub rows: Vec<T>,
    pub q: String,
    pub page: usize,
    pub pages: usize,
    pub total: usize,
    /// Prefix of this list's query parameters (and of its search field's id).
    pub prefix: &'static str,
    /// What the search and pager are called, for assistive technology.
    pub label: &'static str,
    /// Other parameters its links carry (the other list's).
    keep: Vec<(String, String)>,
}

impl<T> Paged<T> {
    fn of(all: Vec<T>, fields: &Fields, text: impl Fn(&T) -> String) -> Self {
        Self::named(all, fields, "", "Pages", text)
    }

    /// A list whose parameters are `{prefix}q` and `{prefix}page`.
    fn named(
        all: Vec<T>,
        fields: &Fields,
        prefix: &'static str,
        label: &'static str,
        text: impl Fn(&T) -> String,
    ) -> Self {
        let q = fields.get(&format!("{prefix}q")).to_owned();
        let needle = q.to_lowercase();
        let matching: Vec<T> = all
            .into_iter()
            .filter(|r| needle.is_empty() || text(r).to_lowercase().contains(&needle))
            .collect();
        let total = matching.len();
        let pages = total.div_ceil(PAGE_SIZE).max(1);
        let page = fields
            .get(&format!("{prefix}page"))
            .parse::<usize>()
            .unwrap_or(1)
            .clamp(1, pages);
        let rows = matching
            .into_iter()
            .skip((page - 1) * PAGE_SIZE)
            .take(PAGE_SIZE)
            .collect();
        Self {
            rows,
            q,
            page,
            pages,
            total,
            prefix,
            label,
            keep: Vec::new(),
        }
    }

    /// Its links carry `names` from `fields` too (another list's filter and page).
    fn keeping(mut self, fields: &Fields, names: &[&str]) -> Self {
        self.keep = names
            .iter()
            .filter(|n| !fields.get(n).is_empty())
            .map(|n| ((*n).to_owned(), fields.get(n).to_owned()))
            .collect();
        self
    }

    /// The query of page `n` with the same filter.
    pub fn link(&self, n: usize) -> String {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.keep {
            s.append_pair(k, v);
        }
        if !self.q.is_empty() {
            s.append_pair(&format!("{}q", self.prefix), &self.q);
        }
        s.append_pair(&format!("{}page", self.prefix), &n.to_string());
        format!("?{}", s.finish())
    }

    pub fn prev(&self) -> usize {
        self.page.saturating_sub(1)
    }

    pub fn next(&self) -> usize {
        self.page + 1
    }
}

pub(super) fn here(tid: &str, rest: &str) -> String {
    format!("/console/{}{rest}", seg(tid))
}

/// A conflict names `id`; on a form whose id field is `name`, it belongs there.
pub(super) fn rename_id(mut errors: Errors, name: &str) -> Errors {
    for (k, _) in &mut errors.0 {
        if k == "id" {
            *k = name.into();
        }
    }
    errors
}

#[derive(Template)]
#[template(path = "console/confirm.html")]
pub(super) struct ConfirmPage {
    pub(super) chrome: Chrome,
    pub(super) title: String,
    pub(super) text: String,
    pub(super) action: String,
    pub(super) back: String,
    /// The button that does it ("Delete", "Revoke").
    pub(super) button: String,
}

/// The non-system servers to choose from, when the person may list them.
pub(super) async fn server_choices(st: &AppState, cx: &Console, current: &str) -> Vec<String> {
    match cx.access.clone().allow::<need::ServerRead>() {
        Ok(r) => st
            .control
            .list_servers(&r)
            .await
            .map(|s| s.servers.into_iter().filter(|s| !s.system).map(|s| s.id).collect())
            .unwrap_or_default(),
        Err(_) => vec![current.to_owned()],
    }
}

impl Errors {
    /// Whether the form has any error (for the summary at its top).
    pub fn has_any(&self) -> bool {
        self.any()
    }
}
