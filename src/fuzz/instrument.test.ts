/**
 * The instrumented build: produced on demand, loaded as one module graph, and its counters read as
 * edges — a known model branch is hit after an op that takes it and not before; a coverage-guided
 * campaign keeps an input that adds an edge and drops one that adds none.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { dma_direct_map_phys } from '../dma/direct';
import { parseOpList } from '../ops/json';
import type { Campaign as CampaignClass, CampaignOptions } from './campaign';
import type { BranchCoverage as BranchCoverageClass } from './coverage-code';
import type { execute as executeFn } from './execute';
import { COVERAGE_VARIABLE, dropStatementCounters, instrumentedBuild } from './instrument';
import type { FuzzInput } from './types';

const build = instrumentedBuild();

// The instrumented tree, loaded once: execute, the engine and the model all come from build.dir.
const { execute } = require(join(build.dir, 'fuzz', 'execute.js')) as { execute: typeof executeFn };
const { BranchCoverage } = require(join(build.dir, 'fuzz', 'coverage-code.js')) as { BranchCoverage: typeof BranchCoverageClass };
const { Campaign } = require(join(build.dir, 'fuzz', 'campaign.js')) as { Campaign: typeof CampaignClass };
const code = new BranchCoverage(build.manifest);

interface IstanbulFile {
  fnMap: Record<string, { name: string; decl: { start: { line: number } } }>;
  branchMap: Record<string, { type: string; loc: { start: { line: number } } }>;
}

/** The feature of dma_direct_map_phys's first if (is_swiotlb_force_bounce) taking its then-arm. */
function forceBounceArm(): string {
  const cov = (globalThis as unknown as Record<string, Record<string, IstanbulFile>>)[COVERAGE_VARIABLE]['dma/direct.ts'];
  assert.ok(cov, 'dma/direct.ts registered its counters');
  const fn = Object.values(cov.fnMap).find((f) => f.name === 'dma_direct_map_phys');
  assert.ok(fn, 'dma_direct_map_phys is instrumented');
  let best: [string, number] | undefined;
  for (const [id, b] of Object.entries(cov.branchMap)) {
    const line = b.loc.start.line;
    if (b.type === 'if' && line > fn.decl.start.line && (!best || line < best[1])) best = [id, line];
  }
  assert.ok(best);
  return `br:dma/direct.ts:${best[0]}.0`;
}

const ops = (force: boolean): FuzzInput => parseOpList(JSON.stringify([
  { op: 'platform', ram: [{ base: '0', size: '1G' }], swiotlb: { size: '4M', ...(force ? { force: true } : {}) } },
  { op: 'device_add', name: 'd' },
  { op: 'dma_map_phys', dev: 'd', phys: '0x10000', size: '512', dir: 'DMA_TO_DEVICE', as: 'b' },
  { op: 'dma_mapping_error', dev: 'd', dma_addr: '$b' },
]), 'test');

test('the build is cached under node_modules/.cache and covers the model, not the harness', () => {
  assert.match(build.dir, /node_modules[/\\].cache[/\\]dmaspec[/\\]instrumented-[0-9a-f]{16}$/);
  assert.ok(existsSync(join(build.dir, 'fuzz', 'worker.js')));
  const files = build.manifest.files.map((f) => f.file);
  assert.ok(files.includes('dma/direct.ts') && files.includes('engine/engine.ts') && files.includes('invariants/registry.ts'));
  assert.ok(!files.some((f) => f.startsWith('fuzz/') || f.startsWith('cli/')), 'harness files are not instrumented');
  assert.ok(build.manifest.total > 1000, `${build.manifest.total} edges`);
  const again = instrumentedBuild();
  // (Only when no source changed in between, which a developer editing src/ may do.)
  if (again.dir === build.dir) assert.equal(again.built, false, 'a second call reuses the tree');
});

