#!/usr/bin/env bash
# Install the Debian 12 packages SSA needs to build, test and demo, if any
# is missing. Needs root (or sudo) only when something must be installed.
set -euo pipefail
pkgs=(
	build-essential pkg-config   # compiler, make
	libssl-dev openssl           # the TLS engine (OpenSSL 3)
	ca-certificates              # the default trust store (tests/t/15-install.t)
	libinih-dev                  # ssa.conf parser
	libcmocka-dev                # unit tests
	clang                        # fuzz targets (libFuzzer)
	curl nginx-light gnutls-bin  # real peers for the tests
	testssl.sh bsdmainutils dnsutils # protocol/cipher scan of the SSA server
	python3 procps iproute2   # test scripts
	valgrind                  # tests/t/63-valgrind.t
	cppcheck clang-tidy       # tests/t/03-static-analysis.t
	strace                    # tests/t/95-keeper.t: a forbidden system call in the key keeper
	bindfs                    # tests/kernel/guest/72-kernel-keys.t: a key file on FUSE
	stunnel4                  # benchmark comparison (tests/t/80-bench-smoke.t, make bench)
	dpkg-dev debhelper dh-dkms fakeroot lintian # make deb (debian/)
	dkms mmdebstrap           # tests/t/16-packages.t: dkms build, a Debian 12 chroot
)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "install-deps: installing ${missing[*]}"
SUDO=
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || { echo "install-deps: need root to install: ${missing[*]}" >&2; exit 1; }
	SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || true
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
