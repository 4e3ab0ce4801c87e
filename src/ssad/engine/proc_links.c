/* SPDX-License-Identifier: MIT */
/* A caller's executable and namespace links, read with its fsids, and
 * ssad's own namespaces (proc_links.h). */
#include "proc_links.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "caller_fsids.h"

/* ssad's own namespaces, taken once at the first identification (before
 * any thread changes its network namespace). */
static struct {
	dev_t dev[3];
	ino_t ino[3];
	int netns_fd;
	bool has_netdev;   /* /proc/self/net/dev: an entry of ssad's own network */
	dev_t netdev_dev;  /* namespace, which lives (and keeps its inode */
	ino_t netdev_ino;  /* number) as long as ssad */
} self_ns;
static pthread_once_t self_once = PTHREAD_ONCE_INIT;
static const char *const ns_names[3] = { "mnt", "user", "net" };

static void self_ns_init(void)
{
	char path[64];
	struct stat st;

	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof path, "/proc/self/ns/%s", ns_names[i]);
		if (stat(path, &st) == 0) {
			self_ns.dev[i] = st.st_dev;
			self_ns.ino[i] = st.st_ino;
		}
	}
	self_ns.netns_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (stat("/proc/self/net/dev", &st) == 0) {
		self_ns.has_netdev = true;
		self_ns.netdev_dev = st.st_dev;
		self_ns.netdev_ino = st.st_ino;
	}
}

/* Whether pid is in ssad's network namespace, for a process whose
 * /proc/PID/ns/net ssad may not read: /proc/PID/net is the process's
 * network namespace's own directory (no ptrace check), and each namespace
 * has its own entries, each with an inode number of its own. */
bool ssa_proc_in_own_netns(pid_t pid)
{
	pthread_once(&self_once, self_ns_init);
	char path[64];
	struct stat st;

	snprintf(path, sizeof path, "/proc/%d/net/dev", (int)pid);
	return self_ns.has_netdev && stat(path, &st) == 0 && st.st_dev == self_ns.netdev_dev &&
	       st.st_ino == self_ns.netdev_ino;
}

int ssa_self_netns_fd(void)
{
	pthread_once(&self_once, self_ns_init);
	return self_ns.netns_fd;
}

/* @retval 1 the same namespace as ssad's, 0 another, -1 unreadable (errno);
 * id (if not NULL) is the namespace's */
static int same_ns(pid_t pid, int i, struct ssa_ns_id *id)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)pid, ns_names[i]);
	if (stat(path, &st) != 0)
		return -1;
	if (id) {
		id->dev = st.st_dev;
		id->ino = st.st_ino;
	}
	return st.st_dev == self_ns.dev[i] && st.st_ino == self_ns.ino[i];
}

/* The user namespace that owns the namespace open as fd: the one whose
 * capabilities the kernel counts there (a privileged port, for one).
 * NS_GET_USERNS needs no capability from a process in the initial user
 * namespace, which is an ancestor of every owner. */
static struct ssa_ns_id ns_owner(int fd)
{
	struct ssa_ns_id id = { 0, 0 };
	struct stat st;
	int ufd = ioctl(fd, NS_GET_USERNS);

	if (ufd < 0)
		return id;
	if (fstat(ufd, &st) == 0) {
		id.dev = st.st_dev;
		id.ino = st.st_ino;
	}
	close(ufd);
	return id;
}

/* What read_links() is asked: the links, and a socket of sock_domain (0:
 * none) when the caller is in ssad's network namespace. */
struct links_job {
	struct ssa_proc_links *l;
	int sock_domain;
};

/* Runs under ssa_with_caller_fsids(): system calls only, no log, no lock. */
static void read_links(void *arg, bool as_caller)
{
	const struct links_job *job = arg;
	struct ssa_proc_links *l = job->l;
	char path[64];
	struct stat st;
	ssize_t n;

	snprintf(path, sizeof path, "/proc/%d/exe", (int)l->pid);
	n = readlink(path, l->exe, PATH_MAX - 1);
	if (n < 0)
		l->exe_errno = errno;
	l->exe[n > 0 ? n : 0] = '\0';
	l->exe_stat = stat(path, &st) == 0;
	if (l->exe_stat) {
		l->exe_dev = st.st_dev;
		l->exe_ino = st.st_ino;
	} else if (!l->exe_errno) {
		l->exe_errno = errno;
	}
	l->mnt_same = same_ns(l->pid, 0, NULL) == 1;
	l->user_same = same_ns(l->pid, 1, &l->userns) == 1;
	if (l->want_netns && same_ns(l->pid, 2, NULL) != 1) {
		snprintf(path, sizeof path, "/proc/%d/ns/net", (int)l->pid);
		l->netns_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (l->netns_fd < 0)
			l->net_errno = errno;
		else
			l->net_owner = ns_owner(l->netns_fd);
		l->own_netns = true; /* even if it could not be opened: no host network */
	}
	/* In ssad's namespace, the caller's socket needs no setns(): made
	 * here, owned by the fsids just taken (never by ssad's own). */
	if (job->sock_domain && as_caller && !l->own_netns) {
		l->sock_fd = socket(job->sock_domain, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
				    IPPROTO_TCP);
		l->sock_errno = l->sock_fd < 0 ? errno : 0;
		l->sock_made = true;
	}
}

static void links_read(struct ssa_proc_links *l, int sock_domain)
{
	struct links_job job = { .l = l, .sock_domain = sock_domain };

	pthread_once(&self_once, self_ns_init);
	l->exe[0] = '\0';
	l->userns = l->net_owner = (struct ssa_ns_id){ 0, 0 };
	l->netns_fd = -1;
	l->sock_fd = -1;
	l->sock_errno = 0;
	l->sock_made = false;
	ssa_with_caller_fsids(l->uid, l->gid, read_links, &job);
}

void ssa_proc_links_read(struct ssa_proc_links *l)
{
	links_read(l, 0);
}

void ssa_proc_links_read_socket(struct ssa_proc_links *l, int domain)
{
	links_read(l, domain);
}

static int (*remote)(struct ssa_proc_links *l);
static pid_t remote_pid;

void ssa_proc_links_remote(int (*fn)(struct ssa_proc_links *l), pid_t reader)
{
	remote = fn;
	remote_pid = reader;
}

pid_t ssa_proc_links_reader(void)
{
	return remote ? remote_pid : getpid();
}

int ssa_proc_links_get(struct ssa_proc_links *l)
{
	int err;

	if (!remote) {
		ssa_proc_links_read(l);
		return 0;
	}
	if ((err = remote(l)) != 0) {
		l->exe[0] = '\0';
		l->exe_stat = false;
		l->exe_errno = l->net_errno = err;
		l->mnt_same = l->user_same = false;
		l->userns = l->net_owner = (struct ssa_ns_id){ 0, 0 };
		l->own_netns = l->want_netns;
		l->netns_fd = -1;
		l->sock_fd = -1;
		l->sock_errno = err;
	}
	return err;
}
