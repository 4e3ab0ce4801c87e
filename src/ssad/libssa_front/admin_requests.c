/* SPDX-License-Identifier: MIT */
/* The administrator's control requests (STATUS, CONNECTIONS, RELOAD),
 * decoded and answered: root or the admin group only. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../common/log.h"
#include "../../proto/wire.h"
#include "conn.h"
#include "control.h"
#include "../daemon.h"
#include "../engine/hs_pool.h"
#include "../engine/session_cache.h"
#include "../json_out.h"
#include "../supervisor/priv_client.h"
#include "handoff.h"
#include "requests.h"

/* Whether the sender may make administrative requests; if not, refused. */
static bool admin(struct ssa_ctl_client *cl, uint16_t type)
{
	if (ssa_peer_is_admin(&cl->who, &cl->d->policy->cfg))
		return true;
	log_limited(SSA_LOG_INFO, cl->who.uid, 10, 5,
		    "refused admin request %u from pid %d uid %u: not root nor in group '%s'",
		 (unsigned)type, (int)cl->who.pid, (unsigned)cl->who.uid,
		 cl->d->policy->cfg.admin_group ? cl->d->policy->cfg.admin_group : "");
	ssa_ctl_reply(cl, type, EPERM, NULL, 0, -1);
	return false;
}

/**
 * STATUS's socket request counters: "control_requests" (the total: control
 * round trips of applications' socket calls) and "control_requests_by_type"
 * (one member per request type), so that the round trips a connection costs
 * can be read (issue 15).
 */
static void status_requests(struct json_out *j, const struct ssad *d)
{
	static const struct {
		uint16_t type;
		const char *name;
	} types[] = {
		{ SSA_MSG_SOCKET, "socket" }, { SSA_MSG_SETOPT, "setopt" },
		{ SSA_MSG_GETOPT, "getopt" }, { SSA_MSG_CONNECT, "connect" },
		{ SSA_MSG_INFO, "info" },     { SSA_MSG_BIND, "bind" },
		{ SSA_MSG_LISTEN, "listen" },
	};
	uint64_t total = 0;

	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		total += d->stats.ctl_requests[types[i].type];
	json_raw(j, ",\"control_requests\":%llu,\"control_requests_by_type\":{",
		 (unsigned long long)total);
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		json_raw(j, "%s\"%s\":%llu", i ? "," : "", types[i].name,
			 (unsigned long long)d->stats.ctl_requests[types[i].type]);
	json_raw(j, "}");
}

/**
 * STATUS's count of the worker's requests to its supervisor (priv_msg.h):
 * "privileged_requests" (the total) and "privileged_requests_by_op", each
 * a round trip to another process (issue 15). All 0 without a supervisor.
 */
static void status_priv_requests(struct json_out *j)
{
	static const char *const names[SSA_PRIV_OP_MAX + 1] = {
		[SSA_PRIV_LINKS] = "links", [SSA_PRIV_SOCKET] = "socket",
		[SSA_PRIV_ACCEPT] = "accept", [SSA_PRIV_BIND] = "bind",
		[SSA_PRIV_OPEN] = "open", [SSA_PRIV_STAT] = "stat",
		[SSA_PRIV_LOADKEY] = "loadkey", [SSA_PRIV_LINKS_SOCKET] = "links_socket",
		[SSA_PRIV_KERNEL_KEY] = "kernel_key",
	};
	uint64_t n[SSA_PRIV_OP_MAX + 1], total = 0;
	bool first = true;

	ssa_priv_counts(n);
	for (size_t i = 0; i <= SSA_PRIV_OP_MAX; i++)
		total += n[i];
	json_raw(j, ",\"privileged_requests\":%llu,\"privileged_requests_by_op\":{",
		 (unsigned long long)total);
	for (size_t i = 0; i <= SSA_PRIV_OP_MAX; i++) {
		if (!names[i])
			continue;
		json_raw(j, "%s\"%s\":%llu", first ? "" : ",", names[i], (unsigned long long)n[i]);
		first = false;
	}
	json_raw(j, "}");
}

/* STATUS's count of handshake steps by where they ran (hs_pool.h): one
 * handed to a worker costs two wake-ups more (issue 15). */
static void status_hs_steps(struct json_out *j)
{
	uint64_t on_loop, on_workers;

	ssa_hs_pool_counts(&on_loop, &on_workers);
	json_raw(j, ",\"handshake_steps_by_place\":{\"loop\":%llu,\"workers\":%llu}",
		 (unsigned long long)on_loop, (unsigned long long)on_workers);
	/* Of those on workers: the kind new or lately over 2 ms. */
	json_raw(j, ",\"handshake_steps_dear\":%llu",
		 (unsigned long long)ssa_hs_pool_dear_steps());
}

/* The parts of STATUS that `ssactl metrics` turns into histograms and
 * labelled gauges: successful handshakes by duration, and live connections
 * per profile (at most PROFILE_GROUPS names; the rest under "(other)"). */
