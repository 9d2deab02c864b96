//! How a session ends: sshd's close and the kernel's `USER_END`, whichever comes first
//! in event time, written once, with what followed `USER_END` after it; and the ends
//! that are forced (a reused session id, a reboot).

use super::progress::Side;
use super::state::{EndSignal, SshdOnly, WaitKey};
use super::Tracker;
use sshtrail_event::{Event, Logout};
use std::sync::Arc;

impl Tracker {
    pub(super) fn sshd_only_logout(&mut self, only: SshdOnly, end: EndSignal) {
        self.stats.logouts += 1;
        self.out.push(Event::Logout(Box::new(Logout {
            time_ms: end.time_ms,
            audit_id: only.audit_id,
            actor: only.actor,
            start_ms: only.start_ms,
            actions: 0,
            reason: end.reason,
            session_log: None,
        })));
    }

    pub(super) fn on_session_closed(&mut self, pid: u32, signal: EndSignal) {
        let pid = self.state.monitor_of.remove(&pid).unwrap_or(pid);
        if let Some(ses) = self.session_closed_by(pid, &signal) {
            if let Some(session) = self.state.sessions.get_mut(&ses) {
                if session.logged_out_ms.is_none() && session.sshd_end.is_none() {
                    session.sshd_end = Some(signal);
                    self.write_logout_if_ready(ses, false);
                }
                return;
            }
        }
        if let Some(waiting) = self.state.waiting_logins.get_mut(&pid) {
            // Closed before its audit session showed up: the login still waits for its
            // LOGIN record (a second-resolution log can put a whole short session before
            // it); the close is kept for when it comes or is given up.
            if waiting.closed.is_none() {
                waiting.closed = Some(signal);
            }
            return;
        }
        if let Some(only) = self.state.sshd_only.remove(&pid) {
            self.sshd_only_logout(only, signal);
        }
    }

    /// The session a close of `pid` ends: the latest of that process's sessions that began
    /// before the close. The process's latest `LOGIN` is nearly always it; but when the
    /// audit side was read ahead and the pid came round again, a later session of the same
    /// pid may already be open, and the close is not its.
    fn session_closed_by(&self, pid: u32, signal: &EndSignal) -> Option<u32> {
        let slack = signal
            .resolution_ms
            .saturating_add(self.config.join_deadline_ms);
        let began_before = |start_ms: u64| start_ms <= signal.time_ms.saturating_add(slack);
        if let Some(ses) = self.state.ses_by_pid.get(&pid) {
            if self
                .state
                .sessions
                .get(ses)
                .is_some_and(|s| began_before(s.start_ms))
            {
                return Some(*ses);
            }
        }
        self.state
            .sessions
            .iter()
            .filter(|(_, s)| s.pid == pid && s.logged_out_ms.is_none() && began_before(s.start_ms))
            .max_by_key(|(ses, s)| (s.start_ms, **ses))
            .map(|(ses, _)| *ses)
    }

    pub(super) fn on_audit_end(&mut self, ses: u32, time_ms: u64) {
        if let Some(session) = self.state.sessions.get_mut(&ses) {
            if session.logged_out_ms.is_none() && session.audit_end.is_none() {
                session.audit_end = Some(EndSignal {
                    time_ms,
                    resolution_ms: 1,
                    reason: "session ended (USER_END)".to_string(),
                });
                self.write_logout_if_ready(ses, false);
            }
        }
    }

