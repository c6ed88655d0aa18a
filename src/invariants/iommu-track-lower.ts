/**
 * How iommu-tracker.ts reads the lower-layer ops called directly: iommu_* on a
 * domain (the translations they leave, per the core's contract, iommu.md §4) and
 * the allocator ops on a stand-alone IOVA domain (what is live). Either on a DMA
 * domain is done behind dma-iommu's back: the domain is tainted.
 */
import type { ResolvedOp } from '../engine/handles';
import type { OpResult } from '../ops/types';
import { checkReservePrecondition } from '../iommu/iova-check';
import { resultBig } from './op-facts';
import type { DomState } from './iommu-state';
import { alignUp, roundedPages, sizeClass } from './iommu-expect';
import { hex } from './iommu-ranges';
import type { NewNode } from './iommu-events';
import { iotlbCount, ptRange, type Builder } from './iommu-builder';

export function trackCore(st: DomState, b: Builder, op: ResolvedOp, r: OpResult): void {
  const d = st.dd;
  if (!d) return;
  const mutates = ['iommu_map', 'iommu_map_sg', 'iommu_unmap', 'iommu_unmap_fast'].includes(op.op);
  if (mutates && st.dma) st.stop(`${op.op} on DMA domain "${st.name}" behind dma-iommu's back`);
  const pt = st.pgtable;
  switch (op.op) {
    case 'iommu_map': case 'iommu_map_sg': {
      if (!pt) return;
      const pieces = op.op === 'iommu_map' ? [{ phys: op.paddr, length: op.size }] : op.sg;
      const total = pieces.reduce((s, e) => s + e.length, 0n);
      const mapped = op.op === 'iommu_map' ? (r.ok ? op.size : 0n) : (resultBig(r, 'mapped') ?? 0n);
      const edge = pt.stats.overlapping_maps !== st.snap.overlapping_maps;
      if (st.tx && r.ok) {
        let at = op.iova;
        for (const e of pieces) {
          const take = at + e.length <= op.iova + mapped ? e.length : op.iova + mapped - at;
          if (take > 0n) st.tx.set(at, at + take, e.phys, op.prot);
          at += e.length;
        }
      } else if (st.tx && edge) st.tx.resync(op.iova, op.iova + total, pt.view.leaves_in(op.iova, op.iova + total));
      ptRange(st, b, op.op, op.iova, op.iova + total, { ok: r.ok, edgeCase: edge && !r.ok, size: total });
      b.mapCalls = op.op === 'iommu_map' ? [{ iova: op.iova, paddr: op.paddr, size: op.size }] : mapSgCalls(op.iova, op.sg);
      return;
    }
    case 'iommu_unmap': case 'iommu_unmap_fast': {
      const got = resultBig(r, 'unmapped') ?? 0n;
      st.tx?.remove(op.iova, op.iova + got);
      ptRange(st, b, 'iommu_unmap', op.iova, op.iova + op.size, { opStart: op.iova, unmapped: got, size: op.size });
      if (pt && (pt.stats.block_splits !== st.snap.block_splits || pt.stats.partial_unmaps_refused !== st.snap.partial_unmaps_refused)) {
        // A block met the edge of the range: look at the whole blocks around it (≤ the largest page size).
        const big = 1n << BigInt(pt.view.pgsize_bitmap.toString(2).length - 1);
        ptRange(st, b, 'split-window', op.iova & ~(big - 1n), alignUp(op.iova + op.size, big), { opStart: op.iova, unmapped: got, size: op.size });
      }
      if (op.op === 'iommu_unmap' && got > 0n) b.iotlbLeft.push(iotlbLeft(st, op.iova, op.iova + got, 'iommu_unmap'));
      if (op.op === 'iommu_unmap_fast' && got > 0n) st.unsynced.push({ start: op.iova, end: op.iova + got });
      return;
    }
    case 'iommu_iotlb_sync':
      for (const u of st.unsynced) b.iotlbLeft.push(iotlbLeft(st, u.start, u.end, 'iommu_iotlb_sync'));
      st.unsynced = [];
      return;
    case 'iommu_iova_to_phys': {
      const got = resultBig(r, 'phys') ?? 0n;
      const leaf = pt?.view.leaf_at(op.iova);
      const t = st.tx?.at(op.iova);
      const want = d.domain.type === 'IDENTITY' ? op.iova : d.domain.type === 'BLOCKED' || !pt ? 0n : st.tx ? (t ? t.paddr + (op.iova - t.start) : 0n) : undefined;
      b.lookups.push({ iova: op.iova, got, leaf: leaf ? leaf.paddr + (op.iova - leaf.iova) : 0n, want });
      return;
    }
    default:
  }
}

function iotlbLeft(st: DomState, start: bigint, end: bigint, why: string): { start: bigint; end: bigint; n: number; why: string } {
  return { start, end, n: iotlbCount(st, start, end), why };
}

