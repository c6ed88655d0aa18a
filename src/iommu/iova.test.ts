/**
 * IOVA tree unit tests: the worked examples of iommu.md §2.13 with their exact
 * pfns, the cached-node and max32_alloc_size rules (§2.5, §2.6), reserve_iova's
 * quirks (§2.7) and the checkers. Run: npx tsx --test src/iommu/iova*.test.ts
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Timers } from '../timers';
import { IovaDomain, type IovaDomainOptions } from './iova';
import { IOVA_ANCHOR, U64_MAX, iova_rcache_range, newIovaStats, order_base_2, roundup_pow_of_two, type IovaNodeView, type IovaRange, type IovaView } from './iova-types';
import { checkIovaAlloc, checkIovaAllocFailure, checkIovaCoverage, checkIovaDomain, checkIovaRange, checkReservePrecondition } from './iova-check';

const D32 = 0x100000n;
const LIM32 = 0xfffffn;

/** A REF domain (iommu.md §1.1): 4K granule, start_pfn 1, one CPU, unless overridden. */
function ref(over: Partial<IovaDomainOptions> = {}): IovaDomain {
  return new IovaDomain({ granule: 0x1000n, start_pfn: 1n, page_size: 4096, ncpus: 1, timers: new Timers(), ...over });
}

const r = (x: IovaRange | null): [bigint, bigint] | null => (x === null ? null : [x.pfn_lo, x.pfn_hi]);
const nodes = (d: IovaDomain): [bigint, bigint][] => [...d.view.nodes()].map((n) => [n.pfn_lo, n.pfn_hi]);

describe('init_iova_domain (§2.2)', () => {
  test('dma_32bit_pfn per granule, anchor, caches, max32_alloc_size', () => {
    assert.equal(ref().dma_32bit_pfn, 0x100000n);
    assert.equal(ref({ granule: 0x4000n, page_size: 0x4000 }).dma_32bit_pfn, 0x40000n);
    assert.equal(ref({ granule: 0x10000n, page_size: 0x10000 }).dma_32bit_pfn, 0x10000n);
    const d = ref();
    assert.deepEqual(nodes(d), [[IOVA_ANCHOR, IOVA_ANCHOR]]);
    assert.equal(d.view.cached_node, IOVA_ANCHOR);
    assert.equal(d.view.cached32_node, IOVA_ANCHOR);
    assert.equal(d.view.max32_alloc_size, D32);
    assert.equal(d.iova_shift(), 12);
    assert.deepEqual(checkIovaDomain(d.view), []);
  });

  test('BUG_ON: granule not a power of two or above PAGE_SIZE', () => {
    assert.throws(() => ref({ granule: 0x3000n }), /BUG/);
    assert.throws(() => ref({ granule: 0x2000n }), /BUG/);
  });

  test('helpers: iova.h and order/rounding', () => {
    const d = ref();
    assert.equal(d.iova_align(0x1001n), 0x2000n);
    assert.equal(d.iova_align_down(0x1fffn), 0x1000n);
    assert.equal(d.iova_offset(0x1234n), 0x234n);
    assert.equal(d.iova_pfn(0xfffff000n), 0xfffffn);
    assert.equal(d.iova_dma_addr({ pfn_lo: 0xfffffn, pfn_hi: 0xfffffn }), 0xfffff000n);
    assert.deepEqual([1n, 2n, 3n, 4n, 5n, 32n, 33n, 40n].map(order_base_2), [0, 1, 2, 2, 3, 5, 6, 6]);
    assert.deepEqual([1n, 2n, 3n, 17n, 31n].map(roundup_pow_of_two), [1n, 2n, 4n, 32n, 32n]);
    assert.equal(iova_rcache_range(4096), 128n * 1024n);
    assert.equal(iova_rcache_range(65536), 2n * 1024n * 1024n);
  });
});

