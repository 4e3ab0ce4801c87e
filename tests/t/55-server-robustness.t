#!/usr/bin/env bash
# Server robustness: misbehaving clients (silent, half a ClientHello, garbage,
# resets) never reach accept() and do not slow the good clients down; key
# custody (a key the program may not read is refused, and a key it may read
# never enters its memory); the setsockopt/bind/listen error matrix; closing
# or killing a listener releases its port. testssl.sh is in 56-testssl.t.
. "$(dirname "$0")/../lib.sh"
plan 55
start_ssad || exit 1
PY=$TOP/tests/py/server_robustness.py
PROBE=$B/tests/srv_probe
declare -A SRVFD

# field NAME: a number from `ssactl --json status`
field() {
	"$B/bin/ssactl" --json status |
		python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1" 2>/dev/null
}
# jget JSON EXPR: EXPR evaluated by Python on the parsed JSON d
jget() { python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2" 2>/dev/null; }
# wait_line FILE REGEX: until a line of FILE matches (5 s)
wait_line() {
	for _ in $(seq 50); do grep -qE "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}
# wait_field NAME VALUE [TENTHS]: until ssactl shows NAME = VALUE (default 5 s)
wait_field() {
	for _ in $(seq "${3:-50}"); do [ "$(field "$1")" = "$2" ] && return 0; sleep 0.1; done
	return 1
}
# start_srv NAME CMD...: CMD in the background, its standard input a FIFO
# kept open here (srv_cmd NAME LINE writes to it), its output in $WORK/NAME.out
start_srv() {
	local name=$1 f
	shift
	mkfifo "$WORK/$name.in"
	"$@" <"$WORK/$name.in" >"$WORK/$name.out" 2>&1 &
	PIDS+=("$!")
	exec {f}>"$WORK/$name.in"
	SRVFD[$name]=$f
}
srv_cmd() { echo "$2" >&"${SRVFD[$1]}"; }
srv_end() { eval "exec ${SRVFD[$1]}>&-"; } # EOF: the server exits
srv_pid() { sed -n 's/^serving pid \([0-9]*\)$/\1/p' "$WORK/$1.out"; }
# count NAME: connections the srv_probe server NAME has accepted
count() {
	local before
	before=$(grep -c '^count ' "$WORK/$1.out")
	srv_cmd "$1" count
	for _ in $(seq 50); do
		[ "$(grep -c '^count ' "$WORK/$1.out")" -gt "$before" ] && break
		sleep 0.1
	done
	sed -n 's/^count //p' "$WORK/$1.out" | tail -n 1
}
# range VALUE LOW HIGH: 0 if LOW <= VALUE <= HIGH (decimals allowed)
range() { python3 -c 'import sys; v,lo,hi=map(float,sys.argv[1:]); sys.exit(not lo<=v<=hi)' "$@" 2>/dev/null; }

# ---- 1. misbehaving clients while good clients are served ----------------
port=$(free_port)
start_srv m ssa "$PROBE" sock4 chain "$PKI/server-chain.crt" key "$PKI/server.key" \
	bind 127.0.0.1 "$port" listen serve
wait_line "$WORK/m.out" '^serving'
like "$(tr '\n' ' ' <"$WORK/m.out")" 'key OK bind OK listen OK serving' "echo server listening on port $port"
conns0=$(field connections)
failed0=$(field handshakes_failed)

# Good clients for the whole run (5 s, two in parallel); 110 bad ones start
# 0.3 s in, all at once, and end when the server drops them.
python3 "$PY" good 127.0.0.1 "$port" "$PKI/ca.crt" 5 2 >"$WORK/good.json" 2>&1 &
gpid=$!
sleep 0.3
bad=$(python3 "$PY" bad 127.0.0.1 "$port" 50 20 20 20 2>&1)
wait "$gpid"
good=$(cat "$WORK/good.json")
diag "bad clients: $bad"
diag "good clients: $good"

is "$(jget "$bad" 'sum(v["connected"] for v in d.values())')" 110 "all 110 bad clients connected (TCP)"
is "$(jget "$bad" 'd["silent"]["closed"]')" 50 "50 silent clients were all dropped by the server"
range "$(jget "$bad" 'd["silent"]["min"]')" 1.9 4 && range "$(jget "$bad" 'd["silent"]["max"]')" 1.9 4
ok $? "... each after the 2 s handshake timeout (took $(jget "$bad" 'd["silent"]["min"]')..$(jget "$bad" 'd["silent"]["max"]') s)"
is "$(jget "$bad" 'd["half"]["closed"]')" 20 "20 half-ClientHello clients were all dropped"
range "$(jget "$bad" 'd["half"]["min"]')" 1.9 4 && range "$(jget "$bad" 'd["half"]["max"]')" 1.9 4
ok $? "... after the handshake timeout (took $(jget "$bad" 'd["half"]["min"]')..$(jget "$bad" 'd["half"]["max"]') s)"
is "$(jget "$bad" 'd["garbage"]["closed"]')" 20 "20 garbage clients (HTTP request, random bytes) were all dropped"
range "$(jget "$bad" 'd["garbage"]["max"]')" 0 1
ok $? "... at once, without waiting for the timeout (max $(jget "$bad" 'd["garbage"]["max"]') s)"
is "$(jget "$bad" '(d["reset"]["n"], d["reset"]["errors"], d["reset"]["got"])')" "(20, 0, 10)" \
	"20 clients reset mid-handshake (10 after receiving the server's first flight)"
n_good=$(jget "$good" 'd["n"]')
is "$(jget "$good" 'd["fail"]')" 0 "every good handshake + echo round trip succeeded"
[ "${n_good:-0}" -ge 20 ]
ok $? "good clients kept going throughout ($n_good round trips in 5 s)"
max_ms=$(jget "$good" 'd["max_ms"]')
[ "${max_ms:-99999}" -ge 0 ] && [ "${max_ms:-99999}" -lt 1000 ]
ok $? \
	"good clients' latency stayed bounded (max ${max_ms} ms, p50 $(jget "$good" 'd["p50_ms"]') ms)"
is "$(count m)" "$n_good" "the server accepted exactly the good connections, no bad one"
wait_field connections "$conns0"
ok $? "ssactl: connections back to $conns0 (now $(field connections))"
failed1=$(field handshakes_failed)
[ $((failed1 - failed0)) -ge 90 ] && [ $((failed1 - failed0)) -le 110 ]
ok $? \
	"ssactl: handshakes_failed went up by $((failed1 - failed0)) (90 at least: silent, half, garbage; up to 110 with the resets)"
diag "ssactl failures by reason: $(field failures)"
n=$(grep -cE "handshake failed: .*client 127\.0\.0\.1:[0-9]+.*: TLS handshake timed out after 2000 ms" "$WORK/ssad.log")
is "$n" 70 "ssad logged one timeout line per silent or stalled client"
out=$(python3 "$PY" good 127.0.0.1 "$port" "$PKI/ca.crt" 0.3 1)
is "$(jget "$out" '(d["n"] > 0, d["fail"])')" "(True, 0)" "the server still serves after the storm"

# ---- 2. key custody --------------------------------------------------------
# A fresh key only this part uses, so that what is found is from here.
NB=$WORK/nb
mkdir -m 755 "$NB"
openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkey -out "$NB/custody.key" 2>/dev/null
openssl req -new -key "$NB/custody.key" -subj /CN=localhost -out "$WORK/custody.csr" 2>/dev/null
openssl x509 -req -in "$WORK/custody.csr" -CA "$PKI/int.crt" -CAkey "$PKI/int.key" -days 2 \
	-extfile <(printf '%s\n' 'subjectAltName=DNS:localhost,IP:127.0.0.1' 'basicConstraints=CA:FALSE' \
		'keyUsage=digitalSignature' 'extendedKeyUsage=serverAuth' 'subjectKeyIdentifier=hash' \
		'authorityKeyIdentifier=keyid') -out "$NB/custody.crt" 2>/dev/null
cat "$NB/custody.crt" "$PKI/int.crt" >"$NB/custody-chain.crt"
cp "$NB/custody.key" "$NB/root.key"
cp "$PKI/other.key" "$NB/decoy.key"
chmod 644 "$NB"/*
chmod 600 "$NB/root.key"
chmod 711 "$WORK" # nobody reaches $NB and the control socket (mode 0666), nothing else
asnobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
nobody_ssa() { asnobody env LD_PRELOAD="$(ssa_preload)" ASAN_OPTIONS=detect_leaks=0 "$@"; }

! asnobody cat "$NB/root.key" >/dev/null 2>&1 && [ "$(stat -c %U:%a "$NB/root.key")" = root:600 ]
ok $? \
	"precondition: the root-only key (root, 0600) is unreadable by nobody"
out=$(nobody_ssa "$PROBE" sock4 chain "$NB/custody-chain.crt" key "$NB/root.key" listen 2>&1 | tr '\n' ' ')
like "$out" 'chain OK key ERR EACCES .*listen ERR EINVAL' "nobody: TLS_PRIVATE_KEY with a key it may not read: EACCES (and no listener)"
out=$(ssa "$PROBE" sock4 chain "$NB/custody-chain.crt" key "$NB/root.key" 2>&1 | tr '\n' ' ')
like "$out" 'chain OK key OK' "root may use the same key: the refusal is the caller's permission"

kport=$(free_port)
start_srv k nobody_ssa "$PROBE" marker "$NB/decoy.key" sock4 chain "$NB/custody-chain.crt" \
	key "$NB/custody.key" bind 127.0.0.1 "$kport" listen serve
wait_line "$WORK/k.out" '^serving'
kpid=$(srv_pid k)
like "$(tr '\n' ' ' <"$WORK/k.out")" "marker OK sock4 OK chain OK key OK bind OK listen OK serving" \
	"nobody runs a server with a key it may read"
is "$(awk '/^Uid:/ {print $2}' "/proc/${kpid:-0}/status" 2>/dev/null)" 65534 "... the server process runs as nobody"
out=$(python3 "$PY" good 127.0.0.1 "$kport" "$PKI/ca.crt" 0.5 1)
is "$(jget "$out" '(d["n"] > 0, d["fail"])')" "(True, 0)" "... and serves clients ($(jget "$out" 'd["n"]') handshakes)"
scan_srv=$(python3 "$PY" scan "${kpid:-0}" "$NB/custody.key" "$NB/decoy.key" 2>&1)
scan_ssad=$(python3 "$PY" scan "$SSAD_WPID" "$NB/custody.key" 2>&1)
scan_sup=$(python3 "$PY" scan "$SSAD_PID" "$NB/custody.key" 2>&1)
# ssad's key keeper (issue 14): the one process that holds private keys, a
# child of ssad's worker
keeper=$(for p in $(pgrep -P "$SSAD_PID"); do
	[ "$(cat "/proc/$p/comm" 2>/dev/null)" = ssad-keeper ] && echo "$p"; done | head -n 1)
scan_keeper=$(python3 "$PY" scan "${keeper:-0}" "$NB/custody.key" 2>&1)
while read -r l; do diag "server memory: $l"; done <<<"$scan_srv"
while read -r l; do diag "ssad memory:   $l (worker)"; done <<<"$scan_ssad"
while read -r l; do diag "ssad memory:   $l (supervisor)"; done <<<"$scan_sup"
while read -r l; do diag "keeper memory: $l"; done <<<"$scan_keeper"
like "$(grep custody.key <<<"$scan_srv")" 'der=0 pem1=0 pem2=0 scalar_be=0 scalar_le=0 bytes=[1-9]' \
	"the server's memory holds neither the key's DER, nor its PEM lines, nor its private scalar"
like "$(grep decoy.key <<<"$scan_srv")" 'pem1=1 pem2=1' "control: the search finds a PEM key the server did read itself"
like "$scan_keeper" 'scalar_(be=1|le=1)' "control: the search finds the private scalar in ssad's key keeper, which holds the key"
like "$scan_ssad" 'der=0 pem1=0 pem2=0 scalar_be=0 scalar_le=0 bytes=[1-9]' "ssad's worker holds none of it (95-keeper.t tests this in full)"
like "$scan_sup" 'der=0 pem1=0 pem2=0 scalar_be=0 scalar_le=0 bytes=[1-9]' "... nor does ssad's supervisor"
srv_end k

# ---- 3. setsockopt / listen / bind errors ---------------------------------
probe() { ssa "$PROBE" "$@" 2>&1 | tr '\n' ' '; }
out=$(probe sock4 chain "$PKI/server.crt" key "$PKI/other.key" listen)
like "$out" 'key ERR EINVAL reason=[^ ]*other.key: private key does not match the certificate' "mismatched key: EINVAL, TLS_ERROR says it does not match"
like "$out" 'listen ERR EINVAL reason=TLS_PRIVATE_KEY missing' "... and the refused key leaves no identity: listen() fails"
out=$(probe sock4 chain "$PKI/weak.crt" key "$PKI/weak.key")
like "$out" 'key ERR EINVAL reason=.*key too weak for policy' "RSA-1024 key: EINVAL, TLS_ERROR says too weak"
out=$(probe sock4 chain "$PKI/server.crt" key "$WORK/no-such.key")
like "$out" 'key ERR ENOENT' "missing key file: ENOENT"
out=$(probe sock4 chain "$WORK/no-such.crt")
like "$out" 'chain ERR ENOENT' "missing chain file: ENOENT"
out=$(probe sock4 chain "$PKI/server.crt" key /dev/null)
like "$out" 'key ERR EINVAL' "/dev/null as key: EINVAL"
out=$(probe sock4 chain "$PKI/server.key")
like "$out" 'chain ERR EINVAL reason=.*no PEM certificate' "a key file as chain: EINVAL"

# A directory names no single key or chain: EINVAL, whatever it holds.
mkdir "$WORK/emptydir" "$WORK/keydir" "$WORK/certdir"
cp "$PKI/server.key" "$WORK/keydir/"
cp "$PKI/server.crt" "$WORK/certdir/"
out=$(probe sock4 chain "$PKI/server.crt" key "$WORK/emptydir")
like "$out" 'key ERR EINVAL reason=.*not a regular file' "an empty directory as key: EINVAL"
out=$(probe sock4 chain "$PKI/server.crt" key "$WORK/keydir")
like "$out" 'key ERR EINVAL reason=.*not a regular file' "a directory holding the right key, as key: EINVAL"
out=$(probe sock4 chain "$WORK/certdir")
like "$out" 'chain ERR EINVAL reason=.*not a regular file' "a directory as chain: EINVAL"

out=$(probe sock4 listen)
like "$out" 'listen ERR EINVAL reason=no certificate' "listen() without a certificate: EINVAL, TLS_ERROR 'no certificate'"
out=$(probe sock4 key "$PKI/server.key")
like "$out" 'key ERR EINVAL reason=.*set TLS_CERTIFICATE_CHAIN first' "TLS_PRIVATE_KEY before any chain: EINVAL"
out=$(probe sock4 chain "$PKI/server.crt" listen)
like "$out" 'listen ERR EINVAL reason=TLS_PRIVATE_KEY missing' "listen() with a chain but no key: EINVAL"
# The same rule for a client (engine/tls_setup.h): a chain is never used
# without its key, nor replaced by another identity.
python3 -c 'import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
print(s.getsockname()[1], flush=True); time.sleep(60)' >"$WORK/tcp.port" &
PIDS+=("$!")
wait_line "$WORK/tcp.port" '^[0-9]'
out=$(probe sock4 chain "$PKI/server.crt" connect 127.0.0.1 "$(cat "$WORK/tcp.port")")
like "$out" 'connect ERR EINVAL reason=TLS_PRIVATE_KEY missing' "connect() with a chain but no key: EINVAL"

if [ "$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start)" -gt 80 ]; then
	out=$(nobody_ssa "$PROBE" sock4 chain "$NB/custody-chain.crt" key "$NB/custody.key" \
		bind 127.0.0.1 80 bind 0.0.0.0 80 2>&1 | tr '\n' ' ')
	like "$out" 'key OK bind ERR EACCES .*bind ERR EACCES' "nobody: bind to port 80: EACCES (ssad does not lend its privilege)"
else
	pass "# SKIP ip_unprivileged_port_start <= 80: port 80 is not privileged here"
fi
out=$(probe sock4 chain "$PKI/server-chain.crt" key "$PKI/server.key" bind 127.0.0.1 "$port")
like "$out" 'bind ERR EADDRINUSE' "bind to the port of another SSA listener: EADDRINUSE"
pport=$(free_port)
python3 -c "
import socket,sys,time
s=socket.socket(); s.bind(('127.0.0.1',$pport)); s.listen(); print('up', flush=True); time.sleep(30)
" >"$WORK/plain.out" 2>&1 &
PIDS+=("$!")
wait_line "$WORK/plain.out" '^up'
out=$(probe sock4 chain "$PKI/server-chain.crt" key "$PKI/server.key" bind 127.0.0.1 "$pport")
like "$out" 'bind ERR EADDRINUSE' "bind to the port of a plain TCP listener: EADDRINUSE"
out=$(probe sock6 chain "$PKI/server-chain.crt" key "$PKI/server.key" bind ::1 "$port" listen)
like "$out" 'bind OK listen OK' "the same port on ::1 is free: bind and listen succeed"

# ---- 4. closing or killing a listener releases its port -------------------
# try_bind PORT: until an SSA listener can bind and listen on PORT (2 s);
# prints the milliseconds it took
try_bind() {
	local t0 t1
	t0=$(date +%s%N)
	for _ in $(seq 40); do
		if [[ $(probe sock4 chain "$PKI/server-chain.crt" key "$PKI/server.key" bind 127.0.0.1 "$1" listen) =~ 'listen OK' ]]; then
			t1=$(date +%s%N)
			echo $(((t1 - t0) / 1000000))
			return 0
		fi
		sleep 0.05
	done
	echo never
	return 1
}
lport=$(free_port)
start_srv a ssa "$PROBE" sock4 chain "$PKI/server-chain.crt" key "$PKI/server.key" \
	bind 127.0.0.1 "$lport" listen serve
wait_line "$WORK/a.out" '^serving'
# A client connected before the listener goes; it must outlive it.
python3 -c "
import os,socket,ssl,sys,time
ctx=ssl.create_default_context(cafile='$PKI/ca.crt')
s=ctx.wrap_socket(socket.create_connection(('127.0.0.1',$lport),5),server_hostname='localhost')
s.sendall(b'a'); a=s.recv(10); print('connected', flush=True)
for _ in range(100):
    if os.path.exists('$WORK/go'): break
    time.sleep(0.05)
s.sendall(b'b'); b=s.recv(10); print('echo', (a+b).decode(), flush=True)
" >"$WORK/held.out" 2>&1 &
hpid=$!
wait_line "$WORK/held.out" '^connected'
c1=$(field connections)
srv_cmd a close
wait_line "$WORK/a.out" '^closed OK'
ok $? "listener closed by the server"
wait_field connections $((c1 - 1)) 10
ok $? "ssactl: the connection count drops by one within 1 s ($c1 -> $(field connections))"
ms=$(try_bind "$lport")
[ "$ms" != never ] && [ "$ms" -lt 1000 ]
ok $? "a second server binds the closed listener's port within 1 s (${ms} ms)"
touch "$WORK/go"
wait "$hpid"
like "$(cat "$WORK/held.out")" 'echo ab' "a connection accepted before the close still works"
srv_end a

start_srv b ssa "$PROBE" sock4 chain "$PKI/server-chain.crt" key "$PKI/server.key" \
	bind 127.0.0.1 "$lport" listen serve
wait_line "$WORK/b.out" '^serving'
bpid=$(srv_pid b)
c2=$(field connections)
kill -KILL "${bpid:-0}"
ms=$(try_bind "$lport")
[ "$ms" != never ] && [ "$ms" -lt 1000 ]
ok $? "SIGKILLed server: its port is free again within 1 s (${ms} ms)"
wait_field connections $((c2 - 1)) 10
ok $? "ssactl: the killed listener is gone ($c2 -> $(field connections))"

# ---- 5. clean shutdown -------------------------------------------------------
srv_end m
stop_ssad
ok $? "ssad exits cleanly"
! grep -qE 'ERROR: (Address|Leak|Thread)Sanitizer|runtime error:' "$WORK/ssad.log"
ok $? "no sanitizer report from ssad"
! cat "$WORK"/*.out | grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:'
ok $? "no sanitizer report from the servers under libssa"
done_testing
