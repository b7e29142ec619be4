//! Rego in worker processes, as the server runs it: this binary is started again as each
//! worker (`<this binary> policy-worker`), so the pool, the pipes, the memory limit and the
//! deadline are the real ones. A test binary of its own (`harness = false`), because it must
//! answer as a worker when started with that argument.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use castellan_policy::{Consents, Decision, Input, Language, Policy, Rego, serve_worker};
use serde_json::{Value, json};

type Test = fn(&Rego);

fn main() {
    if std::env::args().nth(1).as_deref() == Some("policy-worker") {
        serve_worker().unwrap();
        return;
    }
    let filter: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let tests: [(&str, Test); 8] = [
        ("decisions_come_from_the_worker", decisions_come_from_the_worker),
        (
            "over_the_memory_bound_is_fail_and_the_next_evaluation_works",
            over_the_memory_bound,
        ),
        (
            "over_the_deadline_is_fail_and_the_next_evaluation_works",
            over_the_deadline,
        ),
        ("definitions_are_kept_apart_by_their_keys", definitions_are_kept_apart),
        (
            "a_worker_started_over_is_sent_the_definition_again",
            a_worker_started_over,
        ),
        ("more_callers_than_workers_queue_for_them", more_callers_than_workers),
        ("inside_tokio_runtimes_of_either_flavour", inside_tokio_runtimes),
        (
            "a_dropped_pool_leaves_no_worker_behind",
            a_dropped_pool_leaves_no_worker,
        ),
    ];
    let rego = Rego::isolated(std::env::current_exe().unwrap(), 2);
    let mut ran = 0;
    for (name, test) in tests {
        if !filter.is_empty() && !filter.iter().any(|f| name.contains(f.as_str())) {
            continue;
        }
        let started = Instant::now();
        test(&rego);
        println!("test {name} ... ok ({} ms)", started.elapsed().as_millis());
        ran += 1;
    }
    println!("\ntest result: ok. {ran} passed; 0 failed");
}

fn rego_policy(rego: &Rego, definition: &str) -> Result<Policy, String> {
    Policy::compile(Language::Rego, &[], Some(definition), rego).map_err(|e| e.to_string())
}

fn decide(policy: &Policy, client: &Value) -> Decision {
    let consents = Consents::default();
    policy.evaluate(&Input {
        authentication_context: &Value::Null,
        client,
        scopes: &[],
        request: None,
        consents: &consents,
    })
}

const HOG: &str = "package castellan\nallow if count(sprintf(\"%0999999999d\", [input.client.n])) > 0\n";

fn decisions_come_from_the_worker(rego: &Rego) {
    let p = rego_policy(rego, "package castellan\nallow if input.client.client_id == \"good\"\n").unwrap();
    assert!(decide(&p, &json!({"client_id": "good"})).pass);
    let d = decide(&p, &json!({"client_id": "bad"}));
    assert!(!d.pass);
    assert_eq!(d.failed_validator.as_deref(), Some("rego"));
    // A rule that is not a boolean denies.
    let p = rego_policy(rego, "package castellan\nallow := \"yes\"\n").unwrap();
    assert!(!decide(&p, &Value::Null).pass);
}

fn over_the_memory_bound(rego: &Rego) {
    // Written with an empty input it passes the write-time dry run (no `n`: the rule is
    // undefined), so the bound is met at evaluation.
    let p = rego_policy(rego, HOG).unwrap();
    let d = decide(&p, &json!({"n": 1}));
    assert!(!d.pass, "{d:?}");
    // Building the gigabyte meets the memory bound, or (a slow build) the deadline first.
    let reason = d.reason.unwrap_or_default();
    assert!(
        reason.contains("needed more than 512 MiB") || reason.contains("took longer"),
        "{reason}"
    );
    // The dead worker is replaced.
    let ok = rego_policy(rego, "package castellan\nallow := true\n").unwrap();
    for _ in 0..3 {
        assert!(decide(&ok, &Value::Null).pass);
    }
    // At write time the bound makes it a compile error.
    let e = rego_policy(
        rego,
        "package castellan\nallow if count(sprintf(\"%0999999999d\", [1])) > 0\n",
    )
    .unwrap_err();
    assert!(e.contains("512 MiB"), "{e}");
}

