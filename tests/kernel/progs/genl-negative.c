/* SPDX-License-Identifier: MIT */
/*
 * genl-negative: the kernel side of the ssa generic netlink channel refuses
 * what it must. Run as root in the guest with ssa.ko loaded and NO ssad
 * (tests/kernel/guest/75-genl.t kills them first); prints TAP.
 *
 * Expected outcomes, in order:
 *   - the family's version (CTRL_ATTR_VERSION) is SSA_GENL_VERSION (2:
 *     ACCEPT/DONE/CHECKED need no CAP_NET_ADMIN)
 *   - without CAP_NET_ADMIN (uid 65534): REGISTER -> EPERM
 *   - not registered: ACCEPT, DONE -> EPERM; socket(205) -> EPROTONOSUPPORT
 *   - unknown command 99, and HANDSHAKE sent to the kernel -> EOPNOTSUPP
 *   - strict policy: unknown attribute, SSA_A_ID of 4 bytes, STATUS 5000,
 *     REASON without NUL, SEQ 0 -> EINVAL/ERANGE (any error)
 *   - REGISTER as root -> 0; a second port -> EBUSY; again from the same
 *     port -> 0
 *   - a second socket's ACCEPT/DONE/CHECKED -> EPERM (it has CAP_NET_ADMIN:
 *     only the registered socket counts)
 *   - ACCEPT/DONE of an unknown id -> ENOENT; wrong seq -> ENOENT;
 *     CHECKED for a handshake request -> EINVAL, of an unknown id ->
 *     ENOENT; DONE before ACCEPT -> EINVAL; ACCEPT twice -> EALREADY
 *   - ACCEPT installs a TCP socket fd in the caller
 *   - DONE status 0 without kernel TLS on the socket -> EPROTO, and the
 *     application's connect fails (EPROTO), never plaintext
 *   - DONE status ECONNREFUSED + reason -> SO_ERROR ECONNREFUSED, TLS_ERROR
 *     is the reason
 *   - a child without any capability (uid 65534) holding the registered
 *     socket: REGISTER from it -> EPERM; ACCEPT -> a reply; CHECKED of an
 *     unknown id -> ENOENT (past the permission check); DONE with an errno
 *     -> 0 and the application sees it; its own socket's ACCEPT -> EPERM
 *   - the key taker (version 3): REGISTER_KEYS from the daemon's socket
 *     -> EINVAL; from another socket -> 0; from a third -> EBUSY; REGISTER
 *     from the taker's socket -> EBUSY (a daemon is registered), EINVAL
 *     (none is: checked at the end); without CAP_NET_ADMIN -> EPERM.
 *     A socket with TLS_REMOTE_HOSTNAME and TLS_PRIVATE_KEY (checked, then
 *     connected): TAKE_KEY before ACCEPT -> EINVAL; ACCEPT gives the key
 *     option SSA_OPT_HELD and no descriptor; TAKE_KEY from the daemon's
 *     socket or an unregistered one -> EPERM; of the hostname option
 *     (index 0) -> ENOENT; of index 1 -> the key file installed in the
 *     taker (same inode) with the owner's uid; a second time, and after
 *     DONE -> ENOENT; INDEX 32 -> refused by the policy;
 *     the taker's socket closed -> another socket may register
 *   - closing the registered port: pending connect fails (ECONNABORTED)
 *     at once, socket(205) -> EPROTONOSUPPORT again
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ssa/in_tls.h"
#include "ssa/ssa_genl.h"

#define NLA_OK(a, len) ((len) >= (int)sizeof(struct nlattr) && (a)->nla_len >= sizeof(struct nlattr) && (a)->nla_len <= (len))

static int n_test, n_fail;
static uint16_t fam;

static void ok(int cond, const char *fmt, const char *detail)
{
	n_test++;
	if (!cond)
		n_fail++;
	printf("%sok %d - %s%s%s\n", cond ? "" : "not ", n_test, fmt, detail ? ": " : "",
	       detail ? detail : "");
	fflush(stdout);
}

struct req {
	uint8_t buf[4096] __attribute__((aligned(4)));
	size_t len;
};

static void put(struct req *r, uint16_t type, const void *d, size_t n)
{
	struct nlattr a = { .nla_len = (uint16_t)(4 + n), .nla_type = type };

	memcpy(r->buf + r->len, &a, 4);
	memcpy(r->buf + r->len + 4, d, n);
	r->len += (4 + n + 3) & ~3u;
}

static void start(struct req *r, uint16_t type, uint8_t cmd, uint16_t flags)
{
	struct nlmsghdr nh = { .nlmsg_type = type, .nlmsg_flags = NLM_F_REQUEST | flags,
			       .nlmsg_seq = 1 };
	struct genlmsghdr gh = { .cmd = cmd, .version = 1 };

	memset(r->buf, 0, sizeof r->buf);
	memcpy(r->buf, &nh, sizeof nh);
	memcpy(r->buf + sizeof nh, &gh, sizeof gh);
	r->len = NLMSG_LENGTH(sizeof gh);
}

static int nl_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	struct timeval tv = { .tv_sec = 5 };

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	return fd;
}

static uint8_t rbuf[65536] __attribute__((aligned(4)));

/* Send r; return the errno of the ack (0) and leave a reply (if any) in rbuf.
 * Messages that are not for seq 1 (notifications) are skipped. */
