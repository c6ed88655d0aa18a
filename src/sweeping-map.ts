/**
 * A Map for keys that come and go often. V8's Map leaves a deleted entry in
 * its hash chain until the table is rebuilt, so deleting and re-adding the
 * same key in a large Map (map/unmap of one buffer while 100k others stay
 * live) makes every lookup of that key walk a growing chain. Here a delete
 * only marks the entry empty, and the Map is rebuilt once empties outnumber
 * live entries: amortised O(1), and lookups stay O(1).
 */
const EMPTY: unique symbol = Symbol('empty');

export class SweepingMap<K, V> implements Iterable<[K, V]> {
  private m = new Map<K, V | typeof EMPTY>();
  private holes = 0;

  get size(): number {
    return this.m.size - this.holes;
  }

  get(k: K): V | undefined {
    const v = this.m.get(k);
    return v === EMPTY ? undefined : v;
  }

  has(k: K): boolean {
    const v = this.m.get(k);
    return v !== undefined && v !== EMPTY;
  }

  set(k: K, v: V): this {
    if (this.m.get(k) === EMPTY) this.holes--;
    this.m.set(k, v);
    return this;
  }

  delete(k: K): boolean {
    const v = this.m.get(k);
    if (v === undefined || v === EMPTY) return false;
    this.m.set(k, EMPTY);
    if (++this.holes > 64 && this.holes * 2 > this.m.size) this.sweep();
    return true;
  }

  clear(): void {
    this.m = new Map();
    this.holes = 0;
  }

  *[Symbol.iterator](): Iterator<[K, V]> {
    for (const [k, v] of this.m) if (v !== EMPTY) yield [k, v];
  }

  entries(): Iterable<[K, V]> {
    return this;
  }

  *keys(): Iterable<K> {
    for (const [k] of this) yield k;
  }

  *values(): Iterable<V> {
    for (const [, v] of this) yield v;
  }

  private sweep(): void {
    const fresh = new Map<K, V | typeof EMPTY>();
    for (const [k, v] of this.m) if (v !== EMPTY) fresh.set(k, v);
    this.m = fresh;
    this.holes = 0;
  }
}
