// SPDX-License-Identifier: GPL-2.0
/*
 * the generic netlink channel to ssad (see ssa_genl.h).
 *
 * One daemon at a time registers, with CAP_NET_ADMIN (GENL_ADMIN_PERM);
 * from then on its netlink socket is the only one whose commands are
 * obeyed, with or without that capability (see ssa_genl_ops). When
 * its netlink socket goes (NETLINK_URELEASE), every open request fails at
 * once with ECONNABORTED and new sockets get EPROTONOSUPPORT until a daemon
 * registers again.
 */
#include <linux/file.h>
#include <linux/netlink.h>
#include <linux/notifier.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>

#include "ssa.h"

static u32 ssa_daemon_portid;  /* 0: no daemon */
/*
 * The daemon's netlink socket itself (never dereferenced): a port number
 * can be taken by another socket once the daemon's is unhashed, before
 * NETLINK_URELEASE clears the registration.
 */
static const struct sock *ssa_daemon_sk;
/*
 * The key taker (version 3): the socket that fetches key files with
 * TAKE_KEY, so that they never enter the daemon's fd table. 0: none, and
 * ACCEPT installs key files in the daemon as before.
 */
static u32 ssa_keys_portid;
static const struct sock *ssa_keys_sk;
static u32 ssa_next_seq;
static DEFINE_HASHTABLE(ssa_ids, 10);

static struct genl_family ssa_genl_family;

/*
 * A request ssad took no decision on for this long fails with ETIMEDOUT:
 * a daemon that is alive but stuck must not hang sockets forever (ssad's
 * own handshake timeout is much shorter).
 */
#define SSA_REQUEST_TIMEOUT (60 * HZ)
static void ssa_reap(struct work_struct *work);
static DECLARE_DELAYED_WORK(ssa_reaper, ssa_reap);

static void ssa_reap(struct work_struct *work)
{
	struct hlist_node *tmp;
	struct ssa_conn *c;
	bool more = false;
	int bkt;

	mutex_lock(&ssa_lock);
	hash_for_each_safe(ssa_ids, bkt, tmp, c, hnode) {
		if (time_after(jiffies, c->req_jiffies + SSA_REQUEST_TIMEOUT))
			ssa_finish(c, ETIMEDOUT, "the TLS service (ssad) did not answer in time");
		else
			more = true;
	}
	if (more)
		schedule_delayed_work(&ssa_reaper, 5 * HZ);
	mutex_unlock(&ssa_lock);
}

bool ssa_daemon_alive(void)
{
	return READ_ONCE(ssa_daemon_portid) != 0;
}

static struct ssa_conn *ssa_lookup(u64 id)
{
	struct ssa_conn *c;

	hash_for_each_possible(ssa_ids, c, hnode, id)
		if (c->id == id)
			return c;
	return NULL;
}

/*
 * Requests waiting for the daemon are bounded, in all and per user, so that
 * one user cannot flood ssad's netlink queue and lock the others out.
 */
#define SSA_INFLIGHT_MAX	4096
#define SSA_INFLIGHT_PER_UID	1024
static unsigned int ssa_inflight;

/* May c's creator have one more request waiting? Under ssa_lock. */
static int ssa_admit(const struct ssa_conn *c)
{
	struct ssa_conn *o;
	unsigned int bkt, n = 0;

	if (ssa_inflight >= SSA_INFLIGHT_MAX)
		return -EAGAIN;
	if (ssa_inflight < SSA_INFLIGHT_PER_UID)
		return 0;
	/*
	 * Per user (ssa_quota_uid(): subordinate uids of a user namespace are
	 * its owner's), and per pool: connections a listener accepted wait
	 * in their owner's server pool, so slow remote clients cannot use up
	 * what the owner's own connect() calls need.
	 */
	hash_for_each(ssa_ids, bkt, o, hnode)
		if (o->quota_uid == c->quota_uid && o->quota_server == c->quota_server &&
		    ++n >= SSA_INFLIGHT_PER_UID)
			return -EAGAIN;
	return 0;
}

static void ssa_table_add(struct ssa_conn *c)
{
	hash_add(ssa_ids, &c->hnode, c->id);
	c->in_table = true;
	ssa_inflight++;
}