static int xfer(int fd, struct req *r, struct nlmsghdr **reply)
{
	struct nlmsghdr nh;
	ssize_t n;

	memcpy(&nh, r->buf, sizeof nh);
	nh.nlmsg_len = (uint32_t)r->len;
	memcpy(r->buf, &nh, sizeof nh);
	if (send(fd, r->buf, r->len, 0) != (ssize_t)r->len)
		return -1000;
	if (reply)
		*reply = NULL;
	for (;;) {
		struct nlmsghdr *h;

		n = recv(fd, rbuf, sizeof rbuf, 0);
		if (n < 0)
			return -1001;
		for (h = (struct nlmsghdr *)rbuf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != 1)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR)
				return -((struct nlmsgerr *)NLMSG_DATA(h))->error;
			if (reply) {
				*reply = h;
				return 0;
			}
		}
	}
}

static uint32_t fam_version;

/* The family's id (0 if not found); its version goes to fam_version. */
static uint16_t resolve(int fd)
{
	struct req r;
	struct nlmsghdr *h;
	struct nlattr *a;
	uint16_t id = 0;
	int len;

	start(&r, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0);
	put(&r, CTRL_ATTR_FAMILY_NAME, SSA_GENL_NAME, sizeof SSA_GENL_NAME);
	if (xfer(fd, &r, &h) != 0 || !h)
		return 0;
	len = (int)h->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);
	for (a = (struct nlattr *)((char *)NLMSG_DATA(h) + GENL_HDRLEN); NLA_OK(a, len);
	     a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len)), len -= NLA_ALIGN(a->nla_len)) {
		if (a->nla_type == CTRL_ATTR_VERSION && a->nla_len == NLA_HDRLEN + 4)
			memcpy(&fam_version, (char *)a + NLA_HDRLEN, 4);
		if (a->nla_type == CTRL_ATTR_FAMILY_ID)
			id = *(uint16_t *)((char *)a + NLA_HDRLEN);
	}
	return id;
}

static int cmd(int fd, uint8_t c, uint64_t id, uint32_t seq, int status, const char *reason)
{
	struct req r;

	start(&r, fam, c, NLM_F_ACK);
	if (c != SSA_CMD_REGISTER && c != SSA_CMD_REGISTER_KEYS) {
		put(&r, SSA_A_ID, &id, 8);
		put(&r, SSA_A_SEQ, &seq, 4);
	}
	if (status >= 0)
		put(&r, SSA_A_STATUS, &status, 4);
	if (reason)
		put(&r, SSA_A_REASON, reason, strlen(reason) + 1);
	return xfer(fd, &r, NULL);
}

static char *errs(int e)
{
	static char b[64];

	snprintf(b, sizeof b, "got %s (%d)", e > 0 ? strerror(e) : e == 0 ? "success" : "no answer", e);
	return b;
}

