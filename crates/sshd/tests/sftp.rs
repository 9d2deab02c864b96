//! What OpenSSH's SFTP server logs, and what [`parse_sftp`] makes of it.
//!
//! The fixture, tests/data/debian12-sftp-journal.json, is `journalctl -o json` output from
//! OpenSSH 9.2p1 on Debian 12: five SFTP sessions of one account (four through the exec'd
//! `/usr/lib/openssh/sftp-server -l INFO`, one through `internal-sftp`), uploading,
//! downloading, renaming and removing files whose names hold spaces, quotes, a newline, a
//! tab, a backslash, bytes that are not UTF-8 and UTF-8.
//!
//! The lines in `CAPTURED` come from the same sftp-server binary, driven over its stdin with
//! hand-made SFTP requests and logging to a private `/dev/log` (a mount namespace with its
//! own socket, so the machine's journal saw none of it); they are the syslog messages as
//! journald would store them in MESSAGE. They cover what a real client rarely sends: every
//! byte value in a name, names that imitate the line around them, names long enough to be
//! cut, empty flags, extreme modes and times, and the `Refusing …` lines of `-l VERBOSE`.

use proptest::prelude::*;
use sshtrail_sshd::sftp::MESSAGE_LIMIT;
use sshtrail_sshd::{
    parse_sftp, Format, Framed, Framer, SetStatChange, SftpEvent, SftpPath, TimeZone, TwoNameOp,
    TwoNames,
};
use std::collections::BTreeMap;

fn fixture() -> Vec<Framed<'static>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/debian12-sftp-journal.json"
    );
    let text: &'static str = Box::leak(std::fs::read_to_string(path).unwrap().into_boxed_str());
    let framer = Framer::new(Format::JournalJson, TimeZone::Utc);
    text.lines().map(|l| framer.frame(l).unwrap()).collect()
}

/// One event as a line of text, names as [`SftpPath::display`] shows them.
fn show(event: &SftpEvent<'_>) -> String {
    let two = |op: &TwoNameOp, names: &TwoNames<'_>| match names {
        TwoNames::Split { old, new } => {
            format!("{} {} -> {}", op.as_str(), old.display(), new.display())
        }
        TwoNames::Ambiguous { raw } => format!("{} ambiguous {raw}", op.as_str()),
    };
    match event {
        SftpEvent::SessionOpened { user, ip } => format!("session opened {user} {ip}"),
        SftpEvent::SessionClosed { user, ip } => format!("session closed {user} {ip}"),
        SftpEvent::Open { path, flags, mode } => {
            format!("open {} [{flags}] {mode:o}", path.display())
        }
        SftpEvent::Close {
            path,
            read,
            written,
        } => format!("close {} r={read} w={written}", path.display()),
        SftpEvent::OpenDir { path } => format!("opendir {}", path.display()),
        SftpEvent::CloseDir { path } => format!("closedir {}", path.display()),
        SftpEvent::Remove { path } => format!("remove {}", path.display()),
        SftpEvent::MakeDir { path, mode } => format!("mkdir {} {mode:o}", path.display()),
        SftpEvent::RemoveDir { path } => format!("rmdir {}", path.display()),
        SftpEvent::TwoNames { op, names } => two(op, names),
        SftpEvent::SetStat { path, change } => match change {
            SetStatChange::Size(n) => format!("set {} size={n}", path.display()),
            SetStatChange::Mode(m) => format!("set {} mode={m:o}", path.display()),
            SetStatChange::ModTime(t) => format!("set {} modtime={t}", path.display()),
            SetStatChange::Owner { uid, gid } => {
                format!("set {} owner={uid} group={gid}", path.display())
            }
        },
        SftpEvent::SentStatus { status } => format!("status {status}"),
        SftpEvent::Refused { text } => format!("refused {text}"),
        SftpEvent::Other => "other".to_string(),
    }
}

