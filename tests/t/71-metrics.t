#!/usr/bin/env bash
# ssactl metrics: ssad's counters in Prometheus' text format. Every line is
# well formed; handshakes by result, failures by reason, live connections
# per profile and the handshake duration histogram agree with what the test
# did; only root or the admin group may read them.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
plan 9
pki
chmod 0755 "$WORK"
start_ssad "[app \"metered\"]" "match-user = root" || exit 1
SSACTL=$B/bin/ssactl
port=$(free_port)
start_s_server "$port" -cert "$PKI/server.crt" -key "$PKI/server.key" -cert_chain "$PKI/int.crt" -www
for _ in 1 2 3; do
	ssa "$B/tests/tls_probe" -q -n localhost 127.0.0.1 "$port" >/dev/null 2>&1
done
ssa "$B/tests/tls_probe" -q -n wrong.example 127.0.0.1 "$port" >/dev/null 2>&1
# A server socket that stays open while the metrics are read.
cp "$PKI/server-chain.crt" "$PKI/server.key" "$WORK/"
ssa "$B/tests/tls_server" -c "$WORK/server-chain.crt" -k "$WORK/server.key" -q -p 0 echo \
	>"$WORK/srv.out" 2>"$WORK/srv.log" </dev/null &
PIDS+=("$!")
sport=0
wait_ready "$WORK/srv.out" sport

out=$("$SSACTL" metrics 2>&1)
ok $? "ssactl metrics as root"
# Prometheus text format 0.0.4: comments, or name{labels} value.
bad=$(grep -v -E '^# (HELP|TYPE) [a-z_]+ .+$' <<<"$out" |
	grep -v -E '^[a-z_]+(\{[a-z_]+="([^"\\]|\\["\\n])*"\})? [0-9.eE+-]+$' || true)
is "$bad" "" "every line is a well-formed sample or comment"
val() { awk -v m="$1" '$1 == m { print $2 }' <<<"$out"; }
is "$(val 'ssad_handshakes_total{result="ok"}')" 3 "handshakes ok: 3"
is "$(val 'ssad_handshakes_total{result="failed"}')" 1 "handshakes failed: 1"
like "$(grep '^ssad_handshake_failures_total{' <<<"$out")" 'reason="[^"]*(name|host)[^"]*"} 1$' \
	"the failure is counted under its reason"
like "$(grep '^ssad_connections_by_profile{' <<<"$out")" 'profile="metered"} 1$' \
	"the live listener is counted under its profile"
# Histogram: cumulative, +Inf = _count = successful handshakes, sum > 0.
hist=$(python3 -c '
import sys
b = []; cnt = s = None
for l in sys.stdin:
    if l.startswith("ssad_handshake_duration_seconds_bucket"):
        b.append(int(l.split()[-1]))
    elif l.startswith("ssad_handshake_duration_seconds_count"):
        cnt = int(l.split()[-1])
    elif l.startswith("ssad_handshake_duration_seconds_sum"):
        s = float(l.split()[-1])
ok = len(b) == 14 and b == sorted(b) and b[-1] == cnt == 3 and s > 0
print("ok" if ok else "bad %r count=%r sum=%r" % (b, cnt, s))
' <<<"$out")
is "$hist" ok "handshake duration histogram: cumulative buckets, +Inf = count = 3, sum > 0"
out2=$(setpriv --reuid=nobody --regid=nogroup --clear-groups env SSA_SOCKET="$SSA_SOCKET" "$SSACTL" metrics 2>&1)
like "$out2" "Operation not permitted" "a user outside the admin group is refused"
stop_ssad
ok $? "ssad exits cleanly"
done_testing
