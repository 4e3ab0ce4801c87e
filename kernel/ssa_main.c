// SPDX-License-Identifier: GPL-2.0
/*
 * ssa.ko - the Secure Socket API as a kernel front end: native IPPROTO_TLS.
 *
 * Design (see also README.md, "Kernel front end"):
 *
 * - socket(AF_INET/AF_INET6, SOCK_STREAM, IPPROTO_TLS) is registered with
 *   inet_register_protosw()/inet6_register_protosw(), the exported way to
 *   add a protocol. Nothing global is patched, no kallsyms.
 *
 * - The IPPROTO_TLS socket is a wrapper: its own small struct proto and a
 *   full proto_ops. Each socket holds an inner kernel TCP socket
 *   (sock_create_kern) that owns a struct file (sock_alloc_file), and every
 *   call is forwarded to it. The wire sees ordinary TCP: the outer socket's
 *   sk_protocol (205) never reaches an IP header.
 *
 * - The handshake is an upcall to ssad over generic netlink, modelled on
 *   net/handshake: the module sends HANDSHAKE(id, seq); ssad answers
 *   ACCEPT(id, seq) and gets the inner socket installed as a file
 *   descriptor in its own table, with the caller's options and identity
 *   (pid, euid, egid, executable) in the reply. ssad connects it (client),
 *   runs OpenSSL under the administrator's policy, installs the session
 *   keys with kernel TLS (TCP_ULP "tls", SOL_TLS TLS_TX/TLS_RX), closes
 *   its descriptor and sends DONE(id, seq, status, reason, results). The
 *   module checks that kernel TLS really is installed in both directions
 *   before the socket becomes usable: it never falls back to plaintext.
 *   From then on reads and writes go straight to kernel TLS.
 *
 * - Certificate, key and trust files named by setsockopt() are opened
 *   there, with the caller's credentials (filp_open), and handed to ssad
 *   as descriptors: ssad never opens a path for an application.
 *
 * - Records kernel TLS cannot give the application are dealt with here:
 *   each read first peeks at the next record's type (TLS_GET_RECORD_TYPE
 *   with a kernel control buffer); NewSessionTicket is dropped, a
 *   close_notify alert ends the stream (read returns 0), any other alert
 *   gives ECONNRESET, KeyUpdate (which kernel TLS before 6.13 cannot
 *   follow) fails the connection with EPROTO, and a TCP FIN without
 *   close_notify is a truncation (ECONNRESET). close() and
 *   shutdown(SHUT_WR) send close_notify (TLS_SET_RECORD_TYPE). The
 *   application can neither pass SOL_TLS control messages nor reach
 *   SOL_TLS or TCP_ULP options: the keys stay out of its reach.
 *
 * - Listeners accept TCP connections in the background (a work item
 *   triggered by the inner listener's sk_data_ready), at most backlog of
 *   them at a time in handshake or waiting; accept() returns only those
 *   whose handshake succeeded.
 *
 * - Readiness is the module's: poll() masks everything while the
 *   handshake runs, then delegates to the inner socket (its wait queue)
 *   and adds what the module knows (close_notify, errors). Failures set
 *   the outer sk_err, so SO_ERROR works through the generic SOL_SOCKET
 *   code. SOL_SOCKET options that matter are copied to the inner socket
 *   (timeouts, buffer sizes, keepalive, linger, mark, priority,
 *   SO_REUSEADDR, SO_REUSEPORT, SO_BINDTODEVICE).
 *
 * - Lifetime: every outer socket pins the module (proto and proto_ops
 *   owner), so rmmod with live sockets is refused. The control plane runs
 *   under one mutex (ssa_lock); the data path takes no global lock.
 *
 * - Without a registered daemon socket() fails with EPROTONOSUPPORT at
 *   once; when the daemon's netlink socket closes, every pending handshake
 *   fails with ECONNABORTED at once.
 */
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/fs_struct.h>
#include <linux/memcontrol.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/security.h>
#include <linux/user_namespace.h>
#include <linux/random.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <net/inet_common.h>
#include <net/inet_connection_sock.h>
#include <net/protocol.h>
#include <net/tcp.h>
#include <net/tls.h>
#include <uapi/linux/tls.h>

#include "ssa.h"
#include "ssa_compat.h"

#define SSA_RECORD_MAX (16384 + 256)

/* TLS record content types (RFC 8446, 5.1); net/tls.h keeps its own private. */
#define SSA_REC_ALERT 21
#define SSA_REC_HANDSHAKE 22
#define SSA_REC_DATA 23

/* the control plane: requests, daemon registration, listener queues */
DEFINE_MUTEX(ssa_lock);
static struct workqueue_struct *ssa_wq;
static struct proto ssa_prot;
static const struct proto_ops ssa_inet_ops, ssa_inet6_ops;
static void ssa_accept_work(struct work_struct *work);
static void ssa_listener_stop(struct ssa_conn *l);

/* ---- connection objects ------------------------------------------- */

/* Live struct ssa_conn, for tests: /sys/module/ssa/parameters/live_conns */
static atomic_t ssa_live_conns = ATOMIC_INIT(0);

static int ssa_live_conns_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%d\n", atomic_read(&ssa_live_conns));
}

static const struct kernel_param_ops ssa_live_conns_ops = {
	.get = ssa_live_conns_get,
};

module_param_cb(live_conns, &ssa_live_conns_ops, NULL, 0444);
MODULE_PARM_DESC(live_conns, "connection objects alive (read-only)");

/*
 * Allocations for c made outside its creator's context (ssad's DONE, the
 * accept worker) are charged to c's memory cgroup all the same.
 */
static struct mem_cgroup *ssa_memcg_enter(struct ssa_conn *c)
{
	return set_active_memcg(c->memcg);
}

static void ssa_memcg_leave(struct mem_cgroup *old)
{
	set_active_memcg(old);
}

static void ssa_opts_free(struct list_head *head)
{
	struct ssa_opt *o, *tmp;

	list_for_each_entry_safe(o, tmp, head, node) {
		list_del(&o->node);
		if (o->file)
			fput(o->file);
		kfree_sensitive(o);
	}
}

static void ssa_conn_free(struct ssa_conn *c)
{
	ssa_table_del(c);
	ssa_opts_free(&c->opts);
	ssa_opts_free(&c->results);
	kfree(c->exe);
	if (c->tcp_file)
		fput(c->tcp_file);
	if (c->cred)
		put_cred(c->cred);
	mem_cgroup_put(c->memcg);
	kfree(c);
	atomic_dec(&ssa_live_conns);
}

/* The kernel socket keeps its namespace alive like a user socket would. */
static void ssa_tcp_hold_net(struct socket *tcp)
{
	struct sock *sk = tcp->sk;

	if (sk->sk_net_refcnt)
		return;
#ifdef SSA_HAVE_SK_NET_REFCNT_UPGRADE
	/*
	 * 6.14, in 6.12.y by backport ("net: better track kernel sockets
	 * lifetime"): a kernel socket holds a passive reference on its
	 * namespace that only sk_net_refcnt_upgrade() gives back when the
	 * socket takes a full one; set by hand, every socket leaked its
	 * namespace.
	 */
	sk_net_refcnt_upgrade(sk);
#else
	sk->sk_net_refcnt = 1;
	get_net_track(sock_net(sk), &sk->ns_tracker, GFP_KERNEL);
	sock_inuse_add(sock_net(sk), 1);
#endif
}

