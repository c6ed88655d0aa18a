/**
 * How iommu-tracker.ts reads the IOVA-based two-step API (iommu.md §3.11): a
 * successful dma_iova_try_alloc is a live range of its DMA domain (like a
 * mapping, handle = state.addr), each successful dma_iova_link adds what must
 * translate inside it (re-derived from the op's arguments: direct pieces to phys,
 * bounced head and tail to a bounce slot holding phys's bytes), dma_iova_unlink
 * takes links out, and dma_iova_free / dma_iova_destroy end the range (strict:
 * into a range cache or the tree; lazy destroy: into the flush queue, filed
 * under align_up(mapped_len + pad), the §3.11 quirk). Beside the domains it
 * keeps, per state name, what I-D12 says the state must read.
 *
 * Each op is checked over its own range only: a link over the gap between its
 * neighbours (where a misplaced link would land), sync/unlink over their range,
 * free/destroy over the allocation. O(log n) in live ranges and links plus the
 * leaves found there.
 *
 * Misuse the model refuses (CONTRACT_IOVA_*: use after free, wrong device, not
 * allocated, out of range, free while linked, destroy shorter than the links)
 * must change nothing. Misuse it lets through, where the kernel's behaviour
 * follows from holes (the unmap walk stops at the first one), taints the domain:
 * an unlink that cuts a link, starts in a hole or leaves the allocation; a
 * destroy over links with holes or freeing more than was allocated.
 */
import BTree from 'sorted-btree';
import type { ResolvedOp } from '../engine/handles';
import type { Platform } from '../platform';
import type { OpResult } from '../ops/types';
import { DMA_BIT_MASK, hasAttr, type Device } from '../dma/types';
import { resultBig } from './op-facts';
import type { DomState, IovaAlloc, IovaLink } from './iommu-state';
import { alignUp, expectedProt, roundedPages, sizeClass } from './iommu-expect';
import { diffLeaves, hex, type Translation } from './iommu-ranges';
import type { IovaEvent } from './iommu-events';
import { iotlbCount, ptRange, type Builder } from './iommu-builder';
import type { DmaOps } from './iommu-track-dma';

const USE_SWIOTLB = 1n << 63n;

export const IOVA_API_OPS = ['dma_iova_try_alloc', 'dma_use_iova', 'dma_iova_size', 'dma_iova_link', 'dma_iova_sync', 'dma_iova_unlink', 'dma_iova_destroy', 'dma_iova_free'] as const;
type IovaOp = Extract<ResolvedOp, { op: (typeof IOVA_API_OPS)[number] }>;
type OpOf<N extends IovaOp['op']> = Extract<IovaOp, { op: N }>;

export const isIovaApiOp = (op: ResolvedOp): op is IovaOp => (IOVA_API_OPS as readonly string[]).includes(op.op);

/** What the checkers know of one dma_iova_state name. */
interface StateShadow {
  /** what dma_use_iova and dma_iova_size must read (I-D12) */
  readonly use: boolean;
  readonly size: bigint;
  /** DMA_IOVA_USE_SWIOTLB: set once a bounced piece linked; 'maybe' after a bounced link failed part-way */
  bounce: 'no' | 'yes' | 'maybe';
  /** the allocation, for a successful try_alloc through a DMA domain */
  readonly alloc: IovaAlloc | undefined;
  readonly st: DomState | undefined;
  readonly dev: string;
  /** dma_iova_free or dma_iova_destroy returned its IOVA */
  freed: boolean;
}

/** A piece of a link: IOVA [start, end) to paddr; bounced pieces learn paddr from the page table. */
interface Piece {
  readonly start: bigint;
  readonly end: bigint;
  paddr: bigint | undefined;
  /** bounced: the driver's byte that the IOVA `at` must reach through a bounce slot */
  readonly bounceOf?: bigint;
  readonly at?: bigint;
}

const alignDown = (x: bigint, g: bigint): bigint => x & ~(g - 1n);
const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);
const max = (a: bigint, b: bigint): bigint => (a > b ? a : b);

