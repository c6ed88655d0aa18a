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
 * The IOVA-based API (dma_iova_*) is read by iommu-track-iova.ts: a state's
 * allocation is a live range of its domain, its links what must translate.
 *
 * Driver misuse (an unmap that names no live mapping, nents or size not as
 * mapped, lower-layer ops on a DMA domain, an IOVA-API unlink that cuts a
 * link) taints the domain: the kernel's
 * behaviour is then undefined, so state-dependent checks stop there rather than
 * raise false alarms (STYLE.md: a false alarm is as bad as a miss).
 */
import type { ResolvedOp } from '../engine/handles';
import type { Platform } from '../platform';
import type { OpResult } from '../ops/types';
import type { AfterOp } from './invariant';
import { isEngineRefusal } from './op-facts';
import { DomState, type FqShadowEntry } from './iommu-state';
import { roundedPages, sizeClass } from './iommu-expect';
import { hex } from './iommu-ranges';
import type { AllocFailure, DomChange, Freed } from './iommu-events';
import { iotlbCount, newChange, type Builder } from './iommu-builder';
import { DmaOps } from './iommu-track-dma';
import { trackCore, trackIova } from './iommu-track-lower';
import { IovaApiOps, isIovaApiOp } from './iommu-track-iova';

/** What one op did, per domain it touched, plus device-level facts. */
export interface OpChanges {
  readonly doms: readonly DomChange[];
  /** pci_32bit_workaround per IOMMU device: before and after the op, and whether the op logged "Using N-bit DMA addresses". */
  readonly pci: readonly { dev: string; before: boolean | undefined; after: boolean; notice: boolean; added: boolean; want?: boolean }[];
  /** G-4: lazy domains whose flush-queue timeout has passed since the last queue_iova, with what they still hold */
  readonly drained: readonly { st: DomState; pending: number; since: number }[];
  /** I-D12: what a dma_iova_state read that it must not, or refused misuse that changed something (IOVA-API-STATE) */
  readonly iovaState: readonly string[];
}

const NONE: OpChanges = { doms: [], pci: [], drained: [], iovaState: [] };
const trackers = new WeakMap<Platform, IommuTracker>();

/** The IOMMU facts of the op in ctx (computed once per op, whichever checker asks first). */
export function iommuChanges(ctx: AfterOp): OpChanges {
  let t = trackers.get(ctx.platform);
  if (!t) trackers.set(ctx.platform, (t = new IommuTracker(ctx.platform)));
  return t.observe(ctx);
}

const D32_BYTES = 1n << 32n;
/** Ops after which new domains may exist. */
const SETUP_OPS: ReadonlySet<string> = new Set(['iommu_add', 'iommu_domain_alloc', 'device_add', 'init_iova_domain']);
/** Shared empty fact lists: most ops have none, and nothing appends to a returned list. */
const NO_PCI: OpChanges['pci'] = [];
const NO_DRAINED: OpChanges['drained'] = [];

class IommuTracker {
  private index = -1;
  private last: OpChanges = NONE;
  private readonly doms = new Map<string, DomState>();
  /** pci_32bit_workaround per device at the end of the last op */
  private readonly pci = new Map<string, boolean>();
  private readonly dmaOps: DmaOps;
  private readonly iovaOps: IovaApiOps;
  /** the IOVA-API-STATE findings of the op being observed */
  private iovaState: string[] = [];

  constructor(p: Platform) {
    this.dmaOps = new DmaOps(p, this.pci);
    this.iovaOps = new IovaApiOps(p, this.dmaOps);
  }

