/*
 * The userspace runtime behind the shim headers (shim_rt.c): the machine the
 * kernel code believes it runs on. The driver program sets it up per op
 * (current CPU, CPU count, page size) and drives model time.
 *
 * Plain C types only: the driver includes this without any kernel header.
 */
#ifndef SHIM_RT_H
#define SHIM_RT_H
#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>

/* possible == online CPUs (no hotplug state is kept; see linux/cpumask.h). */
extern unsigned int shim_nr_cpus;
/* The CPU the current call runs on: raw_cpu_ptr() picks its per-CPU copy. */
extern unsigned int shim_cur_cpu;
/* PAGE_SIZE of the simulated platform (4K, 16K or 64K). */
extern unsigned long shim_page_size;
/* Model time in jiffies; HZ is 1000 so a jiffy is the protocol's millisecond. */
extern unsigned long shim_jiffies;

/* Set up by the caller around kernel calls: BUG() longjmps here (else abort). */
extern jmp_buf *shim_bug_jmp;

/* One WARN or shim finding, kept until the driver drains it with the op's result. */
struct shim_warning {
	const char *func;   /* kernel function that warned (__func__) */
	int line;
	char text[160];     /* the condition, or the shim's own message */
	bool from_shim;     /* true: the shim noticed it (e.g. a NULL free), not a WARN_ON */
};
/* Every warning of the current op (a magazine of missing pfns gives 127). */
extern struct shim_warning *shim_warnings;
extern unsigned int shim_nwarnings;
void shim_warn(const char *func, int line, const char *text, bool from_shim);
void shim_bug(const char *func, int line, const char *text) __attribute__((noreturn));

/* Slab caches by name, with live-object counts (leak checks in the driver). */
long shim_cache_live(const char *name);
/*
 * Fault injection: make the nth allocation (1-based, counted from now) from the
 * named cache fail; 0 disables. Read from LINUX_IOVA_FAIL="name:n" at start-up.
 */
void shim_fail_nth(const char *cache_name, unsigned long nth);

/* Runs due delayed work up to now + ms, in due order; returns how many ran. */
unsigned long shim_advance(unsigned long ms);
/* Forgets every queued work item and sets the clock to 0 (platform reset). */
void shim_reset_time(void);

#endif