describe('§2.13 worked examples', () => {
  test('E2.1 first allocations go to the top of the 32-bit space', () => {
    const d = ref();
    assert.deepEqual(r(d.alloc_iova(1n, LIM32, true)), [0xfffffn, 0xfffffn]);
    assert.deepEqual(r(d.alloc_iova(1n, LIM32, true)), [0xffffen, 0xffffen]);
    assert.deepEqual(r(d.alloc_iova(4n, LIM32, true)), [0xffff8n, 0xffffbn]);
    assert.equal(d.find_iova(0xffffcn), null, 'the gap 0xFFFFC–0xFFFFD stays free');
    assert.equal(d.find_iova(0xffffdn), null);
    assert.equal(d.view.cached32_node, 0xffff8n);
    assert.deepEqual(checkIovaDomain(d.view), []);
  });

  test('E2.2 larger than the cacheable size: not rounded, aligned to 64, freed straight to the tree', () => {
    const d = ref();
    assert.equal(d.alloc_iova_fast(0, 40n, LIM32, true), 0xfffc0n);
    assert.deepEqual(r(d.find_iova(0xfffc0n)), [0xfffc0n, 0xfffe7n]);
    d.free_iova_fast(0, 0xfffc0n, 40n);
    assert.equal(d.find_iova(0xfffc0n), null);
    assert.equal(d.view.stats.rcache_insert_fallbacks, 1);
    assert.deepEqual(nodes(d), [[IOVA_ANCHOR, IOVA_ANCHOR]]);
  });

  test('E2.3 reuse through the cache leaves the tree untouched', () => {
    const d = ref();
    assert.equal(d.alloc_iova_fast(0, 1n, LIM32, true), 0xfffffn);
    d.free_iova_fast(0, 0xfffffn, 1n);
    const calls = d.view.stats.alloc_calls;
    assert.deepEqual(d.view.rcaches[0]!.loaded(0), [0xfffffn]);
    assert.equal(d.alloc_iova_fast(0, 1n, LIM32, true), 0xfffffn);
    assert.equal(d.view.stats.alloc_calls, calls, 'no tree search');
    assert.equal(d.view.stats.rcache_hits, 1);
    assert.deepEqual(r(d.find_iova(0xfffffn)), [0xfffffn, 0xfffffn]);
  });

  test('E2.4 retry from the top: all twelve steps, cached32 and max32_alloc_size after each', () => {
    const d = ref({ start_pfn: 0xffff8n });
    const v = d.view;
    const alloc = (size: bigint): IovaRange | null => d.alloc_iova(size, LIM32, true);
    const A = alloc(1n); // step 1
    assert.deepEqual(r(A), [0xfffffn, 0xfffffn]);
    assert.equal(v.cached32_node, 0xfffffn);
    const B = alloc(1n); // 2
    assert.deepEqual(r(B), [0xffffen, 0xffffen]);
    assert.equal(v.cached32_node, 0xffffen);
    const C = alloc(1n); // 3
    assert.deepEqual(r(C), [0xffffdn, 0xffffdn]);
    assert.equal(v.cached32_node, 0xffffdn);
    d.free_iova(0xffffen); // 4: B.lo ≥ C.lo, so cached32 moves to successor(B) = A
    assert.equal(v.cached32_node, 0xfffffn);
    assert.equal(v.max32_alloc_size, D32);
    const D = alloc(2n); // 5: starts at A, skips the 1-pfn hole at B
    assert.deepEqual(r(D), [0xffffan, 0xffffbn]);
    assert.equal(v.cached32_node, 0xffffan);
    const E = alloc(1n); // 6
    assert.deepEqual(r(E), [0xffff9n, 0xffff9n]);
    assert.equal(v.cached32_node, 0xffff9n);
    const F = alloc(1n); // 7
    assert.deepEqual(r(F), [0xffff8n, 0xffff8n]);
    assert.equal(v.cached32_node, 0xffff8n);
    const retries = v.stats.retries_from_top;
    const G = alloc(1n); // 8: pass 1 below F fails; pass 2 searches [0xFFFF9, 0xFFFFF] from the top
    assert.deepEqual(r(G), [0xffffen, 0xffffen]);
    assert.equal(v.stats.retries_from_top, retries + 1);
    assert.equal(v.cached32_node, 0xffffen);
    const H = alloc(1n); // 9
    assert.deepEqual(r(H), [0xffffcn, 0xffffcn]);
    assert.equal(v.cached32_node, 0xffffcn);
    assert.equal(alloc(1n), null); // 10: both passes fail
    assert.equal(v.max32_alloc_size, 1n);
    assert.equal(v.cached32_node, 0xffffcn);
    const steps = v.stats.walk_steps;
    const shortcut = v.stats.shortcut_32bit;
    assert.equal(alloc(1n), null); // 11: fails without a walk, any size, any limit ≤ D32
    assert.equal(d.alloc_iova(4n, 0x7ffffn, false), null);
    assert.equal(v.stats.walk_steps, steps);
    assert.equal(v.stats.shortcut_32bit, shortcut + 2);
    d.free_iova(0xffff9n); // 12: E lies below H, so cached32 stays; max32 is reset
    assert.equal(v.cached32_node, 0xffffcn);
    assert.equal(v.max32_alloc_size, D32);
    assert.deepEqual(r(alloc(1n)), [0xffff9n, 0xffff9n]);
    assert.equal(v.cached32_node, 0xffff9n);
    assert.deepEqual(checkIovaDomain(v), []);
    void [B, C, E, F];
  });

  test('E2.5 flush before failing: only the range caches hold free space', () => {
    for (const flush of [true, false]) {
      const d = ref({ start_pfn: 0xffffcn, ncpus: 2 }); // 4 pfns: 0xFFFFC–0xFFFFF
      const got = [0, 1, 0, 1].map((cpu) => d.alloc_iova_fast(cpu, 1n, LIM32, true));
      assert.deepEqual(got, [0xfffffn, 0xffffen, 0xffffdn, 0xffffcn]);
      d.free_iova_fast(1, 0xffffen, 1n); // cached on CPU 1, invisible to CPU 0
      assert.equal(d.alloc_iova_fast(0, 1n, LIM32, flush), flush ? 0xffffen : 0n);
      assert.equal(d.view.stats.rcache_flushes, flush ? 1 : 0);
      assert.deepEqual(d.view.rcaches[0]!.loaded(1), flush ? [] : [0xffffen]);
    }
  });
});

