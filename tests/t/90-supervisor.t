#!/usr/bin/env bash
# ssad as a supervisor and a worker (issue 14, privilege separation;
# src/ssad/supervisor/supervisor.h). Checked:
#   - the process tree: the process started ($SSAD_PID) is the supervisor,
#     root, named ssad, with one child, the worker (comm ssad-worker); the
#     key keeper (ssad-keeper) is the supervisor's child too, as nobody;
#   - the worker SIGKILLed in the middle of a bulk transfer through libssa
#     (a Python client with an IPPROTO_TLS socket, to a plain-OpenSSL echo
#     server): the application's next call fails with ECONNRESET or EPROTO
#     within a few seconds (never a hang, never a clean EOF); the supervisor
#     keeps its pid, logs the death and forks a new worker at once, which
#     serves a new client within a second of the kill (the time is printed);
#     the dead worker's keeper goes too; the supervisor holds no more
#     descriptors than before;
#   - an SSA server (tls_server under libssa) listening before the kill
#     accepts and serves a new client after the worker was replaced, without
#     listening again (one READY line, the same process);
#   - SIGHUP to the supervisor: the worker reloads ("configuration
#     reloaded"), and it is the same worker;
#   - SIGTERM to the supervisor: both processes and the keeper end, exit
#     status 0, the control socket file is removed;
#   - a bad configuration at start: ssad exits 1 within a few seconds,
#     no worker is left behind (control: the same search finds the running
#     ssad's worker);
#   - SIGKILL of the supervisor takes the worker and the keeper down too
#     (PR_SET_PDEATHSIG);
#   - workers that cannot start (a configuration broken after the first
#     was ready) are retried once a second, the next serves once it is
#     fixed; ten such deaths in a row stop the supervisor with status 1;
#   - under a notify socket, every datagram comes from the supervisor (the
#     main pid systemd listens to): READY=1 for each worker, the SSA
#     server's stored listener (FDSTORE=1 with descriptors), STOPPING=1;
#   - no sanitizer report (build-asan) from any of these processes.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root (ssad as root)"
plan 49
pki

now_ms() { echo $(($(date +%s%N) / 1000000)); }
status() { awk -v f="$1:" '$1 == f { print $2; exit }' "/proc/$2/status" 2>/dev/null; }
comm() { cat "/proc/$1/comm" 2>/dev/null; }
# keeper_of WORKER: the key keeper of that worker: the supervisor starts one
# per worker (its child); the newest is the running worker's (empty if none)
keeper_of() {
	local sup
	sup=$(status PPid "$1")
	[ -n "$sup" ] && pgrep -n -P "$sup" -x ssad-keeper
}
# gone PID SECONDS: wait until PID no longer exists; true if it went
gone() {
	local i
	for i in $(seq $(($2 * 20))); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.05
	done
	! kill -0 "$1" 2>/dev/null
}
# ssad_procs SOCKET: pids of every process started with --socket SOCKET
ssad_procs() { pgrep -f -- "--socket $1\$" | tr '\n' ' '; }
nfd() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }

# ---- 1. the process tree ------------------------------------------------------
start_ssad "log-level = info" || { fail "ssad starts"; done_testing; }
ssad_serving || diag "ssactl status did not answer"
W=$SSAD_WPID
ok "$([ -n "$W" ] && echo 0 || echo 1)" "ssad's supervisor ($SSAD_PID) has a worker (${W:-none})"
is "$(status Uid "$SSAD_PID") $(comm "$SSAD_PID")" "0 ssad" "the supervisor runs as root and keeps the name ssad"
is "$(status PPid "$W") $(comm "$W")" "$SSAD_PID ssad-worker" "the worker is the supervisor's child, named ssad-worker"
K=$(keeper_of "$W")
is "$(pgrep -P "$SSAD_PID" | sort -n | tr '\n' ' ')" "$(printf '%s\n' "$W" "$K" | sort -n | tr '\n' ' ')" \
	"the supervisor's children are the worker and the key keeper (${K:-none})"
ok "$([ -n "$K" ] && [ "$(status Uid "$K")" = 65534 ] && echo 0 || echo 1)" \
	"the key keeper runs as nobody (65534), another user than the worker's"
like "$(cat "$WORK/ssad.log")" "supervisor \(pid $SSAD_PID\): worker pid $W started" "the supervisor logs the worker's pid"

