//! A small Rego policy evaluated in this process and in a policy worker (the server's way):
//! the worker's cost is the round trip over its pipes. `cargo bench -p castellan --bench rego`.

use std::collections::HashMap;

use castellan_policy::{Consents, Input, Language, Policy, Rego, Request};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;

const DEFINITION: &str = "package castellan\n\ndefault allow := false\n\nallow if {\n  input.authentication_context.email_verified\n  \"devs\" in input.authentication_context.groups\n  \"orders.read\" in input.scopes\n}\n";

fn rego(c: &mut Criterion) {
    let ctx = json!({"email_verified": true, "groups": ["devs"]});
    let client = json!({"client_id": "c"});
    let scopes = vec!["orders.read".to_owned()];
    let request = Request {
        method: "GET".into(),
        path: "/orders".into(),
        headers: HashMap::new(),
    };
    let consents = Consents::default();
    let input = Input {
        authentication_context: &ctx,
        client: &client,
        scopes: &scopes,
        request: Some(&request),
        consents: &consents,
    };
    let worker = Rego::isolated(env!("CARGO_BIN_EXE_castellan").into(), 1);
    for (name, runner) in [("rego_in_process", Rego::in_process()), ("rego_in_worker", worker)] {
        let Ok(p) = Policy::compile(Language::Rego, &[], Some(DEFINITION), &runner) else {
            eprintln!("{name}: the policy does not compile");
            return;
        };
        if !p.evaluate(&input).pass {
            eprintln!("{name}: the policy does not pass");
            return;
        }
        c.bench_function(name, |b| b.iter(|| p.evaluate(std::hint::black_box(&input))));
    }
}

criterion_group!(benches, rego);
criterion_main!(benches);