/// The fixture, line by line, as the parser must read it (`~` is /home/sshtrail-alice).
const FIXTURE_EVENTS: &str = r#"
session opened sshtrail-alice 127.0.0.1
open ~/up file.txt [WRITE,CREATE,TRUNCATE] 644
close ~/up file.txt r=0 w=12
open ~/big.bin [WRITE,CREATE,TRUNCATE] 644
close ~/big.bin r=0 w=10000
open ~/big.bin [READ] 666
close ~/big.bin r=10000 w=0
posix-rename ~/up file.txt -> ~/it's renamed.txt
mkdir ~/newdir 777
set ~/big.bin mode=600
remove ~/big.bin
rmdir ~/newdir
opendir ~
closedir ~
session closed sshtrail-alice 127.0.0.1
session opened sshtrail-alice 127.0.0.1
status No such file
open scp_up.bin [WRITE,CREATE] 644
set scp_up.bin size=10000
close scp_up.bin r=0 w=10000
session closed sshtrail-alice 127.0.0.1
session opened sshtrail-alice 127.0.0.1
open scp_up.bin [READ] 666
close scp_up.bin r=10000 w=0
session closed sshtrail-alice 127.0.0.1
session opened sshtrail-alice 127.0.0.1
mkdir ~/w 777
open ~/w/big.bin [WRITE,CREATE,TRUNCATE] 644
close ~/w/big.bin r=0 w=10000
open ~/w/café ☃.txt [WRITE,CREATE,TRUNCATE] 644
close ~/w/café ☃.txt r=0 w=7
open ~/w/got.bin [WRITE,CREATE,TRUNCATE] 644
close ~/w/got.bin r=0 w=10000
open ~/w/new\nline.txt [WRITE,CREATE,TRUNCATE] 644
close ~/w/new\nline.txt r=0 w=7
open ~/w/q"uote" bytes read 0 written 99 [WRITE,CREATE,TRUNCATE] 644
close ~/w/q"uote" bytes read 0 written 99 r=0 w=7
open ~/w/scp_down.bin [WRITE,CREATE,TRUNCATE] 644
close ~/w/scp_down.bin r=0 w=10000
open ~/w/up file.txt [WRITE,CREATE,TRUNCATE] 644
close ~/w/up file.txt r=0 w=12
open ~/w/\377\376-bin\\slash\ttab.txt [WRITE,CREATE,TRUNCATE] 644
close ~/w/\377\376-bin\\slash\ttab.txt r=0 w=7
opendir ~/w/
closedir ~/w/
open ~/w/big.bin [READ] 666
close ~/w/big.bin r=10000 w=0
open ~/w/café ☃.txt [READ] 666
close ~/w/café ☃.txt r=7 w=0
open ~/w/got.bin [READ] 666
close ~/w/got.bin r=10000 w=0
open ~/w/new\nline.txt [READ] 666
close ~/w/new\nline.txt r=7 w=0
open ~/w/q"uote" bytes read 0 written 99 [READ] 666
close ~/w/q"uote" bytes read 0 written 99 r=7 w=0
open ~/w/scp_down.bin [READ] 666
close ~/w/scp_down.bin r=10000 w=0
open ~/w/up file.txt [READ] 666
close ~/w/up file.txt r=12 w=0
open ~/w/\377\376-bin\\slash\ttab.txt [READ] 666
close ~/w/\377\376-bin\\slash\ttab.txt r=7 w=0
posix-rename ~/w/q"uote" bytes read 0 written 99 -> ~/w/renamed "x"
opendir ~/w/
closedir ~/w/
remove ~/w/big.bin
remove ~/w/café ☃.txt
remove ~/w/got.bin
remove ~/w/new\nline.txt
remove ~/w/renamed "x"
remove ~/w/scp_down.bin
remove ~/w/up file.txt
remove ~/w/\377\376-bin\\slash\ttab.txt
rmdir ~/w
session closed sshtrail-alice 127.0.0.1
session opened sshtrail-alice 127.0.0.1
status No such file
open ~/x.bin [WRITE,CREATE,TRUNCATE] 644
close ~/x.bin r=0 w=10000
remove ~/x.bin
session closed sshtrail-alice 127.0.0.1
"#;

#[test]
fn every_line_of_the_fixture_is_understood() {
    let lines = fixture();
    assert_eq!(lines.len(), 80);
    let got: Vec<String> = lines
        .iter()
        .map(|f| show(&parse_sftp(&f.message)).replace("/home/sshtrail-alice", "~"))
        .collect();
    let want: Vec<&str> = FIXTURE_EVENTS.trim().lines().collect();
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g, w, "line {}: {}", i + 1, lines[i].message);
    }
    assert_eq!(got.len(), want.len());
}

