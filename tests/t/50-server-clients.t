#!/usr/bin/env bash
# SSA servers (tests/progs/tls_server under libssa) against real clients:
# curl (HTTP/1.1, ALPN), openssl s_client (SNI picks the identity, TLS 1.2
# accepted, TLS 1.1 refused, client certificates), gnutls-cli, Python's ssl
# module, and SSA clients (tls_probe, Python through IPPROTO_TLS). Accepted
# sockets carry the real peer address; failed handshakes never reach the
# application; 1000 connections through an echo server and 200 concurrent
# clients on an epoll (edge-triggered, non-blocking) server move their data
# intact. Ends with a clean ssad exit and no sanitizer report.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
PY=/usr/bin/python3
CLIENTS=$TOP/tests/py/ssl_clients.py
[ -x $PY ] || skip_all "no /usr/bin/python3"
for tool in curl openssl gnutls-cli; do
	command -v $tool >/dev/null || skip_all "no $tool (scripts/install-deps.sh installs it)"
done
plan 73

start_ssad || exit 1

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

SERVERS=()
# start_server NAME ARGS...: tls_server ARGS under libssa on port 0; stdout
# in $WORK/NAME.out, stderr in $WORK/NAME.log. Sets $port from "READY <port>".
start_server() {
	local name=$1 i
	shift
	port=
	# Not through the ssa function: $! must be tls_server itself, for cleanup.
	LD_PRELOAD=$(ssa_preload) ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0} \
		"$B/tests/tls_server" -p 0 "$@" >"$WORK/$name.out" 2>"$WORK/$name.log" </dev/null &
	PIDS+=("$!")
	SERVERS+=("$name")
	for i in $(seq 100); do
		port=$(sed -n 's/^READY \([0-9]*\)$/\1/p' "$WORK/$name.out" 2>/dev/null)
		[ -n "$port" ] && return 0
		kill -0 "$!" 2>/dev/null || break
		sleep 0.05
	done
	diag "tls_server $name did not start:"
	sed 's/^/#   /' "$WORK/$name.log"
	return 1
}
accepts() { grep -c '^ACCEPT ' "$WORK/$1.out"; }
# last_info NAME: the info line of the server's last accepted connection
last_info() { sed -n 's/^INFO [0-9]* //p' "$WORK/$1.out" | tail -n 1; }

# s_client PORT ARGS...: one connection; waits for the server to close
s_client() {
	local p=$1
	shift
	timeout 10 openssl s_client -connect "127.0.0.1:$p" -CAfile "$PKI/ca.crt" \
		-verify_return_error -ign_eof "$@" 2>&1
}
subject_of() { sed -n 's/^subject=//p' <<<"$1" | head -n 1; }
# the info line a client printed (the server's view of the connection)
info_of() { grep -m1 -E '^(got=)?sni=' <<<"$1" | sed 's/^got=//'; }

curl_() { # curl_ PORT ARGS...
	local p=$1
	shift
	timeout 10 curl -sS -v --cacert "$PKI/ca.crt" --resolve "localhost:$p:127.0.0.1" \
		"$@" "https://localhost:$p/" 2>&1
}

SRV=(-c "$PKI/server-chain.crt" -k "$PKI/server.key")
OTHER=(-c "$PKI/other-chain.crt" -k "$PKI/other.key")

# ---- servers ---------------------------------------------------------------
started=0
start_server sni "${OTHER[@]}" "${SRV[@]}" -a h2,http/1.1 info && p_sni=$port && started=$((started + 1))
start_server h2first "${SRV[@]}" -a h2,http/1.1 http && p_h2first=$port && started=$((started + 1))
start_server h11 "${SRV[@]}" -a http/1.1 http && p_h11=$port && started=$((started + 1))
start_server h2only "${SRV[@]}" -a h2 http && p_h2only=$port && started=$((started + 1))
start_server require "${SRV[@]}" -A 2 -C "$PKI/ca.crt" info && p_req=$port && started=$((started + 1))
start_server request "${SRV[@]}" -A 1 -C "$PKI/ca.crt" info && p_opt=$port && started=$((started + 1))
start_server echo "${SRV[@]}" -6 echo && p_echo=$port && started=$((started + 1))
start_server info6 "${SRV[@]}" -6 info && p_info6=$port && started=$((started + 1))
start_server epoll "${SRV[@]}" -6 -n echo && p_epoll=$port && started=$((started + 1))
start_server epollhttp "${SRV[@]}" -n -a http/1.1 http && p_epollhttp=$port && started=$((started + 1))
is "$started" 10 "10 tls_servers listen (READY)"
[ "$started" -eq 10 ] || { done_testing; }

