import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  ARM_LPAE_PTE_AP_RDONLY,
  alloc_io_pgtable_arm_lpae_s1,
  arm_lpae_geometry,
  type ArmLpaeIoPgtable,
  type ArmLpaeLeaf,
  type LinuxVersion,
} from './io-pgtable-arm';
import { IOMMU_CACHE, IOMMU_NOEXEC, IOMMU_READ, IOMMU_WRITE, newGather, type IotlbGather, type IoPgtableFlushOps } from './io-pgtable';

const K4 = 0x1000n;
const M2 = 0x20_0000n;
const G1 = 0x4000_0000n;
const RW = IOMMU_READ | IOMMU_WRITE;
const REF_BITMAP = K4 | M2 | G1;

interface FlushLog {
  walks: { iova: bigint; size: bigint; granule: bigint }[];
  pages: { iova: bigint; granule: bigint; queued: boolean }[];
}

/** Flush ops that log every call and widen the gather like iommu_iotlb_gather_add_range. */
function recorder(): { flush: IoPgtableFlushOps; log: FlushLog } {
  const log: FlushLog = { walks: [], pages: [] };
  const flush: IoPgtableFlushOps = {
    tlb_flush_walk: (iova, size, granule) => void log.walks.push({ iova, size, granule }),
    tlb_add_page: (gather, iova, granule) => {
      log.pages.push({ iova, granule, queued: gather.queued });
      if (iova < gather.start) gather.start = iova;
      if (iova + granule - 1n > gather.end) gather.end = iova + granule - 1n;
      gather.pgsize = granule;
    },
  };
  return { flush, log };
}

interface Rig {
  pt: ArmLpaeIoPgtable;
  log: FlushLog;
  warnings: string[];
  fail: { next: boolean[] };
}

function mk(linux: LinuxVersion = '6.12', over: Partial<{ pgsize_bitmap: bigint; ias: number; oas: number; page_size: number }> = {}): Rig {
  const { flush, log } = recorder();
  const warnings: string[] = [];
  const fail = { next: [] as boolean[] };
  const pt = alloc_io_pgtable_arm_lpae_s1({
    pgsize_bitmap: REF_BITMAP, ias: 48, oas: 48, page_size: 4096, ...over, linux, flush,
    fail_table_alloc: () => fail.next.shift() ?? false,
    warn: (_src, code) => void warnings.push(code),
  });
  return { pt, log, warnings, fail };
}

const ok = (r: { ret: number; mapped: bigint }, mapped: bigint): void => assert.deepEqual(r, { ret: 0, mapped });
const leafList = (pt: ArmLpaeIoPgtable): { iova: bigint; size: bigint; paddr: bigint; level: number }[] =>
  [...pt.leaves()].map((l) => ({ iova: l.iova, size: l.size, paddr: l.paddr, level: l.level }));

// ---- geometry (iommu.md §5.1) -------------------------------------------------------

test('geometry: REF is 4K|2M|1G, 4 levels from 0; ias 39 → 3 levels; ias 32 → a 4-entry pgd', () => {
  const ref = arm_lpae_geometry({ pgsize_bitmap: REF_BITMAP | 0x1_0000n, ias: 48, oas: 48, page_size: 4096 })!;
  assert.equal(ref.pgsize_bitmap, REF_BITMAP); // 64K dropped: not a 4K-granule size
  assert.deepEqual([ref.granule, ref.start_level, ref.pgd_bits], [K4, 0, 9]);
  const g39 = arm_lpae_geometry({ pgsize_bitmap: REF_BITMAP, ias: 39, oas: 48, page_size: 4096 })!;
  assert.deepEqual([g39.start_level, g39.pgd_bits], [1, 9]);
  const g32 = arm_lpae_geometry({ pgsize_bitmap: REF_BITMAP, ias: 32, oas: 48, page_size: 4096 })!;
  assert.deepEqual([g32.start_level, g32.pgd_bits], [1, 2]);
  assert.equal(mk('6.12', { ias: 32 }).pt.view.pgd_entries, 4);
});

test('geometry: granule follows PAGE_SIZE, else the largest smaller size, else the smallest larger', () => {
  const all = K4 | M2 | G1 | 0x4000n | 0x200_0000n | 0x1_0000n | 0x2000_0000n | (1n << 42n);
  const g16 = arm_lpae_geometry({ pgsize_bitmap: all, ias: 48, oas: 48, page_size: 16384 })!;
  assert.deepEqual([g16.granule, g16.pgsize_bitmap, g16.start_level, g16.pgd_bits], [0x4000n, 0x4000n | 0x200_0000n, 0, 1]);
  const g64 = arm_lpae_geometry({ pgsize_bitmap: all, ias: 52, oas: 52, page_size: 65536 })!;
  assert.deepEqual([g64.granule, g64.pgsize_bitmap, g64.ias, g64.oas], [0x1_0000n, 0x1_0000n | 0x2000_0000n | (1n << 42n), 52, 52]);
  const g64lo = arm_lpae_geometry({ pgsize_bitmap: all, ias: 48, oas: 48, page_size: 65536 })!;
  assert.equal(g64lo.pgsize_bitmap, 0x1_0000n | 0x2000_0000n); // 4T only when OAS > 48
  // PAGE_SIZE 64K not offered: the largest smaller size (16K) wins over 4K.
  assert.equal(arm_lpae_geometry({ pgsize_bitmap: K4 | 0x4000n, ias: 48, oas: 48, page_size: 65536 })!.granule, 0x4000n);
  // PAGE_SIZE 4K not offered: the smallest larger size.
  assert.equal(arm_lpae_geometry({ pgsize_bitmap: 0x1_0000n | 0x4000n, ias: 48, oas: 48, page_size: 4096 })!.granule, 0x4000n);
  // ias/oas are cut to 48 bits for 4K.
  const cut = arm_lpae_geometry({ pgsize_bitmap: REF_BITMAP, ias: 52, oas: 52, page_size: 4096 })!;
  assert.deepEqual([cut.ias, cut.oas], [48, 48]);
});

test('geometry: the kernel returns NULL (the model throws) without a granule or with an unencodable OAS', () => {
  assert.equal(arm_lpae_geometry({ pgsize_bitmap: M2, ias: 48, oas: 48, page_size: 4096 }), undefined);
  assert.equal(arm_lpae_geometry({ pgsize_bitmap: REF_BITMAP, ias: 48, oas: 39, page_size: 4096 }), undefined);
  assert.throws(() => mk('6.12', { pgsize_bitmap: M2 | G1 }), /no stage-1 LPAE table/);
});

