/**
 * What code coverage and worker threads cost and give the fuzzer (issue #5):
 *
 * 1. Executions per CPU-second of the same generated 40-op inputs (run twice after a warm-up),
 *    each configuration in a fresh process: execute() from src/ through tsx (model features),
 *    from the instrumented tree (src/fuzz/instrument.ts) without reading its counters, and from
 *    the instrumented tree reading them (BranchCoverage: what --coverage both does).
 * 2. A seeded --runs campaign on 1 and on 2 worker threads (runParallelCampaign, coverage both):
 *    executions per wall-clock second, which is what more workers are for.
 *
 * Rates in (1) are per CPU-second (process.cpuUsage), so other work on the machine skews them
 * less than wall time would; (2) is wall time and only means something on an idle machine.
 * A benchmark: it prints a table and asserts nothing.
 *
 *   npx tsx bench/fuzz-coverage.ts [inputs] [campaign-runs]
 */
import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { generateSequence } from '../src/fuzz/generate';
import { instrumentedBuild } from '../src/fuzz/instrument';
import { PLATFORM_NAMES, namedPlatform } from '../src/fuzz/platforms';
import { createRng } from '../src/fuzz/rng';
import type { FuzzInput } from '../src/fuzz/types';
import { runParallelCampaign } from '../src/fuzz/worker-pool';


type Mode = 'plain' | 'instrumented' | 'counters';
const MODES: readonly Mode[] = ['plain', 'instrumented', 'counters'];

function inputs(n: number): FuzzInput[] {
  const rng = createRng(1);
  const out: FuzzInput[] = [];
  for (let i = 0; i < n; i++) {
    const p = namedPlatform(rng.pick(PLATFORM_NAMES));
    out.push([...p, ...generateSequence(rng, p, { length: 40, misuse: 0.05 })]);
  }
  return out;
}

/** In a fresh process: executions per CPU-second of `n` inputs, twice each, in `mode`. */
function child(mode: Mode, n: number): void {
  const build = instrumentedBuild();
  process.setSourceMapsEnabled(true);
  const tree = mode === 'plain' ? join(__dirname, '..', 'src') : build.dir;
  const ext = mode === 'plain' ? '.ts' : '.js';
  const { execute } = require(join(tree, 'fuzz', `execute${ext}`)) as typeof import('../src/fuzz/execute');
  const { BranchCoverage } = require(join(build.dir, 'fuzz', 'coverage-code.js')) as typeof import('../src/fuzz/coverage-code');
  const code = mode === 'counters' ? new BranchCoverage(build.manifest) : undefined;
  const all = inputs(n);
  for (const input of all.slice(0, Math.min(50, n))) execute(input, { code });
  const c0 = process.cpuUsage();
  for (let r = 0; r < 2; r++) for (const input of all) execute(input, { code });
  const cpu = process.cpuUsage(c0);
  process.stdout.write(`${(2 * n) / ((cpu.user + cpu.system) / 1e6)}\n`);
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 200);
  const runs = Number(process.argv[3] ?? 400);
  const build = instrumentedBuild();
  const rows: { what: string; perSecond: number; note: string }[] = [];
  for (const mode of MODES) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', __filename, '--child', mode, String(n)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${mode}: ${r.stderr}`);
    const what = { plain: 'src/ through tsx, model features', instrumented: 'instrumented tree, counters not read', counters: 'instrumented tree, counters read (both)' }[mode];
    rows.push({ what, perSecond: Number(r.stdout.trim()), note: 'per CPU-second' });
  }
  for (const workers of [1, 2]) {
    const t0 = Date.now();
    const c0 = process.cpuUsage(); // this process: the parent and its worker threads
    const s = await runParallelCampaign({ seed: 1, runs, workers, platform: 'mix', coverage: 'both', build });
    const secs = (Date.now() - t0) / 1000;
    const cpu = process.cpuUsage(c0);
    const what = `campaign, --runs ${runs}, ${workers} worker${workers > 1 ? 's' : ''} (both)`;
    rows.push({ what, perSecond: s.execs / secs, note: `wall clock; ${s.edges}/${s.edgesTotal} edges, corpus ${s.corpusSize}` });
    rows.push({ what, perSecond: s.execs / ((cpu.user + cpu.system) / 1e6), note: 'per CPU-second (all threads): what parallelism costs' });
  }
  // Executions per second are tens to hundreds: printed as they are (table.ts rounds to thousands).
  const w = Math.max(...rows.map((r) => r.what.length));
  const out = process.stdout;
  out.write(`\nfuzzer executions per second with code coverage and workers (40-op inputs; load average ${loadavg()[0].toFixed(1)} on ${cpus().length} cores)\n\n`);
  out.write(`| ${'what'.padEnd(w)} | executions/s | note\n|${'-'.repeat(w + 2)}|--------------|------\n`);
  for (const r of rows) out.write(`| ${r.what.padEnd(w)} | ${r.perSecond.toFixed(0).padStart(12)} | ${r.note}\n`);
}

if (process.argv[2] === '--child') child(process.argv[3] as Mode, Number(process.argv[4]));
else void main();
