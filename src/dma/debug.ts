/**
 * dma-debug, the contract checker (kernel/dma/debug.c; dma-core.md §6). The
 * dispatcher (mapping.ts) calls these hooks at the points of §6.2; they keep
 * their own records (debug-ledger.ts) and report driver mistakes through the
 * WarnSink. They never change what a DMA call returns.
 *
 * Each finding has a stable code (DMA_DEBUG_CODES). Every finding is reported;
 * the kernel's printing budget (err_printk: num_errors, all_errors) is kept in
 * `stats` as error_count / printed, so "only the first is printed" stays visible.
 */
import {
  ACTIVE_CACHELINE_MAX_OVERLAP, ActiveCachelines, DebugLedger, HASH_SIZE, IntervalIndex, IxNode, hash_fn,
  type ClnState, type DebugEntry, type DebugEntryType, type MapErrType,
} from './debug-ledger';
import { DMA_ATTRS, DMA_MAPPING_ERROR, U64_MAX, type Device, type DmaAttrs, type DmaDirection, type LinuxVersion, type MemKind } from './types';
import type { WarnSink } from '../warn';
import type { Faults } from '../faults';

export type { DebugEntryType, MapErrType } from './debug-ledger';
export { HASH_SIZE, hash_fn } from './debug-ledger';

// ---- codes ------------------------------------------------------------------------------------

export interface DmaDebugCodeInfo {
  /** The check number of dma-core.md §6.3, or null for findings outside the 22. */
  readonly check: number | null;
  readonly meaning: string;
  readonly clause: string;
  /** Goes through err_printk, so it counts in error_count and spends num_errors. */
  readonly counted: boolean;
  readonly linux: 'both' | '6.12' | 'newest';
}

/** Every dma-debug finding code: docs and the "hello" op list derive from this table. */
export const DMA_DEBUG_CODES = {
  DEBUG_MAP_FROM_STACK: { check: 1, meaning: 'device driver maps memory from stack', clause: 'dma-core.md §6.3 (1)', counted: true, linux: 'both' },
  DEBUG_MAP_KERNEL_TEXT: { check: 2, meaning: 'device driver maps memory from kernel text or rodata', clause: 'dma-core.md §6.3 (2)', counted: true, linux: 'both' },
  DEBUG_MAP_INVALID_AREA: { check: 3, meaning: 'dma_map_single of an address that is not a valid linear address', clause: 'dma-core.md §6.3 (3)', counted: true, linux: 'both' },
  DEBUG_MAP_VMALLOC: { check: 4, meaning: 'dma_map_single of a vmalloc address', clause: 'dma-core.md §6.3 (4)', counted: true, linux: 'both' },
  DEBUG_CACHELINE_OVERLAP: { check: 5, meaning: 'cacheline tracking EEXIST: a second non-TO_DEVICE mapping starts in the same first cacheline', clause: 'dma-core.md §6.3 (5)', counted: true, linux: 'both' },
  DEBUG_CACHELINE_OVERLAP_LIMIT: { check: 5, meaning: 'exceeded 7 overlapping mappings of one cacheline (WARN_ONCE in the kernel)', clause: 'dma-core.md §6.3 (5)', counted: false, linux: 'both' },
  DEBUG_SG_SEGMENT_TOO_LONG: { check: 6, meaning: 'mapped sg segment longer than the device max_segment_size', clause: 'dma-core.md §6.3 (6)', counted: true, linux: 'both' },
  DEBUG_SG_SEGMENT_BOUNDARY: { check: 7, meaning: 'mapped sg segment crosses the device segment boundary', clause: 'dma-core.md §6.3 (7)', counted: true, linux: 'both' },
  DEBUG_FREE_INVALID_ADDRESS: { check: 8, meaning: 'unmap/free of DMA_MAPPING_ERROR', clause: 'dma-core.md §6.3 (8)', counted: true, linux: 'both' },
  DEBUG_FREE_NOT_ALLOCATED: { check: 9, meaning: 'unmap/free of memory dma-debug has no (unique) record of', clause: 'dma-core.md §6.3 (9)', counted: true, linux: 'both' },
  DEBUG_FREE_WRONG_SIZE: { check: 10, meaning: 'unmap/free with a different size', clause: 'dma-core.md §6.3 (10)', counted: true, linux: 'both' },
  DEBUG_FREE_WRONG_FUNCTION: { check: 11, meaning: 'unmap/free with the wrong function (entry type differs)', clause: 'dma-core.md §6.3 (11)', counted: true, linux: 'both' },
  DEBUG_FREE_WRONG_CPU_ADDRESS: { check: 12, meaning: 'coherent/noncoherent free with a different CPU address', clause: 'dma-core.md §6.3 (12)', counted: true, linux: 'both' },
  DEBUG_FREE_WRONG_SG_COUNT: { check: 13, meaning: 'sg unmap with a different nents than the map', clause: 'dma-core.md §6.3 (13)', counted: true, linux: 'both' },
  DEBUG_FREE_WRONG_DIRECTION: { check: 14, meaning: 'unmap/free with a different direction', clause: 'dma-core.md §6.3 (14)', counted: true, linux: 'both' },
  DEBUG_MAP_ERROR_NOT_CHECKED: { check: 15, meaning: 'unmapped a single/resource mapping whose address was never checked with dma_mapping_error', clause: 'dma-core.md §6.3 (15)', counted: true, linux: 'both' },
  DEBUG_SYNC_NOT_ALLOCATED: { check: 16, meaning: 'sync of a range no live mapping (uniquely) contains', clause: 'dma-core.md §6.3 (16)', counted: true, linux: 'both' },
  DEBUG_SYNC_OUTSIDE_RANGE: { check: 17, meaning: 'sync larger than the mapping (reachable only through u64 wrap-around)', clause: 'dma-core.md §6.3 (17)', counted: true, linux: 'both' },
  DEBUG_SYNC_WRONG_DIRECTION: { check: 18, meaning: 'sync with a direction other than the mapping’s (non-BIDIRECTIONAL mapping)', clause: 'dma-core.md §6.3 (18)', counted: true, linux: 'both' },
  DEBUG_SYNC_DEVICE_READ_ONLY: { check: 19, meaning: 'sync for cpu of a TO_DEVICE mapping with FROM_DEVICE or BIDIRECTIONAL', clause: 'dma-core.md §6.3 (19)', counted: true, linux: 'both' },
  DEBUG_SYNC_DEVICE_WRITE_ONLY: { check: 20, meaning: 'sync for device of a FROM_DEVICE mapping with TO_DEVICE or BIDIRECTIONAL', clause: 'dma-core.md §6.3 (20)', counted: true, linux: 'both' },
  DEBUG_SYNC_WRONG_SG_COUNT: { check: 21, meaning: 'sg sync with a different nents than the map', clause: 'dma-core.md §6.3 (21)', counted: true, linux: 'both' },
  DEBUG_LEAK_AT_REMOVE: { check: 22, meaning: 'driver unbound with DMA mappings or allocations still live', clause: 'dma-core.md §6.3 (22)', counted: true, linux: 'both' },
  DEBUG_FREE_WRONG_ATTRS: { check: null, meaning: 'unmap/free with different NO_KERNEL_MAPPING/FORCE_CONTIGUOUS/MMIO/REQUIRE_COHERENT/PRIVILEGED/CC_SHARED attrs', clause: 'dma-core.md §6.7', counted: true, linux: 'newest' },
  DEBUG_MAP_RESOURCE_RAM: { check: null, meaning: 'dma_map_resource (DMA_ATTR_MMIO) of valid, non-reserved RAM', clause: 'dma-core.md §6.7', counted: true, linux: 'newest' },
  DEBUG_CACHELINE_OVERLAP_FULL: { check: null, meaning: 'model: two live non-TO_DEVICE, non-SKIP_CPU_SYNC mappings share a cacheline anywhere in their ranges (an sg list: its input segments) and the kernel verdict did not fire for that pair', clause: 'dma-core.md §6.3 (5), full-range', counted: false, linux: 'both' },
  DEBUG_DISABLED: { check: null, meaning: 'dma-debug disabled itself (entry pool out of memory, cacheline ENOMEM, or a fault hook); the ledger is frozen', clause: 'dma-core.md §6.1, DBG-5', counted: false, linux: 'both' },
} as const satisfies Record<string, DmaDebugCodeInfo>;
export type DmaDebugCode = keyof typeof DMA_DEBUG_CODES;

