//! The protocol engine's security checks, each shown to hold at its boundary: client assertions
//! (RFC 7523 §3: `iss`, `sub`, `exp`, `nbf`, `jti`), scopes at the authorization endpoint, and
//! `redirect_uri` at the token endpoint (RFC 6749 §4.1.3), the gateway authorizer (credentials,
//! route, token, policy). Run against a real SQLite store with a
//! clock moved by hand; fast enough to run under mutation testing (`scripts/mutants.sh`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use castellan_domain::*;
use castellan_jose::{MasterKey, jwt};
use castellan_oauth::gateway::{GatewayDecision, GatewayRequest, HeaderFilter, Origin};
use castellan_oauth::{AuthorizeError, Engine, Form, JWT_BEARER_ASSERTION, Presented, ServerRuntime};
use castellan_store::{CodeRecord, Store};
use serde_json::{Value, json};

mod authorize;
mod caches;
mod client_auth;
mod gateway;
mod sign_in;
mod tokens;

use authorize::*;
use tokens::*;

pub(crate) const NOW: i64 = 1_800_000_000;
pub(crate) const CB: &str = "https://app.example/cb";
pub(crate) const JWT_SECRET: &str = "jwt-client-secret-0123456789";
pub(crate) const WEB_SECRET: &str = "web-client-secret-0123456789";

pub(crate) struct Fixture {
    _dir: tempfile::TempDir,
    store: Arc<dyn Store>,
    master: Arc<MasterKey>,
    clock: Arc<FixedClock>,
    engine: Engine,
}

pub(crate) fn tid() -> TenantId {
    TenantId::parse("t").unwrap()
}
pub(crate) fn aid() -> ServerId {
    ServerId::parse("s").unwrap()
}

pub(crate) async fn client(
    store: &dyn Store,
    master: &MasterKey,
    id: &str,
    method: &str,
    secret: &str,
    grants: &[&str],
) {
    let c = new_client(master, id, method, secret, grants, &["read"]).await;
    store.create_client(&c).await.unwrap();
}

/// A client of server `s` that may use `scopes`.
pub(crate) async fn new_client(
    master: &MasterKey,
    id: &str,
    method: &str,
    secret: &str,
    grants: &[&str],
    scopes: &[&str],
) -> Client {
    let cid = ClientId::parse(id).unwrap();
    Client {
        tenant_id: tid(),
        server_id: aid(),
        id: cid.clone(),
        name: id.into(),
        system: false,
        grant_types: grants.iter().map(|g| g.to_string()).collect(),
        token_endpoint_auth_method: method.into(),
        secret_hash: Some(
            castellan_oauth::secrets::hash_secret(master, secret, true)
                .await
                .unwrap(),
        ),
        secret_sealed: Some(
            master
                .seal(&seal::client_secret(&tid(), &cid), secret.as_bytes())
                .unwrap(),
        ),
        settings: ClientSettings {
            redirect_uris: vec![CB.into()],
            response_types: vec!["code".into()],
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            ..ClientSettings::default()
        },
        created_at: NOW - 1000,
    }
}

/// Tenant `t`, server `s` (ES256, scopes `read` and `write`, the static user alice), a
/// `client_secret_jwt` client `jwt`, and confidential code-flow clients `web` and `web2` (with
/// refresh tokens) that may use only `read`.
pub(crate) async fn fixture() -> Fixture {
    let (dir, store) = castellan_testkit::sqlite_store().await;
    let master = castellan_testkit::master_key();
    store
        .create_tenant(&Tenant {
            id: tid(),
            name: "T".into(),
            authentication_context_settings: Default::default(),
            jwks: Default::default(),
            created_at: NOW - 1000,
        })
        .await
        .unwrap();
    let g = castellan_jose::keys::generate(SigningAlg::ES256).unwrap();
    let key = SigningKey {
        private_sealed: master
            .seal(&seal::server_key(&tid(), &aid(), &g.kid), &g.pkcs8)
            .unwrap(),
        kid: g.kid,
        alg: SigningAlg::ES256,
        status: KeyStatus::Current,
        public_jwk: g.public_jwk,
        created_at: NOW - 1000,
        activates_at: None,
        retires_at: None,
        revoked_at: None,
    };
    let server = AuthorizationServer {
        tenant_id: tid(),
        id: aid(),
        name: "S".into(),
        system: false,
        settings: ServerSettings::default(),
        authentications: vec![
            serde_json::from_value(json!({"method": {"id": "people", "method": "static",
                "static": {"users": [{"username": "alice", "authentication_context": {"email": "a@example.com"}}]}}}))
            .unwrap(),
        ],
        secrets_sealed: Vec::new(),
        created_at: NOW - 1000,
        updated_at: NOW - 1000,
    };
    store.create_server(&server, &[key], &[]).await.unwrap();
    for (i, name) in ["read", "write", "openid"].iter().enumerate() {
        store
            .create_scope(&Scope {
                tenant_id: tid(),
                server_id: aid(),
                id: ScopeId::parse(format!("sc{i}")).unwrap(),
                name: (*name).into(),
                display_name: (*name).into(),
                description: String::new(),
                developer_policy_id: None,
                user_policy_id: None,
                service_id: None,
                created_at: NOW - 1000,
            })
            .await
            .unwrap();
    }
    client(
        store.as_ref(),
        &master,
        "jwt",
        "client_secret_jwt",
        JWT_SECRET,
        &["client_credentials"],
    )
    .await;
    for id in ["web", "web2"] {
        let grants = ["authorization_code", "refresh_token"];
        client(store.as_ref(), &master, id, "client_secret_basic", WEB_SECRET, &grants).await;
    }
    let clock = Arc::new(FixedClock::new(NOW));
    let engine = Engine::new(store.clone(), master.clone(), clock.clone(), "https://as.example");
    Fixture {
        _dir: dir,
        store,
        master,
        clock,
        engine,
    }
}

impl Fixture {
    async fn rt(&self) -> Arc<ServerRuntime> {
        self.engine.server("t", "s").await.unwrap().unwrap()
    }

    fn now(&self) -> i64 {
        self.clock.now()
    }

    /// A `client_secret_jwt` assertion of client `jwt` with `changes` applied to valid claims.
    fn assertion(&self, rt: &ServerRuntime, changes: Value) -> String {
        let now = self.now();
        let mut claims = json!({"iss": "jwt", "sub": "jwt", "aud": rt.endpoint("/oauth2/token"),
                                "exp": now + 60, "iat": now, "jti": format!("j-{}", castellan_jose::random_id())});
        for (k, v) in changes.as_object().unwrap() {
            if v.is_null() {
                claims.as_object_mut().unwrap().remove(k);
            } else {
                claims[k] = v.clone();
            }
        }
        jwt::sign_hs256(JWT_SECRET, &claims)
    }

    /// Authenticates with an assertion (and perhaps a form `client_id`).
    async fn auth(&self, assertion: &str, client_id: Option<&str>) -> Result<String, String> {
        let rt = self.rt().await;
        let mut pairs = vec![
            ("client_assertion_type".to_owned(), JWT_BEARER_ASSERTION.to_owned()),
            ("client_assertion".to_owned(), assertion.to_owned()),
        ];
        if let Some(id) = client_id {
            pairs.push(("client_id".into(), id.into()));
        }
        let form = Form::new(pairs).unwrap();
        let p = Presented {
            basic: None,
            form: &form,
            addr: None,
            certificate: None,
        };
        self.engine
            .authenticate_client(&rt, &p)
            .await
            .map(|c| c.id.to_string())
            .map_err(|e| format!("{} {}", e.code.as_str(), e.description))
    }
}
