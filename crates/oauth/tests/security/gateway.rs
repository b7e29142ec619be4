//! The gateway authorizer.

use super::*;

// The gateway authorizer (`Engine::authorize_at_gateway`): the gateway's own credentials, the
// route, the caller's token, then the API's policy with only the request headers it reads.

pub(crate) const GW_SECRET: &str = "gateway-secret-0123456789";

/// The fixture plus gateway `gw` (client `gw-gw`, secret [`GW_SECRET`]) of server `s` with two
/// connected services, `a-pets` then `b-orders`; policies `readers` (scope `read`), `ops` (scope
/// `read` and `X-Team: ops`) and `agreed` (privacy consent `terms`, which `cc` has granted);
/// `client_credentials` clients `cc` (scope `read`), `cw` (scope `write`) and `cbig` (scope
/// `read`, a long audience list).
pub(crate) async fn gateway_fixture() -> Fixture {
    use castellan_store::conformance as c;
    let f = fixture().await;
    let st = f.store.as_ref();
    let header = json!({"name": "header", "recovery": [{"id": "join-ops", "type": "team"}],
                        "conf": {"fields": [{"field": "x-team", "comparator": "equals", "value": "ops"}]}});
    let read = json!({"name": "scopes", "conf": {"scopes": ["read"]}});
    for (id, validators) in [
        ("readers", json!([read])),
        ("ops", json!([read, header])),
        ("agreed", json!([{"name": "consent", "conf": {"consents": ["terms"]}}])),
    ] {
        st.create_policy(&c::policy("t", id, validators)).await.unwrap();
    }
    let gw_client = new_client(&f.master, "gw-gw", "client_secret_basic", GW_SECRET, &[], &[]).await;
    st.create_gateway(&c::gateway("t", "s", "gw"), &gw_client)
        .await
        .unwrap();
    for sid in ["a-pets", "b-orders"] {
        st.create_service(&Service {
            gateway_id: Some("gw".into()),
            ..c::service("t", "s", sid)
        })
        .await
        .unwrap();
    }
    let apis = [
        ("a-pets", "pets-get", "GET", "/pets/{id}", Some("readers")),
        ("a-pets", "stats", "GET", "/admin/stats", Some("ops")),
        ("a-pets", "consented", "GET", "/consented", Some("agreed")),
        ("a-pets", "shared-a", "GET", "/shared", None),
        ("b-orders", "orders-post", "POST", "/orders", None),
        ("b-orders", "shared-b", "GET", "/shared", None),
    ];
    for (i, (sid, id, method, path, policy)) in apis.into_iter().enumerate() {
        st.create_api(&Api {
            policy_id: policy.map(Into::into),
            ..c::api("t", sid, "s", id, method, path, i as i64)
        })
        .await
        .unwrap();
    }
    for (id, scope) in [("cc", "read"), ("cw", "write"), ("cbig", "read")] {
        let mut cl = new_client(
            &f.master,
            id,
            "client_secret_basic",
            WEB_SECRET,
            &["client_credentials"],
            &[scope],
        )
        .await;
        if id == "cbig" {
            // Tokens of several KiB (long audience lists) are ordinary and must be accepted.
            cl.settings.audience = (0..40)
                .map(|i| format!("https://api-{i}.example.com/a/long/path"))
                .collect();
        }
        st.create_client(&cl).await.unwrap();
    }
    let consent = castellan_store::PrivacyWrite {
        consent: Some(c::privacy_consent("t", "terms", 1)),
        grants: vec![c::grant("t", "cc", "terms", 1, true)],
        ..Default::default()
    };
    st.privacy_write(&tid(), &consent, &c::PlainSigner).await.unwrap();
    f
}

/// A client-credentials access token of `client` for `scope`.
pub(crate) async fn access_token(f: &Fixture, client: &str, scope: &str) -> String {
    let t = token(f, client, &[("grant_type", "client_credentials"), ("scope", scope)])
        .await
        .unwrap();
    t["access_token"].as_str().unwrap().to_owned()
}

