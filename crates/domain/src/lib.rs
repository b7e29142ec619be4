//! Validated newtypes, entities and the clock: the vocabulary every other crate speaks.
//!
//! Nothing here does I/O. Values are built through `parse` so that an invalid id or duration cannot
//! exist past the edge of the system.

pub mod clock;
pub mod duration;
pub mod entity;
pub mod id;
pub mod permission;
pub mod seal;

pub use clock::{Clock, FixedClock, SystemClock, UnixTime};
pub use duration::GoDuration;
pub use entity::*;
pub use id::{ClaimId, ClientId, IdError, ScopeId, ServerId, TenantId};
pub use permission::{
    Access, AccessRules, Caller, MAX_PERMISSION_LIST, Permission, Permissions, Resource, RoleRule, UnknownPermission,
};
