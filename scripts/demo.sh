#!/usr/bin/env bash
# The SSA demo: a private ssad, TLS clients and servers through
# socket(..., IPPROTO_TLS), and real peers (openssl, curl, Python).
# Usage: scripts/demo.sh [BUILD-DIR]   (run by `make demo`)
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
B=$(cd "${1:-$TOP/build}" && pwd)
D=$(mktemp -d /tmp/ssa-demo.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$D"; }
trap cleanup EXIT
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 50); do ss -Hltn "sport = :$1" | grep -q . && return 0; sleep 0.1; done; return 1; }

say "A test PKI (CA, intermediate, server and bad certificates) in $D/pki"
bash "$TOP/tests/pki/gen-pki.sh" "$D/pki" >/dev/null
ls "$D/pki" | tr '\n' ' '; echo

say "ssad on a private control socket, trusting the test CA"
cat >"$D/ssa.conf" <<CONF
[global]
trust-store = $D/pki/trust.pem
min-version = TLSv1.2
handshake-timeout = 5s
CONF
cat "$D/ssa.conf"
export SSA_SOCKET=$D/ssad.sock
"$B/sbin/ssad" --config "$D/ssa.conf" --socket "$SSA_SOCKET" 2>"$D/ssad.log" &
PIDS+=($!)
for _ in $(seq 50); do [ -S "$SSA_SOCKET" ] && break; sleep 0.1; done
run() { LD_PRELOAD="$B/lib/libssa.so" "$@"; }

P1=$(port)
openssl s_server -accept "$P1" -cert "$D/pki/server.crt" -key "$D/pki/server.key" \
	-cert_chain "$D/pki/int.crt" -www -quiet >/dev/null 2>&1 </dev/null &
PIDS+=($!); wait_port "$P1"
say "1. SSA client (examples/https-get.c: no TLS library) -> openssl s_server"
run "$B/examples/https-get" localhost "$P1" / | sed -n '1,2p;/Protocol/p;/Cipher *:/p'

say "2. Python's plain socket module, protocol 205, under ssa-run"
"$B/bin/ssa-run" python3 - "$P1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 205)          # IPPROTO_TLS
s.setsockopt(205, 85, b"localhost\0")                                 # TLS_REMOTE_HOSTNAME
s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET / HTTP/1.0\r\n\r\n")
print(s.recv(200).split(b"\r\n")[0].decode(), "| version 0x%04x |" % s.getsockopt(205, 113),
      s.getsockopt(205, 98, 64).rstrip(b"\0").decode(), "|",
      s.getsockopt(205, 93, 1024).rstrip(b"\0").decode())
PY

P2=$(port)
run "$B/examples/https-server" "$D/pki/server-chain.crt" "$D/pki/server.key" "$P2" 2>"$D/server.log" &
PIDS+=($!); wait_port "$P2"
say "3. curl -> SSA server (examples/https-server.c; its key stays in ssad)"
curl -sS -v --cacert "$D/pki/ca.crt" "https://localhost:$P2/" 2>&1 | grep -E '^\* (SSL connection|ALPN: server)|^Hello'

say "4. SSA client -> SSA server, over IPv6"
run "$B/examples/https-get" ::1 "$P2" / | tail -n 1

say "5. Refusals: a wrong name and an expired certificate never connect"
run "$B/tests/tls_probe" -n wrong.example 127.0.0.1 "$P2" || true
P3=$(port)
openssl s_server -accept "$P3" -cert "$D/pki/expired.crt" -key "$D/pki/expired.key" \
	-cert_chain "$D/pki/int.crt" -www -quiet >/dev/null 2>&1 </dev/null &
PIDS+=($!); wait_port "$P3"
run "$B/examples/https-get" localhost "$P3" / || true
python3 -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_STREAM, 205)' 2>&1 | tail -n1 \
	| sed 's/^/without libssa (and without ssa.ko): /' || true

say "6. ssactl status"
"$B/bin/ssactl" status
say "ssad's log"
cat "$D/ssad.log"
