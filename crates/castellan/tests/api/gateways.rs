//! Gateways (Cloudentity ACP `/gateways`) and the authorizer they call: the operations, the
//! authorizer's answers, and real nginx and Caddy enforcing an imported specification with the
//! downloaded package (mandatory when `CASTELLAN_GATEWAYS=1`, as `.ci/run` sets).

use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::*;
use crate::tokens::{client, form, issuer};

const SPEC: &str = r#"
openapi: 3.0.3
info: {title: Pets, version: "1"}
security: [{oauth: [pets.read]}]
paths:
  /pets:
    get: {responses: {'200': {description: ok}}}
  /pets/{petId}:
    get: {responses: {'200': {description: ok}}}
    delete:
      security: [{oauth: [pets.write]}]
      responses: {'204': {description: gone}}
  /admin/stats:
    get: {responses: {'200': {description: ok}}}
components:
  securitySchemes:
    oauth:
      type: oauth2
      flows: {clientCredentials: {tokenUrl: 'https://x/token', scopes: {pets.read: Read, pets.write: Write}}}
"#;

struct Setup {
    gateway: Value,
    authorizer: String,
    read_token: String,
    write_token: String,
}

async fn token(app: &TestApp, aid: &str, id: &str, secret: &str, scope: &str) -> String {
    let r = form(
        app,
        &format!("{}/oauth2/token", issuer(app, aid)),
        Some((id, secret)),
        &[("grant_type", "client_credentials"), ("scope", scope)],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["access_token"].as_str().unwrap().to_owned()
}

/// A service with SPEC imported, connected to a new gateway of `kind`; tokens with and without
/// `pets.write`. `/admin/stats` is protected by a policy that also needs `X-Team: ops`.
async fn setup(app: &TestApp, kind: &str) -> Setup {
    let r = app
        .admin(
            Method::POST,
            "/services",
            Some(json!({"id": "pets", "name": "Pets", "authorization_server_id": "default"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let req = app
        .http
        .post(format!("{}/api/admin/default/services/pets/apis/import/text", app.base))
        .basic_auth(&app.id, Some(&app.secret))
        .body(SPEC);
    let r = app.raw(req).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let stats = r.body["created_apis"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["path"] == "/admin/stats")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let policy = json!({"id": "ops-team", "policy_name": "Ops team", "validators": [
        {"name": "scopes", "conf": {"scopes": ["pets.read"]}},
        {"name": "header", "conf": {"fields": [{"field": "x-team", "comparator": "equals", "value": "ops"}]},
         "recovery": [{"id": "join-ops", "type": "team"}]}]});
    assert_eq!(app.admin(Method::POST, "/policies", Some(policy)).await.status, 201);
    let r = app
        .admin(
            Method::PUT,
            &format!("/apis/{stats}"),
            Some(json!({"policy_id": "ops-team"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    let r = app
        .admin(
            Method::POST,
            "/gateways",
            Some(json!({"id": "edge", "name": "Edge", "server_id": "default", "type": kind})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let gateway = r.body;
    let r = app
        .admin(Method::PUT, "/services/pets", Some(json!({"gateway_id": "edge"})))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    client(
        app,
        json!({"client_id": "reader", "client_secret": "reader-secret-0123456789", "grant_types": ["client_credentials"],
               "scopes": ["pets.read"]}),
    )
    .await;
    client(
        app,
        json!({"client_id": "writer", "client_secret": "writer-secret-0123456789", "grant_types": ["client_credentials"],
               "scopes": ["pets.read", "pets.write"]}),
    )
    .await;
    Setup {
        authorizer: format!("{}/api/gateway/default/edge/authorize", app.base),
        read_token: token(app, "default", "reader", "reader-secret-0123456789", "pets.read").await,
        write_token: token(
            app,
            "default",
            "writer",
            "writer-secret-0123456789",
            "pets.read pets.write",
        )
        .await,
        gateway,
    }
}

fn gateway_basic(g: &Value) -> String {
    use base64::Engine as _;
    let creds = format!(
        "{}:{}",
        g["client"]["client_id"].as_str().unwrap(),
        g["client"]["client_secret"].as_str().unwrap()
    );
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(creds))
}

async fn ask(app: &TestApp, s: &Setup, basic: Option<&str>, method: &str, uri: &str, bearer: Option<&str>) -> Resp {
    let mut req = app
        .http
        .get(&s.authorizer)
        .header("X-Original-Method", method)
        .header("X-Original-URI", uri);
    if let Some(b) = basic {
        req = req.header("X-Castellan-Gateway", b);
    }
    if let Some(t) = bearer {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    app.raw(req).await
}

#[tokio::test]
async fn gateways_round_trip_with_their_client() {
    let app = spawn_app().await;
    let r = app
        .admin(
            Method::POST,
            "/gateways",
            Some(json!({"name": "Edge", "server_id": "default", "type": "nginx", "description": "front"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let g = r.body.clone();
    let gid = g["id"].as_str().unwrap().to_owned();
    assert_eq!(g["type"], "nginx");
    assert_eq!(g["authorization_server_id"], "default");
    assert_eq!(g["issuer_url"], issuer(&app, "default"));
    assert_eq!(g["server_url"], app.base);
    assert_eq!(g["client"]["client_id"], g["client_id"]);
    assert_eq!(g["client"]["grant_types"], json!(["client_credentials"]));
    assert_eq!(g["client"]["scopes"], json!(["read_gateway_configuration"]));
    assert!(g["client"]["client_secret"].as_str().unwrap().len() >= 32);
    assert!(g.get("last_active").is_none());
    assert_eq!(app.admin(Method::GET, &format!("/gateways/{gid}"), None).await.body, g);
    // Its client gets tokens for the gateway scope.
    let cid = g["client_id"].as_str().unwrap();
    let secret = g["client"]["client_secret"].as_str().unwrap();
    token(&app, "default", cid, secret, "read_gateway_configuration").await;

    let r = app.admin(Method::GET, "/servers/default/gateways", None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["gateways"][0]["id"], gid.as_str());
    assert!(r.body["gateways"][0].get("client").is_none());
    let r = app
        .admin(
            Method::PUT,
            &format!("/gateways/{gid}"),
            Some(json!({"name": "Edge 2"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["name"], "Edge 2");
    assert_eq!(r.body["description"], "front");

    for (body, field) in [
        (json!({"server_id": "default", "type": "nginx"}), "name"),
        (json!({"name": "x", "type": "nginx"}), "server_id"),
        (json!({"name": "x", "server_id": "nope", "type": "nginx"}), "server_id"),
        (json!({"name": "x", "server_id": "default"}), "type"),
        (json!({"name": "x", "server_id": "default", "type": "envoy"}), "type"),
    ] {
        let r = app.admin(Method::POST, "/gateways", Some(body.clone())).await;
        assert_eq!(assert_api_error(&r, 422)["details"]["field"], field, "{body}");
    }
    let r = app
        .admin(
            Method::POST,
            "/gateways",
            Some(json!({"id": gid, "name": "x", "server_id": "default", "type": "caddy"})),
        )
        .await;
    assert_api_error(&r, 409);

    // Services connect to a gateway of their own server only.
    let r = app
        .admin(
            Method::POST,
            "/services",
            Some(json!({"id": "pets", "name": "Pets", "authorization_server_id": "default", "gateway_id": gid})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["gateway_id"], gid.as_str());
    for (body, _) in [
        (
            json!({"id": "s2", "name": "x", "authorization_server_id": "default", "gateway_id": "ghost"}),
            (),
        ),
        (
            json!({"id": "s3", "name": "x", "authorization_server_id": "admin", "gateway_id": gid}),
            (),
        ),
    ] {
        let r = app.admin(Method::POST, "/services", Some(body)).await;
        assert_eq!(assert_api_error(&r, 422)["details"]["field"], "gateway_id");
    }

    // Deleting: the client cannot authenticate any more, the service is disconnected.
    assert_eq!(
        app.admin(Method::DELETE, &format!("/gateways/{gid}"), None)
            .await
            .status,
        204
    );
    let r = form(
        &app,
        &format!("{}/oauth2/token", issuer(&app, "default")),
        Some((cid, secret)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(r.status, 401, "{}", r.body);
    let svc = app.admin(Method::GET, "/services/pets", None).await.body;
    assert!(svc.get("gateway_id").is_none() || svc["gateway_id"].is_null(), "{svc}");
    assert_api_error(&app.admin(Method::GET, &format!("/gateways/{gid}"), None).await, 404);
    assert_api_error(&app.admin(Method::DELETE, &format!("/gateways/{gid}"), None).await, 404);
}

#[tokio::test]
async fn the_authorizer_decides_from_route_token_and_policy() {
    let app = spawn_app().await;
    let s = setup(&app, "nginx").await;
    let basic = gateway_basic(&s.gateway);
    let b = Some(basic.as_str());

    let r = ask(&app, &s, b, "GET", "/pets/42?x=1", Some(&s.read_token)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.headers["x-castellan-client"], "reader");
    assert_eq!(r.headers["x-castellan-subject"], "reader");
    assert!(r.body.is_null(), "a 200 has no body: {}", r.body);
    let apis = app.admin(Method::GET, "/services/pets/apis", None).await.body;
    let get_pet = apis["apis"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["method"] == "GET" && a["path"] == "/pets/{petId}")
        .unwrap_or_else(|| panic!("GET /pets/{{petId}} in {apis}"));
    assert_eq!(r.headers["x-castellan-api"], get_pet["id"].as_str().unwrap());
    // An nginx gateway states the request in X-Original-*; Caddy's pair, which nginx passes
    // on from the caller, decides nothing.
    let req = app
        .http
        .post(&s.authorizer)
        .header("X-Forwarded-Method", "DELETE")
        .header("X-Forwarded-Uri", "/pets/42")
        .header("X-Castellan-Gateway", &basic)
        .bearer_auth(&s.write_token);
    let r = app.raw(req).await;
    assert_api_error(&r, 403);
    assert!(
        r.body["details"]["reason"].as_str().unwrap().contains("is not an API"),
        "{}",
        r.body
    );

    // The caller's token.
    let r = ask(&app, &s, b, "GET", "/pets", None).await;
    assert_api_error(&r, 401);
    assert!(
        r.headers["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer error=\"invalid_token\"")
    );
    for bad in ["not-a-jwt", "a.b.c", "", "Bearer"] {
        let r = ask(&app, &s, b, "GET", "/pets", Some(bad)).await;
        assert_api_error(&r, 401);
    }
    // A token of another server of the tenant.
    let admin_token = {
        let r = form(
            &app,
            &format!("{}/oauth2/token", issuer(&app, "admin")),
            Some((&app.id, &app.secret)),
            &[("grant_type", "client_credentials")],
        )
        .await;
        r.body["access_token"].as_str().unwrap().to_owned()
    };
    assert_api_error(&ask(&app, &s, b, "GET", "/pets", Some(&admin_token)).await, 401);

    // Scopes and policies: 403 with the recovery.
    let r = ask(&app, &s, b, "DELETE", "/pets/42", Some(&s.read_token)).await;
    assert_api_error(&r, 403);
    let r = ask(&app, &s, b, "GET", "/admin/stats", Some(&s.read_token)).await;
    let e = assert_api_error(&r, 403);
    assert_eq!(e["details"]["recovery"], json!([{"id": "join-ops", "type": "team"}]));
    let req = app
        .http
        .get(&s.authorizer)
        .header("X-Original-Method", "GET")
        .header("X-Original-URI", "/admin/stats")
        .header("X-Castellan-Gateway", &basic)
        .header("X-Team", "ops")
        .bearer_auth(&s.read_token);
    assert_eq!(app.raw(req).await.status, 200);
    // Not in the specification, or not this method.
    assert_api_error(&ask(&app, &s, b, "GET", "/nowhere", Some(&s.read_token)).await, 403);
    assert_api_error(&ask(&app, &s, b, "POST", "/pets", Some(&s.read_token)).await, 403);
    // A service not connected to this gateway.
    let r = app
        .admin(
            Method::POST,
            "/services",
            Some(json!({"id": "other", "name": "Other", "authorization_server_id": "default"})),
        )
        .await;
    assert_eq!(r.status, 201);
    let req = app
        .http
        .get(format!("{}?service=other", s.authorizer))
        .header("X-Original-Method", "GET")
        .header("X-Original-URI", "/pets")
        .header("X-Castellan-Gateway", &basic)
        .bearer_auth(&s.read_token);
    let e = app.raw(req).await;
    assert!(
        assert_api_error(&e, 403)["details"]["reason"]
            .as_str()
            .unwrap()
            .contains("not connected")
    );

    // The gateway's own credentials: missing, wrong, another client's, another gateway's path.
    for cred in [
        None,
        Some("Basic Z2FyYmFnZQ=="),
        Some("Basic cmVhZGVyOnJlYWRlci1zZWNyZXQtMDEyMzQ1Njc4OQ=="),
    ] {
        let r = ask(&app, &s, cred, "GET", "/pets", Some(&s.read_token)).await;
        assert_api_error(&r, 401);
        assert!(r.headers.get("www-authenticate").is_none(), "not the caller's fault");
        assert!(r.headers.get("x-castellan-subject").is_none());
    }
    let other = app
        .http
        .get(format!("{}/api/gateway/default/ghost/authorize", app.base))
        .header("X-Castellan-Gateway", &basic)
        .bearer_auth(&s.read_token);
    assert_api_error(&app.raw(other).await, 401);

    // A revoked token.
    let r = form(
        &app,
        &format!("{}/oauth2/revoke", issuer(&app, "default")),
        Some(("reader", "reader-secret-0123456789")),
        &[("token", &s.read_token)],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_api_error(&ask(&app, &s, b, "GET", "/pets", Some(&s.read_token)).await, 401);

    // last_active is recorded.
    let g = app.admin(Method::GET, "/gateways/edge", None).await.body;
    assert!(g["last_active"].as_str().is_some_and(|t| t.ends_with('Z')), "{g}");
}

// ---- real gateways -------------------------------------------------------------------------

/// A DPoP-bound token at the gateway: only with the DPoP scheme and a proof by its key of the
/// original request (the URL the gateway states in `X-Original-URL` / `X-Forwarded-Url`).
#[tokio::test]
async fn the_authorizer_wants_a_proof_for_a_dpop_bound_token() {
    let app = spawn_app().await;
    let s = setup(&app, "nginx").await;
    let basic = gateway_basic(&s.gateway);
    let key = crate::dpop::Key::new();
    let req = app
        .http
        .post(format!("{}/oauth2/token", issuer(&app, "default")))
        .header("content-type", "application/x-www-form-urlencoded")
        .header(
            "DPoP",
            key.proof("POST", &format!("{}/oauth2/token", issuer(&app, "default"))),
        )
        .basic_auth("reader", Some("reader-secret-0123456789"))
        .body("grant_type=client_credentials&scope=pets.read");
    let r = app.raw(req).await;
    assert_eq!(r.body["token_type"], "DPoP", "{}", r.body);
    let bound = r.body["access_token"].as_str().unwrap().to_owned();
    let url = "https://api.example/pets/42";
    let at_gateway = |scheme: &str, proof: Option<String>, stated_url: Option<&str>| {
        let mut req = app
            .http
            .get(&s.authorizer)
            .header("X-Original-Method", "GET")
            .header("X-Original-URI", "/pets/42?x=1")
            .header("X-Castellan-Gateway", &basic)
            .header("Authorization", format!("{scheme} {bound}"));
        if let Some(u) = stated_url {
            req = req.header("X-Original-URL", u);
        }
        if let Some(p) = proof {
            req = req.header("DPoP", p);
        }
        app.raw(req)
    };
    let good = key.proof_for("GET", url, &bound);
    let r = at_gateway("DPoP", Some(good.clone()), Some("https://api.example/pets/42?x=1")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.headers["x-castellan-client"], "reader");
    let other = crate::dpop::Key::new();
    for (what, scheme, proof, stated) in [
        ("the same proof again", "DPoP", Some(good), Some(url)),
        ("as a bearer token", "Bearer", None, Some(url)),
        ("without a proof", "DPoP", None, Some(url)),
        (
            "another key's proof",
            "DPoP",
            Some(other.proof_for("GET", url, &bound)),
            Some(url),
        ),
        (
            "a proof of another URL",
            "DPoP",
            Some(key.proof_for("GET", "https://api.example/pets/7", &bound)),
            Some(url),
        ),
        (
            "a proof of another method",
            "DPoP",
            Some(key.proof_for("DELETE", url, &bound)),
            Some(url),
        ),
        ("no URL stated", "DPoP", Some(key.proof_for("GET", url, &bound)), None),
    ] {
        let r = at_gateway(scheme, proof, stated).await;
        assert_eq!(r.status, 401, "{what}: {}", r.body);
    }
    // A bearer token keeps working as a bearer token, and not with the DPoP scheme.
    let r = ask(&app, &s, Some(&basic), "GET", "/pets/42", Some(&s.read_token)).await;
    assert_eq!(r.status, 200);
}

/// A certificate-bound token (RFC 8705 §3) passes the authorizer only with the caller's
/// certificate, which the gateway forwards in `Client-Cert` (RFC 9440).
#[tokio::test]
async fn the_authorizer_wants_the_certificate_of_a_certificate_bound_token() {
    let ca = crate::mtls::Authority::new("Example Client CA");
    let app = crate::mtls::behind_proxy(&ca).await;
    let s = setup(&app, "nginx").await;
    let basic = gateway_basic(&s.gateway);
    let r = app
        .admin(
            Method::POST,
            "/clients",
            Some(json!({"client_id": "bound", "client_secret": "bound-secret-0123456789",
                "grant_types": ["client_credentials"], "scopes": ["pets.read"],
                "tls_client_certificate_bound_access_tokens": true, "authorization_server_id": "default"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let mine = crate::mtls::self_signed("caller.example");
    let req = app
        .http
        .post(format!("{}/oauth2/token", issuer(&app, "default")))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("Client-Cert", mine.header())
        .basic_auth("bound", Some("bound-secret-0123456789"))
        .body("grant_type=client_credentials&scope=pets.read");
    let r = app.raw(req).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let bound = r.body["access_token"].as_str().unwrap().to_owned();
    let at_gateway = |cert: Option<String>| {
        let mut req = app
            .http
            .get(&s.authorizer)
            .header("X-Original-Method", "GET")
            .header("X-Original-URI", "/pets/42")
            .header("X-Castellan-Gateway", &basic)
            .bearer_auth(&bound);
        if let Some(c) = cert {
            req = req.header("Client-Cert", c);
        }
        app.raw(req)
    };
    let r = at_gateway(Some(mine.header())).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.headers["x-castellan-client"], "bound");
    // nginx's form of the same certificate (URL-encoded PEM) works as well.
    let escaped: String = form_urlencoded::byte_serialize(mine.pem.as_bytes()).collect();
    let r = at_gateway(Some(escaped.replace('+', "%20"))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    for (what, cert) in [
        ("without a certificate", None),
        (
            "with another certificate",
            Some(crate::mtls::self_signed("caller.example").header()),
        ),
        ("with an unreadable header", Some("garbage".to_owned())),
    ] {
        let r = at_gateway(cert).await;
        assert_eq!(r.status, 401, "{what}: {}", r.body);
        assert!(
            r.headers["www-authenticate"]
                .to_str()
                .unwrap()
                .contains("invalid_token"),
            "{what}"
        );
    }
}

fn required() -> bool {
    std::env::var("CASTELLAN_GATEWAYS").is_ok_and(|v| v == "1")
}

/// The program, or `None` to skip (a failure when the gateways are required).
pub(crate) fn program(path: &str, package: &str) -> Option<PathBuf> {
    let p = PathBuf::from(path);
    if p.exists() {
        return Some(p);
    }
    if required() {
        panic!("CASTELLAN_GATEWAYS=1 but {path} is missing (apt-get install {package})");
    }
    eprintln!("SKIPPED-OPTIONAL: {path} is not installed");
    None
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A tiny upstream: answers 200 with the subject header it received.
async fn upstream() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = vec![0u8; 16 * 1024];
                let n = sock.read(&mut buf).await.unwrap_or(0);
                let head = String::from_utf8_lossy(&buf[..n]).to_lowercase();
                let subject = head
                    .lines()
                    .find_map(|l| l.strip_prefix("x-castellan-subject:"))
                    .map(str::trim)
                    .unwrap_or("")
                    .to_owned();
                let body = format!("upstream saw subject={subject}");
                let resp = format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(resp.as_bytes()).await;
            });
        }
    });
    port
}

/// Downloads and unpacks the gateway's package into `dir`; the directory it made.
async fn unpack(app: &TestApp, gw: &str, dir: &Path) -> PathBuf {
    let req = app
        .http
        .get(format!("{}/api/admin/default/gateways/{gw}/package", app.base))
        .basic_auth(&app.id, Some(&app.secret));
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/gzip");
    let bytes = resp.bytes().await.unwrap();
    let tgz = dir.join("package.tar.gz");
    std::fs::write(&tgz, &bytes).unwrap();
    let ok = std::process::Command::new("tar")
        .arg("xzf")
        .arg(&tgz)
        .arg("-C")
        .arg(dir)
        .status()
        .unwrap();
    assert!(ok.success());
    let out = dir.join(format!("castellan-gateway-{gw}"));
    for f in ["castellan-gateway.json", "README.md"] {
        assert!(out.join(f).exists(), "{f} in the package");
    }
    out
}

/// Waits until something listens on `port`.
pub(crate) async fn wait_for(port: u16, child: &mut tokio::process::Child) {
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the gateway exited: {status}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("nothing listens on {port}");
}

/// The checks both gateways must pass, through `port`.
async fn through_gateway(app: &TestApp, s: &Setup, port: u16) {
    let http = reqwest::Client::new();
    let at = |p: &str| format!("http://127.0.0.1:{port}{p}");
    let r = http
        .get(at("/pets/42"))
        .bearer_auth(&s.read_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "upstream saw subject=reader");
    // A subject header sent by the caller is not believed.
    let r = http
        .get(at("/pets"))
        .bearer_auth(&s.read_token)
        .header("X-Castellan-Subject", "admin")
        .send()
        .await
        .unwrap();
    assert_eq!(r.text().await.unwrap(), "upstream saw subject=reader");
    let r = http.get(at("/pets")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(
        r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token"),
        "{:?}",
        r.headers()
    );
    let admin_token = {
        let r = form(
            app,
            &format!("{}/oauth2/token", issuer(app, "admin")),
            Some((&app.id, &app.secret)),
            &[("grant_type", "client_credentials")],
        )
        .await;
        r.body["access_token"].as_str().unwrap().to_owned()
    };
    let r = http.get(at("/pets")).bearer_auth(&admin_token).send().await.unwrap();
    assert_eq!(r.status(), 401, "a token of another server");
    let r = http
        .delete(at("/pets/42"))
        .bearer_auth(&s.read_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "without the scope");
    // Every header the decision reads, forged by the caller: the gateway states the request
    // itself, whichever type it is.
    for (method, path) in [(Method::DELETE, "/pets/42"), (Method::GET, "/admin/stats")] {
        let r = http
            .request(method.clone(), at(path))
            .bearer_auth(&s.read_token)
            .header("X-Original-Method", "GET")
            .header("X-Original-URI", "/pets/42")
            .header("X-Forwarded-Method", "GET")
            .header("X-Forwarded-Uri", "/pets/42")
            .header("X-Castellan-Gateway", "Basic Zm9yZ2VkOmZvcmdlZA==")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{method} {path} with forged decision headers");
    }
    let r = http
        .get(at("/admin/stats"))
        .bearer_auth(&s.read_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "failing the header validator");
    let r = http
        .get(at("/admin/stats"))
        .bearer_auth(&s.read_token)
        .header("X-Team", "ops")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "passing it");
    let r = http
        .get(at("/not/in/the/spec"))
        .bearer_auth(&s.read_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "a path not in the specification");
    // A revoked token.
    let revoked = token(app, "default", "reader", "reader-secret-0123456789", "pets.read").await;
    let r = form(
        app,
        &format!("{}/oauth2/revoke", issuer(app, "default")),
        Some(("reader", "reader-secret-0123456789")),
        &[("token", &revoked)],
    )
    .await;
    assert_eq!(r.status, 200);
    let r = http.get(at("/pets")).bearer_auth(&revoked).send().await.unwrap();
    assert_eq!(r.status(), 401, "a revoked token");
    // A DPoP-bound token with a proof of the URL the caller used (the gateway states it).
    let key = crate::dpop::Key::new();
    let token_url = format!("{}/oauth2/token", issuer(app, "default"));
    let req = app
        .http
        .post(&token_url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("DPoP", key.proof("POST", &token_url))
        .basic_auth("reader", Some("reader-secret-0123456789"))
        .body("grant_type=client_credentials&scope=pets.read");
    let bound = app.raw(req).await.body["access_token"].as_str().unwrap().to_owned();
    let dpop_get = |proof: String| {
        http.get(at("/pets/42?q=1"))
            .header("Authorization", format!("DPoP {bound}"))
            .header("DPoP", proof)
            .send()
    };
    let r = dpop_get(key.proof_for("GET", &at("/pets/42"), &bound)).await.unwrap();
    assert_eq!(r.status(), 200, "a DPoP request through the gateway");
    let r = dpop_get(key.proof_for("GET", &at("/pets/7"), &bound)).await.unwrap();
    assert_eq!(r.status(), 401, "a proof of another URL");
    let r = http.get(at("/pets/42")).bearer_auth(&bound).send().await.unwrap();
    assert_eq!(r.status(), 401, "a bound token as a bearer token");
    // A certificate-bound token (RFC 8705): the caller's own `Client-Cert` header, naming the
    // (public) certificate the token is bound to, never reaches the authorizer — the package
    // sets that header from the TLS connection, which here has no client certificate.
    let r = app
        .admin(
            Method::POST,
            "/clients",
            Some(
                json!({"client_id": "cert-reader", "client_secret": "cert-reader-secret-0123",
                "grant_types": ["client_credentials"], "scopes": ["pets.read"],
                "tls_client_certificate_bound_access_tokens": true, "authorization_server_id": "default"}),
            ),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let cert = crate::mtls::self_signed("caller.example");
    let req = app
        .http
        .post(&token_url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("Client-Cert", cert.header())
        .basic_auth("cert-reader", Some("cert-reader-secret-0123"))
        .body("grant_type=client_credentials&scope=pets.read");
    let r = app.raw(req).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let cert_bound = r.body["access_token"].as_str().unwrap().to_owned();
    let r = http
        .get(at("/pets/42"))
        .bearer_auth(&cert_bound)
        .header("Client-Cert", cert.header())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "a forged Client-Cert header through the gateway");
}

#[tokio::test]
async fn nginx_enforces_the_package_unedited_but_for_the_upstream() {
    let Some(nginx) = program("/usr/sbin/nginx", "nginx") else {
        return;
    };
    // Believes Client-Cert from loopback, to issue the certificate-bound token checked last.
    let app = crate::mtls::behind_proxy(&crate::mtls::Authority::new("Client CA")).await;
    let s = setup(&app, "nginx").await;
    let work = tempfile::tempdir().unwrap();
    let dir = unpack(&app, "edge", work.path()).await;
    let up = upstream().await;
    let port = free_port();
    let conf = std::fs::read_to_string(dir.join("nginx.conf")).unwrap();
    let conf = conf
        .replace("server 127.0.0.1:9000;", &format!("server 127.0.0.1:{up};"))
        .replace("listen 8080;", &format!("listen 127.0.0.1:{port};"));
    std::fs::write(dir.join("nginx.conf"), conf).unwrap();
    let mut child = tokio::process::Command::new(nginx)
        .arg("-p")
        .arg(&dir)
        .arg("-c")
        .arg("nginx.conf")
        .arg("-e")
        .arg("stderr")
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    wait_for(port, &mut child).await;
    through_gateway(&app, &s, port).await;
    // SIGTERM, so that the master stops its worker too.
    if let Some(pid) = child.id() {
        let _ = std::process::Command::new("kill").arg(pid.to_string()).status();
    }
    let _ = child.wait().await;
}

#[tokio::test]
async fn caddy_enforces_the_package_unedited_but_for_the_upstream() {
    let Some(caddy) = program("/usr/bin/caddy", "caddy") else {
        return;
    };
    // Believes Client-Cert from loopback, to issue the certificate-bound token checked last.
    let app = crate::mtls::behind_proxy(&crate::mtls::Authority::new("Client CA")).await;
    let s = setup(&app, "caddy").await;
    let work = tempfile::tempdir().unwrap();
    let dir = unpack(&app, "edge", work.path()).await;
    let up = upstream().await;
    let port = free_port();
    let conf = std::fs::read_to_string(dir.join("Caddyfile")).unwrap();
    let conf = conf
        .replace("reverse_proxy 127.0.0.1:9000", &format!("reverse_proxy 127.0.0.1:{up}"))
        .replace(":8080 {", &format!("http://127.0.0.1:{port} {{"));
    std::fs::write(dir.join("Caddyfile"), conf).unwrap();
    let mut child = tokio::process::Command::new(caddy)
        .args(["run", "--config", "Caddyfile", "--adapter", "caddyfile"])
        .current_dir(&dir)
        .env("HOME", work.path())
        .env("XDG_DATA_HOME", work.path().join("data"))
        .env("XDG_CONFIG_HOME", work.path().join("config"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    wait_for(port, &mut child).await;
    through_gateway(&app, &s, port).await;
    let _ = child.kill().await;
}

/// A Rego evaluation waits for its worker process without holding a request thread: on a runtime
/// of one worker thread, the server answers other requests while a policy that runs until its
/// worker is killed is being decided at the gateway.
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn a_slow_rego_decision_at_the_gateway_stalls_no_other_request() {
    let app = spawn_app().await;
    let s = setup(&app, "nginx").await;
    // One step that pads a number to a gigabyte: in the test build it runs past the worker's
    // deadline before it reaches the memory bound.
    let definition = "package castellan\nallow if {\n  input.request.headers[\"x-boom\"] == \"1\"\n  count(sprintf(\"%0999999999d\", [1])) > 0\n}\n";
    let r = app
        .admin(
            Method::PUT,
            "/policies/ops-team",
            Some(json!({"policy_name": "Ops team", "language": "rego", "definition": definition, "validators": []})),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    let slow = tokio::spawn(
        app.http
            .get(&s.authorizer)
            .header("X-Original-Method", "GET")
            .header("X-Original-URI", "/admin/stats")
            .header("X-Castellan-Gateway", gateway_basic(&s.gateway))
            .header("Authorization", format!("Bearer {}", s.read_token))
            .header("X-Boom", "1")
            .send(),
    );
    // The slow decision has started (its worker is busy) before the server is asked again.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let health = app.http.get(format!("{}/health/live", app.base)).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert!(!slow.is_finished(), "the server answered only after the slow decision");
    let decided = slow.await.unwrap().unwrap();
    assert_eq!(decided.status(), 403, "a policy stopped by its bound fails");
}
