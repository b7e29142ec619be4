//! STS client mappings and developer roles (Cloudentity Nexus `/v1/sts-clients`, `/v1/roles`):
//! the configuration that decides what each caller of the management APIs holds.
//!
//! Rules beyond the seed: a caller may only hand out permissions it holds itself (a mapping,
//! a role's permissions, or a group mapped to a role), so `sts-client.write` or `role.write` is
//! never a way to raise oneself; `system.*` codes are refused outside the system tenant.

use castellan_domain::{ConnectionMap, DEFAULT_TENANT, Permissions, Role, StsClient};
use castellan_types::nexus as wire;

use crate::access::need;
use crate::{AdminAccess, Allowed, Control, ControlError, ControlResult};

/// The permissions a new role starts with (Cloudentity Nexus).
pub const DEFAULT_ROLE_PERMISSIONS: &str = "client.read client.write server.read scope.read";
/// Longest STS client id, role audience, product name or group name.
const MAX_ID: usize = 256;
const MAX_DESCRIPTION: usize = 1024;

use crate::error::{Named, conflict, missing};
use crate::views::rfc3339;

/// A required text member: present, 1–`max` characters, no control characters.
fn required(field: &str, v: Option<&str>, max: usize) -> ControlResult<String> {
    match v {
        None => Err(ControlError::invalid(field, "is required")),
        Some(s) => bounded(field, s, max).map(str::to_owned),
    }
}