# ---- 2. servers: a TLS echo server (plain OpenSSL), an SSA server --------------
cat >"$WORK/echo_srv.py" <<'PY'
import socket, ssl, sys, threading
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", 0))
ls.listen(16)
print("READY", ls.getsockname()[1], flush=True)
def serve(c):
    try:
        s = ctx.wrap_socket(c, server_side=True)
        while True:
            d = s.recv(65536)
            if not d:
                break
            s.sendall(d)
    except OSError:
        pass
    finally:
        c.close()
while True:
    c, _ = ls.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
# the client, under libssa: echoes 64 KiB blocks until something fails
cat >"$WORK/bulk_cli.py" <<'PY'
import errno, os, socket, sys
IPPROTO_TLS, TLS_REMOTE_HOSTNAME = 205, 85
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_TLS)
s.setsockopt(IPPROTO_TLS, TLS_REMOTE_HOSTNAME, b"localhost\0")
s.connect(("127.0.0.1", int(sys.argv[1])))
s.settimeout(15)
buf, total, said = os.urandom(65536), 0, False
try:
    while True:
        s.sendall(buf)
        got = b""
        while len(got) < len(buf):
            d = s.recv(len(buf) - len(got))
            if not d:
                print("EOF after", total, flush=True)
                sys.exit(2)
            got += d
        if got != buf:
            print("CORRUPT after", total, flush=True)
            sys.exit(4)
        total += len(buf)
        if total >= 1 << 20 and not said:
            print("STREAMING", flush=True)
            said = True
except socket.timeout:
    print("HANG after", total, flush=True)
    sys.exit(3)
except OSError as e:
    print("ERR", errno.errorcode.get(e.errno, e.errno), "after", total, flush=True)
    sys.exit(1)
PY
# plain-OpenSSL client of the SSA server: one info line
cat >"$WORK/info_cli.py" <<'PY'
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5) as c:
    with ctx.wrap_socket(c, server_hostname="localhost") as s:
        s.settimeout(5)
        print(s.recv(1024).decode().strip())
PY
python3 "$WORK/echo_srv.py" "$PKI/server-chain.crt" "$PKI/server.key" >"$WORK/echo.out" 2>"$WORK/echo.log" &
PIDS+=("$!")
wait_ready "$WORK/echo.out" EPORT || diag "echo server did not start: $(cat "$WORK/echo.log")"
LD_PRELOAD=$(ssa_preload) ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0} \
	"$B/tests/tls_server" -c "$PKI/server-chain.crt" -k "$PKI/server.key" -p 0 info \
	>"$WORK/srv.out" 2>"$WORK/srv.log" </dev/null &
SRV_PID=$!
PIDS+=("$SRV_PID")
wait_ready "$WORK/srv.out" SPORT || diag "tls_server did not start: $(cat "$WORK/srv.log")"
info() { timeout 10 python3 "$WORK/info_cli.py" "$SPORT" "$PKI/ca.crt" 2>&1; }
like "$(info)" "^sni=localhost .*version=0x0304" "control: the SSA server serves a client before the kill"
probe() { ssa timeout 10 "$B/tests/policy_probe" -n localhost 127.0.0.1 "$EPORT" 2>&1; }
like "$(probe)" "OK version=" "control: an SSA client reaches the echo server before the kill"
sup_fds=$(nfd "$SSAD_PID") # with the SSA server's stored listener

# ---- 3. the worker SIGKILLed in the middle of a bulk transfer --------------------
ssa python3 "$WORK/bulk_cli.py" "$EPORT" >"$WORK/bulk.out" 2>"$WORK/bulk.err" &
BULK=$!
PIDS+=("$BULK")
for _ in $(seq 100); do grep -q STREAMING "$WORK/bulk.out" && break; sleep 0.1; done
grep -q STREAMING "$WORK/bulk.out"
ok $? "control: the client streams through ssad (1 MiB echoed) before the kill"
kill -KILL "$W"
t0=$(now_ms)
out=$(probe)
t1=$(now_ms)
ms=$((t1 - t0))
diag "SIGKILL of the worker to a new client's completed handshake through the new worker: $ms ms"
like "$out" "OK version=" "a new client connection is served after the worker's death"
ok "$([ "$ms" -le 1000 ] && echo 0 || echo 1)" "... within a second of the kill ($ms ms)"
while kill -0 "$BULK" 2>/dev/null && [ $(($(now_ms) - t0)) -lt 8000 ]; do sleep 0.05; done
if kill -0 "$BULK" 2>/dev/null; then
	fail "the streaming application's call returns within 8 s of the kill (still blocked)"
	kill -KILL "$BULK" 2>/dev/null
