//! The authorization endpoint: scopes, redirect URIs, response types and modes, PKCE, prompts, consent.

use super::*;

pub(crate) fn authorize_form(scope: &str) -> Form {
    Form::new(
        [
            ("client_id", "web"),
            ("redirect_uri", CB),
            ("response_type", "code"),
            ("scope", scope),
            ("state", "st"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
    )
    .unwrap()
}

#[tokio::test]
async fn the_authorization_endpoint_grants_only_the_clients_scopes() {
    let f = fixture().await;
    let rt = f.rt().await;
    assert_eq!(
        f.engine
            .authorize_request(&rt, &authorize_form("read"))
            .await
            .unwrap()
            .scopes,
        ["read"]
    );
    // `write` is a scope of the server, not of the client; `nope` is neither.
    for scope in ["write", "read write", "nope"] {
        match f.engine.authorize_request(&rt, &authorize_form(scope)).await {
            Err(AuthorizeError::Redirect(r)) => {
                assert!(
                    r.params.contains(&("error".into(), "invalid_scope".into())),
                    "{scope}: {r:?}"
                );
            }
            other => panic!("{scope}: {other:?}"),
        }
    }
}

pub(crate) fn form_of(pairs: &[(&str, &str)]) -> Form {
    Form::new(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()).unwrap()
}

/// `web`'s authorization request with `changes` to the defaults (`None` removes a parameter).
pub(crate) fn authorize_params<'a>(changes: &[(&'a str, Option<&'a str>)]) -> Form {
    let mut pairs: Vec<(&str, &str)> = vec![
        ("client_id", "web"),
        ("redirect_uri", CB),
        ("response_type", "code"),
        ("scope", "read"),
        ("state", "st"),
    ];
    for (k, v) in changes {
        pairs.retain(|(pk, _)| pk != k);
        if let Some(v) = v {
            pairs.push((k, v));
        }
    }
    form_of(&pairs)
}

/// The error an authorization request is answered with: `page: …` or the redirect's `error`.
pub(crate) async fn authorize_error(f: &Fixture, rt: &ServerRuntime, changes: &[(&str, Option<&str>)]) -> String {
    match f.engine.authorize_request(rt, &authorize_params(changes)).await {
        Ok(_) => "ok".into(),
        Err(AuthorizeError::Page(p)) => format!("page: {p}"),
        Err(AuthorizeError::Redirect(r)) => {
            assert_eq!(r.uri, CB, "errors go back only to the registered address");
            r.params
                .iter()
                .find(|(k, _)| k == "error")
                .map(|(_, v)| v.clone())
                .unwrap()
        }
    }
}

#[tokio::test]
async fn redirect_uris_match_exactly_and_errors_before_that_are_shown_not_redirected() {
    let f = fixture().await;
    let rt = f.rt().await;
    assert_eq!(authorize_error(&f, &rt, &[]).await, "ok");
    for bad in [
        "https://app.example/cb/",
        "https://APP.example/cb",
        "https://app.example/cb?x=1",
        "https://app.example/c",
        "http://app.example/cb",
        "https://evil.example/cb",
    ] {
        let e = authorize_error(&f, &rt, &[("redirect_uri", Some(bad))]).await;
        assert!(e.starts_with("page: "), "{bad}: {e}");
    }
    assert!(
        authorize_error(&f, &rt, &[("client_id", Some("nobody"))])
            .await
            .starts_with("page: ")
    );
    assert!(
        authorize_error(&f, &rt, &[("client_id", None)])
            .await
            .starts_with("page: ")
    );
    // With one registered address the parameter may be left out (RFC 6749 §3.1.2.3).
    let req = f
        .engine
        .authorize_request(&rt, &authorize_params(&[("redirect_uri", None)]))
        .await
        .unwrap();
    assert_eq!((req.redirect_uri.as_str(), req.redirect_uri_given), (CB, false));
    let req = f.engine.authorize_request(&rt, &authorize_params(&[])).await.unwrap();
    assert!(req.redirect_uri_given);
}

#[tokio::test]
async fn with_several_registered_addresses_one_must_be_named() {
    let f = fixture().await;
    let mut web2 = f
        .store
        .get_client(&tid(), &ClientId::parse("web2").unwrap())
        .await
        .unwrap()
        .unwrap();
    web2.settings.redirect_uris.push("https://app.example/other".into());
    f.store.update_client(&web2).await.unwrap();
    f.engine.changed(&castellan_store::ConfigChange::Tenant(tid())).await;
    let rt = f.rt().await;
    let e = authorize_error(&f, &rt, &[("client_id", Some("web2")), ("redirect_uri", None)]).await;
    assert!(e.starts_with("page: "), "{e}");
    let other = [
        ("client_id", Some("web2")),
        ("redirect_uri", Some("https://app.example/other")),
    ];
    assert_eq!(authorize_error(&f, &rt, &other).await, "ok");
}

#[tokio::test]
async fn response_types_and_modes_follow_the_client_and_the_rfcs() {
    let f = fixture().await;
    let rt = f.rt().await;
    let req = f.engine.authorize_request(&rt, &authorize_params(&[])).await.unwrap();
    assert_eq!(
        req.response_mode,
        castellan_oauth::ResponseMode::Query,
        "code answers in the query"
    );
    assert_eq!(
        authorize_error(&f, &rt, &[("response_type", None)]).await,
        "invalid_request"
    );
    assert_eq!(
        authorize_error(&f, &rt, &[("response_type", Some("magic"))]).await,
        "unsupported_response_type"
    );
    // web registered only `code` and has no implicit grant.
    assert_eq!(
        authorize_error(&f, &rt, &[("response_type", Some("token"))]).await,
        "unauthorized_client"
    );
    let mut web = f
        .store
        .get_client(&tid(), &ClientId::parse("web").unwrap())
        .await
        .unwrap()
        .unwrap();
    web.grant_types.push("implicit".into());
    web.settings.response_types = vec!["code".into(), "token".into()];
    f.store.update_client(&web).await.unwrap();
    f.engine.changed(&castellan_store::ConfigChange::Tenant(tid())).await;
    let rt = f.rt().await;
    let req = f
        .engine
        .authorize_request(&rt, &authorize_params(&[("response_type", Some("token"))]))
        .await
        .unwrap();
    assert_eq!(
        req.response_mode,
        castellan_oauth::ResponseMode::Fragment,
        "tokens never in a query"
    );
    let query = [("response_type", Some("token")), ("response_mode", Some("query"))];
    assert_eq!(authorize_error(&f, &rt, &query).await, "invalid_request");
    let post = [("response_mode", Some("form_post"))];
    let req = f.engine.authorize_request(&rt, &authorize_params(&post)).await.unwrap();
    assert_eq!(req.response_mode, castellan_oauth::ResponseMode::FormPost);
    assert_eq!(
        authorize_error(&f, &rt, &[("response_mode", Some("carrier_pigeon"))]).await,
        "invalid_request"
    );
}

#[tokio::test]
async fn pkce_is_s256_only_well_formed_and_required_of_public_clients() {
    let f = fixture().await;
    let rt = f.rt().await;
    fn with<'a>(c: &'a str, m: Option<&'a str>) -> [(&'a str, Option<&'a str>); 2] {
        [("code_challenge", Some(c)), ("code_challenge_method", m)]
    }
    let good = s256(&"v".repeat(43));
    assert_eq!(authorize_error(&f, &rt, &with(&good, Some("S256"))).await, "ok");
    assert_eq!(
        authorize_error(&f, &rt, &with(&good, Some("plain"))).await,
        "invalid_request"
    );
    assert_eq!(authorize_error(&f, &rt, &with(&good, None)).await, "invalid_request");
    assert_eq!(
        authorize_error(&f, &rt, &with("short", Some("S256"))).await,
        "invalid_request"
    );
    let bad_b64 = format!("{}!", &good[..42]);
    assert_eq!(
        authorize_error(&f, &rt, &with(&bad_b64, Some("S256"))).await,
        "invalid_request"
    );
    let method_only = [("code_challenge_method", Some("S256"))];
    assert_eq!(authorize_error(&f, &rt, &method_only).await, "invalid_request");
    // A public client must use PKCE.
    let mut web = f
        .store
        .get_client(&tid(), &ClientId::parse("web").unwrap())
        .await
        .unwrap()
        .unwrap();
    web.settings.public = true;
    f.store.update_client(&web).await.unwrap();
    f.engine.changed(&castellan_store::ConfigChange::Tenant(tid())).await;
    let rt = f.rt().await;
    assert_eq!(authorize_error(&f, &rt, &[]).await, "invalid_request");
    assert_eq!(authorize_error(&f, &rt, &with(&good, Some("S256"))).await, "ok");
}

