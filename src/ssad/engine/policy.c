/* SPDX-License-Identifier: MIT */
#include "policy.h"

#include <errno.h>
#include <poll.h>
#include <openssl/err.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <pthread.h>
#include <unistd.h>

#include "../../common/log.h"
#include "proc_links.h"
#include "cfg_files.h"
#include "session_cache.h"
#include "tls_context.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif

/* A policy's client context: the shared settings (tls_context.h) and, where
 * the policy lets sessions be resumed, the session cache (session_cache.h). */
static SSL_CTX *client_ctx_new(const struct ssa_config *cfg, char *err, size_t errlen)
{
	SSL_CTX *ctx = ssa_tls_client_ctx_new(cfg, err, errlen);

	if (ctx && cfg->session_tickets && cfg->session_timeout > 0)
		ssa_session_cache_ctx(ctx);
	return ctx;
}

static struct ssa_policy *policy_new(const char *name, const struct ssa_config *cfg,
				     uint64_t gen, const char *where, char *err, size_t errlen)
{
	struct ssa_policy *p = calloc(1, sizeof *p);
	char why[300];

	if (!p || !(p->name = strdup(name))) {
		free(p);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	p->refs = 1;
	p->generation = gen;
	if (ssa_config_copy(&p->cfg, cfg) != 0) {
		snprintf(err, errlen, "out of memory");
		free(p->name);
		free(p);
		return NULL;
	}
	p->client_ctx = client_ctx_new(cfg, why, sizeof why);
	if (!p->client_ctx) {
		snprintf(err, errlen, "%s: %s", where, why);
		ssa_config_free(&p->cfg);
		free(p->name);
		free(p);
		return NULL;
	}
	if (cfg->certificate) {
		int cfd = ssa_cfg_open(cfg->certificate);
		int rc = EINVAL;

		/* The key: never opened here in the worker; the supervisor has
		 * the keeper read it (cfg_files.h). */
		if (cfd < 0) {
			snprintf(why, sizeof why, "%s: %s", cfg->certificate, strerror(errno));
		} else if ((rc = ssa_load_chain_fd(cfd, &p->granted.chain, why, sizeof why)) == 0) {
			char kwhy[200];

			if ((rc = ssa_cfg_load_key(cfg->private_key, &p->granted.key, kwhy,
						   sizeof kwhy)) != 0)
				snprintf(why, sizeof why, "%s: %s", cfg->private_key, kwhy);
			else
				rc = ssa_identity_check(&p->granted, why, sizeof why);
		}
		if (cfd >= 0)
			close(cfd);
		if (rc || cfd < 0) {
			snprintf(err, errlen, "%s: identity: %s", where, why);
			ssa_policy_put(p);
			return NULL;
		}
	}
	return p;
}

/* A [global] trust-store or crl-file that cannot be used: the error
 * ("PATH: trust-store FILE: why") names the key's line, as parse errors do. */
static void global_error_line(const struct ssa_config *cfg, const char *path, char *err,
			      size_t errlen)
{
	size_t pl = strlen(path);
	const char *rest = err + pl + 2;
	char line_err[768];
	int line = 0;

	if (strncmp(err, path, pl) != 0 || strncmp(err + pl, ": ", 2) != 0)
		return;
	if (strncmp(rest, "trust-store ", 12) == 0)
		line = cfg->trust_store_line;
	else if (strncmp(rest, "crl-file ", 9) == 0)
		line = cfg->crl_file_line;
	if (line <= 0)
		return;
	snprintf(line_err, sizeof line_err, "%s:%d: %s", path, line, rest);
	snprintf(err, errlen, "%s", line_err);
}

struct ssa_policy_set *ssa_policy_set_load(const char *path, bool explicit_path,
					   uint64_t generation, char *err, size_t errlen)
{
	struct ssa_policy_set *set = calloc(1, sizeof *set);
	char where[512];

	if (!set || ssa_config_defaults(&set->cfg) != 0) {
		free(set);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	set->generation = generation;
	if (ssa_config_load(path, explicit_path, &set->cfg, err, errlen) != 0)
		goto fail;
	set->global = policy_new("global", &set->cfg, generation, path, err, errlen);
	if (!set->global) {
		global_error_line(&set->cfg, path, err, errlen);
		goto fail;
	}
	set->apps = calloc((size_t)set->cfg.n_profiles + 1, sizeof(struct ssa_policy *));
	if (!set->apps)
		goto fail;
	for (int i = 0; i < set->cfg.n_profiles; i++) {
		struct ssa_profile *pr = &set->cfg.profiles[i];

		snprintf(where, sizeof where, "%s:%d: [app \"%s\"]", path, pr->line, pr->name);
		set->apps[i] = policy_new(pr->name, &pr->cfg, generation, where, err, errlen);
		if (!set->apps[i])
			goto fail;
	}
	return set;
fail:
	ssa_policy_set_free(set);
	return NULL;
}

void ssa_policy_set_free(struct ssa_policy_set *set)
{
	if (!set)
		return;
	/* Policies own copies of their values and outlive the set while
	 * connections hold them. */
	ssa_policy_put(set->global);
	for (int i = 0; set->apps && i < set->cfg.n_profiles; i++)
		ssa_policy_put(set->apps[i]);
	for (int i = 0; i < set->n_combos; i++) {
		free(set->combos[i].matched);
		ssa_policy_put(set->combos[i].policy);
	}
	free(set->combos);
	free(set->apps);
	ssa_config_free(&set->cfg);
	free(set);
}

struct ssa_policy *ssa_policy_get(struct ssa_policy *p)
{
	if (p)
		p->refs++;
	return p;
}

void ssa_policy_put(struct ssa_policy *p)
{
	if (!p || --p->refs > 0)
		return;
	SSL_CTX_free(p->client_ctx);
	ssa_identity_clear(&p->granted);
	ssa_config_free(&p->cfg);
	free(p->name);
	free(p);
}

static bool in_group(const struct ssa_peer_id *who, gid_t g)
{
	if (who->gid == g)
		return true;
	for (int i = 0; i < who->n_groups; i++)
		if (who->groups[i] == g)
			return true;
	return false;
}

static bool profile_matches(const struct ssa_profile *p, const struct ssa_peer_id *who,
			    int *score)
{
	*score = 0;
	if (p->match_exe) {
		struct stat st;

		/* The file the administrator named, as ssad sees it now, and
		 * the caller's executable: the same file. */
		if (!who->exe_ok || ssa_cfg_stat(p->match_exe, &st) != 0 ||
		    st.st_dev != who->exe_dev || st.st_ino != who->exe_ino)
			return false;
		*score += 4;
	}
	if (p->has_user) {
		if (who->uid != p->uid)
			return false;
		*score += 2;
	}
	if (p->has_group) {
		if (!in_group(who, p->gid))
			return false;
		*score += 1;
	}
	return true;
}

static bool has_key(const struct ssa_profile *p, const char *key)
{
	for (int k = 0; k < p->n_keys; k++)
		if (strcmp(p->keys[k], key) == 0)
			return true;
	return false;
}

/* Append name (nl bytes) to the colon-separated list out of *len bytes,
 * whose buffer the caller sized for every name and separator. */
static void append_name(char *out, size_t *len, const char *name, size_t nl)
{
	if (*len)
		out[(*len)++] = ':';
	memcpy(out + *len, name, nl);
	*len += nl;
	out[*len] = '\0';
}

/* The names in colon-separated list a that are also in b, in a's order. */
static char *intersect_names(const char *a, const char *b)
{
	size_t n = strlen(a), len = 0;
	char *out = calloc(1, n + 1), *copy = strdup(a), *save = NULL;

	if (!out || !copy) {
		free(out);
		free(copy);
		return NULL;
	}
	for (char *t = strtok_r(copy, ":", &save); t; t = strtok_r(NULL, ":", &save)) {
		size_t tl = strlen(t);

		for (const char *q = b; *q;) {
			size_t ql = strcspn(q, ":");

			if (ql == tl && strncmp(q, t, tl) == 0) {
				append_name(out, &len, t, tl);
				break;
			}
			q += ql;
			if (*q == ':')
				q++;
		}
	}
	free(copy);
	return out;
}

/* A TLS 1.2 cipher rule ("ECDHE+AESGCM") as the names it selects. */
static char *expand_ciphers(const char *rule)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_method());
	STACK_OF(SSL_CIPHER) *sk;
	char *out = NULL;
	size_t cap = 0, len = 0;

	if (!ctx)
		return NULL;
	if (SSL_CTX_set_cipher_list(ctx, rule) == 1 && (sk = SSL_CTX_get_ciphers(ctx))) {
		for (int i = 0; i < sk_SSL_CIPHER_num(sk); i++)
			cap += strlen(SSL_CIPHER_get_name(sk_SSL_CIPHER_value(sk, i))) + 1;
		out = calloc(1, cap + 1);
		for (int i = 0; out && i < sk_SSL_CIPHER_num(sk); i++) {
			const char *name = SSL_CIPHER_get_name(sk_SSL_CIPHER_value(sk, i));

			if (strncmp(name, "TLS_", 4) == 0)
				continue; /* ciphersuites are composed on their own */
			append_name(out, &len, name, strlen(name));
		}
	}
	ERR_clear_error();
	SSL_CTX_free(ctx);
	return out;
}