export class IovaApiOps {
  private readonly states = new Map<string, StateShadow>();
  /** I-D12 findings of the op being read (IOVA-API-STATE), and refused misuse that changed something */
  private problems: string[] = [];

  constructor(private readonly p: Platform, private readonly dma: DmaOps) {}

  /**
   * One IOVA-API op. @dom: the DMA domain a device's ops go through; @ch: the domain's record of the op.
   * Returns the op's IOVA-API-STATE findings.
   */
  interpret(op: IovaOp, r: OpResult, dom: (dev: string) => DomState | undefined, ch: (st: DomState) => Builder): string[] {
    this.problems = [];
    switch (op.op) {
      case 'dma_iova_try_alloc': this.tryAlloc(op, r, dom, ch); break;
      case 'dma_use_iova': this.query(op.state, r, 'dma_use_iova'); break;
      case 'dma_iova_size': this.query(op.state, r, 'dma_iova_size'); break;
      case 'dma_iova_link': this.link(op, r, dom, ch); break;
      case 'dma_iova_sync': this.sync(op, dom, ch); break;
      case 'dma_iova_unlink': this.unlink(op, r, dom, ch); break;
      case 'dma_iova_destroy': this.end(op, op.mapped_len, dom, ch); break;
      case 'dma_iova_free': this.end(op, undefined, dom, ch); break;
      default:
    }
    this.checkModelState(op.state, op.op);
    return this.problems;
  }

  /** An op the engine refused (BUG, UNDEFINED) may have stopped anywhere: stop following its domain. */
  refused(op: IovaOp, dom: (dev: string) => DomState | undefined): void {
    const st = 'dev' in op ? dom(op.dev) : undefined;
    st?.stop(`${op.op} on "${op.state}" ended in a BUG or undefined behaviour part-way`);
  }

  // ---- I-D12 ---------------------------------------------------------------------------------------

  /** The model's dma_iova_state after an op naming it: dma_use_iova, dma_iova_size and the USE_SWIOTLB bit. */
  private checkModelState(name: string, what: string): void {
    const sh = this.states.get(name);
    const s = this.p.iova_states.get(name);
    if (!sh || !s) return;
    const use = s.__size !== 0n;
    const size = s.__size & ~USE_SWIOTLB;
    const flag = (s.__size & USE_SWIOTLB) !== 0n;
    const who = `after ${what}, "${name}"`;
    if (use !== sh.use) this.problems.push(`${who} has dma_use_iova ${use}, but ${sh.use ? `dma_iova_try_alloc succeeded${sh.freed ? ' and neither free nor destroy may clear the state' : ''}` : 'dma_iova_try_alloc returned false'}`);
    else if (size !== sh.size) this.problems.push(`${who} has dma_iova_size ${hex(size)}, not the try_alloc size ${hex(sh.size)}`);
    if (sh.bounce === 'yes' && !flag) this.problems.push(`${who}: a bounced link set DMA_IOVA_USE_SWIOTLB, but bit 63 of __size is clear`);
    if (sh.bounce === 'no' && flag) this.problems.push(`${who}: DMA_IOVA_USE_SWIOTLB is set, but no link bounced`);
  }

  /** dma_use_iova and dma_iova_size as the driver reads them. */
  private query(name: string, r: OpResult, what: 'dma_use_iova' | 'dma_iova_size'): void {
    const sh = this.states.get(name);
    if (!sh || !r.ok) return;
    if (what === 'dma_use_iova') {
      if (r.values.value !== sh.use) this.problems.push(`dma_use_iova("${name}") returned ${String(r.values.value)}, expected ${sh.use}${sh.freed ? ' (free and destroy leave the state as it was)' : ''}`);
      return;
    }
    if (r.values.size !== sh.size) this.problems.push(`dma_iova_size("${name}") returned ${String(r.values.size)}, expected the try_alloc size ${hex(sh.size)} whatever DMA_IOVA_USE_SWIOTLB says`);
    if (sh.bounce !== 'maybe' && r.values.use_swiotlb !== (sh.bounce === 'yes')) this.problems.push(`"${name}": use_swiotlb reads ${String(r.values.use_swiotlb)}, but ${sh.bounce === 'yes' ? 'a link bounced' : 'no link bounced'}`);
  }

