/* SPDX-License-Identifier: MIT */
/* The files the configuration names, opened here or by the supervisor
 * (cfg_files.h). */
#include "cfg_files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>

static int (*remote_open)(const char *path, int *fd);
static int (*remote_stat)(const char *path, struct stat *st);

void ssa_cfg_files_remote(int (*open_fn)(const char *path, int *fd),
			  int (*stat_fn)(const char *path, struct stat *st))
{
	remote_open = open_fn;
	remote_stat = stat_fn;
}

int ssa_cfg_open(const char *path)
{
	int fd = -1, err;

	if (!remote_open)
		return open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if ((err = remote_open(path, &fd)) != 0) {
		errno = err;
		return -1;
	}
	return fd;
}

int ssa_cfg_stat(const char *path, struct stat *st)
{
	int err;

	if (!remote_stat)
		return stat(path, st);
	if ((err = remote_stat(path, st)) != 0) {
		errno = err;
		return -1;
	}
	return 0;
}

/* Add what fd's PEM holds. @return how many objects were added */
static int load_fd(X509_STORE *store, int fd, bool want_certs, bool want_crls)
{
	BIO *b = BIO_new_fd(fd, BIO_NOCLOSE);
	STACK_OF(X509_INFO) *infos = b ? PEM_X509_INFO_read_bio(b, NULL, NULL, NULL) : NULL;
	int added = 0;

	for (int i = 0; infos && i < sk_X509_INFO_num(infos); i++) {
		X509_INFO *in = sk_X509_INFO_value(infos, i);

		if (want_certs && in->x509 && X509_STORE_add_cert(store, in->x509))
			added++;
		if (want_crls && in->crl && X509_STORE_add_crl(store, in->crl))
			added++;
	}
	sk_X509_INFO_pop_free(infos, X509_INFO_free);
	BIO_free(b);
	ERR_clear_error();
	return added;
}

/* Each regular file of the directory open on dfd (path for its names). */
static int load_dir(X509_STORE *store, int dfd, const char *path, bool want_certs,
		    bool want_crls)
{
	DIR *d = fdopendir(dfd);
	struct dirent *e;
	int added = 0;

	if (!d) {
		close(dfd);
		return 0;
	}
	while ((e = readdir(d)) != NULL) {
		char file[PATH_MAX];
		struct stat st;
		int fd;

		if (e->d_name[0] == '.' ||
		    snprintf(file, sizeof file, "%s/%s", path, e->d_name) >= (int)sizeof file)
			continue;
		if ((fd = ssa_cfg_open(file)) < 0)
			continue;
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
			added += load_fd(store, fd, want_certs, want_crls);
		close(fd);
	}
	closedir(d);
	return added;
}

int ssa_cfg_load_pem(X509_STORE *store, const char *path, bool want_certs, bool want_crls,
		     char *why, size_t wlen)
{
	struct stat st;
	int fd = ssa_cfg_open(path), added;

	if (fd < 0 || fstat(fd, &st) != 0) {
		snprintf(why, wlen, "%s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		added = load_dir(store, fd, path, want_certs, want_crls);
	} else {
		added = load_fd(store, fd, want_certs, want_crls);
		close(fd);
	}
	if (!added) {
		snprintf(why, wlen, "no %s in it", want_certs ? "certificate" : "CRL");
		return -1;
	}
	return 0;
}
