/**
 * ARM LPAE stage-1 page tables, 64-bit format (drivers/iommu/io-pgtable-arm.c 6.12;
 * iommu.md §5): map, unmap with the 6.12 block split or the newest refusal, and the
 * table walk. Encoding and geometry are in io-pgtable-arm-pte.ts (re-exported here).
 *
 * Tables are JS objects holding a sparse Map of their live entries, so a walk is
 * O(levels) and an empty table costs nothing. A leaf keeps the prot it was mapped with,
 * its derived permissions and the iopte the kernel would have written, so checkers can
 * compare I-P5 without decoding bits.
 *
 * model: no locking, no cmpxchg races, no cache maintenance for non-coherent walkers
 * (the software sync bit 55 is never set), no quirks (NS, TTBR1, OUTER_WBWA, HD, NO_WARN).
 * Tables live outside modelled RAM: a device can never reach them by DMA.
 */
import { IOMMU_READ, IOMMU_WRITE, type IoPgtableFlushOps, type IoPgtableOps, type IotlbGather, type MapPagesResult } from './io-pgtable';
import type { Faults } from '../faults';
import {
  ARM_LPAE_MAX_LEVELS,
  ARM_LPAE_PTE_ADDR_MASK,
  ARM_LPAE_PTE_ATTR_MASK,
  ARM_LPAE_PTE_TYPE_BLOCK,
  ARM_LPAE_PTE_TYPE_PAGE,
  IOPTE_SHIFT,
  SZ_64K,
  arm_lpae_geometry,
  arm_lpae_prot_to_pte,
  arm_lpae_s1_perms,
  iopte_to_paddr,
  paddr_to_iopte,
  type ArmLpaeGeometry,
  type ArmLpaeLeaf,
  type LinuxVersion,
} from './io-pgtable-arm-pte';

export * from './io-pgtable-arm-pte';

// Local copies of the imported constants: under tsx's CommonJS interop every use of an
// imported binding is a getter call, which showed up at 15% of a map+unmap profile.
const MAX_LEVELS = ARM_LPAE_MAX_LEVELS;
const LAST_LEVEL = ARM_LPAE_MAX_LEVELS - 1;
const PTE_TYPE_PAGE = ARM_LPAE_PTE_TYPE_PAGE;
const PTE_TYPE_BLOCK = ARM_LPAE_PTE_TYPE_BLOCK;
const PTE_ADDR_MASK = ARM_LPAE_PTE_ADDR_MASK;
const PTE_ATTR_MASK = ARM_LPAE_PTE_ATTR_MASK;
const PROT_RW = IOMMU_READ | IOMMU_WRITE;
const s1_perms = arm_lpae_s1_perms;

/** Page counts are clamped to a table's entries; anything this big is "more than a table". */
const COUNT_CAP = 1n << 32n;
const clamp_count = (pgcount: bigint, max: number): number => (pgcount < COUNT_CAP ? Math.min(Number(pgcount), max) : max);

const EEXIST = 17;
const EINVAL = 22;
const ENOMEM = 12;
const ERANGE = 34;

/** model: one table page; `entries` holds only the non-zero ioptes, by index. */
interface ArmLpaeTable {
  readonly kind: 'table';
  readonly lvl: number;
  /** First IOVA the table translates (for the view and for leaf bases). */
  readonly iova: bigint;
  readonly entries: Map<number, Iopte>;
}

type Iopte = ArmLpaeLeaf | ArmLpaeTable;

/** A live table as the view reports it. */
export interface ArmLpaeTableInfo {
  readonly iova: bigint;
  readonly level: number;
  /** Non-zero entries. */
  readonly entries: number;
}

