#!/usr/bin/env bash
# Build the libFuzzer targets (make fuzz) and run each for a few seconds
# from the seed corpus. The fuzzers carry their own ASan+UBSan build, so this
# runs once, for the plain build only. Longer runs: make fuzz-run FUZZ_SECONDS=N.
. "$(dirname "$0")/../lib.sh"

case $(basename "$SSA_BUILD") in
*asan*) skip_all "fuzzers are sanitized already: run for the plain build only" ;;
esac
command -v "${FUZZ_CC:-clang}" >/dev/null 2>&1 || skip_all "clang not installed"
SECONDS_EACH=${FUZZ_SMOKE_SECONDS:-10}

targets=(wire config genl handover keeper notify priv)
plan $((1 + ${#targets[@]}))

out=$(make -s -C "$TOP" fuzz 2>&1)
rc=$?
ok $rc "make fuzz"
[ $rc -eq 0 ] || sed 's/^/#   /' <<<"$out" | tail -n 40

for t in "${targets[@]}"; do
	bin=$TOP/build-fuzz/fuzz_$t
	if [ ! -x "$bin" ]; then
		fail "fuzz_$t runs ${SECONDS_EACH}s without a finding (not built)"
		continue
	fi
	# New inputs go to a scratch corpus; the seeds in fuzz/corpus stay as they are.
	mkdir -p "$WORK/corpus-$t"
	(cd "$WORK" && "$bin" -max_total_time="$SECONDS_EACH" -print_final_stats=1 \
		-dict="$TOP/fuzz/$t.dict" -artifact_prefix="$WORK/crash-$t-" \
		"$WORK/corpus-$t" "$TOP/fuzz/corpus/$t" >"$WORK/fuzz-$t.log" 2>&1)
	rc=$?
	ok $rc "fuzz_$t runs ${SECONDS_EACH}s without a finding"
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$WORK/fuzz-$t.log")
	diag "fuzz_$t: ${runs:-?} inputs"
	if [ $rc -ne 0 ]; then
		grep -E -A 25 'ERROR|runtime error|SUMMARY|deadly signal' "$WORK/fuzz-$t.log" | head -n 50 | sed 's/^/#   /'
		for a in "$WORK"/crash-"$t"-*; do
			[ -f "$a" ] && diag "input ($(basename "$a")): $(xxd -p "$a" | tr -d '\n' | head -c 400)"
		done
	fi
done
done_testing
