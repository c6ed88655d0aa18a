/**
 * What one op did to the IOMMU layers, as facts for the checkers (iommu-tracker.ts
 * derives them from the op, its result, the read-only views and counter deltas).
 * Checkers only read these and the views; they never change state.
 */
import type { PgtableLeaf } from '../iommu/io-pgtable';
import type { IovaNodeView } from '../iommu/iova-types';
import type { DomState, DmaMapping, FqShadowEntry } from './iommu-state';
import type { LeafMismatch } from './iommu-ranges';
import type { SgSlot } from './iommu-expect';

/** A range the allocator handed out during the op. */
export interface NewNode {
  readonly lo: bigint;
  readonly hi: bigint;
  /** pfns the tree or cache was asked for (after alloc_iova_fast's rounding) */
  readonly pages: bigint;
  /** the caller's inclusive limit_pfn */
  readonly limit: bigint;
  readonly aligned: boolean;
  /** served by a range cache (rcache hit); undefined when the op's hits cannot be told apart (several allocations) */
  readonly fromCache: boolean | undefined;
  /** through alloc_iova_fast (cache classes apply) */
  readonly fast: boolean;
  /** the node the view holds at lo after the op */
  readonly node: IovaNodeView | undefined;
  /** occurrences of lo still in the CPU's magazines of its class after the op (0 unless a pfn was cached twice) */
  readonly stillCached: number;
  /** it overlaps a flush-queue entry still waiting */
  readonly inFq: boolean;
  /** it overlaps a live range (before this op) */
  readonly wasLive: boolean;
}

/** An allocation whose failure the caller saw; I-A11 asks whether a gap existed. */
export interface AllocFailure {
  readonly pages: bigint;
  readonly limit: bigint;
  readonly aligned: boolean;
  /** every failing search of the op took the max32_alloc_size shortcut, and the kernel's rules do not make it complete */
  readonly excused: boolean;
  readonly what: string;
}

/** Where a freed range ended up after the op. */
export type FreedDest = 'cache' | 'tree' | 'lost' | 'twice';

export interface Freed {
  readonly lo: bigint;
  readonly pages: bigint;
  readonly via: 'unmap' | 'retire' | 'free_iova_fast' | 'free_iova' | 'dma_iova_free' | 'dma_iova_destroy';
  readonly dest: FreedDest;
  /** the node at lo after the op, if any */
  readonly node: IovaNodeView | undefined;
  /** it is live (again) after the op */
  readonly live: boolean;
}

/** A successful dma-iommu map (one per mapping; an sg list mapped entry by entry gives one per entry). */
export interface MapEvent {
  readonly m: DmaMapping;
  readonly op: string;
  /** the driver's physical address (single, sg-entry) */
  readonly phys: bigint;
  /** the bounce slot it translates to, when it bounced */
  readonly bounce: bigint | undefined;
  readonly mustBounce: boolean;
  /** what swiotlb recorded as the slot's original (bounced maps) */
  readonly slotOrig: bigint | undefined;
  /** handle mod G the digest asks for (I-D2) */
  readonly wantOff: bigint;
  /** the node that holds the mapping after the op */
  readonly node: IovaNodeView | undefined;
  /** pfns alloc_iova_fast was asked for */
  readonly pages: bigint;
  /** inclusive byte limit (I-D8) */
  readonly limit: bigint;
  /** the 32-bit-first attempt succeeded, so the node lies below 4 GiB */
  readonly below4G: boolean;
  /** another live mapping shares a granule with this one (I-D3) */
  readonly clash: DmaMapping | undefined;
  /** stale IOTLB entries over the node when it was handed out (I-D5) */
  readonly stale: number;
  /** it overlaps a range still waiting in the flush queue */
  readonly inFq: boolean;
}

export interface UnmapEvent {
  readonly m: DmaMapping;
  readonly queued: boolean;
  /** IOTLB entries overlapping the node after the op */
  readonly iotlb: number;
}

/** A flush-queue entry retired during the op. */
export interface RetireEvent {
  readonly e: FqShadowEntry;
  /** a flush_iotlb_all completed between its queueing and its retirement */
  readonly flushed: boolean;
  /** IOTLB entries overlapping its range after the op */
  readonly iotlb: number;
  /** a lazy dma_iova_destroy queued it */
  readonly iovaApi: boolean;
}

/**
 * What one op of the IOVA-based API did to a state's allocation, as findings per clause: the
 * tracker compares the page table and IOTLB over the op's own range with its shadow of the links.
 */
