//! People who sign in with a server's `static` login method: the one place their passwords are
//! checked (the login page and the password grant). Their authentication context is shaped by
//! the method's mappings and attributes like every method's.

use castellan_domain::{AuthorizationServer, StoredAuthMethod};
use castellan_jose::password;
use serde_json::{Map, Value};

/// The context of a static user, shaped by their method.
fn shaped(m: &StoredAuthMethod, raw: &Map<String, Value>) -> Map<String, Value> {
    if m.method.mappings.is_empty() && m.method.attributes.is_empty() {
        return raw.clone();
    }
    let mut sources = Map::new();
    sources.insert("authentication_context".into(), Value::Object(raw.clone()));
    crate::context::shape(&m.method, raw.clone(), &sources)
}

/// Checks `username`/`pw` against the server's enabled static users, off the async threads and
/// with the same argon2id work for unknown users. Returns the user's method id and
/// authentication context.
pub async fn verify_static_user(
    server: &AuthorizationServer,
    username: &str,
    pw: &str,
) -> Option<(String, Map<String, Value>)> {
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
            Some((hash, (m.method.id.clone(), shaped(m, &user.authentication_context))))
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
                .map(|u| shaped(m, &u.authentication_context))
        })
}
