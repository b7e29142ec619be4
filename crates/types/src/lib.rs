//! Wire types of Castellan's HTTP APIs: what goes over the network, and nothing else.
//!
//! The control-plane types follow the Cloudentity Authorization Control Plane (ACP) API v1.1.0
//! field for field. Request types keep every field optional so that the engine, not serde, decides
//! defaults and produces errors that name the offending field.

pub mod admin;
pub mod audit;
pub mod clients;
pub mod developer;
pub mod error;
pub mod gateways;
pub mod nexus;
pub mod oam;
pub mod policies;
pub mod privacy;
pub mod registration;
pub mod services;
pub mod system;
pub mod workspace;

pub use admin::*;
pub use clients::*;
pub use developer::*;
pub use error::ApiErrorBody;
pub use system::*;
