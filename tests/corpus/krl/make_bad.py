#!/usr/bin/env python3
# Hand-made KRLs that OpenSSH refuses (bad/), and a few odd ones it takes
# (good/), written from PROTOCOL.krl; each bad/ file's first bytes are a
# valid header, its name says what is wrong.
import struct

def u8(v): return struct.pack('>B', v)
def u32(v): return struct.pack('>I', v)
def u64(v): return struct.pack('>Q', v)
def s(b): return u32(len(b)) + b

def header(version=1, comment=b''):
    return (b'SSHKRL\n\0' + u32(version) + u64(1) + u64(1700000000) +
            u64(0) + s(b'') + s(comment))

def sect(t, data): return u8(t) + s(data)

ED = s(b'ssh-ed25519') + s(bytes(range(32)))
CA = s(ED)[4:]  # the blob itself
good = {
    'empty-sections': header() + sect(2, b'') + sect(3, b'') + sect(5, b''),
    'any-ca-keyids': header() + sect(1, s(b'') + s(b'') + u8(0x23) + s(s(b'alice') + s(b''))),
    'bitmap-leading-zero': header() + sect(1, s(ED) + s(b'') + u8(0x22) + s(u64(10) + s(b'\0\x81'))),
    'unsorted-sha256': header() + sect(5, s(b'\xff' * 32) + s(b'\0' * 32)),
    'comment': header(comment=b'made by hand'),
}
bad = {
    # OpenSSH 9.2 knows no extensions; 9.4 and later skip non-critical ones
    'noncritical-extension': header() + sect(255, s(b'x@example.com') + u8(0) + s(b'v')),
    'cert-noncritical-extension': header() + sect(1, s(ED) + s(b'') + u8(0x39) + s(s(b'e@x') + u8(0) + s(b''))),
    'truncated-header': header()[:20],
    'version-2': header(version=2),
    'comment-nul': header(comment=b'a\0b'),
    'unknown-section': header() + sect(6, b''),
    'truncated-section': header() + u8(2) + u32(100) + b'x',
    'critical-extension': header() + sect(255, s(b'x@example.com') + u8(1) + s(b'')),
    'extension-trailing': header() + sect(255, s(b'x') + u8(0) + s(b'') + b'z'),
    'cert-critical-extension': header() + sect(1, s(ED) + s(b'') + u8(0x39) + s(s(b'e@x') + u8(1) + s(b''))),
    'signature': header() + sect(2, s(ED)) + sect(4, s(ED)) + s(b'\0' * 83),
    'sha1-length': header() + sect(3, s(b'\0' * 19)),
    'sha256-length': header() + sect(5, s(b'\0' * 20)),
    'explicit-truncated': header() + sect(2, u32(40) + b'\0' * 10),
    'serial-zero': header() + sect(1, s(ED) + s(b'') + u8(0x20) + s(u64(0))),
    'serial-list-odd': header() + sect(1, s(ED) + s(b'') + u8(0x20) + s(u64(3) + b'\0')),
    'range-reversed': header() + sect(1, s(ED) + s(b'') + u8(0x21) + s(u64(9) + u64(5))),
    'range-zero': header() + sect(1, s(ED) + s(b'') + u8(0x21) + s(u64(0) + u64(5))),
    'range-trailing': header() + sect(1, s(ED) + s(b'') + u8(0x21) + s(u64(1) + u64(5) + b'z')),
    'bitmap-negative': header() + sect(1, s(ED) + s(b'') + u8(0x22) + s(u64(10) + s(b'\x81'))),
    'bitmap-wraps': header() + sect(1, s(ED) + s(b'') + u8(0x22) + s(u64(2**64 - 1) + s(b'\x02'))),
    'bitmap-serial-zero': header() + sect(1, s(ED) + s(b'') + u8(0x22) + s(u64(0) + s(b'\x01'))),
    'bitmap-too-large': header() + sect(1, s(ED) + s(b'') + u8(0x22) + s(u64(1) + s(b'\x01' * 2049))),
    'keyid-nul': header() + sect(1, s(b'') + s(b'') + u8(0x23) + s(s(b'a\0b'))),
    'unknown-cert-subsection': header() + sect(1, s(ED) + s(b'') + u8(0x24) + s(b'')),
    'ca-bad-key': header() + sect(1, s(s(b'ssh-ed25519') + s(b'\0' * 31)) + s(b'')),
    'ca-unknown-type': header() + sect(1, s(s(b'ssh-foo')) + s(b'')),
    'cert-truncated': header() + sect(1, s(ED)),
}
for d, files in (('good', good), ('bad', bad)):
    for name, data in files.items():
        with open(f'{d}/{name}', 'wb') as f:
            f.write(data)
