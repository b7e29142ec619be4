//! Configuration export and import (Cloudentity ACP `/api/system/configuration`, `castellan
//! export` / `castellan import`): every object of one or more tenants as one `Dump`, written out
//! as a stream and read back in one store transaction.
//!
//! Secrets leave only when asked for (`with_secrets`): server secrets, private signing keys,
//! admin-created client secrets and upstream login-method secrets in clear; what Castellan keeps
//! only as a hash (developer-created client secrets, static users' passwords) as that hash.
//! Nothing is exported sealed: the importing installation seals everything again with its own
//! master key. The privacy ledger and its key never leave; an imported tenant starts a new ledger.

mod export;
mod import;

use castellan_domain::TenantId;

use crate::ControlError;

/// What an import does with an object whose id is already stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportMode {
    /// The whole import is refused (409 naming the object).
    Fail,
    /// The stored object is overwritten, except system tenants, system servers and the built-in
    /// policies, which are kept.
    Update,
    /// The stored object is kept.
    Ignore,
}

impl ImportMode {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "fail" => Some(Self::Fail),
            "update" => Some(Self::Update),
            "ignore" => Some(Self::Ignore),
            _ => None,
        }
    }
}

/// Where an export writes its JSON text, in chunks of about [`CHUNK`] bytes: a stream that
/// ends early when the reader has gone.
pub struct DumpOut {
    buf: Vec<u8>,
    out: tokio::sync::mpsc::Sender<Vec<u8>>,
}

const CHUNK: usize = 64 * 1024;

impl DumpOut {
    pub fn new(out: tokio::sync::mpsc::Sender<Vec<u8>>) -> Self {
        Self {
            buf: Vec::with_capacity(CHUNK * 2),
            out,
        }
    }

    fn raw(&mut self, s: &str) {
        self.buf.extend_from_slice(s.as_bytes());
    }

    fn value<T: serde::Serialize>(&mut self, v: &T) -> Result<(), ControlError> {
        serde_json::to_writer(&mut self.buf, v).map_err(ControlError::internal)
    }

    async fn flush_if_full(&mut self) -> Result<(), ControlError> {
        if self.buf.len() >= CHUNK {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), ControlError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK * 2));
        self.out
            .send(chunk)
            .await
            .map_err(|_| ControlError::Internal("the export's reader has gone".into()))
    }
}

fn tenant_id(field: &str, v: &str) -> Result<TenantId, ControlError> {
    TenantId::parse(v).map_err(|e| ControlError::invalid(field, e.to_string()))
}
