/* Kernel integer types on an LP64 host (unsigned long is 64 bits, as on arm64/x86-64). */
#ifndef SHIM_TYPES_H
#define SHIM_TYPES_H
#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>
#include <limits.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int64_t s64;
typedef u64 dma_addr_t;
typedef u64 phys_addr_t;
typedef unsigned int gfp_t;

_Static_assert(sizeof(unsigned long) == 8, "iova.c's pfns are 64-bit unsigned long");

struct hlist_node {
	struct hlist_node *next, **pprev;
};

#endif
