/* SPDX-License-Identifier: MIT */
/*
 * syscall_inject PID NR [ARG...]: make the thread PID, blocked in its event
 * loop, make system call NR in place of its next epoll_wait (or poll: the
 * supervisor's loop), then let it go on as if that call had returned 0 (a
 * timeout). Up to six arguments, in order; missing ones are 0. An ARG is a
 * number (strtoll, base 0: -100 is AT_FDCWD, 0x80000 O_CLOEXEC), s:TEXT,
 * the address of the string TEXT, or x:HEX, the address of the bytes HEX
 * (at most 256; a sockaddr, say), each written onto the thread's stack
 * below its red zone (memory nothing uses while it is in a system call).
 * A test tool for seccomp filters and Landlock (tests/t/98-ssad-seccomp.t,
 * tests/t/89-worker-fs.t): strace can substitute only calls without side
 * effects, gdb's "call" cannot write the registers of every CPU. x86_64
 * only. Prints one line:
 *   RETURNED <value>   the thread's return value at the call's exit stop
 *                      (a call seccomp kills stops there too, and the
 *                      process dies once detached: the caller checks)
 *   KILLED <signal>    the process died before that stop
 *   ERR <reason>       nothing was injected
 * Since Linux 4.8 seccomp checks the call a tracer substituted.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <stdint.h>

#if !defined(__x86_64__)
int main(void)
{
	puts("ERR x86_64 only");
	return 2;
}
#else
/* Resume to the next system-call stop. @retval 1 stopped, 0 gone (printed), -1 error */
static int next_stop(pid_t tid)
{
	int st;

	for (;;) {
		if (ptrace(PTRACE_SYSCALL, tid, 0, 0) != 0 || waitpid(tid, &st, __WALL) < 0)
			return -1;
		if (WIFSIGNALED(st)) {
			printf("KILLED %d\n", WTERMSIG(st));
			return 0;
		}
		if (WIFEXITED(st)) {
			printf("EXITED %d\n", WEXITSTATUS(st));
			return 0;
		}
		if (WIFSTOPPED(st) && WSTOPSIG(st) == (SIGTRAP | 0x80))
			return 1;
		if (WIFSTOPPED(st) && (st >> 16) == PTRACE_EVENT_EXIT) {
			puts("KILLED exiting");
			ptrace(PTRACE_CONT, tid, 0, 0);
			return 0;
		}
		/* another stop (a signal, the interrupt): go on */
	}
}

/* Write len bytes of data into tid below *sp, 16-byte aligned; *sp moves
 * below them. @retval their address, or 0 (errno set) */
static unsigned long long poke_bytes(pid_t tid, unsigned long long *sp, const char *data, size_t len)
{
	size_t words = (len + 7) / 8;
	unsigned long long at = (*sp - words * 8) & ~15ULL;

	for (size_t w = 0; w < words; w++) {
		char word[8] = { 0 };
		size_t n = len - w * 8 < 8 ? len - w * 8 : 8;
		long v;

		memcpy(word, data + w * 8, n);
		memcpy(&v, word, sizeof v);
		if (ptrace(PTRACE_POKEDATA, tid, (void *)(uintptr_t)(at + w * 8), (void *)v) != 0)
			return 0;
	}
	*sp = at;
	return at;
}

/* hex (two digits a byte, at most 256 bytes) into out. @retval its length, or -1 */
static int unhex(const char *hex, char *out)
{
	size_t n = strlen(hex);

	if (n % 2 || n / 2 > 256)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned int b;

		if (sscanf(hex + 2 * i, "%2x", &b) != 1)
			return -1;
		out[i] = (char)b;
	}
	return (int)(n / 2);
}