  // ---- try_alloc ------------------------------------------------------------------------------------

  private tryAlloc(op: OpOf<'dma_iova_try_alloc'>, r: OpResult, dom: (dev: string) => DomState | undefined, ch: (st: DomState) => Builder): void {
    const value = r.ok && r.values.value === true;
    const st = dom(op.dev);
    const dev = this.p.devices.get(op.dev);
    // A live allocation under this name is orphaned (the driver overwrote its state): it stays live, leaked.
    if (!value || !st || !dev) {
      this.states.set(op.state, { use: false, size: 0n, bounce: 'no', alloc: undefined, st: undefined, dev: op.dev, freed: false });
      const s = this.p.iova_states.get(op.state);
      if (value) this.problems.push(`dma_iova_try_alloc("${op.state}") succeeded for "${op.dev}", which does not use IOMMU-DMA`);
      else if (s && (s.__size !== 0n || s.addr !== 0n)) this.problems.push(`dma_iova_try_alloc("${op.state}") returned false but left addr ${hex(s.addr)} __size ${hex(s.__size)}: the state must be zeroed`);
      // The allocation itself failed: I-A11 asks whether a gap existed (reconcile decides whether the allocator was asked).
      if (st && dev && op.size !== 0n && (op.size & USE_SWIOTLB) === 0n) {
        const len = alignUp(op.size + (op.phys & (st.G - 1n)), st.G);
        ch(st).mapFailed = { pages: roundedPages(len >> st.shift), limit: this.dma.limit(st, dev, dma_get_mask(dev)) >> st.shift };
      }
      return;
    }
    const b = ch(st);
    const G = st.G;
    const pad = op.phys & (G - 1n);
    const h = resultBig(r, 'addr') ?? 0n;
    const s = this.p.iova_states.get(op.state);
    if (s && s.addr !== h) this.problems.push(`dma_iova_try_alloc("${op.state}") returned addr ${hex(h)} but the state holds ${hex(s.addr)}`);
    const iova = h & ~(G - 1n);
    const len = alignUp(op.size + pad, G);
    const pages = roundedPages(len >> st.shift);
    const lo = iova >> st.shift;
    const mask = dma_get_mask(dev);
    const a: IovaAlloc = {
      lo, hi: lo + pages - 1n, dev: dev.name, kind: 'iova', iova, len, handle: h, size: op.size, runs: [], state: op.state,
      links: new BTree<bigint, IovaLink>(),
    };
    this.dma.addMapping(st, b, a, {
      op: op.op, phys: op.phys, bounce: undefined, mustBounce: false, slotOrig: undefined, wantOff: pad,
      pages, limit: this.dma.limit(st, dev, mask), below4G: this.dma.below4G(st, dev, mask),
    }, false);
    this.states.set(op.state, { use: true, size: op.size, bounce: 'no', alloc: a, st, dev: dev.name, freed: false });
  }

  /**
   * The live allocation an op of @dev names, or undefined (no IOVA, freed, another device or domain):
   * then the model must refuse the op, so the device's domain must not move.
   */
  private live(op: IovaOp & { dev: string }, dom: (dev: string) => DomState | undefined): { sh: StateShadow; a: IovaAlloc; st: DomState } | undefined {
    const sh = this.states.get(op.state);
    const st = dom(op.dev);
    if (sh && sh.alloc && !sh.freed && sh.dev === op.dev && sh.st === st && st) return { sh, a: sh.alloc, st };
    if (st && sh) {
      const q = st.snap;
      const d = st.dd!.domain.stats;
      if (d.map_pages !== q.map_pages || d.unmap_pages !== q.unmap_pages || (st.view && st.view.stats.alloc_calls !== q.alloc_calls)) {
        const why = !sh.alloc ? 'has no IOVA' : sh.freed ? 'was already freed or destroyed' : `belongs to "${sh.dev}"`;
        this.problems.push(`${op.op} on "${op.state}", which ${why}, changed domain "${st.name}": the model must refuse it (CONTRACT_IOVA_*, iommu.md §6.3)`);
      }
    }
    return undefined;
  }

