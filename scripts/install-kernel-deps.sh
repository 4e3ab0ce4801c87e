#!/usr/bin/env bash
# Install what `make check-kernel` needs on Debian 12, if anything is missing:
# QEMU, busybox, the Debian 6.1 kernel (linux-image-amd64) and the newest
# 6.12 kernel from bookworm (linux-image-6.12.*+deb12-amd64-unsigned), the
# matching headers, and Go for the guest test programs.
#
# Exit 0: everything is there. Exit 1: something could not be installed
# (no root, no network); the reason is on stderr.
set -euo pipefail

need=(
	qemu-system-x86 busybox-static cpio kmod
	linux-image-amd64 linux-headers-amd64
	golang-go gcc libc6-dev make python3 openssl procps iproute2 xz-utils zstd
	linux-source-6.1   # scripts/checkpatch.pl (not in the headers packages)
)
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

# Newest 6.12 image whose headers are also in the archive.
newest_612() {
	local v
	for v in $(apt-cache search --names-only '^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$' 2>/dev/null |
		sed -n 's/^linux-image-\(6\.12\.[0-9]*+deb12-amd64\)-unsigned .*/\1/p' | sort -rV); do
		if apt-cache show "linux-headers-$v" >/dev/null 2>&1; then echo "$v"; return 0; fi
	done
	return 1
}
have_612() { ls /lib/modules 2>/dev/null | grep -q '^6\.12\..*-amd64$' &&
	for d in /lib/modules/6.12.*-amd64; do [ -e "$d/build/Makefile" ] && return 0; done; return 1; }

missing=()
for p in "${need[@]}"; do installed "$p" || missing+=("$p"); done
if [ ${#missing[@]} -eq 0 ] && have_612; then exit 0; fi

SUDO=
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null && sudo -n true 2>/dev/null ||
		{ echo "install-kernel-deps: need root to install: ${missing[*]} linux-image-6.12" >&2; exit 1; }
	SUDO="sudo -n"
fi
export DEBIAN_FRONTEND=noninteractive INITRD=No
apt=($SUDO apt-get -o DPkg::Lock::Timeout=600)

v612=
if ! have_612; then
	v612=$(newest_612) || true
	if [ -z "$v612" ]; then
		"${apt[@]}" update -qq || true
		v612=$(newest_612) || { echo "install-kernel-deps: no linux-image-6.12.*+deb12-amd64-unsigned in the package lists" >&2; exit 1; }
	fi
	missing+=("linux-image-$v612-unsigned" "linux-headers-$v612")
fi
echo "install-kernel-deps: installing ${missing[*]}"
if ! "${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/tmp/install-kernel-deps.$$.log 2>&1; then
	# Stale package lists are the usual cause: refresh once and retry.
	"${apt[@]}" update -qq || true
	if ! "${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/tmp/install-kernel-deps.$$.log 2>&1; then
		tail -n 15 /tmp/install-kernel-deps.$$.log >&2
		rm -f /tmp/install-kernel-deps.$$.log
		echo "install-kernel-deps: apt-get install failed" >&2
		exit 1
	fi
fi
rm -f /tmp/install-kernel-deps.$$.log
