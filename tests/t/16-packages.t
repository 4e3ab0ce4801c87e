#!/usr/bin/env bash
# The Debian packages (README "Debian packages"): `make deb` builds ssad,
# libssa, libssa-dev and ssa-dkms, lintian-clean. In a Debian 12 chroot made
# from the archive at test time (cached as build-deb/chroot-*.tar for a week)
# the four packages install (DKMS builds ssa.ko for the chroot's 6.1
# headers), the installed ssad starts, an SSA client (Python
# under the installed ssa-run) fetches from openssl s_server and an SSA
# server serves openssl s_client; the packages then upgrade over themselves
# (the administrator's edit of the conffile stays) and purge, leaving nothing
# behind: no file, no group, no dpkg record. The DKMS source builds with
# `dkms build` against the host's 6.1 headers (a private DKMS tree; the
# module is never loaded). Needs root; skips when the archive is unreachable
# and no chroot is cached. `make check-packages` runs this test alone.

# Every mount of this test is private and goes away with it.
if [ -z "${SSA_PKG_NS:-}" ] && [ "$(id -u)" -eq 0 ] &&
	unshare --mount --propagation private true 2>/dev/null; then
	SSA_PKG_NS=1 exec unshare --mount --propagation private bash "$0" "$@"
fi
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
[ "$SSA_BUILD" = build ] || skip_all "runs with the plain build only (it builds its own packages)"
[ "$(id -u)" -eq 0 ] || skip_all "needs root (chroot, mount)"
[ -n "${SSA_PKG_NS:-}" ] || skip_all "no private mount namespace (unshare --mount failed)"
for c in dpkg-buildpackage dh dh_dkms lintian mmdebstrap curl; do
	command -v "$c" >/dev/null || skip_all "$c not installed (scripts/install-deps.sh)"
done

MIRROR=${SSA_DEB_MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm
# The chroot: minbase, the packages' dependencies (so that dpkg -i needs no
# network), the peers of the test (openssl, python3) and Debian 12's current
# 6.1 kernel headers for ssa-dkms.
INCLUDE=adduser,ca-certificates,libinih1,libssl3,openssl,python3-minimal,dkms,linux-headers-amd64
DEBS=$TOP/build-deb
key=$(echo "$SUITE $MIRROR $INCLUDE" | sha256sum | cut -c1-12)
TARBALL=$DEBS/chroot-$SUITE-$key.tar
if [ ! -s "$TARBALL" ] || [ -n "$(find "$TARBALL" -mtime +7)" ]; then
	curl -sfI --max-time 15 "$MIRROR/dists/$SUITE/InRelease" >/dev/null ||
		skip_all "the Debian archive ($MIRROR) is unreachable and no chroot is cached"
fi

plan 26
# The chroot (about 1 GB unpacked) lives beside the cache, not in a /tmp
# that may be a small tmpfs.
mkdir -p "$DEBS"
find "$DEBS" -maxdepth 1 -name 'root.*' -mmin +60 -exec rm -rf --one-file-system {} + # a killed run's
R=$(mktemp -d "$DEBS/root.XXXXXX")
pkg_cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	{ wait; } 2>/dev/null
	PIDS=()
	# Whatever still runs inside the chroot, then its /proc.
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/root" 2>/dev/null)" = "$R" ] && kill -9 "${p#/proc/}" 2>/dev/null
	done
	mountpoint -q "$R/proc" && umount -l "$R/proc"
	mountpoint -q "$R/proc" || rm -rf --one-file-system "$R"
	cleanup
}
trap pkg_cleanup EXIT
inroot() { chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }
# In the background: `rootexec ... &` is the program itself (its pid is in $!).
rootexec() { exec chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }
t0=$SECONDS

# ---- build -------------------------------------------------------------
make -s -C "$TOP" deb >"$WORK/deb.log" 2>&1
rc=$?
ok $rc "make deb"
[ $rc -eq 0 ] || { tail -n 30 "$WORK/deb.log" | sed 's/^/#   /'; exit 1; }
V=$(sed -n 's/^VERSION *:= *//p' "$TOP/Makefile")
A=$(dpkg --print-architecture)
missing=""
for d in ssad_${V}_$A libssa_${V}_$A libssa-dev_${V}_all ssa-dkms_${V}_all; do
	[ -f "$DEBS/$d.deb" ] || missing="$missing $d"