static struct ssa_conn *ssa_conn_alloc(struct net *net, int family, struct socket *tcp,
				       int *err)
{
	struct ssa_conn *c = kzalloc(sizeof(*c), GFP_KERNEL_ACCOUNT);

	if (!c) {
		*err = -ENOMEM;
		goto fail;
	}
	atomic_inc(&ssa_live_conns);
	INIT_LIST_HEAD(&c->opts);
	INIT_LIST_HEAD(&c->results);
	INIT_LIST_HEAD(&c->children);
	INIT_LIST_HEAD(&c->ready);
	INIT_LIST_HEAD(&c->lnode);
	INIT_WORK(&c->accept_work, ssa_accept_work);
	mutex_init(&c->rx_lock);
	c->family = family;
	c->net = net;
	c->id = get_random_u64();
	if (!tcp) {
		*err = sock_create_kern(net, family, SOCK_STREAM, IPPROTO_TCP, &tcp);
		if (*err)
			goto fail;
	}
	ssa_tcp_hold_net(tcp);
	c->tcp = tcp;
	c->tcp_file = sock_alloc_file(tcp, 0, NULL);
	if (IS_ERR(c->tcp_file)) {
		/* sock_alloc_file() released tcp */
		*err = PTR_ERR(c->tcp_file);
		c->tcp_file = NULL;
		kfree(c);
		atomic_dec(&ssa_live_conns);
		return NULL;
	}
	return c;
fail:
	if (tcp)
		sock_release(tcp);
	if (c)
		atomic_dec(&ssa_live_conns);
	kfree(c);
	return NULL;
}

/*
 * d_path() names a file as seen from the caller's root: inside a chroot (or
 * another mount namespace) a program could look like any path it likes. Its
 * executable is reported only when its root is the system's.
 */
static bool ssa_root_is_global(void)
{
	struct path root, init_root;
	bool same;

	if (!current->fs || !init_task.fs)
		return false;
	get_fs_root(current->fs, &root);
	get_fs_root(init_task.fs, &init_root);
	same = path_equal(&root, &init_root);
	path_put(&root);
	path_put(&init_root);
	return same;
}

/*
 * The uid that answers for the caller's requests: its euid in the initial
 * user namespace, or, inside a user namespace, the owner of the outermost
 * one below the initial namespace (a user's subordinate uids are still that
 * user).
 */
static u32 ssa_quota_uid(void)
{
	const struct user_namespace *ns = current_user_ns();
	kuid_t uid = current_euid();

	while (ns != &init_user_ns && ns->parent != &init_user_ns)
		ns = ns->parent;
	if (ns != &init_user_ns)
		uid = ns->owner;
	return from_kuid_munged(&init_user_ns, uid);
}

/*
 * The executable of mm, with a reference (get_mm_exe_file() is not
 * exported). Files are SLAB_TYPESAFE_BY_RCU since 6.7: a pointer read under
 * RCU alone may name a file already reused; get_file_rcu() takes the
 * reference and checks it is still mm's.
 */
static struct file *ssa_get_exe_file(struct mm_struct *mm)
{
	struct file *exe;

	rcu_read_lock();
#ifdef SSA_HAVE_GET_FILE_RCU_PTR
	exe = get_file_rcu(&mm->exe_file);
#else
	exe = rcu_dereference(mm->exe_file);
	if (exe && !get_file_rcu(exe))
		exe = NULL;
#endif
	rcu_read_unlock();
	return exe;
}

static void ssa_conn_creator(struct ssa_conn *c)
{
	struct file *exe;
	char *buf, *p;

	c->pid = task_tgid_nr(current);
	c->uid = from_kuid_munged(&init_user_ns, current_euid());
	c->gid = from_kgid_munged(&init_user_ns, current_egid());
	c->quota_uid = ssa_quota_uid();
	if (c->cred)
		put_cred(c->cred);
	c->cred = get_current_cred();
	if (!c->memcg)
		c->memcg = get_mem_cgroup_from_mm(current->mm);
	kfree(c->exe); /* listen() samples its caller again */
	c->exe = NULL;
	if (!current->mm || !ssa_root_is_global())
		return;
	buf = kmalloc(PATH_MAX, GFP_KERNEL);
	if (!buf)
		return;
	exe = ssa_get_exe_file(current->mm);
	p = exe ? d_path(&exe->f_path, buf, PATH_MAX) : ERR_PTR(-ENOENT);
	if (!IS_ERR(p))
		c->exe = kstrdup(p, GFP_KERNEL_ACCOUNT);
	if (exe)
		fput(exe);
	kfree(buf);
}

int ssa_add_result(struct ssa_conn *c, u32 name, const void *val, u32 len)
{
	struct mem_cgroup *old = ssa_memcg_enter(c);
	struct ssa_opt *o = kmalloc(struct_size(o, val, len), GFP_KERNEL_ACCOUNT);

	ssa_memcg_leave(old);
	if (!o)
		return -ENOMEM;
	o->name = name;
	o->len = len;
	o->file = NULL;
	o->held = false;
	memcpy(o->val, val, len);
	list_add_tail(&o->node, &c->results);
	return 0;
}

/* Kernel TLS must be on in both directions before data may flow. */
int ssa_check_ktls(struct ssa_conn *c)
{
	struct sock *sk = c->tcp->sk;
	const struct inet_connection_sock *icsk = inet_csk(sk);
	struct tls_context *ctx;
	int err = -EPROTO;

	lock_sock(sk);
	if (sk->sk_state != TCP_ESTABLISHED && sk->sk_state != TCP_CLOSE_WAIT)
		goto out;
	if (!icsk->icsk_ulp_ops || strcmp(icsk->icsk_ulp_ops->name, "tls"))
		goto out;
	ctx = tls_get_ctx(sk);
	if (ctx && ctx->tx_conf != TLS_BASE && ctx->rx_conf != TLS_BASE)
		err = 0;
out:
	release_sock(sk);
	return err;
}

static void ssa_wake(struct sock *sk)
{
	sk->sk_state_change(sk);
	sk->sk_write_space(sk);
}

/*
 * Wake every sleeper on sk, the killable one in ssa_wait_check() too
 * (the socket callbacks wake only interruptible sleepers).
 */
static void ssa_wake_all(struct sock *sk)
{
	struct socket_wq *wq;

	rcu_read_lock();
	wq = rcu_dereference(sk->sk_wq);
	if (skwq_has_sleeper(wq))
		wake_up_all(&wq->wait);
	rcu_read_unlock();
}

static void ssa_child_gone(struct ssa_conn *l, struct ssa_conn *c)
{
	list_del_init(&c->lnode);
	l->n_children--;
	if (l->state == SSA_S_LISTENING)
		queue_work(ssa_wq, &l->accept_work);
}

/* The request of c ended: err 0 (kernel TLS installed) or an errno. */
void ssa_finish(struct ssa_conn *c, int err, const char *reason)
{
	struct ssa_conn *l = c->listener;

	ssa_table_del(c);
	if (c->checking) {
		/*
		 * The end of a CHECK: CHECKED set check_err; a daemon that went
		 * away or did not answer refuses nothing here (the handshake
		 * applies the policy again, and fails without a daemon).
		 */
		c->checking = false;
		c->check_done = true;
		if (c->owner)
			ssa_wake_all(c->owner);
		return;
	}
	strscpy(c->reason, reason, sizeof(c->reason));
	if (l) {
		/* a listener's connection: to the accept queue, or gone */
		if (err) {
			ssa_child_gone(l, c);
			ssa_conn_free(c);
			return;
		}
		c->state = SSA_S_ESTABLISHED;
		list_move_tail(&c->lnode, &l->ready);
		if (l->owner)
			l->owner->sk_data_ready(l->owner);
		return;
	}
	WRITE_ONCE(c->state, err ? SSA_S_FAILED : SSA_S_ESTABLISHED);
	if (c->owner) {
		if (err) {
			WRITE_ONCE(c->owner->sk_err, err);
			sk_error_report(c->owner);
		}
		ssa_wake(c->owner);
	}
}

/* ---- socket options ------------------------------------------------- */

