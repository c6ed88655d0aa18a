/**
 * IOMMU core (iommu.md §4): iommu_pgsize, map/unmap with unwinding, gather/sync/flush-all,
 * iommu_map_sg, iova_to_phys, the device-side translate, the §4.9 examples against the real LPAE
 * table, and I-C1..I-C5 after random sequences against a naive page map.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import BTree from 'sorted-btree';
import { IOMMU_READ, IOMMU_WRITE, newGather } from './io-pgtable';
import type { IoPgtableFlushOps, IoPgtableOps, IotlbGather, MapPagesResult, PgtableLeaf } from './io-pgtable';
import { alloc_io_pgtable_arm_lpae_s1 } from './io-pgtable-arm';
import {
  EEXIST,
  EINVAL,
  ENODEV,
  ENOMEM,
  ERANGE,
  IommuDomain,
  WARN_IOMMU_NO_PGTABLE,
  WARN_IOMMU_UNALIGNED_MAP,
  WARN_IOMMU_UNALIGNED_UNMAP,
  iommu_flush_iotlb_all,
  iommu_iotlb_gather_add_page,
  iommu_iotlb_sync,
  iommu_iova_to_phys,
  iommu_map,
  iommu_map_nosync,
  iommu_map_sg,
  iommu_pgsize,
  iommu_sync_map,
  iommu_unmap,
  iommu_unmap_fast,
  s1_leaf_perms,
} from './iommu';
import type { IommuDomainConfig, IommuLinux, PgsizeChoice } from './iommu';
import { WarnSink } from '../warn';

const SZ_4K = 0x1000n;
const SZ_2M = 0x200000n;
const SZ_1G = 0x40000000n;
const REF_BITMAP = SZ_4K | SZ_2M | SZ_1G;
const RW = IOMMU_READ | IOMMU_WRITE;
const U64_MAX = (1n << 64n) - 1n;
const cmp = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);

type PgtableFactory = (tlb: IoPgtableFlushOps) => IoPgtableOps;

/** The REF page table (iommu.md §1.1): LPAE stage 1, 4K granule, ias/oas 48. */
const lpae =
  (linux: IommuLinux, warn?: WarnSink): PgtableFactory =>
  (flush) =>
    alloc_io_pgtable_arm_lpae_s1({ pgsize_bitmap: REF_BITMAP, ias: 48, oas: 48, page_size: 4096, linux, flush, ...(warn ? { warn: (s, c, m) => warn.warn(s, c, m) } : {}) });

/**
 * A small fake format: leaves in an ordered tree, no levels. map_pages installs page by page and
 * stops with -EEXIST at the first overlap (so a failure can report bytes mapped), or -ENOMEM once
 * `budget` bytes have been mapped in total; unmap_pages removes exact leaves of the asked size only.
 */
class FakePgtable implements IoPgtableOps {
  readonly ias = 48;
  readonly oas = 48;
  private readonly tree = new BTree<bigint, PgtableLeaf>(undefined, cmp);
  constructor(
    private readonly flush: IoPgtableFlushOps,
    readonly pgsize_bitmap: bigint = REF_BITMAP,
    private budget: bigint = U64_MAX,
  ) {}

  map_pages(iova: bigint, paddr: bigint, pgsize: bigint, pgcount: bigint, prot: number): MapPagesResult {
    if ((pgsize & this.pgsize_bitmap) !== pgsize || (prot & RW) === 0) return { ret: -EINVAL, mapped: 0n };
    if (iova >> 48n !== 0n || paddr >> 48n !== 0n) return { ret: -ERANGE, mapped: 0n };
    let mapped = 0n;
    for (let i = 0n; i < pgcount; i++) {
      const a = iova + i * pgsize;
      if (this.overlaps(a, pgsize)) return { ret: -EEXIST, mapped };
      if (this.budget < pgsize) return { ret: -ENOMEM, mapped };
      this.budget -= pgsize;
      this.tree.set(a, { iova: a, size: pgsize, paddr: paddr + i * pgsize, prot, level: 3 });
      mapped += pgsize;
    }
    return { ret: 0, mapped };
  }

  unmap_pages(iova: bigint, pgsize: bigint, pgcount: bigint, gather: IotlbGather): bigint {
    let i = 0n;
    for (; i < pgcount; i++) {
      const a = iova + i * pgsize;
      const leaf = this.tree.get(a);
      if (!leaf || leaf.size !== pgsize) break;
      this.tree.delete(a);
      if (!gather.queued) this.flush.tlb_add_page(gather, a, pgsize);
    }
    return i * pgsize;
  }

  iova_to_phys(iova: bigint): bigint {
    const l = this.leaf_at(iova);
    return l ? l.paddr + (iova - l.iova) : 0n;
  }

  leaf_at(iova: bigint): PgtableLeaf | undefined {
    const p = this.tree.getPairOrNextLower(iova);
    return p && p[1].iova + p[1].size > iova ? p[1] : undefined;
  }

  leaves(): Iterable<PgtableLeaf> {
    return this.tree.values();
  }

  private overlaps(iova: bigint, size: bigint): boolean {
    // Leaves never overlap, so only the last one starting at or below the end can reach back to iova.
    const p = this.tree.getPairOrNextLower(iova + size - 1n);
    return p !== undefined && p[1].iova + p[1].size > iova;
  }
}

interface MapCall {
  readonly iova: bigint;
  readonly paddr: bigint;
  readonly pgsize: bigint;
  readonly count: bigint;
  readonly ret: number;
  readonly mapped: bigint;
}

/** Wraps a factory so every map_pages / unmap_pages call is logged (I-C5 and exact chunk checks). */
function recording(factory: PgtableFactory, maps: MapCall[], unmaps: PgsizeChoice[]): PgtableFactory {
  return (flush) => {
    const inner = factory(flush);
    return {
      pgsize_bitmap: inner.pgsize_bitmap,
      ias: inner.ias,
      oas: inner.oas,
      map_pages(iova, paddr, pgsize, count, prot) {
        const r = inner.map_pages(iova, paddr, pgsize, count, prot);
        maps.push({ iova, paddr, pgsize, count, ret: r.ret, mapped: r.mapped });
        return r;
      },
      unmap_pages(iova, pgsize, count, gather) {
        unmaps.push({ pgsize, count });
        return inner.unmap_pages(iova, pgsize, count, gather);
      },
      iova_to_phys: (iova) => inner.iova_to_phys(iova),
      leaf_at: (iova) => inner.leaf_at(iova),
      leaves: () => inner.leaves(),
    };
  };
}