done
is "$missing" "" "make deb builds ssad, libssa, libssa-dev and ssa-dkms $V"
lint=$(lintian "$DEBS/ssa_${V}_$A.changes" 2>&1 | grep -E '^[EW]: ')
is "$lint" "" "lintian: no error, no warning"
diag "build and lintian: $((SECONDS - t0)) s"

# The DKMS package: the module's source and a dkms.conf of this version.
dkc=$(dpkg-deb -c "$DEBS/ssa-dkms_${V}_all.deb" | awk '{print $6}' | grep "^./usr/src/ssa-$V/." | sort | tr '\n' ' ')
want=""
for f in Kbuild Makefile dkms.conf $(cd "$TOP/kernel" && ls ./*.c ./*.h | sed 's|^\./||' | grep -v '\.mod\.c$'); do
	want="$want./usr/src/ssa-$V/$f "
done
want=$(tr ' ' '\n' <<<"$want" | grep . | sort | tr '\n' ' ')
is "$dkc" "$want" "ssa-dkms holds the kernel module's source and dkms.conf in /usr/src/ssa-$V"
KH=$(ls -d /lib/modules/6.1.*/build 2>/dev/null | sort -V | tail -n 1)
if command -v dkms >/dev/null && [ -n "$KH" ]; then
	kver=$(basename "$(dirname "$KH")")
	mkdir -p "$WORK/dkms-x" "$WORK/dkms-tree" "$WORK/dkms-src"
	dpkg-deb -x "$DEBS/ssa-dkms_${V}_all.deb" "$WORK/dkms-x"
	mv "$WORK/dkms-x/usr/src/ssa-$V" "$WORK/dkms-src/"
	dkms build -m ssa -v "$V" -k "$kver" --dkmstree "$WORK/dkms-tree" \
		--sourcetree "$WORK/dkms-src" >"$WORK/dkms.log" 2>&1
	rc=$?
	ko=$(find "$WORK/dkms-tree/ssa/$V/$kver" -name 'ssa.ko*' 2>/dev/null | head -n 1)
	ok "$([ $rc -eq 0 ] && [ -n "$ko" ] && echo 0 || echo 1)" "dkms build ssa/$V for $kver from the package's files"
	[ $rc -eq 0 ] || tail -n 20 "$WORK/dkms.log" | sed 's/^/#   /'
	diag "dkms build: $((SECONDS - t0)) s"
else
	pass "dkms build skipped: no dkms or no 6.1 headers # SKIP"
fi

# ---- a clean Debian 12 -------------------------------------------------
if [ ! -s "$TARBALL" ] || [ -n "$(find "$TARBALL" -mtime +7)" ]; then
	rm -f "$DEBS"/chroot-*.tar
	mmdebstrap --variant=minbase --include="$INCLUDE" --format=tar "$SUITE" "$TARBALL.part" "$MIRROR" \
		>"$WORK/mmdebstrap.log" 2>&1 && mv "$TARBALL.part" "$TARBALL"
fi
tar -xf "$TARBALL" -C "$R" 2>"$WORK/untar.log" && mount -t proc proc "$R/proc"
ok $? "a $SUITE chroot from the archive ($(basename "$TARBALL"))"
[ -s "$TARBALL" ] || { tail -n 20 "$WORK/mmdebstrap.log" | sed 's/^/#   /'; exit 1; }
diag "chroot: $((SECONDS - t0)) s"
# No service starts in a chroot (there is no systemd either).
printf '#!/bin/sh\nexit 101\n' >"$R/usr/sbin/policy-rc.d" && chmod 755 "$R/usr/sbin/policy-rc.d"
# Every path of the system but the volatile ones; depmod's indexes, dkms's
# module signing key (made on its first build) and adduser's lock in /run
# (a tmpfs outside a chroot) are not ours.
snapshot() {
	(cd "$R" && find . -xdev \( -path ./proc -o -path ./tmp -o -path ./pkgs -o -path ./var/log \
		-o -path ./var/cache -o -path ./var/lib/apt/lists \) -prune -o -print) |
		grep -vE '^\./var/lib/dpkg/(status|available|lock|triggers/|diversions|statoverride|.*-old$)|^\./etc/(group|gshadow|passwd|shadow|subuid|subgid)-$|^\./etc/ld\.so\.cache$|^\./var/lib/apt/extended_states$|^\./usr/lib/modules/[^/]+/modules\.[a-z.]+$|^\./var/lib/dkms/mok\.(key|pub)$|^\./run/adduser$' |
		sort
}
snapshot >"$WORK/before.lst"
mkdir -p "$R/pkgs" "$R/tmp/pki"
cp "$DEBS/ssad_${V}_$A.deb" "$DEBS/libssa_${V}_$A.deb" "$DEBS/libssa-dev_${V}_all.deb" \
	"$DEBS/ssa-dkms_${V}_all.deb" "$R/pkgs/"
