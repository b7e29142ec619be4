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

#[test]
fn reading_a_document_costs_a_small_multiple_of_its_size() {
    let size = 4 * 1024 * 1024;
    let empties = vec!["{}"; size / 3].join(",");
    let json = format!(
        "{{\"openapi\":\"3.0.3\",\"info\":{{\"title\":\"t\",\"version\":\"1\"}},\"paths\":{{\"/a\":{{\"get\":{{\"responses\":{{\"200\":{{\"description\":\"ok\",\"content\":{{\"application/json\":{{\"schema\":{{\"allOf\":[{empties}]}}}}}}}}}}}}}}}},\"components\":{{\"schemas\":{{\"b\":{{\"anyOf\":[{empties}]}}}}}}}}"
    );
    let c = cost(&json);
    assert!(
        c < 16 * json.len(),
        "JSON: {} MiB for {} MiB",
        c >> 20,
        json.len() >> 20
    );
    // YAML flow collections: the YAML parser keeps every event of the document while it builds
    // the tree (about 100 bytes per `{` or `}`), the larger part of this figure.
    let yaml = format!(
        "openapi: 3.1.0\ninfo: {{title: t, version: '1'}}\npaths:\n  /a:\n    get:\n      responses: {{'200': {{description: ok}}}}\ncomponents:\n  schemas:\n    b:\n      anyOf: [{}]\n",
        vec!["{}"; size / 6].join(",")
    );
    let c = cost(&yaml);
    assert!(
        c < 128 * yaml.len(),
        "YAML: {} MiB for {} MiB",
        c >> 20,
        yaml.len() >> 20
    );
}
