/*
 * The only translation unit that includes Linux's drivers/iommu/iova.c
 * (unmodified; build.sh puts its directory on the include path). Being in the
 * same unit gives access to its static types and functions (struct
 * iova_rcache's depot_size, iova_cpuhp_dead) without copying them.
 */
#include "iova.c"
#include "glue.h"

#include <stdlib.h>

struct lx_domain {
	struct iova_domain iovad;
};

int lx_start(void)
{
	return iova_cache_get();
}

void lx_stop(void)
{
	iova_cache_put();
}

struct lx_domain *lx_domain_create(unsigned long granule, unsigned long start_pfn, int *err)
{
	struct lx_domain *d = calloc(1, sizeof(*d));
	int ret;

	if (!d) {
		*err = -ENOMEM;
		return NULL;
	}
	/* What the reference model's init_iova_domain op does (dma-iommu's iommu_dma_init_domain order). */
	init_iova_domain(&d->iovad, granule, start_pfn);
	ret = iova_domain_init_rcaches(&d->iovad);
	if (ret) {
		put_iova_domain(&d->iovad);
		free(d);
		*err = ret;
		return NULL;
	}
	return d;
}

void lx_domain_destroy(struct lx_domain *d)
{
	put_iova_domain(&d->iovad);
	free(d);
}

bool lx_alloc_iova(struct lx_domain *d, unsigned long size, unsigned long limit_pfn, bool size_aligned,
		   unsigned long *pfn_lo, unsigned long *pfn_hi)
{
	struct iova *iova = alloc_iova(&d->iovad, size, limit_pfn, size_aligned);

	if (!iova)
		return false;
	*pfn_lo = iova->pfn_lo;
	*pfn_hi = iova->pfn_hi;
	return true;
}

void lx_free_iova(struct lx_domain *d, unsigned long pfn)
{
	free_iova(&d->iovad, pfn);
}

unsigned long lx_alloc_iova_fast(struct lx_domain *d, unsigned long size, unsigned long limit_pfn, bool flush_rcache)
{
	return alloc_iova_fast(&d->iovad, size, limit_pfn, flush_rcache);
}

void lx_free_iova_fast(struct lx_domain *d, unsigned long pfn, unsigned long size)
{
	free_iova_fast(&d->iovad, pfn, size);
}

bool lx_reserve_iova(struct lx_domain *d, unsigned long lo, unsigned long hi, unsigned long *pfn_lo, unsigned long *pfn_hi)
{
	struct iova *iova = reserve_iova(&d->iovad, lo, hi);

	if (!iova)
		return false;
	*pfn_lo = iova->pfn_lo;
	*pfn_hi = iova->pfn_hi;
	return true;
}

bool lx_find_iova(struct lx_domain *d, unsigned long pfn, unsigned long *pfn_lo, unsigned long *pfn_hi)
{
	struct iova *iova = find_iova(&d->iovad, pfn);

	if (!iova)
		return false;
	*pfn_lo = iova->pfn_lo;
	*pfn_hi = iova->pfn_hi;
	return true;
}

void lx_cpuhp_dead(struct lx_domain *d, unsigned int cpu)
{
	iova_cpuhp_dead(cpu, &d->iovad.cpuhp_dead);
}

bool lx_is_anchor_pfn(struct lx_domain *d, unsigned long pfn)
{
	return find_iova(&d->iovad, pfn) == &d->iovad.anchor;
}

unsigned long lx_iova_shift(struct lx_domain *d)
{
	return iova_shift(&d->iovad);
}

void lx_info(struct lx_domain *d, struct lx_info *out)
{
	struct iova_domain *iovad = &d->iovad;
	unsigned long n = 0;

	out->cached32_node = to_iova(iovad->cached32_node)->pfn_lo;
	out->cached_node = to_iova(iovad->cached_node)->pfn_lo;
	out->max32_alloc_size = iovad->max32_alloc_size;
	/* Linux keeps no count: walk the tree (O(n), a query, not a hot path). */
	for (struct rb_node *node = rb_first(&iovad->rbroot); node; node = rb_next(node))
		n++;
	out->nodes = n;
	out->depot_size = 0;
	for (int i = 0; i < IOVA_RANGE_CACHE_MAX_SIZE; i++)
		out->depot_size += iovad->rcaches[i].depot_size;
}
