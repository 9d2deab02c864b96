//! Audit events that say something about the trail itself (`SystemAction`):
//! audit rules removed, auditing disabled, auditd stopping.

use sshtrail_audit::{Record, RecordType};
use sshtrail_event::{AuditChange, SystemKind};

/// The SystemAction an audit event calls for, if any.
pub fn audit_system_action(records: &[Record]) -> Option<SystemKind> {
    let first = records.first()?;
    let copy = |keys: &[&'static str]| -> Vec<(&'static str, String)> {
        keys.iter()
            .filter_map(|key| first.value(key).map(|value| (*key, value.to_string())))
            .collect()
    };
    let (change, fields) = match first.record_type() {
        RecordType::CONFIG_CHANGE => {
            let fields = copy(&[
                "op",
                "key",
                "list",
                "audit_enabled",
                "old",
                "auid",
                "ses",
                "res",
            ]);
            let change = match (first.value("op"), first.value("audit_enabled")) {
                (Some("remove_rule"), _) => AuditChange::RuleRemoved,
                (_, Some("0")) => AuditChange::AuditingDisabled,
                (Some("add_rule"), _) => AuditChange::RuleAdded,
                _ => AuditChange::ConfigChanged,
            };
            (change, fields)
        }
        RecordType::DAEMON_END => (
            AuditChange::AuditdStopped,
            copy(&["op", "auid", "pid", "res"]),
        ),
        RecordType::DAEMON_ABORT => (
            AuditChange::AuditdAborted,
            copy(&["op", "auid", "pid", "res", "reason"]),
        ),
        _ => return None,
    };
    Some(SystemKind::AuditConfig {
        change,
        fields,
        sequence: first.serial(),
    })
}
