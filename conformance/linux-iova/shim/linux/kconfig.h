/*
 * Force-included before everything (-include), as the kernel build does with
 * its own kconfig.h. Only the options iova.c and rbtree.c look at.
 */
#ifndef SHIM_KCONFIG_H
#define SHIM_KCONFIG_H

/* iova.h declares the real functions only when the allocator is built in. */
#define CONFIG_IOMMU_IOVA 1

/*
 * IS_ENABLED(CONFIG_X): 1 when CONFIG_X is defined to 1, else 0, usable in #if.
 * The placeholder macro turns "1" into an extra argument that shifts the
 * selector, so an undefined option picks the 0.
 */
#define SHIM_PLACEHOLDER_1 0,
#define shim_second_arg(ignored, val, ...) val
#define shim_is_one(x) shim_is_one_(x)
#define shim_is_one_(val) shim_is_one__(SHIM_PLACEHOLDER_##val)
#define shim_is_one__(junk_or_placeholder) shim_second_arg(junk_or_placeholder 1, 0, 0)
#define IS_ENABLED(option) shim_is_one(option)
/* No modules in this program: reachable means built in. */
#define IS_REACHABLE(option) IS_ENABLED(option)

#endif