#define PROFILE_GROUPS 64
static void status_metrics(struct json_out *j, const struct ssad *d)
{
	static const uint64_t bound_ms[SSA_HS_BUCKETS - 1] = SSA_HS_BUCKET_BOUNDS_MS;
	const char *name[PROFILE_GROUPS + 1];
	uint64_t count[PROFILE_GROUPS + 1] = { 0 };
	size_t groups = 0;

	json_raw(j, ",\"handshake_bounds_ms\":[");
	for (size_t i = 0; i < SSA_HS_BUCKETS - 1; i++)
		json_raw(j, "%s%llu", i ? "," : "", (unsigned long long)bound_ms[i]);
	json_raw(j, "],\"handshake_buckets\":[");
	for (size_t i = 0; i < SSA_HS_BUCKETS; i++)
		json_raw(j, "%s%llu", i ? "," : "", (unsigned long long)d->stats.hs_bucket[i]);
	json_raw(j, "],\"handshake_sum_us\":%llu,\"connections_by_profile\":{",
		 (unsigned long long)d->stats.hs_sum_us);
	for (const struct ssa_conn *c = d->conns; c; c = c->next) {
		const char *n = c->pol ? c->pol->name : "";
		size_t g = 0;

		while (g < groups && strcmp(name[g], n) != 0)
			g++;
		if (g == groups) {
			if (groups >= PROFILE_GROUPS) {
				n = "(other)";
				for (g = 0; g < groups && strcmp(name[g], n) != 0; g++)
					;
			}
			if (g == groups)
				name[groups++] = n;
		}
		count[g]++;
	}
	for (size_t g = 0; g < groups; g++) {
		json_raw(j, "%s", g ? "," : "");
		json_str(j, name[g]);
		json_raw(j, ":%llu", (unsigned long long)count[g]);
	}
	json_raw(j, "}");
	status_requests(j, d);
	status_priv_requests(j);
	status_hs_steps(j);
}

static void req_status(struct ssa_ctl_client *cl, struct ssa_rbuf *r, int fd)
{
	struct ssad *d = cl->d;
	static char out[16384];
	struct json_out j;

	if (!ssa_rbuf_done(r) || fd >= 0) {
		ssa_ctl_reply(cl, SSA_MSG_STATUS, EINVAL, NULL, 0, -1);
		return;
	}
	if (!admin(cl, SSA_MSG_STATUS))
		return;
	json_init(&j, out, sizeof out);
	json_raw(&j, "{\"version\":\"%s\",\"pid\":%d,\"uptime_s\":%llu,\"generation\":%llu,"
		 "\"handshake_workers\":%u,\"sessions_cached\":%zu,"
		 "\"profiles\":%d,\"connections\":%llu,\"control_clients\":%llu,"
		 "\"sockets_created\":%llu,\"handshakes_ok\":%llu,\"handshakes_failed\":%llu,"
		 "\"bad_requests\":%llu,\"failures\":{",
		 SSA_VERSION, (int)getpid(),
		 (unsigned long long)((ssa_now_ms() - d->started_ms) / 1000),
		 (unsigned long long)d->generation, ssa_hs_pool_workers(),
		 ssa_session_cache_count(),
		 d->policy->cfg.n_profiles,
		 (unsigned long long)d->stats.conns_live,
		 (unsigned long long)d->stats.clients_live,
		 (unsigned long long)d->stats.sockets_created,
		 (unsigned long long)d->stats.handshakes_ok,
		 (unsigned long long)d->stats.handshakes_failed,
		 (unsigned long long)d->stats.bad_requests);
	for (int i = 0; i < SSA_FAILURE_KINDS && d->stats.failures[i].count; i++) {
		json_raw(&j, "%s", i ? "," : "");
		json_str(&j, d->stats.failures[i].reason);
		json_raw(&j, ":%llu", (unsigned long long)d->stats.failures[i].count);
	}
	json_raw(&j, "}");
	status_metrics(&j, d);
	json_raw(&j, "}");
	ssa_ctl_reply(cl, SSA_MSG_STATUS, j.full ? EMSGSIZE : 0, out, j.len + 1, -1);
}

static const char *role_name(const struct ssa_conn *c)
{
	static const char *const names[] = { "new", "client", "listener", "server" };

	return names[c->role];
}

static void addr_str(const struct sockaddr_storage *ss, socklen_t len, char *buf, size_t n)
{
	char host[INET6_ADDRSTRLEN] = "";

	if (!len) {
		snprintf(buf, n, "-");
	} else if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)ss;

		inet_ntop(AF_INET, &s->sin_addr, host, sizeof host);
		snprintf(buf, n, "%s:%u", host, ntohs(s->sin_port));
	} else {
		const struct sockaddr_in6 *s = (const void *)ss;

		inet_ntop(AF_INET6, &s->sin6_addr, host, sizeof host);
		snprintf(buf, n, "[%s]:%u", host, ntohs(s->sin6_port));
	}
}

