/*
 * The userspace runtime behind the shim headers: memory (slab caches with
 * live counts and fault injection), per-CPU arrays, the CPU hotplug registry,
 * delayed work on model time, and WARN/BUG reporting. Ours, not the kernel's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/cpu.h>
#include <linux/workqueue.h>

unsigned int shim_nr_cpus = 1;
unsigned int shim_cur_cpu;
unsigned long shim_page_size = 4096;
unsigned long shim_jiffies;
jmp_buf *shim_bug_jmp;
struct shim_warning *shim_warnings;
unsigned int shim_nwarnings;
static unsigned int warnings_cap;

void shim_warn(const char *func, int line, const char *text, bool from_shim)
{
	fprintf(stderr, "linux-iova: WARNING in %s (line %d): %s\n", func, line, text);
	if (shim_nwarnings == warnings_cap) {
		unsigned int cap = warnings_cap ? 2 * warnings_cap : 64;
		struct shim_warning *ws = realloc(shim_warnings, cap * sizeof(*ws));
		if (!ws)
			return;   /* out of memory: the warning is only logged */
		shim_warnings = ws;
		warnings_cap = cap;
	}
	struct shim_warning *w = &shim_warnings[shim_nwarnings++];
	w->func = func;
	w->line = line;
	w->from_shim = from_shim;
	snprintf(w->text, sizeof(w->text), "%s", text);
}

void shim_bug(const char *func, int line, const char *text)
{
	fprintf(stderr, "linux-iova: kernel BUG in %s (line %d): %s\n", func, line, text);
	if (shim_bug_jmp)
		longjmp(*shim_bug_jmp, 1);
	abort();
}

/* ---- slab --------------------------------------------------------------------------------- */

struct kmem_cache {
	char name[48];
	size_t size;
	long live;               /* objects allocated and not yet freed */
	unsigned long allocs;    /* allocation attempts, for fault injection */
	unsigned long fail_at;   /* fail allocation number fail_at (0: never) */
	struct kmem_cache *next;
};

/* Per-CPU areas (zeroed, as the kernel's per-CPU allocator returns them). */
static struct kmem_cache percpu_cache = { .name = "percpu" };
/* kmalloc/kcalloc/kfree: a cache of their own so they count and fail like the others. */
static struct kmem_cache kmalloc_cache = { .name = "kmalloc", .next = &percpu_cache };
static struct kmem_cache *caches = &kmalloc_cache;
/* Fault requests for caches not created yet (iova_cache_get creates them later). */
static char pending_fail_name[48];
static unsigned long pending_fail_nth;

