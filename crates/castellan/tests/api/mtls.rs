//! Mutual TLS (RFC 8705) with certificates made here: `tls_client_auth` (a chain to the trusted
//! authority and the registered subject or name), `self_signed_tls_client_auth` (the key among
//! the client's keys), certificate-bound tokens at userinfo, introspection and the gateway
//! authorizer; the certificate from Castellan's own TLS listener, from a trusted proxy's header
//! (and not from any other peer's), and through a real nginx terminating TLS.

use castellan_jose::{b64url, sha256};
use reqwest::Method;
use serde_json::{Value, json};

use crate::flows::{Browser, CB, VERIFIER, challenge, jwt_claims};
use crate::helpers::*;
use crate::tokens::{assert_oauth_error, client, issuer};

/// A certificate and its key, as PEM.
pub(crate) struct Cert {
    pub(crate) pem: String,
    pub(crate) key_pem: String,
    pub(crate) der: Vec<u8>,
    key: rcgen::KeyPair,
}

impl Cert {
    /// `x5t#S256`.
    pub(crate) fn thumbprint(&self) -> String {
        b64url(&sha256(&self.der))
    }

    /// The certificate as RFC 9440's `Client-Cert` header carries it.
    pub(crate) fn header(&self) -> String {
        use base64::Engine as _;
        format!(":{}:", base64::engine::general_purpose::STANDARD.encode(&self.der))
    }

    /// Its public key as a JWK (EC P-256).
    pub(crate) fn jwk(&self) -> Value {
        let raw = self.key.public_key_raw();
        json!({"kty": "EC", "crv": "P-256", "x": b64url(&raw[1..33]), "y": b64url(&raw[33..65])})
    }

    /// A JWT signed (ES256) with the certificate's key.
    pub(crate) fn sign_jwt(&self, claims: &Value) -> String {
        let signer =
            castellan_jose::LoadedKey::from_pkcs8(castellan_domain::SigningAlg::ES256, &self.key.serialize_der())
                .unwrap();
        let header = b64url(br#"{"alg":"ES256","typ":"oauth-authz-req+jwt"}"#);
        castellan_jose::jwt::sign(&signer, &header, claims).unwrap()
    }

    /// For reqwest: certificate and key.
    pub(crate) fn identity(&self) -> reqwest::Identity {
        reqwest::Identity::from_pem(format!("{}{}", self.pem, self.key_pem).as_bytes()).unwrap()
    }
}

/// A certificate authority that issues client certificates.
pub(crate) struct Authority {
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
    pub(crate) pem: String,
}

impl Authority {
    pub(crate) fn new(name: &str) -> Self {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.distinguished_name.push(rcgen::DnType::CommonName, name);
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::DigitalSignature,
        ];
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        Self {
            pem: cert.pem(),
            issuer: rcgen::Issuer::new(params, key),
        }
    }

    /// A client certificate with subject `CN=cn,O=Example` and the DNS name `dns`.
    pub(crate) fn issue(&self, cn: &str, dns: &str) -> Cert {
        let mut params = rcgen::CertificateParams::new(vec![dns.to_owned()]).unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::OrganizationName, "Example");
        params.distinguished_name.push(rcgen::DnType::CommonName, cn);
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Cert {
            pem: cert.pem(),
            key_pem: key.serialize_pem(),
            der: cert.der().to_vec(),
            key,
        }
    }
}

/// A self-signed certificate with the DNS name `dns`.
pub(crate) fn self_signed(dns: &str) -> Cert {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec![dns.to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    Cert {
        pem: cert.pem(),
        key_pem: key.serialize_pem(),
        der: cert.der().to_vec(),
        key,
    }
}

/// An app that believes `Client-Cert` from loopback (where the tests' requests come from) and
/// trusts `ca` for `tls_client_auth`.
pub(crate) async fn behind_proxy(ca: &Authority) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path()).await;
    let ca_file = dir.path().join("client-ca.pem");
    std::fs::write(&ca_file, &ca.pem).unwrap();
    cfg.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    cfg.client_certs.header = Some("Client-Cert".into());
    cfg.client_certs.ca = Some(ca_file);
    spawn_with(dir, cfg).await
}

