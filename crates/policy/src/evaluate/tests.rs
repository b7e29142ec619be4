#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;

use serde_json::json;

use crate::*;

fn policy(validators: Value) -> Policy {
    let specs: Vec<ValidatorSpec> = serde_json::from_value(validators).unwrap();
    Policy::compile(Language::Cloudentity, &specs, None, &Rego::in_process()).unwrap()
}

fn compile_err(validators: Value) -> CompileError {
    let specs: Vec<ValidatorSpec> = serde_json::from_value(validators).unwrap();
    Policy::compile(Language::Cloudentity, &specs, None, &Rego::in_process()).unwrap_err()
}

fn ctx_decision(p: &Policy, ctx: &Value) -> Decision {
    p.evaluate(&Input {
        authentication_context: ctx,
        client: &Value::Null,
        scopes: &[],
        request: None,
        consents: &Consents::default(),
    })
}

fn one(comparator: &str, value: Option<Value>) -> Policy {
    let mut f = json!({"field": "a.b", "comparator": comparator});
    if let Some(v) = value {
        f["value"] = v;
    }
    policy(json!([{"name": "identity-context", "conf": {"fields": [f]}}]))
}

#[test]
fn every_comparator_passes_and_fails() {
    let cases: Vec<(&str, Option<Value>, Value, bool)> = vec![
        ("equals", Some(json!("x")), json!("x"), true),
        ("equals", Some(json!("x")), json!("y"), false),
        ("equals", Some(json!(true)), json!("true"), false),
        ("equals", Some(json!(3)), json!(3), true),
        ("not_equals", Some(json!("x")), json!("y"), true),
        ("not_equals", Some(json!("x")), json!("x"), false),
        ("contains", Some(json!("ample")), json!("example"), true),
        ("contains", Some(json!("nope")), json!("example"), false),
        ("contains", Some(json!("admin")), json!(["dev", "admin"]), true),
        ("contains", Some(json!("root")), json!(["dev", "admin"]), false),
        ("contains", Some(json!("1")), json!(1), false),
        ("one_of", Some(json!(["NO", "SE"])), json!("NO"), true),
        ("one_of", Some(json!(["NO", "SE"])), json!("DK"), false),
        ("present", None, json!(""), true),
        ("present", None, Value::Null, false),
        ("not_present", None, json!("x"), false),
        ("not_present", None, Value::Null, true),
        (
            "matches",
            Some(json!("^[a-z]+@example\\.com$")),
            json!("pat@example.com"),
            true,
        ),
        (
            "matches",
            Some(json!("^[a-z]+@example\\.com$")),
            json!("pat@evil.com"),
            false,
        ),
        ("matches", Some(json!("x")), json!(5), false),
        ("gt", Some(json!(17)), json!(18), true),
        ("gt", Some(json!(17)), json!(17), false),
        ("gt", Some(json!(17)), json!("18"), false),
        ("lt", Some(json!(1.5)), json!(1), true),
        ("lt", Some(json!(1.5)), json!(2), false),
        ("lt", Some(json!(1.5)), json!(1.5), false),
    ];
    for (cmp, value, actual, expected) in cases {
        let p = one(cmp, value.clone());
        let d = ctx_decision(&p, &json!({"a": {"b": actual}}));
        assert_eq!(d.pass, expected, "{cmp} {value:?} against {actual}: {d:?}");
        if !expected {
            assert_eq!(d.failed_validator.as_deref(), Some("identity-context"));
            let says = match cmp {
                "equals" => "a.b does not equal the value",
                "not_equals" => "a.b equals the value or is missing",
                "contains" => "a.b does not contain the value",
                "one_of" => "a.b is not one of the values",
                "present" => "a.b is missing",
                "not_present" => "a.b is present",
                "matches" => "a.b does not match the expression",
                "gt" => "a.b is not a number greater than the value",
                "lt" => "a.b is not a number less than the value",
                other => panic!("{other}"),
            };
            let reason = d.reason.unwrap();
            assert!(reason.contains(says), "{reason}");
        }
    }
}

#[test]
fn a_missing_field_or_a_context_of_the_wrong_type_fails_all_but_not_present() {
    for (cmp, value) in [
        ("equals", Some(json!("x"))),
        ("not_equals", Some(json!("x"))),
        ("contains", Some(json!("x"))),
        ("one_of", Some(json!(["x"]))),
        ("present", None),
        ("matches", Some(json!("."))),
        ("gt", Some(json!(0))),
        ("lt", Some(json!(0))),
    ] {
        let p = one(cmp, value);
        for ctx in [
            json!({}),
            json!({"a": 5}),
            json!({"a": {"c": 1}}),
            Value::Null,
            json!([1]),
        ] {
            assert!(!ctx_decision(&p, &ctx).pass, "{cmp} on {ctx}");
        }
    }
    let p = one("not_present", None);
    assert!(ctx_decision(&p, &json!({})).pass);
    assert!(ctx_decision(&p, &Value::Null).pass);
}