static struct kmem_cache *cache_by_name(const char *name)
{
	for (struct kmem_cache *c = caches; c; c = c->next)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

void shim_fail_nth(const char *name, unsigned long nth)
{
	struct kmem_cache *c = cache_by_name(name);

	if (c) {
		c->fail_at = nth ? c->allocs + nth : 0;
		return;
	}
	snprintf(pending_fail_name, sizeof(pending_fail_name), "%s", name);
	pending_fail_nth = nth;
}

long shim_cache_live(const char *name)
{
	struct kmem_cache *c = cache_by_name(name);
	return c ? c->live : 0;
}

/* Every allocation passes here: counts it and decides an injected failure. */
static bool cache_may_allocate(struct kmem_cache *s)
{
	s->allocs++;
	if (s->fail_at && s->allocs == s->fail_at) {
		fprintf(stderr, "linux-iova: injected allocation failure in cache %s (allocation %lu)\n", s->name, s->allocs);
		return false;
	}
	return true;
}

struct kmem_cache *kmem_cache_create(const char *name, unsigned int size, unsigned int align,
				     unsigned int flags, void (*ctor)(void *))
{
	struct kmem_cache *s = calloc(1, sizeof(*s));

	(void)align; (void)flags; (void)ctor;
	if (!s)
		return NULL;
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->size = size;
	if (pending_fail_nth && !strcmp(pending_fail_name, name)) {
		s->fail_at = pending_fail_nth;
		pending_fail_nth = 0;
	}
	s->next = caches;
	caches = s;
	return s;
}

void kmem_cache_destroy(struct kmem_cache *s)
{
	struct kmem_cache **pp;

	if (!s)
		return;
	for (pp = &caches; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	if (s->live)
		fprintf(stderr, "linux-iova: cache %s destroyed with %ld live objects\n", s->name, s->live);
	free(s);
}

void *kmem_cache_alloc(struct kmem_cache *s, gfp_t flags)
{
	void *p;

	(void)flags;
	if (!cache_may_allocate(s) || !(p = malloc(s->size)))
		return NULL;
	/* Poison like slub debugging would, so a read of an unset field is deterministic and visible. */
	memset(p, 0x6b, s->size);
	s->live++;
	return p;
}

void *kmem_cache_zalloc(struct kmem_cache *s, gfp_t flags)
{
	void *p = kmem_cache_alloc(s, flags);

	if (p)
		memset(p, 0, s->size);
	return p;
}

void kmem_cache_free(struct kmem_cache *s, void *obj)
{
	if (!obj) {
		/*
		 * The slab allocator itself does not accept NULL here; 6.12.117's
		 * free_iova_rcaches() passes one after a failed magazine allocation.
		 * Treat it as kfree(NULL) does, and say so.
		 */
		char text[96];
		snprintf(text, sizeof(text), "kmem_cache_free(%s, NULL) ignored", s ? s->name : "?");
		shim_warn(__func__, __LINE__, text, true);
		return;
	}
	s->live--;
	free(obj);
}

void *kcalloc(size_t n, size_t size, gfp_t flags)
{
	void *p;

	(void)flags;
	if (!cache_may_allocate(&kmalloc_cache) || !(p = calloc(n, size)))
		return NULL;
	kmalloc_cache.live++;
	return p;
}

void kfree(const void *obj)
{
	if (!obj)
		return;
	kmalloc_cache.live--;
	free((void *)obj);
}

/* ---- per-CPU ------------------------------------------------------------------------------ */

void *__alloc_percpu(size_t size, size_t align)
{
	void *p;

	(void)align;
	if (!cache_may_allocate(&percpu_cache) || !(p = calloc(shim_nr_cpus, size)))
		return NULL;
	percpu_cache.live++;
	return p;
}

void free_percpu(void *ptr)
{
	if (!ptr)
		return;
	percpu_cache.live--;
	free(ptr);
}

/* ---- CPU hotplug registry ----------------------------------------------------------------- */

static bool cpuhp_set_up;
static long cpuhp_instances;

int cpuhp_setup_state_multi(enum cpuhp_state state, const char *name,
			    int (*startup)(unsigned int, struct hlist_node *),
			    int (*teardown)(unsigned int, struct hlist_node *))
{
	(void)state; (void)name; (void)startup; (void)teardown;
	BUG_ON(cpuhp_set_up);
	cpuhp_set_up = true;
	return 0;
}

void cpuhp_remove_multi_state(enum cpuhp_state state)
{
	(void)state;
	BUG_ON(!cpuhp_set_up || cpuhp_instances);
	cpuhp_set_up = false;
}

int cpuhp_state_add_instance_nocalls(enum cpuhp_state state, struct hlist_node *node)
{
	(void)state;
	BUG_ON(!cpuhp_set_up);
	node->next = NULL;
	node->pprev = &node->next;  /* marks it registered */
	cpuhp_instances++;
	return 0;
}

int cpuhp_state_remove_instance_nocalls(enum cpuhp_state state, struct hlist_node *node)
{
	(void)state;
	/* The kernel tolerates removing an instance that was never added (an init error path). */
	if (node->pprev == &node->next) {
		node->pprev = NULL;
		cpuhp_instances--;
	}
	return 0;
}

/* ---- delayed work on model time ----------------------------------------------------------- */

/* Queued items; few (six per domain at most), so a flat array is enough. */
static struct delayed_work **queue;
static size_t queue_len, queue_cap;
static unsigned long long queue_seq;

bool schedule_delayed_work(struct delayed_work *dw, unsigned long delay)
{
	if (dw->pending)
		return false;
	if (queue_len == queue_cap) {
		size_t cap = queue_cap ? 2 * queue_cap : 16;
		struct delayed_work **q = realloc(queue, cap * sizeof(*q));
		if (!q)
			shim_bug(__func__, __LINE__, "out of memory for the work queue");
		queue = q;
		queue_cap = cap;
	}
	dw->pending = true;
	dw->due = shim_jiffies + delay;
	dw->seq = queue_seq++;
	queue[queue_len++] = dw;
	return true;
}

static void dequeue(size_t i)
{
	queue[i]->pending = false;
	queue[i] = queue[--queue_len];
}

bool cancel_delayed_work_sync(struct delayed_work *dw)
{
	for (size_t i = 0; i < queue_len; i++)
		if (queue[i] == dw) {
			dequeue(i);
			return true;
		}
	return false;
}

unsigned long shim_advance(unsigned long ms)
{
	unsigned long target = shim_jiffies + ms;
	unsigned long ran = 0;

	for (;;) {
		size_t best = queue_len;
		for (size_t i = 0; i < queue_len; i++) {
			struct delayed_work *w = queue[i];
			if (w->due > target)
				continue;
			if (best == queue_len || w->due < queue[best]->due ||
			    (w->due == queue[best]->due && w->seq < queue[best]->seq))
				best = i;
		}
		if (best == queue_len)
			break;
		struct delayed_work *w = queue[best];
		dequeue(best);
		shim_jiffies = w->due;
		w->work.func(&w->work);
		ran++;
	}
	shim_jiffies = target;
	return ran;
}

void shim_reset_time(void)
{
	while (queue_len)
		dequeue(queue_len - 1);
	shim_jiffies = 0;
	queue_seq = 0;
}
