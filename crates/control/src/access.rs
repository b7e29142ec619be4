//! Who may call the management APIs of a tenant, and what they may do there.
//!
//! Authentication makes an [`AdminAccess`]: the tenant, who the caller is, and the permissions
//! they hold (worked out once, from the tenant's STS client mappings and roles). Every management
//! operation takes an [`Allowed<N>`] for the permission `N` it needs — a type, so an operation
//! cannot be called, and a handler cannot be written, without the check: the only way to make
//! one is [`AdminAccess::allow`], which answers 403 (`Forbidden`) when the permission is not held.

use std::marker::PhantomData;
use std::ops::Deref;

use castellan_domain::{
    ADMIN_SERVER, Access, AccessRules, Caller, Client, ClientId, Permission, Permissions, Resource, TenantId,
};

use crate::{Control, ControlError, ControlResult};

/// Proof that the caller authenticated for a tenant, with what they hold there. Only
/// [`Control::authenticate_admin`] and [`Control::authenticate_admin_bearer`] make one (and
/// [`AdminAccess::for_operator`] for the CLI): the tenant an operation touches is the one inside,
/// never a second argument that could disagree.
#[derive(Debug, Clone)]
pub struct AdminAccess {
    tenant: TenantId,
    /// A client id, or a person's subject.
    caller: String,
    /// Whether `caller` is a person's subject (a token issued to a person) rather than a client.
    person: bool,
    held: Permissions,
}

impl AdminAccess {
    /// Access for operator commands (the `castellan` CLI), whose user already holds the master
    /// key and the database; never for anything reached over the network. Holds everything.
    pub fn for_operator(tenant: TenantId) -> Self {
        Self {
            held: AccessRules::new(true, [], Vec::new()).held(Caller::AdminClient("operator")),
            tenant,
            caller: "operator".into(),
            person: false,
        }
    }

    pub fn tenant(&self) -> &TenantId {
        &self.tenant
    }
    /// The client id, or the person's subject, that authenticated.
    pub fn caller(&self) -> &str {
        &self.caller
    }
    /// Who the caller is, as the audit trail names callers: `client:{client_id}` or
    /// `person:{sub}` (`operator:operator` for operator commands).
    pub fn actor(&self) -> String {
        match (self.person, self.caller.as_str()) {
            (true, c) => format!("person:{c}"),
            (false, "operator") => "operator:operator".into(),
            (false, c) => format!("client:{c}"),
        }
    }
    /// What the caller holds in its tenant.
    pub fn held(&self) -> &Permissions {
        &self.held
    }

    /// The right to run an operation that needs `N`; `Forbidden` naming the permission when the
    /// caller does not hold it.
    pub fn allow<N: Need>(self) -> ControlResult<Allowed<N>> {
        if self.held.allows(N::PERMISSION) {
            Ok(Allowed {
                access: self,
                need: PhantomData,
            })
        } else {
            Err(ControlError::Forbidden(format!(
                "this operation requires the {} permission",
                N::PERMISSION
            )))
        }
    }
}

/// A permission as a type, so that an operation's signature says what it needs.
pub trait Need {
    const PERMISSION: Permission;
}

/// An [`AdminAccess`] checked to hold `N`'s permission.
#[derive(Debug)]
pub struct Allowed<N> {
    access: AdminAccess,
    need: PhantomData<fn() -> N>,
}

impl<N> Deref for Allowed<N> {
    type Target = AdminAccess;
    fn deref(&self) -> &AdminAccess {
        &self.access
    }
}

impl<N> Allowed<N> {
    /// The same caller allowed `M`, for an operation whose permission `N` covers what `M` guards:
    /// a workspace client is a client of the `default` server, so `workspace-client.write` lets
    /// the workspace family write the clients it describes (and nothing else).
    pub(crate) fn covering<M>(&self) -> Allowed<M> {
        Allowed {
            access: self.access.clone(),
            need: PhantomData,
        }
    }
}

