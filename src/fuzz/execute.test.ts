/** execute(): failures and their keys, invalid inputs, model crashes, coverage features, and speed. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseStep } from '../ops/gherkin';
import { printOp } from '../ops/json';
import type { Op } from '../ops/types';
import { bucket } from './coverage';
import { crashSite, execute, failsWith } from './execute';

const steps = (texts: readonly string[]): Op[] =>
  texts.map((t) => {
    const op = parseStep(t);
    if (!op) throw new Error(`not a step: ${t}`);
    return op;
  });

/** 50 ops of ordinary driver traffic on arm64: direct, bounced, coherent and sg mappings; clean. */
const SESSION = steps([
  'a platform with arch arm64 ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 4G}] swiotlb {size 64M} ncpus 2',
  'a device "nic" with dma_mask DMA_BIT_MASK(32)',
  'a device "gpu" with bus platform coherent false dma_mask DMA_BIT_MASK(64) coherent_dma_mask DMA_BIT_MASK(64)',
  'a device "cam" with bus platform coherent false dma_mask DMA_BIT_MASK(32) min_align_mask 0xFFF',
  '"gpu" calls dma_max_mapping_size',
  '"cam" calls dma_opt_mapping_size',
  'the CPU calls cpu_write with phys 0x1000_0000 data {len 8192, seed 1}',
  '"gpu" calls dma_map_phys with phys 0x1000_0000 size 8K dir DMA_TO_DEVICE as cmd',
  '"gpu" calls dma_mapping_error with dma_addr $cmd',
  'the CPU calls cpu_speculate with phys 0x1000_0000 size 16K',
  '"gpu" calls device_read with dma_addr $cmd size 64',
  '"nic" calls dma_alloc_coherent with size 16K as desc',
  'the CPU calls cpu_write with phys $desc.cpu_addr data {len 64, fill 0x10}',
  '"nic" calls device_read with dma_addr $desc size 64',
  '"nic" calls device_write with dma_addr $desc+0x40 data {len 64, fill 0x20}',
  'the CPU calls cpu_read with phys $desc.cpu_addr size 128',
  '"gpu" calls dma_unmap_phys with dma_addr $cmd size 8K dir DMA_TO_DEVICE',
  'the CPU calls cpu_write with phys 0x1_2345_6000 data {len 4096, seed 7}',
  '"nic" calls dma_map_phys with phys 0x1_2345_6000 size 4K dir DMA_FROM_DEVICE as rx', // op 18: bounced
  '"nic" calls dma_mapping_error with dma_addr $rx',
  '"nic" calls device_write with dma_addr $rx data {len 16, fill 0xd0}',
  '"nic" calls dma_sync_single_for_cpu with dma_addr $rx size 4K dir DMA_FROM_DEVICE',
  '"nic" calls dma_sync_single_for_device with dma_addr $rx size 4K dir DMA_FROM_DEVICE',
  '"nic" calls dma_unmap_phys with dma_addr $rx size 4K dir DMA_FROM_DEVICE',
  'the CPU calls cpu_read with phys 0x1_2345_6000 size 64', // op 24: the bytes the device did not write
  'the CPU calls cpu_write with phys 0x1_2000_0000 data {len 16384, fill 0x11}',
  '"cam" calls dma_map_phys with phys 0x1_2000_0234 size 12K dir DMA_FROM_DEVICE as frame',
  '"cam" calls dma_mapping_error with dma_addr $frame',
  '"cam" calls device_write with dma_addr $frame data {len 4096, seed 2}',
  '"cam" calls dma_sync_single_for_cpu with dma_addr $frame size 12K dir DMA_FROM_DEVICE',
  'the CPU calls cpu_read with phys 0x1_2000_1234 size 64',
  '"cam" calls dma_unmap_phys with dma_addr $frame size 12K dir DMA_FROM_DEVICE',
  'the CPU calls cpu_write with phys 0x1300_0000 data {len 12288, seed 4}',
  'the CPU calls cpu_write with phys 0x1_3000_0000 data {len 4096, seed 5}',
  '"cam" calls dma_map_sg with sg [{phys 0x1300_0000, length 4K}, {phys 0x1_3000_0000, length 4K}, {phys 0x1300_2000, length 4K}] dir DMA_TO_DEVICE as sg',
  '"cam" calls device_read with dma_addr $sg size 64',
  '"cam" calls dma_sync_sg_for_cpu with sg $sg dir DMA_TO_DEVICE',
  '"cam" calls dma_sync_sg_for_device with sg $sg dir DMA_TO_DEVICE',
  '"cam" calls dma_unmap_sg with sg $sg dir DMA_TO_DEVICE',
  'the CPU calls cpu_write with phys 0x1200_0000 data {len 4096, seed 3}',
  '"gpu" calls dma_map_phys with phys 0x1200_0000 size 4K dir DMA_BIDIRECTIONAL as ring',
  '"gpu" calls dma_mapping_error with dma_addr $ring',
  '"gpu" calls device_write with dma_addr $ring+0x100 data {len 64, fill 0xee}',
  '"gpu" calls dma_sync_single_for_cpu with dma_addr $ring size 4K dir DMA_BIDIRECTIONAL',
  'the CPU calls cpu_read with phys 0x1200_0100 size 64',
  '"gpu" calls dma_unmap_phys with dma_addr $ring size 4K dir DMA_BIDIRECTIONAL',
  '"nic" calls dma_free_coherent with size 16K cpu_addr $desc.cpu_addr dma_addr $desc',
  'the kernel calls swiotlb_info',
  'device "gpu" is removed',
  'device "nic" is removed',
]);

