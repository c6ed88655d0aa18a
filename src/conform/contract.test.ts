import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CHECKS, ContractChecker } from './contract';
import { runDifferential } from './differential';
import type { WireOp } from './implementation';
import { ModelImplementation } from './model';
import type { WireResult } from './wire';
import type { Json } from '../ops/kinds';

const op = (o: { op: string } & { [k: string]: Json }): WireOp => o as WireOp;
const ok = (values: { [k: string]: Json } = {}): WireResult => ({ ok: true, values, warnings: [] });
const fail = (error: string): WireResult => ({ ok: false, error, fault: false, warnings: [] });

/** A checker after platform and a domain with start_pfn 0x10; `run` feeds one op (ref = impl unless given). */
function session() {
  const c = new ContractChecker();
  const run = (o: WireOp, impl: WireResult, ref: WireResult = impl): string[] => c.check(o, ref, impl).map((v) => v.id);
  run(op({ op: 'platform' }), ok());
  run(op({ op: 'init_iova_domain', name: 'd', granule: '0x1000', start_pfn: '0x10' }), ok());
  return run;
}
const alloc = (size: string, limit: string, extra: { [k: string]: Json } = {}) => op({ op: 'alloc_iova', domain: 'd', size, limit_pfn: limit, ...extra });
const range = (lo: string, hi: string) => ok({ pfn_lo: lo, pfn_hi: hi });

