/**
 * Per-CPU IOVA range caches (drivers/iommu/iova.c 6.12, the "magazine" half):
 * six size classes, each with a loaded and a prev magazine per CPU and a global
 * depot of full magazines that delayed work trims. iommu.md §2.9.
 *
 * A magazine is a bigint[] used as a stack: index 0 is the bottom, the last
 * element the top. Order inside a magazine is address-determining (the pop
 * with a limit swaps the top into the hole, and emptying goes bottom-up), so it
 * is kept exactly as the kernel keeps it.
 *
 * model: no locking; the kernel takes the per-CPU and depot spinlocks here.
 * model: magazines are arrays; the kernel's depot reuses the size word as a
 * list link, which is not observable.
 */
import {
  IOVA_DEPOT_DELAY_MS, IOVA_MAG_SIZE, IOVA_RANGE_CACHE_MAX_SIZE, order_base_2, u64,
  type IovaRcacheView, type IovaStats, type IovaTimers,
} from './iova-types';
import type { Faults } from '../faults';

/** What the caches need from their domain: the tree side of iova.c. */
export interface IovaRcacheHost {
  /**
   * iova_magazine_free_pfns() minus the reset: for each pfn, bottom first, find
   * its node and remove it from the tree (§2.6 updates included); WARN and skip
   * a pfn that has no node.
   */
  free_pfns(pfns: readonly bigint[]): void;
  /** num_online_cpus(). */
  num_online_cpus(): number;
}

export interface IovaRcachesOptions {
  readonly ncpus: number;
  readonly timers: IovaTimers;
  readonly stats: IovaStats;
  readonly host: IovaRcacheHost;
  /** Fault injection: return true to make iova_magazine_alloc(GFP_ATOMIC) fail (iommu.md §6.4). */
  readonly fail_magazine_alloc?: (() => boolean) | undefined;
  /** Planted faults (src/faults.ts); absent in unit tests. */
  readonly faults?: Faults;
}

/** struct iova_cpu_rcache. */
interface CpuRcache {
  loaded: bigint[];
  prev: bigint[];
}

/** struct iova_rcache: one size class. */
class IovaRcache implements IovaRcacheView {
  readonly cpu_rcaches: CpuRcache[] = [];
  /** Oldest first; iova_depot_push/pop work at the end (the kernel's list head). */
  readonly depot: bigint[][] = [];
  depot_work_pending = false;

  constructor(readonly order: number, ncpus: number) {
    for (let cpu = 0; cpu < ncpus; cpu++) this.cpu_rcaches.push({ loaded: [], prev: [] });
  }

  loaded(cpu: number): readonly bigint[] {
    return this.cpu_rcaches[cpu]!.loaded;
  }

  prev(cpu: number): readonly bigint[] {
    return this.cpu_rcaches[cpu]!.prev;
  }
}

/**
 * iova_magazine_pop() - take the topmost pfn that is ≤ limit_pfn.
 * @mag: a non-empty magazine
 * @limit_pfn: highest acceptable start pfn
 * Returns the pfn, or 0 when none qualifies (the magazine is then unchanged).
 * The hole is filled with the top element, so [A, B, C] with only C above the
 * limit yields B and leaves [A, C] (iommu.md §2.9 Get step 3).
 */
function iova_magazine_pop(mag: bigint[], limit_pfn: bigint): bigint {
  let i = mag.length - 1;
  while (mag[i]! > limit_pfn) {
    if (i === 0) return 0n;
    i--;
  }
  const pfn = mag[i]!;
  mag[i] = mag[mag.length - 1]!;
  mag.length--;
  return pfn;
}

/** The IOVA_RANGE_CACHE_MAX_SIZE range caches of one domain (iovad->rcaches). */
export class IovaRcaches {
  readonly rcaches: readonly IovaRcache[];
  private readonly timers: IovaTimers;
  private readonly stats: IovaStats;
  private readonly host: IovaRcacheHost;
  private readonly fail_magazine_alloc: (() => boolean) | undefined;
  private readonly faults: Faults;
  /** Set by free_iova_rcaches: queued depot work then does nothing (cancel_delayed_work_sync). */
  private dead = false;

  /** iova_domain_init_rcaches(): an empty loaded and prev magazine per class and possible CPU. */
  constructor(opts: IovaRcachesOptions) {
    const rcaches: IovaRcache[] = [];
    for (let i = 0; i < IOVA_RANGE_CACHE_MAX_SIZE; i++) rcaches.push(new IovaRcache(i, opts.ncpus));
    this.rcaches = rcaches;
    this.timers = opts.timers;
    this.stats = opts.stats;
    this.host = opts.host;
    this.fail_magazine_alloc = opts.fail_magazine_alloc;
    this.faults = opts.faults;
  }

