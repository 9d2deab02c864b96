# Shared settings and helpers for the sshtrail test environment (sourced, not run).
#
# Everything the testbed creates lives under $TESTBED_DIR (default /run/sshtrail-testbed:
# /run is root-owned and not world-writable, so sshd's StrictModes accepts files there,
# which it would not under /tmp). Override any of these in the environment.

TESTBED_DIR=${TESTBED_DIR:-/run/sshtrail-testbed}
SSHD_PORT=${SSHD_PORT:-22830}          # main listener, 127.0.0.1 and ::1
SSHD_PORT_ALLOW=${SSHD_PORT_ALLOW:-22831} # second listener with AllowUsers/AllowGroups
SSHD_PORT_TTY=${SSHD_PORT_TTY:-22841}   # a second sshd whose sessions have pam_tty_audit on
SSHD_PORT_REC=${SSHD_PORT_REC:-22842}   # a third whose sessions run the terminal recorder
SSHD_LOGIN_GRACE=${SSHD_LOGIN_GRACE:-20}
TESTBED_USER_PREFIX=${TESTBED_USER_PREFIX:-sshtrail-}
TESTBED_PASSWORD=${TESTBED_PASSWORD:-Trail-pass-1}

JOURNAL_RUN=/run/systemd/journal
JOURNALD_BIN=${JOURNALD_BIN:-/lib/systemd/systemd-journald}

tb_log() { printf 'testbed: %s\n' "$*" >&2; }
tb_die() { tb_log "error: $*"; exit 1; }

# Installs Debian packages that are missing (no-op when all are present).
tb_need_pkgs() {
    local missing=()
    local p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    if ((${#missing[@]})); then
        tb_log "installing ${missing[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null \
            || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null; } \
            || tb_die "cannot install ${missing[*]}"
    fi
}

# True when the pid in file $1 names a live process whose command is $2.
tb_pid_alive() {
    local file=$1 comm=$2 pid
    [[ -s $file ]] || return 1
    pid=$(<"$file")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    [[ -r /proc/$pid/comm ]] || return 1
    [[ $(</proc/"$pid"/comm) == "$comm"* ]]
}

# Stops the process recorded in pid file $1 (only that pid), waiting up to 5 s.
tb_stop_pidfile() {
    local file=$1 comm=$2 pid i
    if tb_pid_alive "$file" "$comm"; then
        pid=$(<"$file")
        kill "$pid" 2>/dev/null || true
        for i in $(seq 50); do
            [[ -d /proc/$pid ]] || break
            sleep 0.1
        done
    fi
    rm -f "$file"
}

# Waits until TCP port $2 on host $1 accepts connections (max ~5 s).
tb_wait_port() {
    local host=$1 port=$2 i
    for i in $(seq 50); do
        if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    return 1
}
