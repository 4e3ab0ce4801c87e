#!/usr/bin/env bash
# Restarts keep the listeners (ssad(8) "Restarts"): ssad runs under
# scripts/ssa-supervise, which implements systemd's descriptor store
# (FDSTORE=1, $LISTEN_FDS). Two SSA servers (tls_server under libssa) stay up
# while ssad is stopped (SIGTERM) or killed (SIGKILL) and started again ten
# times, under steady client load; each restart's failed connections are
# counted and printed. The servers are never restarted and accept after
# every restart; a third listener (Python through libssa) keeps its TLS_ID,
# peer authentication and ALPN list; a proxied connection open across a
# restart ends with ECONNRESET in the server, not a hang. The stored state is a sealed memfd
# of mode 0600; forged or malformed hand-overs are refused with a logged
# reason and ssad starts anyway.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
command -v openssl >/dev/null || skip_all "no openssl"
RESTARTS=10
plan $((RESTARTS + 28))

pki
conf=$WORK/ssa.conf
printf '[global]\ntrust-store = %s/trust.pem\nhandshake-timeout = 2s\n' "$PKI" >"$conf"
export SSA_SOCKET=$WORK/ssad.sock
PIDFILE=$WORK/ssad.pid
"$TOP/scripts/ssa-supervise" --pidfile "$PIDFILE" -- \
	"$B/sbin/ssad" --config "$conf" --socket "$SSA_SOCKET" 2>>"$WORK/ssad.log" &
SUP=$!
PIDS+=("$SUP")
readies() { cat "$WORK/ssad.log" 2>/dev/null | grep -c 'is ready'; }
wait_ready_n() { # wait_ready_n N: until the supervisor saw N READY=1 (10 s)
	local i
	for i in $(seq 200); do
		[ "$(readies)" -ge "$1" ] && return 0
		sleep 0.05
	done
	return 1
}
wait_ready_n 1 || { fail "ssad started under ssa-supervise"; sed 's/^/#   /' "$WORK/ssad.log"; done_testing; }

start_srv() { # start_srv NAME MODE: tls_server under libssa; sets port, srv_pid
	LD_PRELOAD=$(ssa_preload) ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0} \
		"$B/tests/tls_server" -c "$PKI/server-chain.crt" -k "$PKI/server.key" -p 0 "$2" \
		>"$WORK/$1.out" 2>"$WORK/$1.log" </dev/null &
	srv_pid=$!
	PIDS+=("$srv_pid")
	wait_ready "$WORK/$1.out" port
}
start_srv info info || { fail "info server started"; done_testing; }
INFO_PID=$srv_pid INFO_PORT=$port
start_srv echo echo || { fail "echo server started"; done_testing; }
ECHO_PID=$srv_pid ECHO_PORT=$port
accepts() { grep -c '^ACCEPT ' "$WORK/info.out"; }
mono() { python3 -c 'import time; print("%.3f" % time.monotonic())'; }

# A proxied connection held open across the first restart.
python3 - "$ECHO_PORT" "$PKI/ca.crt" >"$WORK/held.out" 2>&1 <<'PY' &
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1]))), server_hostname="localhost")
s.sendall(b"ping"); assert s.recv(4) == b"ping"
print("UP", flush=True)
s.settimeout(20)
try:
    print("END", "eof" if s.recv(10) == b"" else "data", flush=True)
except Exception as e:
    print("END", type(e).__name__, flush=True)
PY
HELD=$!
PIDS+=("$HELD")
for _ in $(seq 100); do grep -q UP "$WORK/held.out" 2>/dev/null && break; sleep 0.05; done

# A listener with settings (ALPN, peer authentication), asked about after
# the restarts: the new ssad knows it by its registry key, with its settings.
mkfifo "$WORK/py.in"
LD_PRELOAD=$(ssa_preload) ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0} python3 \
	"$TOP/tests/py/restart_listener.py" "$PKI/server-chain.crt" "$PKI/server.key" \
	<"$WORK/py.in" >"$WORK/py.out" 2>"$WORK/py.log" &
PIDS+=("$!")
exec 7>"$WORK/py.in"
for _ in $(seq 100); do grep -q '^ID' "$WORK/py.out" 2>/dev/null && break; sleep 0.05; done

LOAD_OUT=$WORK/load.txt STOP=$WORK/stop
python3 "$TOP/tests/py/restart_load.py" 127.0.0.1 "$INFO_PORT" "$PKI/ca.crt" "$LOAD_OUT" "$STOP" 2 0.02 &
LOAD=$!
PIDS+=("$LOAD")
sleep 1
: >"$WORK/kills.txt"
for i in $(seq "$RESTARTS"); do
	sig=TERM
	[ $((i % 2)) = 0 ] && sig=KILL
	old=$(cat "$PIDFILE")
	echo "$(mono) $sig" >>"$WORK/kills.txt"
	kill -s "$sig" "$old"
	wait_ready_n $((i + 1))
	before=$(accepts)
	ok=1
	for _ in $(seq 100); do
		[ "$(accepts)" -gt "$before" ] && { ok=0; break; }
		sleep 0.05
	done
	ok $ok "restart $i (SIG$sig): new ssad pid $(cat "$PIDFILE"), the server accepts again"
	sleep 1
