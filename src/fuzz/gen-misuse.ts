/**
 * Misuse: what buggy drivers do (dma-debug findings, contract warnings, BUG,
 * UNDEFINED), drawn with the share GenOptions.misuse asks for.
 */
import type { Op } from '../ops/types';
import {
  attrsArg, bytes, candidate, cpuSpan, emit, emitMap, linkedEnd, mapFns, min, other, owned, pickBuffer, pickDev, pickOf, pickSize, plat, releaseOps, usable, windows,
  type Action,
} from './gen-core';
import { livePools } from './gen-coherent';
import { iovaDoubleFree } from './gen-iova';
import { ALL_DIRS, attrBits, DIRS, mk, ref, refField, UNMAP_OF } from './gen-vocab';

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

export const MISUSE_ACTIONS: readonly (readonly [number, Action])[] = [
  [3, wrongRelease], [2, doubleRelease], [2, mapCareless], [2, badSync], [0.5, dirNone], [2, cpuDuringDevice], [1, rawAddress],
  [2, strayAccess], [1, sgWrongNents], [1, badCoherentFree], [1, poolMisuse], [1.5, iovaMisuse], [1, badMemory], [0.5, sizeZero],
  [0.5, removeWithLive], [1.5, overreach], [0.3, iovaDoubleFree],
];