const refDomain = (linux: IommuLinux = '6.12', extra: Partial<IommuDomainConfig> = {}): IommuDomain =>
  new IommuDomain({ type: 'DMA', linux, pgtable: lpae(linux), ...extra });
const fakeDomain = (extra: Partial<IommuDomainConfig> = {}, budget?: bigint): IommuDomain =>
  new IommuDomain({ type: 'DMA', pgtable: (f) => new FakePgtable(f, REF_BITMAP, budget), ...extra });

/** iommu_pgsize called the way __iommu_map calls it, until the size is used up. */
function split(iova: bigint, paddr: bigint, size: bigint, bitmap = REF_BITMAP): [bigint, bigint][] {
  const out: [bigint, bigint][] = [];
  while (size > 0n) {
    const { pgsize, count } = iommu_pgsize({ pgsize_bitmap: bitmap }, iova, paddr, size);
    out.push([pgsize, count]);
    const n = pgsize * count;
    iova += n;
    paddr += n;
    size -= n;
  }
  return out;
}

const pairs = (d: IommuDomain): [bigint, bigint][] => d.stats.last_map_pages.map((c) => [c.pgsize, c.count]);
const phys = (d: IommuDomain, iova: bigint): bigint => iommu_iova_to_phys(d, iova);
const leafCount = (d: IommuDomain): number => [...(d.pgtbl?.leaves() ?? [])].length;

describe('iommu_pgsize (iommu.md §4.3)', () => {
  test('0x1000/0x1000/0x400000: 4K × 511, then 2M × 1, then 4K × 1', () => {
    assert.deepEqual(split(0x1000n, 0x1000n, 0x400000n), [
      [SZ_4K, 511n],
      [SZ_2M, 1n],
      [SZ_4K, 1n],
    ]);
    // Each call on its own, as the worked example lists them.
    assert.deepEqual(iommu_pgsize({ pgsize_bitmap: REF_BITMAP }, 0x200000n, 0x200000n, 0x201000n), { pgsize: SZ_2M, count: 1n });
    assert.deepEqual(iommu_pgsize({ pgsize_bitmap: REF_BITMAP }, 0x400000n, 0x400000n, 0x1000n), { pgsize: SZ_4K, count: 1n });
  });

  test('the 1G example: 1G × 1, then 2M × 1, then 4K × 1', () => {
    assert.deepEqual(split(0x40000000n, 0x80000000n, 0x40201000n), [
      [SZ_1G, 1n],
      [SZ_2M, 1n],
      [SZ_4K, 1n],
    ]);
  });

  test('addresses at different offsets within 2M: 4K × 1024, never a block', () => {
    assert.deepEqual(split(0x200000n, 0x201000n, 0x400000n), [[SZ_4K, 1024n]]);
  });

  test('no early stop unless a whole larger page fits after the boundary', () => {
    // 0x1000 + 0x200000 would need 0x3ff000 bytes; with 0x3fe000 the run is all 4K.
    assert.deepEqual(split(0x1000n, 0x1000n, 0x3fe000n), [[SZ_4K, 0x3fen]]);
    // iova|paddr = 0 takes the size alone into account.
    assert.deepEqual(iommu_pgsize({ pgsize_bitmap: REF_BITMAP }, 0n, 0n, 0x80000000n), { pgsize: SZ_1G, count: 2n });
    // No larger size in the bitmap: count = size / pgsize.
    assert.deepEqual(iommu_pgsize({ pgsize_bitmap: SZ_4K }, 0x1000n, 0x1000n, 0x400000n), { pgsize: SZ_4K, count: 0x400n });
  });

  test('no candidate size is a BUG', () => {
    assert.throws(() => iommu_pgsize({ pgsize_bitmap: REF_BITMAP }, 0x800n, 0x800n, 0x1000n), /BUG/);
  });
});

