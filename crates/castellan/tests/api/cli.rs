use std::process::Command;

fn castellan() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_castellan"));
    // The developer's environment must not leak into these checks.
    for (k, _) in std::env::vars() {
        if k.starts_with("CASTELLAN_") {
            c.env_remove(k);
        }
    }
    c
}

#[test]
fn help_lists_the_sub_commands() {
    let out = castellan().arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for word in [
        "serve",
        "migrate",
        "--listen",
        "--public-url",
        "--data-dir",
        "--database-url",
        "--config",
    ] {
        assert!(text.contains(word), "--help mentions {word}:\n{text}");
    }
    let v = castellan().arg("--version").output().unwrap();
    assert!(String::from_utf8(v.stdout).unwrap().starts_with("castellan "));
}

#[test]
fn a_bad_flag_is_named_in_the_error() {
    let out = castellan().args(["serve", "--listne", "x"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8(out.stderr).unwrap().contains("--listne"));
    let out = castellan()
        .args(["serve", "--listen", "not-an-address"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("--listen"), "{err}");
}

#[test]
fn an_unknown_key_in_the_config_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("castellan.toml");
    std::fs::write(&file, "data_dir = \"x\"\nlisten_addr = \"127.0.0.1:1\"\n").unwrap();
    let out = castellan().args(["migrate", "--config"]).arg(&file).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("listen_addr"), "{err}");
}

#[test]
fn migrate_creates_the_database_and_env_is_honoured() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = castellan()
        .arg("migrate")
        .env("CASTELLAN_DATA_DIR", &data)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(data.join("castellan.db").exists());
    assert!(
        !data.join(castellan::BOOTSTRAP_FILE).exists(),
        "migrate alone bootstraps nothing"
    );
    // A flag wins over the environment.
    let other = dir.path().join("other");
    let out = castellan()
        .arg("migrate")
        .env("CASTELLAN_DATA_DIR", &data)
        .arg("--data-dir")
        .arg(&other)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(other.join("castellan.db").exists());
}

#[test]
fn an_unsupported_database_url_is_refused_naming_the_flag() {
    let out = castellan()
        .args(["migrate", "--database-url", "mysql://x"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8(out.stderr).unwrap().contains("--database-url"));
}
