//! Every setting, as data: one table per group, each row a name (the flag and the TOML
//! key, the same), a type, a default and a help text.
//!
//! From each table come a layer ([`PipelineLayer`], [`DaemonLayer`]: every value
//! optional, parsed from the command line by clap and from a `--config` TOML file key by
//! key) and the resolved settings ([`PipelineSettings`], [`DaemonSettings`]: every value
//! present, defaults filled in from the table). A flag given on the command line wins
//! over the file. `--help` shows each row's help with its default, written from the
//! default itself. Choices are enums, so a bad value is refused with the key's name and
//! what it may be.
//!
//! `replay` takes the pipeline group (what decides which events come out), so that it
//! prints what the daemon writes for the same input and the same settings.

use serde::Deserialize;
use std::fmt;
use std::path::{Path, PathBuf};

/// A default, as `--help` shows it.
pub trait Describe {
    fn describe(&self) -> String;
}

macro_rules! describe_display {
    ($($ty:ty),*) => { $(impl Describe for $ty { fn describe(&self) -> String { self.to_string() } })* };
}
describe_display!(u64, u32, bool, String);

impl Describe for PathBuf {
    fn describe(&self) -> String {
        self.display().to_string()
    }
}

impl Describe for Vec<String> {
    fn describe(&self) -> String {
        if self.is_empty() {
            "none".into()
        } else {
            self.join(",")
        }
    }
}

/// A row's help with its default: `[default: …]` on its own line.
pub fn help(text: &str, default: &dyn Describe) -> String {
    format!("{} [default: {}]", text.trim_end(), default.describe())
}

/// A row's help for a setting without a default.
pub fn help_optional(text: &str) -> String {
    format!("{} [default: none]", text.trim_end())
}

