/**
 * What every generator module shares: the Gen context and emit, device and
 * buffer pickers that keep a map legal (free, reachable, within the swiotlb
 * budget), the device's legal access windows, and the legal release of any
 * tracked resource.
 */
import type { HandleRef } from '../ops/kinds';
import type { OpName } from '../ops/table';
import type { Op } from '../ops/types';
import type { DeviceShape, PlatformShape } from './platforms';
import type { Rng } from './types';
import type { DevState, IovaRes, Owner, Resource, SeqState, SgRes, SingleRes } from './gen-state';
import {
  cpuFills, deviceFills, mk, ref, refField, refSeg, roundUp, UNMAP_OF, type Dir, type MapFn,
} from './gen-vocab';

/** One generation in progress: its random source, the tracker, the ops emitted so far. */
export interface Gen {
  readonly rng: Rng;
  st: SeqState;
  readonly out: Op[];
  /** Conformance runs: only these ops may be emitted (optional ops are checked with can()). */
  readonly allowed?: ReadonlySet<OpName>;
}
/** One thing a driver does; false when it does not apply now (nothing emitted). */
export type Action = (g: Gen) => boolean;

/** Whether @op may be emitted in this generation. */
export const can = (g: Gen, op: OpName): boolean => g.allowed === undefined || g.allowed.has(op);

export function emit(g: Gen, op: Op): void {
  g.out.push(op);
  g.st.observe(op);
}

export const plat = (g: Gen): PlatformShape => g.st.plat!;
export const cpuArg = (g: Gen): { cpu?: number } => {
  const n = plat(g).ncpus;
  const c = n > 1 ? g.rng.int(n) : 0;
  return c === 0 ? {} : { cpu: c };
};
export const bytes = (g: Gen, len: bigint): { len: number; seed: number } => ({ len: Number(len), seed: g.rng.int(1 << 16) });
export const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);

/** Devices the DMA API may use now (alive, not behind a blocked domain). */
export function usable(g: Gen, pred: (d: DevState) => boolean = () => true): DevState[] {
  return [...g.st.devices.values()].filter((d) => d.shape.path !== 'blocked' && pred(d));
}

const SIZES = [1n, 8n, 64n, 96n, 100n, 128n, 200n, 256n, 1500n, 2048n, 4096n, 4096n, 8192n, 9000n, 0x3000n, 0x4000n, 0x1_0000n, 0x2_0000n, 0x3_f800n, 0x4_0000n, 0x20_0000n];

/** pickSize - a size near the edges that matter: slots (2 KiB), pages, granules, 64 KiB segments, 256 KiB swiotlb segments, 2 MiB blocks. */
export function pickSize(g: Gen, d: DevState, max = 0x20_0000n): bigint {
  const { rng } = g;
  const base = rng.chance(0.25) ? d.shape.granule * BigInt(1 + rng.int(4)) : rng.pick(SIZES);
  const line = plat(g).cache_line;
  const s = base + rng.pick([0n, 0n, 0n, 0n, 1n, -1n, line, -line]);
  if (s < 1n) return 1n;
  return s > max ? 1n + rng.bigint(max) : s;
}

export function misalign(g: Gen): bigint {
  const p = plat(g);
  return g.rng.pick([0n, 0n, 0n, 0n, 0n, 0n, p.cache_line, 0x20n, 0x234n, 0x800n, p.page_size - 0x200n]);
}

/** The CPU address whose DMA address is @dma for @d (dma-ranges inverted), if any. */
function dmaToPhys(d: DeviceShape, dma: bigint): bigint | undefined {
  if (!d.dma_range_map) return dma;
  for (const m of d.dma_range_map) if (dma >= m.dma_start && dma - m.dma_start < m.size) return m.cpu_start + (dma - m.dma_start);
  return undefined;
}

/** A buffer at the device's addressing limit: ending on it, straddling it, or just past it (dma-direct bounces). */
function limitEdge(g: Gen, d: DevState, size: bigint): bigint | undefined {
  if (d.shape.path !== 'direct') return undefined;
  const lim = d.dma_mask === 0n ? d.shape.bus_dma_limit : d.shape.bus_dma_limit === 0n ? d.dma_mask : min(d.dma_mask, d.shape.bus_dma_limit);
  const top = dmaToPhys(d.shape, lim);
  if (top === undefined) return undefined;
  return g.rng.pick([top + 1n - size, top + 1n - size / 2n, top + 1n]);
}

/** Placement wishes: an alignment and the offset from it (IOVA links), or exhaust: ignore the pool budget. */
export interface Placement { readonly align?: bigint; readonly offset?: bigint; readonly exhaust?: boolean }

