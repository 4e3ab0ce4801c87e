#!/usr/bin/env bash
# The benchmark harness (bench/run.py driving ssa-bench) runs every
# measurement for every configuration — in-process OpenSSL, SSA client,
# SSA server, SSA on both ends, stunnel4 — at tiny sizes, and writes
# valid JSON with a figure for each. No timing is asserted: this only keeps
# the benchmark code from rotting (make bench measures; see
# docs/performance.md).
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/../lib.sh"
[ -x "$B/bench/ssa-bench" ] || skip_all "$B/bench/ssa-bench not built"
command -v stunnel4 >/dev/null || skip_all "no stunnel4 (scripts/install-deps.sh installs it)"

plan 6

out=$WORK/results
python3 "$TOP/bench/run.py" --build "$B" --smoke --out "$out" >"$WORK/bench.out" 2>"$WORK/bench.log"
rc=$?
ok $rc "bench/run.py --smoke completes without a failed measurement"
[ $rc -eq 0 ] || { sed 's/^/#   /' "$WORK/bench.out" | grep -A20 'Problems'; tail -n 20 "$WORK/bench.log" | sed 's/^/#   /'; }

json=$out/latest-smoke.json
check=$(python3 - "$json" <<'PY' 2>&1
import json, sys
d = json.load(open(sys.argv[1]))
figs = d["figures"]
miss = []
# Every configuration has every figure it should have.
for f, fd in figs.items():
    for c in "abcde":
        cell = fd["configs"][c]
        want = True
        # Counts per connection (issue 15): round trips and ssad's context
        # switches exist where ssad serves an end; no ratio to a baseline
        # whose count is 0 by definition.
        # CPU time per connection likewise (ssad's where it serves an end,
        # the client's everywhere); counted in clock ticks, so a smoke run's
        # few connections may read 0.
        cpu = fd["unit"] == "cpu-µs"
        count = fd["unit"] in ("rt", "cs") or cpu
        if f == "resume_ecdsa_c1" or (count and f.endswith("_resume")):
            want = c != "e"  # stunnel4 resumption is not measured
        if f.startswith(("rt_", "cs_ssad_", "cpu_ssad_")):
            want = c in "bcd"
        least = 0 if cpu else 1e-9
        if want and not (isinstance(cell.get("median"), (int, float)) and cell["median"] >= least):
            miss.append(f"{f}/{c}")
        if want and c != "a" and f != "held" and not count and "ratio" not in cell:
            miss.append(f"{f}/{c} ratio")
print("missing: " + ", ".join(miss) if miss else "complete")
print(f"targets {len(d['targets'])}")
print(f"problems {len(d['problems'])}")
PY
)
like "$check" 'complete' "the JSON has a median (and a ratio to the baseline) for every figure and configuration"
like "$check" 'targets [1-9][0-9]*' "the JSON judges the targets"
like "$check" 'problems 0' "no problem recorded during the run"
md=$(cat "$out/latest-smoke.md" 2>/dev/null)
like "$md" 'SMOKE' "the markdown table says it is a smoke run"
like "$md" '\| 64-byte round trip p50 ↓ \| µs \| [0-9.]+ \| [0-9.]+ \(' "the markdown table has ratios"
[[ $check == complete* ]] || diag "$check"

done_testing
