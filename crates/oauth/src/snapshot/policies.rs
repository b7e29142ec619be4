//! A tenant's policies, compiled when written (with the write-time dry run) or loaded (without).

use std::collections::HashMap;
use std::sync::Arc;

use castellan_domain::TenantId;
use castellan_store::StoreError;

use super::*;

/// A tenant's policies, compiled once when loaded and evaluated many times.
#[derive(Debug, Default)]
pub struct PolicySet {
    pub(super) compiled: HashMap<String, Arc<castellan_policy::Policy>>,
}

impl PolicySet {
    /// The policy with this id. A stored policy that no longer compiles (written by another
    /// version) is absent, and whatever refers to it is refused: policies fail closed.
    pub fn get(&self, id: &str) -> Option<&castellan_policy::Policy> {
        self.compiled.get(id).map(|p| &**p)
    }

    /// Evaluates policy `id`; an unknown id fails.
    pub fn evaluate(&self, id: &str, input: &castellan_policy::Input<'_>) -> castellan_policy::Decision {
        match self.get(id) {
            Some(p) => p.evaluate(input),
            None => castellan_policy::Decision {
                pass: false,
                failed_validator: None,
                recovery: Vec::new(),
                reason: Some(format!("policy {id} does not exist or does not compile")),
            },
        }
    }
}

/// Compiles a policy being written, with every check ([`castellan_policy::Policy::compile`]: a
/// Rego one is also evaluated once on an empty input).
pub fn compile_policy(
    p: &castellan_domain::Policy,
    rego: &castellan_policy::Rego,
) -> Result<castellan_policy::Policy, castellan_policy::CompileError> {
    build_policy(p, rego, castellan_policy::Policy::compile)
}

/// Compiles a stored policy, checked when it was written ([`castellan_policy::Policy::load`]).
pub fn load_policy(
    p: &castellan_domain::Policy,
    rego: &castellan_policy::Rego,
) -> Result<castellan_policy::Policy, castellan_policy::CompileError> {
    build_policy(p, rego, castellan_policy::Policy::load)
}

pub(super) type PolicyBuilder = fn(
    castellan_policy::Language,
    &[castellan_policy::ValidatorSpec],
    Option<&str>,
    &castellan_policy::Rego,
) -> Result<castellan_policy::Policy, castellan_policy::CompileError>;

pub(super) fn build_policy(
    p: &castellan_domain::Policy,
    rego: &castellan_policy::Rego,
    build: PolicyBuilder,
) -> Result<castellan_policy::Policy, castellan_policy::CompileError> {
    let language = castellan_policy::Language::parse(&p.language).ok_or_else(|| castellan_policy::CompileError {
        field: "language".into(),
        reason: format!("unknown language {:?}", p.language),
    })?;
    let validators: Vec<castellan_policy::ValidatorSpec> =
        serde_json::from_value(p.validators.clone()).map_err(|e| castellan_policy::CompileError {
            field: "validators".into(),
            reason: e.to_string(),
        })?;
    build(language, &validators, p.definition.as_deref(), rego)
}

pub(super) async fn load_policies(src: &Source<'_>, tid: &TenantId) -> Result<PolicySet, StoreError> {
    let mut compiled = HashMap::new();
    for p in src.store.list_policies(tid).await? {
        match load_policy(&p, src.rego) {
            Ok(c) => {
                compiled.insert(p.id, Arc::new(c));
            }
            Err(e) => {
                tracing::error!(tenant = %tid, policy = %p.id, error = %e, "stored policy does not compile; it fails")
            }
        }
    }
    Ok(PolicySet { compiled })
}