macro_rules! settings {
    (
        $(#[$doc:meta])*
        $layer:ident => $resolved:ident {
            defaults {
                $( $(#[doc = $fdoc:literal])* $field:ident : $ty:ty = $default:expr, $key:literal $([$($extra:tt)*])? ; )*
            }
            optional {
                $( $(#[doc = $odoc:literal])* $ofield:ident : $oty:ty, $okey:literal ; )*
            }
        }
    ) => {
        $(#[$doc])*
        #[derive(clap::Args, Debug, Default, Clone)]
        pub struct $layer {
            $(
                #[arg(long = $key, help = help(concat!($($fdoc, "\n"),*), &{ let d: $ty = $default; d }) $(, $($extra)*)?)]
                pub $field: Option<$ty>,
            )*
            $(
                #[arg(long = $okey, help = help_optional(concat!($($odoc, "\n"),*)))]
                pub $ofield: Option<$oty>,
            )*
        }

        /// The resolved settings: every default filled in.
        #[derive(Debug, Clone)]
        pub struct $resolved {
            $( $(#[doc = $fdoc])* pub $field: $ty, )*
            $( $(#[doc = $odoc])* pub $ofield: Option<$oty>, )*
        }

        impl $layer {
            /// The keys of this group (flag names and TOML keys).
            pub const KEYS: &'static [&'static str] = &[$($key,)* $($okey,)*];

            /// What this layer leaves unset, taken from `other`.
            pub fn or(self, other: $layer) -> $layer {
                $layer {
                    $( $field: self.$field.or(other.$field), )*
                    $( $ofield: self.$ofield.or(other.$ofield), )*
                }
            }

            /// Sets `key` from a TOML value; `Ok(false)` when the key is not one of this
            /// group's.
            pub fn set(&mut self, key: &str, value: toml::Value) -> Result<bool, String> {
                match key {
                    $( $key => {
                        self.$field = Some(<$ty>::deserialize(value).map_err(|e| e.to_string())?);
                        Ok(true)
                    } )*
                    $( $okey => {
                        self.$ofield = Some(<$oty>::deserialize(value).map_err(|e| e.to_string())?);
                        Ok(true)
                    } )*
                    _ => Ok(false),
                }
            }

            pub fn resolve(self) -> $resolved {
                $resolved {
                    $( $field: self.$field.unwrap_or_else(|| $default), )*
                    $( $ofield: self.$ofield, )*
                }
            }
        }

        impl Default for $resolved {
            fn default() -> $resolved {
                $layer::default().resolve()
            }
        }
    };
}

/// A choice setting: an enum whose values are the kebab-case names of its variants.
macro_rules! choice {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(clap::ValueEnum, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
        #[serde(rename_all = "kebab-case")]
        pub enum $name { $($(#[$vdoc])* $variant),* }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(match self { $($name::$variant => $text),* })
            }
        }

        impl Describe for $name {
            fn describe(&self) -> String {
                self.to_string()
            }
        }
    };
}

choice!(
    /// Where audit records come from.
    AuditSource {
        /// Tail auditd's log directory.
        File = "file",
        /// Records on standard input, from auditd's plugin framework.
        Plugin = "plugin",
        /// Straight from the kernel.
        Netlink = "netlink",
    }
);

choice!(
    /// How the netlink source talks to the kernel.
    NetlinkMode {
        /// Beside auditd, in the kernel's read-log group.
        Multicast = "multicast",
        /// As the audit daemon itself (no auditd may run).
        Unicast = "unicast",
    }
);

choice!(
    /// Where sshd's lines come from.
    SshdSource {
        Journald = "journald",
        Syslog = "syslog",
        Fifo = "fifo",
    }
);

fn sftp_programs() -> Vec<String> {
    sshtrail_sshd::framing::SFTP_PROGRAMS
        .iter()
        .map(|p| p.to_string())
        .collect()
}

fn sshd_programs() -> Vec<String> {
    sshtrail_sshd::framing::SSHD_PROGRAMS
        .iter()
        .map(|p| p.to_string())
        .collect()
}

settings! {
    /// What decides which events come out: shared by `run` and `replay`.
    PipelineLayer => PipelineSettings {
        defaults {
            /// The program names (syslog identifiers) sshd's lines come under,
            /// comma-separated: add any other name a host runs sshd as.
            sshd_programs: Vec<String> = sshd_programs(), "sshd-programs" [value_delimiter = ','];
            /// The program names sftp-server's lines come under (`sftp-server -l INFO`,
            /// `internal-sftp -l INFO`), comma-separated; empty: no file transfers.
            sftp_programs: Vec<String> = sftp_programs(), "sftp-programs" [value_delimiter = ','];
            /// Time zone of RFC 3164 syslog time stamps: local, UTC, +02:00 or a zoneinfo name.
            timezone: String = "local".to_string(), "timezone";
            /// How far (ms of event time) the other source must have delivered past a
            /// login's (or command's) time before its other half counts as missing.
            join_deadline_ms: u64 = 10_000, "join-deadline-ms";
            /// How long (ms, wall clock) a wait lasts once the other source is caught up
            /// and quiet.
            join_grace_ms: u64 = 5_000, "join-grace-ms";
            /// Mask secrets in command lines (`--password=…`, `--token X`, `*_SECRET_*=…`,
            /// URL passwords, bearer tokens).
            redact: bool = true, "redact" [action = clap::ArgAction::Set];
            /// More words that mark an argument as secret, comma-separated (added to
            /// password, passwd, passphrase, secret, token, apikey, accesskey, privatekey,
            /// credential).
            redact_keywords: Vec<String> = Vec::new(), "redact-keywords" [value_delimiter = ','];
            /// Where session logs go: `none`, `file:///DIR` (one log per session plus a
            /// JSON sidecar) or `s3://BUCKET/PREFIX?endpoint=…&region=…` (spooled under the
            /// state directory, uploaded when the session ends).
            session_storage: String = "none".to_string(), "session-storage";
        }
        optional {
            /// A MaxMind-format GeoIP City or Country database: the country and city of
            /// each source address go into UserLogin events and session metadata.
            geoip_db: PathBuf, "geoip-db";
            /// A MaxMind-format ASN database, for the source address's network.
            geoip_asn_db: PathBuf, "geoip-asn-db";
        }
    }
}

settings! {
    /// The daemon's sources, outputs and state.
    DaemonLayer => DaemonSettings {
        defaults {
            /// Where audit records come from: `file` (tail the audit log directory),
            /// `plugin` (records on standard input, from auditd's plugin framework) or
            /// `netlink` (from the kernel directly; see --netlink-mode).
            audit_source: AuditSource = AuditSource::File, "audit-source";
            /// With `--audit-source netlink`: `multicast` reads beside auditd (the
            /// kernel's read-log group), `unicast` registers sshtrail as the audit daemon
            /// (no auditd may run).
            netlink_mode: NetlinkMode = NetlinkMode::Multicast, "netlink-mode";
            /// The audit log directory the `file` source tails (and the plugin and
            /// netlink sources backfill from).
            audit_log_dir: PathBuf = PathBuf::from("/var/log/audit"), "audit-log-dir";
            /// Where sshd's lines come from: `journald`, `syslog` (a file such as
            /// /var/log/auth.log, followed across rotation) or `fifo` (`<pid> <message>`
            /// lines, as audito-maldito's rsyslog set-up writes them).
            sshd_source: SshdSource = SshdSource::Journald, "sshd-source";
            /// Rotate the output file when it would grow past this many bytes (0: never).
            output_max_bytes: u64 = 0, "output-max-bytes";
            /// Rotated output files kept (`events.json.1` …).
            output_keep: u32 = 5, "output-keep";
            /// On stop, how long (s) to wait for session log uploads still running (what
            /// is left stays in the spool and is uploaded after the next start).
            session_shutdown_seconds: u64 = 30, "session-shutdown-seconds";
            /// More sinks besides --output, each getting every event (repeat the flag; in
            /// TOML `[[sink]]` tables): `file:///PATH`. Each is marked in the checkpoint
            /// and cut back to it after a crash, as --output is.
            sink: Vec<crate::sinks::SinkSpec> = Vec::new(), "sink";
            /// Address for /metrics, /healthz and /readyz (`off`: none).
            metrics_listen: String = "127.0.0.1:9834".to_string(), "metrics-listen";
            /// The group `sshtrail-record` is installed setgid to: only its processes
            /// (and root's) may send recordings.
            record_group: String = "sshtrail-record".to_string(), "record-group";
            /// Let recorders send keyboard input (never what is typed while the
            /// terminal's echo is off, such as passwords).
            record_input: bool = false, "record-input" [action = clap::ArgAction::Set];
            /// Bytes per stream a session without a pty records as content; beyond, only
            /// counts and SHA-256 (file transfers: never any content).
            record_max_bytes: u64 = 1 << 20, "record-max-bytes";
            /// Users whose sessions must be recorded, comma-separated: names, `@group`, or
            /// `*`. Such a session that sends no recording within --record-wait-ms of its
            /// login is reported (`session-not-recorded`).
            require_recording: Vec<String> = Vec::new(), "require-recording" [value_delimiter = ','];
            /// How long (ms) after a login its recording may take to begin.
            record_wait_ms: u64 = 5_000, "record-wait-ms";
        }
        optional {
            /// A rules file (`/etc/audit/audit.rules` format) loaded into the kernel at
            /// start, as `sshtrail audit rules load` does; rules already present are kept.
            /// Success or failure is reported as a SystemAction.
            audit_rules: PathBuf, "audit-rules";
            /// The syslog file or fifo for `--sshd-source syslog|fifo`.
            sshd_log: PathBuf, "sshd-log";
            /// Where events go: a file (appended, created 0640, reopened on SIGHUP), a
            /// fifo, or `-` for standard output. Required.
            output: PathBuf, "output";
            /// Directory for sshtrail's state (checkpoint, upload spool). Required.
            state_dir: PathBuf, "state-dir";
            /// The recording socket `sshtrail-record` (sshd's ForceCommand) sends terminal
            /// sessions to, filed into the session logs (the packages set
            /// /run/sshtrail/record.sock). Unset: no recordings.
            record_socket: PathBuf, "record-socket";
            /// How long (ms) a source gathers records once a batch has begun, before
            /// they are decoded and written together. Unset: each source's own (plugin
            /// 20, file tails 50, netlink and fifo 20, journald none). Longer
            /// costs less CPU on a busy host, and adds as much to each event's latency.
            batch_wait_ms: u64, "batch-wait-ms";
        }
    }
}

/// A bad setting: exit 2, naming the key.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SettingsError(pub String);

/// Reads a `--config` file into the two layers. Every key must be one of either group.
pub fn read_config(path: &Path) -> Result<(PipelineLayer, DaemonLayer), SettingsError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| SettingsError(format!("--config {}: {e}", path.display())))?;
    parse_config(&text).map_err(|e| SettingsError(format!("--config {}: {}", path.display(), e.0)))
}

/// [`read_config`] of a file's text.
pub fn parse_config(text: &str) -> Result<(PipelineLayer, DaemonLayer), SettingsError> {
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| SettingsError(e.to_string()))?;
    let mut pipeline = PipelineLayer::default();
    let mut daemon = DaemonLayer::default();
    for (key, value) in table {
        let named = |e: String| SettingsError(format!("config key `{key}`: {e}"));
        let known = pipeline.set(&key, value.clone()).map_err(named)?
            || daemon.set(&key, value).map_err(named)?;
        if !known {
            return Err(SettingsError(format!(
                "unknown config key `{key}` (keys: {})",
                PipelineLayer::KEYS
                    .iter()
                    .chain(DaemonLayer::KEYS)
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    }
    Ok((pipeline, daemon))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser};

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        pipeline: PipelineLayer,
        #[command(flatten)]
        daemon: DaemonLayer,
    }

    #[test]
    fn every_key_is_a_flag_with_its_default_in_the_help() {
        let command = Cli::command();
        for key in PipelineLayer::KEYS.iter().chain(DaemonLayer::KEYS) {
            let arg = command
                .get_arguments()
                .find(|a| a.get_long() == Some(key))
                .unwrap_or_else(|| panic!("--{key} is a flag"));
            let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
            assert!(help.contains("[default: "), "--{key}: {help}");
        }
        let help = command.clone().render_help().to_string();
        assert!(help.contains("[default: file]"), "{help}");
        assert!(help.contains("[default: 10000]"));
        assert!(help.contains("[default: sshd,sshd-session,sshd-auth]"));
    }

    #[test]
    fn the_file_fills_what_the_command_line_left_out() {
        let cli = Cli::parse_from(["x", "--audit-source", "netlink", "--join-deadline-ms", "5"]);
        let (pipeline, daemon) = parse_config(
            "audit-source = \"plugin\"\nsshd-source = \"syslog\"\njoin-deadline-ms = 7\nredact-keywords = [\"pin\"]\n",
        )
        .expect("valid");
        let pipeline = cli.pipeline.or(pipeline).resolve();
        let daemon = cli.daemon.or(daemon).resolve();
        assert_eq!(daemon.audit_source, AuditSource::Netlink, "the flag wins");
        assert_eq!(daemon.sshd_source, SshdSource::Syslog, "the file fills in");
        assert_eq!(pipeline.join_deadline_ms, 5);
        assert_eq!(pipeline.redact_keywords, ["pin"]);
        assert_eq!(daemon.netlink_mode, NetlinkMode::Multicast, "the default");
        assert!(pipeline.redact);
        assert_eq!(daemon.output, None);
    }

    #[test]
    fn bad_keys_and_values_name_the_key() {
        for (text, key) in [
            ("audit-source = \"tape\"\n", "audit-source"),
            ("join-deadline-ms = \"soon\"\n", "join-deadline-ms"),
            ("redact = 3\n", "redact"),
            ("no-such-key = 1\n", "no-such-key"),
        ] {
            let error = parse_config(text).expect_err("refused").0;
            assert!(error.contains(&format!("`{key}`")), "{text}: {error}");
        }
        let error = parse_config("audit-source = \"tape\"\n")
            .expect_err("refused")
            .0;
        assert!(
            error.contains("file") && error.contains("netlink"),
            "{error}"
        );
    }
}
