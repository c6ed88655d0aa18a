/**
 * Property tests of the IOVA allocator against naive models (STYLE.md §2
 * "Testing habits"; iommu.md §2.14):
 *  1. fc.commands over the whole domain (tree + range caches + time + CPUs)
 *     against an array of live and reserved ranges, checking I-A1..I-A6, I-A8,
 *     I-A10 after every command and I-A11 on every failure;
 *  2. an exact differential of the tree operations against a sorted-array
 *     re-implementation of §2.3–§2.7 whose second pass starts at the anchor
 *     (so it also tests the §2.4 equivalence the model relies on).
 * fast-check prints the seed and path of any counterexample; set IOVA_PROP_RUNS
 * for longer runs. Run: npx tsx --test src/iommu/iova*.test.ts
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Timers } from '../timers';
import { IovaDomain } from './iova';
import { IOVA_ANCHOR, fls_long, roundup_pow_of_two, u64, type IovaView } from './iova-types';
import {
  checkIovaAlloc, checkIovaAllocFailure, checkIovaCoverage, checkIovaDomain, checkIovaRange,
  checkReservePrecondition, cachedPfns,
} from './iova-check';

const RUNS = Number(process.env['IOVA_PROP_RUNS'] ?? 150);
const D32 = 0x100000n;

type Range = { lo: bigint; hi: bigint };
interface Live extends Range { req: bigint; fast: boolean }
interface Model {
  readonly start: bigint;
  readonly limits: readonly bigint[];
  readonly live: Map<bigint, Live>;
  reserved: Range[];
  /** The failure that last set max32_alloc_size: its exclusive limit and alignment. */
  setter: { L: bigint; aligned: boolean } | null;
}
interface Real { readonly d: IovaDomain; readonly timers: Timers; failMag: boolean }

const hex = (x: bigint): string => `0x${x.toString(16)}`;

/** The kernel's reserve_iova on a sorted list of reserved ranges (only reserved nodes overlap, by precondition). */
function naiveReserve(list: Range[], lo: bigint, hi: bigint): Range[] {
  const out = list.map((r) => ({ ...r }));
  let overlap = false;
  for (const n of out) {
    if (lo <= n.hi && hi >= n.lo) {
      if (lo < n.lo) n.lo = lo;
      if (hi > n.hi) lo = n.hi + 1n;
      if (lo >= n.lo && hi <= n.hi) return out;
      overlap = true;
    } else if (overlap) break;
  }
  out.push({ lo, hi });
  return out.sort((a, b) => (a.lo < b.lo ? -1 : 1));
}

/** I-A1..I-A6, I-A8, I-A10 after every command; plus the model's reserved list equals the tree's. */
function verify(m: Model, r: Real, what: string): void {
  const v = r.d.view;
  const errs = [...checkIovaDomain(v), ...checkIovaCoverage(v, [...m.live.values()].map((l) => ({ pfn_lo: l.lo, pfn_hi: l.hi })))];
  const reserved = [...v.nodes()].filter((n) => n.reserved).map((n) => `${hex(n.pfn_lo)}-${hex(n.pfn_hi)}`);
  const want = m.reserved.map((n) => `${hex(n.lo)}-${hex(n.hi)}`);
  if (reserved.join() !== want.join()) errs.push(`reserved nodes ${reserved.join()} but the model has ${want.join()}`);
  if (v.max32_alloc_size === D32) m.setter = null;
  assert.deepEqual(errs, [], `after ${what}`);
}

/** I-A11 for a failed call, unless every attempt failed by a shortcut the kernel's rules do not make complete. */
function checkFailure(m: Model, v: IovaView, size: bigint, limit: bigint, aligned: boolean, shortcuts: number, failures: number): string[] {
  const L = u64(limit + 1n);
  const s = m.setter;
  const excused = shortcuts === failures && s !== null && (s.L < L || (s.aligned && !aligned));
  if (failures > shortcuts) m.setter = { L, aligned };
  return excused ? [] : checkIovaAllocFailure(v, size, limit, aligned);
}

