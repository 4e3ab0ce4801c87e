#!/usr/bin/env bash
# What a client connection costs beyond its handshake (issue 15), read from
# ssad's own counters (STATUS "control_requests"): socket() + setsockopt(
# TLS_REMOTE_HOSTNAME) + connect() is two control round trips (SOCKET, and
# the CONNECT that carries the host name), and fails here if it grows back.
# The host name held by libssa until connect() behaves as if ssad had it at
# once: checked at setsockopt() (EINVAL), in force at connect() (a wrong
# name fails the handshake), read back by getsockopt(), seen through a
# dup() and by a fork child. A reload between setsockopt() and connect()
# leaves the socket the policy it was created with (ssa.conf(5),
# RELOADING), while a socket created after it has the new one; a weakening
# option is still refused with EPERM at setsockopt().
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
plan 16
pki
start_ssad || exit 1
port=$(free_port)
start_s_server "$port" -cert "$PKI/server.crt" -key "$PKI/server.key" -cert_chain "$PKI/int.crt" -www -quiet ||
	{ fail "s_server starts"; done_testing; }
SSACTL=$B/bin/ssactl

# requests [TYPE]: ssad's count of socket requests (all, or of one type)
requests() {
	"$SSACTL" --json status | python3 -c "
import json, sys
j = json.load(sys.stdin)
print(j['control_requests_by_type']['${1:-}'] if '${1:-}' else j['control_requests'])"
}

# client SCRIPT: python under libssa with s() = a new TLS socket, and
# conn(s) = connect it to the server; prints what SCRIPT prints
client() {
	ssa timeout 60 python3 -c "
import os, socket, subprocess, sys
PORT = $port
def s(host=b'localhost\0'):
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 205)
    if host: t.setsockopt(205, 85, host)
    return t
def conn(t):
    try:
        t.connect(('127.0.0.1', PORT)); return 'ok'
    except OSError as e:
        return str(e.errno)
$1
" 2>&1
}

# ---- round trips per connection -------------------------------------------
N=5
before=$(requests); before_set=$(requests setopt)
out=$(client "
for i in range($N):
    t = s(); print(conn(t)); t.close()")
after=$(requests); after_set=$(requests setopt)
is "$(grep -c '^ok$' <<<"$out")" "$N" "$N connections with a host name made"
rt=$(( (after - before) / N ))
is "$rt" 2 "control round trips per connection: 2 (SOCKET, CONNECT with the host name)"
is "$((after_set - before_set))" 0 "no SETOPT sent for TLS_REMOTE_HOSTNAME before connect()"

# Positive control: an option acting on ssad's network socket is a round
# trip of its own, and the counter sees it.
before=$(requests)
out=$(client "
for i in range($N):
    t = s(); t.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1); print(conn(t)); t.close()")
after=$(requests)
is "$(( (after - before) / N ))" 3 "control: with TCP_NODELAY before connect(), 3 round trips per connection (the host name still goes with the CONNECT)"

# ---- the held host name behaves as ssad's ----------------------------------
before_set=$(requests setopt)
out=$(client "
for v in (b'bad host\0', b'localhost', b'a..b\0', b'x' * 300 + b'\0'):
    try: s(v); print('set')
    except OSError as e: print(e.errno)")
is "$(tr '\n' ' ' <<<"$out")" "22 22 22 22 " "invalid host names: EINVAL at setsockopt()"
is "$(requests setopt)" "$before_set" "invalid host names refused without a round trip"

out=$(client "t = s(b'wrong.example\0'); print(conn(t))")
is "$out" "71" "a wrong host name held until connect() fails verification (EPROTO)"
out=$(client "t = s(b'wrong.example\0'); t.setsockopt(205, 85, b'localhost\0'); print(conn(t))")
is "$out" "ok" "the last host name set is the one used"
out=$(client "t = s(b'wrong.example\0'); print(t.getsockopt(205, 85, 256).rstrip(b'\0').decode())")
is "$out" "wrong.example" "getsockopt() reads the held host name back"
out=$(client "t = s(b'wrong.example\0'); u = t.dup(); t.close(); print(conn(u))")
is "$out" "71" "a dup() sees the host name set on the original"
out=$(client "
t = s(b'wrong.example\0')
pid = os.fork()
if pid == 0:
    print('child', conn(t)); sys.stdout.flush(); os._exit(0)
os.waitpid(pid, 0)")
is "$out" "child 71" "a fork child connects with the host name set before fork()"

# ---- a reload between setsockopt() and connect() ----------------------------
conf=$WORK/ssa.conf
cp "$conf" "$conf.orig"
sed "s|^trust-store = .*|trust-store = $PKI/untrusted-ca.crt|" "$conf.orig" >"$WORK/ssa.conf.untrusting"
out=$(client "
old = s()
try: old.setsockopt(205, 111, 0x0302); print('weak set')
except OSError as e: print('weak', e.errno)
env = dict(os.environ); env.pop('LD_PRELOAD', None)
subprocess.run(['cp', '$WORK/ssa.conf.untrusting', '$conf'], env=env, check=True)
subprocess.run(['$SSACTL', 'reload'], env=env, check=True, stdout=subprocess.DEVNULL)
try: old.setsockopt(205, 111, 0x0302); print('weak set')
except OSError as e: print('weak', e.errno)
print('old', conn(old))
old.close()  # s_server -www serves one connection at a time
print('new', conn(s()))")
like "$out" "^weak 1"$'\n' "before the reload: a weakening TLS_VERSION_MIN is EPERM at setsockopt()"
like "$out" $'\n'"weak 1"$'\n' "after the reload: still EPERM at setsockopt()"
like "$out" $'\n'"old ok" "a socket made before the reload connects under its own policy"
like "$out" $'\n'"new 71" "control: a socket made after the reload has the new policy (untrusted: EPROTO)"
cp "$conf.orig" "$conf"
"$SSACTL" reload >/dev/null
out=$(client "print(conn(s()))")
is "$out" "ok" "the first policy back: connections verify again"
done_testing
