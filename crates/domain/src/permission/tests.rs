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
