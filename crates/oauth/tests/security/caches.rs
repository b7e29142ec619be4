//! The client cache and server reloads.

use super::*;

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
            certificate: None,
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
        activates_at: None,
        retires_at: None,
        revoked_at: None,
    };
    let server = f.store.get_server(&tid(), &aid()).await.unwrap().unwrap();
    f.store.update_server(&server, Some(&[key])).await.unwrap();
    f.engine.changed(&ConfigChange::Server(tid(), aid())).await;
    let rotated = f.rt().await.signer.clone().unwrap();
    assert_eq!(rotated.kid, g.kid, "a changed key is opened");
    assert!(!Arc::ptr_eq(&old, &rotated));
}
