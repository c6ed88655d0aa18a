import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DmaPool, type DmaBlock, type DmaPoolBackend } from './dmapool';
import { DMA_BIT_MASK, U64_MAX, type Device } from './types';
import { WarnSink } from '../warn';

const PS = 4096;
const DMA_OFF = 0x4000_0000n; // distinguish dma from cpu addresses

const dev: Device = {
  name: 'ehci', bus: 'pci', dma_mask: DMA_BIT_MASK(32), coherent_dma_mask: DMA_BIT_MASK(32), bus_dma_limit: 0n,
  dma_range_map: null, dma_coherent: true, dma_skip_sync: false, min_align_mask: 0n, max_segment_size: 65536n,
  segment_boundary_mask: U64_MAX, force_bounce: false, iommu: null, untrusted: false,
};

/** A fake dma_alloc_coherent: page-aligned bump allocator, counting what is live. */
class FakeBackend implements DmaPoolBackend {
  next = 0x10_0000n;
  calls: string[] = [];
  live = new Set<bigint>();
  fail = false;
  alloc(size: bigint): { cpu_addr: bigint; dma_addr: bigint } | null {
    this.calls.push(`alloc ${size}`);
    if (this.fail || size === 0n) return null;
    const cpu_addr = this.next;
    this.next += ((size + 4095n) / 4096n) * 4096n;
    this.live.add(cpu_addr);
    return { cpu_addr, dma_addr: cpu_addr + DMA_OFF };
  }
  free(size: bigint, cpu_addr: bigint, dma_addr: bigint): void {
    assert.equal(dma_addr, cpu_addr + DMA_OFF);
    assert.ok(this.live.delete(cpu_addr));
    this.calls.push(`free ${size} 0x${cpu_addr.toString(16)}`);
  }
}

function trypool(size: bigint, align: bigint, boundary: bigint, debug = false) {
  const backend = new FakeBackend();
  const warn = new WarnSink();
  const pool = DmaPool.create('pool', dev, size, align, boundary, PS, backend, warn, { dmapool_debug: debug });
  return { pool, backend, warn };
}

function mkpool(size: bigint, align: bigint, boundary: bigint, debug = false) {
  const r = trypool(size, align, boundary, debug);
  assert.ok(r.pool !== null);
  return { ...r, pool: r.pool };
}

test('NULL-create cases are exactly 6.12', () => {
  const mk = (size: bigint, align: bigint, boundary: bigint): DmaPool | null =>
    DmaPool.create('p', dev, size, align, boundary, PS, new FakeBackend(), new WarnSink());
  assert.equal(mk(64n, 3n, 0n), null); // align not a power of two
  assert.equal(mk(0n, 0n, 0n), null); // size 0
  assert.equal(mk(0x8000_0000n, 0n, 0n), null); // size > INT_MAX
  assert.equal(mk(64n, 0n, 96n), null); // boundary not a power of two
  assert.equal(mk(64n, 0n, 32n), null); // boundary < size
  assert.equal(mk(10n, 64n, 32n), null); // boundary < ALIGN(size, align) = 64
  assert.equal(mk(1n, 0n, 8n), null); // boundary < 16: sizeof(struct dma_block)
  assert.notEqual(mk(1n, 0n, 16n), null);
  assert.notEqual(mk(0x7fff_ffffn, 0n, 0n), null);
  const p = mk(24n, 0n, 1n << 20n)!; // boundary above allocation is clamped
  assert.deepEqual([p.size, p.allocation, p.boundary], [24n, 4096n, 4096n]);
  const big = mk(5000n, 0n, 0n)!; // allocation is max(size, PAGE_SIZE), not page-rounded
  assert.deepEqual([big.size, big.allocation, big.boundary], [5000n, 5000n, 5000n]);
});

test('name is truncated like strscpy into name[32]', () => {
  const p = DmaPool.create('x'.repeat(40), dev, 64n, 0n, 0n, PS, new FakeBackend(), new WarnSink())!;
  assert.equal(p.name, 'x'.repeat(31));
});

test('blocks are carved in address order and handed out from the front', () => {
  const { pool, backend } = mkpool(64n, 0n, 0n);
  const a = pool.alloc()!;
  const b = pool.alloc()!;
  assert.deepEqual(backend.calls, ['alloc 4096']);
  assert.deepEqual(a, { cpu_addr: 0x10_0000n, dma_addr: 0x10_0000n + DMA_OFF });
  assert.equal(b.cpu_addr, 0x10_0040n);
  assert.equal(pool.view.nr_blocks, 64);
  assert.equal(pool.view.nr_active, 2);
});

test('alignment: size 24 align 32 gives 32-byte blocks, all aligned', () => {
  const { pool } = mkpool(24n, 32n, 0n);
  assert.equal(pool.size, 32n);
  for (let i = 0; i < 200; i++) assert.equal(pool.alloc()!.dma_addr % 32n, 0n);
});

test('boundary: a block that would cross is skipped; none crosses', () => {
  const { pool } = mkpool(96n, 32n, 1024n);
  const blocks: DmaBlock[] = [];
  for (let i = 0; i < 40; i++) blocks.push(pool.alloc()!);
  assert.equal(pool.view.nr_blocks, 40); // 10 per KiB: 960 bytes, then skip to the boundary
  assert.equal(pool.view.nr_pages, 1);
  assert.equal(blocks[10]!.cpu_addr - blocks[0]!.cpu_addr, 1024n);
  for (const b of blocks) assert.equal(b.dma_addr / 1024n, (b.dma_addr + 95n) / 1024n);
});

