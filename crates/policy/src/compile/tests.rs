use super::{CompileError, Rego, RegoBody, one_line};
use crate::rego::REGO_RULE;

fn rego(definition: &str) -> Result<RegoBody, CompileError> {
    super::rego(definition, &Rego::in_process(), true)
}

#[test]
fn diagnostics_become_one_line_without_their_drawing() {
    let msg = "policy.rego:4:7: error: unexpected token\n   |\n 4 | allow if {\n   |       ^^^\n\n  expected `}`\n";
    assert_eq!(
        one_line(msg),
        "policy.rego:4:7: error: unexpected token 4 | allow if { expected `}`"
    );
}

fn rego_with(expr: &str) -> String {
    format!("package castellan\nallow if {{\n  x := {expr}\n  x != 0\n}}\n")
}

#[test]
fn rego_nesting_is_bounded_before_parsing() {
    for open in ["(", "[", "{"] {
        let close = match open {
            "(" => ")",
            "[" => "]",
            _ => "}",
        };
        // The rule's own braces count: 1 + 11 = 12 levels are accepted, and fast.
        let ok = rego_with(&format!("{}1{}", open.repeat(11), close.repeat(11)));
        let r = rego(&ok);
        assert!(!r.as_ref().is_err_and(|e| e.reason.contains("nest")), "{open}: {r:?}");
        let deep = rego_with(&format!("{}1{}", open.repeat(12), close.repeat(12)));
        let e = rego(&deep).err().unwrap();
        assert_eq!(e.field, "definition");
        assert!(e.reason.contains("nest more than 12"), "{}", e.reason);
        // Unbalanced openings alone are refused the same way, and never reach the parser.
        let e = rego(&format!("package castellan\nallow if {}", open.repeat(200)))
            .err()
            .unwrap();
        assert!(e.reason.contains("nest more than 12"), "{}", e.reason);
    }
    // Brackets in strings and comments do not count.
    let quoted = rego_with(&format!("\"{}\" # {}\n", "[".repeat(100), "(".repeat(100)));
    assert!(rego(&quoted).is_ok(), "{:?}", rego(&quoted).err());
    let raw = rego_with(&format!("`{}`", "{".repeat(100)));
    assert!(rego(&raw).is_ok(), "{:?}", rego(&raw).err());
    // An escaped quote does not end a string: the brackets after it are still inside.
    let escaped = rego_with(&format!("\"a\\\"{}\" == \"b\"", "[".repeat(100)));
    assert!(rego(&escaped).is_ok(), "{:?}", rego(&escaped).err());
    // A string ends at its closing quote: brackets after it count.
    let after = rego_with(&format!("\"a\" == {}1{}", "[".repeat(12), "]".repeat(12)));
    let e = rego(&after).err().unwrap();
    assert!(e.reason.contains("nest more than 12"), "{}", e.reason);
}

#[test]
fn builtins_a_time_limit_cannot_stop_are_refused() {
    for call in [
        "count(numbers.range(1, 20000000))",
        "count(numbers.range_step(1, 20000000, 1))",
    ] {
        let e = rego(&rego_with(call)).err().unwrap();
        assert_eq!(e.field, "definition");
        assert!(e.reason.contains("is not available in policies"), "{}", e.reason);
    }
}

#[test]
fn the_validator_schema_names_every_validator_the_checks_accept() {
    use super::{MAX_ITEMS, ValidatorSpec, check, validator_schema};
    let schema = validator_schema();
    let names: Vec<&str> = schema["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|alt| alt["properties"]["name"]["enum"].as_array().unwrap())
        .map(|n| n.as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["true", "false", "identity-context", "header", "consent", "scopes"]
    );
    let spec = |name: &str, conf: serde_json::Value| ValidatorSpec {
        name: name.into(),
        conf: conf.as_object().cloned().unwrap_or_default(),
        recovery: vec![],
    };
    let rule = serde_json::json!({"fields": [{"field": "a", "comparator": "present"}]});
    for (name, conf) in [
        ("true", serde_json::json!({})),
        ("false", serde_json::json!({})),
        ("identity-context", rule.clone()),
        ("header", rule),
        ("consent", serde_json::json!({"consents": ["c"]})),
        ("scopes", serde_json::json!({"scopes": ["s"]})),
    ] {
        assert!(check("validators[0]", &spec(name, conf)).is_ok(), "{name}");
    }
    assert!(check("validators[0]", &spec("nope", serde_json::json!({}))).is_err());
    // The list limit the checks apply is the one the schema states.
    let fields = &schema["oneOf"][1]["properties"]["conf"]["properties"]["fields"];
    assert_eq!(fields["maxItems"], MAX_ITEMS);
}

#[test]
fn print_does_not_reach_the_process_output() {
    // Gathered by the engine (and dropped with the evaluation's copy), not written to stderr.
    let engine = crate::rego::parse_rego(&rego_with("1\n  print(\"forged log line\")")).unwrap();
    let mut e = engine.clone();
    e.set_input(regorus::Value::new_object());
    let _ = e.eval_rule(REGO_RULE.into());
    let prints = e.take_prints().unwrap();
    assert!(prints.iter().any(|p| p.contains("forged log line")), "{prints:?}");
}