class Alloc implements fc.Command<Model, Real> {
  constructor(readonly size: bigint, readonly li: number, readonly aligned: boolean) {}
  check = (): boolean => true;
  run(m: Model, r: Real): void {
    const v = r.d.view;
    const limit = m.limits[this.li % m.limits.length]!;
    const [s0, f0] = [v.stats.shortcut_32bit, v.stats.alloc_failures];
    const got = r.d.alloc_iova(this.size, limit, this.aligned);
    let errs: string[];
    if (got === null) {
      errs = checkFailure(m, v, this.size, limit, this.aligned, v.stats.shortcut_32bit - s0, v.stats.alloc_failures - f0);
    } else {
      errs = [...checkIovaAlloc(v, got, this.size, limit, this.aligned), ...checkIovaRange(v, got.pfn_lo, got.pfn_hi)];
      m.live.set(got.pfn_lo, { lo: got.pfn_lo, hi: got.pfn_hi, req: this.size, fast: false });
    }
    assert.deepEqual(errs, [], this.toString());
    verify(m, r, this.toString());
  }
  toString = (): string => `alloc_iova(${this.size}, limit#${this.li}, ${this.aligned})`;
}

class AllocFast implements fc.Command<Model, Real> {
  constructor(readonly cpu: number, readonly size: bigint, readonly li: number, readonly flush: boolean) {}
  check = (): boolean => true;
  run(m: Model, r: Real): void {
    const v = r.d.view;
    const limit = m.limits[this.li % m.limits.length]!;
    const cpu = this.cpu % v.ncpus;
    const rsize = this.size < 32n ? roundup_pow_of_two(this.size) : this.size;
    const [s0, f0] = [v.stats.shortcut_32bit, v.stats.alloc_failures];
    const pfn = r.d.alloc_iova_fast(cpu, this.size, limit, this.flush);
    let errs: string[];
    if (pfn === 0n) {
      errs = checkFailure(m, v, rsize, limit, true, v.stats.shortcut_32bit - s0, v.stats.alloc_failures - f0);
      if (this.flush && cachedPfns(v).length !== 0) errs.push('caches not empty after a flush');
    } else {
      errs = checkIovaAlloc(v, { pfn_lo: pfn, pfn_hi: pfn + rsize - 1n }, rsize, limit, true);
      if (m.live.has(pfn)) errs.push(`${hex(pfn)} handed out twice`);
      m.live.set(pfn, { lo: pfn, hi: pfn + rsize - 1n, req: this.size, fast: true });
    }
    assert.deepEqual(errs, [], this.toString());
    verify(m, r, this.toString());
  }
  toString = (): string => `alloc_iova_fast(cpu${this.cpu}, ${this.size}, limit#${this.li}, ${this.flush})`;
}

class Free implements fc.Command<Model, Real> {
  constructor(readonly idx: number, readonly offset: number, readonly fast: boolean, readonly cpu: number, readonly failMag: boolean) {}
  check = (m: Model): boolean => m.live.size > 0;
  run(m: Model, r: Real): void {
    const keys = [...m.live.keys()];
    const l = m.live.get(keys[this.idx % keys.length]!)!;
    m.live.delete(l.lo);
    if (this.fast && l.fast) {
      r.failMag = this.failMag;
      r.d.free_iova_fast(this.cpu % r.d.ncpus, l.lo, l.req);
      r.failMag = false;
    } else {
      r.d.free_iova(l.lo + (BigInt(this.offset) % (l.hi - l.lo + 1n)));
    }
    verify(m, r, this.toString());
  }
  toString = (): string => `free#${this.idx}(${this.fast ? `fast cpu${this.cpu}${this.failMag ? ' magfail' : ''}` : `+${this.offset}`})`;
}

class Reserve implements fc.Command<Model, Real> {
  constructor(readonly at: number, readonly len: number) {}
  check = (): boolean => true;
  run(m: Model, r: Real): void {
    const lo = m.start - 4n + BigInt(this.at);
    const hi = lo + BigInt(this.len) - 1n;
    if (checkReservePrecondition(r.d.view, lo, hi).length !== 0) return; // §2.7: the DMA layer never does this
    const got = r.d.reserve_iova(lo, hi);
    m.reserved = naiveReserve(m.reserved, lo, hi);
    assert.ok(got !== null && got.pfn_lo <= hi && got.pfn_hi >= hi, this.toString());
    verify(m, r, this.toString());
  }
  toString = (): string => `reserve_iova(start-4+${this.at}, len ${this.len})`;
}

