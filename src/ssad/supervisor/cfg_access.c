/* SPDX-License-Identifier: MIT */
/* The files the supervisor opens for the worker (cfg_access.h). */
#include "cfg_access.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../common/log.h"
#include "../engine/config.h"

static const char *cfg_path;
static bool cfg_explicit;

/*
 * The paths one version of the configuration names. The supervisor keeps
 * those of the last GENERATIONS versions it handed to the worker (gen[0]
 * the newest), and never drops the one the worker said it runs (it keeps
 * running that one when a newer one fails to load in it, and still
 * stat()s its match-exe executables at each connection).
 */
enum kind {
	FILES, /* may be opened */
	EXES,  /* may be stat()ed */
	DIRS,  /* trust stores: the files directly in them too */
	KEYS,  /* private keys: for the keeper, never the worker */
	KINDS
};

struct names {
	char **list[KINDS];
	size_t n[KINDS];
	uint8_t digest[SSA_CONFIG_DIGEST_LEN]; /* of the bytes read */
	bool running;                          /* the worker said so */
};

#define GENERATIONS 4
static struct names gen[GENERATIONS];
static size_t n_gen;

void ssa_cfg_access_init(const char *config_path, bool explicit_path)
{
	cfg_path = config_path;
	cfg_explicit = explicit_path;
}

static void names_free(struct names *nm)
{
	for (int k = 0; k < KINDS; k++) {
		for (size_t i = 0; i < nm->n[k]; i++)
			free(nm->list[k][i]);
		free(nm->list[k]);
	}
	memset(nm, 0, sizeof *nm);
}

static void add(struct names *nm, enum kind k, const char *path)
{
	char **l;

	if (!path || !*path || !(l = realloc(nm->list[k], (nm->n[k] + 1) * sizeof *l)))
		return;
	nm->list[k] = l;
	if ((l[nm->n[k]] = strdup(path)) != NULL)
		nm->n[k]++;
}

/* The files one set of policy values names. */
static void name_files(struct names *nm, const struct ssa_config *c)
{
	add(nm, FILES, c->trust_store);
	add(nm, DIRS, c->trust_store);
	add(nm, FILES, c->crl_file);
	add(nm, FILES, c->certificate);
	add(nm, KEYS, c->private_key);
}

/* Make nm the newest generation: an older one with the same bytes is
 * replaced (it keeps its running mark); when all are taken, the oldest the
 * worker does not run goes. */
static void push(struct names *nm)
{
	size_t at = n_gen;

	for (size_t g = 0; g < n_gen; g++) {
		if (memcmp(gen[g].digest, nm->digest, sizeof nm->digest) == 0) {
			nm->running = gen[g].running;
			at = g;
			break;
		}
	}
	if (at == n_gen && n_gen == GENERATIONS) {
		at = GENERATIONS - 1;
		while (at > 0 && gen[at].running)
			at--;
	}
	if (at < n_gen)
		names_free(&gen[at]);
	else
		n_gen++;
	memmove(&gen[1], &gen[0], at * sizeof gen[0]);
	gen[0] = *nm;
}

/*
 * The worker is about to read text (n bytes; NULL: no file, the defaults):
 * what it names becomes the newest generation. Text that does not parse
 * names nothing new (the worker's load fails on the same bytes and says
 * why); the older generations stay.
 */
static void learn(char *text, size_t n)
{
	struct ssa_config cfg;
	struct names nm = { 0 };
	char err[256];

	if (text && (n > SSA_CONFIG_MAX_BYTES || memchr(text, '\0', n)))
		return;
	if (ssa_config_digest(text ? text : "", text ? n : 0, nm.digest) != 0 ||
	    ssa_config_defaults(&cfg) != 0)
		return;
	if (text) {
		text[n] = '\0';
		if (ssa_config_parse_string(text, cfg_path, &cfg, err, sizeof err) != 0) {
			ssa_config_free(&cfg);
			return;
		}
	}
	name_files(&nm, &cfg);
	for (int i = 0; i < cfg.n_profiles; i++) {
		add(&nm, EXES, cfg.profiles[i].match_exe);
		name_files(&nm, &cfg.profiles[i].cfg); /* [global] overlaid with its own */
	}
	ssa_config_free(&cfg);
	push(&nm);
}

