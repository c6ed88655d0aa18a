/**
 * Generation: deterministic, valid against the op table, legal enough that the engine runs
 * nearly every op, and silent under every invariant on legal sequences (but for the invariant
 * bugs in KNOWN_FALSE_ALARMS, reported with their minimal sequences); misuse breaks the contract
 * without crashing the model. The fast-check arbitraries work with fc.assert.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Engine } from '../engine/engine';
import { OpParseError } from '../ops/errors';
import { parseStep, printStep } from '../ops/gherkin';
import { parseOp, printOp } from '../ops/json';
import type { Op } from '../ops/types';
import { fuzzInputArb, generateOps, generateSequence, opSequenceArb, platformArb, trackOps } from './generate';
import { repair } from './mutate';
import { namedPlatform, PLATFORM_NAMES, randomPlatform } from './platforms';
import { createRng, fork } from './rng';

// ---- running generated inputs -------------------------------------------------------------------

interface Run {
  ops: number;
  ok: number;
  /** Ops whose handle a failed create never defined: a driver that checked the error would not make them. */
  skipped: number;
  /** The first violation, if any (later ones may only be its echo). */
  first?: { id: string; message: string; index: number; op: string };
  warnings: Map<string, number>;
  ms: number;
}

/** Runs @input on a fresh Engine with every invariant on; a model exception fails the test with the sequence. */
function run(input: readonly Op[]): Run {
  const e = new Engine();
  const r: Run = { ops: 0, ok: 0, skipped: 0, warnings: new Map(), ms: 0 };
  const t0 = performance.now();
  input.forEach((op, i) => {
    let o;
    try {
      o = e.execute(op, `op[${i}]`);
    } catch (err) {
      if (err instanceof OpParseError && i > 0) return void r.skipped++;
      assert.fail(`model exception at op[${i}] ${op.op}: ${(err as Error).stack}\n${show(input.slice(0, i + 1))}`);
    }
    r.ops++;
    if (o.result.ok) r.ok++;
    for (const w of o.result.warnings) r.warnings.set(`${w.source}:${w.code}`, (r.warnings.get(`${w.source}:${w.code}`) ?? 0) + 1);
    if (!r.first && o.violations.length > 0) r.first = { ...o.violations[0]!, op: op.op };
  });
  r.ms = performance.now() - t0;
  return r;
}

const show = (ops: readonly Op[]): string => ops.map((o) => printStep(o)).join('\n');

/**
 * Invariant bugs the generator found and not yet fixed (model and kernel agree; the checker
 * claims more), each with its minimal sequence. A run whose first violation is one of these is
 * not held against the generator; the last test checks every repro still fires, so fixing the
 * checker makes that test fail until its entry is deleted. Empty now: the three found so far
 * (dma_pool IOVA on dma-iommu devices, the pool taint leaving a stale translation shadow,
 * IOVA-ALIGNED after a wrong-size unmap) are fixed.
 */
const KNOWN_FALSE_ALARMS: readonly { key: RegExp; misuseOnly: boolean; why: string; repro: readonly string[] }[] = [];

function explained(r: Run, misuse: boolean): boolean {
  if (!r.first) return true;
  const key = `${r.first.id}@${r.first.op}`;
  return KNOWN_FALSE_ALARMS.some((k) => k.key.test(key) && (misuse || !k.misuseOnly));
}

// ---- the random source --------------------------------------------------------------------------