export function candidate(g: Gen, d: DevState, size: bigint, want: Placement): bigint | undefined {
  const { rng, st } = g;
  const zones = st.arenas.filter((z) => z.hi - z.lo > size + 0x2_0000n);
  if (zones.length === 0) return undefined;
  const z = rng.pick(zones);
  const kind = want.align === undefined ? rng.int(10) : 9;
  if (kind === 0) return z.lo + misalign(g); // the bottom of a bank: 4 GiB exactly on two-bank machines
  if (kind === 1) return z.hi - size; // the top of the arena
  if (kind === 2) return limitEdge(g, d, size);
  const align = want.align ?? (size >= 0x20_0000n && rng.chance(0.5) ? 0x20_0000n : plat(g).page_size);
  const base = roundUp(z.lo, align);
  const slots = (z.hi - base - size - 0x1_0000n) / align;
  return slots > 0n ? base + rng.bigint(slots) * align + (want.offset ?? (want.align === undefined ? misalign(g) : 0n)) : undefined;
}

/**
 * pickBuffer - a free spot for a new driver buffer of @size that @d can map legally:
 * directly, or through a bounce the pool has room for (at most half of it in use, unless
 * @want.exhaust). Returns the physical address and the expected bounce bytes, or undefined.
 */
export function pickBuffer(g: Gen, d: DevState, size: bigint, dir: Dir, want: Placement = {}): { phys: bigint; bounce: bigint } | undefined {
  const pool = plat(g).swiotlb;
  const use = g.st.poolUse();
  // At most half the pool in use, and no bounce over an eighth of it unless it is idle: big
  // bounces need whole free 128-slot segments, which a small busy pool rarely has.
  const room = pool ? min((pool.hi - pool.lo) / 2n - use, use === 0n ? pool.hi - pool.lo : (pool.hi - pool.lo) / 8n) : 0n;
  for (let i = 0; i < 8; i++) {
    const phys = candidate(g, d, size, want);
    if (phys === undefined || !g.st.isFree(phys, size)) continue;
    const bounce = g.st.bounceBytes(d, phys, size, dir);
    if (bounce < 0n || (!want.exhaust && bounce > room)) continue;
    return { phys, bounce };
  }
  return undefined;
}

/** The parts of a live streaming mapping a device may touch, with what it may do there. */
export interface Window { readonly ref: (off: bigint) => HandleRef; readonly len: bigint; readonly read: boolean; readonly write: boolean; readonly dev: string }

/** windows - every place a device may legally access now (buffers it owns, coherent memory, pool blocks, synced IOVA links). */
export function windows(g: Gen): Window[] {
  const out: Window[] = [];
  for (const r of g.st.live.values()) {
    const d = g.st.devices.get(r.dev);
    if (!d || ('size' in r && r.size === 0n)) continue; // a size-0 map is UNDEFINED: nothing to touch
    if (r.kind === 'single' && r.owner === 'device' && r.fn !== 'dma_map_resource' && r.dir !== 'DMA_NONE') {
      out.push({ ref: (o) => ref(r.h, o), len: r.size, read: cpuFills(r.dir), write: deviceFills(r.dir), dev: r.dev });
    } else if (r.kind === 'sg' && r.owner === 'device' && r.ents.length > 0 && r.dir !== 'DMA_NONE') {
      // dma-direct keeps one DMA segment per entry; dma-iommu merges, so only segment 0 is known to cover entry 0.
      const n = d.shape.path === 'dma-iommu' ? 1 : r.ents.length;
      const i = g.rng.int(n);
      out.push({ ref: (o) => (i === 0 ? ref(r.h, o) : refSeg(r.h, i, o)), len: r.ents[i]!.length, read: cpuFills(r.dir), write: deviceFills(r.dir), dev: r.dev });
    } else if (r.kind === 'coherent' || r.kind === 'block') {
      out.push({ ref: (o) => ref(r.h, o), len: r.size, read: true, write: true, dev: r.dev });
    } else if (r.kind === 'iova' && r.synced && r.links.length > 0 && r.dir !== 'DMA_NONE') {
      const l = g.rng.pick(r.links);
      out.push({ ref: (o) => ref(r.h, l.offset + o), len: l.size, read: cpuFills(r.dir), write: deviceFills(r.dir), dev: r.dev });
    }
  }
  return out;
}

/** An access of up to @max bytes at an offset inside a window of @len bytes. */
export function span(g: Gen, len: bigint, max = 0x1000n): { off: bigint; n: bigint } {
  if (len <= 0n) return { off: 0n, n: 1n };
  const off = g.rng.chance(0.6) ? 0n : g.rng.bigint(len);
  const left = len - off;
  const cap = min(left, max);
  const n = g.rng.chance(0.3) ? cap : 1n + g.rng.bigint(cap);
  return { off, n };
}
export const DATA_MAX = 0x1_0000n; // probes carry at most 64 KiB: enough for every edge, cheap to check

export function pickDev(g: Gen, pred?: (d: DevState) => boolean): DevState | undefined {
  const ds = usable(g, pred);
  return ds.length > 0 ? g.rng.pick(ds) : undefined;
}

export const pickOf = <T>(g: Gen, xs: readonly T[]): T | undefined => (xs.length > 0 ? g.rng.pick(xs) : undefined);
export const attrsArg = (bits: number): { attrs?: number } => (bits === 0 ? {} : { attrs: bits });

