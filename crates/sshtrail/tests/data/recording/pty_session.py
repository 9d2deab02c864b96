#!/usr/bin/env python3
"""Drives a real `ssh -tt` login from a terminal of its own, as a user at a keyboard would.

    pty_session.py PORT USER KEYFILE MARKER

Starts ssh in a pty of 80x24, waits for the shell, types `cd /tmp` and
`echo builtin-MARKER`, resizes the terminal to 100x30 (the kernel sends ssh SIGWINCH, ssh
sends sshd a window-change), types `stty size`, waits for "30 100", answers a password
prompt (`read -s`) with `hunter2-MARKER`, runs a full-screen
program (`less` on a short file, quit with q), then `exit 3`. Prints everything ssh showed
to stdout and exits with ssh's exit status.
"""
import fcntl
import os
import pty
import select
import struct
import sys
import termios
import time

port, user, key, marker = sys.argv[1:5]
ssh = ["ssh", "-F", "/dev/null", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
       "-o", "LogLevel=ERROR", "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
       "-o", "PreferredAuthentications=publickey", "-i", key, "-tt", "-p", port, "-l", user, "127.0.0.1"]

pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    os.execvp(ssh[0], ssh)

seen = b""


def read_until(needle, timeout=20.0):
    global seen
    deadline = time.time() + timeout
    while needle not in seen:
        left = deadline - time.time()
        if left <= 0:
            sys.stdout.buffer.write(seen)
            sys.exit(f"timed out waiting for {needle!r}")
        r, _, _ = select.select([fd], [], [], left)
        if r:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                sys.stdout.buffer.write(seen)
                sys.exit(f"ssh ended before {needle!r}")
            seen += chunk


def typed(line):
    for ch in line.encode():
        os.write(fd, bytes([ch]))
        time.sleep(0.005)


read_until(b"$ ")
typed("cd /tmp\r")
typed(f"echo builtin-{marker}\r")
read_until(f"\rbuiltin-{marker}".encode())
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
time.sleep(0.5)
typed("stty size\r")
read_until(b"30 100")
# A password prompt: what is typed while echo is off must never be recorded.
typed("read -s -p 'secret: ' PW; echo got-${#PW}\r")
read_until(b"secret: ")
time.sleep(0.3)
typed(f"hunter2-{marker}\r")
read_until(b"got-")
typed(f"printf 'page-%s\\n' {marker} > /tmp/{marker}.txt; less /tmp/{marker}.txt\r")
read_until(f"page-{marker}".encode())
typed("q")
time.sleep(0.3)
typed("exit 3\r")
while True:
    try:
        chunk = os.read(fd, 65536)
    except OSError:
        break
    if not chunk:
        break
    seen += chunk
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(seen)
sys.exit(os.waitstatus_to_exitcode(status))