/** The allocator ops, on a stand-alone domain (or, misusing it, a DMA domain's allocator). */
export function trackIova(st: DomState, b: Builder, op: ResolvedOp, r: OpResult): void {
  const v = st.view;
  if (!v) return;
  const mutating = ['alloc_iova', 'alloc_iova_fast', 'free_iova', 'free_iova_fast', 'reserve_iova'].includes(op.op);
  if (mutating && st.dma) st.stop(`${op.op} on the allocator of DMA domain "${st.name}" behind dma-iommu's back`);
  const hits = v.stats.rcache_hits - st.snap.rcache_hits;
  switch (op.op) {
    case 'alloc_iova': {
      const lo = resultBig(r, 'pfn_lo');
      const aligned = op.size_aligned ?? true;
      if (!aligned) st.unaligned = true;
      if (lo === undefined) {
        b.allocFailed = { pages: op.size, limit: op.limit_pfn, aligned, what: `alloc_iova(${op.size}, ${hex(op.limit_pfn)})` };
        return;
      }
      const hi = resultBig(r, 'pfn_hi')!;
      newNode(st, b, { lo, hi, pages: op.size, limit: op.limit_pfn, aligned, fromCache: false, fast: false });
      return;
    }
    case 'alloc_iova_fast': {
      const pages = roundedPages(op.size);
      if ((op.repeat ?? 1) > 1) st.stop('alloc_iova_fast with repeat: only the last pfn is visible');
      const pfn = resultBig(r, 'pfn');
      if (pfn === undefined) {
        b.allocFailed = { pages, limit: op.limit_pfn, aligned: true, what: `alloc_iova_fast(${op.size}, ${hex(op.limit_pfn)})` };
        if (op.flush_rcache ?? true) b.cacheFlushMax = 0;
        return;
      }
      newNode(st, b, { lo: pfn, hi: pfn + pages - 1n, pages, limit: op.limit_pfn, aligned: true, fromCache: hits > 0, fast: true });
      if (v.stats.rcache_flushes !== st.snap.rcache_flushes) b.cacheFlushMax = 0;
      return;
    }
    case 'free_iova': {
      const l = st.live.find(op.pfn);
      if (l) {
        st.live.delete(l.lo);
        b.frees.push({ lo: l.lo, pages: l.hi - l.lo + 1n, via: 'free_iova' });
      } else if (v.node_count !== st.snap.node_count && st.taint === null) st.stop(`free_iova(${hex(op.pfn)}) freed a range nobody allocated (cached or reserved)`);
      return;
    }
    case 'free_iova_fast': {
      for (let i = 0n; i < BigInt(op.repeat ?? 1); i++) {
        const pfn = op.pfn + i * op.size;
        const l = st.live.get(pfn);
        const cls = sizeClass(op.size);
        if (!l || (cls < 6 && l.hi - l.lo + 1n !== 1n << BigInt(cls))) {
          if (st.taint === null) st.stop(`free_iova_fast(${hex(pfn)}, ${op.size}) of a range not allocated that way (driver misuse)`);
          continue;
        }
        st.live.delete(pfn);
        b.frees.push({ lo: pfn, pages: op.size, via: 'free_iova_fast' });
      }
      return;
    }
    case 'reserve_iova': {
      if (!r.ok) return;
      if (checkReservePrecondition(v, op.pfn_lo, op.pfn_hi).length && st.taint === null) st.stop(`reserve_iova [${hex(op.pfn_lo)}, ${hex(op.pfn_hi)}] over allocated ranges (precondition violation, iommu.md §2.7)`);
      st.reserved += v.node_count - st.snap.node_count;
      b.reserves.push({ lo: op.pfn_lo, hi: op.pfn_hi });
      return;
    }
    default:
  }
}

function newNode(st: DomState, b: Builder, n: Omit<NewNode, 'node' | 'stillCached' | 'inFq' | 'wasLive'>): void {
  const v = st.view!;
  const node = v.node_at(n.lo);
  const wasLive = st.live.overlapping(n.lo, n.hi).length > 0;
  b.nodes.push({ ...n, node, stillCached: 0, inFq: false, wasLive });
  if (!wasLive) st.live.add({ lo: n.lo, hi: n.hi, fast: n.fast });
}

/** iommu_map_sg's loop (iommu.md §4.7): a run is mapped when an entry does not continue it; the last entry is looked at twice. */
export function mapSgCalls(iova: bigint, sg: readonly { phys: bigint; length: bigint }[]): { iova: bigint; paddr: bigint; size: bigint }[] {
  const out: { iova: bigint; paddr: bigint; size: bigint }[] = [];
  let len = 0n;
  let start = 0n;
  let mapped = 0n;
  for (let i = 0; i <= sg.length && sg.length > 0; i++) {
    const s = sg[Math.min(i, sg.length - 1)]!;
    if (len !== 0n && s.phys !== start + len) {
      out.push({ iova: iova + mapped, paddr: start, size: len });
      mapped += len;
      len = 0n;
    }
    if (len !== 0n) len += s.length;
    else {
      len = s.length;
      start = s.phys;
    }
  }
  return out;
}