describe('iommu.md §4.9 examples on the REF domain (real LPAE table)', () => {
  test('S4.1: three map_pages calls, translations as stated', () => {
    for (const linux of ['6.12', 'newest'] as const) {
      const d = refDomain(linux);
      assert.equal(iommu_map(d, 0x1000n, 0x1000n, 0x400000n, RW), 0);
      assert.equal(d.stats.map_pages, 3);
      assert.deepEqual(pairs(d), [
        [SZ_4K, 511n],
        [SZ_2M, 1n],
        [SZ_4K, 1n],
      ]);
      assert.equal(phys(d, 0x200123n), 0x200123n);
      assert.equal(phys(d, 0x0n), 0n);
      assert.equal(d.stats.iotlb_sync, 0); // nothing unwound, and SMMUv3 has no iotlb_sync_map
      assert.equal(d.stats.iotlb_sync_map, 0);
    }
  });

  test('S4.2: unaligned iova is -EINVAL and maps nothing', () => {
    const warn = new WarnSink();
    const d = refDomain('6.12', { warn });
    assert.equal(iommu_map(d, 0x1800n, 0x1000n, 0x1000n, RW), -EINVAL);
    assert.equal(iommu_map(d, 0x1000n, 0x1800n, 0x1000n, RW), -EINVAL);
    assert.equal(iommu_map(d, 0x1000n, 0x1000n, 0x1800n, RW), -EINVAL);
    assert.equal(d.stats.map_pages, 0);
    assert.equal(leafCount(d), 0);
    assert.deepEqual(
      warn.drain().map((w) => w.code),
      [WARN_IOMMU_UNALIGNED_MAP, WARN_IOMMU_UNALIGNED_MAP, WARN_IOMMU_UNALIGNED_MAP],
    );
  });

  const s41 = (linux: IommuLinux, maps: MapCall[] = [], unmaps: PgsizeChoice[] = []): IommuDomain => {
    const d = new IommuDomain({ type: 'DMA', linux, pgtable: recording(lpae(linux), maps, unmaps) });
    assert.equal(iommu_map(d, 0x1000n, 0x1000n, 0x400000n, RW), 0);
    return d;
  };

  test('S4.3a: unmap(0x1000, 0x400000) = 0x400000 in 4K × 511, 2M × 1, 4K × 1', () => {
    const unmaps: PgsizeChoice[] = [];
    const d = s41('6.12', [], unmaps);
    assert.equal(iommu_unmap(d, 0x1000n, 0x400000n), 0x400000n);
    assert.deepEqual(
      unmaps.map((c) => [c.pgsize, c.count]),
      [
        [SZ_4K, 511n],
        [SZ_2M, 1n],
        [SZ_4K, 1n],
      ],
    );
    assert.equal(leafCount(d), 0);
  });

  test('S4.3b: unmap(0x0, 0x2000) = 0, 0x1000 stays mapped', () => {
    const d = s41('6.12');
    assert.equal(iommu_unmap(d, 0x0n, 0x2000n), 0n);
    assert.equal(phys(d, 0x1000n), 0x1000n);
  });

  test('S4.3c: unmap(0x0, 0x400000) = 0x400000: the table is dropped whole, the 2M block cleared, 0x400000 stays', () => {
    for (const linux of ['6.12', 'newest'] as const) {
      const unmaps: PgsizeChoice[] = [];
      const d = s41(linux, [], unmaps);
      assert.equal(iommu_unmap(d, 0x0n, 0x400000n), 0x400000n);
      assert.deepEqual(
        unmaps.map((c) => [c.pgsize, c.count]),
        [[SZ_2M, 2n]],
      );
      for (const a of [0x1000n, 0x1ff000n, 0x200000n, 0x3ff000n]) assert.equal(phys(d, a), 0n);
      assert.equal(phys(d, 0x400000n), 0x400000n);
      assert.equal(d.stats.tlb_flush_walk, 1);
    }
  });

  test('S4.4: an overlapping map is -EEXIST, adds nothing, keeps the old page', () => {
    const d = refDomain();
    const P = 0x80000000n;
    assert.equal(iommu_map(d, 0x5000n, 0x9000n, SZ_4K, RW), 0);
    assert.equal(iommu_map(d, 0x4000n, P, 0x3000n, RW), -EEXIST);
    assert.equal(phys(d, 0x4000n), 0n);
    assert.equal(phys(d, 0x6000n), 0n);
    assert.equal(phys(d, 0x5000n), 0x9000n);
    assert.equal(leafCount(d), 1);
  });

  test('S4.5 (6.12): a 4K unmap inside a 2M block splits it and returns 0x1000', () => {
    const d = refDomain('6.12');
    assert.equal(iommu_map(d, 0x200000n, 0x40000000n, SZ_2M, RW), 0);
    assert.equal(iommu_unmap(d, 0x201000n, 0x1000n), 0x1000n);
    assert.equal(phys(d, 0x201000n), 0n);
    assert.equal(phys(d, 0x200000n), 0x40000000n);
    assert.equal(phys(d, 0x202345n), 0x40002345n);
    assert.equal(phys(d, 0x3ff000n), 0x401ff000n);
    assert.equal(leafCount(d), 511);
  });

  test('S4.5 (newest): the partial unmap is refused with 0 and a one-time warning; the block stays', () => {
    const warn = new WarnSink();
    const d = new IommuDomain({ type: 'DMA', linux: 'newest', pgtable: lpae('newest', warn) });
    assert.equal(iommu_map(d, 0x200000n, 0x40000000n, SZ_2M, RW), 0);
    assert.equal(iommu_unmap(d, 0x201000n, 0x1000n), 0n);
    assert.equal(phys(d, 0x201000n), 0x40001000n);
    assert.equal(leafCount(d), 1);
    assert.ok(warn.drain().some((w) => /partial large IOPTE/.test(w.message)));
    // The gather stayed empty, so newest does not reach the driver's iotlb_sync.
    assert.equal(d.stats.iotlb_sync, 0);
  });

  test('S4.6: a 2M unmap over a table drops it whole; a 4K unmap leaves its neighbours', () => {
    const d = refDomain();
    assert.equal(iommu_map(d, 0x200000n, 0x200000n, SZ_4K, RW), 0);
    assert.equal(iommu_unmap(d, 0x200000n, 0x200000n), 0x200000n);
    assert.equal(leafCount(d), 0);
    assert.equal(iommu_map(d, 0x200000n, 0x200000n, SZ_4K, RW), 0);
    assert.equal(iommu_map(d, 0x3ff000n, 0x3ff000n, SZ_4K, RW), 0);
    assert.equal(iommu_unmap(d, 0x200000n, 0x1000n), 0x1000n);
    assert.equal(phys(d, 0x3ff000n), 0x3ff000n);
    assert.equal(phys(d, 0x200000n), 0n);
  });

  test('S4.7: prot without READ or WRITE is -EINVAL from the page table', () => {
    const d = refDomain();
    assert.equal(iommu_map(d, 0x1000n, 0x1000n, SZ_4K, 0), -EINVAL);
    assert.equal(d.stats.map_pages, 1);
    assert.equal(leafCount(d), 0);
  });
});