else
	pass "the streaming application's call returns within 8 s of the kill ($(($(now_ms) - t0)) ms at most)"
fi
wait "$BULK" 2>/dev/null
forget_pid "$BULK"
like "$(cat "$WORK/bulk.out")" "^STREAMING
ERR (ECONNRESET|EPROTO) " "... with ECONNRESET or EPROTO, not a clean end ($(tail -n 1 "$WORK/bulk.out"))"
[ -s "$WORK/bulk.err" ] && diag "client stderr: $(head -c 300 "$WORK/bulk.err")"
is "$(comm "$SSAD_PID") $(status PPid "$SSAD_PID")" "ssad $$" "the supervisor lives on, with the same pid ($SSAD_PID)"
W2=$(ssad_worker_pid)
ok "$([ -n "$W2" ] && [ "$W2" != "$W" ] && ! kill -0 "$W" 2>/dev/null && echo 0 || echo 1)" \
	"a new worker (${W2:-none}) replaces the dead one ($W)"
like "$(grep 'supervisor: the worker' "$WORK/ssad.log")" "the worker was killed by signal 9; its connections are lost, a new worker starts now" \
	"the supervisor logs the death and the restart"
gone "$K" 2
ok $? "the dead worker's keeper ($K) goes too"
K2=$(keeper_of "$W2")
ok "$([ -n "$K2" ] && [ "$K2" != "$K" ] && echo 0 || echo 1)" "the new worker has its own keeper (${K2:-none})"
is "$(nfd "$SSAD_PID")" "$sup_fds" "the supervisor holds as many descriptors as before ($sup_fds: no channel or stored listener leaked)"

# ---- 4. the SSA server's listener outlives the worker ----------------------------
out=$(info)
like "$out" "^sni=localhost .*version=0x0304" "the SSA server listening before the kill serves a new client through the new worker"
[[ $out =~ ^sni= ]] || diag "tls_server stderr: $(head -c 400 "$WORK/srv.log"); ssad: $(grep -i 'hand-over\|listener' "$WORK/ssad.log" | tail -n 3)"
is "$(grep -c '^ACCEPT ' "$WORK/srv.out")" 2 "... accepted by the same listener (2 ACCEPT lines)"
ok "$(kill -0 "$SRV_PID" 2>/dev/null && [ "$(grep -c '^READY ' "$WORK/srv.out")" = 1 ] && echo 0 || echo 1)" \
	"... without listening again (the same process, one READY line)"
SSAD_WPID=$W2

# ---- 5. SIGHUP: the worker reloads ----------------------------------------------
n0=$(grep -c 'configuration reloaded' "$WORK/ssad.log")
kill -HUP "$SSAD_PID"
for _ in $(seq 50); do [ "$(grep -c 'configuration reloaded' "$WORK/ssad.log")" -gt "$n0" ] && break; sleep 0.1; done
is "$(($(grep -c 'configuration reloaded' "$WORK/ssad.log") - n0))" 1 "SIGHUP to the supervisor: the worker logs 'configuration reloaded' (once)"
ssad_same_worker
ok $? "... and it is the same worker ($SSAD_WPID)"
like "$(probe)" "OK version=" "... which still serves"

# ---- 6. a bad configuration at start ---------------------------------------------
printf '[global]\ntrust-store = %s/no-such-trust.pem\n' "$WORK" >"$WORK/bad.conf"
ok "$([ -n "$(ssad_procs "$SSA_SOCKET")" ] && echo 0 || echo 1)" \
	"control: the search for ssad's processes finds the running one's ($(ssad_procs "$SSA_SOCKET"))"
t0=$(now_ms)
timeout 10 "$B/sbin/ssad" --config "$WORK/bad.conf" --socket "$WORK/bad.sock" >"$WORK/bad.log" 2>&1
rc=$?
ms=$(($(now_ms) - t0))
is "$rc" 1 "a bad configuration: ssad exits with status 1"
ok "$([ "$ms" -lt 5000 ] && echo 0 || echo 1)" "... promptly ($ms ms)"
sleep 0.2
is "$(ssad_procs "$WORK/bad.sock")" "" "... and leaves no worker behind"
like "$(cat "$WORK/bad.log")" "no-such-trust.pem" "... after its worker said why"
like "$(cat "$WORK/bad.log")" "supervisor: the worker exited with status 1 before it was ready" "... and the supervisor why it stops"
# The supervisor binds the control socket before the worker reads the
# configuration: it must remove it when it gives up.
ok "$([ -e "$WORK/bad.sock" ] && echo 1 || echo 0)" "... and removes the control socket file it made"

