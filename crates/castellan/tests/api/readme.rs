//! The README's walk-throughs, run as a reader runs them: every `sh` block of the sections below,
//! in order, in one bash session (`set -euo pipefail`, as a terminal that stops at the first
//! failing command) whose working directory holds the server's `castellan-data`, against a server
//! started here. The only change made to the text is the
//! server's address (`127.0.0.1:8443` becomes the port this server listens on). A line
//! `#=> TEXT` in a block is what the commands above it print: the block's output must contain
//! each such text, in order.
//!
//! `castellan` in a block is the program the tests built (the reader's `cargo run` built it).
//! Two steps need something a shell does not have, and the test does them as the reader would:
//! the gateway block ends by running nginx in the foreground (here `nginx -t` checks the package's
//! configuration instead, when nginx is installed), and signing in happens in a browser (here the
//! login and consent pages are submitted over HTTP, and the code they return replaces
//! `paste-the-code-here` in the next block; a block that ends by printing a device verification
//! address is followed, before the next block, by entering its code, signing in and allowing).

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::flows::{Browser, field, params_of};
use crate::helpers::{TestApp, config, spawn_with};

/// The sections whose blocks run, in README order.
const WALK_THROUGHS: [&str; 21] = [
    "Quick start",
    "The console",
    "The command line",
    "Developer self-service",
    "Tenants",
    "Backup, migration and configuration as code",
    "Permissions",
    "Policies",
    "Consents and the privacy ledger",
    "Protecting APIs",
    "Enforcing at a gateway",
    "Signing people in",
    "Signing in with another identity provider",
    "Registering clients dynamically",
    "Signing in on a device",
    "Sender-constrained tokens and FAPI",
    "Token exchange and JWT bearer",
    "Workspace clients",
    "Access-manager clients",
    "Signing keys and rotation",
    "The admin audit trail",
];

/// The `sh` blocks of `section` (a `##` or `###` heading), in order.
fn blocks(readme: &str, section: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = "";
    let mut block: Option<String> = None;
    for line in readme.lines() {
        if let Some(b) = block.as_mut() {
            if line.trim_start() == "```" {
                if current == section {
                    out.push(std::mem::take(b));
                }
                block = None;
            } else {
                b.push_str(line);
                b.push('\n');
            }
            continue;
        }
        if let Some(h) = line.strip_prefix("### ").or_else(|| line.strip_prefix("## ")) {
            current = h.trim();
        } else if line.trim_start() == "```sh" {
            block = Some(String::new());
        }
    }
    out
}

/// What the block says it prints (`#=> TEXT` lines).
fn expected(block: &str) -> Vec<String> {
    block
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("#=> "))
        .map(str::to_owned)
        .collect()
}

/// One bash session, as the reader's terminal: variables and functions carry from block to block.
struct Shell {
    child: std::process::Child,
    input: std::process::ChildStdin,
    output: BufReader<std::process::ChildStdout>,
    blocks: usize,
}

impl Shell {
    fn start(dir: &Path, prelude: &str) -> Self {
        let mut child = Command::new("bash")
            .arg("--noprofile")
            .arg("--norc")
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("bash runs");
        let mut input = child.stdin.take().unwrap();
        let output = BufReader::new(child.stdout.take().unwrap());
        writeln!(input, "exec 2>&1\nset -euo pipefail\n{prelude}").unwrap();
        Self {
            child,
            input,
            output,
            blocks: 0,
        }
    }

    /// Runs `block`; returns what it printed (stdout and stderr).
    fn run(&mut self, name: &str, block: &str) -> String {
        self.blocks += 1;
        let marker = format!("@@@ end of block {} @@@", self.blocks);
        // A failing command ends the session (set -e): the marker never comes.
        writeln!(self.input, "{block}\necho '{marker}'").unwrap();
        self.input.flush().unwrap();
        let mut printed = String::new();
        let mut line = String::new();
        loop {
            line.clear();
            let n = tokio::task::block_in_place(|| self.output.read_line(&mut line)).unwrap();
            if n == 0 {
                let status = self.child.wait().ok();
                panic!("README block {name} failed ({status:?}):\n{block}\n--- printed ---\n{printed}");
            }
            if let Some(before) = line.trim_end().strip_suffix(marker.as_str()) {
                // The reader's prompt would start on the same line.
                assert!(
                    before.is_empty(),
                    "README block {name} ends without a new line:\n{printed}{before}"
                );
                break;
            }
            printed.push_str(&line);
        }
        // CASTELLAN_README_SHOW=1 shows what each block printed (with --nocapture).
        if std::env::var_os("CASTELLAN_README_SHOW").is_some() {
            eprintln!("README block {name}:\n{printed}");
        }
        let mut at = 0;
        for want in expected(block) {
            match printed[at..].find(&want) {
                Some(i) => at += i + want.len(),
                None => panic!("README block {name} should print {want:?} (in this order):\n{printed}"),
            }
        }
        printed
    }
}

