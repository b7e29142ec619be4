//! Rego definitions as text: the limits a definition is held to, what is checked of its text
//! before it is parsed, and its parse into an interpreter (used when a policy compiles and in the
//! evaluation worker).

use std::num::NonZeroU32;
use std::time::Duration;

use regorus::utils::limits::ExecutionTimerConfig;

use crate::error::{CompileError, err};

/// The Rego rule a policy must declare, and that must be `true` for it to pass.
pub const REGO_RULE: &str = "data.castellan.allow";
/// How long one Rego evaluation may run before it is stopped and answered as a failure.
pub const REGO_TIME_LIMIT: Duration = Duration::from_millis(50);
/// The largest Rego definition accepted.
pub const MAX_DEFINITION_BYTES: usize = 64 * 1024;
/// How deeply brackets (`(`, `[`, `{`) may nest in a Rego definition. regorus 0.14's parser
/// doubles its time with each level of `[` or `{` (measured: 14 levels 65 ms in a debug build, so
/// a 140-byte module never finishes); real policies nest a few levels. At 12 a parse takes at
/// most ~16 ms in a debug build.
pub const MAX_REGO_NESTING: usize = 12;
/// Builtins refused in Rego definitions: each builds a value as large as its arguments ask in one
/// step, where the evaluation time limit cannot stop it (`numbers.range(1, 2e7)` took half a
/// second and 480 MiB).
pub const REFUSED_BUILTINS: [&str; 2] = ["numbers.range_step", "numbers.range"];

/// The engine of a definition: its text checked, parsed, its package and rule checked, with the
/// interpreter's time limit set and `print()` kept out of the process's output.
pub(crate) fn parse_rego(definition: &str) -> Result<regorus::Engine, CompileError> {
    if definition.len() > MAX_DEFINITION_BYTES {
        return Err(err("definition", format!("at most {MAX_DEFINITION_BYTES} bytes")));
    }
    check_rego_text(definition)?;
    let mut engine = regorus::Engine::new();
    // `print()` would write the policy author's text to stderr, that is into the request log;
    // gathered instead, and dropped with the evaluation's copy of the engine.
    engine.set_gather_prints(true);
    engine.set_execution_timer_config(ExecutionTimerConfig {
        limit: REGO_TIME_LIMIT,
        check_interval: NonZeroU32::MIN,
    });
    // The interpreter's message names the line and column and shows the line.
    let package = engine
        .add_policy("policy.rego".into(), definition.into())
        .map_err(|e| err("definition", one_line(&e.to_string())))?;
    if package != "data.castellan" {
        return Err(err(
            "definition",
            format!("the package must be castellan (package castellan), not {package}"),
        ));
    }
    if !engine
        .has_declared_rule_rooted_at("policy.rego", "allow")
        .map_err(|e| err("definition", one_line(&e.to_string())))?
    {
        return Err(err("definition", "declares no rule allow (data.castellan.allow)"));
    }
    Ok(engine)
}

/// What is checked of a definition before it is parsed: bracket nesting (outside strings and
/// comments) and the builtins that a time limit cannot bound.
pub(crate) fn check_rego_text(definition: &str) -> Result<(), CompileError> {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut chars = definition.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '#' => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '"' => {
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
            }
            '`' => {
                for c in chars.by_ref() {
                    if c == '`' {
                        break;
                    }
                }
            }
            '(' | '[' | '{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if deepest > MAX_REGO_NESTING {
            return Err(err(
                "definition",
                format!("brackets nest more than {MAX_REGO_NESTING} deep"),
            ));
        }
    }
    for name in REFUSED_BUILTINS {
        if definition.contains(name) {
            return Err(err(
                "definition",
                format!("{name} is not available in policies: it builds values too large to bound"),
            ));
        }
    }
    Ok(())
}

/// Rego's multi-line diagnostics (location, source line, caret, message) as one line.
pub(crate) fn one_line(msg: &str) -> String {
    msg.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.chars().all(|c| c == '|' || c == '^' || c == ' '))
        .collect::<Vec<_>>()
        .join(" ")
}
