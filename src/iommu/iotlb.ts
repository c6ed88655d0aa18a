/**
 * The hardware IOTLB of one domain (the SMMU's TLB for one ASID): translations the
 * walker has cached. iommu.md §1 (IoTlb), §4.6, §5.7, §6.2.
 *
 * An entry is filled from a leaf on a successful walk and stays usable until an
 * invalidation covers it, whatever the page table says meanwhile: that is how stale
 * translations appear after a lazy (flush-queue) unmap or an unmap_fast before its sync.
 *
 * Entries are kept in one ordered tree per leaf size, keyed by the leaf's IOVA base, so
 * lookup is O(sizes · log n) and a range invalidation O(sizes · log n + removed).
 *
 * model: an invalidation removes every entry that overlaps its range, at any size. SMMUv3
 * without range invalidation issues one TLBI per granule step, which does that; with
 * RANGE_INV the leaf TTL hint could in principle spare an entry of another level (for
 * instance a 2M block split by a 6.12 partial unmap), which this model does not do.
 * model: the IOTLB holds what it was given; it never fills itself (fills are explicit:
 * the device-access oracle, or an adversarial prefetch op).
 */
import BTree from 'sorted-btree';
import type { LeafPerms } from './io-pgtable';

/** A cached translation: a whole leaf (its IOVA base and size) and what it allowed. */
export interface IotlbEntry {
  readonly iova: bigint;
  readonly size: bigint;
  readonly paddr: bigint;
  readonly perms: LeafPerms;
}

export interface IotlbStats {
  readonly fills: number;
  readonly hits: number;
  readonly misses: number;
  /** invalidate_range calls (arm_smmu_iotlb_sync, arm_smmu_tlb_inv_walk). */
  readonly range_invalidations: number;
  /** flush_all calls (arm_smmu_flush_iotlb_all / tlb_inv_context). */
  readonly full_flushes: number;
  /** Entries removed by either. */
  readonly entries_invalidated: number;
}

type MutableStats = { -readonly [K in keyof IotlbStats]: IotlbStats[K] };

const cmp = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);

/** The physical address an entry gives for @iova (which it must cover). */
export const iotlb_translate = (e: IotlbEntry, iova: bigint): bigint => e.paddr + (iova - e.iova);

export class Iotlb {
  /** One tree per entry size, in ascending size order. */
  private readonly by_size: { readonly size: bigint; readonly tree: BTree<bigint, IotlbEntry> }[] = [];
  private readonly s: MutableStats = { fills: 0, hits: 0, misses: 0, range_invalidations: 0, full_flushes: 0, entries_invalidated: 0 };

  /** A snapshot of the counters. */
  get stats(): IotlbStats {
    return { ...this.s };
  }

  /** Entries held. */
  get size(): number {
    let n = 0;
    for (const c of this.by_size) n += c.tree.size;
    return n;
  }

  /**
   * fill() - cache @leaf, as the walker does after a successful table walk. An entry
   * with the same base and size is replaced (model: real TLBs must not hold both).
   * @leaf: any object with iova (the leaf base, aligned to size), size, paddr and perms.
   */
  fill(leaf: IotlbEntry): void {
    const { iova, size, paddr, perms } = leaf;
    if (size <= 0n || (size & (size - 1n)) !== 0n || (iova & (size - 1n)) !== 0n) {
      throw new Error(`iotlb: fill with a leaf that is not size-aligned: iova 0x${iova.toString(16)} size 0x${size.toString(16)}`);
    }
    this.tree_for(size).set(iova, { iova, size, paddr, perms });
    this.s.fills++;
  }

  /**
   * lookup() - the cached translation covering @iova, or undefined (counts a hit or a
   * miss). With entries of several sizes covering it (possible only across a change of
   * leaf size), the smallest wins: model, the hardware's choice is not specified.
   */
  lookup(iova: bigint): IotlbEntry | undefined {
    const e = this.peek(iova);
    if (e) this.s.hits++;
    else this.s.misses++;
    return e;
  }

  /** lookup() without counting, for checkers. */
  peek(iova: bigint): IotlbEntry | undefined {
    for (const { size, tree } of this.by_size) {
      const e = tree.get(iova & ~(size - 1n));
      if (e) return e;
    }
    return undefined;
  }

  /** Every entry covering @iova, smallest first (for the §6.2 oracle and checkers). */
  lookup_all(iova: bigint): IotlbEntry[] {
    const out: IotlbEntry[] = [];
    for (const { size, tree } of this.by_size) {
      const e = tree.get(iova & ~(size - 1n));
      if (e) out.push(e);
    }
    return out;
  }

  /** Entries overlapping [@start, @end_inclusive], in ascending IOVA order (I-C4 checks). */
  overlapping(start: bigint, end_inclusive: bigint): IotlbEntry[] {
    const out: IotlbEntry[] = [];
    if (start > end_inclusive) return out;
    for (const { size, tree } of this.by_size) {
      tree.forRange(start & ~(size - 1n), end_inclusive, true, (_k, e) => {
        out.push(e);
      });
    }
    return out.sort((a, b) => cmp(a.iova, b.iova) || cmp(a.size, b.size));
  }

  /**
   * invalidate_range() - drop every entry overlapping [@start, @end_inclusive]: what
   * arm_smmu_iotlb_sync does for a gather and arm_smmu_tlb_inv_walk for a torn-down
   * table (iommu.md §4.6, §5.7). An empty range (start > end) removes nothing.
   * Returns the number of entries removed.
   */
  invalidate_range(start: bigint, end_inclusive: bigint): number {
    this.s.range_invalidations++;
    if (start > end_inclusive) return 0;
    let n = 0;
    for (const { size, tree } of this.by_size) n += tree.deleteRange(start & ~(size - 1n), end_inclusive, true);
    this.s.entries_invalidated += n;
    return n;
  }

  /** flush_all() - drop everything: flush_iotlb_all (the flush queue's flush). Returns the count. */
  flush_all(): number {
    this.s.full_flushes++;
    let n = 0;
    for (const { tree } of this.by_size) {
      n += tree.size;
      tree.clear();
    }
    this.s.entries_invalidated += n;
    return n;
  }

  /** Entries in ascending IOVA order (ties: smaller size first). */
  *[Symbol.iterator](): IterableIterator<IotlbEntry> {
    const its = this.by_size.map((c) => c.tree.values());
    const heads = its.map((it) => it.next());
    for (;;) {
      let best = -1;
      for (let i = 0; i < heads.length; i++) {
        const h = heads[i]!;
        if (h.done) continue;
        if (best < 0 || h.value.iova < (heads[best]!.value as IotlbEntry).iova) best = i;
      }
      if (best < 0) return;
      yield heads[best]!.value as IotlbEntry;
      heads[best] = its[best]!.next();
    }
  }

  private tree_for(size: bigint): BTree<bigint, IotlbEntry> {
    for (const c of this.by_size) if (c.size === size) return c.tree;
    const tree = new BTree<bigint, IotlbEntry>(undefined, cmp);
    this.by_size.push({ size, tree });
    this.by_size.sort((a, b) => cmp(a.size, b.size));
    return tree;
  }
}
