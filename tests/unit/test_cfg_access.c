/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of what ssad's supervisor opens for its worker
 * (src/ssad/supervisor/cfg_access.c): the configuration file itself; the
 * files it names (trust store, CRL file, a profile's certificate); the
 * files directly inside a trust-store directory, but not "..", dot-files
 * or anything outside; never a private key for the worker (only for the
 * keeper, ssa_cfg_access_key()), and no file the configuration does not
 * name (/etc/shadow, a key file of another configuration). stat() only of
 * match-exe executables and openable files. What the worker may open is
 * what the version it last read names (and the three before it): an edit
 * not yet read changes nothing, the worker gets the very bytes the
 * supervisor learnt from, and text that does not parse takes nothing away.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../src/ssad/supervisor/cfg_access.h"

static char dir[64], conf[128], trust[128], tdir[128], crl[128], cert[128], key[128],
	    other[128];

static void touch(const char *path)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs("x\n", f);
	fclose(f);
}

static void write_conf(const char *extra)
{
	FILE *f = fopen(conf, "w");

	assert_non_null(f);
	fprintf(f, "[global]\ntrust-store = %s\ncrl-file = %s\n%s", trust, crl, extra);
	fclose(f);
}

static int setup(void **state)
{
	char prof[512];

	(void)state;
	snprintf(dir, sizeof dir, "/tmp/cfg-access.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(conf, sizeof conf, "%s/ssa.conf", dir);
	snprintf(trust, sizeof trust, "%s/trust.pem", dir);
	snprintf(tdir, sizeof tdir, "%s/cas", dir);
	snprintf(crl, sizeof crl, "%s/crl.pem", dir);
	snprintf(cert, sizeof cert, "%s/cert.pem", dir);
	snprintf(key, sizeof key, "%s/key.pem", dir);
	snprintf(other, sizeof other, "%s/other.key", dir);
	assert_int_equal(mkdir(tdir, 0755), 0);
	touch(trust);
	touch(crl);
	touch(cert);
	touch(key);
	touch(other);
	snprintf(prof, sizeof prof, "[app \"web\"]\nmatch-exe = /bin/sh\nmatch-user = root\ntrust-store = %s\n"
		 "certificate = %s\nprivate-key = %s\n", tdir, cert, key);
	{
		char p[192];

		snprintf(p, sizeof p, "%s/ca1.pem", tdir);
		touch(p);
		snprintf(p, sizeof p, "%s/.hidden", tdir);
		touch(p);
	}
	write_conf(prof);
	ssa_cfg_access_init(conf, true);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int opens(const char *path)
{
	int fd = -1, err = ssa_cfg_access_open(path, &fd);

	if (fd >= 0)
		close(fd);
	assert_true(err != 0 || fd >= 0);
	return err;
}

static void named_files_open(void **state)
{
	char p[192];

	(void)state;
	assert_int_equal(opens(conf), 0);
	assert_int_equal(opens(trust), 0);
	assert_int_equal(opens(crl), 0);
	assert_int_equal(opens(cert), 0);
	assert_int_equal(opens(tdir), 0);
	snprintf(p, sizeof p, "%s/ca1.pem", tdir);
	assert_int_equal(opens(p), 0);
}

static void keys_never_for_the_worker(void **state)
{
	int fd = -1;

	(void)state;
	assert_int_equal(opens(key), EACCES);
	assert_int_equal(ssa_cfg_access_key(key, &fd), 0);
	assert_true(fd >= 0);
	close(fd);
	fd = -1;
	assert_int_equal(ssa_cfg_access_key(cert, &fd), EACCES); /* not a key */
	assert_int_equal(fd, -1);
	assert_int_equal(ssa_cfg_access_key(other, &fd), EACCES);
}

static void unnamed_refused(void **state)
{
	char p[192];
	struct stat st;

	(void)state;
	assert_int_equal(opens("/etc/shadow"), EACCES);
	assert_int_equal(opens(other), EACCES);
	snprintf(p, sizeof p, "%s/../other.key", tdir);
	assert_int_equal(opens(p), EACCES);
	snprintf(p, sizeof p, "%s/.hidden", tdir);
	assert_int_equal(opens(p), EACCES);
	snprintf(p, sizeof p, "%s/x/ca1.pem", tdir);
	assert_int_equal(opens(p), EACCES);
	assert_int_equal(ssa_cfg_access_stat("/bin/sh", &st), 0);
	assert_int_equal(ssa_cfg_access_stat("/bin/ls", &st), EACCES);
	assert_int_equal(ssa_cfg_access_stat(key, &st), EACCES);
}

static void write_raw(const char *text)
{
	FILE *f = fopen(conf, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* The worker reads what the supervisor learnt from, whatever the file
 * holds by then; a later edit changes nothing until it is read. */
static void the_version_read_counts(void **state)
{
	char buf[64] = { 0 };
	int fd = -1;

	(void)state;
	assert_int_equal(ssa_cfg_access_open(conf, &fd), 0);
	write_raw("[global]\ntrust-store = /etc/shadow\n");
	assert_int_equal(read(fd, buf, 9), 9);
	assert_string_equal(buf, "[global]\n");
	assert_int_equal(write(fd, "x", 1), -1); /* sealed */
	close(fd);
	assert_int_equal(opens(cert), 0);
	assert_int_equal(opens("/etc/shadow"), EACCES);
	/* text that does not parse names nothing new, and removes nothing */
	write_raw("[global\n");
	assert_int_equal(opens(conf), 0);
	assert_int_equal(opens(cert), 0);
	assert_int_equal(opens("/etc/shadow"), EACCES);
}

static void older_versions_expire(void **state)
{
	(void)state;
	write_conf("");
	assert_int_equal(opens(conf), 0);
	/* the version before (a profile's certificate) may still be the
	 * worker's, when it refused this one */
	assert_int_equal(opens(cert), 0);
	for (int i = 0; i < 3; i++) {
		char extra[32];

		snprintf(extra, sizeof extra, "# version %d\n", i);
		write_conf(extra);
		assert_int_equal(opens(conf), 0);
	}
	assert_int_equal(opens(cert), EACCES);
	assert_int_equal(opens(trust), 0);
}

/* The version the worker runs stays allowed however many newer ones it
 * refused; a new worker starts with none. */
static void running_version_kept(void **state)
{
	uint8_t digest[32];
	char text[1024];
	FILE *f;
	size_t n;

	(void)state;
	write_conf("[app \"web\"]\nmatch-exe = /bin/sh\n");
	assert_int_equal(opens(conf), 0);
	f = fopen(conf, "r");
	assert_non_null(f);
	n = fread(text, 1, sizeof text, f);
	fclose(f);
	assert_int_equal(ssa_config_digest(text, n, digest), 0);
	ssa_cfg_access_running(digest);
	for (int i = 0; i < 6; i++) {
		char extra[64];
		struct stat st;

		snprintf(extra, sizeof extra, "# refused version %d\n", i);
		write_conf(extra);
		assert_int_equal(opens(conf), 0);
		assert_int_equal(ssa_cfg_access_stat("/bin/sh", &st), 0);
	}
	/* the same bytes again are one generation, not two */
	ssa_cfg_access_running((const uint8_t[32]){ 0 }); /* runs none of them */
	for (int i = 0; i < 4; i++) {
		write_conf("# the same\n");
		assert_int_equal(opens(conf), 0);
	}
	{
		struct stat st;

		assert_int_equal(ssa_cfg_access_stat("/bin/sh", &st), EACCES);
	}
	ssa_cfg_access_forget();
	assert_int_equal(opens(trust), EACCES);
	assert_int_equal(opens(conf), 0);
	assert_int_equal(opens(trust), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(named_files_open),
		cmocka_unit_test(keys_never_for_the_worker),
		cmocka_unit_test(unnamed_refused),
		cmocka_unit_test(the_version_read_counts),
		cmocka_unit_test(older_versions_expire),
		cmocka_unit_test(running_version_kept),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
