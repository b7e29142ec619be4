//! One home per rule of the control plane's input: each concept checked by one function, with a
//! table of cases beside it. (More concepts move here from the resource modules over time; the
//! API description's constraints are derived from the same constants.)

use crate::{ControlError, ControlResult};

/// The longest display name, in characters (servers, clients, tenants, policies, services,
/// gateways, consents and consent actions alike).
pub const MAX_NAME_LEN: usize = 256;

/// Whitespace as the API description's patterns read it (ECMA-262 `\s`, which the `\S` of a
/// name's pattern refuses alone). Not Rust's `char::is_whitespace`: that counts U+0085 (NEL) as
/// whitespace and U+FEFF not, so a name of one NEL passed the description and was refused here.
fn is_pattern_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}' | '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}' | '\u{3000}' | '\u{feff}'
    )
}

/// A display name: not blank, at most [`MAX_NAME_LEN`] characters (422 naming `field`).
pub(crate) fn name(field: &str, v: &str) -> ControlResult<()> {
    if v.chars().all(is_pattern_space) {
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

/// A URL shown to people or fetched (http or https, absolute).
pub(crate) fn check_url(field: &str, v: &str) -> ControlResult<()> {
    match parse_safe_url(field, v)? {
        u if matches!(u.scheme(), "https" | "http") && u.host().is_some() => Ok(()),
        _ => Err(ControlError::invalid(field, "must be an absolute http(s) URL")),
    }
}

/// Parses a URL the server will store and later send people or requests to, strictly: WHATWG
/// parsing (the `url` crate) must give back exactly what was sent, so nothing is normalised away
/// (`\`, tabs, new lines, `%`-less spaces, upper-case schemes); no control characters, no
/// backslash, no user information (`http://127.0.0.1\@evil.example/` reads as another host in
/// many HTTP stacks).
pub(crate) fn parse_strict_url(field: &str, v: &str) -> ControlResult<url::Url> {
    let u = parse_safe_url(field, v)?;
    if u.as_str() != v {
        return Err(ControlError::invalid(
            field,
            format!("is not in canonical form; did you mean {:?}?", u.as_str()),
        ));
    }
    Ok(u)
}

/// A URL shown to people (logo, home page, policy links): no control characters, spaces,
/// backslashes or user information, but normalisation by the parser (a trailing `/`) is fine.
pub(crate) fn parse_safe_url(field: &str, v: &str) -> ControlResult<url::Url> {
    let bad = |reason: &str| Err(ControlError::invalid(field, reason.to_owned()));
    if v.len() > 2048 {
        return bad("must be at most 2048 characters");
    }
    if v.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return bad("must not contain spaces or control characters");
    }
    if v.contains('\\') {
        return bad("must not contain a backslash");
    }
    let Ok(u) = url::Url::parse(v) else {
        return bad("must be an absolute URI");
    };
    if !u.username().is_empty() || u.password().is_some() {
        return bad("must not contain user information (user:password@)");
    }
    Ok(u)
}

/// RFC 6749 §3.1.2 and RFC 9700 §4.1: absolute, no fragment; `https`, `http` only on loopback, or a
/// private-use scheme of a native app (RFC 8252 §7.1, reverse domain name with a dot).
pub fn check_redirect_uri(field: &str, v: &str) -> ControlResult<()> {
    let bad = |reason: &str| Err(ControlError::invalid(field, reason.to_owned()));
    let u = parse_strict_url(field, v)?;
    if u.fragment().is_some() {
        return bad("must not contain a fragment");
    }
    match u.scheme() {
        "https" if u.host().is_some() => Ok(()),
        "http" => match u.host() {
            Some(url::Host::Ipv4(ip)) if ip.is_loopback() => Ok(()),
            Some(url::Host::Ipv6(ip)) if ip.is_loopback() => Ok(()),
            Some(url::Host::Domain("localhost")) => Ok(()),
            _ => bad("http is allowed only for loopback addresses; use https"),
        },
        s if s.contains('.') => Ok(()),
        _ => bad("must use https, http on loopback, or a private-use scheme such as com.example.app"),
    }
}

/// A URL Castellan itself will fetch: https, or http on loopback only (no plain text to other
/// hosts). Which hosts it may reach is decided when it fetches, by the outbound policy
/// (`castellan::outbound`: internal addresses only where `--outbound-allow` lets them).
pub(crate) fn check_fetch_url(field: &str, v: &str) -> ControlResult<()> {
    let u = parse_strict_url(field, v)?;
    match (u.scheme(), u.host()) {
        ("https", Some(_)) => Ok(()),
        ("http", Some(url::Host::Ipv4(ip))) if ip.is_loopback() => Ok(()),
        ("http", Some(url::Host::Ipv6(ip))) if ip.is_loopback() => Ok(()),
        ("http", Some(url::Host::Domain("localhost"))) => Ok(()),
        _ => Err(ControlError::invalid(
            field,
            "must be an https URL (http only on loopback)",
        )),
    }
}

/// An OAuth scope name (RFC 6749 §3.3 scope-token): 1 to 128 printable ASCII characters without
/// space, `"` or `\`.
pub(crate) fn check_scope_name(field: &str, name: &str) -> ControlResult<()> {
    if name.is_empty() || name.len() > 128 {
        return Err(ControlError::invalid(field, "must be 1 to 128 characters"));
    }
    if !name
        .bytes()
        .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b))
    {
        return Err(ControlError::invalid(
            field,
            "may contain only printable ASCII without spaces, '\"' or '\\'",
        ));
    }
    Ok(())
}

