#!/usr/bin/env bash
# ssa.ko is loaded and registered IPPROTO_TLS; the kernel marks it.
. "$(dirname "$0")/lib.sh"
plan 3
[ -f "$SSA_KO" ]; ok $? "ssa.ko was built for $SSA_KVER"
module_loaded; ok $? "ssa.ko is loaded"
modinfo -F license "$SSA_KO" 2>/dev/null | grep -qx 'GPL'; ok $? "ssa.ko license is GPL"
done_testing
