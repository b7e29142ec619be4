//! Signing-key rotation (scheduled and on demand), retirement and revocation, on a server whose
//! clock the test moves: a relying party that caches the JWK Set as long as it is told never
//! meets a `kid` it does not know; tokens of a retired key stay valid until they expire; a
//! revoked key ends its tokens at once; two nodes rotating together rotate once.

use std::sync::Arc;
use std::time::Duration;

use castellan::SharedClock;
use castellan_domain::{Clock, FixedClock, SystemClock};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::permissions::{admin_client, map};
use crate::tokens::{client, form, issuer};

/// A relying party: fetches the JWK Set, keeps it for the `max-age` it was given, and looks
/// up each token's `kid` in what it holds, without fetching again on a miss.
struct RelyingParty {
    kids: Vec<String>,
    fetched_at: i64,
    max_age: i64,
}

impl RelyingParty {
    async fn new(app: &TestApp, now: i64) -> Self {
        let mut rp = Self {
            kids: Vec::new(),
            fetched_at: 0,
            max_age: 0,
        };
        rp.fetch(app, now).await;
        rp
    }

    async fn fetch(&mut self, app: &TestApp, now: i64) {
        let r = app
            .raw(app.http.get(format!("{}/.well-known/jwks.json", issuer(app, "rot"))))
            .await;
        assert_eq!(r.status, 200);
        let cc = r.headers["cache-control"].to_str().unwrap().to_owned();
        self.max_age = cc
            .split(',')
            .find_map(|p| p.trim().strip_prefix("max-age="))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no max-age in {cc}"));
        self.kids = kids(&r.body);
        self.fetched_at = now;
    }

    /// The `kid` of `token`, which must be in the keys this party holds.
    async fn verify(&mut self, app: &TestApp, now: i64, token: &str) -> String {
        if now - self.fetched_at >= self.max_age {
            self.fetch(app, now).await;
        }
        let kid = kid_of(token);
        assert!(
            self.kids.contains(&kid),
            "a token signed by {kid}, which the JWK Set fetched {}s ago did not list ({:?})",
            now - self.fetched_at,
            self.kids
        );
        kid
    }
}

fn kids(jwks: &Value) -> Vec<String> {
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

fn kid_of(token: &str) -> String {
    let header = token.split('.').next().unwrap();
    let header: Value = serde_json::from_slice(&castellan_jose::b64url_decode(header).unwrap()).unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

async fn clocked_app(clock: &Arc<FixedClock>) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path()).await;
    cfg.clock = Some(SharedClock(clock.clone()));
    cfg.maintenance_interval = Duration::from_millis(40);
    spawn_with(dir, cfg).await
}

