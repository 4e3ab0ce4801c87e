#!/usr/bin/env bash
# ssad and libssa under valgrind's memcheck (the plain build: no sanitizer
# runtime in the way). ssad runs under valgrind with its handshake workers
# and the session cache on, while real peers and the test programs use it:
#   - client connections to openssl s_server: full, resumed (TLS 1.3 and
#     1.2), a wrong name, an unknown CA;
#   - an SSA server (tls_server) accepting openssl s_client connections,
#     SNI, and a client that sends garbage;
#   - bulk transfers each way through the proxy (2 x 1 MiB);
#   - ssactl status and connections, a reload;
# and tls_probe runs under valgrind with libssa preloaded. Fails on any
# memcheck error or definite leak in ssad or in the probe, or an unclean exit.
# Runs once, in the plain build's pass.
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/../lib.sh"

[ "$SSA_BUILD" = build ] || skip_all "runs once, in the plain build's pass"
command -v valgrind >/dev/null || skip_all "no valgrind (scripts/install-deps.sh installs it)"
plan 12
pki
mkdir -p "$WORK/vg"
VG=(valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
	--show-leak-kinds=definite --num-callers=30)

# ssad under valgrind (start_ssad runs ssad directly): handshakes take tens of
# milliseconds under memcheck, hence the long handshake timeout.
conf=$WORK/ssa.conf
cat >"$conf" <<EOF
[global]
trust-store = $PKI/trust.pem
handshake-timeout = 30s
session-tickets = yes
EOF
export SSA_SOCKET=$WORK/ssad.sock
"${VG[@]}" --log-file="$WORK/vg/ssad.log" "$B/sbin/ssad" --config "$conf" \
	--socket "$SSA_SOCKET" 2>>"$WORK/ssad.log" &
SSAD_PID=$!
PIDS+=("$SSAD_PID")
for _ in $(seq 300); do [ -S "$SSA_SOCKET" ] && break; sleep 0.1; done
ok $([ -S "$SSA_SOCKET" ] && echo 0 || echo 1) "ssad starts under valgrind"

# ---- clients ---------------------------------------------------------------
p13=$(free_port)
start_s_server "$p13" -cert "$PKI/server.crt" -key "$PKI/server.key" -cert_chain "$PKI/int.crt" -www
p12=$(free_port)
start_s_server "$p12" -tls1_2 -cert "$PKI/server.crt" -key "$PKI/server.key" -cert_chain "$PKI/int.crt" -www
pu=$(free_port)
start_s_server "$pu" -cert "$PKI/selfsigned.crt" -key "$PKI/selfsigned.key" -www
probe() { ssa timeout 120 "$B/tests/tls_probe" "$@" 2>&1; }
got=""
for p in "$p13" "$p13" "$p13" "$p12" "$p12"; do
	got="$got$(probe -n localhost -s 'GET / HTTP/1.0' 127.0.0.1 "$p" | head -n 1 | cut -d' ' -f1) "
done
is "$got" "OK OK OK OK OK " "5 client connections (TLS 1.3 and 1.2, resumed ones among them)"
like "$("$B/bin/ssactl" status)" 'sessions_cached +[1-9]' "the session cache holds sessions"
like "$(probe -n wrong.example 127.0.0.1 "$p13")" '^ERR EPROTO .*does not match' "a wrong name fails"
like "$(probe -n localhost 127.0.0.1 "$pu")" '^ERR EPROTO .*(unknown CA|self-signed|self signed)' "an unknown CA fails"

# ---- a server --------------------------------------------------------------
LD_PRELOAD=$(ssa_preload) "$B/tests/tls_server" -p 0 -c "$PKI/server-chain.crt" -k "$PKI/server.key" \
	-c "$PKI/other-chain.crt" -k "$PKI/other.key" echo >"$WORK/srv.out" 2>"$WORK/srv.log" </dev/null &