#[test]
fn every_line_carries_the_audit_session_of_its_sftp_session() {
    // One sftp session = one server process = one SSH login = one kernel audit session.
    let mut sessions: BTreeMap<u32, (Option<u32>, Option<u32>)> = BTreeMap::new();
    for f in fixture() {
        assert!(f.is_sftp() && !f.is_sshd(), "{}", f.message);
        let ids = (f.audit_session, f.audit_loginuid);
        let pid = f.pid.unwrap();
        assert_eq!(*sessions.entry(pid).or_insert(ids), ids, "pid {pid}");
    }
    let want = [
        (3556, (Some(1), Some(1001))),
        (3667, (Some(2), Some(1001))),
        (3788, (Some(3), Some(1001))),
        (4841, (Some(4), Some(1001))),
        (6594, (Some(5), Some(1001))),
    ];
    assert_eq!(sessions.into_iter().collect::<Vec<_>>(), want);
}

#[test]
fn hostile_names_from_the_fixture_decode_to_their_bytes() {
    let lines = fixture();
    let path_of = |i: usize| match parse_sftp(&lines[i].message) {
        SftpEvent::Open { path, .. } => path,
        e => panic!("line {}: {e:?}", i + 1),
    };
    let home = |s: &str| format!("/home/sshtrail-alice/w/{s}").into_bytes();
    // UTF-8 is logged byte by byte in octal.
    let cafe = path_of(29);
    assert_eq!(
        cafe.raw,
        r"/home/sshtrail-alice/w/caf\303\251 \342\230\203.txt"
    );
    assert_eq!(cafe.bytes(), Some(home("café ☃.txt")));
    // A newline in a name cannot start a new log line.
    let newline = path_of(33);
    assert_eq!(newline.bytes(), Some(home("new\nline.txt")));
    assert_eq!(newline.display(), newline.raw);
    // Not UTF-8, with a backslash and a tab: shown escaped, decoded exactly.
    let binary = path_of(41);
    assert_eq!(
        binary.bytes().as_deref(),
        Some(&b"/home/sshtrail-alice/w/\xff\xfe-bin\\slash\ttab.txt"[..])
    );
    assert_eq!(binary.display(), binary.raw);
    // Quotes are not escaped: the name ends at the last quote, and its fake suffix is
    // part of the name, not the numbers.
    let SftpEvent::Close {
        path,
        read,
        written,
    } = parse_sftp(&lines[36].message)
    else {
        panic!("{}", lines[36].message)
    };
    assert_eq!(
        path.raw,
        r#"/home/sshtrail-alice/w/q"uote" bytes read 0 written 99"#
    );
    assert_eq!((read, written), (0, 7));
}

