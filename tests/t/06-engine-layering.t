#!/usr/bin/env bash
# The TLS engine (src/ssad/engine/) knows neither front end: none of its
# files includes a header of src/ssad/libssa_front/, src/ssad/kernel_front/
# or the daemon's (daemon.h), so that both front ends call one engine and a
# fix of the engine reaches both (issue 13).
. "$(dirname "$0")/../lib.sh"

plan 3
engine="$TOP/src/ssad/engine"
files=("$engine"/*.[ch])
[ -e "${files[0]}" ]; ok $? "the engine has files (${#files[@]})"
# Every quoted include, resolved against the including file's folder.
bad=
for f in "${files[@]}"; do
	while IFS= read -r inc; do
		p=$(realpath -m "$engine/$inc")
		case $p in
		"$TOP"/src/ssad/libssa_front/* | "$TOP"/src/ssad/kernel_front/* | "$TOP"/src/ssad/daemon.h)
			bad+="${f#"$TOP"/} includes $inc"$'\n' ;;
		esac
	done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
done
is "$bad" "" "no engine file includes a front-end or daemon header"
# The check itself finds such an include.
sample=$(printf '#include "../libssa_front/conn.h"\n' |
	sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p')
is "$(realpath -m "$engine/$sample")" "$TOP/src/ssad/libssa_front/conn.h" "control: an include of a front-end header is recognised"
done_testing