static int replace_str(char **dst, char *val)
{
	if (!val)
		return -1;
	free(*dst);
	*dst = val;
	return 0;
}

/*
 * Tighten cfg (the base profile's effective values) with the settings
 * profile o sets itself. Trust stores and CRL files cannot be intersected:
 * o's replaces the base's when the base did not set its own, or when o
 * names a user or group and the base does not (a restriction written for a
 * user holds).
 */
static int tighten_with(struct ssa_config *cfg, const struct ssa_profile *base,
			const struct ssa_profile *o)
{
	const struct ssa_config *v = &o->cfg;
	bool o_user = o->has_user || o->has_group, b_user = base->has_user || base->has_group;

	for (int k = 0; k < o->n_keys; k++) {
		const char *key = o->keys[k];
		int rc = 0;

		if (strcmp(key, "min-version") == 0) {
			if (v->min_version > cfg->min_version)
				cfg->min_version = v->min_version;
		} else if (strcmp(key, "max-version") == 0) {
			if (v->max_version < cfg->max_version)
				cfg->max_version = v->max_version;
		} else if (strcmp(key, "ciphers") == 0) {
			char *a = expand_ciphers(cfg->ciphers), *b = expand_ciphers(v->ciphers);

			rc = a && b ? replace_str(&cfg->ciphers, intersect_names(a, b)) : -1;
			free(a);
			free(b);
		} else if (strcmp(key, "ciphersuites") == 0) {
			rc = replace_str(&cfg->ciphersuites,
					 intersect_names(cfg->ciphersuites, v->ciphersuites));
		} else if (strcmp(key, "groups") == 0) {
			rc = replace_str(&cfg->groups, intersect_names(cfg->groups, v->groups));
		} else if (strcmp(key, "verify-depth") == 0) {
			if (v->verify_depth < cfg->verify_depth)
				cfg->verify_depth = v->verify_depth;
		} else if (strcmp(key, "handshake-timeout") == 0) {
			if (v->handshake_timeout_ms < cfg->handshake_timeout_ms)
				cfg->handshake_timeout_ms = v->handshake_timeout_ms;
		} else if (strcmp(key, "app-trust-anchors") == 0) {
			cfg->app_trust_anchors = cfg->app_trust_anchors && v->app_trust_anchors;
		} else if (strcmp(key, "request-peer-auth") == 0) {
			if (v->request_peer_auth > cfg->request_peer_auth)
				cfg->request_peer_auth = v->request_peer_auth;
		} else if (strcmp(key, "session-tickets") == 0) {
			cfg->session_tickets = cfg->session_tickets && v->session_tickets;
		} else if (strcmp(key, "session-timeout") == 0) {
			if (v->session_timeout < cfg->session_timeout)
				cfg->session_timeout = v->session_timeout;
		} else if (strcmp(key, "crl-checks") == 0) {
			cfg->crl_checks = cfg->crl_checks == 1 || v->crl_checks == 1 ? 1 :
					  cfg->crl_checks == -1 || v->crl_checks == -1 ? -1 : 0;
		} else if (strcmp(key, "ocsp-stapled-checks") == 0) {
			cfg->ocsp_stapled_checks = cfg->ocsp_stapled_checks || v->ocsp_stapled_checks;
		} else if (strcmp(key, "trust-store") == 0 || strcmp(key, "crl-file") == 0) {
			bool ts = key[0] == 't';

			if (!has_key(base, key) || (o_user && !b_user)) {
				const char *val = ts ? v->trust_store : v->crl_file;

				rc = replace_str(ts ? &cfg->trust_store : &cfg->crl_file,
						 val ? strdup(val) : NULL);
				if (!ts && cfg->crl_checks == 0 && v->crl_checks != 0)
					cfg->crl_checks = v->crl_checks;
			}
		}
		if (rc)
			return -1;
	}
	return 0;
}

