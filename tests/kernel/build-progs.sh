#!/usr/bin/env bash
# build-progs.sh OUTDIR: build the guest test programs on the host.
#   tests/kernel/progs/*.c   -> OUTDIR/NAME         (gcc, dynamic)
#   kclient.c                -> OUTDIR/kclient-static (gcc -static)
#   tests/kernel/progs/*.go  -> OUTDIR/NAME         (Debian's golang-go, CGO off,
#                                                    stdlib only, caches in build-kernel/)
# They use only include/ssa/in_tls.h (and libc / Go's syscall package).
set -eu
TOP=$(cd "$(dirname "$0")/../.." && pwd)
out=$1
mkdir -p "$out"
CFLAGS="-std=c17 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -I$TOP/include"
for c in "$TOP"/tests/kernel/progs/*.c; do
	[ -e "$c" ] || continue
	n=$(basename "$c" .c)
	echo "cc $n"
	# shellcheck disable=SC2086
	gcc $CFLAGS -o "$out/$n" "$c"
done
if [ -e "$TOP/tests/kernel/progs/kclient.c" ]; then
	echo "cc -static kclient-static"
	# shellcheck disable=SC2086
	gcc $CFLAGS -static -o "$out/kclient-static" "$TOP/tests/kernel/progs/kclient.c"
fi
export GOCACHE=$TOP/build-kernel/go-cache GOPATH=$TOP/build-kernel/go-path
export CGO_ENABLED=0 GOFLAGS= GOPROXY=off GO111MODULE=off
for g in "$TOP"/tests/kernel/progs/*.go; do
	[ -e "$g" ] || continue
	n=$(basename "$g" .go)
	echo "go build $n"
	go build -o "$out/$n" "$g"
done
