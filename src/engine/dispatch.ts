/**
 * One handler per op: unpack the resolved op, call the model at the API
 * boundary (src/dma/mapping*.ts), and turn the kernel's return value into a
 * result. Kernel failures are results; malformed input throws before this.
 */
import { dma_to_phys, type SgEntry } from '../dma/direct';
import * as api from '../dma/mapping';
import { dma_alloc_attrs, dma_free_attrs, dma_pool_create, dma_pool_destroy } from '../dma/mapping-coherent';
import { DMA_MAPPING_ERROR, U64_MAX, type Device, type MemKind } from '../dma/types';
import { ConfigError, type Platform } from '../platform';
import { formatData } from '../ops/data';
import { specBytes } from './spec-bytes';
import type { OpName } from '../ops/table';
import type { OpOf, ResultValues, SgResultEntry } from '../ops/types';
import type { Resolved } from './handles';
import { createDevice } from './setup';
import { ConfigProblem } from '../iommu/iommu-devices';
import { IOMMU_HANDLERS, type IommuOpName } from './dispatch-iommu';
import { IOVA_API_HANDLERS, type IovaApiOpName } from './dispatch-iova-api';

export type Outcome =
  | { ok: true; values: ResultValues }
  | { ok: false; error: string; fault?: boolean };

const OK: Outcome = { ok: true, values: {} };
const ok = (values: ResultValues): Outcome => ({ ok: true, values });
const err = (error: string, fault = false): Outcome => (fault ? { ok: false, error, fault } : { ok: false, error });

const ERRNO: Record<number, string> = { [-5]: '-EIO', [-12]: '-ENOMEM', [-22]: '-EINVAL', [-121]: '-EREMOTEIO' };
const errno = (rc: number): string => ERRNO[rc] ?? String(rc);

/** Behaviour the kernel leaves undefined gets a clear refusal (docs/undefined.md). */
export class Undefined extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

/** Probes copy real bytes: one is bounded like byte data in ops (64 MiB). */
const MAX_PROBE = 1n << 26n;

function checkProbe(start: bigint, size: bigint): void {
  checkRange(start, size);
  if (size > MAX_PROBE) throw new ConfigError('size', `a probe reads at most ${MAX_PROBE} bytes (got ${size})`);
}

function checkRange(start: bigint, size: bigint): void {
  if (size === 0n) throw new Undefined('UNDEFINED_SIZE_ZERO', 'size 0: the kernel computes end = addr - 1 and swiotlb would BUG (dma-core.md §10.6)');
  if (start + size - 1n > U64_MAX) throw new Undefined('UNDEFINED_ADDRESS_WRAP', 'addr + size wraps past 2^64 (dma-core.md §10.6)');
}

/** An op's arguments without its name, so one handler serves aliases. */
type Args<N extends OpName> = Omit<Resolved<OpOf<N>>, 'op'>;
type Handler<N extends OpName> = (p: Platform, op: Resolved<OpOf<N>>) => Outcome;
type Handlers = { [N in Exclude<OpName, 'platform' | 'repeat' | IommuOpName | IovaApiOpName>]: Handler<N> };

function dev(p: Platform, name: string): Device {
  const d = p.devices.get(name);
  if (!d) throw new ConfigError('dev', `no device "${name}" (add it with device_add)`);
  return d;
}

function toSg(entries: readonly { phys: bigint; length: bigint; dma_address?: bigint; dma_length?: bigint; mem?: MemKind; dma_is_swiotlb?: boolean }[]): SgEntry[] {
  return entries.map((e) => ({
    phys: e.phys, length: e.length, dma_address: e.dma_address ?? 0n, dma_length: e.dma_length ?? 0n,
    ...(e.mem ? { mem: e.mem } : {}), ...(e.dma_is_swiotlb ? { dma_is_swiotlb: true } : {}),
  }));
}

function mapSingle(kind: api.SingleKind) {
  return (p: Platform, op: Args<'dma_map_phys'>): Outcome => {
    checkRange(op.phys, op.size);
    const a = api.dma_map_phys(p, dev(p, op.dev), kind, op.phys, op.size, op.dir, op.attrs ?? 0, op.mem ?? 'linear');
    return a === DMA_MAPPING_ERROR ? err('DMA_MAPPING_ERROR') : ok({ dma_addr: a });
  };
}

function unmapSingle(kind: api.SingleKind) {
  return (p: Platform, op: Args<'dma_unmap_phys'>): Outcome => {
    api.dma_unmap_phys(p, dev(p, op.dev), kind, op.dma_addr, op.size, op.dir, op.attrs ?? 0);
    return OK;
  };
}