static struct ssa_policy *compose(struct ssa_policy_set *set, const unsigned char *matched,
				  int best)
{
	const struct ssa_profile *base = &set->cfg.profiles[best];
	struct ssa_policy *p = calloc(1, sizeof *p), *granting = NULL;
	char why[300], name[256];
	size_t nl;

	if (!p)
		return NULL;
	p->refs = 1;
	p->generation = set->generation;
	if (ssa_config_copy(&p->cfg, &base->cfg) != 0)
		goto fail;
	snprintf(name, sizeof name, "%s", base->name);
	if (set->apps[best]->granted.chain)
		granting = set->apps[best];
	for (int i = 0; i < set->cfg.n_profiles; i++) {
		if (!matched[i] || i == best)
			continue;
		if (tighten_with(&p->cfg, base, &set->cfg.profiles[i]) != 0)
			goto fail;
		nl = strlen(name);
		snprintf(name + nl, sizeof name - nl, "+%s", set->cfg.profiles[i].name);
		/* An identity is granted by a profile that matched in full;
		 * the most specific one that grants one. */
		if (!granting && set->apps[i]->granted.chain)
			granting = set->apps[i];
	}
	if (p->cfg.min_version > p->cfg.max_version ||
	    !(p->name = strdup(name)))
		goto fail;
	p->client_ctx = client_ctx_new(&p->cfg, why, sizeof why);
	if (!p->client_ctx) {
		log_warn("profiles %s compose to nothing usable (%s): sockets refused", name, why);
		goto fail;
	}
	if (granting) {
		p->granted.chain = X509_chain_up_ref(granting->granted.chain);
		p->granted.key = granting->granted.key;
		EVP_PKEY_up_ref(p->granted.key);
	}
	return p;
fail:
	ssa_policy_put(p);
	return NULL;
}