fn bounded<'a>(field: &str, s: &'a str, max: usize) -> ControlResult<&'a str> {
    if s.is_empty() {
        return Err(ControlError::invalid(field, "must not be empty"));
    }
    if s.chars().count() > max {
        return Err(ControlError::invalid(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if s.chars().any(char::is_control) {
        return Err(ControlError::invalid(field, "must not contain control characters"));
    }
    Ok(s)
}

fn description(v: Option<String>) -> ControlResult<Option<String>> {
    match v {
        Some(d) if d.chars().count() > MAX_DESCRIPTION => Err(ControlError::invalid(
            "description",
            format!("must be at most {MAX_DESCRIPTION} characters"),
        )),
        d => Ok(d),
    }
}

impl Control {
    /// A permission list as written by `access`: every code known, `system.*` only in the system
    /// tenant, and nothing the caller does not hold itself. An STS mapping (`foreign`) may also
    /// list names Castellan does not define ([`Permissions::parse_mapping`]).
    pub(crate) fn grantable(
        &self,
        access: &AdminAccess,
        field: &str,
        list: &str,
        foreign: bool,
    ) -> ControlResult<Permissions> {
        if list.chars().count() > castellan_domain::MAX_PERMISSION_LIST {
            return Err(ControlError::invalid(
                field,
                format!("at most {} characters", castellan_domain::MAX_PERMISSION_LIST),
            ));
        }
        let ps = if foreign {
            Permissions::parse_mapping(list)
        } else {
            Permissions::parse(list)
        }
        .map_err(|e| ControlError::invalid(field, e.to_string()))?;
        if access.tenant().as_str() != DEFAULT_TENANT
            && let Some(p) = ps.system_codes().next()
        {
            return Err(ControlError::invalid(
                field,
                format!("{p} can only be granted in the system tenant"),
            ));
        }
        if !access.held().covers(&ps) {
            return Err(ControlError::Forbidden(format!(
                "{field}: a caller can only grant permissions it holds itself ({} asked, {} held)",
                ps,
                access.held()
            )));
        }
        Ok(ps)
    }

    /// Checks an `ApplicationToken` header: the id of a client of the caller's tenant.
    pub async fn application_token(&self, access: &AdminAccess, token: Option<&str>) -> ControlResult<Option<String>> {
        let Some(token) = token else { return Ok(None) };
        let known = match castellan_domain::ClientId::parse(token) {
            Ok(cid) => self.store.get_client(access.tenant(), &cid).await?.is_some(),
            Err(_) => false,
        };
        if !known {
            return Err(ControlError::Unauthorized(
                "ApplicationToken must be the id of a client of the tenant".into(),
            ));
        }
        Ok(Some(token.to_owned()))
    }

    pub(crate) fn sts_view(m: StsClient) -> wire::StsClient {
        wire::StsClient {
            user_id: m.user_id,
            created: rfc3339(m.created_at),
            client_id: Some(m.client_id),
            modified: rfc3339(m.modified_at),
            created_by: m.created_by,
            modified_by: m.modified_by,
            description: m.description,
            permissions: Some(m.permissions),
        }
    }

    async fn load_sts_client(&self, access: &AdminAccess, client_id: &str) -> ControlResult<StsClient> {
        self.store
            .get_sts_client(access.tenant(), client_id)
            .await?
            .ok_or_else(|| ControlError::NotFound {
                what: "STS client",
                id: client_id.to_owned(),
            })
    }

    /// `POST /v1/sts-clients`. `app` is the request's `ApplicationToken` (checked), recorded as
    /// `createdBy`; without it the caller is.
    pub async fn create_sts_client(
        &self,
        access: &Allowed<need::StsClientWrite>,
        app: Option<&str>,
        req: wire::StsClientRequest,
    ) -> ControlResult<wire::StsClient> {
        let by = self
            .application_token(access, app)
            .await?
            .unwrap_or_else(|| access.caller().to_owned());
        let client_id = required("clientId", req.client_id.as_deref(), MAX_ID)?;
        let permissions = self.grantable(access, "permissions", req.permissions.as_deref().unwrap_or(""), true)?;
        let now = self.clock.now();
        let m = StsClient {
            tenant_id: access.tenant().clone(),
            client_id,
            description: description(req.description)?,
            permissions: permissions.to_string(),
            created_by: Some(by.clone()),
            modified_by: Some(by),
            user_id: Some(access.caller().to_owned()),
            created_at: now,
            modified_at: now,
        };
        let changes = self
            .store
            .create_sts_client(&m)
            .await
            .named(conflict("STS client", m.client_id.clone()))?;
        self.engine.apply(&changes).await;
        Ok(Self::sts_view(m))
    }

    pub async fn list_sts_clients(&self, access: &Allowed<need::StsClientRead>) -> ControlResult<Vec<wire::StsClient>> {
        let all = self.store.list_sts_clients(access.tenant()).await?;
        Ok(all.into_iter().map(Self::sts_view).collect())
    }

    pub async fn get_sts_client(
        &self,
        access: &Allowed<need::StsClientRead>,
        client_id: &str,
    ) -> ControlResult<wire::StsClient> {
        Ok(Self::sts_view(self.load_sts_client(access, client_id).await?))
    }

    /// `PUT /v1/sts-clients/{clientId}`: description and permissions are replaced (absent
    /// members keep their value); `clientId` must be absent or the path's.
    pub async fn update_sts_client(
        &self,
        access: &Allowed<need::StsClientWrite>,
        app: Option<&str>,
        client_id: &str,
        req: wire::StsClientRequest,
    ) -> ControlResult<wire::StsClient> {
        let by = self
            .application_token(access, app)
            .await?
            .unwrap_or_else(|| access.caller().to_owned());
        let mut m = self.load_sts_client(access, client_id).await?;
        crate::error::unchanged("clientId", req.client_id.as_deref(), client_id, "cannot be changed")?;
        // The mapping being replaced must be one the caller could have written.
        self.grantable(access, "permissions", &m.permissions, true)?;
        if let Some(p) = req.permissions.as_deref() {
            m.permissions = self.grantable(access, "permissions", p, true)?.to_string();
        }
        if req.description.is_some() {
            m.description = description(req.description)?;
        }
        m.modified_by = Some(by);
        m.modified_at = self.clock.now();
        let changes = self
            .store
            .update_sts_client(&m)
            .await
            .named(missing("STS client", client_id.to_owned()))?;
        self.engine.apply(&changes).await;
        Ok(Self::sts_view(m))
    }

    /// Deleting a mapping gives the client back what an unmapped client holds.
    pub async fn delete_sts_client(
        &self,
        access: &Allowed<need::StsClientWrite>,
        client_id: &str,
    ) -> ControlResult<()> {
        let m = self.load_sts_client(access, client_id).await?;
        // Removing a narrow mapping widens the client (an admin client goes back to `*`, and in
        // the system tenant to `system.*` too).
        let unmapped = self.admin_server_yields(access.tenant()).await?;
        if !access.holds(&unmapped) {
            return Err(ControlError::Forbidden(format!(
                "deleting the mapping of {} gives it {unmapped} back, which this caller does not hold",
                m.client_id
            )));
        }
        let Some(changes) = self.store.delete_sts_client(access.tenant(), client_id).await? else {
            return Err(ControlError::NotFound {
                what: "STS client",
                id: client_id.to_owned(),
            });
        };
        self.engine.apply(&changes).await;
        Ok(())
    }

    pub(crate) fn role_view(r: Role) -> wire::Role {
        let permissions = r
            .permissions
            .split(' ')
            .filter(|c| !c.is_empty())
            .map(|code| wire::RolePermission {
                code: code.to_owned(),
                role_id: r.id.clone(),
                permission_id: castellan_domain::Permission::parse(code).map_or(0, |p| p.number()),
            })
            .collect();
        let summary = wire::Role {
            id: Some(r.id.clone()),
            name: Some(r.name.clone()),
            audience: Some(r.audience.clone()),
            description: r.description.clone(),
            permissions: Vec::new(),
            connection_maps: Vec::new(),
        };
        let connection_maps = r
            .connection_maps
            .into_iter()
            .map(|m| Self::map_view(m, &summary))
            .collect();
        wire::Role {
            id: Some(r.id),
            name: Some(r.name),
            audience: Some(r.audience),
            description: r.description,
            permissions,
            connection_maps,
        }
    }

    fn map_view(m: ConnectionMap, role: &wire::Role) -> wire::ConnectionMap {
        wire::ConnectionMap {
            id: m.id,
            name: m.name,
            role: Some(Box::new(role.clone())),
            role_id: m.role_id,
            group_name: m.group_name,
            azo_connection_id: m.connection_id,
        }
    }

    async fn load_role(&self, access: &AdminAccess, id: &str) -> ControlResult<Role> {
        self.store
            .get_role(access.tenant(), id)
            .await?
            .ok_or_else(|| ControlError::NotFound {
                what: "role",
                id: id.to_owned(),
            })
    }

    /// `POST /v1/roles`: the role `{productName}-developers` for `audience`, starting with
    /// [`DEFAULT_ROLE_PERMISSIONS`] and no connection maps.
    pub async fn create_role(
        &self,
        access: &Allowed<need::RoleWrite>,
        req: wire::RoleRequest,
    ) -> ControlResult<wire::Role> {
        let audience = required("audience", req.audience.as_deref(), MAX_ID)?;
        let product = required("productName", req.product_name.as_deref(), MAX_ID - "-developers".len())?;
        let permissions = self.grantable(access, "permissions", DEFAULT_ROLE_PERMISSIONS, false)?;
        let r = Role {
            tenant_id: access.tenant().clone(),
            id: uuid::Uuid::new_v4().to_string(),
            name: format!("{product}-developers"),
            audience,
            description: description(req.description)?,
            permissions: permissions.to_string(),
            connection_maps: Vec::new(),
            created_at: self.clock.now(),
        };
        let changes = self
            .store
            .create_role(&r)
            .await
            .named(conflict("role", r.name.clone()))?;
        self.engine.apply(&changes).await;
        Ok(Self::role_view(r))
    }

    pub async fn list_roles(&self, access: &Allowed<need::RoleRead>) -> ControlResult<Vec<wire::Role>> {
        Ok(self
            .store
            .list_roles(access.tenant())
            .await?
            .into_iter()
            .map(Self::role_view)
            .collect())
    }

    pub async fn get_role(&self, access: &Allowed<need::RoleRead>, id: &str) -> ControlResult<wire::Role> {
        Ok(Self::role_view(self.load_role(access, id).await?))
    }

    /// `PUT /v1/roles/{id}`: audience, description and permissions (absent members keep their
    /// value). The name is derived from the product and does not change.
    pub async fn update_role(
        &self,
        access: &Allowed<need::RoleWrite>,
        id: &str,
        req: wire::RoleUpdate,
    ) -> ControlResult<wire::Role> {
        let mut r = self.load_role(access, id).await?;
        self.grantable(access, "permissions", &r.permissions, false)?;
        if let Some(a) = req.audience.as_deref() {
            r.audience = bounded("audience", a, MAX_ID)?.to_owned();
        }
        if req.description.is_some() {
            r.description = description(req.description)?;
        }
        if let Some(p) = req.permissions.as_deref() {
            r.permissions = self.grantable(access, "permissions", p, false)?.to_string();
        }
        let changes = self.store.update_role(&r).await.named(missing("role", id.to_owned()))?;
        self.engine.apply(&changes).await;
        Ok(Self::role_view(r))
    }

    pub async fn delete_role(&self, access: &Allowed<need::RoleWrite>, id: &str) -> ControlResult<()> {
        let Some(changes) = self.store.delete_role(access.tenant(), id).await? else {
            return Err(ControlError::NotFound {
                what: "role",
                id: id.to_owned(),
            });
        };
        self.engine.apply(&changes).await;
        Ok(())
    }

    /// `POST /v1/roles/{id}/connection-maps`: people whose `groups` include `groupName` hold the
    /// role from their next request on.
    pub async fn add_connection_map(
        &self,
        access: &Allowed<need::RoleWrite>,
        role_id: &str,
        req: wire::ConnectionMapRequest,
    ) -> ControlResult<wire::ConnectionMap> {
        let role = self.load_role(access, role_id).await?;
        let group = required("groupName", req.group_name.as_deref(), MAX_ID)?;
        let connection = match req.azo_connection_id.as_deref() {
            Some(c) => Some(bounded("azoConnectionId", c, MAX_ID)?.to_owned()),
            None => None,
        };
        let name = match req.name.as_deref() {
            Some(n) => Some(bounded("name", n, MAX_ID)?.to_owned()),
            None => None,
        };
        // Mapping a group hands the role's permissions out.
        self.grantable(access, "permissions", &role.permissions, false)?;
        let map = ConnectionMap {
            id: 0,
            role_id: role.id.clone(),
            name,
            group_name: group,
            connection_id: connection,
        };
        let (saved, changes) = self
            .store
            .add_connection_map(access.tenant(), &map)
            .await
            .named(conflict("connection map", map.group_name.clone()).missing("role", role_id.to_owned()))?;
        self.engine.apply(&changes).await;
        let summary = Self::role_view(Role {
            connection_maps: Vec::new(),
            permissions: String::new(),
            ..role
        });
        Ok(Self::map_view(saved, &summary))
    }

    /// `DELETE /v1/roles/{id}/connection-maps/{mapId}`, or every map of a group
    /// (`?groupName=`) when `map_id` is `None`.
    pub async fn delete_connection_map(
        &self,
        access: &Allowed<need::RoleWrite>,
        role_id: &str,
        map_id: Option<i64>,
        group: Option<&str>,
    ) -> ControlResult<()> {
        let role = self.load_role(access, role_id).await?;
        let ids: Vec<i64> = match (map_id, group) {
            (Some(id), _) => vec![id],
            (None, Some(g)) => role
                .connection_maps
                .iter()
                .filter(|m| m.group_name == g)
                .map(|m| m.id)
                .collect(),
            (None, None) => return Err(ControlError::invalid("groupName", "is required")),
        };
        // The deletions change the same things (the tenant's access rules): each is reloaded once.
        let mut changed: Option<castellan_store::Changes> = None;
        for id in ids {
            if let Some(c) = self.store.delete_connection_map(access.tenant(), role_id, id).await? {
                let all = changed.get_or_insert_with(Default::default);
                for change in c.0 {
                    if !all.0.contains(&change) {
                        all.0.push(change);
                    }
                }
            }
        }
        let Some(changes) = changed else {
            return Err(ControlError::NotFound {
                what: "connection map",
                id: map_id.map_or_else(|| group.unwrap_or_default().to_owned(), |i| i.to_string()),
            });
        };
        self.engine.apply(&changes).await;
        Ok(())
    }
}