/// Messages logged by OpenSSH 9.2's sftp-server (see the top of this file), in the order it
/// logged them, with the event each one is.
const CAPTURED: &[(&str, &str)] = &[
    (
        "session opened for local user root from [192.0.2.7]",
        "session opened root 192.0.2.7",
    ),
    // Every byte from 1 to 127: C escapes where vis has one, octal for the rest, and the
    // printable ones (space and `"` included) as they are.
    (
        r##"open "c1-\001\002\003\004\005\006\a\b\t\n\v\f\r\016\017\020\021\022\023\024\025\026\027\030\031\032\033\034\035\036\037 !"#$%&'()*+,-.0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~\177" flags  mode 0666"##,
        r##"open c1-\001\002\003\004\005\006\a\b\t\n\v\f\r\016\017\020\021\022\023\024\025\026\027\030\031\032\033\034\035\036\037 !"#$%&'()*+,-.0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~\177 [] 666"##,
    ),
    ("sent status No such file", "status No such file"),
    // A name that is itself an escape: the backslashes are escaped.
    (
        r#"open "bs\\101\\" flags READ mode 00"#,
        r#"open bs\\101\\ [READ] 0"#,
    ),
    (
        r#"open "nul-next\\0" flags READ mode 0666"#,
        r#"open nul-next\\0 [READ] 666"#,
    ),
    // Renaming `a" new "b` to `c` and `a` to `b" new "c` log the same line.
    (
        r#"rename old "a" new "b" new "c""#,
        r#"rename ambiguous a" new "b" new "c"#,
    ),
    (
        r#"rename old "a" new " new "b" new "x""#,
        r#"rename ambiguous a" new " new "b" new "x"#,
    ),
    (r#"posix-rename old "p1" new "p2""#, "posix-rename p1 -> p2"),
    (
        r#"symlink old "target "x"" new "link""#,
        r#"symlink target "x" -> link"#,
    ),
    (
        r#"symlink old "a" new "b" new "c""#,
        r#"symlink ambiguous a" new "b" new "c"#,
    ),
    (r#"hardlink old "h1" new "h2""#, "hardlink h1 -> h2"),
    (r#"mkdir name "d1" mode 0777"#, "mkdir d1 777"),
    (r#"set "d1" size 123456789012"#, "set d1 size=123456789012"),
    (r#"set "d1" mode 104755"#, "set d1 mode=104755"),
    (r#"set "m.txt" mode 4755"#, "set m.txt mode=4755"),
    (
        r#"set "d1" modtime 19700101-00:00:00"#,
        "set d1 modtime=19700101-00:00:00",
    ),
    (
        r#"set "d1" modtime 21060207-06:28:15"#,
        "set d1 modtime=21060207-06:28:15",
    ),
    (
        r#"set "d1" owner 4294967295 group 0"#,
        "set d1 owner=4294967295 group=0",
    ),
    ("sent status Failure", "status Failure"),
    ("sent status Bad message", "status Bad message"),
    ("sent status Permission denied", "status Permission denied"),
    (r#"rmdir name "d1""#, "rmdir d1"),
    (r#"remove name "nope""#, "remove nope"),
    (
        r#"open "m.txt" flags READ,WRITE,APPEND,CREATE,TRUNCATE,EXCL mode 037777777777"#,
        "open m.txt [READ,WRITE,APPEND,CREATE,TRUNCATE,EXCL] 37777777777",
    ),
    (
        r#"open "m.txt" flags READ,WRITE mode 07"#,
        "open m.txt [READ,WRITE] 7",
    ),
    (r#"opendir ".""#, "opendir ."),
    (r#"opendir "nodir""#, "opendir nodir"),
    // At the end of a session, for each handle the client left open.
    (
        r#"forced close "a.txt" bytes read 0 written 5"#,
        "close a.txt r=0 w=5",
    ),
    (r#"forced closedir ".""#, "closedir ."),
    (
        "session closed for local user root from [192.0.2.7]",
        "session closed root 192.0.2.7",
    ),
    // -l VERBOSE, with -P remove and with -R.
    ("received client version 3", "other"),
    (
        "Refusing denylisted remove request",
        "refused Refusing denylisted remove request",
    ),
    (
        "Refusing remove request in read-only mode",
        "refused Refusing remove request in read-only mode",
    ),
    (
        "Refusing posix-rename request in read-only mode",
        "refused Refusing posix-rename request in read-only mode",
    ),
];

#[test]
fn captured_lines() {
    for (line, want) in CAPTURED {
        assert_eq!(show(&parse_sftp(line)), *want, "{line}");
    }
    let SftpEvent::Open { path, flags, .. } = parse_sftp(CAPTURED[1].0) else {
        unreachable!()
    };
    let every_byte: Vec<u8> = b"c1-"
        .iter()
        .copied()
        .chain((1..128).filter(|&b| b != b'/'))
        .collect();
    assert_eq!(path.bytes(), Some(every_byte));
    assert_eq!(flags, "", "no flags: two spaces before `mode`");
    let SftpEvent::Open { path, .. } = parse_sftp(CAPTURED[3].0) else {
        unreachable!()
    };
    assert_eq!(path.bytes(), Some(br"bs\101\".to_vec()));
}

/// An `open` line for `name`, as sftp-server builds it before syslog cuts it.
fn open_line(name: &str) -> String {
    format!(r#"open "{name}" flags READ mode 0666"#)
}

#[test]
fn lines_of_500_bytes_may_be_cut_and_are_other() {
    // Captured: 499 bytes is a whole line; the names one and two bytes longer came out as
    // 500 bytes, the second one without its last digit.
    let whole = open_line(&"a".repeat(471));
    assert_eq!(whole.len(), 499);
    assert!(matches!(
        parse_sftp(&whole),
        SftpEvent::Open { mode: 0o666, .. }
    ));
    let exact = open_line(&"b".repeat(472));
    let cut = open_line(&"c".repeat(473))[..500].to_string();
    assert!(cut.ends_with("mode 066"));
    // A client chose this name so that the cut leaves a line that looks whole: its real
    // flags and mode were cut off, and the ones shown are part of the name.
    let forged_name = format!("{}\" flags WRITE mode 0644tail", "d".repeat(471));
    let forged = open_line(&forged_name)[..500].to_string();
    assert!(forged.ends_with("\" flags WRITE mode 0644"));
    for line in [&exact, &cut, &forged] {
        assert_eq!(line.len(), MESSAGE_LIMIT);
        assert_eq!(parse_sftp(line), SftpEvent::Other, "{line}");
    }
    // Cut inside an escape (captured: every byte from 128 to 255, logged in octal).
    let high: String = (128..=255u32).map(|b| format!("\\{b:03o}")).collect();
    for verb in ["open", "forced close"] {
        let line = format!("{verb} \"c2-{high}\"")[..500].to_string();
        assert!(line.ends_with(r"\37"));
        assert_eq!(parse_sftp(&line), SftpEvent::Other);
    }
}

#[test]
fn fixture_lines_cut_at_the_limit_are_other() {
    // Whatever a line says, once its name pushes it past the limit it is cut and unusable.
    for f in fixture() {
        let Some(q) = f.message.find('"') else {
            continue;
        };
        let long = format!(
            "{}{}{}",
            &f.message[..=q],
            "x".repeat(MESSAGE_LIMIT),
            &f.message[q + 1..]
        );
        for len in [MESSAGE_LIMIT, MESSAGE_LIMIT + 1, long.len()] {
            let cut = &long[..len.min(long.len())];
            assert_eq!(parse_sftp(cut), SftpEvent::Other, "{cut}");
        }
    }
}

#[test]
fn lines_that_are_not_operations() {
    for line in [
        "",
        "\n",
        "\"",
        "\"\"",
        "open",
        "open \"",
        "open \"x\"",
        "open \"x\" flags READ",
        "open \"x\" flags READ mode 644",
        "open \"x\" flags READ mode 0648",
        "open \"x\" flags read mode 0644",
        "open \"x\" flags READ mode 0644 ",
        "open x flags READ mode 0644",
        "close \"x\" bytes read 1 written",
        "close \"x\" bytes read -1 written 2",
        "close \"x\" bytes read 1 written 2 [postauth]",
        "closed \"x\" bytes read 1 written 2",
        "error: close \"x\" bytes read 1 written 2",
        "opendir \"x\" extra",
        "remove \"x\"",
        "rename old \"a\"",
        "rename old \"a\" to \"b\"",
        "set \"x\" size",
        "set \"x\" mode 644",
        "set \"x\" modtime 20261202-063700",
        "set \"x\" owner 1",
        "set \"x\" flags 3",
        "sent status ",
        "session opened for local user root",
        "session opened for local user  from [1.2.3.4]",
        "session opened for local user root from []",
        "session opened for local user root from [1 2]",
        "Refusing",
        "realpath \".\"",
        "lstat name \"/tmp/sftpx/a.txt\"",
        "error: process_write: write: No space left on device",
    ] {
        assert_eq!(parse_sftp(line), SftpEvent::Other, "{line:?}");
    }
}

#[test]
fn a_trailing_newline_is_ignored() {
    assert_eq!(
        parse_sftp("remove name \"x\"\n"),
        SftpEvent::Remove {
            path: SftpPath { raw: "x" }
        }
    );
}

#[test]
fn malformed_escapes_keep_the_event_but_not_the_bytes() {
    // Not what OpenSSH writes; the operation is still certain, the name's bytes are not.
    let SftpEvent::Remove { path } = parse_sftp(r#"remove name "a\x\""#) else {
        panic!()
    };
    assert_eq!(path.bytes(), None);
    assert_eq!(path.display(), r"a\x\");
}

#[test]
fn two_names_split_only_when_certain() {
    let names = |line: &'static str| match parse_sftp(line) {
        SftpEvent::TwoNames { names, .. } => names,
        e => panic!("{line}: {e:?}"),
    };
    assert_eq!(
        names(r#"rename old "" new """#),
        TwoNames::Split {
            old: SftpPath { raw: "" },
            new: SftpPath { raw: "" }
        }
    );
    // The separator matches twice, overlapping: `a` → ` new "b` or `a" new` → `b`.
    assert_eq!(
        names(r#"hardlink old "a" new " new "b""#),
        TwoNames::Ambiguous {
            raw: r#"a" new " new "b"#
        }
    );
    assert_eq!(
        names(r#"rename old "a"new "b" new "c""#),
        TwoNames::Split {
            old: SftpPath { raw: r#"a"new "b"# },
            new: SftpPath { raw: "c" }
        }
    );
}

/// OpenSSH's `strnvis(VIS_CSTYLE | VIS_NL | VIS_TAB | VIS_OCTAL)` as the captures show it.
fn vis(name: &[u8]) -> String {
    let mut out = String::new();
    for (i, &b) in name.iter().enumerate() {
        match b {
            b'\\' => out.push_str(r"\\"),
            b'\n' => out.push_str(r"\n"),
            b'\t' => out.push_str(r"\t"),
            b'\r' => out.push_str(r"\r"),
            0x07 => out.push_str(r"\a"),
            0x08 => out.push_str(r"\b"),
            0x0b => out.push_str(r"\v"),
            0x0c => out.push_str(r"\f"),
            0 if !name.get(i + 1).is_some_and(|d| (b'0'..=b'7').contains(d)) => out.push_str(r"\0"),
            b' '..=b'~' => out.push(char::from(b)),
            _ => out.push_str(&format!("\\{b:03o}")),
        }
    }
    out
}

#[test]
fn the_test_vis_matches_openssh() {
    let c1: Vec<u8> = b"c1-"
        .iter()
        .copied()
        .chain((1..128).filter(|&b| b != b'/'))
        .collect();
    assert_eq!(
        format!("open \"{}\" flags  mode 0666", vis(&c1)),
        CAPTURED[1].0
    );
}

/// Names made of what imitates the text around a name, and of anything else.
fn name() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b"\"".to_vec()),
        Just(b"\" new \"".to_vec()),
        Just(b"\" bytes read 1 written 2".to_vec()),
        Just(b"\" flags READ mode 0644".to_vec()),
        Just(b"\" mode 0777".to_vec()),
        Just(b"\" size 9".to_vec()),
        Just(b"\\".to_vec()),
        Just(b"\\303".to_vec()),
        Just("é".as_bytes().to_vec()),
        prop::collection::vec(any::<u8>(), 0..4),
    ];
    prop::collection::vec(piece, 0..6).prop_map(|p| p.concat())
}

proptest! {
    #[test]
    fn any_name_round_trips(name in name(), other in name(), n in any::<u64>(), m in any::<u64>(),
                            mode in any::<u32>()) {
        let raw = vis(&name);
        let check = |line: String, want: &dyn Fn(&SftpEvent<'_>) -> bool| {
            let event = parse_sftp(&line);
            if line.len() >= MESSAGE_LIMIT {
                prop_assert_eq!(&event, &SftpEvent::Other);
            } else {
                prop_assert!(want(&event), "{}: {:?}", line, event);
            }
            Ok(())
        };
        let same = |p: &SftpPath<'_>| p.raw == raw && p.bytes().as_deref() == Some(&name[..]);
        check(format!("close \"{raw}\" bytes read {n} written {m}"), &|e| {
            matches!(e, SftpEvent::Close { path, read, written } if same(path) && (*read, *written) == (n, m))
        })?;
        check(format!("open \"{raw}\" flags WRITE,CREATE mode 0{mode:o}"), &|e| {
            matches!(e, SftpEvent::Open { path, flags: "WRITE,CREATE", mode: got } if same(path) && *got == mode)
        })?;
        check(format!("set \"{raw}\" mode {mode:04o}"), &|e| {
            matches!(e, SftpEvent::SetStat { path, change: SetStatChange::Mode(got) } if same(path) && *got == mode)
        })?;
        check(format!("remove name \"{raw}\""), &|e| matches!(e, SftpEvent::Remove { path } if same(path)))?;
        let new = vis(&other);
        let line = format!("rename old \"{raw}\" new \"{new}\"");
        check(line.clone(), &|e| match e {
            SftpEvent::TwoNames { op: TwoNameOp::Rename, names: TwoNames::Split { old, new: got } } => {
                same(old) && got.raw == new
            }
            SftpEvent::TwoNames { op: TwoNameOp::Rename, names: TwoNames::Ambiguous { raw: got } } => {
                // Only when a name holds the separator, and then nothing is dropped.
                (raw.contains("\" new ") || new.contains(" new \""))
                    && *got == format!("{raw}\" new \"{new}")
            }
            _ => false,
        })?;
    }

    #[test]
    fn shown_names_are_the_name_or_its_escapes(name in name()) {
        let raw = vis(&name);
        let path = SftpPath { raw: &raw };
        let shown = path.display();
        if shown.contains('\\') {
            prop_assert_eq!(&*shown, raw.as_str());
        } else {
            prop_assert_eq!(shown.as_bytes(), &name[..]);
        }
        prop_assert!(!shown.contains('\n'));
    }

    #[test]
    fn never_panics(line in ".{0,600}") {
        let _ = parse_sftp(&line);
    }
}
