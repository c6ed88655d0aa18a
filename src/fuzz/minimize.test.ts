/**
 * minimize(): from a predicate only. Planted IOMMU faults shrink to a handful of ops in well under
 * 2 s; predicate-level tests pin the rules (ops[0] kept, dependents dropped with their definer,
 * no candidate tried twice, budgets honoured, arguments simplified).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import type { FaultName } from '../faults';
import { parseSteps } from '../ops/gherkin';
import { printedInput } from './corpus';
import { printOp } from '../ops/json';
import { isHandleRef } from '../ops/kinds';
import type { Op } from '../ops/types';
import { execute, failsWith } from './execute';
import { minimize, minimizeAsync, smallerNumbers } from './minimize';
import type { FuzzInput } from './types';

const steps = parseSteps;
const printed = printedInput;

/** 25 ops on an SMMU in strict mode: two IOMMU devices, a direct one, single, coherent and sg maps. */
const IOMMU_SESSION = steps([
  'a platform with arch arm64 ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 4G}] swiotlb {size 64M} ncpus 2',
  'the kernel calls iommu_add with name smmu mode strict',
  'a device "nic" with iommu smmu dma_mask DMA_BIT_MASK(64)',
  'a device "ssd" with iommu smmu dma_mask DMA_BIT_MASK(32)',
  'a device "uart" with dma_mask DMA_BIT_MASK(32)',
  '"nic" calls dma_max_mapping_size',
  'the CPU calls cpu_write with phys 0x8000_0000 data {len 8192, seed 1}',
  '"nic" calls dma_map_phys with phys 0x8000_0000 size 8K dir DMA_TO_DEVICE as a',
  '"nic" calls dma_mapping_error with dma_addr $a',
  '"nic" calls device_read with dma_addr $a size 64',
  '"ssd" calls dma_alloc_coherent with size 16K as c',
  '"ssd" calls device_write with dma_addr $c data {len 64, seed 2}',
  '"uart" calls dma_map_phys with phys 0x1_0000_0000 size 4K dir DMA_TO_DEVICE as u',
  '"ssd" calls dma_map_sg with sg [{phys 0x8100_0000, length 4K}, {phys 0x8100_1000, length 4K}] dir DMA_FROM_DEVICE as s',
  '"ssd" calls device_write with dma_addr $s data {len 128, fill 0x5a}',
  '"ssd" calls dma_unmap_sg with sg $s dir DMA_FROM_DEVICE', // op 15: both faults show here
  'the kernel calls iommu_info with domain nic',
  '"nic" calls dma_map_phys with phys 0x8200_0000 size 4K dir DMA_BIDIRECTIONAL as b',
  '"nic" calls device_read with dma_addr $b size 64',
  '"uart" calls dma_unmap_phys with dma_addr $u size 4K dir DMA_TO_DEVICE',
  '"nic" calls dma_unmap_phys with dma_addr $b size 4K dir DMA_BIDIRECTIONAL',
  '"nic" calls device_read with dma_addr $a+0x40 size 64',
  '"ssd" calls dma_free_coherent with size 16K cpu_addr $c.cpu_addr dma_addr $c',
  '"nic" calls dma_unmap_phys with dma_addr $a size 8K dir DMA_TO_DEVICE',
  'the kernel calls iova_info with domain nic',
]);

function shrinkFault(fault: FaultName, key: string): { min: FuzzInput; ms: number } {
  const first = execute(IOMMU_SESSION, { faults: [fault] }).failure;
  assert.equal(first?.key, key);
  const t0 = performance.now();
  const min = minimize(IOMMU_SESSION, failsWith(key, { faults: [fault] }), { deadlineMs: 2000 });
  const ms = performance.now() - t0;
  assert.equal(execute(min, { faults: [fault] }).failure?.key, key, 'the minimised input fails the same way');
  assert.equal(execute(min).failure, undefined, 'and only because of the fault');
  assert.equal(min[0].op, 'platform');
  return { min, ms };
}