  private event(b: Builder, op: string, state: string): IovaEvent {
    const e: IovaEvent = { op, state, translate: [], extra: [], revoked: [], shared: [], mustSync: false };
    b.iova.push(e);
    return e;
  }

  // ---- link -----------------------------------------------------------------------------------------

  private link(op: OpOf<'dma_iova_link'>, r: OpResult, dom: (dev: string) => DomState | undefined, ch: (st: DomState) => Builder): void {
    const sh = this.states.get(op.state);
    const l = this.live(op, dom);
    if (!l) {
      if (r.ok && sh) this.problems.push(`dma_iova_link on "${op.state}" returned 0, but the state ${!sh.alloc ? 'has no IOVA' : sh.freed ? 'was already freed or destroyed' : `belongs to "${sh.dev}"`}: the model must refuse it (iommu.md §6.3)`);
      return;
    }
    const { a, st } = l;
    const dev = this.p.devices.get(op.dev)!;
    const G = st.G;
    const attrs = op.attrs ?? 0;
    const addr = a.handle + op.offset;
    const sp = op.phys & (G - 1n);
    const bounce = this.dma.useSwiotlb(dev, op.size, op.dir) && ((op.phys | op.size) & (G - 1n)) !== 0n
      && !hasAttr(attrs, 'DMA_ATTR_MMIO') && !hasAttr(attrs, 'DMA_ATTR_REQUIRE_COHERENT');
    if (bounce) l.sh.bounce = r.ok ? 'yes' : l.sh.bounce === 'no' ? 'maybe' : l.sh.bounce;
    if (st.taint !== null || !st.tx) return;
    const b = ch(st);
    const e = this.event(b, op.op, op.state);
    const nodeEnd = (a.hi + 1n) << st.shift;
    const what = `dma_iova_link of "${op.state}" [${hex(op.offset)}, +${hex(op.size)}) → ${hex(op.phys)}`;
    if (!r.ok) {
      // A failed link (-EEXIST over an earlier link, -EINVAL, -EIO, -ENOMEM...) changes nothing.
      const lo = max(alignDown(addr - sp, G), a.iova);
      const hi = min(alignUp(addr + op.size, G), nodeEnd);
      if (lo < hi) this.compare(st, b, e, 'iova-link', lo, hi, undefined, `after a failed ${what} (${r.error})`);
      return;
    }
    const pieces = this.pieces(addr, op.phys, op.size, G, bounce);
    const pool = this.p.swiotlb;
    for (const pc of pieces) {
      if (pc.bounceOf === undefined) continue;
      const leaf = st.pgView?.leaf_at(pc.start);
      if (!leaf) {
        e.translate.push(`${what}: the bounced piece at IOVA ${hex(pc.at!)} does not translate`);
        continue;
      }
      pc.paddr = leaf.paddr + (pc.start - leaf.iova);
      const byte = pc.paddr + (pc.at! - pc.start);
      if (!pool || !pool.is_swiotlb_buffer(byte)) e.translate.push(`${what}: IOVA ${hex(pc.at!)} must reach phys ${hex(pc.bounceOf)} through a bounce slot, but translates to ${hex(byte)}`);
      else {
        const orig = pool.view.orig_addr[Number((byte - pool.start) >> 11n)];
        if (orig !== pc.bounceOf) e.translate.push(`${what}: IOVA ${hex(pc.at!)} translates to bounce slot ${hex(byte)}, which holds ${orig === undefined ? 'nothing' : hex(orig)}, not ${hex(pc.bounceOf)}`);
      }
    }
    const prot = expectedProt(op.dir, dev.dma_coherent, attrs, this.p.linux);
    const runs: Translation[] = [];
    for (const pc of pieces) if (pc.paddr !== undefined && pc.start < pc.end) runs.push({ start: pc.start, end: pc.end, paddr: pc.paddr, prot });
    const start = pieces.reduce((m, pc) => min(m, pc.start), pieces[0]!.start);
    const end = pieces.reduce((m, pc) => max(m, pc.end), pieces[0]!.end);
    if (start >= end) return; // a zero-length link maps nothing
    const link: IovaLink = { offset: op.offset, size: op.size, start, end, runs, bounced: bounce };
    // Where a link may sit: inside the allocation, on granules no other link or live range has.
    if (start < a.iova || end > a.iova + a.len) e.shared.push(`${what} maps [${hex(start)}, ${hex(end)}), outside the allocation [${hex(a.iova)}, ${hex(a.iova + a.len)})`);
    const prev = a.links.getPairOrNextLower(start)?.[1];
    const next = a.links.getPairOrNextHigher(start + 1n)?.[1];
    for (const o of [prev, next]) if (o && o.start < end && o.end > start) e.shared.push(`${what} maps [${hex(start)}, ${hex(end)}), which shares granules with the link at offset ${hex(o.offset)} ([${hex(o.start)}, ${hex(o.end)}))`);
    for (const o of st.live.overlapping(start >> st.shift, (end - 1n) >> st.shift)) if (o !== a) e.shared.push(`${what} maps [${hex(start)}, ${hex(end)}), which shares granules with the live ${'kind' in o && o.kind === 'iova' ? `IOVA of "${(o as IovaAlloc).state}"` : 'mapping'} at ${hex(o.lo << st.shift)}`);
    for (const t of runs) st.tx.set(t.start, t.end, t.paddr, t.prot);
    a.links.set(start, link);
    // The gap between the neighbouring links: only this link may translate there.
    const gapLo = min(start, prev && prev !== link && prev.end <= start ? prev.end : a.iova);
    const gapHi = max(end, next && next.start >= end ? next.start : nodeEnd);
    this.compare(st, b, e, 'iova-link', gapLo, gapHi, link, `after ${what}`);
    const last = pieces[pieces.length - 1]!;
    if (last.paddr !== undefined) b.mapCalls = [{ iova: last.start, paddr: last.paddr, size: last.end - last.start }];
  }