void ssa_cfg_access_running(const uint8_t digest[SSA_CONFIG_DIGEST_LEN])
{
	for (size_t g = 0; g < n_gen; g++)
		gen[g].running = memcmp(gen[g].digest, digest, SSA_CONFIG_DIGEST_LEN) == 0;
}

void ssa_cfg_access_forget(void)
{
	for (size_t g = 0; g < n_gen; g++)
		names_free(&gen[g]);
	n_gen = 0;
}

/* Whether a kept generation names path as k. */
static bool named(enum kind k, const char *path)
{
	for (size_t g = 0; g < n_gen; g++)
		for (size_t i = 0; i < gen[g].n[k]; i++)
			if (strcmp(gen[g].list[k][i], path) == 0)
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
	for (size_t g = 0; g < n_gen; g++)
		for (size_t i = 0; i < gen[g].n[DIRS]; i++)
			if (strlen(gen[g].list[DIRS][i]) == dl &&
			    memcmp(gen[g].list[DIRS][i], path, dl) == 0)
				return true;
	return false;
}

/* Read all of fd, up to max + 1 bytes, into a buffer of max + 2.
 * @retval 0 with *text and *n, or an errno */
static int read_all(int fd, size_t max, char **text, size_t *n)
{
	char *buf = malloc(max + 2);
	size_t got = 0;

	if (!buf)
		return ENOMEM;
	while (got < max + 1) {
		ssize_t r = read(fd, buf + got, max + 1 - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int err = errno;

			free(buf);
			return err;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	*text = buf;
	*n = got;
	return 0;
}

/* A sealed in-memory copy of text (n bytes), read from its start. */
static int sealed_copy(const char *text, size_t n, int *fd)
{
	int m = memfd_create("ssa.conf", MFD_CLOEXEC | MFD_ALLOW_SEALING), err;
	size_t off = 0;

	if (m < 0)
		return errno;
	while (off < n) {
		ssize_t w = write(m, text + off, n - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			err = w < 0 ? errno : EIO;
			close(m);
			return err;
		}
		off += (size_t)w;
	}
	if (fcntl(m, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0 ||
	    lseek(m, 0, SEEK_SET) != 0) {
		err = errno;
		close(m);
		return err;
	}
	*fd = m;
	return 0;
}

/*
 * The configuration file for the worker: read here once; what those bytes
 * name is learnt from them, and the worker gets a sealed copy of the same
 * bytes. An edit between the worker's read and its next request (a
 * configuration saved while ssad starts or reloads) cannot refuse it the
 * files of the version it loads, and an edit not yet reloaded changes
 * nothing it may open. Up to SSA_CONFIG_MAX_BYTES + 1 bytes are passed on
 * (the worker refuses a larger file, and says so).
 */
static int open_config(int *fd)
{
	struct stat st;
	char *text = NULL;
	size_t n = 0;
	int in = open(cfg_path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK), err;

	if (in < 0) {
		err = errno;
		if (err == ENOENT && !cfg_explicit)
			learn(NULL, 0); /* the worker runs on the defaults */
		return err;
	}
	if (fstat(in, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(in);
		return EINVAL;
	}
	err = read_all(in, SSA_CONFIG_MAX_BYTES, &text, &n);
	close(in);
	if (err)
		return err;
	if ((err = sealed_copy(text, n, fd)) == 0)
		learn(text, n);
	free(text);
	return err;
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
	if (!named(KEYS, path))
		return EACCES;
	return open_ro(path, fd);
}

int ssa_cfg_access_open(const char *path, int *fd)
{
	*fd = -1;
	if (strcmp(path, cfg_path) == 0)
		return open_config(fd);
	if (named(KEYS, path)) {
		log_limited(SSA_LOG_WARN, 0, 1, 1, "supervisor: the worker asked to open %s, "
			    "a private key of the configuration (only the key keeper reads it); "
			    "refused", path);
		return EACCES;
	}
	if (!named(FILES, path) && !in_named_dir(path)) {
		log_limited(SSA_LOG_WARN, 0, 1, 1, "supervisor: the worker asked for %s, "
			    "which the configuration does not name; refused", path);
		return EACCES;
	}
	return open_ro(path, fd);
}

int ssa_cfg_access_stat(const char *path, struct stat *st)
{
	if (strcmp(path, cfg_path) != 0 && !named(EXES, path) && !named(FILES, path) &&
	    !in_named_dir(path))
		return EACCES;
	return stat(path, st) == 0 ? 0 : errno;
}
