//! The token and revocation endpoints: codes, refresh-token rotation, grants, revocation.

use super::*;

/// A token request of `client` (secret [`WEB_SECRET`]); the response as JSON, or `code description`.
pub(crate) async fn token(f: &Fixture, client: &str, params: &[(&str, &str)]) -> Result<Value, String> {
    let rt = f.rt().await;
    let form = Form::new(params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()).unwrap();
    let p = Presented {
        basic: Some((client.into(), WEB_SECRET.into())),
        form: &form,
        addr: None,
        certificate: None,
    };
    f.engine
        .token(&rt, &p)
        .await
        .map(|(_, t)| serde_json::to_value(t).unwrap())
        .map_err(|e| format!("{} {}", e.code.as_str(), e.description))
}

pub(crate) async fn code_exchange(f: &Fixture, code: &str, redirect_uri: Option<&str>) -> Result<(), String> {
    let mut p = vec![("grant_type", "authorization_code"), ("code", code)];
    if let Some(r) = redirect_uri {
        p.push(("redirect_uri", r));
    }
    token(f, "web", &p).await.map(|_| ())
}

/// Stores a code of `client` for alice; `challenge` is a PKCE S256 challenge.
pub(crate) async fn save_code(f: &Fixture, code: &str, client: &str, challenge: Option<&str>, expires_at: i64) {
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

pub(crate) fn s256(verifier: &str) -> String {
    castellan_jose::b64url(&castellan_jose::sha256(verifier.as_bytes()))
}

/// A refresh grant of `web` for alice with `scopes`, as a code exchange would record it.
pub(crate) async fn save_refresh(f: &Fixture, token: &str, scopes: &[&str], expires_at: i64) {
    save_refresh_of(f, "alice", token, scopes, expires_at).await;
}

pub(crate) async fn save_refresh_of(f: &Fixture, subject: &str, token: &str, scopes: &[&str], expires_at: i64) {
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

pub(crate) fn refresh_params(token: &str) -> [(&str, &str); 2] {
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

pub(crate) async fn revoke(f: &Fixture, client: &str, token: &str) -> Result<(), String> {
    let rt = f.rt().await;
    let form = Form::new(vec![("token".into(), token.into())]).unwrap();
    let p = Presented {
        basic: Some((client.into(), WEB_SECRET.into())),
        form: &form,
        addr: None,
        certificate: None,
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
