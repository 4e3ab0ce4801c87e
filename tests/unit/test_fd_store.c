/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of ssad's supervisor's descriptor store
 * (src/ssad/supervisor/fd_store.c): descriptors are kept under their names
 * and listed in order; the same open file under the same name is kept once
 * (the duplicate is closed), under another name twice; a descriptor that is
 * not open is refused with EBADF; removing a name closes exactly its
 * descriptors; clearing closes everything; an empty store lists nothing.
 * Whether a descriptor is closed is read with fcntl(F_GETFD), right after
 * the call (before anything else could reuse its number).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../src/ssad/supervisor/fd_store.h"

static bool is_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

/* A new open file (the read end of a pipe; the write end is closed). */
static int new_file(void)
{
	int p[2];

	assert_int_equal(pipe(p), 0);
	close(p[1]);
	return p[0];
}

static void add_and_list(void **state)
{
	struct ssa_fd_store s = { 0 };
	struct ssa_sd_fd *l;
	int a = new_file(), b = new_file();
	size_t n = 99;

	(void)state;
	assert_null(ssa_fd_store_list(&s, &n));
	assert_int_equal(n, 0);
	assert_int_equal(ssa_fd_store_add(&s, "ssa-listen-1", a), 0);
	assert_int_equal(ssa_fd_store_add(&s, "ssa-state-1", b), 0);
	l = ssa_fd_store_list(&s, &n);
	assert_non_null(l);
	assert_int_equal(n, 2);
	assert_int_equal(l[0].fd, a);
	assert_string_equal(l[0].name, "ssa-listen-1");
	assert_int_equal(l[1].fd, b);
	assert_string_equal(l[1].name, "ssa-state-1");
	free(l);
	/* the list is a copy: the store still owns both */
	assert_true(is_open(a) && is_open(b));
	ssa_fd_store_clear(&s);
	assert_false(is_open(a));
	assert_false(is_open(b));
	assert_int_equal(s.n, 0);
	assert_null(s.e);
}

static void same_file_once(void **state)
{
	struct ssa_fd_store s = { 0 };
	struct ssa_sd_fd *l;
	int a = new_file(), d1 = dup(a), d2 = dup(a);
	size_t n;

	(void)state;
	assert_int_equal(ssa_fd_store_add(&s, "x", a), 0);
	assert_int_equal(ssa_fd_store_add(&s, "x", d1), 0);
	assert_false(is_open(d1)); /* kept once: the duplicate is closed */
	assert_int_equal(s.n, 1);
	/* the same open file under another name is another entry */
	assert_int_equal(ssa_fd_store_add(&s, "y", d2), 0);
	assert_true(is_open(d2));
	l = ssa_fd_store_list(&s, &n);
	assert_int_equal(n, 2);
	assert_int_equal(l[0].fd, a);
	assert_int_equal(l[1].fd, d2);
	free(l);
	ssa_fd_store_clear(&s);
	assert_false(is_open(a) || is_open(d2));
}

static void not_open(void **state)
{
	struct ssa_fd_store s = { 0 };
	int a = new_file();
	size_t n;

	(void)state;
	close(a);
	assert_int_equal(ssa_fd_store_add(&s, "x", a), EBADF);
	assert_int_equal(ssa_fd_store_add(&s, "x", -1), EBADF);
	assert_null(ssa_fd_store_list(&s, &n));
	assert_int_equal(n, 0);
	ssa_fd_store_clear(&s);
}

static void remove_by_name(void **state)
{
	struct ssa_fd_store s = { 0 };
	struct ssa_sd_fd *l;
	int a = new_file(), b = new_file(), c = new_file();
	size_t n;

	(void)state;
	assert_int_equal(ssa_fd_store_add(&s, "l", a), 0);
	assert_int_equal(ssa_fd_store_add(&s, "k", b), 0);
	assert_int_equal(ssa_fd_store_add(&s, "l", c), 0);
	assert_int_equal(ssa_fd_store_remove(&s, "none"), 0);
	assert_int_equal(ssa_fd_store_remove(&s, "l"), 2);
	assert_false(is_open(a));
	assert_false(is_open(c));
	assert_true(is_open(b));
	l = ssa_fd_store_list(&s, &n);
	assert_int_equal(n, 1);
	assert_int_equal(l[0].fd, b);
	assert_string_equal(l[0].name, "k");
	free(l);
	assert_int_equal(ssa_fd_store_remove(&s, "k"), 1);
	assert_false(is_open(b));
	assert_null(ssa_fd_store_list(&s, &n));
	ssa_fd_store_clear(&s);
}

static void grows(void **state)
{
	struct ssa_fd_store s = { 0 };
	struct ssa_sd_fd *l;
	int fds[100];
	size_t n;

	(void)state;
	/* past the first allocation (16) several times */
	for (int i = 0; i < 100; i++) {
		fds[i] = new_file();
		assert_int_equal(ssa_fd_store_add(&s, i % 2 ? "odd" : "even", fds[i]), 0);
	}
	l = ssa_fd_store_list(&s, &n);
	assert_int_equal(n, 100);
	for (int i = 0; i < 100; i++) {
		assert_int_equal(l[i].fd, fds[i]);
		assert_string_equal(l[i].name, i % 2 ? "odd" : "even");
	}
	free(l);
	assert_int_equal(ssa_fd_store_remove(&s, "odd"), 50);
	for (int i = 0; i < 100; i++)
		assert_int_equal(is_open(fds[i]), i % 2 == 0);
	ssa_fd_store_clear(&s);
	for (int i = 0; i < 100; i++)
		assert_false(is_open(fds[i]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(add_and_list), cmocka_unit_test(same_file_once),
		cmocka_unit_test(not_open),     cmocka_unit_test(remove_by_name),
		cmocka_unit_test(grows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
