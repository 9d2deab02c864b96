//! Any bytes as spooled event lines for the lake: every line becomes exactly one row, in
//! exactly one object, and keeps its bytes in `raw`; nothing panics.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sshtrail_lake::{objects, Row};

fuzz_target!(|data: &[u8]| {
    let lines: Vec<&[u8]> = data.split_inclusive(|&b| b == b'\n').collect();
    for line in &lines {
        let row = Row::from_line(line);
        let body = line.strip_suffix(b"\n").unwrap_or(line);
        assert_eq!(row.raw, String::from_utf8_lossy(body));
        assert!(!row.event_id.is_empty());
        assert_eq!(row.date().len(), 10);
    }
    let made = objects("p", "00000001-0000000000000000", &lines).expect("objects");
    assert_eq!(made.iter().map(|o| o.rows).sum::<usize>(), lines.len());
    for object in &made {
        assert!(object.key.starts_with("p/host="));
        assert!(object.key.ends_with("/00000001-0000000000000000.parquet"));
        assert_eq!(object.key.matches('/').count(), 3, "{}", object.key);
    }
});
