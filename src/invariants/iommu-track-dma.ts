/**
 * How iommu-tracker.ts reads the DMA API ops of devices behind a DMA or DMA_FQ
 * domain: a successful map becomes a live mapping (its IOVA node, the handle the
 * driver will unmap with, the translations it must have), an unmap that names a
 * live mapping as mapped removes it and says where its IOVA must go (the flush
 * queue, or a range cache / the tree), and any other unmap is misuse unless
 * dma-iommu provably did nothing. Expectations come from iommu-expect.ts, not
 * from the model; the views only say what happened.
 */
import type { ResolvedOp } from '../engine/handles';
import type { Platform } from '../platform';
import type { OpResult, SgResultEntry } from '../ops/types';
import { DMA_BIT_MASK, hasAttr, type Device, type DmaDirection } from '../dma/types';
import { dma_kmalloc_needs_bounce } from '../dma/direct';
import { bouncedVia, isSgMap, isSingleMap, resultBig, resultNum, resultSg } from './op-facts';
import type { DomState, DmaMapping } from './iommu-state';
import { alignUp, dmaLimit, expectedProt, roundedPages, sgLayout } from './iommu-expect';
import { hex, type Translation } from './iommu-ranges';
import type { MapEvent } from './iommu-events';
import { iotlbCount, ptRange, type Builder } from './iommu-builder';

const dma_get_mask = (dev: Device): bigint => (dev.dma_mask ? dev.dma_mask : DMA_BIT_MASK(32));

/** The handle translates to physical 0 (iommu_iova_to_phys then reads as "not mapped"). */
const atPhys0 = (m: DmaMapping): boolean => {
  const r = m.runs.find((x) => m.handle >= x.start && m.handle < x.end);
  return r !== undefined && r.paddr + (m.handle - r.start) === 0n;
};

export class DmaOps {
  /**
   * @p: the platform
   * @pciBefore: pci_32bit_workaround per device as it was before the op
   */
  constructor(private readonly p: Platform, private readonly pciBefore: ReadonlyMap<string, boolean>) {}

  /** One DMA API op of @dev, whose DMA domain is @st. */
  interpret(st: DomState, b: Builder, dev: Device, op: ResolvedOp, r: OpResult): void {
    if (isSingleMap(op)) this.mapSingle(st, b, dev, op, r);
    else if (isSgMap(op)) this.mapSg(st, b, dev, op, r);
    else if (op.op === 'dma_alloc_coherent') this.mapCoherent(st, b, dev, op, r);
    else if (op.op === 'dma_unmap_phys' || op.op === 'dma_unmap_page' || op.op === 'dma_unmap_single' || op.op === 'dma_unmap_resource') {
      if (op.op === 'dma_unmap_page' && hasAttr(op.attrs ?? 0, 'DMA_ATTR_MMIO')) return; // refused before the backend
      this.unmapSingle(st, b, dev.name, op.dma_addr, op.size, r);
    } else if (op.op === 'dma_unmap_sg' || op.op === 'dma_unmap_sgtable') this.unmapSg(st, b, dev.name, op.sg, op.nents, r);
    else if (op.op === 'dma_free_coherent') this.unmapCoherent(st, b, dev.name, op.cpu_addr);
    // the IOVA-based API is read by iommu-track-iova.ts
  }

