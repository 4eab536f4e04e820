#!/usr/bin/env python3
"""A hostile git smart-HTTP server for the tests (Python stdlib only).

    hostile_server.py MODE PORTFILE

Listens on 127.0.0.1 on a free port, writes the port to PORTFILE, serves
until killed.  MODE:
  hang     accept the connection and never answer (nor read)
  drip     read the request, then send a valid-looking response one byte
           a second
  garbage  answer the ref advertisement (refs/heads/main), then answer the
           upload-pack POST with an endless stream of random bytes
  bigpack  answer the ref advertisement, then stream an endless but
           well-formed pack: one blob that claims 1 TiB, deflated zeros
"""
import os
import socket
import sys
import threading
import time
import zlib

TIP = "c0ffee" + "0" * 34


def pkt(data):
    if isinstance(data, str):
        data = data.encode()
    return b"%04x" % (len(data) + 4) + data


def read_request(conn):
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 65536:
        chunk = conn.recv(4096)
        if not chunk:
            return None
        data += chunk
    return data.split(b"\r\n", 1)[0].decode("latin-1")


def advertisement():
    body = pkt("# service=git-upload-pack\n") + b"0000"
    body += pkt(TIP + " refs/heads/main\0multi_ack_detailed side-band-64k "
                "ofs-delta no-progress\n") + b"0000"
    return (b"HTTP/1.1 200 OK\r\n"
            b"Content-Type: application/x-git-upload-pack-advertisement\r\n"
            b"Cache-Control: no-cache\r\nConnection: close\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body)) + body


def result_head():
    return (b"HTTP/1.1 200 OK\r\n"
            b"Content-Type: application/x-git-upload-pack-result\r\n"
            b"Connection: close\r\n\r\n")


def endless_pack(conn):
    conn.sendall(result_head() + pkt("NAK\n"))
    # pack header, one object; blob (type 3) of 2^40 bytes, varint size
    size = 1 << 40
    hdr = bytearray([0x80 | (3 << 4) | (size & 0x0F)])
    size >>= 4
    while size:
        hdr.append((0x80 if size >> 7 else 0) | (size & 0x7F))
        size >>= 7
    conn.sendall(pkt(b"\x01PACK\0\0\0\x02\0\0\0\x01" + bytes(hdr)))
    # Deflated zeros after a sync flush only refer back to zeros: the same
    # chunk repeated stays a valid stream.
    z = zlib.compressobj()
    out = z.compress(b"\0" * 65536) + z.flush(zlib.Z_SYNC_FLUSH)
    chunk = b""
    while len(chunk) < 60000:
        chunk += z.compress(b"\0" * 65536) + z.flush(zlib.Z_SYNC_FLUSH)
    conn.sendall(pkt(b"\x01" + out))
    while True:
        conn.sendall(pkt(b"\x01" + chunk))


def serve(conn, mode):
    try:
        if mode == "hang":
            while True:
                time.sleep(3600)
        line = read_request(conn)
        if line is None:
            return
        if mode == "drip":
            resp = advertisement()
            for b in resp:
                conn.sendall(bytes([b]))
                time.sleep(1)
            return
        if line.startswith("GET"):
            conn.sendall(advertisement())
            return
        if mode == "garbage":
            conn.sendall(result_head())
            while True:
                conn.sendall(os.urandom(65536))
        elif mode == "bigpack":
            endless_pack(conn)
    except OSError:
        pass
    finally:
        try:
            conn.close()
        except OSError:
            pass


def main():
    mode, portfile = sys.argv[1], sys.argv[2]
    if mode not in ("hang", "drip", "garbage", "bigpack"):
        sys.exit("hostile_server.py: unknown mode '%s'" % mode)
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    tmp = portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.getsockname()[1])
    os.rename(tmp, portfile)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn, mode), daemon=True).start()


if __name__ == "__main__":
    main()
