/**
 * struct iova_domain (drivers/iommu/iova.c, Linux 6.12 = 7.2): the tree
 * (iova-tree.ts) plus the per-CPU range caches (iova-rcache.ts), with the fast
 * paths alloc_iova_fast / free_iova_fast, the cache flushes, CPU hot-unplug,
 * put_iova_domain and the read-only view. iommu.md §2.
 *
 * Level A: given the same calls (CPU numbers explicit, time explicit) it
 * returns the kernel's pfns. Knows nothing of devices: pfns, sizes, limit_pfn.
 * model: magazine allocation failure is injectable (iommu.md §6.4).
 */
import { IovaRcaches } from './iova-rcache';
import { IovaTree, check_u64, type IovaNode } from './iova-tree';
import {
  IOVA_RANGE_CACHE_MAX_SIZE, U64_MAX, roundup_pow_of_two, u64,
  type IovaNodeView, type IovaTimers, type IovaView, type IovaWarnCode,
} from './iova-types';
import type { Faults } from '../faults';

export interface IovaDomainOptions {
  /** IOVA granule in bytes: a power of two ≤ page_size. */
  readonly granule: bigint;
  /** Lowest pfn alloc_iova may hand out (dma-iommu uses ≥ 1). */
  readonly start_pfn: bigint;
  /** CPU PAGE_SIZE in bytes (the BUG_ON bound for the granule). */
  readonly page_size: number;
  /** Possible CPUs: each gets a loaded and a prev magazine per size class. */
  readonly ncpus: number;
  readonly timers: IovaTimers;
  /** Fault injection for iova_magazine_alloc in __iova_rcache_insert (iommu.md §6.4). */
  readonly fail_magazine_alloc?: () => boolean;
  /** cpu_online(); all possible CPUs are online when absent. */
  readonly cpu_online?: (cpu: number) => boolean;
  /** Receives the kernel's WARN_ONs (stable codes, IovaWarnCode). */
  readonly warn?: (code: IovaWarnCode, message: string) => void;
  /** Planted faults (src/faults.ts); absent in unit tests. */
  readonly faults?: Faults;
}

/** struct iova_domain with its range caches (init_iova_domain + iova_domain_init_rcaches). */
export class IovaDomain extends IovaTree {
  readonly ncpus: number;
  /** Read-only state for invariant checkers (iova-check.ts). */
  readonly view: IovaView;

  private readonly rcaches: IovaRcaches;
  private readonly cpu_online: (cpu: number) => boolean;

  /**
   * init_iova_domain() + iova_domain_init_rcaches().
   * @opts: granule, start_pfn, page_size, ncpus, timers (see IovaDomainOptions)
   * Errors: throws (the kernel's BUG_ON) when the granule is not a power of two
   * or exceeds page_size; RangeError when ncpus < 1. iommu.md §2.2.
   */
  constructor(opts: IovaDomainOptions) {
    super(opts.granule, opts.start_pfn, opts.page_size, opts.warn, opts.faults);
    if (!Number.isInteger(opts.ncpus) || opts.ncpus < 1) throw new RangeError(`ncpus ${opts.ncpus} must be ≥ 1`);
    this.ncpus = opts.ncpus;
    this.cpu_online = opts.cpu_online ?? (() => true);
    this.rcaches = new IovaRcaches({
      ncpus: opts.ncpus, timers: opts.timers, stats: this.stats, fail_magazine_alloc: opts.fail_magazine_alloc, faults: opts.faults,
      host: { free_pfns: (pfns) => this.free_pfns(pfns), num_online_cpus: () => this.num_online_cpus() },
    });
    this.view = this.make_view();
  }

  /**
   * put_iova_domain() - drop the range caches (their pfns are not returned
   * first), cancel the depot work and free every node. The domain is then dead:
   * any further call throws.
   */
  put_iova_domain(): void {
    this.assert_alive();
    this.rcaches.destroy();
    this.tree.clear();
    this.alive = false;
  }

  // ---- fast paths through the range caches ------------------------------------------------------

