/**
 * npm run bench: throughput of the model, printed as one table.
 * Map+unmap pairs per second through the DMA API entry points (mapping.ts,
 * dma-debug on) with 1k and 100k live mappings held, for dma-direct and for
 * swiotlb; the same through the op engine (handles + every invariant); the
 * IOVA allocator at 1k..1M live IOVAs; dma-iommu strict and lazy; and one run
 * of the whole feature suite. A benchmark, never a timed test.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { dma_map_phys, dma_mapping_error, dma_unmap_phys } from '../src/dma/mapping';
import { Engine } from '../src/engine/engine';
import { parseOp } from '../src/ops/json';
import type { Platform } from '../src/platform';
import { dmaIommuRows } from './dma-iommu';
import { fuzzCompare, QUICK_OPTIONS } from './fuzz-compare';
import { printFuzzThroughput } from './fuzz-throughput';
import { iovaRows } from './iova';
import { iovaApiRows } from './iova-api';
import { fmtRate, printTable } from './table';

const GiB = 1n << 30n;

interface Row { path: string; live: number; api: number; engine: number }

function setup(swiotlb: boolean, live: number): Engine {
  const e = new Engine();
  e.execute(parseOp({
    op: 'platform',
    ram: [{ base: '0', size: '4G' }, { base: '0x100000000', size: '8G' }],
    ...(swiotlb ? { swiotlb: { size: '512M', force: true } } : {}),
  }));
  e.execute(parseOp({ op: 'device_add', name: 'nic', dma_mask: 'DMA_BIT_MASK(64)' }));
  return e;
}

/** Holds `live` mappings, then times map+unmap pairs of other buffers through mapping.ts. */
function apiPairs(swiotlb: boolean, live: number, pairs: number): number {
  const e = setup(swiotlb, live);
  const p = e.platform as Platform;
  const dev = p.devices.get('nic')!;
  const size = 512n;
  for (let i = 0; i < live; i++) dma_map_phys(p, dev, 'phys', 4n * GiB + BigInt(i) * 4096n, size, 'DMA_TO_DEVICE', 0, 'linear');
  p.warn.drain();
  const base = 8n * GiB;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < pairs; i++) {
    const phys = base + BigInt(i & 1023) * 4096n;
    const a = dma_map_phys(p, dev, 'phys', phys, size, 'DMA_TO_DEVICE', 0, 'linear');
    if (dma_mapping_error(p, dev, a)) throw new Error('benchmark map failed');
    dma_unmap_phys(p, dev, 'phys', a, size, 'DMA_TO_DEVICE', 0);
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const w = p.warn.drain();
  if (w.length) throw new Error(`benchmark sequence produced warnings: ${w.slice(0, 3).map((x) => x.code + ' ' + x.message).join('; ')}`);
  return pairs / secs;
}

/** The same pairs as ops through the engine: handles, results, every invariant after every op. */
function enginePairs(swiotlb: boolean, live: number, pairs: number): number {
  const e = setup(swiotlb, live);
  const map = (phys: bigint, as?: string) => parseOp({ op: 'dma_map_phys', dev: 'nic', phys: '0x' + phys.toString(16), size: 512, dir: 'DMA_TO_DEVICE', ...(as ? { as } : {}) });
  for (let i = 0; i < live; i++) e.execute(map(4n * GiB + BigInt(i) * 4096n));
  const ops = Array.from({ length: 1024 }, (_, i) => map(8n * GiB + BigInt(i) * 4096n, 'b'));
  const check = parseOp({ op: 'dma_mapping_error', dev: 'nic', dma_addr: '$b' });
  const unmap = parseOp({ op: 'dma_unmap_phys', dev: 'nic', dma_addr: '$b', size: 512, dir: 'DMA_TO_DEVICE' });
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < pairs; i++) {
    const r = e.execute(ops[i & 1023]);
    if (!r.result.ok || r.violations.length) throw new Error(`benchmark map failed: ${JSON.stringify(r.violations)}`);
    e.execute(check);
    e.execute(unmap);
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  return pairs / secs;
}

function featureSuite(): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(join('node_modules', '.bin', 'cucumber-js'), ['--format', 'summary'], { encoding: 'utf8' });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const summary = /(\d+) scenarios? \(([^)]*)\)/.exec(r.stdout ?? '');
  process.stdout.write(`feature suite: ${summary ? `${summary[1]} scenarios (${summary[2]})` : 'no summary'} in ${secs.toFixed(2)} s (whole process, including start-up)\n`);
  return secs;
}

const fmt = fmtRate;

function main(): void {
  const rows: Row[] = [];
  for (const swiotlb of [false, true]) {
    for (const live of [1000, 100_000]) {
      apiPairs(swiotlb, live, 20_000); // warm-up
      rows.push({ path: swiotlb ? 'swiotlb (force)' : 'dma-direct', live, api: apiPairs(swiotlb, live, 300_000), engine: enginePairs(swiotlb, live, 50_000) });
    }
  }
  process.stdout.write('\nmap+unmap pairs per second (dma-debug on; 512-byte DMA_TO_DEVICE buffers; each pair also calls dma_mapping_error, as drivers must)\n\n');
  process.stdout.write('| path            | live mappings | DMA API (mapping.ts) | op engine + all invariants |\n');
  process.stdout.write('|-----------------|---------------|----------------------|----------------------------|\n');
  for (const r of rows) process.stdout.write(`| ${r.path.padEnd(15)} | ${String(r.live).padStart(13)} | ${fmt(r.api).padStart(20)} | ${fmt(r.engine).padStart(26)} |\n`);
  const flat = (path: string) => {
    const [a, b] = rows.filter((r) => r.path === path);
    return (b.api / a.api).toFixed(2);
  };
  process.stdout.write(`\nflatness (100k / 1k, API): dma-direct ${flat('dma-direct')}, swiotlb ${flat('swiotlb (force)')}\n`);
  printTable('IOVA allocator: alloc+free pairs per second (iommu.md §2)', iovaRows());
  printTable('dma-iommu: map+unmap pairs per second, 4 KiB DMA_TO_DEVICE, each pair also calls dma_mapping_error', dmaIommuRows());
  printTable('IOVA-based API vs per-page streaming maps: pages per second, driver IOTLB syncs (iotlb_sync_map + iotlb_sync) per I/O', iovaApiRows());
  process.stdout.write('\n');
  featureSuite();
  printFuzzThroughput();
  // The quick variant (5 seeds, short caps, model coverage) keeps npm run bench near 10 minutes; npm run bench:fuzz runs the full one.
  fuzzCompare(QUICK_OPTIONS);
}

main();
