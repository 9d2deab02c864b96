"""What the benchmark scripts (bench-daemon, bench-overhead) share: reading a process's
CPU time, auditd's pid and the kernel's `lost` counter, restarting auditd."""

import os
import re
import subprocess
import time


def cpu_seconds(pid):
    """utime + stime of a process (all its threads), in seconds."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid):
    """The direct children of a process."""
    out = []
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            out += [int(c) for c in open(f"/proc/{pid}/task/{task}/children").read().split()]
        except OSError:
            pass
    return out


def tree_cpu_seconds(pid):
    """CPU time of a process and of its running descendants (sshtrail's journalctl)."""
    try:
        total = cpu_seconds(pid)
        for child in children(pid):
            total += tree_cpu_seconds(child)
        return total
    except OSError:
        return 0.0


def audit_status():
    return subprocess.run(["auditctl", "-s"], capture_output=True, text=True).stdout


def kernel_lost():
    return int(re.search(r"^lost (\d+)", audit_status(), re.M).group(1))


def auditd_pid():
    return int(re.search(r"^pid (\d+)", audit_status(), re.M).group(1))


def restart_auditd():
    """Restarts auditd with the command line it runs with (so that it reads plugins.d
    afresh: auditd 3.0's dispatcher, once stopped, starts no plugin until a restart) and
    waits until it is registered with the kernel. Returns its new pid."""
    pid = auditd_pid()
    cmdline = [a.decode() for a in open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0") if a]
    exe = os.readlink(f"/proc/{pid}/exe")
    os.kill(pid, 15)
    deadline = time.time() + 10
    while os.path.exists(f"/proc/{pid}") and time.time() < deadline:
        time.sleep(0.05)
    subprocess.run([exe, *cmdline[1:]], check=True)
    deadline = time.time() + 10
    while time.time() < deadline:
        status = audit_status()
        found = re.search(r"^pid (\d+)", status, re.M)
        if found and found.group(1) != "0" and re.search(r"^enabled 1", status, re.M):
            return int(found.group(1))
        time.sleep(0.05)
    raise SystemExit("auditd did not come back after a restart")
