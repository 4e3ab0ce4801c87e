#!/usr/bin/env bash
# The server path through ssa.ko: TLS_CERTIFICATE_CHAIN + TLS_PRIVATE_KEY,
# bind(port 0)/listen/accept, talked to by openssl s_client and Python ssl.
# accept() returns only completed handshakes, with real peer addresses.
. "$(dirname "$0")/lib.sh"
plan 9
kstart_ssad || diag "ssad did not start"

"$KP/kserver" -c "$PKI/server-chain.crt" -k "$PKI/server.key" -n 3 >"$WORK/kserver.log" 2>&1 &
KS=$!
PIDS+=("$KS")
for i in $(seq 50); do grep -q '^LISTEN\|^ERR' "$WORK/kserver.log" && break; sleep 0.1; done
kport=$(sed -n 's/^LISTEN port=//p' "$WORK/kserver.log")
like "$kport" '^[1-9][0-9]*$' "bind(port 0) + getsockname: the real port"
[ -n "$kport" ] || { diag "$(cat "$WORK/kserver.log")"; kport=1; }

# 1. openssl s_client, verifying the chain and the name
out=$( (echo hello-from-s_client; sleep 5) | timeout 15 openssl s_client -quiet -no_ign_eof \
	-verify_return_error -CAfile "$PKI/ca.crt" -servername localhost -verify_hostname localhost \
	-connect "127.0.0.1:$kport" 2>"$WORK/s_client.err")
is "$out" "hello-from-s_client" "openssl s_client: verified handshake, data echoed"

# 2. a client that is not TLS: its connection never reaches accept()
python3 -c "
import socket; s=socket.create_connection(('127.0.0.1',$kport)); s.sendall(b'GET / HTTP/1.0\r\n\r\n')
s.settimeout(10)
try: s.recv(100)
except OSError: pass
s.close()" 2>/dev/null

# 3. Python ssl, then 4. Python ssl over a second connection
pyclient() {
	python3 -c "
import socket, ssl
ctx = ssl.create_default_context(cafile='$PKI/ca.crt')
raw = socket.create_connection(('127.0.0.1', $kport), timeout=8)
s = ctx.wrap_socket(raw, server_hostname='localhost')
s.sendall(b'x' * 20000)
got = b''
while len(got) < 20000:
    d = s.recv(65536)
    if not d: break
    got += d
print('local', s.getsockname()[1], 'echo', len(got) if got == b'x' * 20000 else 'BAD', s.version())
s.close()" 2>&1
}
out=$(pyclient)
like "$out" '^local [0-9]+ echo 20000 TLSv1.3' "python ssl: verified handshake, 20 kB echoed"
lport=$(awk '{print $2}' <<<"$out")
out=$(pyclient)
like "$out" '^local [0-9]+ echo 20000 TLSv1.3' "a second python client"

wait_pid "$KS" 15
ok $? "the server accepted exactly three connections and exited"
log=$(cat "$WORK/kserver.log")
is "$(grep -c '^ACCEPT' <<<"$log")" 3 "three ACCEPT lines: the plain-text client never reached accept()"
like "$log" "ACCEPT peer=127.0.0.1:$lport sni=localhost version=0x0304" "accept gives the real peer address and TLS_HOSTNAME"
like "$log" 'CLOSED bytes=20000' "server read the client's data"
grep -q '^ERR' <<<"$log"; ok $((!$?)) "no server errors"
[ "$_failed" -gt 0 ] && diag "kserver said: $(head -n 12 <<<"$log")" && diag "s_client: $(tail -n 5 "$WORK/s_client.err")"
done_testing
