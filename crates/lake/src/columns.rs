//! The lake's column schema, kept as data: the Parquet schema, the documentation and the
//! shipped DDL (`deploy/sql/`) all name these columns, and a test checks that they agree.

/// One column of every lake object.
pub struct Column {
    pub name: &'static str,
    /// The Parquet type as a message-type field (`optional binary … (STRING)`).
    pub parquet: &'static str,
    /// Where its value comes from in the event's auditevent JSON.
    pub from: &'static str,
}

/// In file order. `host` and `date` are also the Hive partition (`host=<h>/date=<d>/`).
pub const COLUMNS: &[Column] = &[
    Column { name: "event_id", parquet: "required binary event_id (STRING)", from: "metadata.eventId: the stable id, the same in every sink and after every restart" },
    Column { name: "time", parquet: "optional int64 time (TIMESTAMP(MICROS,true))", from: "loggedAt (UTC)" },
    Column { name: "type", parquet: "required binary type (STRING)", from: "type: UserLogin, UserAction, UserLogout, SystemAction" },
    Column { name: "event_host", parquet: "required binary event_host (STRING)", from: "target.host (the partition `host` holds the same value)" },
    Column { name: "machine_id", parquet: "optional binary machine_id (STRING)", from: "target.machine-id" },
    Column { name: "component", parquet: "optional binary component (STRING)", from: "component: sshd, auditd, sshtrail" },
    Column { name: "outcome", parquet: "optional binary outcome (STRING)", from: "outcome: succeeded, failed" },
    Column { name: "session_id", parquet: "optional binary session_id (STRING)", from: "metadata.auditId: the kernel audit session of a session's events (with machine_id and time, it names the session)" },
    Column { name: "user", parquet: "optional binary user (STRING)", from: "subjects.loggedAs: the account" },
    Column { name: "user_id", parquet: "optional binary user_id (STRING)", from: "subjects.userID: the identity (a certificate's key id, else the account)" },
    Column { name: "source_ip", parquet: "optional binary source_ip (STRING)", from: "source.value" },
    Column { name: "source_port", parquet: "optional int32 source_port", from: "source.extra.port" },
    Column { name: "action", parquet: "optional binary action (STRING)", from: "metadata.extra.action (executed, opened-file, uploaded-file, …), else a SystemAction's data.action (daemon-started, sink-failed, …)" },
    Column { name: "object", parquet: "optional binary object (STRING)", from: "metadata.extra.object.primary" },
    Column { name: "object_type", parquet: "optional binary object_type (STRING)", from: "metadata.extra.object.type" },
    Column { name: "argv", parquet: "optional group argv (LIST) { repeated group list { optional binary element (STRING); } }", from: "metadata.extra.process_args" },
    Column { name: "exe", parquet: "optional binary exe (STRING)", from: "metadata.extra.exe" },
    Column { name: "pid", parquet: "optional int64 pid", from: "metadata.extra.pid, else subjects.pid" },
    Column { name: "auth_method", parquet: "optional binary auth_method (STRING)", from: "data.method of a UserLogin (publickey, password, …)" },
    Column { name: "fingerprint", parquet: "optional binary fingerprint (STRING)", from: "data.fingerprint of a UserLogin: the key" },
    Column { name: "cert_id", parquet: "optional binary cert_id (STRING)", from: "data.cert_id of a certificate login" },
    Column { name: "data", parquet: "optional binary data (JSON)", from: "data, as JSON text" },
    Column { name: "raw", parquet: "required binary raw (STRING)", from: "the whole event line, byte for byte" },
];

/// The Parquet message type of [`COLUMNS`].
pub fn message_type() -> String {
    let mut out = String::from("message sshtrail_event {\n");
    for column in COLUMNS {
        out.push_str("  ");
        out.push_str(column.parquet);
        if !column.parquet.ends_with('}') {
            out.push(';');
        }
        out.push('\n');
    }
    out.push('}');
    out
}