  /**
   * iova_rcache_insert() - cache a freed range on @cpu.
   * @cpu: the CPU the free runs on
   * @pfn: start of the range
   * @size: its size in pfns as the caller passes it (the class is order_base_2(size))
   * Returns false when the range was not cached: class ≥ IOVA_RANGE_CACHE_MAX_SIZE,
   * or both magazines full and a new magazine could not be allocated.
   */
  insert(cpu: number, pfn: bigint, size: bigint): boolean {
    const log_size = order_base_2(size);
    if (log_size >= IOVA_RANGE_CACHE_MAX_SIZE) return false;
    const rcache = this.rcaches[log_size]!;
    const c = rcache.cpu_rcaches[cpu]!;
    if (c.loaded.length === IOVA_MAG_SIZE) {
      if (c.prev.length < IOVA_MAG_SIZE) {
        const t = c.prev;
        c.prev = c.loaded;
        c.loaded = t;
        if (this.faults?.has('rcache-swap-loses-pfn')) return true;
      } else {
        // Both full: the loaded magazine goes to the depot, a fresh one replaces it (§2.9 Insert step 4).
        if (this.fail_magazine_alloc?.()) {
          this.stats.magazine_alloc_failures++;
          return false;
        }
        rcache.depot.push(c.loaded);
        this.stats.depot_pushes++;
        this.schedule_depot_work(rcache);
        c.loaded = [];
      }
    }
    c.loaded.push(pfn);
    if (this.faults?.has('rcache-double-insert') && c.loaded.length < IOVA_MAG_SIZE) c.loaded.push(pfn);
    return true;
  }

  /**
   * iova_rcache_get() - take a cached range of @size pfns on @cpu.
   * @cpu: the CPU the allocation runs on
   * @size: the rounded size in pfns
   * @limit_pfn: exclusive limit (alloc_iova_fast passes limit_pfn + 1)
   * Returns the start pfn, or 0 for a miss. Only one magazine is searched: a
   * limit miss in it does not try prev or the depot (§2.9 Get).
   * The search limit wraps like the kernel's unsigned limit_pfn - size.
   */
  get(cpu: number, size: bigint, limit_pfn: bigint): bigint {
    const log_size = order_base_2(size);
    if (log_size >= IOVA_RANGE_CACHE_MAX_SIZE) return 0n;
    const rcache = this.rcaches[log_size]!;
    const c = rcache.cpu_rcaches[cpu]!;
    if (c.loaded.length === 0) {
      if (c.prev.length !== 0) {
        const t = c.prev;
        c.prev = c.loaded;
        c.loaded = t;
      } else if (rcache.depot.length !== 0) {
        // The empty loaded magazine is freed and a full one from the depot takes its place.
        c.loaded = rcache.depot.pop()!;
      } else {
        return 0n;
      }
    }
    return iova_magazine_pop(c.loaded, u64(limit_pfn - size));
  }

  /**
   * free_cpu_cached_iovas() - return @cpu's loaded, then prev, magazine of every
   * class to the tree, class 0 first (iommu.md §2.9 Full flush).
   * @cpu: any possible CPU
   */
  free_cpu_cached_iovas(cpu: number): void {
    for (const rcache of this.rcaches) {
      const c = rcache.cpu_rcaches[cpu]!;
      this.host.free_pfns(c.loaded);
      c.loaded.length = 0;
      this.host.free_pfns(c.prev);
      c.prev.length = 0;
    }
  }

  /** free_global_cached_iovas() - return every depot magazine to the tree, newest first, class 0 first. */
  free_global_cached_iovas(): void {
    for (const rcache of this.rcaches) {
      while (rcache.depot.length !== 0) this.host.free_pfns(rcache.depot.pop()!);
    }
  }

  /**
   * free_iova_rcaches() - drop every magazine without returning its pfns to the
   * tree (put_iova_domain frees the nodes itself) and cancel the depot work.
   */
  destroy(): void {
    this.dead = true;
    for (const rcache of this.rcaches) {
      for (const c of rcache.cpu_rcaches) {
        c.loaded = [];
        c.prev = [];
      }
      rcache.depot.length = 0;
      rcache.depot_work_pending = false;
    }
  }

  /**
   * schedule_delayed_work(&rcache->work, IOVA_DEPOT_DELAY): a no-op while the
   * work is already queued, so the work runs 100 ms after the first push since
   * it last ran, not after the latest push (kernel workqueue semantics; the
   * digest's §2.9 leaves this implicit).
   */
  private schedule_depot_work(rcache: IovaRcache): void {
    if (rcache.depot_work_pending) return;
    rcache.depot_work_pending = true;
    this.timers.schedule(IOVA_DEPOT_DELAY_MS, () => this.iova_depot_work_func(rcache));
  }

  /**
   * iova_depot_work_func() - while the depot holds more magazines than there are
   * online CPUs, return one (the newest) to the tree and run again in 100 ms.
   */
  private iova_depot_work_func(rcache: IovaRcache): void {
    if (this.dead) return;
    // PENDING is cleared before the work function runs, so it may requeue itself.
    rcache.depot_work_pending = false;
    if (rcache.depot.length <= this.host.num_online_cpus()) return;
    const mag = rcache.depot.pop()!;
    this.host.free_pfns(mag);
    this.stats.depot_trims++;
    this.schedule_depot_work(rcache);
  }
}
