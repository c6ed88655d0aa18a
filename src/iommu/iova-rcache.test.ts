/**
 * Range-cache unit tests (iommu.md §2.9–§2.10): magazine filling and the depot,
 * pop with a limit, delayed depot trimming, per-CPU LIFO reuse, flush-and-retry,
 * CPU hot-unplug and injected magazine-allocation failure (§6.4).
 * Run: npx tsx --test src/iommu/iova*.test.ts
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Timers } from '../timers';
import { IovaDomain, type IovaDomainOptions } from './iova';
import { IOVA_MAG_SIZE } from './iova-types';
import { checkIovaDomain, checkIovaRcaches } from './iova-check';

const LIM32 = 0xfffffn;

function ref(over: Partial<IovaDomainOptions> = {}): { d: IovaDomain; timers: Timers } {
  const timers = new Timers();
  const d = new IovaDomain({ granule: 0x1000n, start_pfn: 1n, page_size: 4096, ncpus: 1, timers, ...over });
  return { d, timers };
}

/** n one-pfn ranges from the tree, top-down: 0xFFFFF, 0xFFFFE, ... */
function allocN(d: IovaDomain, n: number, cpu = 0): bigint[] {
  const out: bigint[] = [];
  for (let i = 0; i < n; i++) out.push(d.alloc_iova_fast(cpu, 1n, LIM32, false));
  return out;
}

describe('magazines and the depot (§2.9 Insert)', () => {
  test('254 frees fill loaded then prev; the 255th sends a full magazine to the depot', () => {
    const { d } = ref();
    const pfns = allocN(d, 255);
    const rc = d.view.rcaches[0]!;
    pfns.slice(0, 254).forEach((p) => d.free_iova_fast(0, p, 1n));
    assert.equal(rc.loaded(0).length, IOVA_MAG_SIZE);
    assert.equal(rc.prev(0).length, IOVA_MAG_SIZE);
    assert.deepEqual(rc.prev(0), pfns.slice(0, 127), 'first 127 went to what is now prev');
    assert.deepEqual(rc.loaded(0), pfns.slice(127, 254));
    assert.equal(rc.depot.length, 0);
    d.free_iova_fast(0, pfns[254]!, 1n);
    assert.equal(rc.depot.length, 1);
    assert.deepEqual(rc.depot[0], pfns.slice(127, 254), 'the full loaded magazine goes to the depot');
    assert.deepEqual(rc.loaded(0), [pfns[254]]);
    assert.deepEqual(rc.prev(0), pfns.slice(0, 127));
    assert.equal(rc.depot_work_pending, true);
    assert.equal(d.view.stats.depot_pushes, 1);
    assert.deepEqual(checkIovaDomain(d.view), []);
  });

  test('a failed magazine allocation frees the range into the tree instead (§6.4)', () => {
    let fail = true;
    const { d } = ref({ fail_magazine_alloc: () => fail });
    const pfns = allocN(d, 256);
    pfns.slice(0, 255).forEach((p) => d.free_iova_fast(0, p, 1n));
    const rc = d.view.rcaches[0]!;
    assert.equal(rc.depot.length, 0);
    assert.equal(d.find_iova(pfns[254]!), null, 'the 255th went back to the tree');
    assert.equal(d.view.stats.magazine_alloc_failures, 1);
    fail = false;
    d.free_iova_fast(0, pfns[255]!, 1n);
    assert.equal(rc.depot.length, 1);
    assert.deepEqual(checkIovaRcaches(d.view), []);
  });

  test('size classes: 3 pfns round to 4 and come back through class 2; 32 is class 5; 33 is never cached', () => {
    const { d } = ref();
    const a = d.alloc_iova_fast(0, 3n, LIM32, true);
    assert.equal(a, 0xffffcn);
    assert.equal(d.find_iova(a)!.pfn_hi, 0xfffffn);
    d.free_iova_fast(0, a, 3n);
    assert.deepEqual(d.view.rcaches[2]!.loaded(0), [a]);
    assert.equal(d.alloc_iova_fast(0, 3n, LIM32, true), a);
    const b = d.alloc_iova_fast(0, 32n, LIM32, true);
    assert.equal(b % 32n, 0n);
    d.free_iova_fast(0, b, 32n);
    assert.deepEqual(d.view.rcaches[5]!.loaded(0), [b]);
    const c = d.alloc_iova_fast(0, 33n, LIM32, true);
    assert.equal(c % 64n, 0n);
    d.free_iova_fast(0, c, 33n);
    assert.equal(d.find_iova(c), null);
  });
});