done
echo "$(mono) END" >>"$WORK/kills.txt"
touch "$STOP"
wait "$LOAD"

# Per restart: attempts that ended from the signal until the next one.
report=$(python3 - "$WORK/kills.txt" "$LOAD_OUT" <<'PY'
import sys
kills = [l.split() for l in open(sys.argv[1])]
att = [l.split() for l in open(sys.argv[2])]
total_fail = 0
oks_all = sorted(float(a[1]) for a in att if a[2] == "ok")
# An attempt counts where it ended: one cut by a restart belongs to it.
before = [a for a in att if float(a[1]) < float(kills[0][0])]
bf = [a for a in before if a[2] == "fail"]
print("before the first restart: %d connections, %d failed%s" % (len(before), len(bf), (" [" + ", ".join(sorted(set(x[3] for x in bf)))[:150] + "]") if bf else ""))
for i in range(len(kills) - 1):
    t0, t1 = float(kills[i][0]), float(kills[i + 1][0])
    w = [a for a in att if t0 <= float(a[1]) < t1]
    f = [a for a in w if a[2] == "fail"]
    # the clients' view of the outage: the longest wait between two
    # successful connections around the restart
    gap = max((b - a for a, b in zip(oks_all, oks_all[1:]) if b >= t0 and a < t1), default=0)
    total_fail += len(f)
    print("restart %d (SIG%s): %d connections, %d failed, longest gap between successes %.2f s%s"
          % (i + 1, kills[i][1], len(w), len(f), gap,
             (" [" + ", ".join(sorted(set(x[3] for x in f)))[:150] + "]") if f else ""))
print("TOTAL %d %d" % (len(att), total_fail))
PY
)
while IFS= read -r l; do diag "$l"; done <<<"$report"
total=$(sed -n 's/^TOTAL \([0-9]*\) .*/\1/p' <<<"$report")
failed=$(sed -n 's/^TOTAL [0-9]* \([0-9]*\)/\1/p' <<<"$report")
ok $([ "${total:-0}" -gt 100 ]; echo $?) "steady load: $total connections in all"
# In-flight handshakes die with ssad; new connections wait in the kernel's
# queue. At most the clients' parallelism (2) per restart may fail.
ok $([ "${failed:-999}" -le $((2 * RESTARTS)) ]; echo $?) "$failed failed connections in $RESTARTS restarts (at most 2 each)"

ok $(kill -0 "$INFO_PID" 2>/dev/null && kill -0 "$ECHO_PID" 2>/dev/null; echo $?) "both servers still run: never restarted"
is "$(grep -c '^READY' "$WORK/info.out")" 1 "the server listened once"
is "$(grep -c 'accept' "$WORK/info.log")" 0 "the server's accept() never failed"
sed 's/^/#   server: /' "$WORK/info.log" | head -n 5
end=$(timeout 5 python3 -c 'import sys; print(open(sys.argv[1]).read())' "$WORK/held.out" | sed -n 's/^END //p')
is "$end" "eof" "a proxied connection open across a restart ends (peer sees the close)"
like "$(cat "$WORK/echo.log")" "read: ECONNRESET" "... and the server reads ECONNRESET on it"
like "$(grep 'listeners taken over' "$WORK/ssad.log" | tail -n 1)" "3 of 3 listeners taken over" "the last ssad took all three listeners over"

echo go >&7
for _ in $(seq 100); do grep -q '^AUTH' "$WORK/py.out" 2>/dev/null && break; sleep 0.05; done
py_port=$(sed -n 's/^PORT //p' "$WORK/py.out")
got=$(echo | timeout 10 openssl s_client -connect "127.0.0.1:$py_port" -alpn h2 \
	-CAfile "$PKI/ca.crt" 2>&1)
for _ in $(seq 100); do grep -q '^ALPN' "$WORK/py.out" 2>/dev/null && break; sleep 0.05; done
ids=$(sed -n 's/^ID //p' "$WORK/py.out" | sort -u | wc -l)
ok $([ "$ids" = 1 ] && [ "$(grep -c '^ID' "$WORK/py.out")" = 2 ]; echo $?) \
	"after 10 restarts the listener's TLS_ID is the same (the new ssad knows it)"
is "$(sed -n 's/^AUTH //p' "$WORK/py.out")" 1 "... and its TLS_REQUEST_PEER_AUTH"
is "$(sed -n 's/^ALPN //p' "$WORK/py.out")" h2 "... and it serves with its ALPN list (h2 chosen)"
like "$got" "CertificateRequest|Acceptable client certificate CA names|Requested Signature Algorithms" \
	"... and requests a client certificate"
[ -s "$WORK/py.log" ] && sed 's/^/#   py: /' "$WORK/py.log"

