/* SPDX-License-Identifier: MIT */
/* ssa-run: run a program with the SSA userspace front end preloaded. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef SSA_LIBDIR
#define SSA_LIBDIR "/usr/local/lib"
#endif

static void usage(FILE *f)
{
	fprintf(f, "Usage: ssa-run [--] PROGRAM [ARG]...\n"
		   "Run PROGRAM with libssa preloaded, so that socket(..., IPPROTO_TLS)\n"
		   "works through the SSA daemon (found through SSA_SOCKET or "
		   "/run/ssa/ssad.sock).\n");
}

/* libssa.so next to this program (../lib), else the installed one. */
static int find_lib(char *out, size_t len)
{
	char self[PATH_MAX - 32];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);

	if (n > 0) {
		char *slash;

		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			int w = snprintf(out, len, "%s/../lib/libssa.so", self);

			if (w > 0 && (size_t)w < len && access(out, R_OK) == 0)
				return 0;
		}
	}
	snprintf(out, len, "%s/libssa.so", SSA_LIBDIR);
	return access(out, R_OK) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	char lib[PATH_MAX + 32], *pre;
	const char *old;
	int first = 1, rc;

	if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		usage(stdout);
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "--") == 0)
		first = 2;
	if (first >= argc) {
		usage(stderr);
		return 2;
	}
	if (find_lib(lib, sizeof lib) != 0) {
		fprintf(stderr, "ssa-run: libssa.so not found (looked next to ssa-run and in %s)\n",
			SSA_LIBDIR);
		return 127;
	}
	old = getenv("LD_PRELOAD");
	if (old && *old) {
		size_t n = strlen(lib) + strlen(old) + 2;

		pre = malloc(n);
		if (!pre)
			return 127;
		/* Sanitizer runtimes must stay first: keep the old list in front. */
		snprintf(pre, n, "%s:%s", old, lib);
	} else {
		pre = lib;
	}
	rc = setenv("LD_PRELOAD", pre, 1);
	if (pre != lib)
		free(pre); /* setenv copied it */
	if (rc != 0) {
		perror("ssa-run: setenv");
		return 127;
	}
	execvp(argv[first], argv + first);
	fprintf(stderr, "ssa-run: %s: %s\n", argv[first], strerror(errno));
	return errno == ENOENT ? 127 : 126;
}
