/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the worker's Landlock sandbox
 * (src/ssad/supervisor/worker_fs.c): the rights handled for each ABI
 * (best-effort masking); in a child process with no_new_privs, the sandbox
 * refuses a world-readable file of its own making, a new file, listing
 * /etc, and allows /etc/passwd and /proc/self/status (control: the parent,
 * not confined, opens the same file); without no_new_privs it refuses to
 * start at all (EPERM, no half-applied sandbox), even as root. The child
 * tests are skipped where the kernel has no Landlock.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../src/ssad/supervisor/worker_fs.h"

static void rights(void **state)
{
	(void)state;
	assert_int_equal(ssa_worker_fs_rights(0), 0);
	assert_int_equal(ssa_worker_fs_rights(1), 0x1fff);
	assert_int_equal(ssa_worker_fs_rights(2), 0x3fff); /* REFER */
	assert_int_equal(ssa_worker_fs_rights(3), 0x7fff); /* TRUNCATE */
	assert_int_equal(ssa_worker_fs_rights(4), 0x7fff); /* network only */
	assert_int_equal(ssa_worker_fs_rights(5), 0xffff); /* IOCTL_DEV */
	assert_int_equal(ssa_worker_fs_rights(6), 0xffff); /* scopes only */
	assert_int_equal(ssa_worker_fs_rights(7), 0xffff); /* logging only */
}

/* Whether the running kernel has Landlock. */
static int have_landlock(void)
{
	return syscall(SYS_landlock_create_ruleset, NULL, 0, 1U /* VERSION */) > 0;
}

/* errno of open(path), 0 if it opened. */
static int open_errno(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC, 0644);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

/* In a child: confined, then each check; the exit status is the first
 * check that failed (0: all held). */
static int child_checks(const char *file)
{
	char why[200], newfile[300];
	int abi;
	DIR *d;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || ssa_worker_fs_confine(&abi, why, sizeof why))
		return 1;
	if (open_errno(file, O_RDONLY) != EACCES)
		return 2;
	if (open_errno("/etc/passwd", O_RDONLY) != 0 || open_errno("/proc/self/status", O_RDONLY))
		return 3;
	snprintf(newfile, sizeof newfile, "%s.new", file);
	if (open_errno(newfile, O_WRONLY | O_CREAT) != EACCES || open_errno("/etc/passwd", O_WRONLY) != EACCES)
		return 4;
	d = opendir("/etc");
	if (d || errno != EACCES)
		return 5;
	return 0;
}

static void confined(void **state)
{
	char file[] = "/tmp/ssa-unit-worker-fs-XXXXXX";
	int fd, st;
	pid_t pid;

	(void)state;
	if (!have_landlock())
		skip();
	fd = mkstemp(file);
	assert_true(fd >= 0);
	assert_int_equal(fchmod(fd, 0644), 0);
	close(fd);
	assert_int_equal(open_errno(file, O_RDONLY), 0); /* control: not confined */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(child_checks(file));
	assert_int_equal(waitpid(pid, &st, 0), pid);
	unlink(file);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void needs_no_new_privs(void **state)
{
	int st;
	pid_t pid;

	(void)state;
	if (!have_landlock())
		skip();
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char why[200] = "";
		int abi, rc = ssa_worker_fs_confine(&abi, why, sizeof why);

		/* refused, and then nothing is confined */
		_exit(rc == EPERM && strstr(why, "no_new_privs") && open_errno("/etc/hostname", O_RDONLY) != EACCES
			      ? 0
			      : 1);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rights),
		cmocka_unit_test(confined),
		cmocka_unit_test(needs_no_new_privs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
