//! End to end in a real browser: headless Chromium (Debian `chromium` + `chromium-driver`, driven
//! over WebDriver by `fantoccini`) signs in with a static user and consents; the `openidconnect`
//! crate — an independent OpenID Connect client library — discovers the server, builds the
//! request (PKCE S256, nonce, state), exchanges the code and validates the id_token against the
//! JWKS, then calls userinfo.
//!
//! Skipped (with a message) when `chromedriver` is not installed, unless `CASTELLAN_E2E=1`, which
//! `.ci/run` sets after installing the packages, makes it mandatory.

use std::process::Stdio;
use std::time::Duration;

use fantoccini::{ClientBuilder, Locator};
use openidconnect::core::{CoreClient, CoreProviderMetadata, CoreResponseType};
use openidconnect::{
    AccessTokenHash, AuthenticationFlow, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
};
use reqwest::Method;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::helpers::*;
use crate::tokens::client;

/// Stops chromedriver however the test ends.
pub(crate) struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn chromedriver() -> Option<String> {
    let path = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    let present = std::path::Path::new(&path).exists();
    if !present && std::env::var("CASTELLAN_E2E").is_ok_and(|v| v == "1") {
        panic!("CASTELLAN_E2E=1 but {path} is missing (apt-get install chromium chromium-driver)");
    }
    present.then_some(path)
}

/// A one-shot HTTP listener standing in for the application's redirect URI: reports the first
/// request's path and query.
async fn callback_listener() -> (String, tokio::sync::oneshot::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/cb", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let mut tx = Some(tx);
        loop {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 8192];
            let n = sock.read(&mut buf).await.unwrap_or(0);
            let head = String::from_utf8_lossy(&buf[..n]).to_string();
            let target = head.split(' ').nth(1).unwrap_or("").to_owned();
            let body = "signed in";
            let _ = sock
                .write_all(
                    format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    )
                    .as_bytes(),
                )
                .await;
            if target.starts_with("/cb")
                && let Some(tx) = tx.take()
            {
                let _ = tx.send(target);
            }
        }
    });
    (url, rx)
}

/// Headless Chromium under a chromedriver of its own (stopped with the returned guard), the size
/// of a phone's screen.
async fn chromium(driver_path: &str) -> (Killed, fantoccini::Client) {
    chromium_sized(driver_path, "390,844").await
}

