import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PageAllocator, type PhysRange } from './page-alloc';

const K = 1024n;
const M = 1024n * K;
const G = 1024n * M;
const PS = 4096;
const U64_MAX = (1n << 64n) - 1n;

test('get_order follows the kernel, including get_order(0)', () => {
  const pa = new PageAllocator([], [], PS);
  assert.equal(pa.get_order(1n), 0);
  assert.equal(pa.get_order(4096n), 0);
  assert.equal(pa.get_order(4097n), 1);
  assert.equal(pa.get_order(64n * K), 4);
  assert.equal(pa.get_order(0n), 52);
});

test('RAM is carved into the largest aligned blocks; reserved pages are never free', () => {
  const pa = new PageAllocator([{ base: 0x1000n, size: 0x7000n }], [{ base: 0x5800n, size: 0x100n }], PS);
  assert.deepEqual(
    pa.view.free_blocks().map((b) => [b.phys, b.order]),
    [[0x1000n, 0], [0x2000n, 1], [0x4000n, 0], [0x6000n, 1]],
  );
  assert.deepEqual(pa.stats(), { free_pages: 6, allocated_pages: 0 });
});

test('buddy split on alloc and merge on free', () => {
  const pa = new PageAllocator([{ base: 0n, size: 64n * K }], [], PS, 4);
  assert.deepEqual(pa.view.free_blocks(), [{ phys: 0n, order: 4 }]);
  const a = pa.alloc_pages(0, U64_MAX);
  assert.equal(a, 0xf000n); // top-down
  assert.deepEqual(
    pa.view.free_blocks().map((b) => [b.phys, b.order]),
    [[0n, 3], [0x8000n, 2], [0xc000n, 1], [0xe000n, 0]],
  );
  pa.free_pages(0xf000n, 0);
  assert.deepEqual(pa.view.free_blocks(), [{ phys: 0n, order: 4 }]);
  assert.deepEqual(pa.stats(), { free_pages: 16, allocated_pages: 0 });
});

test('H11: a 64 KiB allocation is 64 KiB aligned', () => {
  const pa = new PageAllocator([{ base: 0x3000n, size: 1n * M }], [], PS);
  const p = pa.alloc_pages(pa.get_order(64n * K), U64_MAX);
  assert.notEqual(p, null);
  assert.equal(p! % (64n * K), 0n);
});

test('top-down and deterministic: two allocators given the same calls agree', () => {
  const mk = (): PageAllocator => new PageAllocator([{ base: 0n, size: 16n * M }, { base: 5n * G, size: 8n * M }], [], PS);
  const a = mk();
  const b = mk();
  const seq = [0, 3, 1, 0, 5, 2].map((o) => [a.alloc_pages(o, U64_MAX), b.alloc_pages(o, U64_MAX)]);
  for (const [x, y] of seq) assert.equal(x, y);
  assert.equal(seq[0]![0], 5n * G + 8n * M - 4096n);
});

test('limit is respected (inclusive) and exhaustion gives null', () => {
  const pa = new PageAllocator([{ base: 0n, size: 8n * G }], [], PS);
  assert.equal(pa.alloc_pages(0, 0xffff_ffffn), 0xffff_f000n);
  assert.equal(pa.alloc_pages(1, 0xffff_ffffn), 0xffff_c000n); // 0xffff_e000 is an order-0 remnant
  assert.equal(pa.alloc_pages(0, 0xffffn), 0xf000n);
  assert.equal(pa.alloc_pages(0, 0xffen), null); // no whole page below 0xfff
  assert.equal(pa.alloc_pages(11, U64_MAX), null); // above MAX_PAGE_ORDER

  const small = new PageAllocator([{ base: 0x10000n, size: 0x4000n }], [], PS);
  const got = [0, 1, 2, 3].map(() => small.alloc_pages(0, U64_MAX));
  assert.deepEqual(got, [0x13000n, 0x12000n, 0x11000n, 0x10000n]);
  assert.equal(small.alloc_pages(0, U64_MAX), null);
  assert.deepEqual(small.stats(), { free_pages: 0, allocated_pages: 4 });
});

test('free of what is not allocated, or with the wrong order, is a BUG', () => {
  const pa = new PageAllocator([{ base: 0n, size: 1n * M }], [], PS);
  const p = pa.alloc_pages(1, U64_MAX)!;
  assert.throws(() => pa.free_pages(p, 0), /^Error: BUG: /);
  assert.throws(() => pa.free_pages(p + 4096n, 0), /^Error: BUG: /);
  pa.free_pages(p, 1);
  assert.throws(() => pa.free_pages(p, 1), /^Error: BUG: .*not allocated/);
});

// --- property: the allocator against a naive page bitmap -------------------------

