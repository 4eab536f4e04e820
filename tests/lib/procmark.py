#!/usr/bin/env python3
"""Processes that carry a marker in their environment.

    procmark.py VAR VALUE [--kill]

Waits up to 5 seconds (rescanning every 50 ms) for every process whose
environment (as it was at its exec, /proc/PID/environ) holds VAR=VALUE,
except this one and its ancestors, to end.  Exits 0 when none is left;
otherwise prints "PID COMMAND" for each one still running, with --kill
sends each SIGKILL after printing it, and exits 1.  The test library marks every process a test
script starts (NIXPULL_TEST_MARK) and the test command every process of the
suite (NIXPULL_SUITE_MARK), so that a process that outlives its test is
found by what started it, never by its name.
"""
import os
import signal
import time
import sys


def ancestors():
    """This process and every process above it."""
    pids, pid = set(), os.getpid()
    while pid > 1 and pid not in pids:
        pids.add(pid)
        try:
            with open("/proc/%d/stat" % pid, "rb") as f:
                pid = int(f.read().rsplit(b")", 1)[1].split()[1])
        except OSError:
            break
    return pids


def marked(var, value):
    want = ("%s=%s" % (var, value)).encode()
    skip = ancestors()
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) in skip:
            continue
        try:
            with open("/proc/%s/environ" % d, "rb") as f:
                env = f.read().split(b"\0")
            if want not in env:
                continue
            with open("/proc/%s/stat" % d, "rb") as f:
                if f.read().rsplit(b")", 1)[1].split()[0] == b"Z":
                    continue
            with open("/proc/%s/cmdline" % d, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        yield int(d), cmd.strip()


def main():
    if len(sys.argv) not in (3, 4) or sys.argv[3:] not in ([], ["--kill"]):
        sys.exit("usage: procmark.py VAR VALUE [--kill]")
    deadline = time.monotonic() + 5
    while True:
        left = list(marked(sys.argv[1], sys.argv[2]))
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    found = 0
    for pid, cmd in left:
        found += 1
        print("%d %s" % (pid, cmd[:200]))
        if sys.argv[3:]:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    sys.exit(1 if found else 0)


main()
