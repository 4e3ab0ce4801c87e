/* SPDX-License-Identifier: MIT */
/* ssad keeps only the capabilities it uses (capabilities.h). Written with
 * capget/capset and prctl directly: six bits do not need libcap. */
#include "capabilities.h"

#include <dirent.h>
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static const struct {
	int cap;
	const char *name;
} used[] = {
	/* what each is for: contrib/systemd/ssad.service, ssad(8) */
	{ CAP_NET_BIND_SERVICE, "CAP_NET_BIND_SERVICE" },
	{ CAP_NET_ADMIN, "CAP_NET_ADMIN" },
	{ CAP_SETUID, "CAP_SETUID" },
	{ CAP_SETGID, "CAP_SETGID" },
	{ CAP_SYS_ADMIN, "CAP_SYS_ADMIN" },
	/* never asked for: kept only when granted (as every one of these) */
	{ CAP_SYS_PTRACE, "CAP_SYS_PTRACE" },
};

#define NUSED (sizeof used / sizeof used[0])

/* The highest capability number this kernel knows. */
static int last_cap(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	int n = CAP_LAST_CAP;

	if (f) {
		if (fscanf(f, "%d", &n) != 1 || n < 0 || n > 63)
			n = CAP_LAST_CAP;
		fclose(f);
	}
	return n;
}

void ssad_caps_names(uint64_t mask, char *buf, size_t len)
{
	size_t off = 0;

	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < NUSED && off < len; i++) {
		if (mask & (1ull << used[i].cap)) {
			int n = snprintf(buf + off, len - off, "%s%s", off ? " " : "", used[i].name);
			off += n > 0 ? (size_t)n : 0;
		}
	}
	if (!mask && len)
		snprintf(buf, len, "none");
}

/* Drop every capability outside keep from the bounding set. @retval 0 or errno */
static int drop_bounding(uint64_t keep, char *why, size_t wlen)
{
	int last = last_cap();

	for (int c = 0; c <= last; c++) {
		if (keep & (1ull << c) || prctl(PR_CAPBSET_READ, c, 0, 0, 0) != 1)
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0 && errno != EINVAL) {
			int e = errno;

			snprintf(why, wlen, "cannot drop capability %d from the bounding set: %s", c,
				 strerror(e));
			return e;
		}
	}
	return 0;
}

int ssad_caps_limit(uint64_t *kept, char *why, size_t wlen)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];
	uint64_t perm, keep = 0;
	int rc;

	*kept = 0;
	if (syscall(SYS_capget, &h, d) != 0) {
		rc = errno;
		snprintf(why, wlen, "capget: %s", strerror(rc));
		return rc;
	}
	perm = d[0].permitted | (uint64_t)d[1].permitted << 32;
	for (size_t i = 0; i < NUSED; i++)
		keep |= 1ull << used[i].cap;
	keep &= perm; /* none is gained, only kept */
	/* an exec gains at most the bounding set: the keeper's two */
	if ((perm & (1ull << CAP_SETPCAP)) &&
	    (rc = drop_bounding(keep & ((1ull << CAP_SETUID) | (1ull << CAP_SETGID)), why, wlen)) != 0)
		return rc;
	/* EINVAL: a kernel without ambient capabilities has none to clear */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
		rc = errno;
		snprintf(why, wlen, "cannot clear the ambient capabilities: %s", strerror(rc));
		return rc;
	}
	d[0].effective = d[0].permitted = (uint32_t)keep;
	d[1].effective = d[1].permitted = (uint32_t)(keep >> 32);
	d[0].inheritable = d[1].inheritable = 0;
	if (syscall(SYS_capset, &h, d) != 0) {
		rc = errno;
		snprintf(why, wlen, "capset: %s", strerror(rc));
		return rc;
	}
	*kept = keep;
	return 0;
}

/* The process's threads (entries of /proc/self/task); 0 if unknown. */
static int count_threads(void)
{
	DIR *dir = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	if (!dir)
		return 0;
	while ((e = readdir(dir)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(dir);
	return n;
}

/* Whether cap is in the calling thread's effective or permitted set. */
static int cap_held(const struct __user_cap_data_struct *data, int cap)
{
	uint32_t bit = 1u << (cap % 32);

	return (data[cap / 32].effective | data[cap / 32].permitted) & bit;
}

/* Lower cap in the bounding set if it is there and the thread may.
 * @retval whether cap is out of the bounding set now */
static bool drop_bounding_one(int cap)
{
	if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 0)
		return true;
	/* EPERM without CAP_SETPCAP (the systemd unit does not grant it;
	 * NoNewPrivileges= keeps an exec from raising capabilities there) */
	return prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0;
}

int ssa_cap_drop(int cap, bool *bounding_out)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	uint32_t bit;

	if (cap < 0 || cap >= 32 * _LINUX_CAPABILITY_U32S_3)
		return EINVAL;
	if (count_threads() > 1)
		return EBUSY;
	if (syscall(SYS_capget, &hdr, data) != 0)
		return errno;
	bit = 1u << (cap % 32);
	/* the kernel lowers the ambient set with the permitted one */
	if (cap_held(data, cap) || (data[cap / 32].inheritable & bit)) {
		data[cap / 32].effective &= ~bit;
		data[cap / 32].permitted &= ~bit;
		data[cap / 32].inheritable &= ~bit;
		if (syscall(SYS_capset, &hdr, data) != 0)
			return errno;
	}
	if (bounding_out)
		*bounding_out = drop_bounding_one(cap);
	else
		(void)drop_bounding_one(cap);
	if (syscall(SYS_capget, &hdr, data) != 0)
		return errno;
	return cap_held(data, cap) ? EIO : 0;
}
