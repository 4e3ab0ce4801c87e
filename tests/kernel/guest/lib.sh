# shellcheck shell=bash
# Helpers for the guest tests in tests/kernel/guest/ (run inside the QEMU
# guest by tests/kernel/stage2.sh, with ssa.ko loaded). Builds on tests/lib.sh
# (TAP helpers, start_ssad, start_s_server, free_port ...).
#
# Environment from stage2.sh: SSA_BUILD (absolute), SSA_TEST_PKI,
# SSA_KPROGS (the programs built by build-progs.sh), SSA_KO, SSA_KVER.
# shellcheck disable=SC1091
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
KP=${SSA_KPROGS:-$TOP/build-kernel/progs}
IPPROTO_TLS=205

module_loaded() { [ -d /sys/module/ssa ]; }

# tls_socket_errno: "ok" if socket(AF_INET, SOCK_STREAM, 205) works, else the errno name
tls_socket_errno() {
	python3 -c '
import errno, socket
try:
    socket.socket(socket.AF_INET, socket.SOCK_STREAM, 205).close(); print("ok")
except OSError as e:
    print(errno.errorcode.get(e.errno, e.errno))'
}

# kstart_ssad [CONFIG-LINES...]: a private ssad (tests/lib.sh start_ssad); then
# wait until the kernel front end takes IPPROTO_TLS sockets (ssad has
# registered with ssa.ko), at most 5 s.
kstart_ssad() {
	start_ssad "$@" || return 1
	module_loaded || return 0
	local i
	for i in $(seq 50); do
		[ "$(tls_socket_errno)" = ok ] && return 0
		sleep 0.1
	done
	diag "ssad started but socket(AF_INET, SOCK_STREAM, 205) still fails: $(tls_socket_errno)"
	return 1
}
