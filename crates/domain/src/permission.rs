//! Management permissions: codes `{resource}.{read|write}` and `*`, as STS client mappings and
//! developer roles grant them (Cloudentity Nexus `POST /v1/sts-clients`, `POST /v1/roles`).
//!
//! `*` is everything inside the caller's own tenant; it never includes `system.read` or
//! `system.write` (every tenant: export, import, tenant creation), which only credentials of the
//! system tenant can hold. Nothing here knows who the caller is: that is decided where the
//! credentials are checked, and this module only answers "does this set allow that".

use std::collections::BTreeSet;
use std::fmt;

/// What a permission is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Resource {
    Tenant,
    Server,
    Client,
    Scope,
    Claim,
    Policy,
    Consent,
    Privacy,
    Ledger,
    Service,
    Gateway,
    Role,
    StsClient,
    WorkspaceClient,
    System,
}

impl Resource {
    pub const ALL: [Resource; 15] = [
        Self::Tenant,
        Self::Server,
        Self::Client,
        Self::Scope,
        Self::Claim,
        Self::Policy,
        Self::Consent,
        Self::Privacy,
        Self::Ledger,
        Self::Service,
        Self::Gateway,
        Self::Role,
        Self::StsClient,
        Self::WorkspaceClient,
        Self::System,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tenant => "tenant",
            Self::Server => "server",
            Self::Client => "client",
            Self::Scope => "scope",
            Self::Claim => "claim",
            Self::Policy => "policy",
            Self::Consent => "consent",
            Self::Privacy => "privacy",
            Self::Ledger => "ledger",
            Self::Service => "service",
            Self::Gateway => "gateway",
            Self::Role => "role",
            Self::StsClient => "sts-client",
            Self::WorkspaceClient => "workspace-client",
            Self::System => "system",
        }
    }
}

/// Reading or changing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Access {
    Read,
    Write,
}

/// One permission code, such as `client.write`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Permission {
    pub resource: Resource,
    pub access: Access,
}

impl Permission {
    pub const fn new(resource: Resource, access: Access) -> Self {
        Self { resource, access }
    }

    /// A code such as `sts-client.read`; `None` for anything else (`*` is not one permission).
    pub fn parse(code: &str) -> Option<Self> {
        let (resource, access) = code.rsplit_once('.')?;
        let resource = Resource::ALL.into_iter().find(|r| r.as_str() == resource)?;
        let access = match access {
            "read" => Access::Read,
            "write" => Access::Write,
            _ => return None,
        };
        Some(Self { resource, access })
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let access = match self.access {
            Access::Read => "read",
            Access::Write => "write",
        };
        write!(f, "{}.{access}", self.resource.as_str())
    }
}

/// A code that is not a permission; carries the code, for an error that names it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown permission {0:?}: codes are {{resource}}.read or {{resource}}.write, or *")]
pub struct UnknownPermission(pub String);

/// What a caller holds: `*` and/or single permissions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Permissions {
    everything_in_tenant: bool,
    codes: BTreeSet<Permission>,
}

impl Permissions {
    /// `*`: everything inside the caller's tenant (not `system.*`).
    pub fn all_in_tenant() -> Self {
        Self {
            everything_in_tenant: true,
            codes: BTreeSet::new(),
        }
    }

    /// Nothing at all.
    pub fn none() -> Self {
        Self::default()
    }

    /// A space-delimited list as the APIs take it (`"client.read scope.write"`, `"*"`); repeats
    /// and extra spaces are fine, an unknown code is an error naming it.
    pub fn parse(list: &str) -> Result<Self, UnknownPermission> {
        let mut out = Self::none();
        for code in list.split(' ').filter(|c| !c.is_empty()) {
            if code == "*" {
                out.everything_in_tenant = true;
            } else {
                out.codes
                    .insert(Permission::parse(code).ok_or_else(|| UnknownPermission(code.to_owned()))?);
            }
        }
        Ok(out)
    }

    /// Whether these permissions allow `p`. `*` allows every permission but `system.*`; a write
    /// permission does not imply the read one (roles list both when they mean both).
    pub fn allows(&self, p: Permission) -> bool {
        (self.everything_in_tenant && p.resource != Resource::System) || self.codes.contains(&p)
    }

    /// Adds what `other` holds (a person with several roles holds all of theirs).
    pub fn extend(&mut self, other: &Permissions) {
        self.everything_in_tenant |= other.everything_in_tenant;
        self.codes.extend(other.codes.iter().copied());
    }

    pub fn is_empty(&self) -> bool {
        !self.everything_in_tenant && self.codes.is_empty()
    }
}

/// The space-delimited form the APIs and the `permissions` token claim use: `*` first, then the
/// codes in a stable order.
impl fmt::Display for Permissions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        if self.everything_in_tenant {
            f.write_str("*")?;
            first = false;
        }
        for p in &self.codes {
            if !first {
                f.write_str(" ")?;
            }
            write!(f, "{p}")?;
            first = false;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(code: &str) -> Permission {
        Permission::parse(code).unwrap()
    }

    #[test]
    fn every_resource_has_a_read_and_a_write_code_that_round_trips() {
        for r in Resource::ALL {
            for a in [Access::Read, Access::Write] {
                let perm = Permission::new(r, a);
                assert_eq!(Permission::parse(&perm.to_string()), Some(perm));
            }
        }
        assert_eq!(p("sts-client.write").resource, Resource::StsClient);
        assert_eq!(p("workspace-client.read").resource, Resource::WorkspaceClient);
        for bad in [
            "",
            "*",
            "client",
            "client.",
            ".read",
            "client.delete",
            "clients.read",
            "Client.read",
            "client.read.x",
        ] {
            assert_eq!(Permission::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn lists_parse_with_spaces_and_repeats_and_name_an_unknown_code() {
        let ps = Permissions::parse("  client.read scope.write client.read ").unwrap();
        assert_eq!(ps.to_string(), "client.read scope.write");
        assert_eq!(Permissions::parse("").unwrap(), Permissions::none());
        assert!(Permissions::parse("").unwrap().is_empty());
        assert_eq!(
            Permissions::parse("client.read clients.write"),
            Err(UnknownPermission("clients.write".into()))
        );
        assert_eq!(Permissions::parse("scope.read *").unwrap().to_string(), "* scope.read");
    }

    #[test]
    fn a_code_allows_itself_only_and_write_does_not_imply_read() {
        let ps = Permissions::parse("client.write").unwrap();
        assert!(ps.allows(p("client.write")));
        assert!(!ps.allows(p("client.read")));
        assert!(!ps.allows(p("server.write")));
        assert!(!Permissions::none().allows(p("client.read")));
    }

    #[test]
    fn everything_in_the_tenant_is_not_the_system() {
        let all = Permissions::all_in_tenant();
        for r in Resource::ALL {
            for a in [Access::Read, Access::Write] {
                assert_eq!(all.allows(Permission::new(r, a)), r != Resource::System, "{r:?} {a:?}");
            }
        }
        assert!(Permissions::parse("* system.read").unwrap().allows(p("system.read")));
        assert!(!Permissions::parse("* system.read").unwrap().allows(p("system.write")));
    }

    #[test]
    fn several_roles_add_up() {
        let mut held = Permissions::parse("client.read").unwrap();
        held.extend(&Permissions::parse("scope.read").unwrap());
        assert_eq!(held.to_string(), "client.read scope.read");
        held.extend(&Permissions::all_in_tenant());
        assert!(held.allows(p("gateway.write")));
    }
}
