/* SPDX-License-Identifier: MIT */
/* The files the supervisor opens for the worker (cfg_access.h). */
#include "cfg_access.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../common/log.h"
#include "../engine/config.h"

static const char *cfg_path;
static bool cfg_explicit;

/* The paths the configuration names, as of its last change. */
static struct {
	bool loaded;
	struct stat of;        /* the file they were read from */
	char **files;          /* may be opened */
	size_t n_files;
	char **exes;           /* may be stat()ed */
	size_t n_exes;
	char **dirs;           /* trust stores: the files directly in them too */
	size_t n_dirs;
	char **keys;           /* private keys: for the keeper, never the worker */
	size_t n_keys;
} named;

void ssa_cfg_access_init(const char *config_path, bool explicit_path)
{
	cfg_path = config_path;
	cfg_explicit = explicit_path;
}

static void forget(void)
{
	for (size_t i = 0; i < named.n_files; i++)
		free(named.files[i]);
	for (size_t i = 0; i < named.n_exes; i++)
		free(named.exes[i]);
	for (size_t i = 0; i < named.n_dirs; i++)
		free(named.dirs[i]);
	for (size_t i = 0; i < named.n_keys; i++)
		free(named.keys[i]);
	free(named.keys);
	free(named.files);
	free(named.exes);
	free(named.dirs);
	memset(&named, 0, sizeof named);
}

static void add(char ***list, size_t *n, const char *path)
{
	char **l;

	if (!path || !*path || !(l = realloc(*list, (*n + 1) * sizeof *l)))
		return;
	*list = l;
	if ((l[*n] = strdup(path)) != NULL)
		(*n)++;
}

/* The files one set of policy values names. */
static void name_files(const struct ssa_config *c)
{
	add(&named.files, &named.n_files, c->trust_store);
	add(&named.dirs, &named.n_dirs, c->trust_store);
	add(&named.files, &named.n_files, c->crl_file);
	add(&named.files, &named.n_files, c->certificate);
	add(&named.keys, &named.n_keys, c->private_key);
}

/* Parse the configuration again if it changed since. */
static void refresh(void)
{
	struct ssa_config cfg;
	struct stat st;
	char err[256];

	if (stat(cfg_path, &st) != 0)
		memset(&st, 0, sizeof st);
	if (named.loaded && st.st_dev == named.of.st_dev && st.st_ino == named.of.st_ino &&
	    st.st_size == named.of.st_size && st.st_mtim.tv_sec == named.of.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == named.of.st_mtim.tv_nsec)
		return;
	forget();
	if (ssa_config_defaults(&cfg) != 0)
		return;
	if (ssa_config_load(cfg_path, cfg_explicit, &cfg, err, sizeof err) != 0) {
		/* Nothing is named: the worker's load fails and says why too. */
		log_limited(SSA_LOG_WARN, 0, 1, 1, "supervisor: %s", err);
		ssa_config_free(&cfg);
		return;
	}
	name_files(&cfg);
	for (int i = 0; i < cfg.n_profiles; i++) {
		add(&named.exes, &named.n_exes, cfg.profiles[i].match_exe);
		name_files(&cfg.profiles[i].cfg); /* [global] overlaid with its own */
	}
	ssa_config_free(&cfg);
	named.of = st;
	named.loaded = true;
}

static bool in(char **list, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], path) == 0)
			return true;
	return false;
}

/* path is "<a trust-store directory>/<name>", name without '/' and not ".". */
static bool in_named_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t dl;

	if (!slash || slash == path || !slash[1] || slash[1] == '.')
		return false;
	dl = (size_t)(slash - path);
	for (size_t i = 0; i < named.n_dirs; i++)
		if (strlen(named.dirs[i]) == dl && memcmp(named.dirs[i], path, dl) == 0)
			return true;
	return false;
}

/* Open path read-only; a regular file or a directory. */
static int open_ro(const char *path, int *fd)
{
	struct stat st;

	*fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (*fd < 0)
		return errno;
	if (fstat(*fd, &st) != 0 || (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))) {
		close(*fd);
		*fd = -1;
		return EINVAL;
	}
	return 0;
}

int ssa_cfg_access_key(const char *path, int *fd)
{
	*fd = -1;
	refresh();
	if (!in(named.keys, named.n_keys, path))
		return EACCES;
	return open_ro(path, fd);
}

int ssa_cfg_access_open(const char *path, int *fd)
{
	*fd = -1;
	if (strcmp(path, cfg_path) != 0) {
		refresh();
		if (in(named.keys, named.n_keys, path)) {
			log_limited(SSA_LOG_WARN, 0, 1, 1, "supervisor: the worker asked to open %s, "
				    "a private key of the configuration (only the key keeper reads it); "
				    "refused", path);
			return EACCES;
		}
		if (!in(named.files, named.n_files, path) && !in_named_dir(path)) {
			log_limited(SSA_LOG_WARN, 0, 1, 1, "supervisor: the worker asked for %s, "
				    "which the configuration does not name; refused", path);
			return EACCES;
		}
	}
	return open_ro(path, fd);
}

int ssa_cfg_access_stat(const char *path, struct stat *st)
{
	refresh();
	if (strcmp(path, cfg_path) != 0 && !in(named.exes, named.n_exes, path) &&
	    !in(named.files, named.n_files, path) && !in_named_dir(path))
		return EACCES;
	return stat(path, st) == 0 ? 0 : errno;
}