#[test]
fn validators_run_in_order_and_the_first_failure_brings_its_recovery() {
    let p = policy(json!([
        {"name": "true"},
        {"name": "identity-context", "conf": {"fields": [{"field": "email_verified", "comparator": "equals", "value": true}]},
         "recovery": [{"id": "verify-email", "type": "email"}]},
        {"name": "false", "recovery": [{"id": "never", "type": "x"}]},
    ]));
    let d = ctx_decision(&p, &json!({"email_verified": false}));
    assert!(!d.pass);
    assert_eq!(d.failed_validator.as_deref(), Some("identity-context"));
    assert_eq!(
        d.recovery,
        vec![Recovery {
            id: "verify-email".into(),
            kind: "email".into()
        }]
    );
    let d = ctx_decision(&p, &json!({"email_verified": true}));
    assert_eq!(d.failed_validator.as_deref(), Some("false"));
    assert_eq!(d.recovery[0].id, "never");
    assert!(
        ctx_decision(&policy(json!([])), &Value::Null).pass,
        "no validator: pass"
    );
    assert!(ctx_decision(&policy(json!([{"name": "true"}])), &Value::Null).pass);
}

#[test]
fn headers_scopes_and_consents() {
    let p = policy(json!([
        {"name": "header", "conf": {"fields": [{"field": "X-Tenant-Region", "comparator": "one_of", "value": ["eu", "us"]}]}},
        {"name": "scopes", "conf": {"scopes": ["orders.read"]}},
        {"name": "consent", "conf": {"consents": ["marketing"]}},
    ]));
    let mut req = Request {
        method: "GET".into(),
        path: "/orders".into(),
        headers: HashMap::from([("x-tenant-region".to_owned(), "eu".to_owned())]),
    };
    let scopes = vec!["orders.read".to_owned(), "openid".to_owned()];
    let mut consents = Consents::default();
    consents.granted.insert("marketing".into());
    let eval = |req: &Request, scopes: &[String], consents: &Consents| {
        p.evaluate(&Input {
            authentication_context: &Value::Null,
            client: &Value::Null,
            scopes,
            request: Some(req),
            consents,
        })
    };
    assert!(eval(&req, &scopes, &consents).pass);
    assert_eq!(
        eval(&req, &scopes[1..], &consents).failed_validator.as_deref(),
        Some("scopes")
    );
    assert_eq!(
        eval(&req, &scopes, &Consents::default()).failed_validator.as_deref(),
        Some("consent")
    );
    req.headers.insert("x-tenant-region".into(), "ap".into());
    assert_eq!(
        eval(&req, &scopes, &consents).failed_validator.as_deref(),
        Some("header")
    );
    req.headers.clear();
    assert_eq!(
        eval(&req, &scopes, &consents).failed_validator.as_deref(),
        Some("header")
    );
    // No request at all: a header validator fails.
    let d = p.evaluate(&Input {
        authentication_context: &Value::Null,
        client: &Value::Null,
        scopes: &scopes,
        request: None,
        consents: &consents,
    });
    assert_eq!(d.failed_validator.as_deref(), Some("header"));

    let by_action = policy(json!([{"name": "consent", "conf": {"action": "signup"}}]));
    let mut c = Consents::default();
    let eval = |c: &Consents| {
        by_action
            .evaluate(&Input {
                authentication_context: &Value::Null,
                client: &Value::Null,
                scopes: &[],
                request: None,
                consents: c,
            })
            .pass
    };
    assert!(!eval(&c), "unknown action");
    c.actions
        .insert("signup".into(), vec!["terms".into(), "privacy".into()]);
    c.granted.insert("terms".into());
    assert!(!eval(&c), "one required consent missing");
    c.granted.insert("privacy".into());
    assert!(eval(&c));
}

