//! What reading an OpenAPI document for an import costs in memory, measured on this process's
//! peak resident size (its own test binary, so no other test shares the figure). A document of
//! empty schemas is the densest a document can be: it once cost 400–670 times its size, as every
//! `{}` became a typed schema before the operations were counted.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use castellan_control::spec;

/// The peak resident size of this process so far, in bytes.
fn peak() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<usize>().unwrap() * 1024
}

/// The peak resident size `read` adds while reading `doc`.
fn cost(doc: &str) -> usize {
    // Start the peak over from the current size (Linux: "5" resets the high-water mark).
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
    let before = peak();
    let read = spec::read(doc.as_bytes());
    let after = peak();
    assert!(read.is_ok(), "{:?}", read.err());
    after.saturating_sub(before)
}

/// Asserts that reading `doc` costs less than `times` its size, and prints the figure.
fn costs_less_than(what: &str, doc: &str, times: usize) {
    let c = cost(doc);
    eprintln!("{what}: {:.1} times the document's size", c as f64 / doc.len() as f64);
    assert!(
        c < times * doc.len(),
        "{what}: {} MiB for {} MiB",
        c >> 20,
        doc.len() >> 20
    );
}

// The figures (`cargo test --release -p castellan-control --test import_memory -- --nocapture`):
// JSON of empty objects about 13 times, YAML of empty flow objects about 18, YAML of one-letter
// scalars about 34 (a node of the tree is 32 bytes, a text also has its own allocation; a list
// grows by doubling). YAML's tree is built as the parser's events arrive, keeping no events: the
// YAML parser used before kept them all and cost about 90 times.
#[test]
fn reading_a_document_costs_a_small_multiple_of_its_size() {
    let size = 4 * 1024 * 1024;
    let empties = vec!["{}"; size / 3].join(",");
    let json = format!(
        "{{\"openapi\":\"3.0.3\",\"info\":{{\"title\":\"t\",\"version\":\"1\"}},\"paths\":{{\"/a\":{{\"get\":{{\"responses\":{{\"200\":{{\"description\":\"ok\",\"content\":{{\"application/json\":{{\"schema\":{{\"allOf\":[{empties}]}}}}}}}}}}}}}}}},\"components\":{{\"schemas\":{{\"b\":{{\"anyOf\":[{empties}]}}}}}}}}"
    );
    costs_less_than("JSON, empty objects", &json, 16);
    let yaml = format!(
        "openapi: 3.1.0\ninfo: {{title: t, version: '1'}}\npaths:\n  /a:\n    get:\n      responses: {{'200': {{description: ok}}}}\ncomponents:\n  schemas:\n    b:\n      anyOf: [{}]\n",
        vec!["{}"; size / 6].join(",")
    );
    costs_less_than("YAML, empty flow objects", &yaml, 24);
    let scalars = format!(
        "openapi: 3.1.0\ninfo: {{title: t, version: '1'}}\npaths: {{}}\nx: [{}]\n",
        vec!["a"; size / 2].join(",")
    );
    costs_less_than("YAML, one-letter scalars", &scalars, 48);
}
