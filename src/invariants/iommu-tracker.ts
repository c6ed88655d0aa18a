/**
 * The IOMMU checkers' shared observer: after each op it works out what the op
 * did to every IOMMU and IOVA domain (new and freed IOVA ranges, mappings,
 * flush-queue traffic, page-table ranges touched) as DomChange facts, keeping
 * per-domain shadows (iommu-state.ts) of what should be live, queued and
 * translated. One tracker per Platform, shared by every IOMMU invariant and run
 * once per op, so thirty checkers do not pay thirty times.
 *
 * Cost per op: O(log n) in live mappings plus the size of what the op touched
 * (the granules and leaves of its own range, the magazines of the CPU and size
 * class it used, the flush-queue entries it retired). Domains that did not move
 * cost one counter comparison each.
 *
 * Driver misuse (an unmap that names no live mapping, nents or size not as
 * mapped, lower-layer ops on a DMA domain) taints the domain: the kernel's
 * behaviour is then undefined, so state-dependent checks stop there rather than
 * raise false alarms (STYLE.md: a false alarm is as bad as a miss).
 */
import type { ResolvedOp } from '../engine/handles';
import type { Platform } from '../platform';
import type { OpResult, SgResultEntry } from '../ops/types';
import { DMA_BIT_MASK, DMA_MAPPING_ERROR, hasAttr, type Device, type DmaDirection } from '../dma/types';
import { dma_kmalloc_needs_bounce } from '../dma/direct';
import { checkReservePrecondition } from '../iommu/iova-check';
import type { AfterOp } from './invariant';
import { isEngineRefusal, isSgMap, isSingleMap, resultBig, resultNum, resultSg } from './op-facts';
import { DomState, type DmaMapping, type FqShadowEntry } from './iommu-state';
import { alignUp, dmaLimit, expectedProt, roundedPages, sizeClass, sgLayout } from './iommu-expect';
import { diffLeaves, hex, type Translation } from './iommu-ranges';
import type { AllocFailure, DomChange, Freed, MapEvent, NewNode, PtRange } from './iommu-events';

/** What one op did, per domain it touched, plus device-level facts. */
export interface OpChanges {
  readonly doms: readonly DomChange[];
  /** pci_32bit_workaround per IOMMU device: before and after the op, and whether the op logged "Using N-bit DMA addresses". */
  readonly pci: readonly { dev: string; before: boolean | undefined; after: boolean; notice: boolean; added: boolean; want?: boolean }[];
  /** G-4: lazy domains whose flush-queue timeout has passed since the last queue_iova, with what they still hold */
  readonly drained: readonly { st: DomState; pending: number; since: number }[];
}

type Builder = { -readonly [K in keyof DomChange]: DomChange[K] } & {
  /** ranges the op freed, before their destination is observed */
  frees: { lo: bigint; pages: bigint; via: Freed['via'] }[];
  /** a dma map failed; its IOVA request, if the allocation was what failed */
  mapFailed: { pages: bigint; limit: bigint } | undefined;
  allocFailed: { pages: bigint; limit: bigint; aligned: boolean; what: string } | undefined;
  cacheFlushMax: number | undefined;
};

const NONE: OpChanges = { doms: [], pci: [], drained: [] };
const trackers = new WeakMap<Platform, IommuTracker>();

/** The IOMMU facts of the op in ctx (computed once per op, whichever checker asks first). */
export function iommuChanges(ctx: AfterOp): OpChanges {
  let t = trackers.get(ctx.platform);
  if (!t) trackers.set(ctx.platform, (t = new IommuTracker()));
  return t.observe(ctx);
}

const dma_get_mask = (dev: Device): bigint => (dev.dma_mask ? dev.dma_mask : DMA_BIT_MASK(32));
const D32_BYTES = 1n << 32n;

class IommuTracker {
  private index = -1;
  private last: OpChanges = NONE;
  private readonly doms = new Map<string, DomState>();
  private readonly pci = new Map<string, boolean>();

  observe(ctx: AfterOp): OpChanges {
    if (ctx.index === this.index) return this.last;
    this.index = ctx.index;
    const { op, result, platform: p } = ctx;
    if (op.op === 'platform') return (this.last = NONE);
    if (result.ok && ['iommu_add', 'iommu_domain_alloc', 'device_add', 'init_iova_domain'].includes(op.op)) this.discover(p);
    if (this.doms.size === 0) return (this.last = NONE);
    const changes = new Map<DomState, Builder>();
    const ch = (st: DomState): Builder => {
      let b = changes.get(st);
      if (!b) changes.set(st, (b = newChange(st)));
      return b;
    };
    if (!isEngineRefusal(result)) this.interpret(p, op, result, ch);
    for (const st of this.doms.values()) if (changes.has(st) || st.moved()) this.reconcile(p, st, ch(st));
    const doms = [...changes.values()];
    for (const b of doms) b.tainted = b.tainted || b.st.taint !== null;
    this.last = { doms, pci: this.pciFacts(p, op, result), drained: this.drained(p) };
    for (const st of changes.keys()) st.snap = st.take();
    return this.last;
  }

