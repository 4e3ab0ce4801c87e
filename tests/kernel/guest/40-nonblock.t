#!/usr/bin/env bash
# Non-blocking connect: EINPROGRESS, the fd becomes writable only when the
# handshake is over, SO_ERROR gives 0 or the failure's errno.
. "$(dirname "$0")/lib.sh"
plan 7
kstart_ssad || diag "ssad did not start"
serve server
out=$("$KC" -N -n localhost -g / 127.0.0.1 "$port" 2>&1)
like "$out" '^NB connect=EINPROGRESS' "connect returns EINPROGRESS"
like "$out" $'\nNB poll=1 revents=OUT so_error=0\n' "POLLOUT after the handshake, SO_ERROR 0"
like "$out" $'\nOK version=0x0304 .*\nREPLY HTTP/1.0 200 ok' "then the connection works"

serve expired
out=$("$KC" -N -n localhost 127.0.0.1 "$port" 2>&1)
like "$out" $'\nNB poll=1 revents=OUT(ERR)?(HUP)? so_error=EPROTO\n' "failed handshake: SO_ERROR is EPROTO"
like "$out" $'\nERR EPROTO .*reason=certificate has expired' "TLS_ERROR gives the reason"

port=$(free_port)
out=$("$KC" -N -n localhost 127.0.0.1 "$port" 2>&1)
like "$out" '(^ERR ECONNREFUSED|so_error=ECONNREFUSED)' "closed port: ECONNREFUSED"
like "$out" 'ERR ECONNREFUSED' "and the client reports it"
done_testing