describe('contract checks: each fires on a result that breaks it, and only then', () => {
  it('every check has a distinct ID and a statement', () => {
    assert.equal(new Set(CHECKS.map((c) => c.id)).size, CHECKS.length);
    for (const c of CHECKS) assert.ok(c.statement.length > 20, c.id);
  });

  it('C-IOVA-IN-LIMIT: above limit_pfn, below start_pfn', () => {
    const run = session();
    assert.deepEqual(run(alloc('0x2', '0xff'), range('0xfe', '0xff')), []);
    assert.deepEqual(run(alloc('0x2', '0xff'), range('0x100', '0x101')), ['C-IOVA-IN-LIMIT']);
    assert.deepEqual(run(alloc('0x2', '0xff'), range('0x8', '0x9')), ['C-IOVA-IN-LIMIT']);
    assert.deepEqual(run(op({ op: 'alloc_iova_fast', domain: 'd', size: '0x1', limit_pfn: '0x7f' }), ok({ pfn: '0x81' })), ['C-IOVA-IN-LIMIT']);
    // iova.c's range cache takes any pfn up to limit_pfn + 1 (iova_rcache_get(..., limit_pfn + 1)).
    assert.deepEqual(run(op({ op: 'alloc_iova_fast', domain: 'd', size: '0x1', limit_pfn: '0x6f' }), ok({ pfn: '0x70' })), []);
  });

  it('C-IOVA-SIZE: a range of another length', () => {
    const run = session();
    assert.deepEqual(run(alloc('0x3', '0xff'), range('0xfc', '0xff')), ['C-IOVA-SIZE']);
  });

  it('C-IOVA-ALIGNED: size-aligned allocations start at a multiple of the rounded size; size_aligned false is free', () => {
    const run = session();
    assert.deepEqual(run(alloc('0x3', '0xff'), range('0xfd', '0xff')), ['C-IOVA-ALIGNED']);
    assert.deepEqual(run(alloc('0x3', '0xef', { size_aligned: false }), range('0xed', '0xef')), []);
    assert.deepEqual(run(op({ op: 'alloc_iova_fast', domain: 'd', size: '0x3', limit_pfn: '0xdf' }), ok({ pfn: '0xda' })), ['C-IOVA-ALIGNED']);
    // Above 2^63 pfns the kernel's alignment mask shift wraps: nothing to check (features/iova/top-down.feature).
    assert.deepEqual(run(alloc('0x8000000000000001', '0xffffffffffffffff'), range('0x7ffffffffffffffe', '0xfffffffffffffffe')), []);
  });

  it('C-IOVA-NO-OVERLAP: a range overlapping one still held or a reservation; a freed one may come back', () => {
    const run = session();
    assert.deepEqual(run(alloc('0x4', '0xff'), range('0xfc', '0xff')), []);
    assert.deepEqual(run(alloc('0x2', '0xff'), range('0xfe', '0xff')), ['C-IOVA-NO-OVERLAP']);
    assert.deepEqual(run(op({ op: 'free_iova', domain: 'd', pfn: '0xfc' }), ok()), []);
    assert.deepEqual(run(alloc('0x2', '0xff'), range('0xfe', '0xff')), []);
    assert.deepEqual(run(op({ op: 'reserve_iova', domain: 'd', pfn_lo: '0x40', pfn_hi: '0x4f' }), range('0x40', '0x4f')), []);
    assert.deepEqual(run(alloc('0x2', '0x41'), range('0x40', '0x41')), ['C-IOVA-NO-OVERLAP']);
  });

  it('C-IOVA-ALLOC-FITS: the first failure in a domain must be for want of room', () => {
    const run = session();
    run(alloc('0x10', '0x1f'), range('0x10', '0x1f'));
    assert.deepEqual(run(alloc('0x10', '0x1f'), fail('NULL')), [], 'no room below 0x1f');
    const again = session();
    assert.deepEqual(again(alloc('0x4', '0x1f'), fail('NULL'), range('0x1c', '0x1f')), ['C-IOVA-ALLOC-FITS']);
    assert.deepEqual(again(alloc('0x4', '0x1f'), fail('NULL'), range('0x1c', '0x1f')), [], 'after a failure the max32 shortcut may fail more');
    const cached = session();
    cached(op({ op: 'alloc_iova_fast', domain: 'd', size: '0x10', limit_pfn: '0x1f' }), ok({ pfn: '0x10' }));
    cached(op({ op: 'free_iova_fast', domain: 'd', pfn: '0x10', size: '0x10' }), ok());
    assert.deepEqual(cached(alloc('0x10', '0x1f'), fail('NULL')), [], 'a range in a range cache is not free for the tree');
  });

  it('C-IOVA-FIND: a held range must be found whole; nothing where nothing ever was', () => {
    const run = session();
    run(alloc('0x4', '0xff'), range('0xfc', '0xff'));
    const find = (pfn: string) => op({ op: 'find_iova', domain: 'd', pfn });
    assert.deepEqual(run(find('0xfd'), range('0xfc', '0xff')), []);
    assert.deepEqual(run(find('0xfd'), fail('NULL'), range('0xfc', '0xff')), ['C-IOVA-FIND']);
    assert.deepEqual(run(find('0xfd'), range('0xfd', '0xff')), ['C-IOVA-FIND']);
    assert.deepEqual(run(find('0xfd'), range('0x10', '0x11')), ['C-IOVA-FIND']);
    assert.deepEqual(run(find('0x20'), fail('NULL')), []);
    assert.deepEqual(run(find('0x20'), range('0x20', '0x20'), fail('NULL')), ['C-IOVA-FIND']);
  });

  it('C-IOVA-FREE-UNKNOWN: freeing a pfn no range holds must succeed', () => {
    const run = session();
    assert.deepEqual(run(op({ op: 'free_iova', domain: 'd', pfn: '0x1234' }), ok()), []);
    assert.deepEqual(run(op({ op: 'free_iova', domain: 'd', pfn: '0x1234' }), fail('-EINVAL'), ok()), ['C-IOVA-FREE-UNKNOWN']);
  });

  it('C-HANDLE-FIELD: a creating op must return the field its handle stands for', () => {
    const run = session();
    assert.deepEqual(run(alloc('0x1', '0xff'), ok({ pfn_hi: '0xff' }), range('0xff', '0xff')), ['C-HANDLE-FIELD']);
  });

  it('misuse (a range freed to the caches with the wrong size) stops the checks that depend on what is held', () => {
    const run = session();
    run(op({ op: 'alloc_iova_fast', domain: 'd', size: '0x1', limit_pfn: '0xff' }), ok({ pfn: '0xff' }));
    run(op({ op: 'free_iova_fast', domain: 'd', pfn: '0xff', size: '0x4' }), ok());
    run(alloc('0x1', '0xff'), range('0xfe', '0xfe'));
    assert.deepEqual(run(op({ op: 'alloc_iova_fast', domain: 'd', size: '0x4', limit_pfn: '0xff' }), ok({ pfn: '0xfc' })), []);
  });

  it('no false alarm: the reference passes every check over a seeded IOVA campaign with misuse', async () => {
    const ref = new ModelImplementation();
    const impl = new ModelImplementation();
    await ref.start();
    const hello = await impl.start();
    const iova = { ...hello, ops: hello.ops.filter((o) => ['platform', 'init_iova_domain', 'alloc_iova', 'free_iova', 'alloc_iova_fast', 'free_iova_fast', 'reserve_iova', 'find_iova', 'iova_info', 'advance_time', 'iova_cpuhp_dead'].includes(o)) };
    const stats = await runDifferential({ ref, impl, hello: iova, profile: 'contract' }, { outDir: '', implementation: 'model', profile: 'contract' }, { seed: 11, runs: 150, misuse: 0.1 });
    assert.deepEqual(stats.divergences.map((d) => `${d.key}: ${d.diffs[0]?.message}`), []);
    assert.ok(stats.agreed >= 140 && stats.ops > 3000, `${stats.agreed} agreed, ${stats.ops} ops`);
  });
});
