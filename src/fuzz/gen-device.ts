/**
 * Time, queries and the device life cycle: advance_time, the size, sync and
 * addressing queries, dma_set_mask on idle devices, and driver unbind.
 */
import type { Op } from '../ops/types';
import { emit, pickDev, pickOf, plat, releaseOps, type Action } from './gen-core';
import { mk, ref } from './gen-vocab';

export const advanceTime: Action = (g) => {
  emit(g, mk('advance_time', { ms: g.rng.chance(0.9) ? g.rng.pick([1, 2, 5, 9, 10, 11, 20]) : g.rng.pick([100, 101, 1000]) }));
  return true;
};

/** Queries change nothing but exercise the size, sync and addressing answers. */
export const query: Action = (g) => {
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


export const setMask: Action = (g) => {
  const busy = new Set([...g.st.live.values()].map((r) => r.dev));
  const d = pickDev(g, (x) => !busy.has(x.shape.name));
  if (!d) return false;
  const mask = DMA_BIT_MASK_OF(g.rng.pick([32, 36, 40, 48, 64]));
  emit(g, mk(g.rng.chance(0.5) ? 'dma_set_mask_and_coherent' : 'dma_set_mask', { dev: d.shape.name, mask }));
  return true;
};

/** Driver unbind: release everything the device holds, then device_remove (dma-debug's leak check finds nothing). */
export const removeDevice: Action = (g) => {
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
