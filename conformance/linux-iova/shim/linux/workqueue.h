/*
 * Delayed work on model time: schedule_delayed_work() queues the item for
 * shim_jiffies + delay unless it is already queued (the kernel's PENDING bit),
 * and shim_advance() runs due items in (due, queue order), clearing PENDING
 * before each runs so it may queue itself again (iova_depot_work_func does).
 */
#ifndef SHIM_WORKQUEUE_H
#define SHIM_WORKQUEUE_H
#include <linux/types.h>
#include <linux/jiffies.h>

struct work_struct;
typedef void (*work_func_t)(struct work_struct *work);

struct work_struct {
	work_func_t func;
};

struct delayed_work {
	struct work_struct work;
	/* shim: when it falls due, its place among equal due times, whether queued. */
	unsigned long due;
	unsigned long long seq;
	bool pending;
};

#define INIT_DELAYED_WORK(dw, fn) \
	do { (dw)->work.func = (fn); (dw)->due = 0; (dw)->seq = 0; (dw)->pending = false; } while (0)

bool schedule_delayed_work(struct delayed_work *dw, unsigned long delay);
bool cancel_delayed_work_sync(struct delayed_work *dw);

#endif
