//! People who sign in with a server's `static` login method: the one place their passwords are
//! checked (the password grant now, the login page later).

use castellan_domain::AuthorizationServer;
use castellan_jose::password;
use serde_json::{Map, Value};

/// Checks `username`/`pw` against the server's enabled static users, off the async threads and
/// with the same argon2id work for unknown users. Returns the user's authentication context.
pub async fn verify_static_user(server: &AuthorizationServer, username: &str, pw: &str) -> Option<Map<String, Value>> {
    let user = server
        .authentications
        .iter()
        .filter(|m| m.method.method == "static" && !m.method.disabled)
        .find_map(|m| {
            let hash = m.password_hashes.get(username)?.clone();
            let user = m
                .method
                .static_
                .as_ref()?
                .users
                .iter()
                .find(|u| u.username == username)?;
            Some((hash, user.authentication_context.clone()))
        });
    let hash = user.as_ref().map(|(h, _)| h.clone());
    let pw = pw.to_owned();
    let ok = tokio::task::spawn_blocking(move || match hash {
        Some(h) => password::verify(&pw, &h),
        None => {
            password::verify_dummy(&pw);
            false
        }
    })
    .await
    .unwrap_or(false);
    if ok { user.map(|(_, ctx)| ctx) } else { None }
}

/// The authentication context of an enabled static user (for userinfo), without checking a password.
pub fn static_user_context(server: &AuthorizationServer, username: &str) -> Option<Map<String, Value>> {
    server
        .authentications
        .iter()
        .filter(|m| m.method.method == "static" && !m.method.disabled)
        .find_map(|m| {
            m.method
                .static_
                .as_ref()?
                .users
                .iter()
                .find(|u| u.username == username)
                .map(|u| u.authentication_context.clone())
        })
}

/// Whether the person `subject` can still sign in at the server: sessions, refresh tokens and
/// refresh-token introspection ask this on every use, so a person removed from the server (or
/// whose login method was removed or disabled) keeps nothing, on every node, at once. Today every
/// person signs in with a `static` method.
pub fn can_sign_in(server: &AuthorizationServer, subject: &str) -> bool {
    static_user_context(server, subject).is_some()
}
