//! Any bytes as an auditd log line, a netlink payload and a journald message.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(record) = sshtrail_audit::parse_line(data) {
        for field in record.fields() {
            let _ = field.is_absent();
        }
        let _ = record.timestamp().to_rfc3339();
    }
    let _ = sshtrail_audit::parse_netlink(1300, data);
    let _ = sshtrail_audit::parse::parse_journal_entry(1300, Some(1), Some(1), data);
});
