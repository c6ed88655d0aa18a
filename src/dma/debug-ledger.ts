/**
 * dma-debug's records (kernel/dma/debug.c; dma-core.md §6.1): the entry, the
 * hash, the entry pool, the per-device lists, and the radix tree of active
 * cachelines. debug.ts runs the checks; this file only keeps the books.
 *
 * model: the kernel keeps one list per hash bucket and walks it. To stay
 * O(log n)-ish at 100k live entries the model keeps the same facts in indexes
 * that answer the same questions (exact (dev, dev_addr) in insertion order;
 * "which entries could contain this address") and recomputes the kernel's
 * bucket order where it matters (bucket_find_contain, dump, the leak report).
 */
import type { Device, DmaAttrs, DmaDirection } from './types';

export type DebugEntryType = 'single' | 'scatter-gather' | 'coherent' | 'resource' | 'noncoherent' | 'phy';
/** enum map_err_types */
export type MapErrType = 'not-applicable' | 'not-checked' | 'checked';

/** HASH_SIZE, HASH_FN_SHIFT, HASH_FN_MASK (dma-core.md §0.1). */
export const HASH_SIZE = 16384;
const HASH_FN_SHIFT = 13n;
const HASH_FN_MASK = 0x3fffn;
/** hash_fn: bucket = (dev_addr >> 13) & 0x3FFF. */
export const hash_fn = (dev_addr: bigint): number => Number((dev_addr >> HASH_FN_SHIFT) & HASH_FN_MASK);

/** ACTIVE_CACHELINE_MAX_OVERLAP: three radix-tree tag bits. */
export const ACTIVE_CACHELINE_MAX_OVERLAP = 7;
/** struct dma_debug_entry is 128 bytes (two 64-byte lines), so a page holds page_size / 128. */
const DMA_DEBUG_ENTRY_BYTES = 128;

const BIG_SHIFT: readonly bigint[] = Array.from({ length: 72 }, (_, i) => BigInt(i));
const TWO53 = 2 ** 53;

/** Bit length of a non-negative bigint (0 for 0). */
function bitlen(x: bigint): number {
  if (x < 0x100000000n) return 32 - Math.clz32(Number(x));
  if (x < 0x20000000000000n) return 64 - Math.clz32(Math.floor(Number(x) / 0x100000000));
  return x.toString(2).length;
}

// ---- a small ordered set of numbers, for the rare wide range query --------------------

/** Sorted distinct numbers in chunks of at most 512: O(log n) insert and range walk. */
class SortedKeys {
  private readonly chunks: number[][];

  constructor(keys: Iterable<number>) {
    const all = [...keys].sort((a, b) => a - b);
    this.chunks = [];
    for (let i = 0; i < all.length; i += 256) this.chunks.push(all.slice(i, i + 256));
    if (this.chunks.length === 0) this.chunks.push([]);
  }

  private chunkFor(k: number): number {
    let lo = 0;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.chunks[mid][0] <= k) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private static lowerBound(c: readonly number[], k: number): number {
    let lo = 0;
    let hi = c.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (c[mid] < k) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  insert(k: number): void {
    const ci = this.chunkFor(k);
    const c = this.chunks[ci];
    c.splice(SortedKeys.lowerBound(c, k), 0, k);
    if (c.length > 512) this.chunks.splice(ci + 1, 0, c.splice(256));
  }

  forRange(lo: number, hi: number, fn: (k: number) => void): void {
    for (let ci = this.chunkFor(lo); ci < this.chunks.length; ci++) {
      const c = this.chunks[ci];
      for (let i = SortedKeys.lowerBound(c, lo); i < c.length; i++) {
        if (c[i] > hi) return;
        fn(c[i]);
      }
    }
  }
}

// ---- interval index -----------------------------------------------------------------------

/** One interval's slot in an IntervalIndex; lives inside its owner so nothing is allocated per call. */
export class IxNode<T> {
  start = 0n;
  last = 0n;
  cls = -1;
  key = 0;
  pos = 0;
  constructor(readonly owner: T) {}
}

interface IxClass<T> {
  readonly shift: bigint;
  /** Largest last - start this class holds: 2^shift - 1. */
  readonly span_max: bigint;
  readonly map: Map<number, IxNode<T>[]>;
  count: number;
  empties: number;
  sorted: SortedKeys | null;
}

/**
 * Closed intervals [start, last] over bigints, grouped by the bit length of
 * their span. A class with spans below 2^c is bucketed by start >> c, so the
 * intervals that can meet a point sit in two buckets per class; a wide query
 * walks an ordered key set instead. Each query costs O(classes · log n + hits),
 * never a scan per byte or per line.
 *
 * model: emptied buckets stay in the Map until they outnumber the live ones
 * (V8 Maps are slow when one key is deleted and re-added over and over).
 */
export class IntervalIndex<T> {
  private readonly classes: (IxClass<T> | undefined)[] = [];
  /** Class numbers created so far, ascending (a class with no live interval is skipped cheaply). */
  private active: number[] = [];
  size = 0;