#[tokio::test]
async fn prompt_and_max_age_are_checked() {
    let f = fixture().await;
    let rt = f.rt().await;
    for (param, value, expected) in [
        ("prompt", "none login", "invalid_request"),
        ("prompt", "sometimes", "invalid_request"),
        ("prompt", "login consent", "ok"),
        ("max_age", "-1", "invalid_request"),
        ("max_age", "soon", "invalid_request"),
        ("max_age", "0", "ok"),
        ("request", "eyJ", "request_not_supported"),
    ] {
        let outcome = authorize_error(&f, &rt, &[(param, Some(value))]).await;
        assert_eq!(outcome, expected, "{param}={value}");
    }
}

/// alice has allowed `web` the scope `read`.
pub(crate) async fn alice_consented_to_web(f: &Fixture) {
    let web = ClientId::parse("web").unwrap();
    let scopes = ["read".to_owned()];
    f.store
        .save_consent(&tid(), &aid(), &web, "alice", &scopes, f.now())
        .await
        .unwrap();
}

pub(crate) fn session(now: i64) -> castellan_oauth::Session {
    castellan_oauth::Session {
        id_hash: "h".into(),
        subject: "alice".into(),
        auth_time: now,
        ctx: serde_json::Map::new(),
        expires_at: now + 3600,
        method: "static".into(),
        amr: vec!["pwd".into()],
        idp: None,
    }
}