// ---- §5.8 examples -----------------------------------------------------------------

test('S5.1: 4K READ at 0x1000 → 0x5000 builds three tables; read-only, unprivileged page', () => {
  const { pt, log } = mk();
  ok(pt.map_pages(0x1000n, 0x5000n, K4, 1n, IOMMU_READ), K4);
  assert.deepEqual([...pt.view.tables()], [
    { iova: 0n, level: 0, entries: 1 },
    { iova: 0n, level: 1, entries: 1 },
    { iova: 0n, level: 2, entries: 1 },
    { iova: 0n, level: 3, entries: 1 },
  ]);
  const leaf = pt.leaf_at(0x1234n)!;
  assert.deepEqual([leaf.iova, leaf.size, leaf.paddr, leaf.level, leaf.prot], [0x1000n, K4, 0x5000n, 3, IOMMU_READ]);
  // nG | AF | SH=outer | AP[2] read-only | AP[1] unprivileged | page type 3, output 0x5000.
  assert.equal(leaf.pte, 0x5000n | 0x800n | 0x400n | 0x200n | 0x80n | 0x40n | 0x3n);
  assert.deepEqual(leaf.perms, { read: true, write: false });
  assert.equal(pt.iova_to_phys(0x1234n), 0x5234n);
  assert.equal(pt.iova_to_phys(0x2000n), 0n);
  assert.deepEqual([pt.stats.tables, pt.stats.tables_allocated, pt.stats.leaves], [4, 4, 1]);
  assert.deepEqual(log, { walks: [], pages: [] }); // mapping invalidates nothing (§5.7)
});

/** S5.2: 2M READ|WRITE at 0x40000000 → 0x80000000. */
function s52(linux: LinuxVersion = '6.12'): Rig {
  const r = mk(linux);
  ok(r.pt.map_pages(0x4000_0000n, 0x8000_0000n, M2, 1n, RW), M2);
  return r;
}

test('S5.2: a 2M block is a level-2 leaf; iova_to_phys keeps the offset', () => {
  const { pt } = s52();
  assert.deepEqual(leafList(pt), [{ iova: 0x4000_0000n, size: M2, paddr: 0x8000_0000n, level: 2 }]);
  assert.equal(pt.leaf_at(0x4000_0000n)!.pte & 3n, 1n); // block type
  assert.deepEqual(pt.leaf_at(0x4000_0000n)!.perms, { read: true, write: true });
  assert.equal(pt.iova_to_phys(0x400F_F00Fn), 0x800F_F00Fn);
  assert.equal(pt.stats.tables, 3);
});

test('S5.3: 4K inside the 2M block → -EEXIST from the level-2 leaf; nothing changes', () => {
  const { pt, warnings } = s52();
  assert.deepEqual(pt.map_pages(0x4000_1000n, 0x1000n, K4, 1n, RW), { ret: -17, mapped: 0n });
  assert.deepEqual(warnings, ['WARN_ARM_LPAE_EEXIST']);
  assert.deepEqual(leafList(pt), [{ iova: 0x4000_0000n, size: M2, paddr: 0x8000_0000n, level: 2 }]);
  assert.equal(pt.stats.tables, 3);
});

test('S5.4: 1G over the 2M block replaces the level-1 table: 0, counted as an overlapping map', () => {
  const { pt, log } = s52();
  ok(pt.map_pages(0x4000_0000n, 0xC000_0000n, G1, 1n, RW), G1);
  assert.deepEqual(leafList(pt), [{ iova: 0x4000_0000n, size: G1, paddr: 0xC000_0000n, level: 1 }]);
  assert.equal(pt.iova_to_phys(0x400F_F00Fn), 0xC00F_F00Fn);
  assert.equal(pt.stats.overlapping_maps, 1);
  assert.deepEqual(pt.stats.last_overlapping_map, { iova: 0x4000_0000n, size: G1, bytes_dropped: M2 });
  // The torn-down table is invalidated at once; the map path has no gather.
  assert.deepEqual(log, { walks: [{ iova: 0x4000_0000n, size: G1, granule: K4 }], pages: [] });
  assert.deepEqual([pt.stats.tables, pt.stats.tables_freed, pt.stats.leaves], [2, 1, 1]);
});

test('S5.5 (6.12): 4K unmap in a 2M block splits it: 511 pages stay, one goes to the gather', () => {
  const { pt, log } = s52('6.12');
  const g = newGather();
  assert.equal(pt.unmap_pages(0x4000_1000n, K4, 1n, g), K4);
  const leaves = [...pt.leaves()];
  assert.equal(leaves.length, 511);
  assert.ok(leaves.every((l) => l.size === K4 && l.level === 3 && l.paddr - 0x8000_0000n === l.iova - 0x4000_0000n && l.prot === RW));
  assert.equal(pt.iova_to_phys(0x4000_1000n), 0n);
  assert.equal(pt.iova_to_phys(0x4000_0123n), 0x8000_0123n);
  assert.equal(pt.iova_to_phys(0x401F_FFFFn), 0x801F_FFFFn);
  assert.deepEqual(log.pages, [{ iova: 0x4000_1000n, granule: K4, queued: false }]);
  assert.deepEqual([g.start, g.end], [0x4000_1000n, 0x4000_1FFFn]);
  assert.deepEqual([pt.stats.block_splits, pt.stats.tables, pt.stats.leaves], [1, 4, 511]);
});

test('S5.5 / S4.5 (newest): a partial-block unmap returns 0 and warns once; the block stays', () => {
  const { pt, log, warnings } = s52('newest');
  assert.equal(pt.unmap_pages(0x4000_1000n, K4, 1n, newGather()), 0n);
  assert.equal(pt.unmap_pages(0x4010_0000n, K4, 4n, newGather()), 0n);
  assert.deepEqual(warnings, ['WARN_ARM_LPAE_PARTIAL_UNMAP']);
  assert.deepEqual([pt.stats.partial_unmaps_refused, pt.stats.partial_unmap_warned, pt.stats.block_splits], [2, true, 0]);
  assert.deepEqual(leafList(pt), [{ iova: 0x4000_0000n, size: M2, paddr: 0x8000_0000n, level: 2 }]);
  assert.deepEqual(log, { walks: [], pages: [] });
});

