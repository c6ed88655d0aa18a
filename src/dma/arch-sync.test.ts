import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PhysMem } from '../mem/phys-mem';
import { CpuCache } from '../mem/cpu-cache';
import { ArchDmaSync } from './arch-sync';

const bytes = (len: number, v: number): Uint8Array => new Uint8Array(len).fill(v);

/** A fresh non-coherent arm64 machine per test: 1 MiB of RAM, 64-byte lines, 2 CPUs. */
const mk = (batched = false) => {
  const mem = new PhysMem([{ base: 0n, size: 0x10_0000n }]);
  const cache = new CpuCache(mem, 64);
  return { mem, cache, arch: new ArchDmaSync(cache, { batched, ncpus: 2 }) };
};

test('arch_sync_dma_for_device cleans for every direction (dma-core.md §5.2)', () => {
  for (const dir of ['DMA_TO_DEVICE', 'DMA_FROM_DEVICE', 'DMA_BIDIRECTIONAL'] as const) {
    const { mem, cache, arch } = mk();
    cache.write(0x1000n, bytes(64, 0x11));
    arch.arch_sync_dma_for_device(0, 0x1000n, 64n, dir);
    assert.equal(cache.lineState(0x1000n), 'clean', dir);
    assert.deepEqual(mem.read(0x1000n, 64), bytes(64, 0x11), dir);
    assert.equal(arch.stats.cleans, 1);
  }
});

test('arch_sync_dma_for_cpu: TO_DEVICE does nothing, otherwise invalidate', () => {
  const { cache, arch } = mk();
  cache.write(0x1000n, bytes(64, 0x11));
  arch.arch_sync_dma_for_cpu(0, 0x1000n, 64n, 'DMA_TO_DEVICE');
  assert.equal(cache.lineState(0x1000n), 'dirty');
  assert.equal(arch.stats.invalidates, 0);
  for (const dir of ['DMA_FROM_DEVICE', 'DMA_BIDIRECTIONAL'] as const) {
    cache.read(0x1000n, 1);
    arch.arch_sync_dma_for_cpu(0, 0x1000n, 64n, dir);
    assert.equal(cache.lineState(0x1000n), 'invalid', dir);
  }
  assert.equal(arch.stats.invalidates, 2);
});

test('DMA_NONE is a BUG in both hooks', () => {
  const { arch } = mk();
  assert.throws(() => arch.arch_sync_dma_for_device(0, 0x1000n, 64n, 'DMA_NONE'), /^Error: BUG:/);
  assert.throws(() => arch.arch_sync_dma_for_cpu(0, 0x1000n, 64n, 'DMA_NONE'), /^Error: BUG:/);
  assert.throws(() => arch.arch_sync_dma_flush(2), /^Error: BUG:/);
});

test('edge lines: CPU-dirty neighbours survive, a dirty line inside is discarded', () => {
  const { mem, cache, arch } = mk();
  cache.write(0x2000n, bytes(0x20, 0xc1)); // CPU data sharing the first line
  cache.write(0x2040n, bytes(0x40, 0xdd)); // CPU-dirty line wholly inside the buffer
  mem.write(0x2020n, bytes(0x60, 0xee)); // what the device wrote
  arch.arch_sync_dma_for_cpu(0, 0x2020n, 0x60n, 'DMA_FROM_DEVICE');
  assert.deepEqual(cache.read(0x2000n, 0x20), bytes(0x20, 0xc1));
  assert.deepEqual(cache.read(0x2040n, 0x40), bytes(0x40, 0xee));
  // The edge write-back carried the line's stale buffer bytes too (hazard VIS-3.1).
  assert.deepEqual(cache.read(0x2020n, 0x20), bytes(0x20, 0));
});

