//! STS client mappings, roles with their connection maps, and policies.

use super::*;

pub async fn sts_clients_and_roles_round_trip(store: Arc<dyn Store>) {
    store.create_tenant(&tenant("a")).await.unwrap();
    store.create_tenant(&tenant("b")).await.unwrap();
    let (a, b) = (tid("a"), tid("b"));

    // STS client mappings: ids with `@` and `:`, conflict, update, tenant isolation, delete.
    let m = sts_client("a", "svc@clients:1", "client.read");
    store.create_sts_client(&m).await.unwrap();
    assert!(matches!(
        store.create_sts_client(&m).await,
        Err(StoreError::Conflict(_))
    ));
    store.create_sts_client(&sts_client("a", "another", "*")).await.unwrap();
    store
        .create_sts_client(&sts_client("b", "svc@clients:1", "scope.read"))
        .await
        .unwrap();
    assert_eq!(
        store.get_sts_client(&a, "svc@clients:1").await.unwrap(),
        Some(m.clone())
    );
    let ids: Vec<String> = store
        .list_sts_clients(&a)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.client_id)
        .collect();
    assert_eq!(ids, ["another", "svc@clients:1"]);
    let changed = StsClient {
        permissions: "client.read scope.write".into(),
        description: None,
        modified_by: Some("other".into()),
        modified_at: 1_700_000_100,
        ..m.clone()
    };
    store.update_sts_client(&changed).await.unwrap();
    assert_eq!(store.get_sts_client(&a, "svc@clients:1").await.unwrap(), Some(changed));
    assert_eq!(
        store
            .get_sts_client(&b, "svc@clients:1")
            .await
            .unwrap()
            .unwrap()
            .permissions,
        "scope.read",
        "the other tenant's mapping of the same id is its own"
    );
    assert!(matches!(
        store.update_sts_client(&sts_client("a", "nobody", "*")).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(store.delete_sts_client(&a, "svc@clients:1").await.unwrap().is_some());
    assert!(store.delete_sts_client(&a, "svc@clients:1").await.unwrap().is_none());
    assert!(store.get_sts_client(&a, "svc@clients:1").await.unwrap().is_none());
    assert!(store.get_sts_client(&b, "svc@clients:1").await.unwrap().is_some());

    // Roles: names unique per tenant, connection maps with store-given ids, cascade on delete.
    let r = role("a", "r1", "Shop-developers");
    store.create_role(&r).await.unwrap();
    assert!(matches!(store.create_role(&r).await, Err(StoreError::Conflict(_))));
    assert!(
        matches!(
            store.create_role(&role("a", "r2", "Shop-developers")).await,
            Err(StoreError::Conflict(_))
        ),
        "the name is taken"
    );
    store.create_role(&role("b", "r2", "Shop-developers")).await.unwrap();
    let (m1, _) = store.add_connection_map(&a, &map("r1", "devs", None)).await.unwrap();
    let (m2, _) = store
        .add_connection_map(&a, &map("r1", "qa", Some("static")))
        .await
        .unwrap();
    assert_ne!(m1.id, m2.id);
    assert_eq!(m1.group_name, "devs");
    assert_eq!(m2.connection_id.as_deref(), Some("static"));
    assert!(matches!(
        store.add_connection_map(&a, &map("r1", "devs", None)).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.add_connection_map(&a, &map("nope", "devs", None)).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(
        matches!(
            store.add_connection_map(&b, &map("r1", "devs", None)).await,
            Err(StoreError::NotFound(_))
        ),
        "another tenant's role is not found"
    );
    let got = store.get_role(&a, "r1").await.unwrap().unwrap();
    assert_eq!(got.connection_maps, vec![m1.clone(), m2.clone()]);
    assert_eq!(
        Role {
            connection_maps: Vec::new(),
            ..got
        },
        r
    );
    let updated = Role {
        audience: "https://other.example.com".into(),
        description: Some("who builds the shop".into()),
        permissions: "scope.read".into(),
        ..r.clone()
    };
    store.update_role(&updated).await.unwrap();
    let got = store.get_role(&a, "r1").await.unwrap().unwrap();
    assert_eq!(got.audience, "https://other.example.com");
    assert_eq!(got.permissions, "scope.read");
    assert_eq!(got.connection_maps.len(), 2, "an update keeps the maps");
    assert!(matches!(
        store.update_role(&role("a", "nope", "x")).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(
        store.delete_connection_map(&b, "r1", m1.id).await.unwrap().is_none(),
        "tenant b cannot delete a's map"
    );
    assert!(
        store
            .delete_connection_map(&a, "r1", m1.id + 1000)
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.delete_connection_map(&a, "r1", m1.id).await.unwrap().is_some());
    assert_eq!(
        store.get_role(&a, "r1").await.unwrap().unwrap().connection_maps,
        vec![m2]
    );
    store.create_role(&role("a", "r0", "Admin-developers")).await.unwrap();
    let names: Vec<String> = store
        .list_roles(&a)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(names, ["Admin-developers", "Shop-developers"]);
    assert_eq!(store.list_roles(&a).await.unwrap()[1].connection_maps.len(), 1);
    assert!(store.delete_role(&a, "r1").await.unwrap().is_some());
    assert!(store.delete_role(&a, "r1").await.unwrap().is_none());
    // The maps went with it: a role re-created with the id starts with none.
    store.create_role(&r).await.unwrap();
    assert!(
        store
            .get_role(&a, "r1")
            .await
            .unwrap()
            .unwrap()
            .connection_maps
            .is_empty()
    );
    assert_eq!(store.list_roles(&b).await.unwrap().len(), 1);
}

pub async fn policies_round_trip(store: Arc<dyn Store>) {
    // A seeded tenant has its seed's policies.
    store.create_tenant_seeded(&seed("a")).await.unwrap();
    store.create_tenant(&tenant("b")).await.unwrap();
    let (a, b) = (tid("a"), tid("b"));
    let allow = store.get_policy(&a, "allow").await.unwrap().unwrap();
    assert!(allow.read_only);
    assert_eq!(allow.validators, serde_json::json!([{"name": "true"}]));

    let mut p = policy(
        "a",
        "verified",
        serde_json::json!([{"name": "identity-context", "conf": {"fields": [
            {"field": "email_verified", "comparator": "equals", "value": true}]}, "recovery": []}]),
    );
    store.create_policy(&p).await.unwrap();
    assert!(matches!(store.create_policy(&p).await, Err(StoreError::Conflict(_))));
    assert_eq!(store.get_policy(&a, "verified").await.unwrap(), Some(p.clone()));
    assert_eq!(
        store.get_policy(&b, "verified").await.unwrap(),
        None,
        "tenant isolation"
    );
    let rego = Policy {
        language: "rego".into(),
        validators: serde_json::json!([]),
        definition: Some("package castellan\nallow := true\n".into()),
        ..policy("a", "rego-1", serde_json::json!([]))
    };
    store.create_policy(&rego).await.unwrap();
    let ids: Vec<String> = store
        .list_policies(&a)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(ids, ["allow", "rego-1", "verified"]);
    assert!(store.list_policies(&b).await.unwrap().is_empty());

    p.name = "renamed".into();
    p.validators = serde_json::json!([{"name": "false"}]);
    p.updated_at += 60;
    store.update_policy(&p).await.unwrap();
    assert_eq!(store.get_policy(&a, "verified").await.unwrap(), Some(p.clone()));
    let mut elsewhere = p.clone();
    elsewhere.tenant_id = b.clone();
    assert!(matches!(
        store.update_policy(&elsewhere).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(store.delete_policy(&b, "verified").await.unwrap().is_none());
    assert!(store.delete_policy(&a, "verified").await.unwrap().is_some());
    assert!(store.delete_policy(&a, "verified").await.unwrap().is_none());
    assert_eq!(store.get_policy(&a, "verified").await.unwrap(), None);
}
