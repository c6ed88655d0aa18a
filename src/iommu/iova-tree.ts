/**
 * The IOVA tree (drivers/iommu/iova.c, include/linux/iova.h, Linux 6.12 = 7.2):
 * the ordered set of ranges of a struct iova_domain, the top-down size-aligned
 * search with cached_node / cached32_node, the max32_alloc_size shortcut and the
 * retry from the top, find/free, and reserve_iova with its quirks. iommu.md
 * §2.1–§2.7. IovaDomain (iova.ts) adds the range caches on top.
 *
 * model: the red-black tree is a B+tree keyed by pfn_lo; cached nodes are held
 * as keys (re-keyed when reserve_iova widens a node), so every operation is
 * O(log n) in live nodes plus the nodes the kernel's own walk visits.
 * model: no locking (the kernel holds iova_rbtree_lock); node memory
 * (alloc_iova_mem) never fails to allocate.
 */
import BTree from 'sorted-btree';
import {
  IOVA_ANCHOR, U64_MAX, fls_long, iova_align_shift, newIovaStats, u64,
  type IovaNodeView, type IovaRange, type IovaStats, type IovaWarnCode,
} from './iova-types';
import type { Faults } from '../faults';

/** struct iova. pfn_lo is also the tree key; only reserve_iova ever lowers it. */
export class IovaNode implements IovaNodeView {
  constructor(public pfn_lo: bigint, readonly pfn_hi: bigint, readonly reserved: boolean) {}
}

const cmp = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);
const hex = (x: bigint): string => `0x${x.toString(16)}`;

export function check_u64(what: string, x: bigint): void {
  if (x < 0n || x > U64_MAX) throw new RangeError(`${what} ${x} is not an unsigned long`);
}

/** The tree half of struct iova_domain (init_iova_domain). */
export class IovaTree {
  readonly granule: bigint;
  readonly start_pfn: bigint;
  readonly dma_32bit_pfn: bigint;

  protected readonly shift: number;
  protected readonly tree = new BTree<bigint, IovaNode>(undefined, cmp);
  protected readonly anchor = new IovaNode(IOVA_ANCHOR, IOVA_ANCHOR, false);
  protected cached_node: bigint = IOVA_ANCHOR;
  protected cached32_node: bigint = IOVA_ANCHOR;
  protected max32_alloc_size: bigint;
  protected readonly stats: IovaStats = newIovaStats();
  protected alive = true;
  private readonly warn_hook: ((code: IovaWarnCode, message: string) => void) | undefined;
  /** Planted faults (src/faults.ts); absent in unit tests. */
  protected readonly faults: Faults;
  /** Scratch pair for B+tree lookups; never held across calls. */
  private readonly pair: [bigint, IovaNode] = [0n, this.anchor];

  /**
   * init_iova_domain() - an empty tree holding only the anchor.
   * @granule: IOVA granule in bytes
   * @start_pfn: lowest pfn alloc_iova may hand out
   * @page_size: CPU PAGE_SIZE in bytes
   * @warn: receives the kernel's WARN_ONs
   * @faults: planted faults (src/faults.ts), for fault-injection runs
   * Errors: throws (the kernel's BUG_ON) when the granule is not a power of two
   * or exceeds page_size. iommu.md §2.2.
   */
  constructor(granule: bigint, start_pfn: bigint, page_size: number, warn?: (code: IovaWarnCode, message: string) => void, faults?: Faults) {
    const g = granule;
    if (g <= 0n || (g & (g - 1n)) !== 0n || g > BigInt(page_size)) {
      throw new Error(`BUG: init_iova_domain: granule ${g} is not a power of two ≤ PAGE_SIZE ${page_size}`);
    }
    check_u64('start_pfn', start_pfn);
    this.granule = g;
    this.shift = fls_long(g) - 1;
    this.start_pfn = start_pfn;
    this.dma_32bit_pfn = 1n << BigInt(32 - this.shift);
    this.max32_alloc_size = this.dma_32bit_pfn;
    this.warn_hook = warn;
    this.faults = faults;
    this.tree.set(IOVA_ANCHOR, this.anchor);
  }

