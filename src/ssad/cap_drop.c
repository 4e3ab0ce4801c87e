/* SPDX-License-Identifier: MIT */
/* Giving up one capability for good (cap_drop.h). */
#include "cap_drop.h"

#include <dirent.h>
#include <errno.h>
#include <linux/capability.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

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
static bool drop_bounding(int cap)
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
		*bounding_out = drop_bounding(cap);
	else
		(void)drop_bounding(cap);
	if (syscall(SYS_capget, &hdr, data) != 0)
		return errno;
	return cap_held(data, cap) ? EIO : 0;
}
