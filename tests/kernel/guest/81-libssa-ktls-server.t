#!/usr/bin/env bash
# The server side of libssa's kernel-TLS data path (issue 7 item 6; the
# clients are in 80-libssa-ktls.t): under LD_PRELOAD=libssa.so, accept()
# returns the TCP socket itself with kernel TLS both ways; Python ssl
# (TLS 1.3, TLS 1.2) and openssl s_client are served through it, with
# close_notify both ways. ssa.ko plays no part.
. "$(dirname "$0")/lib.sh"
plan 7
libssa_ktls_setup
tx0=$(tls_stat TlsTxSw) rx0=$(tls_stat TlsRxSw)

LD_PRELOAD=$LIBSSA "$PROBE" serve -n 3 "$PKI/server-chain.crt" "$PKI/server.key" >"$WORK/srv.out" 2>&1 &
sp=$!
PIDS+=("$sp")
for i in $(seq 100); do grep -q '^LISTEN\|^ERR' "$WORK/srv.out" && break; sleep 0.1; done
sport=$(sed -n 's/^LISTEN port=//p' "$WORK/srv.out")
like "$sport" '^[1-9][0-9]*$' "SSA server listening"
# Python ssl clients, TLS 1.3 then TLS 1.2: 300000 bytes in lock-step (one
# thread: an SSL object is not for concurrent use), then close_notify both ways
out=$(timeout 40 python3 - "$PKI/ca.crt" "${sport:-1}" <<'PY' 2>&1
import socket, ssl, sys
ca, port = sys.argv[1], int(sys.argv[2])
data = (bytes(range(251)) * 1200)[:300000]
for vmax in ("1.3", "1.2"):
    ctx = ssl.create_default_context(cafile=ca)
    if vmax == "1.2":
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=20),
                        server_hostname="localhost")
    got = bytearray()
    for off in range(0, len(data), 16384):
        chunk = data[off:off + 16384]
        s.sendall(chunk)
        want = len(got) + len(chunk)
        while len(got) < want:
            d = s.recv(65536)
            if not d:
                break
            got += d
    s = s.unwrap()  # our close_notify; returns when the server's arrives
    print("PY", vmax, len(got), "same" if bytes(got) == data else "differs")
    s.close()
PY
)
is "$(grep '^PY 1.3' <<<"$out")" "PY 1.3 300000 same" "Python ssl client (TLS 1.3) to the SSA server: echoed, close_notify both ways"
is "$(grep '^PY 1.2' <<<"$out")" "PY 1.2 300000 same" "Python ssl client (TLS 1.2) to the SSA server" ||
	diag "$out"
out=$( (echo hello-ktls; sleep 3) | timeout 20 openssl s_client -quiet -no_ign_eof \
	-verify_return_error -CAfile "$PKI/ca.crt" -servername localhost -verify_hostname localhost \
	-connect "127.0.0.1:${sport:-1}" 2>"$WORK/s_client.err")
is "$out" "hello-ktls" "openssl s_client to the SSA server: verified, echoed through kernel TLS"
wait_pid "$sp" 20
src=$?
srv=$(cat "$WORK/srv.out")
diag "server: $srv"
like "$srv" $'OK ktls=1 version=0x0304 cipher=TLS_[A-Z0-9_]+ chain=[0-9]+ keys=hidden echoed=300000 eof=clean\nOK ktls=1 version=0x0303 .*\nOK ktls=1 version=0x0304 .* echoed=11 eof=clean' \
	"accepted connections were kernel-TLS sockets; close_notify read as the end"
ok $src "SSA server exited cleanly"

ktls_sessions_since 3 three
[ "$_failed" -gt 0 ] && sed 's/^/# ssad: /' "$WORK/ssad.log" | tail -n 30
done_testing