test('S5.6 and §5.4: WRITE alone is read+write on stage 1; READ alone is read-only', () => {
  const { pt } = mk();
  // DMA_TO_DEVICE → READ; DMA_FROM_DEVICE → WRITE; BIDIRECTIONAL → READ|WRITE (§3.2).
  ok(pt.map_pages(0x1000n, 0x1000n, K4, 1n, IOMMU_READ), K4);
  ok(pt.map_pages(0x2000n, 0x2000n, K4, 1n, IOMMU_WRITE), K4);
  ok(pt.map_pages(0x3000n, 0x3000n, K4, 1n, RW | IOMMU_CACHE | IOMMU_NOEXEC), K4);
  const [ro, wo, rw] = [pt.leaf_at(0x1000n)!, pt.leaf_at(0x2000n)!, pt.leaf_at(0x3000n)!];
  assert.deepEqual([ro.perms, wo.perms, rw.perms], [{ read: true, write: false }, { read: true, write: true }, { read: true, write: true }]);
  assert.equal(wo.pte & ARM_LPAE_PTE_AP_RDONLY, 0n);
  assert.equal(wo.prot, IOMMU_WRITE); // the raw prot is kept for checkers
  // CACHE: AttrIndx 1 and inner shareable; NOEXEC: XN.
  assert.equal(rw.pte, 0x3000n | (3n << 53n) | 0x800n | 0x400n | 0x300n | 0x40n | (1n << 2n) | 3n);
});

// ---- argument checks (§5.3 step 1, §5.5 step 1) -------------------------------------

test('map_pages: -EINVAL for prot without READ/WRITE (S4.7) or a bad pgsize; -ERANGE beyond ias/oas', () => {
  const { pt, warnings } = mk('6.12', { oas: 40 });
  assert.deepEqual(pt.map_pages(0x1000n, 0x1000n, K4, 1n, 0), { ret: -22, mapped: 0n });
  assert.deepEqual(pt.map_pages(0x1000n, 0x1000n, K4, 1n, IOMMU_CACHE), { ret: -22, mapped: 0n });
  assert.deepEqual(pt.map_pages(0x1000n, 0x1000n, 0x2000n, 1n, RW), { ret: -22, mapped: 0n });
  assert.deepEqual(pt.map_pages(0x1000n, 0x1000n, 0n, 1n, RW), { ret: -22, mapped: 0n });
  assert.deepEqual(pt.map_pages(1n << 48n, 0x1000n, K4, 1n, RW), { ret: -34, mapped: 0n });
  assert.deepEqual(pt.map_pages(0x1000n, 1n << 40n, K4, 1n, RW), { ret: -34, mapped: 0n });
  assert.deepEqual(pt.map_pages((1n << 48n) - K4, (1n << 40n) - K4, K4, 1n, RW).ret, 0);
  assert.deepEqual(warnings, ['WARN_ARM_LPAE_BAD_PGSIZE', 'WARN_ARM_LPAE_BAD_PGSIZE', 'WARN_ARM_LPAE_ERANGE', 'WARN_ARM_LPAE_ERANGE']);
  // Prot is checked after the range: the kernel's order.
  assert.equal(pt.map_pages(1n << 48n, 0n, K4, 1n, 0).ret, -34);
  assert.equal(pt.stats.leaves, 1);
});

test('map_pages: two sizes at once pass the bitmap check but match no level: -EINVAL at level 3', () => {
  const { pt, warnings } = mk();
  assert.equal(pt.map_pages(0n, 0n, K4 | M2, 1n, RW).ret, -22);
  assert.deepEqual(warnings, ['WARN_ARM_LPAE_MAP_LAST_LEVEL']);
  assert.equal(pt.stats.tables, 4); // the walk allocated on its way down
  assert.equal(pt.unmap_pages(0n, K4 | M2, 1n, newGather()), 0n);
});

test('unmap_pages: 0 for a bad pgsize, a zero count, an iova beyond ias, or an empty entry', () => {
  const { pt, warnings } = mk();
  ok(pt.map_pages(0x1000n, 0x1000n, K4, 1n, RW), K4);
  const g = newGather();
  assert.equal(pt.unmap_pages(0x1000n, 0x2000n, 1n, g), 0n);
  assert.equal(pt.unmap_pages(0x1000n, K4, 0n, g), 0n);
  assert.equal(pt.unmap_pages((1n << 48n) + 0x1000n, K4, 1n, g), 0n);
  assert.equal(pt.unmap_pages(0x2000n, K4, 1n, g), 0n);
  assert.equal(pt.unmap_pages(0x4000_0000n, K4, 1n, g), 0n); // empty at level 1
  assert.deepEqual(warnings, ['WARN_ARM_LPAE_BAD_PGSIZE', 'WARN_ARM_LPAE_BAD_PGSIZE', 'WARN_ARM_LPAE_ERANGE', 'WARN_ARM_LPAE_UNMAP_EMPTY', 'WARN_ARM_LPAE_UNMAP_EMPTY']);
  assert.equal(pt.iova_to_phys(0x1000n), 0x1000n);
});

test('-ENOMEM: a failed table allocation stops the walk; tables already installed stay', () => {
  const { pt, fail } = mk();
  fail.next = [false, true]; // level 1 allocates, level 2 fails
  assert.deepEqual(pt.map_pages(0x1000n, 0x1000n, K4, 1n, RW), { ret: -12, mapped: 0n });
  assert.deepEqual([pt.stats.tables, pt.stats.alloc_failures, pt.stats.leaves], [2, 1, 0]);
  ok(pt.map_pages(0x1000n, 0x1000n, K4, 1n, RW), K4);
  assert.equal(pt.stats.tables, 4);
});

test('6.12 split: allocation failure returns 0 and leaves the block whole', () => {
  const { pt, fail, log } = s52('6.12');
  fail.next = [true];
  assert.equal(pt.unmap_pages(0x4000_1000n, K4, 1n, newGather()), 0n);
  assert.deepEqual(leafList(pt), [{ iova: 0x4000_0000n, size: M2, paddr: 0x8000_0000n, level: 2 }]);
  assert.deepEqual(log.pages, []);
});

// ---- structure: one table per call, tables kept, teardown (§5.3, §5.5, §4.9) ---------

