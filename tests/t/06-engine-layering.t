#!/usr/bin/env bash
# The TLS engine (src/ssad/engine/) knows neither front end: none of its
# files includes a header of src/ssad/libssa_front/, src/ssad/kernel_front/
# or the daemon's (daemon.h), so that both front ends call one engine and a
# fix of the engine reaches both (issue 13). Nor do the front ends know each
# other: neither includes a header of the other's folder (the kernel front
# end sets options with the engine's option table, not through libssa's
# connections).
. "$(dirname "$0")/../lib.sh"

plan 5
ssad="$TOP/src/ssad"

# The quoted includes of the files of folder $1 that resolve (against the
# including file's folder) to one of the glob patterns $2...: "file includes
# header", one a line.
bad_includes() {
	local dir=$1 f inc p pat
	shift
	for f in "$dir"/*.[ch]; do
		[ -e "$f" ] || continue
		while IFS= read -r inc; do
			p=$(realpath -m "$dir/$inc")
			for pat in "$@"; do
				# shellcheck disable=SC2053 # $pat is a glob
				[[ $p == $pat ]] && echo "${f#"$TOP"/} includes $inc"
			done
		done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
	done
}

files=("$ssad"/engine/*.[ch])
[ -e "${files[0]}" ]; ok $? "the engine has files (${#files[@]})"
is "$(bad_includes "$ssad/engine" "$ssad/libssa_front/*" "$ssad/kernel_front/*" "$ssad/daemon.h")" "" \
	"no engine file includes a front-end or daemon header"
is "$(bad_includes "$ssad/kernel_front" "$ssad/libssa_front/*")" "" \
	"no kernel front end file includes a header of the libssa front end"
is "$(bad_includes "$ssad/libssa_front" "$ssad/kernel_front/*")" "" \
	"no libssa front end file includes a header of the kernel front end"
# The check itself finds such an include.
mkdir -p "$WORK/ssad/engine" "$WORK/ssad/libssa_front"
printf '#include "../libssa_front/conn.h"\n' >"$WORK/ssad/engine/cache.c"
is "$(bad_includes "$WORK/ssad/engine" "$WORK/ssad/libssa_front/*")" \
	"${WORK#"$TOP"/}/ssad/engine/cache.c includes ../libssa_front/conn.h" \
	"control: an include of a front-end header is recognised"
done_testing