# bind(port 0), then getsockname: the kernel's port, reachable (tls_server
# also checks that getsockname after bind and after listen agree).
can_connect() { $PY -c "import socket,sys; socket.create_connection(('$1',$2),2).close()" 2>/dev/null; }
ok $([ "$p_sni" -gt 0 ] && can_connect 127.0.0.1 "$p_sni" && can_connect ::1 "$p_echo" &&
	! can_connect ::1 "$p_sni" && echo 0 || echo 1) \
	"getsockname after bind(port 0) gives the real port ($p_sni on 127.0.0.1 only, $p_echo on ::)"

# ssad's count of failed handshakes (the probes above count as such).
hs_failed() { "$B/bin/ssactl" status --json 2>&1 | sed -n 's/.*"handshakes_failed": *\([0-9]*\).*/\1/p'; }
failed0=$(hs_failed)

# ---- curl: HTTP/1.1 and ALPN -------------------------------------------------
out=$(curl_ "$p_h2first" --http1.1)
like "$out" $'\n< HTTP/1.1 200 OK' "curl --http1.1: HTTP/1.1 200 from the SSA server"
like "$out" 'ALPN: server accepted http/1.1' "curl --http1.1 to a server preferring h2,http/1.1: http/1.1 accepted"
like "$out" $'\nsni=localhost alpn=http/1.1 version=0x0304 cipher=TLS_AES_256_GCM_SHA384 peer=127\\.0\\.0\\.1 [0-9]+ identity=-' \
	"the page shows the server's view: SNI, TLS_ALPN, version, cipher"

out=$(curl_ "$p_h11")
like "$out" 'ALPN: offers h2,http/1.1' "curl (default) offers h2,http/1.1"
like "$out" 'ALPN: server accepted http/1.1' "server with ALPN http/1.1 chooses http/1.1"
like "$out" $'\n< HTTP/1.1 200 OK.*\nsni=localhost alpn=http/1.1 ' "curl (default) gets the page over HTTP/1.1"

out=$(curl_ "$p_h2first")
like "$out" 'ALPN: server accepted h2' "the server's ALPN order decides: h2 for a client offering h2,http/1.1"
like "$(last_info h2first)" '^sni=localhost alpn=h2 ' "TLS_ALPN on the accepted socket says h2"

out=$(curl_ "$p_h2only" --http1.1)
rc=$?
like "$rc:$out" '^35:.*no application protocol' "curl --http1.1 to an h2-only server: handshake fails (no_application_protocol alert)"
# The application must not have seen that connection; a good one after it is
# accepted (so the failed one was not merely late).
out=$(printf 'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n' |
	s_client "$p_h2only" -servername localhost -alpn h2 -quiet)
like "$out" 'sni=localhost alpn=h2 ' "an h2 client is served by the h2-only server"
is "$(accepts h2only)" 1 "the h2-only server accepted only the h2 connection"

# ---- openssl s_client: SNI picks the identity (first one is the default) ------
# Identities in order: other.test (default), localhost (with *.wild.test).
sni_case() { # sni_case WANT-SUBJECT WANT-SNI DESCRIPTION S_CLIENT-ARGS...
	local want=$1 wsni=$2 desc=$3 o
	shift 3
	o=$(s_client "$p_sni" "$@" </dev/null)
	is "$(subject_of "$o")" "CN = $want" "$desc: certificate CN = $want"
	like "$(info_of "$o")" "^sni=$wsni alpn=- version=0x0304 " "$desc: TLS_HOSTNAME on the server is '$wsni'"
}
sni_case localhost localhost "SNI localhost" -servername localhost
sni_case other.test other\\.test "SNI other.test" -servername other.test
sni_case other.test - "no SNI: the first identity" -noservername
sni_case localhost a\\.wild\\.test "SNI a.wild.test matches *.wild.test" -servername a.wild.test
sni_case other.test a\\.b\\.wild\\.test "SNI a.b.wild.test (no wildcard match): the default" -servername a.b.wild.test
sni_case other.test unknown\\.test "unknown SNI: the default" -servername unknown.test