test('a call never crosses a table: map and unmap stop at the end of the level-3 table', () => {
  const { pt } = mk();
  ok(pt.map_pages(0x1F_E000n, 0x1000_0000n, K4, 4n, RW), 0x2000n);
  ok(pt.map_pages(0x20_0000n, 0x1000_2000n, K4, 2n, RW), 0x2000n);
  assert.equal(pt.iova_to_phys(0x20_1000n), 0x1000_3000n);
  assert.equal(pt.unmap_pages(0x1F_E000n, K4, 4n, newGather()), 0x2000n);
  assert.equal(pt.iova_to_phys(0x20_0000n), 0x1000_2000n);
});

test('tables are never freed when they become empty', () => {
  const { pt } = mk();
  ok(pt.map_pages(0x1000n, 0x1000n, K4, 1n, RW), K4);
  assert.equal(pt.unmap_pages(0x1000n, K4, 1n, newGather()), K4);
  assert.deepEqual([pt.stats.tables, pt.stats.leaves, [...pt.leaves()].length], [4, 0, 0]);
  // ...so a later 2M unmap over the empty table still "unmaps" 2M (the S4.6 shape).
  assert.equal(pt.unmap_pages(0n, M2, 1n, newGather()), M2);
  assert.equal(pt.stats.tables, 3);
});

/** The S4.1 page-table state: 4K × 511 at 0x1000, 2M at 0x200000, 4K at 0x400000 (identity). */
function s41(): Rig {
  const r = mk();
  ok(r.pt.map_pages(0x1000n, 0x1000n, K4, 511n, RW), 511n * K4);
  ok(r.pt.map_pages(0x20_0000n, 0x20_0000n, M2, 1n, RW), M2);
  ok(r.pt.map_pages(0x40_0000n, 0x40_0000n, K4, 1n, RW), K4);
  return r;
}

test('S4.3 at the format level: the caller-sized unmap calls return what iommu_unmap adds up', () => {
  {
    const { pt } = s41();
    assert.equal(pt.iova_to_phys(0x20_0123n), 0x20_0123n);
    assert.equal(pt.iova_to_phys(0n), 0n);
    const g = newGather();
    assert.equal(pt.unmap_pages(0x1000n, K4, 511n, g), 511n * K4);
    assert.equal(pt.unmap_pages(0x20_0000n, M2, 1n, g), M2);
    assert.equal(pt.unmap_pages(0x40_0000n, K4, 1n, g), K4);
    assert.deepEqual([...pt.leaves()], []);
  }
  {
    const { pt } = s41();
    assert.equal(pt.unmap_pages(0n, K4, 2n, newGather()), 0n); // level-3 entry 0 is empty
    assert.equal(pt.iova_to_phys(0x1000n), 0x1000n);
  }
  {
    const { pt, log } = s41();
    const g = newGather();
    assert.equal(pt.unmap_pages(0n, M2, 2n, g), 2n * M2); // the sub-table goes whole, then the block
    assert.deepEqual(log.walks, [{ iova: 0n, size: M2, granule: K4 }]);
    assert.deepEqual(log.pages, [{ iova: 0n, granule: M2, queued: false }, { iova: M2, granule: M2, queued: false }]);
    assert.deepEqual(leafList(pt), [{ iova: 0x40_0000n, size: K4, paddr: 0x40_0000n, level: 3 }]);
    assert.equal(pt.stats.table_teardowns, 1);
  }
});

test('S4.4 at the format level: -EEXIST for 4K × 3 over a mapped 0x5000; nothing new', () => {
  const { pt } = mk();
  ok(pt.map_pages(0x5000n, 0x9000n, K4, 1n, RW), K4);
  assert.deepEqual(pt.map_pages(0x4000n, 0x10_0000n, K4, 3n, RW), { ret: -17, mapped: 0n });
  assert.deepEqual(leafList(pt), [{ iova: 0x5000n, size: K4, paddr: 0x9000n, level: 3 }]);
});

test('S4.6 at the format level: 2M unmap over a table holding one 4K page returns 2M', () => {
  {
    const { pt, log } = mk();
    ok(pt.map_pages(0x20_0000n, 0x20_0000n, K4, 1n, RW), K4);
    assert.equal(pt.unmap_pages(0x20_0000n, M2, 1n, newGather()), M2);
    assert.deepEqual(log.walks, [{ iova: 0x20_0000n, size: M2, granule: K4 }]);
    assert.deepEqual([...pt.leaves()], []);
  }
  {
    const { pt } = mk();
    ok(pt.map_pages(0x20_0000n, 0x20_0000n, K4, 1n, RW), K4);
    ok(pt.map_pages(0x3F_F000n, 0x3F_F000n, K4, 1n, RW), K4);
    assert.equal(pt.unmap_pages(0x20_0000n, K4, 1n, newGather()), K4);
    assert.equal(pt.iova_to_phys(0x3F_F000n), 0x3F_F000n);
  }
});

test('kernel order: -EEXIST after a table was already replaced (arm_lpae_init_pte checks in order)', () => {
  const { pt } = mk();
  ok(pt.map_pages(0x1000n, 0x1000n, K4, 1n, RW), K4); // a table under 2M slot 0
  ok(pt.map_pages(M2, M2, M2, 1n, RW), M2); // a block in slot 1
  assert.deepEqual(pt.map_pages(0n, 0x1000_0000n, M2, 2n, RW), { ret: -17, mapped: 0n });
  assert.equal(pt.iova_to_phys(0x1000n), 0n); // torn down, nothing installed
  assert.equal(pt.iova_to_phys(M2), M2);
  assert.equal(pt.stats.overlapping_maps, 1);
});

test('queued gather: leaves are not recorded, torn-down tables are still flushed at once', () => {
  const { pt, log } = s41();
  const g = newGather(true);
  assert.equal(pt.unmap_pages(0n, M2, 3n, g), 3n * M2);
  assert.deepEqual(log.walks, [{ iova: 0n, size: M2, granule: K4 }, { iova: 2n * M2, size: M2, granule: K4 }]);
  assert.deepEqual(log.pages, []);
  assert.deepEqual([g.start, g.end, g.pgsize], [(1n << 64n) - 1n, 0n, 0n]);
});

// ---- 6.12 split, recursively; newest refusal (§5.5) ---------------------------------

/** A 1G block at 0x40000000 → 0x80000000. */
function g1(linux: LinuxVersion): Rig {
  const r = mk(linux);
  ok(r.pt.map_pages(0x4000_0000n, 0x8000_0000n, G1, 1n, IOMMU_READ), G1);
  return r;
}