test('a known branch arm is an edge after the op that takes it, and not before', () => {
  const arm = forceBounceArm();
  const upToDevice = execute(ops(true).slice(0, 2), { code });
  assert.ok(!upToDevice.features.has(arm), 'not before the map');
  assert.ok([...upToDevice.features].some((f) => f.startsWith('fn:engine/')), 'the engine ran and counted');
  const direct = execute(ops(false), { code });
  assert.equal(direct.failure, undefined);
  assert.ok(!direct.features.has(arm), 'a map that does not bounce leaves it untaken');
  assert.ok(direct.features.has(arm.replace(/\.0$/, '.1')), 'and takes the else-arm instead');
  const bounced = execute(ops(true), { code });
  assert.equal(bounced.failure, undefined);
  assert.ok(bounced.features.has(arm), `${arm} after a forced-bounce map`);
  // Counters are reset per run: the next run without the op does not inherit the hit.
  assert.ok(!execute(ops(false), { code }).features.has(arm));
});

test('crash sites in the instrumented tree name the TypeScript source line, as under tsx', () => {
  const where = (fn: (...a: unknown[]) => unknown): string => {
    try {
      fn(null, null);
    } catch (err) {
      return /dma[/\\]direct\.ts:\d+/.exec((err as Error).stack ?? '')?.[0] ?? 'no frame in direct.ts';
    }
    return 'did not throw';
  };
  const instrumented = require(join(build.dir, 'dma', 'direct.js')) as { dma_direct_map_phys: (...a: unknown[]) => unknown };
  const site = where(instrumented.dma_direct_map_phys);
  assert.match(site, /^dma[/\\]direct\.ts:\d+$/);
  assert.equal(site, where(dma_direct_map_phys as (...a: unknown[]) => unknown), 'the same file:line as the source run through tsx');
});

test('coverage-guided (code only): an input that adds an edge is kept, one that adds none is dropped', () => {
  const opts: CampaignOptions = { seed: 1, platform: 'mix', coverage: 'code', code, edgesTotal: build.manifest.total };
  const c = new Campaign(opts, () => 0);
  assert.equal(c.consider(ops(false)), true, 'the first input adds edges');
  const edges = c.stats.edges;
  assert.equal(c.consider(ops(false)), false, 'the same input again adds none');
  assert.equal(c.stats.edges, edges);
  assert.equal(c.consider(ops(true)), true, 'forcing the bounce takes new arms');
  assert.ok(c.stats.edges > edges);
  assert.equal(c.stats.corpusSize, 2);
  assert.equal(c.stats.edgesTotal, build.manifest.total);
});

test('dropping statement counters keeps every function and arm count, and every line and column', async () => {
  const { createInstrumenter } = await import('istanbul-lib-instrument');
  const src = [
    'function pick(a, b) {',
    '  const x = a > 0 ? a : -a;',
    '  if (b && x > 2) return x;',
    '  for (let i = 0; i < 3; i++) b = b || i;',
    '  const f = (y) => (y, y + 1);',
    '  return f(b) ?? 0;',
    '}',
    'module.exports = { pick, boom() { throw new Error("here"); } };',
  ].join('\n');
  const raw = createInstrumenter({ coverageVariable: '__h7cov__', esModules: false, compact: true }).instrumentSync(src, 'x.js');
  const slim = dropStatementCounters(raw);
  assert.doesNotMatch(slim, /\(\)\.s\[\d+\]\+\+/, 'no statement counter is left');
  assert.equal(slim.length, raw.length, 'same length');
  assert.equal(slim.split('\n').length, raw.split('\n').length, 'same lines');
  const run = (code: string): { f: unknown; b: unknown; line: string } => {
    const g = globalThis as Record<string, unknown>;
    delete g.__h7cov__;
    const mod = { exports: {} as { pick(a: number, b: number): number; boom(): void } };
    new Function('module', code)(mod);
    for (const [a, b] of [[3, 1], [-5, 0], [1, 0], [0, 7]]) mod.exports.pick(a!, b!);
    let line = '';
    try {
      mod.exports.boom();
    } catch (e) {
      line = /<anonymous>:(\d+:\d+)/.exec((e as Error).stack ?? '')?.[1] ?? '';
    }
    const cov = (g.__h7cov__ as Record<string, { f: unknown; b: unknown }>)['x.js']!;
    return { f: structuredClone(cov.f), b: structuredClone(cov.b), line };
  };
  const want = run(raw);
  assert.ok(Object.values(want.b as Record<string, number[]>).some((arms) => arms.some((n) => n > 1)), 'the snippet counts arms');
  assert.notEqual(want.line, '', 'the throw names a line');
  assert.deepEqual(run(slim), want);
});
