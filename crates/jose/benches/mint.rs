//! Minting one access token (claims → compact JWS) per algorithm: the crypto floor under the token
//! endpoint. `cargo bench -p castellan-jose`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use castellan_domain::SigningAlg;
use castellan_jose::{LoadedKey, jwt, keys, random_id};
use criterion::{Criterion, criterion_group, criterion_main};

fn mint(c: &mut Criterion) {
    let mut group = c.benchmark_group("mint_access_token");
    for alg in [SigningAlg::ES256, SigningAlg::RS256, SigningAlg::PS256] {
        let g = keys::generate(alg).unwrap();
        let key = LoadedKey::from_pkcs8(alg, &g.pkcs8).unwrap();
        let header = jwt::encode_header(alg, &g.kid, "at+jwt");
        group.bench_function(alg.as_str(), |b| {
            b.iter(|| {
                let claims = serde_json::json!({
                    "iss": "http://127.0.0.1:8443/default/default", "sub": "shop", "aud": ["https://api.example.com"],
                    "client_id": "shop", "scope": "orders.read", "exp": 1_800_000_000, "iat": 1_799_996_400,
                    "nbf": 1_799_996_400, "jti": random_id(), "tid": "default", "aid": "default"
                });
                jwt::sign(&key, &header, &claims).unwrap()
            })
        });
    }
    group.finish();
}

/// Checking a DPoP proof's signature (RFC 9449): parsing the compact JWS and verifying it with
/// the public JWK of its header — the cryptographic cost a proof adds to a request.
fn verify(c: &mut Criterion) {
    let mut group = c.benchmark_group("verify_jws");
    for alg in [SigningAlg::ES256, SigningAlg::RS256] {
        let g = keys::generate(alg).unwrap();
        let key = LoadedKey::from_pkcs8(alg, &g.pkcs8).unwrap();
        let header = jwt::encode_header(alg, &g.kid, "dpop+jwt");
        let token = jwt::sign(
            &key,
            &header,
            &serde_json::json!({"jti": random_id(), "htm": "POST", "htu": "http://127.0.0.1:8443/default/default/oauth2/token", "iat": 1_799_996_400}),
        )
        .unwrap();
        group.bench_function(alg.as_str(), |b| {
            b.iter(|| {
                let parsed = jwt::parse(&token).unwrap();
                assert!(parsed.verify_with(&g.public_jwk, alg));
            })
        });
    }
    group.finish();
}

criterion_group!(benches, mint, verify);
criterion_main!(benches);
