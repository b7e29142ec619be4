use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a string is not a valid identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {0} characters")]
    TooLong(usize),
    #[error("may contain only letters, digits, '-', '_' and '.'")]
    BadCharacter,
    #[error("may contain only letters, digits, '-', '_', '.', '@' and ':'")]
    BadClientCharacter,
}

fn check(s: &str, max: usize) -> Result<(), IdError> {
    check_with(s, max, b"", IdError::BadCharacter)
}

fn check_with(s: &str, max: usize, extra: &[u8], bad: IdError) -> Result<(), IdError> {
    if s.is_empty() {
        return Err(IdError::Empty);
    }
    if s.len() > max {
        return Err(IdError::TooLong(max));
    }
    // Ids appear in issuer URLs and paths; keep them to URL-safe characters and no dot-segments.
    if s == "."
        || s == ".."
        || !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b) || extra.contains(&b))
    {
        return Err(bad);
    }
    Ok(())
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $max:expr) => {
        id_type!($(#[$doc])* $name, $max, check);
    };
    ($(#[$doc:meta])* $name:ident, $max:expr, $check:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub const MAX_LEN: usize = $max;

            pub fn parse(s: impl Into<String>) -> Result<Self, IdError> {
                let s = s.into();
                $check(&s, $max)?;
                Ok(Self(s))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, IdError> {
                Self::parse(s)
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        /// Maps keyed by the id can be read with a `&str` (no allocation on hot paths).
        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }
    };
}

id_type!(
    /// A tenant identifier (the `{tid}` path segment).
    TenantId, 64
);
id_type!(
    /// An authorization server identifier, unique within its tenant (the `{aid}` path segment).
    ServerId, 64
);
/// Client ids may also hold `@` and `:` (`myclient@clients`, `urn:acme:ci`): STS clients of
/// other systems are named so, and both are allowed in a URL path segment (RFC 3986 §3.3). In
/// HTTP Basic credentials such an id is form-encoded (`%3A`), as RFC 6749 §2.3.1 says.
fn check_client(s: &str, max: usize) -> Result<(), IdError> {
    check_with(s, max, b"@:", IdError::BadClientCharacter)
}

id_type!(
    /// An OAuth client identifier, unique within its tenant.
    ClientId, 128, check_client
);

id_type!(
    /// A scope identifier, unique within its tenant.
    ScopeId, 64
);

id_type!(
    /// A claim identifier, unique within its tenant.
    ClaimId, 64
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_url_safe_ids() {
        assert!(TenantId::parse("default").is_ok());
        assert!(ServerId::parse("935ab21c-b20a-11e9-a2a3-2a2ae2dbcce4").is_ok());
        assert!(ClientId::parse("my_app.v2").is_ok());
        assert!(ClientId::parse("myclient@clients").is_ok());
        assert!(ClientId::parse("urn:acme:ci").is_ok());
        assert_eq!(ClientId::parse("a/b"), Err(IdError::BadClientCharacter));
        assert_eq!(ServerId::parse("a@b"), Err(IdError::BadCharacter));
    }

    #[test]
    fn refuses_bad_ids() {
        assert_eq!(TenantId::parse(""), Err(IdError::Empty));
        assert_eq!(TenantId::parse("a/b"), Err(IdError::BadCharacter));
        assert_eq!(TenantId::parse(".."), Err(IdError::BadCharacter));
        assert_eq!(TenantId::parse("ü"), Err(IdError::BadCharacter));
        assert_eq!(TenantId::parse("x".repeat(65)), Err(IdError::TooLong(64)));
    }
}
