#!/usr/bin/env bash
# Hostile and malformed input on ssad's control socket (tests/progs/ctl_abuse.c):
# every bad request gets the right errno, the connection stays usable, a
# flooding client cannot stall the others, many clients come and go, and
# ssad ends clean (no leaked descriptors, no sanitizer report).
. "$(dirname "$0")/../lib.sh"

ABUSE=$B/tests/ctl_abuse
[ -x "$ABUSE" ] || skip_all "$ABUSE not built"
n=$("$ABUSE" --plan) || { echo "1..1"; fail "ctl_abuse --plan"; exit 1; }
plan $((n + 9))
pki
# for the key intake's checks
export CTL_ABUSE_KEY=$PKI/server.key CTL_ABUSE_CHAIN=$PKI/server-chain.crt

start_ssad
ok $? "ssad started"

# the worker's descriptors (ssad's supervisor holds the control socket's
# listener and its end of the worker's channel only), once it serves
fd_count() { find "/proc/$SSAD_WPID/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
ssad_serving || diag "ssactl status did not answer"
fds_before=$(fd_count)

# ctl_abuse prints its own TAP; renumber its lines into ours.
timeout 120 "$ABUSE" >"$WORK/abuse.tap" 2>"$WORK/abuse.err"
rc=$?
seen=0
while IFS= read -r line; do
	case $line in
	"ok "*) seen=$((seen + 1)); pass "${line#ok * - }" ;;
	"not ok "*) seen=$((seen + 1)); fail "${line#not ok * - }" ;;
	"#"*) echo "$line" ;;
	esac
done <"$WORK/abuse.tap"
while [ "$seen" -lt "$n" ]; do
	seen=$((seen + 1))
	fail "ctl_abuse check $seen did not run"
done
is "$rc" 0 "ctl_abuse exit status"
if grep -qE 'ERROR: AddressSanitizer|runtime error|LeakSanitizer' "$WORK/abuse.err"; then
	fail "ctl_abuse: no sanitizer report"
	sed 's/^/#   /' "$WORK/abuse.err" | head -n 40
else
	pass "ctl_abuse: no sanitizer report"
fi

ssad_same_worker
ok $? "ssad is alive (the supervisor and the same worker)"

# Every control client is gone again: only ssactl itself is counted.
json=
for _ in $(seq 50); do
	json=$("$B/bin/ssactl" --json status 2>&1)
	[[ $json == *'"control_clients":1,'* ]] && break
	sleep 0.1
done
like "$json" '"control_clients":1,' "ssactl status --json: control_clients back to 1"
like "$json" '"connections":0,' "ssactl status --json: no TLS socket left"

# No descriptor leaked by all that (fds passed with bad requests, oversized
# datagrams, dropped clients, failed connects).
fds_after=$(fd_count)
for _ in $(seq 30); do
	[ "$fds_after" -le "$fds_before" ] && break
	sleep 0.1
	fds_after=$(fd_count)
done
is "$fds_after" "$fds_before" "ssad holds as many descriptors as before"
[ "$fds_after" -le "$fds_before" ] || ls -l "/proc/$SSAD_WPID/fd" | sed 's/^/#   /'

stop_ssad
ok $? "ssad stopped with status 0"
if grep -qE 'ERROR: AddressSanitizer|runtime error|LeakSanitizer' "$WORK/ssad.log"; then
	fail "ssad.log: no sanitizer report"
	grep -E -A 30 'ERROR: AddressSanitizer|runtime error|LeakSanitizer' "$WORK/ssad.log" | head -n 60 | sed 's/^/#   /'
else
	pass "ssad.log: no sanitizer report"
fi
done_testing