#[test]
fn bad_policies_are_named() {
    for (validators, field, needle) in [
        (json!([{"name": "magic"}]), "validators[0].name", "unknown validator"),
        (
            json!([{"name": "true", "conf": {"x": 1}}]),
            "validators[0].conf.x",
            "no conf",
        ),
        (
            json!([{"name": "true"}, {"name": "identity-context", "conf": {}}]),
            "validators[1].conf.fields",
            "required",
        ),
        (
            json!([{"name": "identity-context", "conf": {"fields": [{"field": "a", "comparator": "matches", "value": "(unclosed"}]}}]),
            "validators[0].conf.fields[0].value",
            "not a regular expression",
        ),
        (
            json!([{"name": "identity-context", "conf": {"fields": [{"field": "a", "comparator": "bigger", "value": 1}]}}]),
            "validators[0].conf.fields[0].comparator",
            "unknown comparator",
        ),
        (
            json!([{"name": "identity-context", "conf": {"fields": [{"field": "a", "comparator": "gt", "value": "1"}]}}]),
            "validators[0].conf.fields[0].value",
            "a number",
        ),
        (
            json!([{"name": "identity-context", "conf": {"fields": [{"field": "a", "comparator": "one_of", "value": "x"}]}}]),
            "validators[0].conf.fields[0].value",
            "list",
        ),
        (
            json!([{"name": "identity-context", "conf": {"fields": [{"field": "a", "comparator": "present", "value": 1}]}}]),
            "validators[0].conf.fields[0].value",
            "no value",
        ),
        (
            json!([{"name": "identity-context", "conf": {"fields": [{"field": "a..b", "comparator": "present"}]}}]),
            "validators[0].conf.fields[0].field",
            "dotted",
        ),
        (
            json!([{"name": "header", "conf": {"fields": [{"comparator": "present"}]}}]),
            "validators[0].conf.fields[0].field",
            "required",
        ),
        (
            json!([{"name": "header", "conf": {"fields": [{"field": "a", "comparator": "present", "extra": 1}]}}]),
            "validators[0].conf.fields[0].extra",
            "unknown member",
        ),
        (
            json!([{"name": "consent", "conf": {}}]),
            "validators[0].conf",
            "consents",
        ),
        (
            json!([{"name": "consent", "conf": {"consents": [""]}}]),
            "validators[0].conf.consents[0]",
            "non-empty",
        ),
        (
            json!([{"name": "scopes", "conf": {"scopes": []}}]),
            "validators[0].conf.scopes",
            "list",
        ),
        (
            json!([{"name": "scopes", "conf": {"scopes": ["a"], "x": 1}}]),
            "validators[0].conf.x",
            "unknown member; this validator takes scopes",
        ),
        (
            json!([{"name": "consent", "conf": {"action": ""}}]),
            "validators[0].conf.action",
            "consent action id",
        ),
        (
            json!([{"name": "consent", "conf": {"action": 5}}]),
            "validators[0].conf.action",
            "consent action id",
        ),
        (
            json!([{"name": "identity-context", "conf": {"fields": []}}]),
            "validators[0].conf.fields",
            "a list of 1 to 64",
        ),
        (
            json!([{"name": "identity-context", "conf": {"fields": vec![json!({"field": "a", "comparator": "present"}); 65]}}]),
            "validators[0].conf.fields",
            "a list of 1 to 64",
        ),
        (
            json!([{"name": "header", "conf": {"fields": [{"field": "", "comparator": "present"}]}}]),
            "validators[0].conf.fields[0].field",
            "a non-empty string",
        ),
        (
            json!([{"name": "true", "recovery": [{"id": "", "type": "x"}]}]),
            "validators[0].recovery[0]",
            "empty",
        ),
    ] {
        let e = compile_err(validators.clone());
        assert_eq!(e.field, field, "{validators}: {e}");
        assert!(e.reason.contains(needle), "{validators}: {e}");
    }
}

fn rego(definition: &str) -> Result<Policy, CompileError> {
    Policy::compile(Language::Rego, &[], Some(definition), &Rego::in_process())
}

#[test]
fn rego_allows_and_denies_from_the_input() {
    let p = rego(
            "package castellan\n\ndefault allow := false\n\nallow if {\n  input.authentication_context.email_verified == true\n  \"orders.read\" in input.scopes\n}\n",
        )
        .unwrap();
    let scopes = vec!["orders.read".to_owned()];
    let eval = |ctx: Value, scopes: &[String]| {
        p.evaluate(&Input {
            authentication_context: &ctx,
            client: &Value::Null,
            scopes,
            request: None,
            consents: &Consents::default(),
        })
    };
    assert!(eval(json!({"email_verified": true}), &scopes).pass);
    let d = eval(json!({"email_verified": false}), &scopes);
    assert!(!d.pass);
    assert_eq!(d.failed_validator.as_deref(), Some("rego"));
    assert!(!eval(json!({"email_verified": true}), &[]).pass);
    // An allow that is undefined (no default) is a denial.
    let p = rego("package castellan\nallow if input.request.method == \"GET\"\n").unwrap();
    let req = Request {
        method: "POST".into(),
        ..Default::default()
    };
    let d = p.evaluate(&Input {
        authentication_context: &Value::Null,
        client: &Value::Null,
        scopes: &[],
        request: Some(&req),
        consents: &Consents::default(),
    });
    assert!(!d.pass);
}

