#!/usr/bin/env bash
# SSA clients (examples/https-get, tests/progs/tls_probe) against openssl s_server:
# HTTPS page over IPv4 and IPv6, by name and by address, with real addresses
# and connection properties visible through getsockopt/getpeername.
. "$(dirname "$0")/../lib.sh"
plan 17
start_ssad || exit 1
port=$(free_port)
start_s_server "$port" -cert "$PKI/server.crt" -key "$PKI/server.key" -cert_chain "$PKI/int.crt" -www

out=$(ssa "$B/examples/https-get" localhost "$port" / 2>&1)
like "$out" '^HTTP/1.0 200 ok' "https-get localhost (name verified, IPv4 or IPv6 from the resolver)"
like "$out" 'Protocol  *: TLSv1.3' "s_server saw a TLS 1.3 session"

out=$(ssa "$B/examples/https-get" 127.0.0.1 "$port" / 2>&1)
like "$out" '^HTTP/1.0 200 ok' "https-get 127.0.0.1 (certificate valid for the IP address)"

out=$(ssa "$B/examples/https-get" ::1 "$port" / 2>&1)
like "$out" '^HTTP/1.0 200 ok' "https-get ::1 over IPv6"

out=$(ssa "$B/tests/tls_probe" -q -n localhost 127.0.0.1 "$port")
like "$out" '^OK version=0x0304 cipher=TLS_AES_256_GCM_SHA384' "TLS_CHOSEN_VERSION and TLS_CHOSEN_CIPHER"
like "$out" 'identity=subject=CN=localhost; san=DNS:localhost,DNS:server.test,DNS:\*\.wild\.test,IP:127\.0\.0\.1,IP:::1' "TLS_PEER_IDENTITY gives subject and SANs"
like "$out" 'chain_certs=2 ' "TLS_PEER_CERTIFICATE_CHAIN holds leaf and intermediate"
like "$out" "peer=127.0.0.1 $port" "getpeername gives the real peer address"
like "$out" 'local=127\.0\.0\.1 [0-9]+' "getsockname gives the real local address"
like "$out" 'id=[0-9a-f]{16}' "TLS_ID is a 64-bit value"
id1=$(sed -n 's/^id=//p' <<<"$out")
id2=$(ssa "$B/tests/tls_probe" -q -n localhost 127.0.0.1 "$port" | sed -n 's/^id=//p')
ok $([ -n "$id1" ] && [ "$id1" != "$id2" ] && echo 0 || echo 1) "TLS_ID differs between sockets ($id1 vs $id2)"

out=$(ssa "$B/tests/tls_probe" -q -n localhost ::1 "$port")
like "$out" "peer=::1 $port" "IPv6 getpeername"
like "$out" '^OK ' "IPv6 handshake by name"

# Wildcard and other SAN names; SNI reaches the server.
out=$(ssa "$B/tests/tls_probe" -n a.wild.test 127.0.0.1 "$port")
like "$out" '^OK ' "wildcard certificate name *.wild.test matches a.wild.test"
out=$(ssa "$B/tests/tls_probe" -n a.b.wild.test 127.0.0.1 "$port")
like "$out" '^ERR EPROTO .*hostname' "wildcard does not match two labels"

# TLS 1.2 server: negotiated version is reported as 0x0303.
port2=$(free_port)
start_s_server "$port2" -cert "$PKI/server-rsa.crt" -key "$PKI/server-rsa.key" -cert_chain "$PKI/int.crt" -www -tls1_2
out=$(ssa "$B/tests/tls_probe" -n localhost 127.0.0.1 "$port2")
like "$out" '^OK version=0x0303 cipher=TLS_ECDHE_RSA_WITH_AES_(256|128)_GCM_SHA(384|256)' "TLS 1.2 with an RSA server certificate"

stop_ssad
ok $? "ssad exits cleanly"
done_testing
