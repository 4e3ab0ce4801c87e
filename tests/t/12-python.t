#!/usr/bin/env bash
# Python 3's standard socket module under ssa-run: socket(AF_INET, SOCK_STREAM, 205).
. "$(dirname "$0")/../lib.sh"
PY=/usr/bin/python3
[ -x $PY ] || skip_all "no /usr/bin/python3"
plan 9
start_ssad || exit 1
port=$(free_port)
start_s_server "$port" -cert "$PKI/server.crt" -key "$PKI/server.key" -cert_chain "$PKI/int.crt" -www
run() { LD_PRELOAD=$( [ "$SSA_BUILD" = build ] || ssa_preload | sed 's|[^:]*libssa.so$||') \
	ASAN_OPTIONS=detect_leaks=0 "$B/bin/ssa-run" $PY "$TOP/tests/py/https_get.py" "$@"; }

out=$(run localhost "$port" 2>"$WORK/py.err"); err=$(cat "$WORK/py.err")
like "$out" '^HTTP/1.0 200 ok' "python fetched a page over IPv4 through ssa-run"
like "$err" 'version=0x0304' "python reads TLS_CHOSEN_VERSION"
like "$err" 'cipher=TLS_' "python reads TLS_CHOSEN_CIPHER"
like "$err" "peer=(127.0.0.1|::1) $port" "python's getpeername gives the real address"
like "$err" 'identity=subject=CN=localhost' "python reads TLS_PEER_IDENTITY"

out=$(run ::1 "$port" 2>"$WORK/py.err")
like "$out" '^HTTP/1.0 200 ok' "python over IPv6"
out=$(run localhost "$port" 5 2>"$WORK/py.err")
like "$out" '^HTTP/1.0 200 ok' "python with a socket timeout (non-blocking internally)"

out=$(run server.invalid.test "$port" 2>&1)
like "$out" 'Name or service not known|not known|failed' "unknown name fails in the resolver, not in TLS"
# a name the certificate does not hold: 127.0.0.1 is in /etc/hosts as localhost;
# connect by address with a wrong hostname through tls_probe-style check in python
out=$(LD_PRELOAD=$( [ "$SSA_BUILD" = build ] || ssa_preload | sed 's|[^:]*libssa.so$||') ASAN_OPTIONS=detect_leaks=0 \
	"$B/bin/ssa-run" $PY -c "
import socket,sys
s=socket.socket(socket.AF_INET,socket.SOCK_STREAM,205)
s.setsockopt(205,85,b'wrong.example\0')
try:
    s.connect(('127.0.0.1',$port)); print('connected')
except OSError as e:
    print(e.errno, s.getsockopt(205,100,256).rstrip(b'\0').decode())
" 2>&1)
like "$out" '^71 certificate does not match the requested hostname' "python sees EPROTO (71) and the TLS_ERROR reason"
done_testing