  /** The pieces a link maps (iommu.md §3.11 dma_iova_link steps 4-5). */
  private pieces(addr: bigint, phys: bigint, size: bigint, G: bigint, bounce: boolean): Piece[] {
    const sp = phys & (G - 1n);
    if (!bounce) return [{ start: addr - sp, end: addr - sp + alignUp(size + sp, G), paddr: phys - sp }];
    const out: Piece[] = [];
    const ep = (phys + size) & (G - 1n);
    let mapped = 0n;
    if (sp !== 0n) {
      const b = min(size, G - sp);
      out.push({ start: alignDown(addr, G), end: alignUp(addr + b, G), paddr: undefined, bounceOf: phys, at: addr });
      mapped = b;
    }
    if (mapped < size) {
      const middle = size - mapped - ep;
      if (middle > 0n) out.push({ start: addr + mapped, end: addr + mapped + middle, paddr: phys + mapped });
      if (middle > 0n) mapped += middle;
      if (ep !== 0n) out.push({ start: alignDown(addr + mapped, G), end: alignDown(addr + mapped, G) + G, paddr: undefined, bounceOf: phys + mapped, at: addr + mapped });
    }
    return out;
  }

  /**
   * The leaves of [lo, hi) against the shadow's translations: bytes of @link (or of any link) that do
   * not translate as linked go to LINKS-TRANSLATE, translations outside every link to NOTHING-ELSE.
   */
  private compare(st: DomState, b: Builder, e: IovaEvent, why: 'iova-link' | 'iova-sync', lo: bigint, hi: bigint, link: IovaLink | undefined, what: string): void {
    const pg = st.pgView;
    if (!pg || !st.tx) return;
    const want = st.tx.overlapping(lo, hi);
    for (const d of diffLeaves(pg.leaves_in(lo, hi), want, lo, hi, 6)) {
      if (d.kind === 'prot') continue; // PGTABLE-MATCHES-MAPPINGS and PGTABLE-PERMS judge prot
      const inLink = link ? d.at >= link.start && d.at < link.end : d.kind !== 'extra';
      (inLink ? e.translate : e.extra).push(`${what}: ${d.message}`);
    }
    ptRange(st, b, why, lo, hi);
  }