/// One type per permission code: `need::ClientWrite` is `client.write`.
pub mod need {
    use castellan_domain::{Access, Permission, Resource};

    macro_rules! needs {
        ($($name:ident = $resource:ident . $access:ident;)*) => {$(
            #[derive(Debug)]
            pub struct $name;
            impl super::Need for $name {
                const PERMISSION: Permission = Permission::new(Resource::$resource, Access::$access);
            }
        )*};
    }

    needs! {
        TenantRead = Tenant.Read;
        TenantWrite = Tenant.Write;
        ServerRead = Server.Read;
        ServerWrite = Server.Write;
        ClientRead = Client.Read;
        ClientWrite = Client.Write;
        ScopeRead = Scope.Read;
        ScopeWrite = Scope.Write;
        ClaimRead = Claim.Read;
        ClaimWrite = Claim.Write;
        PolicyRead = Policy.Read;
        PolicyWrite = Policy.Write;
        ConsentRead = Consent.Read;
        ConsentWrite = Consent.Write;
        PrivacyRead = Privacy.Read;
        PrivacyWrite = Privacy.Write;
        LedgerRead = Ledger.Read;
        AuditRead = Audit.Read;
        ServiceRead = Service.Read;
        ServiceWrite = Service.Write;
        GatewayRead = Gateway.Read;
        GatewayWrite = Gateway.Write;
        RoleRead = Role.Read;
        RoleWrite = Role.Write;
        StsClientRead = StsClient.Read;
        StsClientWrite = StsClient.Write;
        WorkspaceClientRead = WorkspaceClient.Read;
        WorkspaceClientWrite = WorkspaceClient.Write;
        SystemRead = System.Read;
        SystemWrite = System.Write;
    }
}

fn unauthorized() -> ControlError {
    ControlError::Unauthorized("invalid client credentials".into())
}

impl Control {
    /// Checks HTTP Basic credentials of a client of `{tid}/admin`. The secret is compared in
    /// constant time against its stored hash; an unknown tenant or client costs the same work and
    /// gets the same answer as a wrong secret.
    pub async fn authenticate_admin(&self, tid: &str, client_id: &str, secret: &str) -> ControlResult<AdminAccess> {
        let hasher = self.master.secret_hasher();
        let (Ok(tid), Ok(cid)) = (TenantId::parse(tid), ClientId::parse(client_id)) else {
            hasher.verify_dummy(secret);
            return Err(unauthorized());
        };
        let admin = self
            .engine
            .server(tid.as_str(), ADMIN_SERVER)
            .await
            .map_err(from_oauth)?;
        let client = match &admin {
            Some(rt) => self.engine.client(rt, cid.as_str()).await.map_err(from_oauth)?,
            None => None,
        };
        let hash = client.and_then(|c| c.secret_hash.clone());
        match hash {
            Some(h) if self.engine.verify_secret(secret, &h).await => {
                let rules = self.engine.access(&tid).await.map_err(from_oauth)?;
                Ok(AdminAccess {
                    held: rules.held(Caller::AdminClient(cid.as_str())),
                    tenant: tid,
                    caller: cid.to_string(),
                    person: false,
                })
            }
            Some(_) => Err(unauthorized()),
            None => {
                hasher.verify_dummy(secret);
                Err(unauthorized())
            }
        }
    }