interface Model {
  free: Set<bigint>; // free page addresses
  live: { phys: bigint; order: number }[];
}

/** The naive answer: highest aligned run of free pages under limit. */
function naive_pick(m: Model, order: number, limit: bigint): bigint | null {
  const size = BigInt(PS) << BigInt(order);
  if (limit + 1n < size) return null;
  const cands = [...m.free].filter((p) => p % size === 0n && p + size - 1n <= limit).sort((a, b) => (a < b ? 1 : -1));
  for (const p of cands) {
    let ok = true;
    for (let q = p; q < p + size; q += BigInt(PS)) if (!m.free.has(q)) ok = false;
    if (ok) return p;
  }
  return null;
}

class AllocCmd implements fc.Command<Model, PageAllocator> {
  constructor(readonly order: number, readonly limit: bigint) {}
  check = (): boolean => true;
  run(m: Model, r: PageAllocator): void {
    const want = naive_pick(m, this.order, this.limit);
    const got = r.alloc_pages(this.order, this.limit);
    assert.equal(got, want);
    if (got === null) return;
    for (let q = got; q < got + (BigInt(PS) << BigInt(this.order)); q += BigInt(PS)) m.free.delete(q);
    m.live.push({ phys: got, order: this.order });
  }
  toString = (): string => `alloc_pages(${this.order}, 0x${this.limit.toString(16)})`;
}

class FreeCmd implements fc.Command<Model, PageAllocator> {
  constructor(readonly pick: number) {}
  check = (m: Readonly<Model>): boolean => m.live.length > 0;
  run(m: Model, r: PageAllocator): void {
    const [b] = m.live.splice(this.pick % m.live.length, 1);
    r.free_pages(b!.phys, b!.order);
    for (let q = b!.phys; q < b!.phys + (BigInt(PS) << BigInt(b!.order)); q += BigInt(PS)) m.free.add(q);
  }
  toString = (): string => `free_pages(#${this.pick})`;
}

test('property: buddy allocator agrees with a page bitmap (choice, no overlap, conservation)', () => {
  const range = fc.record({ base: fc.nat(300), size: fc.nat(300) });
  fc.assert(
    fc.property(
      fc.array(range, { minLength: 1, maxLength: 4 }),
      fc.array(range, { maxLength: 2 }),
      fc.commands(
        [
          fc.tuple(fc.nat(5), fc.nat(400)).map(([o, l]) => new AllocCmd(o, BigInt(l) * 4096n + 4095n)),
          fc.nat(1000).map((i) => new FreeCmd(i)),
        ],
        { maxCommands: 60 },
      ),
      (ram, res, cmds) => {
        const pg = (r: { base: number; size: number }): PhysRange => ({ base: BigInt(r.base) * 4096n, size: BigInt(r.size) * 4096n });
        const real = new PageAllocator(ram.map(pg), res.map(pg), PS, 5);
        const free = new Set<bigint>();
        for (const r of ram) for (let i = 0; i < r.size; i++) free.add(BigInt(r.base + i) * 4096n);
        for (const r of res) for (let i = 0; i < r.size; i++) free.delete(BigInt(r.base + i) * 4096n);
        const model: Model = { free, live: [] };
        fc.modelRun(() => ({ model, real }), cmds);
        assert.equal(real.stats().free_pages, model.free.size);
        const pages = real.view.free_blocks().reduce((n, b) => n + (1 << b.order), 0);
        assert.equal(pages, model.free.size);
      },
    ),
    { numRuns: 200 },
  );
});

test('allocators over the same RAM layout are independent: one allocator’s splits and frees never show in another', () => {
  const ram: PhysRange[] = [{ base: 0n, size: 64n * M }];
  const a = new PageAllocator(ram, [], PS);
  const before = a.view.free_blocks();
  const got = [a.alloc_pages(0, U64_MAX), a.alloc_pages(3, U64_MAX), a.alloc_pages(10, U64_MAX)];
  const b = new PageAllocator(ram, [], PS);
  assert.deepEqual(b.view.free_blocks(), before, 'a second allocator starts from the untouched carving');
  assert.deepEqual(b.stats(), { free_pages: Number(64n * M / 4096n), allocated_pages: 0 });
  // The same calls on the fresh allocator give the same blocks: nothing of a's history leaked in.
  assert.deepEqual([b.alloc_pages(0, U64_MAX), b.alloc_pages(3, U64_MAX), b.alloc_pages(10, U64_MAX)], got);
  for (const [i, o] of [[0, 0], [1, 3], [2, 10]] as const) a.free_pages(got[i]!, o);
  assert.deepEqual(a.view.free_blocks(), before, 'frees merge back to the carving');
  assert.equal(b.stats().allocated_pages, 1 + 8 + 1024, 'b is unaffected by a’s frees');
});