describe('errors and domain types', () => {
  test('BLOCKED and IDENTITY: map -EINVAL, unmap 0, iova_to_phys 0 / iova, translate faults / is 1:1', () => {
    const blocked = new IommuDomain({ type: 'BLOCKED' });
    const ident = new IommuDomain({ type: 'IDENTITY' });
    for (const d of [blocked, ident]) {
      assert.equal(iommu_map(d, 0x1000n, 0x1000n, SZ_4K, RW), -EINVAL);
      assert.equal(iommu_unmap(d, 0x1000n, SZ_4K), 0n);
      iommu_flush_iotlb_all(d);
      assert.equal(d.stats.iotlb_sync, 0); // no driver op for these domains
      assert.equal(d.stats.flush_iotlb_all, 0);
      assert.equal(d.iotlb, undefined);
    }
    assert.equal(phys(blocked, 0x1234n), 0n);
    assert.equal(phys(ident, 0x1234n), 0x1234n);
    assert.deepEqual(blocked.translate(0x1234n, false), { fault: true });
    assert.deepEqual(ident.translate(0x1234n, true), { phys: 0x1234n });
  });

  test('-ENODEV without a page table or (6.12) with an empty bitmap; newest says -EINVAL for the bitmap', () => {
    const warn = new WarnSink();
    const nopt = new IommuDomain({ type: 'UNMANAGED', warn });
    assert.equal(iommu_map(nopt, 0x1000n, 0x1000n, SZ_4K, RW), -ENODEV);
    assert.equal(iommu_unmap(nopt, 0x1000n, SZ_4K), 0n);
    assert.equal(phys(nopt, 0x1000n), 0n);
    assert.deepEqual(
      warn.drain().map((w) => w.code),
      [WARN_IOMMU_NO_PGTABLE, WARN_IOMMU_NO_PGTABLE],
    );
    assert.equal(iommu_map(refDomain('6.12', { pgsize_bitmap: 0n }), 0x1000n, 0x1000n, SZ_4K, RW), -ENODEV);
    assert.equal(iommu_map(refDomain('newest', { pgsize_bitmap: 0n }), 0x1000n, 0x1000n, SZ_4K, RW), -EINVAL);
  });

  test('-ERANGE beyond ias comes back from the page table', () => {
    const d = refDomain();
    assert.equal(iommu_map(d, 1n << 48n, 0x1000n, SZ_4K, RW), -ERANGE);
    assert.deepEqual(d.geometry, { aperture_start: 0n, aperture_end: (1n << 48n) - 1n, force_aperture: true });
    assert.equal(d.pgsize_bitmap, REF_BITMAP);
  });

  test('unaligned unmap returns 0 and logs', () => {
    const warn = new WarnSink();
    const d = refDomain('6.12', { warn });
    assert.equal(iommu_map(d, 0x1000n, 0x1000n, SZ_4K, RW), 0);
    assert.equal(iommu_unmap(d, 0x1800n, SZ_4K), 0n);
    assert.equal(iommu_unmap(d, 0x1000n, 0x800n), 0n);
    assert.equal(phys(d, 0x1000n), 0x1000n);
    assert.deepEqual(
      warn.drain().map((w) => w.code),
      [WARN_IOMMU_UNALIGNED_UNMAP, WARN_IOMMU_UNALIGNED_UNMAP],
    );
  });

  test('size 0 maps nothing and succeeds', () => {
    const d = refDomain();
    assert.equal(iommu_map(d, 0x1000n, 0x1000n, 0n, RW), 0);
    assert.equal(d.stats.map_pages, 0);
  });

  test('a failing map_pages is unwound: what it mapped, including a partial chunk, is unmapped again', () => {
    const maps: MapCall[] = [];
    const unmaps: PgsizeChoice[] = [];
    const d = new IommuDomain({ type: 'DMA', pgtable: recording((f) => new FakePgtable(f, REF_BITMAP, 0x100000n), maps, unmaps) });
    assert.equal(iommu_map(d, 0x1000n, 0x1000n, 0x400000n, RW), -ENOMEM);
    // The first chunk (4K × 511) stopped after 256 pages with -ENOMEM.
    assert.deepEqual(maps[0], { iova: 0x1000n, paddr: 0x1000n, pgsize: SZ_4K, count: 511n, ret: -ENOMEM, mapped: 0x100000n });
    assert.equal(maps.length, 1);
    assert.equal(leafCount(d), 0);
    // iommu_unmap(orig_iova, 0x100000): one 4K × 256 call, then a sync.
    assert.deepEqual(
      unmaps.map((c) => [c.pgsize, c.count]),
      [[SZ_4K, 0x100n]],
    );
    assert.equal(d.stats.iotlb_sync, 1);
  });

  test('a failing map after an earlier chunk succeeded unmaps the earlier chunk too (real table, -EEXIST)', () => {
    const d = refDomain();
    assert.equal(iommu_map(d, 0x400000n, 0x9000n, SZ_4K, RW), 0);
    // 4K × 511 and 2M × 1 succeed, the last 4K chunk meets 0x400000.
    assert.equal(iommu_map(d, 0x1000n, 0x1000n, 0x400000n, RW), -EEXIST);
    assert.equal(phys(d, 0x1000n), 0n);
    assert.equal(phys(d, 0x200000n), 0n);
    assert.equal(phys(d, 0x400000n), 0x9000n);
  });

  test('iotlb_sync_map: one call per iommu_map; its failure unmaps the whole range', () => {
    const d = refDomain('6.12', { has_iotlb_sync_map: true });
    assert.equal(iommu_map(d, 0x1000n, 0x1000n, 0x400000n, RW), 0);
    assert.equal(d.stats.iotlb_sync_map, 1);
    const calls: [bigint, bigint][] = [];
    const failing = refDomain('newest', { has_iotlb_sync_map: true, iotlb_sync_map_ret: (i, s) => (calls.push([i, s]), -ENOMEM) });
    assert.equal(iommu_map(failing, 0x1000n, 0x1000n, 0x400000n, RW), -ENOMEM);
    assert.deepEqual(calls, [[0x1000n, 0x400000n]]);
    assert.equal(leafCount(failing), 0);
  });

  test('iommu_map_nosync + iommu_sync_map: the sync is the caller’s', () => {
    const d = refDomain('newest', { has_iotlb_sync_map: true });
    assert.equal(iommu_map_nosync(d, 0x1000n, 0x1000n, SZ_4K, RW), 0);
    assert.equal(iommu_map_nosync(d, 0x2000n, 0x5000n, SZ_4K, RW), 0);
    assert.equal(d.stats.iotlb_sync_map, 0);
    assert.equal(iommu_sync_map(d, 0x1000n, 0x2000n), 0);
    assert.equal(d.stats.iotlb_sync_map, 1);
    assert.equal(phys(d, 0x2000n), 0x5000n);
    // SMMUv3 (no op): nothing to call.
    const smmu = refDomain('newest');
    assert.equal(iommu_sync_map(smmu, 0x1000n, 0x1000n), 0);
    assert.equal(smmu.stats.iotlb_sync_map, 0);
  });
});