/// One request a gateway forwards; by default gateway `gw` of tenant `t` with its credentials.
#[derive(Clone)]
pub(crate) struct Ask {
    tenant: &'static str,
    gateway: &'static str,
    credentials: Option<(&'static str, &'static str)>,
    method: &'static str,
    uri: String,
    bearer: Option<String>,
    headers: Vec<(&'static str, &'static str)>,
    service: Option<&'static str>,
    /// Where `method` and `uri` go: `X-Original-*` (nginx) unless this says `X-Forwarded-*`.
    forwarded: bool,
    /// What the caller forged in the other pair of headers.
    forged: Option<(&'static str, &'static str)>,
}

impl Ask {
    fn new(method: &'static str, uri: &str, bearer: &str) -> Self {
        Ask {
            tenant: "t",
            gateway: "gw",
            credentials: Some(("gw-gw", GW_SECRET)),
            method,
            uri: uri.into(),
            bearer: Some(bearer.into()),
            headers: Vec::new(),
            service: None,
            forwarded: false,
            forged: None,
        }
    }
}

/// The decision, and the names of the request headers the authorizer copied (`None`: it did not
/// ask for the headers at all).
pub(crate) async fn decide(f: &Fixture, a: &Ask) -> (GatewayDecision, Option<Vec<String>>) {
    let copied = std::sync::Mutex::new(None::<Vec<String>>);
    let headers = |keep: HeaderFilter<'_>| {
        let kept: std::collections::HashMap<String, String> = a
            .headers
            .iter()
            .filter(|(name, _)| keep(name))
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        let mut names: Vec<String> = kept.keys().cloned().collect();
        names.sort();
        *copied.lock().unwrap() = Some(names);
        kept
    };
    let stated = (Some(a.method), Some(a.uri.as_str()));
    let forged = a.forged.map(|(m, u)| (Some(m), Some(u))).unwrap_or_default();
    let (original, forwarded) = if a.forwarded {
        (forged, stated)
    } else {
        (stated, forged)
    };
    let req = GatewayRequest {
        credentials: a.credentials.map(|(id, s)| (id.to_owned(), s.to_owned())),
        origin: Origin {
            original,
            forwarded,
            urls: (None, None),
        },
        bearer: a.bearer.as_deref(),
        dpop_scheme: false,
        dpop: None,
        certificate: None,
        headers: &headers,
        service: a.service,
    };
    let d = f.engine.authorize_at_gateway(a.tenant, a.gateway, req).await.unwrap();
    (d, copied.into_inner().unwrap())
}

pub(crate) fn allowed(subject: &str, api: &str) -> GatewayDecision {
    GatewayDecision::Allow {
        subject: subject.into(),
        client_id: subject.into(),
        api_id: api.into(),
    }
}

/// The reason of a 403 (panics on any other decision).
pub(crate) fn forbidden(d: GatewayDecision) -> String {
    match d {
        GatewayDecision::Forbidden { reason, .. } => reason,
        other => panic!("expected a 403, got {other:?}"),
    }
}

#[tokio::test]
async fn the_authorizer_answers_only_its_gateway_with_its_own_credentials() {
    let f = gateway_fixture().await;
    let read = access_token(&f, "cc", "read").await;
    let ok = Ask::new("GET", "/pets/1", &read);
    assert_eq!(decide(&f, &ok).await.0, allowed("cc", "pets-get"));
    let cases = [
        Ask {
            credentials: None,
            ..ok.clone()
        },
        Ask {
            credentials: Some(("gw-gw", "not-the-secret-0123456789")),
            ..ok.clone()
        },
        // A real client with its right secret, but not this gateway's.
        Ask {
            credentials: Some(("cc", WEB_SECRET)),
            ..ok.clone()
        },
        Ask {
            tenant: "T!",
            ..ok.clone()
        },
        Ask {
            tenant: "nope",
            ..ok.clone()
        },
        Ask {
            gateway: "other",
            ..ok.clone()
        },
    ];
    for (i, a) in cases.iter().enumerate() {
        assert_eq!(decide(&f, a).await.0, GatewayDecision::BadGateway, "case {i}");
    }
}