  /** New IOMMU or IOVA domains (setup ops). */
  private discover(p: Platform): void {
    for (const [name, dd] of p.iommu.domains) if (!this.doms.has(name)) this.doms.set(name, new DomState(name, dd, dd.iovad ?? undefined, p.config.ncpus));
    for (const [name, iovad] of p.iova_domains) if (!this.doms.has(name)) this.doms.set(name, new DomState(name, undefined, iovad, p.config.ncpus));
  }

  /** The DMA domain a dma-iommu op of @devName goes through, if any. */
  private dmaDom(p: Platform, devName: string): DomState | undefined {
    const dev = p.devices.get(devName);
    if (!dev || !p.iommu.usesDmaIommu(dev)) return undefined;
    const st = this.doms.get(p.iommu.domainOf(dev)!.name);
    return st?.dma ? st : undefined;
  }

  // ---- the op --------------------------------------------------------------------------------

  private interpret(p: Platform, op: ResolvedOp, r: OpResult, ch: (st: DomState) => Builder): void {
    if ('dev' in op && typeof op.dev === 'string') {
      const st = this.dmaDom(p, op.dev);
      if (!st) return;
      const b = ch(st);
      const dev = p.devices.get(op.dev)!;
      if (isSingleMap(op)) this.mapSingle(p, st, b, dev, op, r);
      else if (isSgMap(op)) this.mapSg(p, st, b, dev, op, r);
      else if (op.op === 'dma_alloc_coherent') this.mapCoherent(p, st, b, dev, op, r);
      else if (op.op === 'dma_unmap_phys' || op.op === 'dma_unmap_page' || op.op === 'dma_unmap_single' || op.op === 'dma_unmap_resource') {
        if (op.op === 'dma_unmap_page' && hasAttr(op.attrs ?? 0, 'DMA_ATTR_MMIO')) return; // refused before the backend
        this.unmapSingle(p, st, b, op.dev, op.dma_addr, op.size);
      } else if (op.op === 'dma_unmap_sg' || op.op === 'dma_unmap_sgtable') this.unmapSg(p, st, b, op.dev, op.sg, op.nents);
      else if (op.op === 'dma_free_coherent') this.unmapCoherent(p, st, b, op.dev, op.cpu_addr);
      return;
    }
    if (!('domain' in op) || typeof op.domain !== 'string') return;
    const st = this.doms.get(op.domain);
    if (!st) return;
    const b = ch(st);
    if (op.op.startsWith('iommu_')) this.core(p, st, b, op, r);
    else this.iova(st, b, op, r);
  }

  /** Records a new live mapping and its facts. */
  private addMapping(p: Platform, st: DomState, b: Builder, m: DmaMapping, ev: Omit<MapEvent, 'm' | 'node' | 'clash' | 'stale' | 'inFq'>): void {
    const v = st.view!;
    const node = v.find_iova(m.lo);
    const clash = st.live.overlapping(m.lo, m.hi)[0] as DmaMapping | undefined;
    const iotlb = st.dd!.domain.iotlb;
    const stale = iotlb ? iotlb.overlapping(m.iova, ((m.hi + 1n) << st.shift) - 1n).length : 0;
    const inFq = st.fqByLo.overlapping(m.lo, m.hi).length > 0;
    b.maps.push({ ...ev, m, node, clash, stale, inFq });
    b.nodes.push({
      lo: m.lo, hi: node?.pfn_hi ?? m.hi, pages: ev.pages, limit: ev.limit >> st.shift, aligned: true, fromCache: false, fast: true,
      node, stillCached: 0, inFq, wasLive: clash !== undefined,
    });
    if (clash === undefined) st.live.add(m);
    if (m.kind === 'coherent' && m.cpu_addr !== undefined) st.coherent.set(m.cpu_addr, m);
    if (st.tx) for (const t of m.runs) st.tx.set(t.start, t.end, t.paddr, t.prot);
    this.ptRange(st, b, 'dma-map', m.iova, (m.hi + 1n) << st.shift);
    void p;
  }

