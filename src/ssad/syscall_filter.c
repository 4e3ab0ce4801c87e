/* SPDX-License-Identifier: MIT */
/* ssad's deny-list seccomp filter (syscall_filter.h). A deny list, not an
 * allow list: ssad links OpenSSL and runs the C library's threads, and an
 * allow list that misses a rare path would kill the service every user
 * shares. Each call denied here is one ssad never makes. */
#include "syscall_filter.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#if defined(__x86_64__)
#define SSAD_AUDIT_ARCH AUDIT_ARCH_X86_64
#define SSAD_X32_BIT 0x40000000u
#elif defined(__aarch64__)
#define SSAD_AUDIT_ARCH AUDIT_ARCH_AARCH64
#else
#error "ssad's seccomp filter knows x86_64 and aarch64 only"
#endif

#if defined(__SANITIZE_ADDRESS__)
#define SSAD_LSAN_PTRACE 1 /* LeakSanitizer stops the threads with ptrace */
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SSAD_LSAN_PTRACE 1
#endif
#endif

static const int denied[] = {
#ifndef SSAD_LSAN_PTRACE
	SYS_ptrace,
#endif
	SYS_process_vm_readv, SYS_process_vm_writev, SYS_pidfd_getfd,
	SYS_init_module, SYS_finit_module, SYS_delete_module, SYS_kexec_load,
	SYS_kexec_file_load, SYS_mount, SYS_umount2, SYS_pivot_root, SYS_chroot,
	SYS_open_tree, SYS_move_mount, SYS_fsopen, SYS_fsconfig, SYS_fsmount, SYS_fspick,
#ifdef SYS_mount_setattr
	SYS_mount_setattr,
#endif
	SYS_unshare, SYS_swapon, SYS_swapoff, SYS_reboot, SYS_acct, SYS_bpf,
	SYS_perf_event_open, SYS_userfaultfd, SYS_io_uring_setup, SYS_io_uring_enter,
	SYS_io_uring_register, SYS_keyctl, SYS_add_key, SYS_request_key,
	SYS_open_by_handle_at, SYS_name_to_handle_at, SYS_mknodat, SYS_settimeofday,
	SYS_clock_settime, SYS_clock_adjtime, SYS_adjtimex, SYS_sethostname,
	SYS_setdomainname, SYS_quotactl, SYS_syslog,
#ifdef SYS_quotactl_fd
	SYS_quotactl_fd,
#endif
#if defined(__x86_64__)
	SYS_iopl, SYS_ioperm, SYS_mknod, SYS_uselib,
#endif
};
#define N_DENIED (sizeof denied / sizeof denied[0])

#define NS_FLAGS                                                                          \
	(CLONE_NEWNS | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWUTS |       \
	 CLONE_NEWIPC | CLONE_NEWCGROUP)

#define STMT(code, k) ((struct sock_filter)BPF_STMT(code, k))
#define JUMP(code, k, jt, jf) ((struct sock_filter)BPF_JUMP(code, k, jt, jf))
#define KILL STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS)
#define ALLOW STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

/* The program: arch check, another ABI, clone3, clone's flags, the list.
 * @retval the number of instructions written into f */
static size_t build(struct sock_filter *f)
{
	size_t i = 0;

	f[i++] = STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	f[i++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, SSAD_AUDIT_ARCH, 1, 0);
	f[i++] = KILL;
	f[i++] = STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
#ifdef SSAD_X32_BIT
	f[i++] = JUMP(BPF_JMP | BPF_JGE | BPF_K, SSAD_X32_BIT, 0, 1);
	f[i++] = KILL;
#endif
	f[i++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone3, 0, 1);
	f[i++] = STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA));
	/* clone(flags, ...): flags is the first argument on both ABIs (low word) */
	f[i++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 0, 4);
	f[i++] = STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]));
	f[i++] = JUMP(BPF_JMP | BPF_JSET | BPF_K, NS_FLAGS, 0, 1);
	f[i++] = KILL;
	f[i++] = ALLOW;
	for (size_t k = 0; k < N_DENIED; k++) {
		f[i++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)denied[k], 0, 1);
		f[i++] = KILL;
	}
	f[i++] = ALLOW;
	return i;
}

int ssad_syscall_filter_install(char *why, size_t wlen)
{
	struct sock_filter f[16 + 2 * N_DENIED];
	struct sock_fprog prog = { .filter = f };
	int rc;

	prog.len = (unsigned short)build(f);
	/* ssad never executes a setuid program: a filter without relying on
	 * CAP_SYS_ADMIN, and an exec of the keeper gains nothing it lacks */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		rc = errno;
		snprintf(why, wlen, "cannot set no_new_privs: %s", strerror(rc));
		return rc;
	}
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
		rc = errno;
		snprintf(why, wlen, "cannot install ssad's seccomp filter: %s", strerror(rc));
		return rc;
	}
	return 0;
}
