/* SPDX-License-Identifier: MIT */
/* The deterministic byte stream bulk_client and bulk_server both produce
 * and check (splitmix64, 8 bytes little-endian per step): one definition,
 * so the two sides cannot drift apart. */
#ifndef SSA_BULK_GEN_H
#define SSA_BULK_GEN_H

#include <stddef.h>
#include <stdint.h>

struct gen {
	uint64_t s;
	uint8_t b[8];
	unsigned avail; /* unused bytes left in b, taken from its end */
};

static inline uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline void gen_init(struct gen *g, uint64_t seed)
{
	g->s = seed;
	g->avail = 0;
}

static inline void gen_fill(struct gen *g, uint8_t *p, size_t len)
{
	while (len) {
		if (!g->avail) {
			uint64_t v = splitmix64(&g->s);

			for (int i = 0; i < 8; i++)
				g->b[i] = (uint8_t)(v >> (8 * i));
			g->avail = 8;
		}
		*p++ = g->b[8 - g->avail--];
		len--;
	}
}

#endif
