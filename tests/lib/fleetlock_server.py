#!/usr/bin/env python3
"""A FleetLock server for the tests, on 127.0.0.1.

Contract: Zincati's FleetLock protocol (coreos/zincati,
docs/development/fleetlock/protocol.md) as coreos/airlock serves it:
POST /v1/pre-reboot takes a slot of the group's counting semaphore
(recursive: a holder asking again succeeds), POST /v1/steady-state
releases the caller's slot (a no-op when it holds none); both need the
header "fleet-lock-protocol: true" and the body
{"client_params": {"id": non-empty, "group": ^[a-zA-Z0-9.-]+$}}.
200 on success; otherwise a 4xx/5xx with {"kind": ..., "value": ...}.

usage: fleetlock_server.py PORTFILE STATEFILE [--slots N] [--delay S]
                           [--port P] [--hold FILE]
  STATEFILE  JSON {group: [holder ids]}, read at each request and written
             back (a test may preset holders); every request is appended
             to $NIXPULL_TEST_ROOT/calls.log as "fleetlock OP ID GROUP"
  --delay S  answer after S seconds (a slow server)
  --port P   listen on P (default: any free port); a test that stops the
             server can start it again where the client looks for it
  --hold FILE
             while FILE exists and its first line names the request's OP
             (pre-reboot, steady-state), the server does what was asked
             (STATEFILE written), then writes OP to FILE.held and waits
             (300 s at most) for FILE to go before it answers: a test
             kills the client there, its slot taken but the 200 unseen
"""
import json, os, re, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

args = sys.argv[1:]
portfile, statefile = args[0], args[1]
slots = int(args[args.index('--slots') + 1]) if '--slots' in args else 1
delay = float(args[args.index('--delay') + 1]) if '--delay' in args else 0
port = int(args[args.index('--port') + 1]) if '--port' in args else 0
hold = args[args.index('--hold') + 1] if '--hold' in args else None
GROUP = re.compile(r'^[a-zA-Z0-9.-]+$')


def load():
    try:
        with open(statefile) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def save(st):
    tmp = statefile + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(st, f)
    os.replace(tmp, statefile)


class H(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def answer(self, code, kind=None, value=None):
        body = b'' if kind is None else json.dumps(
            {'kind': kind, 'value': value}).encode()
        self.send_response(code)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        if delay:
            time.sleep(delay)
        n = int(self.headers.get('Content-Length') or 0)
        raw = self.rfile.read(min(n, 65536))
        op = {'/v1/pre-reboot': 'pre-reboot',
              '/v1/steady-state': 'steady-state'}.get(self.path)
        if op is None:
            return self.answer(404, 'not_found', 'no such endpoint')
        if self.headers.get('fleet-lock-protocol') != 'true':
            return self.answer(400, 'missing_fleetlock_header',
                               'fleet-lock-protocol header must be true')
        try:
            p = json.loads(raw)['client_params']
            cid, group = p['id'], p['group']
            assert isinstance(cid, str) and cid
            assert isinstance(group, str) and GROUP.match(group)
        except Exception:
            return self.answer(400, 'failed_parsing_body', 'bad client_params')
        log = os.environ.get('NIXPULL_TEST_ROOT')
        if log:
            with open(os.path.join(log, 'calls.log'), 'a') as f:
                f.write('fleetlock %s %s %s\n' % (op, cid, group))
        st = load()
        holders = st.setdefault(group, [])
        if op == 'pre-reboot':
            if cid not in holders:
                if len(holders) >= slots:
                    return self.answer(409, 'failed_lock_semaphore_full',
                                       'semaphore currently full, %d of %d '
                                       'slots taken' % (len(holders), slots))
                holders.append(cid)
        elif cid in holders:
            holders.remove(cid)
        save(st)
        self.hold(op)
        self.answer(200)

    def hold(self, op):
        try:
            with open(hold) as f:
                want = f.readline().strip()
        except (OSError, TypeError):
            return
        if want != op:
            return
        with open(hold + '.held.tmp', 'w') as f:
            f.write(op + '\n')
        os.replace(hold + '.held.tmp', hold + '.held')
        for _ in range(3000):
            if not os.path.exists(hold):
                break
            time.sleep(0.1)
        try:
            os.remove(hold + '.held')
        except OSError:
            pass


srv = ThreadingHTTPServer(('127.0.0.1', port), H)
srv.daemon_threads = True
with open(portfile + '.tmp', 'w') as f:
    f.write('%d\n' % srv.server_address[1])
os.replace(portfile + '.tmp', portfile)
srv.serve_forever()
