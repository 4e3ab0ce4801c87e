#!/usr/bin/env bash
# The cmocka unit tests (tests/unit/*.c): built for this build directory
# (with the sanitizers for build-asan) by `make unit`, run with cmocka's TAP
# output, and renumbered into this script's TAP stream.
. "$(dirname "$0")/../lib.sh"

[ -f /usr/include/cmocka.h ] || skip_all "cmocka is not installed (libcmocka-dev)"

san=
case $(basename "$SSA_BUILD") in *asan*) san=SAN=1 ;; esac
if ! out=$(make -s -C "$TOP" BUILD="$SSA_BUILD" $san unit 2>&1); then
	plan 1
	fail "make BUILD=$SSA_BUILD $san unit"
	sed 's/^/#   /' <<<"$out" | tail -n 40
	exit 1
fi

bins=()
for f in "$TOP"/tests/unit/*.c; do
	bins+=("$(basename "$f" .c)")
done
[ ${#bins[@]} -gt 0 ] || skip_all "no unit tests"

# Run everything first: the plan is the sum of cmocka's own plans (fixed at
# compile time) plus one exit-status check per binary.
total=0
declare -A rcs plans
for t in "${bins[@]}"; do
	CMOCKA_MESSAGE_OUTPUT=TAP timeout 120 "$B/unit/$t" >"$WORK/$t.tap" 2>"$WORK/$t.err"
	rcs[$t]=$?
	p=$(sed -n 's/^1\.\.\([0-9][0-9]*\).*/\1/p' "$WORK/$t.tap" | head -n 1)
	plans[$t]=${p:-0}
	total=$((total + ${p:-0} + 1))
done
plan "$total"

for t in "${bins[@]}"; do
	seen=0
	while IFS= read -r line; do
		case $line in
		"ok "*) seen=$((seen + 1)); pass "$t: ${line#ok * - }" ;;
		# cmocka 1.1 prints skipped tests as "not ok N # SKIP name"
		"not ok "*"# SKIP "*) seen=$((seen + 1)); pass "$t: ${line##*# SKIP } # SKIP known bug" ;;
		"not ok "*) seen=$((seen + 1)); fail "$t: ${line#not ok * - }" ;;
		"#"*) echo "$line" ;;
		esac
	done <"$WORK/$t.tap"
	while [ "$seen" -lt "${plans[$t]}" ]; do
		seen=$((seen + 1))
		fail "$t: test $seen did not run"
	done
	is "${rcs[$t]}" 0 "$t: exit status"
	if [ "${rcs[$t]}" != 0 ] && [ -s "$WORK/$t.err" ]; then
		sed 's/^/#   /' "$WORK/$t.err" | head -n 40
	fi
done
done_testing
