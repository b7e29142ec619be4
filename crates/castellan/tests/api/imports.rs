//! Importing OpenAPI documents into a service (Cloudentity ACP
//! `POST /services/{sid}/apis/import/{file,text,url}`, `DELETE /services/{sid}/apis`): real public
//! documents, re-import, removal, and every kind of bad input changing nothing.

use std::path::PathBuf;

use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::*;

fn fixture(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/openapi")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

pub(crate) async fn service(app: &TestApp, id: &str) {
    let r = app
        .admin(
            Method::POST,
            "/services",
            Some(json!({"id": id, "name": id, "authorization_server_id": "default"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
}

pub(crate) async fn import_text(app: &TestApp, sid: &str, doc: impl Into<reqwest::Body>) -> Resp {
    let req = app
        .http
        .post(format!(
            "{}/api/admin/default/services/{sid}/apis/import/text",
            app.base
        ))
        .basic_auth(&app.id, Some(&app.secret))
        .header("content-type", "application/yaml")
        .body(doc);
    app.raw(req).await
}

async fn import_file(app: &TestApp, sid: &str, name: &str, doc: Vec<u8>) -> Resp {
    let form =
        reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(doc).file_name(name.to_owned()));
    let req = app
        .http
        .post(format!(
            "{}/api/admin/default/services/{sid}/apis/import/file",
            app.base
        ))
        .basic_auth(&app.id, Some(&app.secret))
        .multipart(form);
    app.raw(req).await
}

async fn import_url(app: &TestApp, sid: &str, url: &str) -> Resp {
    app.admin(
        Method::POST,
        &format!("/services/{sid}/apis/import/url"),
        Some(json!({ "url": url })),
    )
    .await
}

fn list<'a>(v: &'a Value, key: &str) -> &'a Vec<Value> {
    v[key].as_array().unwrap_or_else(|| panic!("{key} in {v}"))
}

fn names(v: &Value, key: &str, field: &str) -> Vec<String> {
    let mut out: Vec<String> = list(v, key)
        .iter()
        .map(|x| x[field].as_str().unwrap().to_owned())
        .collect();
    out.sort();
    out
}

/// Everything a failed import must leave as it was.
async fn state(app: &TestApp, sid: &str) -> Value {
    let apis = app
        .admin(Method::GET, &format!("/services/{sid}/apis"), None)
        .await
        .body;
    let service = app.admin(Method::GET, &format!("/services/{sid}"), None).await.body;
    let policies = app.admin(Method::GET, "/policies", None).await.body;
    let scopes = app.admin(Method::GET, "/servers/default/scopes", None).await.body;
    json!({"apis": apis, "service": service, "policies": policies, "scopes": scopes})
}

#[tokio::test]
async fn the_petstore_in_swagger_20_and_openapi_30_imports_the_same_apis() {
    let app = spawn_app().await;
    service(&app, "petstore").await;
    let r = import_file(&app, "petstore", "petstore.json", fixture("petstore-2.0.json")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let created = list(&r.body, "created_apis");
    assert_eq!(created.len(), 20);
    // Document order: paths as they appear, a path's methods in the specification's order.
    let first: Vec<(String, String, i64)> = created
        .iter()
        .take(4)
        .map(|a| {
            (
                a["method"].as_str().unwrap().to_owned(),
                a["path"].as_str().unwrap().to_owned(),
                a["position"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        first,
        [
            ("PUT".into(), "/pet".into(), 1),
            ("POST".into(), "/pet".into(), 2),
            ("GET".into(), "/pet/findByStatus".into(), 3),
            ("GET".into(), "/pet/findByTags".into(), 4),
        ]
    );
    let positions: Vec<i64> = created.iter().map(|a| a["position"].as_i64().unwrap()).collect();
    assert_eq!(positions, (1..=20).collect::<Vec<_>>());
    assert_eq!(names(&r.body, "created_scopes", "name"), ["read:pets", "write:pets"]);
    assert!(
        list(&r.body, "created_scopes")
            .iter()
            .all(|s| s["service_id"] == "petstore")
    );
    let scope = list(&r.body, "created_scopes")
        .iter()
        .find(|s| s["name"] == "read:pets")
        .unwrap();
    assert_eq!(scope["description"], "read your pets");
    // One distinct scope set: one policy with a `scopes` validator, on the pet APIs only.
    let policies = list(&r.body, "created_policies");
    assert_eq!(policies.len(), 1, "{policies:?}");
    let pid = policies[0]["id"].as_str().unwrap();
    // `:` cannot be in a policy id: replaced, with a digest of the scopes so sets never share one.
    assert!(pid.starts_with("petstore-read_pets-write_pets-"), "{pid}");
    assert_eq!(pid.len(), "petstore-read_pets-write_pets-".len() + 12, "{pid}");
    assert_eq!(
        policies[0]["validators"],
        json!([{"name": "scopes", "conf": {"scopes": ["read:pets", "write:pets"]}, "recovery": []}])
    );
    // `GET /pet/{petId}` asks for an API key only: no scopes, no policy.
    for a in created {
        let pet =
            a["path"].as_str().unwrap().starts_with("/pet") && !(a["method"] == "GET" && a["path"] == "/pet/{petId}");
        assert_eq!(a["policy_id"] == pid, pet, "{a}");
        assert_eq!(a["service_id"], "petstore");
        assert_eq!(a["server_id"], "default");
    }
    for key in [
        "ignored_apis",
        "ignored_scopes",
        "ignored_policies",
        "removed_apis",
        "removed_policies",
        "not_removed_policies",
    ] {
        assert_eq!(list(&r.body, key).len(), 0, "{key}");
    }
    let svc = app.admin(Method::GET, "/services/petstore", None).await.body;
    assert_eq!(svc["with_specification"], true);
    assert_eq!(names(&svc, "scopes", "name"), ["read:pets", "write:pets"]);

    // The same Petstore as OpenAPI 3.0 YAML into another service: the same APIs; the scopes
    // exist on the server now and are reused.
    service(&app, "petstore3").await;
    let r3 = import_text(&app, "petstore3", fixture("petstore-3.0.yaml")).await;
    assert_eq!(r3.status, 200, "{}", r3.body);
    let key = |a: &Value| format!("{} {} {}", a["position"], a["method"], a["path"]);
    assert_eq!(
        list(&r3.body, "created_apis").iter().map(key).collect::<Vec<_>>(),
        created.iter().map(key).collect::<Vec<_>>()
    );
    assert_eq!(names(&r3.body, "ignored_scopes", "name"), ["read:pets", "write:pets"]);
    assert_eq!(list(&r3.body, "created_scopes").len(), 0);
    let pid3 = list(&r3.body, "created_policies")[0]["id"].as_str().unwrap();
    assert!(pid3.starts_with("petstore3-read_pets-write_pets-"), "{pid3}");

    // Imported APIs: no manual API, no deleting one by one.
    let r = app
        .admin(
            Method::POST,
            "/apis",
            Some(json!({"service_id": "petstore", "method": "GET", "path": "/extra"})),
        )
        .await;
    assert_eq!(assert_api_error(&r, 422)["details"]["field"], "service_id");
    let id = created[0]["id"].as_str().unwrap();
    assert_api_error(&app.admin(Method::DELETE, &format!("/apis/{id}"), None).await, 400);
    // …but their policy can change.
    let r = app
        .admin(Method::PUT, &format!("/apis/{id}"), Some(json!({"policy_id": "block"})))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test]
async fn reimport_replaces_and_removal_keeps_policies_used_elsewhere() {
    let app = spawn_app().await;
    service(&app, "petstore").await;
    let first = import_text(&app, "petstore", fixture("petstore-3.0.yaml")).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let pid = list(&first.body, "created_policies")[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Re-import of a smaller document: everything of the first import goes.
    let small = r#"
openapi: 3.0.3
info: {title: small, version: "1"}
paths:
  /pets:
    get:
      security: [{o: [pets.read]}]
      responses: {'200': {description: ok}}
components:
  securitySchemes:
    o: {type: oauth2, flows: {clientCredentials: {tokenUrl: 'https://x/token', scopes: {pets.read: Read}}}}
"#;
    let r = import_text(&app, "petstore", small).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(list(&r.body, "removed_apis").len(), 20);
    assert_eq!(names(&r.body, "removed_policies", "id"), std::slice::from_ref(&pid));
    assert_eq!(list(&r.body, "created_apis").len(), 1);
    assert_eq!(names(&r.body, "created_policies", "id"), ["petstore-pets.read"]);
    assert_eq!(names(&r.body, "created_scopes", "name"), ["pets.read"]);
    assert_api_error(&app.admin(Method::GET, &format!("/policies/{pid}"), None).await, 404);
    let apis = app.admin(Method::GET, "/services/petstore/apis", None).await.body;
    assert_eq!(list(&apis, "apis").len(), 1);
    // Scopes of the first import stay: clients may hold them.
    let scopes = app.admin(Method::GET, "/servers/default/scopes", None).await.body;
    assert!(names(&scopes, "scopes", "name").contains(&"write:pets".to_owned()));

    // The same document again: the policy is replaced by its new copy.
    let r = import_text(&app, "petstore", small).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(names(&r.body, "removed_policies", "id"), ["petstore-pets.read"]);
    assert_eq!(names(&r.body, "created_policies", "id"), ["petstore-pets.read"]);
    assert_eq!(names(&r.body, "ignored_scopes", "name"), ["pets.read"]);

    // A manual API of another service uses the imported policy: removal keeps it.
    service(&app, "other").await;
    let r = app
        .admin(
            Method::POST,
            "/apis",
            Some(json!({"service_id": "other", "method": "GET", "path": "/x", "policy_id": "petstore-pets.read"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = app.admin(Method::DELETE, "/services/petstore/apis", None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(list(&r.body, "removed_apis").len(), 1);
    assert_eq!(list(&r.body, "removed_policies").len(), 0);
    assert_eq!(names(&r.body, "not_removed_policies", "id"), ["petstore-pets.read"]);
    assert_eq!(
        app.admin(Method::GET, "/policies/petstore-pets.read", None)
            .await
            .status,
        200
    );
    let svc = app.admin(Method::GET, "/services/petstore", None).await.body;
    assert_eq!(svc["with_specification"], false);
    // Without a specification, APIs can be added by hand again.
    let r = app
        .admin(
            Method::POST,
            "/apis",
            Some(json!({"service_id": "petstore", "method": "GET", "path": "/manual"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    // An import removes hand-made APIs too.
    let r = import_text(&app, "petstore", small).await;
    assert_eq!(names(&r.body, "removed_apis", "path"), ["/manual"]);
    // The policy still used by `other` is reused, not recreated.
    assert_eq!(names(&r.body, "ignored_policies", "id"), ["petstore-pets.read"]);
    assert_eq!(list(&r.body, "created_policies").len(), 0);
}

#[tokio::test]
async fn a_large_real_document_imports_in_document_order() {
    let app = spawn_app().await;
    service(&app, "discord").await;
    let doc = fixture("discord-3.1.json");
    let r = import_file(&app, "discord", "openapi.json", doc.clone()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let created = list(&r.body, "created_apis");
    assert_eq!(created.len(), 242);
    assert_eq!(list(&r.body, "ignored_apis").len(), 0);
    // 34 scopes; those the server has already (`openid`, `email`) are reused.
    assert_eq!(names(&r.body, "ignored_scopes", "name"), ["email", "openid"]);
    assert_eq!(list(&r.body, "created_scopes").len(), 32);
    assert_eq!(list(&r.body, "created_policies").len(), 10);
    // Positions follow the document's paths.
    let text = String::from_utf8(doc).unwrap();
    let mut last = 0;
    for a in created.iter().take(40) {
        let path = a["path"].as_str().unwrap();
        let at = text
            .find(&format!("\"{path}\": {{"))
            .unwrap_or_else(|| panic!("{path}"));
        assert!(at >= last, "{path} comes before the previous API in the document");
        last = at;
    }
    let positions: Vec<i64> = created.iter().map(|a| a["position"].as_i64().unwrap()).collect();
    assert_eq!(positions, (1..=242).collect::<Vec<_>>());
    // The server APIs view has them under the service.
    let r = app.admin(Method::GET, "/servers/default/apis", None).await;
    assert_eq!(r.body["apis_by_services"]["discord"].as_array().unwrap().len(), 242);
}

/// A loopback HTTP server answering each request from `respond(path)`; a path starting with
/// `/hang` never answers.
async fn docs_server(respond: fn(&str, u16) -> Vec<u8>) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let n = sock.read(&mut buf).await.unwrap_or(0);
                let head = String::from_utf8_lossy(&buf[..n]).to_string();
                let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
                if path.starts_with("/hang") {
                    tokio::time::sleep(std::time::Duration::from_secs(30)).await;
                    return;
                }
                let _ = sock.write_all(&respond(&path, port)).await;
            });
        }
    });
    port
}

fn http_response(status: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n{headers}\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

fn serve_docs(path: &str, port: u16) -> Vec<u8> {
    match path {
        "/petstore.json" => http_response(
            "200 OK",
            "content-type: application/json\r\n",
            &fixture("petstore-2.0.json"),
        ),
        "/moved" => http_response(
            "302 Found",
            &format!("location: http://127.0.0.1:{port}/petstore.json\r\n"),
            b"",
        ),
        "/elsewhere" => http_response(
            "302 Found",
            &format!("location: http://localhost:{port}/petstore.json\r\n"),
            b"",
        ),
        "/huge" => {
            let mut body = b"openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\nx-padding: '".to_vec();
            body.resize(6 * 1024 * 1024, b'a');
            http_response("200 OK", "", &body)
        }
        "/missing" => http_response("404 Not Found", "", b"no"),
        _ => http_response("500 Internal Server Error", "", b""),
    }
}

#[tokio::test]
async fn url_imports_are_fetched_with_guards() {
    let app = spawn_app().await;
    service(&app, "petstore").await;
    let port = docs_server(serve_docs).await;
    let base = format!("http://127.0.0.1:{port}");

    let r = import_url(&app, "petstore", &format!("{base}/petstore.json")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(list(&r.body, "created_apis").len(), 20);
    // A redirect on the same host is followed.
    let r = import_url(&app, "petstore", &format!("{base}/moved")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(list(&r.body, "removed_apis").len(), 20);

    let before = state(&app, "petstore").await;
    for (url, reason) in [
        (format!("{base}/elsewhere"), "another host"),
        (format!("{base}/huge"), "larger than"),
        (format!("{base}/missing"), "404"),
        (format!("{base}/hang"), "no answer within 5 seconds"),
        ("http://example.com/openapi.json".to_owned(), "https"),
        ("ftp://example.com/openapi.json".to_owned(), "https"),
        ("not a url".to_owned(), ""),
    ] {
        let r = import_url(&app, "petstore", &url).await;
        let e = assert_api_error(&r, 422);
        assert_eq!(e["details"]["field"], "url", "{url}: {e}");
        let text = e.to_string();
        assert!(text.contains(reason), "{url}: {text}");
    }
    let r = app
        .admin(Method::POST, "/services/petstore/apis/import/url", Some(json!({})))
        .await;
    assert_api_error(&r, 422);
    assert_eq!(state(&app, "petstore").await, before, "failed imports change nothing");

    // The Cloudentity ACP page's own request: multipart/form-data with a part named url.
    let multipart = |form: reqwest::multipart::Form| {
        app.http
            .post(format!(
                "{}/api/admin/default/services/petstore/apis/import/url",
                app.base
            ))
            .basic_auth(&app.id, Some(&app.secret))
            .multipart(form)
    };
    let r = app
        .raw(multipart(
            reqwest::multipart::Form::new().text("url", format!("{base}/petstore.json")),
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(list(&r.body, "created_apis").len(), 20);
    let r = app
        .raw(multipart(
            reqwest::multipart::Form::new().text("link", format!("{base}/petstore.json")),
        ))
        .await;
    assert_eq!(assert_api_error(&r, 422)["details"]["field"], "url");
}

#[tokio::test]
async fn bad_documents_are_refused_with_the_reason_and_change_nothing() {
    let app = spawn_app().await;
    service(&app, "petstore").await;
    let r = import_text(&app, "petstore", fixture("petstore-3.0.yaml")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let before = state(&app, "petstore").await;

    let petstore = String::from_utf8(fixture("petstore-3.0.yaml")).unwrap();
    let broken_ref = petstore.replacen("#/components/schemas/Pet'", "#/components/schemas/Nothing'", 1);
    assert_ne!(broken_ref, petstore);
    let cases: Vec<(String, u16, &str)> = vec![
        ("{\"openapi\": \"3.0.3\", ".into(), 400, "not valid JSON"),
        ("a: [b\n c: d".into(), 400, "neither JSON nor YAML"),
        ("name: a YAML file\nitems: [1, 2]\n".into(), 422, "no `openapi` or `swagger`"),
        ("- just\n- a list\n".into(), 422, "not an OpenAPI document"),
        ("openapi: 4.0.0\ninfo: {title: t, version: '1'}\npaths: {}\n".into(), 422, "unsupported version"),
        ("swagger: '1.2'\n".into(), 422, "unsupported version"),
        (broken_ref, 422, "points at nothing"),
        (petstore.replacen("#/components/schemas/Pet'", "pet.yaml#/Pet'", 1), 422, "another document"),
        ("openapi: 3.0.3\ninfo: {title: t}\npaths: {}\n".into(), 422, "not a valid OpenAPI 3.0 document"),
        ("   \n".into(), 422, "empty"),
        (
            "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n      security: [{ghost: [x]}]\n      responses: {}\n".into(),
            422,
            "does not declare",
        ),
    ];
    for (doc, status, reason) in cases {
        let r = import_text(&app, "petstore", doc.clone()).await;
        let e = assert_api_error(&r, status);
        assert!(e.to_string().contains(reason), "{doc:.60}: {e}");
        if status == 422 {
            assert_eq!(e["details"]["field"], "body", "{e}");
        }
    }
    // Not UTF-8, and a file part missing.
    let r = import_file(&app, "petstore", "x.bin", vec![0xff, 0xfe, 0x00]).await;
    assert_api_error(&r, 400);
    let req = app
        .http
        .post(format!(
            "{}/api/admin/default/services/petstore/apis/import/file",
            app.base
        ))
        .basic_auth(&app.id, Some(&app.secret))
        .multipart(reqwest::multipart::Form::new().text("other", "x"));
    let r = app.raw(req).await;
    assert_eq!(assert_api_error(&r, 422)["details"]["field"], "file");
    // Not multipart at all.
    let req = app
        .http
        .post(format!(
            "{}/api/admin/default/services/petstore/apis/import/file",
            app.base
        ))
        .basic_auth(&app.id, Some(&app.secret))
        .body("openapi: 3.0.3");
    assert_api_error(&app.raw(req).await, 400);
    // Over 5 MiB.
    let mut big = b"openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\nx-padding: '".to_vec();
    big.resize(5 * 1024 * 1024 + 10, b'a');
    big.extend_from_slice(b"'\n");
    let r = import_text(&app, "petstore", big).await;
    assert!(
        assert_api_error(&r, 422).to_string().contains("larger than"),
        "{}",
        r.body
    );
    let r = import_text(&app, "petstore", vec![b'a'; 7 * 1024 * 1024]).await;
    assert_api_error(&r, 413);
    // Unknown service.
    let r = import_text(&app, "nope", fixture("petstore-3.0.yaml")).await;
    assert_api_error(&r, 404);

    assert_eq!(state(&app, "petstore").await, before, "failed imports change nothing");
}

#[tokio::test]
async fn scopes_answer_their_service() {
    let app = spawn_app().await;
    service(&app, "petstore").await;
    let r = import_text(&app, "petstore", fixture("petstore-3.0.yaml")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let scope = list(&r.body, "created_scopes")[0].clone();
    let id = scope["id"].as_str().unwrap();
    let r = app.admin(Method::GET, &format!("/scopes/{id}"), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["with_service"], true);
    assert_eq!(r.body["service"]["id"], "petstore");
    assert_eq!(r.body["service"]["with_specification"], true);
    assert_eq!(r.body["service_id"], "petstore");
    let r = app.admin(Method::GET, "/servers/default/scopes", None).await;
    let scopes = list(&r.body, "scopes");
    let pets = scopes.iter().find(|s| s["id"] == id).unwrap();
    assert_eq!(pets["with_service"], true);
    assert_eq!(pets["service"]["name"], "petstore");
    let other = scopes.iter().find(|s| s["service_id"].is_null()).unwrap();
    assert_eq!(other["with_service"], false);
    assert!(other.get("service").is_none() || other["service"].is_null(), "{other}");
}

/// Without `--outbound-allow`, Castellan's own requests reach public addresses only: a literal
/// loopback address is refused before the request, a name is refused on the address it resolves
/// to, and the refusal names the policy. (The other tests allow loopback explicitly.)
#[tokio::test]
async fn the_outbound_policy_refuses_internal_addresses_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path()).await;
    cfg.outbound_allow = Vec::new();
    let app = spawn_with(dir, cfg).await;
    service(&app, "petstore").await;
    let port = docs_server(serve_docs).await;
    let before = state(&app, "petstore").await;
    for url in [
        format!("http://127.0.0.1:{port}/petstore.json"),
        format!("http://[::1]:{port}/petstore.json"),
        format!("http://localhost:{port}/petstore.json"),
    ] {
        let r = import_url(&app, "petstore", &url).await;
        let e = assert_api_error(&r, 422);
        assert_eq!(e["details"]["field"], "url", "{url}: {e}");
        assert!(e.to_string().contains("outbound policy"), "{url}: {e}");
    }
    assert_eq!(state(&app, "petstore").await, before);
}
