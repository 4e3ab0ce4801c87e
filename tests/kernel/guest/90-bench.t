#!/usr/bin/env bash
# The benchmark (bench/run.py) inside the guest, whose kernel has TLS: the
# same run once with libssa's kernel-TLS data path (SSA_KTLS unset: blocking
# connects and accepted connections hand the TCP socket with TLS_TX/TLS_RX to
# the application, and data never passes through ssad) and once with the
# proxy path (SSA_KTLS=0). Only `make bench-kernel` runs it (SSA_KBENCH=1):
# it takes minutes under TCG, and under TCG only the ratios between
# configurations of the same run mean anything, not the absolute figures.
# Results: RUN/bench-ktls/ and RUN/bench-proxy/ (latest-quick.md, .json).
. "$(dirname "$0")/lib.sh"
[ -n "${SSA_KBENCH:-}" ] || skip_all "benchmarks run with make bench-kernel"
plan 5
UB=$TOP/build
[ -x "$UB/bench/ssa-bench" ] || diag "no $UB/bench/ssa-bench (make bench-quick builds it)"
grep -q '^tls ' /proc/modules || modprobe tls 2>/dev/null
# The kernel front end plays no part: libssa takes IPPROTO_TLS sockets first.
rmmod ssa 2>/dev/null
OUT=${SSA_KBENCH_OUT:-$WORK}
STEPS=${SSA_KBENCH_STEPS:-hs-ecdsa,bulk-aes,bulk-chacha}
RUNS=${SSA_KBENCH_RUNS:-3}

bench() { # bench NAME [ENV...]: one quick run into $OUT/bench-NAME
	local name=$1
	shift
	env "$@" SSA_BENCH_COMMIT="${SSA_BENCH_COMMIT:-guest}" python3 "$TOP/bench/run.py" \
		--build "$UB" --quick --runs "$RUNS" --only "$STEPS" --out "$OUT/bench-$name" \
		>"$WORK/bench-$name.log" 2>&1
}

tx0=$(tls_stat TlsTxSw)
bench ktls
ok $? "bench with the kernel-TLS data path ran"
tx1=$(tls_stat TlsTxSw)
diag "kernel TLS sessions opened (TlsTxSw): $((tx1 - tx0))"
ok $([ $((tx1 - tx0)) -gt 0 ] && echo 0 || echo 1) "SSA connections used kernel TLS (TlsTxSw +$((tx1 - tx0)))"
bench proxy SSA_KTLS=0
ok $? "bench with the proxy path (SSA_KTLS=0) ran"
tx2=$(tls_stat TlsTxSw)
ok $([ $((tx2 - tx1)) -eq 0 ] && echo 0 || echo 1) "SSA_KTLS=0: no kernel TLS (TlsTxSw +$((tx2 - tx1)))"
for name in ktls proxy; do
	diag "---- $name: $OUT/bench-$name/latest-quick.md"
	sed -n '/^| figure/,/^$/p' "$OUT/bench-$name/latest-quick.md" 2>/dev/null | sed 's/^/# /'
done
problems=$(grep -h -A20 '^### Problems' "$OUT"/bench-*/latest-quick.md 2>/dev/null)
[ -z "$problems" ] || diag "$problems"
ok $([ -z "$problems" ] && echo 0 || echo 1) "no problem recorded in either run"
done_testing
