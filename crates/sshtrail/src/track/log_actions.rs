//! Session actions that only the logs show: the channels sshd starts (`Starting session:
//! …`) and the files sftp-server moves. They join a session like the audit side's
//! actions do, and take the same path from there (held until the login is known, after
//! the logout when they come late), by the first key that is known:
//!
//! 1. the line's own audit session (journald's `_AUDIT_SESSION`, set by the kernel on the
//!    process that logged, so no user can forge it);
//! 2. the logging process: sshd's user child (`User child is on pid N`) or its monitor,
//!    whose session the `LOGIN` record named;
//! 3. an `sftp-server` process whose exec the audit side attributed to a session (the
//!    way for syslog, which carries no audit session).
//!
//! Until its session is known an action waits (bounded) for it: for its `LOGIN` record,
//! its sshd login, or the exec of its sftp-server. Within a session these actions keep
//! the order of the lines, and the audit side's actions the order of the records; how
//! the two interleave follows their arrival, as their times say.

use super::facts::{AuditFact, AuditRole};
use super::state::SftpServer;
use super::Tracker;
use sshtrail_event::{ActionDetail, Outcome};
use std::collections::HashMap;

/// Actions held per waiting key at most; beyond, they are counted and dropped.
const MAX_PENDING: usize = 4_096;

impl Tracker {
    pub(super) fn on_session_action(
        &mut self,
        time_ms: u64,
        pid: u32,
        ses: Option<u32>,
        outcome: Outcome,
        detail: ActionDetail,
    ) {
        let fact = AuditFact {
            time_ms,
            node: None,
            ses,
            role: AuditRole::Action,
            auid_name: None,
            addr: None,
            outcome,
            exit: None,
            detail,
        };
        if let Some(ses) = ses {
            return self.session_action_for(ses, fact);
        }
        // A login of this process still waiting for its session comes first: the process
        // id may be an earlier session's too, ended but not yet forgotten.
        let monitor = self.state.monitor_of.get(&pid).copied().unwrap_or(pid);
        if let Some(waiting) = self.state.waiting_logins.get_mut(&monitor) {
            if waiting.actions.len() < MAX_PENDING {
                waiting.actions.push(fact);
            } else {
                self.stats.giveup_log_actions += 1;
            }
            return;
        }
        if self.state.sshd_only.contains_key(&monitor) {
            // No kernel session to file it under: the audit side is not delivering.
            self.stats.giveup_log_actions += 1;
            return;
        }
        if let Some(ses) = self.session_of_process(pid) {
            return self.session_action_for(ses, fact);
        }
        let max_keys = self.config.max_sessions;
        if !hold(&mut self.state.pending_by_pid, pid, fact, max_keys) {
            self.stats.giveup_log_actions += 1;
        }
    }

    /// The session a logging process belongs to, if one is known.
    fn session_of_process(&self, pid: u32) -> Option<u32> {
        let monitor = self.state.monitor_of.get(&pid).copied().unwrap_or(pid);
        self.state
            .ses_by_pid
            .get(&monitor)
            .copied()
            .or_else(|| self.state.session_of_sftp.get(&pid).map(|s| s.ses))
    }

    fn session_action_for(&mut self, ses: u32, mut fact: AuditFact) {
        fact.ses = Some(ses);
        if self.state.sessions.contains_key(&ses) {
            return self.on_action(ses, fact);
        }
        let max_keys = self.config.max_sessions;
        if !hold(&mut self.state.pending_by_ses, ses, fact, max_keys) {
            self.stats.giveup_log_actions += 1;
        }
    }

    /// A session's `LOGIN` record came: what the logs said of it meanwhile follows it.
    pub(super) fn release_pending_for_session(&mut self, ses: u32, waiting: Vec<AuditFact>) {
        let mut held = self.state.pending_by_ses.remove(&ses).unwrap_or_default();
        held.extend(waiting);
        // By the lines' order: both lists come from the same side, in arrival order,
        // each keyed differently.
        held.sort_by_key(|f| f.time_ms);
        for fact in held {
            self.session_action_for(ses, fact);
        }
    }

    /// The PID of an `sftp-server` this audit action started, if it is one: its lines
    /// are the session's.
    pub(super) fn sftp_server_started(&self, fact: &AuditFact) -> Option<u32> {
        let exe = fact.detail.exe.as_deref()?;
        if !exe.ends_with("/sftp-server") || fact.detail.action != "executed" {
            return None;
        }
        fact.detail.pid.as_deref()?.parse::<u32>().ok()
    }

    /// sftp-server `pid` runs in session `ses` since `exec_ms`: its lines held meanwhile
    /// follow its exec.
    pub(super) fn note_sftp_server(&mut self, ses: u32, pid: u32, exec_ms: u64) {
        if self.state.session_of_sftp.len() >= self.config.max_sessions {
            self.state.session_of_sftp.clear();
        }
        self.state
            .session_of_sftp
            .insert(pid, SftpServer { ses, exec_ms });
        if let Some(held) = self.state.pending_by_pid.remove(&pid) {
            for fact in held {
                self.session_action_for(ses, fact);
            }
        }
    }

    /// sftp-server `pid` said its session closed at `time_ms`: the pid is free for
    /// another process, whose lines must not be taken for this one's session. An exec
    /// seen after the line is already the next process's, and stays.
    pub(super) fn sftp_server_ended(&mut self, pid: u32, time_ms: u64) {
        let ended = self
            .state
            .session_of_sftp
            .get(&pid)
            .is_some_and(|s| s.exec_ms <= time_ms);
        if ended {
            self.state.session_of_sftp.remove(&pid);
        }
    }

    /// Log actions whose session never showed up, once the audit side has passed them
    /// by the join slack (or at the end of input): counted, not written, for nothing
    /// says whose they are. With a known kernel session they are written from the
    /// audit side's knowledge of it.
    pub(super) fn give_up_pending_log_actions(&mut self) {
        let audit_now = self.progress.audit.watermark_ms;
        let slack = self.config.join_deadline_ms;
        let overdue = |f: &AuditFact| audit_now >= f.time_ms.saturating_add(slack);
        let mut lost = 0;
        self.state.pending_by_pid.retain(|_, held| {
            let before = held.len();
            held.retain(|f| !overdue(f));
            lost += (before - held.len()) as u64;
            !held.is_empty()
        });
        self.stats.giveup_log_actions += lost;
        let mut due: Vec<u32> = self
            .state
            .pending_by_ses
            .iter()
            .filter(|(_, held)| held.iter().any(overdue))
            .map(|(ses, _)| *ses)
            .collect();
        due.sort_unstable();
        for ses in due {
            if let Some(held) = self.state.pending_by_ses.remove(&ses) {
                for fact in held {
                    self.emit_audit_only(ses, fact);
                }
            }
        }
    }
}

/// Holds `fact` under `key` until its session is known, within the bounds (at most
/// `max_keys` keys, [`MAX_PENDING`] facts each); false when it does not fit.
fn hold(
    pending: &mut HashMap<u32, Vec<AuditFact>>,
    key: u32,
    fact: AuditFact,
    max_keys: usize,
) -> bool {
    if pending.len() >= max_keys && !pending.contains_key(&key) {
        return false;
    }
    let held = pending.entry(key).or_default();
    if held.len() >= MAX_PENDING {
        return false;
    }
    held.push(fact);
    true
}
