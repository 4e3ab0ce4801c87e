#!/usr/bin/env bash
# Key files that applications set (TLS_PRIVATE_KEY) go around the worker
# (issue 14): libssa opens the file with the application's permissions and
# hands the descriptor to the supervisor's key intake ($SSA_SOCKET.keys),
# which stashes it in the key keeper under a random ticket and the sender's
# uid; the worker, which parses network bytes, only ever sees the ticket.
#
#   - ssa-alice's own key (0400) is taken, and serves a TLS 1.3 handshake
#     with openssl s_client (signed by the keeper);
#   - traced while alice sets a chain and a key, the worker receives the
#     chain's descriptor (the positive control: files of other options
#     still come as descriptors) and never one of the key file;
#   - ssa-mallory holding 16 open intake connections is refused the next
#     (ENOBUFS, TLS_ERROR says why, ssad logs her uid), while alice's key
#     is taken meanwhile; once mallory lets go, her keys are taken again;
#   - ssad stops cleanly and removes the intake socket.
# The intake's refusals of malformed requests, unknown, reused, foreign and
# dropped tickets are checks of tests/progs/ctl_abuse.c (40-control-input.t).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/users.sh
. "$(dirname "$0")/../users.sh"
need_users
plan 16
pki
ISO=$B/tests/isolation
A=$(user_dir alice)
M=$(user_dir mallory)
for u in alice mallory; do
	d=$WORK/$u
	install -m 0644 -o "ssa-$u" -g "ssa-$u" "$PKI/server-chain.crt" "$d/chain.crt"
	install -m 0400 -o "ssa-$u" -g "ssa-$u" "$PKI/server.key" "$d/own.key"
done
start_ssad || { fail "ssad starts"; done_testing; }
ssad_serving || diag "ssactl status did not answer"
ok "$([ -S "$SSA_SOCKET.keys" ] && echo 0 || echo 1)" "the supervisor serves the key intake at \$SSA_SOCKET.keys"

# the intake's listener is the supervisor's alone: the worker (forked from
# it) closed its copy
holders=$(ss -xlpn 2>/dev/null | grep -F "$SSA_SOCKET.keys " | grep -o 'pid=[0-9]*' | sort -u | tr '\n' ' ')
is "$holders" "pid=$SSAD_PID " "only the supervisor holds the key intake's listener (not the worker, pid $SSAD_WPID)"

# ---- alice's own key, through the intake -------------------------------------
out=$(as_user ssa-alice "$ISO" keys "$A/chain.crt" "$A/own.key" 1 </dev/null 2>&1)
like "$out" "KEYS ok=1 refused=0" "alice's own key file (0400) is taken"

as_user ssa-alice "$B/tests/tls_server" -c "$A/chain.crt" -k "$A/own.key" -p 0 echo \
	>"$WORK/srv.out" 2>&1 </dev/null &
PIDS+=("$!")
port=
wait_ready "$WORK/srv.out" port 50 || sed 's/^/#   /' "$WORK/srv.out"
out=$(echo Q | timeout 10 openssl s_client -brief -connect "127.0.0.1:${port:-1}" -CAfile "$PKI/ca.crt" \
	-verify_return_error -servername localhost -tls1_3 2>&1)
like "$out" "CONNECTION ESTABLISHED.*Protocol version: TLSv1.3" \
	"alice's server with that key: a TLS 1.3 handshake with openssl s_client"
like "$out" "Verification: OK" "... verified"

# ---- what the worker receives -------------------------------------------------
strace -f -qq -yy -p "$SSAD_WPID" -e trace=recvmsg -s 32 -o "$WORK/worker.strace" 2>"$WORK/strace.err" &
SPID=$!
PIDS+=("$SPID")
for _ in $(seq 50); do
	grep -q '^TracerPid:[[:space:]]*[1-9]' "/proc/$SSAD_WPID/status" && break
	sleep 0.1
done
sleep 0.3 # every thread attached
out=$(as_user ssa-alice "$ISO" keys "$A/chain.crt" "$A/own.key" 1 </dev/null 2>&1)
like "$out" "KEYS ok=1 refused=0" "traced: alice's key is taken"
sleep 0.3
kill -INT "$SPID" 2>/dev/null
wait "$SPID" 2>/dev/null
forget_pid "$SPID"
rights=$(grep -o 'SCM_RIGHTS, cmsg_data=.*' "$WORK/worker.strace" | grep -o '[0-9]*<[^>]*>')
diag "descriptors the worker received: ${rights//$'\n'/ | }"
like "$rights" "$A/chain.crt" "the worker receives the chain file's descriptor (the positive control)"
unlike "$rights" "own.key" "... and never a descriptor of the key file"

# ---- one user's intake connections are bounded ------------------------------
mkfifo "$WORK/hold.in"
exec 8<>"$WORK/hold.in"
as_user ssa-mallory "$ISO" ctlhold "$SSA_SOCKET.keys" 16 <"$WORK/hold.in" >"$WORK/hold.out" 2>&1 8>&- &
HPID=$!
PIDS+=("$HPID")
for _ in $(seq 50); do grep -q CTLHOLD "$WORK/hold.out" && break; sleep 0.1; done
like "$(cat "$WORK/hold.out")" "CTLHOLD opened=16" "mallory holds 16 key intake connections"
sleep 0.3 # accepted by the supervisor
out=$(as_user ssa-mallory "$ISO" keys "$M/chain.crt" "$M/own.key" 1 </dev/null 2>&1)
like "$out" "KEYS ok=0 refused=1 err=ENOBUFS" "... her next key is refused with ENOBUFS"
like "$out" "WHY .*own.key: ssad's key intake refused it: No buffer space available" \
	"... and TLS_ERROR says why"
like "$(cat "$WORK/ssad.log")" "key intake: uid $(id -u ssa-mallory) \(pid [0-9]+\) refused: 16 open" \
	"ssad logs mallory's uid"
out=$(as_user ssa-alice "$ISO" keys "$A/chain.crt" "$A/own.key" 1 </dev/null 2>&1)
like "$out" "KEYS ok=1 refused=0" "alice's key is taken meanwhile (mallory's bound is not hers)"
exec 8>&-
wait "$HPID"
forget_pid "$HPID"
out=
for _ in $(seq 30); do
	out=$(as_user ssa-mallory "$ISO" keys "$M/chain.crt" "$M/own.key" 1 </dev/null 2>&1)
	[[ $out =~ "KEYS ok=1 " ]] && break
	sleep 0.1
done
like "$out" "KEYS ok=1 refused=0" "once mallory lets go, her key is taken again"

stop_ssad
ok $? "ssad stops cleanly"
ok "$([ ! -e "$SSA_SOCKET.keys" ] && echo 0 || echo 1)" "... and removes the key intake socket"
done_testing
