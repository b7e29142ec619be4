//! A configuration import written in one transaction (`PUT /api/system/configuration`,
//! `castellan import`): the control plane validates and decides; the store writes.

use castellan_domain::{
    Api, AuthorizationServer, Claim, Client, ConsentActionDef, Gateway, Policy, PrivacyConsent, Role, Scope,
    SigningKey, StsClient, Tenant,
};

/// One object of an import: written new, or written over the stored one with the same id.
#[derive(Debug, Clone, PartialEq)]
pub enum Put<T> {
    Create(T),
    Replace(T),
}

impl<T> Put<T> {
    pub fn value(&self) -> &T {
        match self {
            Put::Create(v) | Put::Replace(v) => v,
        }
    }
    pub fn is_replace(&self) -> bool {
        matches!(self, Put::Replace(_))
    }
}

/// A server with the signing keys to store: always given on create; on replace, `None` keeps the
/// stored keys.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerPut {
    pub server: AuthorizationServer,
    pub keys: Option<Vec<SigningKey>>,
}

/// Everything an import writes, in the order it is written (what is referred to before what
/// refers to it). A role's connection maps are written with it: a replaced role's maps are
/// replaced by the ones given.
#[derive(Debug, Clone, Default)]
pub struct ConfigImport {
    pub tenants: Vec<Put<Tenant>>,
    pub policies: Vec<Put<Policy>>,
    pub servers: Vec<Put<ServerPut>>,
    pub services: Vec<Put<castellan_domain::Service>>,
    pub scopes: Vec<Put<Scope>>,
    pub claims: Vec<Put<Claim>>,
    pub clients: Vec<Put<Client>>,
    pub gateways: Vec<Put<Gateway>>,
    pub apis: Vec<Put<Api>>,
    pub consents: Vec<Put<PrivacyConsent>>,
    pub consent_actions: Vec<Put<ConsentActionDef>>,
    pub roles: Vec<Put<Role>>,
    pub sts_clients: Vec<Put<StsClient>>,
}

impl ConfigImport {
    /// How many objects it writes.
    pub fn len(&self) -> usize {
        self.tenants.len()
            + self.policies.len()
            + self.servers.len()
            + self.services.len()
            + self.scopes.len()
            + self.claims.len()
            + self.clients.len()
            + self.gateways.len()
            + self.apis.len()
            + self.consents.len()
            + self.consent_actions.len()
            + self.roles.len()
            + self.sts_clients.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