describe('gather, sync and flush-all (iommu.md §4.6, §5.7)', () => {
  test('iommu_iotlb_gather_add_page syncs early on another page size or a gap, not when adjacent or overlapping', () => {
    const d = fakeDomain();
    const tlb = d.iotlb!;
    for (const a of [0x1000n, 0x2000n, 0x8000n]) tlb.fill({ iova: a, size: SZ_4K, paddr: a, perms: { read: true, write: true } });
    const g = newGather();
    iommu_iotlb_gather_add_page(d, g, 0x1000n, SZ_4K);
    iommu_iotlb_gather_add_page(d, g, 0x2000n, SZ_4K); // adjacent above
    iommu_iotlb_gather_add_page(d, g, 0x0n, SZ_4K); // adjacent below
    iommu_iotlb_gather_add_page(d, g, 0x1000n, SZ_4K); // overlapping
    assert.equal(d.stats.iotlb_sync, 0);
    assert.deepEqual({ ...g }, { start: 0x0n, end: 0x2fffn, pgsize: SZ_4K, queued: false });
    assert.equal(tlb.size, 3); // nothing invalidated yet

    iommu_iotlb_gather_add_page(d, g, 0x4000n, SZ_4K); // a gap of one page: disjoint
    assert.equal(d.stats.iotlb_sync, 1);
    assert.deepEqual({ ...g }, { start: 0x4000n, end: 0x4fffn, pgsize: SZ_4K, queued: false });
    assert.deepEqual(
      [...tlb].map((e) => e.iova),
      [0x8000n],
    ); // the early sync invalidated [0x0, 0x2fff]

    iommu_iotlb_gather_add_page(d, g, 0x200000n, SZ_2M); // another size
    assert.equal(d.stats.iotlb_sync, 2);
    assert.deepEqual({ ...g }, { start: 0x200000n, end: 0x3fffffn, pgsize: SZ_2M, queued: false });

    iommu_iotlb_sync(d, g);
    assert.equal(d.stats.iotlb_sync, 3);
    assert.deepEqual({ ...g }, { start: U64_MAX, end: 0n, pgsize: 0n, queued: false });
  });

  test('an early sync resets `queued` too, as iommu_iotlb_gather_init rebuilds the struct', () => {
    const d = fakeDomain();
    const g = newGather(true);
    iommu_iotlb_gather_add_page(d, g, 0x1000n, SZ_4K);
    iommu_iotlb_gather_add_page(d, g, 0x200000n, SZ_2M);
    assert.equal(g.queued, false);
  });

  test('S4.1 then unmap(0x1000, 0x400000): two early syncs (4K → 2M → 4K) and the final one', () => {
    for (const linux of ['6.12', 'newest'] as const) {
      const d = refDomain(linux);
      assert.equal(iommu_map(d, 0x1000n, 0x1000n, 0x400000n, RW), 0);
      assert.equal(iommu_unmap(d, 0x1000n, 0x400000n), 0x400000n);
      assert.equal(d.stats.iotlb_sync, 3);
    }
  });

  const fillAll = (d: IommuDomain, from: bigint, pages: number): void => {
    for (let i = 0n; i < BigInt(pages); i++) assert.ok('phys' in d.translate(from + i * SZ_4K, false));
  };

  test('strict gather: unmap_fast records the range, entries stay until iommu_iotlb_sync', () => {
    for (const linux of ['6.12', 'newest'] as const) {
      const d = refDomain(linux);
      assert.equal(iommu_map(d, 0x10000n, 0x50000n, 0x4000n, RW), 0);
      fillAll(d, 0x10000n, 4);
      const g = newGather();
      assert.equal(iommu_unmap_fast(d, 0x10000n, 0x4000n, g), 0x4000n);
      assert.deepEqual({ ...g }, { start: 0x10000n, end: 0x13fffn, pgsize: SZ_4K, queued: false });
      assert.equal(phys(d, 0x10000n), 0n);
      assert.deepEqual(d.translate(0x12345n, true), { phys: 0x52345n }); // stale, but allowed until the sync
      iommu_iotlb_sync(d, g);
      assert.equal(d.iotlb!.overlapping(0x10000n, 0x13fffn).length, 0);
      assert.deepEqual(d.translate(0x12345n, true), { fault: true });
    }
  });

  test('queued gather: nothing recorded (6.12); the sync clears nothing; flush-all does', () => {
    const d = refDomain('6.12');
    assert.equal(iommu_map(d, 0x10000n, 0x50000n, 0x4000n, RW), 0);
    fillAll(d, 0x10000n, 4);
    const g = newGather(true);
    assert.equal(iommu_unmap_fast(d, 0x10000n, 0x4000n, g), 0x4000n);
    assert.deepEqual({ ...g }, { start: U64_MAX, end: 0n, pgsize: 0n, queued: true });
    iommu_iotlb_sync(d, g); // 6.12 reaches the driver, which has no pgsize and does nothing
    assert.equal(d.stats.iotlb_sync, 1);
    assert.deepEqual(d.translate(0x13000n, false), { phys: 0x53000n });
    iommu_flush_iotlb_all(d);
    assert.equal(d.stats.flush_iotlb_all, 1);
    assert.equal(d.iotlb!.size, 0);
    assert.deepEqual(d.translate(0x13000n, false), { fault: true });
  });

  test('queued gather (newest): the core forces the range in after a successful unmap; the driver still invalidates nothing', () => {
    const d = refDomain('newest');
    assert.equal(iommu_map(d, 0x10000n, 0x50000n, 0x4000n, RW), 0);
    fillAll(d, 0x10000n, 4);
    const g = newGather(true);
    assert.equal(iommu_unmap_fast(d, 0x10000n, 0x4000n, g), 0x4000n);
    assert.deepEqual({ ...g }, { start: 0x10000n, end: 0x13fffn, pgsize: 0n, queued: true });
    iommu_iotlb_sync(d, g);
    assert.equal(d.stats.iotlb_sync, 1);
    assert.deepEqual(d.translate(0x13000n, false), { phys: 0x53000n });
    iommu_flush_iotlb_all(d);
    assert.deepEqual(d.translate(0x13000n, false), { fault: true });
  });

  test('6.12 format quirks the gather sees: dropped tables are recorded too, and a split records into a queued gather', () => {
    // S4.3c through unmap_fast: the table entry and the 2M block both go to the gather (2M × 2).
    const d = refDomain('6.12');
    assert.equal(iommu_map(d, 0x1000n, 0x1000n, 0x400000n, RW), 0);
    const g = newGather();
    assert.equal(iommu_unmap_fast(d, 0x0n, 0x400000n, g), 0x400000n);
    assert.deepEqual({ ...g }, { start: 0x0n, end: 0x3fffffn, pgsize: SZ_2M, queued: false });
    // S4.5 with a queued gather: arm_lpae_split_blk_unmap does not look at `queued`.
    const s = refDomain('6.12');
    assert.equal(iommu_map(s, 0x200000n, 0x40000000n, SZ_2M, RW), 0);
    const q = newGather(true);
    assert.equal(iommu_unmap_fast(s, 0x201000n, SZ_4K, q), SZ_4K);
    assert.deepEqual({ ...q }, { start: 0x201000n, end: 0x201fffn, pgsize: SZ_4K, queued: true });
  });

  test('empty gather: 6.12 still calls the driver, newest does not', () => {
    const old = refDomain('6.12');
    const neu = refDomain('newest');
    assert.equal(iommu_unmap(old, 0x10000n, SZ_4K), 0n);
    assert.equal(iommu_unmap(neu, 0x10000n, SZ_4K), 0n);
    assert.equal(old.stats.iotlb_sync, 1);
    assert.equal(neu.stats.iotlb_sync, 0);
  });

  test('table teardown invalidates synchronously (tlb_flush_walk), before any sync', () => {
    const d = refDomain();
    assert.equal(iommu_map(d, 0x200000n, 0x200000n, SZ_4K, RW), 0);
    fillAll(d, 0x200000n, 1);
    const g = newGather(true);
    assert.equal(iommu_unmap_fast(d, 0x200000n, SZ_2M, g), SZ_2M);
    assert.equal(d.stats.tlb_flush_walk, 1);
    assert.deepEqual(d.translate(0x200000n, false), { fault: true });
  });
});