  observe(ctx: AfterOp): OpChanges {
    if (ctx.index === this.index) return this.last;
    this.index = ctx.index;
    const { op, result, platform: p } = ctx;
    if (op.op === 'platform') return (this.last = NONE);
    if (result.ok && SETUP_OPS.has(op.op)) this.discover(p);
    if (this.doms.size === 0) return (this.last = NONE);
    const changes = new Map<DomState, Builder>();
    const ch = (st: DomState): Builder => {
      let b = changes.get(st);
      if (!b) changes.set(st, (b = newChange(st)));
      return b;
    };
    this.iovaState = [];
    if (!isEngineRefusal(result)) this.interpret(p, op, result, ch);
    else if (isIovaApiOp(op)) this.iovaOps.refused(op, (dev) => this.dmaDom(p, dev));
    for (const st of this.doms.values()) if (changes.has(st) || st.moved()) this.reconcile(p, st, ch(st));
    const doms = [...changes.values()];
    for (const b of doms) b.tainted = b.tainted || b.st.taint !== null;
    this.last = { doms, pci: this.pciFacts(p, op, result), drained: this.drained(p), iovaState: this.iovaState };
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

  /**
   * A buffer past the IOMMU's output size (a map, or a dma_iova_link): arm_lpae_map_pages checks
   * only each call's first paddr, so the kernel maps wrapped output addresses and there is no
   * translation to expect. The domain is no longer followed.
   */
  private beyondOas(st: DomState, op: ResolvedOp): boolean {
    const oas = st.dd?.iommu.oas;
    if (oas === undefined || !('phys' in op) || typeof op.phys !== 'bigint' || !('size' in op) || typeof op.size !== 'bigint') return false;
    if (op.phys + op.size <= 1n << BigInt(oas)) return false;
    st.stop(`${op.op} of a buffer beyond the ${oas}-bit output address size`);
    return true;
  }

  // ---- the op --------------------------------------------------------------------------------

  private interpret(p: Platform, op: ResolvedOp, r: OpResult, ch: (st: DomState) => Builder): void {
    if (isIovaApiOp(op)) {
      this.iovaState = this.iovaOps.interpret(op, r, (dev) => this.dmaDom(p, dev), ch);
      const st = 'dev' in op && typeof op.dev === 'string' ? this.dmaDom(p, op.dev) : undefined;
      // What the link was expected to translate does not hold past the output size: drop it.
      if (st && st.taint === null && this.beyondOas(st, op)) ch(st).pt.length = 0;
      return;
    }
    if ('pool' in op && typeof op.pool === 'string') {
      // model: dma_pool pages are coherent allocations the ops do not name; until the shadow
      // follows them, a pool on a dma-iommu device stops the domain's state-dependent checks.
      const dev = p.pools.get(op.pool)?.dev;
      const st = dev ? this.dmaDom(p, dev.name) : undefined;
      if (st && st.taint === null) {
        ch(st);
        st.stop(`dma_pool "${op.pool}" allocates IOVA the checker does not follow yet`);
      }
      return;
    }
    if (op.op === 'dma_pool_create') {
      const st = this.dmaDom(p, op.dev);
      if (st && st.taint === null) {
        ch(st);
        st.stop(`dma_pool "${op.name}" allocates IOVA the checker does not follow yet`);
      }
      return;
    }
    if ('dev' in op && typeof op.dev === 'string') {
      const st = this.dmaDom(p, op.dev);
      if (!st) return;
      const b = ch(st);
      if (this.beyondOas(st, op)) return;
      this.dmaOps.interpret(st, b, p.devices.get(op.dev)!, op, r);
      return;
    }
    if (!('domain' in op) || typeof op.domain !== 'string') return;
    const st = this.doms.get(op.domain);
    if (!st) return;
    const b = ch(st);
    if (op.op.startsWith('iommu_')) trackCore(st, b, op, r);
    else trackIova(st, b, op, r);
  }

  // ---- counters: what the op did that its arguments do not say ------------------------------------------

  private reconcile(p: Platform, st: DomState, b: Builder): void {
    st.cpu = p.current_cpu;
    b.iotlbSyncs = (st.dd?.domain.stats.iotlb_sync ?? 0) - st.snap.iotlb_sync;
    const v = st.view;
    if (v) {
      const s = v.stats;
      const q = st.snap;
      b.failures = s.alloc_failures - q.alloc_failures;
      b.inserted = s.alloc_calls - q.alloc_calls > b.failures || b.reserves.length > 0 || v.node_count > q.node_count;
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
        b.failure = this.failure(st, b.allocFailed, b.failures, shortcuts, v.dma_32bit_pfn);
      } else if (b.failures > 0) {
        // The 32-bit-first attempt of a map that then succeeded: its size and the 32-bit limit.
        // (An sg list mapped entry by entry makes several: any of them may be the one that failed.)
        for (const e of b.maps) b.failSizes.push(e.pages);
        const m = b.maps.length === 1 ? b.maps[0] : undefined;
        const lim32 = (D32_BYTES - 1n) >> st.shift;
        if (m && flushes === 0 && !m.below4G && b.nodes[0] && b.nodes[0].lo > lim32) {
          b.failure = this.failure(st, { pages: m.pages, limit: lim32, aligned: true, what: `the 32-bit-first attempt of ${m.op} (${m.pages} pfns)` }, b.failures, shortcuts, v.dma_32bit_pfn);
        } else if (b.failures > shortcuts) {
          // A search walked and failed; when its limit is not known, excuse every later shortcut (no false alarm).
          st.setter = m && flushes === 0 ? { L: lim32 + 1n, aligned: true } : { L: 0n, aligned: true };
        }
      }
      if (v.max32_alloc_size === v.dma_32bit_pfn) st.setter = null;
      const hits = s.rcache_hits - q.rcache_hits;
      // Which allocations a cache served: exact when every one that could be cached was (or the only one).
      const cacheable = b.nodes.filter((n) => n.fast && !n.fromCache && sizeClass(n.pages) < 6);
      if (hits > 0 && hits !== cacheable.length) b.nodes = b.nodes.map((n) => (cacheable.includes(n) ? { ...n, fromCache: undefined } : n));
      if (hits > 0 && hits === cacheable.length) {
        b.nodes = b.nodes.map((n) => (cacheable.includes(n) ? { ...n, fromCache: true } : n));
        b.nodes = b.nodes.map((n) => (n.fromCache ? { ...n, stillCached: this.countCached(st, sizeClass(n.pages), n.lo, 0, [st.cpu]) } : n));
      }
    }
    if (st.lazy && st.taint === null) this.flushQueue(p, st, b);
    else if (st.dd?.domain.stats.flush_iotlb_all !== st.snap.flush_iotlb_all) st.epoch++;
    if (v && b.frees.length) this.observeFreed(st, b);
    b.classes = new Set([...b.nodes.map((n) => sizeClass(n.pages)), ...b.frees.map((f) => sizeClass(f.pages))]);
    if (b.cacheFlushMax !== undefined) b.cacheFlush = b.cacheFlushMax;
    // A fresh node from the tree ends the §3.11 destroy quirk at its pfn.
    for (const n of b.nodes) if (n.fromCache === false) st.quirk.delete(n.lo);
  }