test('strict-unmap-no-sync: 25 ops shrink to at most 10, deterministically (time: bench/fuzz-compare.ts)', (t) => {
  assert.equal(execute(IOMMU_SESSION).failure, undefined, 'the session is clean without faults');
  const a = shrinkFault('strict-unmap-no-sync', 'STRICT-UNMAP-REVOKES@dma_unmap_sg');
  t.diagnostic(`strict-unmap-no-sync: ${IOMMU_SESSION.length} → ${a.min.length} ops in ${a.ms.toFixed(0)} ms: ${a.min.map((o) => o.op).join(', ')}`);
  assert.ok(a.min.length <= 10, `${a.min.length} ops`);
  const b = shrinkFault('strict-unmap-no-sync', 'STRICT-UNMAP-REVOKES@dma_unmap_sg');
  assert.equal(printed(b.min), printed(a.min), 'the same result on a second run');
});

test('rcache-double-insert: 25 ops shrink to at most 10', (t) => {
  const r = shrinkFault('rcache-double-insert', 'IOVA-RCACHE-CONSISTENT@dma_unmap_sg');
  t.diagnostic(`rcache-double-insert: ${IOMMU_SESSION.length} → ${r.min.length} ops in ${r.ms.toFixed(0)} ms: ${r.min.map((o) => o.op).join(', ')}`);
  assert.ok(r.min.length <= 10, `${r.min.length} ops`);
});

test('minimizeAsync asks the same questions in the same order and ends with the same input as minimize', async () => {
  const key = 'STRICT-UNMAP-REVOKES@dma_unmap_sg';
  const pred = failsWith(key, { faults: ['strict-unmap-no-sync'] });
  const askedSync: string[] = [];
  const askedAsync: string[] = [];
  const sync = minimize(IOMMU_SESSION, (c) => (askedSync.push(printed(c)), pred(c)), { maxTests: 300 });
  const later = await minimizeAsync(IOMMU_SESSION, async (c) => {
    askedAsync.push(printed(c));
    await new Promise((r) => setImmediate(r)); // a predicate that really waits
    return pred(c);
  }, { maxTests: 300 });
  assert.ok(askedSync.length > 10);
  assert.deepEqual(askedAsync, askedSync);
  assert.equal(printed(later), printed(sync));
  assert.ok(later.length <= 10, `${later.length} ops`);
});

// ---- the rules, from predicates that run nothing -------------------------------------------

const PLATFORM_AND_NIC = ['a platform with ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 4G}] swiotlb {size 64M} ncpus 4', 'a device "nic" with dma_mask DMA_BIT_MASK(32) min_align_mask 0xFFF'];
const MAP = '"nic" calls dma_map_phys with phys 0x1_2345_6789 size 0x1234 dir DMA_TO_DEVICE as buf';
const SYNC = '"nic" calls dma_sync_single_for_cpu with dma_addr $buf+0x10 size 16 dir DMA_TO_DEVICE';
const UNMAP = '"nic" calls dma_unmap_phys with dma_addr $buf size 0x1234 dir DMA_TO_DEVICE';
const NOISE = ['the kernel calls swiotlb_info', 'the CPU calls cpu_write with phys 0x1000 data {len 300, seed 9}', '"nic" calls dma_opt_mapping_size'];

/** Every $handle a candidate uses is defined by an earlier op of it. */
function handlesDefined(c: FuzzInput): boolean {
  const defined = new Set<string>();
  const uses = (v: unknown): string[] =>
    isHandleRef(v) ? [v.handle] : Array.isArray(v) ? v.flatMap(uses) : typeof v === 'object' && v !== null ? Object.values(v).flatMap(uses) : [];
  return c.every((op) => {
    const ok = uses(op).every((h) => defined.has(h));
    if ('as' in op && typeof op.as === 'string') defined.add(op.as);
    return ok;
  });
}

test('ops[0] stays, ops after the failing one go, and users go with the op that defines their handle', () => {
  const input = steps([...PLATFORM_AND_NIC, ...NOISE, MAP, ...NOISE, SYNC, ...NOISE, UNMAP, ...NOISE]);
  const tried: FuzzInput[] = [];
  // "Fails" while some dma_map_phys maps at least 4K.
  const pred = (c: FuzzInput): boolean => {
    tried.push(c);
    return c.some((op) => op.op === 'dma_map_phys' && op.size >= 0x1000n);
  };
  const min = minimize(input, pred);
  assert.deepEqual(min.map((o) => o.op), ['platform', 'device_add', 'dma_map_phys']);
  const map = min[2] as Extract<Op, { op: 'dma_map_phys' }>;
  assert.equal(map.size, 0x1000n, 'the size shrank to the round value that still fails');
  assert.equal(map.phys, 0n, 'phys shrank to 0');
  assert.equal(map.as, undefined, 'an unused handle name is dropped');
  assert.ok(tried.every((c) => c[0].op === 'platform'), 'ops[0] is never removed');
  assert.ok(tried.every(handlesDefined), 'no candidate uses a handle whose definer was removed');
  const texts = tried.map(printed);
  assert.equal(new Set(texts).size, texts.length, 'no candidate is tried twice');
});

