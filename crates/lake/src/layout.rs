//! Where an object goes: `<prefix>/host=<host>/date=<YYYY-MM-DD>/<start>.parquet`.
//!
//! `<start>` is the spool position the batch began at (`sshtrail_spool::Position::name`).
//! The forwarder hands over only lines a checkpoint committed, and after a crash or a
//! failed upload it sends the batch again from the same start, holding the same lines
//! (or more of them, when more were committed meanwhile). So the object is written again
//! under the same name, never beside itself: no row is in the lake twice.

/// Hive partition values escape what would end the value or the path (and `%`), so that
/// any host name is one partition and reads back as itself.
pub fn partition_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    match out.as_str() {
        "" => crate::row::UNKNOWN_HOST.to_string(),
        "." | ".." => out.replace('.', "%2E"),
        _ => out,
    }
}

/// The object key for one (host, date) group of the batch beginning at `start`.
pub fn object_key(prefix: &str, host: &str, date: &str, start: &str) -> String {
    let prefix = prefix.trim_matches('/');
    let slash = if prefix.is_empty() { "" } else { "/" };
    format!(
        "{prefix}{slash}host={}/date={date}/{start}.parquet",
        partition_value(host)
    )
}