test('freed blocks are reused LIFO', () => {
  const { pool } = mkpool(2048n, 0n, 0n);
  const [a, b] = [pool.alloc()!, pool.alloc()!];
  pool.free(a.cpu_addr, a.dma_addr);
  pool.free(b.cpu_addr, b.dma_addr);
  assert.deepEqual(pool.view.free_list(), [b, a]);
  assert.deepEqual(pool.alloc(), b);
  assert.deepEqual(pool.alloc(), a);
  const c = pool.alloc()!; // a second backing page
  assert.equal(c.cpu_addr, 0x10_1000n);
  assert.equal(pool.view.pages[0]!.cpu_addr, 0x10_1000n); // newest first
});

test('backend failure and u32-truncated sizes give NULL from alloc', () => {
  const { pool, backend } = mkpool(64n, 0n, 0n);
  backend.fail = true;
  assert.equal(pool.alloc(), null);
  const t = mkpool(1n, 1n << 32n, 0n).pool; // pool->size/allocation are unsigned int
  assert.deepEqual([t.size, t.allocation, t.boundary], [0n, 0n, 0n]);
  assert.equal(t.alloc(), null);
});

test('R8/H13: destroy while busy warns and leaks; a clean destroy frees newest first', () => {
  const busy = mkpool(2048n, 0n, 0n);
  busy.pool.alloc();
  busy.pool.destroy();
  assert.deepEqual(busy.warn.drain().map((w) => [w.code, w.message, w.dev]), [
    ['DMAPOOL_DESTROY_BUSY', 'dma_pool_destroy pool busy', 'ehci'],
  ]);
  assert.equal(busy.backend.live.size, 1);
  assert.throws(() => busy.pool.alloc(), /^Error: BUG: /);

  const ok = mkpool(2048n, 0n, 0n);
  const bl = [0, 1, 2].map(() => ok.pool.alloc()!);
  for (const b of bl) ok.pool.free(b.cpu_addr, b.dma_addr);
  ok.pool.destroy();
  assert.deepEqual(ok.warn.drain(), []);
  assert.deepEqual(ok.backend.calls.slice(2), ['free 4096 0x101000', 'free 4096 0x100000']);
});

test('DMAPOOL_DEBUG: bad address and double free are reported and dropped', () => {
  const { pool, warn } = mkpool(64n, 0n, 0n, true);
  const a = pool.alloc()!;
  pool.free(0x9999_0000n, 0x9999_0000n);
  pool.free(a.cpu_addr, a.dma_addr);
  pool.free(a.cpu_addr, a.dma_addr);
  assert.deepEqual(warn.drain().map((w) => [w.code, w.message]), [
    ['DMAPOOL_FREE_BAD_ADDRESS', 'pool_block_err pool, 0x99990000/0x99990000 (bad dma)'],
    ['DMAPOOL_DOUBLE_FREE', `pool_block_err pool, dma 0x${a.dma_addr.toString(16)} already free`],
  ]);
  assert.equal(pool.view.nr_active, 0);
});

test('without DMAPOOL_DEBUG a double free goes unnoticed and the block is handed out twice', () => {
  const { pool, warn } = mkpool(64n, 0n, 0n);
  const a = pool.alloc()!;
  pool.free(a.cpu_addr, a.dma_addr);
  pool.free(a.cpu_addr, a.dma_addr);
  assert.deepEqual(warn.drain(), []);
  assert.equal(pool.view.nr_active, -1);
  assert.deepEqual([pool.alloc(), pool.alloc()], [a, a]);
});

test('property: live blocks are aligned, inside the pool, never overlap or cross the boundary', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 3000 }), fc.nat(7), fc.nat(13),
      fc.array(fc.oneof(fc.constant(-1), fc.nat(100)), { maxLength: 120 }),
      (size, alignLog, boundaryLog, ops) => {
        const align = 1n << BigInt(alignLog);
        const boundary = BigInt(size) <= 1n << BigInt(boundaryLog) ? 1n << BigInt(boundaryLog) : 0n;
        const { pool } = trypool(BigInt(size), align, boundary);
        if (pool === null) {
          // only a boundary below the block size (after the 16-byte minimum and align) is refused
          const bs = ((BigInt(Math.max(size, 16)) + align - 1n) / align) * align;
          assert.ok(boundary !== 0n && boundary < bs);
          return;
        }
        const bsz = pool.boundary;
        const live: DmaBlock[] = [];
        for (const op of ops) {
          if (op === -1 || live.length === 0) live.push(pool.alloc()!);
          else { const [b] = live.splice(op % live.length, 1); pool.free(b!.cpu_addr, b!.dma_addr); }
        }
        const sorted = [...live].sort((x, y) => (x.dma_addr < y.dma_addr ? -1 : 1));
        for (const [i, b] of sorted.entries()) {
          assert.equal(b.dma_addr % align, 0n);
          const page: DmaBlock = pool.view.pages.find((p) => b.dma_addr >= p.dma_addr && b.dma_addr < p.dma_addr + pool.allocation)!;
          const off: bigint = b.dma_addr - page.dma_addr;
          assert.ok(off + pool.size <= pool.allocation);
          assert.equal(off / bsz, (off + pool.size - 1n) / bsz);
          if (i > 0) assert.ok(sorted[i - 1]!.dma_addr + pool.size <= b.dma_addr);
        }
        assert.equal(pool.view.nr_active, live.length);
      },
    ),
    { numRuns: 150 },
  );
});
