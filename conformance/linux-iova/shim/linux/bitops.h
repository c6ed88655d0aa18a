/*
 * Bit helpers iova.c and iova.h use (bitops.h and log2.h in the kernel),
 * written on GCC builtins. Arguments outside the kernel's documented domain
 * (e.g. __ffs(0)) are undefined there too; the driver never passes them.
 */
#ifndef SHIM_BITOPS_H
#define SHIM_BITOPS_H
#include <linux/types.h>

/* Index of the lowest set bit (0-based); undefined for 0. */
static inline unsigned long __ffs(unsigned long x) { return (unsigned long)__builtin_ctzl(x); }
/* 1-based index of the highest set bit, 0 for 0. */
static inline unsigned int fls_long(unsigned long x) { return x ? 64u - (unsigned int)__builtin_clzl(x) : 0u; }
static inline bool is_power_of_2(unsigned long n) { return n != 0 && (n & (n - 1)) == 0; }
/* ilog2 for n ≥ 1. */
static inline unsigned int shim_ilog2(unsigned long n) { return fls_long(n) - 1; }
/* Smallest power of two ≥ n, for 1 ≤ n ≤ 2^63 (the kernel leaves 0 undefined). */
static inline unsigned long roundup_pow_of_two(unsigned long n) { return 1UL << fls_long(n - 1); }
/* ceil(log2(n)); 0 for n ≤ 1, as the kernel defines it. */
static inline int order_base_2(unsigned long n) { return n > 1 ? (int)shim_ilog2(n - 1) + 1 : 0; }

#endif
