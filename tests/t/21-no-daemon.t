#!/usr/bin/env bash
# Without ssad, socket(..., IPPROTO_TLS) fails at once with EPROTONOSUPPORT;
# other sockets are untouched by the preloaded front end.
. "$(dirname "$0")/../lib.sh"
plan 16
pki
probe() { ssa "$B/tests/tls_probe" "$@" 2>&1; }

export SSA_SOCKET=$WORK/nothing-here.sock
out=$(probe -n localhost 127.0.0.1 443)
like "$out" '^ERR EPROTONOSUPPORT ' "no control socket: EPROTONOSUPPORT"
ms=$(sed -n 's/.* ms=\([0-9.]*\).*/\1/p' <<<"$out")
ok $(awk -v m="$ms" 'BEGIN{exit !(m < 100)}'; echo $?) "failed within 100 ms (${ms} ms)"

# A stale socket file left by a killed daemon.
start_ssad || exit 1
kill -KILL "$SSAD_PID"; wait "$SSAD_PID" 2>/dev/null
ok $([ -S "$SSA_SOCKET" ] && echo 0 || echo 1) "stale control socket file is present"
out=$(probe -n localhost 127.0.0.1 443)
like "$out" '^ERR EPROTONOSUPPORT ' "stale control socket: EPROTONOSUPPORT"
ms=$(sed -n 's/.* ms=\([0-9.]*\).*/\1/p' <<<"$out")
ok $(awk -v m="$ms" 'BEGIN{exit !(m < 100)}'; echo $?) "failed within 100 ms (${ms} ms)"

# Python: the exception is raised by socket() itself.
out=$(ssa python3 -c "
import socket
try: socket.socket(socket.AF_INET, socket.SOCK_STREAM, 205); print('created')
except OSError as e: print(e.errno)
" 2>&1)
is "$out" "93" "python socket(205) raises EPROTONOSUPPORT (93)"

# A control socket that reads each request and hangs up (a daemon dying
# mid-request, or someone else's socket): socket() fails at once, and the
# front end's own control calls never re-enter its interposed recvmsg/close
# (that nested one control connection per level until the stack overflowed).
cat >"$WORK/hangup.py" <<'PY'
# hangup.py PATH [MODE]: read each request, then hang up. MODE "socket"
# first answers SOCKET requests as ssad would (a socket id and the
# application's end of a stream pair), so that the calls on a TLS socket
# (setsockopt, getsockopt, bind, connect, listen) meet the hang-up.
import array, os, socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(sys.argv[1]); s.listen(64)
answer = len(sys.argv) > 2 and sys.argv[2] == "socket"
kept = []
print("READY 0", flush=True)
while True:
    c, _ = s.accept()
    try:
        req = c.recv(65536)
        if answer and len(req) >= 16 and struct.unpack("<IHHiI", req[:16])[1] == 1:
            a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            body = struct.pack("<QQ", len(kept) + 1, 1)
            c.sendmsg([struct.pack("<IHHiI", 0x53534131, 1, 0, 0, len(body)) + body],
                      [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [a.fileno()]))])
            a.close(); kept.append(b)
    except OSError: pass
    c.close()
PY
python3 "$WORK/hangup.py" "$WORK/hangup.sock" >"$WORK/hangup.out" 2>&1 &
PIDS+=("$!")
wait_ready "$WORK/hangup.out" _hp
out=$(SSA_SOCKET=$WORK/hangup.sock ssa timeout 30 python3 -c "
import socket
try: socket.socket(socket.AF_INET, socket.SOCK_STREAM, 205); print('created')
except OSError as e: print(e.errno)
" 2>&1)
rc=$?
is "$rc" 0 "hang-up control socket: the program does not crash"
is "$out" "93" "hang-up control socket: socket(205) raises EPROTONOSUPPORT (93)"

# The same hang-up met by every other call on a TLS socket: each fails
# with ECONNABORTED (103), at once, and the program goes on.
python3 "$WORK/hangup.py" "$WORK/hangup2.sock" socket >"$WORK/hangup2.out" 2>&1 &
PIDS+=("$!")
wait_ready "$WORK/hangup2.out" _hp
out=$(SSA_SOCKET=$WORK/hangup2.sock ssa timeout 30 python3 -c "
import socket
def call(name, f):
    try: f(); print(name, 'ok')
    except OSError as e: print(name, e.errno)
for name, f in (('setsockopt', lambda s: s.setsockopt(205, 86, b'example.org\\0')),
                ('getsockopt', lambda s: s.getsockopt(205, 96, 8)),
                ('bind', lambda s: s.bind(('127.0.0.1', 0))),
                ('connect', lambda s: s.connect(('127.0.0.1', 9))),
                ('listen', lambda s: s.listen(5))):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 205)
    call(name, lambda: f(s))
    s.close()
print('end')
" 2>&1)
rc=$?
is "$rc" 0 "hang-up after socket(): the program neither crashes nor hangs"
for call in setsockopt getsockopt bind connect listen; do
	like "$out" "(^|"$'\n'")$call 103("$'\n'"|\$)" "hang-up after socket(): $call fails with ECONNABORTED (103)"
done

# Plain TCP keeps working under the preload with no daemon.
port=$(free_port)
mkdir -p "$WORK/www"; echo plain-ok >"$WORK/www/index.html"
python3 -m http.server --bind 127.0.0.1 --directory "$WORK/www" "$port" >"$WORK/http.log" 2>&1 &
PIDS+=("$!"); wait_port 127.0.0.1 "$port"
if [ "$SSA_BUILD" = build ]; then
	out=$(ssa curl -s "http://127.0.0.1:$port/index.html" 2>&1)
else	# curl hangs in setlocale() with the ASan runtime preloaded, libssa or not
	out=$(ssa python3 -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:$port/index.html').read().decode().strip())" 2>&1)
fi
is "$out" "plain-ok" "plain HTTP client under libssa is unaffected"
out=$(ssa python3 -c "
import socket
a,b=socket.socketpair(); a.send(b'x'); print(b.recv(1), a.getsockname(), b.getpeername())
" 2>&1)
is "$out" "b'x'  " "socketpair and getsockname on unix sockets are unaffected"
done_testing
