/**
 * IOVA allocator throughput (iommu.md §2): alloc+free pairs per second on a
 * range-cache hit and through the tree, with 1k .. 1M live IOVAs.
 */
import { IovaDomain } from '../src/iommu/iova';
import type { IovaTimers } from '../src/iommu/iova-types';
import { timePairs, type BenchRow } from './table';

const timers: IovaTimers = { schedule: () => undefined };
const LIM48 = (1n << 36n) - 1n; // DMA_BIT_MASK(48) >> 12
const LIM32 = 0xfffffn;

const mk = (): IovaDomain => new IovaDomain({ granule: 4096n, start_pfn: 1n, page_size: 4096, ncpus: 4, timers });

function fastHit(live: number): number {
  const d = mk();
  for (let i = 0; i < live; i++) d.alloc_iova_fast(0, 1n, LIM48, true);
  return timePairs(500_000, () => d.free_iova_fast(0, d.alloc_iova_fast(0, 1n, LIM48, true), 1n));
}

function treePairs(live: number, limit: bigint): number {
  const d = mk();
  for (let i = 0; i < live; i++) d.alloc_iova(1n, limit, true);
  return timePairs(100_000, () => d.free_iova(d.alloc_iova(1n, limit, true)!.pfn_lo));
}

export function iovaRows(): BenchRow[] {
  const rows: BenchRow[] = [];
  for (const live of [1_000, 100_000, 1_000_000]) {
    rows.push({ what: 'alloc_iova + free_iova (tree, 48-bit limit)', live, perSecond: treePairs(live, LIM48) });
  }
  rows.push({ what: 'alloc_iova + free_iova (tree, 32-bit limit)', live: 100_000, perSecond: treePairs(100_000, LIM32) });
  for (const live of [1_000, 100_000, 1_000_000]) rows.push({ what: 'alloc_iova_fast + free_iova_fast (cache hit)', live, perSecond: fastHit(live) });
  return rows;
}