/* Copy what the application set at SOL_SOCKET (outer) to the TCP socket. */
static void ssa_sync_sockopts(struct sock *sk, struct ssa_conn *c)
{
	struct sock *in = c->tcp->sk;

	WRITE_ONCE(in->sk_rcvtimeo, READ_ONCE(sk->sk_rcvtimeo));
	WRITE_ONCE(in->sk_sndtimeo, READ_ONCE(sk->sk_sndtimeo));
	/* kernel TLS's recvmsg() waits for sock_rcvlowat() bytes, as TCP */
	WRITE_ONCE(in->sk_rcvlowat, READ_ONCE(sk->sk_rcvlowat));
}

static void ssa_sync_all_sockopts(struct sock *sk, struct ssa_conn *c)
{
	struct sock *in = c->tcp->sk;

	ssa_sync_sockopts(sk, c);
	lock_sock(in);
	if (sk->sk_userlocks & SOCK_SNDBUF_LOCK) {
		in->sk_userlocks |= SOCK_SNDBUF_LOCK;
		WRITE_ONCE(in->sk_sndbuf, READ_ONCE(sk->sk_sndbuf));
	}
	if (sk->sk_userlocks & SOCK_RCVBUF_LOCK) {
		in->sk_userlocks |= SOCK_RCVBUF_LOCK;
		WRITE_ONCE(in->sk_rcvbuf, READ_ONCE(sk->sk_rcvbuf));
	}
	/*
	 * Not SO_LINGER: the TCP socket goes to ssad for the handshake, and
	 * whoever drops the last reference (ssad's close(), a kworker's
	 * fput(), ssad's DONE for a listener's child) would wait for the
	 * application's linger time. ssa_release() applies it.
	 */
	in->sk_mark = sk->sk_mark;
	in->sk_priority = sk->sk_priority;
	in->sk_reuse = sk->sk_reuse;
	in->sk_reuseport = sk->sk_reuseport;
	if (sk->sk_bound_dev_if)
		in->sk_bound_dev_if = sk->sk_bound_dev_if;
	release_sock(in);
	if (sock_flag(sk, SOCK_KEEPOPEN))
		sock_set_keepalive(in);
}

static bool ssa_opt_is_file(int name)
{
	return name == TLS_CERTIFICATE_CHAIN || name == TLS_PRIVATE_KEY ||
	       name == TLS_TRUSTED_PEER_CERTIFICATES;
}

/*
 * TLS_SERVER_OCSP_STAPLING, TLS_CONTEXT and TLS_UPGRADE are not provided
 * (ENOPROTOOPT), as in the userspace front end.
 */
static bool ssa_opt_is_int(int name)
{
	return name == TLS_REQUEST_PEER_AUTH || name == TLS_SESSION_REUSE ||
	       name == TLS_VERSION_MIN || name == TLS_VERSION_MAX ||
	       (name >= TLS_REVOCATION_CHECKS && name <= TLS_CACHED_REV_CHECKS);
}

static bool ssa_opt_is_string(int name)
{
	return name == TLS_REMOTE_HOSTNAME || name == TLS_ALPN || name == TLS_DISABLE_CIPHER ||
	       name == TLS_ENABLE_CIPHER || ssa_opt_is_file(name);
}

/* Wait for ssad's answer to a CHECK: 0 or the errno it gave. */
static int ssa_wait_check(struct sock *sk, struct ssa_conn *c)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);
	long timeo = 5 * HZ;
	int err;

	/*
	 * Not interruptible: setsockopt() on TCP never fails with EINTR, and
	 * runtimes that preempt threads with signals (Go) would see one.
	 * Bounded by the 5 s above, and a fatal signal ends it.
	 */
	add_wait_queue(sk_sleep(sk), &wait);
	while (!READ_ONCE(c->check_done) && timeo && !fatal_signal_pending(current))
		timeo = wait_woken(&wait, TASK_KILLABLE, timeo);
	remove_wait_queue(sk_sleep(sk), &wait);
	mutex_lock(&ssa_lock);
	if (!c->check_done) {
		/* no answer in time (or being killed): the handshake decides */
		c->checking = false;
		ssa_table_del(c);
		err = fatal_signal_pending(current) ? -EINTR : 0;
	} else {
		err = -c->check_err;
	}
	mutex_unlock(&ssa_lock);
	return err;
}

/* Whether f is on a FUSE file system (fuse, fuseblk). */
static bool ssa_on_fuse(struct file *f)
{
	return strncmp(file_inode(f)->i_sb->s_type->name, "fuse", 4) == 0;
}

