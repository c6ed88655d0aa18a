/**
 * The mutable record iommu-tracker.ts fills while it works out one op (a DomChange
 * plus scratch fields), and the helpers the op interpreters share.
 */
import { diffLeaves } from './iommu-ranges';
import type { DomState } from './iommu-state';
import type { DomChange, Freed, PtRange } from './iommu-events';

export type Builder = { -readonly [K in keyof DomChange]: DomChange[K] } & {
  /** ranges the op freed, before their destination is observed */
  frees: { lo: bigint; pages: bigint; via: Freed['via'] }[];
  /** a dma map failed; its IOVA request, if the allocation was what failed */
  mapFailed: { pages: bigint; limit: bigint } | undefined;
  allocFailed: { pages: bigint; limit: bigint; aligned: boolean; what: string } | undefined;
  cacheFlushMax: number | undefined;
};

export function newChange(st: DomState): Builder {
  return {
    st, tainted: st.taint !== null, nodes: [], failure: undefined, freed: [], removedLow: false, failures: 0, failSizes: [],
    max32Before: st.snap.max32, maps: [], unmaps: [], retired: [], queuedWant: [], queuedGot: [], fqTrouble: [],
    fqBefore: { start: st.snap.fq_start, finish: st.snap.fq_finish }, cacheFlush: undefined, pt: [], iotlbLeft: [], lookups: [],
    classes: new Set(), sgs: [], iova: [], frees: [], reserves: [], mapFailed: undefined, allocFailed: undefined, cacheFlushMax: undefined, looseFrees: false,
    mapHitLeaf: false, mapCalls: undefined, inserted: false, iotlbSyncs: 0,
  };
}

/** Adds a page-table range the op touched, with its leaves and their diff against the expected translations; returns it. */
export function ptRange(st: DomState, b: Builder, why: PtRange['why'], start: bigint, end: bigint, extra: Partial<PtRange> = {}): PtRange | undefined {
  const pg = st.pgView;
  if (!pg) return undefined;
  const leaves = pg.leaves_in(start, end);
  const diff = st.tx ? diffLeaves(leaves, st.tx.overlapping(start, end), start, end) : undefined;
  const r: PtRange = { why, start, end, leaves, diff, ...extra };
  b.pt.push(r);
  return r;
}

/** IOTLB entries of the domain overlapping [start, end). */
export function iotlbCount(st: DomState, start: bigint, end: bigint): number {
  const iotlb = st.dd?.domain.iotlb;
  return iotlb && start < end ? iotlb.overlapping(start, end - 1n).length : 0;
}
