/**
 * dma-iommu throughput: map+unmap pairs per second through the DMA API entry
 * points with 100k live mappings held, strict (DMA) and lazy (DMA_FQ) domains,
 * range-cache hits, dma-debug on; and the same pairs as ops through the engine
 * with every invariant after every op.
 */
import { dma_map_phys, dma_mapping_error, dma_unmap_phys } from '../src/dma/mapping';
import { Engine } from '../src/engine/engine';
import { parseOp } from '../src/ops/json';
import type { Platform } from '../src/platform';
import { timePairs, type BenchRow } from './table';

const GiB = 1n << 30n;

function setup(mode: 'strict' | 'lazy'): Engine {
  const e = new Engine();
  e.execute(parseOp({ op: 'platform', ram: [{ base: '0', size: '4G' }, { base: '0x100000000', size: '8G' }] }));
  e.execute(parseOp({ op: 'iommu_add', name: 'smmu', mode }));
  e.execute(parseOp({ op: 'device_add', name: 'nic', iommu: 'smmu', dma_mask: 'DMA_BIT_MASK(64)' }));
  return e;
}

function apiPairs(mode: 'strict' | 'lazy', live: number, pairs: number): number {
  const e = setup(mode);
  const p = e.platform as Platform;
  const dev = p.devices.get('nic')!;
  for (let i = 0; i < live; i++) {
    const a = dma_map_phys(p, dev, 'phys', 4n * GiB + BigInt(i) * 4096n, 4096n, 'DMA_TO_DEVICE', 0, 'linear');
    dma_mapping_error(p, dev, a);
  }
  p.warn.drain();
  const r = timePairs(pairs, () => {
    const a = dma_map_phys(p, dev, 'phys', 8n * GiB, 4096n, 'DMA_TO_DEVICE', 0, 'linear');
    if (dma_mapping_error(p, dev, a)) throw new Error('benchmark map failed');
    dma_unmap_phys(p, dev, 'phys', a, 4096n, 'DMA_TO_DEVICE', 0);
  });
  const w = p.warn.drain();
  if (w.length) throw new Error(`benchmark produced warnings: ${w.slice(0, 2).map((x) => x.code).join(', ')}`);
  return r;
}

function enginePairs(mode: 'strict' | 'lazy', live: number, pairs: number): number {
  const e = setup(mode);
  for (let i = 0; i < live; i++) {
    e.execute(parseOp({ op: 'dma_map_phys', dev: 'nic', phys: '0x' + (4n * GiB + BigInt(i) * 4096n).toString(16), size: 4096, dir: 'DMA_TO_DEVICE', as: 'l' }));
    e.execute(parseOp({ op: 'dma_mapping_error', dev: 'nic', dma_addr: '$l' }));
  }
  const map = parseOp({ op: 'dma_map_phys', dev: 'nic', phys: '0x200000000', size: 4096, dir: 'DMA_TO_DEVICE', as: 'b' });
  const check = parseOp({ op: 'dma_mapping_error', dev: 'nic', dma_addr: '$b' });
  const unmap = parseOp({ op: 'dma_unmap_phys', dev: 'nic', dma_addr: '$b', size: 4096, dir: 'DMA_TO_DEVICE' });
  return timePairs(pairs, () => {
    const r = e.execute(map);
    if (!r.result.ok || r.violations.length) throw new Error(`benchmark map failed: ${JSON.stringify(r.violations.slice(0, 2))}`);
    e.execute(check);
    const u = e.execute(unmap);
    if (u.violations.length) throw new Error(`benchmark unmap: ${JSON.stringify(u.violations.slice(0, 2))}`);
  });
}

export function dmaIommuRows(): BenchRow[] {
  const rows: BenchRow[] = [];
  for (const mode of ['strict', 'lazy'] as const) {
    for (const live of [1_000, 100_000]) {
      rows.push({ what: `dma-iommu map+unmap, ${mode} (API, dma-debug on)`, live, perSecond: apiPairs(mode, live, 200_000) });
    }
  }
  for (const mode of ['strict', 'lazy'] as const) {
    rows.push({ what: `dma-iommu map+unmap, ${mode} (engine + all invariants)`, live: 100_000, perSecond: enginePairs(mode, 100_000, 20_000) });
  }
  return rows;
}
