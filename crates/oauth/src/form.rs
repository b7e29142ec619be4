//! `application/x-www-form-urlencoded` parameters of protocol requests (RFC 6749 §3.2: a parameter
//! must not appear more than once; empty values count as absent).

use crate::OAuthError;

/// Most parameters a protocol request may carry.
const MAX_PARAMS: usize = 64;

#[derive(Debug, Default, Clone)]
pub struct Form {
    pairs: Vec<(String, String)>,
    /// The parameters came from a signed request object (RFC 9101) that verified.
    signed: bool,
}

impl Form {
    pub fn new(pairs: Vec<(String, String)>) -> Result<Self, OAuthError> {
        if pairs.len() > MAX_PARAMS {
            return Err(OAuthError::invalid_request("too many parameters"));
        }
        Ok(Self { pairs, signed: false })
    }

    /// These parameters as those of a verified signed request object.
    pub(crate) fn signed(mut self) -> Self {
        self.signed = true;
        self
    }

    /// Whether the parameters came from a verified signed request object.
    pub(crate) fn is_signed(&self) -> bool {
        self.signed
    }

    /// The value of `name`, `None` when absent or empty; an error when repeated.
    pub fn get(&self, name: &str) -> Result<Option<&str>, OAuthError> {
        let mut found = None;
        for (k, v) in &self.pairs {
            if k == name && !v.is_empty() {
                if found.is_some() {
                    return Err(OAuthError::invalid_request(format!(
                        "parameter {name} appears more than once"
                    )));
                }
                found = Some(v.as_str());
            }
        }
        Ok(found)
    }

    /// Every non-empty value of `name`, for the parameters that may repeat (RFC 8693 `audience`
    /// and `resource`).
    /// Every parameter, in order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn require(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name)?
            .ok_or_else(|| OAuthError::invalid_request(format!("missing parameter {name}")))
    }
}