# ---- 7. SIGTERM to the supervisor stops everything ------------------------------
W=$SSAD_WPID K=$(keeper_of "$SSAD_WPID")
stop_ssad
is "$?" 0 "SIGTERM to the supervisor: ssad exits with status 0"
ok "$(kill -0 "$W" 2>/dev/null || kill -0 "${K:-0}" 2>/dev/null && echo 1 || echo 0)" \
	"... the worker ($W) and the keeper (${K:-none}) are gone"
ok "$([ -e "$SSA_SOCKET" ] && echo 1 || echo 0)" "... and the control socket file is removed"

# ---- 8. SIGKILL of the supervisor -----------------------------------------------
start_ssad || { fail "ssad starts again"; done_testing; }
ssad_serving || diag "ssactl status did not answer"
W=$SSAD_WPID K=$(keeper_of "$SSAD_WPID")
ok "$([ -n "$W" ] && [ -n "$K" ] && kill -0 "$W" && kill -0 "$K" && echo 0 || echo 1)" \
	"control: a new ssad runs a worker ($W) and a keeper (${K:-none})"
kill -KILL "$SSAD_PID"
wait "$SSAD_PID" 2>/dev/null
forget_pid "$SSAD_PID"
gone "$W" 2
ok $? "SIGKILL of the supervisor takes the worker down (PR_SET_PDEATHSIG)"
gone "${K:-0}" 2
ok $? "... and the keeper"
# ---- 9. the service manager hears the supervisor only -------------------------
# A stand-in for systemd's notify socket that writes down each datagram with
# its sender's pid (SO_PASSCRED) and how many descriptors came with it.
# systemd takes states only from the main pid (NotifyAccess=main): that is
# the supervisor, which relays what its workers say.
cat >"$WORK/notify.py" <<'PY'
import array, os, socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
print("READY 0", flush=True)
while True:
    m, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(12) + socket.CMSG_SPACE(4 * 253))
    pid, nfds = 0, 0
    for lvl, typ, data in anc:
        if lvl == socket.SOL_SOCKET and typ == socket.SCM_CREDENTIALS:
            pid = struct.unpack("iII", data[:12])[0]
        elif lvl == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
            fds = array.array("i", data[: len(data) - len(data) % 4])
            nfds += len(fds)
            for fd in fds:
                os.close(fd)
    print("pid=%d fds=%d %s" % (pid, nfds, m.decode().replace("\n", "|")), flush=True)
PY
python3 "$WORK/notify.py" "$WORK/notify.sock" >"$WORK/notify.out" 2>&1 &
PIDS+=("$!")
wait_ready "$WORK/notify.out" _np || diag "notify receiver did not start: $(cat "$WORK/notify.out")"
NOTIFY_SOCKET=$WORK/notify.sock start_ssad || { fail "ssad starts under a notify socket"; done_testing; }
W=$SSAD_WPID
# wait_notify REGEX N: until N lines match REGEX (5 s)
wait_notify() { for _ in $(seq 50); do [ "$(grep -cE "$1" "$WORK/notify.out")" -ge "$2" ] && return 0; sleep 0.1; done; return 1; }
wait_notify 'READY=1' 1
is "$(grep 'READY=1' "$WORK/notify.out" | cut -d' ' -f1 | tr '\n' ' ')" "pid=$SSAD_PID " \
	"READY=1 reaches the notify socket once, sent by the supervisor (the main pid)"
SSA_SOCKET=$SSA_SOCKET LD_PRELOAD=$(ssa_preload) ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0} \
	"$B/tests/tls_server" -c "$PKI/server-chain.crt" -k "$PKI/server.key" -p 0 info \
	>"$WORK/srv2.out" 2>"$WORK/srv2.log" </dev/null &
PIDS+=("$!")
wait_ready "$WORK/srv2.out" SPORT || diag "tls_server did not start: $(cat "$WORK/srv2.log")"
wait_notify '^pid=[0-9]+ fds=[1-9][0-9]* FDSTORE=1[|]FDNAME=' 1
like "$(grep 'FDSTORE=1' "$WORK/notify.out" | head -n 1)" "^pid=$SSAD_PID fds=[1-9][0-9]* FDSTORE=1[|]FDNAME=[!-9;-~]+\$" \
	"an SSA server's listener is stored with the service manager too: FDSTORE=1, a name, descriptors, from the supervisor"
