import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Iotlb, iotlb_translate, type IotlbEntry } from './iotlb';
import { alloc_io_pgtable_arm_lpae_s1 } from './io-pgtable-arm';
import { IOMMU_READ, IOMMU_WRITE, newGather, type LeafPerms } from './io-pgtable';

const K4 = 0x1000n;
const M2 = 0x20_0000n;
const G1 = 0x4000_0000n;
const RO: LeafPerms = { read: true, write: false };
const RW: LeafPerms = { read: true, write: true };
const e = (iova: bigint, size: bigint, paddr: bigint, perms: LeafPerms = RW): IotlbEntry => ({ iova, size, paddr, perms });

test('fill then lookup: the entry covering an IOVA, with hit and miss counts', () => {
  const t = new Iotlb();
  t.fill(e(0x1000n, K4, 0x5000n, RO));
  t.fill(e(0x4000_0000n, M2, 0x8000_0000n));
  assert.deepEqual(t.lookup(0x1234n), e(0x1000n, K4, 0x5000n, RO));
  assert.equal(iotlb_translate(t.lookup(0x400F_F00Fn)!, 0x400F_F00Fn), 0x800F_F00Fn);
  assert.equal(t.lookup(0x2000n), undefined);
  assert.deepEqual(t.stats, { fills: 2, hits: 2, misses: 1, range_invalidations: 0, full_flushes: 0, entries_invalidated: 0 });
  assert.equal(t.size, 2);
});

test('fill replaces an entry with the same base and size; rejects a misaligned leaf', () => {
  const t = new Iotlb();
  t.fill(e(0x1000n, K4, 0x5000n));
  t.fill(e(0x1000n, K4, 0x9000n, RO));
  assert.equal(t.size, 1);
  assert.deepEqual(t.peek(0x1000n), e(0x1000n, K4, 0x9000n, RO));
  assert.throws(() => t.fill(e(0x1000n, M2, 0n)), /not size-aligned/);
  assert.throws(() => t.fill(e(0n, 0x3000n, 0n)), /not size-aligned/);
});

test('entries of several sizes can cover one IOVA (a stale block beside new pages): smallest first', () => {
  const t = new Iotlb();
  t.fill(e(0x4000_0000n, M2, 0x8000_0000n)); // the block, cached before a 6.12 split
  t.fill(e(0x4000_2000n, K4, 0x8000_2000n));
  assert.equal(t.lookup(0x4000_2000n)!.size, K4);
  assert.equal(t.lookup(0x4000_1000n)!.size, M2); // the unmapped page is still reachable: stale
  assert.deepEqual(t.lookup_all(0x4000_2000n).map((x) => x.size), [K4, M2]);
});

test('invalidate_range drops every entry overlapping [start, end], whatever its size', () => {
  const t = new Iotlb();
  t.fill(e(0n, K4, 0n));
  t.fill(e(0x1000n, K4, 0x1000n));
  t.fill(e(0x2000n, K4, 0x2000n));
  t.fill(e(M2, M2, M2));
  t.fill(e(G1, G1, G1));
  assert.equal(t.invalidate_range(0x1000n, 0x1FFFn), 1);
  assert.deepEqual([...t].map((x) => x.iova), [0n, 0x2000n, M2, G1]);
  // A range inside a block still drops the block (TLBI by VA hits any entry translating it).
  assert.equal(t.invalidate_range(M2 + 0x5000n, M2 + 0x5FFFn), 1);
  assert.equal(t.invalidate_range(G1 + G1 - 1n, G1 + G1 - 1n), 1);
  // An empty gather range (start > end) invalidates nothing.
  assert.equal(t.invalidate_range((1n << 64n) - 1n, 0n), 0);
  assert.deepEqual([...t].map((x) => x.iova), [0n, 0x2000n]);
  assert.deepEqual([t.stats.range_invalidations, t.stats.entries_invalidated], [4, 3]);
  assert.deepEqual(t.overlapping(0n, 0x2FFFn).map((x) => x.iova), [0n, 0x2000n]);
  assert.deepEqual(t.overlapping(0x1000n, 0x1FFFn), []);
});

test('flush_all empties it (flush_iotlb_all)', () => {
  const t = new Iotlb();
  for (let i = 0n; i < 10n; i++) t.fill(e(i * K4, K4, i * K4));
  t.fill(e(G1, G1, 0n));
  assert.equal(t.flush_all(), 11);
  assert.deepEqual([...t], []);
  assert.equal(t.lookup(0n), undefined);
  assert.deepEqual([t.stats.full_flushes, t.stats.entries_invalidated, t.size], [1, 11, 0]);
});