static int ssa_set_tls_opt(struct sock *sk, struct ssa_conn *c, int name, sockptr_t optval,
			   unsigned int optlen)
{
	struct ssa_opt *o;
	struct file *f = NULL;
	int err;

	if (!ssa_opt_is_string(name) && !ssa_opt_is_int(name) && name != TLS_SESSION_TTL)
		return -ENOPROTOOPT;
	if (optlen == 0 || optlen > SSA_OPT_VALUE_MAX)
		return -EINVAL;
	if (ssa_opt_is_int(name) && optlen != sizeof(int))
		return -EINVAL;
	if (name == TLS_SESSION_TTL && optlen != sizeof(long))
		return -EINVAL;
	if (name == TLS_REMOTE_HOSTNAME && optlen > 256)
		return -EINVAL;
	o = kmalloc(struct_size(o, val, optlen), GFP_KERNEL_ACCOUNT);
	if (!o)
		return -ENOMEM;
	if (copy_from_sockptr(o->val, optval, optlen)) {
		kfree(o);
		return -EFAULT;
	}
	if (ssa_opt_is_string(name) &&
	    (o->val[optlen - 1] != '\0' || strlen((char *)o->val) != optlen - 1)) {
		kfree(o);
		return -EINVAL;
	}
	if (ssa_opt_is_file(name)) {
		/* opened here, with the caller's credentials */
		f = filp_open((char *)o->val, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
		if (IS_ERR(f)) {
			err = PTR_ERR(f);
			kfree(o);
			return err == -ENOENT || err == -EISDIR ? -EINVAL : err;
		}
		/*
		 * Certificates and keys are files: no FIFO, no device. A key
		 * file goes to ssad's privileged supervisor, which must not
		 * wait for a FUSE server (any user may run one).
		 */
		if (!S_ISREG(file_inode(f)->i_mode) ||
		    (name == TLS_PRIVATE_KEY && ssa_on_fuse(f))) {
			fput(f);
			kfree(o);
			return -EINVAL;
		}
	}
	o->name = name;
	o->len = optlen;
	o->file = f;
	o->held = false;

	lock_sock(sk); /* one setsockopt() at a time on this socket */
	mutex_lock(&ssa_lock);
	if (c->state != SSA_S_NEW)
		err = -EOPNOTSUPP;
	else if (c->n_opts >= SSA_OPTS_MAX)
		err = -ENOSPC;
	else
		err = ssa_check_request(c, o);
	mutex_unlock(&ssa_lock);
	if (!err)
		err = ssa_wait_check(sk, c);
	else if (err == -ECONNABORTED || err == -ENOBUFS || err == -EBUSY)
		err = 0; /* no daemon to ask: the handshake will */
	mutex_lock(&ssa_lock);
	if (!err && c->state != SSA_S_NEW) {
		err = -EOPNOTSUPP;
	} else if (!err) {
		list_add_tail(&o->node, &c->opts);
		c->n_opts++;
		o = NULL;
	}
	mutex_unlock(&ssa_lock);
	release_sock(sk);
	if (o) {
		if (f)
			fput(f);
		kfree(o);
	}
	return err;
}

static int ssa_setsockopt(struct socket *sock, int level, int optname, sockptr_t optval,
			  unsigned int optlen)
{
	struct sock *sk = sock->sk;
	struct ssa_conn *c = ssa_conn_of(sk);

	if (level == IPPROTO_TLS_SSA)
		return ssa_set_tls_opt(sk, c, optname, optval, optlen);
	if (level == SOL_TLS)
		return -ENOPROTOOPT;
	if (level == SOL_TCP && (optname == TCP_ULP || optname == TCP_REPAIR ||
				 optname == TCP_REPAIR_QUEUE || optname == TCP_REPAIR_OPTIONS ||
				 optname == TCP_REPAIR_WINDOW || optname == TCP_QUEUE_SEQ))
		return -EPERM;
	/* Options that would change the stream under ssad or kernel TLS. */
	if ((level == SOL_TCP && optname == TCP_FASTOPEN_CONNECT) ||
	    (level == SOL_IPV6 && optname == IPV6_ADDRFORM))
		return -EOPNOTSUPP;
	return c->tcp->ops->setsockopt(c->tcp, level, optname, optval, optlen);
}

static int ssa_put_val(char __user *optval, int __user *optlen, const void *val, int len)
{
	int cap;

	if (get_user(cap, optlen))
		return -EFAULT;
	if (cap < 0)
		return -EINVAL;
	if (put_user(len, optlen))
		return -EFAULT;
	if (cap < len)
		return -ERANGE;
	if (copy_to_user(optval, val, len))
		return -EFAULT;
	return 0;
}

static int ssa_get_tls_opt(struct ssa_conn *c, int name, char __user *optval,
			   int __user *optlen)
{
	struct ssa_opt *o, *found = NULL;
	void *copy = NULL;
	int len = 0, err;

	if (name == TLS_ID)
		return ssa_put_val(optval, optlen, &c->id, sizeof(c->id));
	mutex_lock(&ssa_lock);
	if (name == TLS_ERROR) {
		len = strlen(c->reason) + 1;
		copy = kmemdup(c->reason, len, GFP_KERNEL);
	} else {
		struct list_head *head = c->state == SSA_S_ESTABLISHED ? &c->results : &c->opts;

		list_for_each_entry(o, head, node)
			if (o->name == name)
				found = o;
		if (found && !ssa_opt_is_file(name)) {
			len = found->len;
			copy = kmemdup(found->val, len, GFP_KERNEL);
		} else if (c->state != SSA_S_ESTABLISHED && name == TLS_REMOTE_HOSTNAME) {
			len = 1;
			copy = kzalloc(1, GFP_KERNEL);
		}
	}
	mutex_unlock(&ssa_lock);
	if (!len)
		return c->state == SSA_S_ESTABLISHED ? -ENOPROTOOPT : -ENOTCONN;
	if (!copy)
		return -ENOMEM;
	err = ssa_put_val(optval, optlen, copy, len);
	kfree(copy);
	return err;
}

static int ssa_getsockopt(struct socket *sock, int level, int optname, char __user *optval,
			  int __user *optlen)
{
	struct ssa_conn *c = ssa_conn_of(sock->sk);

	if (level == IPPROTO_TLS_SSA)
		return ssa_get_tls_opt(c, optname, optval, optlen);
	if (level == SOL_TLS)
		return -ENOPROTOOPT;
	if (level == SOL_TCP && optname == TCP_ULP)
		return -ENOPROTOOPT;
	/* Zero-copy receive would read TCP bytes from under kernel TLS. */
	if (level == SOL_TCP && optname == TCP_ZEROCOPY_RECEIVE)
		return -EOPNOTSUPP;
	return c->tcp->ops->getsockopt(c->tcp, level, optname, optval, optlen);
}

/* ---- connect, bind, listen, accept ----------------------------------- */

static int ssa_bind(struct socket *sock, struct sockaddr *uaddr, int addr_len)
{
	struct ssa_conn *c = ssa_conn_of(sock->sk);

	if (READ_ONCE(c->state) != SSA_S_NEW)
		return -EINVAL;
	ssa_sync_all_sockopts(sock->sk, c); /* SO_REUSEADDR and the like */
	return c->tcp->ops->bind(c->tcp, uaddr, addr_len);
}

static int ssa_wait_state(struct sock *sk, struct ssa_conn *c, long *timeo)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);

	add_wait_queue(sk_sleep(sk), &wait);
	while (READ_ONCE(c->state) == SSA_S_HANDSHAKE) {
		if (!*timeo)
			break;
		if (signal_pending(current))
			break;
		*timeo = wait_woken(&wait, TASK_INTERRUPTIBLE, *timeo);
	}
	remove_wait_queue(sk_sleep(sk), &wait);
	if (READ_ONCE(c->state) != SSA_S_HANDSHAKE)
		return 0;
	if (signal_pending(current))
		return sock_intr_errno(*timeo);
	return -EINPROGRESS;
}

static int ssa_connect(struct socket *sock, struct sockaddr *uaddr, int addr_len, int flags)
{
	struct sock *sk = sock->sk;
	struct ssa_conn *c = ssa_conn_of(sk);
	long timeo;
	int err;

	mutex_lock(&ssa_lock);
	switch (c->state) {
	case SSA_S_ESTABLISHED:
		err = c->connect_reported ? -EISCONN : 0;
		c->connect_reported = true;
		goto out;
	case SSA_S_FAILED:
		err = sock_error(sk);
		if (!err)
			err = -ECONNABORTED;
		goto out;
	case SSA_S_LISTENING:
		err = -EINVAL;
		goto out;
	case SSA_S_HANDSHAKE:
		if (flags & O_NONBLOCK) {
			err = -EALREADY;
			goto out;
		}
		break;
	case SSA_S_NEW:
		if (addr_len < (int)sizeof(uaddr->sa_family) || uaddr->sa_family != c->family) {
			err = uaddr->sa_family == AF_UNSPEC ? -EINVAL : -EAFNOSUPPORT;
			goto out;
		}
		if (addr_len < (c->family == AF_INET ? (int)sizeof(struct sockaddr_in) :
			       SIN6_LEN_RFC2133)) {
			err = -EINVAL;
			goto out;
		}
		if (addr_len > (int)sizeof(c->addr))
			addr_len = sizeof(c->addr);
		memcpy(&c->addr, uaddr, addr_len);
		c->addr_len = addr_len;
		c->role = SSA_ROLE_CLIENT_K;
		ssa_sync_all_sockopts(sk, c);
		err = ssa_request(c);
		if (err) {
			strscpy(c->reason, err == -ECONNABORTED ?
				"the TLS service (ssad) is not running" : err == -EAGAIN ?
				"too many handshakes waiting for the TLS service" :
				"cannot reach the TLS service (ssad)", sizeof(c->reason));
			c->state = SSA_S_FAILED;
			goto out;
		}
		c->state = SSA_S_HANDSHAKE;
		sock->state = SS_CONNECTING;
		if (flags & O_NONBLOCK) {
			err = -EINPROGRESS;
			goto out;
		}
		break;
	}
	mutex_unlock(&ssa_lock);

	timeo = sock_sndtimeo(sk, flags & O_NONBLOCK);
	err = ssa_wait_state(sk, c, &timeo);
	if (err)
		return err;
	mutex_lock(&ssa_lock);
	if (c->state == SSA_S_ESTABLISHED) {
		c->connect_reported = true;
		sock->state = SS_CONNECTED;
		err = 0;
	} else {
		sock->state = SS_UNCONNECTED;
		err = sock_error(sk);
		if (!err)
			err = -ECONNABORTED;
	}
out:
	mutex_unlock(&ssa_lock);
	return err;
}

/* TCP's own data_ready, as the first listener found it (sock_def_readable) */
static void (*ssa_tcp_data_ready)(struct sock *sk);

/*
 * The inner listener's data_ready. Its sk_user_data (the listener) is set
 * with SK_USER_DATA_NOCOPY, so a child TCP clones from it never carries
 * the listener; a child that runs this callback before ssa_child_reset()
 * gave it TCP's own back only wakes its readers, as TCP would.
 */
