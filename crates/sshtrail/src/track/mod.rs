//! The session tracker: joins sshd's logins with the kernel's audit sessions.
//!
//! 1. sshd logs `Accepted …` from the session's privileged process, PID P.
//! 2. The kernel's `LOGIN` record with `pid=P` gives the new session id S and the auid.
//! 3. Every audit event with `ses=S` belongs to that login until the session ends
//!    (`USER_END` from P, or sshd's disconnect / `session closed` lines).
//! 4. The two sides are not ordered relative to each other: whichever arrives first waits
//!    (bounded) for the other until [`Config::join_deadline_ms`]. An audit event whose
//!    login never shows up is still written, attributed from the audit record alone
//!    (`correlation: audit-only`); a login whose `LOGIN` record never shows up is written
//!    with a generated id. Every give-up is counted in [`Stats`].
//!
//! Sessions begun by other programs (cron, a console login) are not SSH sessions: a
//! `LOGIN` whose process is not sshd is noted and its events are counted, not emitted.
//!
//! Like the reassembler, the tracker never reads a clock: the caller passes time in
//! (event time when replaying, wall-clock time live) through [`Tracker::tick`].

pub mod build;
pub mod facts;
pub mod from_audit;
pub mod from_sshd;
pub mod redact;
pub mod system;

use build::{Identity, Logout};
use facts::{AuditFact, AuditRole, Login, SshdFact};
use sshtrail_event::{AuditEvent, Host};
use std::collections::HashMap;

/// sshd gives up on an unauthenticated connection after LoginGraceTime (120 s by
/// default); connection notes older than this are of no further use.
const CONNECTION_KEEP_MS: u64 = 600_000;

/// How often (tracker time) ended sessions and stale connections are swept out.
const SWEEP_EVERY_MS: u64 = 1_000;

/// Waits and bounds.
#[derive(Clone, Debug)]
pub struct Config {
    /// How long one side waits for the other.
    pub join_deadline_ms: u64,
    /// Open sessions and waiting logins tracked at most (oldest given up beyond).
    pub max_sessions: usize,
    /// Audit events held per session while its login is awaited.
    pub max_buffered_per_session: usize,
    /// How long an ended session still attributes late events (processes left behind).
    pub ended_keep_ms: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            join_deadline_ms: 10_000,
            max_sessions: 100_000,
            max_buffered_per_session: 4_096,
            ended_keep_ms: 300_000,
        }
    }
}

/// Counters; each give-up is one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub logins: u64,
    pub failed_logins: u64,
    pub actions_joined: u64,
    pub actions_audit_only: u64,
    pub logouts: u64,
    /// Audit sessions whose sshd login never arrived in time.
    pub giveup_no_sshd_login: u64,
    /// sshd logins whose `LOGIN` record never arrived in time.
    pub giveup_no_audit_login: u64,
    /// Events held for a session beyond its buffer, released early as audit-only.
    pub giveup_buffer_full: u64,
    /// Sessions dropped because too many were open.
    pub giveup_too_many_sessions: u64,
    /// Events of non-SSH login sessions (cron, console), not emitted.
    pub non_ssh_events: u64,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Session {
    pid: u32,
    /// Who the events are attributed to; `None` while the sshd login is awaited.
    identity: Option<Identity>,
    start_ms: u64,
    waiting_until: Option<u64>,
    buffered: Vec<AuditFact>,
    actions: u64,
    ended_ms: Option<u64>,
    /// The session ended while its login was still awaited: the logout is written
    /// after the join (or the give-up), behind the session's held events.
    pending_logout: Option<String>,
    /// sshd said the session closed before the audit side did: the logout waits (until
    /// then) for the session's own USER_END, so that the audit records of its last
    /// commands, which the audit source may still be delivering, come before it.
    #[serde(default)]
    logout_until: Option<u64>,
    auid_name: Option<String>,
    addr: Option<String>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct WaitingLogin {
    login: Login,
    until: u64,
}

/// Per-connection memory before authentication, for the failed-login counting rule.
#[derive(Default, serde::Serialize, serde::Deserialize)]
struct Connection {
    last_ms: u64,
    failures: u32,
    invalid_user: Option<String>,
    note: Option<String>,
}

/// A login that never got an audit session: kept so its logout can still be written.
#[derive(serde::Serialize, serde::Deserialize)]
struct SshdOnly {
    identity: Identity,
    start_ms: u64,
}

#[derive(serde::Serialize)]
struct StateRef<'a> {
    sessions: &'a HashMap<u32, Session>,
    ses_by_pid: &'a HashMap<u32, u32>,
    waiting_logins: &'a HashMap<u32, WaitingLogin>,
    connections: &'a HashMap<u32, Connection>,
    sshd_only: &'a HashMap<u32, SshdOnly>,
    non_ssh_sessions: &'a HashMap<u32, u64>,
    monitor_of: &'a HashMap<u32, u32>,
}

