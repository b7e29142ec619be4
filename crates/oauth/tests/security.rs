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
use castellan_store_sqlite::SqliteStore;
use serde_json::{Value, json};

const NOW: i64 = 1_800_000_000;
const CB: &str = "https://app.example/cb";
const JWT_SECRET: &str = "jwt-client-secret-0123456789";
const WEB_SECRET: &str = "web-client-secret-0123456789";

struct Fixture {
    _dir: tempfile::TempDir,
    store: Arc<dyn Store>,
    master: Arc<MasterKey>,
    clock: Arc<FixedClock>,
    engine: Engine,
}

fn tid() -> TenantId {
    TenantId::parse("t").unwrap()
}
fn aid() -> ServerId {
    ServerId::parse("s").unwrap()
}

async fn client(store: &dyn Store, master: &MasterKey, id: &str, method: &str, secret: &str, grants: &[&str]) {
    let c = new_client(master, id, method, secret, grants, &["read"]).await;
    store.create_client(&c).await.unwrap();
}

/// A client of server `s` that may use `scopes`.
async fn new_client(
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
async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteStore::open(&dir.path().join("db")).await.unwrap();
    sqlite.migrate().await.unwrap();
    let store: Arc<dyn Store> = Arc::new(sqlite);
    let master = Arc::new(MasterKey::from_secret("engine security test master key 0123456789").unwrap());
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
        };
        self.engine
            .authenticate_client(&rt, &p)
            .await
            .map(|c| c.id.to_string())
            .map_err(|e| format!("{} {}", e.code.as_str(), e.description))
    }
}

#[tokio::test]
async fn a_valid_assertion_is_accepted() {
    let f = fixture().await;
    let rt = f.rt().await;
    assert_eq!(f.auth(&f.assertion(&rt, json!({})), None).await, Ok("jwt".into()));
    assert_eq!(
        f.auth(&f.assertion(&rt, json!({})), Some("jwt")).await,
        Ok("jwt".into())
    );
}

/// Whether assertions with each set of claim changes are accepted, as expected.
async fn accepts(f: &Fixture, cases: &[(Value, bool)]) {
    let rt = f.rt().await;
    for (changes, ok) in cases {
        let got = f.auth(&f.assertion(&rt, changes.clone()), None).await;
        assert_eq!(got.is_ok(), *ok, "{changes}: {got:?}");
    }
}

#[tokio::test]
async fn assertion_expiry_allows_only_the_clock_skew() {
    let f = fixture().await;
    let now = f.now();
    // 30 s are allowed for clock skew, not more; exp is required.
    let cases = [
        (json!({"exp": now - 120}), false),
        (json!({"exp": now - 31}), false),
        (json!({"exp": now - 30}), true),
        (json!({"exp": now - 20}), true),
        (json!({"exp": null}), false),
    ];
    accepts(&f, &cases).await;
}

#[tokio::test]
async fn assertions_valid_only_later_are_refused() {
    let f = fixture().await;
    let now = f.now();
    let cases = [
        (json!({"nbf": now + 600}), false),
        (json!({"nbf": now + 31}), false),
        (json!({"nbf": now + 30}), true),
        (json!({"nbf": now + 20}), true),
        (json!({"nbf": now}), true),
    ];
    accepts(&f, &cases).await;
}

#[tokio::test]
async fn assertions_live_at_most_an_hour() {
    let f = fixture().await;
    let now = f.now();
    let cases = [
        (json!({"exp": now + 7200}), false),
        (json!({"exp": now + 3601}), false),
        (json!({"exp": now + 3600}), true),
    ];
    accepts(&f, &cases).await;
}

#[tokio::test]
async fn iss_and_sub_must_both_be_the_client() {
    let f = fixture().await;
    let rt = f.rt().await;
    for changes in [json!({"iss": "web"}), json!({"iss": null}), json!({"sub": "web"})] {
        let err = f.auth(&f.assertion(&rt, changes.clone()), None).await.unwrap_err();
        assert!(err.starts_with("invalid_client"), "{changes}: {err}");
    }
    assert!(f.auth(&f.assertion(&rt, json!({"sub": null})), None).await.is_err());
}

#[tokio::test]
async fn a_form_client_id_must_match_the_assertion() {
    let f = fixture().await;
    let rt = f.rt().await;
    let err = f.auth(&f.assertion(&rt, json!({})), Some("web")).await.unwrap_err();
    assert!(err.starts_with("invalid_request"), "{err}");
}

#[tokio::test]
async fn the_audience_must_be_this_server() {
    let f = fixture().await;
    let rt = f.rt().await;
    assert!(
        f.auth(&f.assertion(&rt, json!({"aud": rt.issuer.clone()})), None)
            .await
            .is_ok()
    );
    assert!(
        f.auth(
            &f.assertion(&rt, json!({"aud": "https://other.example/oauth2/token"})),
            None
        )
        .await
        .is_err()
    );
}

