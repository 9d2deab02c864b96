//! Audit events that say something about the trail itself (DESIGN.md, `SystemAction`):
//! audit rules removed, auditing disabled, auditd stopping.

use serde_json::{Map, Value};
use sshtrail_audit::{Record, RecordType};

/// The SystemAction an audit event calls for, as (action, details), if any.
pub fn audit_system_action(records: &[Record]) -> Option<(&'static str, Map<String, Value>)> {
    let first = records.first()?;
    let mut details = Map::new();
    let mut copy = |record: &Record, keys: &[&str]| {
        for key in keys {
            if let Some(value) = record.value(key) {
                details.insert((*key).to_string(), value.into());
            }
        }
    };
    let action = match first.record_type() {
        RecordType::CONFIG_CHANGE => {
            copy(
                first,
                &[
                    "op",
                    "key",
                    "list",
                    "audit_enabled",
                    "old",
                    "auid",
                    "ses",
                    "res",
                ],
            );
            match (first.value("op"), first.value("audit_enabled")) {
                (Some("remove_rule"), _) => "audit-rule-removed",
                (_, Some("0")) => "auditing-disabled",
                (Some("add_rule"), _) => "audit-rule-added",
                _ => "audit-config-changed",
            }
        }
        RecordType::DAEMON_END => {
            copy(first, &["op", "auid", "pid", "res"]);
            "auditd-stopped"
        }
        RecordType::DAEMON_ABORT => {
            copy(first, &["op", "auid", "pid", "res", "reason"]);
            "auditd-aborted"
        }
        _ => return None,
    };
    details.insert("sequence".into(), first.serial().into());
    Some((action, details))
}