static void ssa_listen_data_ready(struct sock *in)
{
	struct ssa_conn *l;
	void (*def)(struct sock *sk) = READ_ONCE(ssa_tcp_data_ready);

	read_lock_bh(&in->sk_callback_lock);
	rcu_read_lock();
	l = __rcu_dereference_sk_user_data_with_flags(in, SK_USER_DATA_NOCOPY);
	if (l)
		queue_work(ssa_wq, &l->accept_work);
	rcu_read_unlock();
	read_unlock_bh(&in->sk_callback_lock);
	if (!l && def && def != ssa_listen_data_ready)
		def(in);
}

/* A child of the inner listener: TCP's own callbacks, no listener pointer. */
static void ssa_child_reset(struct sock *child, void (*data_ready)(struct sock *sk))
{
	write_lock_bh(&child->sk_callback_lock);
	rcu_assign_sk_user_data(child, NULL);
	WRITE_ONCE(child->sk_data_ready, data_ready);
	write_unlock_bh(&child->sk_callback_lock);
}

static struct ssa_conn *ssa_child_new(struct ssa_conn *l, struct socket *ns)
{
	struct ssa_conn *c;
	struct ssa_opt *o;
	int err;

	/*
	 * TCP clones the listener's callbacks into its children: give the
	 * child back the default data_ready, or its readers (ssad) would
	 * never be woken.
	 */
	ssa_child_reset(ns->sk, l->saved_data_ready);
	c = ssa_conn_alloc(l->net, l->family, ns, &err);
	if (!c)
		return NULL;
	c->role = SSA_ROLE_SERVER_K;
	c->pid = l->pid;
	c->uid = l->uid;
	c->gid = l->gid;
	c->quota_uid = l->quota_uid;
	c->quota_server = true;
	c->cred = l->cred ? get_cred(l->cred) : NULL;
	if (l->memcg) {
		css_get(&l->memcg->css);
		c->memcg = l->memcg;
	}
	c->exe = l->exe ? kstrdup(l->exe, GFP_KERNEL_ACCOUNT) : NULL;
	list_for_each_entry(o, &l->opts, node) {
		struct ssa_opt *n = kmemdup(o, struct_size(o, val, o->len), GFP_KERNEL_ACCOUNT);

		if (!n) {
			ssa_conn_free(c);
			return NULL;
		}
		if (n->file)
			get_file(n->file);
		n->held = false;
		list_add_tail(&n->node, &c->opts);
		c->n_opts++;
	}
	err = kernel_getpeername(ns, (struct sockaddr *)&c->addr);
	if (err < 0) {
		ssa_conn_free(c);
		return NULL;
	}
	c->addr_len = err;
	return c;
}

static void ssa_accept_work(struct work_struct *work)
{
	struct ssa_conn *l = container_of(work, struct ssa_conn, accept_work);
	const struct cred *cred = NULL;
	struct mem_cgroup *memcg;
	struct socket *ns;
	struct ssa_conn *c;

	/*
	 * The connections are the listener's creator's: its credentials for
	 * the TCP socket and its file (owner matches, uid routing, ss), its
	 * memory cgroup for what they hold.
	 */
	if (l->cred)
		cred = override_creds(l->cred);
	memcg = ssa_memcg_enter(l);
	mutex_lock(&ssa_lock);
	while (l->state == SSA_S_LISTENING && l->n_children < l->backlog) {
		if (kernel_accept(l->tcp, &ns, O_NONBLOCK))
			break;
		c = ssa_child_new(l, ns);
		if (!c)
			continue; /* ns is released with c, or was by ssa_conn_alloc */
		c->listener = l;
		list_add_tail(&c->lnode, &l->children);
		l->n_children++;
		if (ssa_request(c)) {
			ssa_child_gone(l, c);
			ssa_conn_free(c);
			break;
		}
		c->state = SSA_S_HANDSHAKE;
	}
	mutex_unlock(&ssa_lock);
	ssa_memcg_leave(memcg);
	if (cred)
		revert_creds(cred);
}

static int ssa_listen(struct socket *sock, int backlog)
{
	struct sock *sk = sock->sk;
	struct ssa_conn *c = ssa_conn_of(sk);
	struct sock *in = c->tcp->sk;
	int err;

	mutex_lock(&ssa_lock);
	if (c->state != SSA_S_NEW && c->state != SSA_S_LISTENING) {
		err = -EINVAL;
		goto out;
	}
	if (backlog < 1)
		backlog = 1;
	if (backlog > 4096)
		backlog = 4096;
	if (c->state == SSA_S_NEW) {
		ssa_sync_all_sockopts(sk, c);
		ssa_conn_creator(c);
	}
	err = c->tcp->ops->listen(c->tcp, backlog);
	if (err)
		goto out;
	c->backlog = backlog;
	if (c->state == SSA_S_NEW) {
		write_lock_bh(&in->sk_callback_lock);
		__rcu_assign_sk_user_data_with_flags(in, c, SK_USER_DATA_NOCOPY);
		c->saved_data_ready = in->sk_data_ready;
		if (!READ_ONCE(ssa_tcp_data_ready))
			WRITE_ONCE(ssa_tcp_data_ready, in->sk_data_ready);
		WRITE_ONCE(in->sk_data_ready, ssa_listen_data_ready);
		write_unlock_bh(&in->sk_callback_lock);
		c->state = SSA_S_LISTENING;
		/* getsockopt(SO_ACCEPTCONN) reads the outer socket's state */
		inet_sk_set_state(sk, TCP_LISTEN);
	}
	queue_work(ssa_wq, &c->accept_work);
out:
	mutex_unlock(&ssa_lock);
	return err;
}

static int ssa_accept(struct socket *sock, struct socket *newsock, SSA_ACCEPT_ARGS)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);
	struct sock *sk = sock->sk, *newsk;
	struct ssa_conn *l = ssa_conn_of(sk), *c = NULL;
	long timeo = sock_rcvtimeo(sk, SSA_ACCEPT_FLAGS & O_NONBLOCK);
	int err = 0;

	add_wait_queue_exclusive(sk_sleep(sk), &wait);
	for (;;) {
		mutex_lock(&ssa_lock);
		if (l->state != SSA_S_LISTENING) {
			err = -EINVAL;
		} else if (!list_empty(&l->ready)) {
			c = list_first_entry(&l->ready, struct ssa_conn, lnode);
			ssa_child_gone(l, c);
			c->listener = NULL;
		}
		mutex_unlock(&ssa_lock);
		if (err || c)
			break;
		if (!timeo) {
			err = -EAGAIN;
			break;
		}
		if (signal_pending(current)) {
			err = sock_intr_errno(timeo);
			break;
		}
		timeo = wait_woken(&wait, TASK_INTERRUPTIBLE, timeo);
	}
	remove_wait_queue(sk_sleep(sk), &wait);
	if (err)
		return err;

	newsk = sk_alloc(sock_net(sk), sk->sk_family, GFP_KERNEL, &ssa_prot,
			 SSA_ACCEPT_KERN);
	if (!newsk) {
		mutex_lock(&ssa_lock);
		ssa_conn_free(c);
		mutex_unlock(&ssa_lock);
		return -ENOMEM;
	}
	sock_init_data(newsock, newsk);
	newsk->sk_protocol = IPPROTO_TLS_SSA;
	/* as sock_graft() does in inet_accept(): the LSM labels the socket */
	security_sock_graft(newsk, newsock);
	((struct ssa_sock *)newsk)->conn = c;
	mutex_lock(&ssa_lock);
	c->owner = newsk;
	c->connect_reported = true;
	mutex_unlock(&ssa_lock);
	newsock->state = SS_CONNECTED;
	return 0;
}

static int ssa_getname(struct socket *sock, struct sockaddr *uaddr, int peer)
{
	struct ssa_conn *c = ssa_conn_of(sock->sk);

	if (peer && READ_ONCE(c->state) != SSA_S_ESTABLISHED)
		return -ENOTCONN;
	return c->tcp->ops->getname(c->tcp, uaddr, peer);
}

/* ---- data path ------------------------------------------------------ */