describe('translate(): the device side (iommu.md §5.4, §6.2)', () => {
  test('a stale entry keeps translating after a queued unmap until flush_iotlb_all', () => {
    const d = refDomain();
    assert.equal(iommu_map(d, 0x200000n, 0x40000000n, SZ_2M, RW), 0);
    assert.deepEqual(d.translate(0x200010n, true), { phys: 0x40000010n }); // miss: walk, fill
    assert.equal(d.iotlb!.stats.fills, 1);
    assert.equal(iommu_unmap_fast(d, 0x200000n, SZ_2M, newGather(true)), SZ_2M);
    assert.equal(phys(d, 0x200010n), 0n);
    for (const a of [0x200010n, 0x3fffffn]) assert.ok('phys' in d.translate(a, true));
    iommu_flush_iotlb_all(d);
    assert.deepEqual(d.translate(0x200010n, false), { fault: true });
  });

  test('never stale after a strict iommu_unmap', () => {
    for (const linux of ['6.12', 'newest'] as const) {
      const d = refDomain(linux);
      assert.equal(iommu_map(d, 0x1000n, 0x1000n, 0x400000n, RW), 0);
      for (const a of [0x1000n, 0x1ff000n, 0x200000n, 0x3fffffn, 0x400000n]) assert.ok('phys' in d.translate(a, false));
      assert.equal(iommu_unmap(d, 0x1000n, 0x400000n), 0x400000n);
      for (const a of [0x1000n, 0x1ff000n, 0x200000n, 0x3fffffn, 0x400000n]) assert.deepEqual(d.translate(a, false), { fault: true });
      assert.equal(d.iotlb!.size, 0);
    }
  });

  test('a 6.12 split invalidates the cached block; the rest refills from the new table', () => {
    const d = refDomain('6.12');
    assert.equal(iommu_map(d, 0x200000n, 0x40000000n, SZ_2M, RW), 0);
    assert.ok('phys' in d.translate(0x200000n, false));
    assert.equal(iommu_unmap(d, 0x201000n, SZ_4K), SZ_4K);
    assert.deepEqual(d.translate(0x201000n, false), { fault: true });
    assert.deepEqual(d.translate(0x202000n, false), { phys: 0x40002000n });
    assert.equal(d.iotlb!.peek(0x202000n)?.size, SZ_4K);
  });

  test('permissions: READ only faults writes; WRITE only is readable too (stage 1); unmapped faults', () => {
    const d = refDomain();
    assert.equal(iommu_map(d, 0x1000n, 0x9000n, SZ_4K, IOMMU_READ), 0);
    assert.equal(iommu_map(d, 0x2000n, 0xa000n, SZ_4K, IOMMU_WRITE), 0);
    assert.deepEqual(d.translate(0x1004n, false), { phys: 0x9004n });
    assert.deepEqual(d.translate(0x1004n, true), { fault: true });
    assert.deepEqual(d.translate(0x2004n, false), { phys: 0xa004n });
    assert.deepEqual(d.translate(0x2004n, true), { phys: 0xa004n });
    assert.deepEqual(d.translate(0x3000n, false), { fault: true });
    // A stale read-only entry still refuses writes.
    iommu_unmap_fast(d, 0x1000n, SZ_4K, newGather(true));
    assert.deepEqual(d.translate(0x1004n, true), { fault: true });
    assert.deepEqual(d.translate(0x1004n, false), { phys: 0x9004n });
  });
});

