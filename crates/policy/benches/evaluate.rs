//! Policy evaluation cost: a five-validator policy and a small Rego policy, each against a
//! typical sign-in input (`cargo bench -p castellan-policy`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

use castellan_policy::{Consents, Input, Language, Policy, Rego, Request, ValidatorSpec};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;

fn evaluate(c: &mut Criterion) {
    let ctx = json!({"sub": "pat", "email": "pat@example.com", "email_verified": true,
        "groups": ["devs", "staff"], "age": 34, "address": {"country": "NO"}});
    let client = json!({"client_id": "shop", "client_name": "Shop"});
    let scopes = vec!["openid".to_owned(), "orders.read".to_owned()];
    let request = Request {
        method: "GET".into(),
        path: "/orders/42".into(),
        headers: HashMap::from([
            ("x-region".to_owned(), "eu".to_owned()),
            ("accept".to_owned(), "application/json".to_owned()),
        ]),
    };
    let consents = Consents::default();
    let input = Input {
        authentication_context: &ctx,
        client: &client,
        scopes: &scopes,
        request: Some(&request),
        consents: &consents,
    };
    let validators: Vec<ValidatorSpec> = serde_json::from_value(json!([
        {"name": "true"},
        {"name": "identity-context", "conf": {"fields": [
            {"field": "email_verified", "comparator": "equals", "value": true},
            {"field": "address.country", "comparator": "one_of", "value": ["NO", "SE", "DK"]}]}},
        {"name": "identity-context", "conf": {"fields": [
            {"field": "email", "comparator": "matches", "value": "@example\\.com$"},
            {"field": "age", "comparator": "gt", "value": 17}]}},
        {"name": "header", "conf": {"fields": [{"field": "X-Region", "comparator": "equals", "value": "eu"}]}},
        {"name": "scopes", "conf": {"scopes": ["orders.read"]}},
    ]))
    .unwrap();
    let p = Policy::compile(Language::Cloudentity, &validators, None, &Rego::in_process()).unwrap();
    assert!(p.evaluate(&input).pass);
    c.bench_function("validators_5", |b| b.iter(|| p.evaluate(std::hint::black_box(&input))));

    let rego = Policy::compile(
        Language::Rego,
        &[],
        Some(
            "package castellan\n\ndefault allow := false\n\nallow if {\n  input.authentication_context.email_verified\n  \"devs\" in input.authentication_context.groups\n  \"orders.read\" in input.scopes\n}\n",
        ),
        &Rego::in_process(),
    )
    .unwrap();
    assert!(rego.evaluate(&input).pass);
    c.bench_function("rego_small", |b| b.iter(|| rego.evaluate(std::hint::black_box(&input))));
}

/// One lookup in a service of 500 APIs (100 resources × list, create, get, update, delete).
fn routes(c: &mut Criterion) {
    use castellan_policy::routes::{Matched, RouteTarget, ServiceRoutes};
    let mut apis = Vec::new();
    for i in 0..100 {
        let collection = format!("/v1/resource{i}");
        let item = format!("/v1/resource{i}/{{id}}");
        for (m, p) in [
            ("GET", &collection),
            ("POST", &collection),
            ("GET", &item),
            ("PUT", &item),
            ("DELETE", &item),
        ] {
            apis.push((m, p.clone()));
        }
    }
    let r = ServiceRoutes::build(apis.iter().enumerate().map(|(n, (m, p))| {
        (
            *m,
            p.as_str(),
            RouteTarget {
                api_id: n.to_string(),
                policy_id: None,
            },
        )
    }))
    .unwrap();
    assert!(matches!(r.find("PUT", "/v1/resource57/abc-123"), Matched::Api(_)));
    c.bench_function("route_match_500_apis", |b| {
        b.iter(|| {
            r.find(
                std::hint::black_box("PUT"),
                std::hint::black_box("/v1/resource57/abc-123"),
            )
        })
    });
}

criterion_group!(benches, evaluate, routes);
criterion_main!(benches);
