#!/usr/bin/env bash
# testssl.sh's view of an SSA server under the default policy: only TLS 1.2
# and 1.3, no weak cipher category. The scan is narrowed to --protocols and
# --std (cipher categories), which takes seconds, not minutes.
. "$(dirname "$0")/../lib.sh"
command -v testssl >/dev/null || skip_all "testssl (Debian package testssl.sh) not installed"
plan 14
start_ssad || exit 1

port=$(free_port)
ssa "$B/examples/https-server" "$PKI/server-chain.crt" "$PKI/server.key" "$port" >"$WORK/https.log" 2>&1 &
srv=$!
PIDS+=("$srv")
wait_port 127.0.0.1 "$port" && kill -0 "$srv"
ok $? "https-server (SSA) listening on port $port"

t0=$(date +%s)
timeout 300 testssl --jsonfile-pretty "$WORK/testssl.json" --protocols --std --quiet --warnings off \
	--color 0 --ip one --openssl /usr/bin/openssl "localhost:$port" >"$WORK/testssl.log" 2>&1
rc=$?
secs=$(($(date +%s) - t0))
[ "$rc" -eq 0 ] && [ -s "$WORK/testssl.json" ]
ok $? "testssl ran (exit $rc, ${secs} s)"
if [ "$rc" -ne 0 ]; then
	sed 's/^/#   /' "$WORK/testssl.log" | tail -n 20
	kill -0 "$srv" 2>/dev/null || diag "https-server has exited"
	sed 's/^/#   https-server: /' "$WORK/https.log" | tail -n 20
	sed 's/^/#   ssad: /' "$WORK/ssad.log" | tail -n 20
fi

# finding ID: testssl's finding for ID ("missing" if it has none)
finding() {
	python3 - "$WORK/testssl.json" "$1" <<'EOF' 2>/dev/null || echo missing
import json, sys
d = json.load(open(sys.argv[1]))
f = [x["finding"] for s in d.get("scanResult", []) for k, v in s.items()
     if isinstance(v, list) for x in v if isinstance(x, dict) and x.get("id") == sys.argv[2]]
print(f[0] if f else "missing")
EOF
}
for v in SSLv2 SSLv3 TLS1 TLS1_1; do
	is "$(finding "$v")" "not offered" "$v not offered"
done
is "$(finding TLS1_2)" "offered" "TLS 1.2 offered"
like "$(finding TLS1_3)" '^offered' "TLS 1.3 offered"
# Cipher categories of --std: NULL, anonymous, EXPORT, LOW (64-bit, DES,
# RC2, RC4), 3DES/IDEA must all be absent; strong (AEAD) ones present.
bad=""
for c in NULL aNULL EXPORT LOW 3DES_IDEA; do
	f=$(finding "cipherlist_$c")
	[ "$f" = "not offered" ] || bad="$bad $c=$f"
done
is "${bad:-none}" none "no NULL, anonymous, EXPORT, LOW (DES, RC2, RC4) or 3DES/IDEA ciphers"
is "$(finding cipherlist_STRONG)" "offered" "strong (AEAD) ciphers offered"
diag "obsolete CBC ciphers (cipherlist_AVERAGE): $(finding cipherlist_AVERAGE)"
like "$(grep -c "\"id\"" "$WORK/testssl.json")" '^[1-9]' "the JSON has findings"
! grep -q '"id" *: *"scanProblem"' "$WORK/testssl.json"
ok $? "testssl reported no scan problem"

stop_ssad
ok $? "ssad exits cleanly"
! grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$WORK/ssad.log" "$WORK/https.log"
ok $? "no sanitizer report"
done_testing