/* Wait for a notification c (HANDSHAKE, CHECK); fills id and seq. */
static int wait_cmd(int fd, uint8_t c, uint64_t *id, uint32_t *seq)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	while (poll(&p, 1, 5000) == 1) {
		ssize_t n = recv(fd, rbuf, sizeof rbuf, 0);
		struct nlmsghdr *h;

		if (n <= 0)
			return -1;
		for (h = (struct nlmsghdr *)rbuf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			struct genlmsghdr *g = NLMSG_DATA(h);
			int len = (int)h->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);
			struct nlattr *a = (struct nlattr *)((char *)g + GENL_HDRLEN);

			if (h->nlmsg_type != fam || g->cmd != c)
				continue;
			for (; NLA_OK(a, len);
			     len -= NLA_ALIGN(a->nla_len), a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len))) {
				if (a->nla_type == SSA_A_ID)
					memcpy(id, (char *)a + NLA_HDRLEN, 8);
				if (a->nla_type == SSA_A_SEQ)
					memcpy(seq, (char *)a + NLA_HDRLEN, 4);
			}
			return 0;
		}
	}
	return -1;
}

static int wait_handshake(int fd, uint64_t *id, uint32_t *seq)
{
	return wait_cmd(fd, SSA_CMD_HANDSHAKE, id, seq);
}

static int tls_socket(void)
{
	return socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, IPPROTO_TLS);
}

static int nb_connect(int s)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(9),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

	return connect(s, (struct sockaddr *)&sin, sizeof sin) == 0 ? 0 : errno;
}

static int so_error_after(int s)
{
	struct pollfd p = { .fd = s, .events = POLLOUT };
	int e = -1;
	socklen_t l = sizeof e;

	if (poll(&p, 1, 5000) != 1)
		return -2;
	getsockopt(s, SOL_SOCKET, SO_ERROR, &e, &l);
	return e;
}

/* In a child: give up every capability (uid 65534) and check that the
 * last one is gone; then res[] gets the errnos of what it tries with the
 * registered socket fd (see unprivileged_holder). */
/* The connect on s failed with ECONNREFUSED and TLS_ERROR reads reason. */
static void expect_refused(int s, const char *reason, const char *desc)
{
	char why[128] = "";
	socklen_t l = sizeof why;
	int e = so_error_after(s);

	getsockopt(s, IPPROTO_TLS, TLS_ERROR, why, &l);
	ok(e == ECONNREFUSED && strcmp(why, reason) == 0, desc, why);
}

static void holder_child(int fd, uint64_t id, uint32_t seq, int res[6])
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = { { 0 } };
	struct nlmsghdr *h;
	struct req r;
	int u;

	if (setgid(65534) || setuid(65534) || syscall(SYS_capget, &hdr, data) != 0)
		_exit(99);
	res[0] = (data[0].effective | data[0].permitted | data[1].effective |
		  data[1].permitted) != 0;
	res[1] = cmd(fd, SSA_CMD_REGISTER, 0, 0, -1, NULL);
	start(&r, fam, SSA_CMD_ACCEPT, 0);
	put(&r, SSA_A_ID, &id, 8);
	put(&r, SSA_A_SEQ, &seq, 4);
	res[2] = xfer(fd, &r, &h);
	if (res[2] == 0 && (!h || h->nlmsg_type != fam))
		res[2] = -1002;
	res[3] = cmd(fd, SSA_CMD_CHECKED, 0x4321, 1, 0, NULL);
	res[4] = cmd(fd, SSA_CMD_DONE, id, seq, ECONNREFUSED, "done without CAP_NET_ADMIN");
	u = nl_open();
	res[5] = u < 0 ? -1003 : cmd(u, SSA_CMD_ACCEPT, id, seq, -1, NULL);
}

/*
 * The registered socket in a process without CAP_NET_ADMIN (as ssad runs
 * once registered): ACCEPT, DONE and CHECKED are obeyed, REGISTER is not;
 * the same process's own socket is refused.
 */
static void unprivileged_holder(int fd)
{
	int res[6] = { -1, -1, -1, -1, -1, -1 }, p[2], s, status;
	uint64_t id = 0;
	uint32_t seq = 0;
	pid_t pid;

	s = tls_socket();
	nb_connect(s);
	if (wait_handshake(fd, &id, &seq) != 0 || pipe(p) != 0)
		id = 0;
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		holder_child(fd, id, seq, res);
		_exit(write(p[1], res, sizeof res) == (ssize_t)sizeof res ? 0 : 97);
	}
	close(p[1]);
	if (read(p[0], res, sizeof res) != (ssize_t)sizeof res)
		res[0] = -1;
	close(p[0]);
	waitpid(pid, &status, 0);
	ok(id && res[0] == 0, "holder: a child with no capability (uid 65534)",
	   res[0] < 0 ? "no answer" : NULL);
	ok(res[1] == EPERM, "holder: REGISTER from the registered socket without CAP_NET_ADMIN: EPERM",
	   errs(res[1]));
	ok(res[2] == 0, "holder: ACCEPT without CAP_NET_ADMIN: a reply", errs(res[2]));
	ok(res[3] == ENOENT, "holder: CHECKED of an unknown id: ENOENT (past the permission check)",
	   errs(res[3]));
	ok(res[4] == 0, "holder: DONE without CAP_NET_ADMIN: obeyed", errs(res[4]));
	expect_refused(s, "done without CAP_NET_ADMIN",
		       "holder: ... the application sees its errno and reason");
	ok(res[5] == EPERM, "holder: its own socket's ACCEPT (no capability, not registered): EPERM",
	   errs(res[5]));
	close(s);
}