#[derive(serde::Deserialize)]
struct State {
    sessions: HashMap<u32, Session>,
    ses_by_pid: HashMap<u32, u32>,
    waiting_logins: HashMap<u32, WaitingLogin>,
    connections: HashMap<u32, Connection>,
    sshd_only: HashMap<u32, SshdOnly>,
    non_ssh_sessions: HashMap<u32, u64>,
    monitor_of: HashMap<u32, u32>,
}

pub struct Tracker {
    config: Config,
    host: Host,
    sessions: HashMap<u32, Session>,
    ses_by_pid: HashMap<u32, u32>,
    waiting_logins: HashMap<u32, WaitingLogin>,
    connections: HashMap<u32, Connection>,
    sshd_only: HashMap<u32, SshdOnly>,
    non_ssh_sessions: HashMap<u32, u64>,
    /// User child PID → the monitor PID that owns the session.
    monitor_of: HashMap<u32, u32>,
    /// No wait ends before this (so that `tick` need not look at every session).
    next_deadline_ms: u64,
    /// When ended sessions and old connections were last swept out.
    last_sweep_ms: u64,
    out: Vec<AuditEvent>,
    stats: Stats,
}

impl Tracker {
    pub fn new(config: Config, host: Host) -> Tracker {
        Tracker {
            config,
            host,
            sessions: HashMap::new(),
            ses_by_pid: HashMap::new(),
            waiting_logins: HashMap::new(),
            connections: HashMap::new(),
            sshd_only: HashMap::new(),
            non_ssh_sessions: HashMap::new(),
            monitor_of: HashMap::new(),
            next_deadline_ms: u64::MAX,
            last_sweep_ms: 0,
            out: Vec::new(),
            stats: Stats::default(),
        }
    }

    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Everything the tracker knows about open sessions and connections, for a
    /// checkpoint. Call it after [`Tracker::drain`]: events not yet drained are not in it.
    pub fn snapshot(&self) -> serde_json::Value {
        let state = StateRef {
            sessions: &self.sessions,
            ses_by_pid: &self.ses_by_pid,
            waiting_logins: &self.waiting_logins,
            connections: &self.connections,
            sshd_only: &self.sshd_only,
            non_ssh_sessions: &self.non_ssh_sessions,
            monitor_of: &self.monitor_of,
        };
        serde_json::to_value(state).unwrap_or(serde_json::Value::Null)
    }

    /// Takes back a [`Tracker::snapshot`]; a snapshot that does not fit (another version,
    /// damaged) is refused and the tracker starts empty.
    pub fn restore(&mut self, snapshot: serde_json::Value) -> Result<(), serde_json::Error> {
        let state: State = serde_json::from_value(snapshot)?;
        self.sessions = state.sessions;
        self.ses_by_pid = state.ses_by_pid;
        self.waiting_logins = state.waiting_logins;
        self.connections = state.connections;
        self.sshd_only = state.sshd_only;
        self.non_ssh_sessions = state.non_ssh_sessions;
        self.monitor_of = state.monitor_of;
        // Deadlines of restored sessions: the next tick looks at all of them.
        self.next_deadline_ms = 0;
        Ok(())
    }