// ---- options, stats, view -----------------------------------------------------------------------

export interface DmaDebugOptions {
  warn: WarnSink;
  /** 'newest': page/single/resource record as 'phy', attrs are stored and compared, §6.7 exemptions. */
  linux: LinuxVersion;
  /** L1_CACHE_SHIFT (6 for 64-byte lines). */
  cacheline_shift: number;
  /** CONFIG_DMA_BOUNCE_UNALIGNED_KMALLOC (arm64). */
  bounce_unaligned_kmalloc: boolean;
  /** dma_debug_entries= (default 65536), rounded up to whole pages of entries. */
  entries?: number;
  /** PAGE_SIZE, which sets DMA_DEBUG_DYNAMIC_ENTRIES (default 4096 → 32 entries). */
  page_size?: number;
  /** model: the pool cannot grow past this many entries; growth beyond fails like GFP_ATOMIC (default: no limit). */
  max_entries?: number;
  /** dma_debug=off */
  disabled?: boolean;
  /** debugfs all_errors (default false). */
  all_errors?: boolean;
  /** debugfs num_errors (default 1: only the first error is printed). */
  num_errors?: number;
  /** CONFIG_DMA_API_DEBUG_SG: checks 6 and 7 (default true). */
  debug_sg?: boolean;
  /** dma_get_cache_alignment() for the newest overlap exemption; x86 has 1 (default: the L1 line size). */
  dma_cache_alignment?: number;
  /** Buses registered with dma_debug_add_bus: only PCI upstream (default ['pci']). */
  leak_check_buses?: readonly Device['bus'][];
  /** The model's full-range overlap verdict (default true). */
  full_range_overlap?: boolean;
  /** Planted faults (src/faults.ts). */
  faults?: Faults;
}

export interface DmaDebugStats {
  readonly error_count: number;
  /** err_printk calls that would have printed (driver filter off, num_errors/all_errors). */
  readonly printed: number;
  /** debugfs num_errors: prints left. */
  readonly num_errors: number;
  readonly num_free_entries: number;
  readonly min_free_entries: number;
  readonly nr_total_entries: number;
  readonly disabled: boolean;
  readonly live_entries: number;
  readonly pool_growths: number;
  /** The WARN_ONCE of check 5 has fired. */
  readonly overlap_limit_warned: boolean;
  readonly full_overlaps: number;
}

/** Read-only view of one live entry. Valid until the next hook call (entry objects are reused). */
export interface DmaDebugEntryView {
  readonly dev: Device;
  readonly dev_addr: bigint;
  readonly size: bigint;
  readonly type: DebugEntryType;
  readonly direction: DmaDirection;
  readonly sg_call_ents: number;
  readonly sg_mapped_ents: number;
  readonly paddr: bigint;
  readonly map_err_type: MapErrType;
  readonly attrs: DmaAttrs;
  /** hash_fn(dev_addr) */
  readonly bucket: number;
  /** Insertion order (list order inside a bucket). */
  readonly seq: number;
  /** First-cacheline key, or null for TO_DEVICE entries (not tracked). */
  readonly cln: bigint | null;
}

export interface CachelineView {
  readonly cln: bigint;
  /** The kernel's tag counter (0..7), or -1 when the key is absent from the radix tree. */
  readonly overlap: number;
  /** Live non-TO_DEVICE entries keyed here. */
  readonly live: number;
  /** An increment was dropped at 7 since live was last 0: from here the counter trails live − 1. */
  readonly saturated: boolean;
}

/** For the DBG-1..5 checkers. Reading never changes state. */
export interface DmaDebugView {
  readonly disabled: boolean;
  readonly error_count: number;
  readonly live_entries: number;
  readonly num_free_entries: number;
  readonly nr_total_entries: number;
  /** Bumped by every change to the ledger or the counters (DBG-5: frozen once disabled). */
  readonly mutations: number;
  /** Live entries, grouped by device, each group in insertion order. */
  entries(): IterableIterator<DmaDebugEntryView>;
  device_entries(dev: Device): IterableIterator<DmaDebugEntryView>;
  device_count(dev: Device): number;
  /** The debugfs `dump` order: bucket 0..16383, list order inside each. */
  dump(): DmaDebugEntryView[];
  cacheline(cln: bigint): CachelineView | undefined;
  cachelines(): IterableIterator<CachelineView>;
  /** to_cacheline_number(paddr). */
  cacheline_key(paddr: bigint): bigint;
  /** DBG-3 (kernel-exact form), DBG-4 and the model's own index consistency; [] when all hold. */
  self_check(): string[];
}

// ---- helpers --------------------------------------------------------------------------------------

const hex = (x: bigint): string => `0x${x.toString(16)}`;
const hex16 = (x: bigint): string => `0x${x.toString(16).padStart(16, '0')}`;
const SKIP_CPU_SYNC = DMA_ATTRS.DMA_ATTR_SKIP_CPU_SYNC;
const MMIO = DMA_ATTRS.DMA_ATTR_MMIO;
const CACHE_CLEAN = DMA_ATTRS.DMA_ATTR_DEBUGGING_IGNORE_CACHELINES | DMA_ATTRS.DMA_ATTR_REQUIRE_COHERENT;
/** DMA_ATTR_UNMAP_VALID (newest check_unmap): attrs that must match between map and unmap. */
const UNMAP_VALID = DMA_ATTRS.DMA_ATTR_NO_KERNEL_MAPPING | DMA_ATTRS.DMA_ATTR_FORCE_CONTIGUOUS | MMIO |
  DMA_ATTRS.DMA_ATTR_REQUIRE_COHERENT | DMA_ATTRS.DMA_ATTR_PRIVILEGED | DMA_ATTRS.DMA_ATTR_CC_SHARED;
