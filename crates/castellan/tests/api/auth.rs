use std::sync::Arc;

use castellan_control::{Control, ControlError};
use castellan_domain::SystemClock;
use castellan_domain::{Client, ClientId, ServerId, TenantId};
use castellan_jose::MasterKey;

use reqwest::Method;

use crate::helpers::*;

/// Adds tenant `acme` (with its admin, developer and default servers) and an admin client
/// `acme-admin`, through a second control plane on the running server's database.
pub(crate) async fn add_tenant_acme(app: &TestApp) -> &'static str {
    let store = app.store().await;
    let master = Arc::new(MasterKey::from_secret(MASTER_KEY).unwrap());
    let control = Control::new(store.clone(), master.clone(), Arc::new(SystemClock), &app.base);
    let t = control.create_tenant("acme", "Acme").await.unwrap();
    assert_eq!(t.url, format!("{}/acme", app.base));
    assert!(matches!(
        control.create_tenant("acme", "Again").await,
        Err(ControlError::Conflict { .. })
    ));
    let secret = "acme-admin-secret-0123456789abcdef";
    store
        .create_client(&Client {
            tenant_id: TenantId::parse("acme").unwrap(),
            server_id: ServerId::parse("admin").unwrap(),
            id: ClientId::parse("acme-admin").unwrap(),
            name: "acme admin".into(),
            system: false,
            grant_types: vec!["client_credentials".into()],
            token_endpoint_auth_method: "client_secret_basic".into(),
            secret_hash: Some(master.secret_hasher().hash(secret)),
            secret_sealed: None,
            settings: Default::default(),
            created_at: 0,
        })
        .await
        .unwrap();
    secret
}

#[tokio::test]
async fn missing_credentials_get_401_with_a_basic_challenge() {
    let app = spawn_app().await;
    for (method, path) in [
        (Method::GET, "/api/admin/default/tenant"),
        (Method::PUT, "/api/admin/default/tenant"),
        (Method::GET, "/api/admin/default/servers"),
        (Method::POST, "/api/admin/default/servers"),
        (Method::GET, "/api/admin/default/servers/default"),
        (Method::PUT, "/api/admin/default/servers/default"),
        (Method::DELETE, "/api/admin/default/servers/default"),
        (Method::PUT, "/api/admin/default/servers/default/authentications"),
    ] {
        let r = app.call(method.clone(), path, Some(serde_json::json!({})), None).await;
        assert_api_error(&r, 401);
        let challenge = r.headers["www-authenticate"].to_str().unwrap();
        assert!(challenge.starts_with("Basic"), "{method} {path}: {challenge}");
    }
    // Nothing was deleted by the unauthenticated DELETE.
    assert_eq!(app.admin(Method::GET, "/servers/default", None).await.status, 200);
}

#[tokio::test]
async fn wrong_secret_unknown_client_and_malformed_headers_get_401() {
    let app = spawn_app().await;
    let wrong = app
        .call(
            Method::GET,
            "/api/admin/default/tenant",
            None,
            Some(("bootstrap", "nope")),
        )
        .await;
    assert_api_error(&wrong, 401);
    let prefix = &BOOTSTRAP_SECRET[..BOOTSTRAP_SECRET.len() - 1];
    assert_api_error(
        &app.call(
            Method::GET,
            "/api/admin/default/tenant",
            None,
            Some(("bootstrap", prefix)),
        )
        .await,
        401,
    );
    let unknown = app
        .call(
            Method::GET,
            "/api/admin/default/tenant",
            None,
            Some(("ghost", BOOTSTRAP_SECRET)),
        )
        .await;
    assert_api_error(&unknown, 401);
    assert_eq!(
        wrong.body, unknown.body,
        "an unknown client is indistinguishable from a wrong secret"
    );
    for header in ["Bearer abc", "Basic !!!", "Basic Ym9vdHN0cmFw", "Digest x"] {
        let r = app
            .raw(
                app.http
                    .get(format!("{}/api/admin/default/tenant", app.base))
                    .header("authorization", header),
            )
            .await;
        assert_api_error(&r, 401);
    }
}

