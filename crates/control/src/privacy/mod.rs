//! Privacy consents and consent actions (Cloudentity ACP `/consents`, `/actions`), the privacy API
//! that grants and withdraws them (Castellan's own: `/api/privacy/{tid}/…`), and the privacy
//! ledger those changes append to (`/events`): every grant, withdrawal and implicit version move
//! is one event, signed with the tenant's ledger key and chained to the event before it, in the
//! same transaction as the change.

use std::collections::HashMap;
use std::sync::Arc;

use castellan_domain::{PrivacyConsent, TenantId};
use castellan_types::privacy as wire;

use crate::ledger::KeySigner;
use crate::{Allowed, Control, ControlError, ControlResult, need};

mod actions;
mod consents;
mod grants;
mod ledger_events;

use ledger_events::event_view;

/// How a new consent version treats existing grants (Cloudentity ACP `update_existing_grants`).
pub const STRATEGIES: [&str; 3] = ["explicitAll", "implicitAll", "keepCurrent"];

/// A point in time as the ledger's `from` and `to` take it, in Unix seconds (events are dated to
/// the second; a fraction is dropped): an RFC 3339 date-time, or an integer Unix time whose
/// magnitude says its unit — below 10^11 seconds (until the year 5138), below 10^14
/// milliseconds, below 10^17 microseconds, nanoseconds above.
pub(crate) fn instant(field: &str, v: &str) -> ControlResult<i64> {
    use time::format_description::well_known::Rfc3339;
    if v.starts_with('-') && v[1..].bytes().all(|b| b.is_ascii_digit()) {
        return Err(ControlError::invalid(field, "a time after 1970"));
    }
    // 1 to 19 digits (every such number fits a u64).
    if let Ok(n) = v.parse::<u64>()
        && v.len() <= 19
        && !v.starts_with('+')
    {
        let secs = match n {
            0..100_000_000_000 => n,
            100_000_000_000..100_000_000_000_000 => n / 1_000,
            100_000_000_000_000..100_000_000_000_000_000 => n / 1_000_000,
            _ => n / 1_000_000_000,
        };
        return i64::try_from(secs).map_err(ControlError::internal);
    }
    time::OffsetDateTime::parse(v, &Rfc3339)
        .map(|t| t.unix_timestamp())
        .map_err(|_| {
            ControlError::invalid(
                field,
                "an RFC 3339 date-time (2026-11-23T10:00:00Z) or a Unix time in seconds, milliseconds, microseconds or nanoseconds",
            )
        })
}

/// An RFC 3339 date-time as given, fractional seconds kept, in UTC (`…Z`).
fn normalized_time(field: &str, v: &str) -> ControlResult<String> {
    use time::format_description::well_known::Rfc3339;
    time::OffsetDateTime::parse(v, &Rfc3339)
        .ok()
        .and_then(|t| t.to_offset(time::UtcOffset::UTC).format(&Rfc3339).ok())
        .ok_or_else(|| ControlError::invalid(field, "an RFC 3339 date-time, e.g. 2026-11-23T10:00:00.5Z"))
}

/// Who calls the privacy API: an admin credential holding `privacy.*`, a token with the
/// `manage_consents` scope (any subject), or a person's own token (their own subject only).
#[derive(Debug, Clone)]
pub struct PrivacyCaller {
    tenant: TenantId,
    /// `Some(sub)`: may act only for this subject.
    only: Option<String>,
    /// Who it is, as the audit trail names callers (`client:{id}`, `person:{sub}`).
    actor: String,
}

impl PrivacyCaller {
    /// An admin credential checked for `privacy.write`.
    pub fn admin_write(a: &Allowed<need::PrivacyWrite>) -> Self {
        Self {
            tenant: a.tenant().clone(),
            only: None,
            actor: a.actor(),
        }
    }
    /// An admin credential checked for `privacy.read`.
    pub fn admin_read(a: &Allowed<need::PrivacyRead>) -> Self {
        Self {
            tenant: a.tenant().clone(),
            only: None,
            actor: a.actor(),
        }
    }
    pub fn tenant(&self) -> &TenantId {
        &self.tenant
    }
    /// Who it is, as the audit trail names callers.
    pub fn actor(&self) -> &str {
        &self.actor
    }
    fn may_act_for(&self, subject: &str) -> ControlResult<()> {
        match &self.only {
            Some(own) if own != subject => Err(ControlError::Forbidden(
                "a person's token acts only for its own subject; acting for others needs the manage_consents scope"
                    .into(),
            )),
            _ => Ok(()),
        }
    }
}

/// Opened ledger keys by tenant: opening one (AES-GCM, then parsing the key) costs more than the
/// signature, and a tenant's key never changes once made.
#[derive(Default)]
pub(crate) struct SignerCache(std::sync::RwLock<HashMap<TenantId, Arc<KeySigner>>>);

impl std::fmt::Debug for SignerCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SignerCache")
    }
}

pub(crate) fn consent_view(c: &PrivacyConsent) -> wire::Consent {
    c.doc.clone()
}

impl Control {
    pub(super) async fn load_consent(&self, tid: &TenantId, id: &str) -> ControlResult<PrivacyConsent> {
        self.store
            .get_privacy_consent(tid, id)
            .await?
            .ok_or_else(|| ControlError::NotFound {
                what: "consent",
                id: id.to_owned(),
            })
    }
}
