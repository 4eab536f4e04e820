#!/usr/bin/env bash
# nixpull fleet: a folder, nginx autoindex JSON and a WebDAV PROPFIND
# listing; good, failed, stale, behind and malformed documents; the order of
# the rows and the exit status; --json.
. "$NIXPULL_SRCDIR/tests/lib/lib.sh"
. "$TESTLIB_DIR/webdav.sh"

test_require python3 nginx
RT=$NIXPULL_TESTLIB/reporttool
[ -x "$RT" ] || bail "missing $RT (build the tests)"

NEW=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
OLD=bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb

mk() { local h=$1; shift; "$RT" make host=$h signer=alice@example.com "$@" >"fleet/$h.json"; }

test_expect_success 'setup: a mixed fleet' '
	mkdir fleet &&
	mk ok1 state=ok rev=$NEW committed=now-1000 activated=now-500 reboot=false &&
	mk ok2 state=ok rev=$NEW committed=now-1000 activated=now-400 reboot=false &&
	mk behind state=ok rev=$OLD committed=now-90000 activated=now-80000 &&
	mk reboot state=ok rev=$NEW committed=now-1000 reboot=true &&
	mk building state=building rev=$NEW committed=now-1000 &&
	mk broken state=failed rev=$OLD committed=now-90000 result=failed \
	    phase=build error="nix build: exit status 1" &&
	mk refused state=rejected rev=$NEW committed=now-1000 result=rejected \
	    phase=verify error="no trusted signature" &&
	mk silent state=ok rev=$NEW committed=now-1000 updated=now-7200 &&
	head -c 100 fleet/ok1.json >fleet/truncated.json &&
	sed "s/\"host\": \"ok1\"/\"host\": \"imposter\"/" fleet/ok1.json >fleet/wrongname.json &&
	sed "s/\"state\": \"ok\"/\"state\": 7/" fleet/ok1.json >fleet/badtype.json &&
	echo "not json" >fleet/notes.txt
'

# The first column of the table rows, in order.
hosts_of() { sed -n "2,\$p" "$1" | sed "\$d" | awk "{print \$1}" | tr "\n" " "; }

test_expect_success 'fleet over a folder: problems first, exit 1' '
	test_expect_code 1 "$NIXPULL" fleet fleet >out &&
	cat out &&
	test "$(hosts_of out)" = "badtype truncated wrongname broken refused silent behind reboot building ok1 ok2 " &&
	test_grep "^truncated +malformed .*1:" out &&
	test_grep "^badtype +malformed .*.state.: expected a string, got an integer" out &&
	test_grep "^wrongname +malformed .*document is for host .imposter." out &&
	test_grep "^broken +failed +bbbbbbbbbbbb +alice@example.com .* yes .*nix build: exit status 1" out &&
	test_grep "^silent +ok +aaaaaaaaaaaa .* 2h0m .*no report for 2h0m" out &&
	test_grep "^behind +ok +bbbbbbbbbbbb .* yes " out &&
	test_grep "^reboot +ok .* no +yes" out &&
	test_grep "^ok1 +ok +aaaaaaaaaaaa +alice@example.com +[0-9]+s +no +no" out &&
	test_grep "^11 hosts: 2 ok, 1 busy, 2 need attention, 1 stale, 2 failed, 3 malformed; newest aaaaaaaaaaaa" out
'

test_expect_success '--stale decides what is stale' '
	test_expect_code 1 "$NIXPULL" fleet --stale 3h fleet >out &&
	test_grep "^silent +ok .* no +- *$" out &&
	test_grep "0 stale" out &&
	test_expect_code 2 "$NIXPULL" fleet --stale soon fleet 2>err &&
	test_grep "stale .soon." err
'

test_expect_success 'a healthy fleet exits 0, a stale host alone makes it 1' '
	mkdir good &&
	cp fleet/ok1.json fleet/ok2.json fleet/reboot.json fleet/building.json good/ &&
	"$NIXPULL" fleet good >out &&
	cp fleet/silent.json good/ &&
	test_expect_code 1 "$NIXPULL" fleet good >out &&
	test_expect_code 1 "$NIXPULL" fleet empty-does-not-exist 2>err &&
	test_grep "empty-does-not-exist" err
