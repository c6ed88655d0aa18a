/**
 * Per-domain state the IOMMU checkers keep (iommu-tracker.ts fills it): which
 * IOVA ranges are live and what they map, what the flush queue should hold,
 * which translations the page table should hold, and a snapshot of the model's
 * counters at the end of the last op so an op's effects show as deltas. One
 * DomState per IOMMU domain (DMA, DMA_FQ, UNMANAGED, ...) and per stand-alone
 * IOVA domain.
 */
import type BTree from 'sorted-btree';
import type { DmaDomain } from '../iommu/iommu-devices';
import type { IovaDomain } from '../iommu/iova';
import type { IovaView } from '../iommu/iova-types';
import type { ArmLpaeIoPgtable, ArmLpaePgtableView, ArmLpaeStats } from '../iommu/io-pgtable-arm';
import { PfnRanges, TranslationMap, type Translation } from './iommu-ranges';

/** A range the allocator handed out and nobody has freed (for DMA domains: one mapping). */
export interface LiveRange {
  readonly lo: bigint;
  readonly hi: bigint;
}

export type MappingKind = 'single' | 'resource' | 'sg' | 'sg-entry' | 'coherent' | 'iova';

/** A live dma-iommu mapping: its IOVA node, how the driver will name it at unmap, and what it must translate to. */
export interface DmaMapping extends LiveRange {
  readonly dev: string;
  readonly kind: MappingKind;
  /** first byte of the node */
  readonly iova: bigint;
  /** bytes mapped from iova (granule multiple; padding included, power-of-two tail excluded) */
  readonly len: bigint;
  /** the handle the driver got (sg: the first segment's address) */
  readonly handle: bigint;
  /** the size the driver mapped (single, sg-entry); 0 otherwise */
  readonly size: bigint;
  readonly runs: readonly Translation[];
  /** sg: the result entries (dma_address, dma_length) and the nents the driver passed */
  readonly sg?: readonly { readonly dma: bigint; readonly len: bigint }[];
  readonly nents?: number;
  /** coherent: the CPU address free takes */
  readonly cpu_addr?: bigint;
}

/** One dma_iova_link as the checkers follow it (iommu.md §3.11). */
export interface IovaLink {
  /** the driver's offset and size */
  readonly offset: bigint;
  readonly size: bigint;
  /** the granule-aligned IOVA range [start, end) it maps (head and tail rounding included) */
  readonly start: bigint;
  readonly end: bigint;
  /** what it must translate to (bounced pieces: the bounce slot holding the driver's bytes) */
  readonly runs: readonly Translation[];
  readonly bounced: boolean;
}

/**
 * A dma_iova_state's IOVA allocation, live from a successful dma_iova_try_alloc to its
 * dma_iova_free or dma_iova_destroy: a live range like a mapping (handle = state.addr, size = the
 * try_alloc size, runs empty) whose links, by IOVA, say what translates inside it.
 */
export interface IovaAlloc extends DmaMapping {
  readonly kind: 'iova';
  readonly state: string;
  readonly links: BTree<bigint, IovaLink>;
}

/** One flush-queue entry as the checkers follow it. */
export interface FqShadowEntry {
  readonly lo: bigint;
  readonly pages: bigint;
  readonly counter: bigint;
  /** the domain's flush count when it was queued: it may retire once a later flush completed */
  readonly epoch: number;
}

/** The model counters whose deltas describe an op. */
export interface Snapshot {
  alloc_calls: number;
  alloc_failures: number;
  shortcut_32bit: number;
  rcache_hits: number;
  rcache_flushes: number;
  rcache_inserts: number;
  rcache_insert_fallbacks: number;
  depot_pushes: number;
  depot_trims: number;
  node_count: number;
  max32: bigint;
  depot: number[];
  flush_iotlb_all: number;
  iotlb_sync: number;
  map_pages: number;
  unmap_pages: number;
  overlapping_maps: number;
  block_splits: number;
  partial_unmaps_refused: number;
  fq_queued: number;
  fq_retired: number;
  fq_start: bigint;
  fq_finish: bigint;
}