  constructor(private readonly min_shift: number) {}

  insert(n: IxNode<T>, start: bigint, last: bigint): void {
    const bl = bitlen(last - start);
    const c = bl > this.min_shift ? bl : this.min_shift;
    let cl = this.classes[c];
    if (cl === undefined) {
      cl = { shift: BIG_SHIFT[c], span_max: (1n << BIG_SHIFT[c]) - 1n, map: new Map(), count: 0, empties: 0, sorted: null };
      this.classes[c] = cl;
      this.active = this.classes.flatMap((x, i) => (x === undefined ? [] : [i]));
    }
    const k = Number(start >> cl.shift);
    let arr = cl.map.get(k);
    if (arr === undefined) {
      arr = [];
      cl.map.set(k, arr);
      cl.sorted?.insert(k);
    } else if (arr.length === 0) cl.empties--;
    n.start = start;
    n.last = last;
    n.cls = c;
    n.key = k;
    n.pos = arr.length;
    arr.push(n);
    cl.count++;
    this.size++;
  }

  remove(n: IxNode<T>): void {
    const cl = this.classes[n.cls];
    if (cl === undefined) return;
    const arr = cl.map.get(n.key) as IxNode<T>[];
    // Order inside a bucket carries no meaning (callers sort by seq), so swap-remove.
    const tail = arr.pop() as IxNode<T>;
    if (tail !== n) {
      arr[n.pos] = tail;
      tail.pos = n.pos;
    }
    n.cls = -1;
    this.size--;
    cl.count--;
    if (arr.length === 0 && ++cl.empties > cl.count + 64) {
      for (const [k, a] of cl.map) if (a.length === 0) cl.map.delete(k);
      cl.empties = 0;
      cl.sorted = null;
    }
  }

  /** Appends the owner of every interval that meets [lo, hi]; each at most once. */
  overlap(lo: bigint, hi: bigint, out: T[]): void {
    for (const c of this.active) {
      const cl = this.classes[c] as IxClass<T>;
      if (cl.count === 0) continue;
      const klo = Number(lo >> cl.shift);
      const k2 = lo === hi ? klo : Number(hi >> cl.shift);
      // A start in [lo - span_max, hi] lies in bucket klo - 1 at the lowest.
      const k1 = klo > 0 ? klo - 1 : 0;
      if (k2 - k1 <= 8 && k2 < TWO53) {
        for (let k = k1; k <= k2; k++) {
          const arr = cl.map.get(k);
          if (arr !== undefined) for (const n of arr) if (n.start <= hi && n.last >= lo) out.push(n.owner);
        }
      } else {
        // Wide (or beyond 2^53, where Number() rounds): walk the keys that exist.
        // Number() is monotone, so the rounded range still covers every bucket.
        const from = lo > cl.span_max ? Number((lo - cl.span_max) >> cl.shift) : 0;
        cl.sorted ??= new SortedKeys(cl.map.keys());
        cl.sorted.forRange(from, k2, (k) => {
          const arr = cl.map.get(k);
          if (arr !== undefined) for (const n of arr) if (n.start <= hi && n.last >= lo) out.push(n.owner);
        });
      }
    }
  }
}

// ---- the entry ------------------------------------------------------------------------------

/** struct dma_debug_entry, plus the model's index slots. */
export class DebugEntry {
  dev!: Device;
  dev_addr = 0n;
  size = 0n;
  type: DebugEntryType = 'single';
  direction: DmaDirection = 'DMA_BIDIRECTIONAL';
  sg_call_ents = 0;
  sg_mapped_ents = 0;
  paddr = 0n;
  map_err_type: MapErrType = 'not-applicable';
  /** model: kept in 6.12 too (6.12 does not store attrs; only newest reads them, plus the full-range check). */
  attrs: DmaAttrs = 0;
  /** Insertion order; the kernel's list_add_tail order inside a bucket. */
  seq = 0;
  /** hash_fn(dev_addr). */
  bucket = 0;
  /** to_cacheline_number(); null when TO_DEVICE (never inserted in the radix tree). */
  cln: bigint | null = null;
  /** Scratch for bucket_find_contain: how many buckets back the walk meets this entry. */
  step = 0;
  readonly dma_node = new IxNode<DebugEntry>(this);
  readonly line_node = new IxNode<DebugEntry>(this);
  /** model: the full-range verdict's further watched ranges (input sg segments merged into this entry's segment). */
  readonly extra_lines: IxNode<DebugEntry>[] = [];
  dev_prev: DebugEntry | null = null;
  dev_next: DebugEntry | null = null;
}

interface DevList {
  count: number;
  head: DebugEntry | null;
  tail: DebugEntry | null;
}

/** What entry_alloc could not do. */
export type PoolFailure = 'out-of-memory';

/**
 * The hash of live entries and the entry pool (dma_debug_create_entries,
 * dma_entry_alloc, dma_entry_free; dma-core.md §6.1, DBG-4).
 */
export class DebugLedger {
  readonly nr_prealloc_entries: number;
  /** DMA_DEBUG_DYNAMIC_ENTRIES: one page of entries. */
  readonly entries_per_page: number;
  nr_total_entries: number;
  num_free_entries: number;
  min_free_entries: number;
  /** Times the pool grew by a page. */
  pool_growths = 0;
  live = 0;
  private seq = 0;
  /** dev_addr → entries with that address, in insertion order (one hash bucket, filtered). */
  private readonly exact = new Map<bigint, DebugEntry[]>();
  private exact_empties = 0;
  /** [dev_addr, dev_addr + max(size,1) - 1] of every live entry, for bucket_find_contain. */
  readonly by_dma = new IntervalIndex<DebugEntry>(12);
  private readonly devs = new Map<Device, DevList>();
  /** model: freed entry objects are reused, as the kernel reuses its free list. */
  private readonly recycled: DebugEntry[] = [];