function mapSg(table: boolean) {
  return (p: Platform, op: Args<'dma_map_sg'>): Outcome => {
    const sg = toSg(op.sg);
    const nents = op.nents ?? sg.length;
    if (nents > sg.length) throw new ConfigError('nents', `nents ${nents} exceeds the ${sg.length} entries given`);
    for (const e of sg.slice(0, nents)) checkRange(e.phys, e.length);
    const ents = api.dma_map_sg(p, dev(p, op.dev), sg, nents, op.dir, op.attrs ?? 0, op.mem ?? 'linear');
    // Fault: dma_map_sg_attrs hands a negative errno back as an unsigned count.
    if (ents < 0 && !table && p.faults.has('map-sg-errno-as-count')) return ok({ nents: ents >>> 0, sg: sg.map((e) => ({ ...e })) });
    if (ents < 0) return err(table ? errno(ents) : '0');
    if (ents === 0 && !table) return err('0');
    const out: SgResultEntry[] = sg.map((e) => ({ ...e }));
    return ok({ nents: ents, sg: out });
  };
}

function sgCall(fn: (p: Platform, d: Device, sg: SgEntry[], nents: number, op: Args<'dma_unmap_sg'>) => void) {
  return (p: Platform, op: Args<'dma_unmap_sg'>): Outcome => {
    const sg = toSg(op.sg);
    const nents = op.nents ?? sg.length;
    if (nents > sg.length) throw new ConfigError('nents', `nents ${nents} exceeds the ${sg.length} entries given`);
    fn(p, dev(p, op.dev), sg, nents, op);
    return OK;
  };
}

const rc = (r: number): Outcome => (r === 0 ? OK : err(errno(r)));

/** A device access through dma-direct's translation; outside RAM or the device's reach it faults. */
/** The physical pieces a device access reaches, or undefined if any byte faults (no partial access). */
function deviceTarget(p: Platform, d: Device, dma_addr: bigint, size: bigint, write: boolean): { phys: bigint; len: number }[] | undefined {
  checkRange(dma_addr, size);
  const dd = p.iommu.domainOf(d);
  if (!dd) {
    const phys = dma_to_phys(d, dma_addr);
    if (phys === U64_MAX) return undefined;
    const end = dma_to_phys(d, dma_addr + size - 1n);
    if (end !== phys + size - 1n || !p.mem.isRam(phys, size)) return undefined;
    return [{ phys, len: Number(size) }];
  }
  // Behind an IOMMU: every 4 KiB piece goes through the IOTLB and page table (iommu.md §6.2).
  const pieces: { phys: bigint; len: number }[] = [];
  for (let a = dma_addr; a < dma_addr + size;) {
    const next = (a | 0xfffn) + 1n;
    const len = (next < dma_addr + size ? next : dma_addr + size) - a;
    const t = dd.domain.translate(a, write);
    if (!('phys' in t) || !p.mem.isRam(t.phys, len)) return undefined;
    pieces.push({ phys: t.phys, len: Number(len) });
    a += len;
  }
  return pieces;
}

