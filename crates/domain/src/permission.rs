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
    fn empty_means_nothing_held_and_system_codes_are_picked_out() {
        assert!(Permissions::none().is_empty());
        assert!(!Permissions::all_in_tenant().is_empty());
        assert!(!Permissions::parse("client.read").unwrap().is_empty());
        let ps = Permissions::parse("client.read system.write system.read *").unwrap();
        assert_eq!(
            ps.system_codes().collect::<Vec<_>>(),
            [p("system.read"), p("system.write")]
        );
        assert_eq!(Permissions::parse("*").unwrap().system_codes().count(), 0);
    }

    #[test]
    fn several_roles_add_up() {
        let mut held = Permissions::parse("client.read").unwrap();
        held.extend(&Permissions::parse("scope.read").unwrap());
        assert_eq!(held.to_string(), "client.read scope.read");
        held.extend(&Permissions::all_in_tenant());
        assert!(held.allows(p("gateway.write")));
    }

    #[test]
    fn numbers_are_distinct_and_follow_the_catalogue() {
        let mut seen = std::collections::HashSet::new();
        for r in Resource::ALL {
            for a in [Access::Read, Access::Write] {
                assert!(seen.insert(Permission::new(r, a).number()));
            }
        }
        assert_eq!(p("tenant.read").number(), 1);
        assert_eq!(p("tenant.write").number(), 2);
        assert_eq!(p("client.read").number(), 5);
        assert_eq!(p("system.write").number(), 30);
    }

    #[test]
    fn only_what_is_held_can_be_handed_out() {
        let all = Permissions::all_in_tenant();
        let some = Permissions::parse("client.read scope.read").unwrap();
        assert!(all.covers(&some));
        assert!(all.covers(&all));
        assert!(!some.covers(&all), "* is not handed out by a narrower caller");
        assert!(some.covers(&Permissions::parse("scope.read").unwrap()));
        assert!(!some.covers(&Permissions::parse("scope.read scope.write").unwrap()));
        assert!(!all.covers(&Permissions::parse("system.read").unwrap()));
        assert!(some.covers(&Permissions::none()));
    }

    fn groups(gs: &[&str]) -> Vec<String> {
        gs.iter().map(|g| g.to_string()).collect()
    }

    fn rules(system: bool) -> AccessRules {
        AccessRules::new(
            system,
            [
                ("reader".to_string(), Permissions::parse("client.read").unwrap()),
                (
                    "ops".to_string(),
                    Permissions::parse("system.read scope.write").unwrap(),
                ),
            ],
            vec![
                RoleRule {
                    audience: "https://api.example.com".into(),
                    permissions: Permissions::parse("client.read client.write").unwrap(),
                    groups: groups(&["devs"]),
                },
                RoleRule {
                    audience: "https://other.example.com".into(),
                    permissions: Permissions::parse("scope.read").unwrap(),
                    groups: groups(&["devs", "qa"]),
                },
            ],
        )
    }

    #[test]
    fn an_admin_client_holds_everything_in_its_tenant_unless_mapped() {
        let r = rules(false);
        assert_eq!(r.held(Caller::AdminClient("bootstrap")), Permissions::all_in_tenant());
        // Mapped: exactly the mapping, no `*` inherited.
        let reader = r.held(Caller::AdminClient("reader"));
        assert!(reader.allows(p("client.read")));
        assert!(!reader.allows(p("client.write")));
        assert_eq!(r.mapping("reader"), Some(&Permissions::parse("client.read").unwrap()));
        assert_eq!(r.mapping("bootstrap"), None);
    }

    #[test]
    fn only_the_system_tenant_reaches_the_system() {
        let other = rules(false);
        assert!(!other.held(Caller::AdminClient("bootstrap")).allows(p("system.write")));
        let ops = other.held(Caller::AdminClient("ops"));
        assert!(!ops.allows(p("system.read")), "a mapping of another tenant is stripped");
        assert!(ops.allows(p("scope.write")));
        let system = rules(true);
        assert!(system.held(Caller::AdminClient("bootstrap")).allows(p("system.write")));
        assert!(system.held(Caller::AdminClient("ops")).allows(p("system.read")));
        assert!(!system.held(Caller::AdminClient("ops")).allows(p("system.write")));
        assert!(!system.held(Caller::AdminClient("reader")).allows(p("system.read")));
    }

    #[test]
    fn a_person_holds_the_roles_of_their_groups_and_nothing_else() {
        let r = rules(false);
        let dev = r.held(Caller::Person {
            groups: &groups(&["devs"]),
        });
        assert_eq!(dev.to_string(), "client.read client.write scope.read");
        let qa = r.held(Caller::Person {
            groups: &groups(&["qa", "x"]),
        });
        assert_eq!(qa.to_string(), "scope.read");
        assert!(r.held(Caller::Person { groups: &[] }).is_empty());
        assert!(
            r.held(Caller::Person {
                groups: &groups(&["admins"])
            })
            .is_empty()
        );
    }

    #[test]
    fn a_persons_claim_is_the_roles_for_the_tokens_audience() {
        let r = rules(false);
        let devs = groups(&["devs"]);
        let api = groups(&["https://api.example.com"]);
        assert_eq!(
            r.person_claim(&devs, &api).unwrap().to_string(),
            "client.read client.write"
        );
        let both = groups(&["https://api.example.com", "https://other.example.com"]);
        assert_eq!(
            r.person_claim(&devs, &both).unwrap().to_string(),
            "client.read client.write scope.read"
        );
        assert_eq!(r.person_claim(&devs, &groups(&["app"])), None);
        assert_eq!(r.person_claim(&groups(&["qa"]), &api), None);
        assert!(!r.is_empty());
        assert!(AccessRules::default().is_empty());
        // Either a mapping or a role is something to compute.
        let reader = ("reader".to_string(), Permissions::parse("client.read").unwrap());
        assert!(!AccessRules::new(false, [reader], Vec::new()).is_empty());
        let role = RoleRule {
            audience: "https://api.example.com".into(),
            permissions: Permissions::parse("scope.read").unwrap(),
            groups: groups(&["devs"]),
        };
        assert!(!AccessRules::new(false, [], vec![role]).is_empty());
    }

    #[test]
    fn a_mapping_may_name_other_apis_permissions_but_not_mistyped_codes() {
        let ps = Permissions::parse_mapping("read:orders client.read orders * read:orders").unwrap();
        assert_eq!(ps.to_string(), "* client.read orders read:orders");
        assert_eq!(ps.foreign().collect::<Vec<_>>(), ["orders", "read:orders"]);
        // Foreign names govern nothing: not held, not needed to grant, not "something".
        let only_foreign = Permissions::parse_mapping("read:orders").unwrap();
        assert!(only_foreign.is_empty());
        assert!(Permissions::none().covers(&only_foreign));
        assert!(!only_foreign.allows(Permission::new(Resource::Client, Access::Read)));
        let mut held = Permissions::parse("client.read").unwrap();
        held.extend(&only_foreign);
        assert_eq!(held.to_string(), "client.read read:orders");
        for bad in [
            "client.reed",
            "clients.read",
            "orders.write",
            "scope.*",
            "client.x",
            "bad\u{7f}name",
            "orders.list",
        ] {
            assert_eq!(
                Permissions::parse_mapping(bad),
                Err(UnknownPermission(bad.to_owned())),
                "{bad}"
            );
        }
        assert!(Permissions::parse_mapping(&"x".repeat(1000)).is_ok());
        assert!(Permissions::parse_mapping("urn:acme:orders.read").is_ok());
        // Roles and the admin API's own lists stay strict.
        assert!(Permissions::parse("read:orders").is_err());
    }
}