/* The arguments argv[0..argc-1] into args[6]. @retval 0, -1 (printed) */
static int set_args(pid_t tid, unsigned long long rsp, int argc, char **argv,
		    unsigned long long *args)
{
	unsigned long long sp = rsp - 128 - 256; /* below the red zone, and a margin */

	for (int i = 0; i < argc; i++) {
		char *end;

		char bytes[256];
		int n;

		if (strncmp(argv[i], "s:", 2) == 0 || strncmp(argv[i], "x:", 2) == 0) {
			if (argv[i][0] == 's')
				args[i] = poke_bytes(tid, &sp, argv[i] + 2, strlen(argv[i] + 2) + 1);
			else if ((n = unhex(argv[i] + 2, bytes)) > 0)
				args[i] = poke_bytes(tid, &sp, bytes, (size_t)n);
			else
				return printf("ERR bad hex %s\n", argv[i]), -1;
			if (!args[i])
				return printf("ERR poke: %s\n", strerror(errno)), -1;
			continue;
		}
		errno = 0;
		args[i] = (unsigned long long)strtoll(argv[i], &end, 0);
		if (errno || *end || end == argv[i])
			return printf("ERR bad argument %s\n", argv[i]), -1;
	}
	return 0;
}

/* The next epoll_wait entry of tid. @retval 1 there, 0 gone, -1 error */
static int to_epoll_entry(pid_t tid)
{
	for (int n = 0; n < 1000; n++) {
		struct __ptrace_syscall_info info;
		int rc = next_stop(tid);

		if (rc <= 0)
			return rc;
		if (ptrace(PTRACE_GET_SYSCALL_INFO, tid, sizeof info, &info) <= 0)
			return -1;
		if (info.op == PTRACE_SYSCALL_INFO_ENTRY &&
		    (info.entry.nr == SYS_epoll_wait || info.entry.nr == SYS_epoll_pwait ||
		     info.entry.nr == SYS_poll || info.entry.nr == SYS_ppoll))
			return 1;
	}
	errno = ETIMEDOUT;
	return -1;
}

int main(int argc, char **argv)
{
	struct user_regs_struct r;
	pid_t tid;
	long nr;
	int st, rc;

	unsigned long long args[6] = { 0 };

	if (argc < 3 || argc > 9) {
		fprintf(stderr, "usage: syscall_inject PID NR [ARG...] (ARG: a number, s:TEXT or x:HEX)\n");
		return 2;
	}
	tid = (pid_t)atoi(argv[1]);
	nr = atol(argv[2]);
	if (ptrace(PTRACE_SEIZE, tid, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXIT) != 0 ||
	    ptrace(PTRACE_INTERRUPT, tid, 0, 0) != 0 || waitpid(tid, &st, __WALL) < 0) {
		printf("ERR attach: %s\n", strerror(errno));
		return 1;
	}
	rc = to_epoll_entry(tid);
	if (rc <= 0) {
		if (rc < 0)
			printf("ERR no epoll_wait: %s\n", strerror(errno));
		return rc < 0;
	}
	if (ptrace(PTRACE_GETREGS, tid, 0, &r) != 0)
		return printf("ERR getregs: %s\n", strerror(errno)), 1;
	if (set_args(tid, r.rsp, argc - 3, argv + 3, args) != 0) {
		ptrace(PTRACE_DETACH, tid, 0, 0);
		return 1;
	}
	r.orig_rax = (unsigned long long)nr;
	r.rdi = args[0];
	r.rsi = args[1];
	r.rdx = args[2];
	r.r10 = args[3];
	r.r8 = args[4];
	r.r9 = args[5];
	if (ptrace(PTRACE_SETREGS, tid, 0, &r) != 0)
		return printf("ERR setregs: %s\n", strerror(errno)), 1;
	rc = next_stop(tid); /* the exit of the substituted call, or death */
	if (rc <= 0)
		return rc < 0;
	if (ptrace(PTRACE_GETREGS, tid, 0, &r) != 0)
		return printf("ERR getregs: %s\n", strerror(errno)), 1;
	printf("RETURNED %lld\n", (long long)r.rax);
	r.rax = 0; /* epoll_wait: no event (a timeout) */
	ptrace(PTRACE_SETREGS, tid, 0, &r);
	ptrace(PTRACE_DETACH, tid, 0, 0);
	return 0;
}
#endif
