/**
 * generateConformanceInput: only allowed ops, platform first, handle-consistent,
 * deterministic; clear errors when nothing can be generated; and, for the
 * allocator subset, it reaches the allocator's paths (range-cache hits, depot
 * pushes and trimming, the 32-bit retry, failures) within a fixed budget, as the
 * model reports them through iova_info and the op results.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../engine/engine';
import { isHandleRef } from '../ops/kinds';
import { parseOp, printOp } from '../ops/json';
import { OPS, type OpName } from '../ops/table';
import type { Op } from '../ops/types';
import { generateConformanceInput } from './generate';
import { mutate } from './mutate';
import { createRng } from './rng';

const ALLOCATOR: ReadonlySet<OpName> = new Set<OpName>([
  'platform', 'init_iova_domain', 'alloc_iova', 'free_iova', 'alloc_iova_fast', 'free_iova_fast', 'reserve_iova', 'find_iova', 'iova_info', 'advance_time',
]);
/** examples/bottom-up-iova's hello: no iova_info, no advance_time. */
const EXAMPLE: ReadonlySet<OpName> = new Set<OpName>(['platform', 'init_iova_domain', 'alloc_iova', 'free_iova', 'find_iova', 'reserve_iova', 'alloc_iova_fast', 'free_iova_fast']);
const TREE_ONLY: ReadonlySet<OpName> = new Set<OpName>(['init_iova_domain', 'alloc_iova', 'free_iova']);
const ALL = Object.keys(OPS) as OpName[];
const IOMMU_FREE: ReadonlySet<OpName> = new Set(ALL.filter((o) => !/iommu|iova/.test(o)));

// ---- checks on a sequence (each shown failing on a bad sequence below) ----------------------------

/** Op names (repeat's inner ones too) outside @allowed. */
function disallowed(ops: readonly Op[], allowed: ReadonlySet<OpName>): string[] {
  const names = (o: Op): string[] => (o.op === 'repeat' ? ['repeat', ...(o.ops as readonly Op[]).flatMap(names)] : [o.op]);
  return ops.flatMap(names).filter((n) => n !== 'platform' && !allowed.has(n as OpName));
}

/** `$h` uses with no earlier `as` (or handleArg) defining h, as "op[i] $h". */
function dangling(ops: readonly Op[]): string[] {
  const defined = new Set<string>();
  const out: string[] = [];
  const uses = (v: unknown, at: string): void => {
    if (isHandleRef(v)) {
      if (!defined.has(v.handle)) out.push(`${at} $${v.handle}`);
    } else if (Array.isArray(v)) v.forEach((x) => uses(x, at));
    else if (typeof v === 'object' && v !== null) Object.values(v).forEach((x) => uses(x, at));
  };
  const define = (o: Op): void => {
    const spec = OPS[o.op];
    const a = o as unknown as Record<string, unknown>;
    const name = spec.handleArg ? a[spec.handleArg] : a.as;
    if (typeof name === 'string') defined.add(name);
  };
  ops.forEach((o, i) => {
    if (o.op === 'repeat') {
      for (const inner of o.ops as readonly Op[]) { uses(inner, `op[${i}]`); define(inner); }
      return;
    }
    uses(o, `op[${i}]`);
    define(o);
  });
  return out;
}

test('the checks catch what they look for: a disallowed op, a repeat hiding one, a handle used before its definition', () => {
  const bad = [
    { op: 'platform' },
    { op: 'init_iova_domain', name: 'd', granule: 0x1000n, start_pfn: 1n },
    { op: 'free_iova', domain: 'd', pfn: { handle: 'a', offset: 0n } },
    { op: 'alloc_iova', domain: 'd', size: 1n, limit_pfn: 0xfffffn, as: 'a' },
    { op: 'repeat', times: 2, ops: [{ op: 'iova_info', domain: 'd' }] },
  ] as unknown as Op[];
  assert.deepEqual(disallowed(bad, TREE_ONLY), ['repeat', 'iova_info']);
  assert.deepEqual(dangling(bad), ['op[2] $a']);
  assert.deepEqual(disallowed(bad.slice(0, 4), TREE_ONLY), []);
  assert.deepEqual(dangling([bad[0]!, bad[1]!, bad[3]!, bad[2]!]), []);
});