    /// Checks a bearer access token issued by `{tid}/admin` (signature, expiry, revocation) to a
    /// client that still exists there.
    pub async fn authenticate_admin_bearer(&self, tid: &str, token: &str) -> ControlResult<AdminAccess> {
        let Some(admin) = self.engine.server(tid, ADMIN_SERVER).await.map_err(from_oauth)? else {
            return Err(unauthorized_token());
        };
        let claims = self
            .engine
            .verify_access_token(&admin, token)
            .await
            .map_err(from_oauth)?;
        let Some(claims) = claims else {
            return Err(unauthorized_token());
        };
        // The token's client still exists (checked with the signature).
        let cid = ClientId::parse(&claims.client_id).map_err(|_| unauthorized_token())?;
        let rules = self.engine.access(admin.tenant_id()).await.map_err(from_oauth)?;
        // A client's own token is told from a person's by how Castellan issued it (`gty`, under
        // its own signature), never by comparing names: a person whose username equals a
        // client's id is still that person (RFC 9068 §5).
        let held = if claims.is_client_own() {
            rules.held(Caller::AdminClient(cid.as_str()))
        } else {
            // A person: the roles mapped to the groups the admin server's directory gives them now.
            let ctx = self
                .engine
                .person(&admin, &claims.sub)
                .await
                .map_err(from_oauth)?
                .unwrap_or_default();
            let groups = castellan_oauth::issue::groups(&ctx);
            rules.held(Caller::Person { groups: &groups })
        };
        Ok(AdminAccess {
            tenant: admin.tenant_id().clone(),
            person: !claims.is_client_own(),
            caller: claims.sub,
            held,
        })
    }
}

/// The scope that lets a token act on the privacy API for any subject.
pub const MANAGE_CONSENTS: &str = "manage_consents";

/// What a token with [`MANAGE_CONSENTS`] may do on the privacy API, as permissions.
fn consent_manager() -> Permissions {
    Permissions::from_codes([
        Permission::new(Resource::Privacy, Access::Read),
        Permission::new(Resource::Privacy, Access::Write),
    ])
}

/// What the credentials of `c` hold, given the tenant's `rules`: a client of the admin server
/// holds its STS mapping (or, unmapped, everything an admin client holds); a client that may ask
/// for the `manage_consents` scope acts on the privacy API for any subject. Other clients hold
/// nothing of the management APIs.
pub(crate) fn client_yields(rules: &AccessRules, c: &Client) -> Permissions {
    let mut out = Permissions::none();
    if c.server_id.as_str() == ADMIN_SERVER {
        out.extend(&rules.held(Caller::AdminClient(c.id.as_str())));
    }
    if c.settings.scopes.iter().any(|s| s == MANAGE_CONSENTS) {
        out.extend(&consent_manager());
    }
    out
}

impl AdminAccess {
    /// No escalation: an operation that creates, re-keys, reveals the secret of, or changes
    /// something worth `yields` (the permissions of the credentials it yields) needs a caller who
    /// holds all of them. `what` names the thing for the 403.
    pub(crate) fn require_holds(&self, yields: &Permissions, what: impl FnOnce() -> String) -> ControlResult<()> {
        if self.held.covers(yields) {
            Ok(())
        } else {
            Err(ControlError::Forbidden(format!(
                "{} yields credentials holding {yields}; only a caller holding all of that may do this",
                what()
            )))
        }
    }

    /// Whether the caller holds everything `yields` names (for reads that then hide secrets).
    pub(crate) fn holds(&self, yields: &Permissions) -> bool {
        self.held.covers(yields)
    }
}

impl Control {
    /// The tenant's access rules (STS mappings and roles) as the snapshot has them.
    pub(crate) async fn access_rules(&self, tid: &TenantId) -> ControlResult<std::sync::Arc<AccessRules>> {
        self.engine.access(tid).await.map_err(from_oauth)
    }

    /// What the admin server's own configuration (keys, login methods, users, sign-in policy) is
    /// worth: the most any of its credentials can hold.
    pub(crate) async fn admin_server_yields(&self, tid: &TenantId) -> ControlResult<Permissions> {
        Ok(self.access_rules(tid).await?.unmapped_admin())
    }

    /// [`client_yields`] with the tenant's current rules.
    pub(crate) async fn client_yields(&self, c: &Client) -> ControlResult<Permissions> {
        Ok(client_yields(&*self.access_rules(&c.tenant_id).await?, c))
    }
}