/** virt_addr_valid() by memory kind: linear-map addresses (the kernel image on x86-64) pass. */
const VIRT_ADDR_VALID: Readonly<Record<MemKind, boolean>> = { linear: true, stack: true, text: true, rodata: true, vmap_stack: false, vmalloc: false, invalid: false };

/** Walk order of bucket_find_contain: bucket step, then list order. */
const by_step_then_seq = (x: DebugEntry, y: DebugEntry): number => x.step - y.step || x.seq - y.seq;

/** One scatterlist element as dma-debug reads it; SgEntry of direct.ts fits. */
/** A physical range [phys, +size) the full-range verdict watches. */
interface PhysRange {
  readonly phys: bigint;
  readonly size: bigint;
}

export interface DebugSg {
  phys: bigint;
  length: bigint;
  dma_address: bigint;
  dma_length: bigint;
  /** Where this element's buffer lives, when it differs from the call's `mem`. */
  mem?: MemKind;
}

/** The on-stack `struct dma_debug_entry ref` of the unmap and sync hooks. */
class DebugRef {
  dev!: Device;
  dev_addr = 0n;
  size = 0n;
  type: DebugEntryType = 'single';
  direction: DmaDirection = 'DMA_BIDIRECTIONAL';
  sg_call_ents = 0;
  paddr = 0n;
  /** model: null when the caller did not say (or 6.12, which has no attrs check): the attrs check is skipped. */
  attrs: DmaAttrs | null = null;

  set(dev: Device, type: DebugEntryType, dev_addr: bigint, size: bigint, direction: DmaDirection, sg_call_ents: number, paddr: bigint, attrs: DmaAttrs | null): this {
    this.dev = dev;
    this.type = type;
    this.dev_addr = dev_addr;
    this.size = size;
    this.direction = direction;
    this.sg_call_ents = sg_call_ents;
    this.paddr = paddr;
    this.attrs = attrs;
    return this;
  }
}

// ---- the checker -------------------------------------------------------------------------------------

export class DmaDebug {
  private readonly warn: WarnSink;
  private readonly newest: boolean;
  private readonly shift: bigint;
  private readonly bounce_unaligned_kmalloc: boolean;
  private readonly debug_sg: boolean;
  private readonly cache_alignment_ok: boolean;
  private readonly leak_buses: readonly Device['bus'][];
  private readonly full_range: boolean;
  private readonly all_errors: boolean;
  private readonly faults: Faults;
  private readonly ledger: DebugLedger;
  private readonly cachelines = new ActiveCachelines();
  /** Cacheline ranges of entries the full-range verdict watches. */
  private readonly lines = new IntervalIndex<DebugEntry>(6);
  private readonly ref = new DebugRef();
  private readonly scratch: DebugEntry[] = [];
  private disabled_: boolean;
  private error_count = 0;
  private printed = 0;
  private num_errors: number;
  private overlap_limit_warned = false;
  private full_overlaps = 0;
  private mutations = 0;
  readonly view: DmaDebugView;

  constructor(opts: DmaDebugOptions) {
    if (!Number.isInteger(opts.cacheline_shift) || opts.cacheline_shift < 0 || opts.cacheline_shift > 12) {
      throw new RangeError(`cacheline_shift must be an integer in 0..12 (to_cacheline_number assumes L1_CACHE_SHIFT <= PAGE_SHIFT), got ${opts.cacheline_shift}`);
    }
    this.warn = opts.warn;
    this.newest = opts.linux === 'newest';
    this.shift = BigInt(opts.cacheline_shift);
    this.bounce_unaligned_kmalloc = opts.bounce_unaligned_kmalloc;
    this.debug_sg = opts.debug_sg ?? true;
    this.cache_alignment_ok = (opts.dma_cache_alignment ?? 1 << opts.cacheline_shift) >= 1 << opts.cacheline_shift;
    this.leak_buses = opts.leak_check_buses ?? ['pci'];
    this.full_range = opts.full_range_overlap ?? true;
    this.all_errors = opts.all_errors ?? false;
    this.faults = opts.faults;
    this.num_errors = opts.num_errors ?? 1;
    this.disabled_ = opts.disabled ?? false;
    this.ledger = new DebugLedger(opts.entries ?? 65536, opts.page_size ?? 4096, opts.max_entries);
    this.view = this.makeView();
  }

  get stats(): DmaDebugStats {
    const l = this.ledger;
    return {
      error_count: this.error_count, printed: this.printed, num_errors: this.num_errors,
      num_free_entries: l.num_free_entries, min_free_entries: l.min_free_entries, nr_total_entries: l.nr_total_entries,
      disabled: this.disabled_, live_entries: l.live, pool_growths: l.pool_growths,
      overlap_limit_warned: this.overlap_limit_warned, full_overlaps: this.full_overlaps,
    };
  }

  /**
   * Sets global_disable, as the kernel does when the entry pool cannot grow or
   * cacheline tracking hits -ENOMEM. Never undone; from here every hook returns
   * at once and the ledger is frozen (DBG-5).
   */
  disable(reason: string): void {
    if (this.disabled_) return;
    this.disabled_ = true;
    this.mutations++;
    this.warn.warn('dma-debug', 'DEBUG_DISABLED', `DMA-API: ${reason}`);
  }

  // ---- reporting ----

  /** err_printk: always counts; "prints" while all_errors or num_errors > 0; the model reports every finding. */
  private err(code: DmaDebugCode, dev: Device, msg: string): void {
    this.error_count++;
    this.mutations++;
    if (this.all_errors || this.num_errors > 0) this.printed++;
    if (!this.all_errors && this.num_errors > 0) this.num_errors--;
    this.warn.warn('dma-debug', code, `DMA-API: ${dev.name}: ${msg}`, dev.name);
  }

  // ---- lookups ----

  /** __hash_bucket_find over the matches of one bucket, given in list order. */
  private static best_fit(ref: DebugRef, matches: readonly DebugEntry[], from: number, to: number): DebugEntry | null {
    let ret: DebugEntry | null = null;
    let last_lvl = -1;
    for (let i = from; i < to; i++) {
      const e = matches[i];
      const lvl = (e.size === ref.size ? 1 : 0) + (e.type === ref.type ? 1 : 0) + (e.direction === ref.direction ? 1 : 0) + (e.sg_call_ents === ref.sg_call_ents ? 1 : 0);
      if (lvl === 4) return e; // perfect fit
      if (lvl > last_lvl) {
        last_lvl = lvl;
        ret = e;
      }
    }
    // Several matches and no perfect fit: nothing (dma-core.md §6.1).
    return to - from === 1 ? ret : null;
  }