/// As [`chromium`], with a window of `size` (`width,height`).
pub(crate) async fn chromium_sized(driver_path: &str, size: &str) -> (Killed, fantoccini::Client) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let driver = Killed(
        std::process::Command::new(driver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let caps: serde_json::Map<String, serde_json::Value> = serde_json::from_value(json!({
        "goog:chromeOptions": {
            "binary": std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", format!("--window-size={size}")]
        }
    }))
    .unwrap();
    for _ in 0..50 {
        // chromedriver speaks plain HTTP on loopback: no TLS stack needed.
        match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(b) => return (driver, b),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    panic!("chromedriver did not start")
}

#[tokio::test]
async fn a_person_signs_in_with_chromium_and_an_oidc_library_validates_the_id_token() {
    let Some(driver_path) = chromedriver() else {
        eprintln!("skipped: chromedriver not installed (set CASTELLAN_E2E=1 to require it)");
        return;
    };
    let app = spawn_app().await;
    let (redirect, code_rx) = callback_listener().await;

    // The server: a static user, OIDC scopes, a confidential client.
    let r = app
        .admin(
            Method::PUT,
            "/servers/default/authentications",
            Some(json!({"methods": [{"method": "static", "static": {"users": [
                {"username": "alice", "password": "alice-password-1",
                 "authentication_context": {"email": "alice@example.com", "name": "Alice Liddell"}}]}}]})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // The OpenID scopes come with the server.
    let c = client(
        &app,
        json!({"client_id": "rp", "client_name": "Relying Party", "redirect_uris": [redirect],
            "grant_types": ["authorization_code"], "scopes": ["openid", "email", "profile"]}),
    )
    .await;
    let secret = c["client_secret"].as_str().unwrap().to_owned();

    // The relying party, with the openidconnect crate: discovery, PKCE, nonce, state.
    let http = openidconnect::reqwest::ClientBuilder::new()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let issuer = IssuerUrl::new(format!("{}/default/default", app.base)).unwrap();
    let metadata = CoreProviderMetadata::discover_async(issuer, &http).await.unwrap();
    let rp = CoreClient::from_provider_metadata(metadata, ClientId::new("rp".into()), Some(ClientSecret::new(secret)))
        .set_redirect_uri(RedirectUrl::new(redirect.clone()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, state, nonce) = rp
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();

    // The person, in Chromium.
    let (_driver, b) = chromium(&driver_path).await;
    let outcome = async {
        b.goto(auth_url.as_str()).await?;
        let title = b.title().await?;
        assert!(title.starts_with("Sign in"), "login page title: {title}");
        b.find(Locator::Css("#username")).await?.send_keys("alice").await?;
        b.find(Locator::Css("#password"))
            .await?
            .send_keys("alice-password-1")
            .await?;
        b.find(Locator::Css("button[type=submit]")).await?.click().await?;
        let allow = b.wait().for_element(Locator::Css("button[value=allow]")).await?;
        let text = b.find(Locator::Css("main")).await?.text().await?;
        assert!(
            text.contains("Relying Party") && text.contains("Your email address"),
            "consent: {text}"
        );
        allow.click().await?;
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    // The browser stays open until the redirect has reached the application (closing it first
    // could cancel the navigation).
    let target = match outcome {
        Ok(()) => tokio::time::timeout(Duration::from_secs(30), code_rx).await,
        Err(e) => {
            let _ = b.close().await;
            panic!("browser: {e}");
        }
    };
    let _ = b.close().await;
    let target = target.expect("the browser never reached the redirect URI").unwrap();
    let params: std::collections::HashMap<String, String> =
        form_urlencoded::parse(target.split_once('?').unwrap().1.as_bytes())
            .into_owned()
            .collect();
    assert_eq!(&params["state"], state.secret());

    // The library exchanges the code and validates the id_token (signature via JWKS, iss, aud,
    // nonce, exp) and the at_hash.
    let tokens = rp
        .exchange_code(AuthorizationCode::new(params["code"].clone()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    let id_token = tokens.id_token().expect("an id_token");
    let verifier = rp.id_token_verifier();
    let claims = id_token.claims(&verifier, &nonce).unwrap();
    assert_eq!(claims.subject().as_str(), "alice");
    assert_eq!(claims.email().unwrap().as_str(), "alice@example.com");
    let expected = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&expected));

    let info: openidconnect::core::CoreUserInfoClaims = rp
        .user_info(tokens.access_token().clone(), None)
        .unwrap()
        .request_async(&http)
        .await
        .unwrap();
    assert_eq!(info.subject().as_str(), "alice");
    assert_eq!(info.email().unwrap().as_str(), "alice@example.com");
}

/// Server A's `oidc` login method points at server B, a second Castellan process where a static
/// user signs in. In Chromium: A's login page goes straight to B, the person signs in at B, comes
/// back signed in at A (claims mapped from B's ID token) and consents; the `openidconnect` crate,
/// as a relying party of A, validates A's ID token.
#[tokio::test]
async fn a_person_signs_in_at_one_castellan_through_another_in_chromium() {
    let Some(driver_path) = chromedriver() else {
        eprintln!("skipped: chromedriver not installed (set CASTELLAN_E2E=1 to require it)");
        return;
    };
    let a = spawn_app().await;
    let (_process, b_app) = spawn_process().await;
    let callback = format!("{}/default/default/login/callback", a.base);
    let (upstream, upstream_secret) = crate::upstream::upstream_castellan(&b_app, &callback).await;
    let r = a
        .admin(
            Method::PUT,
            "/servers/default/authentications",
            Some(
                json!({"methods": [{"id": "partner", "method": "oidc", "name": "Partner IdP",
                "oidc": {"issuer_url": upstream, "client_id": "downstream", "client_secret": upstream_secret,
                    "scopes": ["email", "profile"]},
                "mappings": [{"source": "id_token.groups", "target": "groups", "type": "string_array"},
                    {"source": "id_token.department", "target": "department", "type": "string"}]}]}),
            ),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = a
        .admin(
            Method::POST,
            "/claims",
            Some(
                json!({"authorization_server_id": "default", "name": "department", "mapping": "department",
                "type": "id_token", "scopes": ["profile"]}),
            ),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let (redirect, code_rx) = callback_listener().await;
    let c = client(
        &a,
        json!({"client_id": "rp", "client_name": "Relying Party", "redirect_uris": [redirect],
            "grant_types": ["authorization_code"], "scopes": ["openid", "email", "profile"]}),
    )
    .await;
    let secret = c["client_secret"].as_str().unwrap().to_owned();
    let http = openidconnect::reqwest::ClientBuilder::new()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let issuer = IssuerUrl::new(format!("{}/default/default", a.base)).unwrap();
    let metadata = CoreProviderMetadata::discover_async(issuer, &http).await.unwrap();
    let rp = CoreClient::from_provider_metadata(metadata, ClientId::new("rp".into()), Some(ClientSecret::new(secret)))
        .set_redirect_uri(RedirectUrl::new(redirect.clone()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, state, nonce) = rp
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();

    let (_driver, b) = chromium(&driver_path).await;
    let outcome = async {
        b.goto(auth_url.as_str()).await?;
        // Straight to the partner's own login page.
        let url = b.current_url().await?;
        assert!(
            url.as_str().starts_with(&format!("{}/default/idp/login", b_app.base)),
            "{url}"
        );
        let title = b.title().await?;
        assert!(title.starts_with("Sign in"), "upstream login page title: {title}");
        b.find(Locator::Css("#username")).await?.send_keys("alice").await?;
        b.find(Locator::Css("#password"))
            .await?
            .send_keys("upstream-password-1")
            .await?;
        b.find(Locator::Css("button[type=submit]")).await?.click().await?;
        // Back at A, signed in: A's consent page.
        let allow = b.wait().for_element(Locator::Css("button[value=allow]")).await?;
        let url = b.current_url().await?;
        assert!(
            url.as_str().starts_with(&format!("{}/default/default/consent", a.base)),
            "{url}"
        );
        allow.click().await?;
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    let target = match outcome {
        Ok(()) => tokio::time::timeout(Duration::from_secs(30), code_rx).await,
        Err(e) => {
            let _ = b.close().await;
            panic!("browser: {e}");
        }
    };
    let _ = b.close().await;
    let target = target.expect("the browser never reached the redirect URI").unwrap();
    let params: std::collections::HashMap<String, String> =
        form_urlencoded::parse(target.split_once('?').unwrap().1.as_bytes())
            .into_owned()
            .collect();
    assert_eq!(&params["state"], state.secret());
    let tokens = rp
        .exchange_code(AuthorizationCode::new(params["code"].clone()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    let id_token = tokens.id_token().expect("an id_token");
    let claims = id_token.claims(&rp.id_token_verifier(), &nonce).unwrap();
    assert_ne!(claims.subject().as_str(), "alice", "A's own subject for the person");
    assert_eq!(claims.email().unwrap().as_str(), "alice@upstream.example");
    let raw = crate::flows::jwt_claims(&id_token.to_string());
    assert_eq!(raw["idp"], "partner");
    assert_eq!(raw["department"], "finance", "mapped from B's ID token");
}

/// Where the npm packages the protocol tests use are installed (`node_modules/{package}` under
/// it): `CASTELLAN_NODE_PACKAGES`, which `.ci/run` sets after installing `oidc-provider` and
/// `openid-client` into a temporary directory. Mandatory with `CASTELLAN_E2E=1`.
pub(crate) fn node_package(package: &str) -> Option<std::path::PathBuf> {
    let dir = std::env::var_os("CASTELLAN_NODE_PACKAGES").map(std::path::PathBuf::from);
    let ok = dir
        .as_ref()
        .is_some_and(|d| d.join(format!("node_modules/{package}/package.json")).is_file());
    if !ok && std::env::var("CASTELLAN_E2E").is_ok_and(|v| v == "1") {
        panic!("CASTELLAN_E2E=1 but CASTELLAN_NODE_PACKAGES names no {package} install (npm install {package})");
    }
    dir.filter(|_| ok)
}

/// The same flow through another OpenID provider implementation: node `oidc-provider` (its
/// development login and consent pages), so Castellan's relying party is not only tested against
/// itself. Its ID token carries no profile claims in the code flow: they come from userinfo.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_signs_in_through_node_oidc_provider_in_chromium() {
    let Some(driver_path) = chromedriver() else {
        eprintln!("skipped: chromedriver not installed (set CASTELLAN_E2E=1 to require it)");
        return;
    };
    let Some(node_dir) = node_package("oidc-provider") else {
        eprintln!("skipped: CASTELLAN_NODE_PACKAGES not set (set CASTELLAN_E2E=1 to require it)");
        return;
    };
    let a = spawn_app().await;
    let callback = format!("{}/default/default/login/callback", a.base);
    let script = node_dir.join("castellan_oidc_provider.mjs");
    std::fs::copy(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/node/oidc_provider.mjs"),
        &script,
    )
    .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut node = std::process::Command::new("node")
        .arg(&script)
        .arg(port.to_string())
        .arg("castellan")
        .arg("node-client-secret-0123456789")
        .arg(&callback)
        .current_dir(&node_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut ready = String::new();
    // Kept open while the provider runs: it may write more, and a closed pipe would end it.
    let mut _stdout = std::io::BufReader::new(node.stdout.take().unwrap());
    tokio::task::block_in_place(|| std::io::BufRead::read_line(&mut _stdout, &mut ready)).unwrap();
    let _node = Killed(node);
    assert_eq!(ready.trim(), "ready", "node oidc-provider did not start");
    let upstream = format!("http://127.0.0.1:{port}");

    let r = a
        .admin(
            Method::PUT,
            "/servers/default/authentications",
            Some(
                json!({"methods": [{"id": "node", "method": "oidc", "name": "Node provider",
                "oidc": {"issuer_url": upstream, "client_id": "castellan",
                    "client_secret": "node-client-secret-0123456789", "scopes": ["email", "profile"],
                    "get_user_info": true},
                "mappings": [{"source": "userinfo.groups", "target": "groups", "type": "string_array"}]}]}),
            ),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (redirect, code_rx) = callback_listener().await;
    let c = client(
        &a,
        json!({"client_id": "rp", "client_name": "Relying Party", "redirect_uris": [redirect],
            "grant_types": ["authorization_code"], "scopes": ["openid", "email", "profile"]}),
    )
    .await;
    let secret = c["client_secret"].as_str().unwrap().to_owned();
    let http = openidconnect::reqwest::ClientBuilder::new()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let issuer = IssuerUrl::new(format!("{}/default/default", a.base)).unwrap();
    let metadata = CoreProviderMetadata::discover_async(issuer, &http).await.unwrap();
    let rp = CoreClient::from_provider_metadata(metadata, ClientId::new("rp".into()), Some(ClientSecret::new(secret)))
        .set_redirect_uri(RedirectUrl::new(redirect.clone()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, _state, nonce) = rp
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .set_pkce_challenge(challenge)
        .url();

    let (_driver, b) = chromium(&driver_path).await;
    let outcome = async {
        b.goto(auth_url.as_str()).await?;
        let url = b.current_url().await?;
        assert!(url.as_str().starts_with(&format!("{upstream}/interaction/")), "{url}");
        b.find(Locator::Css("input[name=login]"))
            .await?
            .send_keys("grace")
            .await?;
        b.find(Locator::Css("input[name=password]"))
            .await?
            .send_keys("any")
            .await?;
        b.find(Locator::Css("button[type=submit]")).await?.click().await?;
        // The provider's consent ("Continue"), then back at A's consent page.
        b.wait()
            .for_element(Locator::Css("input[name=prompt][value=consent]"))
            .await?;
        b.find(Locator::Css("button[type=submit]")).await?.click().await?;
        let allow = b.wait().for_element(Locator::Css("button[value=allow]")).await?;
        allow.click().await?;
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    let target = match outcome {
        Ok(()) => tokio::time::timeout(Duration::from_secs(30), code_rx).await,
        Err(e) => {
            let url = b.current_url().await.map(|u| u.to_string()).unwrap_or_default();
            let src = b.source().await.unwrap_or_default();
            let _ = b.close().await;
            panic!("browser: {e} at {url}\n{src}");
        }
    };
    let _ = b.close().await;
    let target = target.expect("the browser never reached the redirect URI").unwrap();
    let params: std::collections::HashMap<String, String> =
        form_urlencoded::parse(target.split_once('?').unwrap().1.as_bytes())
            .into_owned()
            .collect();
    let tokens = rp
        .exchange_code(AuthorizationCode::new(params["code"].clone()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    let id_token = tokens.id_token().expect("an id_token");
    let claims = id_token.claims(&rp.id_token_verifier(), &nonce).unwrap();
    assert_ne!(claims.subject().as_str(), "grace");
    assert_eq!(
        claims.email().unwrap().as_str(),
        "grace@node.example",
        "from the provider's userinfo"
    );
    let raw = crate::flows::jwt_claims(&id_token.to_string());
    assert_eq!(raw["idp"], "node");
    // The mapped groups are in the person's context.
    let store = a.store().await;
    let person = store
        .get_person(
            &castellan_domain::TenantId::parse("default").unwrap(),
            &castellan_domain::ServerId::parse("default").unwrap(),
            claims.subject().as_str(),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(person.upstream_subject, format!("{upstream} grace"));
    let ctx: serde_json::Value = serde_json::from_str(&person.data).unwrap();
    assert_eq!(ctx["groups"], json!(["node-staff"]));
}

/// The device flow end to end: the Node `openid-client` package is the device (discovery,
/// `initiateDeviceAuthorization`, then `pollDeviceAuthorizationGrant`, which waits out
/// `authorization_pending`); the person, in Chromium, opens `verification_uri_complete`, confirms
/// the code, signs in and allows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_signs_in_through_openid_client_while_a_person_allows_it_in_chromium() {
    let Some(driver_path) = chromedriver() else {
        eprintln!("skipped: chromedriver not installed (set CASTELLAN_E2E=1 to require it)");
        return;
    };
    let Some(node_dir) = node_package("openid-client") else {
        eprintln!("skipped: CASTELLAN_NODE_PACKAGES not set (set CASTELLAN_E2E=1 to require it)");
        return;
    };
    let app = spawn_app().await;
    crate::flows::setup(&app).await;
    crate::device::enable_device_flow(&app).await;
    let iss = format!("{}/default/default", app.base);
    let script = node_dir.join("castellan_openid_client.mjs");
    std::fs::copy(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/node/openid_client.mjs"),
        &script,
    )
    .unwrap();
    let mut node = std::process::Command::new("node")
        .arg(&script)
        .args(["device", &iss, "tv", "openid profile offline_access"])
        .current_dir(&node_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(node.stdout.take().unwrap());
    let _node = Killed(node);
    let read_line = |out: &mut std::io::BufReader<std::process::ChildStdout>| {
        let mut line = String::new();
        tokio::task::block_in_place(|| std::io::BufRead::read_line(out, &mut line)).unwrap();
        serde_json::from_str::<serde_json::Value>(&line).unwrap_or_else(|_| panic!("openid-client printed {line}"))
    };
    let started = read_line(&mut stdout);
    let user_code = started["user_code"]
        .as_str()
        .unwrap_or_else(|| panic!("{started}"))
        .to_owned();
    let complete = started["verification_uri_complete"].as_str().unwrap().to_owned();

    let (_driver, b) = chromium(&driver_path).await;
    let outcome = async {
        b.goto(&complete).await?;
        let code = b.find(Locator::Css("#user_code")).await?;
        assert_eq!(code.prop("value").await?.as_deref(), Some(user_code.as_str()));
        b.find(Locator::Css("button[type=submit]")).await?.click().await?;
        b.wait().for_element(Locator::Css("#username")).await?;
        b.find(Locator::Css("#username")).await?.send_keys("alice").await?;
        b.find(Locator::Css("#password"))
            .await?
            .send_keys("alice-password-1")
            .await?;
        b.find(Locator::Css("button[type=submit]")).await?.click().await?;
        let allow = b.wait().for_element(Locator::Css("button[value=allow]")).await?;
        let text = b.find(Locator::Css("main")).await?.text().await?;
        assert!(
            text.contains("Living Room TV") && text.contains(&user_code),
            "consent: {text}"
        );
        allow.click().await?;
        b.wait()
            .for_element(Locator::XPath("//h1[contains(., 'signed in on your device')]"))
            .await?;
        assert_eq!(b.current_url().await?.as_str(), format!("{iss}/device?done=approved"));
        let text = b.find(Locator::Css("main")).await?.text().await?;
        assert!(text.contains("go back to your device"), "{text}");
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    if let Err(e) = outcome {
        let url = b.current_url().await.map(|u| u.to_string()).unwrap_or_default();
        let src = b.source().await.unwrap_or_default();
        let _ = b.close().await;
        panic!("browser: {e} at {url}\n{src}");
    }
    let _ = b.close().await;
    // openid-client polls every five seconds; its next poll gets the tokens.
    let got = read_line(&mut stdout);
    assert!(got.get("error").is_none(), "{got}");
    assert_eq!(got["sub"], "alice", "{got}");
    assert_eq!(got["aud"], json!(["tv"]));
    assert!(got["refresh_token"].is_string());
    assert_eq!(got["scope"], "openid profile offline_access");
}
