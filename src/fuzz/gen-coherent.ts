/**
 * Coherent allocations and dma_pools: alloc, create, alloc/free blocks, destroy
 * idle pools, and CPU loads and stores through cpu_addr.
 */
import type { PoolInfo } from './gen-state';
import { bytes, cpuArg, emit, pickDev, pickOf, span, type Action, type Gen } from './gen-core';
import { mk, ref, refField } from './gen-vocab';

export const allocCoherent: Action = (g) => {
  const d = pickDev(g);
  if (!d) return false;
  const size = g.rng.pick([64n, 100n, 4096n, 4097n, 8192n, 0x3000n, 0x1_0000n, 0x4_0000n]);
  emit(g, mk('dma_alloc_coherent', { dev: d.shape.name, size, as: g.st.fresh('c') }));
  return true;
};

export const poolCreate: Action = (g) => {
  const d = pickDev(g);
  if (!d || g.st.pools.size >= 3) return false;
  const size = g.rng.pick([8n, 32n, 64n, 100n, 512n, 1024n, 2048n, 4096n]);
  const align = g.rng.pick([0n, 0n, 8n, 64n, 128n]);
  const boundary = size <= 4096n && g.rng.chance(0.3) ? { boundary: 4096n } : {};
  emit(g, mk('dma_pool_create', { dev: d.shape.name, name: g.st.fresh('pool'), size, ...(align ? { align } : {}), ...boundary }));
  return true;
};

export const livePools = (g: Gen): PoolInfo[] => [...g.st.pools.values()].filter((p) => g.st.devices.has(p.dev));

export const poolAlloc: Action = (g) => {
  const p = pickOf(g, livePools(g));
  if (!p) return false;
  emit(g, mk('dma_pool_alloc', { pool: p.name, as: g.st.fresh('b') }));
  return true;
};

export const poolFree: Action = (g) => {
  const b = pickOf(g, g.st.liveOf('block'));
  if (!b) return false;
  emit(g, mk('dma_pool_free', { pool: b.pool, cpu_addr: refField(b.h, 'cpu_addr'), dma_addr: ref(b.h) }));
  return true;
};

export const poolDestroy: Action = (g) => {
  const busy = new Set(g.st.liveOf('block').map((b) => b.pool));
  const p = pickOf(g, livePools(g).filter((x) => !busy.has(x.name)));
  if (!p) return false;
  emit(g, mk('dma_pool_destroy', { pool: p.name }));
  return true;
};

/** CPU loads and stores on coherent memory and pool blocks (through cpu_addr), any time. */
export const coherentCpu: Action = (g) => {
  const r = pickOf(g, [...g.st.liveOf('coherent'), ...g.st.liveOf('block')]);
  if (!r) return false;
  const { off, n } = span(g, r.size);
  if (g.rng.chance(0.5)) emit(g, mk('cpu_write', { phys: refField(r.h, 'cpu_addr', off), data: bytes(g, n), ...cpuArg(g) }));
  else emit(g, mk('cpu_read', { phys: refField(r.h, 'cpu_addr', off), size: n, ...cpuArg(g) }));
  return true;
};
