/**
 * The page allocator behind dma_direct_alloc (mm/page_alloc.c, reduced to what the
 * DMA layer observes): a buddy allocator over physical RAM (dma-core.md §3.7).
 *
 * Free blocks of 2^order pages sit in one sorted tree per order, keyed by physical
 * address, so each alloc/free is O(max_order · log n).
 *
 * model: the kernel keeps per-zone, per-migratetype free lists and hands out
 * whatever block is at the head of a list, which depends on history we do not
 * model. Here zones are address limits (the caller passes `limit`) and the choice
 * is deterministic and top-down, like memblock: the highest-addressed
 * 2^order-aligned free block whose last byte is at or below `limit`. That mirrors
 * the kernel's zonelist order (ZONE_NORMAL before DMA32 before DMA) and makes
 * every run replayable.
 */
import BTree from 'sorted-btree';

const U64_MAX = (1n << 64n) - 1n;

export interface PhysRange {
  readonly base: bigint;
  readonly size: bigint;
}

export interface PageBlock {
  readonly phys: bigint;
  readonly order: number;
}

export interface PageAllocStats {
  free_pages: number;
  allocated_pages: number;
}

/** Read-only view for invariant checkers; never changes state. */
export interface PageAllocatorView {
  readonly page_size: number;
  readonly max_order: number;
  /** Free blocks in ascending address order. */
  free_blocks(): PageBlock[];
  /** Allocated blocks in ascending address order. */
  allocated_blocks(): PageBlock[];
  /** Order of the allocated block starting at `phys`, or null. */
  allocated_order(phys: bigint): number | null;
  stats(): PageAllocStats;
}

/**
 * MAX_PAGE_ORDER (include/linux/mmzone.h, 6.12): 10 on x86_64 and on arm64 with
 * 4K pages; arm64's ARCH_FORCE_MAX_ORDER default is 11 for 16K and 13 for 64K
 * pages [?: Kconfig not in our extract].
 */
export function default_max_page_order(page_size: number): number {
  return page_size === 65536 ? 13 : page_size === 16384 ? 11 : 10;
}

const cmp = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);
const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);
const max = (a: bigint, b: bigint): bigint => (a > b ? a : b);

/** RAM minus the reserved ranges, shrunk to whole pages, sorted and merged. */
function usable_ranges(ram: readonly PhysRange[], reserved: readonly PhysRange[], psz: bigint): [bigint, bigint][] {
  const down = (x: bigint): bigint => (x / psz) * psz;
  const up = (x: bigint): bigint => down(x + psz - 1n);
  let out: [bigint, bigint][] = ram
    .map((r): [bigint, bigint] => [up(r.base), down(r.base + r.size)])
    .filter(([s, e]) => s < e)
    .sort((a, b) => cmp(a[0], b[0]));
  const merged: [bigint, bigint][] = [];
  for (const r of out) {
    const last = merged[merged.length - 1];
    if (last !== undefined && r[0] <= last[1]) last[1] = max(last[1], r[1]);
    else merged.push([r[0], r[1]]);
  }
  out = merged;
  // A partly reserved page is wholly reserved: never hand out a page the pool touches.
  for (const res of reserved) {
    if (res.size === 0n) continue; // reserves nothing; splitting the range would only stop buddies forming
    const rs = down(res.base);
    const re = up(res.base + res.size);
    out = out.flatMap(([s, e]): [bigint, bigint][] => {
      if (re <= s || rs >= e) return [[s, e]];
      const keep: [bigint, bigint][] = [];
      if (s < rs) keep.push([s, rs]);
      if (re < e) keep.push([re, e]);
      return keep;
    });
  }
  return out;
}

export class PageAllocator {
  readonly page_size: number;
  readonly page_shift: number;
  readonly max_order: number;
  readonly view: PageAllocatorView;
  /** free_area[order]: start address of each free block of that order. */
  private readonly free_area: BTree<bigint, true>[] = [];
  /**
   * Free max-order blocks never handed out yet, as sorted disjoint ranges [start, end) of whole
   * max-order blocks: the carving of RAM's aligned middle, kept as ranges so building a machine
   * does not insert thousands of blocks. The free max-order blocks are these plus
   * free_area[max_order]; a freed block goes back to the tree.
   */
  private readonly untouched: [bigint, bigint][] = [];
  private readonly allocated = new BTree<bigint, number>(undefined, cmp);
  private nr_free = 0;
  private nr_allocated = 0;

