/**
 * Generation: op sequences a driver could issue on a given platform. A
 * SeqState tracks, from the ops alone, what is live (streaming and sg
 * mappings with their size, direction and attrs; coherent buffers; dma_pools
 * and their blocks; IOVA states with their links) and who owns each buffer,
 * so most generated calls are legal; a tunable share of actions breaks the
 * contract on purpose. The same tracker replays any prefix, which is how
 * mutate.ts inserts ops into an existing input (syzkaller's generation.go:
 * the random source is passed in; nothing here runs the model).
 */
import fc from 'fast-check';
import { attrs as attrsKind } from '../ops/dma-kinds';
import type { HandleRef } from '../ops/kinds';
import type { OpName } from '../ops/table';
import type { Op, OpOf } from '../ops/types';
import {
  arenas, deviceShape, dmaReachable, iommuShape, mmioHole, namedPlatform, physToDma, platformShape, randomPlatform,
  PLATFORM_NAMES, type DeviceShape, type IommuShape, type PlatformShape, type Range,
} from './platforms';
import { createRng, weighted } from './rng';
import type { Rng } from './types';

export interface GenOptions {
  /** Ops to generate after the platform ops. */
  readonly length: number;
  /** Share of actions (0..1) that break the DMA API contract on purpose. */
  readonly misuse: number;
}

// ---- vocabulary ---------------------------------------------------------------------------------

export type Dir = OpOf<'dma_map_phys'>['dir'];
const DIRS: readonly Dir[] = ['DMA_TO_DEVICE', 'DMA_FROM_DEVICE', 'DMA_BIDIRECTIONAL'];
const ALL_DIRS: readonly Dir[] = [...DIRS, 'DMA_NONE'];
/** The CPU fills the buffer for the device. */
const cpuFills = (d: Dir): boolean => d === 'DMA_TO_DEVICE' || d === 'DMA_BIDIRECTIONAL';
/** The device fills the buffer for the CPU. */
const deviceFills = (d: Dir): boolean => d === 'DMA_FROM_DEVICE' || d === 'DMA_BIDIRECTIONAL';

export type MapFn = 'dma_map_phys' | 'dma_map_page' | 'dma_map_single' | 'dma_map_resource';
const UNMAP_OF = {
  dma_map_phys: 'dma_unmap_phys', dma_map_page: 'dma_unmap_page', dma_map_single: 'dma_unmap_single', dma_map_resource: 'dma_unmap_resource',
} as const satisfies Record<MapFn, OpName>;

const mk = <N extends OpName>(op: N, args: Omit<OpOf<N>, 'op'>): Op => ({ op, ...args }) as unknown as Op;
const ref = (handle: string, offset = 0n): HandleRef => ({ handle, offset });
const refField = (handle: string, field: string, offset = 0n): HandleRef => ({ handle, field, offset });
const refSeg = (handle: string, index: number, offset = 0n): HandleRef => ({ handle, index, offset });
const attrBits = (...names: string[]): number => attrsKind.parse(names, 'attrs');

// ---- the tracker --------------------------------------------------------------------------------

/** Who may touch a streaming buffer now: the CPU, the device, or nobody cleanly (after a partial sync). */
export type Owner = 'cpu' | 'device' | 'split';
export interface Seg { readonly phys: bigint; readonly length: bigint }
export interface Link { readonly offset: bigint; readonly size: bigint; readonly phys: bigint | undefined; readonly bounce: bigint }

interface Base { readonly h: string; readonly dev: string }
export interface SingleRes extends Base {
  readonly kind: 'single'; readonly fn: MapFn; readonly phys: bigint | undefined; readonly size: bigint; readonly dir: Dir; readonly attrs: number;
  owner: Owner; checked: boolean; readonly bounce: bigint;
}
export interface SgRes extends Base { readonly kind: 'sg'; readonly table: boolean; readonly ents: readonly Seg[]; readonly dir: Dir; readonly attrs: number; owner: Owner; readonly bounce: bigint }
export interface CoherentRes extends Base { readonly kind: 'coherent'; readonly size: bigint }
export interface BlockRes extends Base { readonly kind: 'block'; readonly pool: string; readonly size: bigint }
export interface IovaRes extends Base {
  readonly kind: 'iova'; readonly pad: bigint; readonly size: bigint; readonly granule: bigint; dir: Dir; links: Link[]; synced: boolean;
}
export type Resource = SingleRes | SgRes | CoherentRes | BlockRes | IovaRes;
export interface PoolInfo { readonly name: string; readonly dev: string; readonly size: bigint }
export interface DevState { readonly shape: DeviceShape; dma_mask: bigint; coherent_dma_mask: bigint }

const SLOT = 2048n;
const roundUp = (x: bigint, a: bigint): bigint => ((x + a - 1n) / a) * a;

/**
 * SeqState - what a driver knows after a prefix of ops, derived from the ops
 * alone. A create is assumed to succeed: if it fails at run time, later ops
 * naming its handle dangle, which the executor has to meet (skip or stop).
 */
export class SeqState {
  plat: PlatformShape | null = null;
  arenas: Range[] = [];
  readonly iommus = new Map<string, IommuShape>();
  readonly devices = new Map<string, DevState>();
  readonly live = new Map<string, Resource>();
  readonly dead = new Map<string, Resource>();
  readonly pools = new Map<string, PoolInfo>();
  /** Every handle, state and pool name used so far: new ones are fresh. */
  readonly names = new Set<string>();
  /** Buffers a repeat op may have leaked mappings of: never handed out again. */
  readonly tainted: Range[] = [];
  private counter = 0;

  fresh(prefix: string): string {
    while (this.names.has(`${prefix}${this.counter}`)) this.counter++;
    const n = `${prefix}${this.counter++}`;
    this.names.add(n);
    return n;
  }

  liveOf<K extends Resource['kind']>(kind: K): Extract<Resource, { kind: K }>[] {
    return [...this.live.values()].filter((r): r is Extract<Resource, { kind: K }> => r.kind === kind && this.devices.has(r.dev));
  }

  /** Bytes of the swiotlb pool the live mappings are expected to hold. */
  poolUse(): bigint {
    let n = 0n;
    for (const r of this.live.values()) {
      if (r.kind === 'single' || r.kind === 'sg') n += r.bounce;
      else if (r.kind === 'iova') for (const l of r.links) n += l.bounce;
    }
    return n;
  }

  /** [phys, +size) lies in a driver arena and shares no cache line (ARCH_DMA_MINALIGN at least) with a live buffer. */
  isFree(phys: bigint, size: bigint): boolean {
    const line = this.plat && this.plat.cache_line > 128n ? this.plat.cache_line : 128n;
    const lo = (phys / line) * line;
    const hi = roundUp(phys + size, line);
    if (!this.arenas.some((z) => phys >= z.lo && phys + size <= z.hi)) return false;
    const clash = (a: bigint, b: bigint): boolean => a < hi && b > lo;
    if (this.tainted.some((t) => clash(t.lo, t.hi))) return false;
    for (const r of this.live.values()) {
      if (r.kind === 'single' && r.phys !== undefined && clash(r.phys, r.phys + r.size)) return false;
      if (r.kind === 'sg' && r.ents.some((e) => clash(e.phys, e.phys + e.length))) return false;
      if (r.kind === 'iova' && r.links.some((l) => l.phys !== undefined && clash(l.phys, l.phys + l.size))) return false;
    }
    return true;
  }

