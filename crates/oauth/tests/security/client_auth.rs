//! Client authentication: assertions (RFC 7523 §3) and the one registered method.

use super::*;

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
pub(crate) async fn accepts(f: &Fixture, cases: &[(Value, bool)]) {
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
        certificate: None,
    };
    let err = f.engine.authenticate_client(&rt, &both).await.unwrap_err();
    assert_eq!(err.code.as_str(), "invalid_request", "{}", err.description);
    let basic_only = form_of(&[("grant_type", "authorization_code")]);
    let one = Presented {
        basic: Some(("web".into(), WEB_SECRET.into())),
        form: &basic_only,
        addr: None,
        certificate: None,
    };
    assert!(f.engine.authenticate_client(&rt, &one).await.is_ok());
}

pub(crate) async fn basic_or_post(
    f: &Fixture,
    basic: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> Result<String, String> {
    let rt = f.rt().await;
    let form = form_of(form);
    let p = Presented {
        basic: basic.map(|(i, s)| (i.to_owned(), s.to_owned())),
        form: &form,
        addr: None,
        certificate: None,
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