/* One page of connections, from the start-th on; "next" says where the
 * following page starts (0 when this was the last). */
static void req_connections(struct ssa_ctl_client *cl, struct ssa_rbuf *r, int fd)
{
	uint32_t start = ssa_get_u32(r), i = 0, next = 0;
	static char out[SSA_WIRE_MAX_REPLY - SSA_WIRE_HDR_LEN];
	struct json_out j;
	uint64_t now = ssa_now_ms();

	if (!ssa_rbuf_done(r) || fd >= 0) {
		ssa_ctl_reply(cl, SSA_MSG_CONNECTIONS, EINVAL, NULL, 0, -1);
		return;
	}
	if (!admin(cl, SSA_MSG_CONNECTIONS))
		return;
	if (!start)
		ssa_ktls_sweep(cl->d); /* closed kernel-TLS sockets are not listed */
	json_init(&j, out, sizeof out - 64);
	json_raw(&j, "{\"connections\":[");
	for (struct ssa_conn *c = cl->d->conns; c; c = c->next, i++) {
		char local[64], peer[64];
		const char *sni = NULL, *ver = "", *cipher = "";
		size_t mark = j.len;

		if (i < start)
			continue;
		if (c->ssl && c->state == SSA_STATE_ESTABLISHED) {
			sni = SSL_is_server(c->ssl) ?
			      SSL_get_servername(c->ssl, TLSEXT_NAMETYPE_host_name) : c->opts.hostname;
			ver = SSL_get_version(c->ssl);
			cipher = SSL_CIPHER_standard_name(SSL_get_current_cipher(c->ssl));
		} else if (c->role == SSA_ROLE_CLIENT) {
			sni = c->opts.hostname;
		}
		addr_str(&c->local, c->local_len, local, sizeof local);
		addr_str(&c->peer, c->peer_len, peer, sizeof peer);
		json_raw(&j, "%s{\"id\":\"%016llx\",\"pid\":%d,\"uid\":%u,\"program\":",
			 i > start ? "," : "", (unsigned long long)c->id, (int)c->pid,
			 (unsigned)c->uid);
		json_str(&j, c->program);
		json_raw(&j, ",\"profile\":");
		json_str(&j, c->pol ? c->pol->name : "");
		json_raw(&j, ",\"role\":\"%s\",\"state\":%d,\"local\":\"%s\",\"peer\":\"%s\","
			 "\"sni\":", role_name(c), (int)c->state, local, peer);
		json_str(&j, sni ? sni : "");
		json_raw(&j, ",\"version\":\"%s\",\"cipher\":\"%s\",\"bytes_out\":%llu,"
			 "\"bytes_in\":%llu,\"data\":\"%s\",\"age_s\":%llu}", ver,
			 cipher ? cipher : "",
			 (unsigned long long)c->bytes_up, (unsigned long long)c->bytes_down,
			 c->ktls ? "kernel" : "proxy",
			 (unsigned long long)((now - c->created_ms) / 1000));
		if (j.full) {
			/* This one starts the next page. */
			j.full = false;
			j.len = mark;
			out[mark] = '\0';
			next = i;
			break;
		}
	}
	j.cap = sizeof out;
	json_raw(&j, "],\"next\":%u}", next);
	ssa_ctl_reply(cl, SSA_MSG_CONNECTIONS, 0, out, j.len + 1, -1);
}

static void req_reload(struct ssa_ctl_client *cl, struct ssa_rbuf *r, int fd)
{
	char err[512];

	if (!ssa_rbuf_done(r) || fd >= 0) {
		ssa_ctl_reply(cl, SSA_MSG_RELOAD, EINVAL, NULL, 0, -1);
		return;
	}
	if (!admin(cl, SSA_MSG_RELOAD))
		return;
	if (ssad_reload(cl->d, err, sizeof err) != 0) {
		log_err("%s (reload refused, the old policy stays)", err);
		ssa_ctl_reply(cl, SSA_MSG_RELOAD, EINVAL, err, strlen(err) + 1, -1);
		return;
	}
	log_info("configuration reloaded by pid %d (generation %llu)", (int)cl->who.pid,
		 (unsigned long long)cl->d->generation);
	ssa_ctl_reply(cl, SSA_MSG_RELOAD, 0, NULL, 0, -1);
}

bool ssa_admin_request(struct ssa_ctl_client *cl, uint16_t type, struct ssa_rbuf *r, int fd)
{
	switch (type) {
	case SSA_MSG_STATUS:
		req_status(cl, r, fd);
		return true;
	case SSA_MSG_CONNECTIONS:
		req_connections(cl, r, fd);
		return true;
	case SSA_MSG_RELOAD:
		req_reload(cl, r, fd);
		return true;
	default:
		return false;
	}
}
