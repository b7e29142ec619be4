//! Policies: compiled once when they are written (and when a tenant's configuration is loaded),
//! evaluated many times on the token and gateway paths. No HTTP, no storage.
//!
//! A policy is either a list of validators (Cloudentity ACP's policy model: it passes when every
//! validator passes) or a Rego module (`language: rego`) whose rule `data.castellan.allow` must be
//! `true`. Validators:
//!
//! | name | `conf` | passes when |
//! |---|---|---|
//! | `true`, `false` | none | always / never |
//! | `identity-context` | `fields: [{field, comparator, value}]` | every field of the subject's authentication context (a dotted path) compares |
//! | `header` | `fields: [{field, comparator, value}]` | every request header (name, any case) compares |
//! | `consent` | `consents: [ids]` or `action: id` | the subject holds a current grant of each consent (of the action's required ones) |
//! | `scopes` | `scopes: [names]` | the token carries every scope |
//!
//! Comparators: `equals`, `not_equals`, `contains` (substring, or array member), `one_of` (`value`
//! is an array), `present`, `not_present`, `matches` (`value` is a regular expression, searched
//! for; anchor it with `^…$`), `gt`, `lt` (numbers). A field that is missing, or of a type the
//! comparator does not apply to, fails every comparator but `not_present` (and `present` fails
//! on `null`): a policy never passes for lack of data.

mod compile;
mod error;
mod evaluate;
mod rego;
pub mod routes;
mod sandbox;

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use compile::validator_schema;
pub use error::CompileError;
pub use rego::{MAX_DEFINITION_BYTES, REGO_RULE, REGO_TIME_LIMIT};
pub use sandbox::{Rego, WORKER_DEADLINE, WORKER_MEMORY, serve_worker};

/// A validator as the API carries it (Cloudentity ACP `Policy.validators[]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidatorSpec {
    pub name: String,
    #[serde(default)]
    pub conf: serde_json::Map<String, Value>,
    #[serde(default)]
    pub recovery: Vec<Recovery>,
}

/// What a client can do about a denial (returned with it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recovery {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
}

/// How a policy is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Language {
    /// A list of validators.
    #[default]
    Cloudentity,
    /// A Rego module (`definition`).
    Rego,
}

impl Language {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "cloudentity" => Some(Self::Cloudentity),
            "rego" => Some(Self::Rego),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cloudentity => "cloudentity",
            Self::Rego => "rego",
        }
    }
}

/// A compiled policy: regular expressions built, Rego parsed, field paths split. Cheap to share
/// (`Arc`) and evaluated without allocating for validator policies.
#[derive(Debug)]
pub struct Policy {
    body: Body,
    rego_reads_consents: bool,
}

#[derive(Debug)]
enum Body {
    Validators(Vec<compile::Check>),
    Rego(sandbox::RegoBody),
}

/// An HTTP request a policy looks at (gateways; a test input).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Request {
    #[serde(default)]
    pub method: String,
    #[serde(default)]
    pub path: String,
    /// Header names in any case; a header sent twice is one string with the values joined by `, `.
    #[serde(default)]
    pub headers: HashMap<String, String>,
}

/// What the subject has consented to (the privacy API keeps it; empty until it does).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Consents {
    /// Consent ids with a current (not stale, not withdrawn) grant.
    pub granted: HashSet<String>,
    /// Consent action id → the ids of its required consents.
    pub actions: HashMap<String, Vec<String>>,
}

/// Everything a policy may look at.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    /// The subject's authentication context (an object; `Null` when there is no subject).
    pub authentication_context: &'a Value,
    /// The client, as the admin API shows it (`Null` when none).
    pub client: &'a Value,
    /// Scopes requested or carried.
    pub scopes: &'a [String],
    pub request: Option<&'a Request>,
    pub consents: &'a Consents,
}

/// The outcome of one evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub pass: bool,
    /// The name of the first validator that failed (`rego` for a Rego policy).
    pub failed_validator: Option<String>,
    /// Its recovery entries.
    pub recovery: Vec<Recovery>,
    /// Why, for logs and the test operation (never shown to the person being denied).
    pub reason: Option<String>,
}

impl Decision {
    fn pass() -> Self {
        Self {
            pass: true,
            failed_validator: None,
            recovery: Vec::new(),
            reason: None,
        }
    }
}

impl Policy {
    /// Compiles a policy; a Rego policy is evaluated where `rego` says. Errors name the member
    /// (`validators[1].conf.fields[0].value`, `definition`) and the reason (with the line for
    /// Rego).
    pub fn compile(
        language: Language,
        validators: &[ValidatorSpec],
        definition: Option<&str>,
        rego: &Rego,
    ) -> Result<Self, CompileError> {
        compile::compile(language, validators, definition, rego, true)
    }

    /// [`Policy::compile`] for a stored policy, which was checked when written: a Rego one is
    /// parsed but not evaluated (loading a tenant's configuration runs none of its policies).
    pub fn load(
        language: Language,
        validators: &[ValidatorSpec],
        definition: Option<&str>,
        rego: &Rego,
    ) -> Result<Self, CompileError> {
        compile::compile(language, validators, definition, rego, false)
    }

    /// Whether evaluation looks at the subject's consents (a `consent` validator, or a Rego
    /// definition that reads `input.consents`), so callers load them only when it does.
    pub fn needs_consents(&self) -> bool {
        match &self.body {
            Body::Validators(checks) => checks
                .iter()
                .any(|c| matches!(c.kind, compile::Kind::Consents(_) | compile::Kind::Action(_))),
            Body::Rego(_) => self.rego_reads_consents,
        }
    }

    /// Whether evaluation looks at the HTTP request (a `header` validator, or any Rego
    /// definition), so callers build it only when it does.
    pub fn reads_request(&self) -> bool {
        match &self.body {
            Body::Validators(checks) => checks.iter().any(|c| matches!(c.kind, compile::Kind::Header(_))),
            Body::Rego(_) => true,
        }
    }

    /// Whether evaluation may read the request header `name` (any case): a `header` validator
    /// names it, or the policy is Rego (which may read any). Callers copy only those headers.
    pub fn reads_header(&self, name: &str) -> bool {
        match &self.body {
            Body::Validators(checks) => checks.iter().any(|c| match &c.kind {
                compile::Kind::Header(rules) => rules
                    .iter()
                    .any(|r| r.path.first().is_some_and(|h| h.eq_ignore_ascii_case(name))),
                _ => false,
            }),
            Body::Rego(_) => true,
        }
    }

    /// Whether evaluation looks at the authentication context (an `identity-context` validator,
    /// or any Rego definition).
    pub fn reads_identity(&self) -> bool {
        match &self.body {
            Body::Validators(checks) => checks.iter().any(|c| matches!(c.kind, compile::Kind::Identity(_))),
            Body::Rego(_) => true,
        }
    }

    /// Evaluates the policy; never fails: an error inside a Rego evaluation (the time limit
    /// reached, a runtime error) is a failed decision.
    pub fn evaluate(&self, input: &Input<'_>) -> Decision {
        match &self.body {
            Body::Validators(checks) => evaluate::validators(checks, input),
            Body::Rego(body) => evaluate::rego(body, input),
        }
    }
}