/*
 * Receive from kernel TLS with a kernel control buffer; *type gets the
 * record type (0 if none was reported).
 */
static int ssa_tls_recv(struct ssa_conn *c, struct msghdr *msg, int flags, u8 *type)
{
	union {
		struct cmsghdr hdr;
		u8 buf[CMSG_SPACE(sizeof(u8))];
	} cbuf;
	void *uctl = msg->msg_control;
	size_t uctllen = msg->msg_controllen;
	bool uis = msg->msg_control_is_user;
	int n;

	memset(&cbuf, 0, sizeof(cbuf));
	msg->msg_control = &cbuf;
	msg->msg_controllen = sizeof(cbuf);
	msg->msg_control_is_user = false;
	n = sock_recvmsg(c->tcp, msg, flags);
	*type = 0;
	if (msg->msg_controllen < sizeof(cbuf) && cbuf.hdr.cmsg_level == SOL_TLS &&
	    cbuf.hdr.cmsg_type == TLS_GET_RECORD_TYPE)
		*type = *(u8 *)CMSG_DATA(&cbuf.hdr);
	msg->msg_control = uctl;
	msg->msg_controllen = uctllen;
	msg->msg_control_is_user = uis;
	return n;
}

static int ssa_rx_fail(struct ssa_conn *c, int err, const char *reason)
{
	c->rx_err = err;
	mutex_lock(&ssa_lock);
	strscpy(c->reason, reason, sizeof(c->reason));
	mutex_unlock(&ssa_lock);
	return -err;
}

/*
 * What one record that is not application data means (its whole content,
 * not its first byte): an alert is exactly two bytes; a handshake record
 * may hold several messages (type, 24-bit length, body) and is dropped only
 * if every one is a NewSessionTicket; a KeyUpdate anywhere fails the
 * connection, as does anything malformed or unknown.
 */
static int ssa_control_classify(struct ssa_conn *c, u8 type, const u8 *rec, int n)
{
	int off = 0;

	if (type == SSA_REC_ALERT) {
		if (n != 2)
			return ssa_rx_fail(c, EPROTO, "malformed TLS alert record");
		if (rec[1] == 0) { /* close_notify */
			c->rx_eof = true;
			return 0;
		}
		return ssa_rx_fail(c, ECONNRESET, "the peer sent a TLS alert");
	}
	if (type != SSA_REC_HANDSHAKE || n < 4)
		return ssa_rx_fail(c, EPROTO, "unexpected TLS record after the handshake");
	while (off < n) {
		u32 len;

		if (n - off < 4)
			return ssa_rx_fail(c, EPROTO, "truncated TLS handshake message");
		len = (rec[off + 1] << 16) | (rec[off + 2] << 8) | rec[off + 3];
		if (len > (u32)(n - off - 4))
			return ssa_rx_fail(c, EPROTO, "truncated TLS handshake message");
		if (rec[off] == 24)
			return ssa_rx_fail(c, EPROTO,
					   "the peer sent a TLS KeyUpdate, which kernel TLS cannot follow on this kernel");
		if (rec[off] != 4) /* NewSessionTicket: the daemon keeps no cache here */
			return ssa_rx_fail(c, EPROTO,
					   "unexpected TLS handshake message after the handshake");
		off += 4 + len;
	}
	return 0;
}

/* Consume one record that is not application data. */
static int ssa_control_record(struct ssa_conn *c, int flags)
{
	struct msghdr msg = {};
	struct kvec iov;
	u8 type, *rbuf;
	int n;

	/*
	 * Control records are rare (a ticket or two, an alert): the buffer
	 * lives for one record only, charged to the caller, and is not
	 * physically contiguous (no order-3 allocation per socket).
	 */
	rbuf = kvmalloc(SSA_RECORD_MAX, GFP_KERNEL_ACCOUNT);
	if (!rbuf)
		return -ENOMEM;
	iov.iov_base = rbuf;
	iov.iov_len = SSA_RECORD_MAX;
	iov_iter_kvec(&msg.msg_iter, ITER_DEST, &iov, 1, SSA_RECORD_MAX);
	n = ssa_tls_recv(c, &msg, flags | MSG_DONTWAIT, &type);
	if (n >= 0)
		n = ssa_control_classify(c, type, rbuf, n);
	kvfree(rbuf);
	return n;
}

static int ssa_recv_error(struct ssa_conn *c, int n)
{
	if (n == -EBADMSG || n == -EIO || n == -EMSGSIZE || n == -EINVAL)
		return ssa_rx_fail(c, ECONNRESET, "a TLS record failed to decrypt or parse");
	return n;
}

static int ssa_recv_records(struct ssa_conn *c, struct msghdr *msg, int flags);

static int ssa_recvmsg(struct socket *sock, struct msghdr *msg, size_t len, int flags)
{
	struct sock *sk = sock->sk;
	struct ssa_conn *c = ssa_conn_of(sk);
	long timeo;
	int n;

	if (flags & MSG_ERRQUEUE)
		return -EAGAIN;
	if (READ_ONCE(c->state) == SSA_S_HANDSHAKE) {
		timeo = sock_rcvtimeo(sk, flags & MSG_DONTWAIT);
		n = ssa_wait_state(sk, c, &timeo);
		if (n)
			return n == -EINPROGRESS ? -EAGAIN : n;
	}
	if (READ_ONCE(c->state) != SSA_S_ESTABLISHED) {
		n = sock_error(sk);
		return n ? n : -ENOTCONN;
	}
	ssa_sync_sockopts(sk, c);
	/*
	 * Concurrent readers of one stream are serialised (a blocking reader
	 * holds the lock while it waits; a non-blocking one does not queue
	 * behind it).
	 */
	if (flags & MSG_DONTWAIT) {
		if (!mutex_trylock(&c->rx_lock))
			return -EAGAIN;
	} else if (mutex_lock_interruptible(&c->rx_lock)) {
		return -ERESTARTSYS;
	}
	n = ssa_recv_records(c, msg, flags);
	mutex_unlock(&c->rx_lock);
	return n;
}

/* Under rx_lock: skip the records that are not data, then read data. */
static int ssa_recv_records(struct ssa_conn *c, struct msghdr *msg, int flags)
{
	struct msghdr peek = {};
	struct kvec iov;
	u8 hdr[2], type;
	int n;

	for (;;) {
		if (c->rx_eof)
			return 0;
		if (c->rx_err)
			return -c->rx_err;
		memset(&peek, 0, sizeof(peek));
		iov.iov_base = hdr;
		iov.iov_len = sizeof(hdr);
		iov_iter_kvec(&peek.msg_iter, ITER_DEST, &iov, 1, sizeof(hdr));
		n = ssa_tls_recv(c, &peek, (flags & MSG_DONTWAIT) | MSG_PEEK, &type);
		if (n < 0)
			return ssa_recv_error(c, n);
		if (n == 0 && READ_ONCE(c->rd_shut))
			return 0; /* shutdown(SHUT_RD), as TCP */
		if (n == 0)
			return ssa_rx_fail(c, ECONNRESET,
					   "the peer closed the TCP connection without close_notify (truncation)");
		if (type == SSA_REC_DATA || type == 0)
			break;
		/*
		 * Records that are not data are always consumed, whatever the
		 * caller asked (MSG_PEEK must not leave a ticket to be peeked
		 * at again forever).
		 */
		n = ssa_control_record(c, 0);
		if (n < 0)
			return ssa_recv_error(c, n);
		if (signal_pending(current))
			return -ERESTARTSYS;
		cond_resched();
	}
	n = ssa_tls_recv(c, msg, flags & ~MSG_ERRQUEUE, &type);
	if (n < 0)
		return ssa_recv_error(c, n);
	return n;
}

