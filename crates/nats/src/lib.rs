//! Publishing sshtrail events to NATS JetStream, exactly once within the stream's
//! duplicate window.
//!
//! Each event is one message on `<prefix>.<host>.<type>` ([`subject_for`]), its payload
//! the event's JSON line and its `Nats-Msg-Id` header the event's `metadata.eventId`.
//! [`JetStream::publish_all`] publishes a batch pipelined (up to `max_in_flight`
//! messages before waiting) and returns only once the stream has acknowledged every
//! message, so the caller may then forget the batch. If anything fails the caller sends
//! the whole batch again: messages the stream already holds come back acknowledged as
//! duplicates (the stream de-duplicates by `Nats-Msg-Id` within its duplicate window) and
//! are not stored twice. That is what makes a SIGKILL of the publisher, or of the server,
//! cost neither a lost nor a duplicated event, provided the retry comes within the window
//! (default 120 s for a stream this crate creates; `duplicate_window_s=` sets it).
//!
//! ```text
//! nats://[user:pass@]host[:port][,host2…]/<subject prefix>?stream=SSHTRAIL&create=true
//!        &duplicate_window_s=120&ack_timeout_ms=5000&connect_timeout_ms=5000&max_in_flight=256
//!        &tls=true&ca=/ca.pem&cert=/c.pem&key=/k.pem&creds=/x.creds|nkey=/seed|token=…
//! ```
//!
//! The client is `async-nats` on a private one-thread Tokio runtime, so callers stay
//! synchronous (the daemon's forwarder is a plain thread). `ring` provides TLS; no C
//! crypto library is linked.

mod target;
#[cfg(feature = "testing")]
pub mod testing;

pub use target::{subject_for, Auth, NatsTarget};

use async_nats::jetstream;
use bytes::Bytes;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum NatsError {
    #[error("NATS sink URL: {0}")]
    Url(String),
    #[error("NATS: cannot start a runtime: {0}")]
    Runtime(std::io::Error),
    #[error("NATS: reading {what}: {source}")]
    File {
        what: &'static str,
        source: std::io::Error,
    },
    #[error("NATS: connect to {servers}: {reason}")]
    Connect { servers: String, reason: String },
    #[error("NATS: stream {stream}: {reason}")]
    Stream { stream: String, reason: String },
    /// The batch did not reach the stream, or not all of it was acknowledged: send it
    /// again (the stream drops what it already holds).
    #[error("NATS: publish: {0}")]
    Publish(String),
    /// This message can never be published (larger than the server's `max_payload`):
    /// sending it again cannot help.
    #[error("NATS: message {index} of the batch refused: {reason}")]
    Message { index: usize, reason: String },
}

/// One message to publish.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub subject: String,
    /// The `Nats-Msg-Id`: the event's id.
    pub id: String,
    pub payload: Bytes,
}

/// What a [`JetStream::publish_all`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PublishReport {
    /// Messages the stream acknowledged (stored now or before).
    pub published: u64,
    /// Of those, how many the stream already held (a retry's overlap).
    pub duplicates: u64,
}

/// A connection to the servers and their JetStream.
pub struct JetStream {
    runtime: tokio::runtime::Runtime,
    client: async_nats::Client,
    context: jetstream::Context,
    target: NatsTarget,
}

impl JetStream {
    /// Connects, then checks the stream exists (or creates it with `create=true`).
    pub fn connect(target: &NatsTarget) -> Result<JetStream, NatsError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("sshtrail-nats")
            .enable_all()
            .build()
            .map_err(NatsError::Runtime)?;
        let (client, context) = runtime.block_on(connect(target))?;
        Ok(JetStream {
            runtime,
            client,
            context,
            target: target.clone(),
        })
    }

    pub fn target(&self) -> &NatsTarget {
        &self.target
    }

    /// Publishes every message and waits for the stream to acknowledge each.
    pub fn publish_all(&self, messages: &[Message]) -> Result<PublishReport, NatsError> {
        self.runtime.block_on(publish_all(
            &self.context,
            messages,
            self.target.max_in_flight,
        ))
    }

    /// How many messages the stream holds (for tests and `doctor`).
    pub fn stream_messages(&self) -> Result<u64, NatsError> {
        let stream = self.target.stream.clone();
        self.runtime.block_on(async {
            let mut handle =
                self.context
                    .get_stream(&stream)
                    .await
                    .map_err(|e| NatsError::Stream {
                        stream: stream.clone(),
                        reason: e.to_string(),
                    })?;
            let info = handle.info().await.map_err(|e| NatsError::Stream {
                stream: stream.clone(),
                reason: e.to_string(),
            })?;
            Ok(info.state.messages)
        })
    }
}

/// A message as the stream stored it ([`JetStream::stored_messages`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    pub sequence: u64,
    pub subject: String,
    /// Its `Nats-Msg-Id` header, if it had one.
    pub id: Option<String>,
    pub payload: Bytes,
}