  /**
   * bounceBytes - the swiotlb bytes a streaming map of [phys, +size) is expected to take
   * (0: none), or -1 when it cannot succeed (a bounce with no reachable pool, or too big for one).
   */
  bounceBytes(dev: DevState, phys: bigint, size: bigint, dir: Dir): bigint {
    const d = dev.shape;
    const plat = this.plat!;
    const kmalloc = plat.arch === 'arm64' && !d.coherent && dir !== 'DMA_TO_DEVICE' && size < 256n && kmallocUnaligned(size, plat.cache_line);
    let bounce: boolean;
    if (d.path === 'dma-iommu') bounce = (d.untrusted || kmalloc) && ((phys | size) & (d.granule - 1n)) !== 0n;
    else if (d.force_bounce || plat.swiotlb?.force || !dmaReachable(d, dev.dma_mask, phys, size)) bounce = true;
    else bounce = kmalloc; // without a pool, dma-direct refuses what it would have bounced
    if (!bounce) return 0n;
    const pool = plat.swiotlb;
    if (!pool || (d.path !== 'dma-iommu' && !dmaReachable(d, dev.dma_mask, pool.lo, pool.hi - pool.lo))) return -1n;
    const align = d.path === 'dma-iommu' && d.granule > SLOT ? d.granule : SLOT;
    const bytes = roundUp(size + (phys & d.min_align_mask & (align - 1n)), align) + roundUp(d.min_align_mask, SLOT);
    const cap = d.segment_boundary_mask + 1n !== 0n && d.segment_boundary_mask < 0x3_ffffn ? d.segment_boundary_mask + 1n : 0x4_0000n;
    return bytes > cap ? -1n : bytes;
  }

  private kill(v: HandleRef | bigint | unknown): void {
    if (typeof v !== 'object' || v === null || !('handle' in v)) return;
    const r = v as HandleRef;
    if (r.offset !== 0n || r.index !== undefined || r.field !== undefined) return;
    const res = this.live.get(r.handle);
    if (!res) return;
    this.live.delete(r.handle);
    this.dead.set(r.handle, res);
  }

  private target(v: unknown): Resource | undefined {
    if (typeof v !== 'object' || v === null || !('handle' in v)) return undefined;
    const r = v as HandleRef;
    return r.offset === 0n && r.index === undefined && r.field === undefined ? this.live.get(r.handle) : undefined;
  }

  private define(name: string | undefined, res: (h: string) => Resource): void {
    if (name === undefined) return;
    this.names.add(name);
    this.dead.delete(name);
    this.live.set(name, res(name));
  }

  /** observe - folds one op into the state (every op: generated, mutated or spliced). */
  observe(op: Op): void {
    switch (op.op) {
      case 'platform':
        this.plat = platformShape(op);
        this.arenas = arenas(this.plat);
        this.iommus.clear(); this.devices.clear(); this.live.clear(); this.dead.clear(); this.pools.clear(); this.tainted.length = 0;
        return;
      case 'iommu_add':
        if (this.plat) this.iommus.set(op.name, iommuShape(op, this.plat.page_size));
        return;
      case 'device_add': {
        if (!this.plat || this.devices.has(op.name)) return;
        const shape = deviceShape(op, this.plat, this.iommus);
        this.devices.set(op.name, { shape, dma_mask: shape.dma_mask, coherent_dma_mask: shape.coherent_dma_mask });
        return;
      }
      case 'device_remove':
        this.devices.delete(op.name);
        for (const [h, r] of this.live) if (r.dev === op.name) { this.live.delete(h); this.dead.set(h, r); }
        return;
      case 'dma_map_phys': case 'dma_map_page': case 'dma_map_single': case 'dma_map_resource': {
        const dev = this.devices.get(op.dev);
        const phys = typeof op.phys === 'bigint' ? op.phys : undefined;
        const bounce = dev && phys !== undefined && op.op !== 'dma_map_resource' && op.size > 0n ? this.bounceBytes(dev, phys, op.size, op.dir) : 0n;
        this.define(op.as, (h) => ({
          kind: 'single', h, dev: op.dev, fn: op.op, phys, size: op.size, dir: op.dir, attrs: op.attrs ?? 0, owner: 'device', checked: false, bounce: bounce > 0n ? bounce : 0n,
        }));
        return;
      }
      case 'dma_mapping_error': {
        const r = this.target(op.dma_addr);
        if (r?.kind === 'single') r.checked = true;
        return;
      }
      case 'dma_unmap_phys': case 'dma_unmap_page': case 'dma_unmap_single': case 'dma_unmap_resource':
        return this.kill(op.dma_addr);
      case 'dma_sync_single_for_cpu': case 'dma_sync_single_for_device':
      case 'dma_sync_single_range_for_cpu': case 'dma_sync_single_range_for_device': {
        const r = this.target(op.dma_addr);
        if (r?.kind !== 'single') return;
        const whole = ('offset' in op ? op.offset : 0n) === 0n && op.size === r.size;
        const forCpu = op.op.endsWith('_for_cpu');
        // A partial sync leaves the buffer split between CPU and device; giving the part back restores device ownership.
        r.owner = whole ? (forCpu ? 'cpu' : 'device') : !forCpu && r.owner === 'split' ? 'device' : 'split';
        return;
      }
      case 'dma_map_sg': case 'dma_map_sgtable':
        return this.observeMapSg(op);
      case 'dma_unmap_sg': case 'dma_unmap_sgtable':
        return this.kill(op.sg);
      case 'dma_sync_sg_for_cpu': case 'dma_sync_sg_for_device': {
        const r = this.target(op.sg);
        if (r?.kind === 'sg') r.owner = op.nents !== undefined && op.nents !== r.ents.length ? 'split' : op.op === 'dma_sync_sg_for_cpu' ? 'cpu' : 'device';
        return;
      }
      case 'dma_alloc_coherent':
        return this.define(op.as, (h) => ({ kind: 'coherent', h, dev: op.dev, size: op.size }));
      case 'dma_free_coherent':
        return this.kill(op.dma_addr);
      case 'dma_pool_create':
        this.names.add(op.name);
        if (!this.pools.has(op.name)) this.pools.set(op.name, { name: op.name, dev: op.dev, size: op.size });
        return;
      case 'dma_pool_alloc': {
        const pool = this.pools.get(op.pool);
        if (pool) this.define(op.as, (h) => ({ kind: 'block', h, dev: pool.dev, pool: pool.name, size: pool.size }));
        return;
      }
      case 'dma_pool_free':
        return this.kill(op.dma_addr);
      case 'dma_pool_destroy':
        this.pools.delete(op.pool);
        for (const [h, r] of this.live) if (r.kind === 'block' && r.pool === op.pool) { this.live.delete(h); this.dead.set(h, r); }
        return;
      case 'dma_set_mask': case 'dma_set_coherent_mask': case 'dma_set_mask_and_coherent': {
        const d = this.devices.get(op.dev);
        if (!d) return;
        if (op.op !== 'dma_set_coherent_mask') d.dma_mask = op.mask;
        if (op.op !== 'dma_set_mask') d.coherent_dma_mask = op.mask;
        return;
      }
      case 'dma_iova_try_alloc': {
        const granule = this.devices.get(op.dev)?.shape.granule ?? 0x1000n;
        const pad = typeof op.phys === 'bigint' ? op.phys & (granule - 1n) : 0n;
        return this.define(op.state, (h) => ({ kind: 'iova', h, dev: op.dev, pad, size: op.size, granule, dir: 'DMA_BIDIRECTIONAL', links: [], synced: false }));
      }
      case 'dma_iova_link': {
        const r = this.live.get(op.state);
        const dev = this.devices.get(op.dev);
        if (r?.kind !== 'iova') return;
        const phys = typeof op.phys === 'bigint' ? op.phys : undefined;
        const b = dev && phys !== undefined && op.size > 0n ? this.bounceBytes(dev, phys, op.size, op.dir) : 0n;
        r.links.push({ offset: op.offset, size: op.size, phys, bounce: b > 0n ? b : 0n });
        r.dir = op.dir;
        r.synced = false;
        return;
      }
      case 'dma_iova_sync': {
        const r = this.live.get(op.state);
        if (r?.kind === 'iova') r.synced = true;
        return;
      }
      case 'dma_iova_unlink': {
        const r = this.live.get(op.state);
        if (r?.kind === 'iova') r.links = r.links.filter((l) => l.offset < op.offset || l.offset + l.size > op.offset + op.size);
        return;
      }
      case 'dma_iova_destroy': case 'dma_iova_free':
        return this.kill(ref(op.state));
      case 'repeat':
        return this.observeRepeat(op.ops as readonly Op[]);
      default:
        return;
    }
  }

