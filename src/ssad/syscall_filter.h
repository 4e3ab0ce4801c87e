/* SPDX-License-Identifier: MIT */
/* ssad's own seccomp filter: a deny list of system calls ssad never makes
 * and an attacker running code in it would want (issue 14, defence in
 * depth until the handshakes move to unprivileged workers). */
#ifndef SSAD_SYSCALL_FILTER_H
#define SSAD_SYSCALL_FILTER_H

#include <stddef.h>

/**
 * Install the filter on this process (before any thread starts: threads
 * and the key keeper inherit it). Killed with SIGSYS on: ptrace and
 * process_vm_readv/writev (ptrace stays allowed in AddressSanitizer builds,
 * whose leak checker uses it), pidfd_getfd, module and kexec loading,
 * mount and the new mount API, pivot_root, chroot, unshare and clone with a
 * namespace flag, swap, reboot, acct, bpf, perf_event_open, userfaultfd,
 * io_uring, the key management calls, iopl/ioperm, open_by_handle_at,
 * name_to_handle_at, mknod, setting the clock or host name, quotactl,
 * syslog, and any system call of another ABI (x32, i386). clone3 fails
 * with ENOSYS (its flags cannot be inspected; the C library falls back
 * to clone).
 *
 * Sets no_new_privs first (ssad never executes a setuid program).
 *
 * @retval 0      installed
 * @retval EINVAL the kernel has no seccomp filters (or no_new_privs)
 */
int ssad_syscall_filter_install(char *why, size_t wlen);

#endif