/** Counters a checker can diff around an op (each read of `stats` is a snapshot). */
export interface ArmLpaeStats {
  /** Tables allocated so far, the pgd included. */
  readonly tables_allocated: number;
  readonly tables_freed: number;
  /** Live tables (allocated − freed). */
  readonly tables: number;
  /** Live leaf entries. */
  readonly leaves: number;
  /** Tables dropped whole by an unmap whose size matched their parent entry (iommu.md §5.5, S4.3, S4.6). */
  readonly table_teardowns: number;
  /** model: "overlapping map" — a block map that tore down a sub-table (iommu.md §5.3, §6.3). */
  readonly overlapping_maps: number;
  readonly last_overlapping_map: { readonly iova: bigint; readonly size: bigint; readonly bytes_dropped: bigint } | undefined;
  /** 6.12 arm_lpae_split_blk_unmap calls that installed a table (a 1G → 4K unmap counts two). */
  readonly block_splits: number;
  /** newest: partial-block unmaps refused with 0. */
  readonly partial_unmaps_refused: number;
  /** The WARN_ONCE "Unmap of a partial large IOPTE is not allowed" has fired (per page table, model). */
  readonly partial_unmap_warned: boolean;
  /** Table allocations that fail_table_alloc turned down. */
  readonly alloc_failures: number;
  /** Entries written past the reachable part of a small pgd (see arm_lpae_max_entries). */
  readonly pgd_overrun_entries: number;
}

type MutableStats = { -readonly [K in keyof ArmLpaeStats]: ArmLpaeStats[K] };

/** Read-only view for invariant checkers (STYLE §2). Never changes state. */
export interface ArmLpaePgtableView {
  readonly granule: bigint;
  readonly start_level: number;
  /** Reachable entries of the top table (2^pgd_bits). */
  readonly pgd_entries: number;
  readonly pgsize_bitmap: bigint;
  readonly ias: number;
  readonly oas: number;
  readonly linux: LinuxVersion;
  /** ARM_LPAE_BLOCK_SIZE(lvl): bytes one entry at `lvl` maps. */
  block_size(lvl: number): bigint;
  iova_to_phys(iova: bigint): bigint;
  leaf_at(iova: bigint): ArmLpaeLeaf | undefined;
  leaves(): Iterable<ArmLpaeLeaf>;
  /**
   * The leaves overlapping [@start, @end) (bytes, end exclusive), in ascending IOVA order:
   * O(tables on the way + leaves found), so a checker can look at what one op touched.
   */
  leaves_in(start: bigint, end: bigint): ArmLpaeLeaf[];
  /** Live tables in ascending IOVA order, parents before children. */
  tables(): Iterable<ArmLpaeTableInfo>;
}

export interface ArmLpaeCfg {
  /** The driver's page sizes before arm_lpae_restrict_pgsizes. */
  readonly pgsize_bitmap: bigint;
  readonly ias: number;
  readonly oas: number;
  /** CPU PAGE_SIZE: the preferred granule. */
  readonly page_size: number;
  readonly linux: LinuxVersion;
  readonly flush: IoPgtableFlushOps;
  /** Fault injection: return true to make the next table allocation fail (-ENOMEM, or 0 from a split). */
  readonly fail_table_alloc?: () => boolean;
  /** Kernel WARNs (source 'kernel') with stable codes; compatible with WarnSink.warn. */
  readonly warn?: (source: 'kernel' | 'model', code: string, message: string) => void;
  /** Planted faults (src/faults.ts); absent in unit tests. */
  readonly faults?: Faults;
}

/** The page table handed to the IOMMU core. */
export interface ArmLpaeIoPgtable extends IoPgtableOps {
  leaf_at(iova: bigint): ArmLpaeLeaf | undefined;
  leaves(): Iterable<ArmLpaeLeaf>;
  readonly stats: ArmLpaeStats;
  readonly view: ArmLpaePgtableView;
}

/**
 * alloc_io_pgtable_ops(ARM_64_LPAE_S1) - a stage-1 LPAE page table with an empty pgd.
 * @cfg: the driver's page sizes, ias/oas and CPU PAGE_SIZE (restricted per §5.1), the
 *       kernel version, the flush ops, and optional fault injection and WARN sink.
 * Returns the ops with `stats` and `view`. Throws where the kernel returns NULL (which
 * arm_smmu_domain_finalise turns into -ENOMEM): use arm_lpae_geometry() to check first.
 */