#define MAX_COMBOS 256

/* A match-exe profile left out because ssad could not read the program's
 * executable: say so (rate-limited per uid), naming the first such profile. */
static void note_exe_unknown(const struct ssa_policy_set *set, const struct ssa_peer_id *who)
{
	int n = 0;
	const char *first = NULL;

	for (int i = 0; i < set->cfg.n_profiles; i++)
		if (set->cfg.profiles[i].match_exe && n++ == 0)
			first = set->cfg.profiles[i].name;
	if (!first)
		return;
	ssa_log_limited(SSA_LOG_WARN, "exe-unreadable", who->uid, 10, 1,
			"pid %d (uid %u): match-exe profiles not applied (%s%s): ssad cannot read its executable: %s",
			(int)who->pid, (unsigned)who->uid, first, n > 1 ? " and others" : "",
			who->exe_why);
}

struct ssa_policy *ssa_policy_match(struct ssa_policy_set *set,
				    const struct ssa_peer_id *who)
{
	int n = set->cfg.n_profiles, best = -1, best_score = 0, count = 0, score;
	unsigned char *matched;
	struct ssa_policy *p;

	if (n == 0)
		return ssa_policy_get(set->global);
	matched = calloc((size_t)n, 1);
	if (!matched)
		return NULL;
	for (int i = 0; i < n; i++) {
		if (!profile_matches(&set->cfg.profiles[i], who, &score))
			continue;
		matched[i] = 1;
		count++;
		if (score > best_score) {
			best = i;
			best_score = score;
		}
	}
	if (!who->exe_ok && who->exe_why)
		note_exe_unknown(set, who);
	if (count <= 1) {
		free(matched);
		return ssa_policy_get(best < 0 ? set->global : set->apps[best]);
	}
	for (int i = 0; i < set->n_combos; i++) {
		if (memcmp(set->combos[i].matched, matched, (size_t)n) == 0) {
			free(matched);
			return ssa_policy_get(set->combos[i].policy);
		}
	}
	p = compose(set, matched, best);
	if (p && set->n_combos < MAX_COMBOS) {
		struct ssa_policy_combo *c = realloc(set->combos, ((size_t)set->n_combos + 1) *
							      sizeof *c);

		if (c) {
			set->combos = c;
			c[set->n_combos].matched = matched;
			c[set->n_combos].policy = ssa_policy_get(p);
			set->n_combos++;
			return p;
		}
	}
	free(matched);
	return p;
}

