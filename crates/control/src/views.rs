//! How stored values read in the API's answers (shared by every resource module, so that none
//! borrows another's helpers).

/// A Unix time as an RFC 3339 date-time in UTC (`2026-11-23T10:00:00Z`); empty for a time out of
/// range.
pub(crate) fn rfc3339(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|d| d.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_read_as_rfc3339_in_utc() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(1_795_428_000), "2026-11-23T10:00:00Z");
        assert_eq!(super::rfc3339(i64::MAX), "");
    }
}
