/*
 * Spinlocks for one thread: no waiting, but each lock remembers whether it is
 * held, so assert_spin_locked() is a real check and taking a held lock (a
 * self-deadlock in the kernel) is a BUG instead of a hang.
 */
#ifndef SHIM_SPINLOCK_H
#define SHIM_SPINLOCK_H
#include <linux/bug.h>

typedef struct { int held; } spinlock_t;

#define spin_lock_init(l) do { (l)->held = 0; } while (0)
#define spin_lock(l) do { BUG_ON((l)->held); (l)->held = 1; } while (0)
#define spin_unlock(l) do { BUG_ON(!(l)->held); (l)->held = 0; } while (0)
/* No interrupts in userspace: flags only has to exist. */
#define spin_lock_irqsave(l, flags) do { (flags) = 0; spin_lock(l); } while (0)
#define spin_unlock_irqrestore(l, flags) do { (void)(flags); spin_unlock(l); } while (0)
#define assert_spin_locked(l) BUG_ON(!(l)->held)

#endif
