#!/usr/bin/env bash
# The kernel-TLS data path: after the handshake the application's data goes
# through kernel TLS (/proc/net/tls_stat counts the sessions) and not through
# ssad (its per-connection byte counters stay at zero).
. "$(dirname "$0")/lib.sh"
plan 6
kstart_ssad || diag "ssad did not start"
[ -r /proc/net/tls_stat ] || diag "no /proc/net/tls_stat (tls module not loaded?)"
diag "tls_stat before: $(awk '{printf "%s=%s ", $1, $2}' /proc/net/tls_stat 2>/dev/null)"
tx0=$(tls_stat TlsTxSw) rx0=$(tls_stat TlsRxSw)

start_echo 1 || diag "echo server did not start"
n=1000000
# The client holds the connection open until we close its stdin.
mkfifo "$WORK/hold"
"$KC" -n localhost -e $n -H 127.0.0.1 "$eport" <"$WORK/hold" >"$WORK/kc.out" 2>&1 &
kc=$!
PIDS+=("$kc")
exec 7>"$WORK/hold"
end=$((SECONDS + 30))
while [ $SECONDS -lt $end ] && ! grep -q '^WAITING\|^ERR\|^ECHO .*short\|^ECHO .*corrupt' "$WORK/kc.out"; do sleep 0.1; done
like "$(cat "$WORK/kc.out")" $'\nECHO 1000000 bytes ok' "1 MB echoed through the connection"

# While the connection is still open:
curtx=$(tls_stat TlsCurrTxSw) currx=$(tls_stat TlsCurrRxSw)
tx1=$(tls_stat TlsTxSw) rx1=$(tls_stat TlsRxSw)
diag "tls_stat during: TlsTxSw $tx0->$tx1 TlsRxSw $rx0->$rx1 TlsCurrTxSw=$curtx TlsCurrRxSw=$currx"
ok $([ "$tx1" -gt "$tx0" ] && [ "$curtx" -ge 1 ] && echo 0 || echo 1) "kernel TLS TX installed (TlsTxSw, TlsCurrTxSw)"
ok $([ "$rx1" -gt "$rx0" ] && [ "$currx" -ge 1 ] && echo 0 || echo 1) "kernel TLS RX installed (TlsRxSw, TlsCurrRxSw)"

json=$("$B/bin/ssactl" --json connections 2>&1)
bytes=$(python3 -c '
import json, sys
try:
    c = json.loads(sys.argv[1])
    if isinstance(c, dict):
        c = c["connections"]
except Exception as e:
    print("unreadable"); sys.exit()
print(sum(x.get("bytes_in", 0) + x.get("bytes_out", 0) for x in c))' "$json")
diag "ssactl connections: $(head -c 600 <<<"$json")"
ok $([ "$bytes" != unreadable ] && [ "$bytes" -lt 10000 ] && echo 0 || echo 1) \
	"ssad moved none of the data (its byte counters: $bytes for 2 MB of traffic)"

st=$("$B/bin/ssactl" --json status 2>&1)
hs=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1]).get("handshakes_ok", 0))' "$st" 2>/dev/null)
ok $([ "${hs:-0}" -ge 1 ] && echo 0 || echo 1) "while ssad did run the handshake (ssactl status: handshakes_ok=${hs:-?})"

exec 7>&-
wait_pid "$kc" 20
ok $? "client closed cleanly"
done_testing