  /** bucket_find_exact: same dev and dev_addr; candidates share one bucket, in insertion order. */
  private bucket_find_exact(ref: DebugRef): DebugEntry | null {
    const at = this.ledger.at(ref.dev_addr);
    if (at === undefined) return null;
    const m = this.scratch;
    m.length = 0;
    for (const e of at) if (e.dev === ref.dev) m.push(e);
    return m.length === 0 ? null : DmaDebug.best_fit(ref, m, 0, m.length);
  }

  /**
   * bucket_find_contain: entries of the same device whose range contains the
   * ref's, with the kernel's u64 arithmetic. The kernel tries the ref's bucket,
   * then steps back one bucket at a time; the first bucket whose own best fit
   * answers wins. model: only entries that can contain the ref are visited
   * (the interval index bounds them by size class), then sorted into that order.
   */
  private bucket_find_contain(ref: DebugRef): DebugEntry | null {
    const a = ref.dev_addr;
    const end = a + ref.size;
    const m = this.scratch;
    m.length = 0;
    if (end > U64_MAX) {
      // The ref's own end wraps: almost anything below it "contains" it.
      // model: a walk over the device's entries, for this pathological size only.
      for (const e of this.ledger.device_entries(ref.dev)) m.push(e);
    } else {
      // A containing entry covers byte a (size > 0) or ends exactly at a (size 0).
      this.ledger.by_dma.overlap(ref.size === 0n && a > 0n ? a - 1n : a, a, m);
    }
    const ref_end = end & U64_MAX;
    let n = 0;
    for (const e of m) {
      // containing_match: b->dev_addr <= a->dev_addr && b->dev_addr + b->size >= a->dev_addr + a->size (u64)
      if (e.dev === ref.dev && e.dev_addr <= a && ((e.dev_addr + e.size) & U64_MAX) >= ref_end) m[n++] = e;
    }
    m.length = n;
    if (n === 0) return null;
    if (n === 1) return m[0]; // one candidate in one bucket: best fit returns it
    const h0 = hash_fn(a);
    // The walk visits bucket h0 - i at step i; every entry at or below a is reached
    // within min(16384, (a >> 13) + 1) steps, so the limit never cuts one off.
    for (const e of m) e.step = (h0 - e.bucket) & (HASH_SIZE - 1);
    m.sort(by_step_then_seq);
    for (let i = 0; i < n;) {
      let j = i + 1;
      while (j < n && m[j].step === m[i].step) j++;
      const e = DmaDebug.best_fit(ref, m, i, j);
      if (e !== null) return e;
      i = j;
    }
    return null;
  }

  /** debug_dma_mapping_error: marks the first not-checked entry with this (dev, addr). */
  private mark_checked(dev: Device, dma_addr: bigint): void {
    const at = this.ledger.at(dma_addr);
    if (at === undefined) return;
    for (const e of at) {
      if (e.dev === dev && e.map_err_type === 'not-checked') {
        e.map_err_type = 'checked';
        this.mutations++;
        return;
      }
    }
  }

  /**
   * The inline dma_mapping_error() that debug.c itself calls (in the map hooks
   * and in check_unmap): it runs debug_dma_mapping_error first, so it can mark
   * an older entry with the same address as checked.
   */
  private dma_mapping_error(dev: Device, dma_addr: bigint): boolean {
    this.mark_checked(dev, dma_addr);
    return dma_addr === DMA_MAPPING_ERROR;
  }

  // ---- entries ----

  /** dma_entry_alloc; null when the pool cannot grow (dma-debug is then disabled). */
  private entry_alloc(): DebugEntry | null {
    const e = this.ledger.entry_alloc();
    if (e === 'out-of-memory') {
      this.disable('debugging out of memory - disabling');
      return null;
    }
    return e;
  }

  /**
   * add_dma_entry: hash insert, then active_cacheline_insert and the EEXIST
   * verdict (check 5), then the model's full-range verdict.
   */
  private add_dma_entry(e: DebugEntry, attrs: DmaAttrs, swiotlb_active: boolean, watch?: readonly PhysRange[]): void {
    this.ledger.add(e);
    this.mutations++;
    let kernel_fired = false;
    // TO_DEVICE: the device does not write, so the CPU cannot read stale data.
    if (e.direction !== 'DMA_TO_DEVICE') {
      const cln = e.paddr >> this.shift;
      e.cln = cln;
      // newest reads entry->attrs; 6.12 gets attrs as an argument (equal except alloc_pages: 0 both).
      const a = this.newest ? e.attrs : attrs;
      const clean = this.newest && (a & CACHE_CLEAN) !== 0;
      if (this.cachelines.insert(cln, a) === -17) {
        if (this.cachelines.last_overflow && !clean) {
          // model: reported every time; the kernel's WARN_ONCE prints the first only.
          this.overlap_limit_warned = true;
          this.warn.warn('dma-debug', 'DEBUG_CACHELINE_OVERLAP_LIMIT',
            `DMA-API: exceeded ${ACTIVE_CACHELINE_MAX_OVERLAP} overlapping mappings of cacheline ${hex(cln)}`, e.dev.name);
        }
        const exempt = (a & SKIP_CPU_SYNC) !== 0 ||
          (this.newest && clean && (this.cachelines.last_existing_attrs & CACHE_CLEAN) !== 0) ||
          (this.newest && !this.cache_alignment_ok) ||
          (this.bounce_unaligned_kmalloc && swiotlb_active);
        if (!exempt) {
          kernel_fired = true;
          this.err('DEBUG_CACHELINE_OVERLAP', e.dev,
            `cacheline tracking EEXIST, overlapping mappings aren't supported [cacheline=${hex(cln)}] [paddr=${hex(e.paddr)}] [size=${e.size} bytes]`);
        }
      }
    }
    if (this.full_range && e.direction !== 'DMA_TO_DEVICE' && (e.attrs & (SKIP_CPU_SYNC | MMIO)) === 0 && e.type !== 'resource') {
      this.full_range_check(e, kernel_fired, watch ?? [{ phys: e.paddr, size: e.size }]);
    }
  }