#[tokio::test]
async fn form_encoded_basic_credentials_are_accepted() {
    let app = spawn_app().await;
    // RFC 6749 §2.3.1: "bootstrap" stays as is; each '-' may be percent-encoded by a client.
    let encoded = BOOTSTRAP_SECRET.replace('-', "%2D");
    let r = app
        .call(
            Method::GET,
            "/api/admin/default/tenant",
            None,
            Some(("bootstrap", &encoded)),
        )
        .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn a_client_of_a_non_admin_server_is_not_an_admin() {
    let app = spawn_app().await;
    let store = app.store().await;
    let master = MasterKey::from_secret(MASTER_KEY).unwrap();
    let mut c = castellan_store::conformance::client("default", "default", "app");
    c.secret_hash = Some(master.secret_hasher().hash("app-secret-0123456789abcdef"));
    store.create_client(&c).await.unwrap();
    let r = app
        .call(
            Method::GET,
            "/api/admin/default/tenant",
            None,
            Some(("app", "app-secret-0123456789abcdef")),
        )
        .await;
    assert_api_error(&r, 401);
}

#[tokio::test]
async fn credentials_of_one_tenant_never_read_another() {
    let app = spawn_app().await;
    let acme_secret = add_tenant_acme(&app).await;
    let acme = Some(("acme-admin", acme_secret));
    let own = app.call(Method::GET, "/api/admin/acme/tenant", None, acme).await;
    assert_eq!(own.status, 200, "{}", own.body);
    assert_eq!(own.body["name"], "Acme");

    // acme's credentials on default's API, and default's on acme's: refused, with no data.
    for path in [
        "/api/admin/default/tenant",
        "/api/admin/default/servers",
        "/api/admin/default/servers/default",
    ] {
        let r = app.call(Method::GET, path, None, acme).await;
        assert_api_error(&r, 401);
        assert!(r.body.get("servers").is_none() && r.body.get("secret").is_none());
    }
    let r = app
        .call(
            Method::GET,
            "/api/admin/acme/servers",
            None,
            Some((&app.id, &app.secret)),
        )
        .await;
    assert_api_error(&r, 401);
    let r = app
        .call(Method::DELETE, "/api/admin/default/servers/default", None, acme)
        .await;
    assert_api_error(&r, 401);
    assert_eq!(app.admin(Method::GET, "/servers/default", None).await.status, 200);

    // Each tenant lists only its own servers.
    let acme_servers = app.call(Method::GET, "/api/admin/acme/servers", None, acme).await;
    let ids: Vec<_> = acme_servers.body["servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].clone())
        .collect();
    assert_eq!(
        ids,
        [
            serde_json::json!("admin"),
            serde_json::json!("default"),
            serde_json::json!("developer")
        ]
    );
    let acme_default = app
        .call(Method::GET, "/api/admin/acme/servers/default", None, acme)
        .await
        .body;
    let own_default = app.admin(Method::GET, "/servers/default", None).await.body;
    assert_ne!(
        acme_default["secret"], own_default["secret"],
        "same server id, different tenant, different object"
    );
    assert_eq!(acme_default["issuer_url"], format!("{}/acme/default", app.base));
}

#[tokio::test]
async fn unknown_tenant_gets_401_not_404() {
    let app = spawn_app().await;
    let r = app
        .call(
            Method::GET,
            "/api/admin/nosuch/tenant",
            None,
            Some((&app.id, &app.secret)),
        )
        .await;
    assert_api_error(&r, 401);
    let r = app
        .call(
            Method::GET,
            "/api/admin/bad%20id/tenant",
            None,
            Some((&app.id, &app.secret)),
        )
        .await;
    assert_api_error(&r, 401);
}
