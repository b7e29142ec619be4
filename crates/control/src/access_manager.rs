//! Access-manager clients (Oracle Access Manager OAuth policy admin `…/oauthpolicyadmin/client`):
//! the same clients as the admin API's, described with `clientType`, uppercase grant types,
//! `redirectURIs [{url, isHttps}]`, `idDomain` (the authorization server) and custom token
//! `attributes`. Each request is turned into an admin API client request, so the same rules
//! apply and their errors name the access-manager member.

use castellan_domain::{Client, DEFAULT_SERVER};
use castellan_types::{self as types, oam};

use crate::{Allowed, Control, ControlError, ControlResult, need};

/// Access-manager grant type → RFC name.
const GRANTS: [(&str, &str); 5] = [
    ("PASSWORD", "password"),
    ("REFRESH_TOKEN", "refresh_token"),
    ("JWT_BEARER", castellan_oauth::exchange::JWT_BEARER),
    ("CLIENT_CREDENTIALS", "client_credentials"),
    ("AUTHORIZATION_CODE", "authorization_code"),
];
const CLIENT_TYPES: [&str; 3] = ["CONFIDENTIAL_CLIENT", "PUBLIC_CLIENT", "MOBILE_CLIENT"];

/// The access-manager name of an admin API member (`grant_types[2]` → `grantTypes[2]`).
fn oam_field(field: &str) -> String {
    let (head, rest) = match field.find(['[', '.']) {
        Some(i) => field.split_at(i),
        None => (field, ""),
    };
    let head = match head {
        "client_id" => "id",
        "client_name" => "name",
        "client_secret" => "secret",
        "authorization_server_id" => "idDomain",
        "grant_types" => "grantTypes",
        "redirect_uris" => "redirectURIs",
        "token_endpoint_auth_method" | "public" => "clientType",
        "token_attributes" => "attributes",
        other => other,
    };
    let rest = rest
        .replace(".name", ".attrName")
        .replace(".value", ".attrValue")
        .replace(".type", ".attrType");
    format!("{head}{rest}")
}

/// A control error with its field renamed to the access-manager member.
fn renamed(e: ControlError) -> ControlError {
    match e {
        ControlError::Invalid { field, reason } => ControlError::Invalid {
            field: oam_field(&field),
            reason,
        },
        other => other,
    }
}

impl Control {
    /// `POST …/oauthpolicyadmin/client`: creates the client under the server `idDomain` names
    /// (the `default` server when absent).
    pub async fn create_oam_client(
        &self,
        access: &Allowed<need::ClientWrite>,
        req: oam::OamClient,
    ) -> ControlResult<oam::OamClient> {
        let client_type = match req.client_type.as_deref() {
            None => "CONFIDENTIAL_CLIENT".to_owned(),
            Some(t) if CLIENT_TYPES.contains(&t.to_ascii_uppercase().as_str()) => t.to_ascii_uppercase(),
            Some(_) => {
                return Err(ControlError::invalid(
                    "clientType",
                    format!("must be one of {}", CLIENT_TYPES.join(", ")),
                ));
            }
        };
        let public = client_type != "CONFIDENTIAL_CLIENT";
        let mut grants = Vec::new();
        for (i, g) in req.grant_types.iter().flatten().enumerate() {
            let Some((_, rfc)) = GRANTS.iter().find(|(name, _)| name.eq_ignore_ascii_case(g)) else {
                return Err(ControlError::invalid(
                    format!("grantTypes[{i}]"),
                    format!(
                        "must be one of {}",
                        GRANTS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
                    ),
                ));
            };
            grants.push((*rfc).to_owned());
        }
        if let Some(d) = req.default_scope.as_deref()
            && !req.scopes.iter().flatten().any(|s| s == d)
        {
            return Err(ControlError::invalid("defaultScope", "must be one of scopes"));
        }
        let attributes = req.attributes.as_ref().map(|attrs| {
            attrs
                .iter()
                .map(|a| types::TokenAttribute {
                    name: a.attr_name.clone(),
                    value: a.attr_value.clone(),
                    type_: a.attr_type.clone(),
                })
                .collect::<Vec<_>>()
        });
        if let Some(attrs) = &req.attributes
            && let Some(i) = attrs.iter().position(|a| a.attr_type.is_empty())
        {
            return Err(ControlError::invalid(
                format!("attributes[{i}].attrType"),
                "is required: STATIC or DYNAMIC",
            ));
        }
        let creq = types::ClientRequest {
            client_id: req.id.clone(),
            client_name: req.name.clone().or_else(|| req.id.clone()),
            authorization_server_id: Some(req.id_domain.clone().unwrap_or_else(|| DEFAULT_SERVER.to_owned())),
            client_secret: req.secret.clone(),
            grant_types: req.grant_types.is_some().then_some(grants),
            token_endpoint_auth_method: Some(if public { "none" } else { "client_secret_basic" }.into()),
            redirect_uris: req
                .redirect_uris
                .as_ref()
                .map(|u| u.iter().map(|r| r.url.clone()).collect()),
            scopes: req.scopes.clone(),
            description: req.description.clone(),
            token_attributes: attributes,
            ..types::ClientRequest::default()
        };
        let c = self
            .create_client_with(access, creq, |c| {
                c.settings.client_type = Some(client_type);
                Ok(())
            })
            .await
            .map_err(renamed)?;
        self.oam_view(&c, true)
    }

