//! Time-dependent rules, checked by moving a FixedClock instead of sleeping.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use castellan_control::{Control, need};

use castellan_domain::FixedClock;
use castellan_oauth::{Form, Presented};
use castellan_testkit::{bootstrap_secret, control};

#[tokio::test]
async fn access_tokens_expire_after_the_servers_ttl() {
    let clock = Arc::new(FixedClock::new(1_800_000_000));
    let (_dir, control) = control(clock.clone()).await;
    assert!(control.authenticate_admin("default", "nobody", "x").await.is_err());
    let engine = control.engine();
    let rt = engine.server("default", "admin").await.unwrap().unwrap();
    let form = Form::new(vec![("grant_type".into(), "client_credentials".into())]).unwrap();
    let secret = bootstrap_secret(&control, &rt).await;
    let presented = Presented {
        basic: Some(("bootstrap".into(), secret.clone())),
        form: &form,
        addr: None,
        certificate: None,
    };
    let (_, token) = engine.token(&rt, &presented).await.unwrap();
    assert_eq!(token.expires_in, 3600);
    assert!(
        engine
            .verify_access_token(&rt, &token.access_token)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        control
            .authenticate_admin_bearer("default", &token.access_token)
            .await
            .is_ok()
    );

    clock.advance(3599);
    assert!(
        engine
            .verify_access_token(&rt, &token.access_token)
            .await
            .unwrap()
            .is_some(),
        "valid until exp"
    );
    clock.advance(1);
    assert!(
        engine
            .verify_access_token(&rt, &token.access_token)
            .await
            .unwrap()
            .is_none(),
        "expired at exp"
    );
    assert!(
        control
            .authenticate_admin_bearer("default", &token.access_token)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn expired_client_secrets_are_refused() {
    let clock = Arc::new(FixedClock::new(1_800_000_000));
    let (_dir, control) = control(clock.clone()).await;
    let engine = control.engine();
    let rt = engine.server("default", "admin").await.unwrap().unwrap();
    let secret = bootstrap_secret(&control, &rt).await;
    let admin = control
        .authenticate_admin("default", "bootstrap", &secret)
        .await
        .unwrap();
    let req = castellan_types::ClientRequest {
        client_id: Some("short-lived".into()),
        authorization_server_id: Some("default".into()),
        grant_types: Some(vec!["client_credentials".into()]),
        client_secret: Some("short-lived-secret-0123".into()),
        client_secret_expires_at: Some(1_800_000_100),
        ..Default::default()
    };
    control
        .create_client(&admin.clone().allow::<need::ClientWrite>().unwrap(), req)
        .await
        .unwrap();
    let rt = engine.server("default", "default").await.unwrap().unwrap();
    let form = Form::new(vec![("grant_type".into(), "client_credentials".into())]).unwrap();
    let p = Presented {
        basic: Some(("short-lived".into(), "short-lived-secret-0123".into())),
        form: &form,
        addr: None,
        certificate: None,
    };
    assert!(engine.token(&rt, &p).await.is_ok());
    clock.advance(100);
    let err = engine.token(&rt, &p).await.unwrap_err();
    assert_eq!(err.code.as_str(), "invalid_client");
    assert!(err.description.contains("expired"));
}

#[tokio::test]
async fn expired_revocations_are_purged() {
    let clock = Arc::new(FixedClock::new(1_800_000_000));
    let (_dir, control) = control(clock.clone()).await;
    let engine = control.engine();
    let rt = engine.server("default", "admin").await.unwrap().unwrap();
    let secret = bootstrap_secret(&control, &rt).await;
    let form = Form::new(vec![("grant_type".into(), "client_credentials".into())]).unwrap();
    let basic = Some(("bootstrap".to_owned(), secret));
    let (_, token) = engine
        .token(
            &rt,
            &Presented {
                basic: basic.clone(),
                form: &form,
                addr: None,
                certificate: None,
            },
        )
        .await
        .unwrap();
    let revoke = Form::new(vec![("token".into(), token.access_token.clone())]).unwrap();
    engine
        .revoke(
            &rt,
            &Presented {
                basic,
                form: &revoke,
                addr: None,
                certificate: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        control.purge_expired().await.unwrap(),
        0,
        "kept while the token could still be used"
    );
    clock.advance(3601);
    assert_eq!(
        control.purge_expired().await.unwrap(),
        1,
        "forgotten once the token expired"
    );
}

fn form(pairs: &[(&str, &str)]) -> Form {
    Form::new(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()).unwrap()
}

/// A trusted client `web` of `default/default` with refresh tokens, and the static user alice.
async fn flow_setup(control: &Control) -> String {
    let rt = control.engine().server("default", "admin").await.unwrap().unwrap();
    let secret = bootstrap_secret(control, &rt).await;
    let admin = control
        .authenticate_admin("default", "bootstrap", &secret)
        .await
        .unwrap();
    let methods: castellan_types::Authentications = serde_json::from_value(serde_json::json!({"methods": [
        {"method": "static", "static": {"users": [{"username": "alice", "password": "alice-password-1"}]}}]}))
    .unwrap();
    control
        .update_authentications(&admin.clone().allow::<need::ServerWrite>().unwrap(), "default", methods)
        .await
        .unwrap();
    // openid and offline_access come with the server.
    let req = castellan_types::ClientRequest {
        client_id: Some("web".into()),
        authorization_server_id: Some("default".into()),
        grant_types: Some(vec!["authorization_code".into(), "refresh_token".into()]),
        redirect_uris: Some(vec!["https://app.example/cb".into()]),
        scopes: Some(vec!["openid".into(), "offline_access".into()]),
        client_secret: Some("web-client-secret-0123".into()),
        trusted: Some(true),
        ..Default::default()
    };
    control
        .create_client(&admin.clone().allow::<need::ClientWrite>().unwrap(), req)
        .await
        .unwrap();
    "web-client-secret-0123".into()
}

#[tokio::test]
async fn codes_sessions_interactions_and_refresh_tokens_expire() {
    let clock = Arc::new(FixedClock::new(1_800_000_000));
    let (_dir, control) = control(clock.clone()).await;
    let secret = flow_setup(&control).await;
    let engine = control.engine();
    let rt = engine.server("default", "default").await.unwrap().unwrap();
    let authorize = form(&[
        ("response_type", "code"),
        ("client_id", "web"),
        ("scope", "openid offline_access"),
    ]);
    let req = engine.authorize_request(&rt, &authorize).await.unwrap();

    // The sealed interaction lives 15 minutes.
    let sealed = engine.seal_interaction(&rt, &req).unwrap();
    clock.advance(900);
    assert!(engine.open_interaction(&rt, &sealed).is_some());
    clock.advance(1);
    assert!(engine.open_interaction(&rt, &sealed).is_none());
    let other = engine.server("default", "admin").await.unwrap().unwrap();
    let req = engine.authorize_request(&rt, &authorize).await.unwrap();
    let sealed = engine.seal_interaction(&rt, &req).unwrap();
    assert!(
        engine.open_interaction(&other, &sealed).is_none(),
        "bound to its server"
    );

    let (cookie, session) = engine.login(&rt, "alice", "alice-password-1", None).await.unwrap();
    let code = |step: castellan_oauth::Step| match step {
        castellan_oauth::Step::Respond(r) => r.params.iter().find(|(k, _)| k == "code").unwrap().1.clone(),
        other => panic!("{other:?}"),
    };
    let exchange = |c: String| {
        let f = form(&[("grant_type", "authorization_code"), ("code", &c)]);
        let (secret, rt) = (secret.clone(), rt.clone());
        async move {
            let p = Presented {
                basic: Some(("web".into(), secret)),
                form: &f,
                addr: None,
                certificate: None,
            };
            engine.token(&rt, &p).await.map(|(_, t)| t)
        }
    };

    // Codes live authorization_code_ttl (10 minutes).
    let c = code(
        engine
            .authorize_step(&rt, &req, Some(&session), false, false)
            .await
            .unwrap(),
    );
    clock.advance(600);
    assert_eq!(exchange(c).await.unwrap_err().code.as_str(), "invalid_grant");
    let c = code(
        engine
            .authorize_step(&rt, &req, Some(&session), false, false)
            .await
            .unwrap(),
    );
    clock.advance(599);
    let tokens = exchange(c).await.unwrap();

    // max_age: a sign-in older than asked for must be repeated.
    let aged = engine
        .authorize_request(
            &rt,
            &form(&[("response_type", "code"), ("client_id", "web"), ("max_age", "60")]),
        )
        .await
        .unwrap();
    let session = engine.session(&rt, &cookie).await.unwrap().unwrap();
    assert!(matches!(
        engine
            .authorize_step(&rt, &aged, Some(&session), false, false)
            .await
            .unwrap(),
        castellan_oauth::Step::Login(_)
    ));

    // Refresh tokens live refresh_token_ttl (30 days); sessions cookie_max_age (30 days).
    // (signed in at t, code redeemed at t + 1199)
    clock.advance(30 * 24 * 3600 - 1200);
    assert!(engine.session(&rt, &cookie).await.unwrap().is_some());
    clock.advance(1);
    assert!(engine.session(&rt, &cookie).await.unwrap().is_none(), "session expired");
    clock.advance(1199);
    let f = form(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", tokens.refresh_token.as_deref().unwrap()),
    ]);
    let p = Presented {
        basic: Some(("web".into(), secret.clone())),
        form: &f,
        addr: None,
        certificate: None,
    };
    let err = engine.token(&rt, &p).await.unwrap_err();
    assert_eq!(err.code.as_str(), "invalid_grant", "refresh token expired");
}
