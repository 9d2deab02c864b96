//! The session tracker: joins sshd's logins with the kernel's audit sessions.
//!
//! 1. sshd logs `Accepted …` from the session's privileged process, PID P.
//! 2. The kernel's `LOGIN` record with `pid=P` gives the new session id S and the auid.
//! 3. Every audit event with `ses=S` belongs to that login until the session ends
//!    (`USER_END` from P, or sshd's disconnect / `session closed` lines).
//! 4. The two sides are not ordered relative to each other: whichever arrives first waits
//!    for the other, and a wait ends only when the other side has shown that what it
//!    waits for is not coming ([`progress`]: watermarks in event time, or an idle source
//!    after a short grace). An audit event whose login never shows up is still written,
//!    attributed from the audit record alone (`correlation: audit-only`); a login whose
//!    `LOGIN` record never shows up is written with a generated id (`sshd-only`). Every
//!    give-up is counted in [`Stats`].
//!
//! What comes out for one session does not depend on how the two sides interleave: its
//! login, then its actions in audit order up to its `USER_END`, then its logout (at the
//! earlier of sshd's close and `USER_END`), then anything its leftover processes do. The
//! property test in `tests.rs` checks this on real sessions in random interleavings.
//!
//! Sessions begun by other programs (cron, a console login) are not SSH sessions: a
//! `LOGIN` whose process is not sshd is noted and its events are counted, not emitted.
//!
//! Like the reassembler, the tracker never reads a clock: the caller tells it how far
//! each side has delivered ([`Tracker::advance`]) before handing it each fact.

pub mod build;
mod ending;
pub mod facts;
pub mod forward;
pub mod from_audit;
pub mod from_sftp;
pub mod from_sshd;
mod log_actions;
pub mod progress;
pub mod redact;
mod state;
pub mod system;

use build::{actor_from_audit, actor_from_login, FailedLogin};
use facts::{AuditFact, AuditRole, Login, SshdFact, SshdWhat};
use progress::{Progress, Side, Timers, Wait};
use sshtrail_event::{Action, Actor, Correlation, Event, Origin};
use state::{Attribution, Connection, EndSignal, Session, SshdOnly, State, WaitKey, WaitingLogin};
use std::sync::Arc;

/// sshd gives up on an unauthenticated connection after LoginGraceTime (120 s by
/// default); connection notes older than this are of no further use.
const CONNECTION_KEEP_MS: u64 = 600_000;

/// How often (in event time) ended sessions and stale connections are swept out.
const SWEEP_EVERY_MS: u64 = 1_000;

/// Waits and bounds.
#[derive(Clone, Debug)]
pub struct Config {
    /// How far (event time) the other side must have delivered past a fact before its
    /// partner counts as missing: the join slack.
    pub join_deadline_ms: u64,
    /// How long (wall clock) a wait lasts once the other side is caught up and quiet.
    pub join_grace_ms: u64,
    /// Open sessions and waiting logins tracked at most (oldest given up beyond).
    pub max_sessions: usize,
    /// Audit events held per session while its login is awaited.
    pub max_buffered_per_session: usize,
    /// How long (event time) an ended session still attributes late events (processes
    /// left behind).
    pub ended_keep_ms: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            join_deadline_ms: 10_000,
            join_grace_ms: 5_000,
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
    /// Audit sessions whose sshd login never arrived.
    pub giveup_no_sshd_login: u64,
    /// sshd logins whose `LOGIN` record never arrived.
    pub giveup_no_audit_login: u64,
    /// Events held for a session beyond its buffer, released early as audit-only.
    pub giveup_buffer_full: u64,
    /// Sessions dropped because too many were open.
    pub giveup_too_many_sessions: u64,
    /// Events of non-SSH login sessions (cron, console), not emitted.
    pub non_ssh_events: u64,
    /// Session actions from the logs (channels, file transfers) whose kernel session
    /// never became known, or beyond what may be held: counted, not written.
    pub giveup_log_actions: u64,
}

pub struct Tracker {
    config: Config,
    state: State,
    progress: Progress,
    /// Every wait by when it ends, so that `advance` need not look at every session.
    timers: Timers<WaitKey>,
    /// Restored waits get their start from the first `advance`.
    restored: bool,
    /// When ended sessions and old connections were last swept out (event time).
    last_sweep_ms: u64,
    out: Vec<Event>,
    stats: Stats,
}