  private mapSingle(p: Platform, st: DomState, b: Builder, dev: Device, o: Extract<ResolvedOp, { op: 'dma_map_phys' | 'dma_map_page' | 'dma_map_single' | 'dma_map_resource' }>, r: OpResult): void {
    const G = st.G;
    const attrs = o.attrs ?? 0;
    const resource = o.op === 'dma_map_resource';
    const mmio = !resource && p.linux === 'newest' && hasAttr(attrs, 'DMA_ATTR_MMIO');
    const mustBounce = !resource && !mmio && this.useSwiotlb(p, dev, o.size, o.dir) && ((o.phys | o.size) & (G - 1n)) !== 0n;
    const wantOff = mustBounce ? o.phys & dev.min_align_mask & (G - 1n) : o.phys & (G - 1n);
    const len = alignUp(o.size + wantOff, G);
    const mask = resource ? (dev.dma_mask ?? 0xffff_ffffn) : dma_get_mask(dev);
    const h = resultBig(r, 'dma_addr');
    if (h === undefined || !r.ok) {
      this.failedMap(st, b, len, mask, dev);
      return;
    }
    const prot = expectedProt(o.dir, dev.dma_coherent, attrs, p.linux, resource);
    this.single(p, st, b, dev, { kind: resource ? 'resource' : 'single', op: o.op, h, phys: o.phys, size: o.size, prot, mustBounce, wantOff, len, mask });
  }

  /** One single-buffer mapping (also each entry of an sg list mapped entry by entry). */
  private single(p: Platform, st: DomState, b: Builder, dev: Device, a: { kind: 'single' | 'resource' | 'sg-entry'; op: string; h: bigint; phys: bigint; size: bigint; prot: number; mustBounce: boolean; wantOff: bigint; len: bigint; mask: bigint }): DmaMapping {
    const G = st.G;
    const iova = a.h & ~(G - 1n);
    const lo = iova >> st.shift;
    // What the granule at the handle translates to now: a bounce slot when the map bounced.
    const t = st.pgView?.iova_to_phys(iova) ?? 0n;
    const pool = p.swiotlb;
    const bounced = pool !== null && t !== 0n && pool.is_swiotlb_buffer(t) && !pool.is_swiotlb_buffer(a.phys);
    let slotOrig: bigint | undefined;
    if (bounced) slotOrig = pool.view.orig_addr[Number((t + a.wantOff - pool.start) >> 11n)];
    const base = bounced ? t : a.phys - (a.phys & (G - 1n));
    const len = bounced ? a.len : alignUp(a.size + (a.phys & (G - 1n)), G);
    const pages = roundedPages(len >> st.shift);
    const runs: Translation[] = [{ start: iova, end: iova + len, paddr: base, prot: a.prot }];
    const m: DmaMapping = { lo, hi: lo + pages - 1n, dev: dev.name, kind: a.kind, iova, len, handle: a.h, size: a.size, runs };
    this.addMapping(p, st, b, m, {
      op: a.op, phys: a.phys, bounce: bounced ? t + a.wantOff : undefined, mustBounce: a.mustBounce, slotOrig, wantOff: a.wantOff,
      pages, limit: this.limit(st, dev, a.mask), below4G: this.below4G(p, st, dev, a.mask),
    });
    return m;
  }

