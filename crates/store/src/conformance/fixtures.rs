//! Objects the checks store, one builder each (public ones serve other crates' tests too).

use super::*;

pub(crate) fn tid(s: &str) -> TenantId {
    TenantId::parse(s).unwrap()
}
pub(crate) fn aid(s: &str) -> ServerId {
    ServerId::parse(s).unwrap()
}

pub fn tenant(id: &str) -> Tenant {
    Tenant {
        id: tid(id),
        name: format!("Tenant {id}"),
        authentication_context_settings: AuthenticationContextSettings::default(),
        jwks: Jwks::default(),
        created_at: 1_700_000_000,
    }
}

pub fn server(t: &str, id: &str) -> AuthorizationServer {
    AuthorizationServer {
        tenant_id: tid(t),
        id: aid(id),
        name: format!("Server {id}"),
        system: false,
        settings: ServerSettings::default(),
        authentications: Vec::new(),
        secrets_sealed: vec![1, 2, 3],
        created_at: 1_700_000_000,
        updated_at: 1_700_000_000,
    }
}

pub fn key(kid: &str) -> SigningKey {
    SigningKey {
        kid: kid.into(),
        alg: SigningAlg::ES256,
        status: KeyStatus::Current,
        public_jwk: Jwk {
            kty: "EC".into(),
            kid: Some(kid.into()),
            ..Jwk::default()
        },
        private_sealed: vec![9, 9, 9],
        created_at: 1_700_000_000,
        activates_at: None,
        retires_at: None,
        revoked_at: None,
    }
}

pub fn client(t: &str, a: &str, id: &str) -> Client {
    Client {
        tenant_id: tid(t),
        server_id: aid(a),
        id: ClientId::parse(id).unwrap(),
        name: id.into(),
        system: false,
        grant_types: vec!["client_credentials".into()],
        token_endpoint_auth_method: "client_secret_basic".into(),
        secret_hash: Some(vec![7; 32]),
        secret_sealed: Some(vec![8; 40]),
        settings: ClientSettings {
            audience: vec!["x".into()],
            scopes: vec!["read".into()],
            privacy: Some(serde_json::json!({"scopes": {"read": {"purpose": "testing"}}})),
            ..ClientSettings::default()
        },
        created_at: 1_700_000_000,
    }
}

pub(crate) fn seed(t: &str) -> BootstrapSeed {
    BootstrapSeed {
        tenant: tenant(t),
        servers: vec![
            (server(t, "admin"), vec![key("k-admin")]),
            (server(t, "default"), vec![key("k-default")]),
        ],
        scopes: vec![scope(t, "default", "s-openid", "openid")],
        clients: vec![client(t, "admin", "bootstrap")],
        policies: vec![policy(t, "allow", serde_json::json!([{"name": "true"}]))],
        key_check: format!("check-{t}").into_bytes(),
    }
}

pub fn policy(t: &str, id: &str, validators: serde_json::Value) -> Policy {
    Policy {
        tenant_id: tid(t),
        id: id.into(),
        name: format!("policy {id}"),
        language: "cloudentity".into(),
        validators,
        definition: None,
        read_only: id == "allow",
        imported_by: None,
        created_at: 1_700_000_000,
        updated_at: 1_700_000_000,
    }
}

pub fn sts_client(t: &str, id: &str, permissions: &str) -> StsClient {
    StsClient {
        tenant_id: tid(t),
        client_id: id.into(),
        description: Some(format!("mapping of {id}")),
        permissions: permissions.into(),
        created_by: Some("app".into()),
        modified_by: Some("app".into()),
        user_id: Some("bootstrap".into()),
        created_at: 1_700_000_000,
        modified_at: 1_700_000_000,
    }
}

pub fn role(t: &str, id: &str, name: &str) -> Role {
    Role {
        tenant_id: tid(t),
        id: id.into(),
        name: name.into(),
        audience: "https://api.example.com".into(),
        description: None,
        permissions: "client.read client.write".into(),
        connection_maps: Vec::new(),
        created_at: 1_700_000_000,
    }
}