impl Tracker {
    pub fn new(config: Config) -> Tracker {
        Tracker {
            config,
            state: State::default(),
            progress: Progress::default(),
            timers: Timers::default(),
            restored: false,
            last_sweep_ms: 0,
            out: Vec::new(),
            stats: Stats::default(),
        }
    }

    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Whether some wait may still end by the clock (an idle side's grace): the daemon
    /// looks at the clock often then, and seldom otherwise.
    pub fn waiting(&self) -> bool {
        !self.timers.is_empty()
    }

    /// Open sessions, waiting logins and sshd-only sessions: what the tracker holds.
    pub fn open(&self) -> usize {
        self.state.sessions.len() + self.state.waiting_logins.len() + self.state.sshd_only.len()
    }

    /// Everything the tracker knows about open sessions and connections, for a
    /// checkpoint. Call it after [`Tracker::drain`]: events not yet drained are not in it.
    pub fn snapshot(&self) -> serde_json::Value {
        serde_json::to_value(&self.state).unwrap_or(serde_json::Value::Null)
    }

    /// [`Tracker::snapshot`] as JSON text, serialized straight from the state: what the
    /// daemon saves every second, without building (and dropping) a `Value` tree as
    /// large as the state first.
    pub fn snapshot_json(&self) -> Box<serde_json::value::RawValue> {
        serde_json::value::to_raw_value(&self.state)
            .unwrap_or_else(|_| serde_json::value::RawValue::NULL.to_owned())
    }

    /// Takes back a [`Tracker::snapshot`]; a snapshot that does not fit (another version,
    /// damaged) is refused and the tracker starts empty.
    pub fn restore(&mut self, snapshot: serde_json::Value) -> Result<(), serde_json::Error> {
        if snapshot.is_null() {
            return Ok(());
        }
        self.restored(serde_json::from_value(snapshot)?);
        Ok(())
    }

    /// [`Tracker::restore`] from a [`Tracker::snapshot_json`].
    pub fn restore_json(
        &mut self,
        snapshot: &serde_json::value::RawValue,
    ) -> Result<(), serde_json::Error> {
        if snapshot.get().trim() == "null" {
            return Ok(());
        }
        self.restored(serde_json::from_str(snapshot.get())?);
        Ok(())
    }

    fn restored(&mut self, state: State) {
        self.state = state;
        self.restored = true;
        self.rebuild_timers();
    }

    /// Events ready to be written, in order.
    pub fn drain(&mut self) -> std::vec::Drain<'_, Event> {
        self.out.drain(..)
    }

    /// Tells the tracker how far each side has delivered; ends the waits that are over
    /// and forgets what is too old to matter. The pipeline calls it before every fact
    /// (with that fact's side at the fact's time) and whenever a source falls idle.
    pub fn advance(&mut self, progress: Progress) {
        self.progress = progress;
        if self.restored {
            self.restored = false;
            self.restart_waits(progress.wall_ms);
        }
        if self
            .timers
            .any_due(&self.progress, self.config.join_grace_ms)
        {
            let _ = self.expire_with(|_| Ok::<(), std::convert::Infallible>(()));
        }
        let event_now = progress.audit.watermark_ms.max(progress.sshd.watermark_ms);
        if event_now.saturating_sub(self.last_sweep_ms) >= SWEEP_EVERY_MS {
            self.last_sweep_ms = event_now;
            self.sweep();
        }
    }

    /// End of input: every wait ends now.
    pub fn finish(&mut self) {
        self.advance(Progress::finished());
    }

    /// [`Tracker::finish`] followed by [`Tracker::drain`], except that each event goes to
    /// `write` as soon as it is made. At the end of a replay every session still waiting
    /// gives up at once; holding all of their events at the same time took more memory
    /// (and page faults) than anything before it. Same events, same order.
    pub fn finish_with<E>(
        &mut self,
        mut write: impl FnMut(Event) -> Result<(), E>,
    ) -> Result<(), E> {
        self.drain().try_for_each(&mut write)?;
        self.progress = Progress::finished();
        self.expire_with(|out| out.drain(..).try_for_each(&mut write))?;
        self.last_sweep_ms = u64::MAX;
        self.sweep();
        self.drain().try_for_each(&mut write)
    }

