/**
 * Streaming single mappings and the device traffic around them: map (with the
 * dma_mapping_error check), MMIO resources, device reads and writes, the sync
 * hand-overs between CPU and device, the legal release, CPU noise, and bursts
 * and floods that fill pools, IOVA space, flush queues and range caches.
 */
import { dmaReachable, mmioHole } from './platforms';
import type { DevState, Resource, SingleRes } from './gen-state';
import {
  bytes, cpuArg, cpuSpan, DATA_MAX, emit, emitMap, mapFns, min, owned, pickBuffer, pickDev, pickOf, pickSize, plat, releaseOps, span, syncOp, windows,
  type Action, type Gen,
} from './gen-core';
import { attrBits, cpuFills, deviceFills, DIRS, mk, ref, roundUp, type Dir } from './gen-vocab';

export const mapSingle: Action = (g) => {
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

export const deviceAccess: Action = (g) => {
  const w = pickOf(g, windows(g));
  if (!w) return false;
  const write = w.write && (!w.read || g.rng.chance(0.5));
  const { off, n } = span(g, w.len, write ? DATA_MAX : 0x1000n);
  if (write) emit(g, mk('device_write', { dev: w.dev, dma_addr: w.ref(off), data: bytes(g, n) }));
  else emit(g, mk('device_read', { dev: w.dev, dma_addr: w.ref(off), size: n }));
  return true;
};

/** The driver takes a buffer back (sync_for_cpu) and reads what the device wrote. */
export const syncForCpu: Action = (g) => {
  const r = pickOf(g, owned(g, 'device'));
  if (!r) return false;
  emit(g, syncOp(g, r, true));
  const s = cpuSpan(g, r);
  if (s && deviceFills(r.dir) && g.rng.chance(0.7)) emit(g, mk('cpu_read', { phys: s.phys, size: s.n, ...cpuArg(g) }));
  return true;
};

/** The driver refills a buffer it owns and hands it back to the device. */
export const syncForDevice: Action = (g) => {
  const r = pickOf(g, owned(g, 'cpu'));
  if (!r) return false;
  const s = cpuSpan(g, r, DATA_MAX);
  if (s && cpuFills(r.dir) && g.rng.chance(0.6)) emit(g, mk('cpu_write', { phys: s.phys, data: bytes(g, s.n), ...cpuArg(g) }));
  emit(g, syncOp(g, r, false));
  return true;
};

/** dma_sync_single_range_*: peek at part of a device-owned buffer and give that part back. */
export const partialSync: Action = (g) => {
  const r = pickOf(g, owned(g, 'device').filter((x): x is SingleRes => x.kind === 'single' && x.phys !== undefined));
  if (!r) return false;
  const { off, n } = span(g, r.size);
  emit(g, syncOp(g, r, true, { off, n }));
  if (deviceFills(r.dir)) emit(g, mk('cpu_read', { phys: r.phys! + off, size: n }));
  emit(g, syncOp(g, r, false, { off, n }));
  return true;
};

/** After the device let go of a buffer it filled, the CPU reads it. */
function readBack(g: Gen, r: Resource): void {
  if ((r.kind !== 'single' && r.kind !== 'sg') || (r.kind === 'single' && r.fn === 'dma_map_resource') || !deviceFills(r.dir) || !g.rng.chance(0.5)) return;
  const s = cpuSpan(g, r);
  if (s) emit(g, mk('cpu_read', { phys: s.phys, size: s.n }));
}

export const release = (kinds: readonly Resource['kind'][]): Action => (g) => {
  const r = pickOf(g, [...g.st.live.values()].filter((x) => kinds.includes(x.kind) && g.st.devices.has(x.dev) && (x.kind !== 'block' || g.st.pools.has(x.pool))));
  if (!r) return false;
  for (const op of releaseOps(g, r)) emit(g, op);
  readBack(g, r);
  return true;
};

/** The CPU may speculate or evict any line at any time (the reason sync_for_cpu exists). */
export const cpuNoise: Action = (g) => {
  const r = pickOf(g, [...g.st.liveOf('single').filter((x) => x.fn !== 'dma_map_resource'), ...g.st.liveOf('sg')]);
  const s = r && cpuSpan(g, r, 0x4000n);
  if (!s) return false;
  emit(g, mk(g.rng.chance(0.6) ? 'cpu_speculate' : 'cpu_evict', { phys: s.phys, size: s.n }));
  return true;
};

/** Many live maps at once on one device: fills small pools and IOVA space; failures are legal results. */
export const burst: Action = (g) => {
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

/**
 * Map/unmap rounds on one CPU. Only a lazy domain needs many (half its floods get them): 255
 * unmaps fill its per-CPU flush queue, whose flush frees them into the range cache at once
 * (magazine fills, depot pushes). Elsewhere each unmap's IOVA is reused by the next map, so a
 * few rounds reach the same paths.
 */
export const flood: Action = (g) => {
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
  emit(g, mk('repeat', { times: d.shape.lazy && g.rng.chance(0.5) ? g.rng.pick([255, 257, 300]) : g.rng.pick([4, 8, 16]), ops }));
  return true;
};