  constructor(entries: number, page_size: number, private readonly max_entries: number | undefined) {
    if (!Number.isInteger(entries) || entries < 1) throw new RangeError(`dma_debug_entries must be a positive integer, got ${entries}`);
    this.nr_prealloc_entries = entries;
    this.entries_per_page = Math.max(1, Math.floor(page_size / DMA_DEBUG_ENTRY_BYTES));
    // dma_debug_init: DIV_ROUND_UP(nr_prealloc_entries, DMA_DEBUG_DYNAMIC_ENTRIES) pages.
    const pages = Math.ceil(entries / this.entries_per_page);
    this.nr_total_entries = pages * this.entries_per_page;
    this.num_free_entries = this.nr_total_entries;
    this.min_free_entries = this.nr_total_entries;
  }

  /**
   * dma_entry_alloc: takes a free entry, growing the pool by one page when it is
   * empty. Returns the failure when growth would pass max_entries (the kernel's
   * GFP_ATOMIC page allocation failing); the caller disables dma-debug.
   */
  entry_alloc(): DebugEntry | PoolFailure {
    if (this.num_free_entries === 0) {
      if (this.max_entries !== undefined && this.nr_total_entries + this.entries_per_page > this.max_entries) return 'out-of-memory';
      this.num_free_entries += this.entries_per_page;
      this.nr_total_entries += this.entries_per_page;
      this.pool_growths++;
    }
    this.num_free_entries--;
    if (this.num_free_entries < this.min_free_entries) this.min_free_entries = this.num_free_entries;
    const e = this.recycled.pop() ?? new DebugEntry();
    e.sg_call_ents = 0;
    e.sg_mapped_ents = 0;
    e.map_err_type = 'not-applicable';
    e.attrs = 0;
    e.cln = null;
    return e;
  }

  /** hash_bucket_add (list_add_tail): the entry becomes live. */
  add(e: DebugEntry): void {
    e.seq = ++this.seq;
    e.bucket = hash_fn(e.dev_addr);
    let arr = this.exact.get(e.dev_addr);
    if (arr === undefined) this.exact.set(e.dev_addr, (arr = []));
    else if (arr.length === 0) this.exact_empties--;
    arr.push(e);
    this.by_dma.insert(e.dma_node, e.dev_addr, e.dev_addr + (e.size > 0n ? e.size - 1n : 0n));
    let d = this.devs.get(e.dev);
    if (d === undefined) this.devs.set(e.dev, (d = { count: 0, head: null, tail: null }));
    e.dev_prev = d.tail;
    e.dev_next = null;
    if (d.tail) d.tail.dev_next = e;
    else d.head = e;
    d.tail = e;
    d.count++;
    this.live++;
  }