describe('cached nodes and max32_alloc_size (§2.5, §2.6)', () => {
  test('64-bit allocations use cached_node; freeing at or above it moves it to the successor, below it not', () => {
    const d = ref();
    const lim = (1n << 36n) - 1n;
    const a = d.alloc_iova(16n, lim, true)!;
    const b = d.alloc_iova(16n, lim, true)!;
    const c = d.alloc_iova(16n, lim, true)!;
    assert.deepEqual([r(a), r(b), r(c)], [[lim - 15n, lim], [lim - 31n, lim - 16n], [lim - 47n, lim - 32n]]);
    assert.equal(d.view.cached_node, c.pfn_lo);
    assert.equal(d.view.cached32_node, IOVA_ANCHOR);
    d.free_iova(b.pfn_lo + 3n); // any pfn of the node frees it; b.lo ≥ c.lo: cached moves to successor(b) = a
    assert.equal(d.view.cached_node, a.pfn_lo);
    assert.deepEqual(r(d.alloc_iova(16n, lim, true)), [lim - 31n, lim - 16n], 'the hole below a is found first');
    d.free_iova(c.pfn_lo); // c lies below cached_node (the new node): no move
    assert.equal(d.view.cached_node, lim - 31n);
    d.free_iova(a.pfn_lo); // a lies above: cached moves to successor(a) = the anchor
    assert.equal(d.view.cached_node, IOVA_ANCHOR);
    assert.equal(d.view.max32_alloc_size, D32);
  });

  test('cached32_node can reach a 64-bit node through successors; freeing that node still moves it (F is C32)', () => {
    const d = ref();
    const s = d.alloc_iova(1n, D32, true)!; // [D32, D32]: a 64-bit node
    const x = d.alloc_iova(1n, LIM32, true)!;
    assert.equal(d.view.cached32_node, x.pfn_lo);
    d.free_iova(x.pfn_lo);
    assert.equal(d.view.cached32_node, s.pfn_lo, 'successor of x');
    d.free_iova(s.pfn_lo);
    assert.equal(d.view.cached32_node, IOVA_ANCHOR);
    assert.deepEqual(checkIovaDomain(d.view), []);
  });

  test('a failure with a 64-bit limit still sets max32_alloc_size; removing a 64-bit node does not reset it', () => {
    const d = ref({ start_pfn: 0xffff0n });
    const lim = 0x10000fn; // 0x20 pfns, 0xFFFF0–0x10000F
    assert.deepEqual(r(d.alloc_iova(0x10n, lim, true)), [0x100000n, 0x10000fn]);
    assert.deepEqual(r(d.alloc_iova(0x10n, lim, true)), [0xffff0n, 0xfffffn]);
    assert.equal(d.alloc_iova(0x10n, lim, true), null);
    assert.equal(d.view.max32_alloc_size, 0x10n);
    d.free_iova(0x100000n); // lo ≥ D32: no reset
    assert.equal(d.view.max32_alloc_size, 0x10n);
    assert.equal(d.alloc_iova(1n, LIM32, true), null, 'shortcut only for limits ≤ D32 and sizes ≥ 0x10... 1 < 0x10 walks and fails');
    assert.equal(d.view.max32_alloc_size, 1n);
  });

  test('kernel quirk: max32_alloc_size ignores the limit that set it (a lower 32-bit limit blocks a higher one)', () => {
    const d = ref({ start_pfn: 0xffff8n });
    assert.deepEqual(r(d.alloc_iova(1n, 0xffff8n, true)), [0xffff8n, 0xffff8n]);
    assert.equal(d.alloc_iova(1n, 0xffff8n, true), null);
    assert.equal(d.alloc_iova(1n, LIM32, true), null, 'shortcut fires although 0xFFFF9–0xFFFFF is free');
    assert.equal(d.view.stats.shortcut_32bit, 1);
    assert.deepEqual(checkIovaAllocFailure(d.view, 1n, LIM32, true).length, 1);
  });

  test('alloc_iova does not round the size; unaligned allocations pack tightly', () => {
    const d = ref();
    assert.deepEqual(r(d.alloc_iova(3n, LIM32, false)), [0xffffdn, 0xfffffn]);
    assert.deepEqual(r(d.alloc_iova(3n, LIM32, true)), [0xffff8n, 0xffffan]);
    assert.deepEqual(r(d.alloc_iova(5n, LIM32, false)), [0xffff3n, 0xffff7n]);
  });

  test('limit_pfn = ~0 wraps the exclusive limit to 0: the kernel fails and sets max32_alloc_size', () => {
    const d = ref();
    assert.equal(d.alloc_iova(1n, U64_MAX, true), null);
    assert.equal(d.view.max32_alloc_size, 1n);
  });

  test('retry from the top with a 64-bit limit starts above the cached node', () => {
    const d = ref({ start_pfn: 0x100000n });
    const lim = 0x100007n;
    const got = [1n, 1n, 1n].map(() => r(d.alloc_iova(1n, lim, true))![0]);
    assert.deepEqual(got, [0x100007n, 0x100006n, 0x100005n]);
    d.free_iova(0x100007n);
    assert.deepEqual(r(d.alloc_iova(4n, lim, true)), [0x100000n, 0x100003n]);
    assert.deepEqual(r(d.alloc_iova(1n, lim, true)), [0x100007n, 0x100007n], 'pass 2 from the top');
    assert.equal(d.view.stats.retries_from_top, 1);
  });
});