describe('pop with a limit (§2.9 Get)', () => {
  test('[A, B, C] with C above the limit and B not: B is returned, [A, C] is left', () => {
    const { d } = ref();
    const A = d.alloc_iova(1n, 0x3000n, true)!.pfn_lo;
    const C = d.alloc_iova(1n, 0x2000n, true)!.pfn_lo;
    const B = d.alloc_iova(1n, 0x10n, true)!.pfn_lo;
    assert.deepEqual([A, B, C], [0x3000n, 0x10n, 0x2000n]);
    for (const p of [A, B, C]) d.free_iova_fast(0, p, 1n);
    const rc = d.view.rcaches[0]!;
    assert.equal(d.alloc_iova_fast(0, 1n, 0x800n, true), B);
    assert.deepEqual(rc.loaded(0), [A, C]);
    // Nothing in loaded qualifies now: a miss, and the tree serves the call (prev and depot untried).
    const misses = d.view.stats.rcache_misses;
    assert.equal(d.alloc_iova_fast(0, 1n, 0x800n, true), 0xfn, 'below cached32 (B)');
    assert.equal(d.view.stats.rcache_misses, misses + 1);
    assert.deepEqual(rc.loaded(0), [A, C]);
  });

  test('the hole is filled by the top element: [A, B, C, D] with C, D above the limit yields B and leaves [A, D, C]', () => {
    const { d } = ref();
    const [A, C, D] = [0x3000n, 0x2000n, 0x1000n].map((l) => d.alloc_iova(1n, l, true)!.pfn_lo);
    const B = d.alloc_iova(1n, 0x10n, true)!.pfn_lo;
    for (const p of [A!, B, C!, D!]) d.free_iova_fast(0, p, 1n);
    assert.equal(d.alloc_iova_fast(0, 1n, 0x800n, true), B);
    assert.deepEqual(d.view.rcaches[0]!.loaded(0), [A, D, C]);
    assert.equal(d.alloc_iova_fast(0, 1n, 0x1fffn, true), D, 'scan from the top: C is above, D qualifies');
    assert.deepEqual(d.view.rcaches[0]!.loaded(0), [A, C]);
  });

  test('the qualifying test is pfn + size - 1 ≤ limit_pfn', () => {
    const { d } = ref({ start_pfn: 0x100n });
    const p = d.alloc_iova_fast(0, 4n, 0x103n, true);
    assert.equal(p, 0x100n);
    d.free_iova_fast(0, p, 4n);
    assert.equal(d.alloc_iova_fast(0, 4n, 0x102n, false), 0n, 'cached 0x100..0x103 does not fit under 0x102; nothing free below');
    assert.equal(d.alloc_iova_fast(0, 4n, 0x103n, false), 0x100n);
  });

  test('kernel quirk: when limit_pfn + 1 < size the search limit wraps and any cached pfn qualifies', () => {
    const { d } = ref();
    const p = d.alloc_iova_fast(0, 4n, LIM32, true);
    d.free_iova_fast(0, p, 4n);
    assert.equal(d.alloc_iova_fast(0, 4n, 1n, false), 0xffffcn);
  });

  test('with loaded and prev empty, a depot magazine becomes loaded even when the pop then misses', () => {
    const { d } = ref();
    const pfns = allocN(d, 255);
    pfns.forEach((p) => d.free_iova_fast(0, p, 1n));
    for (let i = 0; i < 128; i++) d.alloc_iova_fast(0, 1n, LIM32, false); // drain loaded (1) and prev (127)
    const rc = d.view.rcaches[0]!;
    assert.equal(rc.loaded(0).length + rc.prev(0).length, 0);
    assert.equal(rc.depot.length, 1);
    assert.equal(d.alloc_iova_fast(0, 1n, 0x1000n, false), 0x1000n, 'depot pfns are all above the limit: miss');
    assert.equal(rc.depot.length, 0);
    assert.equal(rc.loaded(0).length, IOVA_MAG_SIZE);
  });

  test('kernel quirk: a cached pfn 0 pops as a miss and leaks (start_pfn 0)', () => {
    const { d } = ref({ start_pfn: 0n });
    const p = d.alloc_iova_fast(0, 1n, 0n, false);
    assert.equal(p, 0n);
    assert.notEqual(d.find_iova(0n), null);
    d.free_iova_fast(0, 0n, 1n);
    assert.equal(d.alloc_iova_fast(0, 1n, 0n, false), 0n);
    assert.deepEqual(d.view.rcaches[0]!.loaded(0), []);
    assert.notEqual(d.find_iova(0n), null, 'node 0 stays in the tree, owned by nobody');
  });
});