export function alloc_io_pgtable_arm_lpae_s1(cfg: ArmLpaeCfg): ArmLpaeIoPgtable {
  const geo = arm_lpae_geometry(cfg);
  if (!geo) {
    throw new Error(`io-pgtable-arm: no stage-1 LPAE table for pgsize_bitmap 0x${cfg.pgsize_bitmap.toString(16)} ias ${cfg.ias} oas ${cfg.oas}`);
  }
  return new ArmLpaeIoPgtableImpl(cfg, geo);
}

class ArmLpaeIoPgtableImpl implements ArmLpaeIoPgtable {
  readonly pgsize_bitmap: bigint;
  readonly ias: number;
  readonly oas: number;
  readonly view: ArmLpaePgtableView;
  private readonly linux: LinuxVersion;
  private readonly flush: IoPgtableFlushOps;
  private readonly fail_table_alloc: (() => boolean) | undefined;
  private readonly warn_cb: ArmLpaeCfg['warn'];
  private readonly faults: Faults;
  private readonly geo: ArmLpaeGeometry;
  private readonly ptes_per_table: number;
  private readonly pgd_entries: number;
  /** ARM_LPAE_BLOCK_SIZE per level, as bigint and as pages of one granule (exact doubles). */
  private readonly blk: bigint[] = [];
  /** ~(block size − 1): a leaf's base from any IOVA inside it. */
  private readonly blk_mask: bigint[] = [];
  private readonly blk_pages: number[] = [];
  private readonly pg_shift: bigint;
  /** 64K granule: output address bits 51:48 live in 15:12 (paddr_to_iopte). */
  private readonly packed: boolean;
  private readonly ias_big: bigint;
  private readonly oas_big: bigint;
  private readonly prot_cache = new Map<number, bigint>();
  private readonly pgd: ArmLpaeTable;
  private readonly s: MutableStats = {
    tables_allocated: 0, tables_freed: 0, tables: 0, leaves: 0, table_teardowns: 0,
    overlapping_maps: 0, last_overlapping_map: undefined, block_splits: 0, partial_unmaps_refused: 0,
    partial_unmap_warned: false, alloc_failures: 0, pgd_overrun_entries: 0,
  };

  constructor(cfg: ArmLpaeCfg, geo: ArmLpaeGeometry) {
    this.geo = geo;
    this.pgsize_bitmap = geo.pgsize_bitmap;
    this.ias = geo.ias;
    this.oas = geo.oas;
    this.linux = cfg.linux;
    this.flush = cfg.flush;
    this.fail_table_alloc = cfg.fail_table_alloc;
    this.warn_cb = cfg.warn;
    this.faults = cfg.faults;
    this.ptes_per_table = 1 << geo.bits_per_level;
    this.pgd_entries = 2 ** geo.pgd_bits;
    this.pg_shift = BigInt(geo.bits_per_level + IOPTE_SHIFT);
    this.packed = geo.granule >= SZ_64K;
    this.ias_big = BigInt(geo.ias);
    this.oas_big = BigInt(geo.oas);
    for (let l = 0; l < ARM_LPAE_MAX_LEVELS; l++) {
      const lvl_shift = (ARM_LPAE_MAX_LEVELS - l) * geo.bits_per_level + IOPTE_SHIFT;
      this.blk.push(1n << BigInt(lvl_shift));
      this.blk_mask.push(~((1n << BigInt(lvl_shift)) - 1n));
      this.blk_pages.push(2 ** ((ARM_LPAE_MAX_LEVELS - 1 - l) * geo.bits_per_level));
    }
    this.pgd = this.new_table(geo.start_level, 0n);
    this.view = this.make_view();
  }

  /** A snapshot: diff two of them around an op. */
  get stats(): ArmLpaeStats {
    return { ...this.s };
  }

