#!/usr/bin/env bash
# Bulk transfers through ssad: many sequential and concurrent connections
# moving 10 MiB each way, checked end to end with SHA-256 against
# bulk_server (plain OpenSSL), then a check that ssad released every
# connection and exits cleanly (no sanitizer report in the ASan build).
# The last group makes sure the checker itself catches corrupt data, a
# wrong digest and a connection cut without close_notify.
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/../lib.sh"

MIB10=10485760

plan 25

start_ssad || { fail "ssad starts"; done_testing; }
pass "ssad starts"

# start_bulk_server NAME PORT ARGS...: bulk_server in the background, stdout
# in $WORK/NAME.out, stderr in $WORK/NAME.log; waits for READY (max 5 s).
start_bulk_server() {
	local name=$1 port=$2
	shift 2
	"$B/tests/bulk_server" "$PKI/server-chain.crt" "$PKI/server.key" "$port" "$@" \
		>"$WORK/$name.out" 2>"$WORK/$name.log" </dev/null &
	PIDS+=("$!")
	for _ in $(seq 50); do
		grep -qx READY "$WORK/$name.out" 2>/dev/null && return 0
		kill -0 "$!" 2>/dev/null || break
		sleep 0.1
	done
	diag "bulk_server $name did not start:"
	sed 's/^/#   /' "$WORK/$name.log"
	return 1
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# bulk NAME DESCRIPTION CLIENT-ARGS...: run bulk_client under libssa, expect
# exit 0 and the summary "N ok, 0 failed" for the -c given.
bulk() {
	local name=$1 desc=$2 t0 rc out conns
	shift 2
	conns=$(sed -n 's/.*-c \([0-9]*\).*/\1/p' <<<"$*")
	t0=$(now)
	ssa "$B/tests/bulk_client" "$@" >"$WORK/$name.client" 2>"$WORK/$name.client.err"
	rc=$?
	out=$(cat "$WORK/$name.client")
	diag "$name: $out (exit $rc, $(elapsed "$t0") s wall)"
	if [ "$rc" -eq 0 ] && [[ $out =~ ^bulk:\ $conns\ ok,\ 0\ failed, ]]; then
		pass "$desc"
	else
		fail "$desc"
		diag "exit $rc, stdout: $out"
		head -n 20 "$WORK/$name.client.err" | sed 's/^/#   /'
	fi
}

# bulk_must_fail NAME DESCRIPTION REGEX CLIENT-ARGS...: the client must see
# every connection fail, for the reason REGEX matches.
bulk_must_fail() {
	local name=$1 desc=$2 re=$3 rc out err
	shift 3
	ssa "$B/tests/bulk_client" "$@" >"$WORK/$name.client" 2>"$WORK/$name.client.err"
	rc=$?
	out=$(cat "$WORK/$name.client")
	err=$(head -n 1 "$WORK/$name.client.err")
	if [ "$rc" -eq 1 ] && [[ $out =~ ^bulk:\ 0\ ok, ]] && [[ $err =~ $re ]]; then
		pass "$desc"
	else
		fail "$desc"
		diag "exit $rc, stdout: $out"
		diag "stderr: $err"
		diag "want stderr: /$re/"
	fi
}

# Five distinct free ports: two servers now, three fault-injecting ones later.
ports=()
while [ ${#ports[@]} -lt 5 ]; do
	p=$(free_port)
	[[ " ${ports[*]} " == *" $p "* ]] || ports+=("$p")
done
p4=${ports[0]} p6=${ports[1]} pc=${ports[2]} pd=${ports[3]} pt=${ports[4]}
start_bulk_server srv4 "$p4"
ok $? "bulk_server listens on 127.0.0.1"
start_bulk_server srv6 "$p6" -6
ok $? "bulk_server listens on ::1"

T0=$(now)

# (a) 200 sequential connections, 10 MiB each way, name verification.
bulk seq "200 sequential connections, 10 MiB each way (IPv4, -n localhost)" \
	-n localhost -c 200 -p 1 -b $MIB10 127.0.0.1 "$p4"

# (b) 50 concurrent connections, 10 MiB each way; the certificate is
# verified against the IP address connected to (no hostname).
bulk par "50 concurrent connections, 10 MiB each way (IPv4, IP address)" \
	-c 50 -p 50 -b $MIB10 127.0.0.1 "$p4"

# (c) IPv6.
bulk v6 "20 connections, 1 MiB each way, 5 at a time (IPv6, -n localhost)" \
	-6 -n localhost -c 20 -p 5 -b 1048576 ::1 "$p6"

diag "transfers took $(elapsed "$T0") s"

# The checker must catch what it is there to catch.
start_bulk_server corrupt "$pc" -x corrupt &&
	start_bulk_server digest "$pd" -x digest &&
	start_bulk_server truncate "$pt" -x truncate
ok $? "fault-injecting bulk_servers start"
bulk_must_fail bad-stream "a flipped bit in the server's stream is detected" \
	'connection [0-9]+: .*SHA-256 mismatch, first bad byte at offset 524288' \
	-n localhost -c 2 -p 2 -b 1048576 127.0.0.1 "$pc"
bulk_must_fail bad-digest "a wrong digest of the payload is detected" \
	"connection [0-9]+: the server's SHA-256 of our payload differs" \
	-n localhost -c 2 -p 2 -b 1048576 127.0.0.1 "$pd"
# Cut without close_notify: what the client sees depends on how ssad reports
# truncation; it must not pass as a clean end.
bulk_must_fail truncated "a TCP close without close_notify is not a clean end" \
	'connection [0-9]+: ' \
	-n localhost -c 2 -p 2 -b 1048576 127.0.0.1 "$pt"

# Idle connections must cost ssad no CPU. Each case below has a TLS peer
# (py_peer) and a client under libssa that prints a line, idles, prints
# another: the worker's CPU between the two lines must stay small (a busy
# loop is the whole window).
# py_peer NAME PORT SETUP BODY: a Python TLS server on PORT in the
# background (SETUP before listen(), BODY after the handshake, with the
# TLS socket in t); output in $WORK/NAME.out; waits for READY; $! is it.
py_peer() {
	python3 -c "
import socket, ssl, struct, time
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain('$PKI/server-chain.crt', '$PKI/server.key')
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
$3
l.bind(('127.0.0.1', $2)); l.listen(1); print('READY', flush=True)
l.settimeout(20)
c, _ = l.accept(); t = ctx.wrap_socket(c, server_side=True)
$4
" >"$WORK/$1.out" 2>"$WORK/$1.log" &
	PIDS+=("$!")
	for _ in $(seq 50); do grep -q READY "$WORK/$1.out" 2>/dev/null && break; sleep 0.1; done
}
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$SSAD_WPID/stat"; }
hz=$(getconf CLK_TCK)
# idle_cpu PORT SCRIPT: a TLS socket t connected to PORT, then SCRIPT,
# under libssa; prints SCRIPT's first line and the worker's CPU ticks
# between its first and second lines.
idle_cpu() {
	ssa timeout 20 python3 -c "
import socket, time
t = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 205)
t.setsockopt(205, 85, b'localhost\0')
t.connect(('127.0.0.1', $1))
$2" 2>&1 | { read -r line; t0=$(cpu_ticks); read -r _; t1=$(cpu_ticks); echo "$line $((t1 - t0))"; }
}

# (c2) A half-close: after the application's shutdown(SHUT_WR) its end
# reports RDHUP on every wait, which once made the worker spin until the
# peer closed. The peer never reads and holds the connection.
hport=$(free_port)
py_peer halfclose "$hport" "" "time.sleep(4)"
out=$(idle_cpu "$hport" "
t.shutdown(socket.SHUT_WR)
time.sleep(0.3)
print('half-closed', flush=True)
time.sleep(2.2)
t.close()")
diag "worker CPU during 2.2 s of half-close: ${out##* } ticks of 1/$hz s"
ok "$([[ $out == "half-closed "* ]] && [ "${out##* }" -lt $((hz / 2)) ] && echo 0 || echo 1)" \
	"a half-closed connection whose peer keeps reading nothing costs the worker < 0.5 s of CPU in 2.2 s"

# (c3) A reset after the peer's close_notify, the application holding the
# socket: nothing is read after close_notify, so the network socket had no
# interest, but the kernel reports the reset's EPOLLERR/EPOLLHUP on every
# wait anyway (the worker spun at 100 % until the application closed).
rport=$(free_port)
py_peer reset "$rport" "" "
t.settimeout(0.3)
try:
    t.unwrap()          # close_notify; the client's never comes
except Exception:
    pass
time.sleep(0.2)
t.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
t.close()               # a reset
time.sleep(4)"
out=$(idle_cpu "$rport" "
eof = t.recv(10) == b''
time.sleep(0.8)
print('reset' if eof else 'no-eof', flush=True)
time.sleep(2.2)
t.close()")
diag "worker CPU during 2.2 s after a reset that followed close_notify: ${out##* } ticks of 1/$hz s"
ok "$([[ $out == "reset "* ]] && [ "${out##* }" -lt $((hz / 2)) ] && echo 0 || echo 1)" \
	"a peer's reset after its close_notify, the application holding the socket: < 0.5 s of worker CPU in 2.2 s"

# A peer that starts reading 3 s after the handshake, and reads to the end
# (SLOW_READER, a py_peer BODY); a client that fills every buffer on the
# way without blocking (FILL, for idle_cpu: full for 0.5 s).
SLOW_READER="t.settimeout(20)        # data or close_notify never coming fails, not hangs
time.sleep(3)
n = 0
while True:
    d = t.recv(65536)
    if not d:
        break
    n += len(d)
print('got', n, flush=True)"
FILL="t.setblocking(False)
n, idle, chunk = 0, 0, b'x' * 65536
while idle < 5:         # full for 0.5 s: every buffer on the way is
    try:
        n += t.send(chunk)
        idle = 0
    except BlockingIOError:
        idle += 1
        time.sleep(0.1)"

# owed NAME CLOSE WHAT: a SLOW_READER peer NAME, and a client that fills
# every buffer towards it, runs CLOSE (its close or half-close), idles for
# 1.5 s and holds on 3 s more: the worker's CPU in those 1.5 s stays small,
# and the peer gets every byte, then the end.
owed() {
	local port pid out got sent
	port=$(free_port)
	py_peer "$1" "$port" "l.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)" "$SLOW_READER"
	pid=$!
	out=$(idle_cpu "$port" "$FILL
$2
print('sent', n, flush=True)
time.sleep(1.5)
print('end', flush=True)
time.sleep(3)
t.close()")
	wait "$pid"
	got=$(sed -n 's/^got //p' "$WORK/$1.out")
	diag "worker CPU during 1.5 s after $3: ${out##* } ticks of 1/$hz s; ${out% *}, the server got ${got:-nothing}"
	ok "$([[ $out == "sent "* ]] && [ "${out##* }" -lt $((hz / 3)) ] && echo 0 || echo 1)" \
		"$3: < 0.33 s of worker CPU in 1.5 s"
	sent=${out#sent }
	is "${got:-none}" "${sent% *}" "... all of it reached the peer, then the end"
}

# (c4) Data an application wrote before it closed still reaches a peer that
# is not reading, and waiting for it costs no CPU: the application's end
# reports EPOLLHUP on every wait once it has closed (the worker spun at
# 100 % until the peer took the rest). The client fills every buffer
# without blocking, then closes; the server starts reading 3 s later.
owed gone "t.close()" "the application closed with data owed to a peer not reading"

# (c5) A peer's reset met while data it sent still waits for the
# application, which has half-closed: the worker hands over what arrived
# and waits for the application to read it; its end's RDHUP (nobody reads
# the end any more, so the half-close is never taken) was asked for on
# every pass (the worker spun at 100 % until the application read or
# closed). The peer fills every buffer, then resets;
# the application writes (ssad's write meets the reset), half-closes and
# reads nothing.
dport=$(free_port)
py_peer dead "$dport" "" "
t.settimeout(0.5)
try:
    while True:
        t.send(b'y' * 65536)
except Exception:
    pass
t.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
t.close()               # a reset
time.sleep(6)"
out=$(idle_cpu "$dport" "
time.sleep(2)
t.send(b'x' * 100)
t.shutdown(socket.SHUT_WR)
time.sleep(0.3)
print('owed', flush=True)
time.sleep(2.2)
n = 0
try:
    while True:
        d = t.recv(65536)
        if not d:
            break
        n += len(d)
except OSError as e:
    r = 'read %d then errno %d' % (n, e.errno)
else:
    r = 'read %d then EOF' % n
open('$WORK/c5.out', 'w').write(r)
print('end', flush=True)
t.close()")
diag "worker CPU during 2.2 s with data owed to a half-closed application after a reset: ${out##* } ticks of 1/$hz s"
ok "$([[ $out == "owed "* ]] && [ "${out##* }" -lt $((hz / 2)) ] && echo 0 || echo 1)" \
	"a reset with data owed to a half-closed application that reads nothing: < 0.5 s of worker CPU in 2.2 s"
like "$(cat "$WORK/c5.out" 2>/dev/null)" '^read [1-9][0-9]* then errno 104$' \
	"... which then reads what arrived, and ECONNRESET ($(cat "$WORK/c5.out" 2>/dev/null))"

# (c6) A half-close behind data the peer has not taken: the application
# fills every buffer towards a peer that is not reading, then
# shutdown(SHUT_WR). ssad reads nothing more from it until the peer takes
# some, so the half-close (RDHUP) is not taken either: asking for it then
# would have it reported on every wait. The peer reads it all 3 s later.
owed wait "t.shutdown(socket.SHUT_WR)" "a half-close behind data a peer has not taken yet"

# (d) ssad survived and released every connection.
ssad_same_worker
ok $? "ssad is still running (the supervisor and the same worker)"
status=
for _ in $(seq 50); do
	status=$("$B/bin/ssactl" status --json 2>&1)
	[[ $status =~ \"connections\":0[,}] ]] && break
	sleep 0.1
done
like "$status" '"connections":0[,}]' "ssactl status reports 0 connections (all released)"
like "$status" '"handshakes_ok":281[,}]' "ssactl status counts 281 handshakes (276 bulk, 2 half-close, 2 reset, 1 gone)"
like "$status" '"handshakes_failed":0[,}]' "ssactl status counts no failed handshake"

# Every connection ended with the client's close_notify and nothing else
# went wrong on the server side. Give the server threads a moment to see
# the last close_notify.
sleep 0.5
srv_errs=$(cat "$WORK/srv4.log" "$WORK/srv6.log")
is "$srv_errs" "" "bulk_servers logged no error (each connection ended with close_notify)"

# (e) Clean exit: sanitizer reports make the status non-zero.
stop_ssad
ok $? "ssad exits with status 0 on SIGTERM"
if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$WORK/ssad.log"; then
	fail "no sanitizer report from ssad"
	grep -E -A 20 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$WORK/ssad.log" |
		head -n 40 | sed 's/^/#   /'
else
	pass "no sanitizer report from ssad"
fi

done_testing