  /** I-A11's claim for a failure the caller saw, with the max32 shortcut excuse of iova-check.ts. */
  private failure(st: DomState, f: { pages: bigint; limit: bigint; aligned: boolean; what: string }, failures: number, shortcuts: number, d32: bigint): AllocFailure {
    const L = f.limit + 1n;
    const s = st.setter;
    // No setter: max32_alloc_size still holds init_iova_domain's dma_32bit_pfn, which refuses a request
    // for the whole 32-bit space although a domain with start_pfn 0 has it free (iova.c).
    const excused = shortcuts === failures && (s === null ? f.pages >= d32 : s.L < L || (s.aligned && !f.aligned));
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
    let troubled = false;
    for (let r = 0; r < st.rings.length; r++) {
      const shadow = st.rings[r]!;
      const len = fq.ringLength(r);
      const add = r === ring ? queued : 0;
      const out = shadow.length + add - len;
      if (out < 0 || out > shadow.length) {
        // Entries vanished or appeared without retirement (I-D6): report, then follow the model's rings again.
        b.fqTrouble.push(`ring ${r} held ${shadow.length} entries, took ${add} and now holds ${len}: entries vanished or appeared without retirement`);
        for (const e of shadow) st.fqByLo.delete(e.lo);
        shadow.length = 0;
        for (let i = 0; i < len; i++) {
          const m = fq.entry(r, i)!;
          const e: FqShadowEntry = { lo: m.iova_pfn, pages: m.pages, counter: m.counter, epoch: st.epoch };
          shadow.push(e);
          st.fqByLo.add({ ...e, hi: e.lo + roundedPages(e.pages) - 1n });
        }
        b.looseFrees = true;
        troubled = true;
        continue;
      }
      if (add > 0 && shadow.length === fq.size - 1 && fq.flush_start_cnt === q.fq_start) {
        b.fqTrouble.push(`ring ${r} was full (${fq.size - 1} entries) and took another without a flush first`);
      }
      for (const e of shadow.splice(0, out)) {
        st.fqByLo.delete(e.lo);
        b.retired.push({ e, flushed: st.epoch > e.epoch, iotlb: iotlbCount(st, e.lo << st.shift, (e.lo + e.pages) << st.shift), iovaApi: st.iovaQueued.delete(e.lo) });
        b.frees.push({ lo: e.lo, pages: e.pages, via: 'retire' });
      }
      gone += out;
      for (let i = len - add; i < len; i++) {
        const m = fq.entry(r, i)!;
        const tail = shadow[shadow.length - 1];
        if (tail && m.counter < tail.counter) b.fqTrouble.push(`ring ${r}: entry ${hex(m.iova_pfn)} has counter ${m.counter}, below the ${tail.counter} of the entry before it`);
        const e: FqShadowEntry = { lo: m.iova_pfn, pages: m.pages, counter: m.counter, epoch: st.epoch };
        shadow.push(e);
        st.fqByLo.add({ ...e, hi: e.lo + roundedPages(e.pages) - 1n });
        b.queuedGot.push(e);
      }
    }
    if (!troubled && gone !== retired) b.fqTrouble.push(`${gone} entries left the rings but ${retired} were retired`);
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
      // Any CPU: the flush-queue timer retires on the CPU that armed it (model), not the op's.
      const n = node && cls < 6 ? this.countCached(st, cls, f.lo, pushes + 1, cpus) : 0;
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
    let out: { dev: string; before: boolean | undefined; after: boolean; notice: boolean; added: boolean; want?: boolean }[] | undefined;
    const flags = p.iommu.pci_32bit_workaround;
    const warned = r.warnings.length > 0;
    for (const [dev, after] of flags) {
      const before = this.pci.get(dev);
      const added = op.op === 'device_add' && op.name === dev && r.ok;
      const notice = warned && r.warnings.some((w) => w.code === 'NOTICE_USING_64BIT_DMA' && w.dev === dev);
      if (before !== after || notice || added) {
        const d = p.devices.get(dev);
        const iommu = d?.iommu ? p.iommu.iommus.get(d.iommu) : undefined;
        (out ??= []).push({ dev, before: added ? undefined : before, after, notice, added, ...(added && d && iommu ? { want: d.bus === 'pci' && !iommu.forcedac } : {}) });
      }
      if (before !== after) this.pci.set(dev, after);
    }
    // Deleting the entry being visited is safe in a Map iteration.
    if (this.pci.size > flags.size) for (const dev of this.pci.keys()) if (!flags.has(dev)) this.pci.delete(dev);
    return out ?? NO_PCI;
  }

  /** G-4: lazy domains whose last queue_iova is at least one timeout ago. */
  private drained(p: Platform): OpChanges['drained'] {
    let out: { st: DomState; pending: number; since: number }[] | undefined;
    for (const st of this.doms.values()) {
      if (!st.lazy || st.lastQueueMs === null || st.taint !== null) continue;
      const fq = st.dd!.fq!;
      if (p.timers.now_ms < st.lastQueueMs + fq.timeout_ms) continue;
      let pending = 0;
      for (let r = 0; r < st.rings.length; r++) pending += fq.ringLength(r);
      (out ??= []).push({ st, pending, since: st.lastQueueMs });
      if (pending === 0) st.lastQueueMs = null;
    }
    return out ?? NO_DRAINED;
  }
}
