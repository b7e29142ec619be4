//! The behaviour every [`Store`] adapter must show. Adapters expand [`conformance_suite!`](crate::conformance_suite) in
//! their tests with a factory that returns a fresh, migrated, empty store: one test per check.
// Test-support code: a failed expectation is meant to abort the test run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use castellan_domain::*;
use castellan_types::{AuthenticationContextSettings, Jwk, Jwks};

use crate::{
    AuditFilter, BootstrapSeed, Changes, CodeRecord, ConfigChange, DeviceRecord, DeviceStatus, IssuedTokens,
    LedgerSigner, PendingLogin, PersonRecord, PrivacyWrite, RefreshRecord, ServiceImport, SessionRecord, Store,
    StoreError,
};

mod access;
mod changes;
mod config;
mod fixtures;
mod flows;
mod privacy;
mod services;

pub use access::*;
pub use changes::*;
pub use config::*;
pub use fixtures::*;
pub use flows::*;
pub use privacy::*;
pub use services::*;

/// One `#[tokio::test]` per check of this suite, each on a fresh store: `$store` is an async fn
/// taking the check's name and returning a fresh, migrated, empty store, or `None` when the
/// adapter cannot run here (the adapter then reports the check as skipped).
///
/// ```ignore
/// mod conformance {
///     castellan_store::conformance_suite!(super::fresh_store);
/// }
/// ```
#[macro_export]
macro_rules! conformance_suite {
    ($store:path) => {
        $crate::conformance_suite!(@cases $store;
            bootstrap_writes_once,
            seeded_tenant_creation_is_all_or_nothing,
            tenants_round_trip,
            servers_round_trip,
            server_update_replaces_keys_only_when_given,
            keys_are_replaced_only_while_unchanged,
            deleting_a_server_deletes_what_is_under_it,
            deleting_a_tenant_deletes_everything_of_it,
            tenants_are_isolated,
            clients_round_trip,
            clients_are_created_in_bulk_all_or_nothing,
            scopes_round_trip,
            revocations_and_assertion_ids,
            claims_round_trip,
            codes_are_redeemed_once,
            refresh_tokens_rotate_once_and_grants_revoke_everything,
            consents_and_sessions,
            people_and_pending_logins,
            device_requests_are_settled_once,
            deleting_a_client_ends_what_it_was_given,
            ending_subjects_revokes_their_grants_and_sessions,
            deleting_a_scope_takes_it_off_clients,
            sts_clients_and_roles_round_trip,
            policies_round_trip,
            privacy_consents_grants_and_the_ledger,
            concurrent_ledger_appends_leave_no_gaps,
            audit_trail_appends_and_filters,
            cancelled_writes_leave_the_store_writable,
            services_and_apis_round_trip,
            gateways_round_trip,
            writes_return_what_they_changed,
        );
    };
    (@cases $store:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                if let Some(store) = $store(stringify!($case)).await {
                    $crate::conformance::$case(store).await;
                }
            }
        )*
    };
}
