/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the per-user accounting of key keeper slots
 * (src/ssad/engine/key_slots.c): a user gets exactly max slots, the next
 * is refused with ENOBUFS and a reason, another user is not affected,
 * released slots can be taken again, and max 0 charges without a bound.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/ssad/engine/key_slots.h"

static void cap_binds_per_user(void **state)
{
	struct ssa_key_owner a = { .uid = 1001, .max = 3, .pid = 1 };
	struct ssa_key_owner b = { .uid = 1002, .max = 3, .pid = 2 };
	char why[200] = "";

	(void)state;
	for (int i = 0; i < 3; i++)
		assert_int_equal(ssa_key_slots_take(&a, why, sizeof why), 0);
	assert_int_equal(ssa_key_slots_held(1001), 3);
	/* the fourth of a is refused, with a reason naming the limit */
	assert_int_equal(ssa_key_slots_take(&a, why, sizeof why), ENOBUFS);
	assert_non_null(strstr(why, "max-keys-per-user = 3"));
	assert_int_equal(ssa_key_slots_held(1001), 3);
	/* control: b is not affected */
	assert_int_equal(ssa_key_slots_take(&b, why, sizeof why), 0);
	assert_int_equal(ssa_key_slots_held(1002), 1);
	/* a released slot can be taken again */
	ssa_key_slots_put(1001);
	assert_int_equal(ssa_key_slots_held(1001), 2);
	assert_int_equal(ssa_key_slots_take(&a, why, sizeof why), 0);
	for (int i = 0; i < 3; i++)
		ssa_key_slots_put(1001);
	ssa_key_slots_put(1002);
	assert_int_equal(ssa_key_slots_held(1001), 0);
	assert_int_equal(ssa_key_slots_held(1002), 0);
}

static void max_zero_is_unbounded(void **state)
{
	struct ssa_key_owner a = { .uid = 1003, .max = 0 };
	char why[200];

	(void)state;
	for (int i = 0; i < 1000; i++)
		assert_int_equal(ssa_key_slots_take(&a, why, sizeof why), 0);
	assert_int_equal(ssa_key_slots_held(1003), 1000);
	for (int i = 0; i < 1000; i++)
		ssa_key_slots_put(1003);
	assert_int_equal(ssa_key_slots_held(1003), 0);
}

/* Many users at once: records come and go without mixing counts up. */
static void many_users(void **state)
{
	char why[200];

	(void)state;
	for (uid_t u = 0; u < 100; u++) {
		struct ssa_key_owner o = { .uid = u, .max = 2 };

		assert_int_equal(ssa_key_slots_take(&o, why, sizeof why), 0);
		assert_int_equal(ssa_key_slots_take(&o, why, sizeof why), 0);
		assert_int_equal(ssa_key_slots_take(&o, why, sizeof why), ENOBUFS);
	}
	for (uid_t u = 0; u < 100; u += 2)
		ssa_key_slots_put(u);
	for (uid_t u = 0; u < 100; u++)
		assert_int_equal(ssa_key_slots_held(u), u % 2 ? 2u : 1u);
	for (uid_t u = 0; u < 100; u++) {
		ssa_key_slots_put(u);
		if (u % 2)
			ssa_key_slots_put(u);
		assert_int_equal(ssa_key_slots_held(u), 0);
	}
}

static void *taker(void *arg)
{
	struct ssa_key_owner o = { .uid = 2000, .max = 100000 };
	char why[200];

	(void)arg;
	for (int i = 0; i < 10000; i++) {
		if (ssa_key_slots_take(&o, why, sizeof why) == 0)
			ssa_key_slots_put(2000);
	}
	return NULL;
}

/* Takes and puts from several threads balance out (the lock holds). */
static void threads_balance(void **state)
{
	pthread_t t[4];

	(void)state;
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, taker, NULL), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(ssa_key_slots_held(2000), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cap_binds_per_user),
		cmocka_unit_test(max_zero_is_unbounded),
		cmocka_unit_test(many_users),
		cmocka_unit_test(threads_balance),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
