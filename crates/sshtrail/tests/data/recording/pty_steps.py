#!/usr/bin/env python3
"""A real `ssh -tt` login from a terminal of its own, driven by steps.

    pty_steps.py PORT USER KEYFILE STEPS_JSON

STEPS_JSON is a list of [verb, argument]: ["type", text] types text key by key,
["expect", text] waits (20 s at most) for text in what ssh shows, ["resize", [rows, cols]]
resizes ssh's terminal (the kernel sends ssh SIGWINCH, ssh sends sshd a window-change),
["sleep", seconds] pauses, ["touch", path] makes a file, ["wait", path] waits (60 s at
most) for a file to exist: how a test holds the session at a point while it does
something else (kills the daemon, starts it again). The terminal starts at 80x24. After the
steps, reads until ssh ends; prints what ssh showed and exits with ssh's exit status.
"""
import fcntl
import json
import os
import pty
import select
import struct
import sys
import termios
import time

port, user, key, steps = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
ssh = ["ssh", "-F", "/dev/null", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
       "-o", "LogLevel=ERROR", "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
       "-o", "PreferredAuthentications=publickey", "-i", key, "-tt", "-p", port, "-l", user, "127.0.0.1"]

pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    os.execvp(ssh[0], ssh)

seen = b""


def pump(timeout):
    global seen
    r, _, _ = select.select([fd], [], [], timeout)
    if not r:
        return True
    try:
        chunk = os.read(fd, 65536)
    except OSError:
        chunk = b""
    seen += chunk
    return bool(chunk)


def fail(why):
    sys.stdout.buffer.write(seen)
    sys.exit(why)


for verb, arg in steps:
    if verb == "type":
        for ch in arg.encode():
            os.write(fd, bytes([ch]))
            time.sleep(0.005)
    elif verb == "expect":
        deadline = time.time() + 20
        while arg.encode() not in seen:
            if time.time() > deadline or not pump(0.1):
                fail(f"no {arg!r}")
    elif verb == "resize":
        rows, cols = arg
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    elif verb == "sleep":
        time.sleep(arg)
    elif verb == "touch":
        open(arg, "w").close()
    elif verb == "wait":
        deadline = time.time() + 60
        while not os.path.exists(arg):
            if time.time() > deadline:
                fail(f"{arg} never came")
            pump(0.1)
    else:
        fail(f"unknown step {verb}")
deadline = time.time() + 30
while pump(1) and time.time() < deadline:
    pass
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(seen)
sys.exit(os.waitstatus_to_exitcode(status))
