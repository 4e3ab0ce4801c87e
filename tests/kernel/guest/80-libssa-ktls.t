#!/usr/bin/env bash
# The userspace front end's kernel-TLS data path (issue 7 item 6): under
# LD_PRELOAD=libssa.so, a blocking connect and an accepted connection end
# with the TCP socket itself in the application's descriptor, kernel TLS on
# both directions (TCP_ULP "tls"; /proc/net/tls_stat counts it), data never
# through ssad (its byte counters stay 0), TLS getsockopt still answered by
# ssad, close_notify both ways. A non-blocking connect, and SSA_KTLS=0, keep
# the proxy path. ssa.ko plays no part (it may be loaded: libssa takes
# socket(..., IPPROTO_TLS) before the kernel sees it). Python starts are
# few: each costs seconds under TCG. The server side: 81-libssa-ktls-server.t;
# openssl s_server peers and each TLS 1.3 suite: 82-libssa-ktls-suites.t.
. "$(dirname "$0")/lib.sh"
plan 13
libssa_ktls_setup

# One Python ssl (userspace OpenSSL) echo server for all client runs: one
# connection per argument, the argument its highest version; it answers our
# close_notify with its own (unwrap). "trunc": sends 5000 bytes and closes
# the TCP connection without close_notify.
rm -f "$WORK/echo.port"
python3 - "$PKI/server-chain.crt" "$PKI/server.key" "$WORK/echo.port" 1.3 1.2 1.3 1.3 1.3 trunc \
	2>>"$WORK/echo.log" <<'PY' &
import os, socket, ssl, sys
cert, key, pf = sys.argv[1:4]
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(8)
open(pf + ".tmp", "w").write(str(ls.getsockname()[1]))
os.replace(pf + ".tmp", pf)
for vmax in sys.argv[4:]:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    if vmax == "1.2":
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_ciphers("ECDHE+AESGCM")
    c, _ = ls.accept()
    try:
        s = ctx.wrap_socket(c, server_side=True)
        if vmax == "trunc":
            s.sendall(b"T" * 5000)
            s.shutdown(socket.SHUT_RDWR)  # a TCP FIN, no close_notify
            s.close()
            continue
        while True:
            d = s.recv(65536)
            if not d:
                print("echo: close_notify", file=sys.stderr, flush=True)
                break
            s.sendall(d)
        s.unwrap().close()
    except (OSError, ssl.SSLError) as e:
        print("echo:", e, file=sys.stderr)
PY
PIDS+=("$!")
for i in $(seq 150); do [ -s "$WORK/echo.port" ] && break; sleep 0.1; done
eport=$(cat "$WORK/echo.port" 2>/dev/null)
[ -n "$eport" ] || diag "echo server did not start: $(cat "$WORK/echo.log")"

tx0=$(tls_stat TlsTxSw) rx0=$(tls_stat TlsRxSw)

# 1. TLS 1.3, blocking connect: the kernel-TLS socket itself
LD_PRELOAD=$LIBSSA "$PROBE" connect -w 3 127.0.0.1 "$eport" localhost >"$WORK/c13.out" 2>&1 &
cp=$!
PIDS+=("$cp")
# the data has been echoed, the connection is still open for 3 s:
for i in $(seq 300); do grep -q '^ECHOED\|^BAD\|^ERR' "$WORK/c13.out" && break; sleep 0.1; done
curtx=$(tls_stat TlsCurrTxSw) currx=$(tls_stat TlsCurrRxSw)
json=$("$B/bin/ssactl" --json connections 2>&1)
diag "tls_stat: TlsCurrTxSw=$curtx TlsCurrRxSw=$currx; ssactl: $(head -c 500 <<<"$json")"
ok $([ "$curtx" -ge 1 ] && [ "$currx" -ge 1 ] && echo 0 || echo 1) "kernel TLS sessions live both ways (TlsCurrTxSw, TlsCurrRxSw)"
like "$json" '"bytes_out":0,"bytes_in":0,"data":"kernel"' \
	"ssactl lists the connection as data=kernel, 0 bytes through ssad"