    /// Ends every wait that is over (and those that ending others made over), in (due
    /// time, id) order, calling `after_each` with the output queue after each.
    fn expire_with<E>(
        &mut self,
        mut after_each: impl FnMut(&mut Vec<Event>) -> Result<(), E>,
    ) -> Result<(), E> {
        loop {
            let keys = self.due_waits();
            if keys.is_empty() {
                break;
            }
            for key in keys {
                self.end_wait(key);
                after_each(&mut self.out)?;
            }
        }
        Ok(())
    }

    pub fn on_sshd(&mut self, fact: SshdFact) {
        let SshdFact {
            time_ms,
            resolution_ms,
            pid,
            ses,
            what,
        } = fact;
        match what {
            SshdWhat::Accepted(login) => self.on_accepted(time_ms, resolution_ms, pid, login),
            SshdWhat::AuthFailure {
                user,
                ip,
                port,
                method,
                reason,
            } => {
                self.connection(pid, time_ms).failures += 1;
                self.failed_login(FailedLogin {
                    time_ms,
                    pid,
                    user: &user,
                    ip: ip.as_deref(),
                    port,
                    method: method.as_deref(),
                    reason: &reason,
                });
            }
            SshdWhat::InvalidUser { user } => {
                self.connection(pid, time_ms).invalid_user = Some(user);
            }
            SshdWhat::UserChild { child } => {
                if self.state.monitor_of.len() >= self.config.max_sessions {
                    self.state.monitor_of.clear();
                }
                self.state.monitor_of.insert(child, pid);
            }
            SshdWhat::PreauthNote { reason } => {
                self.connection(pid, time_ms).note = Some(reason);
            }
            SshdWhat::PreauthEnded {
                user,
                ip,
                port,
                reason,
            } => {
                let connection = self.state.connections.remove(&pid).unwrap_or_default();
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
                self.failed_login(FailedLogin {
                    time_ms,
                    pid,
                    user: &user,
                    ip: ip.as_deref(),
                    port,
                    method: None,
                    reason: &reason,
                });
            }
            SshdWhat::SessionAction { outcome, detail } => {
                self.on_session_action(time_ms, pid, ses, outcome, *detail);
            }
            SshdWhat::SftpServerEnded => self.sftp_server_ended(pid, time_ms),
            SshdWhat::SessionClosed { reason } => {
                let signal = EndSignal {
                    time_ms,
                    resolution_ms,
                    reason,
                };
                self.on_session_closed(pid, signal);
            }
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
                let waiting_actions = self.start_session(ses, pid, &fact);
                self.on_action(ses, fact);
                self.release_pending_for_session(ses, waiting_actions);
            }
            AuditRole::SessionEnd { pid } => {
                // `sudo` or `su` inside the session close their own PAM sessions with
                // the same `ses`: only the session's own sshd process ends it.
                let own = self.state.sessions.get(&ses).is_some_and(|s| s.pid == pid);
                let time_ms = fact.time_ms;
                self.on_action(ses, fact);
                if own {
                    self.on_audit_end(ses, time_ms);
                }
            }
            AuditRole::Action => {
                let sftp_server = self.sftp_server_started(&fact);
                let time_ms = fact.time_ms;
                self.on_action(ses, fact);
                if let Some(pid) = sftp_server {
                    self.note_sftp_server(ses, pid, time_ms);
                }
            }
        }
    }

    /// A new wait for `key` on `side`, due at event time `due_ms`, begun now.
    fn wait(&mut self, key: WaitKey, side: Side, due_ms: u64) -> Wait {
        let wait = Wait {
            side,
            due_ms,
            since_ms: self.progress.wall_ms,
        };
        self.timers.add(&wait, key);
        wait
    }

    /// The wait `key` stands for now, if any.
    fn wait_of(&self, key: WaitKey) -> Option<Wait> {
        match key {
            WaitKey::Login(ses) => self.state.sessions.get(&ses)?.login_wait,
            WaitKey::End(ses) => self.state.sessions.get(&ses)?.end_wait,
            WaitKey::Audit(pid) => Some(self.state.waiting_logins.get(&pid)?.wait),
        }
    }

    /// The slack a fact of `resolution_ms` needs before its partner counts as missing.
    fn due(&self, time_ms: u64, resolution_ms: u64) -> u64 {
        time_ms
            .saturating_add(resolution_ms.saturating_sub(1))
            .saturating_add(self.config.join_deadline_ms)
    }

    /// The waits that are over, in (due time, id) order: a replay must end them in the
    /// same order every time, and the maps' own order is random.
    fn due_waits(&mut self) -> Vec<WaitKey> {
        let grace = self.config.join_grace_ms;
        let taken = self.timers.take(&self.progress, grace);
        let mut seen = std::collections::HashSet::with_capacity(taken.len());
        let mut keys = Vec::with_capacity(taken.len());
        for (side, key) in taken {
            let over = self
                .wait_of(key)
                .is_some_and(|w| w.side == side && w.is_over(&self.progress, grace));
            if over && seen.insert(key) {
                keys.push(key);
            }
        }
        keys
    }

    fn end_wait(&mut self, key: WaitKey) {
        match key {
            WaitKey::Login(ses) => {
                let grace = self.config.join_grace_ms;
                let progress = self.progress;
                let Some(session) = self.state.sessions.get_mut(&ses) else {
                    return;
                };
                if session.attribution.is_some() {
                    session.login_wait = None;
                    return;
                }
                // sshd has shown the login is not coming. The audit-only attribution takes
                // the source address from the session's own PAM records: those up to the
                // same time must be in too, or which of them are would depend on how the
                // two sides happened to interleave.
                if let Some(wait) = session.login_wait.filter(|w| w.side == Side::Sshd) {
                    let audit = Wait {
                        side: Side::Audit,
                        ..wait
                    };
                    if !audit.is_over(&progress, grace) {
                        session.login_wait = Some(audit);
                        self.timers.add(&audit, WaitKey::Login(ses));
                        return;
                    }
                }
                self.stats.giveup_no_sshd_login += 1;
                self.attribute_audit_only(ses);
            }
            WaitKey::End(ses) => {
                if let Some(session) = self.state.sessions.get_mut(&ses) {
                    session.end_wait = None;
                }
                self.write_logout_if_ready(ses, true);
            }
            WaitKey::Audit(pid) => {
                if let Some(waiting) = self.state.waiting_logins.remove(&pid) {
                    self.stats.giveup_no_audit_login += 1;
                    self.sshd_only_login(pid, waiting);
                }
            }
        }
    }

    /// The timers of every wait the state holds (after a restore).
    fn rebuild_timers(&mut self) {
        self.timers.clear();
        let mut waits: Vec<(WaitKey, Wait)> = Vec::new();
        for (ses, session) in &self.state.sessions {
            if let Some(w) = session.login_wait {
                waits.push((WaitKey::Login(*ses), w));
            }
            if let Some(w) = session.end_wait {
                waits.push((WaitKey::End(*ses), w));
            }
        }
        for (pid, waiting) in &self.state.waiting_logins {
            waits.push((WaitKey::Audit(*pid), waiting.wait));
        }
        for (key, wait) in waits {
            self.timers.add(&wait, key);
        }
    }

    /// Waits restored from a checkpoint begin again now: the old process's wall clock
    /// means nothing here.
    fn restart_waits(&mut self, wall_ms: u64) {
        for session in self.state.sessions.values_mut() {
            for wait in session
                .login_wait
                .iter_mut()
                .chain(session.end_wait.iter_mut())
            {
                wait.since_ms = wall_ms;
            }
        }
        for waiting in self.state.waiting_logins.values_mut() {
            waiting.wait.since_ms = wall_ms;
        }
        self.rebuild_timers();
    }

    /// Forgets ended sessions once late events are no longer expected, and old
    /// pre-authentication notes.
    fn sweep(&mut self) {
        let audit_now = self.progress.audit.watermark_ms;
        let sshd_now = self.progress.sshd.watermark_ms;
        let keep = self.config.ended_keep_ms;
        self.state
            .connections
            .retain(|_, c| sshd_now.saturating_sub(c.last_ms) < CONNECTION_KEEP_MS);
        let state = &mut self.state;
        state.sessions.retain(|ses, s| {
            let gone = s
                .logged_out_ms
                .is_some_and(|end| audit_now.saturating_sub(end) >= keep);
            if gone && state.ses_by_pid.get(&s.pid) == Some(ses) {
                state.ses_by_pid.remove(&s.pid);
            }
            !gone
        });
        state
            .non_ssh_sessions
            .retain(|_, seen| audit_now.saturating_sub(*seen) < keep.max(86_400_000));
        self.give_up_pending_log_actions();
    }

    /// Whether an sshd login at `login_ms` and a `LOGIN` record at `record_ms` of the same
    /// process can be one login: the kernel's record comes within moments of sshd's line,
    /// and a process id seen again minutes later (a busy host wraps its pids) is another
    /// login, whatever order the two sides were read in.
    fn same_moment(&self, login_ms: u64, resolution_ms: u64, record_ms: u64) -> bool {
        let slack = self.config.join_deadline_ms.saturating_add(resolution_ms);
        login_ms.abs_diff(record_ms) <= slack
    }

    /// The session still awaiting its login whose `LOGIN` record came from `pid` nearest
    /// in time to `time_ms`, if one is near enough.
    fn awaiting_session(&self, pid: u32, time_ms: u64, resolution_ms: u64) -> Option<u32> {
        let awaiting = |ses: &u32| {
            self.state.sessions.get(ses).is_some_and(|s| {
                s.pid == pid
                    && s.attribution.is_none()
                    && self.same_moment(time_ms, resolution_ms, s.start_ms)
            })
        };
        // The latest LOGIN of the process is nearly always the one: look there first.
        if let Some(ses) = self.state.ses_by_pid.get(&pid).filter(|ses| awaiting(ses)) {
            return Some(*ses);
        }
        self.state
            .sessions
            .iter()
            .filter(|(ses, _)| awaiting(ses))
            .min_by_key(|(ses, s)| (s.start_ms.abs_diff(time_ms), **ses))
            .map(|(ses, _)| *ses)
    }

    fn on_accepted(&mut self, time_ms: u64, resolution_ms: u64, pid: u32, login: Login) {
        self.state.connections.remove(&pid);
        self.stats.logins += 1;
        if let Some(ses) = self.awaiting_session(pid, time_ms, resolution_ms) {
            self.join(ses, pid, time_ms, &login);
            return;
        }
        // A second login of the same process before the first got its session: the
        // first is given up, never overwritten.
        if let Some(earlier) = self.state.waiting_logins.remove(&pid) {
            self.stats.giveup_no_audit_login += 1;
            self.sshd_only_login(pid, earlier);
        }
        self.make_room();
        let due = self.due(time_ms, resolution_ms);
        let wait = self.wait(WaitKey::Audit(pid), Side::Audit, due);
        self.state.waiting_logins.insert(
            pid,
            WaitingLogin {
                time_ms,
                resolution_ms,
                login,
                wait,
                closed: None,
                actions: Vec::new(),
            },
        );
    }

    /// Opens session `ses`; returns what the logs showed done in it while its login
    /// waited for it, to follow its `LOGIN` record.
    fn start_session(&mut self, ses: u32, pid: u32, fact: &AuditFact) -> Vec<AuditFact> {
        // Session ids restart at 1 after a reboot (and logs can hold several boots): a
        // new LOGIN for an id still held settles the old session first, never drops it.
        if self.state.sessions.contains_key(&ses) {
            self.settle(ses, fact.time_ms, "session id reused");
        }
        self.make_room();
        // A login of the same process long before this record is another login's (its
        // own record may yet come, or its wait gives it up): never this session's.
        let near = self
            .state
            .waiting_logins
            .get(&pid)
            .is_some_and(|w| self.same_moment(w.time_ms, w.resolution_ms, fact.time_ms));
        let waiting = if near {
            self.state.waiting_logins.remove(&pid)
        } else {
            None
        };
        self.state.ses_by_pid.insert(pid, ses);
        let due = self.due(fact.time_ms, 1);
        let login_wait = self.wait(WaitKey::Login(ses), Side::Sshd, due);
        self.state.sessions.insert(
            ses,
            Session {
                pid,
                start_ms: fact.time_ms,
                attribution: None,
                login_wait: Some(login_wait),
                buffered: Vec::new(),
                after_end: Vec::new(),
                actions: 0,
                sshd_end: None,
                audit_end: None,
                end_wait: None,
                logged_out_ms: None,
                auid_name: fact.auid_name.clone(),
                addr: fact.addr.clone(),
            },
        );
        let Some(mut waiting) = waiting else {
            return Vec::new();
        };
        if let Some(closed) = waiting.closed.clone() {
            if let Some(session) = self.state.sessions.get_mut(&ses) {
                session.sshd_end = Some(closed);
            }
        }
        self.join(ses, pid, waiting.time_ms, &waiting.login);
        std::mem::take(&mut waiting.actions)
    }

    /// Both sides are known: the login is written with the kernel's session id, and the
    /// events held for it follow.
    fn join(&mut self, ses: u32, pid: u32, time_ms: u64, login: &Login) {
        let actor = Arc::new(actor_from_login(pid, login));
        self.out.push(build::user_login(
            time_ms,
            Arc::clone(&actor),
            login,
            ses.to_string(),
            Correlation::Joined,
        ));
        self.attribute(
            ses,
            Attribution {
                actor,
                correlation: Correlation::Joined,
            },
        );
    }

    /// The sshd side never came: the session's events are written from the audit side.
    fn attribute_audit_only(&mut self, ses: u32) {
        let Some(session) = self.state.sessions.get(&ses) else {
            return;
        };
        let actor = actor_from_audit(session.auid_name.as_deref(), session.addr.as_deref());
        self.attribute(
            ses,
            Attribution {
                actor: Arc::new(actor),
                correlation: Correlation::AuditOnly,
            },
        );
    }

    fn attribute(&mut self, ses: u32, attribution: Attribution) {
        let Some(session) = self.state.sessions.get_mut(&ses) else {
            return;
        };
        session.attribution = Some(attribution);
        session.login_wait = None;
        let held = std::mem::take(&mut session.buffered);
        for fact in held {
            self.emit_action(ses, fact);
        }
        self.write_logout_if_ready(ses, false);
    }

    fn on_action(&mut self, ses: u32, mut fact: AuditFact) {
        if self.state.non_ssh_sessions.contains_key(&ses) {
            self.stats.non_ssh_events += 1;
            return;
        }
        let limit = self.config.max_buffered_per_session;
        let Some(session) = self.state.sessions.get_mut(&ses) else {
            return self.emit_audit_only(ses, fact);
        };
        if session.addr.is_none() {
            session.addr = fact.addr.take();
        }
        if fact.detail.origin == Origin::Audit {
            // Only the session's own sshd processes forward, and not its monitor.
            let outcome = fact.outcome;
            if forward::classify_forward(&mut fact.detail, outcome, session.pid) {
                fact.outcome = forward::forward_outcome(&mut fact.detail, outcome, fact.exit);
            }
        }
        // What the logs say of the session (a channel, a file) comes from the other side
        // than `USER_END`: whether it is before the end is told by its time, not by
        // which side happened to arrive first.
        let after_end = match &session.audit_end {
            Some(end) if fact.detail.origin != Origin::Audit => fact.time_ms > end.time_ms,
            Some(_) => true,
            None => false,
        };
        let ending = after_end && session.logged_out_ms.is_none();
        let held = match (ending, session.attribution.is_none()) {
            (true, _) => &mut session.after_end,
            (false, true) => &mut session.buffered,
            (false, false) => return self.emit_action(ses, fact),
        };
        if held.len() < limit {
            held.push(fact);
        } else {
            self.stats.giveup_buffer_full += 1;
            self.emit_audit_only(ses, fact);
        }
    }

    fn emit_action(&mut self, ses: u32, fact: AuditFact) {
        let attribution = self.state.sessions.get_mut(&ses).and_then(|s| {
            s.actions += 1;
            s.attribution.clone()
        });
        let Some(attribution) = attribution else {
            return self.emit_audit_only(ses, fact);
        };
        match attribution.correlation {
            Correlation::Joined => self.stats.actions_joined += 1,
            _ => self.stats.actions_audit_only += 1,
        }
        self.push_action(ses, fact, attribution.actor, attribution.correlation);
    }

    /// An event of a session nobody logged in to as far as we know.
    fn emit_audit_only(&mut self, ses: u32, fact: AuditFact) {
        self.stats.actions_audit_only += 1;
        let actor = actor_from_audit(fact.auid_name.as_deref(), fact.addr.as_deref());
        if let Some(session) = self.state.sessions.get_mut(&ses) {
            session.actions += 1;
        }
        self.push_action(ses, fact, Arc::new(actor), Correlation::AuditOnly);
    }

    fn push_action(
        &mut self,
        ses: u32,
        fact: AuditFact,
        actor: Arc<Actor>,
        correlation: Correlation,
    ) {
        self.out.push(Event::Action(Box::new(Action {
            time_ms: fact.time_ms,
            ses,
            actor,
            correlation,
            outcome: fact.outcome,
            detail: fact.detail,
        })));
    }

    fn sshd_only_login(&mut self, pid: u32, waiting: WaitingLogin) {
        // An action needs a kernel session to be filed under.
        self.stats.giveup_log_actions += waiting.actions.len() as u64;
        let audit_id = build::login_audit_id(pid, waiting.time_ms, &waiting.login);
        let actor = Arc::new(actor_from_login(pid, &waiting.login));
        self.out.push(build::user_login(
            waiting.time_ms,
            Arc::clone(&actor),
            &waiting.login,
            audit_id.clone(),
            Correlation::SshdOnly,
        ));
        let only = SshdOnly {
            actor,
            audit_id,
            start_ms: waiting.time_ms,
        };
        match waiting.closed {
            Some(closed) => self.sshd_only_logout(only, closed),
            None => {
                self.state.sshd_only.insert(pid, only);
            }
        }
    }

    fn failed_login(&mut self, failed: FailedLogin<'_>) {
        self.stats.failed_logins += 1;
        self.out.push(build::failed_login(failed));
    }

    /// The pre-authentication memory of connection `pid`, bounded in number.
    fn connection(&mut self, pid: u32, time_ms: u64) -> &mut Connection {
        let connections = &mut self.state.connections;
        if connections.len() >= self.config.max_sessions && !connections.contains_key(&pid) {
            if let Some(oldest) = connections
                .iter()
                .min_by_key(|(p, c)| (c.last_ms, **p))
                .map(|(p, _)| *p)
            {
                connections.remove(&oldest);
            }
        }
        let connection = connections.entry(pid).or_default();
        connection.last_ms = connection.last_ms.max(time_ms);
        connection
    }

    fn remember_non_ssh(&mut self, ses: u32, time_ms: u64) {
        if self.state.non_ssh_sessions.len() >= self.config.max_sessions {
            self.state.non_ssh_sessions.clear();
        }
        self.state.non_ssh_sessions.insert(ses, time_ms);
    }

    /// Keeps the tables bounded: the oldest open session (or waiting login) is given up.
    fn make_room(&mut self) {
        while self.state.sessions.len() + self.state.waiting_logins.len()
            >= self.config.max_sessions
        {
            self.stats.giveup_too_many_sessions += 1;
            // Ties go to the lower id, so that a replay gives up the same session each time.
            let oldest_session = self
                .state
                .sessions
                .iter()
                .min_by_key(|(ses, s)| (s.start_ms, **ses))
                .map(|(ses, s)| (*ses, s.start_ms));
            let oldest_login = self
                .state
                .waiting_logins
                .iter()
                .min_by_key(|(pid, w)| (w.time_ms, **pid))
                .map(|(pid, w)| (*pid, w.time_ms));
            match (oldest_session, oldest_login) {
                (Some((ses, start)), Some((_, login))) if start <= login => self.drop_session(ses),
                (_, Some((pid, _))) => {
                    if let Some(waiting) = self.state.waiting_logins.remove(&pid) {
                        self.sshd_only_login(pid, waiting);
                    }
                }
                (Some((ses, _)), None) => self.drop_session(ses),
                (None, None) => return,
            }
        }
    }

    fn drop_session(&mut self, ses: u32) {
        if self
            .state
            .sessions
            .get(&ses)
            .is_some_and(|s| s.attribution.is_none())
        {
            self.attribute_audit_only(ses);
        }
        self.write_logout_if_ready(ses, true);
        if let Some(session) = self.state.sessions.remove(&ses) {
            if self.state.ses_by_pid.get(&session.pid) == Some(&ses) {
                self.state.ses_by_pid.remove(&session.pid);
            }
        }
    }
}

#[cfg(test)]
mod tests;
