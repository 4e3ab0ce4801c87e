#!/bin/sh
# /init of the check-kernel initramfs (busybox). Loads the virtio/9p
# modules, mounts the host's root read-only and the run directory writable
# (same path as on the host), then switch_root's into the host's userland
# and runs tests/kernel/stage2.sh there as PID 1. switch_root, not chroot:
# the kernel's module auto-loading runs /sbin/modprobe in PID 1's root.
# @TOP@, @BK@, @RUN@ and @KVER@ are filled in by tests/kernel/run.sh.
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $(cat /modules.list); do
	insmod "/mod/$m" || echo "ssa-init: insmod $m failed"
done
mkdir -p /newroot
if ! mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 hostroot /newroot; then
	echo "ssa-init: cannot mount the host root"
	echo "SSA-KTEST-DONE rc=99" >/dev/ttyS1
	echo o >/proc/sysrq-trigger
fi
mount -t tmpfs -o mode=1777 tmpfs /newroot/tmp
mount -t tmpfs -o mode=0755 tmpfs /newroot/run
# The repository (read-only) and build-kernel/ (writable) at their host
# paths, mounted after the tmpfs so that a checkout under /tmp works too.
mkdir -p "/newroot@TOP@" 2>/dev/null
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 top "/newroot@TOP@" ||
	echo "ssa-init: cannot mount the repository"
mkdir -p "/newroot@BK@" 2>/dev/null
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 bk "/newroot@BK@" ||
	echo "ssa-init: cannot mount the build directory"
mount --move /proc /newroot/proc
mount --move /sys /newroot/sys
mount --move /dev /newroot/dev
exec switch_root /newroot /bin/bash "@TOP@/tests/kernel/stage2.sh" "@TOP@" "@RUN@" "@KVER@"