/// Each gateway type states the original request in its own pair of headers and passes the
/// caller's other headers on: the authorizer reads only the pair of the gateway's type, so a
/// caller's forged `X-Original-*` through Caddy (or `X-Forwarded-*` through nginx) decides nothing.
#[tokio::test]
async fn the_authorizer_reads_only_the_headers_its_gateway_type_sets() {
    use castellan_store::conformance as c;
    let f = gateway_fixture().await;
    let st = f.store.as_ref();
    let cg_client = new_client(&f.master, "gw-cg", "client_secret_basic", GW_SECRET, &[], &[]).await;
    st.create_gateway(
        &castellan_domain::Gateway {
            kind: "caddy".into(),
            ..c::gateway("t", "s", "cg")
        },
        &cg_client,
    )
    .await
    .unwrap();
    st.create_service(&Service {
        gateway_id: Some("cg".into()),
        ..c::service("t", "s", "c-items")
    })
    .await
    .unwrap();
    for (i, (id, method, policy)) in [("items-get", "GET", "readers"), ("items-delete", "DELETE", "ops")]
        .into_iter()
        .enumerate()
    {
        st.create_api(&Api {
            policy_id: Some(policy.into()),
            ..c::api("t", "c-items", "s", id, method, "/items/{id}", i as i64)
        })
        .await
        .unwrap();
    }
    f.engine.changed(&castellan_store::ConfigChange::Services(tid())).await;
    let read = access_token(&f, "cc", "read").await;

    // nginx: X-Original-*; a forged X-Forwarded-* pair is not read.
    let nginx = Ask {
        forged: Some(("POST", "/orders")),
        ..Ask::new("GET", "/pets/1", &read)
    };
    assert_eq!(decide(&f, &nginx).await.0, allowed("cc", "pets-get"));
    let only_forged = Ask {
        forged: Some(("GET", "/pets/1")),
        ..Ask::new("", "", &read)
    };
    assert!(forbidden(decide(&f, &only_forged).await.0).contains("is not an API"));

    // Caddy: X-Forwarded-*; a forged X-Original-* pair is not read. The read token may GET an
    // item and may not DELETE one, whatever the caller claims in the other pair.
    let caddy = |method, forged| Ask {
        gateway: "cg",
        credentials: Some(("gw-cg", GW_SECRET)),
        forwarded: true,
        forged,
        ..Ask::new(method, "/items/1", &read)
    };
    assert_eq!(
        decide(&f, &caddy("GET", Some(("DELETE", "/items/1")))).await.0,
        allowed("cc", "items-get")
    );
    let d = decide(&f, &caddy("DELETE", Some(("GET", "/items/1")))).await.0;
    assert!(matches!(d, GatewayDecision::Forbidden { .. }), "{d:?}");
    let missing = Ask {
        gateway: "cg",
        credentials: Some(("gw-cg", GW_SECRET)),
        forwarded: true,
        forged: Some(("GET", "/items/1")),
        ..Ask::new("", "", &read)
    };
    assert!(forbidden(decide(&f, &missing).await.0).contains("is not an API"));
}

#[tokio::test]
async fn the_authorizer_finds_the_api_then_checks_the_token() {
    let f = gateway_fixture().await;
    let read = access_token(&f, "cc", "read").await;
    let ask = |m, uri: &str| Ask::new(m, uri, &read);
    // The query and fragment are not part of the path; services are tried in turn, the first
    // connected one that has the route wins.
    assert_eq!(
        decide(&f, &ask("GET", "/pets/42?x=/orders#y")).await.0,
        allowed("cc", "pets-get")
    );
    assert_eq!(
        decide(&f, &ask("POST", "/orders")).await.0,
        allowed("cc", "orders-post")
    );
    assert_eq!(decide(&f, &ask("GET", "/shared")).await.0, allowed("cc", "shared-a"));
    let only_orders = |m, uri: &str| Ask {
        service: Some("b-orders"),
        ..ask(m, uri)
    };
    assert_eq!(
        decide(&f, &only_orders("GET", "/shared")).await.0,
        allowed("cc", "shared-b")
    );
    assert!(forbidden(decide(&f, &only_orders("GET", "/pets/1")).await.0).contains("GET /pets/1 is not an API"));
    let elsewhere = Ask {
        service: Some("c-none"),
        ..ask("GET", "/pets/1")
    };
    assert!(forbidden(decide(&f, &elsewhere).await.0).contains("service c-none is not connected"));
    assert!(forbidden(decide(&f, &ask("PUT", "/pets/1")).await.0).contains("PUT /pets/1 is not an API"));
    assert!(forbidden(decide(&f, &ask("GET", "/nowhere")).await.0).contains("GET /nowhere is not an API"));

    // Then the token: present, not oversized, live and of this server.
    let bad = |bearer: Option<String>| Ask {
        bearer,
        ..ask("GET", "/pets/1")
    };
    let too_long = "x".repeat(castellan_oauth::gateway::MAX_BEARER + 1);
    for b in [None, Some(String::new()), Some("not.a.token".into()), Some(too_long)] {
        assert!(matches!(decide(&f, &bad(b)).await.0, GatewayDecision::InvalidToken(_)));
    }
    let big = access_token(&f, "cbig", "read").await;
    assert!(big.len() > 2048, "{}", big.len());
    assert_eq!(
        decide(&f, &Ask::new("GET", "/shared", &big)).await.0,
        allowed("cbig", "shared-a")
    );
    revoke(&f, "cc", &read).await.unwrap();
    assert!(matches!(
        decide(&f, &bad(Some(read.clone()))).await.0,
        GatewayDecision::InvalidToken(_)
    ));
}

