//! Signing in: passwords, throttling, session cookies, CSRF tokens.

use super::*;

/// Gives the static login method these users and passwords (argon2id), and reloads.
pub(crate) async fn with_passwords(f: &Fixture, users: &[(String, String)]) -> Arc<ServerRuntime> {
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

pub(crate) async fn login(
    f: &Fixture,
    rt: &ServerRuntime,
    user: &str,
    password: &str,
) -> Result<String, castellan_oauth::LoginError> {
    let addr = Some("192.0.2.1".parse().unwrap());
    f.engine.login(rt, user, password, addr).await.map(|(cookie, _)| cookie)
}

/// Stores a session whose cookie is `cookie`, as if a sign-in had made it.
pub(crate) async fn save_session(f: &Fixture, cookie: &str, expires_at: i64) {
    let record = castellan_store::SessionRecord {
        server_id: aid(),
        id_hash: castellan_jose::token_hash(cookie),
        subject: "alice".into(),
        auth_time: f.now(),
        data: "{}".into(),
        expires_at,
        method_id: "static".into(),
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