static void ssa_send_close_notify(struct ssa_conn *c)
{
	static const u8 alert[2] = { 1, 0 };
	union {
		struct cmsghdr hdr;
		u8 buf[CMSG_SPACE(sizeof(u8))];
	} cbuf;
	struct msghdr msg = {};
	struct kvec iov = { .iov_base = (void *)alert, .iov_len = sizeof(alert) };
	long timeo;

	if (c->tx_shut)
		return;
	c->tx_shut = true;
	memset(&cbuf, 0, sizeof(cbuf));
	cbuf.hdr.cmsg_level = SOL_TLS;
	cbuf.hdr.cmsg_type = TLS_SET_RECORD_TYPE;
	cbuf.hdr.cmsg_len = CMSG_LEN(sizeof(u8));
	*(u8 *)CMSG_DATA(&cbuf.hdr) = SSA_REC_ALERT;
	msg.msg_control = &cbuf;
	msg.msg_controllen = sizeof(cbuf);
	msg.msg_flags = MSG_NOSIGNAL;
	/*
	 * Wait a little for room, never for ever: a full send buffer must
	 * not lose close_notify (the peer would see a truncation), and a peer
	 * that reads nothing must not hang close().
	 */
	timeo = READ_ONCE(c->tcp->sk->sk_sndtimeo);
	WRITE_ONCE(c->tcp->sk->sk_sndtimeo, HZ);
	kernel_sendmsg(c->tcp, &msg, &iov, 1, sizeof(alert));
	WRITE_ONCE(c->tcp->sk->sk_sndtimeo, timeo);
}

/*
 * The send flags kernel TLS takes (6.1's tls_sw_sendmsg() refuses all
 * others with EOPNOTSUPP) from those TCP takes:
 * - MSG_SENDPAGE_NOTLAST (6.1's splice/sendfile path through
 *   sock_no_sendpage()) means more data follows: MSG_MORE;
 * - MSG_EOR ends the record: no MSG_MORE;
 * - MSG_SPLICE_PAGES (6.5 on): the pages are copied from the iterator
 *   instead of spliced, which every kernel TLS takes;
 * - MSG_OOB: TLS has no urgent data, the byte goes in band;
 * - MSG_CONFIRM, MSG_ZEROCOPY, MSG_PROBE, MSG_WAITALL...: hints with
 *   no meaning for a TLS stream, dropped.
 */
static int ssa_tls_send_flags(int flags)
{
	int out = flags & (MSG_MORE | MSG_DONTWAIT | MSG_NOSIGNAL);

#ifdef MSG_SENDPAGE_NOTLAST
	if (flags & MSG_SENDPAGE_NOTLAST)
		out |= MSG_MORE;
#endif
	if (flags & MSG_EOR)
		out &= ~MSG_MORE;
	return out;
}

static int ssa_sendmsg(struct socket *sock, struct msghdr *msg, size_t len)
{
	struct sock *sk = sock->sk;
	struct ssa_conn *c = ssa_conn_of(sk);
	int uflags = msg->msg_flags;
	void *uctl = msg->msg_control;
	size_t uctllen = msg->msg_controllen;
	long timeo;
	int n;

	if (READ_ONCE(c->state) == SSA_S_HANDSHAKE) {
		timeo = sock_sndtimeo(sk, msg->msg_flags & MSG_DONTWAIT);
		n = ssa_wait_state(sk, c, &timeo);
		if (n)
			return n == -EINPROGRESS ? -EAGAIN : n;
	}
	if (READ_ONCE(c->state) != SSA_S_ESTABLISHED || c->tx_shut) {
		n = sock_error(sk);
		if (n)
			return n;
		if (!(msg->msg_flags & MSG_NOSIGNAL))
			send_sig(SIGPIPE, current, 0);
		return -EPIPE;
	}
	ssa_sync_sockopts(sk, c);
	/* No application control messages: they could forge TLS records. */
	msg->msg_control = NULL;
	msg->msg_controllen = 0;
	msg->msg_flags = ssa_tls_send_flags(uflags);
	n = sock_sendmsg(c->tcp, msg);
	msg->msg_flags = uflags;
	msg->msg_control = uctl;
	msg->msg_controllen = uctllen;
	return n;
}

static __poll_t ssa_poll(struct file *file, struct socket *sock, poll_table *wait)
{
	struct sock *sk = sock->sk;
	struct ssa_conn *c = ssa_conn_of(sk);
	__poll_t mask = 0;
	int state = READ_ONCE(c->state);

	sock_poll_wait(file, sock, wait);
	/*
	 * epoll registers wait queues only when a socket is added: a socket
	 * added before its handshake ends must be on the TCP socket's queue
	 * already, or it never hears of data (once established, tcp_poll()
	 * registers it itself).
	 */
	if ((state == SSA_S_NEW || state == SSA_S_HANDSHAKE) && c->tcp)
		sock_poll_wait(file, c->tcp, wait);
	switch (state) {
	case SSA_S_LISTENING:
		if (!list_empty_careful(&c->ready))
			mask |= EPOLLIN | EPOLLRDNORM;
		break;
	case SSA_S_HANDSHAKE:
		break;
	case SSA_S_FAILED:
		mask |= EPOLLIN | EPOLLRDNORM | EPOLLOUT | EPOLLWRNORM | EPOLLHUP | EPOLLRDHUP;
		break;
	case SSA_S_ESTABLISHED:
		mask |= c->tcp->ops->poll(file, c->tcp, wait);
		if (c->rx_eof || c->rx_err)
			mask |= EPOLLIN | EPOLLRDNORM | EPOLLRDHUP;
		if (c->tx_shut)
			mask |= EPOLLOUT | EPOLLWRNORM;
		break;
	case SSA_S_NEW:
		mask |= EPOLLOUT | EPOLLWRNORM | EPOLLHUP;
		break;
	}
	if (READ_ONCE(sk->sk_err))
		mask |= EPOLLERR;
	return mask;
}

static int ssa_shutdown(struct socket *sock, int how)
{
	struct ssa_conn *c = ssa_conn_of(sock->sk);

	how++; /* SHUT_RD/WR/RDWR -> RCV_SHUTDOWN/SEND_SHUTDOWN bits */
	if ((how & ~SHUTDOWN_MASK) || !how)
		return -EINVAL;
	if (READ_ONCE(c->state) == SSA_S_LISTENING) {
		/*
		 * As TCP: SHUT_RD or SHUT_RDWR stops listening (waiting and
		 * later accept() calls get EINVAL); SHUT_WR does nothing.
		 */
		if (how & RCV_SHUTDOWN) {
			ssa_listener_stop(c);
			ssa_wake(sock->sk);
		}
		return 0;
	}
	if (READ_ONCE(c->state) != SSA_S_ESTABLISHED)
		return -ENOTCONN;
	if (how & SEND_SHUTDOWN)
		ssa_send_close_notify(c);
	if (how & RCV_SHUTDOWN)
		WRITE_ONCE(c->rd_shut, true);
	return kernel_sock_shutdown(c->tcp, how == SHUTDOWN_MASK ? SHUT_RDWR :
					       how == SEND_SHUTDOWN ? SHUT_WR : SHUT_RD);
}

static int ssa_ioctl(struct socket *sock, unsigned int cmd, unsigned long arg)
{
	struct ssa_conn *c = ssa_conn_of(sock->sk);

	return c->tcp->ops->ioctl(c->tcp, cmd, arg);
}

/* Give every connection in in's TCP accept queue TCP's own callbacks. */
static void ssa_listener_disown(struct sock *in, void (*data_ready)(struct sock *sk))
{
	struct request_sock_queue *q = &inet_csk(in)->icsk_accept_queue;
	struct request_sock *req;

	spin_lock_bh(&q->rskq_lock);
	for (req = q->rskq_accept_head; req; req = req->dl_next)
		if (req->sk)
			ssa_child_reset(req->sk, data_ready);
	spin_unlock_bh(&q->rskq_lock);
}

