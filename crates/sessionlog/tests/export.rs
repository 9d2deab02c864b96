//! Exports: JSON lines, the text timeline and asciinema v2.

mod common;

use serde_json::Value;
use sshtrail_sessionlog::export::{asciinema, json_lines, text};
use sshtrail_sessionlog::{Action, Error, Login, Message, Reader, Stream, Writer};

use common::{header, log_of, one_of_each, T0};

fn io(stream: Stream, data: &[u8]) -> Message {
    Message::Io {
        channel: 0,
        stream,
        data: data.to_vec(),
    }
}

/// A terminal session (synthetic): pty 120x40, a command typed, output with a UTF-8
/// character split across two records, a resize.
fn terminal_log() -> Vec<u8> {
    let mut w = Writer::create(Vec::new(), &header()).unwrap();
    let records = [
        (
            T0 + 100,
            Message::Login(Login {
                user: "alice".into(),
                ..Login::default()
            }),
        ),
        (
            T0 + 200,
            Message::Pty {
                channel: 0,
                term: "xterm-256color".into(),
                columns: 120,
                rows: 40,
                width_px: 0,
                height_px: 0,
                modes: vec![],
            },
        ),
        (T0 + 1_500, io(Stream::Stdin, b"ls\r")),
        (T0 + 1_600, io(Stream::Stdout, b"caf\xc3")), // "é" starts here…
        (
            T0 + 1_700,
            io(Stream::Stdout, b"\xa9 \x1b[1mbold\x1b[0m\r\n"),
        ), // …ends here
        (
            T0 + 2_250,
            Message::WindowChange {
                channel: 0,
                columns: 80,
                rows: 25,
                width_px: 0,
                height_px: 0,
            },
        ),
        (T0 + 3_000, io(Stream::Stderr, b"oops\xff\r\n")),
    ];
    for (t, m) in &records {
        w.append(*t, m).unwrap();
    }
    w.finish_at(T0 + 4_000).unwrap().0
}