out=$(s_client "$p_sni" -servername localhost -alpn http/1.1 </dev/null)
like "$out" 'ALPN protocol: http/1.1' "s_client -alpn http/1.1: negotiated"
like "$(info_of "$out")" '^sni=localhost alpn=http/1\.1 ' "TLS_ALPN on the server: http/1.1"
is "$(last_info sni)" "$(info_of "$out")" "the server printed the same info line it sent"

# ---- protocol versions -------------------------------------------------------
before=$(accepts sni)
out=$(s_client "$p_sni" -servername localhost -tls1_2 </dev/null)
like "$out" 'Protocol  *: TLSv1\.2' "s_client -tls1_2 connects"
like "$(info_of "$out")" '^sni=localhost alpn=- version=0x0303 cipher=TLS_ECDHE_ECDSA_WITH_AES_(256|128)_GCM_SHA(384|256) ' \
	"TLS 1.2: TLS_CHOSEN_VERSION 0x0303 and an ECDHE-ECDSA AEAD cipher"
out=$(s_client "$p_sni" -servername localhost -tls1_1 -cipher DEFAULT@SECLEVEL=0 </dev/null)
like "$out" 'alert protocol version' "s_client -tls1_1 is refused (protocol_version alert)"
out=$(s_client "$p_sni" -servername localhost -tls1 -cipher DEFAULT@SECLEVEL=0 </dev/null)
like "$out" 'alert protocol version' "s_client -tls1 is refused"
out=$(s_client "$p_sni" -servername server.test </dev/null)
like "$(info_of "$out")" '^sni=server\.test ' "a TLS 1.3 client after them is served"
is "$(accepts sni)" $((before + 2)) "the refused TLS 1.1 and 1.0 clients never reached accept()"

# ---- client certificates -----------------------------------------------------
CLIENT=(-cert "$PKI/client.crt" -key "$PKI/client.key" -cert_chain "$PKI/int.crt")
CLIENT_ID='subject=CN=client.test; san=DNS:client.test'
out=$(s_client "$p_req" -servername localhost "${CLIENT[@]}" </dev/null)
is "$(info_of "$out" | sed 's/.* identity=//')" "$CLIENT_ID" \
	"-A 2 with a client certificate: TLS_PEER_IDENTITY is the client's subject and SAN"
is "$(last_info require | sed 's/.* identity=//')" "$CLIENT_ID" "the server logged the same identity"
out=$(s_client "$p_req" -servername localhost </dev/null)
like "$out" 'alert certificate required' "-A 2 without a client certificate: certificate_required alert"
is "$(info_of "$out")" "" "... and no data from the application"
out=$(s_client "$p_req" -servername localhost -cert "$PKI/untrusted.crt" -key "$PKI/untrusted.key" </dev/null)
like "$out" 'alert unknown ca' "-A 2 with a certificate from another CA: unknown_ca alert"
out=$(s_client "$p_req" -servername localhost -cert "$PKI/client.crt" -key "$PKI/client.key" </dev/null)
like "$out" 'alert unknown ca' "-A 2 with the client leaf but not its intermediate (server trusts the root only): unknown_ca"
out=$(s_client "$p_req" -servername localhost "${CLIENT[@]}" </dev/null)
like "$(info_of "$out")" "identity=$CLIENT_ID\$" "a good client after the refused ones is served"
is "$(accepts require)" 2 "the refused clients never reached accept() (2 accepted: the good ones)"