// ---- shape ----------------------------------------------------------------------------------------

for (const [label, allowed] of [['allocator', ALLOCATOR], ['example', EXAMPLE], ['tree only', TREE_ONLY], ['no IOMMU', IOMMU_FREE], ['every op', new Set(ALL)]] as const) {
  test(`generateConformanceInput (${label}): platform first, only allowed ops, handle-consistent, valid against the op table`, () => {
    for (let seed = 0; seed < 40; seed++) {
      const ops = generateConformanceInput(createRng(seed), allowed, { length: 50 });
      assert.equal(ops[0]!.op, 'platform', `seed ${seed}`);
      assert.equal(ops.filter((o) => o.op === 'platform').length, 1, `seed ${seed}: one platform op`);
      assert.deepEqual(disallowed(ops, allowed), [], `seed ${seed}`);
      assert.deepEqual(dangling(ops), [], `seed ${seed}`);
      ops.forEach((o, i) => assert.deepEqual(parseOp(printOp(o), `op[${i}]`), o));
      assert.ok(ops.length > 40, `seed ${seed}: ${ops.length} ops`);
    }
  });
}

test('generateConformanceInput: an allocator-only set gets `platform` with 1-4 CPUs, then a domain', () => {
  const cpus = new Set<number>();
  for (let seed = 0; seed < 30; seed++) {
    const ops = generateConformanceInput(createRng(seed), EXAMPLE, { length: 10 });
    const p = ops[0] as Extract<Op, { op: 'platform' }>;
    assert.equal(p.ram, undefined);
    cpus.add(p.ncpus!);
    assert.equal(ops[1]!.op, 'init_iova_domain');
  }
  assert.deepEqual([...cpus].sort(), [1, 2, 3, 4]);
});

test('generateConformanceInput: deterministic in the rng state; another seed gives another input', () => {
  for (const allowed of [ALLOCATOR, IOMMU_FREE]) {
    const a = generateConformanceInput(createRng(7), allowed, { length: 60, misuse: 0.1 });
    assert.deepEqual(generateConformanceInput(createRng(7), allowed, { length: 60, misuse: 0.1 }), a);
    assert.notDeepEqual(generateConformanceInput(createRng(8), allowed, { length: 60, misuse: 0.1 }), a);
  }
});

test('generateConformanceInput: nothing generatable is an Error naming the ops', () => {
  assert.throws(() => generateConformanceInput(createRng(1), new Set<OpName>(['dma_map_page', 'iova_info'])), /nothing can be generated from ops \[dma_map_page, iova_info\]/);
  assert.throws(() => generateConformanceInput(createRng(1), new Set<OpName>(['init_iova_domain', 'find_iova'])), /\[find_iova, init_iova_domain\].*alloc_iova/);
  assert.throws(() => generateConformanceInput(createRng(1), new Set<OpName>()), /nothing can be generated from ops \[\]/);
});

test('mutate with an allowed set keeps only allowed ops and stays handle-consistent', () => {
  const rng = createRng(3);
  for (let i = 0; i < 60; i++) {
    const input = generateConformanceInput(rng, ALLOCATOR, { length: 30 });
    const m = mutate(rng, input, [], TREE_ONLY);
    assert.equal(m[0]!.op, 'platform');
    assert.deepEqual(disallowed(m, TREE_ONLY), []);
    assert.deepEqual(dangling(m), []);
  }
});

// ---- reach: the allocator's paths within a budget --------------------------------------------------

