/**
 * End to end: the harness against `dmaspec serve` (the reference model behind the protocol, in a
 * child process): it agrees with itself on the features and a seeded campaign, and a planted IOVA
 * fault is found, minimised and reported; the CLI's exit codes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runDifferential } from './differential';
import { featureFiles, runFeatures } from './features';
import { ModelImplementation } from './model';
import { ProcessImplementation } from './process';
import type { Profile } from './compare';

const ROOT = join(__dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'dmaspec.js');
const IOVA_OPS = 'init_iova_domain,alloc_iova,free_iova,alloc_iova_fast,free_iova_fast,reserve_iova,find_iova,iova_info,advance_time,iova_cpuhp_dead';
const out = mkdtempSync(join(tmpdir(), 'conform-e2e-'));
after(() => rmSync(out, { recursive: true, force: true }));

async function withServe<T>(args: string, profile: Profile, f: (s: { ref: ModelImplementation; impl: ProcessImplementation; hello: Awaited<ReturnType<ProcessImplementation['start']>>; profile: Profile }) => Promise<T>): Promise<T> {
  const impl = new ProcessImplementation(`${process.execPath} ${BIN} serve ${args}`, { timeoutMs: 5000 });
  const hello = await impl.start();
  const ref = new ModelImplementation();
  await ref.start();
  try {
    return await f({ ref, impl, hello, profile });
  } finally {
    await impl.stop();
  }
}

describe('conform against dmaspec serve', () => {
  it('agrees on the IOVA and IOMMU features and on a seeded campaign over every op (linux-exact)', async () => {
    await withServe('', 'linux-exact', async (sides) => {
      const outcomes = await runFeatures(sides, featureFiles([join(ROOT, 'features', 'iova'), join(ROOT, 'features', 'iommu')]), { restart: async () => void (await sides.impl.start()) });
      assert.ok(outcomes.length > 100);
      assert.deepEqual(outcomes.filter((o) => o.status !== 'passed').map((o) => `${o.scenario.where} ${o.status}`), []);
      const stats = await runDifferential(sides, { outDir: out, implementation: 'serve', profile: 'linux-exact' }, { seed: 7, runs: 40});
      assert.equal(stats.runs, 40);
      assert.deepEqual(stats.divergences.map((d) => d.key), []);
      assert.deepEqual(stats.faults.map((d) => d.key), []);
      assert.ok(stats.agreed >= 35 && stats.ops > 500, `${stats.agreed} agreed, ${stats.ops} ops`);
    });
  });

  it('a component implementation: scenarios with ops it does not list are skipped, each with the op named', async () => {
    await withServe(`--ops ${IOVA_OPS}`, 'contract', async (sides) => {
      const outcomes = await runFeatures(sides, featureFiles([join(ROOT, 'features', 'iova'), join(ROOT, 'features', 'io-pgtable')]), { restart: async () => void (await sides.impl.start()) });
      const skipped = outcomes.filter((o) => o.status === 'skipped');
      assert.equal(outcomes.filter((o) => o.status === 'passed').length, outcomes.length - skipped.length);
      assert.ok(skipped.length >= 10 && skipped.every((o) => o.status === 'skipped' && /^unsupported ops? .*(iommu_add|device_add)/.test(o.reason)));
    });
  });

  it('a planted IOVA fault (iova-ignore-limit) is found, minimised to ≤10 ops and saved as JSON and a scenario with both sides\' results', async () => {
    await withServe(`--ops ${IOVA_OPS} --fault iova-ignore-limit`, 'linux-exact', async (sides) => {
      const dir = join(out, 'fault');
      const stats = await runDifferential(sides, { outDir: dir, implementation: sides.hello.implementation, profile: 'linux-exact' }, { seed: 1, runs: 10, outDir: dir });
      assert.ok(stats.divergences.length >= 1);
      for (const d of stats.divergences) {
        assert.ok(d.ops.length <= 10, `${d.key}: ${d.ops.length} ops`);
        const feature = readFileSync(d.files.find((f) => f.endsWith('.feature'))!, 'utf8');
        assert.match(feature, /# \| op \| reference \| implementation \|/);
        const json = JSON.parse(readFileSync(d.files.find((f) => f.endsWith('.json'))!, 'utf8')) as { steps: { reference: unknown; implementation: unknown }[] };
        const last = json.steps[json.steps.length - 1]!;
        assert.notDeepEqual(last.reference, last.implementation);
      }
      // Under contract the same fault shows as a broken black-box check.
      const c = await runDifferential({ ...sides, profile: 'contract' }, { outDir: dir, implementation: sides.hello.implementation, profile: 'contract' }, { seed: 1, runs: 10 });
      assert.ok(c.divergences.some((d) => d.key.startsWith('C-IOVA-IN-LIMIT@')), c.divergences.map((d) => d.key).join(', '));
    });
  });
});

describe('dmaspec conform (CLI)', () => {
  const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, 'conform', ...args], { encoding: 'utf8', cwd: ROOT });

  it('exit 1 with a summary and the findings on disk when the implementation diverges', () => {
    const dir = join(out, 'cli');
    const r = cli('--impl', `${process.execPath} ${BIN} serve --ops ${IOVA_OPS} --fault iova-ignore-limit`, '--profile', 'linux-exact', '--features', join('features', 'iova', 'top-down.feature'), '--runs', '5', '--out', dir);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /ops supported: 11 of /);
    assert.match(r.stdout, /scenarios: \d+ passed, [1-9]\d* failed, 0 skipped/);
    assert.match(r.stdout, /divergences: \d+ in [1-9]\d* distinct/);
    assert.ok(existsSync(join(dir, 'skipped.json')));
  });

  it('exit 2 on a bad option or an implementation that cannot be used, naming what was wrong', () => {
    const bad = cli('--impl', 'x', '--profile', 'exactish');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--profile: expected contract or linux-exact, got "exactish"/);
    const none = cli('--profile', 'contract');
    assert.equal(none.status, 2);
    assert.match(none.stderr, /--impl CMD\|MODULE is required/);
    const unusable = cli('--impl', `${process.execPath} --import tsx ${join(__dirname, 'fixtures', 'misbehave.ts')} bad-hello`, '--features', 'none', '--runs', '1', '--out', join(out, 'cli2'));
    assert.equal(unusable.status, 2);
    assert.match(unusable.stderr, /unusable implementation: hello .*protocol: expected 1/);
  });
});