/// An id chosen by the caller: 1 to 128 letters, digits, `.`, `_` or `-` (422 naming `field`).
pub(crate) fn check_id(field: &str, id: &str) -> ControlResult<()> {
    let ok = !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(ControlError::invalid(
            field,
            "1 to 128 letters, digits, '.', '_' or '-'",
        ))
    }
}

/// The longest privacy subject.
const MAX_SUBJECT: usize = 255;

/// A privacy subject: 1 to 255 characters, no control characters (it goes into the signed ledger and
/// the request log, where a CR or LF would forge a line).
pub(crate) fn check_subject(field: &str, v: &str) -> ControlResult<()> {
    if v.is_empty() || v.chars().count() > MAX_SUBJECT || v.chars().any(char::is_control) {
        return Err(ControlError::invalid(
            field,
            "required: 1 to 255 characters without control characters",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_not_blank_and_at_most_256_characters() {
        let cases: [(String, bool); 10] = [
            ("Shop".into(), true),
            // As the API description's `\S` reads names: NEL is a character, a BOM is not.
            ("\u{85}".into(), true),
            ("\u{feff}\u{3000}".into(), false),
            ("\u{a0}x".into(), true),
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
    fn urls_follow_their_rules() {
        let cases: [(&str, bool, bool, bool); 12] = [
            // (url, redirect URI, fetched URL, shown URL)
            ("https://app.example/cb", true, true, true),
            ("http://127.0.0.1:3000/cb", true, true, true),
            ("http://localhost/cb", true, true, true),
            ("http://app.example/cb", false, false, true),
            ("https://app.example/cb#frag", false, true, true),
            ("com.example.app:/cb", true, false, false),
            ("myapp:/cb", false, false, false),
            ("HTTPS://app.example/cb", false, false, true),
            ("https://user:pw@app.example/cb", false, false, false),
            ("https://app.example\\@evil.example/", false, false, false),
            ("https://app.example/a b", false, false, false),
            ("/relative", false, false, false),
        ];
        for (url, redirect, fetch, shown) in cases {
            assert_eq!(check_redirect_uri("u", url).is_ok(), redirect, "redirect {url}");
            assert_eq!(check_fetch_url("u", url).is_ok(), fetch, "fetch {url}");
            assert_eq!(check_url("u", url).is_ok(), shown, "shown {url}");
        }
    }

    #[test]
    fn scope_names_are_rfc6749_scope_tokens() {
        for (name, ok) in [
            ("orders.read", true),
            ("read:pets", true),
            ("a b", false),
            ("say\"hi", false),
            ("back\\slash", false),
            ("", false),
            ("é", false),
        ] {
            assert_eq!(check_scope_name("s", name).is_ok(), ok, "{name:?}");
        }
        assert!(check_scope_name("s", &"x".repeat(128)).is_ok());
        assert!(check_scope_name("s", &"x".repeat(129)).is_err());
    }

    #[test]
    fn text_counts_characters() {
        assert!(text("d", &"é".repeat(10), 10).is_ok());
        assert!(text("d", &"é".repeat(11), 10).is_err());
        assert!(text("d", "", 0).is_ok());
    }

    #[test]
    fn ids_are_1_to_128_of_letters_digits_and_dot_underscore_dash() {
        for ok in ["a", "A-1_b.c", &"x".repeat(128)] {
            assert!(check_id("id", ok).is_ok(), "{ok}");
        }
        for bad in ["", &"x".repeat(129), "a b", "a/b", "é", "a\u{0}", "a:b", "a@b"] {
            assert!(check_id("id", bad).is_err(), "{bad:?}");
        }
    }
}