test('zero size still touches the line holding paddr, as the cache.S loops do', () => {
  const { mem, cache, arch } = mk();
  cache.write(0x3000n, bytes(64, 0x33));
  arch.arch_sync_dma_for_cpu(0, 0x3000n, 0n, 'DMA_FROM_DEVICE'); // aligned: DC IVAC
  assert.equal(cache.lineState(0x3000n), 'invalid');
  assert.deepEqual(mem.read(0x3000n, 1), bytes(1, 0));
  cache.write(0x3000n, bytes(64, 0x34));
  arch.arch_sync_dma_for_cpu(0, 0x3008n, 0n, 'DMA_FROM_DEVICE'); // unaligned: DC CIVAC
  assert.deepEqual(mem.read(0x3000n, 1), bytes(1, 0x34));
  cache.write(0x3000n, bytes(1, 0x35));
  arch.arch_sync_dma_for_device(0, 0x3000n, 0n, 'DMA_TO_DEVICE');
  assert.equal(cache.lineState(0x3000n), 'clean');
});

test('VIS-1: after the clean the device reads what the CPU wrote, whatever the cache does', () => {
  const { cache, arch } = mk();
  cache.write(0x4010n, bytes(0x100, 0x41));
  arch.arch_sync_dma_for_device(0, 0x4010n, 0x100n, 'DMA_TO_DEVICE');
  cache.speculate(0x4000n, 0x200);
  cache.evict(0x4000n, 0x80);
  assert.deepEqual(cache.deviceRead(0x4010n, 0x100, false), bytes(0x100, 0x41));
});

test('VIS-2: with no CPU write during ownership, sync_for_cpu exposes the device data', () => {
  const { cache, arch } = mk();
  cache.write(0x5000n, bytes(0x100, 0x50)); // old CPU data, dirty
  arch.arch_sync_dma_for_device(0, 0x5020n, 0xc0n, 'DMA_FROM_DEVICE');
  cache.speculate(0x5000n, 0x100); // stale copies while the device owns it
  cache.deviceWrite(0x5020n, bytes(0xc0, 0x52), false);
  cache.evict(0x5000n, 0x40); // a clean edge line is dropped, nothing written
  arch.arch_sync_dma_for_cpu(0, 0x5020n, 0xc0n, 'DMA_FROM_DEVICE');
  assert.deepEqual(cache.read(0x5020n, 0xc0), bytes(0xc0, 0x52));
  assert.deepEqual(cache.read(0x5000n, 0x20), bytes(0x20, 0x50)); // neighbours kept too
});

test('VIS-3.1: a CPU write sharing a line destroys device data through eviction', () => {
  const { cache, arch } = mk();
  arch.arch_sync_dma_for_device(0, 0x6020n, 0x40n, 'DMA_FROM_DEVICE');
  cache.write(0x6000n, bytes(1, 0x99)); // neighbour write during device ownership
  cache.deviceWrite(0x6020n, bytes(0x40, 0x62), false);
  cache.evict(0x6000n, 0x40); // the whole dirty line lands on top of the device data
  arch.arch_sync_dma_for_cpu(0, 0x6020n, 0x40n, 'DMA_FROM_DEVICE');
  assert.deepEqual(cache.read(0x6020n, 0x20), bytes(0x20, 0));
  assert.deepEqual(cache.read(0x6040n, 0x20), bytes(0x20, 0x62));
});

test('VIS-3.1: ... or through the edge-line clean+invalidate at sync_for_cpu', () => {
  const { cache, arch } = mk();
  arch.arch_sync_dma_for_device(0, 0x6020n, 0x40n, 'DMA_FROM_DEVICE');
  cache.write(0x6000n, bytes(1, 0x99)); // the fill copies the buffer's old bytes into the line
  cache.deviceWrite(0x6020n, bytes(0x40, 0x62), false);
  arch.arch_sync_dma_for_cpu(0, 0x6020n, 0x40n, 'DMA_FROM_DEVICE');
  assert.deepEqual(cache.read(0x6000n, 1), bytes(1, 0x99));
  assert.deepEqual(cache.read(0x6020n, 0x20), bytes(0x20, 0));
});

test('VIS-3.2: skipping sync_for_cpu reads a stale speculative copy', () => {
  const { mem, cache, arch } = mk();
  arch.arch_sync_dma_for_device(0, 0x7000n, 0x40n, 'DMA_FROM_DEVICE');
  cache.speculate(0x7000n, 0x40);
  cache.deviceWrite(0x7000n, bytes(0x40, 0x72), false);
  assert.deepEqual(cache.read(0x7000n, 0x40), bytes(0x40, 0));
  assert.deepEqual(mem.read(0x7000n, 0x40), bytes(0x40, 0x72));
});

