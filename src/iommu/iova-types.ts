/**
 * Shared vocabulary of the IOVA allocator (include/linux/iova.h and the
 * constants of drivers/iommu/iova.c, Linux 6.12): range and view types, the
 * timer hook, the per-domain statistics, and u64 bit helpers. Like iova.c it
 * knows nothing of devices: pfns, sizes and limit_pfn only (iommu.md §2).
 *
 * pfns are bigint because 64K granules and 64-bit IOVAs reach 2^52 and the
 * anchor is all-ones; every arithmetic step that can wrap in C wraps here too
 * (u64()).
 */

/** All-ones: the largest unsigned long. */
export const U64_MAX = (1n << 64n) - 1n;
/** IOVA_ANCHOR: pfn of the sentinel node above all usable space (iommu.md §2.1). */
export const IOVA_ANCHOR = U64_MAX;
/** IOVA_RANGE_CACHE_MAX_SIZE: size classes 2^0..2^5 pfns (iommu.md §2.9). */
export const IOVA_RANGE_CACHE_MAX_SIZE = 6;
/** IOVA_MAG_SIZE: pfns per magazine, so that a magazine is exactly 1 KiB (iommu.md §2.9). */
export const IOVA_MAG_SIZE = 127;
/** IOVA_DEPOT_DELAY: delay of the depot-trimming work, in ms (iommu.md §2.9). */
export const IOVA_DEPOT_DELAY_MS = 100;

/** struct iova as callers see it: an inclusive pfn range. */
export interface IovaRange {
  readonly pfn_lo: bigint;
  readonly pfn_hi: bigint;
}

/**
 * A tree node as the view shows it. `reserved` is model bookkeeping (iommu.md §1:
 * "kind exists only for checking"): true for nodes made by reserve_iova.
 */
export interface IovaNodeView extends IovaRange {
  readonly reserved: boolean;
}

/**
 * The scheduler the platform provides (schedule_delayed_work). No wall clock:
 * the platform runs due work when it advances model time (iommu.md §6.4).
 * src/timers.ts's Timers satisfies it.
 */
export interface IovaTimers {
  schedule(delay_ms: number, work: () => void): void;
}

/** Counters for coverage and reports; never read by the allocator itself. */
export interface IovaStats {
  /** alloc_iova calls (including those made by alloc_iova_fast). */
  alloc_calls: number;
  alloc_failures: number;
  /** Failures decided by the max32_alloc_size shortcut, without a walk (iommu.md §2.5). */
  shortcut_32bit: number;
  /** Second passes from the top (iommu.md §2.3 step 5a). */
  retries_from_top: number;
  /** Nodes visited by the top-down walk (both passes). */
  walk_steps: number;
  /** alloc_iova_fast served from a magazine / not. */
  rcache_hits: number;
  rcache_misses: number;
  /** alloc_iova_fast flush-and-retry events (iommu.md §2.10 step 4). */
  rcache_flushes: number;
  /** free_iova_fast calls that went into a magazine / fell back to free_iova. */
  rcache_inserts: number;
  rcache_insert_fallbacks: number;
  /** Injected iova_magazine_alloc failures in __iova_rcache_insert (iommu.md §6.4). */
  magazine_alloc_failures: number;
  depot_pushes: number;
  /** Magazines returned to the tree by the delayed depot work. */
  depot_trims: number;
  /** WARN_ONs hit (see IovaWarnCode). */
  warnings: number;
}

/**
 * Stable codes of the kernel's warnings in iova.c:
 * - IOVA-RESERVE-NONSENSE: reserve_iova with a pfn above ULLONG_MAX >> shift (WARN_ON);
 * - IOVA-MAGAZINE-PFN-MISSING: a cached pfn has no node when its magazine is emptied (WARN_ON);
 * - IOVA-FAST-PFN0-LOST: alloc_iova_fast placed the range at pfn 0 and returned 0, which every
 *   caller reads as failure, so the range stays in the tree for good. Linux prints nothing
 *   (not a WARN_ON, not counted in stats.warnings); the model makes the loss visible.
 */
export type IovaWarnCode = 'IOVA-RESERVE-NONSENSE' | 'IOVA-MAGAZINE-PFN-MISSING' | 'IOVA-FAST-PFN0-LOST';