  /**
   * Records a new live mapping (or dma_iova_state allocation) and its facts.
   * @mapCalls: the op mapped m.runs with iommu_map / iommu_map_sg (I-C5 then checks its page sizes)
   */
  addMapping(st: DomState, b: Builder, m: DmaMapping, ev: Omit<MapEvent, 'm' | 'node' | 'clash' | 'stale' | 'inFq'>, mapCalls = true): void {
    const v = st.view!;
    const node = v.find_iova(m.lo);
    const clash = st.live.overlapping(m.lo, m.hi)[0] as DmaMapping | undefined;
    const stale = iotlbCount(st, m.iova, (m.hi + 1n) << st.shift);
    const inFq = st.fqByLo.overlapping(m.lo, m.hi).length > 0;
    b.maps.push({ ...ev, m, node, clash, stale, inFq });
    if (mapCalls) b.mapCalls = mapCallsOf(m);
    b.nodes.push({
      lo: m.lo, hi: node?.pfn_hi ?? m.hi, pages: ev.pages, limit: ev.limit >> st.shift, aligned: true, fromCache: false, fast: true,
      node, stillCached: 0, inFq, wasLive: clash !== undefined,
    });
    if (clash === undefined) st.live.add(m);
    if (m.kind === 'coherent' && m.cpu_addr !== undefined) st.coherent.set(m.cpu_addr, m);
    if (st.tx) for (const t of m.runs) st.tx.set(t.start, t.end, t.paddr, t.prot);
    ptRange(st, b, 'dma-map', m.iova, (m.hi + 1n) << st.shift);
  }

  private mapSingle(st: DomState, b: Builder, dev: Device, o: Extract<ResolvedOp, { op: 'dma_map_phys' | 'dma_map_page' | 'dma_map_single' | 'dma_map_resource' }>, r: OpResult): void {
    const G = st.G;
    const attrs = o.attrs ?? 0;
    const resource = o.op === 'dma_map_resource';
    const mmio = !resource && this.p.linux === 'newest' && hasAttr(attrs, 'DMA_ATTR_MMIO');
    const mustBounce = !resource && !mmio && this.useSwiotlb(dev, o.size, o.dir) && ((o.phys | o.size) & (G - 1n)) !== 0n;
    const wantOff = mustBounce ? o.phys & dev.min_align_mask & (G - 1n) : o.phys & (G - 1n);
    const len = alignUp(o.size + wantOff, G);
    const mask = resource ? (dev.dma_mask ?? 0xffff_ffffn) : dma_get_mask(dev);
    const h = resultBig(r, 'dma_addr');
    if (h === undefined || !r.ok) {
      this.failedMap(st, b, len, mask, dev, r);
      return;
    }
    const prot = expectedProt(o.dir, dev.dma_coherent, attrs, this.p.linux, resource);
    this.single(st, b, dev, { kind: resource ? 'resource' : 'single', op: o.op, h, phys: o.phys, size: o.size, prot, mustBounce, wantOff, len, mask });
  }

  /** One single-buffer mapping (also each entry of an sg list mapped entry by entry). */
  private single(st: DomState, b: Builder, dev: Device, a: { kind: 'single' | 'resource' | 'sg-entry'; op: string; h: bigint; phys: bigint; size: bigint; prot: number; mustBounce: boolean; wantOff: bigint; len: bigint; mask: bigint }): DmaMapping {
    const G = st.G;
    const iova = a.h & ~(G - 1n);
    const lo = iova >> st.shift;
    // What the granule at the handle translates to now: a bounce slot when the map bounced.
    const t = st.pgView?.iova_to_phys(iova) ?? 0n;
    const pool = this.p.swiotlb;
    const bounced = t !== 0n && bouncedVia(pool, t + a.wantOff, a.phys);
    let slotOrig: bigint | undefined;
    if (bounced && pool) slotOrig = pool.view.orig_addr[Number((t + a.wantOff - pool.start) >> 11n)];
    const base = bounced ? t : a.phys - (a.phys & (G - 1n));
    const len = bounced ? a.len : alignUp(a.size + (a.phys & (G - 1n)), G);
    const pages = roundedPages(len >> st.shift);
    const runs: Translation[] = [{ start: iova, end: iova + len, paddr: base, prot: a.prot }];
    const m: DmaMapping = { lo, hi: lo + pages - 1n, dev: dev.name, kind: a.kind, iova, len, handle: a.h, size: a.size, runs };
    this.addMapping(st, b, m, {
      op: a.op, phys: a.phys, bounce: bounced ? t + a.wantOff : undefined, mustBounce: a.mustBounce, slotOrig, wantOff: a.wantOff,
      pages, limit: this.limit(st, dev, a.mask), below4G: this.below4G(st, dev, a.mask),
    });
    return m;
  }