/* Walk the attributes of the genl message h: f(a, arg) for each. */
static void walk_attrs(const struct nlattr *a, int len, void (*f)(const struct nlattr *, void *),
		       void *arg)
{
	for (; NLA_OK(a, len);
	     len -= NLA_ALIGN(a->nla_len), a = (const struct nlattr *)((const char *)a + NLA_ALIGN(a->nla_len)))
		f(a, arg);
}

struct accepted {
	int n_opts, tcp_fd, fd;
	uint32_t uid;
	int held[4], opt_fd[4];
};

static void opt_attr(const struct nlattr *a, void *arg)
{
	struct accepted *x = arg;

	if (x->n_opts > 4)
		return;
	if (a->nla_type == SSA_OPT_HELD)
		x->held[x->n_opts - 1] = 1;
	if (a->nla_type == SSA_OPT_FD)
		memcpy(&x->opt_fd[x->n_opts - 1], (const char *)a + NLA_HDRLEN, 4);
}

static void top_attr(const struct nlattr *a, void *arg)
{
	struct accepted *x = arg;

	if (a->nla_type == SSA_A_FD)
		memcpy(&x->fd, (const char *)a + NLA_HDRLEN, 4);
	if (a->nla_type == SSA_A_UID)
		memcpy(&x->uid, (const char *)a + NLA_HDRLEN, 4);
	if ((a->nla_type & NLA_TYPE_MASK) == SSA_A_OPT && ++x->n_opts <= 4)
		walk_attrs((const struct nlattr *)((const char *)a + NLA_HDRLEN),
			   (int)a->nla_len - NLA_HDRLEN, opt_attr, x);
}

static void parse_reply(const struct nlmsghdr *h, struct accepted *x)
{
	memset(x, 0, sizeof *x);
	x->fd = -1;
	for (int i = 0; i < 4; i++)
		x->opt_fd[i] = -1;
	walk_attrs((const struct nlattr *)((const char *)NLMSG_DATA(h) + GENL_HDRLEN),
		   (int)h->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN), top_attr, x);
}

static int take_key(int fd, uint64_t id, uint32_t seq, uint32_t index, struct accepted *x)
{
	struct req r;
	struct nlmsghdr *h;
	int e;

	start(&r, fam, SSA_CMD_TAKE_KEY, 0);
	put(&r, SSA_A_ID, &id, 8);
	put(&r, SSA_A_SEQ, &seq, 4);
	put(&r, SSA_A_INDEX, &index, 4);
	e = xfer(fd, &r, &h);
	if (e == 0 && h && x)
		parse_reply(h, x);
	return e == 0 && !h ? -1002 : e;
}

/* In a child: set TLS_REMOTE_HOSTNAME and TLS_PRIVATE_KEY on s (the
 * parent answers the module's CHECKs). Exit status: 0 or the errno. */
static void set_key_child(int s, const char *key)
{
	if (setsockopt(s, IPPROTO_TLS, TLS_REMOTE_HOSTNAME, "localhost", 10) != 0 ||
	    setsockopt(s, IPPROTO_TLS, TLS_PRIVATE_KEY, key, (socklen_t)strlen(key) + 1) != 0)
		_exit(errno);
	_exit(0);
}