class FreeAny implements fc.Command<Model, Real> {
  constructor(readonly at: number) {}
  check = (): boolean => true;
  run(m: Model, r: Real): void {
    const pfn = m.start - 4n + BigInt(this.at);
    const n = r.d.view.find_iova(pfn);
    if (n !== undefined && !n.reserved) return; // live or cached: not ours to free
    r.d.free_iova(pfn);
    if (n !== undefined) m.reserved = m.reserved.filter((x) => x.lo !== n.pfn_lo);
    verify(m, r, this.toString());
  }
  toString = (): string => `free_iova(start-4+${this.at})`;
}

class Find implements fc.Command<Model, Real> {
  constructor(readonly at: number) {}
  check = (): boolean => true;
  run(m: Model, r: Real): void {
    const pfn = m.start - 4n + BigInt(this.at);
    const got = r.d.find_iova(pfn);
    const v = r.d.view;
    const owned = [...m.live.values(), ...m.reserved].find((x) => x.lo <= pfn && pfn <= x.hi);
    const cached = cachedPfns(v).map((p) => v.node_at(p)!).find((n) => n.pfn_lo <= pfn && pfn <= n.pfn_hi);
    const want = owned !== undefined ? [owned.lo, owned.hi] : cached !== undefined ? [cached.pfn_lo, cached.pfn_hi] : null;
    assert.deepEqual(got === null ? null : [got.pfn_lo, got.pfn_hi], want, this.toString());
  }
  toString = (): string => `find_iova(start-4+${this.at})`;
}

/** Many one-pfn alloc_iova_fast calls then frees on one CPU: reaches the 255th free and the depot. */
class Burst implements fc.Command<Model, Real> {
  constructor(readonly cpu: number, readonly count: number, readonly freeCpu: number, readonly failEvery: number) {}
  check = (): boolean => true;
  run(m: Model, r: Real): void {
    const v = r.d.view;
    const got: bigint[] = [];
    for (let i = 0; i < this.count; i++) {
      const pfn = r.d.alloc_iova_fast(this.cpu % v.ncpus, 1n, m.limits[0]!, true);
      if (pfn === 0n) break;
      assert.ok(!m.live.has(pfn), `${this.toString()}: ${hex(pfn)} handed out twice`);
      got.push(pfn);
    }
    got.forEach((pfn, i) => {
      r.failMag = this.failEvery !== 0 && i % this.failEvery === 0;
      r.d.free_iova_fast(this.freeCpu % v.ncpus, pfn, 1n);
    });
    r.failMag = false;
    verify(m, r, this.toString());
  }
  toString = (): string => `burst(alloc ${this.count} on cpu${this.cpu}, free on cpu${this.freeCpu}, magfail every ${this.failEvery})`;
}

class CpuDead implements fc.Command<Model, Real> {
  constructor(readonly cpu: number) {}
  check = (): boolean => true;
  run(m: Model, r: Real): void {
    r.d.iova_cpuhp_dead(this.cpu % r.d.ncpus);
    verify(m, r, this.toString());
  }
  toString = (): string => `iova_cpuhp_dead(${this.cpu})`;
}

class Advance implements fc.Command<Model, Real> {
  constructor(readonly ms: number) {}
  check = (): boolean => true;
  run(m: Model, r: Real): void {
    r.timers.advance(this.ms);
    verify(m, r, this.toString());
  }
  toString = (): string => `advance_time(${this.ms})`;
}