pki
cp "$PKI/trust.pem" "$PKI/ca.crt" "$PKI/int.crt" "$PKI/server.crt" "$PKI/server-chain.crt" \
	"$PKI/server.key" "$R/tmp/pki/"

inroot dpkg -i /pkgs/ssad_${V}_$A.deb /pkgs/libssa_${V}_$A.deb /pkgs/libssa-dev_${V}_all.deb /pkgs/ssa-dkms_${V}_all.deb \
	>"$WORK/dpkg-install.log" 2>&1
ok $? "dpkg -i ssad libssa libssa-dev ssa-dkms: their dependencies are Debian 12's"
# ssa-dkms's postinst builds ssa.ko for the chroot's kernel headers (the
# host's running kernel has none there).
ckver=$(ls "$R/usr/lib/modules" | sort -V | tail -n 1)
ko=$(inroot sh -c "ls /lib/modules/$ckver/updates/dkms/ssa.ko* 2>/dev/null")
like "$(inroot dkms status ssa 2>&1) $([ -n "$ko" ] && inroot modinfo -F vermagic "$ko")" \
	"ssa/$V, $ckver, [^ ]+: installed $ckver " "DKMS built and installed ssa.ko for the chroot's $ckver (dkms status, vermagic)"
[ -s "$WORK/dpkg-install.log" ] && grep -iE 'error|warning' "$WORK/dpkg-install.log" | sed 's/^/#   /'
gid=$(inroot getent group ssa | cut -d: -f3)
ok "$([ -n "$gid" ] && [ "$gid" -lt 1000 ] && echo 0 || echo 1)" "a system group 'ssa' (gid ${gid:-none}) for admin-group"
is "$(inroot dpkg-query -W -f='${Conffiles}' ssad | awk '{print $1}' | tr -d '\n')" "/etc/ssa/ssa.conf" \
	"/etc/ssa/ssa.conf is ssad's conffile"
ok "$([ "$(grep -c '^Exec.*=/usr/sbin/ssad .*--config /etc/ssa/ssa.conf' "$R/lib/systemd/system/ssad.service")" = 2 ] &&
	[ -L "$R/etc/systemd/system/multi-user.target.wants/ssad.service" ] && echo 0 || echo 1)" \
	"the unit is /lib/systemd/system/ssad.service, enabled, runs /usr/sbin/ssad with /etc/ssa/ssa.conf"
like "$(inroot /usr/sbin/ssad -t --config /etc/ssa/ssa.conf 2>&1)" "configuration OK" \
	"the installed ssad accepts the installed configuration"

# ---- the installed files at work --------------------------------------
cat >"$R/tmp/ssa.conf" <<EOF
[global]
trust-store = /tmp/pki/trust.pem
handshake-timeout = 5s
EOF
rootexec /usr/sbin/ssad --config /tmp/ssa.conf --socket /tmp/ssad.sock 2>"$WORK/ssad.log" &
SSAD_PID=$!
PIDS+=("$SSAD_PID")
for _ in $(seq 50); do [ -S "$R/tmp/ssad.sock" ] && break; sleep 0.1; done
ok "$([ -S "$R/tmp/ssad.sock" ] && echo 0 || echo 1)" "the installed ssad starts (test trust store, private socket)"
ssa_in() { inroot SSA_SOCKET=/tmp/ssad.sock /usr/bin/ssa-run "$@"; }
ssa_bg() { rootexec SSA_SOCKET=/tmp/ssad.sock /usr/bin/ssa-run "$@"; }

port=$(free_port)
rootexec openssl s_server -accept "$port" -cert /tmp/pki/server.crt -key /tmp/pki/server.key \
	-cert_chain /tmp/pki/int.crt \
	-www -quiet >"$WORK/s_server.log" 2>&1 </dev/null &
PIDS+=("$!")
wait_port 127.0.0.1 "$port"
out=$(ssa_in python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 205)
s.setsockopt(205, 85, b'localhost\0')
s.connect(('127.0.0.1', $port))
s.sendall(b'GET / HTTP/1.0\r\n\r\n')
data = b''
while True:
    d = s.recv(4096)
    if not d:
        break
    data += d
