//! One home per rule of the control plane's input: each concept checked by one function, with a
//! table of cases beside it. (More concepts move here from the resource modules over time; the
//! API description's constraints are derived from the same constants.)

use crate::{ControlError, ControlResult};

/// The longest display name, in characters (servers, clients, tenants, policies, services,
/// gateways, consents and consent actions alike).
pub const MAX_NAME_LEN: usize = 256;

/// A display name: not blank, at most [`MAX_NAME_LEN`] characters (422 naming `field`).
pub(crate) fn name(field: &str, v: &str) -> ControlResult<()> {
    if v.trim().is_empty() {
        return Err(ControlError::invalid(field, "must not be empty"));
    }
    text(field, v, MAX_NAME_LEN)
}

/// Free text of at most `max` characters (not bytes: the API description counts characters).
pub(crate) fn text(field: &str, v: &str, max: usize) -> ControlResult<()> {
    if v.chars().count() > max {
        return Err(ControlError::invalid(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_not_blank_and_at_most_256_characters() {
        let cases: [(String, bool); 7] = [
            ("Shop".into(), true),
            ("é".repeat(MAX_NAME_LEN), true),
            ("x".repeat(MAX_NAME_LEN + 1), false),
            ("é".repeat(MAX_NAME_LEN + 1), false),
            (String::new(), false),
            (" \t".into(), false),
            (" padded ".into(), true),
        ];
        for (v, ok) in cases {
            assert_eq!(name("name", &v).is_ok(), ok, "{v:?}");
        }
    }

    #[test]
    fn text_counts_characters() {
        assert!(text("d", &"é".repeat(10), 10).is_ok());
        assert!(text("d", &"é".repeat(11), 10).is_err());
        assert!(text("d", "", 0).is_ok());
    }
}