'

test_expect_success '--json: the hosts keyed by host, and no rollout' '
	test_expect_code 1 "$NIXPULL" fleet --json fleet >merged.json &&
	python3 - merged.json fleet <<-\PY
	import json, sys, os
	d = json.load(open(sys.argv[1]))
	assert sorted(d) == ["hosts", "rollout"] and d["rollout"] is None, d.keys()
	m = d["hosts"]
	assert sorted(m) == sorted(f[:-5] for f in os.listdir(sys.argv[2]) if f.endswith(".json")), sorted(m)
	assert m["ok1"] == json.load(open(sys.argv[2] + "/ok1.json"))
	assert m["broken"]["last_attempt"]["error"] == "nix build: exit status 1"
	for bad in ("truncated", "wrongname", "badtype"):
	    assert set(m[bad]) == {"error"}, m[bad]
	PY
'

webdav_start
test_expect_success 'fleet over nginx autoindex JSON equals the folder' '
	cp fleet/*.json "$WEBDAV_DIR"/ &&
	test_expect_code 1 "$NIXPULL" fleet --json "$WEBDAV_URL" >http.json &&
	test_cmp merged.json http.json &&
	test_expect_code 1 "$NIXPULL" fleet "$WEBDAV_URL" >out &&
	test "$(hosts_of out)" = "badtype truncated wrongname broken refused silent behind reboot building ok1 ok2 " &&
	test_grep "GET /status/ok1.json" "$WEBDAV_ACCESS_LOG"
'

test_expect_success 'fleet over a URL that is down fails clearly' '
	webdav_stop &&
	test_expect_code 1 "$NIXPULL" fleet "$WEBDAV_URL" 2>err &&
	test_grep "127.0.0.1" err
'

cat >propfind.py <<'PY'
# A WebDAV collection answering PROPFIND (Depth: 1) and GET, like Apache
# mod_dav or an S3 gateway; a GET of the collection gives HTML.
import http.server, os, sys, urllib.parse
root = sys.argv[1]
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_PROPFIND(self):
        if self.headers.get("Depth") != "1":
            self.send_error(400); return
        parts = ['<?xml version="1.0" encoding="utf-8"?>\n<D:multistatus xmlns:D="DAV:">',
                 '<D:response><D:href>/dav/</D:href><D:propstat><D:prop><D:resourcetype><D:collection/></D:resourcetype></D:prop></D:propstat></D:response>']
        for f in sorted(os.listdir(root)):
            parts.append('<D:response><D:href>http://127.0.0.1/dav/%s</D:href>'
                         '<D:propstat><D:prop><D:getcontentlength>1</D:getcontentlength></D:prop></D:propstat></D:response>'
                         % urllib.parse.quote(f).replace("&", "&amp;"))
        body = ("\n".join(parts) + "</D:multistatus>\n").encode()
        self.send_response(207)
        self.send_header("Content-Type", "application/xml; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers(); self.wfile.write(body)
    def do_GET(self):
        name = urllib.parse.unquote(self.path[len("/dav/"):])
        if name == "":
            body = b"<html>listing</html>"
        elif "/" in name or not os.path.isfile(os.path.join(root, name)):
            self.send_error(404); return
        else:
            body = open(os.path.join(root, name), "rb").read()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers(); self.wfile.write(body)
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
open(sys.argv[2] + ".tmp", "w").write(str(s.server_address[1]))
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
s.serve_forever()
PY

test_expect_success 'fleet over a WebDAV PROPFIND listing equals the folder' '
	python3 propfind.py "$PWD/fleet" dav.port &
	echo $! >dav.pid &&
	wait_for 10 test -s dav.port &&
	test_expect_code 1 "$NIXPULL" fleet --json "http://127.0.0.1:$(cat dav.port)/dav/" >dav.json &&
	test_cmp merged.json dav.json
'
test_atexit 'kill $(cat "$TEST_DIR/dav.pid" 2>/dev/null) 2>/dev/null'

test_done