test('6.12: 4K unmap in a 1G block → 511 × 2M blocks and a table of 511 pages', () => {
  const { pt, log } = g1('6.12');
  assert.equal(pt.unmap_pages(0x4020_1000n, K4, 1n, newGather()), K4);
  const leaves = [...pt.leaves()];
  assert.equal(leaves.filter((l) => l.size === M2 && l.level === 2).length, 511);
  assert.equal(leaves.filter((l) => l.size === K4 && l.level === 3).length, 511);
  assert.equal(leaves.length, 1022);
  assert.ok(leaves.every((l) => l.paddr - 0x8000_0000n === l.iova - 0x4000_0000n && l.perms.write === false && l.prot === IOMMU_READ));
  assert.equal(pt.iova_to_phys(0x4020_1000n), 0n);
  assert.equal(pt.iova_to_phys(0x4020_2345n), 0x8020_2345n);
  assert.equal(pt.iova_to_phys(0x7FFF_FFFFn), 0xBFFF_FFFFn);
  assert.equal(pt.leaf_at(0x4000_0000n)!.size, M2);
  assert.deepEqual(log.pages, [{ iova: 0x4020_1000n, granule: K4, queued: false }]);
  assert.deepEqual([pt.stats.block_splits, pt.stats.leaves, pt.stats.tables], [2, 1022, 4]);
});

test('6.12: 2M unmap in a 1G block leaves 511 × 2M; 4K × 3 in a 2M block removes 3', () => {
  {
    const { pt } = g1('6.12');
    assert.equal(pt.unmap_pages(0x4060_0000n, M2, 1n, newGather()), M2);
    assert.equal([...pt.leaves()].length, 511);
    assert.equal(pt.iova_to_phys(0x4060_0000n), 0n);
  }
  {
    const { pt } = s52('6.12');
    assert.equal(pt.unmap_pages(0x401F_E000n, K4, 5n, newGather()), 0x2000n); // capped at the table end
    assert.equal([...pt.leaves()].length, 510);
  }
});

test('6.12 kernel order: a split records its pieces even in a queued gather', () => {
  const { pt, log } = s52('6.12');
  assert.equal(pt.unmap_pages(0x4000_1000n, K4, 1n, newGather(true)), K4);
  assert.deepEqual(log.pages, [{ iova: 0x4000_1000n, granule: K4, queued: true }]);
});

test('newest: 4K or 2M unmaps inside a 1G block are refused', () => {
  const { pt } = g1('newest');
  assert.equal(pt.unmap_pages(0x4020_1000n, K4, 1n, newGather()), 0n);
  assert.equal(pt.unmap_pages(0x4060_0000n, M2, 1n, newGather()), 0n);
  assert.equal(pt.unmap_pages(0x4000_0000n, G1, 1n, newGather()), G1);
});

// ---- walk edge cases (§5.6) ----------------------------------------------------------

test('iova_to_phys does not check ias (the top index is masked, as in the kernel); leaf_at does', () => {
  const { pt } = mk();
  ok(pt.map_pages(0x1000n, 0x5000n, K4, 1n, RW), K4);
  assert.equal(pt.iova_to_phys((1n << 48n) | 0x1234n), 0x5234n);
  assert.equal(pt.leaf_at((1n << 48n) | 0x1234n), undefined);
  assert.equal(pt.leaf_at(0x1234n)!.paddr, 0x5000n);
});

test('a 4-entry pgd (ias 32): 1G × 8 is written past the reachable entries, as the kernel does', () => {
  const { pt } = mk('6.12', { ias: 32 });
  ok(pt.map_pages(0n, 0n, G1, 8n, RW), 8n * G1);
  assert.equal(pt.stats.pgd_overrun_entries, 4);
  assert.equal([...pt.leaves()].length, 4);
  assert.equal(pt.iova_to_phys(0xC000_1000n), 0xC000_1000n);
  assert.equal(pt.iova_to_phys(0x1_0000_1000n), 0x1000n); // aliases entry 0
  assert.equal(pt.unmap_pages(0n, G1, 8n, newGather()), 8n * G1);
  assert.equal(pt.stats.leaves, 0);
});

test('16K granule: 32M blocks and 16K pages', () => {
  const { pt } = mk('6.12', { pgsize_bitmap: 0x4000n | 0x200_0000n, page_size: 16384 });
  assert.deepEqual([pt.pgsize_bitmap, pt.view.start_level, pt.view.granule], [0x4000n | 0x200_0000n, 0, 0x4000n]);
  ok(pt.map_pages(0x200_0000n, 0x400_0000n, 0x200_0000n, 1n, RW), 0x200_0000n);
  ok(pt.map_pages(0x4000n, 0x8000n, 0x4000n, 2n, IOMMU_READ), 0x8000n);
  assert.equal(pt.iova_to_phys(0x2FF_FFFFn), 0x4FF_FFFFn);
  assert.equal(pt.iova_to_phys(0x7FFFn), 0xBFFFn);
  assert.equal(pt.unmap_pages(0x200_4000n, 0x4000n, 1n, newGather()), 0x4000n);
  assert.equal([...pt.leaves()].length, 2 + 2047);
});

test('performance: map + unmap of one 4K page costs well under a few microseconds', () => {
  const { pt } = mk();
  const g = newGather(true);
  ok(pt.map_pages(0x1000n, 0x1000n, K4, 1n, RW), K4); // tables exist from here on
  const N = 50_000;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    pt.map_pages(0x2000n, 0x9000n, K4, 1n, RW);
    pt.unmap_pages(0x2000n, K4, 1n, g);
  }
  const ns = Number(process.hrtime.bigint() - t0) / N;
  assert.ok(ns < 5000, `map+unmap took ${ns.toFixed(0)} ns`);
});

// ---- property: the format against a naive page map (I-P1..I-P5) ----------------------

/** A leaf in the naive model. */
interface NLeaf {
  iova: bigint;
  size: bigint;
  paddr: bigint;
  prot: number;
}

/**
 * The naive model: 4K IOVA page → the leaf covering it (so → phys page and perms), plus the
 * set of live tables ("level:base") — needed because the format legitimately acts on
 * tables: an unmap of a table-backed slot drops it whole, a block map replaces it.
 */
class Naive {
  readonly pages = new Map<bigint, NLeaf>();
  readonly leaves = new Map<bigint, NLeaf>();
  readonly tables = new Set<string>();
  /** Pages removed and tables torn down by the current op (for the TLB check). */
  removed: bigint[] = [];
  teardowns = 0;
  splits = 0;
  /** Which interesting paths this run took (so the property cannot pass vacuously). */
  readonly events = new Map<string, number>();
  constructor(readonly bitmap: bigint, readonly ias: number, readonly start: number, readonly linux: LinuxVersion) {}