export class DomState {
  readonly name: string;
  /** The IOMMU domain, or undefined for a stand-alone IOVA domain. */
  readonly dd: DmaDomain | undefined;
  readonly iovad: IovaDomain | undefined;
  /** dma-iommu drives this domain (type DMA or DMA_FQ with an IOVA cookie). */
  readonly dma: boolean;
  /** A flush queue (DMA_FQ): unmaps are lazy. */
  readonly lazy: boolean;
  readonly G: bigint;
  readonly shift: bigint;
  /**
   * Why the shadow no longer describes the domain (driver misuse: an unmap that matches no
   * mapping, a lower-layer op on a DMA domain, an allocation the checker cannot see...).
   * State-dependent checks stop; checks of one op's own result go on.
   */
  taint: string | null = null;
  /** Live ranges: for DMA domains the mappings, for stand-alone domains the allocations. */
  readonly live = new PfnRanges<DmaMapping | (LiveRange & { readonly fast: boolean })>();
  readonly coherent = new Map<bigint, DmaMapping>();
  /** sg lists mapped entry by entry (untrusted devices), by their first entry's handle. */
  readonly groups = new Map<bigint, DmaMapping[]>();
  /** An unaligned alloc_iova happened: I-A11 is only claimed for domains that allocate aligned (iommu.md §2.14). */
  unaligned = false;
  /** Reserved nodes (reserve_iova) in the allocator. */
  reserved = 0;
  /** The translations the page table should hold; null when unknown (taint). */
  tx: TranslationMap | null;
  /** Flush-queue rings as the checkers follow them (oldest first), and the ranges they hold. */
  readonly rings: FqShadowEntry[][] = [];
  readonly fqByLo = new PfnRanges<FqShadowEntry & { readonly hi: bigint }>();
  /** The CPU of the op being reconciled. */
  cpu = 0;
  /** Completed flush_iotlb_all calls seen. */
  epoch = 0;
  /** Model time of the last queue_iova, for G-4. */
  lastQueueMs: number | null = null;
  /** The last failed search that did not take the 32-bit shortcut: its exclusive limit (I-A11 caveat). */
  setter: { L: bigint; aligned: boolean } | null = null;
  /**
   * pfns dma_iova_destroy filed under a smaller size class than their node (a mapped_len shorter than
   * the allocation, iommu.md §3.11 quirk): I-A6's documented exception, until a new node starts there.
   */
  readonly quirk = new Set<bigint>();
  /** pfns a lazy dma_iova_destroy queued, until they retire (IOVA-API-REVOKED follows them). */
  readonly iovaQueued = new Set<bigint>();
  /** iommu_unmap_fast ranges not yet followed by an iommu_iotlb_sync op (I-C4). */
  unsynced: { start: bigint; end: bigint }[] = [];
  snap: Snapshot;

  constructor(name: string, dd: DmaDomain | undefined, iovad: IovaDomain | undefined, ncpus: number) {
    this.name = name;
    this.dd = dd;
    this.iovad = iovad;
    this.dma = dd !== undefined && iovad !== undefined && (dd.domain.type === 'DMA' || dd.domain.type === 'DMA_FQ');
    this.lazy = this.dma && dd!.fq !== null;
    this.G = iovad ? iovad.granule : (dd ? dd.domain.pgsize_bitmap & -dd.domain.pgsize_bitmap : 4096n);
    this.shift = BigInt(this.G.toString(2).length - 1);
    this.tx = dd && this.pgtable ? new TranslationMap() : null;
    if (this.lazy) for (let r = 0; r < (dd!.fq!.kind === 'single' ? 1 : ncpus); r++) this.rings.push([]);
    this.reserved = iovad ? iovad.view.node_count - 1 : 0;
    this.snap = this.take();
  }

  get view(): IovaView | undefined {
    return this.iovad?.view;
  }