  private mapSg(p: Platform, st: DomState, b: Builder, dev: Device, op: Extract<ResolvedOp, { op: 'dma_map_sg' | 'dma_map_sgtable' }>, r: OpResult): void {
    const G = st.G;
    const nents = Math.min(op.nents ?? op.sg.length, op.sg.length);
    const ents = op.sg.slice(0, nents);
    const mask = dma_get_mask(dev);
    const sg = resultSg(r);
    const count = resultNum(r, 'nents') ?? 0;
    const prot = expectedProt(op.dir, dev.dma_coherent, op.attrs ?? 0, p.linux);
    if (!r.ok || !sg || count <= 0) {
      // model: a failed entry-by-entry map unwinds entries already mapped (they may queue); only a merged map's IOVA is known.
      if (!ents.some((e) => this.useSwiotlb(p, dev, e.length, op.dir)) && !(dev.bus === 'pci' && dev.untrusted)) {
        this.failedMap(st, b, sgLayout(ents, G, dev.segment_boundary_mask).iova_len, mask, dev);
      } else b.looseFrees = true;
      return;
    }
    if ((sg[0] as SgResultEntry & { dma_is_swiotlb?: boolean }).dma_is_swiotlb) {
      const group: DmaMapping[] = [];
      for (let i = 0; i < nents; i++) {
        const e = sg[i]!;
        const mustBounce = this.useSwiotlb(p, dev, e.length, op.dir) && ((e.phys | e.length) & (G - 1n)) !== 0n;
        const wantOff = mustBounce ? e.phys & dev.min_align_mask & (G - 1n) : e.phys & (G - 1n);
        group.push(this.single(p, st, b, dev, {
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
    this.addMapping(p, st, b, m, {
      op: op.op, phys: ents[0]!.phys, bounce: undefined, mustBounce: false, slotOrig: undefined, wantOff: slots[0]!.off,
      pages, limit: this.limit(st, dev, mask), below4G: this.below4G(p, st, dev, mask),
    });
  }

  private mapCoherent(p: Platform, st: DomState, b: Builder, dev: Device, op: Extract<ResolvedOp, { op: 'dma_alloc_coherent' }>, r: OpResult): void {
    const len = alignUp(alignUp(op.size, p.page_size), st.G);
    const h = resultBig(r, 'dma_addr');
    const cpu = resultBig(r, 'cpu_addr');
    if (!r.ok || h === undefined || cpu === undefined) {
      this.failedMap(st, b, len, dev.coherent_dma_mask, dev);
      return;
    }
    const iova = h & ~(st.G - 1n);
    const lo = iova >> st.shift;
    const pages = roundedPages(len >> st.shift);
    const prot = expectedProt('DMA_BIDIRECTIONAL', dev.dma_coherent, op.attrs ?? 0, p.linux);
    const m: DmaMapping = { lo, hi: lo + pages - 1n, dev: dev.name, kind: 'coherent', iova, len, handle: h, size: 0n, runs: [{ start: iova, end: iova + len, paddr: cpu, prot }], cpu_addr: cpu };
    this.addMapping(p, st, b, m, {
      op: op.op, phys: cpu, bounce: undefined, mustBounce: false, slotOrig: undefined, wantOff: 0n,
      pages, limit: this.limit(st, dev, dev.coherent_dma_mask), below4G: this.below4G(p, st, dev, dev.coherent_dma_mask),
    });
  }

  /** A map that failed: if the IOVA allocation was what failed, I-A11 has a claim (see reconcile). */
  private failedMap(st: DomState, b: Builder, len: bigint, mask: bigint, dev: Device): void {
    const geo = st.dd!.domain.geometry;
    b.mapFailed = { pages: roundedPages(len >> st.shift), limit: dmaLimit(mask, dev.bus_dma_limit, geo.aperture_end, geo.force_aperture) >> st.shift };
  }

  /** dev_use_swiotlb (iommu.md §3.6): untrusted, or a kmalloc buffer a non-coherent device cannot take. */
  private useSwiotlb(p: Platform, dev: Device, size: bigint, dir: DmaDirection): boolean {
    return (dev.bus === 'pci' && dev.untrusted) || dma_kmalloc_needs_bounce(p, dev, size, dir);
  }

  private limit(st: DomState, dev: Device, mask: bigint): bigint {
    const geo = st.dd!.domain.geometry;
    return dmaLimit(mask, dev.bus_dma_limit, geo.aperture_end, geo.force_aperture);
  }

  /** The 32-bit-first attempt ran and succeeded: the flag was set before and still is (iommu.md §3.3 step 5). */
  private below4G(p: Platform, st: DomState, dev: Device, mask: bigint): boolean {
    return this.limit(st, dev, mask) > 0xffff_ffffn && this.pci.get(dev.name) === true && p.pci_32bit_workaround(dev);
  }

  /** Removes a mapping the driver unmapped correctly, and says what the unmap must do with its IOVA. */
  private unmapped(p: Platform, st: DomState, b: Builder, m: DmaMapping): void {
    st.live.delete(m.lo);
    if (m.kind === 'coherent' && m.cpu_addr !== undefined) st.coherent.delete(m.cpu_addr);
    st.tx?.remove(m.iova, m.iova + m.len);
    const iotlb = st.dd!.domain.iotlb;
    const n = iotlb ? iotlb.overlapping(m.iova, ((m.hi + 1n) << st.shift) - 1n).length : 0;
    b.unmaps.push({ m, queued: st.lazy, iotlb: n });
    if (st.lazy) b.queuedWant.push({ lo: m.lo, pages: m.len >> st.shift });
    else b.frees.push({ lo: m.lo, pages: m.len >> st.shift, via: 'unmap' });
    this.ptRange(st, b, 'dma-unmap', m.iova, (m.hi + 1n) << st.shift);
    void p;
  }

  /** Misuse unless nothing translates at @iova, in which case dma-iommu does nothing (§3.7 guard; model: no double free). */
  private noMatch(st: DomState, iova: bigint, what: string): void {
    if (st.taint !== null) return;
    const pg = st.pgView;
    if (pg && pg.iova_to_phys(iova & ~(st.G - 1n)) === 0n && !st.tx?.at(iova & ~(st.G - 1n))) return;
    st.stop(`${what}: no live mapping of that handle and size (driver misuse; the checkers stop following domain "${st.name}")`);
  }

  private unmapSingle(p: Platform, st: DomState, b: Builder, dev: string, dma_addr: bigint, size: bigint): void {
    if (st.taint !== null) return;
    const m = st.live.get(dma_addr >> st.shift) as DmaMapping | undefined;
    if (m && m.dev === dev && (m.kind === 'single' || m.kind === 'resource') && m.handle === dma_addr && m.size === size) this.unmapped(p, st, b, m);
    else this.noMatch(st, dma_addr, `unmap of ${hex(dma_addr)} size ${hex(size)}`);
  }

  private unmapSg(p: Platform, st: DomState, b: Builder, dev: string, list: readonly { dma_address?: bigint; dma_length?: bigint }[], n: number | undefined): void {
    const sg = list.map((e) => ({ dma_address: e.dma_address ?? 0n, dma_length: e.dma_length ?? 0n, dma_is_swiotlb: (e as { dma_is_swiotlb?: boolean }).dma_is_swiotlb === true }));
    if (st.taint !== null || sg.length === 0) return;
    const nents = Math.min(n ?? sg.length, sg.length);
    if (sg[0]!.dma_is_swiotlb) {
      const group = st.groups.get(sg[0]!.dma_address);
      if (group && group[0]!.dev === dev && group.length === nents && group.every((m, i) => st.live.get(m.lo) === m && sg[i]!.dma_address === m.handle && sg[i]!.dma_length === m.size)) {
        st.groups.delete(sg[0]!.dma_address);
        for (const m of group) this.unmapped(p, st, b, m);
      } else if (!sg.slice(0, nents).every((e) => st.pgView?.iova_to_phys(e.dma_address & ~(st.G - 1n)) === 0n)) {
        st.stop(`dma_unmap_sg of ${hex(sg[0]!.dma_address)}: not the list as mapped (driver misuse; the checkers stop following domain "${st.name}")`);
      }
      return;
    }
    if (sg[0]!.dma_length === 0n) return; // iommu_dma_unmap_sg finds nothing to unmap
    const m = st.live.find(sg[0]!.dma_address >> st.shift) as DmaMapping | undefined;
    const same = m !== undefined && m.kind === 'sg' && m.dev === dev && m.nents === nents && m.sg!.every((s, i) => sg[i]!.dma_address === s.dma && sg[i]!.dma_length === s.len);
    if (same) this.unmapped(p, st, b, m);
    else this.noMatch(st, sg[0]!.dma_address, `dma_unmap_sg of ${hex(sg[0]!.dma_address)} nents ${nents}`);
  }

  private unmapCoherent(p: Platform, st: DomState, b: Builder, dev: string, cpu_addr: bigint): void {
    if (st.taint !== null) return;
    const m = st.coherent.get(cpu_addr);
    if (m && m.dev === dev) this.unmapped(p, st, b, m);
    // otherwise dma_free_attrs finds no live allocation of this device and frees nothing
  }

  // ---- lower layers, called directly ------------------------------------------------------------

  private core(p: Platform, st: DomState, b: Builder, op: ResolvedOp, r: OpResult): void {
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
        this.ptRange(st, b, op.op, op.iova, op.iova + total, { ok: r.ok, edgeCase: edge && !r.ok, size: total });
        return;
      }
      case 'iommu_unmap': case 'iommu_unmap_fast': {
        const got = resultBig(r, 'unmapped') ?? 0n;
        st.tx?.remove(op.iova, op.iova + got);
        this.ptRange(st, b, 'iommu_unmap', op.iova, op.iova + op.size, { unmapped: got, size: op.size });
        if (pt && (pt.stats.block_splits !== st.snap.block_splits || pt.stats.partial_unmaps_refused !== st.snap.partial_unmaps_refused)) {
          // A block met the edge of the range: look at the whole blocks around it (≤ the largest page size).
          const big = 1n << BigInt(pt.view.pgsize_bitmap.toString(2).length - 1);
          this.ptRange(st, b, 'split-window', op.iova & ~(big - 1n), alignUp(op.iova + op.size, big), { unmapped: got, size: op.size });
        }
        if (op.op === 'iommu_unmap' && got > 0n) b.iotlbLeft.push(this.iotlbLeft(st, op.iova, op.iova + got, 'iommu_unmap'));
        if (op.op === 'iommu_unmap_fast' && got > 0n) st.unsynced.push({ start: op.iova, end: op.iova + got });
        return;
      }
      case 'iommu_iotlb_sync':
        for (const u of st.unsynced) b.iotlbLeft.push(this.iotlbLeft(st, u.start, u.end, 'iommu_iotlb_sync'));
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
        void p;
    }
  }

  private iotlbLeft(st: DomState, start: bigint, end: bigint, why: string): { start: bigint; end: bigint; n: number; why: string } {
    const iotlb = st.dd?.domain.iotlb;
    return { start, end, n: iotlb ? iotlb.overlapping(start, end - 1n).length : 0, why };
  }

  /** The allocator ops, on a stand-alone domain (or, misusing it, a DMA domain's allocator). */
  private iova(st: DomState, b: Builder, op: ResolvedOp, r: OpResult): void {
    const v = st.view;
    if (!v) return;
    const mutating = ['alloc_iova', 'alloc_iova_fast', 'free_iova', 'free_iova_fast', 'reserve_iova'].includes(op.op);
    if (mutating && st.dma) st.stop(`${op.op} on the allocator of DMA domain "${st.name}" behind dma-iommu's back`);
    const hits = v.stats.rcache_hits - st.snap.rcache_hits;
    switch (op.op) {
      case 'alloc_iova': {
        const lo = resultBig(r, 'pfn_lo');
        const aligned = op.size_aligned ?? true;
        if (lo === undefined) {
          b.allocFailed = { pages: op.size, limit: op.limit_pfn, aligned, what: `alloc_iova(${op.size}, ${hex(op.limit_pfn)})` };
          return;
        }
        const hi = resultBig(r, 'pfn_hi')!;
        this.newNode(st, b, { lo, hi, pages: op.size, limit: op.limit_pfn, aligned, fromCache: false, fast: false });
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
        this.newNode(st, b, { lo: pfn, hi: pfn + pages - 1n, pages, limit: op.limit_pfn, aligned: true, fromCache: hits > 0, fast: true });
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

  private newNode(st: DomState, b: Builder, n: Omit<NewNode, 'node' | 'stillCached' | 'inFq' | 'wasLive'>): void {
    const v = st.view!;
    const node = v.node_at(n.lo);
    const wasLive = st.live.overlapping(n.lo, n.hi).length > 0;
    b.nodes.push({ ...n, node, stillCached: 0, inFq: false, wasLive });
    if (!wasLive) st.live.add({ lo: n.lo, hi: n.hi, fast: n.fast });
  }

  /** Adds a page-table range the op touched, with its leaves and their diff against the expected translations. */
  private ptRange(st: DomState, b: Builder, why: PtRange['why'], start: bigint, end: bigint, extra: Partial<PtRange> = {}): void {
    const pg = st.pgView;
    if (!pg) return;
    const leaves = pg.leaves_in(start, end);
    const diff = st.tx ? diffLeaves(leaves, st.tx.overlapping(start, end), start, end) : undefined;
    b.pt.push({ why, start, end, leaves, diff, ...extra });
  }

  // ---- counters: what the op did that its arguments do not say ------------------------------------------

  private reconcile(p: Platform, st: DomState, b: Builder): void {
    st.cpu = p.current_cpu;
    const v = st.view;
    if (v) {
      const s = v.stats;
      const q = st.snap;
      b.failures = s.alloc_failures - q.alloc_failures;
      const shortcuts = s.shortcut_32bit - q.shortcut_32bit;
      const calls = s.alloc_calls - q.alloc_calls;
      const flushes = s.rcache_flushes - q.rcache_flushes;
      b.max32Before = q.max32;
      if (b.mapFailed && calls > 0 && b.failures === calls && s.rcache_hits === q.rcache_hits && flushes > 0) {
        b.allocFailed = { pages: b.mapFailed.pages, limit: b.mapFailed.limit, aligned: true, what: `the IOVA allocation of a failed map (${b.mapFailed.pages} pfns ≤ ${hex(b.mapFailed.limit)})` };
        b.cacheFlushMax = 0;
      } else if (flushes > 0 && b.maps.length > 0) b.cacheFlushMax = 0;
      if (b.allocFailed) {
        b.failSizes.push(b.allocFailed.pages);
        b.failure = this.failure(st, b.allocFailed, b.failures, shortcuts);
      } else if (b.failures > 0) {
        // The 32-bit-first attempt of a map that then succeeded: its size and the 32-bit limit.
        const m = b.maps[0];
        if (m) {
          b.failSizes.push(m.pages);
          const lim32 = (D32_BYTES - 1n) >> st.shift;
          if (flushes === 0 && !m.below4G && b.nodes[0] && (b.nodes[0].lo > lim32)) {
            b.failure = this.failure(st, { pages: m.pages, limit: lim32, aligned: true, what: `the 32-bit-first attempt of ${m.op} (${m.pages} pfns)` }, b.failures, shortcuts);
          } else if (b.failures > shortcuts) st.setter = { L: lim32 + 1n, aligned: true };
        }
      }
      if (v.max32_alloc_size === v.dma_32bit_pfn) st.setter = null;
      if (s.rcache_hits !== q.rcache_hits) {
        b.nodes = b.nodes.map((n) => (n.fast && !n.fromCache ? { ...n, fromCache: true } : n));
        b.nodes = b.nodes.map((n) => (n.fromCache ? { ...n, stillCached: this.countCached(st, sizeClass(n.pages), n.lo, 0, [st.cpu]) } : n));
      }
      b.classes = new Set([...b.nodes.map((n) => sizeClass(n.pages)), ...b.frees.map((f) => sizeClass(f.pages))]);
    }
    if (st.lazy && st.taint === null) this.flushQueue(p, st, b);
    else if (st.dd?.domain.stats.flush_iotlb_all !== st.snap.flush_iotlb_all) st.epoch++;
    if (v && b.frees.length) this.observeFreed(st, b);
    if (b.cacheFlushMax !== undefined) b.cacheFlush = b.cacheFlushMax;
  }

  /** I-A11's claim for a failure the caller saw, with the max32 shortcut excuse of iova-check.ts. */
  private failure(st: DomState, f: { pages: bigint; limit: bigint; aligned: boolean; what: string }, failures: number, shortcuts: number): AllocFailure {
    const L = f.limit + 1n;
    const s = st.setter;
    const excused = shortcuts === failures && (s === null ? false : s.L < L || (s.aligned && !f.aligned));
    if (failures > shortcuts) st.setter = { L, aligned: f.aligned };
    return { ...f, excused };
  }

  /** Flush-queue traffic of a lazy domain: appends, retirements, flushes. */
  private flushQueue(p: Platform, st: DomState, b: Builder): void {
    const fq = st.dd!.fq!;
    const q = st.snap;
    b.fqBefore = { start: q.fq_start, finish: q.fq_finish };
    if (st.dd!.domain.stats.flush_iotlb_all !== q.flush_iotlb_all) st.epoch++;
    const queued = fq.stats.queued - q.fq_queued;
    const retired = fq.stats.retired - q.fq_retired;
    const ring = fq.kind === 'single' ? 0 : p.current_cpu;
    let gone = 0;
    for (let r = 0; r < st.rings.length; r++) {
      const shadow = st.rings[r]!;
      const len = fq.ringLength(r);
      const add = r === ring ? queued : 0;
      const out = shadow.length + add - len;
      if (out < 0 || out > shadow.length) {
        b.fqTrouble.push(`ring ${r} held ${shadow.length} entries, took ${add} and now holds ${len}: entries vanished or appeared without retirement`);
        st.stop('flush queue out of step');
        return;
      }
      if (add > 0 && shadow.length === fq.size - 1 && fq.flush_start_cnt === q.fq_start) {
        b.fqTrouble.push(`ring ${r} was full (${fq.size - 1} entries) and took another without a flush first`);
      }
      for (const e of shadow.splice(0, out)) {
        st.fqByLo.delete(e.lo);
        const iotlb = st.dd!.domain.iotlb;
        const n = iotlb ? iotlb.overlapping(e.lo << st.shift, ((e.lo + e.pages) << st.shift) - 1n).length : 0;
        b.retired.push({ e, flushed: st.epoch > e.epoch, iotlb: n });
        b.frees.push({ lo: e.lo, pages: e.pages, via: 'retire' });
      }
      gone += out;
      for (let i = len - add; i < len; i++) {
        const m = fq.entry(r, i)!;
        const e: FqShadowEntry = { lo: m.iova_pfn, pages: m.pages, counter: m.counter, epoch: st.epoch };
        shadow.push(e);
        st.fqByLo.add({ ...e, hi: e.lo + roundedPages(e.pages) - 1n });
        b.queuedGot.push(e);
      }
    }
    if (gone !== retired) b.fqTrouble.push(`${gone} entries left the rings but ${retired} were retired`);
    if (queued > 0) st.lastQueueMs = p.timers.now_ms;
  }

  /** Where each range freed this op went: a magazine (once), back to the tree, or nowhere. */
  private observeFreed(st: DomState, b: Builder): void {
    const v = st.view!;
    const pushes = v.stats.depot_pushes - st.snap.depot_pushes;
    const cpus = Array.from({ length: v.ncpus }, (_, c) => c);
    for (const f of b.frees) {
      const node = v.node_at(f.lo);
      const cls = sizeClass(f.pages);
      const n = node && cls < 6 ? this.countCached(st, cls, f.lo, pushes + 1, b.frees.length > 1 ? cpus : [st.cpu]) : 0;
      const live = st.live.get(f.lo) !== undefined;
      const dest: Freed['dest'] = n > 1 ? 'twice' : n === 1 ? 'cache' : node === undefined ? 'tree' : 'lost';
      b.freed.push({ ...f, dest, node, live });
      if (dest === 'tree' && f.lo < v.dma_32bit_pfn) b.removedLow = true;
    }
  }

  /** Occurrences of @lo in @cpus' loaded and prev magazines of class @cls and the newest @depot depot magazines. */
  private countCached(st: DomState, cls: number, lo: bigint, depot: number, cpus: readonly number[]): number {
    const rc = st.view!.rcaches[cls];
    if (!rc) return 0;
    let n = 0;
    const scan = (m: readonly bigint[]): void => {
      for (let i = m.length - 1; i >= 0; i--) if (m[i] === lo) n++;
    };
    for (const c of cpus) {
      scan(rc.loaded(c));
      scan(rc.prev(c));
    }
    for (let i = Math.max(0, rc.depot.length - depot); i < rc.depot.length; i++) scan(rc.depot[i]!);
    return n;
  }

  // ---- device and time facts --------------------------------------------------------------------

  private pciFacts(p: Platform, op: ResolvedOp, r: OpResult): OpChanges['pci'] {
    const out: { dev: string; before: boolean | undefined; after: boolean; notice: boolean; added: boolean; want?: boolean }[] = [];
    const flags = p.iommu.pci_32bit_workaround;
    for (const [dev, after] of flags) {
      const before = this.pci.get(dev);
      const added = op.op === 'device_add' && op.name === dev && r.ok;
      const notice = r.warnings.some((w) => w.code === 'NOTICE_USING_64BIT_DMA' && w.dev === dev);
      if (before !== after || notice || added) {
        const d = p.devices.get(dev);
        const iommu = d?.iommu ? p.iommu.iommus.get(d.iommu) : undefined;
        out.push({ dev, before: added ? undefined : before, after, notice, added, ...(added && d && iommu ? { want: d.bus === 'pci' && !iommu.forcedac } : {}) });
      }
      this.pci.set(dev, after);
    }
    for (const dev of [...this.pci.keys()]) if (!flags.has(dev)) this.pci.delete(dev);
    return out;
  }

  /** G-4: lazy domains whose last queue_iova is at least one timeout ago. */
  private drained(p: Platform): OpChanges['drained'] {
    const out: { st: DomState; pending: number; since: number }[] = [];
    for (const st of this.doms.values()) {
      if (!st.lazy || st.lastQueueMs === null || st.taint !== null) continue;
      const fq = st.dd!.fq!;
      if (p.timers.now_ms < st.lastQueueMs + fq.timeout_ms) continue;
      let pending = 0;
      for (let r = 0; r < st.rings.length; r++) pending += fq.ringLength(r);
      out.push({ st, pending, since: st.lastQueueMs });
      if (pending === 0) st.lastQueueMs = null;
    }
    return out;
  }
}

function newChange(st: DomState): Builder {
  return {
    st, tainted: st.taint !== null, nodes: [], failure: undefined, freed: [], removedLow: false, failures: 0, failSizes: [],
    max32Before: st.snap.max32, maps: [], unmaps: [], retired: [], queuedWant: [], queuedGot: [], fqTrouble: [],
    fqBefore: { start: st.snap.fq_start, finish: st.snap.fq_finish }, cacheFlush: undefined, pt: [], iotlbLeft: [], lookups: [],
    classes: new Set(), sgs: [], frees: [], reserves: [], mapFailed: undefined, allocFailed: undefined, cacheFlushMax: undefined, looseFrees: false,
  };
}

export { DMA_MAPPING_ERROR };
