/* SPDX-License-Identifier: GPL-2.0 */
/*
 * internal interfaces of ssa.ko (see ssa_main.c for the design).
 */
#ifndef SSA_H
#define SSA_H

#include <linux/hashtable.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/net.h>
#include <linux/socket.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include <linux/workqueue.h>
#include <net/inet_sock.h>
#include <net/ipv6.h>
#include <net/sock.h>

#include "in_tls.h"
#include "ssa_genl.h"

/* The protocol number and option names are the applications' (in_tls.h). */
#define IPPROTO_TLS_SSA IPPROTO_TLS

enum ssa_state {
	SSA_S_NEW,         /* created, perhaps bound */
	SSA_S_HANDSHAKE,   /* waiting for ssad */
	SSA_S_ESTABLISHED, /* kernel TLS installed on the TCP socket */
	SSA_S_FAILED,      /* connect or handshake failed (reason, sk_err) */
	SSA_S_LISTENING,
};

/* One IPPROTO_TLS option as the application set it. */
struct ssa_opt {
	struct list_head node;
	u32 name;
	u32 len;
	struct file *file;  /* the file it names, opened by the caller */
	bool held;          /* a key file kept for the key taker (TAKE_KEY) */
	u8 val[];
};

/*
 * The TLS side of one TCP socket: an application's socket, or a connection
 * a listener accepted that is not yet (or never) handed to accept().
 * Control-plane fields are protected by ssa_lock; the data path uses
 * only tcp and the rx_ fields, which the socket lock of the caller's
 * outer socket serialises as much as TCP itself does.
 */
struct ssa_conn {
	struct hlist_node hnode;   /* in ssa_ids while a request is open */
	bool in_table;
	u64 id;                    /* TLS_ID, random */
	u32 seq;                   /* the open request, 0 if none */
	bool accepted;             /* ssad took the request */
	unsigned long req_jiffies; /* when the request was made */
	bool checking;             /* the request is a CHECK of an option */
	bool check_done;
	int check_err;
	u8 role;                   /* enum ssa_genl_role */
	enum ssa_state state;
	bool connect_reported;     /* connect() returned 0 once */
	int family;
	struct net *net;

	struct socket *tcp;        /* the inner TCP socket */
	struct file *tcp_file;     /* owns tcp; handed to ssad as an fd */

	struct sockaddr_storage addr; /* client: target; server child: peer */
	int addr_len;

	struct list_head opts;     /* struct ssa_opt, in the order set */
	int n_opts;
	struct list_head results;  /* struct ssa_opt: getsockopt values from ssad */

	char reason[SSA_REASON_MAX]; /* TLS_ERROR */

	/* creator, reported to ssad for the policy */
	pid_t pid;
	u32 uid, gid;
	char *exe;
	/*
	 * who answers for this socket: its kernel memory is charged to memcg
	 * (the creator's memory cgroup), a listener's connections are made
	 * with cred (the listener's creator), and requests waiting for ssad
	 * count against quota_uid (the owner of the creator's outermost user
	 * namespace below the initial one, or its euid there), in the pool
	 * of clients or of servers.
	 */
	struct mem_cgroup *memcg;
	const struct cred *cred;
	u32 quota_uid;
	bool quota_server;

	/* data path after the handshake */
	struct mutex rx_lock;      /* one reader at a time: record handling */
	bool rx_eof;               /* close_notify received */
	int rx_err;                /* sticky read error (positive errno) */
	bool tx_shut;              /* our close_notify went out */
	bool rd_shut;              /* shutdown(SHUT_RD): end of stream, not truncation */

	struct sock *owner;        /* the application's socket, or NULL */

	/* listener */
	struct ssa_conn *listener; /* server child: its listener */
	struct list_head lnode;    /* in the listener's children or ready */
	struct list_head children; /* handshaking */
	struct list_head ready;    /* handshake done, waiting for accept() */
	int n_children;            /* both lists */
	int backlog;
	struct work_struct accept_work;
	void (*saved_data_ready)(struct sock *sk);
};

struct ssa_sock {
	struct inet_sock inet;     /* first: inet_create() treats us as one */
	struct ssa_conn *conn;
	struct ipv6_pinfo inet6;   /* last: see SSA_PROTO_IPV6_PINFO */
};

static inline struct ssa_conn *ssa_conn_of(const struct sock *sk)
{
	return ((const struct ssa_sock *)sk)->conn;
}

extern struct mutex ssa_lock;

/* ssa_genl.c */
int ssa_genl_init(void);
void ssa_genl_exit(void);
bool ssa_daemon_alive(void);
int ssa_request(struct ssa_conn *c);          /* under ssa_lock */
int ssa_check_request(struct ssa_conn *c, const struct ssa_opt *o); /* under ssa_lock */
void ssa_table_del(struct ssa_conn *c);       /* under ssa_lock */

/* ssa_main.c */
void ssa_finish(struct ssa_conn *c, int err, const char *reason); /* under ssa_lock */
int ssa_check_ktls(struct ssa_conn *c);
int ssa_add_result(struct ssa_conn *c, u32 name, const void *val, u32 len);

#endif /* SSA_H */