/* The key taker: fd is the registered daemon, fd2 another socket. */
static void key_taker(int fd, int fd2)
{
	static const char key[] = "/tmp/genl-negative.key";
	struct accepted x = { .n_opts = 0 }, t;
	struct stat st, st2;
	char why[128];
	struct nlmsghdr *h;
	struct req r;
	uint64_t id = 0;
	uint32_t seq = 0;
	int fdk = nl_open(), fd3, s, e, status, kf;
	pid_t pid;

	ok(cmd(fd, SSA_CMD_REGISTER_KEYS, 0, 0, -1, NULL) == EINVAL,
	   "REGISTER_KEYS from the daemon's socket: EINVAL", NULL);
	e = cmd(fdk, SSA_CMD_REGISTER_KEYS, 0, 0, -1, NULL);
	ok(e == 0, "REGISTER_KEYS from another socket (root)", errs(e));
	e = cmd(fd2, SSA_CMD_REGISTER_KEYS, 0, 0, -1, NULL);
	ok(e == EBUSY, "a second key taker: EBUSY", errs(e));
	e = cmd(fdk, SSA_CMD_REGISTER, 0, 0, -1, NULL);
	ok(e == EBUSY, "REGISTER from the key taker's socket, a daemon registered: EBUSY", errs(e));
	pid = fork();
	if (pid == 0) {
		if (setgid(65534) || setuid(65534))
			_exit(99);
		fd3 = nl_open();
		_exit(fd3 < 0 ? 98 : cmd(fd3, SSA_CMD_REGISTER_KEYS, 0, 0, -1, NULL));
	}
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == EPERM,
	   "REGISTER_KEYS without CAP_NET_ADMIN: EPERM", errs(WEXITSTATUS(status)));

	kf = open(key, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (kf < 0 || write(kf, "not a key\n", 10) != 10 || fstat(kf, &st) != 0)
		st.st_ino = 0;
	if (kf >= 0)
		close(kf);
	s = tls_socket();
	pid = fork();
	if (pid == 0)
		set_key_child(s, key);
	for (int i = 0; i < 2 && wait_cmd(fd, SSA_CMD_CHECK, &id, &seq) == 0; i++)
		cmd(fd, SSA_CMD_CHECKED, id, seq, 0, NULL);
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the key option is set (CHECKed)",
	   errs(WEXITSTATUS(status)));
	e = nb_connect(s);
	e = e == EINPROGRESS ? wait_handshake(fd, &id, &seq) : e;
	ok(e == 0 && take_key(fdk, id, seq, 1, NULL) == EINVAL, "TAKE_KEY before ACCEPT: EINVAL",
	   NULL);
	start(&r, fam, SSA_CMD_ACCEPT, 0);
	put(&r, SSA_A_ID, &id, 8);
	put(&r, SSA_A_SEQ, &seq, 4);
	e = xfer(fd, &r, &h);
	if (e == 0 && h)
		parse_reply(h, &x);
	snprintf(why, sizeof why, "%s, %d options, held %d %d, fd %d", errs(e), x.n_opts, x.held[0],
		 x.held[1], x.opt_fd[1]);
	ok(e == 0 && h && x.n_opts == 2 && x.held[1] && x.opt_fd[1] < 0 && !x.held[0],
	   "ACCEPT: the key option is held (SSA_OPT_HELD, no descriptor)", why);
	if (e == 0 && h && x.fd >= 0)
		close(x.fd);
	e = take_key(fd, id, seq, 1, NULL);
	ok(e == EPERM, "TAKE_KEY from the daemon's socket: EPERM", errs(e));
	e = take_key(fd2, id, seq, 1, NULL);
	ok(e == EPERM, "TAKE_KEY from an unregistered socket (with CAP_NET_ADMIN): EPERM", errs(e));
	e = take_key(fdk, id, seq, 0, NULL);
	ok(e == ENOENT, "TAKE_KEY of an option that is not held: ENOENT", errs(e));
	e = take_key(fdk, id, seq, 32, NULL);
	ok(e > 0 && e != ENOENT && e != EPERM, "TAKE_KEY of INDEX 32: refused by the policy", errs(e));
	e = take_key(fdk, id, seq, 1, &t);
	ok(e == 0 && t.fd >= 0 && fstat(t.fd, &st2) == 0 && st2.st_ino == st.st_ino && t.uid == 0,
	   "TAKE_KEY: the key file, installed in the taker, with its owner's uid", errs(e));
	if (e == 0 && t.fd >= 0)
		close(t.fd);
	e = take_key(fdk, id, seq, 1, NULL);
	ok(e == ENOENT, "TAKE_KEY a second time: ENOENT", errs(e));
	cmd(fd, SSA_CMD_DONE, id, seq, ECONNREFUSED, "test: done");
	e = take_key(fdk, id, seq, 1, NULL);
	ok(e == ENOENT, "TAKE_KEY after DONE: ENOENT", errs(e));
	close(s);
	close(fdk);
	fd3 = nl_open();
	e = cmd(fd3, SSA_CMD_REGISTER_KEYS, 0, 0, -1, NULL);
	ok(e == 0, "the key taker's socket closed: another may register", errs(e));
	close(fd3);
	unlink(key);
}