  private observeMapSg(op: OpOf<'dma_map_sg'> | OpOf<'dma_map_sgtable'>): void {
    const from = Array.isArray(op.sg) ? undefined : this.live.get((op.sg as HandleRef).handle) ?? this.dead.get((op.sg as HandleRef).handle);
    const list = Array.isArray(op.sg) ? op.sg : [];
    const ents: Seg[] = from?.kind === 'sg' ? [...from.ents]
      : list.every((e) => typeof e.phys === 'bigint') ? list.map((e) => ({ phys: e.phys as bigint, length: e.length })) : [];
    const dev = this.devices.get(op.dev);
    let bounce = 0n;
    for (const e of ents) {
      const b = dev && e.length > 0n ? this.bounceBytes(dev, e.phys, e.length, op.dir) : 0n;
      if (b > 0n) bounce += b;
    }
    this.define(op.as, (h) => ({ kind: 'sg', h, dev: op.dev, table: op.op === 'dma_map_sgtable', ents, dir: op.dir, attrs: op.attrs ?? 0, owner: 'device', bounce }));
  }

  /** The ops of a repeat run once as far as the tracker knows; a buffer mapped and not unmapped inside may leak every round. */
  private observeRepeat(ops: readonly Op[]): void {
    const unmapped = new Set<string>();
    for (const o of ops) {
      if ('dma_addr' in o && typeof o.dma_addr === 'object' && o.op.startsWith('dma_unmap')) unmapped.add(o.dma_addr.handle);
    }
    for (const o of ops) {
      this.observe(o);
      if ((o.op === 'dma_map_phys' || o.op === 'dma_map_page' || o.op === 'dma_map_single') && typeof o.phys === 'bigint' && !(o.as && unmapped.has(o.as))) {
        this.tainted.push({ lo: o.phys, hi: o.phys + o.size });
      }
    }
  }
}

function kmallocUnaligned(size: bigint, line: bigint): boolean {
  let c = 8n;
  for (const k of [8n, 16n, 32n, 64n, 96n, 128n, 192n, 256n]) if (size <= k) { c = k; break; }
  return c % line !== 0n;
}

/** trackOps - the state after @ops (a platform op list, or a whole fuzz input's prefix). */
export function trackOps(ops: readonly Op[]): SeqState {
  const st = new SeqState();
  for (const op of ops) st.observe(op);
  return st;
}

// ---- the generator ------------------------------------------------------------------------------

interface Gen {
  readonly rng: Rng;
  readonly st: SeqState;
  readonly out: Op[];
}
type Action = (g: Gen) => boolean;

function emit(g: Gen, op: Op): void {
  g.out.push(op);
  g.st.observe(op);
}

const plat = (g: Gen): PlatformShape => g.st.plat!;
const cpuArg = (g: Gen): { cpu?: number } => {
  const n = plat(g).ncpus;
  const c = n > 1 ? g.rng.int(n) : 0;
  return c === 0 ? {} : { cpu: c };
};
const bytes = (g: Gen, len: bigint): { len: number; seed: number } => ({ len: Number(len), seed: g.rng.int(1 << 16) });
const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);

/** Devices the DMA API may use now (alive, not behind a blocked domain). */
function usable(g: Gen, pred: (d: DevState) => boolean = () => true): DevState[] {
  return [...g.st.devices.values()].filter((d) => d.shape.path !== 'blocked' && pred(d));
}

const SIZES = [1n, 8n, 64n, 96n, 100n, 128n, 200n, 256n, 1500n, 2048n, 4096n, 4096n, 8192n, 9000n, 0x3000n, 0x4000n, 0x1_0000n, 0x2_0000n, 0x3_f800n, 0x4_0000n, 0x20_0000n];

/** pickSize - a size near the edges that matter: slots (2 KiB), pages, granules, 64 KiB segments, 256 KiB swiotlb segments, 2 MiB blocks. */
function pickSize(g: Gen, d: DevState, max = 0x20_0000n): bigint {
  const { rng } = g;
  const base = rng.chance(0.25) ? d.shape.granule * BigInt(1 + rng.int(4)) : rng.pick(SIZES);
  const line = plat(g).cache_line;
  const s = base + rng.pick([0n, 0n, 0n, 0n, 1n, -1n, line, -line]);
  if (s < 1n) return 1n;
  return s > max ? 1n + rng.bigint(max) : s;
}