#[tokio::test]
async fn the_next_step_is_sign_in_then_consent_then_the_code() {
    use castellan_oauth::Step;
    let f = fixture().await;
    let rt = f.rt().await;
    let req = async |changes: &[(&str, Option<&str>)]| {
        f.engine
            .authorize_request(&rt, &authorize_params(changes))
            .await
            .unwrap()
    };
    let s = session(f.now());
    let step = |r: castellan_oauth::AuthorizeRequest, s: Option<castellan_oauth::Session>, signed_in: bool| {
        let (f, rt) = (&f, rt.clone());
        async move {
            f.engine
                .authorize_step(&rt, &r, s.as_ref(), signed_in, false)
                .await
                .unwrap()
        }
    };
    assert!(matches!(step(req(&[]).await, None, false).await, Step::Login(_)));
    assert!(matches!(
        step(req(&[]).await, Some(s.clone()), false).await,
        Step::Consent(_)
    ));
    alice_consented_to_web(&f).await;
    let Step::Respond(r) = step(req(&[]).await, Some(s.clone()), false).await else {
        panic!("consented and signed in: the code")
    };
    assert!(r.params.iter().any(|(k, _)| k == "code"), "{r:?}");
    assert!(
        !r.params.iter().any(|(k, _)| k == "access_token"),
        "a code flow hands out no token: {r:?}"
    );
    assert!(r.params.contains(&("state".into(), "st".into())));
    assert!(r.location().starts_with(&format!("{CB}?")), "{}", r.location());
    // prompt=login asks again unless the person has just signed in; prompt=consent asks again.
    assert!(matches!(
        step(req(&[("prompt", Some("login"))]).await, Some(s.clone()), false).await,
        Step::Login(_)
    ));
    assert!(matches!(
        step(req(&[("prompt", Some("login"))]).await, Some(s.clone()), true).await,
        Step::Respond(_)
    ));
    assert!(matches!(
        step(req(&[("prompt", Some("consent"))]).await, Some(s.clone()), false).await,
        Step::Consent(_)
    ));
    // prompt=none never shows a page.
    let Step::Respond(r) = step(req(&[("prompt", Some("none"))]).await, None, false).await else {
        panic!("prompt=none without a session answers the client")
    };
    assert!(r.params.contains(&("error".into(), "login_required".into())), "{r:?}");
    // max_age: an older sign-in is asked for again.
    let old = castellan_oauth::Session {
        auth_time: f.now() - 600,
        ..s.clone()
    };
    assert!(matches!(
        step(req(&[("max_age", Some("300"))]).await, Some(old.clone()), false).await,
        Step::Login(_)
    ));
    assert!(matches!(
        step(req(&[("max_age", Some("900"))]).await, Some(old), false).await,
        Step::Respond(_)
    ));
}