impl Drop for Shell {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn has(program: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {program}"))
        .output()
        .is_ok_and(|o| o.status.success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_walk_throughs_run_as_written() {
    for program in ["bash", "curl", "python3", "tar", "openssl"] {
        assert!(has(program), "the README walk-throughs need {program}");
    }
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&dir.path().join("castellan-data")).await;
    // The README's examples read the credentials file the first start writes.
    cfg.bootstrap_client_secret = None;
    // The mutual-TLS walk-through plays a TLS-terminating proxy on this machine, as it says the
    // server must be started for it.
    cfg.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    cfg.client_certs.header = Some("Client-Cert".into());
    let app: TestApp = spawn_with(dir, cfg).await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let work = app.dir.path().to_owned();
    // Without nginx the gateway block stops before running it; with it, `nginx -t` checks the
    // package instead of serving in the foreground.
    let nginx = if has("nginx") {
        "nginx() { command nginx -t -e stderr \"$@\"; }"
    } else {
        "nginx() { echo 'nginx is not installed: not checked'; }"
    };
    // `castellan` is the program these tests built (the reader's `cargo run --release -- serve` built it).
    let prelude = format!(
        "{nginx}\ncastellan() {{ '{}' \"$@\"; }}",
        env!("CARGO_BIN_EXE_castellan")
    );
    let mut shell = Shell::start(&work, &prelude);
    let mut ran = 0;
    let mut last = String::new();
    for section in WALK_THROUGHS {
        let found = blocks(&readme, section);
        assert!(!found.is_empty(), "the README has no sh block under {section:?}");
        for (i, block) in found.iter().enumerate() {
            let name = format!("{section} #{}", i + 1);
            let mut block = block.replace("127.0.0.1:8443", &addr);
            let printed_last = last.lines().last().unwrap_or_default().trim().to_owned();
            if printed_last.contains("/device?user_code=") {
                let done = sign_in_as(&app, &printed_last, ("static", "peter", "change me")).await;
                assert_eq!(done, "approved");
            }
            if block.contains("CODE=paste-the-code-here") {
                let url = last.lines().last().unwrap_or_default().trim().to_owned();
                let who = if section == "Signing in with another identity provider" {
                    ("partner", "grace", "grace secret")
                } else {
                    ("static", "peter", "change me")
                };
                let code = sign_in_as(&app, &url, who).await;
                block = block.replace("CODE=paste-the-code-here", &format!("CODE={code}"));
            }
            last = shell.run(&name, &block);
            ran += 1;
        }
    }
    assert!(ran >= 9, "ran {ran} blocks");
    let checked: usize = WALK_THROUGHS
        .iter()
        .flat_map(|section| blocks(&readme, section))
        .map(|b| expected(&b).len())
        .sum();
    assert!(
        checked >= 20,
        "only {checked} #=> lines: the walk-throughs say what they print"
    );
    // The reader's files are where the README says: the gateway package, the imported document.
    assert!(work.join("castellan-gateway-edge/nginx.conf").is_file());
    assert!(work.join("petstore.yaml").is_file());
}

/// What the reader does in the browser: opens the address a sign-in block printed (`url`: an
/// authorization request, or a device verification page whose code is filled in), chooses the
/// login method `method` when the page offers a choice, signs in as `user` (at this server or at
/// the provider the method sends them to) and allows; returns the code from the redirect (for a
/// device, how the verification page says it ended).
async fn sign_in_as(app: &TestApp, url: &str, (method, user, password): (&str, &str, &str)) -> String {
    assert!(
        url.contains("/oauth2/authorize?") || url.contains("/device?user_code="),
        "{url}"
    );
    let b = Browser::new();
    let absolute = |loc: &str| {
        if loc.starts_with("http") {
            loc.to_owned()
        } else {
            format!("{}{loc}", app.base)
        }
    };
    let mut next = url.to_owned();
    for _ in 0..12 {
        if next.starts_with("http://127.0.0.1:3000/callback") {
            return params_of(&next)["code"].clone();
        }
        if next.contains("/device?done=") {
            return params_of(&next)["done"].clone();
        }
        let shown = b.get(&next).await;
        if let Some(loc) = shown.location {
            next = absolute(&loc);
            continue;
        }
        assert_eq!(shown.status, 200, "{next}: {}", shown.html);
        let path = next.split('?').next().unwrap_or_default().to_owned();
        let mut form = Vec::new();
        if shown.html.contains("name=\"user_code\"") {
            // The device page: the code is filled in; Continue.
            let pairs = [
                ("csrf_token".to_owned(), field(&shown.html, "csrf_token")),
                ("user_code".to_owned(), user_code_value(&shown.html)),
            ];
            let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let r = b.post(&path, &pairs).await;
            next = absolute(&r.location.unwrap_or_else(|| panic!("{path}: {} {}", r.status, r.html)));
            continue;
        } else if shown.html.contains("name=\"password\"") {
            form.push(("username".to_owned(), user.to_owned()));
            form.push(("password".to_owned(), password.to_owned()));
        } else if shown.html.contains("value=\"allow\"") {
            form.push(("decision".to_owned(), "allow".to_owned()));
        } else if shown.html.contains(&format!("&amp;method={method}\"")) {
            next = format!("{next}&method={method}");
            continue;
        } else {
            panic!(
                "{next}: a page the reader would not know what to do with:\n{}",
                shown.html
            );
        }
        form.insert(0, ("interaction".into(), field(&shown.html, "interaction")));
        form.insert(1, ("csrf_token".into(), field(&shown.html, "csrf_token")));
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let r = b.post(&path, &pairs).await;
        next = absolute(&r.location.unwrap_or_else(|| panic!("{path}: {} {}", r.status, r.html)));
    }
    panic!("no code after signing in at {next}")
}

/// The value the device page filled in for the user code.
fn user_code_value(html: &str) -> String {
    let at = html.find("name=\"user_code\"").expect("a user code field");
    let rest = &html[at..];
    let start = rest.find("value=\"").expect("a filled-in user code") + "value=\"".len();
    rest[start..start + rest[start..].find('"').unwrap()].to_owned()
}
