//! Printing one coalesced audit event as a JSON line.

use sshtrail_audit::interpret::NameResolver;
use sshtrail_audit::Record;

/// Appends the coalesced form of one event's records to `out` (no newline).
pub fn write_event(out: &mut Vec<u8>, records: &[Record], resolver: &dyn NameResolver) {
    let event = sshtrail_audit::coalesce::coalesce(records, resolver);
    // Serializing plain structs of strings into memory cannot fail; if it ever did, the
    // event is still accounted for by an explicit error object rather than vanishing.
    if let Err(err) = serde_json::to_writer(&mut *out, &event) {
        out.extend_from_slice(b"{\"error\":");
        sshtrail_audit::json::write_str(out, &err.to_string());
        out.push(b'}');
    }
}
