//! Any bytes as a journald JSON line, a syslog line (RFC 3164/5424/ISO) and a fifo line.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sshtrail_sshd::{Format, Framer, TimeZone, Timestamp};
use sshtrail_sshd::framing::SyslogFramer;

fuzz_target!(|data: &[u8]| {
    let syslog = SyslogFramer::with_reference(TimeZone::Fixed(-18000), Timestamp(1_795_431_629_000_000));
    for format in [Format::JournalJson, Format::Syslog, Format::Fifo] {
        let framer = Framer::new(format, TimeZone::Utc).with_syslog(syslog.clone());
        if let Ok(framed) = framer.frame_bytes(data) {
            let _ = framed.timestamp.map(|t| t.to_rfc3339());
            let _ = framed.is_sshd();
            let _ = framed.parse().fields();
        }
    }
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = Format::detect(s);
    }
});
