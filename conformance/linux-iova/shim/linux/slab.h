/*
 * Slab caches and kmalloc on malloc (shim_rt.c). Each cache counts its live
 * objects so the driver can check that error paths leak nothing, and any
 * cache can be made to fail its nth allocation (LINUX_IOVA_FAIL).
 *
 * Freeing NULL is a no-op for every free here, as kfree(NULL) is in the kernel:
 * iova.c 6.12.117 hands kmem_cache_free() a NULL magazine on the
 * iova_domain_init_rcaches() error path, which the shim reports as a warning
 * instead of crashing (see README.md).
 */
#ifndef SHIM_SLAB_H
#define SHIM_SLAB_H
#include <linux/types.h>

#define GFP_KERNEL 0x1u
#define GFP_ATOMIC 0x2u
#define __GFP_NOWARN 0x4u
#define SLAB_HWCACHE_ALIGN 0x1u

struct kmem_cache;

struct kmem_cache *kmem_cache_create(const char *name, unsigned int size, unsigned int align,
				     unsigned int flags, void (*ctor)(void *));
void kmem_cache_destroy(struct kmem_cache *s);
void *kmem_cache_alloc(struct kmem_cache *s, gfp_t flags);
void *kmem_cache_zalloc(struct kmem_cache *s, gfp_t flags);
void kmem_cache_free(struct kmem_cache *s, void *obj);
void *kcalloc(size_t n, size_t size, gfp_t flags);
void kfree(const void *obj);

#endif
