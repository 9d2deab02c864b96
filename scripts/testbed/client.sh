# Client helpers for driving the testbed sshd (sourced). Every function returns sshd's
# verdict as ssh's exit status; callers that expect failure add `|| true`.
# shellcheck disable=SC2034
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TB_KEYS=$TESTBED_DIR/keys
TB_SSH_OPTS=(-F /dev/null -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
    -o LogLevel=ERROR -o IdentitiesOnly=yes -o ConnectTimeout=10)

# tb_ssh_key HOST PORT USER KEY [CMD...]   publickey only (a -cert.pub next to KEY is used)
tb_ssh_key() {
    local host=$1 port=$2 user=$3 key=$4
    shift 4
    local cert=()
    [[ -f $TB_KEYS/$key-cert.pub ]] && cert=(-o "CertificateFile=$TB_KEYS/$key-cert.pub")
    ssh "${TB_SSH_OPTS[@]}" -p "$port" -o BatchMode=yes -o PreferredAuthentications=publickey \
        -i "$TB_KEYS/$key" "${cert[@]}" -l "$user" "$host" "${@:-true}" </dev/null
}

# tb_ssh_pass METHOD HOST PORT USER PASSWORD PROMPTS [CMD...]
# METHOD is password or keyboard-interactive; PROMPTS is how many attempts the client makes.
tb_ssh_pass() {
    local method=$1 host=$2 port=$3 user=$4 pass=$5 prompts=$6
    shift 6
    sshpass -p "$pass" ssh "${TB_SSH_OPTS[@]}" -p "$port" -o PubkeyAuthentication=no \
        -o PreferredAuthentications="$method" -o NumberOfPasswordPrompts="$prompts" \
        -l "$user" "$host" "${@:-true}" </dev/null
}

# tb_ssh_typed PORT USER KEY   a login shell on a terminal (ssh -tt) on 127.0.0.1, typing
# what comes on stdin: for the keystroke-audited sshd ($SSHD_PORT_TTY).
tb_ssh_typed() {
    local port=$1 user=$2 key=$3
    ssh "${TB_SSH_OPTS[@]}" -p "$port" -o BatchMode=yes -o PreferredAuthentications=publickey \
        -tt -i "$TB_KEYS/$key" -l "$user" 127.0.0.1
}

# tb_ssh_tty HOST PORT USER KEY CMD   publickey, with a terminal (ssh -tt) for CMD
tb_ssh_tty() {
    local host=$1 port=$2 user=$3 key=$4
    shift 4
    ssh "${TB_SSH_OPTS[@]}" -p "$port" -o BatchMode=yes -o PreferredAuthentications=publickey \
        -tt -i "$TB_KEYS/$key" -l "$user" "$host" "$@" </dev/null
}

# tb_sftp_key PORT USER KEY   an sftp session on 127.0.0.1 running the batch on stdin
# (sftp -b -: stops at the first failing command)
tb_sftp_key() {
    local port=$1 user=$2 key=$3
    sftp "${TB_SSH_OPTS[@]}" -P "$port" -o BatchMode=yes -o PreferredAuthentications=publickey \
        -i "$TB_KEYS/$key" -b - "$user@127.0.0.1"
}

# tb_scp_key PORT KEY FROM TO   scp with the key (remote paths as USER@127.0.0.1:PATH)
tb_scp_key() {
    local port=$1 key=$2
    shift 2
    scp "${TB_SSH_OPTS[@]}" -P "$port" -o BatchMode=yes -o PreferredAuthentications=publickey \
        -i "$TB_KEYS/$key" -q "$@" </dev/null
}

# tb_ssh_forward HOST PORT USER KEY FORWARD...   a session with forwards (-L/-R …) and no
# command, left running until killed
tb_ssh_forward() {
    local host=$1 port=$2 user=$3 key=$4
    shift 4
    exec ssh "${TB_SSH_OPTS[@]}" -p "$port" -o BatchMode=yes -o PreferredAuthentications=publickey \
        -o ExitOnForwardFailure=yes -N -i "$TB_KEYS/$key" -l "$user" "$@" "$host" </dev/null
}