kill -KILL "$W"
wait_notify 'READY=1' 2
W2=$(ssad_worker_pid)
is "$(grep 'READY=1' "$WORK/notify.out" | cut -d' ' -f1 | tr '\n' ' ')" "pid=$SSAD_PID pid=$SSAD_PID " \
	"a new worker's READY=1 is relayed by the supervisor as well"
# SIGTERM to the worker alone: it says STOPPING=1 to the supervisor, which
# replaces it; the service is not stopping, so systemd must not hear it.
kill -TERM "${W2:-0}"
wait_notify 'READY=1' 3
W3=$(ssad_worker_pid)
is "$(grep -c 'READY=1' "$WORK/notify.out")/$(grep -c 'STOPPING=1' "$WORK/notify.out")" 3/0 \
	"a worker stopped alone is replaced (READY=1 again) and its STOPPING=1 is not relayed"
stop_ssad
wait_notify 'STOPPING=1' 1
like "$(grep 'STOPPING=1' "$WORK/notify.out" | head -n 1)" "^pid=$SSAD_PID " "STOPPING=1 on SIGTERM, from the supervisor"
is "$(grep -cvE "^(READY 0|pid=$SSAD_PID )" "$WORK/notify.out")" 0 \
	"no datagram from any other process (the workers $W, ${W2:-none} and ${W3:-none} talk to the supervisor only)"
diag "notify socket got: $(sed -n '2,$p' "$WORK/notify.out" | cut -c1-60 | tr '\n' ';')"

# ---- 10. workers that cannot start -----------------------------------------------
# After a worker was ready, its successors that die before they are ready
# (here: the configuration broken, then the worker killed) are retried once
# a second; a fixed configuration lets the next one serve; SSA_SUP_MAX_EARLY
# (10) such deaths in a row stop the supervisor with status 1.
early() { grep -c 'a new worker starts in a second' "$WORK/ssad.log"; }
: >"$WORK/ssad.log"
start_ssad "log-level = info" || { fail "ssad starts (early deaths)"; done_testing; }
ssad_serving || diag "ssactl status did not answer"
cp "$WORK/ssa.conf" "$WORK/ssa.conf.good"
sed -i "s|^trust-store = .*|trust-store = $WORK/no-such-trust.pem|" "$WORK/ssa.conf"
sleep 1.1 # the worker has lived over a second: its death alone is not an early one
kill -KILL "$SSAD_WPID"
sleep 3.5
n=$(early)
diag "early deaths in 3.5 s after the kill: $n"
ok "$([ "$n" -ge 2 ] && [ "$n" -le 4 ] && kill -0 "$SSAD_PID" 2>/dev/null && echo 0 || echo 1)" \
	"a worker that cannot start is retried about once a second ($n retries in 3.5 s), the supervisor stays"
cp "$WORK/ssa.conf.good" "$WORK/ssa.conf"
t0=$(now_ms)
out=
for _ in $(seq 30); do
	out=$(probe)
	[[ $out =~ OK\ version= ]] && break
	sleep 0.1
done
like "$out" "OK version=" "once the configuration is fixed, the next worker serves ($(($(now_ms) - t0)) ms)"
SSAD_WPID=$(ssad_worker_pid)
sed -i "s|^trust-store = .*|trust-store = $WORK/no-such-trust.pem|" "$WORK/ssa.conf"
sleep 1.1
kill -KILL "$SSAD_WPID"
t0=$(now_ms)
for _ in $(seq 300); do kill -0 "$SSAD_PID" 2>/dev/null || break; sleep 0.1; done
wait "$SSAD_PID"
rc=$?
forget_pid "$SSAD_PID"
ms=$(($(now_ms) - t0))
is "$rc" 1 "10 workers in a row that cannot start stop the supervisor, status 1 (after $ms ms)"
like "$(grep 'in a row lived under a second' "$WORK/ssad.log")" "10 workers in a row lived under a second: stopping" "... and it says why"
cp "$WORK/ssa.conf.good" "$WORK/ssa.conf"

if grep -qE 'ERROR: AddressSanitizer|runtime error|LeakSanitizer' "$WORK/ssad.log" "$WORK/bad.log"; then
	fail "no sanitizer report from the supervisor or its workers"
	grep -E -A 20 'ERROR: AddressSanitizer|runtime error|LeakSanitizer' "$WORK/ssad.log" "$WORK/bad.log" |
		head -n 40 | sed 's/^/#   /'
else
	pass "no sanitizer report from the supervisor or its workers"
fi
done_testing
