//! What a new user meets first: the root page, the favicon, the API reference.

use reqwest::Method;

use crate::helpers::*;

#[tokio::test]
async fn the_root_page_says_what_this_is_and_where_to_go() {
    let app = spawn_app().await;
    let r = app.http.get(format!("{}/", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = r.text().await.unwrap();
    for link in [
        "href=\"/docs\"",
        "href=\"/api/openapi.json\"",
        "href=\"/default/default/.well-known/openid-configuration\"",
        "href=\"/health/ready\"",
        "rel=\"icon\"",
        "bootstrap-credentials.json",
    ] {
        assert!(html.contains(link), "{link} missing:\n{html}");
    }
    // Every link on the page leads somewhere.
    for path in [
        "/docs/",
        "/api/openapi.json",
        "/default/default/.well-known/openid-configuration",
        "/health/ready",
    ] {
        let r = app.call(Method::GET, path, None, None).await;
        assert_eq!(r.status, 200, "{path}");
    }
    for icon in ["/favicon.ico", "/favicon.svg"] {
        let r = app.http.get(format!("{}{icon}", app.base)).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "image/svg+xml");
        assert!(r.text().await.unwrap().starts_with("<svg"));
    }
}
