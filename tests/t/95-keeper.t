#!/usr/bin/env bash
# The key keeper (issue 14, item 1): private keys live only in a separate,
# sandboxed process ("ssad-keeper"), never in the ssad process that reads
# network bytes. Checked while ssad serves: the keeper's credentials,
# capabilities, no-new-privileges and seccomp mode from /proc, for each of
# its threads (one per CPU, at most 8, each with its own channel; each has
# served private operations after 64 handshakes, 8 at a time); handshakes
# with every kind of identity (config-granted server keys EC and RSA,
# TLS 1.3 RSA-PSS and TLS 1.2 RSA key exchange, a config-granted client key
# against s_server -Verify, application-set key files); then a scan of
# ssad's memory (its supervisor's and its worker's) finds none of the keys'
# secret numbers while the same scan of the keeper finds them (the control that proves the scan works); a
# SIGKILLed keeper is replaced within a second and the next handshake with
# a configured identity works, while a listener still holding a key of the
# dead keeper fails its handshake with a log line. A keeper started alone
# with two channels (tests/py/keeper_channels.py) takes STASH, UNSTASH and
# HANDOVER_KEY only on the last (the supervisor's), refuses them on the
# first (a worker's) with EPERM, takes the hand-over key once, and loads a
# stashed key by ticket for its uid only (EACCES for another, which uses
# the ticket up).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root (reads another user's /proc/PID/mem)"
plan 55
pki

for d in gec grsa gcli plain; do mkdir -p "$WORK/$d"; done
cp "$B/tests/policy_probe" "$WORK/gec/"
cp "$B/tests/policy_probe" "$WORK/grsa/"
cp "$B/tests/tls_probe" "$WORK/gcli/"
cp "$B/tests/tls_server" "$WORK/plain/"

start_ssad "ciphers = ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:AES128-GCM-SHA256" \
	"[app \"gec\"]" "match-exe = $WORK/gec/policy_probe" "match-user = root" \
	"certificate = $PKI/server-chain.crt" "private-key = $PKI/server.key" \
	"[app \"grsa\"]" "match-exe = $WORK/grsa/policy_probe" "match-user = root" \
	"certificate = $PKI/server-rsa-chain.crt" "private-key = $PKI/server-rsa.key" \
	"[app \"gcli\"]" "match-exe = $WORK/gcli/tls_probe" "match-user = root" \
	"certificate = $PKI/client-chain.crt" "private-key = $PKI/client.key" ||
	{ fail "ssad starts"; done_testing; }

# keeper_pid: the newest ssad-keeper child of ssad's supervisor (empty if none)
keeper_pid() { pgrep -n -P "$SSAD_PID" -x ssad-keeper; } # the supervisor starts it
# status FIELD PID: a field of /proc/PID/status (first value)
status() { awk -v f="$1:" '$1 == f { print $2; exit }' "/proc/$2/status"; }

# ---- 1. the keeper and its confinement ------------------------------------
K=$(keeper_pid)
ok "$([ -n "$K" ] && echo 0 || echo 1)" "a key keeper (ssad-keeper) runs next to ssad"
K=${K:-0}
is "$(status Uid "$K")" 65534 "the keeper runs as nobody (uid 65534), not root"
is "$(status Gid "$K")" 65534 "... and nogroup (gid 65534)"
is "$(status CapEff "$K")" 0000000000000000 "no effective capability"
is "$(status CapPrm "$K")" 0000000000000000 "no permitted capability"
is "$(status NoNewPrivs "$K")" 1 "no new privileges"
is "$(status Seccomp "$K")" 2 "a seccomp filter (mode 2)"
is "$(status PPid "$K")" "$SSAD_PID" "the keeper is a child of ssad's supervisor, which starts one for each worker"
is "$(status Seccomp_filters "$K")" "$(($(status Seccomp_filters "$SSAD_PID") + 1))" \
	"its own filter on top of the one it inherits from the supervisor (98-ssad-seccomp: ssad's deny list)"
like "$(ls -l /proc/"$K"/fd 2>&1)" "socket:" "the keeper holds its socket to ssad"
# one serving thread (and channel) per CPU for the worker, at most 7, and
# one for the supervisor (it loads the configuration's keys): each sandboxed
NCH=$(nproc); [ "$NCH" -gt 7 ] && NCH=7
NCH=$((NCH + 1))
is "$(ls /proc/"$K"/task | wc -l)" "$NCH" "the keeper runs one thread per CPU, at most 7, and one for the supervisor ($NCH)"
is "$(ls -l /proc/"$K"/fd 2>/dev/null | grep -c socket:)" "$NCH" "... each with its own channel (the worker's, the supervisor's)"
# the configuration's key files reach the keeper from the supervisor (the
# supervisor refuses them to the worker: tests/unit/test_cfg_access.c); here
# only that the worker keeps none open
ok "$(ls -l /proc/"$SSAD_WPID"/fd 2>/dev/null | grep -c '\.key' | grep -qx 0 && echo 0 || echo 1)" \
	"the worker holds no descriptor of a key file"