  // ---- iova.h helpers -------------------------------------------------------------------------

  /** iova_shift(): log2 of the granule. */
  iova_shift(): number {
    return this.shift;
  }
  /** iova_mask(): granule - 1. */
  iova_mask(): bigint {
    return this.granule - 1n;
  }
  /** iova_offset(): offset of a bus address inside its granule. */
  iova_offset(iova: bigint): bigint {
    return iova & (this.granule - 1n);
  }
  /** iova_align(): size rounded up to the granule. */
  iova_align(size: bigint): bigint {
    return (size + this.granule - 1n) & ~(this.granule - 1n);
  }
  /** iova_align_down(): size rounded down to the granule. */
  iova_align_down(size: bigint): bigint {
    return size & ~(this.granule - 1n);
  }
  /** iova_dma_addr(): bus address of a node's first byte. */
  iova_dma_addr(iova: IovaRange): bigint {
    return u64(iova.pfn_lo << BigInt(this.shift));
  }
  /** iova_pfn(): pfn of a bus address. */
  iova_pfn(iova: bigint): bigint {
    return iova >> BigInt(this.shift);
  }

  // ---- the tree -------------------------------------------------------------------------------

  /**
   * alloc_iova() - allocate @size pfns at or below @limit_pfn, top-down.
   * @size: pfns, ≥ 1 (not rounded here; only alloc_iova_fast rounds)
   * @limit_pfn: highest pfn the range may use (inclusive)
   * @size_aligned: start on a multiple of roundup_pow_of_two(size)
   * Returns the new node, or null (-ENOMEM: no gap found, or the 32-bit shortcut).
   * Errors: throws RangeError for size 0 (undefined behaviour in the kernel).
   */
  alloc_iova(size: bigint, limit_pfn: bigint, size_aligned: boolean): IovaRange | null {
    this.assert_alive();
    check_u64('limit_pfn', limit_pfn);
    if (size < 1n || size > U64_MAX) throw new RangeError(`alloc_iova: size ${size} out of range`);
    this.stats.alloc_calls++;
    // The search works with an exclusive limit, which wraps to 0 for limit_pfn = ~0 as in C (§2.3).
    if (this.faults?.has('iova-ignore-limit')) return this.__alloc_and_insert_iova_range(size, u64(2n * limit_pfn + 1n), size_aligned);
    return this.__alloc_and_insert_iova_range(size, u64(limit_pfn + 1n), size_aligned);
  }

  /** __alloc_and_insert_iova_range(): iommu.md §2.3 steps 1–6; limit_pfn is exclusive here. */
  private __alloc_and_insert_iova_range(size: bigint, limit_pfn: bigint, size_aligned: boolean): IovaNode | null {
    const k = size_aligned ? iova_align_shift(size) : 0n;
    const d32 = this.dma_32bit_pfn;
    if (limit_pfn <= d32 && size >= this.max32_alloc_size) {
      this.stats.shortcut_32bit++;
      this.stats.alloc_failures++;
      return null;
    }
    let curr = this.tree.get(limit_pfn <= d32 ? this.cached32_node : this.cached_node)!;
    const retry_pfn = curr.pfn_hi;
    let high = limit_pfn;
    let low = this.start_pfn;
    let cand = 0n;
    let retried = false;
    for (;;) {
      // One pass: step below each node while the candidate still overlaps the node under it.
      for (;;) {
        if (curr.pfn_lo < high) high = curr.pfn_lo;
        cand = (u64(high - size) >> k) << k;
        this.stats.walk_steps++;
        const p = this.tree.nextLowerPair(curr.pfn_lo, this.pair);
        if (p === undefined || cand > p[1].pfn_hi || cand < low || this.faults?.has('iova-alloc-overlap')) break;
        curr = p[1];
      }
      if (high >= size && cand >= low) break;
      // The kernel tests low == start_pfn, not "first pass"; the two differ only if the
      // cached node ended at start_pfn - 1; cached nodes always end at or above start_pfn (§2.6).
      if (low === this.start_pfn && retry_pfn < limit_pfn) {
        if (retried) throw new Error('model bug: alloc_iova would retry from the top forever');
        retried = true;
        this.stats.retries_from_top++;
        high = limit_pfn;
        low = retry_pfn + 1n;
        curr = this.iova_find_limit(limit_pfn);
        continue;
      }
      this.max32_alloc_size = size;
      this.stats.alloc_failures++;
      return null;
    }
    const node = new IovaNode(cand, cand + size - 1n, false);
    if (!this.tree.set(cand, node, false)) throw new Error(`model bug: alloc_iova found a taken pfn ${hex(cand)}`);
    // __cached_rbnode_insert_update (§2.6).
    if (node.pfn_hi < d32) this.cached32_node = cand;
    else this.cached_node = cand;
    return node;
  }