fn unauthorized_token() -> ControlError {
    ControlError::Unauthorized("invalid or expired access token".into())
}

fn from_oauth(e: castellan_oauth::OAuthError) -> ControlError {
    ControlError::from(e)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use castellan_oauth::{ErrorCode, OAuthError};

    fn client(server: &str, id: &str, scopes: &[&str]) -> Client {
        Client {
            tenant_id: TenantId::parse("t").unwrap(),
            server_id: castellan_domain::ServerId::parse(server).unwrap(),
            id: ClientId::parse(id).unwrap(),
            name: id.into(),
            system: false,
            grant_types: vec!["client_credentials".into()],
            token_endpoint_auth_method: "client_secret_basic".into(),
            secret_hash: None,
            secret_sealed: None,
            settings: castellan_domain::ClientSettings {
                scopes: scopes.iter().map(|s| s.to_string()).collect(),
                ..Default::default()
            },
            created_at: 0,
        }
    }

    fn access(held: &str) -> AdminAccess {
        AdminAccess {
            tenant: TenantId::parse("t").unwrap(),
            caller: "c".into(),
            person: false,
            held: Permissions::parse(held).unwrap(),
        }
    }

    #[test]
    fn a_client_is_worth_what_its_credentials_hold() {
        let p = |s: &str| Permissions::parse(s).unwrap();
        let rules = AccessRules::new(false, [("narrow".to_owned(), p("client.read"))], Vec::new());
        assert_eq!(client_yields(&rules, &client("admin", "wide", &[])), p("*"));
        assert_eq!(client_yields(&rules, &client("admin", "narrow", &[])), p("client.read"));
        assert_eq!(client_yields(&rules, &client("shop", "wide", &[])), p(""));
        assert_eq!(
            client_yields(&rules, &client("shop", "app", &["read", MANAGE_CONSENTS])),
            p("privacy.read privacy.write")
        );
        assert_eq!(
            client_yields(&rules, &client("admin", "narrow", &[MANAGE_CONSENTS])),
            p("client.read privacy.read privacy.write")
        );
        let system = AccessRules::new(true, [], Vec::new());
        assert_eq!(
            client_yields(&system, &client("admin", "wide", &[])),
            p("* system.read system.write")
        );
    }

    #[test]
    fn only_a_caller_holding_all_of_it_may_hand_it_out() {
        let p = |s: &str| Permissions::parse(s).unwrap();
        assert!(access("*").require_holds(&p("*"), String::new).is_ok());
        assert!(access("*").require_holds(&p("client.read"), String::new).is_ok());
        assert!(
            access("client.read")
                .require_holds(&p("client.read"), String::new)
                .is_ok()
        );
        assert!(access("client.read").require_holds(&p(""), String::new).is_ok());
        let e = access("client.write").require_holds(&p("*"), || "client x".into());
        match e {
            Err(ControlError::Forbidden(m)) => {
                assert!(m.starts_with("client x yields credentials holding *"), "{m}")
            }
            other => panic!("{other:?}"),
        }
        assert!(access("*").require_holds(&p("* system.read"), String::new).is_err());
        assert!(
            access("privacy.read")
                .require_holds(&p("privacy.read privacy.write"), String::new)
                .is_err()
        );
        assert!(access("privacy.write").holds(&p("privacy.write")));
        assert!(!access("privacy.write").holds(&p("privacy.read privacy.write")));
    }

    #[test]
    fn a_store_outage_is_unavailable_and_anything_else_internal() {
        let e = from_oauth(OAuthError::new(ErrorCode::TemporarilyUnavailable, "db down"));
        assert_eq!(e, ControlError::Unavailable("db down".into()));
        let e = from_oauth(OAuthError::new(ErrorCode::ServerError, "bug"));
        assert_eq!(e, ControlError::Internal("bug".into()));
    }
}