interface Reach {
  hits: number; pushes: number; trims: number; retries: number; shortcuts: number; failedTree: number; failedFast: number;
  /** advance_time of >= 100 ms that shrank a depot holding more magazines than CPUs (seen through iova_info). */
  trimmedSeen: number; max32Lowered: number; violations: string[]; invalid: string[];
}

function info(e: Engine, domain: string): Record<string, unknown> {
  const r = e.execute({ op: 'iova_info', domain } as Op).result;
  assert.ok(r.ok);
  return r.values;
}

function reach(allowed: ReadonlySet<OpName>, runs: number): Reach {
  const r: Reach = { hits: 0, pushes: 0, trims: 0, retries: 0, shortcuts: 0, failedTree: 0, failedFast: 0, trimmedSeen: 0, max32Lowered: 0, violations: [], invalid: [] };
  for (let seed = 0; seed < runs; seed++) {
    const ops = generateConformanceInput(createRng(seed), allowed, { length: 60 });
    const e = new Engine();
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      const domains = () => [...e.platform!.iova_domains.keys()];
      const before = op.op === 'advance_time' && op.ms >= 100 ? domains().map((d) => info(e, d)) : [];
      let out;
      try {
        out = e.execute(op, `op[${i}]`);
      } catch (err) {
        r.invalid.push(`seed ${seed} op[${i}]: ${(err as Error).message}`);
        break;
      }
      if (out.violations.length) r.violations.push(`seed ${seed} op[${i}]: ${out.violations[0]!.id}`);
      if (!out.result.ok && op.op === 'alloc_iova') r.failedTree++;
      if (!out.result.ok && op.op === 'alloc_iova_fast') r.failedFast++;
      const ncpus = e.platform!.config.ncpus;
      before.forEach((b, k) => {
        const a = info(e, domains()[k]!);
        if ((b.depot_size as number) > ncpus && (a.depot_size as number) < (b.depot_size as number)) r.trimmedSeen++;
      });
      if (op.op === 'iova_info' && out.result.ok) {
        const d = e.platform!.iova_domains.get(op.domain)!;
        if ((out.result.values.max32_alloc_size as bigint) < 1n << (32n - BigInt(d.granule.toString(2).length - 1))) r.max32Lowered++;
      }
    }
    for (const d of e.platform!.iova_domains.values()) {
      const s = d.view.stats;
      r.hits += s.rcache_hits; r.pushes += s.depot_pushes; r.trims += s.depot_trims; r.retries += s.retries_from_top; r.shortcuts += s.shortcut_32bit;
    }
  }
  return r;
}

test('the allocator subset reaches range-cache hits, depot pushes and trimming, the 32-bit retry and failures in 60 inputs, silently', () => {
  const r = reach(ALLOCATOR, 60);
  assert.deepEqual(r.violations, []);
  assert.deepEqual(r.invalid, []);
  assert.ok(r.hits > 0, 'rcache hits');
  assert.ok(r.pushes > 0, 'depot pushes');
  assert.ok(r.trims > 0, 'depot trims');
  assert.ok(r.trimmedSeen > 0, 'iova_info shows a depot above ncpus shrinking across advance_time >= 100 ms');
  assert.ok(r.retries > 0, '32-bit retry from the top');
  assert.ok(r.shortcuts > 0, 'max32_alloc_size shortcut');
  assert.ok(r.max32Lowered > 0, 'iova_info shows max32_alloc_size below the 32-bit boundary');
  assert.ok(r.failedTree > 0 && r.failedFast > 0, `failures: alloc_iova ${r.failedTree}, alloc_iova_fast ${r.failedFast}`);
});

test('without iova_info and advance_time (the example\'s set) the paths are still reached', () => {
  const r = reach(EXAMPLE, 60);
  assert.deepEqual(r.violations, []);
  assert.deepEqual(r.invalid, []);
  assert.ok(r.hits > 0 && r.pushes > 0 && r.retries > 0 && r.failedTree > 0, JSON.stringify(r));
});