describe('find_iova, free_iova, __free_iova, put_iova_domain (§2.7)', () => {
  test('free_iova of a pfn with no node is silent; the anchor cannot be freed', () => {
    const d = ref();
    d.free_iova(0x1234n);
    assert.throws(() => d.free_iova(IOVA_ANCHOR), /anchor/);
    assert.deepEqual(checkIovaDomain(d.view), []);
  });

  test('__free_iova takes the node; a stale node throws', () => {
    const d = ref();
    const a = d.alloc_iova(2n, LIM32, true)!;
    d.__free_iova(a);
    assert.equal(d.find_iova(a.pfn_lo), null);
    assert.throws(() => d.__free_iova(a), /not a node/);
  });

  test('put_iova_domain drops caches without returning them and kills the domain', () => {
    const timers = new Timers();
    const d = ref({ timers });
    d.free_iova_fast(0, d.alloc_iova_fast(0, 1n, LIM32, true), 1n);
    d.put_iova_domain();
    assert.equal(d.view.alive, false);
    assert.equal(d.view.node_count, 0);
    assert.throws(() => d.alloc_iova(1n, LIM32, true), /put_iova_domain/);
    timers.advance(1000);
  });

  test('size 0 and negative pfns are refused', () => {
    const d = ref();
    assert.throws(() => d.alloc_iova(0n, LIM32, true), RangeError);
    assert.throws(() => d.alloc_iova_fast(0, 0n, LIM32, true), RangeError);
    assert.throws(() => d.find_iova(-1n), RangeError);
    assert.throws(() => d.alloc_iova_fast(1, 1n, LIM32, true), RangeError, 'cpu out of range');
  });
});