  private mapSg(st: DomState, b: Builder, dev: Device, op: Extract<ResolvedOp, { op: 'dma_map_sg' | 'dma_map_sgtable' }>, r: OpResult): void {
    const G = st.G;
    const nents = Math.min(op.nents ?? op.sg.length, op.sg.length);
    const ents = op.sg.slice(0, nents);
    const mask = dma_get_mask(dev);
    const sg = resultSg(r);
    const count = resultNum(r, 'nents') ?? 0;
    const prot = expectedProt(op.dir, dev.dma_coherent, op.attrs ?? 0, this.p.linux);
    if (!r.ok || !sg || count <= 0) {
      // model: a failed entry-by-entry map unwinds entries already mapped (they may queue); only a merged map's IOVA is known.
      if (!ents.some((e) => this.useSwiotlb(dev, e.length, op.dir)) && !(dev.bus === 'pci' && dev.untrusted)) {
        this.failedMap(st, b, sgLayout(ents, G, dev.segment_boundary_mask).iova_len, mask, dev, r);
      } else b.looseFrees = true;
      return;
    }
    if ((sg[0] as SgResultEntry & { dma_is_swiotlb?: boolean }).dma_is_swiotlb) {
      const group: DmaMapping[] = [];
      for (let i = 0; i < nents; i++) {
        const e = sg[i]!;
        const mustBounce = this.useSwiotlb(dev, e.length, op.dir) && ((e.phys | e.length) & (G - 1n)) !== 0n;
        const wantOff = mustBounce ? e.phys & dev.min_align_mask & (G - 1n) : e.phys & (G - 1n);
        group.push(this.single(st, b, dev, {
          kind: 'sg-entry', op: op.op, h: e.dma_address, phys: e.phys, size: e.length, prot, mustBounce, wantOff, len: alignUp(e.length + wantOff, G), mask,
        }));
      }
      st.groups.set(group[0]!.handle, group);
      return;
    }
    const { slots, iova_len } = sgLayout(ents, G, dev.segment_boundary_mask);
    const iova = sg[0]!.dma_address - slots[0]!.off;
    const lo = iova >> st.shift;
    const pages = roundedPages(iova_len >> st.shift);
    const runs = slots.map((s) => ({ start: iova + s.at, end: iova + s.at + s.span, paddr: s.base, prot }));
    const m: DmaMapping = {
      lo, hi: lo + pages - 1n, dev: dev.name, kind: 'sg', iova, len: iova_len, handle: sg[0]!.dma_address, size: 0n, runs,
      sg: sg.slice(0, nents).map((e) => ({ dma: e.dma_address, len: e.dma_length })), nents,
    };
    b.sgs.push({ m, ents, slots, count, sg: sg.slice(0, nents), max_seg: dev.max_segment_size, seg_mask: dev.segment_boundary_mask });
    this.addMapping(st, b, m, {
      op: op.op, phys: ents[0]!.phys, bounce: undefined, mustBounce: false, slotOrig: undefined, wantOff: slots[0]!.off,
      pages, limit: this.limit(st, dev, mask), below4G: this.below4G(st, dev, mask),
    });
  }

