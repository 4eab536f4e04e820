#!/usr/bin/env python3
"""A stand-in for systemd's notification socket (Python stdlib only).

    notify_listener.py SOCKET OUTFILE

Binds a datagram socket at SOCKET (a path; the socket file appears once it
listens: wait for it with `wait_for 10 test -S SOCKET`) and appends every
datagram it receives to OUTFILE as one line, flushed at once.  A newline
inside a datagram (e.g. "RELOADING=1\\nMONOTONIC_USEC=...") is written as
the two characters backslash, n.  Runs until killed (SIGTERM).
"""
import os
import signal
import socket
import sys


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: notify_listener.py SOCKET OUTFILE\n")
        return 2
    path, out = sys.argv[1], sys.argv[2]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    tmp = path + ".tmp"
    try:
        os.unlink(tmp)
    except FileNotFoundError:
        pass
    # Bind under a temporary name, then rename: SOCKET appears ready.
    s.bind(tmp)
    os.rename(tmp, path)
    with open(out, "a", encoding="utf-8", errors="backslashreplace") as f:
        while True:
            data = s.recv(65536)
            line = data.decode("utf-8", "backslashreplace")
            f.write(line.replace("\n", "\\n") + "\n")
            f.flush()


if __name__ == "__main__":
    sys.exit(main())