test('a clean run: every op ran, no failure, and features name the paths the maps took', () => {
  assert.equal(SESSION.length, 50);
  const o = execute(SESSION);
  assert.equal(o.failure, undefined);
  assert.equal(o.invalid, undefined);
  assert.equal(o.ran, 50);
  const f = [...o.features];
  for (const want of ['platform:ok', 'dma_map_phys:ok:bounce:swiotlb-copy', 'dma_map_phys:ok:direct:clean+flush', 'dma_alloc_coherent:ok:direct']) {
    assert.ok(o.features.has(want), `${want} not among\n${f.join('\n')}`);
  }
  assert.ok(f.some((x) => x.startsWith('dma_map_sg:ok:direct+sg-bounce-some')), 'an sg list with one bounced entry');
  assert.ok(o.features.has('cpu_write:ok#4'), 'cpu_write ran 4-7 times: its hit-count bucket');
});

test('features are deterministic: the same input gives the same set, in the same order', () => {
  assert.deepEqual([...execute(SESSION).features], [...execute(SESSION).features]);
});

test('a planted fault: the first violation stops the run, keyed by invariant and op', () => {
  const o = execute(SESSION, { faults: ['swiotlb-skip-map-copy'] });
  assert.ok(o.failure);
  assert.equal(o.failure.kind, 'invariant');
  assert.equal(o.failure.id, 'SWIOTLB-BOUNCE-FILLED');
  assert.equal(o.failure.index, 18);
  assert.equal(o.failure.key, 'SWIOTLB-BOUNCE-FILLED@dma_map_phys');
  assert.match(o.failure.message, /bounce 0x[0-9a-f]+ of "nic"/);
  assert.equal(o.ran, 19);
});

test('only the invariants asked for are checked: the same fault then shows later, elsewhere', () => {
  const o = execute(SESSION, { faults: ['swiotlb-skip-map-copy'], invariants: ['VIS-BOUNCE-TRANSPARENT'] });
  assert.equal(o.failure?.key, 'VIS-BOUNCE-TRANSPARENT@cpu_read');
  assert.equal(o.failure?.index, 24);
});

test('an input error is an invalid input, not a finding', () => {
  const o = execute(steps(['a platform', 'a device "nic"', '"nic" calls dma_unmap_phys with dma_addr $nope size 4K dir DMA_TO_DEVICE']));
  assert.equal(o.failure, undefined);
  assert.match(o.invalid ?? '', /^op\[2\]\.dma_addr: expected a handle defined earlier/);
  assert.equal(o.ran, 2);
  const noPlatform = execute(steps(['a device "nic"']));
  assert.match(noPlatform.invalid ?? '', /a "platform" op first/);
});

test('a model crash is a finding keyed by the op and the first stack frame in src/', () => {
  // An argument that skipped validation (a number where the table says bigint) makes the model throw.
  const bad = { ...SESSION[18], size: 4096 } as unknown as Op;
  const o = execute([SESSION[0], SESSION[1], bad]);
  assert.equal(o.failure?.kind, 'crash');
  assert.equal(o.failure?.id, 'CRASH');
  assert.equal(o.failure?.index, 2);
  assert.match(o.failure?.key ?? '', /^CRASH@dma_map_phys@\S+ \(src\/(?!fuzz\/)[\w/.-]+\.ts:\d+\)$/);
  assert.match(o.failure?.message ?? '', /^TypeError: /);
  assert.equal(o.ran, 3);
});

test('crashSite skips frames outside src/ and inside src/fuzz/', () => {
  const src = join(__dirname, '..');
  const stack = [
    'Error: boom',
    '    at Object.<anonymous> (/usr/lib/node_modules/x.js:1:1)',
    `    at execute (${join(src, 'fuzz', 'execute.ts')}:40:5)`,
    `    at IoTlbMem.swiotlb_tbl_map_single (${join(src, 'dma', 'swiotlb.ts')}:200:13)`,
    `    at ${join(src, 'engine', 'engine.ts')}:9:1`,
  ].join('\n');
  assert.equal(crashSite(stack), 'IoTlbMem.swiotlb_tbl_map_single (src/dma/swiotlb.ts:200)');
  assert.equal(crashSite('Error: x\n    at f (/elsewhere/a.ts:1:1)'), undefined);
});

