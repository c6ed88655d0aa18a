/* Compiler helpers the kernel headers use; plain GCC here. */
#ifndef SHIM_COMPILER_H
#define SHIM_COMPILER_H

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#ifndef __always_inline
#define __always_inline inline __attribute__((__always_inline__))
#endif
#define __must_check __attribute__((__warn_unused_result__))
#define barrier() __asm__ __volatile__("" ::: "memory")
/* Sparse annotations: nothing to check in userspace. */
#define __percpu
#define __rcu
#define __force

/*
 * One thread only, so a volatile access is all READ_ONCE/WRITE_ONCE need to
 * be: it keeps the compiler from tearing or caching, as in the kernel.
 */
#define READ_ONCE(x) (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, val) do { *(volatile __typeof__(x) *)&(x) = (val); } while (0)

#endif