export interface IovaEvent {
  readonly op: string;
  readonly state: string;
  /** linked bytes that do not translate to what was linked (IOVA-API-LINKS-TRANSLATE) */
  readonly translate: string[];
  /** IOVA of the allocation that translates outside every link and its rounding (IOVA-API-NOTHING-ELSE) */
  readonly extra: string[];
  /** translations or IOTLB entries left by dma_iova_unlink / dma_iova_destroy / dma_iova_free (IOVA-API-REVOKED) */
  readonly revoked: string[];
  /** a link sharing a granule with another link or live range, or leaving its allocation (DMA-IOMMU-NO-SHARED-GRANULE) */
  readonly shared: string[];
  /** it unmapped links in a strict way: iommu_iotlb_sync must have reached the driver (DomChange.iotlbSyncs) */
  mustSync: boolean;
}

/** A range of one page table an op touched, with its leaves and what they should be. */
export interface PtRange {
  readonly why: 'dma-map' | 'dma-unmap' | 'iommu_map' | 'iommu_map_sg' | 'iommu_unmap' | 'split-window'
    | 'iova-link' | 'iova-sync' | 'iova-unlink' | 'iova-destroy' | 'iova-free';
  readonly start: bigint;
  readonly end: bigint;
  readonly leaves: readonly PgtableLeaf[];
  /** against the domain's expected translations; undefined when those are unknown */
  readonly diff: readonly LeafMismatch[] | undefined;
  /** iommu_unmap: where the call started and the bytes it reported */
  readonly opStart?: bigint;
  readonly unmapped?: bigint;
  readonly size?: bigint;
  /** iommu_map / iommu_map_sg failed with the kernel's table-replacement edge case (§5.3): exempt */
  readonly edgeCase?: boolean;
  readonly ok?: boolean;
}

/** What an op did to one domain. */
export interface DomChange {
  readonly st: DomState;
  /** the domain was already tainted before this op, or became tainted by it */
  readonly tainted: boolean;
  readonly nodes: NewNode[];
  readonly failure: AllocFailure | undefined;
  readonly freed: Freed[];
  /** a node below 4 GiB is known to have left the tree during the op */
  readonly removedLow: boolean;
  /** failing searches of the op and their sizes where known */
  readonly failures: number;
  readonly failSizes: bigint[];
  readonly max32Before: bigint;
  readonly maps: MapEvent[];
  readonly unmaps: UnmapEvent[];
  readonly retired: RetireEvent[];
  /** expected flush-queue appends (the unmaps) and what the rings took */
  readonly queuedWant: { lo: bigint; pages: bigint }[];
  readonly queuedGot: FqShadowEntry[];
  /** the flush queue lost or invented entries (I-D6); messages */
  readonly fqTrouble: string[];
  readonly fqBefore: { start: bigint; finish: bigint };
  /** range caches flushed by a failing allocation: how many pfns may be cached after it */
  readonly cacheFlush: number | undefined;
  readonly pt: PtRange[];
  /** I-C4 after iommu_unmap / iommu_iotlb_sync: IOTLB entries left over [start, end) */
  readonly iotlbLeft: { start: bigint; end: bigint; n: number; why: string }[];
  /** iommu_iova_to_phys: what it returned, the leaf walk's answer and the expected one */
  readonly lookups: { iova: bigint; got: bigint; leaf: bigint; want: bigint | undefined }[];
  /** the range-cache classes the op pushed to or popped from */
  readonly classes: Set<number>;
  /** IOVA-API ops on a state of this domain */
  readonly iova: IovaEvent[];
  /** merged scatterlist maps, for I-D10 */
  readonly sgs: SgEvent[];
  /** reserve_iova ranges */
  readonly reserves: { lo: bigint; hi: bigint }[];
  /** driver iotlb_sync calls during the op */
  readonly iotlbSyncs: number;
  /** the op inserted nodes into the tree (a successful search or a reservation) */
  readonly inserted: boolean;
  /** checkIovaRange's findings around what the op inserted, computed once for I-A1 and I-A2 */
  rangeFindings?: string[];
  /** a failed entry-by-entry sg map unwound entries the checker never saw: flush-queue appends are not all known */
  readonly looseFrees: boolean;
  /** a dma-iommu map failed because its freshly allocated IOVA already translated (io-pgtable's -EEXIST) */
  readonly mapHitLeaf: boolean;
  /** the iommu_map / iommu_map_sg calls the op made, as (iova, paddr, size) per __iommu_map, when known (I-C5) */
  readonly mapCalls: { iova: bigint; paddr: bigint; size: bigint }[] | undefined;
}

/** A merged dma_map_sg: the driver's entries, their layout and what came back. */
export interface SgEvent {
  readonly m: DmaMapping;
  readonly ents: readonly { phys: bigint; length: bigint }[];
  readonly slots: readonly SgSlot[];
  readonly count: number;
  readonly sg: readonly { dma_address: bigint; dma_length: bigint }[];
  readonly max_seg: bigint;
  readonly seg_mask: bigint;
}