  /**
   * arm_lpae_map_pages() - map @pgcount leaves of @pgsize at @iova → @paddr, within one table.
   * Returns ret 0 and mapped = n·pgsize, or: -EINVAL (pgsize not one supported size, prot
   * without READ/WRITE, or a mismatched size reaching the last level), -ERANGE (iova above
   * ias or paddr above oas), -EEXIST (a leaf in the way), -ENOMEM (table allocation failed).
   * Tables allocated on the way down stay even when the call fails (iommu.md §5.3).
   */
  map_pages(iova: bigint, paddr: bigint, pgsize: bigint, pgcount: bigint, prot: number): MapPagesResult {
    if (!pgsize || (pgsize & this.pgsize_bitmap) !== pgsize) {
      this.warn('WARN_ARM_LPAE_BAD_PGSIZE', `map_pages: pgsize 0x${pgsize.toString(16)} not in the bitmap`);
      return { ret: -EINVAL, mapped: 0n };
    }
    if (iova >> this.ias_big || paddr >> this.oas_big) {
      this.warn('WARN_ARM_LPAE_ERANGE', `map_pages: iova 0x${iova.toString(16)} or paddr 0x${paddr.toString(16)} out of range`);
      return { ret: -ERANGE, mapped: 0n };
    }
    if (!(prot & PROT_RW)) return { ret: -EINVAL, mapped: 0n };
    let attrs = this.prot_cache.get(prot);
    if (attrs === undefined) this.prot_cache.set(prot, (attrs = arm_lpae_prot_to_pte(prot)));
    return this.__arm_lpae_map(iova, paddr, pgsize, pgcount, prot, attrs);
  }

  /** __arm_lpae_map(), iterative: descend (allocating tables) to the level whose block size is @size. */
  private __arm_lpae_map(iova: bigint, paddr: bigint, size: bigint, pgcount: bigint, prot: number, attrs: bigint): MapPagesResult {
    const pfn = Number(iova >> this.pg_shift);
    let table = this.pgd;
    for (let lvl = this.geo.start_level; ; lvl++) {
      const idx = this.lvl_idx(pfn, lvl);
      if (size === this.blk[lvl]) {
        const n = clamp_count(pgcount, this.max_entries(idx));
        const ret = this.arm_lpae_init_pte(iova, paddr, prot, attrs, lvl, n, table, idx);
        return { ret, mapped: ret ? 0n : n === 1 ? size : BigInt(n) * size };
      }
      // We cannot allocate tables below the last level: size matched no level.
      if (lvl >= LAST_LEVEL) {
        this.warn('WARN_ARM_LPAE_MAP_LAST_LEVEL', `map_pages: size 0x${size.toString(16)} matches no level`);
        return { ret: -EINVAL, mapped: 0n };
      }
      let next = table.entries.get(idx);
      if (!next) {
        if (this.fail_table_alloc?.()) {
          this.s.alloc_failures++;
          return { ret: -ENOMEM, mapped: 0n };
        }
        next = this.new_table(lvl + 1, table.iova + BigInt(idx) * this.blk[lvl]!);
        table.entries.set(idx, next);
      } else if (next.kind === 'leaf') {
        this.warn('WARN_ARM_LPAE_EEXIST', `map_pages: iova 0x${iova.toString(16)} lies in a level-${lvl} block`);
        return { ret: -EEXIST, mapped: 0n };
      }
      table = next;
    }
  }

