#!/usr/bin/env bash
# The ssa generic netlink channel refuses what it must: no CAP_NET_ADMIN,
# unregistered ports, a second daemon, malformed attributes (strict policy),
# unknown ids and sequence numbers, DONE before ACCEPT, ACCEPT twice, success
# claimed without kernel TLS; and a vanished daemon fails pending connects at
# once. tests/kernel/progs/genl-negative.c plays the daemon and prints TAP
# (its header lists every expected outcome).
. "$(dirname "$0")/lib.sh"
kill_all_ssad
exec "$KP/genl-negative"