    /// The client as the access-manager API describes it; its secret only when `with_secret`
    /// (the create's answer).
    fn oam_view(&self, c: &Client, with_secret: bool) -> ControlResult<oam::OamClient> {
        let view = self.client_view(c)?;
        let client_type = c.settings.client_type.clone().unwrap_or_else(|| {
            if c.settings.public {
                "PUBLIC_CLIENT"
            } else {
                "CONFIDENTIAL_CLIENT"
            }
            .into()
        });
        Ok(oam::OamClient {
            attributes: Some(
                c.settings
                    .token_attributes
                    .iter()
                    .map(|a| oam::TokenAttributeSettings {
                        attr_name: a.name.clone(),
                        attr_value: a.value.clone(),
                        attr_type: if a.dynamic { "DYNAMIC" } else { "STATIC" }.into(),
                    })
                    .collect(),
            ),
            client_type: Some(client_type),
            description: c.settings.description.clone(),
            grant_types: Some(
                c.grant_types
                    .iter()
                    .map(|g| {
                        GRANTS
                            .iter()
                            .find(|(_, rfc)| rfc == g)
                            .map_or_else(|| g.clone(), |(name, _)| (*name).to_owned())
                    })
                    .collect(),
            ),
            id: Some(c.id.to_string()),
            id_domain: Some(c.server_id.to_string()),
            name: Some(c.name.clone()),
            redirect_uris: Some(
                c.settings
                    .redirect_uris
                    .iter()
                    .map(|u| oam::RedirectUri {
                        url: u.clone(),
                        is_https: u.starts_with("https:"),
                    })
                    .collect(),
            ),
            scopes: Some(c.settings.scopes.clone()),
            secret: (with_secret && !view.client_secret.is_empty()).then_some(view.client_secret),
            default_scope: None,
        })
    }

    /// `GET …/oauthpolicyadmin/client?id=`: any client of the tenant.
    pub async fn get_oam_client(&self, access: &Allowed<need::ClientRead>, id: &str) -> ControlResult<oam::OamClient> {
        let c = self.load_client(access, id).await?;
        self.oam_view(&c, false)
    }

    /// `DELETE …/oauthpolicyadmin/client?id=`: deletes the client as the admin API does and
    /// answers what it was.
    pub async fn delete_oam_client(
        &self,
        access: &Allowed<need::ClientWrite>,
        id: &str,
    ) -> ControlResult<oam::OamClient> {
        let c = self.load_client(access, id).await?;
        let view = self.oam_view(&c, false)?;
        self.delete_client(access, id).await?;
        Ok(view)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_fields_are_named_as_the_access_manager_names_them() {
        assert_eq!(oam_field("client_secret"), "secret");
        assert_eq!(oam_field("grant_types[2]"), "grantTypes[2]");
        assert_eq!(oam_field("redirect_uris[0]"), "redirectURIs[0]");
        assert_eq!(oam_field("token_attributes[1].type"), "attributes[1].attrType");
        assert_eq!(oam_field("token_attributes[0].value"), "attributes[0].attrValue");
        assert_eq!(oam_field("scopes"), "scopes");
    }
}