/* What /proc/PID/status says about the ids, groups and capabilities (a
 * file anyone may read: no ptrace access needed). */
struct proc_status {
	bool ok;
	bool ids_differ;       /* real, effective and saved ids not all one */
	uid_t euid;
	gid_t egid;
	uint64_t cap_eff;
	uint64_t cap_prm;
};

/* An "Uid:" or "Gid:" line's values: real, effective, saved, filesystem.
 * @retval number of values read */
static int parse_ids(const char *line, const char *key, unsigned long v[4])
{
	size_t k = strlen(key);

	if (strncmp(line, key, k) != 0)
		return 0;
	return sscanf(line + k, "%lu %lu %lu %lu", &v[0], &v[1], &v[2], &v[3]);
}

static void parse_groups(const char *p, struct ssa_peer_id *who)
{
	char *end;

	who->n_groups = 0;
	while (who->n_groups < (int)(sizeof who->groups / sizeof who->groups[0])) {
		unsigned long g = strtoul(p, &end, 10);

		if (end == p)
			break;
		who->groups[who->n_groups++] = (gid_t)g;
		p = end;
	}
}

static void read_status(pid_t pid, struct ssa_peer_id *who, struct proc_status *st)
{
	char path[64], line[1024], buf[8192];
	FILE *f;

	memset(st, 0, sizeof *st);
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return;
	/* The whole file (about 1.5 kB) in one read, no fstat() for a size. */
	setvbuf(f, buf, _IOFBF, sizeof buf);
	while (fgets(line, sizeof line, f)) {
		unsigned long v[4];
		unsigned long long cap;
		int n;

		if ((n = parse_ids(line, "Uid:", v)) >= 2) {
			st->euid = (uid_t)v[1];
			st->ok = true;
			st->ids_differ |= n < 3 || v[0] != v[1] || v[1] != v[2];
		} else if ((n = parse_ids(line, "Gid:", v)) >= 2) {
			st->egid = (gid_t)v[1];
			st->ids_differ |= n < 3 || v[0] != v[1] || v[1] != v[2];
		} else if (sscanf(line, "CapEff: %llx", &cap) == 1) {
			st->cap_eff = cap;
		} else if (sscanf(line, "CapPrm: %llx", &cap) == 1) {
			st->cap_prm = cap;
		} else if (strncmp(line, "Groups:", 7) == 0 && who) {
			parse_groups(line + 7, who);
		}
	}
	fclose(f);
}