test('non-batched: hooks complete at once, flush is an uncounted stub', () => {
  const { mem, cache, arch } = mk(false);
  cache.write(0x8000n, bytes(4, 0x80));
  arch.arch_sync_dma_for_device(1, 0x8000n, 4n, 'DMA_TO_DEVICE');
  assert.deepEqual(mem.read(0x8000n, 4), bytes(4, 0x80));
  assert.deepEqual(arch.pending(1), []);
  assert.equal(arch.pendingOverlaps(0n, 1n << 40n), false);
  arch.arch_sync_dma_flush(1);
  assert.equal(arch.stats.flushes, 0);
});

test('batched: issued ops are pending, not applied, until that CPU flushes', () => {
  const { mem, cache, arch } = mk(true);
  cache.write(0x8000n, bytes(4, 0x80));
  cache.read(0x9000n, 1);
  arch.arch_sync_dma_for_device(0, 0x8000n, 4n, 'DMA_TO_DEVICE');
  arch.arch_sync_dma_for_cpu(1, 0x9000n, 64n, 'DMA_FROM_DEVICE');
  assert.deepEqual(mem.read(0x8000n, 4), bytes(4, 0));
  assert.equal(cache.lineState(0x8000n), 'dirty');
  assert.deepEqual(arch.pending(0), [{ kind: 'clean', start: 0x8000n, end: 0x8004n }]);
  assert.equal(arch.pendingOverlaps(0x8003n, 0x8010n), true);
  assert.equal(arch.pendingOverlaps(0x8004n, 0x8010n), false);
  assert.equal(arch.pendingOverlaps(0x8000n, 0x8010n, 'invalidate'), false);
  assert.equal(arch.pendingOverlaps(0x9000n, 0x9001n, 'invalidate'), true);

  const before = arch.pending(0);
  arch.arch_sync_dma_flush(0);
  assert.deepEqual(mem.read(0x8000n, 4), bytes(4, 0x80));
  assert.equal(before.length, 1); // a snapshot handed out earlier is unchanged
  assert.deepEqual(arch.pending(0), []);
  assert.equal(cache.lineState(0x9000n), 'clean'); // CPU 1 has not flushed
  assert.equal(arch.pendingOverlaps(0x9000n, 0x9001n), true);
  arch.arch_sync_dma_flush(1);
  assert.equal(cache.lineState(0x9000n), 'invalid');
  arch.arch_sync_dma_flush(1); // nothing pending: the DSB still runs
  assert.deepEqual(arch.stats, { flushes: 3, cleans: 1, invalidates: 1, cpu_all: 0 });
});

test('batched: flush applies in issue order', () => {
  for (const order of ['clean-first', 'invalidate-first'] as const) {
    const { mem, cache, arch } = mk(true);
    cache.write(0xa000n, bytes(64, 0xa0));
    if (order === 'clean-first') arch.arch_sync_dma_for_device(0, 0xa000n, 64n, 'DMA_BIDIRECTIONAL');
    arch.arch_sync_dma_for_cpu(0, 0xa000n, 64n, 'DMA_BIDIRECTIONAL');
    if (order === 'invalidate-first') arch.arch_sync_dma_for_device(0, 0xa000n, 64n, 'DMA_BIDIRECTIONAL');
    arch.arch_sync_dma_flush(0);
    assert.equal(cache.lineState(0xa000n), 'invalid', order);
    assert.deepEqual(mem.read(0xa000n, 1), bytes(1, order === 'clean-first' ? 0xa0 : 0), order);
  }
});

test('arch_dma_prep_coherent is immediate even when batched; cpu_all is only counted', () => {
  const { mem, cache, arch } = mk(true);
  cache.write(0xb000n, bytes(64, 0xb0));
  arch.arch_dma_prep_coherent(0xb000n, 0x1000n);
  assert.deepEqual(mem.read(0xb000n, 64), bytes(64, 0xb0));
  assert.deepEqual(arch.pending(0), []);
  arch.arch_sync_dma_for_cpu_all();
  arch.arch_sync_dma_for_cpu_all();
  assert.deepEqual(arch.stats, { flushes: 0, cleans: 1, invalidates: 0, cpu_all: 2 });
});
