//! Who may call the admin API: Basic credentials and Bearer tokens of the tenant's `admin` server,
//! nothing else (checked below the web layer, where every admin operation gets its handle).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use castellan_control::{Control, ControlError, need};
use castellan_domain::FixedClock;
use castellan_oauth::{Form, Presented};

use castellan_testkit::{bootstrap_secret, control};

async fn admin_token(control: &Control, server: &str, id: &str, secret: &str) -> String {
    let engine = control.engine();
    let rt = engine.server("default", server).await.unwrap().unwrap();
    let form = Form::new(vec![("grant_type".into(), "client_credentials".into())]).unwrap();
    let p = Presented {
        basic: Some((id.into(), secret.into())),
        form: &form,
        addr: None,
        certificate: None,
    };
    engine.token(&rt, &p).await.unwrap().1.access_token
}

fn unauthorized<T: std::fmt::Debug>(r: Result<T, ControlError>) -> bool {
    matches!(r, Err(ControlError::Unauthorized(_)))
}

#[tokio::test]
async fn basic_credentials_of_an_admin_client_and_nothing_else() {
    let (_dir, control) = control(Arc::new(FixedClock::new(1_800_000_000))).await;
    let rt = control.engine().server("default", "admin").await.unwrap().unwrap();
    let secret = bootstrap_secret(&control, &rt).await;
    let a = control
        .authenticate_admin("default", "bootstrap", &secret)
        .await
        .unwrap();
    assert_eq!(a.tenant().as_str(), "default");
    assert_eq!(a.caller(), "bootstrap");
    assert!(
        a.held()
            .allows(castellan_domain::Permission::parse("system.write").unwrap())
    );
    assert!(unauthorized(
        control.authenticate_admin("default", "bootstrap", "wrong").await
    ));
    assert!(unauthorized(
        control.authenticate_admin("default", "nobody", &secret).await
    ));
    assert!(unauthorized(
        control.authenticate_admin("other", "bootstrap", &secret).await
    ));
    assert!(unauthorized(
        control.authenticate_admin("bad tenant!", "bootstrap", &secret).await
    ));
}

#[tokio::test]
async fn bearer_tokens_of_the_admin_server_and_nothing_else() {
    let (_dir, control) = control(Arc::new(FixedClock::new(1_800_000_000))).await;
    let rt = control.engine().server("default", "admin").await.unwrap().unwrap();
    let secret = bootstrap_secret(&control, &rt).await;
    let token = admin_token(&control, "admin", "bootstrap", &secret).await;
    let a = control.authenticate_admin_bearer("default", &token).await.unwrap();
    assert_eq!(a.tenant().as_str(), "default");
    assert_eq!(a.caller(), "bootstrap");
    assert!(
        a.held()
            .allows(castellan_domain::Permission::parse("system.write").unwrap())
    );
    assert!(unauthorized(
        control.authenticate_admin_bearer("default", "garbage").await
    ));
    assert!(unauthorized(control.authenticate_admin_bearer("other", &token).await));
    let mut forged = token.clone();
    forged.pop();
    assert!(unauthorized(
        control.authenticate_admin_bearer("default", &forged).await
    ));

    // A token of another server of the tenant is no admin token.
    let admin = control
        .authenticate_admin("default", "bootstrap", &secret)
        .await
        .unwrap();
    let req: castellan_types::ClientRequest = serde_json::from_value(serde_json::json!({
        "client_id": "m2m", "authorization_server_id": "default", "grant_types": ["client_credentials"],
        "client_secret": "m2m-client-secret-0123"}))
    .unwrap();
    control
        .create_client(&admin.allow::<need::ClientWrite>().unwrap(), req)
        .await
        .unwrap();
    let other = admin_token(&control, "default", "m2m", "m2m-client-secret-0123").await;
    assert!(unauthorized(control.authenticate_admin_bearer("default", &other).await));
}