const size = fc.oneof(fc.bigInt(1n, 8n), fc.bigInt(1n, 40n));
const commands = [
  fc.tuple(size, fc.nat(3), fc.boolean()).map(([s, l, a]) => new Alloc(s, l, a)),
  fc.tuple(fc.nat(2), size, fc.nat(3), fc.boolean()).map(([c, s, l, f]) => new AllocFast(c, s, l, f)),
  fc.tuple(fc.nat(2), size, fc.nat(3), fc.boolean()).map(([c, s, l, f]) => new AllocFast(c, s, l, f)),
  fc.tuple(fc.nat(), fc.nat(), fc.boolean(), fc.nat(2), fc.boolean()).map(([i, o, f, c, x]) => new Free(i, o, f, c, x)),
  fc.tuple(fc.nat(), fc.nat(), fc.constant(true), fc.nat(2), fc.constant(false)).map(([i, o, f, c, x]) => new Free(i, o, f, c, x)),
  fc.tuple(fc.nat(300), fc.integer({ min: 1, max: 8 })).map(([a, l]) => new Reserve(a, l)),
  fc.nat(300).map((a) => new FreeAny(a)),
  fc.nat(300).map((a) => new Find(a)),
  fc.nat(2).map((c) => new CpuDead(c)),
  fc.tuple(fc.nat(2), fc.integer({ min: 50, max: 600 }), fc.nat(2), fc.constantFrom(0, 0, 2, 7)).map(([c, n, f, x]) => new Burst(c, n, f, x)),
  fc.constantFrom(10, 50, 100, 250).map((ms) => new Advance(ms)),
];

describe('IOVA domain against a naive model (I-A1..I-A6, I-A8, I-A10, I-A11)', () => {
  test('random command sequences', () => {
    const setup = fc.record({ window: fc.constantFrom(24n, 64n, 200n, 1200n), ncpus: fc.integer({ min: 1, max: 3 }) });
    const seen = new Map<string, number>();
    fc.assert(
      fc.property(setup, fc.commands(commands, { maxCommands: 400, size: 'large' }), ({ window, ncpus }, cmds) => {
        const start = D32 - window;
        const timers = new Timers();
        const real: Real = { d: undefined as unknown as IovaDomain, timers, failMag: false };
        const d = new IovaDomain({ granule: 0x1000n, start_pfn: start, page_size: 4096, ncpus, timers, fail_magazine_alloc: () => real.failMag });
        (real as { d: IovaDomain }).d = d;
        const model: Model = {
          start, live: new Map(), reserved: [], setter: null,
          limits: [D32 - 1n, D32 - 1n - window / 2n, D32 + 31n, D32 + 127n],
        };
        fc.modelRun(() => ({ model, real }), cmds);
        for (const [k, n] of Object.entries(d.view.stats)) seen.set(k, (seen.get(k) ?? 0) + n);
      }),
      { numRuns: RUNS },
    );
    // The runs must have reached every path the invariants are meant to guard.
    const missed = [...seen].filter(([k, n]) => n === 0 && k !== 'warnings').map(([k]) => k);
    assert.deepEqual(missed, [], `paths never taken: ${missed.join(', ')}`);
  });
});

// ---- exact differential of the tree operations ------------------------------------------------

interface NNode { lo: bigint; hi: bigint }