test('createRng: deterministic, in range, and nearby seeds give unrelated streams', () => {
  const draw = (seed: number): unknown[] => {
    const r = createRng(seed);
    return [r.int(10), r.int(1 << 30), r.bigint(1n << 64n), r.chance(0.5), r.pick(['a', 'b', 'c'])];
  };
  assert.deepEqual(draw(7), draw(7));
  const r = createRng(1);
  for (let i = 0; i < 2000; i++) {
    const n = 1 + (i % 97);
    const v = r.int(n);
    assert.ok(Number.isInteger(v) && v >= 0 && v < n);
    const b = r.bigint(BigInt(n) << 40n);
    assert.ok(b >= 0n && b < BigInt(n) << 40n);
  }
  assert.equal(r.chance(0), false);
  assert.equal(r.chance(1), true);
  assert.throws(() => r.int(0), RangeError);
  assert.throws(() => r.pick([]), RangeError);
  // xoroshiro128+ seeded 0, 1, 2 starts almost identically; the seed is scrambled first.
  const firsts = new Set(Array.from({ length: 16 }, (_, s) => createRng(s).int(1000)));
  assert.ok(firsts.size >= 12, `first draws of seeds 0..15: ${[...firsts].join(' ')}`);
  const parent = createRng(3);
  const child = fork(parent);
  assert.notDeepEqual([child.int(1 << 30), child.int(1 << 30)], [parent.int(1 << 30), parent.int(1 << 30)]);
});

// ---- structure ----------------------------------------------------------------------------------

const PLATFORMS: readonly [string, Op[]][] = [
  ...PLATFORM_NAMES.map((n): [string, Op[]] => [n, namedPlatform(n)]),
  ...Array.from({ length: 10 }, (_, i): [string, Op[]] => [`random ${i}`, randomPlatform(createRng(100 + i))]),
];

test('same seed, same sequence; a longer length extends a shorter one', () => {
  for (const [name, p] of PLATFORMS) {
    for (const misuse of [0, 0.3]) {
      const a = generateSequence(createRng(11), p, { length: 60, misuse });
      assert.deepEqual(generateSequence(createRng(11), p, { length: 60, misuse }), a, name);
      assert.equal(a.length, 60);
      assert.deepEqual(generateSequence(createRng(11), p, { length: 25, misuse }), a.slice(0, 25), `${name}: prefix`);
      assert.notDeepEqual(generateSequence(createRng(12), p, { length: 60, misuse }), a, name);
    }
  }
});

test('generated ops are valid against the op table and name only handles defined before them', () => {
  for (const [name, p] of PLATFORMS) {
    for (let seed = 0; seed < 30; seed++) {
      const misuse = seed % 3 === 0 ? 0.5 : 0;
      const input = [...p, ...generateSequence(createRng(seed), p, { length: 50, misuse })];
      for (const op of input) assert.deepEqual(parseOp(JSON.parse(JSON.stringify(printOp(op)))), op, `${name} seed ${seed}: ${op.op}`);
      for (const op of input) assert.deepEqual(parseStep(printStep(op)), op, `${name} seed ${seed}: Gherkin ${op.op}`);
      // repair() drops what would be an input error where it stands: nothing, for a generated input.
      assert.deepEqual(repair(input), input, `${name} seed ${seed}`);
    }
  }
});

test('the generator reaches every family of ops, kernel-legal shapes included', () => {
  const seen = new Set<string>();
  for (const [, p] of PLATFORMS) {
    for (let seed = 0; seed < 40; seed++) for (const op of generateSequence(createRng(seed), p, { length: 50, misuse: 0.1 })) seen.add(op.op);
  }
  for (const want of ['dma_map_phys', 'dma_map_page', 'dma_map_single', 'dma_map_resource', 'dma_mapping_error', 'dma_unmap_page', 'dma_map_sg', 'dma_map_sgtable',
    'dma_unmap_sg', 'dma_sync_single_for_cpu', 'dma_sync_single_for_device', 'dma_sync_single_range_for_cpu', 'dma_sync_sg_for_cpu', 'dma_alloc_coherent',
    'dma_free_coherent', 'dma_pool_create', 'dma_pool_alloc', 'dma_pool_free', 'dma_iova_try_alloc', 'dma_iova_link', 'dma_iova_sync', 'dma_iova_unlink',
    'dma_iova_destroy', 'dma_iova_free', 'cpu_write', 'cpu_read', 'cpu_speculate', 'cpu_evict', 'device_read', 'device_write', 'advance_time', 'repeat',
    'dma_set_mask', 'device_remove', 'dma_max_mapping_size']) {
    assert.ok(seen.has(want), `never generated: ${want}`);
  }
});