/* The start time of process pid (field 22 of /proc/PID/stat, in clock
 * ticks since boot): a pid reused by another process has another one.
 * @retval 0 read, -1 no such process or unreadable */
static int proc_start_time(pid_t pid, unsigned long long *start)
{
	char path[64], buf[1024], *p;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* The command name may hold anything, ')' included: skip to the last. */
	p = strrchr(buf, ')');
	if (!p)
		return -1;
	/* p is at the end of field 2; field 22 is 20 separators further. */
	for (field = 2; field < 22 && *p; p++)
		if (*p == ' ')
			field++;
	if (field != 22 || sscanf(p, "%llu", start) != 1)
		return -1;
	return 0;
}


/* The capabilities ptrace access checks with FSCREDS when the fsuid is not
 * 0: the kernel drops the file-system ones (capability(7)). */
#define FS_CAPS ((1ULL << 0) | (1ULL << 1) | (1ULL << 2) | (1ULL << 3) | (1ULL << 4) | \
		 (1ULL << 9) | (1ULL << 27) | (1ULL << 32))

static bool in_init_userns(pid_t pid)
{
	char path[64], map[128] = "";
	FILE *f;
	bool init;

	snprintf(path, sizeof path, "/proc/%d/uid_map", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	/* ssad's own (the initial one) maps every id: "0 0 4294967295". */
	init = fgets(map, sizeof map, f) && strstr(map, " 4294967295") &&
	       !fgets(map, sizeof map, f);
	fclose(f);
	return init;
}

/* Why the kernel refused ssad ptrace access to pid (PTRACE_MODE_READ_FSCREDS
 * with the process's own uid and gid), read from files anyone may read. */
static const char *unreadable_why(pid_t pid, uid_t uid, const struct proc_status *ps)
{
	struct proc_status self;
	uint64_t own;

	if (ps->ids_differ)
		return "its real, effective and saved ids differ (a setuid or setgid program)";
	if (!in_init_userns(pid))
		return "it is in another user namespace";
	read_status(ssa_proc_links_reader(), NULL, &self);
	own = uid == 0 ? self.cap_eff : self.cap_eff & ~FS_CAPS;
	if (ps->cap_prm & ~own)
		return "it holds capabilities ssad does not have";
	return "it is not dumpable (prctl(PR_SET_DUMPABLE, 0), or it executed a setuid, setgid or file-capability program)";
}

void ssa_peer_id_release(struct ssa_peer_id *who)
{
	if (who->own_netns && who->netns_fd >= 0)
		close(who->netns_fd);
	if (who->has_tcp && who->tcp_fd >= 0)
		close(who->tcp_fd);
	who->own_netns = false;
	who->netns_fd = -1;
	who->has_tcp = false;
	who->tcp_fd = -1;
}

/* Alive after the reads: then the pid was not reused in between. */
static bool still_alive(pid_t pid, int pidfd, bool have_start, unsigned long long start0)
{
	unsigned long long start1 = 0;

	/* EPERM: the process exists, ssad may only not signal it (no
	 * CAP_KILL under the systemd unit); a process that is gone is ESRCH. */
	if (pidfd >= 0) {
		struct pollfd p = { .fd = pidfd, .events = POLLIN };

		if (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) == 0 || errno == EPERM)
			return true;
		/* A pidfd without the signal call (a filter or a tool that
		 * allows only the first): it turns readable when the process
		 * exits. */
		return errno == ENOSYS && poll(&p, 1, 0) == 0;
	}
	return have_start && proc_start_time(pid, &start1) == 0 && start1 == start0;
}