void ssa_table_del(struct ssa_conn *c)
{
	if (c->in_table) {
		hash_del(&c->hnode);
		c->in_table = false;
		ssa_inflight--;
	}
	c->seq = 0;
	c->accepted = false;
}

/* May a request for c go to the daemon now? Under ssa_lock. */
static int ssa_request_allowed(const struct ssa_conn *c)
{
	if (!ssa_daemon_portid)
		return -ECONNABORTED;
	if (ssa_lookup(c->id))
		return -EBUSY;
	return ssa_admit(c);
}

/* Queue c's request (skb, finished) to the daemon and watch it. */
static int ssa_request_send(struct ssa_conn *c, struct sk_buff *skb)
{
	int err;

	ssa_table_add(c);
	c->req_jiffies = jiffies;
	schedule_delayed_work(&ssa_reaper, 5 * HZ);
	err = genlmsg_unicast(&init_net, skb, ssa_daemon_portid);
	if (err) {
		ssa_table_del(c);
		return err == -EAGAIN ? -ENOBUFS : -ECONNABORTED;
	}
	return 0;
}

/* Ask the daemon to run the handshake of c. Under ssa_lock. */
int ssa_request(struct ssa_conn *c)
{
	struct sk_buff *skb;
	void *hdr;
	int err;

	err = ssa_request_allowed(c);
	if (err)
		return err;
	if (++ssa_next_seq == 0)
		ssa_next_seq = 1;
	c->seq = ssa_next_seq;
	c->accepted = false;

	skb = genlmsg_new(nla_total_size_64bit(8) + nla_total_size(4), GFP_KERNEL);
	if (!skb)
		return -ENOMEM;
	hdr = genlmsg_put(skb, 0, 0, &ssa_genl_family, 0, SSA_CMD_HANDSHAKE);
	if (!hdr ||
	    nla_put_u64_64bit(skb, SSA_A_ID, c->id, SSA_A_PAD) ||
	    nla_put_u32(skb, SSA_A_SEQ, c->seq)) {
		nlmsg_free(skb);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return ssa_request_send(c, skb);
}

static int ssa_put_opt(struct sk_buff *skb, int type, u32 name, const void *val,
		       u32 len, int fd);

/*
 * Ask the daemon whether the caller may set option o (after those it has):
 * the policy is ssad's. Under ssa_lock; the answer comes as CHECKED.
 */
int ssa_check_request(struct ssa_conn *c, const struct ssa_opt *o)
{
	const struct ssa_opt *p;
	struct sk_buff *skb;
	size_t size;
	void *hdr;
	int err;

	err = ssa_request_allowed(c);
	if (err)
		return err;
	size = 512 + (c->exe ? strlen(c->exe) : 0) + nla_total_size(o->len) + 64;
	list_for_each_entry(p, &c->opts, node)
		size += nla_total_size(p->len) + 64;
	skb = genlmsg_new(size, GFP_KERNEL);
	if (!skb)
		return -ENOMEM;
	if (++ssa_next_seq == 0)
		ssa_next_seq = 1;
	hdr = genlmsg_put(skb, 0, 0, &ssa_genl_family, 0, SSA_CMD_CHECK);
	err = -EMSGSIZE;
	if (!hdr ||
	    nla_put_u64_64bit(skb, SSA_A_ID, c->id, SSA_A_PAD) ||
	    nla_put_u32(skb, SSA_A_SEQ, ssa_next_seq) ||
	    nla_put_u16(skb, SSA_A_FAMILY, c->family) ||
	    nla_put_u32(skb, SSA_A_PID, c->pid) ||
	    nla_put_u32(skb, SSA_A_UID, c->uid) ||
	    nla_put_u32(skb, SSA_A_GID, c->gid) ||
	    nla_put_string(skb, SSA_A_EXE, c->exe ? c->exe : ""))
		goto free;
	list_for_each_entry(p, &c->opts, node)
		if (ssa_put_opt(skb, SSA_A_OPT, p->name, p->val, p->len, -1))
			goto free;
	if (ssa_put_opt(skb, SSA_A_OPT, o->name, o->val, o->len, -1))
		goto free;
	genlmsg_end(skb, hdr);
	c->seq = ssa_next_seq;
	c->accepted = false;
	c->checking = true;
	c->check_done = false;
	c->check_err = 0;
	err = ssa_request_send(c, skb);
	if (err)
		c->checking = false;
	return err;
free:
	nlmsg_free(skb);
	return err;
}

/* The sender must be the registered daemon. Under ssa_lock. */
static int ssa_check_sender(struct sk_buff *skb, struct genl_info *info)
{
	if (!ssa_daemon_portid || info->snd_portid != ssa_daemon_portid ||
	    NETLINK_CB(skb).sk != ssa_daemon_sk) {
		GENL_SET_ERR_MSG(info, "not the registered TLS daemon");
		return -EPERM;
	}
	return 0;
}

/*
 * Make the sender's socket the holder of a role (*portid, *sk): the
 * daemon or the key taker. One socket per role (EBUSY for another while
 * the holder lives; again from the holder is accepted), and never one
 * socket in both roles (other_portid, other_sk: the other role's holder).
 */
static int ssa_register_role(struct sk_buff *skb, struct genl_info *info, u32 *portid,
			     const struct sock **sk, const u32 *other_portid,
			     const struct sock *const *other_sk)
{
	int err = 0;

	mutex_lock(&ssa_lock);
	if (*portid && (*portid != info->snd_portid || *sk != NETLINK_CB(skb).sk)) {
		GENL_SET_ERR_MSG(info, "that role is taken by another socket");
		err = -EBUSY;
	} else if (*other_portid && *other_sk == NETLINK_CB(skb).sk) {
		GENL_SET_ERR_MSG(info, "one socket cannot be both the daemon and the key taker");
		err = -EINVAL;
	} else {
		*sk = NETLINK_CB(skb).sk;
		WRITE_ONCE(*portid, info->snd_portid);
	}
	mutex_unlock(&ssa_lock);
	return err;
}

static int ssa_nl_register_keys(struct sk_buff *skb, struct genl_info *info)
{
	return ssa_register_role(skb, info, &ssa_keys_portid, &ssa_keys_sk,
				 &ssa_daemon_portid, &ssa_daemon_sk);
}

static int ssa_nl_register(struct sk_buff *skb, struct genl_info *info)
{
	return ssa_register_role(skb, info, &ssa_daemon_portid, &ssa_daemon_sk,
				 &ssa_keys_portid, &ssa_keys_sk);
}

/* Find the request named by ID and SEQ. Under ssa_lock. */
static struct ssa_conn *ssa_find_request(struct genl_info *info)
{
	struct ssa_conn *c;

	if (!info->attrs[SSA_A_ID] || !info->attrs[SSA_A_SEQ]) {
		GENL_SET_ERR_MSG(info, "ID and SEQ are required");
		return ERR_PTR(-EINVAL);
	}
	c = ssa_lookup(nla_get_u64(info->attrs[SSA_A_ID]));
	if (!c || c->seq != nla_get_u32(info->attrs[SSA_A_SEQ])) {
		GENL_SET_ERR_MSG(info, "no such request");
		return ERR_PTR(-ENOENT);
	}
	return c;
}

/* The request named by ID and SEQ, once the daemon accepted it. Under ssa_lock. */
static struct ssa_conn *ssa_find_accepted(struct genl_info *info)
{
	struct ssa_conn *c = ssa_find_request(info);

	if (!IS_ERR(c) && !c->accepted) {
		GENL_SET_ERR_MSG(info, "request not accepted yet");
		return ERR_PTR(-EINVAL);
	}
	return c;
}

static int ssa_put_opt(struct sk_buff *skb, int type, u32 name, const void *val,
		       u32 len, int fd)
{
	struct nlattr *nest = nla_nest_start(skb, type);

	if (!nest || nla_put_u32(skb, SSA_OPT_NAME, name) ||
	    nla_put(skb, SSA_OPT_VALUE, len, val) ||
	    (fd >= 0 && nla_put_s32(skb, SSA_OPT_FD, fd)))
		return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

/* A key option whose file waits for the key taker: no descriptor. */
static int ssa_put_held_opt(struct sk_buff *skb, const struct ssa_opt *o)
{
	struct nlattr *nest = nla_nest_start(skb, SSA_A_OPT);

	if (!nest || nla_put_u32(skb, SSA_OPT_NAME, o->name) ||
	    nla_put(skb, SSA_OPT_VALUE, o->len, o->val) ||
	    nla_put_flag(skb, SSA_OPT_HELD))
		return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

static int ssa_nl_accept(struct sk_buff *skb, struct genl_info *info)
{
	int fds[SSA_OPTS_MAX + 1];
	struct file *files[SSA_OPTS_MAX + 1];
	struct ssa_opt *o;
	struct ssa_conn *c;
	struct sk_buff *msg;
	size_t size;
	int n = 0, i, err;
	void *hdr;

	mutex_lock(&ssa_lock);
	err = ssa_check_sender(skb, info);
	if (err)
		goto out;
	c = ssa_find_request(info);
	if (IS_ERR(c)) {
		err = PTR_ERR(c);
		goto out;
	}
	if (c->checking) {
		GENL_SET_ERR_MSG(info, "a CHECK is answered with CHECKED");
		err = -EINVAL;
		goto out;
	}
	if (c->accepted) {
		GENL_SET_ERR_MSG(info, "request already accepted");
		err = -EALREADY;
		goto out;
	}
	size = 512 + (c->exe ? strlen(c->exe) : 0) + sizeof(c->addr);
	list_for_each_entry(o, &c->opts, node)
		size += nla_total_size(o->len) + 64;
	msg = genlmsg_new(size, GFP_KERNEL);
	if (!msg) {
		err = -ENOMEM;
		goto out;
	}
	hdr = genlmsg_put_reply(msg, info, &ssa_genl_family, 0, SSA_CMD_ACCEPT);
	err = -EMSGSIZE;
	if (!hdr)
		goto free_msg;
	fds[n] = get_unused_fd_flags(O_CLOEXEC);
	if (fds[n] < 0) {
		err = fds[n];
		goto free_msg;
	}
	files[n++] = c->tcp_file;
	err = -EMSGSIZE;
	if (nla_put_u64_64bit(msg, SSA_A_ID, c->id, SSA_A_PAD) ||
	    nla_put_u32(msg, SSA_A_SEQ, c->seq) ||
	    nla_put_s32(msg, SSA_A_FD, fds[0]) ||
	    nla_put_u8(msg, SSA_A_ROLE, c->role) ||
	    nla_put_u16(msg, SSA_A_FAMILY, c->family) ||
	    nla_put(msg, SSA_A_ADDR, c->addr_len, &c->addr) ||
	    nla_put_u32(msg, SSA_A_PID, c->pid) ||
	    nla_put_u32(msg, SSA_A_UID, c->uid) ||
	    nla_put_u32(msg, SSA_A_GID, c->gid) ||
	    nla_put_string(msg, SSA_A_EXE, c->exe ? c->exe : ""))
		goto put_fds;
	list_for_each_entry(o, &c->opts, node) {
		int fd = -1;

		o->held = o->file && o->name == TLS_PRIVATE_KEY && ssa_keys_portid;
		if (o->held) {
			err = ssa_put_held_opt(msg, o);
			if (err)
				goto put_fds;
			continue;
		}
		if (o->file) {
			fd = get_unused_fd_flags(O_CLOEXEC);
			if (fd < 0) {
				err = fd;
				goto put_fds;
			}
			fds[n] = fd;
			files[n++] = o->file;
		}
		err = ssa_put_opt(msg, SSA_A_OPT, o->name, o->val, o->len, fd);
		if (err)
			goto put_fds;
	}
	genlmsg_end(msg, hdr);
	/*
	 * The reply first (as net/handshake does): if it cannot be queued to
	 * the daemon, it would never learn the descriptor numbers, so none is
	 * installed and the request can be accepted again.
	 */
	err = genlmsg_reply(msg, info);
	if (err) {
		for (i = 0; i < n; i++)
			put_unused_fd(fds[i]);
		goto out;
	}
	for (i = 0; i < n; i++)
		fd_install(fds[i], get_file(files[i]));
	c->accepted = true;
	mutex_unlock(&ssa_lock);
	return 0;

put_fds:
	for (i = 0; i < n; i++)
		put_unused_fd(fds[i]);
free_msg:
	nlmsg_free(msg);
out:
	mutex_unlock(&ssa_lock);
	return err;
}

/* The held key option at position INDEX of an accepted request, or NULL. */
static struct ssa_opt *ssa_held_opt(struct ssa_conn *c, struct genl_info *info)
{
	struct ssa_opt *o;
	u32 i = 0, want;

	if (!info->attrs[SSA_A_INDEX])
		return NULL;
	want = nla_get_u32(info->attrs[SSA_A_INDEX]);
	list_for_each_entry(o, &c->opts, node) {
		if (i++ != want)
			continue;
		return o->held && o->file ? o : NULL;
	}
	return NULL;
}

/*
 * TAKE_KEY: from the key taker only; the file of a held key option of an
 * accepted request, installed in the taker (the sender: this runs in its
 * sendmsg()), once.
 */
static int ssa_nl_take_key(struct sk_buff *skb, struct genl_info *info)
{
	struct ssa_conn *c;
	struct ssa_opt *o;
	struct sk_buff *msg;
	void *hdr;
	int fd, err;

	mutex_lock(&ssa_lock);
	if (!ssa_keys_portid || info->snd_portid != ssa_keys_portid ||
	    NETLINK_CB(skb).sk != ssa_keys_sk) {
		GENL_SET_ERR_MSG(info, "not the registered key taker");
		err = -EPERM;
		goto out;
	}
	c = ssa_find_accepted(info);
	if (IS_ERR(c)) {
		err = PTR_ERR(c);
		goto out;
	}
	o = ssa_held_opt(c, info);
	if (!o) {
		GENL_SET_ERR_MSG(info, "no such key option, or taken");
		err = -ENOENT;
		goto out;
	}
	err = -ENOMEM;
	msg = genlmsg_new(128, GFP_KERNEL);
	if (!msg)
		goto out;
	err = -EMSGSIZE;
	hdr = genlmsg_put_reply(msg, info, &ssa_genl_family, 0, SSA_CMD_TAKE_KEY);
	if (!hdr)
		goto free_msg;
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		err = fd;
		goto free_msg;
	}
	if (nla_put_u64_64bit(msg, SSA_A_ID, c->id, SSA_A_PAD) ||
	    nla_put_u32(msg, SSA_A_SEQ, c->seq) ||
	    nla_put_s32(msg, SSA_A_FD, fd) ||
	    nla_put_u32(msg, SSA_A_UID, c->uid)) {
		put_unused_fd(fd);
		goto free_msg;
	}
	genlmsg_end(msg, hdr);
	err = genlmsg_reply(msg, info);
	if (err) {
		put_unused_fd(fd);
		goto out;
	}
	/* The option's reference moves to the taker's descriptor. */
	fd_install(fd, o->file);
	o->file = NULL;
	o->held = false;
	mutex_unlock(&ssa_lock);
	return 0;

free_msg:
	nlmsg_free(msg);
out:
	mutex_unlock(&ssa_lock);
	return err;
}

static int ssa_nl_done(struct sk_buff *skb, struct genl_info *info)
{
	const struct nlattr *a;
	struct ssa_conn *c;
	int rem, err, status, n = 0;

	mutex_lock(&ssa_lock);
	err = ssa_check_sender(skb, info);
	if (err)
		goto out;
	c = ssa_find_accepted(info);
	if (IS_ERR(c)) {
		err = PTR_ERR(c);
		goto out;
	}
	if (!info->attrs[SSA_A_STATUS]) {
		GENL_SET_ERR_MSG(info, "STATUS is required");
		err = -EINVAL;
		goto out;
	}
	status = nla_get_u32(info->attrs[SSA_A_STATUS]);
	if (status == 0) {
		nlmsg_for_each_attr(a, info->nlhdr, GENL_HDRLEN, rem) {
			struct nlattr *tb[SSA_OPT_MAX + 1];

			if (nla_type(a) != SSA_A_RESULT)
				continue;
			if (++n > SSA_OPTS_MAX) {
				GENL_SET_ERR_MSG(info, "too many results");
				err = -E2BIG;
				goto out;
			}
			err = nla_parse_nested(tb, SSA_OPT_MAX, a, NULL, info->extack);
			if (err)
				goto out;
			if (!tb[SSA_OPT_NAME] || !tb[SSA_OPT_VALUE] || tb[SSA_OPT_FD]) {
				GENL_SET_ERR_MSG(info, "a RESULT needs NAME and VALUE only");
				err = -EINVAL;
				goto out;
			}
		}
		err = ssa_check_ktls(c);
		if (err) {
			ssa_finish(c, EPROTO,
				   "kernel TLS is not installed on the socket");
			err = -EPROTO;
			goto out;
		}
		nlmsg_for_each_attr(a, info->nlhdr, GENL_HDRLEN, rem) {
			struct nlattr *tb[SSA_OPT_MAX + 1];

			if (nla_type(a) != SSA_A_RESULT ||
			    nla_parse_nested(tb, SSA_OPT_MAX, a, NULL, NULL))
				continue;
			err = ssa_add_result(c, nla_get_u32(tb[SSA_OPT_NAME]),
					     nla_data(tb[SSA_OPT_VALUE]),
					     nla_len(tb[SSA_OPT_VALUE]));
			if (err) {
				ssa_finish(c, ENOMEM, "out of memory");
				goto out;
			}
		}
		ssa_finish(c, 0, "");
	} else {
		char reason[SSA_REASON_MAX] = "TLS handshake failed";

		if (info->attrs[SSA_A_REASON])
			nla_strscpy(reason, info->attrs[SSA_A_REASON], sizeof(reason));
		ssa_finish(c, status, reason);
	}
	err = 0;
out:
	mutex_unlock(&ssa_lock);
	return err;
}

static int ssa_nl_checked(struct sk_buff *skb, struct genl_info *info)
{
	struct ssa_conn *c;
	int err;

	mutex_lock(&ssa_lock);
	err = ssa_check_sender(skb, info);
	if (err)
		goto out;
	c = ssa_find_request(info);
	if (IS_ERR(c)) {
		err = PTR_ERR(c);
		goto out;
	}
	if (!c->checking || !info->attrs[SSA_A_STATUS]) {
		GENL_SET_ERR_MSG(info, "not a CHECK, or no STATUS");
		err = -EINVAL;
		goto out;
	}
	c->check_err = nla_get_u32(info->attrs[SSA_A_STATUS]);
	if (c->check_err && info->attrs[SSA_A_REASON])
		nla_strscpy(c->reason, info->attrs[SSA_A_REASON], sizeof(c->reason));
	ssa_finish(c, 0, NULL);
out:
	mutex_unlock(&ssa_lock);
	return err;
}

static const struct nla_policy ssa_opt_policy[SSA_OPT_MAX + 1] = {
	[SSA_OPT_NAME] = { .type = NLA_U32 },
	[SSA_OPT_VALUE] = { .type = NLA_BINARY, .len = SSA_RESULT_MAX },
	[SSA_OPT_FD] = { .type = NLA_S32 },
};

/* What the daemon may send; everything else is refused (strict parsing). */
static const struct nla_policy ssa_policy[SSA_A_MAX + 1] = {
	[SSA_A_ID] = { .type = NLA_U64 },
	[SSA_A_SEQ] = NLA_POLICY_MIN(NLA_U32, 1),
	/* userspace errno values only (EHWPOISON is the last): no kernel-internal ones */
	[SSA_A_STATUS] = NLA_POLICY_MAX(NLA_U32, 133),
	[SSA_A_REASON] = { .type = NLA_NUL_STRING, .len = SSA_REASON_MAX - 1 },
	[SSA_A_RESULT] = NLA_POLICY_NESTED(ssa_opt_policy),
	[SSA_A_INDEX] = NLA_POLICY_MAX(NLA_U32, SSA_OPTS_MAX - 1),
};

/*
 * Only REGISTER needs CAP_NET_ADMIN (in the init user namespace: the family
 * is not netnsok). ACCEPT, DONE and CHECKED need no capability (family
 * version 2; version 1 asked it of every command) because ssa_check_sender()
 * obeys them only from the registered socket, and that is sound:
 *  - a netlink port id is bound to one socket while it lives, and the
 *    kernel sets NETLINK_CB(skb).portid and .sk from the socket that sent
 *    the message: a sender cannot choose them;
 *  - only a holder of that socket's descriptor can send from it (sendmsg()
 *    on the file), and the daemon opens it close-on-exec;
 *  - the socket was registered by a process that had CAP_NET_ADMIN, which
 *    chose to keep or hand on the descriptor;
 *  - ssa_daemon_sk is compared too, so a port id reused by another socket
 *    after the daemon's is released (before NETLINK_URELEASE clears the
 *    registration) is refused.
 * So the daemon may drop CAP_NET_ADMIN once registered (ssad does, when
 * the family's version says so), or pass the socket to an unprivileged
 * process. REGISTER keeps the capability check, even from the registered
 * socket: registering again is not something such a process may do.
 */
static const struct genl_small_ops ssa_genl_ops[] = {
	{
		.cmd = SSA_CMD_REGISTER,
		.flags = GENL_ADMIN_PERM,
		.doit = ssa_nl_register,
	},
	{
		.cmd = SSA_CMD_ACCEPT,
		.doit = ssa_nl_accept,
	},
	{
		.cmd = SSA_CMD_DONE,
		.doit = ssa_nl_done,
	},
	{
		.cmd = SSA_CMD_CHECKED,
		.doit = ssa_nl_checked,
	},
	{
		.cmd = SSA_CMD_REGISTER_KEYS,
		.flags = GENL_ADMIN_PERM,
		.doit = ssa_nl_register_keys,
	},
	{
		/* from the registered key taker only: see ssa_nl_take_key() */
		.cmd = SSA_CMD_TAKE_KEY,
		.doit = ssa_nl_take_key,
	},
};

static struct genl_family ssa_genl_family __ro_after_init = {
	.name = SSA_GENL_NAME,
	.version = SSA_GENL_VERSION,
	.maxattr = SSA_A_MAX,
	.policy = ssa_policy,
	.netnsok = false,
	.module = THIS_MODULE,
	.small_ops = ssa_genl_ops,
	.n_small_ops = ARRAY_SIZE(ssa_genl_ops),
	.resv_start_op = 0, /* strict header checks for every command */
};

/* The daemon's netlink socket is gone: fail everything it held. */
static int ssa_nl_notify(struct notifier_block *nb, unsigned long state, void *data)
{
	struct netlink_notify *n = data;
	struct hlist_node *tmp;
	struct ssa_conn *c;
	int bkt;

	if (state != NETLINK_URELEASE || n->protocol != NETLINK_GENERIC ||
	    !net_eq(n->net, &init_net))
		return NOTIFY_DONE;
	mutex_lock(&ssa_lock);
	if (ssa_keys_portid && n->portid == ssa_keys_portid) {
		/* Held key files stay with their sockets until they go. */
		ssa_keys_portid = 0;
		ssa_keys_sk = NULL;
	}
	if (ssa_daemon_portid && n->portid == ssa_daemon_portid) {
		WRITE_ONCE(ssa_daemon_portid, 0);
		ssa_daemon_sk = NULL;
		hash_for_each_safe(ssa_ids, bkt, tmp, c, hnode)
			ssa_finish(c, ECONNABORTED, "the TLS service (ssad) went away");
	}
	mutex_unlock(&ssa_lock);
	return NOTIFY_DONE;
}

static struct notifier_block ssa_nl_notifier = {
	.notifier_call = ssa_nl_notify,
};

int ssa_genl_init(void)
{
	int err;

	err = netlink_register_notifier(&ssa_nl_notifier);
	if (err)
		return err;
	err = genl_register_family(&ssa_genl_family);
	if (err)
		netlink_unregister_notifier(&ssa_nl_notifier);
	return err;
}

void ssa_genl_exit(void)
{
	cancel_delayed_work_sync(&ssa_reaper);
	genl_unregister_family(&ssa_genl_family);
	netlink_unregister_notifier(&ssa_nl_notifier);
}