static void ssa_listener_stop(struct ssa_conn *l)
{
	struct sock *in = l->tcp->sk;
	struct ssa_conn *c, *tmp;

	/* First: nothing queues the accept work once the state has changed. */
	mutex_lock(&ssa_lock);
	l->state = SSA_S_FAILED;
	if (l->owner)
		inet_sk_set_state(l->owner, TCP_CLOSE);
	mutex_unlock(&ssa_lock);
	ssa_child_reset(in, l->saved_data_ready);
	/*
	 * Connections in the TCP accept queue are clones of the inner
	 * listener: they carry our data_ready. Shutting the listener down
	 * does not always dispose of them: with SO_REUSEPORT and
	 * net.ipv4.tcp_migrate_req (which a user may set in its own network
	 * namespace), inet_csk_listen_stop() moves them to another listener
	 * of the port, where they would outlive this listener and the
	 * module. So every child gets TCP's own callbacks back first.
	 * Children are cloned in softirq (an RCU read-side section): after
	 * synchronize_net() no clone of the old callbacks is still on its
	 * way to the queue, and new ones copy TCP's.
	 */
	synchronize_net();
	ssa_listener_disown(in, l->saved_data_ready);
	kernel_sock_shutdown(l->tcp, SHUT_RDWR);
	cancel_work_sync(&l->accept_work);
	mutex_lock(&ssa_lock);
	list_for_each_entry_safe(c, tmp, &l->children, lnode) {
		list_del_init(&c->lnode);
		ssa_conn_free(c);
	}
	list_for_each_entry_safe(c, tmp, &l->ready, lnode) {
		list_del_init(&c->lnode);
		ssa_conn_free(c);
	}
	l->n_children = 0;
	mutex_unlock(&ssa_lock);
}

/*
 * close() of an established socket: its SO_LINGER now goes to the TCP
 * socket, whose last reference this is (ssad closed its descriptor before
 * DONE); the final fput() runs in the caller's context (task work), which
 * then waits as TCP's close() would. Never for a kernel thread: a
 * kworker must not wait for an application's peer.
 */
static void ssa_release_linger(struct sock *sk, struct ssa_conn *c)
{
	struct sock *in = c->tcp->sk;

	if (!sock_flag(sk, SOCK_LINGER) || (current->flags & PF_KTHREAD) ||
	    file_count(c->tcp_file) != 1)
		return;
	lock_sock(in);
	sock_set_flag(in, SOCK_LINGER);
	WRITE_ONCE(in->sk_lingertime, READ_ONCE(sk->sk_lingertime));
	release_sock(in);
}

static int ssa_release(struct socket *sock)
{
	struct sock *sk = sock->sk;
	struct ssa_conn *c;

	if (!sk)
		return 0;
	c = ssa_conn_of(sk);
	if (c) {
		if (READ_ONCE(c->state) == SSA_S_LISTENING)
			ssa_listener_stop(c);
		if (READ_ONCE(c->state) == SSA_S_ESTABLISHED) {
			ssa_sync_all_sockopts(sk, c);
			ssa_send_close_notify(c);
			ssa_release_linger(sk, c);
		}
		mutex_lock(&ssa_lock);
		c->owner = NULL;
		ssa_conn_free(c);
		((struct ssa_sock *)sk)->conn = NULL;
		mutex_unlock(&ssa_lock);
	}
	sock_orphan(sk);
	sock->sk = NULL;
	sock_put(sk);
	return 0;
}

/* ---- protocol registration ------------------------------------------ */

static int ssa_sk_init(struct sock *sk)
{
	struct ssa_conn *c;
	int err;

	if (!ssa_daemon_alive())
		return -EPROTONOSUPPORT;
	c = ssa_conn_alloc(sock_net(sk), sk->sk_family, NULL, &err);
	if (!c)
		return err;
	ssa_conn_creator(c);
	c->owner = sk;
	((struct ssa_sock *)sk)->conn = c;
	return 0;
}

static void ssa_sk_destroy(struct sock *sk)
{
	struct ssa_conn *c = ssa_conn_of(sk);

	if (c) {
		mutex_lock(&ssa_lock);
		ssa_conn_free(c);
		mutex_unlock(&ssa_lock);
		((struct ssa_sock *)sk)->conn = NULL;
	}
}

static void ssa_sk_unhash(struct sock *sk)
{
}

static struct proto ssa_prot = {
	.name = "SSA",
	.owner = THIS_MODULE,
	.init = ssa_sk_init,
	.destroy = ssa_sk_destroy,
	.unhash = ssa_sk_unhash,
	.obj_size = sizeof(struct ssa_sock),
	SSA_PROTO_IPV6_PINFO(struct ssa_sock, inet6)
};

#define SSA_OPS(fam) {						\
	.family = (fam),					\
	.owner = THIS_MODULE,					\
	.release = ssa_release,					\
	.bind = ssa_bind,					\
	.connect = ssa_connect,					\
	.socketpair = sock_no_socketpair,			\
	.accept = ssa_accept,					\
	.getname = ssa_getname,					\
	.poll = ssa_poll,					\
	.ioctl = ssa_ioctl,					\
	.listen = ssa_listen,					\
	.shutdown = ssa_shutdown,				\
	.setsockopt = ssa_setsockopt,				\
	.getsockopt = ssa_getsockopt,				\
	.sendmsg = ssa_sendmsg,					\
	.recvmsg = ssa_recvmsg,					\
	.mmap = sock_no_mmap,					\
}

static const struct proto_ops ssa_inet_ops = SSA_OPS(PF_INET);
static const struct proto_ops ssa_inet6_ops = SSA_OPS(PF_INET6);

static struct inet_protosw ssa_protosw = {
	.type = SOCK_STREAM,
	.protocol = IPPROTO_TLS_SSA,
	.prot = &ssa_prot,
	.ops = &ssa_inet_ops,
};

static struct inet_protosw ssa_protosw6 = {
	.type = SOCK_STREAM,
	.protocol = IPPROTO_TLS_SSA,
	.prot = &ssa_prot,
	.ops = &ssa_inet6_ops,
};

static int __init ssa_init(void)
{
	int err;

#ifndef SSA_HAVE_IPV6_PINFO_OFFSET
	BUILD_BUG_ON(offsetof(struct ssa_sock, inet6) + sizeof(struct ipv6_pinfo) !=
		     sizeof(struct ssa_sock));
#endif
	ssa_wq = alloc_workqueue("ssa", WQ_UNBOUND, 0);
	if (!ssa_wq)
		return -ENOMEM;
	err = proto_register(&ssa_prot, 1);
	if (err)
		goto free_wq;
	err = ssa_genl_init();
	if (err)
		goto unreg_proto;
	inet_register_protosw(&ssa_protosw);
	err = inet6_register_protosw(&ssa_protosw6);
	if (err)
		goto unreg_v4;
	pr_info("IPPROTO_TLS (%d) registered for AF_INET and AF_INET6\n", IPPROTO_TLS_SSA);
	return 0;

unreg_v4:
	inet_unregister_protosw(&ssa_protosw);
	ssa_genl_exit();
unreg_proto:
	proto_unregister(&ssa_prot);
free_wq:
	destroy_workqueue(ssa_wq);
	return err;
}

static void __exit ssa_exit(void)
{
	inet6_unregister_protosw(&ssa_protosw6);
	inet_unregister_protosw(&ssa_protosw);
	ssa_genl_exit();
	proto_unregister(&ssa_prot);
	destroy_workqueue(ssa_wq);
}

module_init(ssa_init);
module_exit(ssa_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("SSA project");
MODULE_DESCRIPTION("Secure Socket API: native IPPROTO_TLS sockets with kernel TLS");
MODULE_VERSION("0.1.0");
MODULE_SOFTDEP("pre: tls");
MODULE_ALIAS("net-pf-2-proto-205-type-1");
MODULE_ALIAS("net-pf-10-proto-205-type-1");