  private mapCoherent(st: DomState, b: Builder, dev: Device, op: Extract<ResolvedOp, { op: 'dma_alloc_coherent' }>, r: OpResult): void {
    const len = alignUp(alignUp(op.size, this.p.page_size), st.G);
    const h = resultBig(r, 'dma_addr');
    const cpu = resultBig(r, 'cpu_addr');
    if (!r.ok || h === undefined || cpu === undefined) {
      this.failedMap(st, b, len, dev.coherent_dma_mask, dev, r);
      return;
    }
    const iova = h & ~(st.G - 1n);
    const lo = iova >> st.shift;
    const pages = roundedPages(len >> st.shift);
    const prot = expectedProt('DMA_BIDIRECTIONAL', dev.dma_coherent, op.attrs ?? 0, this.p.linux);
    const m: DmaMapping = { lo, hi: lo + pages - 1n, dev: dev.name, kind: 'coherent', iova, len, handle: h, size: 0n, runs: [{ start: iova, end: iova + len, paddr: cpu, prot }], cpu_addr: cpu };
    this.addMapping(st, b, m, {
      op: op.op, phys: cpu, bounce: undefined, mustBounce: false, slotOrig: undefined, wantOff: 0n,
      pages, limit: this.limit(st, dev, dev.coherent_dma_mask), below4G: this.below4G(st, dev, dev.coherent_dma_mask),
    });
  }

  /** A map that failed: if the IOVA allocation was what failed, I-A11 has a claim (see reconcile). */
  private failedMap(st: DomState, b: Builder, len: bigint, mask: bigint, dev: Device, r: OpResult): void {
    const geo = st.dd!.domain.geometry;
    if (r.warnings.some((w) => w.code === 'WARN_ARM_LPAE_EEXIST')) b.mapHitLeaf = true;
    b.mapFailed = { pages: roundedPages(len >> st.shift), limit: dmaLimit(mask, dev.bus_dma_limit, geo.aperture_end, geo.force_aperture) >> st.shift };
  }

  /** dev_use_swiotlb (iommu.md §3.6): untrusted, or a kmalloc buffer a non-coherent device cannot take. */
  useSwiotlb(dev: Device, size: bigint, dir: DmaDirection): boolean {
    return (dev.bus === 'pci' && dev.untrusted) || dma_kmalloc_needs_bounce(this.p, dev, size, dir);
  }

  limit(st: DomState, dev: Device, mask: bigint): bigint {
    const geo = st.dd!.domain.geometry;
    return dmaLimit(mask, dev.bus_dma_limit, geo.aperture_end, geo.force_aperture);
  }

  /** The 32-bit-first attempt ran and succeeded: the flag was set before and still is (iommu.md §3.3 step 5). */
  below4G(st: DomState, dev: Device, mask: bigint): boolean {
    return this.limit(st, dev, mask) > 0xffff_ffffn && this.pciBefore.get(dev.name) === true && this.p.pci_32bit_workaround(dev);
  }

  /** Removes a mapping the driver unmapped correctly, and says what the unmap must do with its IOVA. */
  private unmapped(st: DomState, b: Builder, m: DmaMapping): void {
    st.live.delete(m.lo);
    if (m.kind === 'coherent' && m.cpu_addr !== undefined) st.coherent.delete(m.cpu_addr);
    st.tx?.remove(m.iova, m.iova + m.len);
    b.unmaps.push({ m, queued: st.lazy, iotlb: iotlbCount(st, m.iova, (m.hi + 1n) << st.shift) });
    if (st.lazy) b.queuedWant.push({ lo: m.lo, pages: m.len >> st.shift });
    else b.frees.push({ lo: m.lo, pages: m.len >> st.shift, via: 'unmap' });
    ptRange(st, b, 'dma-unmap', m.iova, (m.hi + 1n) << st.shift);
  }

  /**
   * An unmap naming no live mapping as mapped: misuse, unless dma-iommu did nothing for each of
   * the @n unmaps it made — its guard found no translation at the handle (§3.7), or the unmap walk
   * unmapped nothing so the IOVA was not freed again (model: MODEL_IOVA_DOUBLE_FREE). Anything else
   * may have torn down a table of live leaves (§4.5) or freed someone else's IOVA.
   */
  private noMatch(st: DomState, r: OpResult, n: number, what: string): void {
    if (st.taint !== null) return;
    if (r.warnings.filter((w) => w.code === 'WARN_IOMMU_DMA_UNMAP_UNMAPPED' || w.code === 'MODEL_IOVA_DOUBLE_FREE').length >= n) return;
    st.stop(`${what}: no live mapping of that handle and size (driver misuse; the checkers stop following domain "${st.name}")`);
  }