  /**
   * model: the stricter verdict. Any live watched mapping sharing any cacheline
   * with the new one is reported, except pairs the kernel verdict just covered
   * (same first cacheline, EEXIST reported) and, in newest, pairs that both carry
   * DEBUGGING_IGNORE_CACHELINES/REQUIRE_COHERENT. MMIO and resource mappings are
   * not watched: they do not go through the CPU cache.
   * @watch: the physical ranges the device reaches through this entry: [paddr, +size) except for
   * sg entries, where dma-debug pairs input segment i's paddr with output segment i's dma_length
   * (merged by an IOMMU, that length runs past segment i into unrelated memory); there the input
   * segments are watched instead (debug_dma_map_sg).
   */
  private full_range_check(e: DebugEntry, kernel_fired: boolean, watch: readonly PhysRange[]): void {
    const clean = this.newest && (e.attrs & CACHE_CLEAN) !== 0;
    const m = this.scratch;
    const seen = new Set<DebugEntry>();
    let first: DebugEntry | null = null;
    let shared = 0n;
    for (let j = 0; j < watch.length; j++) {
      const r = watch[j];
      const lo = r.phys >> this.shift;
      const hi = (r.phys + (r.size > 0n ? r.size - 1n : 0n)) >> this.shift;
      m.length = 0;
      this.lines.overlap(lo, hi, m);
      for (const x of m) {
        if (x === e || (kernel_fired && x.cln === e.cln)) continue;
        if (clean && (x.attrs & CACHE_CLEAN) !== 0) continue;
        seen.add(x);
        if (first === null || x.seq < first.seq) {
          first = x;
          shared = x.line_node.start > lo ? x.line_node.start : lo;
        }
      }
      const node = j === 0 ? e.line_node : new IxNode<DebugEntry>(e);
      if (j > 0) e.extra_lines.push(node);
      this.lines.insert(node, lo, hi);
    }
    const f: DebugEntry | null = first;
    if (f === null) return;
    this.full_overlaps++;
    this.mutations++;
    this.warn.warn('dma-debug', 'DEBUG_CACHELINE_OVERLAP_FULL',
      `DMA-API: ${e.dev.name}: mapping [paddr=${hex(e.paddr)}] [size=${e.size} bytes] [mapped with ${e.direction}] shares cacheline ${hex(shared)} ` +
      `with ${seen.size} live mapping(s), first [device=${f.dev.name}] [device address=${hex16(f.dev_addr)}] [paddr=${hex(f.paddr)}] ` +
      `[size=${f.size} bytes] [mapped with ${f.direction}] [mapped as ${f.type}]`, e.dev.name);
  }

  /** hash_bucket_del + dma_entry_free (active_cacheline_remove first, as the kernel does). */
  private remove_entry(e: DebugEntry): void {
    if (e.cln !== null) this.cachelines.remove(e.cln);
    if (e.line_node.cls >= 0) this.lines.remove(e.line_node);
    for (const n of e.extra_lines) this.lines.remove(n);
    e.extra_lines.length = 0;
    this.ledger.del(e);
    this.mutations++;
  }

  // ---- the checks ----

  /** check_for_stack (check 1). */
  private check_for_stack(dev: Device, mem: MemKind, phys: bigint): void {
    if (mem === 'stack') this.err('DEBUG_MAP_FROM_STACK', dev, `device driver maps memory from stack [addr=${hex(phys)}]`);
    else if (mem === 'vmap_stack') this.err('DEBUG_MAP_FROM_STACK', dev, `device driver maps memory from stack [probable addr=${hex(phys)}]`);
  }

  /**
   * check_for_illegal_area (check 2). model: the kernel compares the buffer's
   * linear-map address with _stext.._etext and the rodata section; where the
   * image is mapped apart from the linear map (x86-64, arm64) that alias cannot
   * intersect, so there the real check stays silent. The model fires on kind.
   */
  private check_for_illegal_area(dev: Device, mem: MemKind, phys: bigint, len: bigint): void {
    if (mem === 'text' || mem === 'rodata') {
      this.err('DEBUG_MAP_KERNEL_TEXT', dev, `device driver maps memory from kernel text or rodata [addr=${hex(phys)}] [len=${len}]`);
    }
  }

  /** check_sg_segment (checks 6 and 7; CONFIG_DMA_API_DEBUG_SG). */
  private check_sg_segment(dev: Device, s: DebugSg): void {
    if (!this.debug_sg) return;
    // dma_get_max_seg_size / dma_get_seg_boundary: 0 means "no dma_parms value".
    const max_seg = dev.max_segment_size === 0n ? 65536n : dev.max_segment_size;
    const boundary = dev.segment_boundary_mask === 0n ? U64_MAX : dev.segment_boundary_mask;
    if (s.length > max_seg) {
      this.err('DEBUG_SG_SEGMENT_TOO_LONG', dev, `mapping sg segment longer than device claims to support [len=${s.length}] [max=${max_seg}]`);
    }
    const start = s.dma_address;
    const end = (start + s.dma_length - 1n) & U64_MAX;
    if (((start ^ end) & ~boundary & U64_MAX) !== 0n) {
      this.err('DEBUG_SG_SEGMENT_BOUNDARY', dev, `mapping sg segment across boundary [start=${hex16(start)}] [end=${hex16(end)}] [boundary=${hex16(boundary)}]`);
    }
  }

  private static where(ref: DebugRef): string {
    return `[device address=${hex16(ref.dev_addr)}] [size=${ref.size} bytes]`;
  }

  private static what(ref: DebugRef, e: DebugEntry): string {
    return `[device address=${hex16(ref.dev_addr)}] [size=${e.size} bytes] [mapped with ${e.direction}] [synced with ${ref.direction}]`;
  }

  /** check_unmap (checks 8-15 and, newest, the attrs check): all applicable fire, then the entry goes. */
  private check_unmap(ref: DebugRef): void {
    const e = this.bucket_find_exact(ref);
    const dev = ref.dev;
    if (e === null) {
      if (this.dma_mapping_error(dev, ref.dev_addr)) this.err('DEBUG_FREE_INVALID_ADDRESS', dev, 'device driver tries to free an invalid DMA memory address');
      else this.err('DEBUG_FREE_NOT_ALLOCATED', dev, `device driver tries to free DMA memory it has not allocated [device address=${hex16(ref.dev_addr)}] [size=${ref.size} bytes]`);
      return;
    }
        if (ref.size !== e.size) {
      this.err('DEBUG_FREE_WRONG_SIZE', dev, `device driver frees DMA memory with different size [device address=${hex16(ref.dev_addr)}] [map size=${e.size} bytes] [unmap size=${ref.size} bytes]`);
    }
    if (ref.type !== e.type) {
      this.err('DEBUG_FREE_WRONG_FUNCTION', dev, `device driver frees DMA memory with wrong function ${DmaDebug.where(ref)} [mapped as ${e.type}] [unmapped as ${ref.type}]`);
    } else if ((e.type === 'coherent' || e.type === 'noncoherent') && ref.paddr !== e.paddr) {
      this.err('DEBUG_FREE_WRONG_CPU_ADDRESS', dev, `device driver frees DMA memory with different CPU address ${DmaDebug.where(ref)} [cpu alloc address=${hex(e.paddr)}] [cpu free address=${hex(ref.paddr)}]`);
    }
    if (ref.sg_call_ents !== 0 && ref.type === 'scatter-gather' && ref.sg_call_ents !== e.sg_call_ents) {
      this.err('DEBUG_FREE_WRONG_SG_COUNT', dev, `device driver frees DMA sg list with different entry count [map count=${e.sg_call_ents}] [unmap count=${ref.sg_call_ents}]`);
    }
    if (ref.direction !== e.direction) {
      this.err('DEBUG_FREE_WRONG_DIRECTION', dev, `device driver frees DMA memory with different direction ${DmaDebug.where(ref)} [mapped with ${e.direction}] [unmapped with ${ref.direction}]`);
    }
    if (e.map_err_type === 'not-checked') {
      this.err('DEBUG_MAP_ERROR_NOT_CHECKED', dev, `device driver failed to check map error ${DmaDebug.where(ref)} [mapped as ${e.type}]`);
    }
    if (this.newest && ref.attrs !== null && (ref.attrs & UNMAP_VALID) !== (e.attrs & UNMAP_VALID)) {
      this.err('DEBUG_FREE_WRONG_ATTRS', dev, `device driver frees DMA memory with different attributes ${DmaDebug.where(ref)} [mapped with ${hex(BigInt(e.attrs))}] [unmapped with ${hex(BigInt(ref.attrs ?? 0))}]`);
    }
    this.remove_entry(e);
  }