fn over_the_deadline(rego: &Rego) {
    // Two structures of 2^40 elements built by reference, compared whole: one step, for hours.
    let mut shared = String::from("a0 := [1]\nb0 := [1]\n");
    for i in 1..=40 {
        shared += &format!("a{i} := [a{p}, a{p}]\nb{i} := [b{p}, b{p}]\n", p = i - 1);
    }
    let slow = format!("package castellan\n{shared}allow if {{\n  input.client.go\n  a40 == b40\n}}\n");
    let p = rego_policy(rego, &slow).unwrap();
    let d = decide(&p, &json!({"go": true}));
    assert!(!d.pass, "{d:?}");
    let reason = d.reason.unwrap_or_default();
    assert!(reason.contains("took longer than 1000 ms"), "{reason}");
    let ok = rego_policy(rego, "package castellan\nallow := true\n").unwrap();
    assert!(decide(&ok, &Value::Null).pass);
}

fn definitions_are_kept_apart(rego: &Rego) {
    // Same text compiled twice, and different texts: each policy answers by its own rule,
    // whichever worker serves it.
    let yes = rego_policy(rego, "package castellan\nallow := true\n").unwrap();
    let no = rego_policy(rego, "package castellan\nallow := false\n").unwrap();
    let yes_again = rego_policy(rego, "package castellan\nallow := true\n").unwrap();
    for _ in 0..6 {
        assert!(decide(&yes, &Value::Null).pass);
        assert!(!decide(&no, &Value::Null).pass);
        assert!(decide(&yes_again, &Value::Null).pass);
    }
}

fn a_worker_started_over(rego: &Rego) {
    // A policy known to the workers, then the workers killed by a hog: the policy still answers
    // (its definition is sent to the new workers).
    let known = rego_policy(rego, "package castellan\nallow if input.client.ok\n").unwrap();
    assert!(decide(&known, &json!({"ok": true})).pass);
    assert!(decide(&known, &json!({"ok": true})).pass);
    let hog = rego_policy(rego, HOG).unwrap();
    for _ in 0..2 {
        assert!(!decide(&hog, &json!({"n": 1})).pass);
    }
    assert!(decide(&known, &json!({"ok": true})).pass);
    assert!(!decide(&known, &json!({"ok": false})).pass);
}

fn more_callers_than_workers(rego: &Rego) {
    // Eight threads on two workers: callers find the free worker, or wait for one.
    let p = rego_policy(rego, "package castellan\nallow if input.client.n > 0\n").unwrap();
    std::thread::scope(|s| {
        for t in 0..8i64 {
            let p = &p;
            s.spawn(move || {
                for i in 0..20i64 {
                    let n = t * 100 + i - 50;
                    assert_eq!(decide(p, &json!({"n": n})).pass, n > 0, "{n}");
                }
            });
        }
    });
}

fn inside_tokio_runtimes(rego: &Rego) {
    // On a multi-threaded runtime the wait is handed off (block_in_place); on a current-thread
    // runtime, where that is not allowed, it blocks in place.
    let p = rego_policy(rego, "package castellan\nallow := true\n").unwrap();
    let current = tokio::runtime::Builder::new_current_thread().build().unwrap();
    assert!(current.block_on(async { decide(&p, &Value::Null).pass }));
    let multi = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    assert!(multi.block_on(async {
        tokio::spawn(async move { decide(&p, &Value::Null).pass })
            .await
            .unwrap()
    }));
}

/// The child processes of this process (Linux: every thread's `children`), or `None` when the
/// kernel does not list them. A thread that ends while this reads is skipped (it has none left).
fn children() -> Option<usize> {
    std::fs::read_to_string("/proc/thread-self/children").ok()?;
    let mut n = 0;
    for task in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
        if let Ok(list) = std::fs::read_to_string(task.path().join("children")) {
            n += list.split_whitespace().count();
        }
    }
    Some(n)
}

fn a_dropped_pool_leaves_no_worker(_: &Rego) {
    let Some(before) = children() else {
        println!("(children not listed by this kernel: skipped)");
        return;
    };
    let own = Rego::isolated(std::env::current_exe().unwrap(), 1);
    let p = rego_policy(&own, "package castellan\nallow := true\n").unwrap();
    assert!(decide(&p, &Value::Null).pass);
    assert_eq!(children(), Some(before + 1), "one worker started");
    drop(p);
    drop(own);
    // Dropping the pool ends and reaps its workers at once: none is left running or a zombie.
    assert_eq!(children(), Some(before));
}
