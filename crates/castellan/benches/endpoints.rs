//! The token and introspection endpoints driven in process through the whole router (routing,
//! middleware, form parsing, client authentication, minting, JSON), without a network: what a
//! request costs Castellan itself, next to `cargo bench -p castellan-jose` (the signature alone)
//! and `bench/run.sh` (real HTTP load). `cargo bench -p castellan --bench endpoints`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use base64::Engine as _;
use castellan_control::{BootstrapOptions, Control};
use castellan_domain::SystemClock;
use castellan_jose::MasterKey;
use castellan_store_sqlite::SqliteStore;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use tower::ServiceExt;

const BOOTSTRAP_SECRET: &str = "bench-bootstrap-secret-0123456789abcdef";

async fn call(app: &Router, req: Request<Body>) -> (StatusCode, serde_json::Value) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    )
}

fn basic(id: &str, secret: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
    )
}

fn admin(path: &str, body: serde_json::Value) -> Request<Body> {
    Request::post(path)
        .header(header::AUTHORIZATION, basic("bootstrap", BOOTSTRAP_SECRET))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn form(path: &str, auth: &str, body: &str) -> Request<Body> {
    Request::post(path)
        .header(header::AUTHORIZATION, auth)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body.to_owned()))
        .unwrap()
}

/// A router over a fresh SQLite store with one server of `key_type` and one client on it;
/// returns the router and the client's Basic credentials.
async fn setup(dir: &std::path::Path, key_type: &str) -> (Router, String) {
    let store = SqliteStore::open(&dir.join("castellan.db")).await.unwrap();
    store.migrate().await.unwrap();
    let master = Arc::new(MasterKey::from_secret(&MasterKey::generate_secret().unwrap()).unwrap());
    let control = Arc::new(Control::new(
        Arc::new(store),
        master,
        Arc::new(SystemClock),
        "http://127.0.0.1:8443",
    ));
    control
        .bootstrap(&BootstrapOptions {
            client_id: "bootstrap".into(),
            client_secret: Some(BOOTSTRAP_SECRET.into()),
        })
        .await
        .unwrap();
    let app = castellan_web::router(castellan_web::AppState::new(control));
    let (s, _) = call(
        &app,
        admin(
            "/api/admin/default/servers",
            serde_json::json!({"id": "bench", "key_type": key_type}),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, c) = call(
        &app,
        admin(
            "/api/admin/default/clients",
            serde_json::json!({"client_id": "bench", "authorization_server_id": "bench",
                "grant_types": ["client_credentials"], "audience": ["https://api.example.com"]}),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    (app, basic("bench", c["client_secret"].as_str().unwrap()))
}

/// A fresh DPoP proof (RFC 9449) of a token request to the bench server, by `key`.
fn dpop_proof(key: &castellan_jose::LoadedKey, jwk: &serde_json::Value) -> String {
    let header = castellan_jose::b64url(
        &serde_json::to_vec(&serde_json::json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": jwk})).unwrap(),
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = serde_json::json!({"jti": castellan_jose::random_id(), "htm": "POST",
        "htu": "http://127.0.0.1:8443/default/bench/oauth2/token", "iat": now});
    castellan_jose::jwt::sign(key, &header, &claims).unwrap()
}

fn endpoints(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("endpoint_in_process");
    for key_type in ["ecdsa", "rsa"] {
        let dir = tempfile::tempdir().unwrap();
        let (app, auth) = rt.block_on(setup(dir.path(), key_type));
        let token = "/default/bench/oauth2/token";
        let (s, body) = rt.block_on(call(&app, form(token, &auth, "grant_type=client_credentials")));
        assert_eq!(s, StatusCode::OK, "{body}");
        group.bench_function(format!("client_credentials/{key_type}"), |b| {
            b.iter(|| {
                rt.block_on(async {
                    let resp = app
                        .clone()
                        .oneshot(form(token, &auth, "grant_type=client_credentials"))
                        .await
                        .unwrap();
                    assert_eq!(resp.status(), StatusCode::OK);
                    axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap()
                })
            })
        });
        if key_type == "ecdsa" {
            // The same request with a DPoP proof: one more signature to verify and the proof's
            // jti recorded (the proofs are made outside the measurement).
            let generated = castellan_jose::keys::generate(castellan_domain::SigningAlg::ES256).unwrap();
            let signer =
                castellan_jose::LoadedKey::from_pkcs8(castellan_domain::SigningAlg::ES256, &generated.pkcs8).unwrap();
            let j = &generated.public_jwk;
            let jwk = serde_json::json!({"kty": j.kty, "crv": j.crv, "x": j.x, "y": j.y});
            group.bench_function("client_credentials_dpop/ecdsa", |b| {
                b.iter_batched(
                    || {
                        let mut req = form(token, &auth, "grant_type=client_credentials");
                        req.headers_mut()
                            .insert("dpop", dpop_proof(&signer, &jwk).parse().unwrap());
                        req
                    },
                    |req| {
                        rt.block_on(async {
                            let resp = app.clone().oneshot(req).await.unwrap();
                            assert_eq!(resp.status(), StatusCode::OK);
                            axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap()
                        })
                    },
                    BatchSize::SmallInput,
                )
            });
            let access = body["access_token"].as_str().unwrap().to_owned();
            let introspect = "/default/bench/oauth2/introspect";
            let req_body = format!("token={access}");
            group.bench_function("introspection/ecdsa", |b| {
                b.iter(|| {
                    rt.block_on(async {
                        let resp = app.clone().oneshot(form(introspect, &auth, &req_body)).await.unwrap();
                        assert_eq!(resp.status(), StatusCode::OK);
                        axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap()
                    })
                })
            });
            group.bench_function("health_live", |b| {
                b.iter(|| {
                    rt.block_on(async {
                        let resp = app
                            .clone()
                            .oneshot(Request::get("/health/live").body(Body::empty()).unwrap())
                            .await
                            .unwrap();
                        axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap()
                    })
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, endpoints);
criterion_main!(benches);