# The state in the store: a sealed memfd, the worker's user's (ssad(8)
# PROCESSES), mode 0600.
memfd=
for f in /proc/"$SUP"/fd/*; do
	case $(readlink "$f") in /memfd:ssa-state*) memfd=$f ;; esac
done
wuid=$(id -u ssad 2>/dev/null || echo 65533)
is "$(stat -L -c '%a %u' "$memfd" 2>/dev/null)" "600 $wuid" "the stored state is mode 0600, owned by the worker's user ($wuid)"
seals=$(python3 -c 'import fcntl,os,sys; fd=os.open(sys.argv[1], os.O_RDONLY); print(fcntl.fcntl(fd, 1034) & 14)' "$memfd")
is "$seals" 14 "... and sealed (no write, grow or shrink)"
cp "$memfd" "$WORK/state.bin"
if id nobody >/dev/null 2>&1; then
	runuser -u nobody -- cat "$memfd" >/dev/null 2>&1
	ok $([ $? -ne 0 ]; echo $?) "another user cannot read it"
else
	pass "# SKIP no user nobody"
fi

# The listeners' keys in the store: sealed by the keeper under the
# hand-over key (ssad(8) PROCESSES), which the supervisor stored for itself
# and no worker holds; the servers accepting after every restart above,
# SIGKILL of the supervisor included, are the positive control.
kmemfds=() hk=
for f in /proc/"$SUP"/fd/*; do
	case $(readlink "$f") in
	/memfd:ssa-key*) kmemfds+=("$f") ;;
	/memfd:ssa-handover-key*) hk=$f ;;
	esac
done
sealed=0
for f in "${kmemfds[@]}"; do
	[ "$(head -c 8 "$f")" = SSAKEY1 ] && ! grep -q 'PRIVATE KEY' "$f" && sealed=$((sealed + 1))
done
ok $([ "${#kmemfds[@]}" -ge 2 ] && [ "$sealed" = "${#kmemfds[@]}" ]; echo $?) \
	"the ${#kmemfds[@]} stored listener keys are sealed (SSAKEY1), no PEM in the clear"
is "$(stat -L -c '%a %u %s' "$hk" 2>/dev/null)" "400 0 32" "the hand-over key is in the store: 32 bytes, root's, mode 0400"
wk=$(ssad_worker_pid "$(cat "$PIDFILE")")
held=$(for f in /proc/"$wk"/fd/*; do readlink "$f"; done 2>/dev/null | grep -c 'memfd:ssa-handover-key')
is "$held" 0 "the worker (pid $wk) holds no descriptor of the hand-over key"
# ... nor its bytes in memory (wiped when it was forked from the
# supervisor, which holds them: the positive control)
scan=$(python3 - "$TOP/tests" "$hk" "$wk" "$(cat "$PIDFILE")" <<'PY' 2>&1
import sys
sys.path.insert(0, sys.argv[1])
import keyscan
key = open(sys.argv[2], "rb").read()
def found(pid):
    return any(key in chunk for chunk in keyscan.memory(pid))
print("worker=%s supervisor=%s" % (found(sys.argv[3]), found(sys.argv[4])))
PY
)
is "$scan" "worker=False supervisor=True" "the hand-over key's bytes are in the supervisor's memory, not in the worker's"

# Forged hand-overs: refused with a reason, ssad starts anyway.
forged() { # forged MODE REGEX
	local sock=$WORK/forged-$1.sock log=$WORK/forged-$1.log p i up=1
	python3 "$TOP/tests/py/forge_listen_fds.py" "$1" "$WORK/state.bin" -- \
		"$B/sbin/ssad" --config "$conf" --socket "$sock" 2>"$log" &
	p=$!
	for i in $(seq 100); do [ -S "$sock" ] && { up=0; break; }; sleep 0.05; done
	sleep 0.2
	kill -0 "$p" 2>/dev/null || up=1
	kill -TERM "$p" 2>/dev/null
	wait "$p"
	local rc=$?
	ok $([ $up = 0 ] && [ $rc = 0 ] && grep -Eq "$2" "$log"; echo $?) \
		"forged ($1): refused ($(grep -Eo "$2.*" "$log" | head -n 1)), ssad runs and exits cleanly"
}
forged garbage 'state ssa-state-1 refused: not a hand-over state'
forged truncated 'state ssa-state-1 refused: .*(runs past|truncated)'
forged unsealed 'state ssa-state-1 refused: not a sealed memfd'
forged mode 'state ssa-state-1 refused: .*not ours and 0600'
forged names 'hand-over: LISTEN_FDNAMES does not name 2 descriptors'
forged wrongkey 'dropped: its application socket is gone, or not the one named'
forged rightkey 'dropped: listen: Invalid argument: no certificate'

kill -TERM "$SUP"
wait "$SUP"
ok $? "the supervisor stops cleanly"
ok $(! grep -Eq 'Sanitizer|runtime error' "$WORK"/ssad.log "$WORK"/forged-*.log; echo $?) "no sanitizer report from any ssad"
done_testing