  // ---- sync -----------------------------------------------------------------------------------------

  private sync(op: OpOf<'dma_iova_sync'>, dom: (dev: string) => DomState | undefined, ch: (st: DomState) => Builder): void {
    const l = this.live(op, dom);
    if (!l || l.st.taint !== null) return;
    const { a, st } = l;
    const addr = a.handle + op.offset;
    const lo = max(alignDown(addr, st.G), a.iova);
    const hi = min(alignDown(addr, st.G) + alignUp(op.size + (addr & (st.G - 1n)), st.G), (a.hi + 1n) << st.shift);
    if (lo >= hi) return;
    const b = ch(st);
    this.compare(st, b, this.event(b, op.op, op.state), 'iova-sync', lo, hi, undefined, `at dma_iova_sync of "${op.state}" [${hex(op.offset)}, +${hex(op.size)})`);
  }

  // ---- unlink ---------------------------------------------------------------------------------------

  private unlink(op: OpOf<'dma_iova_unlink'>, r: OpResult, dom: (dev: string) => DomState | undefined, ch: (st: DomState) => Builder): void {
    const l = this.live(op, dom);
    if (!l || l.st.taint !== null) return;
    const { a, st } = l;
    // An unlink the model refused with a contract warning unmapped nothing: the links stay.
    if (r.warnings.some((w) => w.code.startsWith('CONTRACT_IOVA_')) && st.dd!.domain.stats.unmap_pages === st.snap.unmap_pages) return;
    const G = st.G;
    const addr = a.handle + op.offset;
    const g0 = alignDown(addr, G);
    const g1 = g0 + alignUp(op.size + (addr - g0), G);
    const what = `dma_iova_unlink of "${op.state}" [${hex(op.offset)}, +${hex(op.size)})`;
    if (g1 <= g0) return;
    if (g0 < a.iova || g1 > ((a.hi + 1n) << st.shift)) return st.stop(`${what} reaches outside the allocation (driver misuse the model does not refuse; the checkers stop following domain "${st.name}")`);
    // The links met must be whole and contiguous from g0: the unmap walk stops at the first hole.
    const met: IovaLink[] = [];
    const before = a.links.nextLowerPair(g0)?.[1];
    if (before && before.end > g0) met.push(before);
    a.links.forRange(g0, g1, false, (_k, v) => void met.push(v));
    let at = g0;
    for (const k of met) {
      if (k.start !== at || k.end > g1) return st.stop(`${what} ${k.start < g0 || k.end > g1 ? 'cuts the link' : 'starts in a hole before the link'} at offset ${hex(k.offset)} (driver misuse; the kernel's unmap stops at the first hole; the checkers stop following domain "${st.name}")`);
      at = k.end;
    }
    const b = ch(st);
    const e = this.event(b, op.op, op.state);
    for (const k of met) {
      a.links.delete(k.start);
      st.tx?.remove(k.start, k.end);
    }
    e.mustSync = met.length > 0;
    this.revoked(st, b, e, g0, g1, true, what, 'iova-unlink');
  }

  /** After an unlink or destroy: nothing in [lo, hi) translates; @strict: no IOTLB entry either. */
  private revoked(st: DomState, b: Builder, e: IovaEvent, lo: bigint, hi: bigint, strict: boolean, what: string, why: 'iova-unlink' | 'iova-destroy'): void {
    const leaves = ptRange(st, b, why, lo, hi)?.leaves ?? [];
    for (const f of leaves.slice(0, 4)) e.revoked.push(`after ${what}, IOVA ${hex(f.iova)}+${hex(f.size)} still translates to ${hex(f.paddr)}`);
    const n = strict ? iotlbCount(st, lo, hi) : 0;
    if (n > 0) e.revoked.push(`${what} returned with ${n} IOTLB entries still covering [${hex(lo)}, ${hex(hi)}): a device access still translates`);
  }