async fn token(app: &TestApp, secret: &str) -> String {
    let r = form(
        app,
        &format!("{}/oauth2/token", issuer(app, "rot")),
        Some(("rot-app", secret)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["access_token"].as_str().unwrap().to_owned()
}

async fn active(app: &TestApp, secret: &str, token: &str) -> bool {
    let r = form(
        app,
        &format!("{}/oauth2/introspect", issuer(app, "rot")),
        Some(("rot-app", secret)),
        &[("token", token)],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["active"].as_bool().unwrap()
}

async fn keys(app: &TestApp) -> Value {
    let r = app.admin(Method::GET, "/servers/rot/keys", None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

fn states(keys: &Value) -> Vec<(String, String)> {
    keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["kid"].as_str().unwrap().to_owned(),
                k["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Waits (in real time) until the keys are in `want` states, for the maintenance task to run.
async fn keys_become(app: &TestApp, want: &[&str]) -> Value {
    for _ in 0..250 {
        let k = keys(app).await;
        let got: Vec<String> = states(&k).into_iter().map(|(_, s)| s).collect();
        if got == want {
            return k;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("keys never became {want:?}: {}", keys(app).await);
}

async fn rotating_server(app: &TestApp, period: &str) -> String {
    let r = app
        .admin(
            Method::POST,
            "/servers",
            Some(json!({"id": "rot", "name": "Rotating", "key_rotation_period": period,
                "access_token_ttl": "10m0s", "id_token_ttl": "5m0s"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["key_rotation_period"], period);
    let c = client(
        app,
        json!({"client_id": "rot-app", "client_name": "rot app", "authorization_server_id": "rot",
            "grant_types": ["client_credentials"]}),
    )
    .await;
    c["client_secret"].as_str().unwrap().to_owned()
}

/// Moves the clock in steps shorter than the JWK Set's cache time, for `total` seconds, letting
/// the maintenance task run after each; at each step the relying party checks a new token.
async fn walk(app: &TestApp, clock: &FixedClock, rp: &mut RelyingParty, secret: &str, total: i64) -> Vec<String> {
    let step = 240;
    let mut seen = Vec::new();
    let mut t = 0;
    while t < total {
        clock.advance(step);
        t += step;
        tokio::time::sleep(Duration::from_millis(90)).await;
        let kid = rp.verify(app, clock.now(), &token(app, secret).await).await;
        if seen.last() != Some(&kid) {
            seen.push(kid);
        }
    }
    seen
}

#[tokio::test]
async fn keys_rotate_on_schedule_and_on_demand_without_an_unknown_kid() {
    let clock = Arc::new(FixedClock::new(SystemClock.now()));
    let app = clocked_app(&clock).await;
    let secret = rotating_server(&app, "2h0m0s").await;

    let k = keys(&app).await;
    assert_eq!(k["key_rotation_period"], "2h0m0s");
    let first = states(&k);
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].1, "current");
    assert_eq!(k["keys"][0]["signs"], "all");
    assert!(k["next_rotation_at"].is_string(), "{k}");
    let mut rp = RelyingParty::new(&app, clock.now()).await;
    assert_eq!(rp.max_age, 300);

    // The schedule: after an hour the next key is published, after two it signs.
    let old_token = token(&app, &secret).await;
    let mut seen = walk(&app, &clock, &mut rp, &secret, 2 * 3600 + 600).await;
    // However late the maintenance task ran on a busy machine, the switch has happened by now.
    keys_become(&app, &["current", "retired"]).await;
    let kid = rp.verify(&app, clock.now(), &token(&app, &secret).await).await;
    if seen.last() != Some(&kid) {
        seen.push(kid);
    }
    assert_eq!(seen.len(), 2, "one rotation on schedule: {seen:?}");
    assert_eq!(seen[0], first[0].0);
    let k = keys(&app).await;
    let after = states(&k);
    assert_eq!(after[0], (seen[1].clone(), "current".into()), "{k}");
    assert_eq!(after[1], (seen[0].clone(), "retired".into()), "{k}");
    assert!(k["keys"][1]["retires_at"].is_string());
    // The old key's last token (10 minutes) has expired, but the key stays published until
    // its retirement time (the longest token lifetime and leeway after it stopped signing).
    assert!(!active(&app, &secret, &old_token).await, "expired");

    // The retired key leaves the JWK Set once its tokens are all past their lifetime.
    clock.advance(600 + 300 + 60);
    keys_become(&app, &["current"]).await;
    // The JWK Set is served from the node's configuration snapshot, which learns of the stored
    // change a moment after it is written (publishing a retired key that moment longer is safe).
    for _ in 0..250 {
        rp.fetch(&app, clock.now()).await;
        if rp.kids.len() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(rp.kids, [seen[1].clone()]);

    // On demand: a next key now, signing an hour later; a second rotation meanwhile is refused.
    let r = app.admin(Method::POST, "/servers/rot/keys/rotate", None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let now_states: Vec<String> = states(&r.body).into_iter().map(|(_, s)| s).collect();
    assert_eq!(now_states, ["current", "next"]);
    let next_kid = r.body["keys"][1]["kid"].as_str().unwrap().to_owned();
    assert!(r.body["keys"][1]["activates_at"].is_string());
    assert!(
        r.body.get("next_rotation_at").is_none(),
        "a next key is out: {}",
        r.body
    );
    let again = app.admin(Method::POST, "/servers/rot/keys/rotate", None).await;
    let e = assert_api_error(&again, 409);
    assert!(e.to_string().contains(&next_kid), "{e}");
    let published = app
        .raw(app.http.get(format!("{}/.well-known/jwks.json", issuer(&app, "rot"))))
        .await;
    assert!(kids(&published.body).contains(&next_kid), "published before it signs");
    assert_eq!(
        kid_of(&token(&app, &secret).await),
        seen[1],
        "the next key does not sign yet"
    );

    let seen2 = walk(&app, &clock, &mut rp, &secret, 3600 - 240).await;
    assert_eq!(seen2, [seen[1].clone()], "not before its time");
    let last_of_old = token(&app, &secret).await;
    walk(&app, &clock, &mut rp, &secret, 480).await;
    keys_become(&app, &["current", "retired"]).await;
    let kid = rp.verify(&app, clock.now(), &token(&app, &secret).await).await;
    assert_eq!(kid, next_kid, "switched to the next key");
    let k = keys(&app).await;
    assert_eq!(states(&k)[1], (seen[1].clone(), "retired".into()), "{k}");
    // A token of the retired key is good until it expires (10 minutes), not after.
    assert_eq!(kid_of(&last_of_old), seen[1]);
    assert!(active(&app, &secret, &last_of_old).await, "valid after the switch");
    clock.advance(600);
    assert!(!active(&app, &secret, &last_of_old).await, "expired");

    // Revocation: the retired key's tokens and the current key's end at once.
    let by_current = token(&app, &secret).await;
    assert!(active(&app, &secret, &by_current).await);
    let r = app
        .admin(Method::POST, &format!("/servers/rot/keys/{next_kid}/revoke"), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let after = states(&r.body);
    assert_eq!(after[0].1, "current");
    assert_ne!(after[0].0, next_kid, "a new key signs at once");
    assert!(after.contains(&(next_kid.clone(), "revoked".into())), "{after:?}");
    assert!(!active(&app, &secret, &by_current).await, "its tokens end with it");
    let published = app
        .raw(app.http.get(format!("{}/.well-known/jwks.json", issuer(&app, "rot"))))
        .await;
    assert!(!kids(&published.body).contains(&next_kid), "withdrawn from the JWK Set");
    let new_token = token(&app, &secret).await;
    assert_eq!(kid_of(&new_token), after[0].0);
    assert!(active(&app, &secret, &new_token).await);
    // Again: nothing changes; an unknown key is 404; the server's view lists no revoked key.
    let r = app
        .admin(Method::POST, &format!("/servers/rot/keys/{next_kid}/revoke"), None)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(states(&r.body), after);
    let r = app.admin(Method::POST, "/servers/rot/keys/nope/revoke", None).await;
    assert_api_error(&r, 404);
    let s = app.admin(Method::GET, "/servers/rot", None).await;
    assert!(!kids(&s.body["jwks"]).contains(&next_kid));
}

#[tokio::test]
async fn rotation_settings_and_permissions_are_checked() {
    let app = spawn_app().await;
    for bad in ["1h0m0s", "soon", "-5s"] {
        let r = app
            .admin(
                Method::POST,
                "/servers",
                Some(json!({"id": "rot", "name": "Rotating", "key_rotation_period": bad})),
            )
            .await;
        let e = assert_api_error(&r, 422);
        assert!(e.to_string().contains("key_rotation_period"), "{e}");
    }
    assert_eq!(
        app.admin(Method::GET, "/servers/rot", None).await.status,
        404,
        "nothing saved"
    );
    let secret = rotating_server(&app, "0s").await;
    let k = keys(&app).await;
    assert!(k.get("next_rotation_at").is_none(), "on demand only: {k}");
    let s = app.admin(Method::GET, "/servers/default", None).await;
    assert_eq!(s.body["key_rotation_period"], "2160h0m0s", "90 days by default");

    // A client holding only server.read lists keys but neither rotates nor revokes.
    let r = app
        .call(
            Method::POST,
            "/api/admin/default/servers/rot/keys/rotate",
            None,
            Some(("rot-app", &secret)),
        )
        .await;
    assert_eq!(r.status, 401, "not an admin client: {}", r.body);
    let reader_secret = &admin_client(&app, "key-reader").await;
    map(&app, "key-reader", "server.read").await;
    let as_reader = |m: Method, p: &'static str| app.call(m, p, None, Some(("key-reader", reader_secret)));
    assert_eq!(
        as_reader(Method::GET, "/api/admin/default/servers/rot/keys")
            .await
            .status,
        200
    );
    let r = as_reader(Method::POST, "/api/admin/default/servers/rot/keys/rotate").await;
    assert_api_error(&r, 403);
    let kid = keys(&app).await["keys"][0]["kid"].as_str().unwrap().to_owned();
    let r = app
        .call(
            Method::POST,
            &format!("/api/admin/default/servers/rot/keys/{kid}/revoke"),
            None,
            Some(("key-reader", reader_secret)),
        )
        .await;
    assert_api_error(&r, 403);
    assert_eq!(
        states(&keys(&app).await),
        [(kid, "current".to_owned())],
        "nothing changed"
    );
    // This tenant's credentials reach no other tenant's keys (an unknown tenant is a 401, like
    // a wrong secret).
    let r = app
        .call(
            Method::POST,
            "/api/admin/other/servers/rot/keys/rotate",
            None,
            Some((&app.id, &app.secret)),
        )
        .await;
    assert_api_error(&r, 401);
}

#[tokio::test]
async fn two_nodes_rotate_once() {
    let clock = Arc::new(FixedClock::new(SystemClock.now()));
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path()).await;
    if cfg.database_url.is_none() {
        // Both nodes on one SQLite file.
        cfg.database_url = Some(format!("sqlite://{}/shared.db?mode=rwc", dir.path().display()));
    }
    cfg.clock = Some(SharedClock(clock.clone()));
    cfg.maintenance_interval = Duration::from_millis(15);
    let second_dir = tempfile::tempdir().unwrap();
    let mut second_cfg = cfg.clone();
    second_cfg.data_dir = second_dir.path().to_owned();
    let one = spawn_with(dir, cfg).await;
    let two = spawn_with(second_dir, second_cfg).await;
    rotating_server(&one, "2h0m0s").await;

    // Both nodes find the next key due at the same moment, many times over.
    clock.advance(3600);
    let k = keys_become(&one, &["current", "next"]).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(states(&keys(&one).await), states(&k), "no second next key");
    assert_eq!(
        states(&keys(&two).await),
        states(&k),
        "the other node sees the same keys"
    );

    // And both try the switch: one current, one retired, nothing more.
    clock.advance(3600);
    let k = keys_become(&two, &["current", "retired"]).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(states(&keys(&one).await), states(&k));

    // On demand at once on both nodes: one rotation is made, the other is told so.
    let (a, b) = tokio::join!(
        one.admin(Method::POST, "/servers/rot/keys/rotate", None),
        two.admin(Method::POST, "/servers/rot/keys/rotate", None)
    );
    let mut codes = [a.status.as_u16(), b.status.as_u16()];
    codes.sort_unstable();
    assert_eq!(codes, [200, 409], "{} / {}", a.body, b.body);
    let nexts = states(&keys(&one).await)
        .into_iter()
        .filter(|(_, s)| s == "next")
        .count();
    assert_eq!(nexts, 1);
}