pub(crate) fn map(role_id: &str, group: &str, connection: Option<&str>) -> ConnectionMap {
    ConnectionMap {
        id: 0,
        role_id: role_id.into(),
        name: Some(format!("{group} developers")),
        group_name: group.into(),
        connection_id: connection.map(Into::into),
    }
}

pub fn claim(t: &str, a: &str, id: &str, name: &str, ty: ClaimType) -> Claim {
    Claim {
        tenant_id: tid(t),
        server_id: aid(a),
        id: ClaimId::parse(id).unwrap(),
        name: name.into(),
        mapping: format!("attr.{name}"),
        claim_type: ty,
        scopes: vec!["email".into(), "profile".into()],
        created_at: 1_700_000_000,
    }
}

pub fn scope(t: &str, a: &str, id: &str, name: &str) -> Scope {
    Scope {
        tenant_id: tid(t),
        server_id: aid(a),
        id: ScopeId::parse(id).unwrap(),
        name: name.into(),
        display_name: format!("Display {name}"),
        description: String::new(),
        developer_policy_id: None,
        user_policy_id: Some("block".into()),
        service_id: None,
        created_at: 1_700_000_000,
    }
}

pub(crate) fn issued(grant: &str, jti: &str, refresh: Option<&str>) -> IssuedTokens {
    IssuedTokens {
        server_id: aid("default"),
        grant_id: grant.into(),
        client_id: ClientId::parse("web").unwrap(),
        subject: "alice".into(),
        access_jti: jti.into(),
        access_expires_at: 1_000,
        refresh: refresh.map(|h| RefreshRecord {
            server_id: aid("default"),
            hash: h.into(),
            grant_id: grant.into(),
            client_id: ClientId::parse("web").unwrap(),
            data: format!("{{\"r\":\"{h}\"}}"),
            expires_at: 5_000,
            used: false,
            grant_revoked: false,
        }),
        grant_expires_at: 5_000,
    }
}

pub fn privacy_consent(t: &str, id: &str, version: i64) -> PrivacyConsent {
    PrivacyConsent {
        tenant_id: tid(t),
        id: id.into(),
        version,
        can_be_withdrawn: true,
        update_existing_grants: "explicitAll".into(),
        doc: castellan_types::privacy::Consent {
            id: Some(id.into()),
            name: Some(format!("consent {id}")),
            version: Some(version),
            ..Default::default()
        },
    }
}

pub(crate) fn event(id: &str, subject: &str, date: i64) -> NewLedgerEvent {
    NewLedgerEvent {
        id: id.into(),
        subject: subject.into(),
        date,
        event_type: "consent_granted".into(),
        payload: format!("{{\"e\":\"{id}\"}}"),
        actor: String::new(),
    }
}

pub fn grant(t: &str, subject: &str, consent: &str, version: i64, granted: bool) -> ConsentGrant {
    ConsentGrant {
        tenant_id: tid(t),
        subject: subject.into(),
        consent_id: consent.into(),
        version,
        granted,
        updated_at: 1_700_000_000,
    }
}

pub fn service(t: &str, server: &str, id: &str) -> Service {
    Service {
        tenant_id: tid(t),
        id: id.into(),
        server_id: aid(server),
        name: format!("service {id}"),
        description: Some("d".into()),
        gateway_id: None,
        with_specification: false,
        created_at: 1_700_000_000,
    }
}

#[allow(clippy::too_many_arguments)]
pub fn api(t: &str, service: &str, server: &str, id: &str, method: &str, path: &str, position: i64) -> Api {
    Api {
        tenant_id: tid(t),
        id: id.into(),
        service_id: service.into(),
        server_id: aid(server),
        method: method.into(),
        path: path.into(),
        position,
        policy_id: None,
        data_classifications: vec!["pii".into()],
        can_have_policy: true,
        imported: false,
    }
}

pub fn gateway(t: &str, server: &str, id: &str) -> Gateway {
    Gateway {
        tenant_id: tid(t),
        id: id.into(),
        server_id: aid(server),
        name: format!("Gateway {id}"),
        description: Some("at the edge".into()),
        kind: "nginx".into(),
        client_id: ClientId::parse(format!("gw-{id}")).unwrap(),
        created_at: 1_700_000_000,
        last_active: None,
    }
}
