//! Configuration changes: what a write changed, so every process reloads exactly that.

use castellan_domain::{ClientId, ServerId, TenantId};

/// A committed configuration change, as precise as the writer knows it, so that a node reloads
/// only what changed (see the protocol engine's snapshot). Stores that several processes share
/// broadcast them ([`Store::changes`](crate::Store::changes)); the process that wrote applies them itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ConfigChange {
    /// The tenant itself or its set of servers (created, updated, deleted): reload all of it.
    Tenant(TenantId),
    /// One server's own configuration: its settings, keys, login methods, scopes or claims.
    /// A scope deletion also edits clients, so the server's cached clients are dropped too.
    Server(TenantId, ServerId),
    /// One client (created, updated or deleted).
    Client(TenantId, ClientId),
    /// Access tokens were revoked at a server, or a token cutoff written: reload its revocation
    /// list and cutoffs.
    Revoked(TenantId, ServerId),
    /// The tenant's STS client mappings or roles: reload who holds which permissions.
    Access(TenantId),
    /// The tenant's policies.
    Policies(TenantId),
    /// The tenant's services and APIs.
    Services(TenantId),
    /// Changes may have been missed (a listener reconnected) or a periodic reload is due.
    Everything,
}

impl ConfigChange {
    /// The change as a short text (`kind/tenant[/id]`; ids never contain `/`), for a
    /// notification payload.
    pub fn to_payload(&self) -> String {
        match self {
            Self::Tenant(t) => format!("t/{t}"),
            Self::Server(t, s) => format!("s/{t}/{s}"),
            Self::Client(t, c) => format!("c/{t}/{c}"),
            Self::Revoked(t, s) => format!("r/{t}/{s}"),
            Self::Access(t) => format!("a/{t}"),
            Self::Policies(t) => format!("p/{t}"),
            Self::Services(t) => format!("v/{t}"),
            Self::Everything => "*".into(),
        }
    }

    /// Reads [`ConfigChange::to_payload`]'s text; anything else is `None` (treat it as
    /// `Everything`). A bare tenant id, the format of earlier versions, reads as `Tenant`.
    pub fn from_payload(text: &str) -> Option<Self> {
        let mut parts = text.split('/');
        let change = match (parts.next()?, parts.next(), parts.next()) {
            ("*", None, None) => Self::Everything,
            ("t", Some(t), None) => Self::Tenant(TenantId::parse(t).ok()?),
            ("a", Some(t), None) => Self::Access(TenantId::parse(t).ok()?),
            ("p", Some(t), None) => Self::Policies(TenantId::parse(t).ok()?),
            ("v", Some(t), None) => Self::Services(TenantId::parse(t).ok()?),
            ("s", Some(t), Some(s)) => Self::Server(TenantId::parse(t).ok()?, ServerId::parse(s).ok()?),
            ("c", Some(t), Some(c)) => Self::Client(TenantId::parse(t).ok()?, ClientId::parse(c).ok()?),
            ("r", Some(t), Some(s)) => Self::Revoked(TenantId::parse(t).ok()?, ServerId::parse(s).ok()?),
            (t, None, None) => Self::Tenant(TenantId::parse(t).ok()?),
            _ => return None,
        };
        parts.next().is_none().then_some(change)
    }
}

/// What a committed write changed in the configuration, decided by the store (the one place
/// that knows what a write touched). A store several processes share has announced these to the
/// others in the write's own transaction ([`Store::changes`](crate::Store::changes)); the writer applies the same ones to
/// its own snapshots before answering, so its caller reads what it wrote. A write that changes
/// nothing any snapshot holds (new clients, which no snapshot has cached yet) returns none.
///
/// Every configuration write returns its changes; deletions return `None` when there was nothing
/// to delete.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes(pub Vec<ConfigChange>);

impl Changes {
    pub fn one(change: ConfigChange) -> Self {
        Self(vec![change])
    }
}

impl<'a> IntoIterator for &'a Changes {
    type Item = &'a ConfigChange;
    type IntoIter = std::slice::Iter<'a, ConfigChange>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_round_trip_through_their_payload() {
        let (t, s, c) = (
            TenantId::parse("t-1").unwrap(),
            ServerId::parse("s.1").unwrap(),
            ClientId::parse("c_1").unwrap(),
        );
        for change in [
            ConfigChange::Tenant(t.clone()),
            ConfigChange::Server(t.clone(), s.clone()),
            ConfigChange::Client(t.clone(), c),
            ConfigChange::Revoked(t.clone(), s),
            ConfigChange::Access(t.clone()),
            ConfigChange::Policies(t.clone()),
            ConfigChange::Services(t.clone()),
            ConfigChange::Everything,
        ] {
            assert_eq!(ConfigChange::from_payload(&change.to_payload()), Some(change));
        }
        assert_eq!(ConfigChange::from_payload("t-1"), Some(ConfigChange::Tenant(t)));
        for bad in ["", "x/t", "s/t", "s/t/s/x", "c/t/bad id", "t/..", "*/t"] {
            assert_eq!(ConfigChange::from_payload(bad), None, "{bad:?}");
        }
    }
}
