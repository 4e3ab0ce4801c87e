#!/usr/bin/env bash
# The client failure matrix: every bad peer makes connect() fail with the
# right errno and a TLS_ERROR naming the cause; nothing is ever connected.
. "$(dirname "$0")/../lib.sh"
plan 24
start_ssad || exit 1

# serve NAME [s_server args]: an s_server with the PKI's NAME certificate; sets $port
serve() {
	local name=$1; shift
	port=$(free_port)
	local chain=()
	[ -f "$PKI/$name-chain.crt" ] && chain=(-cert_chain "$PKI/int.crt")
	start_s_server "$port" -cert "$PKI/$name.crt" -key "$PKI/$name.key" "${chain[@]}" -www "$@"
}
probe() { ssa "$B/tests/tls_probe" "$@" 2>&1; }

serve expired
out=$(probe -n localhost 127.0.0.1 "$port")
like "$out" '^ERR EPROTO .*reason=certificate has expired' "expired certificate"

serve notyet
out=$(probe -n localhost 127.0.0.1 "$port")
like "$out" '^ERR EPROTO .*reason=certificate is not yet valid' "certificate not yet valid"

serve wrongname
out=$(probe -n localhost 127.0.0.1 "$port")
like "$out" '^ERR EPROTO .*reason=certificate does not match the requested hostname' "wrong hostname"
out=$(probe 127.0.0.1 "$port")
like "$out" '^ERR EPROTO .*reason=certificate does not match the connected IP address' "no hostname: certificate must match the IP address"

serve selfsigned
out=$(probe -n localhost 127.0.0.1 "$port")
like "$out" '^ERR EPROTO .*reason=certificate is self-signed' "self-signed certificate"

port=$(free_port)
start_s_server "$port" -cert "$PKI/untrusted.crt" -key "$PKI/untrusted.key" -www
out=$(probe -n localhost 127.0.0.1 "$port")
like "$out" '^ERR EPROTO .*reason=certificate issued by an unknown CA' "unknown CA"
port=$(free_port)
start_s_server "$port" -cert "$PKI/untrusted.crt" -key "$PKI/untrusted.key" -cert_chain "$PKI/untrusted-ca.crt" -www
out=$(probe -n localhost 127.0.0.1 "$port")
like "$out" '^ERR EPROTO .*reason=self-signed certificate in chain: unknown CA' "unknown CA sending its root"

serve weak -cipher 'DEFAULT@SECLEVEL=0'
out=$(probe -n localhost 127.0.0.1 "$port")
like "$out" '^ERR EPROTO .*reason=certificate key too weak for policy' "RSA-1024 key too weak"

# TLS 1.1 only: below the default floor (TLS 1.2).
serve server-rsa -tls1_1 -cipher 'DEFAULT@SECLEVEL=0'
out=$(probe -n localhost 127.0.0.1 "$port")
like "$out" "^ERR EPROTO .*reason=peer's TLS version is below the policy minimum" "TLS 1.1 server refused"
grep -q "Protocol.*TLSv1.1\|alert\|no protocols\|unsupported" "$WORK/s_server.log"; ok $? "the TLS 1.1 server saw the refusal"

# Not TLS at all: an HTTP server.
port=$(free_port)
python3 -m http.server --bind 127.0.0.1 "$port" >"$WORK/http.log" 2>&1 &
PIDS+=("$!"); wait_port 127.0.0.1 "$port"
out=$(probe -n localhost 127.0.0.1 "$port")
like "$out" '^ERR EPROTO .*reason=(TLS handshake failed|peer closed|peer spoke plain HTTP)' "plain HTTP peer: handshake fails"

# Closed port.
port=$(free_port)
out=$(probe -n localhost 127.0.0.1 "$port")
like "$out" '^ERR ECONNREFUSED .*reason=TCP connect failed: Connection refused' "closed port: ECONNREFUSED"
out=$(probe -n localhost ::1 "$port")
like "$out" '^ERR ECONNREFUSED ' "closed IPv6 port: ECONNREFUSED"

# A peer that accepts TCP and never answers: ETIMEDOUT after the handshake timeout (2 s).
port=$(free_port)
python3 -c "
import socket,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1',$port)); s.listen(16)
conns=[]
while True:
    c,_=s.accept(); conns.append(c)
" &
PIDS+=("$!"); wait_port 127.0.0.1 "$port"
out=$(probe -n localhost 127.0.0.1 "$port")
like "$out" '^ERR ETIMEDOUT .*reason=TLS handshake timed out after 2000 ms' "silent peer: ETIMEDOUT with reason"
ms=$(sed -n 's/.* ms=\([0-9]*\).*/\1/p' <<<"$out")
ok $([ "${ms:-0}" -ge 1900 ] && [ "${ms:-0}" -le 4000 ] && echo 0 || echo 1) "timed out after the configured 2 s (took ${ms} ms)"

# The daemon logged one line per failure with program and reason.
n=$(grep -c 'connect failed: program .* pid [0-9]* .*certificate has expired' "$WORK/ssad.log")
is "$n" 1 "ssad logs the expired-certificate failure once, with pid"
like "$(cat "$WORK/ssad.log")" "connect failed: program .*tls_probe pid [0-9]+ uid 0 \(profile global\), peer 127.0.0.1:[0-9]+, host 'localhost': certificate issued by an unknown CA" "log line names the peer, host and reason"

# A TLS 1.2 only server while the policy demands TLS 1.3.
stop_ssad
start_ssad "min-version = TLSv1.3" || exit 1
serve server -tls1_2
out=$(probe -n localhost 127.0.0.1 "$port")
like "$out" "^ERR EPROTO .*reason=peer's TLS version is below the policy minimum" "policy min TLS 1.3 refuses a TLS 1.2-only server"
serve server
out=$(probe -n localhost 127.0.0.1 "$port")
like "$out" '^OK version=0x0304' "policy min TLS 1.3 accepts a TLS 1.3 server"

# Failed sockets stay usable for TLS_ERROR; a second connect is refused.
out=$(ssa python3 -c "
import socket
s=socket.socket(socket.AF_INET,socket.SOCK_STREAM,205)
s.setsockopt(205,85,b'nope.example\0')
try: s.connect(('127.0.0.1',$port))
except OSError as e: print('first', e.errno)
try: s.connect(('127.0.0.1',$port))
except OSError as e: print('second', e.errno)
print(s.getsockopt(205,100,256).rstrip(b'\0').decode())
" 2>&1)
like "$out" 'first 71' "first connect: EPROTO"
like "$out" 'second (103|106|22)' "second connect on a failed socket is refused"
like "$out" 'certificate does not match' "TLS_ERROR still readable after the failure"

# Bad hostnames are refused before any network traffic.
out=$(ssa python3 -c "
import socket
s=socket.socket(socket.AF_INET,socket.SOCK_STREAM,205)
for v in [b'bad host\0', b'a..b\0', b'x'*300+b'\0', b'no-nul', b'emb\0edded\0']:
    try: s.setsockopt(205,85,v); print('accepted')
    except OSError as e: print(e.errno)
" 2>&1 | tr '\n' ' ')
is "$out" "22 22 22 22 22 " "malformed TLS_REMOTE_HOSTNAME values: EINVAL"

stop_ssad
ok $? "ssad exits cleanly"
done_testing
