//! The bytes between the recorder and the daemon's recording socket.
//!
//! Every frame is `kind: u8`, `len: u32` little-endian, then `len` bytes of payload; a
//! payload is at most [`MAX_PAYLOAD`]. Numbers are little-endian. The recorder speaks
//! first ([`Frame::Hello`]), the daemon answers once ([`Frame::Ack`]) with what its policy
//! lets the recorder send, then only the recorder talks.
//!
//! | kind | frame | payload |
//! |---:|---|---|
//! | 1 | `Hello` | JSON [`Hello`] |
//! | 2 | `Data` | stream `u8` (0 stdin, 1 stdout, 2 stderr), offset `u64`, time µs `u64`, bytes |
//! | 3 | `Resize` | time µs `u64`, cols `u16`, rows `u16` |
//! | 4 | `Exit` | time µs `u64`, status `i32` (exit code, or minus the signal), then per stream (stdin, stdout, stderr) bytes `u64` and SHA-256 `[u8; 32]` |
//! | 129 | `Ack` | JSON [`Ack`] |
//!
//! A stream's offsets count every byte the stream carried, sent or not: bytes the recorder
//! could not send (its queue was full, the daemon was away) show as a jump in the offsets,
//! so the daemon tells a gap from them alone, across a reconnection too.

use serde::{Deserialize, Serialize};
use std::io::{self, Read, Write};

/// Longest payload a frame may carry (a `Data` frame is cut to fit).
pub const MAX_PAYLOAD: usize = 1 << 20;

/// Bytes of a frame's head: kind and length.
pub const HEAD_LEN: usize = 5;

/// The version [`Hello::version`] carries.
pub const VERSION: u32 = 1;

/// Which of the session program's streams bytes belong to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stream {
    Stdin,
    Stdout,
    Stderr,
}

impl Stream {
    pub const ALL: [Stream; 3] = [Stream::Stdin, Stream::Stdout, Stream::Stderr];

    fn code(self) -> u8 {
        self as u8
    }

    fn from_code(code: u8) -> Result<Stream, FrameError> {
        match code {
            0 => Ok(Stream::Stdin),
            1 => Ok(Stream::Stdout),
            2 => Ok(Stream::Stderr),
            other => Err(FrameError::Malformed(format!("stream {other}"))),
        }
    }
}

/// How the program's terminal side is connected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// sshd allocated a pty: the program runs in a pty of the recorder's.
    Pty,
    /// No pty (`ssh host cmd`, scp, sftp, rsync): plain pipes.
    Pipes,
}

/// What the recorder says first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    pub version: u32,
    pub mode: Mode,
    /// `$TERM` as sshd set it (pty sessions).
    #[serde(default)]
    pub term: Option<String>,
    #[serde(default)]
    pub cols: u16,
    #[serde(default)]
    pub rows: u16,
    /// `SSH_ORIGINAL_COMMAND`: what the client asked to run (none for a shell).
    #[serde(default)]
    pub command: Option<String>,
    /// The program the recorder runs (the shell, or the shell that runs the command).
    pub program: String,
    /// The contents of the `SSH_USER_AUTH` file (`ExposeAuthInfo yes`): the key or
    /// certificate the session authenticated with.
    #[serde(default)]
    pub user_auth: Option<String>,
    /// `SSH_CONNECTION`: client address and port, server address and port.
    #[serde(default)]
    pub connection: Option<String>,
    /// Bytes each stream (stdin, stdout, stderr) carried before this connection: more
    /// than zero when the recorder reconnects after the daemon went away.
    #[serde(default)]
    pub offsets: [u64; 3],
    /// Microseconds since the Unix epoch when the program started.
    pub started_us: u64,
}

/// The daemon's answer to [`Hello`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    /// Whether keyboard input may be sent (it never is while the terminal's echo is off).
    pub record_input: bool,
    /// Bytes per stream sent as content in a session without a pty; beyond it, only the
    /// counts and hashes of [`Frame::Exit`].
    pub max_bytes: u64,
    /// The session the daemon filed the recording under (for the recorder's own log).
    #[serde(default)]
    pub session: Option<String>,
}

/// A stream's total at the end: every byte it carried and their SHA-256.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Total {
    pub bytes: u64,
    pub sha256: [u8; 32],
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    Hello(Hello),
    Data {
        stream: Stream,
        offset: u64,
        time_us: u64,
        bytes: Vec<u8>,
    },
    Resize {
        time_us: u64,
        cols: u16,
        rows: u16,
    },
    Exit {
        time_us: u64,
        /// The exit code, or minus the signal that ended the program.
        status: i32,
        totals: [Total; 3],
    },
    Ack(Ack),
}

#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("unknown frame kind {0}")]
    UnknownKind(u8),
    #[error("frame of {0} bytes is longer than {MAX_PAYLOAD}")]
    TooLong(usize),
    #[error("malformed frame: {0}")]
    Malformed(String),
    #[error(transparent)]
    Io(#[from] io::Error),
}