// ---- legal sequences on the engine --------------------------------------------------------------

test('legal sequences: >= 90% of ops succeed, no contract finding, no invariant violation (200 × 50 ops per named platform)', (t) => {
  let gen = 0;
  for (const name of PLATFORM_NAMES) {
    const p = namedPlatform(name);
    const totals = { ops: 0, ok: 0, skipped: 0, ms: 0, known: 0 };
    for (let seed = 0; seed < 200; seed++) {
      const g0 = performance.now();
      const body = generateSequence(createRng(seed), p, { length: 50, misuse: 0 });
      gen += performance.now() - g0;
      const input = [...p, ...body];
      const r = run(input);
      assert.ok(explained(r, false), `${name} seed ${seed}: ${r.first?.id} at op[${r.first?.index}] ${r.first?.op}: ${r.first?.message}\n${show(input.slice(0, (r.first?.index ?? 0) + 1))}`);
      if (r.first) totals.known++;
      // A legal driver draws no dma-debug / contract finding; the one exception is a model quirk (see the report):
      // dma-debug pairs sg entry i's address with DMA segment i's length, so dma-iommu's merged segments "overlap" in the full-range verdict.
      for (const [code] of r.warnings) {
        assert.ok(!/^(dma-debug|contract|context):/.test(code) || code === 'dma-debug:DEBUG_CACHELINE_OVERLAP_FULL', `${name} seed ${seed}: ${code}\n${show(input)}`);
      }
      totals.ops += r.ops + r.skipped;
      totals.ok += r.ok;
      totals.skipped += r.skipped;
      totals.ms += r.ms;
    }
    const pct = (100 * totals.ok) / totals.ops;
    t.diagnostic(`${name}: ${pct.toFixed(1)}% of ${totals.ops} ops ok, ${totals.skipped} skipped, ${totals.known} runs hit a known false alarm, ` +
      `engine ${Math.round((totals.ops / totals.ms) * 1000)} ops/s with all invariants`);
    assert.ok(pct >= 90, `${name}: only ${pct.toFixed(1)}% of ops succeeded`);
  }
  t.diagnostic(`generation: ${Math.round((1000 * 200 * PLATFORM_NAMES.length) / gen)} sequences/s of 50 ops`);
});

test('legal sequences on 100 random platforms: >= 90% of ops succeed, no invariant violation', () => {
  let ops = 0;
  let ok = 0;
  for (let i = 0; i < 100; i++) {
    const p = randomPlatform(createRng(5000 + i));
    for (let seed = 0; seed < 3; seed++) {
      const input = [...p, ...generateSequence(createRng(seed), p, { length: 50, misuse: 0 })];
      const r = run(input);
      assert.ok(explained(r, false), `platform ${5000 + i} seed ${seed}: ${r.first?.id} at op[${r.first?.index}]: ${r.first?.message}\n${show(input.slice(0, (r.first?.index ?? 0) + 1))}`);
      ops += r.ops + r.skipped;
      ok += r.ok;
    }
  }
  assert.ok(ok / ops >= 0.9, `${((100 * ok) / ops).toFixed(1)}% ok`);
});

// ---- misuse ---------------------------------------------------------------------------------------