test('the failing op is kept and the platform simplified: fewer RAM regions, no swiotlb, fewer CPUs', () => {
  const input = steps([...PLATFORM_AND_NIC, MAP, SYNC, UNMAP]);
  // "Fails" while an unmap follows a map of the same handle.
  const pred = (c: FuzzInput): boolean => c.at(-1)?.op === 'dma_unmap_phys' && c.some((op) => op.op === 'dma_map_phys');
  const min = minimize(input, pred);
  assert.deepEqual(min.map((o) => o.op), ['platform', 'device_add', 'dma_map_phys', 'dma_unmap_phys']);
  assert.deepEqual(printOp(min[0]), { op: 'platform' }, 'every optional platform argument dropped');
  assert.deepEqual(printOp(min[1]), { op: 'device_add', name: 'nic' });
});

test('numbers shared by several ops shrink together, byte data gets shorter, repeat loses rounds and ops', () => {
  const input = steps([
    ...PLATFORM_AND_NIC,
    'the CPU calls cpu_write with phys 0x1_2345_6000 data {len 4096, seed 3}',
    'the kernel calls repeat with times 5 ops [{op swiotlb_info}, {op cpu_write, phys 0x40, data deadbeefcafe}]',
    '"nic" calls dma_map_phys with phys 0x1_2345_6000 size 4K dir DMA_FROM_DEVICE',
  ]);
  // "Fails" while the map is of the buffer the CPU wrote, above 4 GiB, after a repeat that writes.
  const pred = (c: FuzzInput): boolean => {
    const w = c.find((op) => op.op === 'cpu_write');
    const m = c.find((op) => op.op === 'dma_map_phys');
    const r = c.find((op) => op.op === 'repeat');
    return !!w && !!m && !!r && w.phys === m.phys && typeof m.phys === 'bigint' && m.phys >= 1n << 32n
      && r.ops.some((o) => (o as Op).op === 'cpu_write');
  };
  const min = minimize(input, pred);
  const text = min.map((o) => JSON.stringify(printOp(o)));
  assert.match(text[2], /"phys":"0x100000000","data":\{"len":1,"seed":0\}/, text[2]);
  assert.match(text[3], /^\{"op":"repeat","times":0,"ops":\[\{"op":"cpu_write","phys":"0x0","data":"de"\}\]\}$/, text[3]);
  assert.match(text[4], /"phys":"0x100000000","size":"0"/, text[4]);
});

test('an input that does not fail comes back unchanged; budgets stop the search early', () => {
  const input = steps([...PLATFORM_AND_NIC, ...NOISE, MAP, UNMAP]);
  let calls = 0;
  assert.equal(minimize(input, () => (calls++, false)), input);
  assert.equal(calls, 1);

  calls = 0;
  const pred = (c: FuzzInput): boolean => (calls++, c.some((op) => op.op === 'dma_unmap_phys'));
  const capped = minimize(input, pred, { maxTests: 5 });
  assert.equal(calls, 5);
  assert.ok(pred(capped), 'what comes back still fails');

  const slow = (c: FuzzInput): boolean => {
    const until = performance.now() + 5;
    while (performance.now() < until) { /* a slow predicate */ }
    return c.some((op) => op.op === 'dma_unmap_phys');
  };
  const t0 = performance.now();
  const cut = minimize(steps([...PLATFORM_AND_NIC, ...NOISE, ...NOISE, ...NOISE, MAP, UNMAP]), slow, { deadlineMs: 50 });
  assert.ok(performance.now() - t0 < 200, 'the deadline cuts it short');
  assert.ok(slow(cut));
});

test('smallerNumbers: simpler values first, all below v', () => {
  assert.deepEqual(smallerNumbers(0n), []);
  assert.deepEqual(smallerNumbers(1n), [0n]);
  assert.deepEqual(smallerNumbers(0x1234n), [0n, 1n, 0x91an, 0x1000n, 0x1200n]);
  for (const v of [0x1_2345_6789n, 0xffff_ffffn, 7n]) assert.ok(smallerNumbers(v).every((c) => c < v));
});
