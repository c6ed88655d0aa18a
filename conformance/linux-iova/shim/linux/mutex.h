/* Mutexes for one thread: a held flag, with double locking a BUG (it would deadlock). */
#ifndef SHIM_MUTEX_H
#define SHIM_MUTEX_H
#include <linux/bug.h>

struct mutex { int held; };
#define DEFINE_MUTEX(name) struct mutex name = { 0 }
#define mutex_lock(m) do { BUG_ON((m)->held); (m)->held = 1; } while (0)
#define mutex_unlock(m) do { BUG_ON(!(m)->held); (m)->held = 0; } while (0)

#endif