  // ---- free / destroy -------------------------------------------------------------------------------

  /** dma_iova_free (@mapped_len undefined) or dma_iova_destroy. */
  private end(op: OpOf<'dma_iova_free'> | OpOf<'dma_iova_destroy'>, mapped_len: bigint | undefined, dom: (dev: string) => DomState | undefined, ch: (st: DomState) => Builder): void {
    const l = this.live(op, dom);
    if (!l) return;
    const { sh, a, st } = l;
    // Refused (links left, destroy shorter than the links): the model keeps the state live.
    if (this.p.iova_states.get(op.state)?.freed !== true) return;
    sh.freed = true;
    if (st.taint !== null) return;
    const G = st.G;
    const pad = a.handle & (G - 1n);
    const nodeEnd = (a.hi + 1n) << st.shift;
    const destroy = mapped_len !== undefined && mapped_len !== 0n;
    const len = destroy ? alignUp(mapped_len + pad, G) : a.len;
    const what = `${op.op} of "${op.state}"${destroy ? ` (mapped_len ${hex(mapped_len)})` : ''}`;
    const node = st.view?.node_at(a.lo);
    const nodePages = node ? node.pfn_hi - node.pfn_lo + 1n : a.hi - a.lo + 1n;
    const links = [...a.links.values()];
    if (destroy) {
      let at = a.iova;
      for (const k of links) {
        if (k.start !== at || k.end > a.iova + len) return st.stop(`${what} over links with holes or past mapped_len (the kernel's unmap stops at the first hole and leaves the rest translating; the checkers stop following domain "${st.name}")`);
        at = k.end;
      }
      if (len >> st.shift > nodePages) return st.stop(`${what} frees ${len >> st.shift} pfns of a ${nodePages}-pfn allocation (driver misuse; the checkers stop following domain "${st.name}")`);
    }
    const b = ch(st);
    const e = this.event(b, op.op, op.state);
    for (const k of links) st.tx?.remove(k.start, k.end);
    a.links.clear();
    st.live.delete(a.lo);
    const pages = len >> st.shift;
    const queued = destroy && st.lazy;
    if (queued) {
      b.queuedWant.push({ lo: a.lo, pages });
      st.iovaQueued.add(a.lo);
    } else b.frees.push({ lo: a.lo, pages, via: destroy ? 'dma_iova_destroy' : 'dma_iova_free' });
    // §3.11 quirk: a shorter mapped_len files the pfn under a smaller class than its node (I-A6's exception).
    if (destroy && sizeClass(pages) < 6 && 1n << BigInt(sizeClass(pages)) < nodePages) st.quirk.add(a.lo);
    if (destroy) {
      e.mustSync = !queued && links.length > 0;
      this.revoked(st, b, e, a.iova, nodeEnd, !queued, what, 'iova-destroy');
      return;
    }
    // dma_iova_free: every link was unlinked first, so nothing translates and the IOTLB is clean.
    for (const f of (ptRange(st, b, 'iova-free', a.iova, nodeEnd)?.leaves ?? []).slice(0, 4)) e.extra.push(`after ${what}, IOVA ${hex(f.iova)}+${hex(f.size)} still translates to ${hex(f.paddr)}, though nothing is linked`);
    if (links.length) e.extra.push(`${what} freed the IOVA with ${links.length} link(s) still in place (the model must refuse it)`);
    const n = iotlbCount(st, a.iova, nodeEnd);
    if (n > 0) e.revoked.push(`${what} returned the IOVA to the allocator with ${n} IOTLB entries still covering it: it can be handed out again before any flush`);
  }
}

const dma_get_mask = (dev: Device): bigint => (dev.dma_mask ? dev.dma_mask : DMA_BIT_MASK(32));
