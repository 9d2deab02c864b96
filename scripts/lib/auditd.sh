# shellcheck shell=bash
# Shared helpers for the scripts that drive the real auditd on this host
# (capture-audit-fixtures, make-corpus, compare-peers). Source it; do not run it.
#
# The host's kernel audit rules and auditd are shared with other people's tests, so
# every helper here touches only what the calling script added itself: rules are
# added with the caller's own `-k` key, remembered, and deleted one by one with the
# same arguments (never `auditctl -D`, never `-e 2`, never --loginuid-immutable).

AUDIT_LOG=${AUDIT_LOG:-}

log() { printf '%s %s\n' "[$(date -u +%H:%M:%S)]" "$*" >&2; }
die() { log "error: $*"; exit 1; }

require_root() {
    [ "$(id -u)" -eq 0 ] || die "run as root (kernel audit rules and auditd need it)"
}

# apt_ensure CMD PACKAGE [CMD PACKAGE ...]: install PACKAGE when CMD is missing.
apt_ensure() {
    local missing=()
    while [ $# -ge 2 ]; do
        command -v "$1" >/dev/null 2>&1 || missing+=("$2")
        shift 2
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" >/dev/null ||
        { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" >/dev/null; } ||
        die "apt-get install ${missing[*]} failed"
}

# auditd_conf KEY: the value auditd.conf gives KEY (empty when unset).
auditd_conf() {
    sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*//p" /etc/audit/auditd.conf | tail -n1
}

# Start auditd when it is not running (there is no systemd here: auditd daemonizes
# by itself) and make sure the kernel is auditing. A running auditd is left alone.
auditd_ensure_running() {
    if ! pgrep -x auditd >/dev/null; then
        log "auditd is not running: starting it"
        auditd || die "auditd failed to start"
        for _ in $(seq 50); do pgrep -x auditd >/dev/null && break; sleep 0.1; done
    fi
    local enabled
    enabled=$(auditctl -s | awk '$1 == "enabled" { print $2 }')
    case "$enabled" in
        1) ;;
        2) log "audit config is locked (enabled 2): rules cannot be changed"; exit 1 ;;
        *) auditctl -e 1 >/dev/null || die "auditctl -e 1 failed" ;;
    esac
    AUDIT_LOG=${AUDIT_LOG:-$(auditd_conf log_file)}
    AUDIT_LOG=${AUDIT_LOG:-/var/log/audit/audit.log}
    [ "$(auditd_conf write_logs)" != "no" ] || die "auditd has write_logs = no: nothing reaches $AUDIT_LOG"
}

# --- rules -----------------------------------------------------------------------------
# Rules this process added, as the argument strings given to auditctl. Deleted in
# reverse order by rules_cleanup (also on exit through the trap set by rules_trap).
OWN_RULES=()

# rule_add -A|-a|-w ARGS...: add one rule and remember it for deletion.
# Callers use -A (insert first): on the exit list the first rule that matches a syscall
# decides, key included, so a broad rule someone else added earlier would otherwise
# take our events and stamp them with its key.
rule_add() {
    auditctl "$@" >/dev/null || die "auditctl $* failed"
    OWN_RULES+=("$*")
}

# Delete every remembered rule with exactly the arguments it was added with:
# `-a`/`-A LIST,ACTION ...` becomes `-d LIST,ACTION ...`, `-w PATH ...` becomes `-W PATH ...`.
rules_cleanup() {
    local i rule
    for ((i = ${#OWN_RULES[@]} - 1; i >= 0; i--)); do
        rule=${OWN_RULES[$i]}
        case "$rule" in
            -a\ *) rule="-d ${rule#-a }" ;;
            -A\ *) rule="-d ${rule#-A }" ;;
            -w\ *) rule="-W ${rule#-w }" ;;
        esac
        # shellcheck disable=SC2086 # the stored string is a word list without quoting
        auditctl $rule >/dev/null 2>&1 || log "warning: could not delete rule: $rule"
    done
    OWN_RULES=()
}

# --- markers and extraction --------------------------------------------------------------
# A marker is a USER record (auditctl -m) whose text is unique; its serial brackets
# the records of a case, because the kernel hands out serials in increasing order.

# The audit log and its rotated generations, oldest first. With EXTRACT_SINCE set to
# a file, generations last written before that file was created are left out.
audit_log_files() {
    local n f
    for n in $(seq 99 -1 1); do
        f="$AUDIT_LOG.$n"
        [ -s "$f" ] || continue
        [ -n "${EXTRACT_SINCE:-}" ] && [ ! "$f" -nt "$EXTRACT_SINCE" ] && continue
        printf '%s\n' "$f"
    done
    # Empty files are left out: the extraction counts passes by FNR == 1.
    [ -s "$AUDIT_LOG" ] && printf '%s\n' "$AUDIT_LOG"
    return 0
}

# marker TEXT: emit a marker record and print its id (SECONDS.MILLIS:SERIAL) once auditd
# has written it.
marker() {
    local text="$1" id
    auditctl -m "$text" || die "auditctl -m failed"
    for _ in $(seq 300); do
        # The most recent generations are enough: the marker was just written.
        id=$(grep -a -h -F "text=$text " "$AUDIT_LOG" "$AUDIT_LOG.1" 2>/dev/null |
            sed -n 's/.*msg=audit(\([0-9.]*:[0-9]*\)).*/\1/p' | tail -n1)
        [ -n "$id" ] && { echo "$id"; return 0; }
        sleep 0.1
    done
    die "marker '$text' never reached $AUDIT_LOG"
}

# extract_events FIRST LAST REGEX [PID_EXTEND]: print every record that lies between the
# marker ids FIRST and LAST (serial strictly between, time within theirs) and whose event
# has a record matching the ERE REGEX. Events are told apart by their whole id (time and
# serial): auditd numbers its own DAEMON_* records with a counter of its own.
# With PID_EXTEND=1, user-space records (those with a nested msg='...') from a pid
# seen in a matching record are taken too: sshd's records for one login do not all
# name the account (e.g. failed logins of unknown users).
# Records keep their original bytes and file order.
extract_events() {
    local first="$1" last="$2" regex="$3" extend="${4:-0}"
    local files
    mapfile -t files < <(audit_log_files)
    [ ${#files[@]} -gt 0 ] || return 0
    LC_ALL=C awk -v first="$first" -v last="$last" -v re="$regex" -v extend="$extend" '
        function pid_of(line) {
            if (!match(line, / pid=[0-9]+/)) return ""
            return substr(line, RSTART + 5, RLENGTH - 5)
        }
        BEGIN {
            split(first, f, ":"); t0 = f[1] + 0; s0 = f[2] + 0
            split(last, l, ":"); t1 = l[1] + 0; s1 = l[2] + 0
        }
        FNR == 1 { pass++ }
        {
            if (!match($0, /msg=audit\([0-9]+\.[0-9]+:[0-9]+\)/)) next
            id = substr($0, RSTART + 10, RLENGTH - 11)
            split(id, h, ":"); t = h[1] + 0; s = h[2] + 0
            if (s <= s0 || s >= s1 || t < t0 || t > t1) next
        }
        pass <= nfiles {
            if ($0 ~ re) { keep[id] = 1; if (extend) { p = pid_of($0); if (p != "") pids[p] = 1 } }
            next
        }
        {
            if (!(id in keep) && extend && index($0, " msg=\x27") && (pid_of($0) in pids)) keep[id] = 1
            if (id in keep) print
        }
    ' nfiles="${#files[@]}" "${files[@]}" "${files[@]}"
}
