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
    /// The admin audit trail (read only: it is written by every other write).
    Audit,
}

impl Resource {
    pub const ALL: [Resource; 16] = [
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
        // Last, so the numbers of the codes before it (role permission ids) stay as they were.
        Self::Audit,
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
            Self::Audit => "audit",
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

    /// The code's fixed number in the catalogue (1-based: resource order, read before write);
    /// the `permissionId` of a role's permission. `*` is 0.
    pub fn number(self) -> i32 {
        let r = Resource::ALL.iter().position(|r| *r == self.resource).unwrap_or(0) as i32;
        r * 2 + i32::from(self.access == Access::Write) + 1
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

/// The longest permission list (characters) a mapping or role may have.
pub const MAX_PERMISSION_LIST: usize = 4096;

/// Whether `name` is written like a Castellan code (a `.` and no `:`): such a name that is not a
/// code is a mistake (`client.reed`), not another API's permission. Other APIs' names have a
/// `:` (`read:orders`, `urn:acme:orders.read`) or no `.` (`orders`).
fn looks_like_a_code(name: &str) -> bool {
    !name.contains(':') && name.contains('.')
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
    /// Names Castellan does not define (`read:orders`), which an STS mapping may list: they
    /// govern nothing here and are carried into the token's `permissions` claim unchanged.
    foreign: BTreeSet<String>,
}

impl Permissions {
    /// `*`: everything inside the caller's tenant (not `system.*`).
    pub fn all_in_tenant() -> Self {
        Self {
            everything_in_tenant: true,
            ..Self::default()
        }
    }

    /// Nothing at all.
    pub fn none() -> Self {
        Self::default()
    }

    /// Exactly these codes.
    pub fn from_codes(codes: impl IntoIterator<Item = Permission>) -> Self {
        Self {
            codes: codes.into_iter().collect(),
            ..Self::default()
        }
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

    /// An STS mapping's list: as [`Permissions::parse`], and any other name that does not look
    /// like one of Castellan's codes (`read:orders`, `orders`) is kept as a foreign name. A name
    /// that does look like a code (`clients.read`, `client.reed`, without a `:`) and is not one
    /// is an error, so a typo is not stored as a permission of someone else's API.
    pub fn parse_mapping(list: &str) -> Result<Self, UnknownPermission> {
        let mut out = Self::none();
        for code in list.split(' ').filter(|c| !c.is_empty()) {
            if code == "*" {
                out.everything_in_tenant = true;
            } else if let Some(p) = Permission::parse(code) {
                out.codes.insert(p);
            } else if looks_like_a_code(code) || !code.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(UnknownPermission(code.to_owned()));
            } else {
                out.foreign.insert(code.to_owned());
            }
        }
        Ok(out)
    }

    /// The names Castellan does not define, in order.
    pub fn foreign(&self) -> impl Iterator<Item = &str> {
        self.foreign.iter().map(String::as_str)
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
        self.foreign.extend(other.foreign.iter().cloned());
    }

    /// Whether these hold nothing in Castellan (foreign names govern nothing here).
    pub fn is_empty(&self) -> bool {
        !self.everything_in_tenant && self.codes.is_empty()
    }

    /// Whether everything `other` holds is held here too: a caller may only hand out what it
    /// holds itself (no one raises a mapping or role above their own permissions). Foreign names
    /// govern nothing in Castellan and are not counted.
    pub fn covers(&self, other: &Permissions) -> bool {
        if other.everything_in_tenant && !self.everything_in_tenant {
            return false;
        }
        other.codes.iter().all(|p| self.allows(*p))
    }

    /// The `system.*` codes this set names (they are only valid in the system tenant).
    pub fn system_codes(&self) -> impl Iterator<Item = Permission> + '_ {
        self.codes.iter().copied().filter(|p| p.resource == Resource::System)
    }

    fn drop_system(&mut self) {
        self.codes.retain(|p| p.resource != Resource::System);
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
        for name in &self.foreign {
            if !first {
                f.write_str(" ")?;
            }
            f.write_str(name)?;
            first = false;
        }
        Ok(())
    }
}

/// An STS client mapping or a developer role's grant, reduced to what the check needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleRule {
    /// The API the role is for; a person's token whose `aud` includes it carries the role's
    /// permissions.
    pub audience: String,
    pub permissions: Permissions,
    /// Identity-provider groups mapped to the role (its connection maps).
    pub groups: Vec<String>,
}

/// Who is calling a management operation, as far as permissions go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller<'a> {
    /// A client of the tenant's `admin` server: HTTP Basic credentials, or an access token it
    /// obtained for itself (`client_credentials`).
    AdminClient(&'a str),
    /// A person signed in to the `admin` server, with the `groups` of their authentication
    /// context.
    Person { groups: &'a [String] },
}

/// A tenant's STS client mappings and roles: everything that decides what a caller holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessRules {
    /// The system tenant (the one the first start created): only its credentials may hold
    /// `system.read` / `system.write`.
    system_tenant: bool,
    sts: std::collections::HashMap<String, Permissions>,
    roles: Vec<RoleRule>,
}

impl AccessRules {
    pub fn new(
        system_tenant: bool,
        sts: impl IntoIterator<Item = (String, Permissions)>,
        roles: Vec<RoleRule>,
    ) -> Self {
        let mut rules = Self {
            system_tenant,
            sts: sts.into_iter().collect(),
            roles,
        };
        if !system_tenant {
            // Whatever a mapping says, another tenant's credentials never reach every tenant.
            for p in rules.sts.values_mut() {
                p.drop_system();
            }
            for r in &mut rules.roles {
                r.permissions.drop_system();
            }
        }
        rules
    }

