/* SPDX-License-Identifier: MIT */
#include "keeper_sandbox.h"

#include "keeper.h"

#include <errno.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define KEEPER_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define KEEPER_AUDIT_ARCH AUDIT_ARCH_AARCH64
#else
#error "the key keeper's seccomp filter knows x86_64 and aarch64 only"
#endif

/* What the loop, OpenSSL's signing and decoding, and the C library's
 * allocator and stderr logging need; nothing opens a path or a socket. */
static const int allowed[] = {
	SYS_read, SYS_write, SYS_writev, SYS_recvmsg, SYS_sendmsg, SYS_sendto, SYS_close,
	SYS_fstat, SYS_newfstatat, SYS_pread64, SYS_pwrite64, SYS_lseek, SYS_brk, SYS_mmap, SYS_munmap,
	SYS_mremap, SYS_mprotect, SYS_madvise, SYS_futex, SYS_getrandom, SYS_clock_gettime,
	SYS_gettimeofday, SYS_getpid, SYS_gettid, SYS_rt_sigreturn, SYS_rt_sigprocmask,
	SYS_exit, SYS_exit_group, SYS_sched_yield, SYS_restart_syscall,
#if defined(__SANITIZE_THREAD__)
	/* ThreadSanitizer's background thread sleeps; the filter covers
	 * every thread of the keeper (TSYNC), so the TSan build needs it */
	SYS_nanosleep, SYS_clock_nanosleep,
#endif
};
#define N_ALLOWED (sizeof allowed / sizeof allowed[0])

/* arch check (2), load nr (1), one test + allow per call (2n), kill (1), allow (1) */
static int install_filter(void)
{
	struct sock_filter f[4 + 2 * N_ALLOWED + 1];
	struct sock_fprog prog = { .len = (unsigned short)(sizeof f / sizeof f[0]), .filter = f };
	size_t i = 0;

	f[i++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					       offsetof(struct seccomp_data, arch));
	f[i++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, KEEPER_AUDIT_ARCH, 1, 0);
	f[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	f[i++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					       offsetof(struct seccomp_data, nr));
	for (size_t k = 0; k < N_ALLOWED; k++) {
		f[i++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)allowed[k], 0, 1);
		f[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	}
	f[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	/* every thread of the keeper (its channels' threads are running):
	 * TSYNC installs the filter, and no-new-privileges, in all of them, or
	 * fails (a thread id) without installing it anywhere */
	long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog);

	if (r > 0)
		errno = EBUSY; /* thread r could not be synchronised */
	return r == 0 ? 0 : -1;
}

int ssa_keeper_sandbox(pid_t parent, char *why, size_t wlen)
{
	if (geteuid() == 0 || getuid() == 0) {
		if (setgroups(0, NULL) != 0 ||
		    setresgid(SSA_KEEPER_GID, SSA_KEEPER_GID, SSA_KEEPER_GID) != 0 ||
		    setresuid(SSA_KEEPER_UID, SSA_KEEPER_UID, SSA_KEEPER_UID) != 0) {
			snprintf(why, wlen, "cannot drop to uid/gid %d/%d: %s", SSA_KEEPER_UID,
				 SSA_KEEPER_GID, strerror(errno));
			return EPERM;
		}
	}
	/* a set-uid-root ssad or a root that kept capabilities: refuse */
	if (setuid(0) == 0) {
		snprintf(why, wlen, "still able to become root after dropping privileges");
		return EPERM;
	}
	/* The change of ids cleared the parent-death signal: again, and
	 * nothing more if the parent is gone already. */
	if (prctl(PR_SET_DUMPABLE, 0) != 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) {
		snprintf(why, wlen, "prctl: %s", strerror(errno));
		return EPERM;
	}
	if (getppid() != parent) {
		snprintf(why, wlen, "its parent (pid %d) is gone", (int)parent);
		return ESRCH;
	}
	if (install_filter() != 0) {
		snprintf(why, wlen, "seccomp filter: %s", strerror(errno));
		return EPERM;
	}
	return 0;
}