describe('iommu_map_sg (iommu.md §4.7)', () => {
  const SG = [
    { phys: 0x100000n, length: 0x1000n },
    { phys: 0x101000n, length: 0x2000n },
    { phys: 0x200000n, length: 0x1000n },
    { phys: 0x300000n, length: 0x1000n },
    { phys: 0x301000n, length: 0x1000n },
  ];

  test('contiguous entries become runs; one iotlb_sync_map for the whole list', () => {
    for (const linux of ['6.12', 'newest'] as const) {
      const maps: MapCall[] = [];
      const d = new IommuDomain({ type: 'DMA', linux, pgtable: recording(lpae(linux), maps, []), has_iotlb_sync_map: true });
      assert.equal(iommu_map_sg(d, 0x10000n, SG, RW), 0x6000n);
      assert.deepEqual(
        maps.map((m) => [m.iova, m.paddr, m.pgsize, m.count]),
        [
          [0x10000n, 0x100000n, SZ_4K, 3n],
          [0x13000n, 0x200000n, SZ_4K, 1n],
          [0x14000n, 0x300000n, SZ_4K, 2n],
        ],
      );
      assert.equal(d.stats.iotlb_sync_map, 1);
      assert.deepEqual(
        [0x10000n, 0x12fffn, 0x13000n, 0x14000n, 0x15800n, 0x16000n].map((a) => phys(d, a)),
        [0x100000n, 0x102fffn, 0x200000n, 0x300000n, 0x301800n, 0n],
      );
    }
  });

  test('a run that cannot be mapped unmaps the earlier runs and returns the error', () => {
    const d = refDomain('6.12', { has_iotlb_sync_map: true });
    const sg = [SG[0]!, { phys: 0x200800n, length: 0x800n }, SG[3]!];
    assert.equal(iommu_map_sg(d, 0x10000n, sg, RW), BigInt(-EINVAL));
    assert.equal(leafCount(d), 0);
    assert.equal(d.stats.iotlb_sync_map, 0);
  });

  test('a failing iotlb_sync_map unmaps everything', () => {
    const d = refDomain('newest', { has_iotlb_sync_map: true, iotlb_sync_map_ret: () => -ENOMEM });
    assert.equal(iommu_map_sg(d, 0x10000n, SG, RW), BigInt(-ENOMEM));
    assert.equal(leafCount(d), 0);
  });

  test('runs are split by iommu_pgsize: a 2M-aligned run gets a block', () => {
    const d = refDomain();
    const sg = [
      { phys: 0x40000000n, length: 0x100000n },
      { phys: 0x40100000n, length: 0x100000n },
    ];
    assert.equal(iommu_map_sg(d, 0x200000n, sg, RW), SZ_2M);
    assert.deepEqual(pairs(d), [[SZ_2M, 1n]]);
  });

  test('kernel quirk: a zero-length last entry that continues the final run leaves that run unmapped', () => {
    const d = refDomain();
    const sg = [
      { phys: 0x100000n, length: 0x1000n },
      { phys: 0x101000n, length: 0n },
    ];
    assert.equal(iommu_map_sg(d, 0x10000n, sg, RW), 0n);
    assert.equal(leafCount(d), 0);
    assert.equal(iommu_map_sg(d, 0x10000n, [], RW), 0n);
  });
});

/* ---- I-C1..I-C5 after random sequences (iommu.md §4.10) ---- */

const WINDOW_PAGES = 1024; // [0, 4M): two 2M regions, so blocks, tables, splits and teardowns all happen
const PHYS_BASE = 0x40000000n; // never physical 0, so iova_to_phys = 0 means "not mapped"

type Cmd =
  | { readonly k: 'map'; readonly page: number; readonly pages: number; readonly skew: boolean; readonly prot: number; readonly odd: boolean }
  | { readonly k: 'unmap'; readonly page: number; readonly pages: number; readonly odd: boolean }
  | { readonly k: 'unmap_fast'; readonly page: number; readonly pages: number; readonly queued: boolean }
  | { readonly k: 'sync' }
  | { readonly k: 'flush' }
  | { readonly k: 'touch'; readonly page: number; readonly write: boolean }
  /** The live mappings from the last successful iommu_map: touch one of its pages, or unmap it exactly. */
  | { readonly k: 'touch_last'; readonly nth: number; readonly write: boolean }
  | { readonly k: 'unmap_last'; readonly fast: boolean; readonly queued: boolean };

/** Pages near the 2M boundaries and the window's ends, where blocks, tables and splits meet. */
const ANCHORS = [0, 1, 2, 3, 256, 510, 511, 512, 513, 514, 768, 1022, 1023];
const pageArb = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...ANCHORS) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: WINDOW_PAGES - 1 }) });
const lenArb = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 4 }) },
  { weight: 3, arbitrary: fc.constantFrom(1, 2, 510, 511, 512, 513, 1023, 1024) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: WINDOW_PAGES }) },
);
/** Now and then a size that is not a multiple of 4K: -EINVAL / 0 with nothing changed. */
const oddArb = fc.integer({ min: 0, max: 9 }).map((n) => n === 0);
const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      k: fc.constant('map' as const),
      page: fc.oneof({ weight: 1, arbitrary: fc.constantFrom(0, 512) }, { weight: 3, arbitrary: pageArb }),
      pages: lenArb,
      skew: fc.integer({ min: 0, max: 3 }).map((n) => n === 0),
      prot: fc.constantFrom(IOMMU_READ, IOMMU_WRITE, RW, RW, RW, RW, 0),
      odd: oddArb,
    }),
  },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('unmap' as const), page: pageArb, pages: lenArb, odd: oddArb }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('unmap_fast' as const), page: pageArb, pages: lenArb, queued: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ k: 'sync' as const }) },
  { weight: 1, arbitrary: fc.constant({ k: 'flush' as const }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('touch' as const), page: pageArb, write: fc.boolean() }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('touch_last' as const), nth: fc.nat(), write: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('unmap_last' as const), fast: fc.boolean(), queued: fc.boolean() }) },
);

/** What the sequences reached, so the test can show the generator gets to the interesting cases. */
interface Coverage {
  blocks: number;
  map_failures: number;
  teardowns: number;
  syncs: number;
  stale_hits: number;
}

