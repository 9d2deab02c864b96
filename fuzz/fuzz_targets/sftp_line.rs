//! Any bytes as an SFTP server message: parse, decode and show every name, and check that
//! what the parser returns is really in the line.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sshtrail_sshd::{parse_sftp, SftpEvent, SftpPath, TwoNames};

fn check_path(line: &str, path: &SftpPath<'_>) {
    assert!(line.contains(path.raw));
    let shown = path.display();
    match path.bytes() {
        // Shown text without a backslash is the name itself; with one, the escaped form.
        Some(bytes) if !shown.contains('\\') => assert_eq!(shown.as_bytes(), &bytes[..]),
        _ => assert_eq!(&*shown, path.raw),
    }
}

fuzz_target!(|data: &[u8]| {
    let line = String::from_utf8_lossy(data);
    let event = parse_sftp(&line);
    if line.trim_end_matches('\n').len() >= sshtrail_sshd::sftp::MESSAGE_LIMIT {
        assert_eq!(event, SftpEvent::Other);
    }
    match &event {
        SftpEvent::Open { path, .. }
        | SftpEvent::Close { path, .. }
        | SftpEvent::OpenDir { path }
        | SftpEvent::CloseDir { path }
        | SftpEvent::Remove { path }
        | SftpEvent::MakeDir { path, .. }
        | SftpEvent::RemoveDir { path }
        | SftpEvent::SetStat { path, .. } => check_path(&line, path),
        SftpEvent::TwoNames { names, .. } => match names {
            TwoNames::Split { old, new } => {
                check_path(&line, old);
                check_path(&line, new);
                assert!(line.contains(&format!("\"{}\" new \"{}\"", old.raw, new.raw)));
            }
            TwoNames::Ambiguous { raw } => assert!(line.contains(raw)),
        },
        SftpEvent::SessionOpened { user, ip } | SftpEvent::SessionClosed { user, ip } => {
            assert!(line.contains(&format!("{user} from [{ip}]")));
        }
        SftpEvent::SentStatus { status } => assert!(line.contains(status)),
        SftpEvent::Refused { text } => assert!(line.contains(text)),
        SftpEvent::Other => {}
    }
});
