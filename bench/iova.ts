/**
 * IOVA allocator micro-benchmark (not a timed test): ns per alloc+free pair
 *  - alloc_iova_fast + free_iova_fast on a range-cache hit, with 100k live IOVAs;
 *  - alloc_iova + free_iova (tree path) with 1k .. 1M live IOVAs, 64-bit and 32-bit limits;
 *  - the same with a fragmented tree (every other node freed).
 * Run: npx tsx bench/iova.ts
 */
import { IovaDomain } from '../src/iommu/iova';
import type { IovaTimers } from '../src/iommu/iova-types';

const timers: IovaTimers = { schedule: () => undefined };
const LIM48 = (1n << 36n) - 1n; // DMA_BIT_MASK(48) >> 12
const LIM32 = 0xfffffn;

const mk = (): IovaDomain => new IovaDomain({ granule: 4096n, start_pfn: 1n, page_size: 4096, ncpus: 4, timers });

function time(pairs: number, body: () => void): number {
  for (let i = 0; i < Math.min(pairs, 10000); i++) body(); // warm-up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < pairs; i++) body();
  return Number(process.hrtime.bigint() - t0) / pairs;
}

function fastHit(live: number): number {
  const d = mk();
  for (let i = 0; i < live; i++) d.alloc_iova_fast(0, 1n, LIM48, true);
  return time(1_000_000, () => d.free_iova_fast(0, d.alloc_iova_fast(0, 1n, LIM48, true), 1n));
}

function treePairs(live: number, limit: bigint, fragment: boolean): number {
  const d = mk();
  const pfns: bigint[] = [];
  for (let i = 0; i < live * (fragment ? 2 : 1); i++) pfns.push(d.alloc_iova(1n, limit, true)!.pfn_lo);
  if (fragment) for (let i = 0; i < pfns.length; i += 2) d.free_iova(pfns[i]!);
  return time(200_000, () => d.free_iova(d.alloc_iova(1n, limit, true)!.pfn_lo));
}

const fmt = (ns: number): string => `${ns.toFixed(0).padStart(6)} ns`;
console.log(`alloc_iova_fast+free_iova_fast, cache hit, 100k live: ${fmt(fastHit(100_000))}`);
for (const live of [1_000, 10_000, 100_000, 1_000_000]) {
  const row = [
    `64-bit ${fmt(treePairs(live, LIM48, false))}`,
    live < 1_000_000 ? `32-bit ${fmt(treePairs(live, LIM32, false))}` : '32-bit      -',
    `64-bit fragmented ${fmt(treePairs(live, LIM48, true))}`,
  ];
  console.log(`alloc_iova+free_iova, ${String(live).padStart(7)} live: ${row.join('   ')}`);
}