PIDS+=("$!")
sport=
wait_ready "$WORK/srv.out" sport 300
echoed=0
for name in localhost other.test localhost; do
	out=$( (echo "hello $name"; sleep 3) | timeout 60 openssl s_client -connect "127.0.0.1:$sport" \
		-servername "$name" -CAfile "$PKI/ca.crt" -verify_return_error -quiet -no_ign_eof 2>/dev/null)
	[ "$out" = "hello $name" ] && echoed=$((echoed + 1))
done
is "$echoed" 3 "an SSA server echoes for 3 s_client connections (two SNI identities)"
# garbage instead of a ClientHello: refused, never reaches accept
python3 - "$sport" <<'PY' 2>/dev/null
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 10)
s.sendall(b"\x16\x03\x01\x00\x05hello" + b"\x00" * 64)
s.settimeout(30)
try:
    s.recv(100)
except OSError:
    pass
PY
is "$(grep -c '^ACCEPT ' "$WORK/srv.out")" 3 "the garbage client never reached accept (3 accepted)"

# ---- the proxy: bulk each way ----------------------------------------------
bport=$(free_port)
"$B/tests/bulk_server" "$PKI/server-chain.crt" "$PKI/server.key" "$bport" >"$WORK/bulk.out" \
	2>"$WORK/bulk.log" </dev/null &
PIDS+=("$!")
for _ in $(seq 50); do grep -qx READY "$WORK/bulk.out" 2>/dev/null && break; sleep 0.1; done
out=$(ssa timeout 300 "$B/tests/bulk_client" -n localhost -c 2 -p 2 -b 1048576 127.0.0.1 "$bport" 2>&1)
like "$out" '^bulk: 2 ok, 0 failed' "2 bulk connections of 1 MiB each way through the proxy"

# ---- administration --------------------------------------------------------
"$B/bin/ssactl" connections >/dev/null && "$B/bin/ssactl" --json status >/dev/null
ok $? "ssactl connections and status"
kill -HUP "$SSAD_PID"
for _ in $(seq 100); do grep -q 'configuration reloaded' "$WORK/ssad.log" && break; sleep 0.1; done
like "$(probe -n localhost 127.0.0.1 "$p13")" '^OK ' "a connection after a reload"

# ---- libssa under valgrind ---------------------------------------------------
# valgrind runs the program; LD_PRELOAD reaches it through valgrind.
LD_PRELOAD=$B/lib/libssa.so "${VG[@]}" --log-file="$WORK/vg/probe.log" \
	"$B/tests/tls_probe" -n localhost -s 'GET / HTTP/1.0' 127.0.0.1 "$p13" >"$WORK/probe.out" 2>&1
rc=$?
ok $([ $rc -eq 0 ] && grep -q 'ERROR SUMMARY: 0 errors' "$WORK/vg/probe.log" && echo 0 || echo 1) \
	"tls_probe with libssa under valgrind: no error, no definite leak (exit $rc)"
[ $rc -eq 0 ] || grep -A30 -m1 '^==[0-9]*== [A-Z]' "$WORK/vg/probe.log" | head -n 40 | sed 's/^/# /'

# ---- ssad's verdict ----------------------------------------------------------
kill -TERM "$SSAD_PID"
wait "$SSAD_PID"
rc=$?
ok $([ $rc -eq 0 ] && grep -q 'ERROR SUMMARY: 0 errors' "$WORK/vg/ssad.log" && echo 0 || echo 1) \
	"ssad under valgrind: no error, no definite leak, clean exit (exit $rc)"
if [ $rc -ne 0 ] || ! grep -q 'ERROR SUMMARY: 0 errors' "$WORK/vg/ssad.log"; then
	grep -B2 -A30 -m3 -E 'Invalid|uninitialised|definitely lost|Mismatched' "$WORK/vg/ssad.log" |
		head -n 80 | sed 's/^/# /'
fi
done_testing