  /**
   * @ram: physical RAM ranges (need not be aligned; partial pages are dropped)
   * @reserved: ranges never handed out, e.g. the swiotlb pool
   * @page_size: PAGE_SIZE in bytes, a power of two
   * @max_order: MAX_PAGE_ORDER; RAM is carved into blocks no larger than this
   */
  constructor(ram: readonly PhysRange[], reserved: readonly PhysRange[], page_size: number, max_order = default_max_page_order(page_size)) {
    if (!Number.isInteger(page_size) || page_size <= 0 || (page_size & (page_size - 1)) !== 0)
      throw new Error(`BUG: page_size ${page_size} is not a power of two`);
    this.page_size = page_size;
    this.page_shift = Math.log2(page_size);
    this.max_order = max_order;
    for (let o = 0; o <= max_order; o++) this.free_area.push(new BTree<bigint, true>(undefined, cmp));
    const psz = BigInt(page_size);
    const B = this.block_bytes(max_order);
    for (const [start, end] of usable_ranges(ram, reserved, psz)) {
      // The greedy carving into the largest naturally aligned blocks (which keeps the buddy
      // invariant: no two free buddies of the same order below max_order) gives max-order
      // blocks exactly on the B-aligned middle; only the edges are carved block by block.
      const lo = ((start + B - 1n) / B) * B;
      const hi = (end / B) * B;
      if (lo < hi) {
        this.carve(start, lo);
        this.untouched.push([lo, hi]);
        this.nr_free += Number((hi - lo) / psz);
        this.carve(hi, end);
      } else this.carve(start, end);
    }
    this.view = this.make_view();
  }

  /** Greedy carving of [start, end) into free blocks (see the constructor). */
  private carve(start: bigint, end: bigint): void {
    const psz = BigInt(this.page_size);
    let pos = start;
    while (pos < end) {
      let o = this.max_order;
      while (o > 0 && (pos % (psz << BigInt(o)) !== 0n || pos + (psz << BigInt(o)) > end)) o--;
      this.free_area[o]!.set(pos, true);
      this.nr_free += 1 << o;
      pos += psz << BigInt(o);
    }
  }

  /** The highest untouched max-order block starting at or below @top, with its range's index; O(untouched ranges). */
  private untouchedAtOrBelow(top: bigint): { start: bigint; i: number } | undefined {
    const B = this.block_bytes(this.max_order);
    for (let i = this.untouched.length - 1; i >= 0; i--) {
      const [s, e] = this.untouched[i]!;
      if (s > top) continue;
      const fromTop = (top / B) * B;
      return { start: e - B < fromTop ? e - B : fromTop, i };
    }
    return undefined;
  }

  /** Takes block @start out of untouched range @i. */
  private takeUntouched(start: bigint, i: number): void {
    const [s, e] = this.untouched[i]!;
    const after = start + this.block_bytes(this.max_order);
    const keep: [bigint, bigint][] = [];
    if (s < start) keep.push([s, start]);
    if (after < e) keep.push([after, e]);
    this.untouched.splice(i, 1, ...keep);
  }

  private block_bytes(order: number): bigint {
    return BigInt(this.page_size) << BigInt(order);
  }

  /**
   * get_order - the smallest order whose block holds @size bytes.
   * Follows the kernel's u64 arithmetic: get_order(0) is 64 - PAGE_SHIFT, which no
   * allocation can satisfy.
   */
  get_order(size: bigint): number {
    const s = ((size - 1n) & U64_MAX) >> BigInt(this.page_shift);
    return s === 0n ? 0 : s.toString(2).length;
  }

