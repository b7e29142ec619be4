//! Wire types of privacy consents, consent actions and the privacy ledger (Cloudentity ACP
//! `/api/admin/{tid}/consents`, `/actions`, `/events`), and of Castellan's privacy API
//! (`/api/privacy/{tid}/…`) that grants and withdraws them.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Purpose {
    pub name: String,
    #[serde(default)]
    pub primary: bool,
}

/// A service personal data is shared with (`internal_services`, `third_party_services` of a
/// consent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ConsentService {
    pub name: String,
    #[serde(default)]
    pub purposes: Vec<Purpose>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PiiCategory {
    pub name: String,
}

/// A privacy consent (`POST /consents`, `PUT /consents/{consent}`). On create `id`, `name` and
/// `update_existing_grants` are required; `valid_from` defaults to now, `version` starts at 1 and
/// every update adds one (a given `version` is ignored).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"can_be_withdrawn": false, "description": "End User License Agreement", "id": "eula",
    "internal_services": [{"name": "billing", "purposes": [{"name": "Core Function", "primary": true}]}],
    "name": "EULA", "pii_categories": [{"name": "HIPAA"}], "tenant_id": "default", "third_party_services": [],
    "update_existing_grants": "explicitAll", "valid_from": "2026-11-23T10:00:00Z", "version": 1}))]
pub struct Consent {
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub can_be_withdrawn: Option<bool>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub internal_services: Option<Vec<ConsentService>>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pii_categories: Option<Vec<PiiCategory>>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub third_party_services: Option<Vec<ConsentService>>,
    /// What a new version does to existing grants: `explicitAll` (they become stale until granted
    /// again), `implicitAll` (they move to the new version, recorded in the ledger) or
    /// `keepCurrent` (they stay on their version, which still counts).
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_existing_grants: Option<String>,
    /// RFC 3339.
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Consents {
    pub consents: Vec<Consent>,
}

/// A consent as a member of an action: the consent in full, and whether the action requires it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ActionConsent {
    #[serde(flatten)]
    pub consent: Consent,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required: Option<bool>,
}

/// A consent action groups consents (`POST /actions`, `GET`/`PUT /actions/{action}`). In a
/// request, each consent needs only `id` and `required`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"consents": [{"id": "eula", "required": true}, {"id": "marketing", "required": false}],
    "description": "Consents required by the shop", "id": "shop-signup", "name": "shop_signup", "tenant_id": "default"}))]
pub struct ConsentActionWithConsents {
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consents: Option<Vec<ActionConsent>>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
}

/// A consent action in a list (without its consents).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ConsentAction {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub id: String,
    pub name: String,
    pub tenant_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ConsentActions {
    pub consent_actions: Vec<ConsentAction>,
}

/// A consent named in a grant or a withdrawal; `version` defaults to the current one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ConsentRef {
    pub consent_id: String,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
}

/// Where a grant was given.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct GrantContext {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub device: Option<serde_json::Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Vec<f64>>,
}

/// `POST /api/privacy/{tid}/consents/grant` and `…/withdraw`: an `action` (every consent it
/// groups) or a list of `consents`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[schema(example = json!({"subject": "peter", "action": "shop-signup",
    "context": {"ip": "203.0.113.7", "device": {"ua": "Firefox"}}, "language": "en"}))]
pub struct ConsentGrantRequest {
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consents: Option<Vec<ConsentRef>>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<GrantContext>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

/// A subject's standing with one consent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ConsentStatus {
    pub consent_id: String,
    /// `granted`, `withdrawn` or `stale` (granted for a version the consent has moved on from,
    /// with `explicitAll`).
    pub status: String,
    /// The version the subject granted or withdrew.
    pub version: i64,
    /// The consent's version now.
    pub current_version: i64,
    /// RFC 3339.
    pub updated_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SubjectConsents {
    pub subject: String,
    pub consents: Vec<ConsentStatus>,
}

/// The events a grant or withdrawal appended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ConsentGrantResult {
    pub subject: String,
    pub events: Vec<PrivacyLedgerEvent>,
}

/// One event of the privacy ledger. `payload_signature` is a compact JWS (ES256, the tenant's
/// ledger key, published at `GET /events/key`) whose claims chain the event to the one before it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PrivacyLedgerEvent {
    /// RFC 3339.
    pub date: String,
    pub id: String,
    /// `{"consent_granted": {…}}` or `{"consent_revoked": {…}}`, and `event_type`.
    #[schema(value_type = Object)]
    pub payload: Value,
    pub payload_signature: String,
    pub subject: String,
    pub tenant_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PrivacyLedgerEvents {
    pub events: Vec<PrivacyLedgerEvent>,
}

/// Where verification found the chain broken.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BrokenLink {
    /// The event's id (absent when the break is after the last event: events were removed from
    /// the end).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Its position in the chain (1 is the first event).
    pub sequence: i64,
    pub reason: String,
}

/// `GET /events/verify`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LedgerVerification {
    pub verified: bool,
    /// Events checked.
    pub events: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_broken: Option<BrokenLink>,
}

/// Consent action id → required consent ids, for the policy `consent` validator.
pub type ActionRequirements = HashMap<String, Vec<String>>;