impl JetStream {
    /// Every message the stream holds, oldest first: what a consumer would see, for tests
    /// and for checking a stream by hand. Reads one message per request; meant for
    /// streams of thousands, not millions.
    pub fn stored_messages(&self) -> Result<Vec<Stored>, NatsError> {
        let name = self.target.stream.clone();
        let stream_error = |reason: String| NatsError::Stream {
            stream: name.clone(),
            reason,
        };
        self.runtime.block_on(async {
            let mut stream = self
                .context
                .get_stream(&name)
                .await
                .map_err(|e| stream_error(e.to_string()))?;
            let state = stream
                .info()
                .await
                .map_err(|e| stream_error(e.to_string()))?
                .state
                .clone();
            let mut stored = Vec::new();
            if state.messages == 0 {
                return Ok(stored);
            }
            for sequence in state.first_sequence..=state.last_sequence {
                match stream.get_raw_message(sequence).await {
                    Ok(message) => stored.push(Stored {
                        sequence,
                        subject: message.subject.to_string(),
                        id: message
                            .headers
                            .get("Nats-Msg-Id")
                            .map(|v| v.as_str().to_string()),
                        payload: message.payload,
                    }),
                    // A gap (a deleted message) is not an error.
                    Err(e)
                        if e.kind() == jetstream::stream::RawMessageErrorKind::NoMessageFound => {}
                    Err(e) => return Err(stream_error(e.to_string())),
                }
            }
            Ok(stored)
        })
    }
}

impl Drop for JetStream {
    fn drop(&mut self) {
        let client = self.client.clone();
        // Flush what is buffered; a dead server must not hold up the drop.
        self.runtime.block_on(async {
            let _ = tokio::time::timeout(Duration::from_secs(1), client.flush()).await;
        });
    }
}

async fn connect(
    target: &NatsTarget,
) -> Result<(async_nats::Client, jetstream::Context), NatsError> {
    let mut options = match &target.auth {
        Auth::None => async_nats::ConnectOptions::new(),
        Auth::UserPassword(user, password) => {
            async_nats::ConnectOptions::with_user_and_password(user.clone(), password.clone())
        }
        Auth::Token(token) => async_nats::ConnectOptions::with_token(token.clone()),
        Auth::CredsFile(path) => async_nats::ConnectOptions::with_credentials_file(path)
            .await
            .map_err(|source| NatsError::File {
                what: "the creds file",
                source,
            })?,
        Auth::NkeyFile(path) => {
            let seed = std::fs::read_to_string(path).map_err(|source| NatsError::File {
                what: "the nkey seed file",
                source,
            })?;
            async_nats::ConnectOptions::with_nkey(seed.trim().to_string())
        }
    };
    options = options
        .name("sshtrail")
        .connection_timeout(target.connect_timeout)
        .require_tls(target.tls);
    if let Some(ca) = &target.ca {
        options = options.add_root_certificates(ca.clone());
    }
    if let Some((cert, key)) = &target.client_cert {
        options = options.add_client_certificate(cert.clone(), key.clone());
    }
    let servers: Vec<String> = target
        .servers
        .iter()
        .map(|s| {
            let scheme = if target.tls { "tls" } else { "nats" };
            format!("{scheme}://{s}")
        })
        .collect();
    let client = options
        .connect(servers.as_slice())
        .await
        .map_err(|e| NatsError::Connect {
            servers: target.servers.join(","),
            reason: e.to_string(),
        })?;
    let mut context = jetstream::new(client.clone());
    context.set_timeout(target.ack_timeout);
    let stream_error = |reason: String| NatsError::Stream {
        stream: target.stream.clone(),
        reason,
    };
    if target.create {
        context
            .get_or_create_stream(jetstream::stream::Config {
                name: target.stream.clone(),
                subjects: vec![format!("{}.>", target.prefix)],
                duplicate_window: target.duplicate_window,
                storage: jetstream::stream::StorageType::File,
                ..Default::default()
            })
            .await
            .map_err(|e| stream_error(e.to_string()))?;
    } else {
        context.get_stream(&target.stream).await.map_err(|e| {
            stream_error(format!(
                "{e} (create it, or add create=true to the sink URL)"
            ))
        })?;
    }
    Ok((client, context))
}

async fn publish_all(
    context: &jetstream::Context,
    messages: &[Message],
    max_in_flight: usize,
) -> Result<PublishReport, NatsError> {
    let mut report = PublishReport::default();
    for (chunk_index, chunk) in messages.chunks(max_in_flight.max(1)).enumerate() {
        let mut acks = Vec::with_capacity(chunk.len());
        for (i, message) in chunk.iter().enumerate() {
            let mut headers = async_nats::HeaderMap::new();
            headers.insert(async_nats::header::NATS_MESSAGE_ID, message.id.as_str());
            let ack = context
                .publish_with_headers(message.subject.clone(), headers, message.payload.clone())
                .await
                .map_err(|e| classify(e, chunk_index * max_in_flight.max(1) + i))?;
            acks.push(ack);
        }
        for ack in acks {
            let ack = ack.await.map_err(|e| NatsError::Publish(e.to_string()))?;
            report.published += 1;
            if ack.duplicate {
                report.duplicates += 1;
            }
        }
    }
    Ok(report)
}

fn classify(error: jetstream::context::PublishError, index: usize) -> NatsError {
    match error.kind() {
        jetstream::context::PublishErrorKind::MaxPayloadExceeded => NatsError::Message {
            index,
            reason: error.to_string(),
        },
        _ => NatsError::Publish(error.to_string()),
    }
}