  static blk = (lvl: number): bigint => 1n << BigInt(12 + 9 * (3 - lvl));
  static lvlOf = (size: bigint): number => 3 - (size.toString(2).length - 13) / 9;
  static idx = (iova: bigint, lvl: number): number => Number((iova >> BigInt(12 + 9 * (3 - lvl))) & 511n);

  leafAt(iova: bigint): NLeaf | undefined {
    return this.pages.get(iova >> 12n);
  }

  private add(l: NLeaf): void {
    this.leaves.set(l.iova, l);
    for (let p = l.iova >> 12n; p < (l.iova + l.size) >> 12n; p++) this.pages.set(p, l);
  }

  private drop(l: NLeaf): void {
    this.leaves.delete(l.iova);
    for (let p = l.iova >> 12n; p < (l.iova + l.size) >> 12n; p++) {
      this.pages.delete(p);
      this.removed.push(p);
    }
  }

  /** Drop everything under slot [base, base + size): its leaves and its tables. */
  private dropSlot(base: bigint, size: bigint, lvl: number): void {
    for (const l of [...this.leaves.values()]) if (l.iova >= base && l.iova < base + size) this.drop(l);
    for (const t of [...this.tables]) {
      const [tl, tb] = t.split(':');
      if (Number(tl) > lvl && BigInt(tb!) >= base && BigInt(tb!) < base + size) this.tables.delete(t);
    }
    this.teardowns++;
  }

  ev(name: string): void {
    this.events.set(name, (this.events.get(name) ?? 0) + 1);
  }

  private hasTable(lvl: number, base: bigint): boolean {
    return this.tables.has(`${lvl}:${base}`);
  }

  map(iova: bigint, paddr: bigint, size: bigint, count: bigint, prot: number, failAlloc: boolean): { ret: number; mapped: bigint } {
    if (!(prot & RW)) return { ret: -22, mapped: 0n };
    const leafLvl = Naive.lvlOf(size);
    for (let lvl = this.start; lvl < leafLvl; lvl++) {
      if (this.leafAt(iova)?.size === Naive.blk(lvl)) return this.ev('EEXIST-block'), { ret: -17, mapped: 0n };
      const base = iova & ~(Naive.blk(lvl) - 1n);
      if (!this.hasTable(lvl + 1, base)) {
        if (failAlloc) return this.ev('ENOMEM'), { ret: -12, mapped: 0n };
        this.tables.add(`${lvl + 1}:${base}`);
      }
    }
    const n = BigInt(Math.min(Number(count), 512 - Naive.idx(iova, leafLvl)));
    for (let j = 0n; j < n; j++) {
      const slot = iova + j * size;
      if (this.leafAt(slot)?.size === size) return this.ev('EEXIST-leaf'), { ret: -17, mapped: 0n };
      if (leafLvl < 3 && this.hasTable(leafLvl + 1, slot)) this.ev('overlapping-map'), this.dropSlot(slot, size, leafLvl);
    }
    this.ev(`map-${size}`);
    for (let j = 0n; j < n; j++) this.add({ iova: iova + j * size, size, paddr: paddr + j * size, prot });
    return { ret: 0, mapped: n * size };
  }

  unmap(iova: bigint, size: bigint, count: bigint, failAlloc: boolean): bigint {
    const leafLvl = Naive.lvlOf(size);
    for (let lvl = this.start; ; lvl++) {
      if (lvl === leafLvl) {
        const n = BigInt(Math.min(Number(count), 512 - Naive.idx(iova, lvl)));
        let j = 0n;
        for (; j < n; j++) {
          const slot = iova + j * size;
          const l = this.leafAt(slot);
          if (l?.size === size) this.drop(l);
          else if (lvl < 3 && this.hasTable(lvl + 1, slot)) this.ev('teardown'), this.dropSlot(slot, size, lvl);
          else break;
        }
        return j * size;
      }
      const l = this.leafAt(iova);
      if (l?.size === Naive.blk(lvl)) {
        if (this.linux === 'newest') return this.ev('refused'), 0n;
        // 6.12 split: the block becomes 512 leaves one level down; carry on with the walk.
        if (failAlloc) return this.ev('split-ENOMEM'), 0n;
        this.splits++;
        this.ev(`split-${l.size}`);
        this.leaves.delete(l.iova);
        this.tables.add(`${lvl + 1}:${l.iova}`);
        const sub = Naive.blk(lvl + 1);
        for (let i = 0n; i < 512n; i++) this.add({ iova: l.iova + i * sub, size: sub, paddr: l.paddr + i * sub, prot: l.prot });
        continue;
      }
      if (!this.hasTable(lvl + 1, iova & ~(Naive.blk(lvl) - 1n))) return 0n;
    }
  }
}

/** iommu_pgsize() (iommu.md §4.3), to choose pgsize and count the way the core does. */
function iommu_pgsize(bitmap: bigint, iova: bigint, paddr: bigint, size: bigint): { pgsize: bigint; count: bigint } {
  const fls = (x: bigint): number => x.toString(2).length - 1;
  const merge = iova | paddr;
  let sizes = bitmap & ((1n << BigInt(fls(size) + 1)) - 1n);
  if (merge) sizes &= ((merge & -merge) << 1n) - 1n;
  const pgsize = 1n << BigInt(fls(sizes));
  const above = bitmap & ~((pgsize << 1n) - 1n);
  let run = size;
  if (above) {
    const next = above & -above;
    if (!((iova ^ paddr) & (next - 1n))) {
      const offset = next - (merge & (next - 1n));
      if (offset + next <= size) run = offset;
    }
  }
  return { pgsize, count: run / pgsize };
}

interface Real {
  pt: ArmLpaeIoPgtable;
  log: FlushLog;
  fail: { next: boolean[] };
}

interface Env {
  bitmap: bigint;
  window: bigint; // IOVAs and phys addresses live in [base, base + window)
  base: bigint;
  /** Check iova_to_phys on every page when the model is at most this big, else sample. */
  fullCheckPages: number;
}