  /**
   * arm_lpae_init_pte(): check the @n target entries in order, then install them. A leaf
   * gives -EEXIST; a table is unmapped whole first (flush_walk, no gather) — and stays
   * gone even if a later entry turns out to be a leaf (iommu.md §5.3, kernel order).
   */
  private arm_lpae_init_pte(iova: bigint, paddr: bigint, prot: number, attrs: bigint, lvl: number, n: number, table: ArmLpaeTable, idx: number): number {
    const sz = this.blk[lvl]!;
    for (let i = 0; i < n; i++) {
      const e = table.entries.get(idx + i);
      if (!e) continue;
      if (e.kind === 'leaf') {
        this.warn('WARN_ARM_LPAE_EEXIST', `map_pages: a leaf already maps iova 0x${(iova + BigInt(i) * sz).toString(16)}`);
        return -EEXIST;
      }
      const dropped = this.mapped_bytes(e);
      const at = iova + BigInt(i) * sz;
      if (this.__arm_lpae_unmap(undefined, at, sz, 1n, lvl, table) !== sz) {
        throw new Error('io-pgtable-arm: tearing down a table under a block did not unmap it'); // kernel: WARN_ON, -EINVAL
      }
      this.s.overlapping_maps++;
      this.s.last_overlapping_map = { iova: at, size: sz, bytes_dropped: dropped };
      // iommu.md §5.3, §6.3: flag, keep the kernel's result. An empty table (tables are never
      // freed when they empty) being replaced by a block is normal and not flagged.
      if (dropped !== 0n) {
        this.warn_cb?.('model', 'MODEL_OVERLAPPING_MAP', `a 0x${sz.toString(16)} block at iova 0x${at.toString(16)} silently replaced a table still mapping 0x${dropped.toString(16)} bytes`);
      }
    }
    this.__arm_lpae_init_pte(iova & this.blk_mask[lvl]!, paddr, prot, attrs, lvl, n, table, idx);
    return 0;
  }

  /** __arm_lpae_init_pte(): write @n leaves from entry @idx (IOVA @base) with consecutive output addresses. */
  private __arm_lpae_init_pte(base: bigint, paddr: bigint, prot: number, attrs: bigint, lvl: number, n: number, table: ArmLpaeTable, idx: number): void {
    const sz = this.blk[lvl]!;
    const type = lvl === LAST_LEVEL ? PTE_TYPE_PAGE : PTE_TYPE_BLOCK;
    const perms = s1_perms(attrs);
    const packed = this.packed;
    let at = base;
    let pa = paddr;
    for (let i = 0; i < n; i++, at += sz, pa += sz) {
      const addr = packed ? paddr_to_iopte(pa, this.geo.granule) : pa & PTE_ADDR_MASK;
      const out = packed ? iopte_to_paddr(addr, this.geo.granule) : addr;
      const leaf: ArmLpaeLeaf = { kind: 'leaf', iova: at, size: sz, paddr: out, prot, level: lvl, perms, pte: attrs | addr | type };
      table.entries.set(idx + i, leaf); // arm_lpae_init_pte left every target empty
      this.s.leaves++;
      if (table === this.pgd && idx + i >= this.pgd_entries) this.s.pgd_overrun_entries++;
    }
  }

  /**
   * arm_lpae_unmap_pages() - clear @pgcount leaves of @pgsize from @iova, within one table.
   * Returns the bytes unmapped: 0 for a bad pgsize or count, an iova above ias, an empty
   * first entry, a refused partial-block unmap (newest) or a failed split allocation (6.12).
   * Can unmap more than was mapped: a table under a @pgsize entry goes whole (iommu.md §5.5).
   */
  unmap_pages(iova: bigint, pgsize: bigint, pgcount: bigint, gather: IotlbGather): bigint {
    if (!pgsize || (pgsize & this.pgsize_bitmap) !== pgsize || !pgcount) {
      this.warn('WARN_ARM_LPAE_BAD_PGSIZE', `unmap_pages: pgsize 0x${pgsize.toString(16)} count ${pgcount}`);
      return 0n;
    }
    if (iova >> this.ias_big) {
      this.warn('WARN_ARM_LPAE_ERANGE', `unmap_pages: iova 0x${iova.toString(16)} above ias`);
      return 0n;
    }
    return this.__arm_lpae_unmap(gather, iova, pgsize, pgcount, this.geo.start_level, this.pgd);
  }

