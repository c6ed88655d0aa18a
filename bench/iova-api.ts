/**
 * The IOVA-based API against per-page streaming maps (iommu.md §3.11): link
 * N pages into one IOVA range and sync once, versus N dma_map_phys calls, on an
 * IOMMU whose driver has iotlb_sync_map (as VT-d and AMD do). Reports pages per
 * second and the driver syncs each way.
 */
import { dma_map_phys, dma_mapping_error, dma_unmap_phys } from '../src/dma/mapping';
import { dma_iova_destroy, dma_iova_link, dma_iova_sync, dma_iova_try_alloc, newIovaState } from '../src/iommu/dma-iova';
import { Engine } from '../src/engine/engine';
import { parseOp } from '../src/ops/json';
import type { Platform } from '../src/platform';
import type { BenchRow } from './table';

const GiB = 1n << 30n;
const PAGE = 4096n;

function setup(): { p: Platform; e: Engine } {
  const e = new Engine();
  e.execute(parseOp({ op: 'platform', ram: [{ base: '0', size: '4G' }, { base: '0x100000000', size: '8G' }] }));
  e.execute(parseOp({ op: 'iommu_add', name: 'vtd', mode: 'strict', has_iotlb_sync_map: true }));
  e.execute(parseOp({ op: 'device_add', name: 'nvme', iommu: 'vtd', dma_mask: 'DMA_BIT_MASK(64)' }));
  return { p: e.platform!, e };
}

/** One I/O of n pages, repeated: pages per second and driver syncs per I/O. */
function linkRun(n: number, ios: number): { rate: number; syncs: number } {
  const { p } = setup();
  const dev = p.devices.get('nvme')!;
  const d = p.iommu.domainOf(dev)!;
  const s = newIovaState();
  const before = d.domain.stats.iotlb_sync_map + d.domain.stats.iotlb_sync;
  const t0 = process.hrtime.bigint();
  for (let io = 0; io < ios; io++) {
    if (!dma_iova_try_alloc(p, dev, d, s, 0n, BigInt(n) * PAGE, dev.dma_mask!)) throw new Error('try_alloc failed');
    for (let i = 0; i < n; i++) {
      if (dma_iova_link(p, dev, d, s, 4n * GiB + BigInt(i) * 2n * PAGE, BigInt(i) * PAGE, PAGE, 'DMA_TO_DEVICE', 0, 'newest')) throw new Error('link failed');
    }
    dma_iova_sync(p, dev, d, s, 0n, BigInt(n) * PAGE);
    dma_iova_destroy(p, dev, d, s, BigInt(n) * PAGE, 'DMA_TO_DEVICE', 0);
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const syncs = (d.domain.stats.iotlb_sync_map + d.domain.stats.iotlb_sync - before) / ios;
  return { rate: (n * ios) / secs, syncs };
}

function mapRun(n: number, ios: number): { rate: number; syncs: number } {
  const { p } = setup();
  const dev = p.devices.get('nvme')!;
  const d = p.iommu.domainOf(dev)!;
  const handles: bigint[] = new Array<bigint>(n);
  const before = d.domain.stats.iotlb_sync_map + d.domain.stats.iotlb_sync;
  const t0 = process.hrtime.bigint();
  for (let io = 0; io < ios; io++) {
    for (let i = 0; i < n; i++) {
      handles[i] = dma_map_phys(p, dev, 'phys', 4n * GiB + BigInt(i) * 2n * PAGE, PAGE, 'DMA_TO_DEVICE', 0, 'linear');
      if (dma_mapping_error(p, dev, handles[i])) throw new Error('map failed');
    }
    for (let i = 0; i < n; i++) dma_unmap_phys(p, dev, 'phys', handles[i], PAGE, 'DMA_TO_DEVICE', 0);
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const syncs = (d.domain.stats.iotlb_sync_map + d.domain.stats.iotlb_sync - before) / ios;
  p.warn.drain();
  return { rate: (n * ios) / secs, syncs };
}

export function iovaApiRows(): BenchRow[] {
  const rows: BenchRow[] = [];
  for (const n of [1, 32, 256]) {
    const ios = Math.max(200, Math.floor(40_000 / n));
    const l = linkRun(n, ios);
    const m = mapRun(n, ios);
    rows.push({ what: `IOVA API: try_alloc, link x${n}, sync, destroy (pages)`, live: 0, perSecond: l.rate, note: `${l.syncs} driver syncs per I/O` });
    rows.push({ what: `streaming: dma_map_phys x${n}, unmap x${n} (pages)`, live: 0, perSecond: m.rate, note: `${m.syncs} driver syncs per I/O` });
  }
  return rows;
}