test('misuse breaks the contract on purpose (dma-debug, kernel BUG, UNDEFINED) and never crashes the model', () => {
  const codes = new Set<string>();
  for (const [name, p] of PLATFORMS) {
    for (let seed = 0; seed < 25; seed++) {
      const input = [...p, ...generateSequence(createRng(seed), p, { length: 50, misuse: 0.4 })];
      const r = run(input);
      assert.ok(explained(r, true), `${name} seed ${seed}: ${r.first?.id} at op[${r.first?.index}]: ${r.first?.message}\n${show(input.slice(0, (r.first?.index ?? 0) + 1))}`);
      for (const c of r.warnings.keys()) codes.add(c.split(':')[1]!);
    }
  }
  for (const want of ['DEBUG_FREE_WRONG_SIZE', 'DEBUG_FREE_WRONG_DIRECTION', 'DEBUG_FREE_NOT_ALLOCATED', 'DEBUG_MAP_ERROR_NOT_CHECKED', 'DEBUG_SYNC_NOT_ALLOCATED',
    'DEBUG_SYNC_WRONG_DIRECTION', 'DEBUG_FREE_WRONG_SG_COUNT', 'BUG_INVALID_DIRECTION', 'UNDEFINED_SIZE_ZERO', 'DEBUG_LEAK_AT_REMOVE', 'DEBUG_MAP_FROM_STACK',
    'WARN_FREE_IRQS_DISABLED', 'CONTRACT_IOVA_LINK_OVERLAP']) {
    assert.ok(codes.has(want), `misuse never drew ${want}; drew ${[...codes].sort().join(', ')}`);
  }
});

test('generateOps continues any tracked prefix, generated or not', () => {
  for (const [, p] of PLATFORMS.slice(0, 8)) {
    const rng = createRng(99);
    const input = [...p, ...generateSequence(rng, p, { length: 40, misuse: 0.3 })];
    for (let cut = p.length; cut <= input.length; cut += 7) {
      const st = trackOps(input.slice(0, cut));
      const more = generateOps(rng, st, 10, 0.2);
      assert.equal(more.length, 10);
      assert.deepEqual(repair([...input.slice(0, cut), ...more]).length, cut + 10);
    }
  }
});

// ---- fast-check arbitraries -------------------------------------------------------------------------

test('platformArb: every platform it draws boots on the engine', () => {
  fc.assert(fc.property(platformArb, (ops) => {
    const e = new Engine();
    return ops.every((op) => e.execute(op).result.ok);
  }), { numRuns: 40 });
});

test('opSequenceArb: the TSDoc property (no invariant fires on legal use) holds', () => {
  fc.assert(fc.property(opSequenceArb(namedPlatform('no-iommu-32bit'), { maxLength: 40 }), (ops) => {
    const e = new Engine();
    for (const op of ops) {
      try {
        if (e.execute(op).violations.length > 0) return false;
      } catch (err) {
        if (!(err instanceof OpParseError)) throw err; // a dangling handle: skip the op
      }
    }
    return true;
  }), { numRuns: 25 });
});

test('fuzzInputArb: platform first, every op valid; shrinking by length keeps a prefix', () => {
  fc.assert(fc.property(fuzzInputArb({ maxLength: 30 }), (ops) => ops[0]!.op === 'platform' && ops.every((o) => parseOp(JSON.parse(JSON.stringify(printOp(o)))) !== undefined)), { numRuns: 30 });
  // A failing property shrinks towards shorter inputs of the same seed: the counterexample is small.
  const out = fc.check(fc.property(opSequenceArb(namedPlatform('cc-bounce'), { maxLength: 50 }), (ops) => !ops.some((o) => o.op === 'dma_unmap_page' || o.op === 'dma_unmap_single' || o.op === 'dma_unmap_phys')), { numRuns: 200, seed: 5 });
  assert.ok(out.failed && out.counterexample);
  const [min] = out.counterexample;
  assert.ok(min[min.length - 1]!.op.startsWith('dma_unmap'), 'the shrunk input ends with the op that made it fail');
});

// ---- the known false alarms still reproduce --------------------------------------------------------

test('each known false alarm still reproduces (delete its entry once the checker is fixed)', () => {
  for (const k of KNOWN_FALSE_ALARMS) {
    const r = run(k.repro.map((s) => parseStep(s)!));
    assert.ok(r.first && k.key.test(`${r.first.id}@${r.first.op}`), `${k.key}: no longer fires (${k.why})`);
  }
});