wait_pid "$cp" 20
rc=$?
out=$(cat "$WORK/c13.out")
diag "TLS 1.3 client: $out"
like "$out" $'\nOK ktls=1 version=0x0304 ' "TLS 1.3 blocking connect: the descriptor is the TCP socket with kernel TLS"
like "$out" 'echoed=300000 eof=clean' "300000 bytes echoed and checked, peer's close_notify read as end of stream"
like "$out" 'cipher=TLS_[A-Z0-9_]+ chain=[1-9][0-9]* keys=hidden' \
	"TLS_CHOSEN_CIPHER and TLS_PEER_CERTIFICATE_CHAIN still answered (by ssad); SOL_TLS refused"
ok $rc "client exited cleanly"

# 2. TLS 1.2 AES-GCM
out=$(LD_PRELOAD=$LIBSSA timeout 30 "$PROBE" connect 127.0.0.1 "$eport" localhost 2>&1)
diag "TLS 1.2 client: $out"
like "$out" $'\nOK ktls=1 version=0x0303 cipher=TLS_ECDHE_[A-Z]+_WITH_AES_[0-9]+_GCM_SHA[0-9]+ chain=[1-9][0-9]* keys=hidden echoed=300000 eof=clean' \
	"TLS 1.2 AES-GCM: kernel TLS, data both ways, close_notify"

# 3. a non-blocking connect keeps the proxy path
out=$(LD_PRELOAD=$LIBSSA timeout 30 "$PROBE" connect -N -b 100000 127.0.0.1 "$eport" localhost 2>&1)
diag "non-blocking client: $out"
like "$out" $'\nOK ktls=0 version=0x0304 .*echoed=100000 eof=clean' "non-blocking connect: proxy path, works"

# 4. SSA_KTLS=0: the proxy path on request
out=$(SSA_KTLS=0 LD_PRELOAD=$LIBSSA timeout 30 "$PROBE" connect -b 100000 127.0.0.1 "$eport" localhost 2>&1)
like "$out" $'\nOK ktls=0 .*echoed=100000 eof=clean' "SSA_KTLS=0: proxy path"

# 5. a program that exits with the socket open: libssa sends close_notify
n0=$(grep -c 'echo: close_notify' "$WORK/echo.log")
out=$(LD_PRELOAD=$LIBSSA timeout 30 "$PROBE" connect -x -b 20000 127.0.0.1 "$eport" localhost 2>&1)
for i in $(seq 50); do [ "$(grep -c 'echo: close_notify' "$WORK/echo.log")" -gt "$n0" ] && break; sleep 0.1; done
n1=$(grep -c 'echo: close_notify' "$WORK/echo.log")
diag "exit without close: $out; echo server: $(tail -n 2 "$WORK/echo.log" | tr '\n' ' ')"
ok $([[ $out == *"EXIT ktls=1"* ]] && [ "$n1" -gt "$n0" ] && echo 0 || echo 1) \
	"exit() with the socket open: the peer gets close_notify (libssa's exit handler)"

# 6. a peer that ends the TCP connection without close_notify: truncation
out=$(LD_PRELOAD=$LIBSSA timeout 30 "$PROBE" connect -r 127.0.0.1 "$eport" localhost 2>&1)
diag "truncated: $out"
like "$out" '^READ bytes=5000 first=T+ ktls=1 .* eof=Connection reset by peer' \
	"a TCP close without close_notify: ECONNRESET after the data, never a clean end"

ktls_sessions_since 4 four
ok $(grep -q 'kernel TLS available for libssa sockets' "$WORK/ssad.log" && echo 0 || echo 1) \
	"ssad found kernel TLS (log)"
[ "$_failed" -gt 0 ] && sed 's/^/# ssad: /' "$WORK/ssad.log" | tail -n 30
done_testing