#[test]
fn redirects_add_to_an_existing_query_or_use_the_fragment() {
    use castellan_oauth::{Redirect, ResponseMode};
    let r = |uri: &str, mode| Redirect {
        uri: uri.into(),
        mode,
        params: vec![("code".into(), "a b".into())],
    };
    assert_eq!(
        r("https://a.example/cb", ResponseMode::Query).location(),
        "https://a.example/cb?code=a%20b"
    );
    assert_eq!(
        r("https://a.example/cb?x=1", ResponseMode::Query).location(),
        "https://a.example/cb?x=1&code=a%20b"
    );
    assert_eq!(
        r("https://a.example/cb", ResponseMode::Fragment).location(),
        "https://a.example/cb#code=a%20b"
    );
}

/// Changes `web` (grants, response types, scopes) and reloads the snapshot.
pub(crate) async fn reconfigure_web(f: &Fixture, grants: &[&str], response_types: &[&str], scopes: &[&str]) {
    let mut web = f
        .store
        .get_client(&tid(), &ClientId::parse("web").unwrap())
        .await
        .unwrap()
        .unwrap();
    web.grant_types = grants.iter().map(|g| g.to_string()).collect();
    web.settings.response_types = response_types.iter().map(|g| g.to_string()).collect();
    web.settings.scopes = scopes.iter().map(|g| g.to_string()).collect();
    f.store.update_client(&web).await.unwrap();
    f.engine.changed(&castellan_store::ConfigChange::Tenant(tid())).await;
}

#[tokio::test]
async fn response_types_need_the_grant_on_the_server_and_the_client() {
    let f = fixture().await;
    reconfigure_web(
        &f,
        &["authorization_code", "implicit"],
        &["code", "code token", "id_token"],
        &["read", "openid"],
    )
    .await;
    let rt = f.rt().await;
    // Any order, each value once: `token code` is `code token`.
    let req = f
        .engine
        .authorize_request(&rt, &authorize_params(&[("response_type", Some("token code code"))]))
        .await
        .unwrap();
    assert_eq!(req.response_type, ["code", "token"]);
    // Explicit modes the response type allows.
    for (mode, want) in [
        ("query", castellan_oauth::ResponseMode::Query),
        ("fragment", castellan_oauth::ResponseMode::Fragment),
    ] {
        let req = f
            .engine
            .authorize_request(&rt, &authorize_params(&[("response_mode", Some(mode))]))
            .await
            .unwrap();
        assert_eq!(req.response_mode, want, "{mode}");
    }
    // id_token needs openid (and a nonce).
    let id = [("response_type", Some("id_token")), ("nonce", Some("n"))];
    assert_eq!(authorize_error(&f, &rt, &id).await, "invalid_scope");
    let id_openid = [
        ("response_type", Some("id_token")),
        ("nonce", Some("n")),
        ("scope", Some("openid")),
    ];
    assert_eq!(authorize_error(&f, &rt, &id_openid).await, "ok");
    let no_nonce = [("response_type", Some("id_token")), ("scope", Some("openid"))];
    assert_eq!(authorize_error(&f, &rt, &no_nonce).await, "invalid_request");
    // The client `jwt` registered `code` but may not use authorization_code.
    let jwt = [("client_id", Some("jwt"))];
    assert_eq!(authorize_error(&f, &rt, &jwt).await, "unauthorized_client");
    // `web` registered `code token` but loses the implicit grant.
    reconfigure_web(&f, &["authorization_code"], &["code", "code token"], &["read"]).await;
    let rt = f.rt().await;
    assert_eq!(
        authorize_error(&f, &rt, &[("response_type", Some("code token"))]).await,
        "unauthorized_client"
    );
    // The server turns the grants off.
    reconfigure_web(
        &f,
        &["authorization_code", "implicit"],
        &["code", "code token"],
        &["read"],
    )
    .await;
    for (grants, response_type) in [(&["implicit"][..], "code"), (&["authorization_code"][..], "code token")] {
        let mut server = f.store.get_server(&tid(), &aid()).await.unwrap().unwrap();
        server.settings.grant_types = grants.iter().map(|g| g.to_string()).collect();
        f.store.update_server(&server, None).await.unwrap();
        f.engine.changed(&castellan_store::ConfigChange::Tenant(tid())).await;
        let rt = f.rt().await;
        let e = authorize_error(&f, &rt, &[("response_type", Some(response_type))]).await;
        assert_eq!(e, "unsupported_response_type", "{grants:?} {response_type}");
    }
}