#[test]
fn a_runaway_rego_policy_is_stopped_and_fails() {
    // A 200-element list, crossed with itself four times: 1.6 * 10^9 steps.
    let p = rego(&format!(
            "package castellan\nxs := split(\"{}\", \",\")\nallow if {{\n  count([[a, b, c, d] | some a in xs; some b in xs; some c in xs; some d in xs]) > 0\n}}\n",
            vec!["a"; 200].join(",")
        ))
        .unwrap();
    let d = p.evaluate(&Input {
        authentication_context: &Value::Null,
        client: &Value::Null,
        scopes: &[],
        request: None,
        consents: &Consents::default(),
    });
    assert!(!d.pass);
    assert!(d.reason.unwrap().contains("time limit"));
}

#[test]
fn bad_rego_is_named_with_its_line() {
    let e = rego("package castellan\nallow if {\n  input.x ==\n}\n").unwrap_err();
    assert_eq!(e.field, "definition");
    assert!(e.reason.contains(":4:"), "{e}");
    let e = rego("package other\nallow := true\n").unwrap_err();
    assert!(e.reason.contains("package must be castellan"), "{e}");
    let e = rego("package castellan\ndeny := true\n").unwrap_err();
    assert!(e.reason.contains("allow"), "{e}");
    let e = rego("package castellan\nallow if no_such_function(1)\n").unwrap_err();
    assert_eq!(e.field, "definition", "{e}");
    assert!(rego("").is_err());
    assert!(Policy::compile(Language::Rego, &[], None, &Rego::in_process()).is_err());
    let specs: Vec<ValidatorSpec> = serde_json::from_value(json!([{"name": "true"}])).unwrap();
    let e = Policy::compile(
        Language::Rego,
        &specs,
        Some("package castellan\nallow := true\n"),
        &Rego::in_process(),
    )
    .unwrap_err();
    assert_eq!(e.field, "validators");
    let e = Policy::compile(
        Language::Cloudentity,
        &[],
        Some("package castellan"),
        &Rego::in_process(),
    )
    .unwrap_err();
    assert_eq!(e.field, "definition");
    let big = format!(
        "package castellan\nallow := true\n#{}",
        "x".repeat(MAX_DEFINITION_BYTES)
    );
    assert!(rego(&big).unwrap_err().reason.contains("at most"));
    // The limit itself is allowed.
    let head = "package castellan\nallow := true\n#";
    let exact = format!("{head}{}", "x".repeat(MAX_DEFINITION_BYTES - head.len()));
    assert_eq!(exact.len(), MAX_DEFINITION_BYTES);
    assert!(rego(&exact).is_ok());
    // A definition of a few KiB (comments, many rules) is ordinary.
    let commented = format!("package castellan\nallow := true\n#{}", "x".repeat(8 * 1024));
    assert!(rego(&commented).is_ok());
}

#[test]
fn a_policy_holds_at_most_64_validators() {
    let validators = |n: usize| json!(vec![json!({"name": "true"}); n]);
    assert!(
        policy(validators(64))
            .evaluate(&Input {
                authentication_context: &Value::Null,
                client: &Value::Null,
                scopes: &[],
                request: None,
                consents: &Consents::default(),
            })
            .pass
    );
    let e = compile_err(validators(65));
    assert_eq!(e.field, "validators");
    assert!(e.reason.contains("at most 64 validators"), "{e}");
}

#[test]
fn what_a_policy_reads_is_known_before_evaluating() {
    let scopes = policy(json!([{"name": "scopes", "conf": {"scopes": ["a"]}}]));
    assert!(!scopes.reads_request() && !scopes.reads_identity() && !scopes.needs_consents());
    let header =
        policy(json!([{"name": "header", "conf": {"fields": [{"field": "x-team", "comparator": "present"}]}}]));
    assert!(header.reads_request() && !header.reads_identity());
    assert!(header.reads_header("X-Team") && header.reads_header("x-team") && !header.reads_header("cookie"));
    assert!(!scopes.reads_header("x-team"));
    let identity =
        policy(json!([{"name": "identity-context", "conf": {"fields": [{"field": "sub", "comparator": "present"}]}}]));
    assert!(identity.reads_identity() && !identity.reads_request());
    let rego = Policy::compile(
        Language::Rego,
        &[],
        Some("package castellan\n\ndefault allow := true\n"),
        &Rego::in_process(),
    )
    .unwrap();
    assert!(rego.reads_request() && rego.reads_identity() && rego.reads_header("cookie"));
}
