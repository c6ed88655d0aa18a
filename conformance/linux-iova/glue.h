/*
 * The narrow interface between the driver program and Linux's iova.c
 * (glue.c is the only translation unit that sees the kernel's types).
 * pfns and sizes are the kernel's unsigned long. Each call may BUG: the
 * caller sets shim_bug_jmp first (shim_rt.h).
 */
#ifndef LINUX_IOVA_GLUE_H
#define LINUX_IOVA_GLUE_H
#include <stdbool.h>

struct lx_domain;

/* iova_cache_get(): once at start-up. Returns 0 or a negative errno. */
int lx_start(void);
/* iova_cache_put(): at the end, after every domain is destroyed. */
void lx_stop(void);

/* init_iova_domain() + iova_domain_init_rcaches(); NULL with *err set on failure. */
struct lx_domain *lx_domain_create(unsigned long granule, unsigned long start_pfn, int *err);
/* put_iova_domain() and free. */
void lx_domain_destroy(struct lx_domain *d);

/* alloc_iova(): true with the range, false for NULL. */
bool lx_alloc_iova(struct lx_domain *d, unsigned long size, unsigned long limit_pfn, bool size_aligned,
		   unsigned long *pfn_lo, unsigned long *pfn_hi);
void lx_free_iova(struct lx_domain *d, unsigned long pfn);
/* alloc_iova_fast(): the pfn, 0 on failure. The current CPU is shim_cur_cpu. */
unsigned long lx_alloc_iova_fast(struct lx_domain *d, unsigned long size, unsigned long limit_pfn, bool flush_rcache);
void lx_free_iova_fast(struct lx_domain *d, unsigned long pfn, unsigned long size);
bool lx_reserve_iova(struct lx_domain *d, unsigned long lo, unsigned long hi, unsigned long *pfn_lo, unsigned long *pfn_hi);
bool lx_find_iova(struct lx_domain *d, unsigned long pfn, unsigned long *pfn_lo, unsigned long *pfn_hi);
/* The allocator's own CPU-dead hotplug callback for @cpu. */
void lx_cpuhp_dead(struct lx_domain *d, unsigned int cpu);
/* True when @pfn lies in the anchor node (freeing it would erase the tree's sentinel). */
bool lx_is_anchor_pfn(struct lx_domain *d, unsigned long pfn);

/* iova_shift(): log2 of the granule. */
unsigned long lx_iova_shift(struct lx_domain *d);

/* What iova_info reports, read from struct iova_domain and its rcaches. */
struct lx_info {
	unsigned long cached32_node;     /* pfn_lo of the node cached32_node points at */
	unsigned long cached_node;       /* pfn_lo of the node cached_node points at */
	unsigned long max32_alloc_size;
	unsigned long nodes;             /* rb-tree nodes, the anchor included */
	unsigned long depot_size;        /* full magazines in the depots of all size classes */
};
void lx_info(struct lx_domain *d, struct lx_info *out);

#endif