  /** __arm_lpae_unmap(): walk from @table at @lvl; gather undefined means the map path's teardown. */
  private __arm_lpae_unmap(gather: IotlbGather | undefined, iova: bigint, size: bigint, pgcount: bigint, lvl: number, table: ArmLpaeTable): bigint {
    const pfn = Number(iova >> this.pg_shift);
    for (; lvl < MAX_LEVELS; lvl++) {
      const idx = this.lvl_idx(pfn, lvl);
      const e = table.entries.get(idx);
      if (!e) {
        this.warn('WARN_ARM_LPAE_UNMAP_EMPTY', `unmap_pages: nothing mapped at iova 0x${iova.toString(16)} (level ${lvl})`);
        return 0n;
      }
      if (size === this.blk[lvl]) return this.unmap_entries(gather, iova, size, pgcount, lvl, table, idx);
      if (e.kind === 'leaf') {
        if (this.linux === 'newest') {
          // 7.2 (since v6.13, 33729a5fc0ca): partial unmaps of a block are refused.
          this.s.partial_unmaps_refused++;
          if (!this.s.partial_unmap_warned) {
            this.s.partial_unmap_warned = true;
            this.warn('WARN_ARM_LPAE_PARTIAL_UNMAP', 'Unmap of a partial large IOPTE is not allowed');
          }
          return 0n;
        }
        return this.arm_lpae_split_blk_unmap(gather, iova, size, e, lvl + 1, table, idx, pgcount);
      }
      table = e;
    }
    // Only reachable with a malformed pgsize (two bits set): a level-3 entry is never a table.
    this.warn('WARN_ARM_LPAE_NO_LEVEL', `unmap_pages: ran out of page table at iova 0x${iova.toString(16)}`);
    return 0n;
  }

  /**
   * The size-matches-level case of __arm_lpae_unmap: clear up to min(@pgcount, entries left)
   * entries, stopping at the first empty one. Tables are torn down with a synchronous
   * flush_walk; then every cleared entry, table or leaf, goes to the gather unless queued.
   */
  private unmap_entries(gather: IotlbGather | undefined, iova: bigint, size: bigint, pgcount: bigint, lvl: number, table: ArmLpaeTable, idx: number): bigint {
    const n = clamp_count(pgcount, this.max_entries(idx));
    let i = 0;
    for (let at = iova; i < n; i++, at += size) {
      const e = table.entries.get(idx + i);
      if (!e) {
        this.warn('WARN_ARM_LPAE_UNMAP_EMPTY', `unmap_pages: hole at iova 0x${at.toString(16)}`);
        break;
      }
      table.entries.delete(idx + i);
      if (e.kind === 'leaf') {
        this.s.leaves--;
      } else {
        this.flush.tlb_flush_walk(at, size, this.geo.granule);
        this.__arm_lpae_free_pgtable(e);
        this.s.table_teardowns++;
      }
    }
    if (gather && !gather.queued) {
      for (let j = 0, at = iova; j < i; j++, at += size) this.flush.tlb_add_page(gather, at, size);
    }
    return i === 1 ? size : BigInt(i) * size;
  }

