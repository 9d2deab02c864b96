# shellcheck shell=bash
# A private OpenSSH server for producing real login records: its own config, host
# key and pid file in a temp dir, listening on 127.0.0.1:$SSHD_PORT only, with PAM
# on so that pam_loginuid, pam_unix and sshd's own audit calls write the LOGIN,
# USER_* and CRED_* records. The system sshd and /etc/ssh/sshd_config are untouched.
# Needs auditd.sh sourced first (log, die).

SSHD_PORT=${SSHD_PORT:-2299}
TEST_USER=${TEST_USER:-sshtrailfx}
# A throwaway password for a local test account reachable only on 127.0.0.1.
TEST_PASSWORD=${TEST_PASSWORD:-sshtrail-fixture-pw}
SSHD_DIR=
SSHD_PID=

# Create the test account (idempotent) and (re)set its password.
test_user_ensure() {
    if ! id "$TEST_USER" >/dev/null 2>&1; then
        log "creating test user $TEST_USER"
        useradd --create-home --shell /bin/sh "$TEST_USER" || die "useradd $TEST_USER failed"
    fi
    echo "$TEST_USER:$TEST_PASSWORD" | chpasswd || die "chpasswd failed"
    TEST_UID=$(id -u "$TEST_USER")
    TEST_GID=$(id -g "$TEST_USER")
}

# as_test_user CMD...: run CMD as the test user without PAM (setpriv execs CMD after
# switching ids, so the exec itself is done with the test user's uid).
as_test_user() {
    setpriv --reuid="$TEST_UID" --regid="$TEST_GID" --init-groups --reset-env -- "$@"
}

# sshd_start WORKDIR: start the private sshd and wait until it accepts connections.
sshd_start() {
    SSHD_DIR="$1"
    mkdir -p "$SSHD_DIR" /run/sshd
    chmod 0755 /run/sshd
    [ -f "$SSHD_DIR/host_ed25519" ] ||
        ssh-keygen -q -t ed25519 -N '' -C sshtrail-test-host -f "$SSHD_DIR/host_ed25519" ||
        die "ssh-keygen failed"
    cat >"$SSHD_DIR/sshd_config" <<EOF
# Private sshd for sshtrail's audit fixtures; see scripts/lib/sshd.sh.
Port $SSHD_PORT
ListenAddress 127.0.0.1
HostKey $SSHD_DIR/host_ed25519
PidFile $SSHD_DIR/sshd.pid
UsePAM yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
PubkeyAuthentication no
PermitRootLogin no
AllowUsers $TEST_USER
MaxAuthTries 3
LogLevel VERBOSE
PrintMotd no
EOF
    sshd_stop_stale
    if ss -Hltn "sport = :$SSHD_PORT" | grep -q .; then
        die "port $SSHD_PORT is already in use on this host (set SSHD_PORT)"
    fi
    /usr/sbin/sshd -f "$SSHD_DIR/sshd_config" -E "$SSHD_DIR/sshd.log" || die "sshd failed to start (see $SSHD_DIR/sshd.log)"
    for _ in $(seq 50); do
        [ -s "$SSHD_DIR/sshd.pid" ] && SSHD_PID=$(cat "$SSHD_DIR/sshd.pid") && break
        sleep 0.1
    done
    [ -n "$SSHD_PID" ] || die "sshd wrote no pid file"
    log "sshd listening on 127.0.0.1:$SSHD_PORT (pid $SSHD_PID)"
}

# A previous run of ours that died may have left its sshd on the port: stop it by the
# pid it recorded, and only if that process is an sshd started with one of our configs.
sshd_stop_stale() {
    local f pid
    for f in /tmp/sshtrail-auditcap.*/sshd/sshd.pid /tmp/sshtrail-corpus.*/sshd/sshd.pid; do
        [ -f "$f" ] || continue
        pid=$(cat "$f")
        if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -Eq "sshd -f /tmp/sshtrail-(auditcap|corpus)\.[^/]*/sshd/sshd_config"; then
            log "stopping stale sshd $pid from $f"
            kill "$pid" 2>/dev/null || true
            sleep 0.3
        fi
    done
}

sshd_stop() {
    [ -n "$SSHD_PID" ] || return 0
    kill "$SSHD_PID" 2>/dev/null || true
    SSHD_PID=
}

# ssh_run PASSWORD [SSH-ARGS...] -- USER REMOTE-COMMAND...: one password login.
# -tt asks for a pty: sshd writes USER_LOGIN only for sessions with a terminal.
ssh_run() {
    local password="$1" user="$2"
    shift 2
    sshpass -p "$password" ssh -tt -p "$SSHD_PORT" \
        -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
        -o PreferredAuthentications=password -o PubkeyAuthentication=no \
        -o NumberOfPasswordPrompts=1 -o ConnectTimeout=10 \
        "$user@127.0.0.1" "$@"
}