/* The identification's log lines, after the reads (none under the
 * caller's filesystem ids). */
static void note_unreadable(struct ssa_peer_id *who, const struct ssa_proc_links *l,
			    const struct proc_status *ps)
{
	bool exe_refused = l->exe_errno == EACCES || l->exe_errno == EPERM;
	bool net_refused = l->net_errno == EACCES || l->net_errno == EPERM;

	if (!exe_refused && !net_refused)
		return;
	who->exe_why = unreadable_why(who->pid, who->uid, ps);
	if (net_refused)
		ssa_log_limited(SSA_LOG_WARN, "netns-unreadable", who->uid, 10, 1,
				"pid %d (uid %u): ssad cannot read its network namespace (%s): it gets no network through ssad",
				(int)who->pid, (unsigned)who->uid, who->exe_why);
}

/* What identify() reads: LINKS_NONE only /proc/PID/status (ids, groups,
 * capabilities), LINKS_READ also the links through the process reader
 * (executable, namespaces; and the TCP socket of sock_domain). */
enum links { LINKS_NONE, LINKS_READ };

/* ssa_peer_identify_pid(), and the caller's TCP socket of sock_domain (0:
 * none) with the links (ssa_peer_identify_socket()). */
static int identify(pid_t pid, uid_t uid, gid_t gid, int pidfd, bool check_ids,
		    bool want_netns, int sock_domain, enum links links, struct ssa_peer_id *who)
{
	struct proc_status ps, ps0;
	struct ssa_proc_links l;
	bool alive;
	int own_pidfd = -1;
	unsigned long long start0 = 0;
	bool have_start;
	/* The capabilities count in the user namespace the links show, so
	 * they are read before the links as well as after, and only those
	 * held both times count: a process moving into a new user namespace
	 * of its own (unshare(), which gives it every capability there) in
	 * between would otherwise show the initial namespace with the new
	 * namespace's capabilities. A process never moves back up, so what
	 * it held before and after, it held in the namespace read. Only
	 * without want_netns (BIND, the one request that uses them): not a
	 * file read more per socket(). */
	bool caps = links == LINKS_READ && !want_netns;

	memset(who, 0, sizeof *who);
	memset(&ps0, 0, sizeof ps0);
	who->pid = pid;
	who->uid = uid;
	who->gid = gid;
	who->netns_fd = -1;
	who->tcp_fd = -1;
	if (pid <= 0)
		return ESRCH;
	/* A pidfd pins the process: the kernel's own (SCM_PIDFD,
	 * SO_PEERPIDFD: Linux 6.5) or, on older kernels, one opened now.
	 * Whatever is read from /proc/PID counts only if the process is still
	 * alive afterwards: then the pid was not reused in between. */
	/* Where there are no pidfds (before Linux 5.3, or under valgrind,
	 * which does not know the calls), the process's start time read
	 * before and after tells the same: a reused pid has another. */
	if (pidfd < 0)
		pidfd = own_pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	have_start = pidfd < 0 && errno == ENOSYS && proc_start_time(pid, &start0) == 0;
	if (pidfd < 0 && !have_start)
		return ESRCH;
	memset(&l, 0, sizeof l);
	l.pid = pid;
	l.uid = uid;
	l.gid = gid;
	l.want_netns = want_netns;
	l.sock_domain = want_netns ? sock_domain : 0;
	/* With the ids the process sent its request with: no CAP_SYS_PTRACE
	 * needed for a dumpable process whose ids are all these. */
	if (caps)
		read_status(pid, NULL, &ps0);
	if (links == LINKS_READ) {
		ssa_proc_links_get(&l);
	} else {
		l.netns_fd = -1;
		l.sock_fd = -1;
	}
	memcpy(who->exe, l.exe, sizeof who->exe);
	who->has_tcp = l.sock_fd >= 0;
	who->tcp_fd = l.sock_fd;
	if (l.own_netns && l.netns_fd < 0 && !who->has_tcp && ssa_proc_in_own_netns(pid)) {
		/* Unreadable, yet in ssad's namespace: nothing to open. */
		l.own_netns = false;
		l.net_errno = 0;
	}
	who->own_netns = l.own_netns;
	who->netns_fd = l.netns_fd;
	read_status(pid, who, &ps);
	alive = still_alive(pid, pidfd, have_start, start0);
	if (own_pidfd >= 0)
		close(own_pidfd);
	/* check_ids: the process must still have the effective ids it sent
	 * (kernel-checked) the request with. If not, it changed them since
	 * (it executed a setuid program), or, on a kernel without SCM_PIDFD,
	 * the sender died and its pid now names another process: either way
	 * what /proc says is not the sender's, and the request is refused. */
	if (!alive || !ps.ok || (check_ids && (ps.euid != uid || ps.egid != gid))) {
		ssa_peer_id_release(who);
		who->exe[0] = '\0';
		who->n_groups = 0;
		return ESRCH;
	}
	who->init_userns = l.user_same;
	who->userns = l.userns;
	who->net_owner = l.own_netns ? l.net_owner : (struct ssa_ns_id){ 0, 0 };
	who->cap_eff = caps && ps0.ok ? ps.cap_eff & ps0.cap_eff : 0;
	/* The executable identifies the program only if it is the file the
	 * administrator named as ssad sees it (same mount namespace, and a
	 * user namespace that cannot remap its owner). */
	who->exe_ok = l.exe_stat && who->exe[0] && l.mnt_same && l.user_same;
	who->exe_dev = l.exe_dev;
	who->exe_ino = l.exe_ino;
	if (!who->exe_ok)
		note_unreadable(who, &l, &ps);
	return 0;
}

