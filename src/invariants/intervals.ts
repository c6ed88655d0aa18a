/**
 * A set of half-open intervals [start, end) over u64 addresses, for the
 * checkers' shadows (live mappings by DMA address, by physical range, by cache
 * line). Intervals are grouped by the bit length of their length: a class with
 * lengths up to 2^c is bucketed by start >> c, so the intervals meeting a query
 * sit in the buckets the query spans plus one before. A query costs
 * O(classes + buckets spanned + hits): O(size of the op), never a walk over
 * every live interval unless the query itself is that wide.
 */
import { SweepingMap } from '../sweeping-map';

/** Buckets are at least 4 KiB wide, so start >> c stays below 2^53 (exact as a number). */
const MIN_SHIFT = 12;

interface Slot<T> {
  readonly value: T;
  readonly start: bigint;
  readonly end: bigint;
  cls: number;
  key: number;
}

/** What insert returns: pass it to remove. */
export type IntervalHandle<T> = Readonly<Slot<T>>;

function bitlen(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length;
}

export class IntervalSet<T> {
  /** class → bucket key → slots */
  private readonly classes = new Map<number, SweepingMap<number, Set<Slot<T>>>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Adds [start, end); an empty interval is stored as one byte wide. */
  insert(start: bigint, end: bigint, value: T): IntervalHandle<T> {
    const e = end > start ? end : start + 1n;
    const c = Math.max(MIN_SHIFT, bitlen(e - start - 1n));
    let cl = this.classes.get(c);
    if (cl === undefined) this.classes.set(c, (cl = new SweepingMap()));
    const key = Number(start >> BigInt(c));
    let b = cl.get(key);
    if (b === undefined) cl.set(key, (b = new Set()));
    const slot: Slot<T> = { value, start, end: e, cls: c, key };
    b.add(slot);
    this.count++;
    return slot;
  }

  remove(h: IntervalHandle<T>): void {
    const cl = this.classes.get(h.cls);
    const b = cl?.get(h.key);
    if (!b || !b.delete(h as Slot<T>)) return;
    this.count--;
    if (b.size === 0) cl!.delete(h.key);
    if (cl!.size === 0) this.classes.delete(h.cls);
  }

  /** Calls fn for every interval meeting [lo, hi), each once. */
  query(lo: bigint, hi: bigint, fn: (value: T, start: bigint, end: bigint) => void): void {
    if (hi <= lo) hi = lo + 1n;
    for (const [c, cl] of this.classes) {
      const shift = BigInt(c);
      const k2 = Number((hi - 1n) >> shift);
      const k1 = Math.max(0, Number(lo >> shift) - 1);
      const visit = (b: Set<Slot<T>> | undefined): void => {
        if (b) for (const s of b) if (s.start < hi && lo < s.end) fn(s.value, s.start, s.end);
      };
      if (k2 - k1 <= cl.size) for (let k = k1; k <= k2; k++) visit(cl.get(k));
      else for (const [k, b] of cl) if (k >= k1 && k <= k2) visit(b);
    }
  }

  /** The values meeting [lo, hi), as a list. */
  overlapping(lo: bigint, hi: bigint): T[] {
    const out: T[] = [];
    this.query(lo, hi, (v) => out.push(v));
    return out;
  }
}