function misalign(g: Gen): bigint {
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
interface Placement { readonly align?: bigint; readonly offset?: bigint; readonly exhaust?: boolean }

function candidate(g: Gen, d: DevState, size: bigint, want: Placement): bigint | undefined {
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
function pickBuffer(g: Gen, d: DevState, size: bigint, dir: Dir, want: Placement = {}): { phys: bigint; bounce: bigint } | undefined {
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
interface Window { readonly ref: (off: bigint) => HandleRef; readonly len: bigint; readonly read: boolean; readonly write: boolean; readonly dev: string }

/** windows - every place a device may legally access now (buffers it owns, coherent memory, pool blocks, synced IOVA links). */
function windows(g: Gen): Window[] {
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
function span(g: Gen, len: bigint, max = 0x1000n): { off: bigint; n: bigint } {
  if (len <= 0n) return { off: 0n, n: 1n };
  const off = g.rng.chance(0.6) ? 0n : g.rng.bigint(len);
  const left = len - off;
  const cap = min(left, max);
  const n = g.rng.chance(0.3) ? cap : 1n + g.rng.bigint(cap);
  return { off, n };
}

// ---- legal actions: what a correct driver does ----------------------------------------------------

const DATA_MAX = 0x1_0000n; // probes carry at most 64 KiB: enough for every edge, cheap to check

function pickDev(g: Gen, pred?: (d: DevState) => boolean): DevState | undefined {
  const ds = usable(g, pred);
  return ds.length > 0 ? g.rng.pick(ds) : undefined;
}

const pickOf = <T>(g: Gen, xs: readonly T[]): T | undefined => (xs.length > 0 ? g.rng.pick(xs) : undefined);
const attrsArg = (bits: number): { attrs?: number } => (bits === 0 ? {} : { attrs: bits });

/**
 * A map, then the dma_mapping_error check every correct driver makes (dma-debug check 4).
 * @extra.named false: a map expected to fail (or leak) gets no handle, so no later op can dangle on it.
 */
function emitMap(g: Gen, d: DevState, fn: MapFn, phys: bigint, size: bigint, dir: Dir, extra: { attrs?: number; check?: boolean; named?: boolean } = {}): void {
  const cpu = cpuArg(g);
  const args = { dev: d.shape.name, phys, size, dir, ...attrsArg(extra.attrs ?? 0), ...cpu };
  if (extra.named === false) return emit(g, mk(fn, args));
  const h = g.st.fresh('m');
  emit(g, mk(fn, { ...args, as: h }));
  if (extra.check !== false) emit(g, mk('dma_mapping_error', { dev: d.shape.name, dma_addr: ref(h) }));
}

const mapFns = (g: Gen): MapFn[] => (plat(g).linux === 'newest' ? ['dma_map_phys', 'dma_map_page', 'dma_map_single'] : ['dma_map_page', 'dma_map_single']);

const mapSingle: Action = (g) => {
  const d = pickDev(g);
  if (!d) return false;
  if (g.rng.chance(0.08)) return mapResource(g, d);
  const dir = g.rng.pick(DIRS);
  const size = pickSize(g, d);
  const buf = pickBuffer(g, d, size, dir);
  if (!buf) return false;
  if (cpuFills(dir) && g.rng.chance(0.7)) emit(g, mk('cpu_write', { phys: buf.phys, data: bytes(g, min(size, DATA_MAX)), ...cpuArg(g) }));
  const attrs = g.rng.chance(0.1) ? attrBits(g.rng.pick(['DMA_ATTR_WEAK_ORDERING', 'DMA_ATTR_NO_WARN'])) : 0;
  emitMap(g, d, g.rng.pick(mapFns(g)), buf.phys, size, dir, { attrs });
  return true;
};

/** dma_map_resource of device MMIO: a hole in the physical map, reachable without bouncing. */
function mapResource(g: Gen, d: DevState): boolean {
  const p = plat(g);
  const ramEnd = p.ram.reduce((m, r) => (r.hi > m ? r.hi : m), 0n);
  const hole = mmioHole(p) ?? (d.shape.path === 'dma-iommu' ? roundUp(ramEnd, 1n << 30n) : undefined);
  if (hole === undefined) return false;
  const phys = hole + p.page_size * BigInt(g.rng.int(16));
  const size = p.page_size * BigInt(1 + g.rng.int(4));
  if (d.shape.path === 'direct' && !dmaReachable(d.shape, d.dma_mask, phys, size)) return false;
  emitMap(g, d, 'dma_map_resource', phys, size, g.rng.pick(DIRS));
  return true;
}

/** An sg entry length: granule multiples (they merge under an IOMMU), slots and odd tails, within max_segment_size. */
function sgLength(g: Gen, d: DevState): bigint {
  const len = g.rng.chance(0.6) ? d.shape.granule * BigInt(1 + g.rng.int(3)) : g.rng.pick([512n, 1500n, 2048n, 4096n, 0x3000n, 0x8000n, 0x1_0000n]);
  return len > d.shape.max_segment_size ? d.shape.max_segment_size : len;
}

/** ARCH_DMA_MINALIGN or the cache line, whichever is larger: the unit two buffers must not share. */
const minAlign = (g: Gen): bigint => (plat(g).cache_line > 128n ? plat(g).cache_line : 128n);

/**
 * dma-debug check 20/21: no DMA segment may cross the segment boundary. dma-iommu lays
 * entries out around it, but one entry keeps its offset in the granule, so that plus its
 * length must fit; dma-direct keeps the entry's own DMA address.
 */
function crossesBoundary(d: DevState, phys: bigint, len: bigint): boolean {
  const m = d.shape.segment_boundary_mask;
  if (d.shape.path === 'dma-iommu') return (phys & (d.shape.granule - 1n)) + len > m + 1n;
  const dma = physToDma(d.shape, phys) ?? phys;
  return (dma | m) !== ((dma + len - 1n) | m);
}

/** Runs of physically contiguous entries (merge candidates), 1–6 entries in all. */
function sgEntries(g: Gen, d: DevState, dir: Dir): Seg[] {
  const ents: Seg[] = [];
  for (let run = 1 + g.rng.int(3); run > 0; run--) {
    // Entries of a run share no cache line (dma-debug's overlap check): aligned start, inner lengths in whole lines.
    const k = 1 + g.rng.int(2);
    const lens = Array.from({ length: k }, (_, i) => (i < k - 1 ? roundUp(sgLength(g, d), minAlign(g)) : sgLength(g, d)));
    const total = lens.reduce((a, b) => a + b, 0n);
    const buf = pickBuffer(g, d, total, dir, k > 1 ? { align: plat(g).page_size, offset: 0n } : {});
    if (!buf || ents.some((e) => e.phys < buf.phys + total && buf.phys < e.phys + e.length)) continue;
    let at = buf.phys;
    for (const length of lens) {
      if (!crossesBoundary(d, at, length) && g.st.bounceBytes(d, at, length, dir) >= 0n) ents.push({ phys: at, length });
      at += length;
    }
  }
  return ents;
}

const mapSg: Action = (g) => {
  const d = pickDev(g);
  if (!d) return false;
  const dir = g.rng.pick(DIRS);
  const ents = sgEntries(g, d, dir);
  if (ents.length === 0) return false;
  if (cpuFills(dir)) for (const e of ents.slice(0, 2)) emit(g, mk('cpu_write', { phys: e.phys, data: bytes(g, min(e.length, DATA_MAX)) }));
  const fn = g.rng.chance(0.3) ? 'dma_map_sgtable' : 'dma_map_sg';
  emit(g, mk(fn, { dev: d.shape.name, sg: ents.map((e) => ({ phys: e.phys, length: e.length })), dir, ...cpuArg(g), as: g.st.fresh('s') }));
  return true;
};

const allocCoherent: Action = (g) => {
  const d = pickDev(g);
  if (!d) return false;
  const size = g.rng.pick([64n, 100n, 4096n, 4097n, 8192n, 0x3000n, 0x1_0000n, 0x4_0000n]);
  emit(g, mk('dma_alloc_coherent', { dev: d.shape.name, size, as: g.st.fresh('c') }));
  return true;
};

const poolCreate: Action = (g) => {
  const d = pickDev(g);
  if (!d || g.st.pools.size >= 3) return false;
  const size = g.rng.pick([8n, 32n, 64n, 100n, 512n, 1024n, 2048n, 4096n]);
  const align = g.rng.pick([0n, 0n, 8n, 64n, 128n]);
  const boundary = size <= 4096n && g.rng.chance(0.3) ? { boundary: 4096n } : {};
  emit(g, mk('dma_pool_create', { dev: d.shape.name, name: g.st.fresh('pool'), size, ...(align ? { align } : {}), ...boundary }));
  return true;
};

const livePools = (g: Gen): PoolInfo[] => [...g.st.pools.values()].filter((p) => g.st.devices.has(p.dev));

const poolAlloc: Action = (g) => {
  const p = pickOf(g, livePools(g));
  if (!p) return false;
  emit(g, mk('dma_pool_alloc', { pool: p.name, as: g.st.fresh('b') }));
  return true;
};

const poolFree: Action = (g) => {
  const b = pickOf(g, g.st.liveOf('block'));
  if (!b) return false;
  emit(g, mk('dma_pool_free', { pool: b.pool, cpu_addr: refField(b.h, 'cpu_addr'), dma_addr: ref(b.h) }));
  return true;
};

const poolDestroy: Action = (g) => {
  const busy = new Set(g.st.liveOf('block').map((b) => b.pool));
  const p = pickOf(g, livePools(g).filter((x) => !busy.has(x.name)));
  if (!p) return false;
  emit(g, mk('dma_pool_destroy', { pool: p.name }));
  return true;
};

const deviceAccess: Action = (g) => {
  const w = pickOf(g, windows(g));
  if (!w) return false;
  const write = w.write && (!w.read || g.rng.chance(0.5));
  const { off, n } = span(g, w.len, write ? DATA_MAX : 0x1000n);
  if (write) emit(g, mk('device_write', { dev: w.dev, dma_addr: w.ref(off), data: bytes(g, n) }));
  else emit(g, mk('device_read', { dev: w.dev, dma_addr: w.ref(off), size: n }));
  return true;
};

/** Streaming mappings (not resources) on live devices, owned by @owner. */
function owned(g: Gen, owner: Owner): (SingleRes | SgRes)[] {
  return [...g.st.liveOf('single').filter((r) => r.fn !== 'dma_map_resource'), ...g.st.liveOf('sg')].filter((r) => r.owner === owner && r.dir !== 'DMA_NONE');
}

/** A CPU-side range of a streaming buffer: part of a single mapping, or of one sg entry. */
function cpuSpan(g: Gen, r: SingleRes | SgRes, max = 0x1000n): { phys: bigint; n: bigint } | undefined {
  const seg = r.kind === 'single' ? (r.phys === undefined ? undefined : { phys: r.phys, length: r.size }) : pickOf(g, r.ents);
  if (!seg || seg.length === 0n) return undefined;
  const { off, n } = span(g, seg.length, max);
  return { phys: seg.phys + off, n };
}

function syncOp(g: Gen, r: SingleRes | SgRes, forCpu: boolean, range?: { off: bigint; n: bigint }): Op {
  const dev = r.dev;
  if (r.kind === 'sg') return mk(forCpu ? 'dma_sync_sg_for_cpu' : 'dma_sync_sg_for_device', { dev, sg: ref(r.h), dir: r.dir, ...cpuArg(g) });
  if (range) {
    return mk(forCpu ? 'dma_sync_single_range_for_cpu' : 'dma_sync_single_range_for_device', { dev, dma_addr: ref(r.h), offset: range.off, size: range.n, dir: r.dir, ...cpuArg(g) });
  }
  return mk(forCpu ? 'dma_sync_single_for_cpu' : 'dma_sync_single_for_device', { dev, dma_addr: ref(r.h), size: r.size, dir: r.dir, ...cpuArg(g) });
}

/** The driver takes a buffer back (sync_for_cpu) and reads what the device wrote. */
const syncForCpu: Action = (g) => {
  const r = pickOf(g, owned(g, 'device'));
  if (!r) return false;
  emit(g, syncOp(g, r, true));
  const s = cpuSpan(g, r);
  if (s && deviceFills(r.dir) && g.rng.chance(0.7)) emit(g, mk('cpu_read', { phys: s.phys, size: s.n, ...cpuArg(g) }));
  return true;
};

/** The driver refills a buffer it owns and hands it back to the device. */
const syncForDevice: Action = (g) => {
  const r = pickOf(g, owned(g, 'cpu'));
  if (!r) return false;
  const s = cpuSpan(g, r, DATA_MAX);
  if (s && cpuFills(r.dir) && g.rng.chance(0.6)) emit(g, mk('cpu_write', { phys: s.phys, data: bytes(g, s.n), ...cpuArg(g) }));
  emit(g, syncOp(g, r, false));
  return true;
};

/** dma_sync_single_range_*: peek at part of a device-owned buffer and give that part back. */
const partialSync: Action = (g) => {
  const r = pickOf(g, owned(g, 'device').filter((x): x is SingleRes => x.kind === 'single' && x.phys !== undefined));
  if (!r) return false;
  const { off, n } = span(g, r.size);
  emit(g, syncOp(g, r, true, { off, n }));
  if (deviceFills(r.dir)) emit(g, mk('cpu_read', { phys: r.phys! + off, size: n }));
  emit(g, syncOp(g, r, false, { off, n }));
  return true;
};

/** The legal release of a resource: unmap, free, or IOVA teardown (destroy, or unlink all then free). */
function releaseOps(g: Gen, r: Resource): Op[] {
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

/** After the device let go of a buffer it filled, the CPU reads it. */
function readBack(g: Gen, r: Resource): void {
  if ((r.kind !== 'single' && r.kind !== 'sg') || (r.kind === 'single' && r.fn === 'dma_map_resource') || !deviceFills(r.dir) || !g.rng.chance(0.5)) return;
  const s = cpuSpan(g, r);
  if (s) emit(g, mk('cpu_read', { phys: s.phys, size: s.n }));
}

const release = (kinds: readonly Resource['kind'][]): Action => (g) => {
  const r = pickOf(g, [...g.st.live.values()].filter((x) => kinds.includes(x.kind) && g.st.devices.has(x.dev) && (x.kind !== 'block' || g.st.pools.has(x.pool))));
  if (!r) return false;
  for (const op of releaseOps(g, r)) emit(g, op);
  readBack(g, r);
  return true;
};

/** CPU loads and stores on coherent memory and pool blocks (through cpu_addr), any time. */
const coherentCpu: Action = (g) => {
  const r = pickOf(g, [...g.st.liveOf('coherent'), ...g.st.liveOf('block')]);
  if (!r) return false;
  const { off, n } = span(g, r.size);
  if (g.rng.chance(0.5)) emit(g, mk('cpu_write', { phys: refField(r.h, 'cpu_addr', off), data: bytes(g, n), ...cpuArg(g) }));
  else emit(g, mk('cpu_read', { phys: refField(r.h, 'cpu_addr', off), size: n, ...cpuArg(g) }));
  return true;
};

/** The CPU may speculate or evict any line at any time (the reason sync_for_cpu exists). */
const cpuNoise: Action = (g) => {
  const r = pickOf(g, [...g.st.liveOf('single').filter((x) => x.fn !== 'dma_map_resource'), ...g.st.liveOf('sg')]);
  const s = r && cpuSpan(g, r, 0x4000n);
  if (!s) return false;
  emit(g, mk(g.rng.chance(0.6) ? 'cpu_speculate' : 'cpu_evict', { phys: s.phys, size: s.n }));
  return true;
};

/**
 * An I/O through the IOVA-based API (iommu.md §3.11): try_alloc, links back to back
 * (the first may start part-way into a granule with try_alloc's offset; the others
 * granule-aligned; only the last may end mid-granule), then one dma_iova_sync.
 */
const iovaBegin: Action = (g) => {
  if (plat(g).linux !== 'newest') return false;
  const d = pickDev(g, (x) => x.shape.path === 'dma-iommu');
  if (!d) return false;
  const G = d.shape.granule;
  const dir = g.rng.pick(DIRS);
  // A bounced head keeps only min_align_mask of its offset: unaligned heads need min_align_mask >= G - 1 (§3.11 step 5).
  const bounces = d.shape.untrusted || (plat(g).arch === 'arm64' && !d.shape.coherent);
  const pad = (!bounces || d.shape.min_align_mask >= G - 1n) && g.rng.chance(0.4) ? g.rng.pick([0x200n, 0x234n, G / 2n]) % G : 0n;
  const links: { phys: bigint; size: bigint }[] = [];
  const count = 1 + g.rng.int(4);
  for (let i = 0; i < count; i++) {
    let size = G * BigInt(1 + g.rng.int(3)) - (i === 0 ? pad : 0n);
    if (i === count - 1 && g.rng.chance(0.4) && size > 1n) size -= 1n + g.rng.bigint(min(size - 1n, G - 1n));
    const buf = pickBuffer(g, d, size, dir, { align: G, offset: i === 0 ? pad : 0n });
    if (!buf) return false;
    links.push({ phys: buf.phys, size });
  }
  const total = links.reduce((a, l) => a + l.size, 0n);
  const state = g.st.fresh('io');
  const dev = d.shape.name;
  const cpu = cpuArg(g);
  emit(g, mk('dma_iova_try_alloc', { dev, state, phys: links[0]!.phys, size: total + G * BigInt(g.rng.int(2)), ...cpu }));
  let offset = 0n;
  for (const l of links) {
    if (cpuFills(dir) && g.rng.chance(0.5)) emit(g, mk('cpu_write', { phys: l.phys, data: bytes(g, min(l.size, DATA_MAX)) }));
    emit(g, mk('dma_iova_link', { dev, state, phys: l.phys, offset, size: l.size, dir, ...cpu }));
    offset += l.size;
  }
  emit(g, mk('dma_iova_sync', { dev, state, offset: 0n, size: total, ...cpu }));
  return true;
};

/** The end of a state's links, if they run back to back from offset 0. */
function linkedEnd(r: IovaRes): bigint | undefined {
  const links = [...r.links].sort((a, b) => (a.offset < b.offset ? -1 : 1));
  return links.reduce((at, l) => (at !== undefined && l.offset === at ? l.offset + l.size : undefined), 0n as bigint | undefined);
}

/** One more granule-aligned link after the last one (room permitting), synced. */
const iovaLinkMore: Action = (g) => {
  const r = pickOf(g, g.st.liveOf('iova').filter((x) => {
    const end = linkedEnd(x);
    return end !== undefined && (x.pad + end) % x.granule === 0n && x.size - end >= x.granule;
  }));
  const d = r && g.st.devices.get(r.dev);
  if (!r || !d) return false;
  const end = linkedEnd(r)!;
  const size = r.granule;
  const buf = pickBuffer(g, d, size, r.dir, { align: r.granule, offset: 0n });
  if (!buf) return false;
  emit(g, mk('dma_iova_link', { dev: r.dev, state: r.h, phys: buf.phys, offset: end, size, dir: r.dir }));
  emit(g, mk('dma_iova_sync', { dev: r.dev, state: r.h, offset: end, size }));
  return true;
};

const iovaUnlinkLast: Action = (g) => {
  const r = pickOf(g, g.st.liveOf('iova').filter((x) => x.links.length > 1));
  if (!r) return false;
  const last = r.links.reduce((a, b) => (b.offset > a.offset ? b : a));
  emit(g, mk('dma_iova_unlink', { dev: r.dev, state: r.h, offset: last.offset, size: last.size, dir: r.dir }));
  return true;
};

const advanceTime: Action = (g) => {
  emit(g, mk('advance_time', { ms: g.rng.chance(0.9) ? g.rng.pick([1, 2, 5, 9, 10, 11, 20]) : g.rng.pick([100, 101, 1000]) }));
  return true;
};

/** Queries change nothing but exercise the size, sync and addressing answers. */
const query: Action = (g) => {
  const d = pickDev(g);
  if (!d) return false;
  const dev = d.shape.name;
  const single = pickOf(g, g.st.liveOf('single'));
  const state = pickOf(g, g.st.liveOf('iova'));
  const p = plat(g);
  const qs: (Op | undefined)[] = [
    mk('dma_max_mapping_size', { dev }), mk('dma_opt_mapping_size', { dev }), mk('dma_get_merge_boundary', { dev }),
    mk('dma_addressing_limited', { dev }), mk('dma_get_required_mask', { dev }), mk('dma_get_mask', { dev }),
    mk('dma_get_cache_alignment', {}), mk('dma_debug_info', {}), mk('platform_counters', {}),
    p.linux === 'newest' ? mk('dma_need_unmap', { dev }) : undefined,
    single && g.st.devices.has(single.dev) ? mk('dma_need_sync', { dev: single.dev, dma_addr: ref(single.h) }) : undefined,
    p.swiotlb ? mk('swiotlb_info', {}) : undefined,
    single?.phys !== undefined ? mk('is_swiotlb_buffer', { phys: single.phys }) : undefined,
    d.shape.path === 'dma-iommu' ? mk('iova_info', { domain: d.shape.domain }) : undefined,
    d.shape.path === 'dma-iommu' ? mk('iommu_info', { domain: d.shape.domain }) : undefined,
    state ? mk(g.rng.chance(0.5) ? 'dma_use_iova' : 'dma_iova_size', { state: state.h }) : undefined,
  ];
  emit(g, g.rng.pick(qs.filter((q): q is Op => q !== undefined)));
  return true;
};

/** Many live maps at once on one device: fills small pools and IOVA space; failures are legal results. */
const burst: Action = (g) => {
  const d = pickDev(g);
  if (!d) return false;
  const size = g.rng.pick([0x1000n, 0x1_0000n, 0x2_0000n, 0x3_f800n]);
  const dir = g.rng.pick(DIRS);
  const fn = g.rng.pick(mapFns(g));
  let n = 0;
  for (let k = 4 + g.rng.int(12); k > 0; k--) {
    const buf = pickBuffer(g, d, size, dir, { exhaust: true });
    if (!buf) break;
    emitMap(g, d, fn, buf.phys, size, dir);
    n++;
  }
  return n > 0;
};

/** Map/unmap rounds on one CPU: past 256 they overflow a per-CPU flush queue, past 127 a range-cache magazine. */
const flood: Action = (g) => {
  const d = pickDev(g, (x) => x.shape.path === 'dma-iommu') ?? pickDev(g);
  if (!d) return false;
  const size = g.rng.pick([0x1000n, 0x2000n]);
  const buf = pickBuffer(g, d, size, 'DMA_TO_DEVICE');
  if (!buf) return false;
  const h = g.st.fresh('r');
  const dev = d.shape.name;
  const cpu = cpuArg(g);
  const dir: Dir = 'DMA_TO_DEVICE';
  const ops = [
    mk('dma_map_page', { dev, phys: buf.phys, size, dir, ...cpu, as: h }),
    mk('dma_mapping_error', { dev, dma_addr: ref(h) }),
    mk('dma_unmap_page', { dev, dma_addr: ref(h), size, dir, ...cpu }),
  ];
  emit(g, mk('repeat', { times: g.rng.pick([64, 128, 255, 257, 300]), ops }));
  return true;
};

const setMask: Action = (g) => {
  const busy = new Set([...g.st.live.values()].map((r) => r.dev));
  const d = pickDev(g, (x) => !busy.has(x.shape.name));
  if (!d) return false;
  const mask = DMA_BIT_MASK_OF(g.rng.pick([32, 36, 40, 48, 64]));
  emit(g, mk(g.rng.chance(0.5) ? 'dma_set_mask_and_coherent' : 'dma_set_mask', { dev: d.shape.name, mask }));
  return true;
};

/** Driver unbind: release everything the device holds, then device_remove (dma-debug's leak check finds nothing). */
const removeDevice: Action = (g) => {
  if (g.st.devices.size < 2) return false;
  const d = g.rng.pick([...g.st.devices.values()]);
  const name = d.shape.name;
  for (const r of [...g.st.live.values()].filter((x) => x.dev === name && (x.kind !== 'block' || g.st.pools.has(x.pool)))) {
    for (const op of releaseOps(g, r)) emit(g, op);
  }
  for (const p of [...g.st.pools.values()].filter((x) => x.dev === name)) emit(g, mk('dma_pool_destroy', { pool: p.name }));
  emit(g, mk('device_remove', { name }));
  return true;
};

const DMA_BIT_MASK_OF = (n: number): bigint => (n >= 64 ? (1n << 64n) - 1n : (1n << BigInt(n)) - 1n);

/** Weights: mapping and device traffic dominate; set-up changes and floods are rare. */
const LEGAL_ACTIONS: readonly (readonly [number, Action])[] = [
  [14, mapSingle], [7, mapSg], [4, allocCoherent], [1, poolCreate], [3, poolAlloc], [2, poolFree], [0.4, poolDestroy],
  [16, deviceAccess], [5, syncForCpu], [4, syncForDevice], [1.5, partialSync], [3, coherentCpu], [3, cpuNoise],
  [8, release(['single'])], [3, release(['sg'])], [2.5, release(['coherent'])], [3, iovaBegin], [1, iovaLinkMore],
  [1, iovaUnlinkLast], [2, release(['iova'])], [3, advanceTime], [3, query], [0.6, burst], [0.25, flood], [0.3, setMask], [0.3, removeDevice],
];

const fallback = (g: Gen): void => emit(g, mk('advance_time', { ms: 1 + g.rng.int(20) }));

// ---- misuse: what buggy drivers do (dma-debug findings, contract warnings, BUG, UNDEFINED) --------

const other = <T>(g: Gen, xs: readonly T[], not: T): T => g.rng.pick(xs.filter((x) => x !== not));

/** Unmap with the wrong size, direction, function or attrs (dma-debug checks 7, 10, 11, 12). */
const wrongRelease: Action = (g) => {
  const r = pickOf(g, g.st.liveOf('single'));
  if (!r) return false;
  const how = g.rng.int(4);
  const size = how === 0 ? g.rng.pick([r.size + 1n, r.size / 2n + 1n, r.size + plat(g).page_size]) : r.size;
  const dir = how === 1 ? other(g, ALL_DIRS, r.dir) : r.dir;
  const fn = how === 2 ? other(g, Object.values(UNMAP_OF), UNMAP_OF[r.fn]) : UNMAP_OF[r.fn];
  const attrs = how === 3 ? r.attrs ^ attrBits('DMA_ATTR_SKIP_CPU_SYNC') : r.attrs;
  emit(g, mk(fn, { dev: r.dev, dma_addr: ref(r.h), size, dir, ...attrsArg(attrs) }));
  return true;
};

/** Release twice: double unmap, double free, use of an IOVA state after free. */
const doubleRelease: Action = (g) => {
  const r = pickOf(g, [...g.st.dead.values()].filter((x) => g.st.devices.has(x.dev) && (x.kind !== 'block' || g.st.pools.has(x.pool))));
  if (!r) return false;
  emit(g, releaseOps(g, r)[0]!);
  return true;
};

/** A map whose dma_mapping_error is never checked (dma-debug check 4 at unmap), or with SKIP_CPU_SYNC and no manual sync. */
const mapCareless: Action = (g) => {
  const d = pickDev(g);
  if (!d) return false;
  const dir = g.rng.pick(DIRS);
  const size = pickSize(g, d);
  const buf = pickBuffer(g, d, size, dir);
  if (!buf) return false;
  if (g.rng.chance(0.5)) emitMap(g, d, g.rng.pick(mapFns(g)), buf.phys, size, dir, { check: false });
  else emitMap(g, d, g.rng.pick(mapFns(g)), buf.phys, size, dir, { attrs: attrBits('DMA_ATTR_SKIP_CPU_SYNC') });
  return true;
};

/** Syncs past the end (dma-debug finds no entry containing them), in the wrong direction, or with DMA_NONE (BUG_ON). */
const badSync: Action = (g) => {
  const r = pickOf(g, g.st.liveOf('single'));
  if (!r) return false;
  const forCpu = g.rng.chance(0.5);
  const how = g.rng.int(3);
  if (how === 0) {
    const off = g.rng.pick([r.size, r.size - 1n, r.size + 0x1000n]);
    emit(g, mk(forCpu ? 'dma_sync_single_range_for_cpu' : 'dma_sync_single_range_for_device', { dev: r.dev, dma_addr: ref(r.h), offset: off, size: 64n, dir: r.dir }));
  } else {
    const dir = how === 1 ? other(g, ALL_DIRS, r.dir) : r.dir;
    const size = how === 2 ? r.size + plat(g).page_size : r.size;
    emit(g, mk(forCpu ? 'dma_sync_single_for_cpu' : 'dma_sync_single_for_device', { dev: r.dev, dma_addr: ref(r.h), size, dir }));
  }
  return true;
};

/** dma_map_* with DMA_NONE: the kernel's BUG_ON(!valid_dma_direction). */
const dirNone: Action = (g) => {
  const d = pickDev(g);
  const buf = d && pickBuffer(g, d, 0x1000n, 'DMA_BIDIRECTIONAL');
  if (!d || !buf) return false;
  emitMap(g, d, g.rng.pick(mapFns(g)), buf.phys, 0x1000n, 'DMA_NONE', { named: false });
  return true;
};

/** CPU stores into, or loads from, a buffer the device owns (VIS-3 hazards: no data claim afterwards). */
const cpuDuringDevice: Action = (g) => {
  const r = pickOf(g, owned(g, 'device'));
  const s = r && cpuSpan(g, r);
  if (!r || !s) return false;
  if (g.rng.chance(0.5)) emit(g, mk('cpu_write', { phys: s.phys, data: bytes(g, s.n) }));
  else emit(g, mk('cpu_read', { phys: s.phys, size: s.n }));
  return true;
};

/** A raw address where a handle belongs: the buffer's physical address as its DMA address. */
const rawAddress: Action = (g) => {
  const r = pickOf(g, g.st.liveOf('single').filter((x) => x.phys !== undefined));
  if (!r) return false;
  const phys = r.phys!;
  const how = g.rng.int(3);
  if (how === 0) emit(g, mk('device_read', { dev: r.dev, dma_addr: phys, size: min(r.size, 0x100n) }));
  else if (how === 1) emit(g, mk(UNMAP_OF[r.fn], { dev: r.dev, dma_addr: phys, size: r.size, dir: r.dir }));
  else emit(g, mk('dma_sync_single_for_cpu', { dev: r.dev, dma_addr: phys, size: r.size, dir: r.dir }));
  return true;
};

/** The device keeps using a buffer after unmap/free (stale IOTLB entries in lazy domains), or runs past its end. */
const strayAccess: Action = (g) => {
  const dead = pickOf(g, [...g.st.dead.values()].filter((x) => g.st.devices.has(x.dev) && x.kind !== 'sg' && x.kind !== 'iova' && x.kind !== 'block'));
  if (dead && g.rng.chance(0.5)) {
    emit(g, mk('device_read', { dev: dead.dev, dma_addr: ref(dead.h), size: 64n }));
    return true;
  }
  const w = pickOf(g, windows(g));
  if (!w) return false;
  emit(g, mk('device_write', { dev: w.dev, dma_addr: w.ref(w.len - 1n), data: bytes(g, 64n) }));
  return true;
};

/** dma_unmap_sg / sync with nents other than what was passed to map (R27, dma-debug check 9/18). */
const sgWrongNents: Action = (g) => {
  const r = pickOf(g, g.st.liveOf('sg').filter((x) => x.ents.length > 1));
  if (!r) return false;
  const nents = 1 + g.rng.int(r.ents.length - 1);
  const fn = g.rng.pick(['dma_unmap_sg', 'dma_sync_sg_for_cpu', 'dma_sync_sg_for_device'] as const);
  emit(g, mk(fn, { dev: r.dev, sg: ref(r.h), nents, dir: r.dir }));
  return true;
};

/** dma_free_coherent with the wrong size or cpu_addr, or with interrupts disabled (R1, R2, H12). */
const badCoherentFree: Action = (g) => {
  const r = pickOf(g, g.st.liveOf('coherent'));
  if (!r) return false;
  const page = plat(g).page_size;
  const how = g.rng.int(3);
  emit(g, mk('dma_free_coherent', {
    dev: r.dev, size: how === 0 ? r.size + page : r.size, cpu_addr: refField(r.h, 'cpu_addr', how === 1 ? page : 0n), dma_addr: ref(r.h),
    ...(how === 2 ? { context: 'irqs_disabled' as const } : {}),
  }));
  return true;
};

/** dma_pool misuse: free to another pool, destroy with blocks out, create from atomic context (R4, R7, R8). */
const poolMisuse: Action = (g) => {
  const b = pickOf(g, g.st.liveOf('block').filter((x) => g.st.pools.has(x.pool)));
  const pools = livePools(g);
  const how = g.rng.int(3);
  if (how === 0 && b && pools.length > 1) {
    emit(g, mk('dma_pool_free', { pool: other(g, pools, g.st.pools.get(b.pool)!).name, cpu_addr: refField(b.h, 'cpu_addr'), dma_addr: ref(b.h) }));
  } else if (how === 1 && b) {
    emit(g, mk('dma_pool_destroy', { pool: b.pool }));
  } else {
    const d = pickDev(g);
    if (!d) return false;
    emit(g, mk('dma_pool_create', { dev: d.shape.name, name: g.st.fresh('pool'), size: 64n, context: 'atomic' }));
  }
  return true;
};

/** The IOVA-based API's contract (iommu.md §3.11 error table): overlap, out of range, unaligned, wrong length, free while linked, wrong device. */
const iovaMisuse: Action = (g) => {
  const r = pickOf(g, g.st.liveOf('iova'));
  const d = r && g.st.devices.get(r.dev);
  if (!r || !d) return false;
  const G = r.granule;
  const buf = pickBuffer(g, d, G, r.dir, { align: G, offset: 0n });
  const end = linkedEnd(r) ?? 0n;
  const dev = r.dev;
  const link = (phys: bigint, offset: bigint, size: bigint, on = dev): Op => mk('dma_iova_link', { dev: on, state: r.h, phys, offset, size, dir: r.dir });
  const others = usable(g, (x) => x.shape.path === 'dma-iommu' && x.shape.name !== dev);
  const cases: (Op | undefined)[] = [
    buf && r.links.length > 0 ? link(buf.phys, r.links[0]!.offset, G) : undefined,
    buf ? link(buf.phys, r.size + r.pad + G, G) : undefined,
    buf ? link(buf.phys + 0x200n, end + G, G) : undefined,
    buf && others.length > 0 ? link(buf.phys, end, G, g.rng.pick(others).shape.name) : undefined,
    mk('dma_iova_destroy', { dev, state: r.h, mapped_len: g.rng.pick([end / 2n, end + G]), dir: r.dir }),
    r.links.length > 0 ? mk('dma_iova_free', { dev, state: r.h }) : undefined,
  ];
  emit(g, g.rng.pick(cases.filter((c): c is Op => c !== undefined)));
  return true;
};

/** Maps of memory dma-debug refuses to see mapped: the stack, vmalloc, kernel text (check 1–3). */
const badMemory: Action = (g) => {
  const d = pickDev(g);
  const buf = d && pickBuffer(g, d, 0x200n, 'DMA_TO_DEVICE');
  if (!d || !buf) return false;
  const mem = g.rng.pick(['stack', 'vmap_stack', 'vmalloc', 'text', 'rodata', 'invalid'] as const);
  // dma_map_single refuses vmalloc memory outright: only the other entry points get a handle.
  const fn = g.rng.pick(mapFns(g));
  const h = g.st.fresh('m');
  emit(g, mk(fn, { dev: d.shape.name, phys: buf.phys, size: 0x200n, dir: 'DMA_TO_DEVICE', mem, ...(fn === 'dma_map_single' && mem === 'vmalloc' ? {} : { as: h }) }));
  return true;
};

/** Size 0 (UNDEFINED in this model: the kernel computes end = addr - 1). */
const sizeZero: Action = (g) => {
  const d = pickDev(g);
  if (!d) return false;
  const phys = g.st.arenas[0]?.lo ?? 0x10_0000n;
  if (g.rng.chance(0.5)) emitMap(g, d, g.rng.pick(mapFns(g)), phys, 0n, 'DMA_TO_DEVICE', { named: false });
  else emit(g, mk('dma_alloc_coherent', { dev: d.shape.name, size: 0n }));
  return true;
};

/** device_remove while mappings are live: dma-debug's leak report (check 22). */
const removeWithLive: Action = (g) => {
  const r = pickOf(g, [...g.st.live.values()].filter((x) => g.st.devices.has(x.dev)));
  if (!r || g.st.devices.size < 2) return false;
  emit(g, mk('device_remove', { name: r.dev }));
  return true;
};

/**
 * Maps the kernel must refuse or cannot serve: past the device's reach with no usable
 * pool, bigger than dma_max_mapping_size, or so many leaked bounces that the pool runs dry.
 */
const overreach: Action = (g) => {
  const d = pickDev(g);
  if (!d) return false;
  const dir = g.rng.pick(DIRS);
  const how = g.rng.int(3);
  const size = how === 1 ? g.rng.pick([0x4_0001n, 0x10_0000n, 0x40_0000n]) : pickSize(g, d);
  let phys: bigint | undefined;
  for (let i = 0; i < 8 && phys === undefined; i++) {
    const c = candidate(g, d, size, {});
    if (c !== undefined && g.st.isFree(c, size)) phys = c;
  }
  if (phys === undefined) return false;
  if (how !== 2) {
    emitMap(g, d, g.rng.pick(mapFns(g)), phys, size, dir, { named: false });
    return true;
  }
  const h = g.st.fresh('r');
  const ops = [mk('dma_map_page', { dev: d.shape.name, phys, size, dir, as: h }), mk('dma_mapping_error', { dev: d.shape.name, dma_addr: ref(h) })];
  emit(g, mk('repeat', { times: g.rng.pick([16, 64, 200]), ops }));
  return true;
};

const MISUSE_ACTIONS: readonly (readonly [number, Action])[] = [
  [3, wrongRelease], [2, doubleRelease], [2, mapCareless], [2, badSync], [0.5, dirNone], [2, cpuDuringDevice], [1, rawAddress],
  [2, strayAccess], [1, sgWrongNents], [1, badCoherentFree], [1, poolMisuse], [1.5, iovaMisuse], [1, badMemory], [0.5, sizeZero],
  [0.5, removeWithLive], [1.5, overreach],
];

/**
 * generateOps - @count ops that continue the sequence whose state is @st.
 * Each action is drawn from the misuse table with probability @misuse, else
 * from the legal one; an action that does not apply now is redrawn, and
 * advance_time fills in if none does. @st is advanced by every op emitted,
 * including any the last action emitted past @count (they are cut off).
 */
export function generateOps(rng: Rng, st: SeqState, count: number, misuse: number): Op[] {
  const g: Gen = { rng, st, out: [] };
  const legalW = LEGAL_ACTIONS.map(([w]) => w);
  const misuseW = MISUSE_ACTIONS.map(([w]) => w);
  while (g.out.length < count) {
    const bad = misuse > 0 && rng.chance(misuse);
    let done = false;
    for (let tries = 0; tries < 6 && !done; tries++) {
      done = bad ? MISUSE_ACTIONS[weighted(rng, misuseW)]![1](g) : LEGAL_ACTIONS[weighted(rng, legalW)]![1](g);
    }
    if (!done) fallback(g);
  }
  return g.out.slice(0, count);
}

/**
 * generateSequence - @opts.length ops for a driver on the machine @platformOps
 * sets up; the fuzz input is `[...platformOps, ...result]`. Deterministic in
 * @rng; a longer length extends a shorter one's output (no decision looks at
 * the length), so fast-check shrinks by length through prefixes.
 */
export function generateSequence(rng: Rng, platformOps: readonly Op[], opts: GenOptions): Op[] {
  return generateOps(rng, trackOps(platformOps), opts.length, opts.misuse);
}

// ---- fast-check arbitraries -----------------------------------------------------------------------

const seedArb = fc.integer({ min: 0, max: 0x7fff_ffff });

/** @public A named default platform or a random one (as its op list). */
export const platformArb: fc.Arbitrary<Op[]> = fc.oneof(
  fc.constantFrom(...PLATFORM_NAMES).map((n) => namedPlatform(n)),
  seedArb.map((s) => randomPlatform(createRng(s))),
);

/**
 * @public opSequenceArb - whole fuzz inputs (platform ops first) from the
 * generator: a seed feeds createRng, and the length shrinks towards 0, each
 * shorter input being a prefix of the longer one.
 *
 * @example
 * ```ts
 * import fc from 'fast-check';
 * import { Engine } from '../engine/engine';
 * import { opSequenceArb } from './generate';
 * import { namedPlatform } from './platforms';
 *
 * // No invariant fires on legal driver behaviour on the 32-bit, swiotlb-bouncing machine
 * // (generate.test.ts runs exactly this).
 * fc.assert(fc.property(opSequenceArb(namedPlatform('no-iommu-32bit'), { maxLength: 40 }), (ops) => {
 *   const e = new Engine();
 *   for (const op of ops) {
 *     try {
 *       if (e.execute(op).violations.length > 0) return false;
 *     } catch {
 *       // an op naming the handle of a create that failed at run time: skip it
 *     }
 *   }
 *   return true;
 * }));
 * ```
 */
export function opSequenceArb(platformOps?: readonly Op[], opts: { maxLength?: number; misuse?: number } = {}): fc.Arbitrary<Op[]> {
  const plats = platformOps ? fc.constant(platformOps) : platformArb;
  const misuse = opts.misuse ?? 0;
  return fc.tuple(plats, seedArb, fc.integer({ min: 0, max: opts.maxLength ?? 50 }))
    .map(([p, seed, length]) => [...p, ...generateSequence(createRng(seed), p, { length, misuse })]);
}

/** @public fuzzInputArb - inputs on any platform, with a share of misuse (default 0.1). */
export function fuzzInputArb(opts: { maxLength?: number; misuse?: number } = {}): fc.Arbitrary<Op[]> {
  return opSequenceArb(undefined, { misuse: 0.1, ...opts });
}