  private unmapSingle(st: DomState, b: Builder, dev: string, dma_addr: bigint, size: bigint, r: OpResult): void {
    if (st.taint !== null) return;
    const m = st.live.get(dma_addr >> st.shift) as DmaMapping | undefined;
    const match = m && m.dev === dev && (m.kind === 'single' || m.kind === 'resource') && m.handle === dma_addr && m.size === size;
    // iommu_dma_unmap_page's WARN_ON(!phys) cannot tell a buffer at physical 0 from no translation:
    // Linux returns early and the mapping (IOVA and leaves) stays, so it stays live here too.
    if (match && m.kind === 'single' && atPhys0(m) && r.warnings.some((w) => w.code === 'WARN_IOMMU_DMA_UNMAP_UNMAPPED')) return;
    if (match) this.unmapped(st, b, m);
    else this.noMatch(st, r, 1, `unmap of ${hex(dma_addr)} size ${hex(size)}`);
  }

  private unmapSg(st: DomState, b: Builder, dev: string, list: readonly { dma_address?: bigint; dma_length?: bigint }[], n: number | undefined, r: OpResult): void {
    const sg = list.map((e) => ({ dma_address: e.dma_address ?? 0n, dma_length: e.dma_length ?? 0n, dma_is_swiotlb: (e as { dma_is_swiotlb?: boolean }).dma_is_swiotlb === true }));
    if (st.taint !== null || sg.length === 0) return;
    const nents = Math.min(n ?? sg.length, sg.length);
    if (sg[0]!.dma_is_swiotlb) {
      const group = st.groups.get(sg[0]!.dma_address);
      if (group && group[0]!.dev === dev && group.length === nents && group.every((m, i) => st.live.get(m.lo) === m && sg[i]!.dma_address === m.handle && sg[i]!.dma_length === m.size)) {
        st.groups.delete(sg[0]!.dma_address);
        for (const m of group) this.unmapped(st, b, m);
      } else this.noMatch(st, r, nents, `dma_unmap_sg of ${hex(sg[0]!.dma_address)} (entry by entry)`);
      return;
    }
    if (sg[0]!.dma_length === 0n) return; // iommu_dma_unmap_sg finds nothing to unmap
    const m = st.live.find(sg[0]!.dma_address >> st.shift) as DmaMapping | undefined;
    const same = m !== undefined && m.kind === 'sg' && m.dev === dev && m.nents === nents && m.sg!.every((s, i) => sg[i]!.dma_address === s.dma && sg[i]!.dma_length === s.len);
    if (same) this.unmapped(st, b, m);
    else this.noMatch(st, r, 1, `dma_unmap_sg of ${hex(sg[0]!.dma_address)} nents ${nents}`);
  }

  private unmapCoherent(st: DomState, b: Builder, dev: string, cpu_addr: bigint): void {
    if (st.taint !== null) return;
    const m = st.coherent.get(cpu_addr);
    if (m && m.dev === dev) this.unmapped(st, b, m);
    // otherwise dma_free_attrs finds no live allocation of this device and frees nothing
  }
}

/** The __iommu_map calls of a dma-iommu mapping: iommu_map of one run, or iommu_map_sg's physically contiguous runs. */
function mapCallsOf(m: DmaMapping): { iova: bigint; paddr: bigint; size: bigint }[] {
  const out: { iova: bigint; paddr: bigint; size: bigint }[] = [];
  for (const t of m.runs) {
    const last = out[out.length - 1];
    if (last && m.kind === 'sg' && last.paddr + last.size === t.paddr) last.size += t.end - t.start;
    else out.push({ iova: t.start, paddr: t.paddr, size: t.end - t.start });
  }
  return out;
}