/** iommu.md §2.3–§2.7 on a sorted array, written from the digest; pass 2 starts at the anchor (§2.4). */
class NaiveTree {
  nodes: NNode[] = [{ lo: IOVA_ANCHOR, hi: IOVA_ANCHOR }];
  cached = IOVA_ANCHOR;
  cached32 = IOVA_ANCHOR;
  max32 = D32;
  constructor(readonly start: bigint) {}
  private idx(lo: bigint): number {
    return this.nodes.findIndex((n) => n.lo === lo);
  }
  alloc(size: bigint, limit: bigint, aligned: boolean): NNode | null {
    const L = u64(limit + 1n);
    const k = aligned ? BigInt(fls_long(size - 1n)) : 0n;
    if (L <= D32 && size >= this.max32) return null;
    let i = this.idx(L <= D32 ? this.cached32 : this.cached);
    const retry = this.nodes[i]!.hi;
    let [high, low, cand] = [L, this.start, 0n];
    for (let pass = 1; ; pass++) {
      for (;;) {
        high = this.nodes[i]!.lo < high ? this.nodes[i]!.lo : high;
        cand = (u64(high - size) >> k) << k;
        if (i === 0 || cand > this.nodes[i - 1]!.hi || cand < low) break;
        i--;
      }
      if (high >= size && cand >= low) break;
      if (pass === 1 && retry < L) {
        [high, low, i] = [L, retry + 1n, this.nodes.length - 1];
        continue;
      }
      this.max32 = size;
      return null;
    }
    const n = { lo: cand, hi: cand + size - 1n };
    this.nodes.splice(i, 0, n);
    if (n.hi < D32) this.cached32 = cand;
    else this.cached = cand;
    return n;
  }
  free(pfn: bigint): void {
    const i = this.nodes.findIndex((n) => n.lo <= pfn && pfn <= n.hi);
    if (i < 0) return;
    const f = this.nodes[i]!;
    const next = this.nodes[i + 1]!.lo;
    if (f.lo === this.cached32 || (f.hi < D32 && f.lo >= this.cached32)) this.cached32 = next;
    if (f.lo < D32) this.max32 = D32;
    if (f.lo >= this.cached) this.cached = next;
    this.nodes.splice(i, 1);
  }
  reserve(lo: bigint, hi: bigint): void {
    let overlap = false;
    for (const n of this.nodes) {
      if (lo <= n.hi && hi >= n.lo) {
        if (lo < n.lo) {
          if (this.cached === n.lo) this.cached = lo;
          if (this.cached32 === n.lo) this.cached32 = lo;
          n.lo = lo;
        }
        if (hi > n.hi) lo = n.hi + 1n;
        if (lo >= n.lo && hi <= n.hi) return;
        overlap = true;
      } else if (overlap) break;
    }
    this.nodes.push({ lo, hi });
    this.nodes.sort((a, b) => (a.lo < b.lo ? -1 : 1));
  }
}

type TreeOp = { op: 'alloc'; size: bigint; li: number; aligned: boolean } | { op: 'free'; at: number } | { op: 'reserve'; at: number; len: number };

describe('tree operations: exact pfns against a sorted-array re-implementation (Level A)', () => {
  test('alloc_iova / free_iova / reserve_iova sequences give identical pfns, cached nodes and max32_alloc_size', () => {
    const op: fc.Arbitrary<TreeOp> = fc.oneof(
      { weight: 5, arbitrary: fc.record({ op: fc.constant('alloc' as const), size: fc.bigInt(1n, 20n), li: fc.nat(4), aligned: fc.boolean() }) },
      { weight: 3, arbitrary: fc.record({ op: fc.constant('free' as const), at: fc.nat(400) }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('reserve' as const), at: fc.nat(400), len: fc.integer({ min: 1, max: 12 }) }) },
    );
    fc.assert(
      fc.property(fc.constantFrom(40n, 150n, 300n), fc.array(op, { maxLength: 300, size: 'max' }), (window, ops) => {
        const start = D32 - window;
        const limits = [D32 - 1n, D32 - window / 2n, D32 + 15n, D32 + 99n, D32 - 1n];
        const d = new IovaDomain({ granule: 0x1000n, start_pfn: start, page_size: 4096, ncpus: 1, timers: new Timers() });
        const n = new NaiveTree(start);
        ops.forEach((o, step) => {
          const at = (x: number): bigint => start - 8n + BigInt(x);
          if (o.op === 'alloc') {
            const got = d.alloc_iova(o.size, limits[o.li]!, o.aligned);
            const want = n.alloc(o.size, limits[o.li]!, o.aligned);
            assert.deepEqual(got && [got.pfn_lo, got.pfn_hi], want && [want.lo, want.hi], `step ${step}`);
          } else if (o.op === 'free') {
            d.free_iova(at(o.at));
            n.free(at(o.at));
          } else {
            d.reserve_iova(at(o.at), at(o.at) + BigInt(o.len) - 1n);
            n.reserve(at(o.at), at(o.at) + BigInt(o.len) - 1n);
          }
          const v = d.view;
          assert.deepEqual([v.cached_node, v.cached32_node, v.max32_alloc_size], [n.cached, n.cached32, n.max32], `step ${step}`);
        });
        assert.deepEqual([...d.view.nodes()].map((x) => [x.pfn_lo, x.pfn_hi]), n.nodes.map((x) => [x.lo, x.hi]));
      }),
      { numRuns: RUNS },
    );
  });
});