#[tokio::test]
async fn jti_must_be_present_and_bounded() {
    let f = fixture().await;
    let rt = f.rt().await;
    for jti in [json!(""), json!("x".repeat(257)), Value::Null] {
        let err = f.auth(&f.assertion(&rt, json!({"jti": jti})), None).await.unwrap_err();
        assert!(err.contains("jti"), "{err}");
    }
    assert!(
        f.auth(&f.assertion(&rt, json!({"jti": "x".repeat(256)})), None)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn a_used_jti_is_remembered_until_its_assertion_cannot_be_used() {
    let f = fixture().await;
    let rt = f.rt().await;
    let exp = f.now() + 300;
    let a = f.assertion(&rt, json!({"exp": exp, "jti": "once"}));
    assert!(f.auth(&a, None).await.is_ok());
    assert!(f.auth(&a, None).await.unwrap_err().contains("jti"), "a replay");
    // Ten seconds before it expires (and within the skew after), the purge keeps the record.
    f.clock.advance(exp - 10 - f.now());
    f.store.purge_expired(f.now()).await.unwrap();
    assert!(
        f.auth(&a, None).await.unwrap_err().contains("jti"),
        "a replay after the purge"
    );
    f.clock.advance(35);
    f.store.purge_expired(f.now()).await.unwrap();
    assert!(
        f.auth(&a, None).await.unwrap_err().contains("jti"),
        "a replay within the skew"
    );
    // Once no assertion carrying it can be accepted, the record goes: the table does not grow
    // forever, and the id may be used again by a new assertion.
    f.clock.set(exp + 31);
    f.store.purge_expired(f.now()).await.unwrap();
    let again = f.assertion(&rt, json!({"exp": f.now() + 60, "jti": "once"}));
    assert_eq!(f.auth(&again, None).await, Ok("jwt".into()));
}

fn authorize_form(scope: &str) -> Form {
    Form::new(
        [
            ("client_id", "web"),
            ("redirect_uri", CB),
            ("response_type", "code"),
            ("scope", scope),
            ("state", "st"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
    )
    .unwrap()
}

#[tokio::test]
async fn the_authorization_endpoint_grants_only_the_clients_scopes() {
    let f = fixture().await;
    let rt = f.rt().await;
    assert_eq!(
        f.engine
            .authorize_request(&rt, &authorize_form("read"))
            .await
            .unwrap()
            .scopes,
        ["read"]
    );
    // `write` is a scope of the server, not of the client; `nope` is neither.
    for scope in ["write", "read write", "nope"] {
        match f.engine.authorize_request(&rt, &authorize_form(scope)).await {
            Err(AuthorizeError::Redirect(r)) => {
                assert!(
                    r.params.contains(&("error".into(), "invalid_scope".into())),
                    "{scope}: {r:?}"
                );
            }
            other => panic!("{scope}: {other:?}"),
        }
    }
}

/// A token request of `client` (secret [`WEB_SECRET`]); the response as JSON, or `code description`.
async fn token(f: &Fixture, client: &str, params: &[(&str, &str)]) -> Result<Value, String> {
    let rt = f.rt().await;
    let form = Form::new(params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()).unwrap();
    let p = Presented {
        basic: Some((client.into(), WEB_SECRET.into())),
        form: &form,
        addr: None,
    };
    f.engine
        .token(&rt, &p)
        .await
        .map(|(_, t)| serde_json::to_value(t).unwrap())
        .map_err(|e| format!("{} {}", e.code.as_str(), e.description))
}

async fn code_exchange(f: &Fixture, code: &str, redirect_uri: Option<&str>) -> Result<(), String> {
    let mut p = vec![("grant_type", "authorization_code"), ("code", code)];
    if let Some(r) = redirect_uri {
        p.push(("redirect_uri", r));
    }
    token(f, "web", &p).await.map(|_| ())
}

/// Stores a code of `client` for alice; `challenge` is a PKCE S256 challenge.
async fn save_code(f: &Fixture, code: &str, client: &str, challenge: Option<&str>, expires_at: i64) {
    let mut data = json!({"auth": {"sub": "alice", "scopes": ["read"], "auth_time": NOW},
                          "redirect_uri": CB, "redirect_uri_given": false});
    if let Some(c) = challenge {
        data["code_challenge"] = json!(c);
    }
    f.store
        .save_code(
            &tid(),
            &CodeRecord {
                server_id: aid(),
                hash: castellan_jose::token_hash(code),
                grant_id: format!("g-{code}"),
                client_id: ClientId::parse(client).unwrap(),
                data: data.to_string(),
                expires_at,
                used: false,
            },
        )
        .await
        .unwrap();
}

fn s256(verifier: &str) -> String {
    castellan_jose::b64url(&castellan_jose::sha256(verifier.as_bytes()))
}

/// A refresh grant of `web` for alice with `scopes`, as a code exchange would record it.
async fn save_refresh(f: &Fixture, token: &str, scopes: &[&str], expires_at: i64) {
    save_refresh_of(f, "alice", token, scopes, expires_at).await;
}

async fn save_refresh_of(f: &Fixture, subject: &str, token: &str, scopes: &[&str], expires_at: i64) {
    let auth = json!({"sub": subject, "scopes": scopes, "auth_time": NOW});
    f.store
        .record_grant(
            &tid(),
            &castellan_store::IssuedTokens {
                server_id: aid(),
                grant_id: format!("g-{token}"),
                client_id: ClientId::parse("web").unwrap(),
                subject: subject.into(),
                access_jti: format!("j-{token}"),
                access_expires_at: NOW + 600,
                refresh: Some(castellan_store::RefreshRecord {
                    server_id: aid(),
                    hash: castellan_jose::token_hash(token),
                    grant_id: format!("g-{token}"),
                    client_id: ClientId::parse("web").unwrap(),
                    data: auth.to_string(),
                    expires_at,
                    used: false,
                    grant_revoked: false,
                }),
                grant_expires_at: expires_at,
            },
        )
        .await
        .unwrap();
}

fn refresh_params(token: &str) -> [(&str, &str); 2] {
    [("grant_type", "refresh_token"), ("refresh_token", token)]
}

#[tokio::test]
async fn a_token_request_must_repeat_the_redirect_uri_of_its_authorization() {
    let f = fixture().await;
    let save = |code: &'static str, given: bool| {
        let f = &f;
        async move {
            let data = json!({"auth": {"sub": "alice", "scopes": ["read"], "auth_time": NOW},
                              "redirect_uri": CB, "redirect_uri_given": given});
            f.store
                .save_code(
                    &tid(),
                    &CodeRecord {
                        server_id: aid(),
                        hash: castellan_jose::token_hash(code),
                        grant_id: format!("g-{code}"),
                        client_id: ClientId::parse("web").unwrap(),
                        data: data.to_string(),
                        expires_at: NOW + 600,
                        used: false,
                    },
                )
                .await
                .unwrap();
        }
    };
    save("c1", true).await;
    let err = code_exchange(&f, "c1", None).await.unwrap_err();
    assert!(err.starts_with("invalid_request"), "{err}");
    let err = code_exchange(&f, "c1", Some("https://app.example/other"))
        .await
        .unwrap_err();
    assert!(err.starts_with("invalid_grant"), "{err}");
    assert_eq!(code_exchange(&f, "c1", Some(CB)).await, Ok(()));
    // When the authorization request left it out (one registered URI), so may the token request.
    save("c2", false).await;
    assert_eq!(code_exchange(&f, "c2", None).await, Ok(()));
}

#[tokio::test]
async fn a_grant_must_be_allowed_to_the_server_and_the_client() {
    let f = fixture().await;
    // The server does not enable the password grant (not a default).
    let err = token(
        &f,
        "web",
        &[("grant_type", "password"), ("username", "alice"), ("password", "x")],
    )
    .await
    .unwrap_err();
    assert!(err.starts_with("unsupported_grant_type"), "{err}");
    // The server allows client_credentials; web does not have it.
    let err = token(&f, "web", &[("grant_type", "client_credentials")])
        .await
        .unwrap_err();
    assert!(err.starts_with("unauthorized_client"), "{err}");
}

#[tokio::test]
async fn a_code_is_for_its_client_until_it_expires_and_only_once() {
    let f = fixture().await;
    save_code(&f, "expired", "web", None, NOW).await;
    assert!(
        code_exchange(&f, "expired", None)
            .await
            .unwrap_err()
            .starts_with("invalid_grant")
    );
    save_code(&f, "others", "web2", None, NOW + 600).await;
    assert!(
        code_exchange(&f, "others", None)
            .await
            .unwrap_err()
            .starts_with("invalid_grant")
    );
    save_code(&f, "good", "web", None, NOW + 600).await;
    let t = token(&f, "web", &[("grant_type", "authorization_code"), ("code", "good")])
        .await
        .unwrap();
    let access = t["access_token"].as_str().unwrap().to_owned();
    let rt = f.rt().await;
    assert!(f.engine.verify_access_token(&rt, &access).await.unwrap().is_some());
    // A replay is refused and revokes what the code issued (RFC 6749 §4.1.2).
    assert!(
        code_exchange(&f, "good", None)
            .await
            .unwrap_err()
            .starts_with("invalid_grant")
    );
    assert!(f.engine.verify_access_token(&rt, &access).await.unwrap().is_none());
    // Codes of up to 128 characters are looked up; longer ones are refused before hashing.
    let long = "c".repeat(128);
    save_code(&f, &long, "web", None, NOW + 600).await;
    assert_eq!(code_exchange(&f, &long, None).await, Ok(()));
    let err = code_exchange(&f, &"c".repeat(129), None).await.unwrap_err();
    assert_eq!(err, "invalid_grant the code is invalid");
}

#[tokio::test]
async fn a_code_with_a_challenge_needs_its_verifier() {
    let f = fixture().await;
    let verifier = "v".repeat(43);
    let exchange = |code: &'static str, v: Option<String>| {
        let f = &f;
        async move {
            let mut p = vec![("grant_type", "authorization_code"), ("code", code)];
            let v = v.unwrap_or_default();
            if !v.is_empty() {
                p.push(("code_verifier", v.as_str()));
            }
            token(f, "web", &p).await.map(|_| ())
        }
    };
    for (code, v) in [("missing", None), ("wrong", Some("w".repeat(43)))] {
        save_code(&f, code, "web", Some(&s256(&verifier)), NOW + 600).await;
        assert!(
            exchange(code, v).await.unwrap_err().starts_with("invalid_grant"),
            "{code}"
        );
    }
    save_code(&f, "right", "web", Some(&s256(&verifier)), NOW + 600).await;
    assert_eq!(exchange("right", Some(verifier.clone())).await, Ok(()));
    // A verifier for a code issued without a challenge is a downgrade attempt (RFC 9700 §2.1.1).
    save_code(&f, "plain", "web", None, NOW + 600).await;
    assert!(
        exchange("plain", Some(verifier))
            .await
            .unwrap_err()
            .starts_with("invalid_grant")
    );
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reuse_ends_the_grant() {
    let f = fixture().await;
    save_refresh(&f, "r1", &["read"], NOW + 3600).await;
    let t = token(&f, "web", &refresh_params("r1")).await.unwrap();
    let r2 = t["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(r2, "r1");
    assert_eq!(t["scope"], "read");
    // r1 again: reuse. The grant ends, so r2 is dead too.
    assert!(
        token(&f, "web", &refresh_params("r1"))
            .await
            .unwrap_err()
            .starts_with("invalid_grant")
    );
    assert!(
        token(&f, "web", &refresh_params(&r2))
            .await
            .unwrap_err()
            .starts_with("invalid_grant")
    );
}

#[tokio::test]
async fn a_refresh_token_works_only_for_its_client_while_it_lives() {
    let f = fixture().await;
    save_refresh(&f, "theirs", &["read"], NOW + 3600).await;
    assert!(
        token(&f, "web2", &refresh_params("theirs"))
            .await
            .unwrap_err()
            .starts_with("invalid_grant")
    );
    assert!(
        token(&f, "web", &refresh_params("theirs")).await.is_ok(),
        "the other client's try changed nothing"
    );
    save_refresh(&f, "old", &["read"], NOW).await;
    assert!(
        token(&f, "web", &refresh_params("old"))
            .await
            .unwrap_err()
            .starts_with("invalid_grant")
    );
    let long = "r".repeat(128);
    save_refresh(&f, &long, &["read"], NOW + 3600).await;
    assert!(
        token(&f, "web", &refresh_params(&long)).await.is_ok(),
        "128 characters are looked up"
    );
    let err = token(&f, "web", &refresh_params(&"r".repeat(129))).await.unwrap_err();
    assert_eq!(err, "invalid_grant the refresh token is invalid");
}

#[tokio::test]
async fn a_refresh_may_narrow_but_never_widen_and_drops_what_was_taken_away() {
    let f = fixture().await;
    // Granted read and write (write has since been taken off the client) and a scope the server
    // no longer has.
    save_refresh(&f, "r", &["read", "write", "gone"], NOW + 3600).await;
    let t = token(&f, "web", &refresh_params("r")).await.unwrap();
    assert_eq!(t["scope"], "read", "{t}");
    save_refresh(&f, "n", &["read"], NOW + 3600).await;
    let err = token(
        &f,
        "web",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", "n"),
            ("scope", "read write"),
        ],
    )
    .await
    .unwrap_err();
    assert!(err.starts_with("invalid_scope"), "{err}");
    let t = token(
        &f,
        "web",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", "n"),
            ("scope", "read read"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(t["scope"], "read", "named once");
}

#[tokio::test]
async fn a_person_who_can_no_longer_sign_in_cannot_refresh() {
    let f = fixture().await;
    save_refresh(&f, "alices", &["read"], NOW + 3600).await;
    // bob is no user of the server (removed, or never one).
    save_refresh_of(&f, "bob", "bobs", &["read"], NOW + 3600).await;
    assert!(
        token(&f, "web", &refresh_params("bobs"))
            .await
            .unwrap_err()
            .starts_with("invalid_grant")
    );
    assert!(
        token(&f, "web", &refresh_params("alices")).await.is_ok(),
        "alice still can"
    );
}

async fn revoke(f: &Fixture, client: &str, token: &str) -> Result<(), String> {
    let rt = f.rt().await;
    let form = Form::new(vec![("token".into(), token.into())]).unwrap();
    let p = Presented {
        basic: Some((client.into(), WEB_SECRET.into())),
        form: &form,
        addr: None,
    };
    f.engine
        .revoke(&rt, &p)
        .await
        .map_err(|e| format!("{} {}", e.code.as_str(), e.description))
}

#[tokio::test]
async fn a_client_revokes_only_its_own_refresh_tokens_and_that_ends_the_grant() {
    let f = fixture().await;
    save_refresh(&f, "r", &["read"], NOW + 3600).await;
    let err = revoke(&f, "web2", "r").await.unwrap_err();
    assert!(err.starts_with("unauthorized_client"), "{err}");
    assert!(
        token(&f, "web", &refresh_params("r")).await.is_ok(),
        "the other client's try changed nothing"
    );
    save_refresh(&f, "s", &["read"], NOW + 3600).await;
    assert_eq!(revoke(&f, "web", "s").await, Ok(()));
    assert!(
        token(&f, "web", &refresh_params("s"))
            .await
            .unwrap_err()
            .starts_with("invalid_grant")
    );
    let long = "t".repeat(128);
    save_refresh(&f, &long, &["read"], NOW + 3600).await;
    assert_eq!(revoke(&f, "web", &long).await, Ok(()));
    assert!(
        token(&f, "web", &refresh_params(&long)).await.is_err(),
        "128 characters are looked up"
    );
    // RFC 7009 §2.2: an unknown or malformed token is not an error.
    assert_eq!(revoke(&f, "web", &"x".repeat(129)).await, Ok(()));
    assert_eq!(revoke(&f, "web", "unknown").await, Ok(()));
}

fn form_of(pairs: &[(&str, &str)]) -> Form {
    Form::new(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()).unwrap()
}

/// `web`'s authorization request with `changes` to the defaults (`None` removes a parameter).
fn authorize_params<'a>(changes: &[(&'a str, Option<&'a str>)]) -> Form {
    let mut pairs: Vec<(&str, &str)> = vec![
        ("client_id", "web"),
        ("redirect_uri", CB),
        ("response_type", "code"),
        ("scope", "read"),
        ("state", "st"),
    ];
    for (k, v) in changes {
        pairs.retain(|(pk, _)| pk != k);
        if let Some(v) = v {
            pairs.push((k, v));
        }
    }
    form_of(&pairs)
}

/// The error an authorization request is answered with: `page: …` or the redirect's `error`.
async fn authorize_error(f: &Fixture, rt: &ServerRuntime, changes: &[(&str, Option<&str>)]) -> String {
    match f.engine.authorize_request(rt, &authorize_params(changes)).await {
        Ok(_) => "ok".into(),
        Err(AuthorizeError::Page(p)) => format!("page: {p}"),
        Err(AuthorizeError::Redirect(r)) => {
            assert_eq!(r.uri, CB, "errors go back only to the registered address");
            r.params
                .iter()
                .find(|(k, _)| k == "error")
                .map(|(_, v)| v.clone())
                .unwrap()
        }
    }
}

#[tokio::test]
async fn redirect_uris_match_exactly_and_errors_before_that_are_shown_not_redirected() {
    let f = fixture().await;
    let rt = f.rt().await;
    assert_eq!(authorize_error(&f, &rt, &[]).await, "ok");
    for bad in [
        "https://app.example/cb/",
        "https://APP.example/cb",
        "https://app.example/cb?x=1",
        "https://app.example/c",
        "http://app.example/cb",
        "https://evil.example/cb",
    ] {
        let e = authorize_error(&f, &rt, &[("redirect_uri", Some(bad))]).await;
        assert!(e.starts_with("page: "), "{bad}: {e}");
    }
    assert!(
        authorize_error(&f, &rt, &[("client_id", Some("nobody"))])
            .await
            .starts_with("page: ")
    );
    assert!(
        authorize_error(&f, &rt, &[("client_id", None)])
            .await
            .starts_with("page: ")
    );
    // With one registered address the parameter may be left out (RFC 6749 §3.1.2.3).
    let req = f
        .engine
        .authorize_request(&rt, &authorize_params(&[("redirect_uri", None)]))
        .await
        .unwrap();
    assert_eq!((req.redirect_uri.as_str(), req.redirect_uri_given), (CB, false));
    let req = f.engine.authorize_request(&rt, &authorize_params(&[])).await.unwrap();
    assert!(req.redirect_uri_given);
}

#[tokio::test]
async fn with_several_registered_addresses_one_must_be_named() {
    let f = fixture().await;
    let mut web2 = f
        .store
        .get_client(&tid(), &ClientId::parse("web2").unwrap())
        .await
        .unwrap()
        .unwrap();
    web2.settings.redirect_uris.push("https://app.example/other".into());
    f.store.update_client(&web2).await.unwrap();
    f.engine.changed(&castellan_store::ConfigChange::Tenant(tid())).await;
    let rt = f.rt().await;
    let e = authorize_error(&f, &rt, &[("client_id", Some("web2")), ("redirect_uri", None)]).await;
    assert!(e.starts_with("page: "), "{e}");
    let other = [
        ("client_id", Some("web2")),
        ("redirect_uri", Some("https://app.example/other")),
    ];
    assert_eq!(authorize_error(&f, &rt, &other).await, "ok");
}

#[tokio::test]
async fn response_types_and_modes_follow_the_client_and_the_rfcs() {
    let f = fixture().await;
    let rt = f.rt().await;
    let req = f.engine.authorize_request(&rt, &authorize_params(&[])).await.unwrap();
    assert_eq!(
        req.response_mode,
        castellan_oauth::ResponseMode::Query,
        "code answers in the query"
    );
    assert_eq!(
        authorize_error(&f, &rt, &[("response_type", None)]).await,
        "invalid_request"
    );
    assert_eq!(
        authorize_error(&f, &rt, &[("response_type", Some("magic"))]).await,
        "unsupported_response_type"
    );
    // web registered only `code` and has no implicit grant.
    assert_eq!(
        authorize_error(&f, &rt, &[("response_type", Some("token"))]).await,
        "unauthorized_client"
    );
    let mut web = f
        .store
        .get_client(&tid(), &ClientId::parse("web").unwrap())
        .await
        .unwrap()
        .unwrap();
    web.grant_types.push("implicit".into());
    web.settings.response_types = vec!["code".into(), "token".into()];
    f.store.update_client(&web).await.unwrap();
    f.engine.changed(&castellan_store::ConfigChange::Tenant(tid())).await;
    let rt = f.rt().await;
    let req = f
        .engine
        .authorize_request(&rt, &authorize_params(&[("response_type", Some("token"))]))
        .await
        .unwrap();
    assert_eq!(
        req.response_mode,
        castellan_oauth::ResponseMode::Fragment,
        "tokens never in a query"
    );
    let query = [("response_type", Some("token")), ("response_mode", Some("query"))];
    assert_eq!(authorize_error(&f, &rt, &query).await, "invalid_request");
    let post = [("response_mode", Some("form_post"))];
    let req = f.engine.authorize_request(&rt, &authorize_params(&post)).await.unwrap();
    assert_eq!(req.response_mode, castellan_oauth::ResponseMode::FormPost);
    assert_eq!(
        authorize_error(&f, &rt, &[("response_mode", Some("carrier_pigeon"))]).await,
        "invalid_request"
    );
}

#[tokio::test]
async fn pkce_is_s256_only_well_formed_and_required_of_public_clients() {
    let f = fixture().await;
    let rt = f.rt().await;
    fn with<'a>(c: &'a str, m: Option<&'a str>) -> [(&'a str, Option<&'a str>); 2] {
        [("code_challenge", Some(c)), ("code_challenge_method", m)]
    }
    let good = s256(&"v".repeat(43));
    assert_eq!(authorize_error(&f, &rt, &with(&good, Some("S256"))).await, "ok");
    assert_eq!(
        authorize_error(&f, &rt, &with(&good, Some("plain"))).await,
        "invalid_request"
    );
    assert_eq!(authorize_error(&f, &rt, &with(&good, None)).await, "invalid_request");
    assert_eq!(
        authorize_error(&f, &rt, &with("short", Some("S256"))).await,
        "invalid_request"
    );
    let bad_b64 = format!("{}!", &good[..42]);
    assert_eq!(
        authorize_error(&f, &rt, &with(&bad_b64, Some("S256"))).await,
        "invalid_request"
    );
    let method_only = [("code_challenge_method", Some("S256"))];
    assert_eq!(authorize_error(&f, &rt, &method_only).await, "invalid_request");
    // A public client must use PKCE.
    let mut web = f
        .store
        .get_client(&tid(), &ClientId::parse("web").unwrap())
        .await
        .unwrap()
        .unwrap();
    web.settings.public = true;
    f.store.update_client(&web).await.unwrap();
    f.engine.changed(&castellan_store::ConfigChange::Tenant(tid())).await;
    let rt = f.rt().await;
    assert_eq!(authorize_error(&f, &rt, &[]).await, "invalid_request");
    assert_eq!(authorize_error(&f, &rt, &with(&good, Some("S256"))).await, "ok");
}

#[tokio::test]
async fn prompt_and_max_age_are_checked() {
    let f = fixture().await;
    let rt = f.rt().await;
    for (param, value, expected) in [
        ("prompt", "none login", "invalid_request"),
        ("prompt", "sometimes", "invalid_request"),
        ("prompt", "login consent", "ok"),
        ("max_age", "-1", "invalid_request"),
        ("max_age", "soon", "invalid_request"),
        ("max_age", "0", "ok"),
        ("request", "eyJ", "request_not_supported"),
    ] {
        let outcome = authorize_error(&f, &rt, &[(param, Some(value))]).await;
        assert_eq!(outcome, expected, "{param}={value}");
    }
}

/// alice has allowed `web` the scope `read`.
async fn alice_consented_to_web(f: &Fixture) {
    let web = ClientId::parse("web").unwrap();
    let scopes = ["read".to_owned()];
    f.store
        .save_consent(&tid(), &aid(), &web, "alice", &scopes, f.now())
        .await
        .unwrap();
}

fn session(now: i64) -> castellan_oauth::Session {
    castellan_oauth::Session {
        id_hash: "h".into(),
        subject: "alice".into(),
        auth_time: now,
        ctx: serde_json::Map::new(),
        expires_at: now + 3600,
    }
}

#[tokio::test]
async fn the_next_step_is_sign_in_then_consent_then_the_code() {
    use castellan_oauth::Step;
    let f = fixture().await;
    let rt = f.rt().await;
    let req = async |changes: &[(&str, Option<&str>)]| {
        f.engine
            .authorize_request(&rt, &authorize_params(changes))
            .await
            .unwrap()
    };
    let s = session(f.now());
    let step = |r: castellan_oauth::AuthorizeRequest, s: Option<castellan_oauth::Session>, signed_in: bool| {
        let (f, rt) = (&f, rt.clone());
        async move {
            f.engine
                .authorize_step(&rt, &r, s.as_ref(), signed_in, false)
                .await
                .unwrap()
        }
    };
    assert!(matches!(step(req(&[]).await, None, false).await, Step::Login(_)));
    assert!(matches!(
        step(req(&[]).await, Some(s.clone()), false).await,
        Step::Consent(_)
    ));
    alice_consented_to_web(&f).await;
    let Step::Respond(r) = step(req(&[]).await, Some(s.clone()), false).await else {
        panic!("consented and signed in: the code")
    };
    assert!(r.params.iter().any(|(k, _)| k == "code"), "{r:?}");
    assert!(
        !r.params.iter().any(|(k, _)| k == "access_token"),
        "a code flow hands out no token: {r:?}"
    );
    assert!(r.params.contains(&("state".into(), "st".into())));
    assert!(r.location().starts_with(&format!("{CB}?")), "{}", r.location());
    // prompt=login asks again unless the person has just signed in; prompt=consent asks again.
    assert!(matches!(
        step(req(&[("prompt", Some("login"))]).await, Some(s.clone()), false).await,
        Step::Login(_)
    ));
    assert!(matches!(
        step(req(&[("prompt", Some("login"))]).await, Some(s.clone()), true).await,
        Step::Respond(_)
    ));
    assert!(matches!(
        step(req(&[("prompt", Some("consent"))]).await, Some(s.clone()), false).await,
        Step::Consent(_)
    ));
    // prompt=none never shows a page.
    let Step::Respond(r) = step(req(&[("prompt", Some("none"))]).await, None, false).await else {
        panic!("prompt=none without a session answers the client")
    };
    assert!(r.params.contains(&("error".into(), "login_required".into())), "{r:?}");
    // max_age: an older sign-in is asked for again.
    let old = castellan_oauth::Session {
        auth_time: f.now() - 600,
        ..s.clone()
    };
    assert!(matches!(
        step(req(&[("max_age", Some("300"))]).await, Some(old.clone()), false).await,
        Step::Login(_)
    ));
    assert!(matches!(
        step(req(&[("max_age", Some("900"))]).await, Some(old), false).await,
        Step::Respond(_)
    ));
}

#[test]
fn redirects_add_to_an_existing_query_or_use_the_fragment() {
    use castellan_oauth::{Redirect, ResponseMode};
    let r = |uri: &str, mode| Redirect {
        uri: uri.into(),
        mode,
        params: vec![("code".into(), "a b".into())],
    };
    assert_eq!(
        r("https://a.example/cb", ResponseMode::Query).location(),
        "https://a.example/cb?code=a%20b"
    );
    assert_eq!(
        r("https://a.example/cb?x=1", ResponseMode::Query).location(),
        "https://a.example/cb?x=1&code=a%20b"
    );
    assert_eq!(
        r("https://a.example/cb", ResponseMode::Fragment).location(),
        "https://a.example/cb#code=a%20b"
    );
}

/// Changes `web` (grants, response types, scopes) and reloads the snapshot.
async fn reconfigure_web(f: &Fixture, grants: &[&str], response_types: &[&str], scopes: &[&str]) {
    let mut web = f
        .store
        .get_client(&tid(), &ClientId::parse("web").unwrap())
        .await
        .unwrap()
        .unwrap();
    web.grant_types = grants.iter().map(|g| g.to_string()).collect();
    web.settings.response_types = response_types.iter().map(|g| g.to_string()).collect();
    web.settings.scopes = scopes.iter().map(|g| g.to_string()).collect();
    f.store.update_client(&web).await.unwrap();
    f.engine.changed(&castellan_store::ConfigChange::Tenant(tid())).await;
}

#[tokio::test]
async fn response_types_need_the_grant_on_the_server_and_the_client() {
    let f = fixture().await;
    reconfigure_web(
        &f,
        &["authorization_code", "implicit"],
        &["code", "code token", "id_token"],
        &["read", "openid"],
    )
    .await;
    let rt = f.rt().await;
    // Any order, each value once: `token code` is `code token`.
    let req = f
        .engine
        .authorize_request(&rt, &authorize_params(&[("response_type", Some("token code code"))]))
        .await
        .unwrap();
    assert_eq!(req.response_type, ["code", "token"]);
    // Explicit modes the response type allows.
    for (mode, want) in [
        ("query", castellan_oauth::ResponseMode::Query),
        ("fragment", castellan_oauth::ResponseMode::Fragment),
    ] {
        let req = f
            .engine
            .authorize_request(&rt, &authorize_params(&[("response_mode", Some(mode))]))
            .await
            .unwrap();
        assert_eq!(req.response_mode, want, "{mode}");
    }
    // id_token needs openid (and a nonce).
    let id = [("response_type", Some("id_token")), ("nonce", Some("n"))];
    assert_eq!(authorize_error(&f, &rt, &id).await, "invalid_scope");
    let id_openid = [
        ("response_type", Some("id_token")),
        ("nonce", Some("n")),
        ("scope", Some("openid")),
    ];
    assert_eq!(authorize_error(&f, &rt, &id_openid).await, "ok");
    let no_nonce = [("response_type", Some("id_token")), ("scope", Some("openid"))];
    assert_eq!(authorize_error(&f, &rt, &no_nonce).await, "invalid_request");
    // The client `jwt` registered `code` but may not use authorization_code.
    let jwt = [("client_id", Some("jwt"))];
    assert_eq!(authorize_error(&f, &rt, &jwt).await, "unauthorized_client");
    // `web` registered `code token` but loses the implicit grant.
    reconfigure_web(&f, &["authorization_code"], &["code", "code token"], &["read"]).await;
    let rt = f.rt().await;
    assert_eq!(
        authorize_error(&f, &rt, &[("response_type", Some("code token"))]).await,
        "unauthorized_client"
    );
    // The server turns the grants off.
    reconfigure_web(
        &f,
        &["authorization_code", "implicit"],
        &["code", "code token"],
        &["read"],
    )
    .await;
    for (grants, response_type) in [(&["implicit"][..], "code"), (&["authorization_code"][..], "code token")] {
        let mut server = f.store.get_server(&tid(), &aid()).await.unwrap().unwrap();
        server.settings.grant_types = grants.iter().map(|g| g.to_string()).collect();
        f.store.update_server(&server, None).await.unwrap();
        f.engine.changed(&castellan_store::ConfigChange::Tenant(tid())).await;
        let rt = f.rt().await;
        let e = authorize_error(&f, &rt, &[("response_type", Some(response_type))]).await;
        assert_eq!(e, "unsupported_response_type", "{grants:?} {response_type}");
    }
}

#[tokio::test]
async fn requested_scopes_are_named_once_and_none_means_all_the_clients() {
    let f = fixture().await;
    reconfigure_web(&f, &["authorization_code"], &["code"], &["read", "openid"]).await;
    let rt = f.rt().await;
    let req = f
        .engine
        .authorize_request(&rt, &authorize_params(&[("scope", Some("read read openid"))]))
        .await
        .unwrap();
    assert_eq!(req.scopes, ["read", "openid"]);
    let req = f
        .engine
        .authorize_request(&rt, &authorize_params(&[("scope", None)]))
        .await
        .unwrap();
    assert_eq!(req.scopes, ["read", "openid"]);
}

#[tokio::test]
async fn nonce_and_login_hint_have_length_limits() {
    let f = fixture().await;
    let rt = f.rt().await;
    let n512 = "n".repeat(512);
    let n513 = "n".repeat(513);
    assert_eq!(authorize_error(&f, &rt, &[("nonce", Some(&n512))]).await, "ok");
    assert_eq!(
        authorize_error(&f, &rt, &[("nonce", Some(&n513))]).await,
        "invalid_request"
    );
    let h256 = "h".repeat(256);
    let req = f
        .engine
        .authorize_request(&rt, &authorize_params(&[("login_hint", Some(&h256))]))
        .await
        .unwrap();
    assert_eq!(req.login_hint.as_deref(), Some(h256.as_str()));
    let h257 = "h".repeat(257);
    let req = f
        .engine
        .authorize_request(&rt, &authorize_params(&[("login_hint", Some(&h257))]))
        .await
        .unwrap();
    assert_eq!(req.login_hint, None, "an over-long hint is dropped, not an error");
}

#[tokio::test]
async fn interactions_live_fifteen_minutes_on_their_own_server() {
    let f = fixture().await;
    let rt = f.rt().await;
    let req = f.engine.authorize_request(&rt, &authorize_params(&[])).await.unwrap();
    let sealed = f.engine.seal_interaction(&rt, &req).unwrap();
    assert_eq!(f.engine.open_interaction(&rt, &sealed).as_ref(), Some(&req));
    f.clock.advance(900);
    assert!(
        f.engine.open_interaction(&rt, &sealed).is_some(),
        "still valid at 15 minutes"
    );
    f.clock.advance(1);
    assert!(f.engine.open_interaction(&rt, &sealed).is_none(), "expired after");
    // One that claims to start in the future is not believed.
    let mut future = req.clone();
    future.started_at = f.now() + 31;
    let sealed = f.engine.seal_interaction(&rt, &future).unwrap();
    assert!(f.engine.open_interaction(&rt, &sealed).is_none());
    future.started_at = f.now() + 30;
    let sealed = f.engine.seal_interaction(&rt, &future).unwrap();
    assert!(f.engine.open_interaction(&rt, &sealed).is_some(), "30 s of clock skew");
    assert!(f.engine.open_interaction(&rt, "not-sealed").is_none());
}

#[tokio::test]
async fn max_age_zero_is_satisfied_only_by_the_sign_in_just_made() {
    use castellan_oauth::Step;
    let f = fixture().await;
    let rt = f.rt().await;
    alice_consented_to_web(&f).await;
    let req = f
        .engine
        .authorize_request(&rt, &authorize_params(&[("max_age", Some("0"))]))
        .await
        .unwrap();
    let s = session(f.now());
    let step = f
        .engine
        .authorize_step(&rt, &req, Some(&s), false, false)
        .await
        .unwrap();
    assert!(
        matches!(step, Step::Login(_)),
        "a sign-in this very second is still asked again"
    );
    let step = f.engine.authorize_step(&rt, &req, Some(&s), true, false).await.unwrap();
    assert!(matches!(step, Step::Respond(_)));
}

#[tokio::test]
async fn after_signing_in_the_consent_page_does_not_send_the_person_back() {
    use castellan_oauth::Step;
    for prompt in ["login", "select_account", "login consent"] {
        let f = fixture().await;
        let rt = f.rt().await;
        let s = session(f.now());
        let req = f
            .engine
            .authorize_request(
                &rt,
                &authorize_params(&[("prompt", Some(prompt)), ("max_age", Some("0"))]),
            )
            .await
            .unwrap();
        let Step::Consent(next) = f.engine.authorize_step(&rt, &req, Some(&s), true, false).await.unwrap() else {
            panic!("{prompt}: consent comes next")
        };
        let next = f.engine.open_interaction(&rt, &next).unwrap();
        assert!(
            !next.prompts("login") && !next.prompts("select_account"),
            "{prompt}: {:?}",
            next.prompt
        );
        assert_eq!(next.max_age, None);
        assert_eq!(next.prompts("consent"), prompt.contains("consent"), "{prompt}");
        // Consenting now answers the client, without another sign-in.
        let step = f.engine.decide_consent(&rt, &next, &s, true).await.unwrap();
        assert!(matches!(step, Step::Respond(_)), "{prompt}");
    }
}

#[tokio::test]
async fn consent_is_remembered_as_the_union_and_denial_goes_back_to_the_client() {
    use castellan_oauth::Step;
    let f = fixture().await;
    reconfigure_web(&f, &["authorization_code"], &["code"], &["read", "openid"]).await;
    let rt = f.rt().await;
    let s = session(f.now());
    let web = ClientId::parse("web").unwrap();
    let req = f
        .engine
        .authorize_request(&rt, &authorize_params(&[("scope", Some("read"))]))
        .await
        .unwrap();
    let Step::Respond(r) = f.engine.decide_consent(&rt, &req, &s, false).await.unwrap() else {
        panic!("denied: back to the client")
    };
    assert!(r.params.contains(&("error".into(), "access_denied".into())), "{r:?}");
    assert_eq!(
        f.store.get_consent(&tid(), &aid(), &web, "alice").await.unwrap(),
        None,
        "nothing remembered"
    );
    f.engine.decide_consent(&rt, &req, &s, true).await.unwrap();
    f.engine.decide_consent(&rt, &req, &s, true).await.unwrap();
    assert_eq!(
        f.store.get_consent(&tid(), &aid(), &web, "alice").await.unwrap(),
        Some(vec!["read".to_owned()])
    );
    let more = f
        .engine
        .authorize_request(&rt, &authorize_params(&[("scope", Some("openid read"))]))
        .await
        .unwrap();
    f.engine.decide_consent(&rt, &more, &s, true).await.unwrap();
    assert_eq!(
        f.store.get_consent(&tid(), &aid(), &web, "alice").await.unwrap(),
        Some(vec!["read".to_owned(), "openid".to_owned()])
    );
}

#[tokio::test]
async fn a_client_authenticates_with_exactly_one_method() {
    let f = fixture().await;
    let rt = f.rt().await;
    let form = form_of(&[
        ("grant_type", "authorization_code"),
        ("client_id", "web"),
        ("client_secret", WEB_SECRET),
    ]);
    let both = Presented {
        basic: Some(("web".into(), WEB_SECRET.into())),
        form: &form,
        addr: None,
    };
    let err = f.engine.authenticate_client(&rt, &both).await.unwrap_err();
    assert_eq!(err.code.as_str(), "invalid_request", "{}", err.description);
    let basic_only = form_of(&[("grant_type", "authorization_code")]);
    let one = Presented {
        basic: Some(("web".into(), WEB_SECRET.into())),
        form: &basic_only,
        addr: None,
    };
    assert!(f.engine.authenticate_client(&rt, &one).await.is_ok());
}

async fn basic_or_post(f: &Fixture, basic: Option<(&str, &str)>, form: &[(&str, &str)]) -> Result<String, String> {
    let rt = f.rt().await;
    let form = form_of(form);
    let p = Presented {
        basic: basic.map(|(i, s)| (i.to_owned(), s.to_owned())),
        form: &form,
        addr: None,
    };
    f.engine
        .authenticate_client(&rt, &p)
        .await
        .map(|c| c.id.to_string())
        .map_err(|e| e.code.as_str().to_owned())
}

#[tokio::test]
async fn client_secrets_are_checked_whichever_way_they_come() {
    let f = fixture().await;
    assert_eq!(
        basic_or_post(&f, Some(("web", WEB_SECRET)), &[]).await,
        Ok("web".into())
    );
    assert_eq!(
        basic_or_post(&f, Some(("web", "wrong")), &[]).await,
        Err("invalid_client".into())
    );
    // A form client_id may repeat the Basic one, never contradict it.
    assert_eq!(
        basic_or_post(&f, Some(("web", WEB_SECRET)), &[("client_id", "web")]).await,
        Ok("web".into())
    );
    assert_eq!(
        basic_or_post(&f, Some(("web", WEB_SECRET)), &[("client_id", "web2")]).await,
        Err("invalid_request".into())
    );
    // web registered client_secret_basic: the same secret in the form is refused.
    let post = [("client_id", "web"), ("client_secret", WEB_SECRET)];
    assert_eq!(basic_or_post(&f, None, &post).await, Err("invalid_client".into()));
    let mut web2 = f
        .store
        .get_client(&tid(), &ClientId::parse("web2").unwrap())
        .await
        .unwrap()
        .unwrap();
    web2.token_endpoint_auth_method = "client_secret_post".into();
    f.store.update_client(&web2).await.unwrap();
    f.engine.changed(&castellan_store::ConfigChange::Tenant(tid())).await;
    let post = [("client_id", "web2"), ("client_secret", WEB_SECRET)];
    assert_eq!(basic_or_post(&f, None, &post).await, Ok("web2".into()));
    let wrong = [("client_id", "web2"), ("client_secret", "wrong")];
    assert_eq!(basic_or_post(&f, None, &wrong).await, Err("invalid_client".into()));
}

#[tokio::test]
async fn private_key_jwt_assertions_use_the_key_their_kid_names() {
    let f = fixture().await;
    let a = castellan_jose::keys::generate(SigningAlg::ES256).unwrap();
    let b = castellan_jose::keys::generate(SigningAlg::ES256).unwrap();
    let mut pkj = f
        .store
        .get_client(&tid(), &ClientId::parse("web2").unwrap())
        .await
        .unwrap()
        .unwrap();
    pkj.token_endpoint_auth_method = "private_key_jwt".into();
    pkj.settings.jwks = Some(castellan_types::Jwks {
        keys: vec![a.public_jwk.clone(), b.public_jwk.clone()],
    });
    f.store.update_client(&pkj).await.unwrap();
    f.engine.changed(&castellan_store::ConfigChange::Tenant(tid())).await;
    let rt = f.rt().await;
    let signer = castellan_jose::LoadedKey::from_pkcs8(SigningAlg::ES256, &a.pkcs8).unwrap();
    let sign = |kid: Option<&str>, jti: &str| {
        let header = match kid {
            Some(k) => jwt::encode_header(SigningAlg::ES256, k, "JWT"),
            None => castellan_jose::b64url(br#"{"alg":"ES256","typ":"JWT"}"#),
        };
        let claims = json!({"iss": "web2", "sub": "web2", "aud": rt.endpoint("/oauth2/token"),
                            "exp": NOW + 60, "iat": NOW, "jti": jti});
        jwt::sign(&signer, &header, &claims).unwrap()
    };
    assert_eq!(f.auth(&sign(Some(&a.kid), "1"), None).await, Ok("web2".into()));
    assert_eq!(
        f.auth(&sign(None, "2"), None).await,
        Ok("web2".into()),
        "no kid: any registered key"
    );
    let err = f.auth(&sign(Some(&b.kid), "3"), None).await.unwrap_err();
    assert!(err.starts_with("invalid_client"), "signed by a, naming b: {err}");
}

/// Gives the static login method these users and passwords (argon2id), and reloads.
async fn with_passwords(f: &Fixture, users: &[(String, String)]) -> Arc<ServerRuntime> {
    let mut server = f.store.get_server(&tid(), &aid()).await.unwrap().unwrap();
    let method = &mut server.authentications[0];
    for (name, password) in users {
        let user = serde_json::from_value(json!({"username": name})).unwrap();
        method.method.static_.as_mut().unwrap().users.push(user);
        let hash = castellan_jose::password::hash(password).unwrap();
        method.password_hashes.insert(name.clone(), hash);
    }
    f.store.update_server(&server, None).await.unwrap();
    f.engine.changed(&castellan_store::ConfigChange::Tenant(tid())).await;
    f.rt().await
}

async fn login(
    f: &Fixture,
    rt: &ServerRuntime,
    user: &str,
    password: &str,
) -> Result<String, castellan_oauth::LoginError> {
    let addr = Some("192.0.2.1".parse().unwrap());
    f.engine.login(rt, user, password, addr).await.map(|(cookie, _)| cookie)
}

/// Stores a session whose cookie is `cookie`, as if a sign-in had made it.
async fn save_session(f: &Fixture, cookie: &str, expires_at: i64) {
    let record = castellan_store::SessionRecord {
        server_id: aid(),
        id_hash: castellan_jose::token_hash(cookie),
        subject: "alice".into(),
        auth_time: f.now(),
        data: "{}".into(),
        expires_at,
    };
    f.store.create_session(&tid(), &record).await.unwrap();
}

#[tokio::test]
async fn signing_in_needs_the_password_and_the_session_lives_its_max_age() {
    use castellan_oauth::LoginError;
    let f = fixture().await;
    let rt = with_passwords(&f, &[("bob".into(), "bob's password".into())]).await;
    assert_eq!(login(&f, &rt, "bob", "wrong").await, Err(LoginError::Invalid));
    assert_eq!(
        login(&f, &rt, "nobody", "bob's password").await,
        Err(LoginError::Invalid)
    );
    let cookie = login(&f, &rt, "bob", "bob's password").await.unwrap();
    let s = f.engine.session(&rt, &cookie).await.unwrap().expect("signed in");
    assert_eq!((s.subject.as_str(), s.auth_time), ("bob", NOW));
    let max_age = rt.server.settings.cookie_max_age.as_secs() as i64;
    assert_eq!(s.expires_at, NOW + max_age);
    f.clock.set(NOW + max_age - 1);
    assert!(
        f.engine.session(&rt, &cookie).await.unwrap().is_some(),
        "a second before the end"
    );
    f.clock.set(NOW + max_age);
    assert!(
        f.engine.session(&rt, &cookie).await.unwrap().is_none(),
        "ended at max age"
    );
    f.clock.set(NOW);
    f.engine.end_session(&rt, &cookie).await.unwrap();
    assert!(f.engine.session(&rt, &cookie).await.unwrap().is_none(), "logged out");
}

#[tokio::test]
async fn usernames_and_passwords_have_length_limits() {
    use castellan_oauth::LoginError;
    let f = fixture().await;
    let (longest_name, longest_password) = ("u".repeat(256), "p".repeat(1024));
    let users = [
        (longest_name.clone(), longest_password.clone()),
        ("u".repeat(257), "short".into()),
        ("v".into(), "p".repeat(1025)),
    ];
    let rt = with_passwords(&f, &users).await;
    assert!(
        login(&f, &rt, &longest_name, &longest_password).await.is_ok(),
        "at the limits"
    );
    assert_eq!(login(&f, &rt, &users[1].0, "short").await, Err(LoginError::Invalid));
    assert_eq!(login(&f, &rt, "v", &users[2].1).await, Err(LoginError::Invalid));
}

#[tokio::test]
async fn five_failures_lock_a_username_for_fifteen_minutes() {
    use castellan_oauth::LoginError;
    let f = fixture().await;
    let rt = with_passwords(&f, &[("bob".into(), "right".into())]).await;
    for _ in 0..5 {
        assert_eq!(login(&f, &rt, "bob", "wrong").await, Err(LoginError::Invalid));
    }
    f.clock.set(NOW + 60);
    assert_eq!(
        login(&f, &rt, "bob", "right").await,
        Err(LoginError::Throttled(900 - 60)),
        "locked even with the right password"
    );
    f.clock.set(NOW + 900);
    assert!(login(&f, &rt, "bob", "right").await.is_ok(), "the window is over");
}

#[tokio::test]
async fn session_cookies_longer_than_128_characters_are_not_looked_up() {
    let f = fixture().await;
    let rt = f.rt().await;
    let (longest, too_long) = ("c".repeat(128), "c".repeat(129));
    save_session(&f, &longest, NOW + 60).await;
    save_session(&f, &too_long, NOW + 60).await;
    assert!(f.engine.session(&rt, &longest).await.unwrap().is_some());
    assert!(f.engine.session(&rt, &too_long).await.unwrap().is_none());
    assert!(f.engine.session(&rt, "").await.unwrap().is_none());
    // Logging out with an over-long cookie deletes nothing; at the limit it ends the session.
    f.engine.end_session(&rt, &too_long).await.unwrap();
    let (tid, aid) = (tid(), aid());
    let stored = |c: &str| {
        let hash = castellan_jose::token_hash(c);
        let (store, tid, aid) = (f.store.clone(), tid.clone(), aid.clone());
        async move { store.get_session(&tid, &aid, &hash).await.unwrap() }
    };
    assert!(stored(&too_long).await.is_some());
    f.engine.end_session(&rt, &longest).await.unwrap();
    assert!(stored(&longest).await.is_none());
    f.engine.end_session(&rt, "").await.unwrap();
}

#[tokio::test]
async fn csrf_tokens_are_bound_to_the_cookie_and_the_server() {
    let f = fixture().await;
    let rt = f.rt().await;
    let token = f.engine.csrf_token(&rt, "browser-1");
    assert!(token.len() >= 43, "a keyed hash, not a constant: {token}");
    assert_ne!(token, f.engine.csrf_token(&rt, "browser-2"));
    assert!(f.engine.check_csrf(&rt, Some("browser-1"), Some(&token)));
    assert!(
        !f.engine.check_csrf(&rt, Some("browser-2"), Some(&token)),
        "another browser's"
    );
    assert!(!f.engine.check_csrf(&rt, Some("browser-1"), None));
    assert!(!f.engine.check_csrf(&rt, None, Some(&token)));
    let empty = f.engine.csrf_token(&rt, "");
    assert!(!f.engine.check_csrf(&rt, Some(""), Some(&empty)), "no cookie value");
    let (longest, too_long) = ("c".repeat(128), "c".repeat(129));
    let ok = f.engine.csrf_token(&rt, &longest);
    assert!(f.engine.check_csrf(&rt, Some(&longest), Some(&ok)));
    let refused = f.engine.csrf_token(&rt, &too_long);
    assert!(!f.engine.check_csrf(&rt, Some(&too_long), Some(&refused)));
}

#[tokio::test]
async fn the_client_cache_holds_at_most_its_capacity_and_misses_read_the_store() {
    let f = fixture().await;
    let ids: Vec<String> = (0..40).map(|i| format!("many{i}")).collect();
    for id in &ids {
        client(f.store.as_ref(), &f.master, id, "client_secret_basic", WEB_SECRET, &[]).await;
    }
    let engine =
        Engine::new(f.store.clone(), f.master.clone(), f.clock.clone(), "https://as.example").with_client_cache(8);
    let rt = engine.server("t", "s").await.unwrap().unwrap();
    let form = Form::new(Vec::new()).unwrap();
    let auth = |id: &str, secret: &str| {
        let p = Presented {
            basic: Some((id.to_owned(), secret.to_owned())),
            form: &form,
            addr: None,
        };
        let (engine, rt) = (&engine, rt.clone());
        async move { engine.authenticate_client(&rt, &p).await.map(|c| c.id.to_string()) }
    };
    for round in 0..2 {
        for id in &ids {
            assert_eq!(
                auth(id, WEB_SECRET).await.ok().as_deref(),
                Some(id.as_str()),
                "round {round}"
            );
            assert!(auth(id, "wrong").await.is_err());
            let cached = engine.client_cache().len();
            assert!((1..=8).contains(&cached), "{cached} clients cached");
        }
    }
    assert!(engine.client(&rt, "nobody").await.unwrap().is_none());
    assert!(engine.client(&rt, "bad id!").await.unwrap().is_none());
}

#[tokio::test]
async fn a_server_reload_reuses_the_parsed_keys_that_did_not_change() {
    use castellan_store::ConfigChange;
    let f = fixture().await;
    let before = f.rt().await;
    f.engine.changed(&ConfigChange::Server(tid(), aid())).await;
    let after = f.rt().await;
    assert!(!Arc::ptr_eq(&before, &after), "a new copy of the server");
    let (old, same) = (before.signer.clone().unwrap(), after.signer.clone().unwrap());
    assert!(Arc::ptr_eq(&old, &same), "the same key, not opened again");

    let g = castellan_jose::keys::generate(SigningAlg::ES256).unwrap();
    let key = SigningKey {
        private_sealed: f
            .master
            .seal(&seal::server_key(&tid(), &aid(), &g.kid), &g.pkcs8)
            .unwrap(),
        kid: g.kid.clone(),
        alg: SigningAlg::ES256,
        status: KeyStatus::Current,
        public_jwk: g.public_jwk,
        created_at: NOW,
    };
    let server = f.store.get_server(&tid(), &aid()).await.unwrap().unwrap();
    f.store.update_server(&server, Some(&[key])).await.unwrap();
    f.engine.changed(&ConfigChange::Server(tid(), aid())).await;
    let rotated = f.rt().await.signer.clone().unwrap();
    assert_eq!(rotated.kid, g.kid, "a changed key is opened");
    assert!(!Arc::ptr_eq(&old, &rotated));
}

// The gateway authorizer (`Engine::authorize_at_gateway`): the gateway's own credentials, the
// route, the caller's token, then the API's policy with only the request headers it reads.

const GW_SECRET: &str = "gateway-secret-0123456789";

/// The fixture plus gateway `gw` (client `gw-gw`, secret [`GW_SECRET`]) of server `s` with two
/// connected services, `a-pets` then `b-orders`; policies `readers` (scope `read`), `ops` (scope
/// `read` and `X-Team: ops`) and `agreed` (privacy consent `terms`, which `cc` has granted);
/// `client_credentials` clients `cc` (scope `read`), `cw` (scope `write`) and `cbig` (scope
/// `read`, a long audience list).
async fn gateway_fixture() -> Fixture {
    use castellan_store::conformance as c;
    let f = fixture().await;
    let st = f.store.as_ref();
    let header = json!({"name": "header", "recovery": [{"id": "join-ops", "type": "team"}],
                        "conf": {"fields": [{"field": "x-team", "comparator": "equals", "value": "ops"}]}});
    let read = json!({"name": "scopes", "conf": {"scopes": ["read"]}});
    for (id, validators) in [
        ("readers", json!([read])),
        ("ops", json!([read, header])),
        ("agreed", json!([{"name": "consent", "conf": {"consents": ["terms"]}}])),
    ] {
        st.create_policy(&c::policy("t", id, validators)).await.unwrap();
    }
    let gw_client = new_client(&f.master, "gw-gw", "client_secret_basic", GW_SECRET, &[], &[]).await;
    st.create_gateway(&c::gateway("t", "s", "gw"), &gw_client)
        .await
        .unwrap();
    for sid in ["a-pets", "b-orders"] {
        st.create_service(&Service {
            gateway_id: Some("gw".into()),
            ..c::service("t", "s", sid)
        })
        .await
        .unwrap();
    }
    let apis = [
        ("a-pets", "pets-get", "GET", "/pets/{id}", Some("readers")),
        ("a-pets", "stats", "GET", "/admin/stats", Some("ops")),
        ("a-pets", "consented", "GET", "/consented", Some("agreed")),
        ("a-pets", "shared-a", "GET", "/shared", None),
        ("b-orders", "orders-post", "POST", "/orders", None),
        ("b-orders", "shared-b", "GET", "/shared", None),
    ];
    for (i, (sid, id, method, path, policy)) in apis.into_iter().enumerate() {
        st.create_api(&Api {
            policy_id: policy.map(Into::into),
            ..c::api("t", sid, "s", id, method, path, i as i64)
        })
        .await
        .unwrap();
    }
    for (id, scope) in [("cc", "read"), ("cw", "write"), ("cbig", "read")] {
        let mut cl = new_client(
            &f.master,
            id,
            "client_secret_basic",
            WEB_SECRET,
            &["client_credentials"],
            &[scope],
        )
        .await;
        if id == "cbig" {
            // Tokens of several KiB (long audience lists) are ordinary and must be accepted.
            cl.settings.audience = (0..40)
                .map(|i| format!("https://api-{i}.example.com/a/long/path"))
                .collect();
        }
        st.create_client(&cl).await.unwrap();
    }
    let consent = castellan_store::PrivacyWrite {
        consent: Some(c::privacy_consent("t", "terms", 1)),
        grants: vec![c::grant("t", "cc", "terms", 1, true)],
        ..Default::default()
    };
    st.privacy_write(&tid(), &consent, &c::PlainSigner).await.unwrap();
    f
}

/// A client-credentials access token of `client` for `scope`.
async fn access_token(f: &Fixture, client: &str, scope: &str) -> String {
    let t = token(f, client, &[("grant_type", "client_credentials"), ("scope", scope)])
        .await
        .unwrap();
    t["access_token"].as_str().unwrap().to_owned()
}

/// One request a gateway forwards; by default gateway `gw` of tenant `t` with its credentials.
#[derive(Clone)]
struct Ask {
    tenant: &'static str,
    gateway: &'static str,
    credentials: Option<(&'static str, &'static str)>,
    method: &'static str,
    uri: String,
    bearer: Option<String>,
    headers: Vec<(&'static str, &'static str)>,
    service: Option<&'static str>,
    /// Where `method` and `uri` go: `X-Original-*` (nginx) unless this says `X-Forwarded-*`.
    forwarded: bool,
    /// What the caller forged in the other pair of headers.
    forged: Option<(&'static str, &'static str)>,
}

impl Ask {
    fn new(method: &'static str, uri: &str, bearer: &str) -> Self {
        Ask {
            tenant: "t",
            gateway: "gw",
            credentials: Some(("gw-gw", GW_SECRET)),
            method,
            uri: uri.into(),
            bearer: Some(bearer.into()),
            headers: Vec::new(),
            service: None,
            forwarded: false,
            forged: None,
        }
    }
}

/// The decision, and the names of the request headers the authorizer copied (`None`: it did not
/// ask for the headers at all).
async fn decide(f: &Fixture, a: &Ask) -> (GatewayDecision, Option<Vec<String>>) {
    let copied = std::sync::Mutex::new(None::<Vec<String>>);
    let headers = |keep: HeaderFilter<'_>| {
        let kept: std::collections::HashMap<String, String> = a
            .headers
            .iter()
            .filter(|(name, _)| keep(name))
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        let mut names: Vec<String> = kept.keys().cloned().collect();
        names.sort();
        *copied.lock().unwrap() = Some(names);
        kept
    };
    let stated = (Some(a.method), Some(a.uri.as_str()));
    let forged = a.forged.map(|(m, u)| (Some(m), Some(u))).unwrap_or_default();
    let (original, forwarded) = if a.forwarded {
        (forged, stated)
    } else {
        (stated, forged)
    };
    let req = GatewayRequest {
        credentials: a.credentials.map(|(id, s)| (id.to_owned(), s.to_owned())),
        origin: Origin { original, forwarded },
        bearer: a.bearer.as_deref(),
        headers: &headers,
        service: a.service,
    };
    let d = f.engine.authorize_at_gateway(a.tenant, a.gateway, req).await.unwrap();
    (d, copied.into_inner().unwrap())
}

fn allowed(subject: &str, api: &str) -> GatewayDecision {
    GatewayDecision::Allow {
        subject: subject.into(),
        client_id: subject.into(),
        api_id: api.into(),
    }
}

/// The reason of a 403 (panics on any other decision).
fn forbidden(d: GatewayDecision) -> String {
    match d {
        GatewayDecision::Forbidden { reason, .. } => reason,
        other => panic!("expected a 403, got {other:?}"),
    }
}

#[tokio::test]
async fn the_authorizer_answers_only_its_gateway_with_its_own_credentials() {
    let f = gateway_fixture().await;
    let read = access_token(&f, "cc", "read").await;
    let ok = Ask::new("GET", "/pets/1", &read);
    assert_eq!(decide(&f, &ok).await.0, allowed("cc", "pets-get"));
    let cases = [
        Ask {
            credentials: None,
            ..ok.clone()
        },
        Ask {
            credentials: Some(("gw-gw", "not-the-secret-0123456789")),
            ..ok.clone()
        },
        // A real client with its right secret, but not this gateway's.
        Ask {
            credentials: Some(("cc", WEB_SECRET)),
            ..ok.clone()
        },
        Ask {
            tenant: "T!",
            ..ok.clone()
        },
        Ask {
            tenant: "nope",
            ..ok.clone()
        },
        Ask {
            gateway: "other",
            ..ok.clone()
        },
    ];
    for (i, a) in cases.iter().enumerate() {
        assert_eq!(decide(&f, a).await.0, GatewayDecision::BadGateway, "case {i}");
    }
}

/// Each gateway type states the original request in its own pair of headers and passes the
/// caller's other headers on: the authorizer reads only the pair of the gateway's type, so a
/// caller's forged `X-Original-*` through Caddy (or `X-Forwarded-*` through nginx) decides nothing.
#[tokio::test]
async fn the_authorizer_reads_only_the_headers_its_gateway_type_sets() {
    use castellan_store::conformance as c;
    let f = gateway_fixture().await;
    let st = f.store.as_ref();
    let cg_client = new_client(&f.master, "gw-cg", "client_secret_basic", GW_SECRET, &[], &[]).await;
    st.create_gateway(
        &castellan_domain::Gateway {
            kind: "caddy".into(),
            ..c::gateway("t", "s", "cg")
        },
        &cg_client,
    )
    .await
    .unwrap();
    st.create_service(&Service {
        gateway_id: Some("cg".into()),
        ..c::service("t", "s", "c-items")
    })
    .await
    .unwrap();
    for (i, (id, method, policy)) in [("items-get", "GET", "readers"), ("items-delete", "DELETE", "ops")]
        .into_iter()
        .enumerate()
    {
        st.create_api(&Api {
            policy_id: Some(policy.into()),
            ..c::api("t", "c-items", "s", id, method, "/items/{id}", i as i64)
        })
        .await
        .unwrap();
    }
    f.engine.changed(&castellan_store::ConfigChange::Services(tid())).await;
    let read = access_token(&f, "cc", "read").await;

    // nginx: X-Original-*; a forged X-Forwarded-* pair is not read.
    let nginx = Ask {
        forged: Some(("POST", "/orders")),
        ..Ask::new("GET", "/pets/1", &read)
    };
    assert_eq!(decide(&f, &nginx).await.0, allowed("cc", "pets-get"));
    let only_forged = Ask {
        forged: Some(("GET", "/pets/1")),
        ..Ask::new("", "", &read)
    };
    assert!(forbidden(decide(&f, &only_forged).await.0).contains("is not an API"));

    // Caddy: X-Forwarded-*; a forged X-Original-* pair is not read. The read token may GET an
    // item and may not DELETE one, whatever the caller claims in the other pair.
    let caddy = |method, forged| Ask {
        gateway: "cg",
        credentials: Some(("gw-cg", GW_SECRET)),
        forwarded: true,
        forged,
        ..Ask::new(method, "/items/1", &read)
    };
    assert_eq!(
        decide(&f, &caddy("GET", Some(("DELETE", "/items/1")))).await.0,
        allowed("cc", "items-get")
    );
    let d = decide(&f, &caddy("DELETE", Some(("GET", "/items/1")))).await.0;
    assert!(matches!(d, GatewayDecision::Forbidden { .. }), "{d:?}");
    let missing = Ask {
        gateway: "cg",
        credentials: Some(("gw-cg", GW_SECRET)),
        forwarded: true,
        forged: Some(("GET", "/items/1")),
        ..Ask::new("", "", &read)
    };
    assert!(forbidden(decide(&f, &missing).await.0).contains("is not an API"));
}

#[tokio::test]
async fn the_authorizer_finds_the_api_then_checks_the_token() {
    let f = gateway_fixture().await;
    let read = access_token(&f, "cc", "read").await;
    let ask = |m, uri: &str| Ask::new(m, uri, &read);
    // The query and fragment are not part of the path; services are tried in turn, the first
    // connected one that has the route wins.
    assert_eq!(
        decide(&f, &ask("GET", "/pets/42?x=/orders#y")).await.0,
        allowed("cc", "pets-get")
    );
    assert_eq!(
        decide(&f, &ask("POST", "/orders")).await.0,
        allowed("cc", "orders-post")
    );
    assert_eq!(decide(&f, &ask("GET", "/shared")).await.0, allowed("cc", "shared-a"));
    let only_orders = |m, uri: &str| Ask {
        service: Some("b-orders"),
        ..ask(m, uri)
    };
    assert_eq!(
        decide(&f, &only_orders("GET", "/shared")).await.0,
        allowed("cc", "shared-b")
    );
    assert!(forbidden(decide(&f, &only_orders("GET", "/pets/1")).await.0).contains("GET /pets/1 is not an API"));
    let elsewhere = Ask {
        service: Some("c-none"),
        ..ask("GET", "/pets/1")
    };
    assert!(forbidden(decide(&f, &elsewhere).await.0).contains("service c-none is not connected"));
    assert!(forbidden(decide(&f, &ask("PUT", "/pets/1")).await.0).contains("PUT /pets/1 is not an API"));
    assert!(forbidden(decide(&f, &ask("GET", "/nowhere")).await.0).contains("GET /nowhere is not an API"));

    // Then the token: present, not oversized, live and of this server.
    let bad = |bearer: Option<String>| Ask {
        bearer,
        ..ask("GET", "/pets/1")
    };
    let too_long = "x".repeat(castellan_oauth::gateway::MAX_BEARER + 1);
    for b in [None, Some(String::new()), Some("not.a.token".into()), Some(too_long)] {
        assert!(matches!(decide(&f, &bad(b)).await.0, GatewayDecision::InvalidToken(_)));
    }
    let big = access_token(&f, "cbig", "read").await;
    assert!(big.len() > 2048, "{}", big.len());
    assert_eq!(
        decide(&f, &Ask::new("GET", "/shared", &big)).await.0,
        allowed("cbig", "shared-a")
    );
    revoke(&f, "cc", &read).await.unwrap();
    assert!(matches!(
        decide(&f, &bad(Some(read.clone()))).await.0,
        GatewayDecision::InvalidToken(_)
    ));
}

#[tokio::test]
async fn the_authorizer_applies_the_apis_policy_reading_only_the_headers_it_names() {
    let f = gateway_fixture().await;
    let (read, write) = (
        access_token(&f, "cc", "read").await,
        access_token(&f, "cw", "write").await,
    );
    let stats = |bearer: &str, team: Option<&'static str>| Ask {
        headers: team
            .map(|t| ("x-team", t))
            .into_iter()
            .chain([("cookie", "session=secret")])
            .collect(),
        ..Ask::new("GET", "/admin/stats", bearer)
    };
    let (d, copied) = decide(&f, &stats(&read, Some("ops"))).await;
    assert_eq!(d, allowed("cc", "stats"));
    assert_eq!(
        copied,
        Some(vec!["x-team".to_owned()]),
        "only the header the policy reads"
    );
    for team in [None, Some("dev")] {
        match decide(&f, &stats(&read, team)).await.0 {
            GatewayDecision::Forbidden { reason, recovery } => {
                assert!(reason.contains("policy ops refused: header"), "{reason}");
                assert_eq!(
                    serde_json::to_value(&recovery).unwrap(),
                    json!([{"id": "join-ops", "type": "team"}])
                );
            }
            other => panic!("{other:?}"),
        }
    }
    let reason = forbidden(decide(&f, &stats(&write, Some("ops"))).await.0);
    assert!(reason.contains("policy ops refused: scopes"), "{reason}");

    // A policy that reads no header is not given any.
    let pets = |bearer: &str| Ask {
        headers: vec![("x-team", "ops")],
        ..Ask::new("GET", "/pets/1", bearer)
    };
    assert_eq!(decide(&f, &pets(&read)).await, (allowed("cc", "pets-get"), None));
    assert!(forbidden(decide(&f, &pets(&write)).await.0).contains("policy readers refused: scopes"));

    // A consent validator reads the subject's privacy grants: cc granted `terms`, cw did not.
    assert_eq!(
        decide(&f, &Ask::new("GET", "/consented", &read)).await.0,
        allowed("cc", "consented")
    );
    let reason = forbidden(decide(&f, &Ask::new("GET", "/consented", &write)).await.0);
    assert!(reason.contains("policy agreed refused: consent"), "{reason}");
}

#[tokio::test]
async fn the_gateway_records_its_last_activity_at_most_once_a_minute() {
    let f = gateway_fixture().await;
    let read = access_token(&f, "cc", "read").await;
    let ok = Ask::new("GET", "/pets/1", &read);
    let last_active = || async { f.store.get_gateway(&tid(), "gw").await.unwrap().unwrap().last_active };
    assert_eq!(last_active().await, None);
    // Refused credentials are not activity.
    let refused = Ask {
        credentials: Some(("gw-gw", "not-the-secret-0123456789")),
        ..ok.clone()
    };
    assert_eq!(decide(&f, &refused).await.0, GatewayDecision::BadGateway);
    assert_eq!(last_active().await, None);
    assert_eq!(decide(&f, &ok).await.0, allowed("cc", "pets-get"));
    assert_eq!(last_active().await, Some(NOW));
    f.clock.advance(castellan_oauth::gateway::TOUCH_EVERY - 1);
    decide(&f, &ok).await;
    assert_eq!(last_active().await, Some(NOW), "not again within a minute");
    f.clock.advance(1);
    decide(&f, &ok).await;
    assert_eq!(last_active().await, Some(NOW + castellan_oauth::gateway::TOUCH_EVERY));
}
