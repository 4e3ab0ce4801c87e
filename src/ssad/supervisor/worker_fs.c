/* SPDX-License-Identifier: MIT */
/* The worker's Landlock sandbox (worker_fs.h). */
#include "worker_fs.h"

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Rights and fields newer than the oldest <linux/landlock.h> this builds
 * with (the values are the kernel's ABI; they never change). */
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13) /* ABI 2 */
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14) /* ABI 3 */
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15) /* ABI 5 */
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0) /* ABI 6 */
#endif
#ifndef LANDLOCK_SCOPE_SIGNAL
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1) /* ABI 6 */
#endif
#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_add_rule 445
#define SYS_landlock_restrict_self 446
#endif

#define R LANDLOCK_ACCESS_FS_READ_FILE
#define RD LANDLOCK_ACCESS_FS_READ_DIR
#define X LANDLOCK_ACCESS_FS_EXECUTE
/* The rights a rule on a file (not a directory) may carry. */
#define FILE_RIGHTS (X | LANDLOCK_ACCESS_FS_WRITE_FILE | R | LANDLOCK_ACCESS_FS_TRUNCATE | \
		     LANDLOCK_ACCESS_FS_IOCTL_DEV)

/* struct landlock_ruleset_attr as of ABI 6; older kernels are given only
 * the fields they know (attr_size()). */
struct ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

/* What the worker may still open by path after it dropped root: read only,
 * execute only where shared libraries live. A path that does not exist
 * here is skipped. Found with strace -f of the worker (libssa clients and
 * an SSA server, reloads, match-user/match-group/match-exe profiles); the
 * kernel front end and restarts are checked by their suites. ld.so.cache
 * and the library directories were not seen opened: they are for an NSS
 * module whose first use comes after the drop. */
static const struct {
	const char *path;
	uint64_t access;
} allowed[] = {
	{ "/etc/passwd", R },        /* NSS "files": match-user names, on reload */
	{ "/etc/group", R },         /* NSS "files": match-group names, on reload */
	{ "/etc/nsswitch.conf", R }, /* glibc re-reads it when it changed */
	{ "/etc/ld.so.cache", R },   /* dlopen() of an NSS module first used after the drop */
	{ "/etc/localtime", R },     /* the time zone of log time stamps (tzset) */
	{ "/proc", R | RD },         /* callers' status/stat/uid_map, own ns, port floor, tcp tables */
	{ "/usr/lib", R | X },       /* shared libraries: NSS modules, OpenSSL modules */
	{ "/lib", R | X },
	{ "/usr/lib64", R | X },
	{ "/lib64", R | X },
	{ "/usr/local/lib", R | X },
};

uint64_t ssa_worker_fs_rights(int abi)
{
	uint64_t a = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1; /* ABI 1: bits 0..12 */

	if (abi < 1)
		return 0;

	if (abi >= 2)
		a |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		a |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		a |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return a;
}

/* The size of struct ruleset_attr the ABI reads. */
static size_t attr_size(int abi)
{
	if (abi >= 6)
		return sizeof(struct ruleset_attr);
	if (abi >= 4)
		return offsetof(struct ruleset_attr, scoped);
	return offsetof(struct ruleset_attr, handled_access_net);
}

/* Add the allow-list to ruleset rs. @retval 0 or an errno value (why says) */
static int add_rules(int rs, uint64_t handled, char *why, size_t wlen)
{
	for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++) {
		struct landlock_path_beneath_attr pb = { .allowed_access = allowed[i].access & handled };
		struct stat st;
		int rc = 0;

		pb.parent_fd = open(allowed[i].path, O_PATH | O_CLOEXEC);
		if (pb.parent_fd < 0 && (errno == ENOENT || errno == ENOTDIR))
			continue;
		if (pb.parent_fd < 0 || fstat(pb.parent_fd, &st) != 0) {
			rc = errno;
		} else {
			if (!S_ISDIR(st.st_mode))
				pb.allowed_access &= FILE_RIGHTS;
			if (syscall(SYS_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) != 0)
				rc = errno;
		}
		if (pb.parent_fd >= 0)
			close(pb.parent_fd);
		if (rc) {
			snprintf(why, wlen, "cannot allow %s: %s", allowed[i].path, strerror(rc));
			return rc;
		}
	}
	return 0;
}

int ssa_worker_fs_confine(int *abi, char *why, size_t wlen)
{
	struct ruleset_attr attr = { 0 };
	int v, rs, rc = 0;

	*abi = 0;
	v = (int)syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	if (v < 0) {
		rc = errno;
		if (rc == EOPNOTSUPP)
			snprintf(why, wlen, "Landlock is disabled (not in the kernel's lsm= list)");
		else if (rc == ENOSYS)
			snprintf(why, wlen, "Landlock is not available (ENOSYS: %s)",
				 "a kernel built without it, or valgrind");
		else
			snprintf(why, wlen, "cannot query the Landlock ABI version: %s", strerror(rc));
		return rc;
	}
	*abi = v;
	attr.handled_access_fs = ssa_worker_fs_rights(v);
	if (v >= 6)
		attr.scoped = LANDLOCK_SCOPE_SIGNAL | LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET;
	rs = (int)syscall(SYS_landlock_create_ruleset, &attr, attr_size(v), 0);
	if (rs < 0) {
		rc = errno;
		snprintf(why, wlen, "cannot create a Landlock ruleset (ABI %d): %s", v, strerror(rc));
		return rc;
	}
	if ((rc = add_rules(rs, attr.handled_access_fs, why, wlen)) == 0) {
		/* Without no_new_privs (or CAP_SYS_ADMIN) the kernel refuses. */
		if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
			rc = EPERM;
		else if (syscall(SYS_landlock_restrict_self, rs, 0) != 0)
			rc = errno;
		if (rc)
			snprintf(why, wlen, "cannot enforce the Landlock ruleset (ABI %d): %s", v,
				 rc == EPERM ? "no_new_privs is not set" : strerror(rc));
	}
	close(rs);
	return rc;
}
