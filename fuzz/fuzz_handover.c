/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the hand-over state's parser
 * (src/ssad/libssa_front/handover_state.c).
 *
 * The input is the contents of a state memfd as a new ssad would read it.
 * Whatever it is, the parser must not read out of bounds, must leave
 * nothing allocated on refusal and must say why; an accepted state must
 * satisfy every bound the format promises, and encode again to a state
 * that parses to the same listeners.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/ssad/libssa_front/handover_state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                  \
	do {                      \
		if (!(c))         \
			abort();  \
	} while (0)

static void check_bounds(const struct ssa_ho_listener *l)
{
	CHECK(l->domain == 2 || l->domain == 10);
	CHECK(l->backlog >= 1 && l->backlog <= 4096 && l->pid > 0);
	CHECK(l->program && strlen(l->program) <= SSA_HO_PATH_MAX);
	CHECK(l->profile && strlen(l->profile) <= SSA_HO_NAME_MAX);
	CHECK(l->alpn_len <= 255 && l->n_disabled <= SSA_HO_MAX_DISABLED);
	CHECK(l->n_ids <= SSA_HO_MAX_IDS);
	for (uint32_t i = 0; i < l->n_ids; i++) {
		CHECK(l->chain[i].pem && strlen(l->chain[i].pem) == l->chain[i].len);
		CHECK(l->key[i].pem && strlen(l->key[i].pem) == l->key[i].len);
	}
	for (uint32_t i = 0; i < l->n_disabled; i++)
		CHECK(l->disabled[i] && *l->disabled[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ssa_ho_state s, t;
	char why[200];
	uint8_t *again;
	size_t len;

	if (ssa_ho_decode(data, size, &s, why, sizeof why) != 0) {
		CHECK(why[0] != '\0' && s.l == NULL && s.n == 0);
		return 0;
	}
	for (uint32_t i = 0; i < s.n; i++)
		check_bounds(&s.l[i]);
	CHECK(ssa_ho_encode(&s, &again, &len) == 0);
	CHECK(ssa_ho_decode(again, len, &t, why, sizeof why) == 0);
	CHECK(t.n == s.n && t.generation == s.generation);
	for (uint32_t i = 0; i < s.n; i++) {
		CHECK(t.l[i].id == s.l[i].id && t.l[i].n_ids == s.l[i].n_ids);
		CHECK(strcmp(t.l[i].program, s.l[i].program) == 0);
	}
	ssa_ho_state_clear(&t);
	ssa_ho_wipe_free(again, len);
	ssa_ho_state_clear(&s);
	return 0;
}