out=$(s_client "$p_opt" -servername localhost </dev/null)
like "$(info_of "$out")" '^sni=localhost .* identity=-$' "-A 1 (request) without a client certificate: accepted, identity '-'"
out=$(s_client "$p_opt" -servername localhost "${CLIENT[@]}" </dev/null)
like "$(info_of "$out")" "identity=$CLIENT_ID\$" "-A 1 with a client certificate: identity shown"
out=$(s_client "$p_opt" -servername localhost -cert "$PKI/untrusted.crt" -key "$PKI/untrusted.key" </dev/null)
like "$out" 'alert unknown ca' "-A 1 with an untrusted certificate: refused all the same"
is "$(accepts request)" 2 "the -A 1 server accepted the 2 good clients only"

out=$(ssa "$B/tests/tls_server" "${SRV[@]}" -C "$PKI/ca.crt" -p 0 info 2>&1 </dev/null)
like "$?:$out" '^1:.*TLS_TRUSTED_PEER_CERTIFICATES.*EPERM .*app-trust-anchors' \
	"client CAs without TLS_REQUEST_PEER_AUTH first: EPERM (policy app-trust-anchors = no)"

# ---- gnutls-cli ----------------------------------------------------------------
out=$(printf 'hello gnutls\nline 2\n' |
	timeout 10 gnutls-cli --x509cafile "$PKI/ca.crt" -p "$p_echo" localhost 2>&1)
like "$out" 'The certificate is trusted' "gnutls-cli verifies the SSA server's chain"
like "$out" $'\nhello gnutls\nline 2\n' "gnutls-cli: the echo server returns the input"
like "$out" 'Peer has closed the GnuTLS connection' "gnutls-cli: half-close, then the server's close_notify"
out=$(timeout 10 gnutls-cli --x509cafile "$PKI/ca.crt" -p "$p_info6" localhost </dev/null 2>&1)
like "$out" $'\nsni=localhost alpn=- version=0x0304 ' "gnutls-cli's SNI reaches TLS_HOSTNAME"

# ---- Python's ssl module, and the real peer address --------------------------
# The server's peer= (from accept and getpeername) must be the client's own
# getsockname().
peer_case() { # peer_case DESCRIPTION WANT-PREFIX OUTPUT
	local lport srv
	lport=$(sed -n 's/^local=[^ ]* //p' <<<"$3")
	srv=$(info_of "$3" | sed -n 's/.* peer=\([^ ]* [0-9]*\) .*/\1/p')
	if [ -n "$lport" ] && [ "$srv" = "$2 $lport" ]; then pass "$1"; else
		fail "$1"; diag "client: $(grep -m1 '^local=' <<<"$3")"; diag "server: peer=$srv (want '$2 $lport')"
	fi
}
out=$($PY "$CLIENTS" line 127.0.0.1 "$p_sni" "$PKI/ca.crt" 2>&1)
like "$(info_of "$out")" '^sni=localhost alpn=- version=0x0304 ' "Python ssl client (cafile=ca.crt) connects and reads"
peer_case "IPv4 listener: peer= is the client's address and source port" 127.0.0.1 "$out"
out=$($PY "$CLIENTS" line ::1 "$p_info6" "$PKI/ca.crt" 2>&1)
peer_case "IPv6 listener, IPv6 client: peer=::1 and the client's port" ::1 "$out"
out=$($PY "$CLIENTS" line 127.0.0.1 "$p_info6" "$PKI/ca.crt" 2>&1)
peer_case "IPv6 (::) listener, IPv4 client: peer=::ffff:127.0.0.1 and the client's port" ::ffff:127.0.0.1 "$out"

# ---- SSA client against SSA server --------------------------------------------
for a in 127.0.0.1 ::1; do
	out=$(ssa "$B/tests/tls_probe" -q -n localhost -s hello "$a" "$p_info6" 2>&1)
	like "$out" '^OK version=0x0304 cipher=TLS_AES_256_GCM_SHA384' "tls_probe -n localhost $a: handshake with the SSA server"
	lport=$(sed -n 's/^local=[^ ]* //p' <<<"$out")
	want=$a
	[ "$a" = 127.0.0.1 ] && want=::ffff:127.0.0.1
	like "$(info_of "$out")" "^sni=localhost alpn=- version=0x0304 cipher=TLS_AES_256_GCM_SHA384 peer=$want $lport identity=-\$" \
		"tls_probe $a: the server sees SNI localhost and the client's own address $want $lport"