test('iteration is in ascending IOVA order across sizes', () => {
  const t = new Iotlb();
  t.fill(e(G1, G1, 0n));
  t.fill(e(0x3000n, K4, 0n));
  t.fill(e(M2, M2, 0n));
  t.fill(e(0n, M2, 0n));
  t.fill(e(0n, K4, 0n));
  assert.deepEqual([...t].map((x) => [x.iova, x.size]), [[0n, K4], [0n, M2], [0x3000n, K4], [M2, M2], [G1, G1]]);
});

test('lazy unmap leaves a stale, usable translation until the flush (iommu.md §4.6, §6.2)', () => {
  const t = new Iotlb();
  const pt = alloc_io_pgtable_arm_lpae_s1({
    pgsize_bitmap: K4 | M2 | G1, ias: 48, oas: 48, page_size: 4096, linux: '6.12',
    flush: { tlb_flush_walk: (iova, size) => void t.invalidate_range(iova, iova + size - 1n), tlb_add_page: () => {} },
  });
  assert.equal(pt.map_pages(0x1000n, 0x5000n, K4, 1n, IOMMU_READ | IOMMU_WRITE).ret, 0);
  t.fill(pt.leaf_at(0x1000n)!); // a device access walked and cached it
  assert.equal(pt.unmap_pages(0x1000n, K4, 1n, newGather(true)), K4);
  assert.equal(pt.iova_to_phys(0x1000n), 0n);
  assert.equal(iotlb_translate(t.lookup(0x1234n)!, 0x1234n), 0x5234n); // still translates
  t.flush_all();
  assert.equal(t.lookup(0x1234n), undefined);
  // A torn-down table is invalidated through tlb_flush_walk at once.
  assert.equal(pt.map_pages(0x20_1000n, 0x1000n, K4, 1n, IOMMU_READ).ret, 0);
  t.fill(pt.leaf_at(0x20_1000n)!);
  assert.deepEqual(t.peek(0x20_1000n)!.perms, RO);
  assert.equal(pt.unmap_pages(0x20_0000n, M2, 1n, newGather(true)), M2);
  assert.equal(t.peek(0x20_1000n), undefined);
});

test('property: lookup, invalidate_range and flush_all agree with a naive list', () => {
  const sizes = [K4, M2, G1];
  const op = fc.oneof(
    fc.record({ kind: fc.constant('fill' as const), s: fc.nat(2), slot: fc.nat(4095), pa: fc.nat(1023) }),
    fc.record({ kind: fc.constant('inv' as const), a: fc.nat(0x1_0000_0000), len: fc.nat(0x4000_0000) }),
    fc.record({ kind: fc.constant('flush' as const) }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 60 }), fc.array(fc.nat(0xFFFF_FFFF), { minLength: 8, maxLength: 8 }), (ops, probes) => {
      const t = new Iotlb();
      let naive: IotlbEntry[] = [];
      for (const o of ops) {
        if (o.kind === 'fill') {
          const size = sizes[o.s]!;
          const iova = ((BigInt(o.slot) << 20n) | (BigInt(o.pa & 7) * K4)) & ~(size - 1n); // spread over 4G, some 4K offsets
          const x = e(iova, size, BigInt(o.pa) * size);
          t.fill(x);
          naive = naive.filter((y) => !(y.iova === iova && y.size === size)).concat([x]);
        } else if (o.kind === 'inv') {
          const [s, end] = [BigInt(o.a), BigInt(o.a) + BigInt(o.len)];
          const before = naive.length;
          naive = naive.filter((y) => y.iova + y.size - 1n < s || y.iova > end);
          assert.equal(t.invalidate_range(s, end), before - naive.length);
        } else {
          assert.equal(t.flush_all(), naive.length);
          naive = [];
        }
        const sorted = [...naive].sort((a, b) => (a.iova < b.iova ? -1 : a.iova > b.iova ? 1 : a.size < b.size ? -1 : 1));
        assert.deepEqual([...t], sorted);
        for (const p of probes) {
          const iova = BigInt(p);
          const cover = sorted.filter((y) => iova >= y.iova && iova < y.iova + y.size).sort((a, b) => (a.size < b.size ? -1 : 1));
          assert.deepEqual(t.peek(iova), cover[0]);
        }
      }
    }),
    { numRuns: 200, seed: 0x7b1 },
  );
});
