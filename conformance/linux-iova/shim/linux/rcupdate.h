/*
 * RCU publication for rbtree.h. A single-threaded program has no readers to
 * order against, so publishing is a plain (volatile) store.
 */
#ifndef SHIM_RCUPDATE_H
#define SHIM_RCUPDATE_H
#include <linux/compiler.h>

#define rcu_assign_pointer(p, v) WRITE_ONCE(p, v)
#define rcu_dereference_raw(p) READ_ONCE(p)

#endif
