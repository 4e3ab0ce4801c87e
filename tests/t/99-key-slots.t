#!/usr/bin/env bash
# Per-user accounting of the key keeper's key slots (issue 14, follow-up):
# every TLS_PRIVATE_KEY an application sets takes one of the keeper's slots,
# charged to the application's user (max-keys-per-user, here 4), so that
# one user filling the keeper cannot make other users' key loads fail.
#
#   ssa-mallory sets a key on 10 sockets and keeps them: exactly 4 are
#   taken (the positive control: keys are accepted up to the limit), the 6
#   others are refused with ENOBUFS, and ssad logs her uid; a configuration
#   identity granted to her is not charged to her (she still gets 4).
#   Meanwhile ssa-alice sets 4 keys (all taken: mallory's count is not
#   hers) and serves a TLS handshake with a key of her own. Once mallory
#   closes her sockets their slots are free: she gets 4 again.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/users.sh
. "$(dirname "$0")/../users.sh"
need_users
plan 12
pki
ISO=$B/tests/isolation
M=$(user_dir mallory)
A=$(user_dir alice)
for u in mallory alice; do
	d=$WORK/$u
	cp "$PKI/server-chain.crt" "$PKI/server.key" "$d/"
	chown "ssa-$u:ssa-$u" "$d/server-chain.crt" "$d/server.key"
	chmod 0400 "$d/server.key"
done
start_ssad "max-keys-per-user = 4" \
	"[app \"granted\"]" "match-exe = $B/tests/policy_probe" "match-user = ssa-mallory" \
	"certificate = $PKI/server-chain.crt" "private-key = $PKI/server.key" ||
	{ fail "ssad starts"; done_testing; }

# ---- mallory at her limit -----------------------------------------------------
mkfifo "$WORK/m1.in"
exec 8<>"$WORK/m1.in"
as_user ssa-mallory "$ISO" keys "$M/server-chain.crt" "$M/server.key" 10 \
	<"$WORK/m1.in" >"$WORK/m1.out" 2>&1 8>&- &
MPID=$!
PIDS+=("$MPID")
for _ in $(seq 100); do grep -q '^KEYS\|FAILED' "$WORK/m1.out" && break; sleep 0.1; done
out=$(cat "$WORK/m1.out")
diag "mallory: ${out//$'\n'/ | }"
like "$out" "KEYS ok=4 " "mallory's keys are taken up to max-keys-per-user (4), a granted identity not counted"
like "$out" "refused=6 err=ENOBUFS" "... the 6 keys beyond it are refused with ENOBUFS"
like "$(cat "$WORK/ssad.log")" "uid $(id -u ssa-mallory) \(pid [0-9]+\) reached max-keys-per-user = 4" \
	"ssad logs the uid that reached max-keys-per-user"
like "$(grep '^WHY' "$WORK/m1.out")" "server.key: this user's sockets hold 4 private keys, max-keys-per-user = 4" \
	"... and the refused socket's TLS_ERROR says why"

# ---- alice is not affected ------------------------------------------------------
out=$(as_user ssa-alice "$ISO" keys "$A/server-chain.crt" "$A/server.key" 4 </dev/null 2>&1)
diag "alice: ${out//$'\n'/ | }"
like "$out" "KEYS ok=4 refused=0" "alice sets 4 keys while mallory holds hers (mallory's count is not hers)"
like "$out" "CLOSED" "... and closes them"
as_user ssa-alice "$B/tests/tls_server" -c "$A/server-chain.crt" -k "$A/server.key" -p 0 echo \
	>"$WORK/alice-srv.out" 2>&1 </dev/null 8>&- &
PIDS+=("$!")
port=
for _ in $(seq 50); do
	port=$(sed -n 's/^READY //p' "$WORK/alice-srv.out")
	[ -n "$port" ] && break
	sleep 0.1
done
out=$(echo Q | timeout 10 openssl s_client -brief -connect "127.0.0.1:${port:-1}" \
	-CAfile "$PKI/ca.crt" -verify_return_error -servername localhost 2>&1)
like "$out" "CONNECTION ESTABLISHED" "alice's server with her own key completes a handshake (signed by the keeper)"

# ---- mallory's slots are freed with her sockets -------------------------------
exec 8>&-
for _ in $(seq 50); do grep -q CLOSED "$WORK/m1.out" && break; sleep 0.1; done
wait "$MPID"
forget_pid "$MPID"
like "$(cat "$WORK/m1.out")" "CLOSED" "mallory closes her sockets"
out=
for _ in $(seq 30); do
	out=$(as_user ssa-mallory "$ISO" keys "$M/server-chain.crt" "$M/server.key" 6 </dev/null 2>&1)
	[[ $out =~ "KEYS ok=4 " ]] && break
	sleep 0.1
done
diag "mallory again: ${out//$'\n'/ | }"
like "$out" "KEYS ok=4 refused=2 err=ENOBUFS" "after closing them mallory gets 4 keys again (slots freed), the 5th and 6th refused"
out=$(as_user ssa-mallory "$ISO" keys "$M/server-chain.crt" "$M/server.key" 4 </dev/null 2>&1)
like "$out" "KEYS ok=4 refused=0" "... and again (the slots of closed sockets are released every time)"

ok "$(ssad_same_worker && echo 0 || echo 1)" "ssad stays up (the supervisor and the same worker)"
stop_ssad
ok $? "ssad stops cleanly"
done_testing