/** Runs one sequence against a domain and a naive page map (page → phys), checking I-C1..I-C5 after each step. */
function runSequence(cmds: readonly Cmd[], linux: IommuLinux, factory: (linux: IommuLinux) => PgtableFactory, cov: Coverage): void {
  const maps: MapCall[] = [];
  const d = new IommuDomain({ type: 'DMA', linux, pgtable: recording(factory(linux), maps, []) });
  const naive = new Map<number, bigint>();
  let pending: IotlbGather | undefined;
  let last: { iova: bigint; size: bigint } | undefined;
  const page = (n: number): bigint => BigInt(n) * SZ_4K;

  const checkTranslations = (): void => {
    for (let p = 0; p < WINDOW_PAGES; p++) {
      const got = phys(d, page(p));
      const leaf = d.pgtbl!.leaf_at(page(p));
      // I-C1: non-zero iff a leaf covers it, and then leaf base + offset.
      assert.equal(got !== 0n, leaf !== undefined, `I-C1 at page ${p}`);
      if (leaf) assert.equal(got, leaf.paddr + (page(p) - leaf.iova), `I-C1 offset at page ${p}`);
      assert.equal(got, naive.get(p) ?? 0n, `translation of page ${p}`);
    }
  };

  const map = (c: Extract<Cmd, { k: 'map' }>): void => {
    const pages = Math.min(c.pages, WINDOW_PAGES - c.page);
    const iova = page(c.page);
    const paddr = PHYS_BASE + iova + (c.skew ? SZ_4K : 0n); // skew: offsets differ within 2M, 4K pages only
    const before = new Map(naive);
    const from = maps.length;
    const ret = iommu_map(d, iova, paddr, page(pages) + (c.odd ? 0x800n : 0n), c.prot);
    if (c.odd || c.prot === 0) assert.equal(ret, -EINVAL);
    const calls = maps.slice(from);
    // I-C5: sizes from the bitmap, aligned addresses, and the largest size alignment and length allow.
    let left = page(pages);
    for (const m of calls) {
      assert.equal(m.pgsize & REF_BITMAP, m.pgsize, 'I-C5 pgsize in bitmap');
      assert.equal((m.iova | m.paddr) % m.pgsize, 0n, 'I-C5 alignment');
      assert.ok(m.count >= 1n && m.pgsize * m.count <= left, 'I-C5 length');
      for (const bigger of [SZ_2M, SZ_1G]) {
        if (bigger > m.pgsize) assert.ok((m.iova | m.paddr) % bigger !== 0n || bigger > left, 'I-C5 largest size');
      }
      left -= m.mapped;
    }
    if (ret === 0) {
      for (let i = 0; i < pages; i++) naive.set(c.page + i, paddr + page(i)); // I-C2
      last = { iova, size: page(pages) };
      return;
    }
    assert.ok([-EINVAL, -EEXIST].includes(ret), `map error ${ret}`);
    // I-C2: unchanged, except pages an overlapping block map dropped before the failure (§5.3).
    const blocks = calls.filter((m) => m.ret === 0 && m.pgsize > SZ_4K);
    for (const [p, v] of before) {
      if (phys(d, page(p)) === v) continue;
      const a = page(p);
      assert.ok(blocks.some((m) => a >= m.iova && a < m.iova + m.mapped), `I-C2: page ${p} lost by a failed map`);
      naive.delete(p);
    }
  };

  /** @queued: undefined for iommu_unmap, else iommu_unmap_fast into a pending gather of that kind. */
  const unmap = (iova: bigint, size: bigint, queued: boolean | undefined): void => {
    let r: bigint;
    if (queued === undefined) r = iommu_unmap(d, iova, size);
    else {
      if (pending && pending.queued !== queued) iommu_iotlb_sync(d, pending);
      if (!pending || pending.queued !== queued) pending = newGather(queued);
      r = iommu_unmap_fast(d, iova, size, pending);
    }
    // I-C3: r ≤ size, a multiple of 4K; [iova, iova + r) gone, the rest unchanged (checkTranslations).
    assert.ok(r <= size && r % SZ_4K === 0n, 'I-C3 result');
    if (size % SZ_4K !== 0n) assert.equal(r, 0n);
    for (let a = iova; a < iova + r; a += SZ_4K) naive.delete(Number(a / SZ_4K));
    // I-C4: after iommu_unmap, no IOTLB entry covers what it removed.
    if (queued === undefined && r > 0n) assert.deepEqual(d.iotlb!.overlapping(iova, iova + r - 1n), [], 'I-C4');
  };

  /** A device access: the cached (possibly stale) translation if there is one, else the table's; nothing else. */
  const touch = (a: bigint, write: boolean): void => {
    const cached = d.iotlb!.peek(a);
    const leaf = d.pgtbl!.leaf_at(a);
    const r = d.translate(a, write);
    if (cached && phys(d, a) !== cached.paddr + (a - cached.iova)) cov.stale_hits++;
    const src = cached ?? (leaf && { iova: leaf.iova, paddr: leaf.paddr, perms: s1_leaf_perms(leaf.prot) });
    if (!src || (write && !src.perms.write)) assert.deepEqual(r, { fault: true });
    else assert.deepEqual(r, { phys: src.paddr + (a - src.iova) });
  };

  for (const c of cmds) {
    switch (c.k) {
      case 'map':
        map(c);
        break;
      case 'unmap':
        unmap(page(c.page), page(Math.min(c.pages, WINDOW_PAGES - c.page)) + (c.odd ? 0x800n : 0n), undefined);
        break;
      case 'unmap_fast':
        unmap(page(c.page), page(Math.min(c.pages, WINDOW_PAGES - c.page)), c.queued);
        break;
      case 'unmap_last':
        if (last) unmap(last.iova, last.size, c.fast ? c.queued : undefined);
        break;
      case 'sync':
        if (pending) iommu_iotlb_sync(d, pending);
        pending = undefined;
        break;
      case 'flush':
        iommu_flush_iotlb_all(d);
        assert.equal(d.iotlb!.size, 0);
        break;
      case 'touch':
        touch(page(c.page) + 0x10n, c.write);
        break;
      case 'touch_last':
        if (last) touch(last.iova + (BigInt(c.nth) % (last.size / SZ_4K)) * SZ_4K + 0x10n, c.write);
        break;
    }
    checkTranslations();
  }
  if (pending) iommu_iotlb_sync(d, pending);
  cov.blocks += maps.filter((m) => m.ret === 0 && m.pgsize > SZ_4K).length;
  cov.map_failures += maps.filter((m) => m.ret !== 0).length;
  cov.teardowns += d.stats.tlb_flush_walk;
  cov.syncs += d.stats.iotlb_sync;
}

describe('I-C1..I-C5 after random sequences (fast-check)', () => {
  const configs: [string, IommuLinux, (l: IommuLinux) => PgtableFactory][] = [
    ['fake table, 6.12', '6.12', () => (f) => new FakePgtable(f)],
    ['LPAE, 6.12', '6.12', (l) => lpae(l)],
    ['LPAE, newest', 'newest', (l) => lpae(l)],
  ];
  for (const [name, linux, factory] of configs) {
    test(name, () => {
      const cov: Coverage = { blocks: 0, map_failures: 0, teardowns: 0, syncs: 0, stale_hits: 0 };
      fc.assert(
        fc.property(fc.array(cmdArb, { minLength: 5, maxLength: 40 }), (cmds) => runSequence(cmds, linux, factory, cov)),
        { numRuns: 100, seed: 0x10e1 },
      );
      assert.ok(cov.blocks > 0 && cov.map_failures > 0 && cov.stale_hits > 0 && cov.syncs > 0, JSON.stringify(cov));
      if (name.startsWith('LPAE')) assert.ok(cov.teardowns > 0, JSON.stringify(cov));
    });
  }
});
