//! Time zones against real data: zone files compiled by the system's `zic` from tzdata
//! source written here, and the system's `/usr/share/zoneinfo`. Where `zic` or tzdata is
//! missing the test says so and passes, unless SSHTRAIL_REQUIRE_LIVE=1 (CI), which makes
//! it a failure (`scripts/install-deps` installs tzdata; `zic` comes with libc-bin).

use sshtrail_sshd::{TimeZone, Timestamp};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Skips a test whose real data is missing, or fails it under SSHTRAIL_REQUIRE_LIVE=1.
fn missing(test: &str, what: &str) {
    if std::env::var("SSHTRAIL_REQUIRE_LIVE").as_deref() == Ok("1") {
        panic!("{test}: {what}, and SSHTRAIL_REQUIRE_LIVE=1 (run scripts/install-deps)");
    }
    eprintln!("{test}: skipped: {what}");
}

fn utc(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Timestamp {
    Timestamp::from_civil_utc(y, mo, d, h, mi, s, 0).expect("valid civil time")
}

fn secs(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> i64 {
    utc(y, mo, d, h, mi, s).unix_seconds()
}

/// US Eastern-style rules since 1987. Compiled `-b slim`, the last transition listed is
/// 2007-03-11 (to EDT); everything after it is left to the footer `EST5EDT,M3.2.0,M11.1.0`.
const EASTERN_SOURCE: &str = "\
# Rule\tNAME\tFROM\tTO\t-\tIN\tON\tAT\tSAVE\tLETTER/S
Rule\tTest\t1987\t2006\t-\tApr\tSun>=1\t2:00\t1:00\tD
Rule\tTest\t1987\t2006\t-\tOct\tlastSun\t2:00\t0\tS
Rule\tTest\t2007\tmax\t-\tMar\tSun>=8\t2:00\t1:00\tD
Rule\tTest\t2007\tmax\t-\tNov\tSun>=1\t2:00\t0\tS
# Zone\tNAME\t\tSTDOFF\tRULES\tFORMAT
Zone\tTest/Eastern\t-5:00\tTest\tE%sT
";

/// The system's `zic`, on PATH or where Debian puts it.
fn zic() -> Option<PathBuf> {
    ["zic", "/usr/sbin/zic", "/sbin/zic"]
        .into_iter()
        .map(PathBuf::from)
        .find(|zic| {
            Command::new(zic)
                .arg("--version")
                .output()
                .is_ok_and(|out| out.status.success())
        })
}

/// Compiles `source` with `zic -b <bloat>` into a fresh directory; the zone files' root.
fn compile(zic: &Path, source: &str, bloat: &str, label: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("tz-{label}-{bloat}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    let src = dir.join("source.zi");
    std::fs::write(&src, source).expect("write tzdata source");
    let out = dir.join("zoneinfo");
    let status = Command::new(zic)
        .args(["-b", bloat, "-d"])
        .arg(&out)
        .arg(&src)
        .status()
        .expect("run zic");
    assert!(status.success(), "zic -b {bloat} failed: {status}");
    out
}

#[test]
fn slim_zone_file_follows_its_posix_footer_after_the_last_transition() {
    let test = "slim_zone_file_follows_its_posix_footer_after_the_last_transition";
    let Some(zic) = zic() else {
        return missing(test, "zic is not installed");
    };
    let root = compile(&zic, EASTERN_SOURCE, "slim", "eastern");
    let path = root.join("Test/Eastern");
    // It is a slim file that leaves the future to its footer.
    let data = std::fs::read(&path).expect("read compiled zone");
    assert!(data.starts_with(b"TZif"), "not TZif");
    assert!(data.len() < 1024, "not slim: {} bytes", data.len());
    assert!(
        data.ends_with(b"\nEST5EDT,M3.2.0,M11.1.0\n"),
        "no POSIX footer"
    );

    let tz = TimeZone::from_setting(path.to_str().expect("UTF-8 temp path")).expect("load");
    const EST: i32 = -5 * 3600;
    const EDT: i32 = -4 * 3600;
    // Inside the listed transitions.
    assert_eq!(tz.offset_at(secs(1990, 1, 15, 12, 0, 0)), EST);
    assert_eq!(tz.offset_at(secs(1990, 7, 15, 12, 0, 0)), EDT);
    // After the last one (2007-03-11): only the footer knows.
    assert_eq!(tz.offset_at(secs(2026, 1, 15, 12, 0, 0)), EST);
    assert_eq!(tz.offset_at(secs(2045, 1, 15, 12, 0, 0)), EST);
    assert_eq!(tz.offset_at(secs(2045, 7, 15, 12, 0, 0)), EDT);
    assert_eq!(tz.offset_at(secs(2045, 12, 15, 12, 0, 0)), EST);
    // 2045: DST from Sunday 12 March 02:00 EST to Sunday 5 November 02:00 EDT.
    assert_eq!(tz.offset_at(secs(2045, 3, 12, 6, 59, 59)), EST);
    assert_eq!(tz.offset_at(secs(2045, 3, 12, 7, 0, 0)), EDT);
    assert_eq!(tz.offset_at(secs(2045, 11, 5, 5, 59, 59)), EDT);
    assert_eq!(tz.offset_at(secs(2045, 11, 5, 6, 0, 0)), EST);
    // Local civil time to UTC, the way RFC 3164 lines are read.
    let cases = [
        (utc(2045, 7, 4, 12, 0, 0), "2045-07-04T16:00:00.000000Z"),
        (utc(2045, 12, 25, 12, 0, 0), "2045-12-25T17:00:00.000000Z"),
        // The repeated 01:xx of 5 November: its first occurrence (EDT).
        (utc(2045, 11, 5, 1, 30, 0), "2045-11-05T05:30:00.000000Z"),
        // The skipped 02:xx of 12 March: read with the offset before the gap (EST).
        (utc(2045, 3, 12, 2, 30, 0), "2045-03-12T07:30:00.000000Z"),
    ];
    for (local, want) in cases {
        assert_eq!(tz.local_to_utc(local).to_rfc3339(), want, "local {local}");
    }
}

#[test]
fn slim_and_fat_builds_of_one_source_agree_hour_by_hour() {
    let test = "slim_and_fat_builds_of_one_source_agree_hour_by_hour";
    let Some(zic) = zic() else {
        return missing(test, "zic is not installed");
    };
    let load = |bloat: &str| {
        let root = compile(&zic, EASTERN_SOURCE, bloat, "agree");
        let path = root.join("Test/Eastern");
        TimeZone::from_setting(path.to_str().expect("UTF-8 temp path")).expect("load")
    };
    let (slim, fat) = (load("slim"), load("fat"));
    // Fat files list transitions up to 2037; slim ones stop at 2007.
    let (start, end) = (secs(1986, 1, 1, 0, 0, 0), secs(2037, 12, 31, 0, 0, 0));
    let mut dst_hours = 0;
    for t in (start..end).step_by(3600) {
        assert_eq!(slim.offset_at(t), fat.offset_at(t), "at {t}");
        dst_hours += usize::from(slim.offset_at(t) == -4 * 3600);
    }
    // About 7 to 8 months of DST a year over 51 years.
    assert!(dst_hours > 51 * 200 * 24, "{dst_hours} DST hours");
}

/// Europe/Berlin from the system's tzdata.
fn berlin(test: &str) -> Option<TimeZone> {
    match TimeZone::from_setting("Europe/Berlin") {
        Ok(tz) => Some(tz),
        Err(e) => {
            missing(test, &format!("Europe/Berlin: {e} (is tzdata installed?)"));
            None
        }
    }
}

#[test]
fn berlin_repeated_hour_takes_the_first_occurrence() {
    let Some(tz) = berlin("berlin_repeated_hour_takes_the_first_occurrence") else {
        return;
    };
    // 2026-10-25: 03:00 CEST becomes 02:00 CET at 01:00 UTC; 02:00-02:59 comes twice.
    assert_eq!(tz.offset_at(secs(2026, 10, 25, 0, 59, 59)), 7200);
    assert_eq!(tz.offset_at(secs(2026, 10, 25, 1, 0, 0)), 3600);
    let cases = [
        (utc(2026, 10, 25, 1, 59, 59), "2026-10-24T23:59:59.000000Z"),
        // Both 00:00Z (CEST) and 01:00Z (CET) show 02:00; the earlier offset wins.
        (utc(2026, 10, 25, 2, 0, 0), "2026-10-25T00:00:00.000000Z"),
        (utc(2026, 10, 25, 2, 30, 0), "2026-10-25T00:30:00.000000Z"),
        (utc(2026, 10, 25, 2, 59, 59), "2026-10-25T00:59:59.000000Z"),
        (utc(2026, 10, 25, 3, 0, 0), "2026-10-25T02:00:00.000000Z"),
    ];
    for (local, want) in cases {
        assert_eq!(tz.local_to_utc(local).to_rfc3339(), want, "local {local}");
    }
    // Microseconds pass through.
    let local = Timestamp(utc(2026, 10, 25, 2, 30, 0).0 + 123_456);
    assert_eq!(
        tz.local_to_utc(local).to_rfc3339(),
        "2026-10-25T00:30:00.123456Z"
    );
}

#[test]
fn berlin_skipped_hour_reads_with_the_offset_before_the_gap() {
    let Some(tz) = berlin("berlin_skipped_hour_reads_with_the_offset_before_the_gap") else {
        return;
    };
    // 2026-03-29: 02:00 CET becomes 03:00 CEST at 01:00 UTC; 02:00-02:59 never shows.
    assert_eq!(tz.offset_at(secs(2026, 3, 29, 0, 59, 59)), 3600);
    assert_eq!(tz.offset_at(secs(2026, 3, 29, 1, 0, 0)), 7200);
    let cases = [
        (utc(2026, 3, 29, 1, 59, 59), "2026-03-29T00:59:59.000000Z"),
        // Read with CET (+01:00), the offset before the gap: the instant 03:00 CEST.
        (utc(2026, 3, 29, 2, 0, 0), "2026-03-29T01:00:00.000000Z"),
        (utc(2026, 3, 29, 2, 30, 0), "2026-03-29T01:30:00.000000Z"),
        (utc(2026, 3, 29, 2, 59, 59), "2026-03-29T01:59:59.000000Z"),
        // 03:00 CEST is the same instant as the gap's 02:00 read with CET.
        (utc(2026, 3, 29, 3, 0, 0), "2026-03-29T01:00:00.000000Z"),
        (utc(2026, 3, 29, 3, 30, 0), "2026-03-29T01:30:00.000000Z"),
    ];
    for (local, want) in cases {
        assert_eq!(tz.local_to_utc(local).to_rfc3339(), want, "local {local}");
    }
}

#[test]
fn berlin_past_the_system_files_last_transition() {
    let Some(tz) = berlin("berlin_past_the_system_files_last_transition") else {
        return;
    };
    // Debian's files list transitions to 2037 at most; later years come from the footer.
    for year in [2026, 2037, 2038, 2045, 2100] {
        assert_eq!(tz.offset_at(secs(year, 1, 15, 12, 0, 0)), 3600, "{year}-01");
        assert_eq!(tz.offset_at(secs(year, 7, 15, 12, 0, 0)), 7200, "{year}-07");
    }
    // Last Sunday of March 2045 is the 26th, of October the 29th.
    assert_eq!(tz.offset_at(secs(2045, 3, 26, 0, 59, 59)), 3600);
    assert_eq!(tz.offset_at(secs(2045, 3, 26, 1, 0, 0)), 7200);
    assert_eq!(tz.offset_at(secs(2045, 10, 29, 0, 59, 59)), 7200);
    assert_eq!(tz.offset_at(secs(2045, 10, 29, 1, 0, 0)), 3600);
}