describe('per-CPU reuse and flushing (§2.9, §2.10)', () => {
  test('LIFO on the same CPU; no reuse across CPUs until a flush', () => {
    const { d } = ref({ ncpus: 2 });
    const [a, b] = allocN(d, 2);
    d.free_iova_fast(0, a!, 1n);
    d.free_iova_fast(0, b!, 1n);
    assert.equal(d.alloc_iova_fast(0, 1n, LIM32, true), b);
    assert.equal(d.alloc_iova_fast(0, 1n, LIM32, true), a);
    d.free_iova_fast(1, a!, 1n);
    const c = d.alloc_iova_fast(0, 1n, LIM32, true);
    assert.notEqual(c, a, 'CPU 0 does not see CPU 1 cache');
    d.free_cpu_cached_iovas(1);
    assert.equal(d.find_iova(a!), null);
    assert.deepEqual(checkIovaDomain(d.view), []);
  });

  test('alloc_iova_fast flushes every online CPU and the depot once, then retries', () => {
    const online = [true, true, false];
    const { d } = ref({ start_pfn: 0xfff00n, ncpus: 3, cpu_online: (c) => online[c]! });
    const pfns = allocN(d, 256);
    assert.equal(d.alloc_iova_fast(0, 1n, LIM32, true), 0n, 'full, and nothing cached');
    assert.equal(d.view.stats.rcache_flushes, 1);
    pfns.slice(0, 254).forEach((p) => d.free_iova_fast(1, p, 1n)); // loaded and prev of CPU 1 full
    d.free_iova_fast(2, pfns[255]!, 1n); // an offline CPU's cache is not flushed
    assert.equal(d.alloc_iova_fast(0, 1n, LIM32, true), 0xfffffn, 'miss, shortcut failure, flush, retry from the anchor');
    assert.equal(d.view.stats.rcache_flushes, 2);
    assert.equal(d.view.rcaches[0]!.loaded(1).length + d.view.rcaches[0]!.prev(1).length, 0);
    assert.deepEqual(d.view.rcaches[0]!.loaded(2), [pfns[255]]);
    d.iova_cpuhp_dead(2);
    assert.equal(d.find_iova(pfns[255]!), null);
    assert.deepEqual(checkIovaDomain(d.view), []);
  });

  test('the depot is shared: a magazine CPU 1 pushed serves CPU 0', () => {
    const { d } = ref({ ncpus: 2 });
    const pfns = allocN(d, 255);
    pfns.forEach((p) => d.free_iova_fast(1, p, 1n));
    assert.equal(d.view.rcaches[0]!.depot.length, 1);
    assert.equal(d.alloc_iova_fast(0, 1n, LIM32, false), pfns[253], 'top of the depot magazine');
    assert.equal(d.view.rcaches[0]!.depot.length, 0);
    assert.equal(d.view.rcaches[0]!.loaded(0).length, IOVA_MAG_SIZE - 1);
  });

  test('a pfn freed twice warns IOVA-MAGAZINE-PFN-MISSING when its magazine is emptied', () => {
    const warns: string[] = [];
    const { d } = ref({ warn: (code) => warns.push(code) });
    const [a] = allocN(d, 1);
    d.free_iova_fast(0, a!, 1n);
    d.free_iova(a!);
    d.free_cpu_cached_iovas(0);
    assert.deepEqual(warns, ['IOVA-MAGAZINE-PFN-MISSING']);
  });
});

describe('delayed depot trimming (§2.9)', () => {
  /** 382 frees on CPU 0: two full magazines in the depot (pushed at the 255th and 382nd free). */
  function twoInDepot(over: Partial<IovaDomainOptions> = {}): { d: IovaDomain; timers: Timers; pfns: bigint[] } {
    const { d, timers } = ref(over);
    const pfns = allocN(d, 382);
    pfns.slice(0, 255).forEach((p) => d.free_iova_fast(0, p, 1n));
    timers.advance(50);
    pfns.slice(255).forEach((p) => d.free_iova_fast(0, p, 1n));
    assert.equal(d.view.rcaches[0]!.depot.length, 2);
    return { d, timers, pfns };
  }

  test('100 ms after the first push, with depot_size > online CPUs, the newest magazine goes back; then it stops', () => {
    const { d, timers, pfns } = twoInDepot();
    const rc = d.view.rcaches[0]!;
    const newest = rc.depot[1]!.slice();
    timers.advance(49);
    assert.equal(rc.depot.length, 2, 'not yet: the second push did not re-arm the pending work');
    timers.advance(1);
    assert.equal(rc.depot.length, 1);
    assert.equal(d.view.stats.depot_trims, 1);
    for (const p of newest) assert.equal(d.find_iova(p), null);
    assert.deepEqual(rc.depot[0], pfns.slice(127, 254));
    assert.equal(rc.depot_work_pending, true, 'rescheduled');
    timers.advance(100);
    assert.equal(rc.depot.length, 1, 'depot_size 1 is not > 1 online CPU');
    assert.equal(rc.depot_work_pending, false);
    timers.advance(1000);
    assert.equal(d.view.stats.depot_trims, 1);
    assert.deepEqual(checkIovaDomain(d.view), []);
  });

  test('with as many online CPUs as depot magazines nothing is trimmed', () => {
    const { d, timers } = twoInDepot({ ncpus: 2 });
    timers.advance(1000);
    assert.equal(d.view.rcaches[0]!.depot.length, 2);
  });

  test('free_global_cached_iovas empties the depot; put_iova_domain cancels the work', () => {
    const a = twoInDepot();
    a.d.free_global_cached_iovas();
    assert.equal(a.d.view.rcaches[0]!.depot.length, 0);
    assert.deepEqual(checkIovaDomain(a.d.view), []);
    const b = twoInDepot();
    b.d.put_iova_domain();
    b.timers.advance(1000);
    assert.equal(b.d.view.stats.depot_trims, 0);
  });
});