  /**
   * alloc_iova_fast() - allocate through the range caches (§2.10).
   * @cpu: the CPU the call runs on
   * @size: pfns; sizes below 32 are rounded up to a power of two
   * @limit_pfn: highest pfn the range may use (inclusive)
   * @flush_rcache: on failure, flush every online CPU's caches and the depot and retry once
   * Returns the start pfn, or 0 on failure (-ENOMEM).
   */
  alloc_iova_fast(cpu: number, size: bigint, limit_pfn: bigint, flush_rcache: boolean): bigint {
    this.assert_alive();
    this.check_cpu(cpu);
    check_u64('limit_pfn', limit_pfn);
    if (size < 1n || size > U64_MAX) throw new RangeError(`alloc_iova_fast: size ${size} out of range`);
    if (size < 1n << BigInt(IOVA_RANGE_CACHE_MAX_SIZE - 1)) size = roundup_pow_of_two(size);
    const pfn = this.rcaches.get(cpu, size, u64(limit_pfn + 1n));
    if (pfn !== 0n) {
      this.stats.rcache_hits++;
      return pfn;
    }
    this.stats.rcache_misses++;
    for (;;) {
      const node = this.alloc_iova(size, limit_pfn, true);
      if (node !== null) {
        // Only a domain with start_pfn 0 can get here: the caller sees 0, "no space", and never frees it.
        if (node.pfn_lo === 0n) this.warn('IOVA-FAST-PFN0-LOST', `alloc_iova_fast placed ${size} pfns at pfn 0 and returned 0 (failure to callers): the range is lost`, false);
        return node.pfn_lo;
      }
      if (!flush_rcache) return 0n;
      flush_rcache = false;
      this.stats.rcache_flushes++;
      for (let c = 0; c < this.ncpus; c++) if (this.cpu_online(c)) this.rcaches.free_cpu_cached_iovas(c);
      this.rcaches.free_global_cached_iovas();
    }
  }

  /**
   * free_iova_fast() - put a range into @cpu's cache, or free it into the tree (§2.10).
   * @cpu: the CPU the call runs on
   * @pfn: start of the range
   * @size: pfns as the caller allocated them (order_base_2(size) picks the class)
   */
  free_iova_fast(cpu: number, pfn: bigint, size: bigint): void {
    this.assert_alive();
    this.check_cpu(cpu);
    check_u64('pfn', pfn);
    check_u64('size', size);
    if (this.rcaches.insert(cpu, pfn, size)) {
      this.stats.rcache_inserts++;
      return;
    }
    this.stats.rcache_insert_fallbacks++;
    this.free_iova(pfn);
  }

  /** free_cpu_cached_iovas() - return @cpu's loaded and prev magazines to the tree (§2.9). */
  free_cpu_cached_iovas(cpu: number): void {
    this.assert_alive();
    this.check_cpu(cpu);
    this.rcaches.free_cpu_cached_iovas(cpu);
  }

  /** free_global_cached_iovas() - return every depot magazine to the tree (§2.9). */
  free_global_cached_iovas(): void {
    this.assert_alive();
    this.rcaches.free_global_cached_iovas();
  }

  /**
   * iova_cpuhp_dead() - CPU hot-unplug callback: @cpu's magazines go back to the tree.
   * @cpu: the CPU that went offline (the platform says it is offline via cpu_online)
   */
  iova_cpuhp_dead(cpu: number): void {
    this.free_cpu_cached_iovas(cpu);
  }

  // ---- internals --------------------------------------------------------------------------------

  private num_online_cpus(): number {
    let n = 0;
    for (let c = 0; c < this.ncpus; c++) if (this.cpu_online(c)) n++;
    return n;
  }

  private check_cpu(cpu: number): void {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.ncpus) throw new RangeError(`cpu ${cpu} not in 0..${this.ncpus - 1}`);
  }

  private make_view(): IovaView {
    const d = this;
    const val = (p: [bigint, IovaNode] | undefined): IovaNodeView | undefined => p?.[1];
    return {
      granule: d.granule,
      start_pfn: d.start_pfn,
      dma_32bit_pfn: d.dma_32bit_pfn,
      ncpus: d.ncpus,
      get max32_alloc_size() { return d.max32_alloc_size; },
      get cached_node() { return d.cached_node; },
      get cached32_node() { return d.cached32_node; },
      get node_count() { return d.tree.size; },
      get alive() { return d.alive; },
      cpu_online: (cpu) => d.cpu_online(cpu),
      nodes: (from) => d.tree.values(from),
      node_at: (pfn_lo) => d.tree.get(pfn_lo),
      node_before: (pfn) => val(d.tree.nextLowerPair(pfn)),
      node_after: (pfn) => val(d.tree.nextHigherPair(pfn)),
      find_iova: (pfn) => d.find(pfn),
      rcaches: d.rcaches.rcaches,
      stats: d.stats,
    };
  }
}