print(data.split(b'\r\n')[0].decode())
" 2>&1)
is "$out" "HTTP/1.0 200 ok" "an SSA client (python3 under /usr/bin/ssa-run) fetches from openssl s_server"
[ "$out" = "HTTP/1.0 200 ok" ] || sed 's/^/#   /' "$WORK/ssad.log" | tail -n 20

ssa_bg python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 205)
s.setsockopt(205, 88, b'/tmp/pki/server-chain.crt\0')
s.setsockopt(205, 89, b'/tmp/pki/server.key\0')
s.bind(('127.0.0.1', 0))
s.listen(8)
print('READY', s.getsockname()[1], flush=True)
c, _ = s.accept()
c.sendall(c.recv(100))
c.close()
" >"$WORK/srv.out" 2>"$WORK/srv.log" </dev/null &
PIDS+=("$!")
sport=0
wait_ready "$WORK/srv.out" sport
out=$(echo hello-deb | timeout 10 chroot "$R" openssl s_client -connect "127.0.0.1:$sport" \
	-servername localhost -CAfile /tmp/pki/ca.crt -verify_return_error -quiet 2>/dev/null)
is "$out" "hello-deb" "an SSA server (python3 under /usr/bin/ssa-run) serves openssl s_client"
like "$(inroot /usr/bin/ssactl --socket /tmp/ssad.sock status 2>&1 | tr '\n' ' ')" \
	"version +$V .*handshakes_ok +2 " "the installed ssactl: ssad $V, the client's and the server's handshakes"
stop_ssad
rc=$?
ok $rc "the installed ssad ends cleanly"
[ $rc -eq 0 ] || { diag "exit status $rc"; sed 's/^/#   /' "$WORK/ssad.log" | tail -n 20; }
diag "client and server: $((SECONDS - t0)) s"

# ---- upgrade over itself -----------------------------------------------
echo "; edited by the administrator" >>"$R/etc/ssa/ssa.conf"
inroot dpkg -i /pkgs/ssad_${V}_$A.deb /pkgs/libssa_${V}_$A.deb /pkgs/libssa-dev_${V}_all.deb /pkgs/ssa-dkms_${V}_all.deb \
	>"$WORK/dpkg-upgrade.log" 2>&1
ok $? "dpkg -i the same packages again (upgrade over themselves)"
is "$(tail -n 1 "$R/etc/ssa/ssa.conf") $(find "$R/etc/ssa" -name '*.dpkg-*' | wc -l)" \
	"; edited by the administrator 0" "the edited conffile stays, no .dpkg-new or .dpkg-dist beside it"
like "$(inroot /usr/sbin/ssad -t --config /etc/ssa/ssa.conf 2>&1) $(ssa_in true 2>&1; echo "rc=$?")" \
	"configuration OK.*rc=0$" "after the upgrade: ssad accepts the file, ssa-run finds libssa"

# ---- purge -------------------------------------------------------------
ours=$(inroot dpkg -L ssad libssa libssa-dev ssa-dkms 2>/dev/null | sort -u)
inroot apt-get purge -y -q ssad libssa libssa-dev ssa-dkms >"$WORK/purge.log" 2>&1
ok $? "apt-get purge ssad libssa libssa-dev ssa-dkms"
is "$(inroot dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' ssad libssa libssa-dev ssa-dkms 2>/dev/null | grep -v '^un ')" "" \
	"dpkg knows none of them any more"
left=""
while read -r f; do
	case $f in "" | /.) continue ;; esac
	if [ -d "$R$f" ]; then
		# A directory stays only if it was there before (/usr/share/man/man8).
		grep -qxF ".$(inroot readlink -f "$f")" "$WORK/before.lst" || left="$left $f/"
	elif [ -e "$R$f" ] || [ -L "$R$f" ]; then
		left="$left $f"
	fi
done <<<"$ours"
is "$left" "" "no file or directory of the packages remains ($(wc -l <<<"$ours") checked)"
is "$(inroot getent group ssa; [ -e "$R/etc/ssa" ] && echo /etc/ssa)" "" "no group 'ssa', no /etc/ssa"
is "$(find "$R/usr/lib/modules" -name 'ssa.ko*'; ls -d "$R/var/lib/dkms/ssa" 2>/dev/null)" "" \
	"no ssa.ko, no /var/lib/dkms/ssa"
snapshot >"$WORK/after.lst"
is "$(diff "$WORK/before.lst" "$WORK/after.lst" | grep '^[<>]' | head -n 20)" "" \
	"the system's files are as before the installation"
diag "total: $((SECONDS - t0)) s"
done_testing