done
out=$(ssa $PY "$CLIENTS" --ssa echo 127.0.0.1 "$p_echo" "$PKI/ca.crt" 100 4 2>&1)
like "$out" '^echo: 100 ok, 0 failed' "100 SSA clients (Python, IPPROTO_TLS, half-close) through the SSA echo server over IPv4"
out=$(ssa $PY "$CLIENTS" --ssa echo ::1 "$p_echo" "$PKI/ca.crt" 100 4 2>&1)
like "$out" '^echo: 100 ok, 0 failed' "... and over IPv6"

# ---- 1000 connections through the echo server ------------------------------------
n0=$(accepts echo)
t0=$(now)
out=$($PY "$CLIENTS" echo 127.0.0.1 "$p_echo" "$PKI/ca.crt" 1000 4 2>&1)
diag "1000 echo connections (Python ssl, 4 at a time, 1-16 KiB each): $(head -n 1 <<<"$out") [$(elapsed "$t0") s wall]"
like "$out" '^echo: 1000 ok, 0 failed' "1000 connections, each a random 1-16 KiB payload echoed intact"
is "$(($(accepts echo) - n0))" 1000 "the echo server accepted exactly 1000 connections"
# The checker catches a server that does not echo.
out=$($PY "$CLIENTS" echo 127.0.0.1 "$p_info6" "$PKI/ca.crt" 3 1 2>&1)
like "$?:$out" '^1:echo: 0 ok, 3 failed.*connection 0: RuntimeError: EOF after [0-9]+ of [0-9]+ bytes' \
	"negative control: the echo checker fails against a server that does not echo"

# ---- epoll server: non-blocking accept4, edge-triggered ---------------------------
t0=$(now)
out=$($PY "$CLIENTS" echo 127.0.0.1 "$p_epoll" "$PKI/ca.crt" 200 200 --barrier 2>&1)
diag "200 concurrent clients on the epoll server: $(head -n 1 <<<"$out") [$(elapsed "$t0") s wall]"
like "$out" '^echo: 200 ok, 0 failed' "epoll server: 200 concurrent Python ssl clients (all connected at once), echoes intact"
out=$($PY "$CLIENTS" echo ::1 "$p_epoll" "$PKI/ca.crt" 300 8 2>&1)
like "$out" '^echo: 300 ok, 0 failed' "epoll server: 300 more over IPv6, 8 at a time"
is "$(accepts epoll)" 500 "epoll server accepted 500 connections"
sleep 0.3
log=$(head -n 5 "$WORK/epoll.log")
is "$log" "" "epoll server: no error, no event for a closed descriptor"
out=$(curl_ "$p_epollhttp" --http1.1)
like "$out" $'\nsni=localhost alpn=http/1.1 version=0x0304 ' "epoll server in http mode serves curl"

# ---- the end ---------------------------------------------------------------------
sleep 0.3
errs=
for s in "${SERVERS[@]}"; do
	[ "$s" = epoll ] && continue
	[ -s "$WORK/$s.log" ] && errs+="$s: $(head -n 3 "$WORK/$s.log")"$'\n'
done
is "$errs" "" "no tls_server logged an error (no failed read/write/getsockopt, no address mismatch)"
# ALPN, TLS 1.1, TLS 1.0, 3 refused client certificates with -A 2, 1 with -A 1
is "$(($(hs_failed) - ${failed0:-0}))" 7 "ssactl status counts the 7 refused handshakes"

stop_ssad
ok $? "ssad exits with status 0 on SIGTERM"
if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$WORK/ssad.log"; then
	fail "no sanitizer report from ssad"
	grep -E -A 20 'AddressSanitizer|LeakSanitizer|runtime error' "$WORK/ssad.log" | head -n 40 | sed 's/^/#   /'
else
	pass "no sanitizer report from ssad"
fi
done_testing