#[test]
fn asciinema_has_the_header_and_timed_events() {
    let bytes = terminal_log();
    let mut out = Vec::new();
    assert!(asciinema(Reader::new(&bytes[..]).unwrap(), &mut out).unwrap());
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let h = &lines[0];
    assert_eq!(h["version"], 2);
    assert_eq!(
        (h["width"].as_u64(), h["height"].as_u64()),
        (Some(120), Some(40))
    );
    assert_eq!(h["timestamp"].as_u64(), Some(T0 / 1000));
    assert_eq!(h["env"]["TERM"], "xterm-256color");
    assert!(h["title"].as_str().unwrap().contains("alice@web1.example"));

    let events: Vec<(f64, String, String)> = lines[1..]
        .iter()
        .map(|e| {
            (
                e[0].as_f64().unwrap(),
                e[1].as_str().unwrap().to_string(),
                e[2].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected = [
        (1.5, "i", "ls\r"),
        (1.6, "o", "caf"),
        // The split character is carried over whole, never as two replacement characters.
        (1.7, "o", "é \u{1b}[1mbold\u{1b}[0m\r\n"),
        (2.25, "r", "80x25"),
        (3.0, "o", "oops\u{fffd}\r\n"),
    ];
    assert_eq!(events.len(), expected.len(), "{events:?}");
    for ((t, code, data), (et, ecode, edata)) in events.iter().zip(expected) {
        assert!((t - et).abs() < 1e-9, "{t} vs {et}");
        assert_eq!((code.as_str(), data.as_str()), (ecode, edata));
    }
}

#[test]
fn asciinema_declines_a_log_without_terminal_data() {
    let (bytes, _) = log_of(&one_of_each()[..3]);
    let mut out = Vec::new();
    assert!(!asciinema(Reader::new(&bytes[..]).unwrap(), &mut out).unwrap());
    assert!(out.is_empty());
}

fn hostile_action() -> Message {
    Message::Action(Action {
        action: "executed".into(),
        succeeded: true,
        exe: "/usr/bin/printf".into(),
        object_primary: "/usr/bin/printf".into(),
        argv: vec![
            "printf".into(),
            "\x1b]0;owned\x07\x1b[2J".into(),
            "a b".into(),
            "\u{202e}txt.exe".into(),
        ],
        pid: "4242".into(),
        uid: "alice".into(),
        euid: "alice".into(),
        ..Action::default()
    })
}

#[test]
fn the_text_timeline_is_one_safe_line_per_record() {
    let mut messages = one_of_each();
    messages.push(hostile_action());
    messages.push(io(Stream::Stdout, b"\x1b[31mred\x1b[0m\n\x9b2J"));
    let (bytes, digest) = log_of(&messages);
    let mut out = Vec::new();
    let n = text(Reader::new(&bytes[..]).unwrap(), &mut out).unwrap();
    assert_eq!(n, messages.len() as u64);
    // Never a raw control character (other than the line ends), C1 control or bidi override.
    let s = String::from_utf8(out).unwrap();
    assert!(!s
        .chars()
        .any(|c| (c.is_control() && c != '\n') || c == '\u{202e}'));
    let lines: Vec<&str> = s.lines().collect();
    assert_eq!(lines.len(), 1 + messages.len() + 1, "header, records, end");
    assert!(lines[0].starts_with("2026-11-23T10:40:00.000Z  session  5e1f0c2a9b7d-3c4d5e6f-42"));
    let login = lines.iter().find(|l| l.contains("  login  ")).unwrap();
    assert!(
        login.ends_with(
            "login  alice from 127.0.0.1:59145 publickey ED25519 SHA256:Zm9vYmFy pid 3076344 ses 12"
        ),
        "{login}"
    );
    let exec = lines.iter().find(|l| l.contains("/usr/bin/id")).unwrap();
    assert!(
        exec.contains("executed  /usr/bin/id  argv: id -u"),
        "{exec}"
    );
    let hostile = lines.iter().find(|l| l.contains("printf")).unwrap();
    assert!(
        hostile.contains(r"argv: printf \x1b]0;owned\x07\x1b[2J 'a b' \u{202e}txt.exe"),
        "{hostile}"
    );
    assert!(lines
        .iter()
        .any(|l| l.contains(r#"stdout  ch 0 "\x1b[31mred\x1b[0m\n\x9b2J""#)));
    assert!(lines.last().unwrap().contains(&digest));
}

#[test]
fn json_lines_has_the_header_then_one_object_per_record_then_the_seal() {
    let messages = one_of_each();
    let (bytes, digest) = log_of(&messages);
    let mut out = Vec::new();
    json_lines(Reader::new(&bytes[..]).unwrap(), &mut out).unwrap();
    let lines: Vec<Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), messages.len() + 2);
    assert_eq!(lines[0]["kind"], "header");
    assert_eq!(lines[0]["session_id"], header().session_id);
    assert_eq!(lines[0]["format_version"], 1);
    for (i, m) in messages.iter().enumerate() {
        let line = &lines[i + 1];
        assert_eq!(line["index"], i as u64);
        assert_eq!(line["kind"], m.kind_name());
        assert_eq!(line["time"], format!("2026-11-23T10:40:{:02}.000Z", i + 1));
        // The rest of the object is the message itself.
        let mut fields = line.as_object().unwrap().clone();
        fields.remove("index");
        fields.remove("time");
        let back: Message = serde_json::from_value(Value::Object(fields)).unwrap();
        assert_eq!(&back, m);
    }
    let end = lines.last().unwrap();
    assert_eq!(end["kind"], "end");
    assert_eq!(end["records"], messages.len() as u64);
    assert_eq!(end["digest"], digest);
}

#[test]
fn exports_of_a_torn_log_give_what_there_is_and_then_the_error() {
    let (bytes, _) = log_of(&one_of_each());
    let torn = &bytes[..bytes.len() - 30];
    let mut out = Vec::new();
    let err = json_lines(Reader::new(torn).unwrap(), &mut out).unwrap_err();
    assert!(matches!(err, Error::Decode(ref e) if e.is_torn()), "{err}");
    let lines = String::from_utf8(out).unwrap().lines().count();
    assert_eq!(
        lines,
        1 + one_of_each().len() - 1,
        "header and every whole record"
    );

    let mut out = Vec::new();
    assert!(text(Reader::new(torn).unwrap(), &mut out).is_err());
    assert_eq!(
        String::from_utf8(out).unwrap().lines().count(),
        one_of_each().len()
    );
}

#[test]
fn json_lines_put_index_time_and_kind_first() {
    let (bytes, _) = log_of(&one_of_each()[..1]);
    let mut out = Vec::new();
    json_lines(Reader::new(&bytes[..]).unwrap(), &mut out).unwrap();
    let s = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = s.lines().collect();
    assert!(lines[0].starts_with(r#"{"kind":"header","time":"2026-11-23T10:40:00.000Z","#));
    assert!(
        lines[1].starts_with(r#"{"index":0,"time":"2026-11-23T10:40:01.000Z","kind":"connect","#),
        "{}",
        lines[1]
    );
    assert!(lines[2].starts_with(r#"{"index":1,"time":"2026-11-23T10:40:02.000Z","kind":"end","#));
}
