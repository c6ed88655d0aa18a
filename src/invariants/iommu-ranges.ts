/**
 * Ordered range structures for the IOMMU checkers' shadows: the translations a
 * page table should hold (TranslationMap, a flat interval model of the leaves,
 * iommu.md §5.9 I-P3), and the comparison of a page table's leaves with it over
 * the range one op touched. B+trees keyed by range start, so every query costs
 * O(log n + ranges met), never a walk over every live mapping.
 */
import BTree from 'sorted-btree';
import type { PgtableLeaf } from '../iommu/io-pgtable';

const cmp = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);
export const hex = (v: bigint): string => `0x${v.toString(16)}`;

/** IOVA [start, end) translates linearly to paddr.. with prot. */
export interface Translation {
  readonly start: bigint;
  readonly end: bigint;
  readonly paddr: bigint;
  readonly prot: number;
}

/** Disjoint translations; set() replaces whatever it overlaps, remove() cuts. */
export class TranslationMap {
  private readonly t = new BTree<bigint, Translation>(undefined, cmp);

  get size(): number {
    return this.t.size;
  }

  /** The translations overlapping [start, end), ascending. */
  overlapping(start: bigint, end: bigint): Translation[] {
    const out: Translation[] = [];
    if (start >= end) return out;
    const before = this.t.nextLowerPair(start);
    if (before !== undefined && before[1].end > start) out.push(before[1]);
    this.t.forRange(start, end, false, (_k, v) => {
      out.push(v);
    });
    return out;
  }

  /** The translation of one address, or undefined. */
  at(iova: bigint): Translation | undefined {
    const p = this.t.getPairOrNextLower(iova);
    return p !== undefined && p[1].end > iova ? p[1] : undefined;
  }

  remove(start: bigint, end: bigint): void {
    for (const v of this.overlapping(start, end)) {
      this.t.delete(v.start);
      if (v.start < start) this.t.set(v.start, { start: v.start, end: start, paddr: v.paddr, prot: v.prot });
      if (v.end > end) this.t.set(end, { start: end, end: v.end, paddr: v.paddr + (end - v.start), prot: v.prot });
    }
  }

  set(start: bigint, end: bigint, paddr: bigint, prot: number): void {
    if (start >= end) return;
    this.remove(start, end);
    this.t.set(start, { start, end, paddr, prot });
  }

  /** Replaces [start, end) with what the leaves say (a resync after the kernel's own edge case). */
  resync(start: bigint, end: bigint, leaves: readonly PgtableLeaf[]): void {
    this.remove(start, end);
    for (const l of leaves) {
      const a = l.iova > start ? l.iova : start;
      const b = l.iova + l.size < end ? l.iova + l.size : end;
      if (a < b) this.t.set(a, { start: a, end: b, paddr: l.paddr + (a - l.iova), prot: l.prot });
    }
  }
}

/** One disagreement between the leaves and the expected translations at an address. */
export interface LeafMismatch {
  readonly at: bigint;
  readonly kind: 'extra' | 'missing' | 'phys' | 'prot';
  readonly message: string;
}

/**
 * Compares the leaves with the expected translations over [start, end): every
 * byte translated by a leaf must be expected (same physical address), every
 * expected byte must be translated, and where both hold the prot must agree.
 * Leaves must be ascending (leaves_in order). O(leaves + translations).
 * Reports at most `limit` mismatches.
 */
export function diffLeaves(leaves: readonly PgtableLeaf[], want: readonly Translation[], start: bigint, end: bigint, limit = 4): LeafMismatch[] {
  const out: LeafMismatch[] = [];
  let i = 0;
  let j = 0;
  let x = start;
  while (x < end && out.length < limit) {
    while (i < leaves.length && leaves[i]!.iova + leaves[i]!.size <= x) i++;
    while (j < want.length && want[j]!.end <= x) j++;
    const l = i < leaves.length && leaves[i]!.iova <= x ? leaves[i] : undefined;
    const w = j < want.length && want[j]!.start <= x ? want[j] : undefined;
    const nextL = l ? l.iova + l.size : i < leaves.length ? leaves[i]!.iova : end;
    const nextW = w ? w.end : j < want.length ? want[j]!.start : end;
    let next = nextL < nextW ? nextL : nextW;
    if (next > end) next = end;
    if (l && w) {
      const got = l.paddr + (x - l.iova);
      const exp = w.paddr + (x - w.start);
      if (got !== exp) out.push({ at: x, kind: 'phys', message: `IOVA ${hex(x)} translates to ${hex(got)}, expected ${hex(exp)}` });
      else if (l.prot !== w.prot) out.push({ at: x, kind: 'prot', message: `IOVA ${hex(x)} is mapped with prot ${hex(BigInt(l.prot))}, expected ${hex(BigInt(w.prot))}` });
    } else if (l) {
      out.push({ at: x, kind: 'extra', message: `IOVA ${hex(x)}..${hex(next - 1n)} translates (leaf ${hex(l.iova)}+${hex(l.size)} → ${hex(l.paddr)}) but nothing maps it` });
    } else if (w) {
      out.push({ at: x, kind: 'missing', message: `IOVA ${hex(x)}..${hex(next - 1n)} should translate to ${hex(w.paddr + (x - w.start))} but has no leaf` });
    }
    if (next <= x) break; // cannot happen with well-formed inputs; never loop forever
    x = next;
  }
  return out;
}

/** A set of disjoint ranges [lo, hi] (inclusive, pfns) with a payload, for live allocations. */
export class PfnRanges<T extends { readonly lo: bigint; readonly hi: bigint }> {
  private readonly t = new BTree<bigint, T>(undefined, cmp);

  get size(): number {
    return this.t.size;
  }

  get(lo: bigint): T | undefined {
    return this.t.get(lo);
  }

  /** The range containing pfn. */
  find(pfn: bigint): T | undefined {
    const p = this.t.getPairOrNextLower(pfn);
    return p !== undefined && p[1].hi >= pfn ? p[1] : undefined;
  }

  /** The ranges meeting [lo, hi], ascending. */
  overlapping(lo: bigint, hi: bigint): T[] {
    const out: T[] = [];
    const before = this.t.nextLowerPair(lo);
    if (before !== undefined && before[1].hi >= lo) out.push(before[1]);
    this.t.forRange(lo, hi, true, (_k, v) => {
      out.push(v);
    });
    return out;
  }

  add(v: T): void {
    this.t.set(v.lo, v);
  }

  delete(lo: bigint): boolean {
    return this.t.delete(lo);
  }

  values(): IterableIterator<T> {
    return this.t.values();
  }
}
