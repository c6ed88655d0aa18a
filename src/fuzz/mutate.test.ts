/**
 * Mutation: deterministic, the platform op stays first, every mutant is valid against the op
 * table and names nothing undefined (repair), each strategy shows up, numbers move to the
 * interesting values, and mutants run on the engine without crashing the model.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../engine/engine';
import { OpParseError } from '../ops/errors';
import { parseStep, printStep } from '../ops/gherkin';
import { parseOp, printOp } from '../ops/json';
import { isHandleRef } from '../ops/kinds';
import type { Op } from '../ops/types';
import { generateSequence } from './generate';
import { mutate, repair, setupLength } from './mutate';
import { DMA_BIT_MASK, namedPlatform, PLATFORM_NAMES, randomPlatform } from './platforms';
import { createRng } from './rng';

const steps = (...texts: string[]): Op[] => texts.map((t) => {
  const op = parseStep(t);
  assert.ok(op, t);
  return op;
});

/** A corpus of generated inputs on the named platforms and a few random ones. */
function corpus(n: number, seed = 1): Op[][] {
  const rng = createRng(seed);
  return Array.from({ length: n }, (_, i) => {
    const p = i % 3 === 2 ? randomPlatform(rng) : namedPlatform(PLATFORM_NAMES[i % PLATFORM_NAMES.length]!);
    return [...p, ...generateSequence(rng, p, { length: 40, misuse: 0.05 })];
  });
}

/** Every handle an op names (deep, repeat's inner ops included). */
function refs(op: Op): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (isHandleRef(v)) out.push(v.handle);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (typeof v === 'object' && v !== null) Object.values(v).forEach(walk);
  };
  walk(op);
  return out;
}

test('mutate is deterministic in its random source', () => {
  const c = corpus(6);
  for (let seed = 0; seed < 30; seed++) {
    assert.deepEqual(mutate(createRng(seed), c[seed % 6]!, c), mutate(createRng(seed), c[seed % 6]!, c));
  }
});

test('mutants keep the platform first and stay valid against the op table, naming nothing undefined', () => {
  const c = corpus(15);
  const rng = createRng(2);
  for (let i = 0; i < 600; i++) {
    const input = rng.pick(c);
    const m = mutate(rng, input, c);
    const p0 = input[0]!;
    const m0 = m[0]!;
    assert.equal(m0.op, 'platform');
    // Only the pool size of the platform may change (the pool-exhaustion tweak).
    assert.deepEqual({ ...m0, swiotlb: undefined }, { ...p0, swiotlb: undefined });
    assert.equal(m.filter((o) => o.op === 'platform').length, 1);
    for (const op of m) {
      assert.deepEqual(parseOp(JSON.parse(JSON.stringify(printOp(op)))), op, `mutant ${i}: ${op.op}`);
      assert.deepEqual(parseStep(printStep(op)), op, `mutant ${i}: Gherkin ${op.op}`);
    }
    assert.deepEqual(repair(m), m, `mutant ${i} still had ops repair drops`);
  }
});

test('mutants run on the engine without model crashes; few are invalid (a create that fails at run time)', (t) => {
  const c = corpus(20, 3);
  const rng = createRng(4);
  let invalid = 0;
  const n = 400;
  const t0 = performance.now();
  let mutMs = 0;
  for (let i = 0; i < n; i++) {
    const m0 = performance.now();
    const m = mutate(rng, rng.pick(c), c);
    mutMs += performance.now() - m0;
    const e = new Engine();
    for (let j = 0; j < m.length; j++) {
      try {
        e.execute(m[j]!, `op[${j}]`);
      } catch (err) {
        if (err instanceof OpParseError) {
          invalid++;
          break;
        }
        assert.fail(`mutant ${i}: model exception at op[${j}] ${m[j]!.op}: ${(err as Error).stack}\n${m.slice(0, j + 1).map((o) => printStep(o)).join('\n')}`);
      }
    }
  }
  t.diagnostic(`${invalid} of ${n} mutants hit an input error; ${Math.round((n / mutMs) * 1000)} mutations/s; ${Math.round(performance.now() - t0)} ms in all`);
  assert.ok(invalid / n < 0.15, `${invalid} of ${n} mutants invalid`);
});

test('every strategy shows: inserts continue live handles, deletes, duplicates, reorders, splices, tweaks', () => {
  const base = [...namedPlatform('x86-vtd'), ...generateSequence(createRng(9), namedPlatform('x86-vtd'), { length: 30, misuse: 0 })];
  const donor = steps('a platform', 'a device "x" with dma_mask DMA_BIT_MASK(64)',
    '"x" calls dma_alloc_coherent with size 4K as m0', 'the kernel calls platform_counters', '"x" calls device_write with dma_addr $m0 data 0102',
    '"x" calls dma_free_coherent with size 4K cpu_addr $m0.cpu_addr dma_addr $m0');
  const defined = new Set(base.flatMap((o) => ('as' in o && typeof o.as === 'string' ? [o.as] : [])));
  const printed = new Set(base.map((o) => JSON.stringify(printOp(o))));
  const rng = createRng(5);
  const seen = new Set<string>();
  for (let i = 0; i < 400; i++) {
    const m = mutate(rng, base, [donor]);
    const novel = m.filter((o) => !printed.has(JSON.stringify(printOp(o))));
    if (m.length > base.length) seen.add('longer');
    if (m.length < base.length) seen.add('shorter');
    if (m.length === base.length && novel.length === 0 && JSON.stringify(m.map(printOp)) !== JSON.stringify(base.map(printOp))) seen.add('reordered');
    if (novel.some((o) => refs(o).some((h) => defined.has(h)))) seen.add('new ops use live handles of the prefix');
    const spliced = m.find((o) => o.op === 'dma_alloc_coherent' && o.size === 4096n && o.dev !== 'x');
    if (spliced && m.some((o) => o.op === 'platform_counters')) {
      seen.add('spliced');
      // The donor's m0 was renamed away from this input's m0 and its device mapped onto this machine's.
      assert.ok(spliced.op === 'dma_alloc_coherent' && spliced.as !== undefined && !defined.has(spliced.as), 'spliced handle renamed');
    }
  }
  for (const want of ['longer', 'shorter', 'reordered', 'new ops use live handles of the prefix', 'spliced']) assert.ok(seen.has(want), `never saw: ${want}`);
});

