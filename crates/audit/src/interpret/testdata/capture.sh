#!/bin/sh
# Regenerates interpret/testdata/interpret.log: real records from this machine's auditd
# (ENRICHED format) for the interpretation tests. Run as root with auditd running:
#   crates/audit/src/interpret/testdata/capture.sh
# It adds two rules tagged with its own keys, runs the commands below, deletes exactly
# those rules again, and keeps every record of each event that carries one of the keys.
set -eu
out="$(cd "$(dirname "$0")" && pwd)/interpret.log"
log=/var/log/audit/audit.log
work=$(mktemp -d)
trap 'auditctl -d always,exit -F arch=b64 -S execve -S connect -k sshtrail-interp 2>/dev/null || true
      auditctl -W "$work/watched" -p wa -k sshtrail-interp -k sshtrail-interp-2 2>/dev/null || true
      rm -rf "$work"' EXIT
start=$(wc -c < "$log")
touch "$work/watched"
auditctl -a always,exit -F arch=b64 -S execve -S connect -k sshtrail-interp
auditctl -w "$work/watched" -p wa -k sshtrail-interp -k sshtrail-interp-2

# exec with arguments the kernel must hex-encode: space, quote, tab, UTF-8, escape sequence
/bin/true "arg with space" 'quote"d' "$(printf 'tab\tx')" "ünïcødé" "$(printf '\033[31mred\033[0m')"
# one argument over the kernel's 7500-byte limit: split into a1_len / a1[i] pieces
/bin/echo "$(head -c 9000 /dev/zero | tr '\0' 'A')" > /dev/null
# failed exec (ENOENT)
/nonexistent/cmd 2>/dev/null || true
# connect: inet (refused), inet6, unix path, unix abstract
/usr/bin/python3 - <<'PY' || true
import socket
for fam, addr in ((socket.AF_INET, ("127.0.0.1", 9)), (socket.AF_INET6, ("::1", 9)),
                  (socket.AF_UNIX, "/dev/log"), (socket.AF_UNIX, "\0sshtrail-abstract")):
    s = socket.socket(fam, socket.SOCK_DGRAM if fam == socket.AF_UNIX else socket.SOCK_STREAM)
    try:
        s.connect(addr)
    except OSError:
        pass
PY
# file watch: write and chmod (setuid) on the watched file; exec from a path with a space
echo hi >> "$work/watched"
chmod 4755 "$work/watched"
mkdir -p "$work/dir with space"
cp /bin/true "$work/dir with space/tr ue"
"$work/dir with space/tr ue"
sleep 1

auditctl -d always,exit -F arch=b64 -S execve -S connect -k sshtrail-interp
auditctl -W "$work/watched" -p wa -k sshtrail-interp -k sshtrail-interp-2
sleep 1
# Keys as the log writes them: quoted, or hex when a rule has several (joined by 0x01).
k1='key="sshtrail-interp"'
k2=$(printf 'sshtrail-interp\001sshtrail-interp-2' | od -An -tx1 | tr -d ' \n' | tr a-f A-F)
tail -c +"$((start + 1))" "$log" > "$work/new.log"
grep -a -e "$k1" -e "key=$k2" "$work/new.log" | sed -n 's/.*msg=audit(\([0-9.:]*)\).*/\1/p' | sort -u > "$work/ids"
grep -a -F -f "$work/ids" "$work/new.log" > "$out"
echo "wrote $(wc -l < "$out") records to $out"