    /// Events ready to be written, in order.
    pub fn drain(&mut self) -> std::vec::Drain<'_, AuditEvent> {
        self.out.drain(..)
    }

    pub fn on_sshd(&mut self, fact: SshdFact) {
        match fact {
            SshdFact::Accepted(login) => self.on_accepted(login),
            SshdFact::AuthFailure {
                time_ms,
                pid,
                user,
                ip,
                port,
                method,
                reason,
            } => {
                self.connection(pid, time_ms).failures += 1;
                self.failed_login(time_ms, pid, &user, ip, port, method, &reason);
            }
            SshdFact::InvalidUser {
                time_ms, pid, user, ..
            } => {
                self.connection(pid, time_ms).invalid_user = Some(user);
            }
            SshdFact::UserChild { pid, child, .. } => {
                if self.monitor_of.len() >= self.config.max_sessions {
                    self.monitor_of.clear();
                }
                self.monitor_of.insert(child, pid);
            }
            SshdFact::PreauthNote {
                time_ms,
                pid,
                reason,
            } => {
                self.connection(pid, time_ms).note = Some(reason);
            }
            SshdFact::PreauthEnded {
                time_ms,
                pid,
                user,
                ip,
                port,
                reason,
            } => {
                let connection = self.connections.remove(&pid).unwrap_or_default();
                if connection.failures > 0 {
                    return;
                }
                // A connection that ended without any failure line still tried to log
                // in if a user name is known; bare scanner connections name no user.
                let (user, reason) = match (connection.invalid_user, user) {
                    (Some(invalid), _) => (invalid, "invalid user".to_string()),
                    (None, Some(user)) => (user, connection.note.unwrap_or(reason)),
                    (None, None) => return,
                };
                self.failed_login(time_ms, pid, &user, ip, port, None, &reason);
            }
            SshdFact::SessionClosed {
                time_ms,
                pid,
                reason,
            } => self.on_session_closed(time_ms, pid, &reason),
        }
    }

    pub fn on_audit(&mut self, fact: AuditFact) {
        let Some(ses) = fact.ses else {
            return;
        };
        match fact.role {
            AuditRole::SessionStart { pid, .. } => {
                if !fact.is_sshd_login() {
                    self.remember_non_ssh(ses, fact.time_ms);
                    self.stats.non_ssh_events += 1;
                    return;
                }
                self.start_session(ses, pid, &fact);
                self.on_action(ses, fact);
            }
            AuditRole::SessionEnd { pid } => {
                // `sudo` or `su` inside the session close their own PAM sessions with
                // the same `ses`: only the session's own sshd process ends it.
                let own = self.sessions.get(&ses).is_some_and(|s| s.pid == pid);
                let time_ms = fact.time_ms;
                self.on_action(ses, fact);
                if own {
                    self.end_session(ses, time_ms, "session ended (USER_END)");
                    self.release_logout(ses);
                }
            }
            AuditRole::Action => self.on_action(ses, fact),
        }
    }

    /// Lets time pass: gives up on joins whose deadline has passed, forgets old sessions.
    /// Cheap when nothing is due: it runs for every line the daemon reads.
    pub fn tick(&mut self, now_ms: u64) {
        if now_ms >= self.next_deadline_ms {
            self.expire(now_ms);
        }
        if now_ms.saturating_sub(self.last_sweep_ms) >= SWEEP_EVERY_MS || now_ms == u64::MAX {
            self.last_sweep_ms = now_ms;
            self.connections
                .retain(|_, c| now_ms.saturating_sub(c.last_ms) < CONNECTION_KEEP_MS);
            let keep = self.config.ended_keep_ms;
            self.sessions.retain(|_, s| {
                s.ended_ms
                    .is_none_or(|end| now_ms.saturating_sub(end) < keep)
            });
            self.non_ssh_sessions
                .retain(|_, seen| now_ms.saturating_sub(*seen) < keep.max(86_400_000));
        }
    }

    /// Gives up on every wait that has run out, and finds the next deadline.
    fn expire(&mut self, now_ms: u64) {
        let kept = self.expire_each(now_ms, |_| Ok::<(), std::convert::Infallible>(()));
        let Ok(()) = kept;
    }

    /// [`Tracker::expire`], calling `after_each` with the output queue after each give-up.
    fn expire_each<E>(
        &mut self,
        now_ms: u64,
        mut after_each: impl FnMut(&mut Vec<AuditEvent>) -> Result<(), E>,
    ) -> Result<(), E> {
        // Each list in deadline order, then by id: the maps' own order is random, and a
        // replay must write the same events in the same order every time.
        let mut expired: Vec<(u64, u32)> = self
            .sessions
            .iter()
            .filter_map(|(ses, s)| {
                s.waiting_until
                    .filter(|until| *until <= now_ms)
                    .map(|until| (until, *ses))
            })
            .collect();
        expired.sort_unstable();
        for (_, ses) in expired {
            self.stats.giveup_no_sshd_login += 1;
            self.attribute_audit_only(ses);
            after_each(&mut self.out)?;
        }
        let mut overdue: Vec<(u64, u32)> = self
            .sessions
            .iter()
            .filter_map(|(ses, s)| {
                s.logout_until
                    .filter(|until| *until <= now_ms)
                    .map(|until| (until, *ses))
            })
            .collect();
        overdue.sort_unstable();
        for (_, ses) in overdue {
            self.release_logout(ses);
            after_each(&mut self.out)?;
        }
        let mut expired: Vec<(u64, u32)> = self
            .waiting_logins
            .iter()
            .filter(|(_, w)| w.until <= now_ms)
            .map(|(pid, w)| (w.until, *pid))
            .collect();
        expired.sort_unstable();
        for (_, pid) in expired {
            if let Some(waiting) = self.waiting_logins.remove(&pid) {
                self.stats.giveup_no_audit_login += 1;
                self.emit_sshd_only_login(waiting.login);
                after_each(&mut self.out)?;
            }
        }
        let sessions = self
            .sessions
            .values()
            .flat_map(|s| [s.waiting_until, s.logout_until])
            .flatten();
        let logins = self.waiting_logins.values().map(|w| w.until);
        self.next_deadline_ms = sessions.chain(logins).min().unwrap_or(u64::MAX);
        Ok(())
    }

    /// End of input: every wait ends now.
    pub fn finish(&mut self) {
        self.tick(u64::MAX);
    }

    /// [`Tracker::finish`] followed by [`Tracker::drain`], except that each event goes to
    /// `write` as soon as it is made. At the end of a replay every session still waiting
    /// gives up at once; holding all of their events at the same time took more memory
    /// (and page faults) than anything before it. Same events, same order.
    pub fn finish_with<E>(
        &mut self,
        mut write: impl FnMut(AuditEvent) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut flush = |out: &mut Vec<AuditEvent>| out.drain(..).try_for_each(&mut write);
        flush(&mut self.out)?;
        // Every deadline is at or before the end of time: all waits end here.
        self.expire_each(u64::MAX, &mut flush)?;
        // The rest of `finish`: the sweep (nothing is waiting any more).
        self.tick(u64::MAX);
        flush(&mut self.out)
    }

    fn on_accepted(&mut self, login: Login) {
        self.connections.remove(&login.pid);
        self.stats.logins += 1;
        if let Some(ses) = self.ses_by_pid.get(&login.pid).copied() {
            let waiting = self
                .sessions
                .get(&ses)
                .is_some_and(|s| s.identity.is_none());
            if waiting {
                self.join(ses, &login);
                return;
            }
        }
        self.make_room();
        let until = login.time_ms.saturating_add(self.config.join_deadline_ms);
        self.next_deadline_ms = self.next_deadline_ms.min(until);
        self.waiting_logins
            .insert(login.pid, WaitingLogin { login, until });
    }

    fn start_session(&mut self, ses: u32, pid: u32, fact: &AuditFact) {
        // Session ids restart at 1 after a reboot (and logs can hold several boots): a
        // new LOGIN for an id still held settles the old session first, never drops it.
        if self.sessions.contains_key(&ses) {
            self.settle_reused(ses, fact.time_ms);
        }
        self.make_room();
        let waiting = self.waiting_logins.remove(&pid);
        self.ses_by_pid.insert(pid, ses);
        let until = fact.time_ms.saturating_add(self.config.join_deadline_ms);
        self.next_deadline_ms = self.next_deadline_ms.min(until);
        self.sessions.insert(
            ses,
            Session {
                pid,
                identity: None,
                start_ms: fact.time_ms,
                waiting_until: Some(fact.time_ms.saturating_add(self.config.join_deadline_ms)),
                buffered: Vec::new(),
                actions: 0,
                ended_ms: None,
                pending_logout: None,
                logout_until: None,
                auid_name: fact.auid_name.clone(),
                addr: fact.addr.clone(),
            },
        );
        if let Some(waiting) = waiting {
            self.join(ses, &waiting.login);
        }
    }

    /// Both sides are known: the login is written with the kernel's session id, and the
    /// events held for it follow.
    fn join(&mut self, ses: u32, login: &Login) {
        let identity = Identity::from_login(login);
        self.out.push(build::user_login(
            &self.host,
            login,
            &ses.to_string(),
            "joined",
        ));
        let Some(session) = self.sessions.get_mut(&ses) else {
            return;
        };
        session.identity = Some(identity);
        session.waiting_until = None;
        let held = std::mem::take(&mut session.buffered);
        for fact in held {
            self.emit_action(ses, fact);
        }
        self.write_pending_logout(ses);
    }

    fn on_action(&mut self, ses: u32, mut fact: AuditFact) {
        if self.non_ssh_sessions.contains_key(&ses) {
            self.stats.non_ssh_events += 1;
            return;
        }
        let limit = self.config.max_buffered_per_session;
        match self.sessions.get_mut(&ses) {
            Some(session) if session.identity.is_none() => {
                if session.addr.is_none() {
                    session.addr = fact.addr.take();
                }
                if session.buffered.len() < limit {
                    session.buffered.push(fact);
                } else {
                    self.stats.giveup_buffer_full += 1;
                    self.emit_audit_only(ses, fact);
                }
            }
            Some(_) => self.emit_action(ses, fact),
            None => self.emit_audit_only(ses, fact),
        }
    }

    fn emit_action(&mut self, ses: u32, fact: AuditFact) {
        let Some(session) = self.sessions.get_mut(&ses) else {
            return self.emit_audit_only(ses, fact);
        };
        let Some(identity) = session.identity.as_ref() else {
            return self.emit_audit_only(ses, fact);
        };
        session.actions += 1;
        let correlation = if identity.from_audit_only {
            self.stats.actions_audit_only += 1;
            "audit-only"
        } else {
            self.stats.actions_joined += 1;
            "joined"
        };
        self.out.push(build::user_action(
            &self.host,
            identity,
            ses,
            fact,
            correlation,
        ));
    }

    /// An event of a session nobody logged in to as far as we know.
    fn emit_audit_only(&mut self, ses: u32, fact: AuditFact) {
        self.stats.actions_audit_only += 1;
        let identity = Identity::from_audit(fact.auid_name.as_deref(), fact.addr.as_deref());
        if let Some(session) = self.sessions.get_mut(&ses) {
            session.actions += 1;
        }
        self.out.push(build::user_action(
            &self.host,
            &identity,
            ses,
            fact,
            "audit-only",
        ));
    }

    /// The sshd side never came: the session's events are written from the audit side.
    fn attribute_audit_only(&mut self, ses: u32) {
        let Some(session) = self.sessions.get_mut(&ses) else {
            return;
        };
        session.waiting_until = None;
        session.identity = Some(Identity::from_audit(
            session.auid_name.as_deref(),
            session.addr.as_deref(),
        ));
        let held = std::mem::take(&mut session.buffered);
        for fact in held {
            self.emit_action(ses, fact);
        }
        self.write_pending_logout(ses);
    }

    fn emit_sshd_only_login(&mut self, login: Login) {
        let audit_id = build::new_audit_id();
        let event = build::user_login(&self.host, &login, &audit_id, "sshd-only");
        self.out.push(event);
        let mut identity = Identity::from_login(&login);
        identity.audit_id = Some(audit_id);
        self.sshd_only.insert(
            login.pid,
            SshdOnly {
                identity,
                start_ms: login.time_ms,
            },
        );
    }

    fn on_session_closed(&mut self, time_ms: u64, pid: u32, reason: &str) {
        let pid = self.monitor_of.remove(&pid).unwrap_or(pid);
        if let Some(ses) = self.ses_by_pid.get(&pid).copied() {
            let deadline = time_ms.saturating_add(self.config.join_deadline_ms);
            if let Some(session) = self.sessions.get_mut(&ses) {
                if session.ended_ms.is_none() {
                    session.logout_until = Some(deadline);
                    self.next_deadline_ms = self.next_deadline_ms.min(deadline);
                }
            }
            self.end_session(ses, time_ms, reason);
            return;
        }
        if let Some(waiting) = self.waiting_logins.remove(&pid) {
            // Closed before its audit session showed up: write the login now.
            self.stats.giveup_no_audit_login += 1;
            self.emit_sshd_only_login(waiting.login);
        }
        if let Some(only) = self.sshd_only.remove(&pid) {
            self.stats.logouts += 1;
            let audit_id = only.identity.audit_id.clone().unwrap_or_default();
            self.out.push(build::user_logout(
                &self.host,
                &only.identity,
                &audit_id,
                Logout {
                    start_ms: only.start_ms,
                    end_ms: time_ms,
                    actions: 0,
                    reason,
                },
            ));
        }
    }

    fn end_session(&mut self, ses: u32, time_ms: u64, reason: &str) {
        let Some(session) = self.sessions.get_mut(&ses) else {
            return;
        };
        if session.ended_ms.is_some() {
            return;
        }
        session.ended_ms = Some(time_ms);
        session.pending_logout = Some(reason.to_string());
        if session.identity.is_some() {
            self.write_pending_logout(ses);
        }
        // Otherwise sshd's side may still be on its way (journald can lag the audit
        // log by seconds): the logout waits for the join or the deadline.
    }

    /// The wait for the audit side's end is over (it came, or its time ran out).
    fn release_logout(&mut self, ses: u32) {
        if let Some(session) = self.sessions.get_mut(&ses) {
            session.logout_until = None;
        }
        self.write_pending_logout(ses);
    }

    /// Writes out everything an older session with this id still holds.
    fn settle_reused(&mut self, ses: u32, time_ms: u64) {
        self.settle(ses, time_ms, "session id reused");
    }

    /// Ends session `ses` now, whatever it still waits for, and forgets it.
    fn settle(&mut self, ses: u32, time_ms: u64, reason: &str) {
        if self
            .sessions
            .get(&ses)
            .is_some_and(|s| s.identity.is_none())
        {
            self.stats.giveup_no_sshd_login += 1;
            self.attribute_audit_only(ses);
        }
        self.end_session(ses, time_ms, reason);
        self.release_logout(ses);
        if let Some(old) = self.sessions.remove(&ses) {
            if self.ses_by_pid.get(&old.pid) == Some(&ses) {
                self.ses_by_pid.remove(&old.pid);
            }
        }
    }

    /// The host rebooted while sshtrail was down: every session it knew belongs to the
    /// old boot and its processes are gone. Each one still open ends at `time_ms` (the
    /// last moment sshtrail saw that boot alive) with `reason`: one `UserLogout` each,
    /// like a session whose id is reused, in id order. Returns how many ended.
    pub fn end_all(&mut self, time_ms: u64, reason: &str) -> usize {
        let mut ended = 0;
        let mut open: Vec<u32> = self.sessions.keys().copied().collect();
        open.sort_unstable();
        for ses in open {
            if self
                .sessions
                .get(&ses)
                .is_some_and(|s| s.ended_ms.is_none())
            {
                ended += 1;
            }
            self.settle(ses, time_ms, reason);
        }
        // Logins sshd saw whose kernel session never came, and sshd-only sessions.
        let mut pids: Vec<u32> = self
            .waiting_logins
            .keys()
            .chain(self.sshd_only.keys())
            .copied()
            .collect();
        pids.sort_unstable();
        pids.dedup();
        for pid in pids {
            ended += 1;
            self.on_session_closed(time_ms, pid, reason);
        }
        self.ses_by_pid.clear();
        self.connections.clear();
        self.monitor_of.clear();
        self.non_ssh_sessions.clear();
        ended
    }

    /// Writes the logout of an ended session once it knows whom to attribute it to.
    fn write_pending_logout(&mut self, ses: u32) {
        let Some(session) = self.sessions.get_mut(&ses) else {
            return;
        };
        // Not yet: still waiting for the audit side's end, or for whom to attribute to.
        if session.logout_until.is_some() || session.identity.is_none() {
            return;
        }
        let (Some(reason), Some(identity), Some(end_ms)) = (
            session.pending_logout.take(),
            session.identity.as_ref(),
            session.ended_ms,
        ) else {
            return;
        };
        self.ses_by_pid.remove(&session.pid);
        self.stats.logouts += 1;
        let event = build::user_logout(
            &self.host,
            identity,
            &ses.to_string(),
            Logout {
                start_ms: session.start_ms,
                end_ms,
                actions: session.actions,
                reason: &reason,
            },
        );
        self.out.push(event);
    }

    #[allow(clippy::too_many_arguments)]
    fn failed_login(
        &mut self,
        time_ms: u64,
        pid: u32,
        user: &str,
        ip: Option<String>,
        port: Option<u16>,
        method: Option<String>,
        reason: &str,
    ) {
        self.stats.failed_logins += 1;
        self.out.push(build::failed_login(
            &self.host,
            build::FailedLogin {
                time_ms,
                pid,
                user,
                ip: ip.as_deref(),
                port,
                method: method.as_deref(),
                reason,
            },
        ));
    }

    /// The pre-authentication memory of connection `pid`, bounded in number.
    fn connection(&mut self, pid: u32, time_ms: u64) -> &mut Connection {
        if self.connections.len() >= self.config.max_sessions
            && !self.connections.contains_key(&pid)
        {
            if let Some(oldest) = self
                .connections
                .iter()
                .min_by_key(|(p, c)| (c.last_ms, **p))
                .map(|(p, _)| *p)
            {
                self.connections.remove(&oldest);
            }
        }
        let connection = self.connections.entry(pid).or_default();
        connection.last_ms = connection.last_ms.max(time_ms);
        connection
    }

    fn remember_non_ssh(&mut self, ses: u32, time_ms: u64) {
        if self.non_ssh_sessions.len() >= self.config.max_sessions {
            self.non_ssh_sessions.clear();
        }
        self.non_ssh_sessions.insert(ses, time_ms);
    }

    /// Keeps the tables bounded: the oldest open session (or waiting login) is given up.
    fn make_room(&mut self) {
        while self.sessions.len() + self.waiting_logins.len() >= self.config.max_sessions {
            self.stats.giveup_too_many_sessions += 1;
            // Ties go to the lower id, so that a replay gives up the same session each time.
            let oldest_session = self
                .sessions
                .iter()
                .min_by_key(|(ses, s)| (s.start_ms, **ses));
            let oldest_login = self
                .waiting_logins
                .iter()
                .min_by_key(|(pid, w)| (w.login.time_ms, **pid));
            match (oldest_session, oldest_login) {
                (Some((&ses, s)), Some((_, w))) if s.start_ms <= w.login.time_ms => {
                    self.drop_session(ses)
                }
                (_, Some((&pid, _))) => {
                    if let Some(waiting) = self.waiting_logins.remove(&pid) {
                        self.emit_sshd_only_login(waiting.login);
                    }
                }
                (Some((&ses, _)), None) => self.drop_session(ses),
                (None, None) => return,
            }
        }
    }

    fn drop_session(&mut self, ses: u32) {
        self.attribute_audit_only(ses);
        self.release_logout(ses);
        if let Some(session) = self.sessions.remove(&ses) {
            self.ses_by_pid.remove(&session.pid);
        }
    }
}

#[cfg(test)]
mod tests;
