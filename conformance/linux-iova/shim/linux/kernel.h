/* The grab-bag of kernel.h/minmax.h/list.h helpers that iova.c and iova.h use. */
#ifndef SHIM_KERNEL_H
#define SHIM_KERNEL_H
#include <linux/types.h>
#include <linux/compiler.h>
#include <linux/container_of.h>
#include <linux/bug.h>
#include <linux/bitops.h>
#include <linux/spinlock.h>
#include <linux/mutex.h>
#include <linux/err.h>
#include <linux/errno.h>
#include <linux/printk.h>

/* Evaluate each argument once, as the kernel's minmax.h does (without its type checks). */
#define min(a, b) ({ __typeof__(a) shim_a = (a); __typeof__(b) shim_b = (b); shim_a < shim_b ? shim_a : shim_b; })
#define max(a, b) ({ __typeof__(a) shim_a = (a); __typeof__(b) shim_b = (b); shim_a > shim_b ? shim_a : shim_b; })
#define swap(a, b) do { __typeof__(a) shim_t = (a); (a) = (b); (b) = shim_t; } while (0)

#define ALIGN(x, a) (((x) + ((__typeof__(x))(a) - 1)) & ~((__typeof__(x))(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a) - 1))

/* The platform's page size (init_iova_domain BUG_ONs a granule above it). */
#define PAGE_SIZE (shim_page_size)

#define hlist_entry(ptr, type, member) container_of(ptr, type, member)
#define hlist_entry_safe(ptr, type, member) \
	({ __typeof__(ptr) shim_p = (ptr); shim_p ? hlist_entry(shim_p, type, member) : NULL; })

#endif
