//! Services, their APIs and imports, and gateways.

use super::*;

pub async fn services_and_apis_round_trip(store: Arc<dyn Store>) {
    store.create_tenant_seeded(&seed("a")).await.unwrap();
    store.create_tenant_seeded(&seed("b")).await.unwrap();
    let (a, b) = (tid("a"), tid("b"));
    let pets = service("a", "default", "pets");
    store.create_service(&pets).await.unwrap();
    assert!(matches!(
        store.create_service(&pets).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.create_service(&service("a", "nope", "x")).await,
        Err(StoreError::NotFound(_))
    ));
    store.create_service(&service("a", "admin", "ops")).await.unwrap();
    store.create_service(&service("b", "default", "pets")).await.unwrap();
    assert_eq!(store.get_service(&a, "pets").await.unwrap(), Some(pets.clone()));
    let ids = |v: Vec<Service>| v.into_iter().map(|s| s.id).collect::<Vec<_>>();
    assert_eq!(ids(store.list_services(&a, None).await.unwrap()), ["ops", "pets"]);
    assert_eq!(
        ids(store.list_services(&a, Some(&aid("default"))).await.unwrap()),
        ["pets"]
    );
    let changed = Service {
        name: "Pets".into(),
        with_specification: true,
        gateway_id: Some("gw".into()),
        ..pets.clone()
    };
    store.update_service(&changed).await.unwrap();
    assert_eq!(store.get_service(&a, "pets").await.unwrap(), Some(changed));

    // APIs: by position; one method and path per service.
    store
        .create_api(&api("a", "pets", "default", "a2", "POST", "/pets", 2))
        .await
        .unwrap();
    store
        .create_api(&api("a", "pets", "default", "a1", "GET", "/pets/{id}", 1))
        .await
        .unwrap();
    assert!(matches!(
        store
            .create_api(&api("a", "pets", "default", "a3", "GET", "/pets/{id}", 3))
            .await,
        Err(StoreError::Conflict(_))
    ));
    store
        .create_api(&api("a", "ops", "admin", "o1", "GET", "/health", 1))
        .await
        .unwrap();
    store
        .create_api(&api("b", "pets", "default", "a1", "GET", "/pets", 1))
        .await
        .unwrap();
    let api_ids = |v: Vec<Api>| v.into_iter().map(|a| a.id).collect::<Vec<_>>();
    assert_eq!(
        api_ids(store.list_apis(&a, Some("pets"), None).await.unwrap()),
        ["a1", "a2"]
    );
    assert_eq!(
        api_ids(store.list_apis(&a, None, Some(&aid("admin"))).await.unwrap()),
        ["o1"]
    );
    assert_eq!(
        api_ids(store.list_apis(&a, None, None).await.unwrap()),
        ["o1", "a1", "a2"]
    );
    let mut a1 = store.get_api(&a, "a1").await.unwrap().unwrap();
    assert_eq!(a1, api("a", "pets", "default", "a1", "GET", "/pets/{id}", 1));
    a1.policy_id = Some("allow".into());
    a1.data_classifications = vec![];
    store.update_api(&a1).await.unwrap();
    assert_eq!(store.get_api(&a, "a1").await.unwrap(), Some(a1.clone()));
    assert!(matches!(
        store
            .update_api(&Api {
                tenant_id: tid("b"),
                id: "zz".into(),
                ..a1
            })
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert!(store.delete_api(&a, "a2").await.unwrap().is_some());
    assert!(store.delete_api(&a, "a2").await.unwrap().is_none());
    // Deleting a service deletes its APIs, in its tenant only.
    assert!(store.delete_service(&a, "pets").await.unwrap().is_some());
    assert!(store.list_apis(&a, Some("pets"), None).await.unwrap().is_empty());
    assert_eq!(store.list_apis(&b, Some("pets"), None).await.unwrap().len(), 1);
    assert!(store.delete_service(&a, "pets").await.unwrap().is_none());
    service_imports_are_all_or_nothing(&store).await;
}

/// An import replaces the service's APIs and the policies its previous import made in one
/// transaction; a failing part leaves everything as it was.
async fn service_imports_are_all_or_nothing(store: &Arc<dyn Store>) {
    let a = tid("a");
    let svc = service("a", "default", "shop");
    store.create_service(&svc).await.unwrap();
    store
        .create_api(&api("a", "shop", "default", "m1", "GET", "/manual", 1))
        .await
        .unwrap();
    let imported_policy = |id: &str| Policy {
        imported_by: Some("shop".into()),
        ..policy(
            "a",
            id,
            serde_json::json!([{"name": "scopes", "conf": {"scopes": ["orders"]}}]),
        )
    };
    let imported_api = |id: &str, path: &str, pos: i64| Api {
        imported: true,
        policy_id: Some("shop-orders".into()),
        ..api("a", "shop", "default", id, "GET", path, pos)
    };
    let first = ServiceImport {
        service: Service {
            with_specification: true,
            ..svc.clone()
        },
        remove_apis: vec!["m1".into()],
        remove_policies: vec![],
        policies: vec![imported_policy("shop-orders")],
        scopes: vec![Scope {
            service_id: Some("shop".into()),
            ..scope("a", "default", "s-orders", "orders")
        }],
        apis: vec![imported_api("i1", "/orders", 1), imported_api("i2", "/orders/{id}", 2)],
    };
    // The import says what it changed: services, policies (one written) and the server (a scope).
    assert_eq!(
        store.apply_service_import(&first).await.unwrap().0,
        [
            ConfigChange::Services(a.clone()),
            ConfigChange::Policies(a.clone()),
            ConfigChange::Server(a.clone(), aid("default")),
        ]
    );
    let apis = store.list_apis(&a, Some("shop"), None).await.unwrap();
    assert_eq!(apis, first.apis);
    assert_eq!(
        store.get_policy(&a, "shop-orders").await.unwrap(),
        Some(imported_policy("shop-orders"))
    );
    assert!(store.get_service(&a, "shop").await.unwrap().unwrap().with_specification);
    assert!(
        store
            .get_scope(&a, &ScopeId::parse("s-orders").unwrap())
            .await
            .unwrap()
            .is_some()
    );

    // A second import whose last API collides with its first: nothing changes.
    let broken = ServiceImport {
        remove_apis: vec!["i1".into(), "i2".into()],
        remove_policies: vec!["shop-orders".into()],
        policies: vec![imported_policy("shop-orders")],
        scopes: vec![],
        apis: vec![imported_api("j1", "/v2", 1), imported_api("j2", "/v2", 2)],
        ..first.clone()
    };
    assert!(matches!(
        store.apply_service_import(&broken).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.list_apis(&a, Some("shop"), None).await.unwrap(), first.apis);
    assert!(store.get_policy(&a, "shop-orders").await.unwrap().is_some());

    // Removal: the APIs and the policy go, the scope stays, the service has no specification.
    let removal = ServiceImport {
        service: svc.clone(),
        remove_apis: vec!["i1".into(), "i2".into()],
        remove_policies: vec!["shop-orders".into(), "allow".into()],
        policies: vec![],
        scopes: vec![],
        apis: vec![],
    };
    assert_eq!(
        store.apply_service_import(&removal).await.unwrap().0,
        [ConfigChange::Services(a.clone()), ConfigChange::Policies(a.clone())]
    );
    // Without policies or scopes, only the services changed.
    let plain = ServiceImport {
        remove_policies: vec![],
        ..removal.clone()
    };
    assert_eq!(
        store.apply_service_import(&plain).await.unwrap().0,
        [ConfigChange::Services(a.clone())]
    );
    assert!(store.list_apis(&a, Some("shop"), None).await.unwrap().is_empty());
    assert_eq!(store.get_policy(&a, "shop-orders").await.unwrap(), None);
    assert!(
        store.get_policy(&a, "allow").await.unwrap().is_some(),
        "built-in policies stay"
    );
    assert!(!store.get_service(&a, "shop").await.unwrap().unwrap().with_specification);
    assert!(
        store
            .get_scope(&a, &ScopeId::parse("s-orders").unwrap())
            .await
            .unwrap()
            .is_some()
    );
    assert!(matches!(
        store
            .apply_service_import(&ServiceImport {
                service: service("a", "default", "ghost"),
                ..removal
            })
            .await,
        Err(StoreError::NotFound(_))
    ));
}

/// A gateway comes with its client; deleting it disconnects its services.
pub async fn gateways_round_trip(store: Arc<dyn Store>) {
    store.create_tenant_seeded(&seed("a")).await.unwrap();
    store.create_tenant_seeded(&seed("b")).await.unwrap();
    let (a, b) = (tid("a"), tid("b"));
    let g = gateway("a", "default", "edge");
    store
        .create_gateway(&g, &client("a", "default", "gw-edge"))
        .await
        .unwrap();
    assert_eq!(store.get_gateway(&a, "edge").await.unwrap(), Some(g.clone()));
    assert!(
        store
            .get_client(&a, &ClientId::parse("gw-edge").unwrap())
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(store.get_gateway(&b, "edge").await.unwrap(), None, "tenant isolation");
    // The same id again: nothing written, not even a second client.
    assert!(matches!(
        store.create_gateway(&g, &client("a", "default", "gw-other")).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(
        store
            .get_client(&a, &ClientId::parse("gw-other").unwrap())
            .await
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        store
            .create_gateway(&gateway("a", "nope", "x"), &client("a", "default", "gw-x"))
            .await,
        Err(StoreError::NotFound(_))
    ));
    store
        .create_gateway(&gateway("a", "admin", "ops"), &client("a", "admin", "gw-ops"))
        .await
        .unwrap();
    let ids = |v: Vec<Gateway>| v.into_iter().map(|g| g.id).collect::<Vec<_>>();
    assert_eq!(ids(store.list_gateways(&a, None).await.unwrap()), ["edge", "ops"]);
    assert_eq!(
        ids(store.list_gateways(&a, Some(&aid("default"))).await.unwrap()),
        ["edge"]
    );
    let renamed = Gateway {
        name: "Edge".into(),
        description: None,
        ..g.clone()
    };
    store.update_gateway(&renamed).await.unwrap();
    store.touch_gateway(&a, "edge", 1_700_000_100).await.unwrap();
    assert_eq!(
        store.get_gateway(&a, "edge").await.unwrap(),
        Some(Gateway {
            last_active: Some(1_700_000_100),
            ..renamed
        })
    );
    // Deleting disconnects its services.
    let svc = Service {
        gateway_id: Some("edge".into()),
        ..service("a", "default", "pets")
    };
    store.create_service(&svc).await.unwrap();
    assert!(store.delete_gateway(&a, "edge").await.unwrap().is_some());
    assert!(store.delete_gateway(&a, "edge").await.unwrap().is_none());
    assert_eq!(store.get_service(&a, "pets").await.unwrap().unwrap().gateway_id, None);
    assert!(matches!(store.update_gateway(&g).await, Err(StoreError::NotFound(_))));
}