test('failsWith: a predicate on the failure key, for minimize()', () => {
  const p = failsWith('SWIOTLB-BOUNCE-FILLED@dma_map_phys', { faults: ['swiotlb-skip-map-copy'] });
  assert.equal(p(SESSION), true);
  assert.equal(p(SESSION.slice(0, 18)), false);
  assert.equal(failsWith('SWIOTLB-BOUNCE-FILLED@dma_map_phys')(SESSION), false);
});

test('AFL hit-count buckets', () => {
  assert.deepEqual([1, 2, 3, 4, 7, 8, 15, 16, 31, 32, 127, 128, 1000].map(bucket), [1, 2, 3, 4, 4, 8, 8, 16, 16, 32, 32, 128, 128]);
});

/** execs/s of `f` over `n` runs after a warm-up. */
function rate(f: () => void, n: number): number {
  for (let i = 0; i < 10; i++) f();
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) f();
  return n / (Number(process.hrtime.bigint() - t) / 1e9);
}

// The child starts CodeCoverage before any model function has run (coverage.ts caveat (a)), then
// prints what the parent checks: block and function features, their stability, exclusions, speed.
const CHILD = `
const { CodeCoverage } = require(${JSON.stringify(join(__dirname, 'coverage.ts'))});
const code = CodeCoverage.start();
const { execute } = require(${JSON.stringify(join(__dirname, 'execute.ts'))});
const { parseOp } = require(${JSON.stringify(join(__dirname, '..', 'ops', 'json.ts'))});
const input = JSON.parse(process.argv[1]).map((o) => parseOp(o));
const run = () => [...execute(input, { code }).features];
const runs = [run(), run(), run(), run(), run()];
const blocks = (fs) => JSON.stringify(fs.filter((f) => f.startsWith('c:')));
const fns = (fs) => fs.filter((f) => f.startsWith('f:'));
const direct = execute(input.slice(0, 18), { code }).features;
const withBounce = [...execute(input.slice(0, 19), { code }).features];
for (let i = 0; i < 10; i++) run();
const t = process.hrtime.bigint();
const n = 100;
for (let i = 0; i < n; i++) run();
const rate = n / (Number(process.hrtime.bigint() - t) / 1e9);
const a = runs[0];
const onlyBounce = withBounce.filter((f) => f.startsWith('c:') && !direct.has(f));
console.log(JSON.stringify({
  blockLevel: code.blockLevel, blocks: a.filter((f) => f.startsWith('c:')).length, functions: fns(a).length,
  blocksStable: runs.every((r) => blocks(r) === blocks(a)), functionsOnlyFade: runs.every((r) => fns(r).every((f) => a.includes(f))),
  harness: a.filter((f) => /^[cf]:(fuzz|cli)\\//.test(f)).length, onlyBounce: onlyBounce.length,
  swiotlb: onlyBounce.some((f) => f.startsWith('c:dma/swiotlb.ts:')), rate }));
code.stop();
`;

test('speed on 50-op sequences, and V8 block coverage of the model (in a fresh process)', (t) => {
  const modelOnly = rate(() => execute(SESSION), 100);
  const bare = rate(() => execute(SESSION, { features: false }), 100);
  const json = JSON.stringify(SESSION.map(printOp));
  const child = spawnSync(process.execPath, ['--import', 'tsx', '-e', CHILD, json], { encoding: 'utf8', cwd: join(__dirname, '..', '..') });
  assert.equal(child.status, 0, child.stderr);
  const r = JSON.parse(child.stdout.trim().split('\n').pop() ?? '{}') as {
    blockLevel: boolean; blocks: number; functions: number; blocksStable: boolean; functionsOnlyFade: boolean;
    harness: number; onlyBounce: number; swiotlb: boolean; rate: number;
  };
  assert.ok(r.blockLevel, 'block ranges were reported');
  assert.ok(r.blocksStable, 'the same input gives the same block features, run after run');
  assert.ok(r.functionsOnlyFade, 'function features of later runs are a subset (coverage.ts caveat (c))');
  assert.ok(r.blocks > 500 && r.functions > 300, `${r.blocks} block and ${r.functions} function features`);
  assert.equal(r.harness, 0, 'src/fuzz and src/cli never count');
  assert.ok(r.swiotlb && r.onlyBounce > 0, 'a bounced map reaches swiotlb blocks a direct-only prefix does not');
  t.diagnostic(`50-op sequence: ${bare.toFixed(0)} execs/s without features, ${modelOnly.toFixed(0)} with model features, ${r.rate.toFixed(0)} with V8 block coverage too (${(modelOnly / r.rate).toFixed(2)}x the cost; ${r.blocks} block + ${r.functions} function features)`);
  assert.ok(modelOnly > 20, `${modelOnly.toFixed(0)} execs/s`);
});