test('tweaks move numbers to the interesting values: slot/page/segment edges, 4 GiB, mask edges, pool sizes, flush-queue counts', () => {
  const c = corpus(10, 6);
  const rng = createRng(7);
  const sizes = new Set<bigint>();
  const masks = new Set<bigint>();
  const times = new Set<number>();
  const pools = new Set<bigint>();
  for (let i = 0; i < 3000; i++) {
    for (const o of mutate(rng, rng.pick(c), c)) {
      if ('size' in o && typeof o.size === 'bigint') sizes.add(o.size);
      if (o.op === 'device_add' && typeof o.dma_mask === 'bigint') masks.add(o.dma_mask);
      if (o.op === 'repeat') times.add(o.times);
      if (o.op === 'platform' && o.swiotlb) pools.add(o.swiotlb.size);
    }
  }
  for (const v of [0n, 1n, 2047n, 2049n, 4095n, 4097n, 0x4_0000n, 0x4_0001n, 0x20_0001n, (1n << 32n) - 0x1000n]) assert.ok(sizes.has(v), `no size ${v}`);
  assert.ok([24, 36, 39, 40, 48].filter((n) => masks.has(DMA_BIT_MASK(n))).length >= 3, 'device masks moved to DMA_BIT_MASK edges');
  assert.ok([127, 128, 255, 256, 257].some((n) => times.has(n)), 'repeat counts at magazine / flush-queue edges');
  assert.ok(pools.has(256n << 10n), 'a tiny swiotlb pool');
});

// ---- repair -----------------------------------------------------------------------------------

const PLATFORM = ['a platform with ncpus 2 swiotlb {size 4M}', 'a device "d" with dma_mask DMA_BIT_MASK(64)'];

test('repair keeps a valid input as it is', () => {
  const ok = steps(...PLATFORM, '"d" calls dma_map_sg with sg [{phys 0x10000, length 4K}, {phys 0x20000, length 4K}] dir DMA_TO_DEVICE as s',
    '"d" calls device_read with dma_addr $s[1].dma_address size 16', '"d" calls dma_unmap_sg with sg $s dir DMA_TO_DEVICE cpu 1',
    '"d" calls dma_alloc_coherent with size 4K as c', 'the CPU calls cpu_write with phys $c.cpu_addr+0x10 data 01');
  assert.deepEqual(repair(ok), ok);
  assert.equal(setupLength(ok), 2);
});

test('repair drops what the engine would refuse as input, and what depended on it', () => {
  const table: [string, string[]][] = [
    ['a handle nobody defined', ['"d" calls dma_unmap_page with dma_addr $nope size 4K dir DMA_TO_DEVICE']],
    ['an op on a removed device', ['device "d" is removed', '"d" calls dma_get_mask']],
    ['nents past the list', ['"d" calls dma_map_sg with sg [{phys 0x10000, length 4K}] nents 2 dir DMA_TO_DEVICE']],
    ['a CPU beyond ncpus', ['"d" calls dma_map_page with phys 0x10000 size 4K dir DMA_TO_DEVICE cpu 2']],
    ['a second platform', ['a platform']],
    ['an sg segment index past the list', ['"d" calls dma_map_sg with sg [{phys 0x10000, length 4K}] dir DMA_TO_DEVICE as s', '"d" calls device_read with dma_addr $s[3] size 4']],
    ['a field the defining op does not return', ['"d" calls dma_map_page with phys 0x10000 size 4K dir DMA_TO_DEVICE as m', 'the CPU calls cpu_read with phys $m.cpu_addr size 4']],
    ['a pool never created', ['the kernel calls dma_pool_alloc with pool p as b']],
    ['a repeat with a dangling inner op', ['the kernel calls repeat with times 2 ops [{op dma_unmap_page, dev d, dma_addr $gone, size 4K, dir DMA_TO_DEVICE}]']],
    ['a duplicate device', ['a device "d"']],
  ];
  for (const [what, extra] of table) {
    const all = steps(...PLATFORM, ...extra);
    const kept = repair(all);
    const dropped = all.filter((o) => !kept.includes(o));
    assert.ok(dropped.length > 0, `${what}: nothing dropped`);
    assert.ok(dropped.every((o) => all.indexOf(o) >= PLATFORM.length), `${what}: the platform ops stay`);
    // What is left runs on the engine without an input error.
    const e = new Engine();
    for (const op of kept) assert.doesNotThrow(() => e.execute(op), what);
  }
  // Cascade: a create whose own argument dangles goes, and so do the uses of what it would have defined.
  const cascade = steps(...PLATFORM, '"d" calls dma_map_page with phys $ghost size 4K dir DMA_TO_DEVICE as m', '"d" calls dma_mapping_error with dma_addr $m');
  assert.equal(repair(cascade).length, PLATFORM.length);
  // The IOVA-based API does not exist in 6.12.
  const old = steps('a platform with linux 6.12', 'the kernel calls iommu_add with name smmu', 'a device "d" with iommu smmu',
    '"d" calls dma_iova_try_alloc with state st phys 0x1000 size 4K');
  assert.equal(repair(old).length, 3);
});