  /**
   * arm_lpae_split_blk_unmap() [6.12]: replace @blk with a level-@lvl table that maps the
   * same range, minus the entries being unmapped when @size is this level's size; for a
   * smaller @size, carry on down (1G → 2M → 4K). The removed pieces go to the gather even
   * for a queued gather (kernel order). Allocation failure: 0, block untouched. iommu.md §5.5.
   */
  private arm_lpae_split_blk_unmap(gather: IotlbGather | undefined, iova: bigint, size: bigint, blk: ArmLpaeLeaf, lvl: number, parent: ArmLpaeTable, parent_idx: number, pgcount: bigint): bigint {
    if (lvl === MAX_LEVELS) {
      // A level-3 page met by a size matching no level (a malformed pgsize with two bits set).
      this.warn('WARN_ARM_LPAE_NO_LEVEL', `unmap_pages: cannot split a level-3 page at iova 0x${iova.toString(16)}`);
      return 0n;
    }
    if (this.fail_table_alloc?.()) {
      this.s.alloc_failures++;
      return 0n;
    }
    const split_sz = this.blk[lvl]!;
    let unmap_idx_start = -1;
    let num_entries = 0;
    if (size === split_sz) {
      unmap_idx_start = this.lvl_idx(Number(iova >> this.pg_shift), lvl);
      num_entries = clamp_count(pgcount, this.max_entries(unmap_idx_start));
    }
    const tbl = this.new_table(lvl, blk.iova);
    const attrs = blk.pte & PTE_ATTR_MASK;
    this.s.leaves--; // the block
    // Fault 'pgtable-split-loses-pages': the hole lands one entry too far.
    const hole = unmap_idx_start >= 0 && this.faults?.has('pgtable-split-loses-pages') ? unmap_idx_start + 1 : unmap_idx_start;
    for (let i = 0, at = blk.iova, pa = blk.paddr; i < this.ptes_per_table; i++, at += split_sz, pa += split_sz) {
      if (i >= hole && i < hole + num_entries) continue;
      this.__arm_lpae_init_pte(at, pa, blk.prot, attrs, lvl, 1, tbl, i);
    }
    parent.entries.set(parent_idx, tbl); // arm_lpae_install_table: the cmpxchg cannot lose here (model: no races)
    this.s.block_splits++;
    if (unmap_idx_start >= 0) {
      // model: a NULL gather never reaches here (the map path only tears down tables).
      if (gather) for (let i = 0; i < num_entries; i++) this.flush.tlb_add_page(gather, iova + BigInt(i) * size, size);
      return BigInt(num_entries) * size;
    }
    return this.__arm_lpae_unmap(gather, iova, size, pgcount, lvl, tbl);
  }

  /** __arm_lpae_free_pgtable(): free @table and every table below it (any leaves go with them). */
  private __arm_lpae_free_pgtable(table: ArmLpaeTable): void {
    for (const e of table.entries.values()) {
      if (e.kind === 'leaf') this.s.leaves--;
      else this.__arm_lpae_free_pgtable(e);
    }
    this.s.tables_freed++;
    this.s.tables--;
  }

  /**
   * arm_lpae_iova_to_phys() - the software walk: the leaf's output address ORed with the
   * offset of @iova in it, or 0 (nothing mapped). Like the kernel it does not check ias:
   * an iova above it aliases through the masked top-level index. iommu.md §5.6.
   */
  iova_to_phys(iova: bigint): bigint {
    const leaf = this.walk(iova);
    return leaf ? leaf.paddr | (iova & (leaf.size - 1n)) : 0n;
  }

  /** The leaf the SMMU would use for a device access to @iova; undefined beyond ias (a translation fault). */
  leaf_at(iova: bigint): ArmLpaeLeaf | undefined {
    return iova >> this.ias_big ? undefined : this.walk(iova);
  }

  leaves(): Iterable<ArmLpaeLeaf> {
    return this.iter_leaves(this.pgd);
  }

  private walk(iova: bigint): ArmLpaeLeaf | undefined {
    const pfn = Number((iova & ((1n << 64n) - 1n)) >> this.pg_shift);
    let table = this.pgd;
    for (let lvl = this.geo.start_level; lvl < MAX_LEVELS; lvl++) {
      const e = table.entries.get(this.lvl_idx(pfn, lvl));
      if (!e) return undefined;
      if (e.kind === 'leaf') return e;
      table = e;
    }
    return undefined;
  }

  private *iter_leaves(table: ArmLpaeTable): Generator<ArmLpaeLeaf> {
    for (const idx of this.sorted_reachable(table)) {
      const e = table.entries.get(idx)!;
      if (e.kind === 'leaf') yield e;
      else yield* this.iter_leaves(e);
    }
  }