  get pgtable(): ArmLpaeIoPgtable | undefined {
    const t = this.dd?.domain.pgtbl as ArmLpaeIoPgtable | undefined;
    return t && 'view' in t ? t : undefined;
  }

  get pgView(): ArmLpaePgtableView | undefined {
    return this.pgtable?.view;
  }

  /** Ranges in the flush queue, all rings. */
  get fqCount(): number {
    let n = 0;
    for (const r of this.rings) n += r.length;
    return n;
  }

  /** Every pfn in a magazine or the depot (I-A8 counts them). O(classes · (CPUs + depot)). */
  cachedCount(): number {
    const v = this.view;
    if (!v) return 0;
    let n = 0;
    for (const rc of v.rcaches) {
      for (let c = 0; c < v.ncpus; c++) n += rc.loaded(c).length + rc.prev(c).length;
      for (const m of rc.depot) n += m.length;
    }
    return n;
  }

  /** The counters now. */
  take(): Snapshot {
    const v = this.view;
    const s = v?.stats;
    const d = this.dd?.domain;
    const pt: ArmLpaeStats | undefined = this.pgtable?.stats;
    const fq = this.dd?.fq ?? null;
    return {
      alloc_calls: s?.alloc_calls ?? 0,
      alloc_failures: s?.alloc_failures ?? 0,
      shortcut_32bit: s?.shortcut_32bit ?? 0,
      rcache_hits: s?.rcache_hits ?? 0,
      rcache_flushes: s?.rcache_flushes ?? 0,
      rcache_inserts: s?.rcache_inserts ?? 0,
      rcache_insert_fallbacks: s?.rcache_insert_fallbacks ?? 0,
      depot_pushes: s?.depot_pushes ?? 0,
      depot_trims: s?.depot_trims ?? 0,
      node_count: v?.node_count ?? 0,
      max32: v?.max32_alloc_size ?? 0n,
      depot: v ? v.rcaches.map((r) => r.depot.length) : [],
      flush_iotlb_all: d?.stats.flush_iotlb_all ?? 0,
      iotlb_sync: d?.stats.iotlb_sync ?? 0,
      map_pages: d?.stats.map_pages ?? 0,
      unmap_pages: d?.stats.unmap_pages ?? 0,
      overlapping_maps: pt?.overlapping_maps ?? 0,
      block_splits: pt?.block_splits ?? 0,
      partial_unmaps_refused: pt?.partial_unmaps_refused ?? 0,
      fq_queued: fq?.stats.queued ?? 0,
      fq_retired: fq?.stats.retired ?? 0,
      fq_start: fq?.flush_start_cnt ?? 0n,
      fq_finish: fq?.flush_finish_cnt ?? 0n,
    };
  }

  /** Whether anything the checkers follow may have changed since the snapshot (cheap counters only). */
  moved(): boolean {
    const v = this.view;
    const s = v?.stats;
    const d = this.dd?.domain;
    const q = this.snap;
    if (s && (s.alloc_calls !== q.alloc_calls || s.rcache_hits !== q.rcache_hits || s.rcache_inserts !== q.rcache_inserts
      || s.rcache_insert_fallbacks !== q.rcache_insert_fallbacks || s.depot_trims !== q.depot_trims || v!.node_count !== q.node_count
      || s.rcache_flushes !== q.rcache_flushes || s.alloc_failures !== q.alloc_failures)) return true;
    if (d && (d.stats.map_pages !== q.map_pages || d.stats.unmap_pages !== q.unmap_pages || d.stats.flush_iotlb_all !== q.flush_iotlb_all)) return true;
    const fq = this.dd?.fq;
    return fq !== undefined && fq !== null && (fq.stats.queued !== q.fq_queued || fq.stats.retired !== q.fq_retired || fq.flush_start_cnt !== q.fq_start);
  }

  /** Stop following the domain's contents (see taint). */
  stop(reason: string): void {
    if (this.taint === null) this.taint = reason;
    this.tx = null;
  }
}