/**
 * A map, then the dma_mapping_error check every correct driver makes (dma-debug check 4).
 * @extra.named false: a map expected to fail (or leak) gets no handle, so no later op can dangle on it.
 */
export function emitMap(g: Gen, d: DevState, fn: MapFn, phys: bigint, size: bigint, dir: Dir, extra: { attrs?: number; check?: boolean; named?: boolean } = {}): void {
  const cpu = cpuArg(g);
  const args = { dev: d.shape.name, phys, size, dir, ...attrsArg(extra.attrs ?? 0), ...cpu };
  if (extra.named === false) return emit(g, mk(fn, args));
  const h = g.st.fresh('m');
  emit(g, mk(fn, { ...args, as: h }));
  if (extra.check !== false) emit(g, mk('dma_mapping_error', { dev: d.shape.name, dma_addr: ref(h) }));
}

export const mapFns = (g: Gen): MapFn[] => (plat(g).linux === 'newest' ? ['dma_map_phys', 'dma_map_page', 'dma_map_single'] : ['dma_map_page', 'dma_map_single']);

/** Streaming mappings (not resources) on live devices, owned by @owner. */
export function owned(g: Gen, owner: Owner): (SingleRes | SgRes)[] {
  return [...g.st.liveOf('single').filter((r) => r.fn !== 'dma_map_resource'), ...g.st.liveOf('sg')].filter((r) => r.owner === owner && r.dir !== 'DMA_NONE');
}

/** A CPU-side range of a streaming buffer: part of a single mapping, or of one sg entry. */
export function cpuSpan(g: Gen, r: SingleRes | SgRes, max = 0x1000n): { phys: bigint; n: bigint } | undefined {
  const seg = r.kind === 'single' ? (r.phys === undefined ? undefined : { phys: r.phys, length: r.size }) : pickOf(g, r.ents);
  if (!seg || seg.length === 0n) return undefined;
  const { off, n } = span(g, seg.length, max);
  return { phys: seg.phys + off, n };
}

export function syncOp(g: Gen, r: SingleRes | SgRes, forCpu: boolean, range?: { off: bigint; n: bigint }): Op {
  const dev = r.dev;
  if (r.kind === 'sg') return mk(forCpu ? 'dma_sync_sg_for_cpu' : 'dma_sync_sg_for_device', { dev, sg: ref(r.h), dir: r.dir, ...cpuArg(g) });
  if (range) {
    return mk(forCpu ? 'dma_sync_single_range_for_cpu' : 'dma_sync_single_range_for_device', { dev, dma_addr: ref(r.h), offset: range.off, size: range.n, dir: r.dir, ...cpuArg(g) });
  }
  return mk(forCpu ? 'dma_sync_single_for_cpu' : 'dma_sync_single_for_device', { dev, dma_addr: ref(r.h), size: r.size, dir: r.dir, ...cpuArg(g) });
}
/** The legal release of a resource: unmap, free, or IOVA teardown (destroy, or unlink all then free). */
export function releaseOps(g: Gen, r: Resource): Op[] {
  const dev = r.dev;
  switch (r.kind) {
    case 'single':
      return [mk(UNMAP_OF[r.fn], { dev, dma_addr: ref(r.h), size: r.size, dir: r.dir, ...attrsArg(r.attrs), ...cpuArg(g) })];
    case 'sg':
      return [mk(r.table ? 'dma_unmap_sgtable' : 'dma_unmap_sg', { dev, sg: ref(r.h), dir: r.dir, ...attrsArg(r.attrs), ...cpuArg(g) })];
    case 'coherent':
      return [mk('dma_free_coherent', { dev, size: r.size, cpu_addr: refField(r.h, 'cpu_addr'), dma_addr: ref(r.h) })];
    case 'block':
      return [mk('dma_pool_free', { pool: r.pool, cpu_addr: refField(r.h, 'cpu_addr'), dma_addr: ref(r.h) })];
    case 'iova': {
      const links = [...r.links].sort((a, b) => (a.offset < b.offset ? -1 : 1));
      const end = links.reduce((at, l) => (at !== undefined && l.offset === at ? l.offset + l.size : undefined), 0n as bigint | undefined);
      if (end !== undefined && g.rng.chance(0.6)) return [mk('dma_iova_destroy', { dev, state: r.h, mapped_len: end, dir: r.dir, ...cpuArg(g) })];
      const unlinks = links.map((l) => mk('dma_iova_unlink', { dev, state: r.h, offset: l.offset, size: l.size, dir: r.dir }));
      return [...unlinks, mk('dma_iova_free', { dev, state: r.h })];
    }
  }
}
/** The end of a state's links, if they run back to back from offset 0. */
export function linkedEnd(r: IovaRes): bigint | undefined {
  const links = [...r.links].sort((a, b) => (a.offset < b.offset ? -1 : 1));
  return links.reduce((at, l) => (at !== undefined && l.offset === at ? l.offset + l.size : undefined), 0n as bigint | undefined);
}
export const other = <T>(g: Gen, xs: readonly T[], not: T): T => g.rng.pick(xs.filter((x) => x !== not));
