/*
 * BUG/WARN. A BUG_ON that fires ends the op with "BUG" (the driver longjmps
 * out and refuses further ops until the next platform reset, as a crashed
 * kernel would); a WARN is recorded and reported as the op's warning.
 */
#ifndef SHIM_BUG_H
#define SHIM_BUG_H
#include <linux/compiler.h>
#include "../shim_rt.h"

#define BUG() shim_bug(__func__, __LINE__, "BUG()")
#define BUG_ON(cond) do { if (unlikely(cond)) shim_bug(__func__, __LINE__, #cond); } while (0)
/* Like the kernel's: evaluates to the condition so callers can branch on it. */
#define WARN_ON(cond) ({ \
	int shim_warn_c = !!(cond); \
	if (unlikely(shim_warn_c)) shim_warn(__func__, __LINE__, #cond, false); \
	unlikely(shim_warn_c); })

/* static_assert(expr) or static_assert(expr, msg), as the kernel's build_bug.h allows. */
#define static_assert(expr, ...) shim_static_assert(expr, ##__VA_ARGS__, #expr)
#define shim_static_assert(expr, msg, ...) _Static_assert(expr, msg)

#endif