  /**
   * iova_find_limit() - where the second pass starts (§2.4).
   * model: the kernel returns the anchor when limit_pfn > dma_32bit_pfn and
   * otherwise descends to some node with pfn_hi ≥ limit_pfn. Starting a pass at
   * any node with pfn_hi ≥ limit_pfn gives the same pfn (the nodes above it all
   * leave high = limit_pfn), so this picks the lowest such node in O(log n).
   */
  private iova_find_limit(limit_pfn: bigint): IovaNode {
    const below = this.tree.nextLowerPair(limit_pfn, this.pair);
    if (below !== undefined && below[1].pfn_hi >= limit_pfn) return below[1];
    return this.tree.getPairOrNextHigher(limit_pfn, this.pair)![1];
  }

  /** private_find_iova(): the node containing pfn. */
  protected find(pfn: bigint): IovaNode | undefined {
    const p = this.tree.getPairOrNextLower(pfn, this.pair);
    return p !== undefined && p[1].pfn_hi >= pfn ? p[1] : undefined;
  }

  /** remove_iova(): __cached_rbnode_delete_update (§2.6) then erase. */
  private remove_iova(free: IovaNode): void {
    if (free === this.anchor) {
      // model: the kernel would erase its sentinel and oops on the next allocation.
      throw new RangeError('free of the anchor node (pfn ~0): precondition violation');
    }
    const d32 = this.dma_32bit_pfn;
    const lo = free.pfn_lo;
    const moves32 = lo === this.cached32_node || (free.pfn_hi < d32 && lo >= this.cached32_node);
    const moves = lo >= this.cached_node;
    if (moves32 || moves) {
      const next = this.tree.nextHigherPair(lo, this.pair)![0]; // rb_next: the anchor at worst
      if (moves32) this.cached32_node = next;
      if (moves) this.cached_node = next;
    }
    if (lo < d32 && !this.faults?.has('iova-max32-not-reset')) this.max32_alloc_size = d32;
    this.tree.delete(lo);
  }

  /**
   * find_iova() - the node containing @pfn.
   * @pfn: any pfn
   * Returns the node, or null. Cached and flush-queue ranges are still nodes (§2.7).
   */
  find_iova(pfn: bigint): IovaRange | null {
    this.assert_alive();
    check_u64('pfn', pfn);
    return this.find(pfn) ?? null;
  }

  /**
   * free_iova() - remove the whole node containing @pfn; silently nothing if none (§2.7).
   * @pfn: any pfn of the node
   * Errors: throws RangeError for the anchor (the kernel would erase it).
   */
  free_iova(pfn: bigint): void {
    this.assert_alive();
    check_u64('pfn', pfn);
    const node = this.find(pfn);
    if (node !== undefined) this.remove_iova(node);
  }

  /**
   * __free_iova() - remove a node the caller holds.
   * @iova: a node returned by alloc_iova or reserve_iova and still in the tree
   * Errors: throws when @iova is not a node of this tree (a double free in the kernel).
   */
  __free_iova(iova: IovaRange): void {
    this.assert_alive();
    const node = this.tree.get(iova.pfn_lo);
    if (node !== iova) throw new Error(`__free_iova: [${hex(iova.pfn_lo)}, ${hex(iova.pfn_hi)}] is not a node of this domain`);
    this.remove_iova(node);
  }