    /// Writes the logout once whom to attribute it to is known and both sides have had
    /// their say (or the other side's wait is over: `waited`). Its time and reason are
    /// the earlier end's; a whole-second sshd stamp that covers the `USER_END` takes the
    /// precise time from it.
    pub(super) fn write_logout_if_ready(&mut self, ses: u32, waited: bool) {
        let due = {
            let Some(session) = self.state.sessions.get(&ses) else {
                return;
            };
            if session.logged_out_ms.is_some() || session.attribution.is_none() {
                return;
            }
            match (&session.sshd_end, &session.audit_end) {
                (None, None) => return,
                (Some(_), Some(_)) => None,
                _ if waited => None,
                (Some(sshd), None) => {
                    Some((Side::Audit, self.due(sshd.time_ms, sshd.resolution_ms)))
                }
                (None, Some(audit)) => Some((Side::Sshd, self.due(audit.time_ms, 1))),
            }
        };
        if let Some((side, due_ms)) = due {
            let waiting = self
                .state
                .sessions
                .get(&ses)
                .is_some_and(|s| s.end_wait.is_some());
            if !waiting {
                let wait = self.wait(WaitKey::End(ses), side, due_ms);
                if let Some(session) = self.state.sessions.get_mut(&ses) {
                    session.end_wait = Some(wait);
                }
            }
            return;
        }
        let Some(session) = self.state.sessions.get_mut(&ses) else {
            return;
        };
        let end = match (session.sshd_end.take(), session.audit_end.take()) {
            (Some(sshd), Some(audit)) => {
                let covers = sshd.time_ms <= audit.time_ms
                    && audit.time_ms < sshd.time_ms.saturating_add(sshd.resolution_ms);
                if covers {
                    EndSignal {
                        time_ms: audit.time_ms,
                        ..sshd
                    }
                } else if sshd.time_ms <= audit.time_ms {
                    sshd
                } else {
                    audit
                }
            }
            (Some(one), None) | (None, Some(one)) => one,
            (None, None) => return,
        };
        let Some(attribution) = session.attribution.as_ref() else {
            return;
        };
        session.end_wait = None;
        session.logged_out_ms = Some(end.time_ms);
        let logout = Logout {
            time_ms: end.time_ms,
            audit_id: ses.to_string(),
            actor: Arc::clone(&attribution.actor),
            start_ms: session.start_ms,
            actions: session.actions,
            reason: end.reason,
            session_log: None,
        };
        let later = std::mem::take(&mut session.after_end);
        self.stats.logouts += 1;
        self.out.push(Event::Logout(Box::new(logout)));
        for fact in later {
            self.emit_action(ses, fact);
        }
    }

    /// Ends session `ses` now, whatever it still waits for, and forgets it.
    pub(super) fn settle(&mut self, ses: u32, time_ms: u64, reason: &str) {
        if self
            .state
            .sessions
            .get(&ses)
            .is_some_and(|s| s.attribution.is_none())
        {
            self.stats.giveup_no_sshd_login += 1;
            self.attribute_audit_only(ses);
        }
        if let Some(session) = self.state.sessions.get_mut(&ses) {
            if session.logged_out_ms.is_none()
                && session.sshd_end.is_none()
                && session.audit_end.is_none()
            {
                session.sshd_end = Some(EndSignal {
                    time_ms,
                    resolution_ms: 1,
                    reason: reason.to_string(),
                });
            }
        }
        self.write_logout_if_ready(ses, true);
        if let Some(old) = self.state.sessions.remove(&ses) {
            if self.state.ses_by_pid.get(&old.pid) == Some(&ses) {
                self.state.ses_by_pid.remove(&old.pid);
            }
        }
    }

    /// The host rebooted while sshtrail was down: every session it knew belongs to the
    /// old boot and its processes are gone. Each one still open ends at `time_ms` (the
    /// last moment sshtrail saw that boot alive) with `reason`: one `UserLogout` each,
    /// like a session whose id is reused, in id order. Returns how many ended.
    pub fn end_all(&mut self, time_ms: u64, reason: &str) -> usize {
        let mut ended = 0;
        let mut open: Vec<u32> = self.state.sessions.keys().copied().collect();
        open.sort_unstable();
        for ses in open {
            if self
                .state
                .sessions
                .get(&ses)
                .is_some_and(|s| s.logged_out_ms.is_none())
            {
                ended += 1;
            }
            self.settle(ses, time_ms, reason);
        }
        // Logins sshd saw whose kernel session never came, and sshd-only sessions.
        let mut pids: Vec<u32> = self
            .state
            .waiting_logins
            .keys()
            .chain(self.state.sshd_only.keys())
            .copied()
            .collect();
        pids.sort_unstable();
        pids.dedup();
        let end = || EndSignal {
            time_ms,
            resolution_ms: 1,
            reason: reason.to_string(),
        };
        for pid in pids {
            ended += 1;
            if let Some(mut waiting) = self.state.waiting_logins.remove(&pid) {
                self.stats.giveup_no_audit_login += 1;
                waiting.closed.get_or_insert_with(end);
                self.sshd_only_login(pid, waiting);
            } else if let Some(only) = self.state.sshd_only.remove(&pid) {
                self.sshd_only_logout(only, end());
            }
        }
        self.state.ses_by_pid.clear();
        self.state.connections.clear();
        self.state.monitor_of.clear();
        self.state.non_ssh_sessions.clear();
        ended
    }
}