/** Read-only view of one size class (struct iova_rcache). */
export interface IovaRcacheView {
  /** log2 of the class's size in pfns. */
  readonly order: number;
  /** The CPU's loaded magazine, bottom first (the last element is the top of the stack). */
  loaded(cpu: number): readonly bigint[];
  /** The CPU's prev magazine, bottom first. */
  prev(cpu: number): readonly bigint[];
  /** Full magazines, oldest first: the last one is popped next. */
  readonly depot: readonly (readonly bigint[])[];
  /** True while the delayed depot work is queued (schedule_delayed_work coalesces). */
  readonly depot_work_pending: boolean;
}

/**
 * Read-only view of a struct iova_domain for invariant checkers. It never
 * changes state; every query is O(log n) except the iterator.
 */
export interface IovaView {
  readonly granule: bigint;
  readonly start_pfn: bigint;
  readonly dma_32bit_pfn: bigint;
  readonly max32_alloc_size: bigint;
  /** pfn_lo of the node cached_node points at (the anchor's is IOVA_ANCHOR). */
  readonly cached_node: bigint;
  /** pfn_lo of the node cached32_node points at. */
  readonly cached32_node: bigint;
  /** Nodes in the tree, the anchor included. */
  readonly node_count: number;
  /** False after put_iova_domain. */
  readonly alive: boolean;
  readonly ncpus: number;
  cpu_online(cpu: number): boolean;
  /** Nodes in ascending order, starting at the first with pfn_lo ≥ from (default: all). */
  nodes(from?: bigint): IterableIterator<IovaNodeView>;
  /** The node whose pfn_lo is exactly pfn_lo. */
  node_at(pfn_lo: bigint): IovaNodeView | undefined;
  /** The node with the greatest pfn_lo < pfn. */
  node_before(pfn: bigint): IovaNodeView | undefined;
  /** The node with the least pfn_lo > pfn. */
  node_after(pfn: bigint): IovaNodeView | undefined;
  /** private_find_iova: the node containing pfn. */
  find_iova(pfn: bigint): IovaNodeView | undefined;
  /** The IOVA_RANGE_CACHE_MAX_SIZE size classes. */
  readonly rcaches: readonly IovaRcacheView[];
  readonly stats: Readonly<IovaStats>;
}

export const newIovaStats = (): IovaStats => ({
  alloc_calls: 0, alloc_failures: 0, shortcut_32bit: 0, retries_from_top: 0, walk_steps: 0,
  rcache_hits: 0, rcache_misses: 0, rcache_flushes: 0, rcache_inserts: 0, rcache_insert_fallbacks: 0,
  magazine_alloc_failures: 0, depot_pushes: 0, depot_trims: 0, warnings: 0,
});

/** Truncate to unsigned long, as C arithmetic on pfns wraps. */
export const u64 = (x: bigint): bigint => BigInt.asUintN(64, x);

/** fls_long(): 1-based index of the highest set bit, 0 for 0. x must be in [0, 2^64). */
export function fls_long(x: bigint): number {
  if (x < 0x100000000n) return 32 - Math.clz32(Number(x));
  return 64 - Math.clz32(Number(x >> 32n));
}

/**
 * The alignment shift of __alloc_and_insert_iova_range(): `align_mask <<= fls_long(size - 1)`.
 * For size > 2^63 that is a shift by 64, undefined in C; the shift instructions of
 * arm64 (LSLV) and x86-64 (SHL) both take the count mod 64, so Linux as built gets an
 * all-ones mask there, i.e. no alignment (checked against iova.c compiled with gcc,
 * conformance/linux-iova). The model does the same.
 */
export const iova_align_shift = (size: bigint): bigint => BigInt(fls_long(u64(size - 1n)) & 63);

/** order_base_2(): ceil(log2(n)), 0 for n ≤ 1. */
export const order_base_2 = (n: bigint): number => (n > 1n ? fls_long(n - 1n) : 0);

/** roundup_pow_of_two() for 1 ≤ n ≤ 2^63. */
export const roundup_pow_of_two = (n: bigint): bigint => 1n << BigInt(fls_long(n - 1n));

/**
 * iova_rcache_range() - the largest request, in bytes, the range caches can serve.
 * @page_size: the CPU PAGE_SIZE (not the granule)
 * Returns PAGE_SIZE << (IOVA_RANGE_CACHE_MAX_SIZE - 1): 128 KiB with 4 KiB pages (iommu.md §2.11).
 */
export const iova_rcache_range = (page_size: number | bigint): bigint =>
  BigInt(page_size) << BigInt(IOVA_RANGE_CACHE_MAX_SIZE - 1);