  /**
   * reserve_iova() - keep [@pfn_lo, @pfn_hi] away from alloc_iova (§2.7).
   * @pfn_lo: first pfn
   * @pfn_hi: last pfn (inclusive)
   * Returns the node that ends the reservation: an existing node the request
   * fits in (widened downwards if the request starts below it), or a new node
   * for what is left above the last overlapping node. Every overlapping node on
   * the way is widened down to the part of the request not yet covered.
   * Returns null (WARN IOVA-RESERVE-NONSENSE) when a pfn exceeds ULLONG_MAX >> shift.
   * Cached nodes and max32_alloc_size are not updated.
   * Errors: throws RangeError when pfn_lo > pfn_hi (model: the kernel would
   * insert an inverted node).
   */
  reserve_iova(pfn_lo: bigint, pfn_hi: bigint): IovaRange | null {
    this.assert_alive();
    check_u64('pfn_lo', pfn_lo);
    check_u64('pfn_hi', pfn_hi);
    if ((pfn_lo | pfn_hi) > U64_MAX >> BigInt(this.shift)) {
      this.warn('IOVA-RESERVE-NONSENSE', `reserve_iova [${hex(pfn_lo)}, ${hex(pfn_hi)}] beyond ULLONG_MAX >> ${this.shift}`);
      return null;
    }
    if (pfn_lo > pfn_hi) throw new RangeError(`reserve_iova: pfn_lo ${hex(pfn_lo)} > pfn_hi ${hex(pfn_hi)}`);
    let lo = pfn_lo;
    // The kernel walks from rb_first; nodes before the first overlapping one change nothing.
    let node = this.find(lo) ?? this.tree.nextHigherPair(lo, this.pair)?.[1];
    while (node !== undefined && lo <= node.pfn_hi && pfn_hi >= node.pfn_lo) {
      // __adjust_overlap_range: widen the node down, then keep only what lies above it.
      if (lo < node.pfn_lo) this.rekey(node, lo);
      if (pfn_hi > node.pfn_hi) lo = node.pfn_hi + 1n;
      if (lo >= node.pfn_lo && pfn_hi <= node.pfn_hi) return node;
      node = this.tree.nextHigherPair(node.pfn_lo, this.pair)?.[1];
    }
    const fresh = new IovaNode(lo, pfn_hi, true);
    if (!this.tree.set(lo, fresh, false)) throw new Error(`model bug: reserve_iova found a taken pfn ${hex(lo)}`);
    return fresh;
  }

  /** Lower a node's pfn_lo (order is kept: nothing lies between); cached keys follow the node. */
  private rekey(node: IovaNode, lo: bigint): void {
    const old = node.pfn_lo;
    this.tree.delete(old);
    node.pfn_lo = lo;
    this.tree.set(lo, node);
    if (this.cached_node === old) this.cached_node = lo;
    if (this.cached32_node === old) this.cached32_node = lo;
  }

  // ---- internals --------------------------------------------------------------------------------

  /** iova_magazine_free_pfns() for the range caches: bottom first, WARN on a missing node. */
  protected free_pfns(pfns: readonly bigint[]): void {
    for (const pfn of pfns) {
      const node = this.find(pfn);
      if (node === undefined) {
        this.warn('IOVA-MAGAZINE-PFN-MISSING', `cached pfn ${hex(pfn)} has no node`);
        continue;
      }
      this.remove_iova(node);
    }
  }

  /** A WARN_ON (counted), or with @warn_on false a silent kernel behaviour the model reports. */
  protected warn(code: IovaWarnCode, message: string, warn_on = true): void {
    if (warn_on) this.stats.warnings++;
    this.warn_hook?.(code, message);
  }

  protected assert_alive(): void {
    if (!this.alive) throw new Error('iova_domain used after put_iova_domain');
  }
}