  /**
   * alloc_pages - take a block of 2^@order pages, aligned to its own size (H11).
   * @order: log2 of the page count
   * @limit: highest byte address the block may reach, inclusive (the zone limit)
   *
   * Returns the block's physical address: the highest such block that fits (see
   * the file header). Returns null when none fits, or when @order exceeds
   * max_order (the kernel also WARNs then unless __GFP_NOWARN; the caller reports).
   */
  alloc_pages(order: number, limit: bigint): bigint | null {
    if (!Number.isInteger(order) || order < 0 || order > this.max_order) return null;
    const size = this.block_bytes(order);
    if (limit + 1n < size) return null;
    const top = ((limit + 1n - size) / size) * size;
    let best: { order: number; start: bigint; phys: bigint; untouched?: number } | null = null;
    for (let k = order; k <= this.max_order; k++) {
      // The highest block of order k starting at or below `top` holds the best
      // candidate of that order: blocks are disjoint and aligned to >= size.
      const pair = this.free_area[k]!.getPairOrNextLower(top);
      if (pair !== undefined) {
        const phys = min(pair[0] + this.block_bytes(k) - size, top);
        if (best === null || phys > best.phys) best = { order: k, start: pair[0], phys };
      }
      if (k !== this.max_order) continue;
      const u = this.untouchedAtOrBelow(top);
      if (u === undefined) continue;
      const phys = min(u.start + this.block_bytes(k) - size, top);
      if (best === null || phys > best.phys) best = { order: k, start: u.start, phys, untouched: u.i };
    }
    if (best === null) return null;
    if (best.untouched !== undefined) this.takeUntouched(best.start, best.untouched);
    else this.free_area[best.order]!.delete(best.start);
    let cur = best.start;
    for (let k = best.order; k > order; k--) {
      const half = this.block_bytes(k - 1);
      if (best.phys >= cur + half) {
        this.free_area[k - 1]!.set(cur, true);
        cur += half;
      } else {
        this.free_area[k - 1]!.set(cur + half, true);
      }
    }
    this.allocated.set(best.phys, order);
    this.nr_free -= 1 << order;
    this.nr_allocated += 1 << order;
    return best.phys;
  }

  /**
   * free_pages - return a block and merge it with free buddies.
   * @phys: address alloc_pages returned
   * @order: the order it was allocated with
   *
   * Throws Error("BUG: …") when @phys is not an allocated block of that order: the
   * kernel would corrupt its free lists, so the model stops (STYLE §2).
   */
  free_pages(phys: bigint, order: number): void {
    const have = this.allocated.get(phys);
    if (have === undefined) throw new Error(`BUG: free_pages(0x${phys.toString(16)}, ${order}): not allocated`);
    if (have !== order)
      throw new Error(`BUG: free_pages(0x${phys.toString(16)}, ${order}): allocated with order ${have}`);
    this.allocated.delete(phys);
    this.nr_free += 1 << order;
    this.nr_allocated -= 1 << order;
    let cur = phys;
    let k = order;
    while (k < this.max_order) {
      const buddy = cur ^ this.block_bytes(k);
      if (!this.free_area[k]!.delete(buddy)) break;
      cur = min(cur, buddy);
      k++;
    }
    this.free_area[k]!.set(cur, true);
  }

  stats(): PageAllocStats {
    return { free_pages: this.nr_free, allocated_pages: this.nr_allocated };
  }

  private make_view(): PageAllocatorView {
    const free_area = this.free_area;
    const allocated = this.allocated;
    const untouched = this.untouched;
    const B = this.block_bytes(this.max_order);
    const max_order = this.max_order;
    const untouchedBlocks = (): PageBlock[] => {
      const out: PageBlock[] = [];
      for (const [s, e] of untouched) for (let a = s; a < e; a += B) out.push({ phys: a, order: max_order });
      return out;
    };
    return {
      page_size: this.page_size,
      max_order: this.max_order,
      free_blocks: () =>
        free_area
          .flatMap((t, order) => [...t.keys()].map((phys) => ({ phys, order })))
          .concat(untouchedBlocks())
          .sort((a, b) => cmp(a.phys, b.phys)),
      allocated_blocks: () => [...allocated.entries()].map(([phys, order]) => ({ phys, order })),
      allocated_order: (phys) => allocated.get(phys) ?? null,
      stats: () => this.stats(),
    };
  }
}