  /** The view's leaves_in: leaves of @table overlapping [lo, hi] (inclusive, inside the table's span), into @out. */
  private range_leaves(table: ArmLpaeTable, lo: bigint, hi: bigint, out: ArmLpaeLeaf[]): void {
    const sz = this.blk[table.lvl]!;
    const limit = table === this.pgd ? this.pgd_entries : this.ptes_per_table;
    const first = Number((lo - table.iova) / sz);
    const last = Math.min(Number((hi - table.iova) / sz), limit - 1);
    if (first > last) return;
    const visit = (idx: number): void => {
      const e = table.entries.get(idx);
      if (!e) return;
      if (e.kind === 'leaf') out.push(e);
      else this.range_leaves(e, lo > e.iova ? lo : e.iova, hi < e.iova + sz - 1n ? hi : e.iova + sz - 1n, out);
    };
    if (last - first < table.entries.size) for (let i = first; i <= last; i++) visit(i);
    else for (const i of [...table.entries.keys()].sort((a, b) => a - b)) if (i >= first && i <= last) visit(i);
  }

  private *iter_tables(table: ArmLpaeTable): Generator<ArmLpaeTableInfo> {
    yield { iova: table.iova, level: table.lvl, entries: table.entries.size };
    for (const idx of this.sorted_reachable(table)) {
      const e = table.entries.get(idx)!;
      if (e.kind === 'table') yield* this.iter_tables(e);
    }
  }

  /** Entry indices in ascending order; at the pgd, only the 2^pgd_bits a walk can reach. */
  private sorted_reachable(table: ArmLpaeTable): number[] {
    const keys = [...table.entries.keys()].sort((a, b) => a - b);
    return table === this.pgd ? keys.filter((k) => k < this.pgd_entries) : keys;
  }

  /** Bytes of translation under @table (for the overlapping-map record). */
  private mapped_bytes(table: ArmLpaeTable): bigint {
    let sum = 0n;
    for (const e of table.entries.values()) sum += e.kind === 'leaf' ? e.size : this.mapped_bytes(e);
    return sum;
  }

  /**
   * ARM_LPAE_LVL_IDX on the iova's granule-page number (exact as a double: < 2^52).
   * At the start level the index is masked to the pgd's 2^pgd_bits entries.
   */
  private lvl_idx(pfn: number, lvl: number): number {
    const entries = lvl === this.geo.start_level ? this.pgd_entries : this.ptes_per_table;
    return Math.floor(pfn / this.blk_pages[lvl]!) % entries;
  }

  /**
   * arm_lpae_max_entries(): entries from @i to the end of its table page. At a pgd
   * smaller than a page this can run past the 2^pgd_bits reachable entries, as in the
   * kernel: those entries are written but no walk reads them (stats.pgd_overrun_entries).
   */
  private max_entries(i: number): number {
    return this.ptes_per_table - (i & (this.ptes_per_table - 1));
  }

  private new_table(lvl: number, iova: bigint): ArmLpaeTable {
    this.s.tables_allocated++;
    this.s.tables++;
    return { kind: 'table', lvl, iova, entries: new Map() };
  }

  private warn(code: string, message: string): void {
    this.warn_cb?.('kernel', code, message);
  }

  private make_view(): ArmLpaePgtableView {
    const self = this;
    return {
      granule: this.geo.granule,
      start_level: this.geo.start_level,
      pgd_entries: this.pgd_entries,
      pgsize_bitmap: this.pgsize_bitmap,
      ias: this.ias,
      oas: this.oas,
      linux: this.linux,
      block_size: (lvl) => self.blk[lvl] ?? 0n,
      iova_to_phys: (iova) => self.iova_to_phys(iova),
      leaf_at: (iova) => self.leaf_at(iova),
      leaves: () => self.leaves(),
      tables: () => self.iter_tables(self.pgd),
      leaves_in: (start, end) => {
        const out: ArmLpaeLeaf[] = [];
        const top = (1n << self.ias_big) - 1n;
        const hi = end - 1n < top ? end - 1n : top;
        if (start <= hi) self.range_leaves(self.pgd, start < 0n ? 0n : start, hi, out);
        return out;
      },
    };
  }
}