function compare(m: Naive, r: Real, env: Env, ctx: string): void {
  const want = [...m.leaves.values()].sort((a, b) => (a.iova < b.iova ? -1 : 1));
  const got = [...r.pt.leaves()];
  assert.deepEqual(got.map((l) => [l.iova, l.size, l.paddr, l.prot]), want.map((l) => [l.iova, l.size, l.paddr, l.prot]), `${ctx}: leaves`);
  for (const l of got) checkLeaf(l, ctx);
  assert.equal(r.pt.stats.leaves, want.length, `${ctx}: stats.leaves`);
  const tables = [...r.pt.view.tables()].filter((t) => t.level > r.pt.view.start_level).map((t) => `${t.level}:${t.iova}`).sort();
  assert.deepEqual(tables, [...m.tables].sort(), `${ctx}: tables`);
  assert.equal(r.pt.stats.tables, m.tables.size + 1, `${ctx}: stats.tables`);
  // I-P1 / I-C1: translation equals the naive page map.
  const probe = (page: bigint): void => {
    const iova = (page << 12n) + 0x7abn;
    const l = m.pages.get(page);
    assert.equal(r.pt.iova_to_phys(iova), l ? l.paddr + (iova - l.iova) : 0n, `${ctx}: iova_to_phys(0x${iova.toString(16)})`);
  };
  if (m.pages.size <= env.fullCheckPages) for (const p of m.pages.keys()) probe(p);
  else for (const l of want) for (const off of [0n, l.size / 2n, l.size - K4]) probe((l.iova + off) >> 12n);
  const stride = (env.window >> 12n) / 509n + 1n; // ~500 probes across the window, mapped or not
  for (let p = env.base >> 12n; p < (env.base + env.window) >> 12n; p += stride) probe(p);
}

/** I-P2, I-P4, I-P5 on one leaf. */
function checkLeaf(l: ArmLpaeLeaf, ctx: string): void {
  assert.equal(l.iova % l.size, 0n, `${ctx}: I-P2 iova alignment`);
  assert.equal(l.paddr % l.size, 0n, `${ctx}: I-P2 paddr alignment`);
  assert.ok(l.iova + l.size <= 1n << 48n && l.paddr + l.size <= 1n << 48n, `${ctx}: I-P4`);
  const ro = (l.prot & IOMMU_READ) !== 0 && (l.prot & IOMMU_WRITE) === 0;
  assert.equal((l.pte & ARM_LPAE_PTE_AP_RDONLY) !== 0n, ro, `${ctx}: I-P5`);
  assert.deepEqual(l.perms, { read: true, write: !ro }, `${ctx}: I-P5 perms`);
}

/** Every page an op removed is covered by a walk flush, or (strict gather) by a recorded page. */
function checkTlb(m: Naive, r: Real, queued: boolean, ctx: string): void {
  assert.equal(r.log.walks.length, m.teardowns, `${ctx}: one walk flush per torn-down table`);
  if (queued) {
    // Lazy: the flush queue's flush-all covers leaves; only a 6.12 split still records.
    if (m.splits === 0) assert.equal(r.log.pages.length, 0, `${ctx}: queued gather records nothing`);
    return;
  }
  const covered = (p: bigint): boolean =>
    r.log.walks.some((w) => p << 12n >= w.iova && p << 12n < w.iova + w.size) ||
    r.log.pages.some((g) => p << 12n >= g.iova && p << 12n < g.iova + g.granule);
  for (const p of m.removed) assert.ok(covered(p), `${ctx}: page 0x${(p << 12n).toString(16)} removed without invalidation`);
}

type Cmd = fc.Command<Naive, Real>;

function begin(m: Naive, r: Real, failAlloc: boolean): void {
  m.removed = [];
  m.teardowns = 0;
  m.splits = 0;
  r.log.walks.length = 0;
  r.log.pages.length = 0;
  r.fail.next = failAlloc ? Array<boolean>(8).fill(true) : [];
}

/** One map_pages call, checked against the naive prediction. */
function mapOne(m: Naive, r: Real, iova: bigint, paddr: bigint, pgsize: bigint, count: bigint, prot: number, fail: boolean, ctx: string): { ret: number; mapped: bigint } {
  r.fail.next = fail ? Array<boolean>(8).fill(true) : [];
  const want = m.map(iova, paddr, pgsize, count, prot, fail);
  const got = r.pt.map_pages(iova, paddr, pgsize, count, prot);
  assert.deepEqual(got, want, `${ctx}: map_pages(0x${iova.toString(16)}, 0x${paddr.toString(16)}, 0x${pgsize.toString(16)}, ${count})`);
  return got;
}

function unmapOne(m: Naive, r: Real, iova: bigint, pgsize: bigint, count: bigint, g: IotlbGather, fail: boolean, ctx: string): bigint {
  r.fail.next = fail ? Array<boolean>(8).fill(true) : [];
  const want = m.unmap(iova, pgsize, count, fail);
  const got = r.pt.unmap_pages(iova, pgsize, count, g);
  assert.equal(got, want, `${ctx}: unmap_pages(0x${iova.toString(16)}, 0x${pgsize.toString(16)}, ${count})`);
  return got;
}

/** The iommu_map loop (§4.4 step 4) without the rollback, which is the core's business. */
class IommuMapCmd implements Cmd {
  constructor(readonly env: Env, readonly iova: bigint, readonly paddr: bigint, readonly size: bigint, readonly prot: number, readonly fail: boolean) {}
  check = (): boolean => true;
  run(m: Naive, r: Real): void {
    begin(m, r, this.fail);
    const ctx = this.toString();
    let [iova, paddr, size] = [this.iova, this.paddr, this.size];
    while (size) {
      const { pgsize, count } = iommu_pgsize(this.env.bitmap, iova, paddr, size);
      const got = mapOne(m, r, iova, paddr, pgsize, count, this.prot, this.fail, ctx);
      if (got.ret) break;
      [iova, paddr, size] = [iova + got.mapped, paddr + got.mapped, size - got.mapped];
    }
    checkTlb(m, r, true, ctx);
    compare(m, r, this.env, ctx);
  }
  toString = (): string => `iommu_map(0x${this.iova.toString(16)}, 0x${this.paddr.toString(16)}, 0x${this.size.toString(16)}, prot ${this.prot}${this.fail ? ', fail' : ''})`;
}

