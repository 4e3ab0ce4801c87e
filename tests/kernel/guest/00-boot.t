#!/usr/bin/env bash
# The guest itself: right kernel, host userland, kernel TLS available.
. "$(dirname "$0")/lib.sh"
plan 4
is "$(uname -r)" "$SSA_KVER" "booted the kernel under test"
[ -x "$B/sbin/ssad" ]; ok $? "host-built ssad visible in the guest"
grep -q '^tls ' /proc/modules; ok $? "tls module loaded (modprobe works after switch_root)"
[ -r /proc/net/tls_stat ]; ok $? "/proc/net/tls_stat present"
done_testing
