/* SPDX-License-Identifier: MIT */
/* The supervisor's descriptor store (fd_store.h). */
#include "fd_store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int ssa_fd_store_add(struct ssa_fd_store *s, const char *name, int fd)
{
	struct stat st;
	struct ssa_fd_entry *e;

	if (fstat(fd, &st) != 0)
		return EBADF;
	for (size_t i = 0; i < s->n; i++) {
		if (s->e[i].dev == st.st_dev && s->e[i].ino == st.st_ino &&
		    strcmp(s->e[i].sd.name, name) == 0) {
			close(fd);
			return 0;
		}
	}
	if (s->n >= SSA_SD_LISTEN_MAX) {
		close(fd);
		return ENOSPC;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;

		e = realloc(s->e, cap * sizeof *e);
		if (!e) {
			close(fd);
			return ENOMEM;
		}
		s->e = e;
		s->cap = cap;
	}
	e = &s->e[s->n++];
	memset(e, 0, sizeof *e);
	e->sd.fd = fd;
	snprintf(e->sd.name, sizeof e->sd.name, "%s", name);
	e->dev = st.st_dev;
	e->ino = st.st_ino;
	return 0;
}

size_t ssa_fd_store_remove(struct ssa_fd_store *s, const char *name)
{
	size_t kept = 0, gone = 0;

	for (size_t i = 0; i < s->n; i++) {
		if (strcmp(s->e[i].sd.name, name) == 0) {
			close(s->e[i].sd.fd);
			gone++;
			continue;
		}
		s->e[kept++] = s->e[i];
	}
	s->n = kept;
	return gone;
}

struct ssa_sd_fd *ssa_fd_store_list(const struct ssa_fd_store *s, size_t *n)
{
	struct ssa_sd_fd *out;

	*n = 0;
	if (!s->n || !(out = calloc(s->n, sizeof *out)))
		return NULL;
	for (size_t i = 0; i < s->n; i++)
		out[i] = s->e[i].sd;
	*n = s->n;
	return out;
}

void ssa_fd_store_clear(struct ssa_fd_store *s)
{
	for (size_t i = 0; i < s->n; i++)
		close(s->e[i].sd.fd);
	free(s->e);
	memset(s, 0, sizeof *s);
}
