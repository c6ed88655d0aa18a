/**
 * Parallel campaigns: the same seed, worker count and --runs give the same findings and the same
 * final corpus; aborting (Ctrl-C) still writes the findings; a worker crash is reported and loses
 * none of the findings it had reported.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCampaign, type CampaignStats } from './campaign';
import { loadCorpus, printedInput } from './corpus';
import { execute } from './execute';
import { instrumentedBuild } from './instrument';
import { runParallelCampaign, type PoolOptions } from './worker-pool';

const build = instrumentedBuild();
const tmp = (): string => mkdtempSync(join(tmpdir(), 'dmaspec-pool-'));

const base = (dir: string): PoolOptions => ({
  seed: 5, workers: 2, runs: 80, roundExecs: 10, platform: 'no-iommu-32bit', faults: ['swiotlb-skip-map-copy'],
  coverage: 'both', build, corpusDir: join(dir, 'corpus'), outDir: join(dir, 'findings'),
});

/** What must not change between two runs of the same campaign. */
const outcome = (s: CampaignStats, dir: string) => ({
  execs: s.execs, invalid: s.invalid, features: s.features, edges: s.edges, corpusSize: s.corpusSize,
  findings: s.findings.map((f) => ({ key: f.failure.key, worker: f.worker, execs: f.execsToFind, minimized: printedInput(f.minimized) })),
  corpusFiles: readdirSync(join(dir, 'corpus')).sort(),
  findingFiles: readdirSync(join(dir, 'findings')).sort(),
});

test('two workers with --runs: the same seed gives the same findings and the same corpus', async () => {
  const [a, b] = [tmp(), tmp()];
  const first = await runParallelCampaign(base(a));
  const second = await runParallelCampaign(base(b));
  assert.equal(first.workers, 2);
  assert.equal(first.execs, 80);
  assert.ok(first.findings.length > 0, 'the planted fault is found');
  assert.ok(first.corpusSize > 0 && first.edges > 0 && first.edges <= first.edgesTotal);
  assert.deepEqual(outcome(second, b), outcome(first, a));
  assert.deepEqual(first.warnings, []);
  // Another seed is another campaign (the comparison above can tell campaigns apart).
  const c = tmp();
  const other = await runParallelCampaign({ ...base(c), seed: 6, runs: 30 });
  assert.notDeepEqual(outcome(other, c).corpusFiles, outcome(first, a).corpusFiles);
});

test('aborting (Ctrl-C) stops every worker after its current input and keeps the findings written', async () => {
  const dir = tmp();
  const ctl = new AbortController();
  const s = await runParallelCampaign({
    ...base(dir), runs: 100_000, signal: ctl.signal,
    onProgress: (st) => {
      if (st.findings.length > 0) ctl.abort();
    },
  });
  assert.ok(ctl.signal.aborted);
  assert.ok(s.execs < 100_000, `stopped early (${s.execs} execs)`);
  assert.ok(s.findings.length > 0);
  for (const f of s.findings) for (const file of f.files) assert.ok(existsSync(file), `${file} written`);
  assert.deepEqual(s.warnings, []);
});

test('a worker crash is reported, the others finish, and its reported findings are kept', async () => {
  // Where worker 1 first finds something in the undisturbed campaign (one long round: no exchange).
  const ref = await runParallelCampaign({ ...base(tmp()), seed: 1, roundExecs: 1000, runs: 100 });
  const first = ref.findings.filter((f) => f.worker === 1).sort((x, y) => x.execsToFind - y.execsToFind)[0];
  assert.ok(first, 'worker 1 finds the planted fault');
  const dir = tmp();
  const s = await runParallelCampaign({ ...base(dir), seed: 1, roundExecs: 1000, runs: 100, crash: { index: 1, execs: first.execsToFind } });
  assert.ok(s.warnings.some((w) => /^worker 1 crashed: .*planted worker crash/.test(w)), s.warnings.join('\n'));
  assert.equal(s.crashedWorkers, 1);
  const kept = s.findings.find((f) => f.failure.key === first.failure.key);
  assert.ok(kept, 'the finding worker 1 posted before crashing is in the summary');
  for (const file of kept.files) assert.ok(existsSync(file), `${file} written`);
  assert.equal(s.execs, 50 + first.execsToFind, 'worker 0 ran its whole share');
});

test('one worker on model coverage (src/ through tsx) is the single-thread campaign of the same seed', async () => {
  const opts = { seed: 2, runs: 40, platform: 'x86-vtd', faults: ['rcache-double-insert'] } as const;
  const pooled = await runParallelCampaign({ ...opts, workers: 1, coverage: 'model' });
  const alone = runCampaign(opts);
  assert.equal(pooled.crashedWorkers, 0, pooled.warnings.join('\n'));
  const sum = (s: CampaignStats) => ({
    execs: s.execs, invalid: s.invalid, features: s.features, corpusSize: s.corpusSize, edges: s.edges,
    findings: s.findings.map((f) => [f.failure.key, f.execsToFind, printedInput(f.minimized)]),
  });
  assert.deepEqual(sum(pooled), sum(alone));
  assert.ok(alone.corpusSize > 0);
});

test('inputs loaded from the corpus seed the workers but are not saved again under another name', async () => {
  const dir = tmp();
  const corpus = join(dir, 'corpus');
  mkdirSync(corpus);
  const hand = [
    { op: 'platform', ram: [{ base: '0', size: '1G' }], swiotlb: { size: '4M' } },
    { op: 'device_add', name: 'd', dma_mask: 'DMA_BIT_MASK(32)' },
    { op: 'dma_map_phys', dev: 'd', phys: '0x10000', size: '512', dir: 'DMA_TO_DEVICE', as: 'b' },
  ];
  writeFileSync(join(corpus, 'hand-written.json'), JSON.stringify(hand));
  const s = await runParallelCampaign({ seed: 1, runs: 12, workers: 2, platform: 'no-iommu-32bit', coverage: 'model', corpusDir: corpus });
  assert.ok(s.corpusSize >= 1, 'the loaded input counts in the corpus');
  const loaded = loadCorpus(corpus);
  const handText = printedInput(loaded.inputs[loaded.files.indexOf(join(corpus, 'hand-written.json'))]);
  assert.deepEqual(loaded.files.filter((_, i) => printedInput(loaded.inputs[i]) === handText), [join(corpus, 'hand-written.json')]);
});

test('at the end the corpus directory is culled: fewer files, reaching the same features', async () => {
  const reach = (dir: string): Set<string> => {
    const out = new Set<string>();
    for (const input of loadCorpus(dir).inputs) for (const f of execute(input, {}).features) out.add(f);
    return out;
  };
  const opts = (dir: string): PoolOptions => ({ ...base(dir), faults: [], runs: 120, coverage: 'model', workers: 1 });
  const [a, b] = [tmp(), tmp()];
  const culled = await runParallelCampaign(opts(a));
  const whole = await runParallelCampaign({ ...opts(b), keepRedundant: true });
  const [culledFiles, wholeFiles] = [readdirSync(join(a, 'corpus')), readdirSync(join(b, 'corpus'))];
  assert.ok((culled.corpusCulled ?? 0) > 0, 'some entries were redundant');
  assert.equal(whole.corpusCulled, undefined, 'nothing culled when asked to keep');
  assert.equal(culledFiles.length, culled.corpusSize);
  assert.equal(wholeFiles.length, culledFiles.length + culled.corpusCulled!);
  assert.deepEqual([...reach(join(a, 'corpus'))].sort(), [...reach(join(b, 'corpus'))].sort());
});