  /** check_sync (checks 16-21). */
  private check_sync(ref: DebugRef, to_cpu: boolean): void {
    const dev = ref.dev;
    const e = this.bucket_find_contain(ref);
    if (e === null) {
      this.err('DEBUG_SYNC_NOT_ALLOCATED', dev, `device driver tries to sync DMA memory it has not allocated [device address=${hex16(ref.dev_addr)}] [size=${ref.size} bytes]`);
      return;
    }
    if (ref.size > e.size) {
      this.err('DEBUG_SYNC_OUTSIDE_RANGE', dev, `device driver syncs DMA memory outside allocated range [device address=${hex16(e.dev_addr)}] [allocation size=${e.size} bytes] [sync offset+size=${ref.size}]`);
    }
    if (e.direction === 'DMA_BIDIRECTIONAL') return;
        if (ref.direction !== e.direction) this.err('DEBUG_SYNC_WRONG_DIRECTION', dev, `device driver syncs DMA memory with different direction ${DmaDebug.what(ref, e)}`);
    if (to_cpu && e.direction !== 'DMA_FROM_DEVICE' && ref.direction !== 'DMA_TO_DEVICE') {
      this.err('DEBUG_SYNC_DEVICE_READ_ONLY', dev, `device driver syncs device read-only DMA memory for cpu ${DmaDebug.what(ref, e)}`);
    }
    if (!to_cpu && e.direction !== 'DMA_TO_DEVICE' && ref.direction !== 'DMA_FROM_DEVICE') {
      this.err('DEBUG_SYNC_DEVICE_WRITE_ONLY', dev, `device driver syncs device write-only DMA memory to device ${DmaDebug.what(ref, e)}`);
    }
    if (ref.sg_call_ents !== 0 && ref.type === 'scatter-gather' && ref.sg_call_ents !== e.sg_call_ents) {
      this.err('DEBUG_SYNC_WRONG_SG_COUNT', dev, `device driver syncs DMA sg list with different entry count [map count=${e.sg_call_ents}] [sync count=${ref.sg_call_ents}]`);
    }
  }

  /** get_nr_mapped_entries: sg_mapped_ents of the exact match for element 0, or 0. */
  private get_nr_mapped_entries(ref: DebugRef): number {
    return this.bucket_find_exact(ref)?.sg_mapped_ents ?? 0;
  }

  // ---- the hooks (dma-core.md §6.2) ----

  /**
   * debug_dma_map_single: the pre-checks of dma_map_single_attrs (checks 3, 4).
   * @mem: where the buffer lives; vmalloc (and a vmapped stack) is not a valid
   * linear address either, so it gets both findings.
   */
  debug_dma_map_single(dev: Device, mem: MemKind, phys: bigint, len: bigint): void {
    if (this.disabled_) return;
    if (!VIRT_ADDR_VALID[mem]) this.err('DEBUG_MAP_INVALID_AREA', dev, `device driver maps memory from invalid area [addr=${hex(phys)}] [len=${len}]`);
    if (mem === 'vmalloc' || mem === 'vmap_stack') this.err('DEBUG_MAP_VMALLOC', dev, `device driver maps memory from vmalloc area [addr=${hex(phys)}] [len=${len}]`);
  }

  /**
   * debug_dma_map_page (6.12, type single) / debug_dma_map_phys (newest, type phy).
   * Records nothing for DMA_MAPPING_ERROR, but first runs dma_mapping_error(),
   * whose debug hook marks an older unchecked entry at dma_addr as checked.
   * @pfn_is_ram: newest, DMA_ATTR_MMIO only: the pfn is valid, non-reserved RAM.
   */
  debug_dma_map_phys(dev: Device, mem: MemKind, phys: bigint, size: bigint, dir: DmaDirection, dma_addr: bigint, attrs: DmaAttrs, swiotlb_active: boolean, pfn_is_ram = false): void {
    if (this.disabled_) return;
    if (this.dma_mapping_error(dev, dma_addr)) return;
    if (this.faults?.has('debug-drop-entry')) return;
    const e = this.entry_alloc();
    if (e === null) return;
    this.fill(e, dev, this.newest ? 'phy' : 'single', phys, dma_addr, size, dir, 'not-checked', attrs);
    if (this.newest && (attrs & MMIO) !== 0) {
      if (pfn_is_ram) this.err('DEBUG_MAP_RESOURCE_RAM', dev, `dma_map_resource called for RAM address ${hex(phys)}`);
    } else {
      this.check_for_stack(dev, mem, phys);
      this.check_for_illegal_area(dev, mem, phys, size);
    }
    this.add_dma_entry(e, attrs, swiotlb_active);
  }

  /**
   * debug_dma_unmap_page (6.12) / debug_dma_unmap_phys (newest, compares attrs).
   * @attrs: the unmap's attrs; model: when omitted the newest attrs check is skipped.
   * The same holds for the optional attrs of unmap_resource, unmap_sg and free_coherent.
   */
  debug_dma_unmap_phys(dev: Device, dma_addr: bigint, size: bigint, dir: DmaDirection, attrs?: DmaAttrs): void {
    if (this.disabled_) return;
    this.check_unmap(this.ref.set(dev, this.newest ? 'phy' : 'single', dma_addr, size, dir, 0, 0n, this.newest ? attrs ?? null : null));
  }