fn take<const N: usize>(payload: &[u8], at: &mut usize) -> Result<[u8; N], FrameError> {
    let end = at
        .checked_add(N)
        .filter(|end| *end <= payload.len())
        .ok_or_else(|| FrameError::Malformed(format!("short payload ({} bytes)", payload.len())))?;
    let mut out = [0u8; N];
    out.copy_from_slice(&payload[*at..end]);
    *at = end;
    Ok(out)
}

fn json<T: serde::de::DeserializeOwned>(payload: &[u8]) -> Result<T, FrameError> {
    serde_json::from_slice(payload).map_err(|e| FrameError::Malformed(e.to_string()))
}

impl Frame {
    /// The frame as bytes. A `Data` frame longer than [`MAX_PAYLOAD`] must be cut first
    /// ([`data_frames`]).
    pub fn encode(&self) -> Vec<u8> {
        let mut payload = Vec::new();
        let kind: u8 = match self {
            Frame::Hello(hello) => {
                // A struct of strings and numbers always serialises.
                payload = serde_json::to_vec(hello).unwrap_or_default();
                1
            }
            Frame::Data {
                stream,
                offset,
                time_us,
                bytes,
            } => {
                payload.reserve(17 + bytes.len());
                payload.push(stream.code());
                payload.extend_from_slice(&offset.to_le_bytes());
                payload.extend_from_slice(&time_us.to_le_bytes());
                payload.extend_from_slice(bytes);
                2
            }
            Frame::Resize {
                time_us,
                cols,
                rows,
            } => {
                payload.extend_from_slice(&time_us.to_le_bytes());
                payload.extend_from_slice(&cols.to_le_bytes());
                payload.extend_from_slice(&rows.to_le_bytes());
                3
            }
            Frame::Exit {
                time_us,
                status,
                totals,
            } => {
                payload.extend_from_slice(&time_us.to_le_bytes());
                payload.extend_from_slice(&status.to_le_bytes());
                for total in totals {
                    payload.extend_from_slice(&total.bytes.to_le_bytes());
                    payload.extend_from_slice(&total.sha256);
                }
                4
            }
            Frame::Ack(ack) => {
                payload = serde_json::to_vec(ack).unwrap_or_default();
                129
            }
        };
        let mut out = Vec::with_capacity(HEAD_LEN + payload.len());
        out.push(kind);
        out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        out.extend_from_slice(&payload);
        out
    }

    /// One frame from its kind and payload.
    pub fn decode(kind: u8, payload: &[u8]) -> Result<Frame, FrameError> {
        if payload.len() > MAX_PAYLOAD {
            return Err(FrameError::TooLong(payload.len()));
        }
        let mut at = 0;
        let frame = match kind {
            1 => return Ok(Frame::Hello(json(payload)?)),
            129 => return Ok(Frame::Ack(json(payload)?)),
            2 => {
                let stream = Stream::from_code(take::<1>(payload, &mut at)?[0])?;
                let offset = u64::from_le_bytes(take(payload, &mut at)?);
                let time_us = u64::from_le_bytes(take(payload, &mut at)?);
                return Ok(Frame::Data {
                    stream,
                    offset,
                    time_us,
                    bytes: payload[at..].to_vec(),
                });
            }
            3 => Frame::Resize {
                time_us: u64::from_le_bytes(take(payload, &mut at)?),
                cols: u16::from_le_bytes(take(payload, &mut at)?),
                rows: u16::from_le_bytes(take(payload, &mut at)?),
            },
            4 => {
                let time_us = u64::from_le_bytes(take(payload, &mut at)?);
                let status = i32::from_le_bytes(take(payload, &mut at)?);
                let mut totals = [Total {
                    bytes: 0,
                    sha256: [0; 32],
                }; 3];
                for total in &mut totals {
                    total.bytes = u64::from_le_bytes(take(payload, &mut at)?);
                    total.sha256 = take(payload, &mut at)?;
                }
                Frame::Exit {
                    time_us,
                    status,
                    totals,
                }
            }
            other => return Err(FrameError::UnknownKind(other)),
        };
        if at != payload.len() {
            return Err(FrameError::Malformed(format!(
                "{} bytes after the frame",
                payload.len() - at
            )));
        }
        Ok(frame)
    }

