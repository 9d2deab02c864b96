#!/usr/bin/env bash
# Standalone systemd-journald without systemd as PID 1.
#
#   journald.sh start   start it (no-op if a journald is already running) and make /dev/log
#   journald.sh stop    stop the journald this script started (never one it did not start)
#   journald.sh status
#
# journald is machine-wide: it owns /run/systemd/journal/{socket,stdout,dev-log} and /dev/log,
# so every test on this machine shares one. The journal is written where journald.conf says
# (Debian: /var/log/journal when it exists); read it with `journalctl -o json`.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PIDFILE=$TESTBED_DIR/journald.pid

running_pid() {
    # Any journald (ours or someone else's) counts: a second one cannot bind the sockets.
    pgrep -x systemd-journal | head -n1 || true
}

start() {
    mkdir -p "$TESTBED_DIR" "$JOURNAL_RUN"
    [[ -x $JOURNALD_BIN ]] || tb_need_pkgs systemd
    local pid
    pid=$(running_pid)
    if [[ -z $pid ]]; then
        # journald binds dev-log only when it is not given sockets by systemd; stale sockets
        # from a killed instance would make the bind fail.
        rm -f "$JOURNAL_RUN/socket" "$JOURNAL_RUN/stdout" "$JOURNAL_RUN/dev-log"
        # journald 252 applies journald.conf's Audit= (Debian: no) at start-up, switching
        # the kernel's auditing off for everyone; it is put back as it was below.
        local audit_was
        audit_was=$(auditctl -s 2>/dev/null | awk '$1 == "enabled" { print $2 }') || true
        setsid "$JOURNALD_BIN" </dev/null >>"$TESTBED_DIR/journald.out" 2>&1 &
        echo $! >"$PIDFILE"
        local i
        for i in $(seq 50); do
            [[ -S $JOURNAL_RUN/dev-log ]] && break
            sleep 0.1
        done
        [[ -S $JOURNAL_RUN/dev-log ]] || tb_die "journald did not create $JOURNAL_RUN/dev-log (see $TESTBED_DIR/journald.out)"
        # (never 2: that is immutable until reboot; a locked configuration cannot change anyway)
        if [[ $audit_was == 1 ]]; then
            for i in $(seq 20); do
                [[ $(auditctl -s 2>/dev/null | awk '$1 == "enabled" { print $2 }') == 1 ]] || auditctl -e 1 >/dev/null
                sleep 0.05
            done
        fi
        tb_log "journald started (pid $(<"$PIDFILE"))"
    else
        tb_log "journald already running (pid $pid), reusing it"
    fi
    # systemd's socket unit normally creates this symlink; without PID 1 we do it.
    if [[ ! -S /dev/log ]] || [[ $(readlink -f /dev/log) != "$JOURNAL_RUN/dev-log" ]]; then
        ln -sfn "$JOURNAL_RUN/dev-log" /dev/log
    fi
}

stop() {
    if tb_pid_alive "$PIDFILE" systemd-journal; then
        tb_stop_pidfile "$PIDFILE" systemd-journal
        rm -f /dev/log
        tb_log "journald stopped"
    else
        rm -f "$PIDFILE"
        tb_log "no journald started by the testbed"
    fi
}

case ${1:-} in
start) start ;;
stop) stop ;;
status) pid=$(running_pid); [[ -n $pid ]] && echo "journald running (pid $pid)" || { echo "journald not running"; exit 3; } ;;
*) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