/** The __iommu_unmap loop (§4.5 step 3). */
class IommuUnmapCmd implements Cmd {
  constructor(readonly env: Env, readonly iova: bigint, readonly size: bigint, readonly queued: boolean, readonly fail: boolean) {}
  check = (): boolean => true;
  run(m: Naive, r: Real): void {
    begin(m, r, this.fail);
    const ctx = this.toString();
    const g = newGather(this.queued);
    let done = 0n;
    while (done < this.size) {
      const { pgsize, count } = iommu_pgsize(this.env.bitmap, this.iova + done, this.iova + done, this.size - done);
      const got = unmapOne(m, r, this.iova + done, pgsize, count, g, this.fail, ctx);
      if (!got) break;
      done += got;
    }
    checkTlb(m, r, this.queued, ctx);
    compare(m, r, this.env, ctx);
  }
  toString = (): string => `iommu_unmap(0x${this.iova.toString(16)}, 0x${this.size.toString(16)}${this.queued ? ', queued' : ''}${this.fail ? ', fail' : ''})`;
}

/** A direct map_pages or unmap_pages with any supported size (aligned), as a careless caller might. */
class DirectCmd implements Cmd {
  constructor(readonly env: Env, readonly unmap: boolean, readonly iova: bigint, readonly paddr: bigint, readonly pgsize: bigint, readonly count: bigint, readonly prot: number, readonly fail: boolean) {}
  check = (): boolean => true;
  run(m: Naive, r: Real): void {
    begin(m, r, this.fail);
    const ctx = this.toString();
    const iova = this.iova & ~(this.pgsize - 1n);
    if (this.unmap) unmapOne(m, r, iova, this.pgsize, this.count, newGather(), this.fail, ctx);
    else mapOne(m, r, iova, this.paddr & ~(this.pgsize - 1n), this.pgsize, this.count, this.prot, this.fail, ctx);
    checkTlb(m, r, this.unmap ? false : true, ctx);
    compare(m, r, this.env, ctx);
  }
  toString = (): string => `${this.unmap ? 'unmap_pages' : 'map_pages'}(0x${this.iova.toString(16)}, 0x${this.pgsize.toString(16)} × ${this.count}${this.fail ? ', fail' : ''})`;
}

function commands(env: Env, maxPages: number): fc.Arbitrary<Iterable<Cmd>> {
  const sizes = [...Array(64).keys()].map((b) => 1n << BigInt(b)).filter((s) => env.bitmap & s);
  const big = sizes[sizes.length - 1]!;
  const windowPages = Number(env.window >> 12n);
  // Addresses at page, 2M or biggest-block alignment, so blocks and collisions both happen.
  const addr = fc.oneof(
    fc.nat(windowPages - 1).map((p) => env.base + (BigInt(p) << 12n)),
    fc.nat(Number(env.window / M2) - 1).map((s) => env.base + BigInt(s) * M2),
    fc.nat(Number(env.window / big) - 1).map((s) => env.base + BigInt(s) * big),
  );
  const len = fc.oneof(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: maxPages })).map((n) => BigInt(n) << 12n);
  const prot = fc.constantFrom(IOMMU_READ, IOMMU_WRITE, RW, RW | IOMMU_CACHE, 0);
  const fail = fc.nat(9).map((n) => n === 0); // one op in ten runs out of table pages
  const end = env.base + env.window;
  const clip = (iova: bigint, size: bigint): bigint => (iova + size > end ? end - iova : size);
  // Same offset within the biggest block as the IOVA, so the core's loop can pick blocks.
  const like = (i: bigint, p: bigint): bigint => p - (p & (big - 1n)) + (i & (big - 1n));
  return fc.commands(
    [
      fc.tuple(addr, addr, len, prot, fail).map(([i, p, s, pr, f]) => new IommuMapCmd(env, i, like(i, p), clip(i, s), pr, f)),
      fc.tuple(addr, addr, len, prot, fail).map(([i, p, s, pr, f]) => new IommuMapCmd(env, i, p, clip(i, s), pr, f)),
      fc.tuple(addr, len, fc.boolean(), fail).map(([i, s, q, f]) => new IommuUnmapCmd(env, i, clip(i, s), q, f)),
      fc.tuple(fc.boolean(), addr, addr, fc.constantFrom(...sizes), fc.integer({ min: 1, max: 600 }), prot, fail).map(([u, i, p, ps, c, pr, f]) => {
        const at = i & ~(ps - 1n);
        const count = BigInt(c) * ps > end - at ? (end - at) / ps : BigInt(c); // keep the naive model small
        return new DirectCmd(env, u, at, p, ps, count, pr, f);
      }),
    ],
    { maxCommands: 40, size: 'max' },
  );
}

function runProperty(env: Env, ias: number, linux: LinuxVersion, numRuns: number, maxPages: number, expect: string[]): void {
  const seen = new Map<string, number>();
  fc.assert(
    fc.property(commands(env, maxPages), (cmds) => {
      const rig = mk(linux, { pgsize_bitmap: env.bitmap, ias });
      const m = new Naive(rig.pt.pgsize_bitmap, ias, rig.pt.view.start_level, linux);
      fc.modelRun(() => ({ model: m, real: { pt: rig.pt, log: rig.log, fail: rig.fail } }), cmds);
      for (const [k, v] of m.events) seen.set(k, (seen.get(k) ?? 0) + v);
    }),
    { numRuns, seed: 0x5e12, verbose: 1 },
  );
  const missing = expect.filter((e) => !seen.has(e));
  assert.deepEqual(missing, [], `paths never taken: ${missing.join(', ')}; seen ${JSON.stringify([...seen])}`);
}

test('property (6.12, 4K|2M): map/unmap sequences keep leaves, tables and iova_to_phys equal to the naive page map', () => {
  runProperty({ bitmap: K4 | M2, base: 0x3F00_0000n, window: 0x200_0000n, fullCheckPages: 20_000 }, 32, '6.12', 120, 1100, [
    'map-4096', 'map-2097152', 'EEXIST-block', 'EEXIST-leaf', 'ENOMEM', 'overlapping-map', 'teardown', 'split-2097152', 'split-ENOMEM',
  ]);
});

test('property (newest, 4K|2M): the same, with partial-block unmaps refused', () => {
  runProperty({ bitmap: K4 | M2, base: 0x3F00_0000n, window: 0x200_0000n, fullCheckPages: 20_000 }, 32, 'newest', 60, 1100, ['map-2097152', 'teardown', 'refused']);
});

test('property (6.12, 4K|2M|1G): recursive splits and 1G blocks over a 4G window', () => {
  runProperty({ bitmap: REF_BITMAP, base: 0n, window: 4n * G1, fullCheckPages: 4096 }, 39, '6.12', 12, 1100, ['map-1073741824', 'split-1073741824', 'split-2097152']);
});
