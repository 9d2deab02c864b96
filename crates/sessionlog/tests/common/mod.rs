//! Shared fixtures. Every value here is synthetic (fabricated for the tests): protocol kinds
//! only an SSH server or terminal recorder produces have no real source on this host yet.
#![allow(dead_code)]

use std::collections::BTreeMap;

use sshtrail_sessionlog::{Action, AuthMethod, Header, Login, Message, Stream, Writer};

pub const T0: u64 = 1_795_430_400_000; // 2026-11-23T10:40:00Z

pub fn header() -> Header {
    Header {
        session_id: "5e1f0c2a9b7d-3c4d5e6f-42".into(),
        host: "web1.example".into(),
        machine_id: "5e1f0c2a9b7d4e8f9a0b1c2d3e4f5a6b".into(),
        boot_id: "3c4d5e6f-0000-4000-8000-000000000001".into(),
        created_ms: T0,
    }
}

/// One message of every kind, with distinct values in every field.
pub fn one_of_each() -> Vec<Message> {
    let details: BTreeMap<String, String> = [
        ("key_type".to_string(), "ED25519".to_string()),
        ("fingerprint".to_string(), "SHA256:Zm9vYmFy".to_string()),
    ]
    .into();
    vec![
        Message::Connect {
            remote_addr: "192.0.2.7:59145".into(),
            local_addr: "192.0.2.1:22".into(),
            connection_id: "c0ffee".into(),
        },
        Message::HandshakeSuccess {
            client_version: "SSH-2.0-OpenSSH_9.2p1".into(),
        },
        Message::HandshakeFailure {
            client_version: "SSH-2.0-scanner".into(),
            reason: "no matching kex".into(),
        },
        Message::AuthAttempt {
            user: "alice".into(),
            method: AuthMethod::None,
        },
        Message::AuthFailure {
            user: "alice".into(),
            method: AuthMethod::Password,
            reason: "wrong password".into(),
        },
        Message::AuthAttempt {
            user: "alice".into(),
            method: AuthMethod::KeyboardInteractive,
        },
        Message::AuthAttempt {
            user: "alice".into(),
            method: AuthMethod::Gssapi {
                principal: "alice@EXAMPLE.ORG".into(),
            },
        },
        Message::AuthAttempt {
            user: "alice".into(),
            method: AuthMethod::Publickey {
                key_type: "ssh-ed25519".into(),
                fingerprint: "SHA256:abc".into(),
            },
        },
        Message::AuthSuccess {
            user: "alice".into(),
            method: AuthMethod::Certificate {
                key_type: "ssh-ed25519-cert-v01@openssh.com".into(),
                fingerprint: "SHA256:def".into(),
                key_id: "alice@corp".into(),
                serial: 77,
                ca_key_type: "ED25519".into(),
                ca_fingerprint: "SHA256:ca".into(),
            },
        },
        Message::GlobalRequest {
            request_type: "keepalive@openssh.com".into(),
            want_reply: true,
        },
        Message::ChannelOpen {
            channel: 0,
            channel_type: "session".into(),
        },
        Message::Pty {
            channel: 0,
            term: "xterm-256color".into(),
            columns: 132,
            rows: 43,
            width_px: 1056,
            height_px: 688,
            modes: vec![1, 0, 0, 0, 3, 53, 0, 0, 0, 1, 0],
        },
        Message::Env {
            channel: 0,
            name: "LANG".into(),
            value: "C.UTF-8".into(),
        },
        Message::X11 {
            channel: 0,
            single_connection: false,
            auth_protocol: "MIT-MAGIC-COOKIE-1".into(),
            screen: 0,
        },
        Message::Shell { channel: 0 },
        Message::Exec {
            channel: 1,
            program: "uptime".into(),
        },
        Message::Subsystem {
            channel: 2,
            subsystem: "sftp".into(),
        },
        Message::WindowChange {
            channel: 0,
            columns: 100,
            rows: 30,
            width_px: 800,
            height_px: 480,
        },
        Message::Io {
            channel: 0,
            stream: Stream::Stdin,
            data: b"ls -l\r".to_vec(),
        },
        Message::Io {
            channel: 0,
            stream: Stream::Stdout,
            data: b"total 0\r\n\xff\x00binary".to_vec(),
        },
        Message::Io {
            channel: 0,
            stream: Stream::Stderr,
            data: b"ls: cannot access".to_vec(),
        },
        Message::StreamTotal {
            channel: 0,
            stream: Stream::Stdout,
            bytes: 52_428_800,
            sha256: vec![0xab; 32],
        },
        Message::RecordingGap {
            channel: 0,
            stream: Stream::Stdout,
            from: 4096,
            to: 65_536,
        },
        Message::Signal {
            channel: 0,
            signal: "INT".into(),
        },
        Message::DirectTcpip {
            channel: 3,
            host: "db.internal".into(),
            port: 5432,
            originator_host: "127.0.0.1".into(),
            originator_port: 40000,
        },
        Message::TcpipForward {
            bind_host: "localhost".into(),
            bind_port: 8080,
        },
        Message::ForwardedTcpip {
            channel: 4,
            bind_host: "localhost".into(),
            bind_port: 8080,
            originator_host: "198.51.100.3".into(),
            originator_port: 51000,
        },
        Message::CancelTcpipForward {
            bind_host: "localhost".into(),
            bind_port: 8080,
        },
        Message::ExitStatus {
            channel: 1,
            status: 0,
        },
        Message::ExitSignal {
            channel: 0,
            signal: "SEGV".into(),
            core_dumped: true,
            message: "boom".into(),
        },
        Message::ChannelClose { channel: 0 },
        Message::Login(Login {
            user: "alice".into(),
            user_id: "alice".into(),
            method: "publickey".into(),
            source_ip: "127.0.0.1".into(),
            source_port: Some(59145),
            pid: Some(3_076_344),
            audit_session: Some("12".into()),
            details,
        }),
        Message::Action(Action {
            action: "executed".into(),
            succeeded: true,
            record_type: "SYSCALL".into(),
            sequence: Some(123_456),
            pid: "3076400".into(),
            ppid: "3076344".into(),
            uid: "alice".into(),
            euid: "alice".into(),
            exe: "/usr/bin/id".into(),
            cwd: "/home/alice".into(),
            argv: vec!["id".into(), "-u".into()],
            object_type: "file".into(),
            object_primary: "/usr/bin/id".into(),
            object_secondary: String::new(),
            keys: vec!["exec".into()],
            details: BTreeMap::new(),
        }),
        Message::TtyInput {
            pid: "3076344".into(),
            data: b"id -u\r".to_vec(),
        },
        Message::Logout {
            reason: "disconnected by user".into(),
            duration_ms: 61_500,
        },
        Message::Disconnect {
            reason: "client closed".into(),
        },
    ]
}

/// A sealed log holding `messages`, one per second from T0 + 1 s; returns bytes and digest.
pub fn log_of(messages: &[Message]) -> (Vec<u8>, String) {
    let mut w = Writer::create(Vec::new(), &header()).expect("write to Vec");
    for (i, m) in messages.iter().enumerate() {
        w.append(T0 + 1000 * (i as u64 + 1), m).expect("append");
    }
    let end = T0 + 1000 * (messages.len() as u64 + 1);
    w.finish_at(end).expect("finish")
}

/// Offsets of every frame of a sealed log: header, records, end; plus the file length.
pub fn frame_offsets(bytes: &[u8]) -> Vec<u64> {
    let mut reader = sshtrail_sessionlog::Reader::new(bytes).expect("valid log");
    let mut offsets = vec![12];
    for e in reader.by_ref() {
        offsets.push(e.expect("valid record").offset);
    }
    let end = reader.end().expect("sealed");
    offsets.push(end.offset);
    offsets.push(bytes.len() as u64);
    offsets
}
