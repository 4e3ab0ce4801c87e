#!/usr/bin/env bash
# Bad peers make connect() fail with EPROTO and a TLS_ERROR reason, as with
# the userspace front end; a closed port gives ECONNREFUSED.
. "$(dirname "$0")/lib.sh"
plan 8
pki
# All the servers start at once (each takes a while under TCG), with ssad.
serve_bg p_expired expired
serve_bg p_wrongname wrongname
serve_bg p_selfsigned selfsigned
p_untrusted=$(free_port)
openssl s_server -accept "$p_untrusted" -cert "$PKI/untrusted.crt" -key "$PKI/untrusted.key" -www \
	>>"$WORK/s_server.log" 2>&1 </dev/null &
PIDS+=("$!")
kstart_ssad || diag "ssad did not start"
for p in $p_expired $p_wrongname $p_selfsigned $p_untrusted; do wait_port 127.0.0.1 "$p" || diag "no server on $p"; done
probe() { "$KC" "$@" 2>&1; }

like "$(probe -n localhost 127.0.0.1 "$p_expired")" '^ERR EPROTO .*reason=certificate has expired' "expired certificate"
like "$(probe -n localhost 127.0.0.1 "$p_wrongname")" '^ERR EPROTO .*reason=certificate does not match the requested hostname' "wrong hostname"
like "$(probe -n localhost 127.0.0.1 "$p_selfsigned")" '^ERR EPROTO .*reason=certificate is self-signed' "self-signed certificate"
port=$p_untrusted
like "$(probe -n localhost 127.0.0.1 "$port")" '^ERR EPROTO .*reason=certificate issued by an unknown CA' "unknown CA"
# the static client sees the same
like "$("$KP/kclient-static" -n localhost 127.0.0.1 "$port" 2>&1)" '^ERR EPROTO .*reason=certificate issued by an unknown CA' "unknown CA (static client)"

port=$(free_port)
like "$(probe -n localhost 127.0.0.1 "$port")" '^ERR ECONNREFUSED ' "closed port: ECONNREFUSED"
like "$(probe -n localhost ::1 "$port")" '^ERR ECONNREFUSED ' "closed port over IPv6: ECONNREFUSED"

# The handshake with a peer that is not TLS at all fails, it does not hang.
port=$(free_port)
python3 -m http.server --bind 127.0.0.1 "$port" >"$WORK/http.log" 2>&1 &
PIDS+=("$!"); wait_port 127.0.0.1 "$port"
like "$(timeout 20 "$KC" -n localhost 127.0.0.1 "$port" 2>&1)" '^ERR EPROTO ' "plain HTTP peer: EPROTO"
done_testing
