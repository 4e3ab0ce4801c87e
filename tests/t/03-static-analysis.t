#!/usr/bin/env bash
# Static analysis of every C file under src/: cppcheck (warning, performance
# and portability checks) and clang-tidy (the clang static analyzer and the
# bugprone checks, as the top-level .clang-tidy selects them, every finding an
# error). Both are first run on a planted file with one bug each can see (a
# use after free, a read of an uninitialised variable, a leak on an error
# path), so that a tool that runs but checks nothing fails here.
# A finding is fixed, or, if it is wrong, the code is made plain enough for
# the tool (see git log for how the first ones were); no suppression list.
. "$(dirname "$0")/../lib.sh"
case "${SSA_BUILD:-build}" in
*-asan | *-tsan) skip_all "checks the sources, not a build: run once, with the plain build" ;;
esac
command -v cppcheck >/dev/null || skip_all "cppcheck not installed (scripts/install-deps.sh installs it)"
command -v clang-tidy >/dev/null || skip_all "clang-tidy not installed (scripts/install-deps.sh installs it)"
plan 4

cd "$TOP" || exit 1
FLAGS=(-std=c17 -D_GNU_SOURCE -Iinclude -DSSA_VERSION='"0"' -DSSA_LIBDIR='"/usr/lib"')
CPPCHECK=(cppcheck -q --std=c11 --enable=warning,performance,portability --inline-suppr
	-D_GNU_SOURCE -D__x86_64__ -DSSA_VERSION='"0"' -Iinclude --error-exitcode=1)

mkdir -p "$WORK/planted"
cat >"$WORK/planted/bugs.c" <<'C'
#include <stdlib.h>
#include <string.h>
int planted(int n);
int planted(int n)
{
	char *p = malloc(16), *q = malloc(16);
	int v;

	if (!p || !q)
		return -1;
	free(p);
	if (n > 3)
		return p[0];     /* use after free; q leaks */
	memset(q, 0, 16);
	free(q);
	return v;                /* uninitialised */
}
C
out=$("${CPPCHECK[@]}" "$WORK/planted/bugs.c" 2>&1)
like "$out" "deallocuse|uninitvar|memleak" "control: cppcheck finds the planted bugs"
out=$(clang-tidy -quiet --config-file="$TOP/.clang-tidy" "$WORK/planted/bugs.c" -- "${FLAGS[@]}" 2>&1)
like "$out" "Use of memory after it is freed|uninitialized|Potential leak" "control: clang-tidy finds the planted bugs"

out=$("${CPPCHECK[@]}" -j2 src 2>&1)
ok $? "cppcheck: no finding in src/"
[ -n "$out" ] && diag "$out"

# clang-tidy, one file at a time, two at once (about a minute here); each
# file's findings into its own log
cat >"$WORK/tidy1.sh" <<SH
#!/bin/sh
log="$WORK/tidy/\$(echo "\$1" | tr / _).log"
clang-tidy -quiet "\$1" -- -std=c17 -D_GNU_SOURCE -Iinclude -DSSA_VERSION='"0"' -DSSA_LIBDIR='"/usr/lib"' >"\$log" 2>&1 ||
	echo "\$1" >>"$WORK/tidy-failed"
SH
mkdir -p "$WORK/tidy"
: >"$WORK/tidy-failed"
find src -name '*.c' | sort | xargs -P2 -n1 sh "$WORK/tidy1.sh"
n=$(find src -name '*.c' | wc -l)
failed=$(sort "$WORK/tidy-failed" | tr '\n' ' ')
is "${failed:-none}" none "clang-tidy: no finding in the $n C files of src/"
for f in $failed; do
	diag "$f:"
	grep -E "(error|warning): " "$WORK/tidy/$(echo "$f" | tr / _).log" | head -n 20 | while read -r l; do diag "  $l"; done
done
done_testing
