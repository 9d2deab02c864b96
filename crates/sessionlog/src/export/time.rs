//! RFC 3339 UTC timestamps with milliseconds, without a date-time dependency.

/// Formats ms since the Unix epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ` (proleptic Gregorian, UTC).
pub fn rfc3339_ms(time_ms: u64) -> String {
    sshtrail_fmt::time::rfc3339_millis_string(time_ms / 1000, (time_ms % 1000) as u32)
}

#[cfg(test)]
mod tests {
    use super::rfc3339_ms;

    #[test]
    fn known_instants() {
        assert_eq!(rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
        // `date -u -d @951782400` → Tue Feb 29 00:00:00 UTC 2000 (a leap day).
        assert_eq!(rfc3339_ms(951_782_400_123), "2000-02-29T00:00:00.123Z");
        // `date -u -d @1795430400` → Mon Nov 23 10:40:00 UTC 2026.
        assert_eq!(rfc3339_ms(1_795_430_400_000), "2026-11-23T10:40:00.000Z");
        // `date -u -d @4102444799` → Thu Dec 31 23:59:59 UTC 2099.
        assert_eq!(rfc3339_ms(4_102_444_799_999), "2099-12-31T23:59:59.999Z");
        // Never panics, even at the end of the range.
        assert!(rfc3339_ms(u64::MAX).ends_with('Z'));
    }
}