describe('reserve_iova quirks (§2.7)', () => {
  test('a fresh reservation makes a reserved node; caches are not updated', () => {
    const d = ref();
    const n = d.reserve_iova(0xffd00n, 0xffdffn)!;
    assert.deepEqual(r(n), [0xffd00n, 0xffdffn]);
    assert.equal(d.view.node_at(0xffd00n)!.reserved, true);
    assert.equal(d.view.cached32_node, IOVA_ANCHOR);
    assert.deepEqual(r(d.alloc_iova(0x200n, LIM32, true)), [0xffe00n, 0xfffffn]);
    assert.deepEqual(r(d.alloc_iova(0x200n, LIM32, true)), [0xffa00n, 0xffbffn], 'skips the reservation');
  });

  test('a request inside an existing node returns that node, inserting nothing', () => {
    const d = ref();
    const a = d.reserve_iova(0x100n, 0x1ffn)!;
    assert.equal(d.reserve_iova(0x140n, 0x150n), a);
    assert.equal(d.view.node_count, 2);
  });

  test('a request starting below a node widens it downwards and returns it', () => {
    const d = ref();
    const a = d.reserve_iova(0x100n, 0x1ffn)!;
    assert.equal(d.reserve_iova(0x80n, 0x120n), a);
    assert.deepEqual(r(a), [0x80n, 0x1ffn]);
    assert.deepEqual(nodes(d), [[0x80n, 0x1ffn], [IOVA_ANCHOR, IOVA_ANCHOR]]);
  });

  test('a request spanning nodes widens each over the gap below it and inserts only the remainder above', () => {
    const d = ref();
    d.reserve_iova(0x10n, 0x12n);
    d.reserve_iova(0x20n, 0x22n);
    const n = d.reserve_iova(0x5n, 0x25n)!;
    assert.deepEqual(r(n), [0x23n, 0x25n]);
    assert.deepEqual(nodes(d), [[0x5n, 0x12n], [0x13n, 0x22n], [0x23n, 0x25n], [IOVA_ANCHOR, IOVA_ANCHOR]]);
    assert.deepEqual(checkIovaDomain(d.view), []);
  });

  test('widening a live node changes its pfn_lo; the cached key follows it; the precondition checker flags it', () => {
    const d = ref();
    const a = d.alloc_iova(1n, LIM32, true)!;
    assert.deepEqual(checkReservePrecondition(d.view, 0xffff0n, 0xfffffn).length, 1);
    assert.deepEqual(checkReservePrecondition(d.view, 0xffff0n, 0xffffen), []);
    assert.equal(d.reserve_iova(0xffff0n, 0xfffffn), a);
    assert.deepEqual(r(a), [0xffff0n, 0xfffffn]);
    assert.equal(d.view.cached32_node, 0xffff0n);
    assert.deepEqual(checkIovaDomain(d.view), []);
    assert.deepEqual(r(d.alloc_iova(1n, LIM32, true)), [0xfffefn, 0xfffefn]);
  });

  test('pfns above ULLONG_MAX >> shift are refused with a WARN; the anchor cannot be reserved', () => {
    const warns: string[] = [];
    const d = ref({ warn: (code) => warns.push(code) });
    assert.equal(d.reserve_iova(0n, (1n << 52n)), null);
    assert.equal(d.reserve_iova(IOVA_ANCHOR, IOVA_ANCHOR), null);
    assert.deepEqual(warns, ['IOVA-RESERVE-NONSENSE', 'IOVA-RESERVE-NONSENSE']);
    assert.ok(d.reserve_iova(0n, (1n << 52n) - 1n) !== null);
    assert.throws(() => d.reserve_iova(5n, 3n), RangeError);
  });

  test('reserved nodes below start_pfn are exempt from I-A2; freeing one resets max32_alloc_size', () => {
    const d = ref({ start_pfn: 0x100n });
    d.reserve_iova(0n, 0xffn);
    assert.deepEqual(checkIovaDomain(d.view), []);
    d.alloc_iova(1n, 0x100n, true);
    assert.equal(d.alloc_iova(1n, 0x100n, true), null);
    d.free_iova(0x10n);
    assert.equal(d.view.max32_alloc_size, D32);
  });
});