int ssa_peer_identify_pid(pid_t pid, uid_t uid, gid_t gid, int pidfd, bool check_ids,
			  bool want_netns, struct ssa_peer_id *who)
{
	return identify(pid, uid, gid, pidfd, check_ids, want_netns, 0, LINKS_READ, who);
}

int ssa_peer_identify_socket(pid_t pid, uid_t uid, gid_t gid, int pidfd, int domain,
			     struct ssa_peer_id *who)
{
	return identify(pid, uid, gid, pidfd, true, true, domain, LINKS_READ, who);
}

int ssa_peer_identify(int sock, struct ssa_peer_id *who)
{
	struct ucred cred;
	socklen_t len = sizeof cred;
	int pidfd = -1;

	memset(who, 0, sizeof *who);
	who->netns_fd = -1;
	who->tcp_fd = -1;
	if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
		return errno;
	len = sizeof pidfd;
	if (getsockopt(sock, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) != 0)
		pidfd = -1;
	/* The process that connected, as it was then: only for logs, for
	 * admin requests (which need its groups, not its executable) and for a
	 * request that came without credentials. Nothing the process reader
	 * must read (no executable, no namespace): no supervisor round trip
	 * for each control connection. Without them the process counts as in
	 * another user namespace (init_userns false), which only tightens. */
	identify(cred.pid, cred.uid, cred.gid, pidfd, false, false, 0, LINKS_NONE, who);
	who->pid = cred.pid;
	who->uid = cred.uid;
	who->gid = cred.gid;
	who->exe_ok = false;
	who->exe_why = NULL;
	if (pidfd >= 0)
		close(pidfd);
	return 0;
}

bool ssa_peer_is_admin(const struct ssa_peer_id *who, const struct ssa_config *cfg)
{
	struct group *g;

	if (who->uid == 0)
		return true;
	if (!cfg->admin_group || !cfg->admin_group[0])
		return false;
	g = getgrnam(cfg->admin_group);
	return g && in_group(who, g->gr_gid);
}