  /** hash_bucket_del then the pool half of dma_entry_free (the caller does the cacheline half). */
  del(e: DebugEntry): void {
    const arr = this.exact.get(e.dev_addr) as DebugEntry[];
    arr.splice(arr.indexOf(e), 1); // keep list order: best fit and mapping_error depend on it
    if (arr.length === 0 && ++this.exact_empties > this.live + 1024) {
      for (const [k, a] of this.exact) if (a.length === 0) this.exact.delete(k);
      this.exact_empties = 0;
    }
    this.by_dma.remove(e.dma_node);
    const d = this.devs.get(e.dev) as DevList;
    if (e.dev_prev) e.dev_prev.dev_next = e.dev_next;
    else d.head = e.dev_next;
    if (e.dev_next) e.dev_next.dev_prev = e.dev_prev;
    else d.tail = e.dev_prev;
    e.dev_prev = e.dev_next = null;
    d.count--;
    this.live--;
    this.num_free_entries++;
    if (this.recycled.length < 1024) this.recycled.push(e);
  }

  /** Live entries whose dev_addr equals dev_addr, in the kernel's list order (all devices). */
  at(dev_addr: bigint): readonly DebugEntry[] | undefined {
    return this.exact.get(dev_addr);
  }

  device_count(dev: Device): number {
    return this.devs.get(dev)?.count ?? 0;
  }

  *device_entries(dev: Device): IterableIterator<DebugEntry> {
    for (let e = this.devs.get(dev)?.head ?? null; e !== null; e = e.dev_next) yield e;
  }

  *entries(): IterableIterator<DebugEntry> {
    for (const d of this.devs.values()) for (let e = d.head; e !== null; e = e.dev_next) yield e;
  }
}

// ---- the radix tree of active cachelines ----------------------------------------------------

/** One key of dma_active_cacheline, plus what the model needs to state DBG-3 exactly. */
export interface ClnState {
  /** The key exists in the kernel's radix tree. */
  present: boolean;
  /** The tag-encoded overlap counter (0..7); meaningful only when present. */
  overlap: number;
  /** model: live non-TO_DEVICE entries with this first-cacheline key. */
  live: number;
  /** model: an increment was dropped at 7 since live was last 0 (the counter has drifted). */
  saturated: boolean;
  /** attrs of the entry the radix slot points at (the one that created the key). */
  creator_attrs: DmaAttrs;
}

/**
 * dma_active_cacheline with active_cacheline_{insert,remove,inc_overlap,dec_overlap}
 * (dma-core.md §6.3 check 5). Keyed by paddr >> L1_CACHE_SHIFT, which equals
 * to_cacheline_number() while L1_CACHE_SHIFT <= PAGE_SHIFT.
 */
export class ActiveCachelines {
  private readonly map = new Map<bigint, ClnState>();
  private empties = 0;
  private live_keys = 0;
  /** Set by insert() on -EEXIST: the counter would have passed 7 (the WARN_ONCE). */
  last_overflow = false;
  /** Set by insert() on -EEXIST: attrs of the entry already in the slot. */
  last_existing_attrs: DmaAttrs = 0;

  /** Returns 0 or -17 (-EEXIST). model: radix_tree_insert never fails with -ENOMEM here. */
  insert(cln: bigint, attrs: DmaAttrs): 0 | -17 {
    let st = this.map.get(cln);
    if (st === undefined) {
      st = { present: false, overlap: 0, live: 0, saturated: false, creator_attrs: 0 };
      this.map.set(cln, st);
    } else if (st.live === 0 && !st.present) this.empties--;
    if (st.live++ === 0) this.live_keys++;
    if (!st.present) {
      st.present = true;
      st.overlap = 0;
      st.creator_attrs = attrs;
      return 0;
    }
    // active_cacheline_inc_overlap: set_overlap refuses values above 7, so the tags stay at 7.
    this.last_overflow = st.overlap + 1 > ACTIVE_CACHELINE_MAX_OVERLAP;
    if (this.last_overflow) st.saturated = true;
    else st.overlap++;
    this.last_existing_attrs = st.creator_attrs;
    return -17;
  }

  /** active_cacheline_remove: decrement; at -1 the key is deleted (an absent key reads as 0). */
  remove(cln: bigint): void {
    const st = this.map.get(cln);
    if (st === undefined) return;
    const ov = (st.present ? st.overlap : 0) - 1;
    if (ov < 0) {
      st.present = false;
      st.overlap = 0;
    } else st.overlap = ov;
    if (--st.live === 0) {
      this.live_keys--;
      st.saturated = false;
      if (!st.present && ++this.empties > this.live_keys + 1024) {
        for (const [k, s] of this.map) if (s.live === 0 && !s.present) this.map.delete(k);
        this.empties = 0;
      }
    }
  }

  get(cln: bigint): Readonly<ClnState> | undefined {
    const st = this.map.get(cln);
    return st !== undefined && (st.present || st.live > 0) ? st : undefined;
  }

  *keys(): IterableIterator<[bigint, Readonly<ClnState>]> {
    for (const [k, st] of this.map) if (st.present || st.live > 0) yield [k, st];
  }
}
