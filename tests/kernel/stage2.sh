#!/bin/bash
# Guest PID 1 for `make check-kernel`, running in the host's userland
# (read-only 9p root, tmpfs /tmp and /run, writable RUN directory).
#   stage2.sh TOP RUN KVER
# Loads tls and ssa.ko, runs every tests/kernel/guest/*.t, and writes the
# results between markers to the second serial port (the host parses it;
# the kernel's own console is the first). Powers off through isa-debug-exit
# with the number of failed tests (capped at 100).
TOP=$1 RUN=$2 KVER=$3
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/tmp LANG=C.UTF-8 TMPDIR=/tmp TERM=dumb
exec >/dev/ttyS1 2>&1 </dev/null

mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
ip link set lo up
hostname ssa-guest

if [ ! -r "$RUN/env.sh" ]; then
	echo "# stage2: $RUN/env.sh is not visible in the guest"
	echo "SSA-KTEST-DONE rc=99"
	printf '\x63' | dd of=/dev/port bs=1 seek=244 count=1 conv=notrunc status=none
fi
# shellcheck disable=SC1091
. "$RUN/env.sh"      # SSA_BUILD SSA_TEST_PKI SSA_KPROGS SSA_KO ... from run.sh
export SSA_BUILD SSA_TEST_PKI SSA_KPROGS SSA_KO SSA_KVER=$KVER CI=${CI:-}
export SSA_KBENCH SSA_KBENCH_OUT SSA_KBENCH_STEPS SSA_KBENCH_RUNS SSA_KSTRESS
[ -n "${SSA_KBENCH_STEPS:-}" ] || unset SSA_KBENCH_STEPS
[ -n "${SSA_KBENCH_RUNS:-}" ] || unset SSA_KBENCH_RUNS

echo "SSA-KTEST-BOOTED $KVER $(uname -r) $(cut -d' ' -f1 /proc/uptime)s"
# Module loading is itself tested in 01-module.t; load here so every test
# sees the same state, and report what happened.
modprobe tls && echo "# modprobe tls: ok" || echo "# modprobe tls: FAILED"
if [ -f "$SSA_KO" ]; then
	insmod "$SSA_KO" && echo "# insmod ssa.ko: ok" || echo "# insmod ssa.ko: FAILED"
else
	echo "# no ssa.ko was built"
fi

nfailed=0
for t in "$TOP"/tests/kernel/guest/[0-9]*.t; do
	# SSA_KTESTS: space-separated name substrings (empty: all)
	if [ -n "${SSA_KTESTS:-}" ]; then
		m=0
		for w in $SSA_KTESTS; do case ${t##*/} in *"$w"*) m=1 ;; esac; done
		[ $m = 1 ] || continue
	fi
	name=${t##*/}
	echo "SSA-KTEST-BEGIN $name"
	start=$(cut -d' ' -f1 /proc/uptime)
	timeout -k 5 "${SSA_KTEST_TIMEOUT:-90}" bash "$t"
	rc=$?
	echo "SSA-KTEST-END $name rc=$rc time=$(awk -v s="$start" '{printf "%.1f", $1 - s}' /proc/uptime)s"
	[ $rc -eq 0 ] || nfailed=$((nfailed + 1))
	# Nothing a test left behind (after a timeout, say) may reach the next
	# one: a leftover ssad would keep the module's registration.
	for p in $(pidof ssad openssl python3 kserver kclient kclient-static gosock); do
		kill -KILL "$p" 2>/dev/null
	done
done
dmesg >"$RUN/dmesg.txt" 2>&1
sync
echo "SSA-KTEST-DONE rc=$nfailed uptime=$(cut -d' ' -f1 /proc/uptime)s"
[ $nfailed -gt 100 ] && nfailed=100
# isa-debug-exit: QEMU exits with (code << 1) | 1.
printf "\\x$(printf %02x "$nfailed")" | dd of=/dev/port bs=1 seek=244 count=1 conv=notrunc status=none
# Not reached under QEMU with isa-debug-exit; otherwise power off.
echo o >/proc/sysrq-trigger
sleep 10