#[tokio::test]
async fn requested_scopes_are_named_once_and_none_means_all_the_clients() {
    let f = fixture().await;
    reconfigure_web(&f, &["authorization_code"], &["code"], &["read", "openid"]).await;
    let rt = f.rt().await;
    let req = f
        .engine
        .authorize_request(&rt, &authorize_params(&[("scope", Some("read read openid"))]))
        .await
        .unwrap();
    assert_eq!(req.scopes, ["read", "openid"]);
    let req = f
        .engine
        .authorize_request(&rt, &authorize_params(&[("scope", None)]))
        .await
        .unwrap();
    assert_eq!(req.scopes, ["read", "openid"]);
}

#[tokio::test]
async fn nonce_and_login_hint_have_length_limits() {
    let f = fixture().await;
    let rt = f.rt().await;
    let n512 = "n".repeat(512);
    let n513 = "n".repeat(513);
    assert_eq!(authorize_error(&f, &rt, &[("nonce", Some(&n512))]).await, "ok");
    assert_eq!(
        authorize_error(&f, &rt, &[("nonce", Some(&n513))]).await,
        "invalid_request"
    );
    let h256 = "h".repeat(256);
    let req = f
        .engine
        .authorize_request(&rt, &authorize_params(&[("login_hint", Some(&h256))]))
        .await
        .unwrap();
    assert_eq!(req.login_hint.as_deref(), Some(h256.as_str()));
    let h257 = "h".repeat(257);
    let req = f
        .engine
        .authorize_request(&rt, &authorize_params(&[("login_hint", Some(&h257))]))
        .await
        .unwrap();
    assert_eq!(req.login_hint, None, "an over-long hint is dropped, not an error");
}

#[tokio::test]
async fn interactions_live_fifteen_minutes_on_their_own_server() {
    let f = fixture().await;
    let rt = f.rt().await;
    let req = f.engine.authorize_request(&rt, &authorize_params(&[])).await.unwrap();
    let sealed = f.engine.seal_interaction(&rt, &req).unwrap();
    assert_eq!(f.engine.open_interaction(&rt, &sealed).as_ref(), Some(&req));
    f.clock.advance(900);
    assert!(
        f.engine.open_interaction(&rt, &sealed).is_some(),
        "still valid at 15 minutes"
    );
    f.clock.advance(1);
    assert!(f.engine.open_interaction(&rt, &sealed).is_none(), "expired after");
    // One that claims to start in the future is not believed.
    let mut future = req.clone();
    future.started_at = f.now() + 31;
    let sealed = f.engine.seal_interaction(&rt, &future).unwrap();
    assert!(f.engine.open_interaction(&rt, &sealed).is_none());
    future.started_at = f.now() + 30;
    let sealed = f.engine.seal_interaction(&rt, &future).unwrap();
    assert!(f.engine.open_interaction(&rt, &sealed).is_some(), "30 s of clock skew");
    assert!(f.engine.open_interaction(&rt, "not-sealed").is_none());
}