const CORE_HANDLERS: Handlers = {
  device_add: (p, op) => {
    const d = createDevice(p, op);
    if (d.iommu !== null) {
      try {
        p.iommu.attach(d, op.group);
      } catch (e) {
        if (e instanceof ConfigProblem) throw new ConfigError(e.field, e.message);
        throw e;
      }
    }
    if (!d.dma_coherent) p.cache.startTracking();
    p.devices.set(op.name, d);
    return OK;
  },
  device_remove: (p, op) => {
    const d = dev(p, op.name);
    const before = p.warn.peek().length;
    p.debug?.debug_dma_device_removed(d);
    p.iommu.detach(d);
    p.devices.delete(op.name);
    return ok({ leaks: p.warn.peek().length - before });
  },

  dma_map_phys: mapSingle('phys'),
  dma_map_page: mapSingle('page'),
  dma_map_single: mapSingle('single'),
  dma_map_resource: mapSingle('resource'),
  dma_unmap_phys: unmapSingle('phys'),
  dma_unmap_page: unmapSingle('page'),
  dma_unmap_single: unmapSingle('single'),
  dma_unmap_resource: unmapSingle('resource'),
  dma_mapping_error: (p, op) => (api.dma_mapping_error(p, dev(p, op.dev), op.dma_addr) === 0 ? OK : err('-ENOMEM')),

  dma_map_sg: mapSg(false),
  dma_map_sgtable: mapSg(true),
  dma_unmap_sg: sgCall((p, d, sg, n, op) => api.dma_unmap_sg(p, d, sg, n, op.dir, op.attrs ?? 0)),
  dma_unmap_sgtable: sgCall((p, d, sg, n, op) => api.dma_unmap_sg(p, d, sg, n, op.dir, op.attrs ?? 0)),
  dma_sync_sg_for_cpu: sgCall((p, d, sg, n, op) => api.dma_sync_sg_for_cpu(p, d, sg, n, op.dir)),
  dma_sync_sg_for_device: sgCall((p, d, sg, n, op) => api.dma_sync_sg_for_device(p, d, sg, n, op.dir)),

  dma_sync_single_for_cpu: (p, op) => (api.dma_sync_single_for_cpu(p, dev(p, op.dev), op.dma_addr, op.size, op.dir), OK),
  dma_sync_single_for_device: (p, op) => (api.dma_sync_single_for_device(p, dev(p, op.dev), op.dma_addr, op.size, op.dir), OK),
  dma_sync_single_range_for_cpu: (p, op) => (api.dma_sync_single_for_cpu(p, dev(p, op.dev), op.dma_addr + op.offset, op.size, op.dir), OK),
  dma_sync_single_range_for_device: (p, op) => (api.dma_sync_single_for_device(p, dev(p, op.dev), op.dma_addr + op.offset, op.size, op.dir), OK),

  dma_alloc_coherent: (p, op) => {
    if (op.size === 0n) throw new Undefined('UNDEFINED_SIZE_ZERO', 'dma_alloc_coherent of 0 bytes');
    const a = dma_alloc_attrs(p, dev(p, op.dev), op.size, op.attrs ?? 0);
    return a ? ok({ cpu_addr: a.cpu_addr, dma_addr: a.dma_addr }) : err('NULL');
  },
  dma_free_coherent: (p, op) => {
    dma_free_attrs(p, dev(p, op.dev), op.size, op.cpu_addr, op.dma_addr, op.attrs ?? 0, op.context ?? 'process');
    return OK;
  },
  dma_pool_create: (p, op) => {
    if (p.pools.has(op.name)) throw new ConfigError('name', `a pool "${op.name}" exists already`);
    const pool = dma_pool_create(p, dev(p, op.dev), op.name, op.size, op.align ?? 0n, op.boundary ?? 0n, op.context ?? 'process');
    if (!pool) return err('NULL');
    p.pools.set(op.name, pool);
    return OK;
  },
  dma_pool_alloc: (p, op) => {
    const b = pool(p, op.pool).alloc();
    return b ? ok({ cpu_addr: b.cpu_addr, dma_addr: b.dma_addr }) : err('NULL');
  },
  dma_pool_free: (p, op) => (pool(p, op.pool).free(op.cpu_addr, op.dma_addr), OK),
  dma_pool_destroy: (p, op) => {
    dma_pool_destroy(p, pool(p, op.pool), op.context ?? 'process');
    p.pools.delete(op.pool);
    return OK;
  },

  dma_set_mask: (p, op) => rc(api.dma_set_mask(p, dev(p, op.dev), op.mask)),
  dma_set_coherent_mask: (p, op) => rc(api.dma_set_coherent_mask(p, dev(p, op.dev), op.mask)),
  dma_set_mask_and_coherent: (p, op) => rc(api.dma_set_mask_and_coherent(p, dev(p, op.dev), op.mask)),
  dma_get_mask: (p, op) => ok({ mask: api.dma_get_mask(dev(p, op.dev)) }),
  dma_get_required_mask: (p, op) => ok({ mask: api.dma_get_required_mask(p, dev(p, op.dev)) }),
  dma_max_mapping_size: (p, op) => ok({ size: api.dma_max_mapping_size(p, dev(p, op.dev)) }),
  dma_opt_mapping_size: (p, op) => ok({ size: api.dma_opt_mapping_size(p, dev(p, op.dev)) }),
  dma_get_merge_boundary: (p, op) => ok({ size: api.dma_get_merge_boundary(p, dev(p, op.dev)) }),
  dma_need_sync: (p, op) => ok({ value: api.dma_need_sync(p, dev(p, op.dev), op.dma_addr) }),
  dma_need_unmap: (p, op) => {
    if (p.linux === '6.12') throw new ConfigError('op', 'dma_need_unmap does not exist in Linux 6.12 (platform linux newest)');
    return ok({ value: api.dma_need_unmap(p, dev(p, op.dev)) });
  },
  dma_addressing_limited: (p, op) => ok({ value: api.dma_addressing_limited(p, dev(p, op.dev)) }),
  dma_get_cache_alignment: (p) => ok({ size: BigInt(p.cache_alignment) }),

  swiotlb_tbl_map_single: (p, op) => {
    checkRange(op.phys, op.size);
    const pool = p.swiotlb;
    const d = dev(p, op.dev);
    if (!pool) {
      // The kernel's !mem branch: dev_warn_ratelimited, then the error value (dma-core.md §4.3 step 1).
      p.warn.warn('kernel', 'WARN_SWIOTLB_UNAVAILABLE', "Can not allocate SWIOTLB buffer earlier and can't now provide you with the DMA bounce buffer", d.name);
      return err('DMA_MAPPING_ERROR');
    }
    const t = pool.swiotlb_tbl_map_single(d, op.phys, op.size, op.alloc_align_mask ?? 0n, op.dir, op.attrs ?? 0);
    return t === DMA_MAPPING_ERROR ? err('DMA_MAPPING_ERROR') : ok({ tlb_addr: t });
  },
  swiotlb_tbl_unmap_single: (p, op) => {
    if (p.swiotlb?.is_swiotlb_buffer(op.tlb_addr)) p.swiotlb.swiotlb_tbl_unmap_single(dev(p, op.dev), op.tlb_addr, op.size, op.dir, op.attrs ?? 0);
    return OK;
  },
  swiotlb_info: (p) => {
    const s = p.swiotlb;
    if (!s) return err('-ENODEV');
    return ok({ start: s.start, end: s.end, nslabs: s.nslabs, nareas: s.nareas, used: s.stats.total_used, force: s.force_bounce });
  },
  is_swiotlb_buffer: (p, op) => ok({ value: p.swiotlb?.is_swiotlb_buffer(op.phys) ?? false }),
  dma_debug_info: (p) => {
    const d = p.debug;
    if (!d) return err('-ENODEV');
    const s = d.stats;
    return ok({
      error_count: s.error_count, printed: s.printed, num_errors: s.num_errors, num_free_entries: s.num_free_entries,
      min_free_entries: s.min_free_entries, nr_total_entries: s.nr_total_entries, live_entries: s.live_entries, disabled: s.disabled,
    });
  },
  platform_counters: (p) => ok({
    flushes: p.arch.stats.flushes, cleans: p.arch.stats.cleans, invalidates: p.arch.stats.invalidates, cpu_all: p.arch.stats.cpu_all,
    bounces: p.swiotlb?.stats.bounces ?? 0,
  }),

  cpu_write: (p, op) => {
    const data = specBytes(op.data);
    checkRange(op.phys, BigInt(data.length));
    p.cache.write(op.phys, data);
    return OK;
  },
  cpu_read: (p, op) => {
    checkProbe(op.phys, op.size);
    return ok({ data: formatData(p.cache.read(op.phys, Number(op.size))) });
  },
  cpu_speculate: (p, op) => (checkProbe(op.phys, op.size), p.cache.speculate(op.phys, Number(op.size)), OK),
  cpu_evict: (p, op) => (checkProbe(op.phys, op.size), p.cache.evict(op.phys, Number(op.size)), OK),
  device_read: (p, op) => {
    const d = dev(p, op.dev);
    checkProbe(op.dma_addr, op.size);
    const pieces = deviceTarget(p, d, op.dma_addr, op.size, false);
    if (pieces === undefined) return err('FAULT', true);
    const out = new Uint8Array(Number(op.size));
    let pos = 0;
    for (const x of pieces) {
      out.set(p.cache.deviceRead(x.phys, x.len, d.dma_coherent), pos);
      pos += x.len;
    }
    return ok({ data: formatData(out) });
  },
  device_write: (p, op) => {
    const d = dev(p, op.dev);
    const data = specBytes(op.data);
    const pieces = deviceTarget(p, d, op.dma_addr, BigInt(data.length), true);
    if (pieces === undefined) return err('FAULT', true);
    let pos = 0;
    for (const x of pieces) {
      p.cache.deviceWrite(x.phys, data.subarray(pos, pos + x.len), d.dma_coherent);
      pos += x.len;
    }
    return OK;
  },
  advance_time: (p, op) => ok({ ran: p.timers.advance(op.ms), now_ms: p.timers.now_ms }),
};

function pool(p: Platform, name: string) {
  const pl = p.pools.get(name);
  if (!pl) throw new ConfigError('pool', `no pool "${name}" (create it with dma_pool_create)`);
  // Like any op on a removed device, an op on its pool names something that no longer exists.
  if (p.devices.get(pl.dev.name) !== pl.dev) throw new ConfigError('pool', `pool "${name}" belongs to device "${pl.dev.name}", which was removed`);
  return pl;
}

/** Every op's handler (platform and repeat are handled by the engine itself). */
export const HANDLERS = { ...CORE_HANDLERS, ...IOMMU_HANDLERS, ...IOVA_API_HANDLERS };