describe('checkers', () => {
  test('checkIovaAlloc, checkIovaRange and checkIovaAllocFailure on a clean domain', () => {
    const d = ref();
    const a = d.alloc_iova(4n, LIM32, true)!;
    assert.deepEqual(checkIovaAlloc(d.view, a, 4n, LIM32, true), []);
    assert.deepEqual(checkIovaRange(d.view, a.pfn_lo, a.pfn_hi), []);
    assert.deepEqual(checkIovaAlloc(d.view, { pfn_lo: 0xffffdn, pfn_hi: 0x100001n }, 4n, LIM32, true).length, 4);
    assert.deepEqual(checkIovaAllocFailure(d.view, 4n, LIM32, true).length, 1);
  });

  /** A hand-made (broken) view: sorted nodes, one CPU, class-0 magazines given. */
  function fakeView(list: [bigint, bigint, boolean?][], over: { cached?: bigint; cached32?: bigint; loaded?: bigint[]; depot?: bigint[][] } = {}): IovaView {
    const ns: IovaNodeView[] = list.map(([lo, hi, res]) => ({ pfn_lo: lo, pfn_hi: hi, reserved: res ?? false }));
    const empty: readonly bigint[] = [];
    return {
      granule: 0x1000n, start_pfn: 0x10n, dma_32bit_pfn: D32, max32_alloc_size: D32,
      cached_node: over.cached ?? IOVA_ANCHOR, cached32_node: over.cached32 ?? IOVA_ANCHOR,
      node_count: ns.length, alive: true, ncpus: 1, cpu_online: () => true,
      nodes: (from = 0n) => ns.filter((n) => n.pfn_lo >= from)[Symbol.iterator](),
      node_at: (lo) => ns.find((n) => n.pfn_lo === lo),
      node_before: (p) => ns.filter((n) => n.pfn_lo < p).pop(),
      node_after: (p) => ns.find((n) => n.pfn_lo > p),
      find_iova: (p) => ns.find((n) => n.pfn_lo <= p && p <= n.pfn_hi),
      rcaches: [0, 1, 2, 3, 4, 5].map((order) => ({
        order, loaded: () => (order === 0 ? over.loaded ?? empty : empty), prev: () => empty,
        depot: order === 0 ? over.depot ?? [] : [], depot_work_pending: false,
      })),
      stats: newIovaStats(),
    };
  }

  test('each checker fires on a broken view (fault injection)', () => {
    const A: [bigint, bigint] = [IOVA_ANCHOR, IOVA_ANCHOR];
    const ids = (errs: string[]): string[] => errs.map((e) => e.slice(0, e.indexOf(':')));
    assert.deepEqual(ids(checkIovaDomain(fakeView([[0x20n, 0x30n], [0x30n, 0x31n], A]))), ['I-A1']);
    assert.deepEqual(ids(checkIovaRange(fakeView([[0x20n, 0x30n], [0x30n, 0x31n], A]), 0x30n, 0x30n)), ['I-A1']);
    assert.deepEqual(ids(checkIovaDomain(fakeView([[0x21n, 0x20n], A]))), ['I-A1']);
    assert.deepEqual(ids(checkIovaDomain(fakeView([[0x4n, 0x5n, true], [0x8n, 0x9n], A]))), ['I-A2'], 'reserved nodes are exempt');
    assert.deepEqual(ids(checkIovaDomain(fakeView([[0x20n, 0x20n]]))), ['I-A4', 'I-A4', 'I-A5', 'I-A5']);
    assert.deepEqual(ids(checkIovaRange(fakeView([[0x20n, 0x20n], A], { cached32: 0x21n }), 0x20n, 0x20n)), ['I-A5']);
    assert.deepEqual(ids(checkIovaDomain(fakeView([[0x20n, 0x21n], A], { loaded: [0x20n, 0x20n, 0x40n] }))), ['I-A6', 'I-A6', 'I-A6', 'I-A6'], 'wrong size twice, a duplicate, a missing node');
    assert.deepEqual(ids(checkIovaDomain(fakeView([[0x20n, 0x20n], A], { depot: [[0x20n]] }))), ['I-A10']);
    assert.deepEqual(ids(checkIovaCoverage(fakeView([[0x20n, 0x20n], [0x30n, 0x30n], A]), [{ pfn_lo: 0x20n, pfn_hi: 0x21n }])), ['I-A8', 'I-A8']);
  });
});