#[tokio::test]
async fn max_age_zero_is_satisfied_only_by_the_sign_in_just_made() {
    use castellan_oauth::Step;
    let f = fixture().await;
    let rt = f.rt().await;
    alice_consented_to_web(&f).await;
    let req = f
        .engine
        .authorize_request(&rt, &authorize_params(&[("max_age", Some("0"))]))
        .await
        .unwrap();
    let s = session(f.now());
    let step = f
        .engine
        .authorize_step(&rt, &req, Some(&s), false, false)
        .await
        .unwrap();
    assert!(
        matches!(step, Step::Login(_)),
        "a sign-in this very second is still asked again"
    );
    let step = f.engine.authorize_step(&rt, &req, Some(&s), true, false).await.unwrap();
    assert!(matches!(step, Step::Respond(_)));
}

#[tokio::test]
async fn after_signing_in_the_consent_page_does_not_send_the_person_back() {
    use castellan_oauth::Step;
    for prompt in ["login", "select_account", "login consent"] {
        let f = fixture().await;
        let rt = f.rt().await;
        let s = session(f.now());
        let req = f
            .engine
            .authorize_request(
                &rt,
                &authorize_params(&[("prompt", Some(prompt)), ("max_age", Some("0"))]),
            )
            .await
            .unwrap();
        let Step::Consent(next) = f.engine.authorize_step(&rt, &req, Some(&s), true, false).await.unwrap() else {
            panic!("{prompt}: consent comes next")
        };
        let next = f.engine.open_interaction(&rt, &next).unwrap();
        assert!(
            !next.prompts("login") && !next.prompts("select_account"),
            "{prompt}: {:?}",
            next.prompt
        );
        assert_eq!(next.max_age, None);
        assert_eq!(next.prompts("consent"), prompt.contains("consent"), "{prompt}");
        // Consenting now answers the client, without another sign-in.
        let step = f.engine.decide_consent(&rt, &next, &s, true).await.unwrap();
        assert!(matches!(step, Step::Respond(_)), "{prompt}");
    }
}

#[tokio::test]
async fn consent_is_remembered_as_the_union_and_denial_goes_back_to_the_client() {
    use castellan_oauth::Step;
    let f = fixture().await;
    reconfigure_web(&f, &["authorization_code"], &["code"], &["read", "openid"]).await;
    let rt = f.rt().await;
    let s = session(f.now());
    let web = ClientId::parse("web").unwrap();
    let req = f
        .engine
        .authorize_request(&rt, &authorize_params(&[("scope", Some("read"))]))
        .await
        .unwrap();
    let Step::Respond(r) = f.engine.decide_consent(&rt, &req, &s, false).await.unwrap() else {
        panic!("denied: back to the client")
    };
    assert!(r.params.contains(&("error".into(), "access_denied".into())), "{r:?}");
    assert_eq!(
        f.store.get_consent(&tid(), &aid(), &web, "alice").await.unwrap(),
        None,
        "nothing remembered"
    );
    f.engine.decide_consent(&rt, &req, &s, true).await.unwrap();
    f.engine.decide_consent(&rt, &req, &s, true).await.unwrap();
    assert_eq!(
        f.store.get_consent(&tid(), &aid(), &web, "alice").await.unwrap(),
        Some(vec!["read".to_owned()])
    );
    let more = f
        .engine
        .authorize_request(&rt, &authorize_params(&[("scope", Some("openid read"))]))
        .await
        .unwrap();
    f.engine.decide_consent(&rt, &more, &s, true).await.unwrap();
    assert_eq!(
        f.store.get_consent(&tid(), &aid(), &web, "alice").await.unwrap(),
        Some(vec!["read".to_owned(), "openid".to_owned()])
    );
}