/// A token-endpoint form with `cert` in the proxy's header.
pub(crate) async fn token_with(app: &TestApp, cert: Option<&Cert>, params: &[(&str, &str)]) -> Resp {
    let mut req = app
        .http
        .post(format!("{}/oauth2/token", issuer(app, "default")))
        .header("content-type", "application/x-www-form-urlencoded");
    if let Some(c) = cert {
        req = req.header("Client-Cert", c.header());
    }
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    app.raw(req.body(body)).await
}

const CC: [(&str, &str); 2] = [("grant_type", "client_credentials"), ("client_id", "shop")];

#[tokio::test]
async fn tls_client_auth_needs_a_certificate_of_the_authority_with_the_registered_name() {
    let ca = Authority::new("Example Client CA");
    let app = behind_proxy(&ca).await;
    let meta = app
        .raw(
            app.http
                .get(format!("{}/.well-known/openid-configuration", issuer(&app, "default"))),
        )
        .await;
    let methods = meta.body["token_endpoint_auth_methods_supported"].clone();
    assert!(
        methods.as_array().unwrap().contains(&json!("tls_client_auth"))
            && methods
                .as_array()
                .unwrap()
                .contains(&json!("self_signed_tls_client_auth")),
        "{methods}"
    );
    assert_eq!(meta.body["tls_client_certificate_bound_access_tokens"], true);

    let c = client(
        &app,
        json!({"client_id": "shop", "token_endpoint_auth_method": "tls_client_auth",
            "tls_client_auth_san_dns": "shop.example.com", "grant_types": ["client_credentials"],
            "tls_client_certificate_bound_access_tokens": true}),
    )
    .await;
    assert_eq!(c["tls_client_certificate_bound_access_tokens"], true);
    let good = ca.issue("shop", "shop.example.com");
    let r = token_with(&app, Some(&good), &CC).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["token_type"], "Bearer");
    let at = r.body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(jwt_claims(&at)["cnf"], json!({"x5t#S256": good.thumbprint()}));

    // Introspection (the client itself, by its certificate) answers the binding.
    let mut req = app
        .http
        .post(format!("{}/oauth2/introspect", issuer(&app, "default")))
        .header("Client-Cert", good.header())
        .header("content-type", "application/x-www-form-urlencoded");
    req = req.body(format!("client_id=shop&token={at}"));
    let i = app.raw(req).await;
    assert_eq!(i.body["active"], true, "{}", i.body);
    assert_eq!(i.body["cnf"]["x5t#S256"], good.thumbprint());

    // Refused: no certificate, another authority's certificate with the same name, the
    // authority's certificate for another name, a self-signed one, a secret instead.
    let other_ca = Authority::new("Other CA");
    for (what, cert) in [
        ("no certificate", None),
        ("another authority", Some(other_ca.issue("shop", "shop.example.com"))),
        ("another name", Some(ca.issue("shop", "evil.example.com"))),
        ("self-signed", Some(self_signed("shop.example.com"))),
    ] {
        let r = token_with(&app, cert.as_ref(), &CC).await;
        assert_oauth_error(&r, 401, "invalid_client");
        assert!(
            r.body["error_description"].as_str().unwrap().contains("certificate"),
            "{what}: {}",
            r.body
        );
    }
    let r = token_with(
        &app,
        Some(&good),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "shop"),
            ("client_secret", "guess-0123456789abcdef"),
        ],
    )
    .await;
    assert_oauth_error(&r, 401, "invalid_client");

    // The subject DN instead of a name: exact, in RFC 4514 order.
    client(
        &app,
        json!({"client_id": "ledger", "token_endpoint_auth_method": "tls_client_auth",
            "tls_client_auth_subject_dn": "CN=ledger,O=Example", "grant_types": ["client_credentials"]}),
    )
    .await;
    let ledger = [("grant_type", "client_credentials"), ("client_id", "ledger")];
    let r = token_with(&app, Some(&ca.issue("ledger", "any.example")), &ledger).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        jwt_claims(r.body["access_token"].as_str().unwrap())
            .get("cnf")
            .is_none()
    );
    let r = token_with(&app, Some(&ca.issue("ledger2", "any.example")), &ledger).await;
    assert_oauth_error(&r, 401, "invalid_client");
}

