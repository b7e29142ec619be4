//! HTTPS with `--tls-cert` / `--tls-key`: served by rustls, issuers default to `https://`, bad
//! files stop the start with an error naming the flag.

use castellan::config::TlsFiles;

use crate::helpers::*;

/// A self-signed certificate for 127.0.0.1 and localhost, written as PEM files into `dir`.
fn self_signed(dir: &std::path::Path, name: &str) -> (TlsFiles, String) {
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    let files = TlsFiles {
        cert: dir.join(format!("{name}-cert.pem")),
        key: dir.join(format!("{name}-key.pem")),
    };
    let pem = cert.cert.pem();
    std::fs::write(&files.cert, &pem).unwrap();
    std::fs::write(&files.key, cert.signing_key.serialize_pem()).unwrap();
    (files, pem)
}

async fn json_of(req: reqwest::RequestBuilder) -> serde_json::Value {
    req.send().await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn https_is_served_with_the_given_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let (files, pem) = self_signed(dir.path(), "server");
    let mut cfg = config(dir.path()).await;
    cfg.tls = Some(files);
    let running = castellan::start(cfg).await.unwrap();
    let base = format!("https://{}", running.addr);
    assert_eq!(running.public_url, base, "issuers default to https when TLS is on");
    let http = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).unwrap())
        .build()
        .unwrap();

    let live = http.get(format!("{base}/health/live")).send().await.unwrap();
    assert_eq!(live.status(), 200);
    let meta = json_of(http.get(format!("{base}/default/admin/.well-known/openid-configuration"))).await;
    assert_eq!(meta["issuer"], format!("{base}/default/admin"));
    assert_eq!(meta["token_endpoint"], format!("{base}/default/admin/oauth2/token"));

    // A token over TLS, then the admin API with it.
    let tok = json_of(
        http.post(format!("{base}/default/admin/oauth2/token"))
            .basic_auth("bootstrap", Some(BOOTSTRAP_SECRET))
            .form(&[("grant_type", "client_credentials")]),
    )
    .await;
    let access = tok["access_token"].as_str().expect("an access token");
    let tenant = http
        .get(format!("{base}/api/admin/default/tenant"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(tenant.status(), 200);

    // Plain HTTP on the TLS port gets no answer; a client that does not trust the certificate
    // refuses the connection.
    assert!(
        reqwest::get(format!("http://{}/health/live", running.addr))
            .await
            .map(|r| !r.status().is_success())
            .unwrap_or(true)
    );
    assert!(reqwest::get(format!("{base}/health/live")).await.is_err());
    running.stop().await.unwrap();
}

#[tokio::test]
async fn bad_tls_files_stop_the_start_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let (good, _) = self_signed(dir.path(), "a");
    let (other, _) = self_signed(dir.path(), "b");
    let missing = dir.path().join("missing.pem");
    let not_pem = dir.path().join("not.pem");
    std::fs::write(&not_pem, "hello\n").unwrap();
    let cases = [
        (
            TlsFiles {
                cert: missing.clone(),
                key: good.key.clone(),
            },
            "--tls-cert",
        ),
        (
            TlsFiles {
                cert: not_pem.clone(),
                key: good.key.clone(),
            },
            "--tls-cert",
        ),
        (
            TlsFiles {
                cert: good.cert.clone(),
                key: missing,
            },
            "--tls-key",
        ),
        (
            TlsFiles {
                cert: good.cert.clone(),
                key: not_pem,
            },
            "--tls-key",
        ),
        (
            TlsFiles {
                cert: good.cert.clone(),
                key: other.key.clone(),
            },
            "does not fit",
        ),
    ];
    for (files, expected) in cases {
        let mut cfg = config(dir.path()).await;
        cfg.tls = Some(files.clone());
        let err = match castellan::start(cfg).await {
            Ok(_) => panic!("started with {files:?}"),
            Err(e) => format!("{e:#}"),
        };
        assert!(err.contains(expected), "{files:?}: {err}");
    }
    // Nothing was created by the refused starts.
    assert!(!dir.path().join(castellan::BOOTSTRAP_FILE).exists());
}