bad=
for t in /proc/"$K"/task/*; do
	[ "$(status Seccomp "$K/task/${t##*/}")" = 2 ] && [ "$(status NoNewPrivs "$K/task/${t##*/}")" = 1 ] &&
		[ "$(status CapEff "$K/task/${t##*/}")" = 0000000000000000 ] || bad+=" ${t##*/}"
done
is "${bad:-none}" none "every keeper thread has the seccomp filter, no new privileges and no capability"

# ---- 2. handshakes with every identity kind -------------------------------
# bg_server NAME CMD...: a server in the background; sets $port from READY
bg_server() {
	local name=$1 i
	shift
	"$@" >"$WORK/$name.out" 2>&1 </dev/null &
	PIDS+=("$!")
	port=
	for i in $(seq 50); do
		port=$(sed -n 's/^READY //p' "$WORK/$name.out")
		[ -n "$port" ] && return 0
		sleep 0.1
	done
	sed 's/^/#   /' "$WORK/$name.out"
	return 1
}
# s_client PORT ARGS...: one handshake; prints s_client's -brief summary
# ("CONNECTION ESTABLISHED" only once the handshake completed)
s_client() {
	local p=$1
	shift
	echo Q | timeout 10 openssl s_client -brief -connect "127.0.0.1:$p" -CAfile "$PKI/ca.crt" \
		-verify_return_error -servername localhost "$@" 2>&1
}
# todo_like GOT REGEX DESCRIPTION REASON: a known gap (TAP TODO)
todo_like() {
	_n=$((_n + 1))
	if [[ $1 =~ $2 ]]; then echo "ok $_n - $3 # TODO $4"; else echo "not ok $_n - $3 # TODO $4"; fi
}
RSAKX="TLS 1.2 RSA key exchange with a keeper-held key: libssl 3.0 sets RSA_PKCS1_WITH_TLS_PADDING, which the legacy RSA_METHOD path refuses (a provider is needed); not in the default policy (ECDHE only)"

bg_server gec ssa "$WORK/gec/policy_probe" -l -m 100 127.0.0.1 0
PEC=$port
out=$(s_client "$PEC" -tls1_3)
like "$out" "CONNECTION ESTABLISHED.*Signature type: ECDSA" "granted EC server identity: TLS 1.3 handshake signed by the keeper (ECDSA)"
like "$out" "Verification: OK" "... and verified"
out=$(s_client "$PEC" -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256)
like "$out" "CONNECTION ESTABLISHED.*Ciphersuite: ECDHE-ECDSA-AES128-GCM-SHA256" "granted EC server identity: TLS 1.2 ECDHE-ECDSA"

bg_server grsa ssa "$WORK/grsa/policy_probe" -l -m 100 127.0.0.1 0
PRSA=$port
out=$(s_client "$PRSA" -tls1_3 -sigalgs rsa_pss_rsae_sha256)
like "$out" "CONNECTION ESTABLISHED.*Signature type: RSA-PSS" "granted RSA server identity: TLS 1.3 RSA-PSS signature by the keeper"
out=$(s_client "$PRSA" -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256 -sigalgs RSA+SHA256)
like "$out" "CONNECTION ESTABLISHED.*Signature type: RSA[^-]" "granted RSA server identity: TLS 1.2 PKCS#1 v1.5 signature"
# RSA key exchange is never chosen (engine/tls_context.c): a client that
# prefers it but also offers ECDHE gets ECDHE; one with nothing else is
# refused at cipher selection. (Before, the first failed after the key
# exchange, the keeper unable to decrypt.)
out=$(s_client "$PRSA" -tls1_2 -cipher AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256)
like "$out" "CONNECTION ESTABLISHED.*Ciphersuite: ECDHE-RSA-AES128-GCM-SHA256" "a client preferring RSA key exchange gets ECDHE-RSA"
out=$(s_client "$PRSA" -tls1_2 -cipher AES128-GCM-SHA256)
like "$out" "handshake failure" "a client offering only RSA key exchange is refused at cipher selection"
todo_like "$out" "CONNECTION ESTABLISHED.*Ciphersuite: AES128-GCM-SHA256" "granted RSA server identity: TLS 1.2 RSA key exchange (the keeper decrypts)" "$RSAKX"

SV=$(free_port)
start_s_server "$SV" -cert "$PKI/server.crt" -key "$PKI/server.key" -cert_chain "$PKI/int.crt" \
	-Verify 1 -CAfile "$PKI/ca.crt" -www
out=$(ssa "$WORK/gcli/tls_probe" -n localhost -s "GET / HTTP/1.0" 127.0.0.1 "$SV" 2>&1)
like "$out" "^OK version=0x0304" "granted client identity: mutual TLS 1.3 against s_server -Verify"
like "$out" "Client certificate" "... s_server saw the client certificate"

bg_server app ssa "$WORK/plain/tls_server" -c "$PKI/server-rsa-chain.crt" -k "$PKI/server-rsa.key" \
	-p 0 echo
PAPP=$port
out=$(s_client "$PAPP" -tls1_3)
like "$out" "CONNECTION ESTABLISHED.*Verification: OK" "application-set key file (TLS_PRIVATE_KEY, RSA): TLS 1.3 handshake"
out=$(s_client "$PAPP" -tls1_2 -cipher AES128-GCM-SHA256)
todo_like "$out" "CONNECTION ESTABLISHED.*Ciphersuite: AES128-GCM-SHA256" "application-set key file: TLS 1.2 RSA key exchange" "$RSAKX"

# Private operations take the first free channel: overlapping ones spread
# over the channels. After 64 RSA handshakes with the application-set key,
# 8 at a time, every keeper thread has served requests (each request wakes
# its thread once: a voluntary context switch), not only the first.
out=$(python3 - "$PAPP" "$PKI/ca.crt" <<'PY'
import socket, ssl, sys, threading
port, ca = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=ca)
done, errs = [], []
def one():
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost"):
                done.append(1)
    except OSError as e:
        errs.append(str(e))
for _ in range(8):
    ts = [threading.Thread(target=one) for _ in range(8)]
    for t in ts: t.start()
    for t in ts: t.join()
print("HANDSHAKES %d of 64 %s" % (len(done), errs[:1]))
PY
)
like "$out" "HANDSHAKES 64 of 64" "64 RSA handshakes, 8 at a time, with the application-set key"
idle= sw=
for t in /proc/"$K"/task/*; do
	n=$(status voluntary_ctxt_switches "$K/task/${t##*/}")
	sw+=" ${t##*/}:$n"
	[ "$n" -ge 5 ] || idle+=" ${t##*/}"
done
diag "keeper threads' voluntary context switches:$sw"
is "${idle:-none}" none "every keeper thread has served private-key operations"

# ---- 3. memory: no key bytes in ssad, all of them in the keeper -----------
KEYS=("$PKI/server.key" "$PKI/server-rsa.key" "$PKI/client.key")
out=$(python3 "$TOP/tests/keyscan.py" "$SSAD_WPID" "${KEYS[@]}" 2>&1)
rc=$?
is "$rc" 1 "no private-key number (EC scalar; RSA d, p, q; either byte order) in the memory of ssad's worker"
[ "$rc" = 1 ] || diag "$out"
out=$(python3 "$TOP/tests/keyscan.py" "$SSAD_PID" "${KEYS[@]}" 2>&1)
rc=$?
is "$rc" 1 "... nor in the memory of ssad's supervisor"
[ "$rc" = 1 ] || diag "$out"
out=$(python3 "$TOP/tests/keyscan.py" "$K" "${KEYS[@]}" 2>&1)
like "$out" "FOUND .*server.key EC scalar" "control: the same scan finds the EC scalar in the keeper"
like "$out" "FOUND .*server-rsa.key d" "control: ... and RSA d"
like "$out" "FOUND .*server-rsa.key p" "control: ... and RSA p"
like "$out" "FOUND .*client.key" "control: ... and the client key"

# ---- 4. a dead keeper -------------------------------------------------------
# The supervisor starts a keeper for each worker. When it dies the worker
# (which lost its keys) is told to end, and the supervisor starts a new
# worker with a new keeper; the SSA servers' listeners (and their keys,
# through the hand-over) go to the new worker.
# new_worker OLD: wait up to 5 s for a worker other than OLD with a keeper
new_worker() {
	local w k
	for _ in $(seq 100); do
		w=$(pgrep -P "$SSAD_PID" -x ssad-worker | head -n1)
		if [ -n "$w" ] && [ "$w" != "$1" ]; then
			k=$(pgrep -n -P "$SSAD_PID" -x ssad-keeper)
			[ -n "$k" ] && ssad_serving && { SSAD_WPID=$w; return 0; }
		fi
		sleep 0.05
	done
	return 1
}
# A forbidden system call in the keeper: strace makes its next recvmsg a
# getppid (no request makes the keeper issue one; since Linux 4.8 seccomp
# checks the system call a tracer substituted). Seccomp kills the keeper,
# not the supervisor. Control: strace attaching and detaching alone leaves
# it running.
if command -v strace >/dev/null; then
	timeout 2 strace -p "$K" -e trace=recvmsg >"$WORK/strace-attach.log" 2>&1
	ok "$(kill -0 "$K" 2>/dev/null && echo 0 || echo 1)" "control: strace attaching to the keeper and leaving leaves it running"
	W0=$SSAD_WPID
	timeout 5 strace -p "$K" -e trace=recvmsg -e inject=recvmsg:retval=0:syscall=getppid \
		>"$WORK/strace-forbidden.log" 2>&1
	for _ in $(seq 20); do [ -d "/proc/$K" ] || break; sleep 0.05; done
	like "$(cat "$WORK/ssad.log")" "key keeper \(pid $K\) killed by signal $(kill -l SYS)" "a forbidden system call (getppid) kills the keeper (SIGSYS)"
	new_worker "$W0"
	ok $? "... the worker ends, and the supervisor (same pid) starts a new worker with a new keeper"
	K=$(keeper_pid)
else
	for _ in 1 2 3; do _n=$((_n + 1)); echo "ok $_n # SKIP strace not installed (it makes the keeper's system call a forbidden one)"; done
fi
W0=$SSAD_WPID
kill -KILL "$K"
t0=$(date +%s%N)
new_worker "$W0"
rc=$?
t1=$(date +%s%N)
NK=$(keeper_pid)
ok "$rc" "SIGKILL of the keeper: a new worker and a new keeper run"
ok "$([ $(((t1 - t0) / 1000000)) -lt 3000 ] && echo 0 || echo 1)" "... within 3 seconds ($(((t1 - t0) / 1000000)) ms)"
like "$(cat "$WORK/ssad.log")" "key keeper \(pid $K\) killed by signal 9; its worker ends, a new worker starts with a new keeper" "... and the supervisor said why"
ok "$(kill -0 "$SSAD_PID" 2>/dev/null && echo 0 || echo 1)" "the supervisor stays up"
bg_server gec2 ssa "$WORK/gec/policy_probe" -l -m 100 127.0.0.1 0
out=$(s_client "$port" -tls1_3)
like "$out" "CONNECTION ESTABLISHED" "a new listener with the granted identity handshakes through the new keeper"
out=$(s_client "$PAPP" -tls1_3)
like "$out" "CONNECTION ESTABLISHED" "a listener made before the keeper died still handshakes: the new worker took it over, its key went to the new keeper"

stop_ssad
ok $? "ssad stops cleanly"
# the keeper is the worker's child: once the worker is gone it would be
# re-parented, so look for the process itself
for _ in $(seq 20); do kill -0 "$NK" 2>/dev/null || break; sleep 0.1; done
ok "$(kill -0 "$NK" 2>/dev/null || kill -0 "$SSAD_WPID" 2>/dev/null && echo 1 || echo 0)" \
	"the keeper ($NK) and the worker ($SSAD_WPID) end with ssad"
# ---- the keeper's channels: who may stash and set the hand-over key ----
kc=$(python3 "$TOP/tests/py/keeper_channels.py" "$B/sbin/ssad" "$PKI/server.key" 2>&1)
kc_is() { is "$(awk -v n="$1" '$1 == n { print $2 }' <<<"$kc")" "$2" "$3"; }
kc_is worker-handover-key 1 "a worker's channel: HANDOVER_KEY refused (EPERM)"
kc_is admin-handover-key 0 "the supervisor's channel: HANDOVER_KEY taken"
kc_is admin-handover-key-again 1 "a second HANDOVER_KEY refused (EPERM)"
kc_is worker-stash 1 "a worker's channel: STASH refused (EPERM)"
kc_is worker-unstash 1 "a worker's channel: UNSTASH refused (EPERM)"
kc_is admin-stash 0 "the supervisor's channel: STASH taken"
kc_is worker-load-ticket-other-uid 13 "LOAD_TICKET for another uid: EACCES"
kc_is admin-unstash-used 2 "... which used the ticket up (UNSTASH: ENOENT)"
kc_is admin-stash-2 0 "a second file stashed"
kc_is worker-load-ticket 0 "LOAD_TICKET on a worker's channel, for the stasher's uid: loaded"
[ "$_failed" -gt 0 ] && diag "keeper_channels.py: $kc"
done_testing