    /// What `caller` holds: an admin client `*` (and, in the system tenant, `system.*`) unless it
    /// has an STS mapping, which is then exactly what it holds (no inheritance from anyone); a
    /// person the union of the roles mapped to one of their groups; nothing else.
    pub fn held(&self, caller: Caller<'_>) -> Permissions {
        match caller {
            Caller::AdminClient(id) => match self.sts.get(id) {
                Some(mapped) => mapped.clone(),
                None => self.unmapped_admin(),
            },
            Caller::Person { groups } => {
                let mut held = Permissions::none();
                for r in self
                    .roles
                    .iter()
                    .filter(|r| r.groups.iter().any(|g| groups.contains(g)))
                {
                    held.extend(&r.permissions);
                }
                held
            }
        }
    }

    /// The STS mapping of a client id, if it has one.
    /// What an admin client without an STS mapping holds: `*`, and in the system tenant
    /// `system.*` too. No credential of a tenant's admin server holds more, so this is also what
    /// the admin server's keys, login methods and users are worth.
    pub fn unmapped_admin(&self) -> Permissions {
        let mut all = Permissions::all_in_tenant();
        if self.system_tenant {
            all.codes.insert(Permission::new(Resource::System, Access::Read));
            all.codes.insert(Permission::new(Resource::System, Access::Write));
        }
        all
    }

    pub fn mapping(&self, client_id: &str) -> Option<&Permissions> {
        self.sts.get(client_id)
    }

    /// The `permissions` claim of a person's token: the permissions of their roles (by group)
    /// whose audience is one the token is for; `None` when no such role exists. A role for another
    /// API adds nothing to a token for this one.
    pub fn person_claim(&self, groups: &[String], aud: &[String]) -> Option<Permissions> {
        let mut found = false;
        let mut held = Permissions::none();
        for r in self
            .roles
            .iter()
            .filter(|r| aud.contains(&r.audience) && r.groups.iter().any(|g| groups.contains(g)))
        {
            found = true;
            held.extend(&r.permissions);
        }
        found.then_some(held)
    }

    /// Whether nothing is configured (the common case: no claim to compute).
    pub fn is_empty(&self) -> bool {
        self.sts.is_empty() && self.roles.is_empty()
    }
}

#[cfg(test)]
mod tests;