  /**
   * debug_dma_map_resource. 6.12: type resource, recorded even when dma_addr is
   * DMA_MAPPING_ERROR, no stack/text checks. newest: dma_map_resource is
   * dma_map_phys with DMA_ATTR_MMIO, so this is debug_dma_map_phys (type phy,
   * nothing recorded on error). @pfn_is_ram: newest only, see debug_dma_map_phys.
   */
  debug_dma_map_resource(dev: Device, phys: bigint, size: bigint, dir: DmaDirection, dma_addr: bigint, attrs: DmaAttrs, swiotlb_active = false, pfn_is_ram = false): void {
    if (this.newest) {
      this.debug_dma_map_phys(dev, 'linear', phys, size, dir, dma_addr, attrs | MMIO, swiotlb_active, pfn_is_ram);
      return;
    }
    if (this.disabled_) return;
    const e = this.entry_alloc();
    if (e === null) return;
    this.fill(e, dev, 'resource', phys, dma_addr, size, dir, 'not-checked', attrs);
    this.add_dma_entry(e, attrs, swiotlb_active);
  }

  /** debug_dma_unmap_resource (newest: debug_dma_unmap_phys with DMA_ATTR_MMIO). */
  debug_dma_unmap_resource(dev: Device, dma_addr: bigint, size: bigint, dir: DmaDirection, attrs?: DmaAttrs): void {
    if (this.newest) {
      this.debug_dma_unmap_phys(dev, dma_addr, size, dir, attrs === undefined ? undefined : attrs | MMIO);
      return;
    }
    if (this.disabled_) return;
    this.check_unmap(this.ref.set(dev, 'resource', dma_addr, size, dir, 0, 0n, null));
  }

  /** debug_dma_mapping_error: marks one not-checked entry (first in list order) as checked. */
  debug_dma_mapping_error(dev: Device, dma_addr: bigint): void {
    if (this.disabled_) return;
    this.mark_checked(dev, dma_addr);
  }

  /**
   * debug_dma_map_sg: stack/text checks on all @nents input elements, then one
   * entry per mapped segment (checks 6, 7, then 5 for each).
   */
  debug_dma_map_sg(dev: Device, mem: MemKind, sg: readonly DebugSg[], nents: number, mapped_ents: number, dir: DmaDirection, attrs: DmaAttrs, swiotlb_active: boolean): void {
    if (this.disabled_) return;
    const n_in = Math.min(nents, sg.length);
    for (let i = 0; i < n_in; i++) {
      const s = sg[i];
      const m = s.mem ?? mem;
      this.check_for_stack(dev, m, s.phys);
      this.check_for_illegal_area(dev, m, s.phys, s.length);
    }
    const n_map = Math.min(mapped_ents, sg.length);
    for (let i = 0; i < n_map; i++) {
      const s = sg[i];
      const e = this.entry_alloc();
      if (e === null) return;
      this.fill(e, dev, 'scatter-gather', s.phys, s.dma_address, s.dma_length, dir, 'not-applicable', attrs);
      e.sg_call_ents = nents;
      e.sg_mapped_ents = mapped_ents;
      this.check_sg_segment(dev, s);
      // The full-range verdict watches input segments: entry i its own, the last entry also those
      // merged away (the entries of one call live and die together).
      const watch = i + 1 < n_map ? [{ phys: s.phys, size: s.length }] : sg.slice(i, Math.max(n_in, i + 1)).map((x) => ({ phys: x.phys, size: x.length }));
      this.add_dma_entry(e, attrs, swiotlb_active, watch);
    }
  }

  /**
   * debug_dma_unmap_sg (dma-core.md §6.4): element 0 finds the mapped count (0 if
   * not found); later elements are checked while i < that count, or all of them
   * when it is 0. @attrs: newest only.
   */
  debug_dma_unmap_sg(dev: Device, sg: readonly DebugSg[], nelems: number, dir: DmaDirection, attrs?: DmaAttrs): void {
    if (this.disabled_) return;
    let mapped_ents = 0;
    const n = Math.min(nelems, sg.length);
    for (let i = 0; i < n; i++) {
      if (mapped_ents !== 0 && i >= mapped_ents) break;
      const s = sg[i];
      const ref = this.ref.set(dev, 'scatter-gather', s.dma_address, s.dma_length, dir, nelems, s.phys, this.newest ? attrs ?? null : null);
      if (i === 0) mapped_ents = this.get_nr_mapped_entries(ref);
      this.check_unmap(ref);
    }
  }

  /**
   * debug_dma_alloc_coherent: type coherent, BIDIRECTIONAL, map error check not
   * applicable. @cpu_addr: model: the buffer's physical address (the kernel
   * converts the CPU pointer with virt_to_paddr). Call only when the allocation
   * succeeded (the kernel returns early on NULL).
   */
  debug_dma_alloc_coherent(dev: Device, size: bigint, dma_addr: bigint, cpu_addr: bigint, attrs: DmaAttrs, swiotlb_active = false): void {
    if (this.disabled_) return;
    const e = this.entry_alloc();
    if (e === null) return;
    this.fill(e, dev, 'coherent', cpu_addr, dma_addr, size, 'DMA_BIDIRECTIONAL', 'not-applicable', attrs);
    this.add_dma_entry(e, attrs, swiotlb_active);
  }

  /** debug_dma_free_coherent (@attrs: newest only). */
  debug_dma_free_coherent(dev: Device, size: bigint, cpu_addr: bigint, dma_addr: bigint, attrs?: DmaAttrs): void {
    if (this.disabled_) return;
    this.check_unmap(this.ref.set(dev, 'coherent', dma_addr, size, 'DMA_BIDIRECTIONAL', 0, cpu_addr, this.newest ? attrs ?? null : null));
  }

  /** debug_dma_alloc_pages (dma_alloc_pages / dma_alloc_noncoherent): type noncoherent, attrs 0. */
  debug_dma_alloc_pages(dev: Device, phys: bigint, size: bigint, dir: DmaDirection, dma_addr: bigint, swiotlb_active = false): void {
    if (this.disabled_) return;
    const e = this.entry_alloc();
    if (e === null) return;
    this.fill(e, dev, 'noncoherent', phys, dma_addr, size, dir, 'not-applicable', 0);
    this.add_dma_entry(e, 0, swiotlb_active);
  }

  /** debug_dma_free_pages */
  debug_dma_free_pages(dev: Device, phys: bigint, size: bigint, dir: DmaDirection, dma_addr: bigint): void {
    if (this.disabled_) return;
    this.check_unmap(this.ref.set(dev, 'noncoherent', dma_addr, size, dir, 0, phys, this.newest ? 0 : null));
  }

  /** debug_dma_sync_single_for_cpu: ref type single, sg_call_ents 0 (also in newest). */
  debug_dma_sync_single_for_cpu(dev: Device, dma_addr: bigint, size: bigint, dir: DmaDirection): void {
    if (this.disabled_) return;
    this.check_sync(this.ref.set(dev, 'single', dma_addr, size, dir, 0, 0n, null), true);
  }

