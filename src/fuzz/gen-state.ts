/**
 * The sequence tracker: what a driver knows after a prefix of ops, derived
 * from the ops alone (streaming and sg mappings with their size, direction and
 * attrs; coherent buffers; dma_pools and their blocks; IOVA states with their
 * links; stand-alone IOVA domains), and who owns each buffer. The generators
 * read it to stay legal, and mutate.ts replays any prefix through it.
 */
import type { HandleRef } from '../ops/kinds';
import type { Op, OpOf } from '../ops/types';
import {
  arenas, deviceShape, dmaReachable, iommuShape, platformShape,
  type DeviceShape, type IommuShape, type PlatformShape, type Range,
} from './platforms';
import { IovaDomains, isIovaBatch } from './gen-iova-state';
import { ref, roundUp, type Dir, type MapFn } from './gen-vocab';

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
  /** Stand-alone IOVA domains (init_iova_domain) and their live handles. */
  readonly iova = new IovaDomains();
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
        this.iova.clear();
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
      case 'init_iova_domain': case 'alloc_iova': case 'alloc_iova_fast': case 'free_iova': case 'free_iova_fast': case 'reserve_iova':
        if (this.plat) this.iova.observe(op, this.plat.page_size, this.names);
        return;
      case 'repeat':
        if (isIovaBatch(op)) return void (this.plat && this.iova.observe(op, this.plat.page_size, this.names));
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
