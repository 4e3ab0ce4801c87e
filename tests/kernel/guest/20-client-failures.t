#!/usr/bin/env bash
# Bad peers make connect() fail with EPROTO and a TLS_ERROR reason, as with
# the userspace front end; a closed port gives ECONNREFUSED.
. "$(dirname "$0")/lib.sh"
plan 8
kstart_ssad || diag "ssad did not start"
probe() { "$KC" "$@" 2>&1; }

serve expired
like "$(probe -n localhost 127.0.0.1 "$port")" '^ERR EPROTO .*reason=certificate has expired' "expired certificate"
serve wrongname
like "$(probe -n localhost 127.0.0.1 "$port")" '^ERR EPROTO .*reason=certificate does not match the requested hostname' "wrong hostname"
serve selfsigned
like "$(probe -n localhost 127.0.0.1 "$port")" '^ERR EPROTO .*reason=certificate is self-signed' "self-signed certificate"
port=$(free_port)
start_s_server "$port" -cert "$PKI/untrusted.crt" -key "$PKI/untrusted.key" -www
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
