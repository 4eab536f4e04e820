#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_fetcher_msg: one well-formed frame of each
message type (agent/fetcher_msg.c's tags), and a few near misses."""
import struct

def field(tag, data):
    if isinstance(data, str):
        data = data.encode()
    if isinstance(data, int):
        data = struct.pack(">Q", data)
    return struct.pack(">HI", tag, len(data)) + data

def frame(typ, *fields):
    body = b"".join(fields)
    return struct.pack(">II", typ, len(body)) + body

A = "a" * 40
B = "b" * 40
PLAN = "waves:\n  - {name: canary, hosts: [lab-*]}\n  - {after: 2h}\n"
MANIFEST = ('{"version": 1, "systems": {"lab-1": {"path": '
            '"/nix/store/00mg534cpayw9392pf6vxjkaj0lnxjaq-nixos-system-lab-1", '
            '"narHash": "sha256-QCPhH9md9x1V2RM3CGluIx5gBYPoJcw/clspV2Zmsbg="}}}')
TRUST_CHAIN = ("version 0: the pinned trust.allowed_signers, threshold 1\n"
               "version 2 at " + A + ": signed by alice@example.com, "
               "bob@example.com (previous signers 1 of 1, new signers 2 "
               "of 1)\n")
seeds = {
    "poll-req": frame(1, field(3, A)),
    "fetching": frame(2, field(4, B), field(6, 12)),
    "polled-ok": frame(3, field(1, 0), field(4, B), field(3, A), field(5, 1),
                       field(6, 12), field(7, 30), field(8, 4096),
                       field(9, 0), field(10, 0)),
    "polled-failed": frame(3, field(1, 1), field(2, "fetch from 'x': timed out"),
                           field(4, ""), field(3, A), field(5, 0), field(6, 12),
                           field(7, 0), field(8, 0), field(9, 1), field(10, 0)),
    "select-req": frame(4, field(4, B), field(11, A), field(13, 1764900000),
                        field(200, 2), field(201, A), field(202, B)),
    "selected-ok": frame(5, field(1, 0), field(14, 0), field(15, B), field(16, 0),
                         field(17, "ssh-ed25519"), field(18, "SHA256:abc"),
                         field(19, "alice@example.com"), field(20, b"\x01" * 32),
                         field(21, 1), field(22, 0), field(23, 2), field(24, ""),
                         field(25, 0), field(26, 0), field(27, 0), field(28, A),
                         field(29, 0), field(30, 0), field(31, 0),
                         field(32, 1764900000), field(33, 0),
                         field(34, "selected " + B),
                         field(35, 1764900000), field(36, 0), field(37, 1),
                         field(38, len(PLAN)), field(39, PLAN),
                         field(40, 1), field(41, len(MANIFEST)),
                         field(42, MANIFEST),
                         field(203, 1), field(204, 2), field(205, A),
                         field(206, B), field(207, 0), field(208, 0),
                         field(209, 0), field(210, TRUST_CHAIN)),
    "selected-none": frame(5, field(1, 1), field(2, "no commit signed"),
                           field(14, 1), field(15, ""), field(16, 3),
                           field(17, ""), field(18, ""), field(19, ""),
                           field(20, b"\0" * 32), field(21, 0), field(22, 0),
                           field(23, 0), field(24, "unsigned"), field(25, 1),
                           field(26, 0), field(27, 0), field(28, A), field(29, 0),
                           field(30, 0), field(31, 0), field(32, 0), field(33, 0),
                           field(34, "no commit signed"), field(35, 0),
                           field(36, 0), field(37, 0), field(38, 0),
                           field(40, 0), field(41, 0),
                           field(203, 0), field(204, 0), field(205, ""),
                           field(206, ""), field(207, 0), field(208, 0),
                           field(209, 0), field(210, "")),
    "dup-tag": frame(1, field(3, A), field(3, A)),
    "short": frame(3, field(1, 0))[:-3],
}
for name, data in seeds.items():
    with open(name, "wb") as f:
        f.write(data)