#[tokio::test]
async fn self_signed_certificates_authenticate_by_their_key_and_bound_tokens_need_them() {
    let ca = Authority::new("Example Client CA");
    let app = behind_proxy(&ca).await;
    let secret = crate::flows::setup(&app).await;
    let mine = self_signed("device.example");
    client(
        &app,
        json!({"client_id": "shop", "token_endpoint_auth_method": "self_signed_tls_client_auth",
            "jwks": {"keys": [mine.jwk()]}, "redirect_uris": [CB],
            "grant_types": ["authorization_code", "refresh_token", "client_credentials"],
            "scopes": ["openid", "offline_access"],
            "tls_client_certificate_bound_access_tokens": true}),
    )
    .await;
    let r = token_with(&app, Some(&mine), &CC).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Another self-signed certificate, even with the same name: its key is not registered.
    let r = token_with(&app, Some(&self_signed("device.example")), &CC).await;
    assert_oauth_error(&r, 401, "invalid_client");

    // A person's token through the code flow, bound to the certificate.
    let b = Browser::new();
    let code = crate::flows::code_for(
        &app,
        &b,
        &[
            ("client_id", "shop"),
            ("scope", "openid offline_access"),
            ("code_challenge", &challenge(VERIFIER)),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    let r = token_with(
        &app,
        Some(&mine),
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "shop"),
            ("code", &code),
            ("redirect_uri", CB),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let at = r.body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(jwt_claims(&at)["cnf"]["x5t#S256"], mine.thumbprint());
    let refresh = r.body["refresh_token"].as_str().unwrap().to_owned();

    // Userinfo: only with the certificate.
    let userinfo = |cert: Option<&Cert>| {
        let mut req = app
            .http
            .get(format!("{}/userinfo", issuer(&app, "default")))
            .bearer_auth(&at);
        if let Some(c) = cert {
            req = req.header("Client-Cert", c.header());
        }
        app.raw(req)
    };
    let r = userinfo(Some(&mine)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["sub"], "alice");
    for (what, cert) in [("none", None), ("another", Some(self_signed("device.example")))] {
        let r = userinfo(cert.as_ref()).await;
        assert_eq!(r.status, 401, "{what}: {}", r.body);
        assert!(
            r.headers["www-authenticate"]
                .to_str()
                .unwrap()
                .contains("invalid_token"),
            "{what}"
        );
    }
    // Introspection by another client of the server answers the binding.
    let i = crate::flows::introspect(&app, &secret, &at).await;
    assert_eq!(i["cnf"]["x5t#S256"], mine.thumbprint());

    // Refresh needs the client's certificate (it authenticates with it), and stays bound.
    let params = [
        ("grant_type", "refresh_token"),
        ("client_id", "shop"),
        ("refresh_token", refresh.as_str()),
    ];
    assert_oauth_error(&token_with(&app, None, &params).await, 401, "invalid_client");
    let r = token_with(&app, Some(&mine), &params).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        jwt_claims(r.body["access_token"].as_str().unwrap())["cnf"]["x5t#S256"],
        mine.thumbprint()
    );

    // A client with bound tokens that presents no certificate gets none.
    client(
        &app,
        json!({"client_id": "svc", "client_secret": "svc-secret-0123456789abcdef",
            "grant_types": ["client_credentials"], "tls_client_certificate_bound_access_tokens": true}),
    )
    .await;
    let r = crate::tokens::form(
        &app,
        &format!("{}/oauth2/token", issuer(&app, "default")),
        Some(("svc", "svc-secret-0123456789abcdef")),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_oauth_error(&r, 400, "invalid_request");
}

#[tokio::test]
async fn a_public_clients_refresh_token_is_bound_to_its_certificate() {
    let ca = Authority::new("Example Client CA");
    let app = behind_proxy(&ca).await;
    crate::flows::setup(&app).await;
    client(
        &app,
        json!({"client_id": "spa", "token_endpoint_auth_method": "none", "redirect_uris": [CB],
            "grant_types": ["authorization_code", "refresh_token"], "scopes": ["openid", "offline_access"],
            "tls_client_certificate_bound_access_tokens": true}),
    )
    .await;
    let mine = self_signed("spa.example");
    let b = Browser::new();
    let code = crate::flows::code_for(
        &app,
        &b,
        &[
            ("client_id", "spa"),
            ("scope", "openid offline_access"),
            ("code_challenge", &challenge(VERIFIER)),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    let r = token_with(
        &app,
        Some(&mine),
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "spa"),
            ("code", &code),
            ("redirect_uri", CB),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let refresh = r.body["refresh_token"].as_str().unwrap().to_owned();
    let params = [
        ("grant_type", "refresh_token"),
        ("client_id", "spa"),
        ("refresh_token", refresh.as_str()),
    ];
    assert_oauth_error(&token_with(&app, None, &params).await, 400, "invalid_request");
    let r = token_with(&app, Some(&self_signed("spa.example")), &params).await;
    assert_oauth_error(&r, 400, "invalid_grant");
    let r = token_with(&app, Some(&mine), &params).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test]
async fn a_certificate_header_is_believed_only_from_a_trusted_proxy() {
    let ca = Authority::new("Example Client CA");
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path()).await;
    let ca_file = dir.path().join("client-ca.pem");
    std::fs::write(&ca_file, &ca.pem).unwrap();
    // The proxy is elsewhere; the tests' requests come from loopback.
    cfg.trusted_proxies = vec!["10.9.9.9/32".parse().unwrap()];
    cfg.client_certs.header = Some("Client-Cert".into());
    cfg.client_certs.ca = Some(ca_file);
    let app = spawn_with(dir, cfg).await;
    client(
        &app,
        json!({"client_id": "shop", "token_endpoint_auth_method": "tls_client_auth",
            "tls_client_auth_san_dns": "shop.example.com", "grant_types": ["client_credentials"]}),
    )
    .await;
    let r = token_with(&app, Some(&ca.issue("shop", "shop.example.com")), &CC).await;
    assert_oauth_error(&r, 401, "invalid_client");
    assert!(
        r.body["error_description"]
            .as_str()
            .unwrap()
            .contains("none was presented"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn the_admin_api_checks_mutual_tls_settings() {
    let app = spawn_app().await;
    let base = json!({"client_id": "x", "grant_types": ["client_credentials"],
        "authorization_server_id": "default"});
    let with = |extra: Value| {
        let mut b = base.clone();
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    for (body, field) in [
        (
            with(json!({"token_endpoint_auth_method": "tls_client_auth"})),
            "tls_client_auth_subject_dn",
        ),
        (
            with(json!({"token_endpoint_auth_method": "tls_client_auth",
                "tls_client_auth_san_dns": "a.example", "tls_client_auth_san_uri": "https://a.example"})),
            "tls_client_auth_subject_dn",
        ),
        (
            with(json!({"token_endpoint_auth_method": "tls_client_auth", "tls_client_auth_subject_dn": "CN=a,"})),
            "tls_client_auth_subject_dn",
        ),
        (
            with(json!({"token_endpoint_auth_method": "tls_client_auth", "tls_client_auth_san_ip": "10.0.0.300"})),
            "tls_client_auth_san_ip",
        ),
        (
            with(json!({"token_endpoint_auth_method": "self_signed_tls_client_auth"})),
            "jwks",
        ),
    ] {
        let r = app.admin(Method::POST, "/clients", Some(body.clone())).await;
        let e = assert_api_error(&r, 422);
        assert!(e.to_string().contains(field), "{body}: {e}");
    }
    let r = app.admin(Method::GET, "/clients/x", None).await;
    assert_eq!(r.status, 404, "nothing was saved");
    // A valid one is saved and read back as written.
    let r = app
        .admin(
            Method::POST,
            "/clients",
            Some(with(json!({"token_endpoint_auth_method": "tls_client_auth",
                "tls_client_auth_san_ip": "10.0.0.7", "tls_client_certificate_bound_access_tokens": true}))),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["tls_client_auth_san_ip"], "10.0.0.7");
    assert_eq!(r.body["tls_client_certificate_bound_access_tokens"], true);
}

/// Castellan's own TLS listener asks for a certificate: the client's key is proved by the
/// handshake, so a certificate-bound token works only over a connection with that certificate.
#[tokio::test]
async fn the_tls_listener_receives_client_certificates() {
    let ca = Authority::new("Example Client CA");
    let dir = tempfile::tempdir().unwrap();
    let server_key = rcgen::KeyPair::generate().unwrap();
    let server_cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .self_signed(&server_key)
        .unwrap();
    let files = castellan::config::TlsFiles {
        cert: dir.path().join("server.pem"),
        key: dir.path().join("server-key.pem"),
    };
    std::fs::write(&files.cert, server_cert.pem()).unwrap();
    std::fs::write(&files.key, server_key.serialize_pem()).unwrap();
    let ca_file = dir.path().join("client-ca.pem");
    std::fs::write(&ca_file, &ca.pem).unwrap();
    let mut cfg = config(dir.path()).await;
    cfg.tls = Some(files);
    cfg.client_certs.ask = true;
    cfg.client_certs.ca = Some(ca_file);
    let running = castellan::start(cfg).await.unwrap();
    let base = format!("https://{}", running.addr);
    let root = reqwest::Certificate::from_pem(server_cert.pem().as_bytes()).unwrap();
    let https = |cert: Option<&Cert>| {
        let mut b = reqwest::Client::builder().add_root_certificate(root.clone());
        if let Some(c) = cert {
            b = b.identity(c.identity());
        }
        b.build().unwrap()
    };
    let admin = https(None);
    let tok = admin
        .post(format!("{base}/default/admin/oauth2/token"))
        .basic_auth("bootstrap", Some(BOOTSTRAP_SECRET))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let admin_token = tok["access_token"].as_str().unwrap().to_owned();
    let mine = self_signed("device.example");
    for body in [
        json!({"client_id": "shop", "token_endpoint_auth_method": "tls_client_auth",
            "tls_client_auth_subject_dn": "CN=shop,O=Example", "grant_types": ["client_credentials"],
            "tls_client_certificate_bound_access_tokens": true, "authorization_server_id": "default"}),
        json!({"client_id": "device", "token_endpoint_auth_method": "self_signed_tls_client_auth",
            "jwks": {"keys": [mine.jwk()]}, "grant_types": ["client_credentials"],
            "authorization_server_id": "default"}),
    ] {
        let r = admin
            .post(format!("{base}/api/admin/default/clients"))
            .bearer_auth(&admin_token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    }
    let token = |http: reqwest::Client, id: &'static str| {
        let url = format!("{base}/default/default/oauth2/token");
        async move {
            let r = http
                .post(url)
                .form(&[("grant_type", "client_credentials"), ("client_id", id)])
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let good = ca.issue("shop", "shop.example.com");
    let (status, body) = token(https(Some(&good)), "shop").await;
    assert_eq!(status, 200, "{body}");
    let at = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(jwt_claims(&at)["cnf"]["x5t#S256"], good.thumbprint());
    let (status, _) = token(https(None), "shop").await;
    assert_eq!(status, 401, "no certificate");
    let (status, _) = token(https(Some(&ca.issue("other", "shop.example.com"))), "shop").await;
    assert_eq!(status, 401, "another subject");
    let (status, body) = token(https(Some(&mine)), "device").await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = token(https(Some(&self_signed("device.example"))), "device").await;
    assert_eq!(status, 401, "another key");
    // A header on a connection from an untrusted peer is not a certificate.
    let r = https(None)
        .post(format!("{base}/default/default/oauth2/token"))
        .header("Client-Cert", mine.header())
        .form(&[("grant_type", "client_credentials"), ("client_id", "device")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // A person's certificate-bound token at userinfo, over TLS: only with that certificate.
    let admin_call = |method: reqwest::Method, path: &str, body: Value| {
        admin
            .request(method, format!("{base}/api/admin/default{path}"))
            .bearer_auth(&admin_token)
            .json(&body)
            .send()
    };
    let r = admin_call(reqwest::Method::GET, "/servers/default", json!({}))
        .await
        .unwrap();
    let mut grants = r.json::<Value>().await.unwrap()["grant_types"]
        .as_array()
        .unwrap()
        .clone();
    grants.push(json!("password"));
    let r = admin_call(reqwest::Method::PUT, "/servers/default", json!({"grant_types": grants}))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = admin_call(
        reqwest::Method::PUT,
        "/servers/default/authentications",
        json!({"methods": [{"id": "people", "method": "static", "static": {"users": [
            {"username": "kim", "password": "kim-password-1", "authentication_context": {"email": "kim@example.com"}}]}}]}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let kiosk = self_signed("kiosk.example");
    let r = admin_call(
        reqwest::Method::POST,
        "/clients",
        json!({"client_id": "kiosk", "token_endpoint_auth_method": "self_signed_tls_client_auth",
            "jwks": {"keys": [kiosk.jwk()]}, "grant_types": ["password"], "scopes": ["openid", "email"],
            "tls_client_certificate_bound_access_tokens": true, "authorization_server_id": "default"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
    let tok: Value = https(Some(&kiosk))
        .post(format!("{base}/default/default/oauth2/token"))
        .form(&[
            ("grant_type", "password"),
            ("client_id", "kiosk"),
            ("username", "kim"),
            ("password", "kim-password-1"),
            ("scope", "openid email"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let person = tok["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("{tok}"))
        .to_owned();
    assert_eq!(jwt_claims(&person)["cnf"]["x5t#S256"], kiosk.thumbprint());
    let userinfo = |cert: Option<&Cert>| {
        let req = https(cert)
            .get(format!("{base}/default/default/userinfo"))
            .bearer_auth(&person);
        async move { req.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(userinfo(Some(&kiosk)).await, 200);
    assert_eq!(userinfo(None).await, 401, "without the certificate");
    assert_eq!(
        userinfo(Some(&self_signed("kiosk.example"))).await,
        401,
        "with another certificate"
    );
    running.stop().await.unwrap();
}

/// nginx terminates TLS, asks for a client certificate and forwards it in `Client-Cert`
/// (`$ssl_client_escaped_cert`); Castellan believes the header because nginx is a trusted proxy.
#[tokio::test]
async fn nginx_terminating_tls_forwards_the_client_certificate() {
    let Some(nginx) = crate::gateways::program("/usr/sbin/nginx", "nginx") else {
        return;
    };
    let ca = Authority::new("Example Client CA");
    let app = behind_proxy(&ca).await;
    client(
        &app,
        json!({"client_id": "shop", "token_endpoint_auth_method": "tls_client_auth",
            "tls_client_auth_san_dns": "shop.example.com", "grant_types": ["client_credentials"],
            "tls_client_certificate_bound_access_tokens": true}),
    )
    .await;
    let work = tempfile::tempdir().unwrap();
    let server_key = rcgen::KeyPair::generate().unwrap();
    let server_cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .self_signed(&server_key)
        .unwrap();
    std::fs::write(work.path().join("server.pem"), server_cert.pem()).unwrap();
    std::fs::write(work.path().join("server-key.pem"), server_key.serialize_pem()).unwrap();
    let port = crate::gateways::free_port();
    let upstream = app.base.trim_start_matches("http://").to_owned();
    let conf = format!(
        r#"daemon off;
worker_processes 1;
pid nginx.pid;
error_log stderr warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path tmp;
    proxy_temp_path tmp;
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate server.pem;
        ssl_certificate_key server-key.pem;
        ssl_verify_client optional_no_ca;
        location / {{
            proxy_pass http://{upstream};
            proxy_set_header Host {upstream};
            proxy_set_header Client-Cert $ssl_client_escaped_cert;
        }}
    }}
}}
"#
    );
    std::fs::create_dir_all(work.path().join("tmp")).unwrap();
    std::fs::write(work.path().join("nginx.conf"), conf).unwrap();
    let mut child = tokio::process::Command::new(nginx)
        .arg("-p")
        .arg(work.path())
        .arg("-c")
        .arg("nginx.conf")
        .arg("-e")
        .arg("stderr")
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    crate::gateways::wait_for(port, &mut child).await;
    let root = reqwest::Certificate::from_pem(server_cert.pem().as_bytes()).unwrap();
    let via_nginx = |cert: Option<&Cert>, forged: Option<&Cert>| {
        let mut b = reqwest::Client::builder().add_root_certificate(root.clone());
        if let Some(c) = cert {
            b = b.identity(c.identity());
        }
        let mut req = b
            .build()
            .unwrap()
            .post(format!("https://127.0.0.1:{port}/default/default/oauth2/token"))
            .form(&[("grant_type", "client_credentials"), ("client_id", "shop")]);
        if let Some(f) = forged {
            req = req.header("Client-Cert", f.header());
        }
        async move {
            let r = req.send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let good = ca.issue("shop", "shop.example.com");
    let (status, body) = via_nginx(Some(&good), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        jwt_claims(body["access_token"].as_str().unwrap())["cnf"]["x5t#S256"],
        good.thumbprint()
    );
    let (status, body) = via_nginx(None, None).await;
    assert_eq!(status, 401, "no certificate: {body}");
    // A caller's own Client-Cert header is replaced by nginx (here: by nothing).
    let (status, body) = via_nginx(None, Some(&good)).await;
    assert_eq!(status, 401, "a forged header: {body}");
    let (status, _) = via_nginx(Some(&ca.issue("shop", "evil.example.com")), None).await;
    assert_eq!(status, 401, "another name");
    if let Some(pid) = child.id() {
        let _ = std::process::Command::new("kill").arg(pid.to_string()).status();
    }
    let _ = child.wait().await;
}

/// With `--mtls-url` (a host whose proxy asks for client certificates), discovery lists the
/// endpoints there (RFC 8705 §5), and a DPoP proof may name the alias it was sent to.
#[tokio::test]
async fn an_mtls_host_is_listed_as_endpoint_aliases() {
    let ca = Authority::new("Example Client CA");
    let plain = behind_proxy(&ca).await;
    async fn meta(app: &TestApp) -> Value {
        let url = format!("{}/.well-known/openid-configuration", issuer(app, "default"));
        app.raw(app.http.get(url)).await.body
    }
    assert!(meta(&plain).await.get("mtls_endpoint_aliases").is_none());

    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path()).await;
    cfg.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    cfg.client_certs.header = Some("Client-Cert".into());
    cfg.client_certs.alias = Some("https://mtls.auth.example".into());
    let app = spawn_with(dir, cfg).await;
    let m = meta(&app).await;
    let aliases = &m["mtls_endpoint_aliases"];
    assert_eq!(
        aliases["token_endpoint"],
        "https://mtls.auth.example/default/default/oauth2/token"
    );
    assert_eq!(
        aliases["userinfo_endpoint"],
        "https://mtls.auth.example/default/default/userinfo"
    );
    assert_eq!(
        aliases["pushed_authorization_request_endpoint"],
        "https://mtls.auth.example/default/default/oauth2/par"
    );
    assert_eq!(
        m["token_endpoint"],
        format!("{}/oauth2/token", issuer(&app, "default")),
        "the public ones stay"
    );

    let mine = self_signed("device.example");
    client(
        &app,
        json!({"client_id": "shop", "token_endpoint_auth_method": "self_signed_tls_client_auth",
            "jwks": {"keys": [mine.jwk()]}, "grant_types": ["client_credentials"]}),
    )
    .await;
    let key = crate::dpop::Key::new();
    let with_proof = |htu: &str| {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(CC)
            .finish();
        app.raw(
            app.http
                .post(format!("{}/oauth2/token", issuer(&app, "default")))
                .header("content-type", "application/x-www-form-urlencoded")
                .header("Client-Cert", mine.header())
                .header("DPoP", key.proof("POST", htu))
                .body(body),
        )
    };
    let r = with_proof(aliases["token_endpoint"].as_str().unwrap()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["token_type"], "DPoP");
    let r = with_proof("https://elsewhere.example/default/default/oauth2/token").await;
    assert_oauth_error(&r, 400, "invalid_dpop_proof");
}