int main(void)
{
	int fd, fd2, s, e, status;
	uint64_t id = 0;
	uint32_t seq = 0;
	pid_t pid;
	struct req r;
	char msg[64];

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("1..56\n");
	fd = nl_open();
	fam = fd >= 0 ? resolve(fd) : 0;
	ok(fam != 0, "the ssa generic netlink family exists", NULL);
	if (!fam)
		return 1;
	snprintf(msg, sizeof msg, "version %u", fam_version);
	ok(fam_version == SSA_GENL_VERSION && fam_version >= SSA_GENL_VERSION_UNPRIV,
	   "the family's version says ACCEPT/DONE/CHECKED need no CAP_NET_ADMIN", msg);

	/* 1. no CAP_NET_ADMIN */
	pid = fork();
	if (pid == 0) {
		int u;

		if (setgid(65534) || setuid(65534))
			_exit(99);
		u = nl_open();
		_exit(u < 0 ? 98 : cmd(u, SSA_CMD_REGISTER, 0, 0, -1, NULL));
	}
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == EPERM, "REGISTER without CAP_NET_ADMIN: EPERM",
	   errs(WEXITSTATUS(status)));

	/* 2. not registered */
	e = cmd(fd, SSA_CMD_ACCEPT, 1, 1, -1, NULL);
	ok(e == EPERM, "ACCEPT from an unregistered port: EPERM", errs(e));
	e = cmd(fd, SSA_CMD_DONE, 1, 1, 0, NULL);
	ok(e == EPERM, "DONE from an unregistered port: EPERM", errs(e));
	s = tls_socket();
	ok(s < 0 && errno == EPROTONOSUPPORT, "no daemon: socket(205) fails with EPROTONOSUPPORT",
	   s < 0 ? strerror(errno) : "created");
	if (s >= 0)
		close(s);

	/* 3. commands that do not exist for userspace */
	e = cmd(fd, 99, 1, 1, -1, NULL);
	ok(e == EOPNOTSUPP, "unknown command: EOPNOTSUPP", errs(e));
	e = cmd(fd, SSA_CMD_HANDSHAKE, 1, 1, -1, NULL);
	ok(e == EOPNOTSUPP, "HANDSHAKE sent to the kernel: EOPNOTSUPP", errs(e));

	/* 4. strict attribute validation */
	start(&r, fam, SSA_CMD_DONE, NLM_F_ACK);
	put(&r, 200, "xxxx", 4);
	e = xfer(fd, &r, NULL);
	ok(e > 0 && e != EPERM, "unknown attribute: refused by the policy", errs(e));
	start(&r, fam, SSA_CMD_DONE, NLM_F_ACK);
	put(&r, SSA_A_ID, "abcd", 4);
	e = xfer(fd, &r, NULL);
	ok(e > 0 && e != EPERM, "SSA_A_ID of 4 bytes: refused", errs(e));
	status = 5000;
	start(&r, fam, SSA_CMD_DONE, NLM_F_ACK);
	put(&r, SSA_A_STATUS, &status, 4);
	e = xfer(fd, &r, NULL);
	ok(e > 0 && e != EPERM, "STATUS 5000: refused", errs(e));
	start(&r, fam, SSA_CMD_DONE, NLM_F_ACK);
	put(&r, SSA_A_REASON, "no-nul", 6);
	e = xfer(fd, &r, NULL);
	ok(e > 0 && e != EPERM, "REASON without NUL: refused", errs(e));
	seq = 0;
	start(&r, fam, SSA_CMD_ACCEPT, NLM_F_ACK);
	put(&r, SSA_A_SEQ, &seq, 4);
	e = xfer(fd, &r, NULL);
	ok(e > 0 && e != EPERM, "SEQ 0: refused", errs(e));

	/* 5. registration */
	e = cmd(fd, SSA_CMD_REGISTER, 0, 0, -1, NULL);
	ok(e == 0, "REGISTER as root", errs(e));
	fd2 = nl_open();
	e = cmd(fd2, SSA_CMD_REGISTER, 0, 0, -1, NULL);
	ok(e == EBUSY, "a second daemon: EBUSY", errs(e));
	e = cmd(fd, SSA_CMD_REGISTER, 0, 0, -1, NULL);
	ok(e == 0, "REGISTER again from the same port", errs(e));
	e = cmd(fd2, SSA_CMD_ACCEPT, 1, 1, -1, NULL);
	ok(e == EPERM, "ACCEPT from another port: EPERM", errs(e));
	e = cmd(fd2, SSA_CMD_DONE, 1, 1, 0, NULL);
	ok(e == EPERM, "DONE from another port (with CAP_NET_ADMIN): EPERM", errs(e));
	e = cmd(fd2, SSA_CMD_CHECKED, 1, 1, 0, NULL);
	ok(e == EPERM, "CHECKED from another port (with CAP_NET_ADMIN): EPERM", errs(e));

	/* 6. requests */
	e = cmd(fd, SSA_CMD_ACCEPT, 0x1234, 1, -1, NULL);
	ok(e == ENOENT, "ACCEPT of an unknown id: ENOENT", errs(e));
	s = tls_socket();
	e = s < 0 ? errno : nb_connect(s);
	ok(e == EINPROGRESS && wait_handshake(fd, &id, &seq) == 0 && id && seq,
	   "non-blocking connect: EINPROGRESS and a HANDSHAKE request", strerror(e));
	e = cmd(fd, SSA_CMD_ACCEPT, id, seq + 1, -1, NULL);
	ok(e == ENOENT, "ACCEPT with a wrong seq: ENOENT", errs(e));
	e = cmd(fd, SSA_CMD_CHECKED, id, seq, 0, NULL);
	ok(e == EINVAL, "CHECKED for a handshake request: EINVAL", errs(e));
	e = cmd(fd, SSA_CMD_CHECKED, 0x4321, 1, 0, NULL);
	ok(e == ENOENT, "CHECKED of an unknown id: ENOENT", errs(e));
	e = cmd(fd, SSA_CMD_DONE, id, seq, 0, NULL);
	ok(e == EINVAL, "DONE before ACCEPT: EINVAL", errs(e));
	{
		struct nlmsghdr *h;

		start(&r, fam, SSA_CMD_ACCEPT, 0);
		put(&r, SSA_A_ID, &id, 8);
		put(&r, SSA_A_SEQ, &seq, 4);
		e = xfer(fd, &r, &h);
		ok(e == 0 && h && h->nlmsg_type == fam, "ACCEPT: a reply", errs(e));
	}
	e = cmd(fd, SSA_CMD_ACCEPT, id, seq, -1, NULL);
	ok(e == EALREADY, "ACCEPT twice: EALREADY", errs(e));
	e = cmd(fd, SSA_CMD_DONE, id, seq, 0, NULL);
	ok(e == EPROTO, "DONE success without kernel TLS on the socket: EPROTO", errs(e));
	e = so_error_after(s);
	ok(e == EPROTO, "... and the application sees EPROTO (never plaintext)", errs(e));
	close(s);

	s = tls_socket();
	nb_connect(s);
	e = wait_handshake(fd, &id, &seq);
	if (!e)
		cmd(fd, SSA_CMD_ACCEPT, id, seq, -1, NULL);
	e = cmd(fd, SSA_CMD_DONE, id, seq, ECONNREFUSED, "test: refused");
	expect_refused(s, "test: refused", "DONE with an errno: SO_ERROR and TLS_ERROR");
	close(s);

	unprivileged_holder(fd);
	key_taker(fd, fd2);

	/* 7. the daemon goes away */
	s = tls_socket();
	nb_connect(s);
	close(fd);
	e = so_error_after(s);
	ok(e == ECONNABORTED, "daemon gone: the pending connect fails at once (ECONNABORTED)", errs(e));
	close(s);
	fd = nl_open();
	e = cmd(fd, SSA_CMD_REGISTER_KEYS, 0, 0, -1, NULL);
	ok(e == 0, "no daemon: a socket registers as the key taker", errs(e));
	e = cmd(fd, SSA_CMD_REGISTER, 0, 0, -1, NULL);
	ok(e == EINVAL, "REGISTER from the key taker's socket: EINVAL", errs(e));
	close(fd);
	close(fd2);
	return n_fail ? 1 : 0;
}