#[tokio::test]
async fn the_authorizer_applies_the_apis_policy_reading_only_the_headers_it_names() {
    let f = gateway_fixture().await;
    let (read, write) = (
        access_token(&f, "cc", "read").await,
        access_token(&f, "cw", "write").await,
    );
    let stats = |bearer: &str, team: Option<&'static str>| Ask {
        headers: team
            .map(|t| ("x-team", t))
            .into_iter()
            .chain([("cookie", "session=secret")])
            .collect(),
        ..Ask::new("GET", "/admin/stats", bearer)
    };
    let (d, copied) = decide(&f, &stats(&read, Some("ops"))).await;
    assert_eq!(d, allowed("cc", "stats"));
    assert_eq!(
        copied,
        Some(vec!["x-team".to_owned()]),
        "only the header the policy reads"
    );
    for team in [None, Some("dev")] {
        match decide(&f, &stats(&read, team)).await.0 {
            GatewayDecision::Forbidden { reason, recovery } => {
                assert!(reason.contains("policy ops refused: header"), "{reason}");
                assert_eq!(
                    serde_json::to_value(&recovery).unwrap(),
                    json!([{"id": "join-ops", "type": "team"}])
                );
            }
            other => panic!("{other:?}"),
        }
    }
    let reason = forbidden(decide(&f, &stats(&write, Some("ops"))).await.0);
    assert!(reason.contains("policy ops refused: scopes"), "{reason}");

    // A policy that reads no header is not given any.
    let pets = |bearer: &str| Ask {
        headers: vec![("x-team", "ops")],
        ..Ask::new("GET", "/pets/1", bearer)
    };
    assert_eq!(decide(&f, &pets(&read)).await, (allowed("cc", "pets-get"), None));
    assert!(forbidden(decide(&f, &pets(&write)).await.0).contains("policy readers refused: scopes"));

    // A consent validator reads the subject's privacy grants: cc granted `terms`, cw did not.
    assert_eq!(
        decide(&f, &Ask::new("GET", "/consented", &read)).await.0,
        allowed("cc", "consented")
    );
    let reason = forbidden(decide(&f, &Ask::new("GET", "/consented", &write)).await.0);
    assert!(reason.contains("policy agreed refused: consent"), "{reason}");
}

#[tokio::test]
async fn the_gateway_records_its_last_activity_at_most_once_a_minute() {
    let f = gateway_fixture().await;
    let read = access_token(&f, "cc", "read").await;
    let ok = Ask::new("GET", "/pets/1", &read);
    let last_active = || async { f.store.get_gateway(&tid(), "gw").await.unwrap().unwrap().last_active };
    assert_eq!(last_active().await, None);
    // Refused credentials are not activity.
    let refused = Ask {
        credentials: Some(("gw-gw", "not-the-secret-0123456789")),
        ..ok.clone()
    };
    assert_eq!(decide(&f, &refused).await.0, GatewayDecision::BadGateway);
    assert_eq!(last_active().await, None);
    assert_eq!(decide(&f, &ok).await.0, allowed("cc", "pets-get"));
    assert_eq!(last_active().await, Some(NOW));
    f.clock.advance(castellan_oauth::gateway::TOUCH_EVERY - 1);
    decide(&f, &ok).await;
    assert_eq!(last_active().await, Some(NOW), "not again within a minute");
    f.clock.advance(1);
    decide(&f, &ok).await;
    assert_eq!(last_active().await, Some(NOW + castellan_oauth::gateway::TOUCH_EVERY));
}