    /// Reads one frame; `Ok(None)` at a clean end of input (between frames).
    pub fn read_from(input: &mut impl Read) -> Result<Option<Frame>, FrameError> {
        let mut head = [0u8; HEAD_LEN];
        let mut got = 0;
        while got < HEAD_LEN {
            match input.read(&mut head[got..]) {
                Ok(0) if got == 0 => return Ok(None),
                Ok(0) => return Err(FrameError::Malformed("input ended inside a frame".into())),
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
        let len = u32::from_le_bytes([head[1], head[2], head[3], head[4]]) as usize;
        if len > MAX_PAYLOAD {
            return Err(FrameError::TooLong(len));
        }
        let mut payload = vec![0u8; len];
        input.read_exact(&mut payload).map_err(|e| {
            if e.kind() == io::ErrorKind::UnexpectedEof {
                FrameError::Malformed("input ended inside a frame".into())
            } else {
                FrameError::Io(e)
            }
        })?;
        Frame::decode(head[0], &payload).map(Some)
    }

    pub fn write_to(&self, out: &mut impl Write) -> io::Result<()> {
        out.write_all(&self.encode())
    }
}

/// `bytes` of `stream` from `offset` on, as `Data` frames that each fit [`MAX_PAYLOAD`].
pub fn data_frames(stream: Stream, offset: u64, time_us: u64, bytes: &[u8]) -> Vec<Frame> {
    let room = MAX_PAYLOAD - 17;
    bytes
        .chunks(room)
        .enumerate()
        .map(|(i, chunk)| Frame::Data {
            stream,
            offset: offset + (i * room) as u64,
            time_us,
            bytes: chunk.to_vec(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn round_trip(frame: &Frame) -> Frame {
        let bytes = frame.encode();
        let mut input = &bytes[..];
        let back = Frame::read_from(&mut input)
            .expect("decodes")
            .expect("a frame");
        assert!(input.is_empty(), "the whole frame was read");
        back
    }

    #[test]
    fn every_kind_round_trips() {
        let frames = [
            Frame::Hello(Hello {
                version: VERSION,
                mode: Mode::Pty,
                term: Some("xterm-256color".into()),
                cols: 80,
                rows: 24,
                command: None,
                program: "/bin/bash".into(),
                user_auth: Some("publickey ssh-ed25519 AAAA...".into()),
                connection: Some("127.0.0.1 50000 127.0.0.1 22".into()),
                offsets: [0, 10, 0],
                started_us: 1,
            }),
            Frame::Data {
                stream: Stream::Stdout,
                offset: 7,
                time_us: 9,
                bytes: b"\x1b[31mred\r\n\0\xff".to_vec(),
            },
            Frame::Resize {
                time_us: 3,
                cols: 132,
                rows: 43,
            },
            Frame::Exit {
                time_us: 4,
                status: -9,
                totals: [Total {
                    bytes: 5,
                    sha256: [7; 32],
                }; 3],
            },
            Frame::Ack(Ack {
                record_input: false,
                max_bytes: 1 << 20,
                session: Some("abc".into()),
            }),
        ];
        for frame in &frames {
            assert_eq!(&round_trip(frame), frame);
        }
    }

    #[test]
    fn hostile_frames_are_errors() {
        assert!(matches!(
            Frame::read_from(&mut &[9u8, 0, 0, 0, 0][..]),
            Err(FrameError::UnknownKind(9))
        ));
        assert!(matches!(
            Frame::read_from(&mut &[2u8, 0xff, 0xff, 0xff, 0xff][..]),
            Err(FrameError::TooLong(_))
        ));
        // A Data frame too short for its header, a stream that does not exist, a Resize
        // with bytes left over, input that ends inside a frame.
        for bad in [
            &[2u8, 3, 0, 0, 0, 1, 0, 0][..],
            &[
                2u8, 17, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            ][..],
            &[3u8, 13, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0][..],
            &[1u8, 3, 0, 0, 0, b'{'][..],
            &[4u8, 1, 0][..],
        ] {
            assert!(
                matches!(
                    Frame::read_from(&mut &bad[..]),
                    Err(FrameError::Malformed(_))
                ),
                "{bad:?}"
            );
        }
        assert!(Frame::read_from(&mut &[][..]).expect("clean end").is_none());
    }

    #[test]
    fn long_output_is_cut_into_frames_that_fit() {
        let bytes = vec![b'x'; MAX_PAYLOAD * 2 + 5];
        let frames = data_frames(Stream::Stdout, 10, 1, &bytes);
        assert_eq!(frames.len(), 3);
        let mut next = 10;
        let mut total = 0;
        for frame in &frames {
            let encoded = frame.encode();
            assert!(encoded.len() - HEAD_LEN <= MAX_PAYLOAD);
            let Frame::Data { offset, bytes, .. } = round_trip(frame) else {
                panic!("a data frame");
            };
            assert_eq!(offset, next);
            next += bytes.len() as u64;
            total += bytes.len();
        }
        assert_eq!(total, bytes.len());
    }

    proptest! {
        #[test]
        fn any_bytes_decode_or_fail_cleanly(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let mut input = &bytes[..];
            while let Ok(Some(_)) = Frame::read_from(&mut input) {}
        }
    }
}