  debug_dma_sync_single_for_device(dev: Device, dma_addr: bigint, size: bigint, dir: DmaDirection): void {
    if (this.disabled_) return;
    this.check_sync(this.ref.set(dev, 'single', dma_addr, size, dir, 0, 0n, null), false);
  }

  /** debug_dma_sync_sg_for_cpu: if element 0 is not found nothing at all is checked (§6.4). */
  debug_dma_sync_sg_for_cpu(dev: Device, sg: readonly DebugSg[], nelems: number, dir: DmaDirection): void {
    this.sync_sg(dev, sg, nelems, dir, true);
  }

  debug_dma_sync_sg_for_device(dev: Device, sg: readonly DebugSg[], nelems: number, dir: DmaDirection): void {
    this.sync_sg(dev, sg, nelems, dir, false);
  }

  private sync_sg(dev: Device, sg: readonly DebugSg[], nelems: number, dir: DmaDirection, to_cpu: boolean): void {
    if (this.disabled_) return;
    let mapped_ents = 0;
    const n = Math.min(nelems, sg.length);
    for (let i = 0; i < n; i++) {
      const s = sg[i];
      const ref = this.ref.set(dev, 'scatter-gather', s.dma_address, s.dma_length, dir, nelems, s.phys, null);
      if (i === 0) mapped_ents = this.get_nr_mapped_entries(ref);
      if (i >= mapped_ents) break;
      this.check_sync(ref, to_cpu);
    }
  }

  /**
   * dma_debug_device_change(BUS_NOTIFY_UNBOUND_DRIVER), check 22: counts the
   * device's live entries and names the last one in hash order. The entries stay
   * in the ledger (the kernel only reports). Only buses registered with
   * dma_debug_add_bus are watched (PCI upstream).
   */
  debug_dma_device_removed(dev: Device): void {
    if (this.disabled_ || !this.leak_buses.includes(dev.bus)) return;
    const count = this.ledger.device_count(dev);
    if (count === 0) return;
    let last: DebugEntry | null = null;
    for (const e of this.ledger.device_entries(dev)) {
      if (last === null || e.bucket > last.bucket || (e.bucket === last.bucket && e.seq > last.seq)) last = e;
    }
    const e = last as DebugEntry;
    this.err('DEBUG_LEAK_AT_REMOVE', dev,
      `device driver has pending DMA allocations while released from device [count=${count}] One of leaked entries details: ` +
      `[device address=${hex16(e.dev_addr)}] [size=${e.size} bytes] [mapped with ${e.direction}] [mapped as ${e.type}]`);
  }

  private fill(e: DebugEntry, dev: Device, type: DebugEntryType, paddr: bigint, dev_addr: bigint, size: bigint, dir: DmaDirection, map_err: MapErrType, attrs: DmaAttrs): void {
    e.dev = dev;
    e.type = type;
    e.paddr = paddr;
    e.dev_addr = dev_addr;
    e.size = size;
    e.direction = dir;
    e.map_err_type = map_err;
    e.attrs = attrs;
  }

  // ---- the view ----

  private makeView(): DmaDebugView {
    const self = this;
    const l = this.ledger;
    const clnView = (cln: bigint, st: Readonly<ClnState>): CachelineView => ({ cln, overlap: st.present ? st.overlap : -1, live: st.live, saturated: st.saturated });
    return {
      get disabled() { return self.disabled_; },
      get error_count() { return self.error_count; },
      get live_entries() { return l.live; },
      get num_free_entries() { return l.num_free_entries; },
      get nr_total_entries() { return l.nr_total_entries; },
      get mutations() { return self.mutations; },
      entries: () => l.entries(),
      device_entries: (dev) => l.device_entries(dev),
      device_count: (dev) => l.device_count(dev),
      dump: () => [...l.entries()].sort((a, b) => a.bucket - b.bucket || a.seq - b.seq),
      cacheline: (cln) => {
        const st = self.cachelines.get(cln);
        return st === undefined ? undefined : clnView(cln, st);
      },
      *cachelines() {
        for (const [cln, st] of self.cachelines.keys()) yield clnView(cln, st);
      },
      cacheline_key: (paddr) => paddr >> self.shift,
      self_check: () => self.self_check(),
    };
  }

  private self_check(): string[] {
    const out: string[] = [];
    const l = this.ledger;
    if (l.num_free_entries + l.live !== l.nr_total_entries) {
      out.push(`DBG-4: num_free_entries ${l.num_free_entries} + live ${l.live} != nr_total_entries ${l.nr_total_entries}`);
    }
    if (l.min_free_entries > l.num_free_entries) out.push(`min_free_entries ${l.min_free_entries} > num_free_entries ${l.num_free_entries}`);
    const per_cln = new Map<bigint, number>();
    let n = 0;
    let watched = 0;
    for (const e of l.entries()) {
      n++;
      if (e.line_node.cls >= 0) watched += 1 + e.extra_lines.length;
      if (e.bucket !== hash_fn(e.dev_addr)) out.push(`entry ${hex(e.dev_addr)}: bucket ${e.bucket} != hash_fn`);
      if (e.direction === 'DMA_TO_DEVICE') {
        if (e.cln !== null) out.push(`entry ${hex(e.dev_addr)}: TO_DEVICE entry carries a cacheline key`);
      } else if (e.cln !== e.paddr >> this.shift) out.push(`entry ${hex(e.dev_addr)}: cacheline key is not paddr >> L1_CACHE_SHIFT`);
      else per_cln.set(e.cln, (per_cln.get(e.cln) ?? 0) + 1);
    }
    if (n !== l.live || l.by_dma.size !== l.live) out.push(`ledger: ${n} entries listed, ${l.live} counted, ${l.by_dma.size} indexed`);
    if (watched !== this.lines.size) out.push(`full-range index holds ${this.lines.size}, ${watched} entries say they are in it`);
    for (const [cln, st] of this.cachelines.keys()) {
      const live = per_cln.get(cln) ?? 0;
      per_cln.delete(cln);
      if (live !== st.live) out.push(`cacheline ${hex(cln)}: ${st.live} counted, ${live} live entries`);
      // DBG-3, as the kernel actually behaves: counter = live - 1 until an increment
      // is dropped at 7; after that it can only trail.
      const expect = st.saturated ? `<= ${Math.min(ACTIVE_CACHELINE_MAX_OVERLAP, live - 1)}` : `${live - 1}`;
      const ok = st.saturated
        ? !st.present || st.overlap <= Math.min(ACTIVE_CACHELINE_MAX_OVERLAP, live - 1)
        : st.present === live > 0 && (!st.present || st.overlap === live - 1);
      if (!ok) out.push(`DBG-3: cacheline ${hex(cln)}: overlap ${st.present ? st.overlap : 'absent'}, expected ${expect} for ${live} live`);
    }
    for (const [cln, live] of per_cln) out.push(`DBG-3: cacheline ${hex(cln)} has ${live} live entries but no record`);
    return out;
  }
}
