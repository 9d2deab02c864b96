//! One event line → one [`Row`] of the lake's columns.
//!
//! A line is taken as it is: what it lacks is null, what it holds in another shape than the
//! daemon writes (a number where a string belongs) is null too, and the line itself is always
//! kept whole in `raw`, so that nothing a consumer might need is lost to the flattening.

use serde_json::Value;

/// The columns of one event ([`crate::columns::COLUMNS`], in that order).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Row {
    pub event_id: String,
    /// Microseconds since the epoch, UTC.
    pub time: Option<i64>,
    pub kind: String,
    pub host: String,
    pub machine_id: Option<String>,
    pub component: Option<String>,
    pub outcome: Option<String>,
    pub session_id: Option<String>,
    pub user: Option<String>,
    pub user_id: Option<String>,
    pub source_ip: Option<String>,
    pub source_port: Option<i32>,
    pub action: Option<String>,
    pub object: Option<String>,
    pub object_type: Option<String>,
    pub argv: Option<Vec<String>>,
    pub exe: Option<String>,
    pub pid: Option<i64>,
    pub auth_method: Option<String>,
    pub fingerprint: Option<String>,
    pub cert_id: Option<String>,
    pub data: Option<String>,
    pub raw: String,
}

/// Where a line that names no host goes (never a line the daemon wrote).
pub const UNKNOWN_HOST: &str = "_";

fn text(value: Option<&Value>) -> Option<String> {
    value.and_then(Value::as_str).map(str::to_string)
}

/// A number written as a JSON number or as a decimal string (the auditevent schema keeps
/// ports and pids as strings).
fn number(value: Option<&Value>) -> Option<i64> {
    match value? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

impl Row {
    /// The row of one line (with or without its `\n`). Bytes that are not UTF-8 JSON give a
    /// row with only `raw` (lossily decoded), an id derived from the bytes and host `_`.
    pub fn from_line(line: &[u8]) -> Row {
        let body = line.strip_suffix(b"\n").unwrap_or(line);
        let raw = String::from_utf8_lossy(body).into_owned();
        let event: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let at = |path: &[&str]| -> Option<&Value> {
            let mut v = &event;
            for key in path {
                v = v.get(key)?;
            }
            Some(v)
        };
        let extra = |key: &str| at(&["metadata", "extra", key]);
        let kind = text(at(&["type"])).unwrap_or_else(|| "_".into());
        let action = text(extra("action")).or_else(|| {
            (kind == "SystemAction")
                .then(|| text(at(&["data", "action"])))
                .flatten()
        });
        let argv = extra("process_args").and_then(Value::as_array).map(|args| {
            args.iter()
                .map(|a| a.as_str().map_or_else(|| a.to_string(), str::to_string))
                .collect()
        });
        Row {
            event_id: text(at(&["metadata", "eventId"]))
                .unwrap_or_else(|| sshtrail_event::derived_uuid(&[b"lake line", body])),
            time: text(at(&["loggedAt"])).and_then(|t| micros(&t)),
            kind,
            host: text(at(&["target", "host"])).unwrap_or_else(|| UNKNOWN_HOST.into()),
            machine_id: text(at(&["target", "machine-id"])),
            component: text(at(&["component"])),
            outcome: text(at(&["outcome"])),
            session_id: text(at(&["metadata", "auditId"])),
            user: text(at(&["subjects", "loggedAs"])),
            user_id: text(at(&["subjects", "userID"])),
            source_ip: text(at(&["source", "value"])),
            source_port: number(at(&["source", "extra", "port"]))
                .and_then(|p| i32::try_from(p).ok()),
            action,
            object: text(at(&["metadata", "extra", "object", "primary"])),
            object_type: text(at(&["metadata", "extra", "object", "type"])),
            argv,
            exe: text(extra("exe")),
            pid: number(extra("pid")).or_else(|| number(at(&["subjects", "pid"]))),
            auth_method: (kind_is_login(&event))
                .then(|| text(at(&["data", "method"])))
                .flatten(),
            fingerprint: text(at(&["data", "fingerprint"])),
            cert_id: text(at(&["data", "cert_id"])),
            data: at(&["data"]).map(Value::to_string),
            raw,
        }
    }

    /// The UTC day of the event, `YYYY-MM-DD` (`1970-01-01` when it has no time).
    pub fn date(&self) -> String {
        let days = self.time.unwrap_or(0).div_euclid(86_400_000_000);
        let (y, m, d) = sshtrail_fmt::time::civil_from_days(days);
        format!("{y:04}-{m:02}-{d:02}")
    }
}

fn kind_is_login(event: &Value) -> bool {
    matches!(
        event.get("type").and_then(Value::as_str),
        Some("UserLogin") | Some("UserLogout")
    )
}

/// `YYYY-MM-DDTHH:MM:SS[.f…]Z` (what the daemon writes) → microseconds since the epoch.
/// Any other form is `None`: a time guessed wrong would put an event on the wrong day.
pub fn micros(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() < 20 || *b.last()? != b'Z' {
        return None;
    }
    let digits = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = b.get(range)?;
        if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    let seps = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
    if seps.iter().any(|&(i, c)| b.get(i) != Some(&c)) {
        return None;
    }
    let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (hour, minute, second) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut fraction = 0i64;
    let rest = &b[19..b.len() - 1];
    if !rest.is_empty() {
        let frac = rest.strip_prefix(b".")?;
        if frac.is_empty() || frac.len() > 9 || !frac.iter().all(u8::is_ascii_digit) {
            return None;
        }
        for i in 0..6 {
            fraction = fraction * 10 + frac.get(i).map_or(0, |d| i64::from(d - b'0'));
        }
    }
    let days = sshtrail_fmt::time::days_from_civil(year, month as u32, day as u32);
    Some(((days * 24 + hour) * 60 + minute) * 60_000_000 + second * 1_000_000 + fraction)
}
