#!/usr/bin/env bash
# CPU per connection, user and system apart, of an SSA client's ssad against
# the in-process OpenSSL client (issue 15): one ssad (all its processes and
# threads, from /proc/PID/task/*/stat before and after), one OpenSSL server
# (ssa-bench), `ssa-bench client hs -t THREADS` for SECONDS in each mode. Prints,
# per mode, the connections made, the set-up p50 and the CPU per connection.
#
#   bench/cpu_split.sh [BUILD [SECONDS [SSAD-OPTION...]]]   e.g. build 4 -w 0
#   THREADS=64 bench/cpu_split.sh ...    64 connections at a time (default 1)
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-build}
case $B in /*) ;; *) B=$TOP/$B ;; esac
SECS=${2:-4}
THREADS=${THREADS:-1}
shift $(($# > 2 ? 2 : $#))
W=$(mktemp -d /tmp/ssa-cpu.XXXXXX)
chmod 1777 "$W"
SP= SV=
trap 'kill $SP $SV 2>/dev/null || true; sleep 0.5; rm -rf "$W"' EXIT
bash "$TOP/tests/pki/gen-pki.sh" "$W/pki" >/dev/null 2>&1
printf '[global]\ntrust-store = %s/pki/trust.pem\nmax-sockets-per-user = 1000000\nmax-handshakes-per-user = 100000\n' "$W" >"$W/ssad.conf"
"$B/sbin/ssad" "$@" --config "$W/ssad.conf" --socket "$W/ssad.sock" >"$W/ssad.log" 2>&1 &
SP=$!
"$B/bench/ssa-bench" server -m openssl -c "$W/pki/server-chain.crt" -k "$W/pki/server.key" >"$W/srv.out" 2>/dev/null &
SV=$!
for _ in $(seq 50); do [ -s "$W/srv.out" ] && [ -S "$W/ssad.sock" ] && break; sleep 0.1; done
PORT=$(awk '{print $2; exit}' "$W/srv.out")
# ticks (user system) of ssad: the supervisor and its children, every thread
ssad_ticks() {
	for p in "$SP" $(pgrep -P "$SP"); do cat /proc/"$p"/task/*/stat 2>/dev/null; done |
		awk '{ sub(/^.*\) /, ""); u += $12; s += $13 } END { print u + 0, s + 0 }'
}
HZ=$(getconf CLK_TCK)
for mode in openssl ssa; do
	read -r u0 s0 <<<"$(ssad_ticks)"
	env=()
	[ "$mode" = ssa ] && env=(SSA_SOCKET="$W/ssad.sock" LD_PRELOAD="$B/lib/libssa.so")
	out=$(env "${env[@]}" /usr/bin/time -f '%U %S' -o "$W/time" "$B/bench/ssa-bench" client hs \
		-m "$mode" -p "$PORT" -C "$W/pki/trust.pem" -t "$THREADS" -s "$SECS" | tail -1)
	read -r u1 s1 <<<"$(ssad_ticks)"
	read -r cu cs <"$W/time"
	python3 - "$mode" "$out" "$cu" "$cs" "$u0" "$s0" "$u1" "$s1" "$HZ" <<'PY'
import json, sys
mode, out = sys.argv[1], json.loads(sys.argv[2])
cu, cs, u0, s0, u1, s1, hz = map(float, sys.argv[3:])
n = out["conns"]
print(f"{mode:8} connections {n:6}  set-up p50/p99 {out['p50_us']:5.0f}/{out['p99_us']:5.0f} us  "
      f"client user/system {cu * 1e6 / n:5.0f}/{cs * 1e6 / n:4.0f} us  "
      f"ssad user/system {(u1 - u0) * 1e6 / hz / n:5.0f}/{(s1 - s0) * 1e6 / hz / n:4.0f} us per connection")
PY
done
