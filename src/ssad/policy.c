/* SPDX-License-Identifier: MIT */
#include "policy.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "tls_context.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif

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
	p->client_ctx = ssa_tls_client_ctx_new(cfg, why, sizeof why);
	if (!p->client_ctx) {
		snprintf(err, errlen, "%s: %s", where, why);
		ssa_config_free(&p->cfg);
		free(p->name);
		free(p);
		return NULL;
	}
	if (cfg->certificate) {
		int cfd = open(cfg->certificate, O_RDONLY | O_CLOEXEC);
		int kfd = open(cfg->private_key, O_RDONLY | O_CLOEXEC);
		int rc = EINVAL;

		if (cfd < 0 || kfd < 0) {
			snprintf(why, sizeof why, "%s: %s", cfd < 0 ? cfg->certificate :
				 cfg->private_key, strerror(errno));
		} else if ((rc = ssa_load_chain_fd(cfd, &p->granted.chain, why, sizeof why)) == 0 &&
			   (rc = ssa_load_key_fd(kfd, &p->granted.key, why, sizeof why)) == 0) {
			rc = ssa_identity_check(&p->granted, why, sizeof why);
		}
		if (cfd >= 0)
			close(cfd);
		if (kfd >= 0)
			close(kfd);
		if (rc || cfd < 0 || kfd < 0) {
			snprintf(err, errlen, "%s: identity: %s", where, why);
			ssa_policy_put(p);
			return NULL;
		}
	}
	return p;
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
	if (!set->global)
		goto fail;
	set->apps = calloc((size_t)set->cfg.n_profiles + 1, sizeof *set->apps);
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

struct ssa_policy *ssa_policy_match(const struct ssa_policy_set *set,
				    const struct ssa_peer_id *who)
{
	int best = -1, best_score = 0;

	for (int i = 0; i < set->cfg.n_profiles; i++) {
		const struct ssa_profile *p = &set->cfg.profiles[i];
		int score = 0;

		if (p->match_exe) {
			if (!who->exe[0] || strcmp(p->match_exe, who->exe) != 0)
				continue;
			score += 4;
		}
		if (p->has_user) {
			if (who->uid != p->uid)
				continue;
			score += 2;
		}
		if (p->has_group) {
			if (!in_group(who, p->gid))
				continue;
			score += 1;
		}
		if (score > best_score) {
			best = i;
			best_score = score;
		}
	}
	return ssa_policy_get(best < 0 ? set->global : set->apps[best]);
}

/* Supplementary groups from /proc/PID/status ("Groups: 4 24 27"). */
static void read_groups(pid_t pid, struct ssa_peer_id *who)
{
	char path[64], line[1024];
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		char *p = line + 7, *end;

		if (strncmp(line, "Groups:", 7) != 0)
			continue;
		while (who->n_groups < (int)(sizeof who->groups / sizeof who->groups[0])) {
			unsigned long g = strtoul(p, &end, 10);

			if (end == p)
				break;
			who->groups[who->n_groups++] = (gid_t)g;
			p = end;
		}
		break;
	}
	fclose(f);
}

int ssa_peer_identify(int sock, struct ssa_peer_id *who)
{
	struct ucred cred;
	socklen_t len = sizeof cred;
	char path[64];
	int pidfd = -1;
	ssize_t n;

	memset(who, 0, sizeof *who);
	if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
		return errno;
	who->pid = cred.pid;
	who->uid = cred.uid;
	who->gid = cred.gid;
	/* A pidfd pins the process: the kernel's own (SO_PEERPIDFD, Linux 6.5)
	 * or, on older kernels, one opened now. If the process is gone by the
	 * time its executable was read, the pid may have been reused: then the
	 * executable stays unknown and no match-exe profile applies. */
	len = sizeof pidfd;
	if (getsockopt(sock, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) != 0)
		pidfd = (int)syscall(SYS_pidfd_open, cred.pid, 0);
	snprintf(path, sizeof path, "/proc/%d/exe", (int)cred.pid);
	n = readlink(path, who->exe, sizeof who->exe - 1);
	who->exe[n > 0 ? n : 0] = '\0';
	read_groups(cred.pid, who);
	if (pidfd < 0 || syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) != 0) {
		who->exe[0] = '\0';
		who->n_groups = 0;
	}
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
