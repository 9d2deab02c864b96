//! Session ids become file names and object keys, and they also arrive from the command line
//! (`sshtrail sessions show ID`), so they are checked before they touch a path.

use crate::Error;

/// Longest accepted id. The daemon's ids (`<machine 12 hex>-<boot 8 hex>-<ses>`) are ~30 bytes.
pub const MAX_ID_LEN: usize = 128;

/// Accepts `[A-Za-z0-9._-]{1,128}` without a leading dot: such a name cannot contain a path
/// separator, cannot be `.` or `..`, and is not hidden, so `<dir>/<id>.sshlog` stays in `<dir>`
/// and `<prefix>/<id>.sshlog` stays under the prefix.
pub fn validate_id(id: &str) -> Result<(), Error> {
    let bad = |reason| {
        Err(Error::InvalidId {
            id: id.chars().take(MAX_ID_LEN + 8).collect(),
            reason,
        })
    };
    if id.is_empty() {
        return bad("empty");
    }
    if id.len() > MAX_ID_LEN {
        return bad("longer than 128 bytes");
    }
    if id.starts_with('.') {
        return bad("starts with a dot");
    }
    if !id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        return bad("only A-Z a-z 0-9 . _ - are allowed");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_daemon_ids() {
        assert!(validate_id("3f1c0a9b2d4e-8a7b6c5d-42").is_ok());
        assert!(validate_id("a").is_ok());
        assert!(validate_id(&"x".repeat(128)).is_ok());
        assert!(validate_id("a..b").is_ok());
    }

    #[test]
    fn rejects_escapes() {
        for id in [
            "",
            ".",
            "..",
            "../x",
            "/etc/passwd",
            "a/b",
            ".hidden",
            "a\0b",
            "é",
            "a b",
        ] {
            assert!(validate_id(id).is_err(), "{id:?}");
        }
        assert!(validate_id(&"x".repeat(129)).is_err());
    }
}
