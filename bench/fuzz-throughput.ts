/**
 * Fuzzer throughput against raw model op throughput (issue #5: "at least 5k op-sequences/s per
 * core on the full model with every invariant on").
 *
 * 1. The campaign itself: runCampaign (src/fuzz/campaign.ts), seeded, model-level coverage, its
 *    own generation + mutation + corpus: executions per CPU-second.
 * 2. The same mix, run by a loop that does what Campaign.step does (30% fresh sequences on a
 *    'mix' platform, otherwise a mutation of a kept input; inputs that reach new features are
 *    kept) and records every input, so the phases can be timed apart and the recorded sequences
 *    replayed: (a) the model alone (engine, no invariants, no coverage), (b) engine + all 68
 *    invariants, (c) set-up only (the platform and device ops at each input's head).
 *
 * Rates are per CPU-second of this process (process.cpuUsage), so other work on the machine
 * skews them less than wall time would; "per core" is what the issue asks. Ops count every op
 * the engine ran, a repeat's rounds expanded. A benchmark: it prints a table and asserts nothing.
 *
 *   npx tsx bench/fuzz-throughput.ts [runs]
 */
import { Engine } from '../src/engine/engine';
import { runCampaign } from '../src/fuzz/campaign';
import { execute } from '../src/fuzz/execute';
import { generateSequence } from '../src/fuzz/generate';
import { mutate, setupLength } from '../src/fuzz/mutate';
import { PLATFORM_NAMES, namedPlatform, randomPlatform } from '../src/fuzz/platforms';
import { createRng } from '../src/fuzz/rng';
import type { FuzzInput } from '../src/fuzz/types';
import type { Op } from '../src/ops/types';

const SEED = 5;

/** CPU milliseconds (user + system) spent in fn. */
function cpuMs(fn: () => void): number {
  const c = process.cpuUsage();
  fn();
  const u = process.cpuUsage(c);
  return (u.user + u.system) / 1000;
}

/** Ops one input makes the engine run: the first `ran` ops, each repeat counted by its rounds. */
function opsRun(input: FuzzInput, ran: number): number {
  let n = 0;
  for (const op of input.slice(0, ran)) n += op.op === 'repeat' ? 1 + op.times * op.ops.length : 1;
  return n;
}

/** The campaign's mix, recorded: every input it ran, with the time spent making them and running them. */
function recordMix(runs: number): { inputs: FuzzInput[]; ran: number[]; genMs: number; execMs: number; repeatOps: number } {
  const rng = createRng(SEED);
  const corpus: FuzzInput[] = [];
  const seen = new Set<string>();
  const inputs: FuzzInput[] = [];
  const ran: number[] = [];
  let genMs = 0;
  let execMs = 0;
  for (let i = 0; i < runs; i++) {
    let input: Op[] = [];
    genMs += cpuMs(() => {
      if (corpus.length === 0 || rng.chance(0.3)) {
        const plat = rng.chance(0.5) ? randomPlatform(rng) : namedPlatform(rng.pick(PLATFORM_NAMES));
        input = [...plat, ...generateSequence(rng, plat, { length: 40, misuse: 0.05 })];
      } else input = mutate(rng, rng.pick(corpus), corpus);
    });
    let o: ReturnType<typeof execute> | undefined;
    execMs += cpuMs(() => (o = execute(input)));
    let grew = false;
    for (const f of o!.features) if (!seen.has(f)) {
      seen.add(f);
      grew = true;
    }
    if (grew && !o!.failure && !o!.invalid) corpus.push(input);
    inputs.push(input);
    ran.push(o!.ran);
  }
  const repeatOps = inputs.reduce((s, x, i) => s + x.slice(0, ran[i]).reduce((t, op) => t + (op.op === 'repeat' ? op.times * op.ops.length : 0), 0), 0);
  return { inputs, ran, genMs, execMs, repeatOps };
}

/** Replays each input's first `ran` ops on a fresh engine; input errors end that input, as in execute(). */
function replay(inputs: readonly FuzzInput[], ran: readonly number[], invariants: readonly string[] | undefined, headOnly: boolean): number {
  return cpuMs(() => {
    for (let i = 0; i < inputs.length; i++) {
      const e = new Engine({ invariants });
      const n = headOnly ? Math.min(ran[i]!, setupLength(inputs[i]!)) : ran[i]!;
      for (let j = 0; j < n; j++) {
        try {
          e.execute(inputs[i]![j]!);
        } catch {
          break;
        }
      }
    }
  });
}

interface Row { what: string; ms: number; seqs: number; ops: number; note: string }

export function fuzzThroughputRows(runs = 600): Row[] {
  // Warm-up: the JIT, and the model's per-layout caches (a long campaign has them warm too).
  runCampaign({ seed: SEED + 1, runs: Math.min(200, runs), platform: 'mix' });
  let stats: ReturnType<typeof runCampaign> | undefined;
  const campaignMs = cpuMs(() => (stats = runCampaign({ seed: SEED, runs, platform: 'mix' })));
  const mix = recordMix(runs);
  const seqs = mix.inputs.length;
  const ops = mix.inputs.reduce((s, x, i) => s + opsRun(x, mix.ran[i]!), 0);
  const model = replay(mix.inputs, mix.ran, [], false);
  const all = replay(mix.inputs, mix.ran, undefined, false);
  const setup = replay(mix.inputs, mix.ran, undefined, true);
  const setupOps = mix.inputs.reduce((s, x, i) => s + Math.min(mix.ran[i]!, setupLength(x)), 0);
  const pct = (ms: number): string => `${((ms / (mix.genMs + mix.execMs)) * 100).toFixed(0)}% of the loop`;
  return [
    { what: 'runCampaign (seeded, model coverage, corpus, mutation)', ms: campaignMs, seqs: stats!.execs, ops: NaN, note: `${stats!.findings.length} findings, ${stats!.invalid} invalid` },
    { what: 'same mix: generate + mutate', ms: mix.genMs, seqs, ops: NaN, note: pct(mix.genMs) },
    { what: 'same mix: execute() (engine, 68 invariants, coverage)', ms: mix.execMs, seqs, ops, note: pct(mix.execMs) },
    { what: '  replay: engine + all invariants, no coverage', ms: all, seqs, ops, note: `coverage bookkeeping ≈ ${Math.max(0, mix.execMs - all).toFixed(0)} ms` },
    { what: '  replay: model only (engine, no invariants)', ms: model, seqs, ops, note: `invariants ≈ ${Math.max(0, all - model).toFixed(0)} ms (${(((all - model) / all) * 100).toFixed(0)}%)` },
    { what: '  replay: set-up ops only (platform, iommu_add, device_add)', ms: setup, seqs, ops: setupOps, note: `${(((setup / seqs) * 1000)).toFixed(0)} µs per input` },
    { what: `  (ops in repeat rounds: ${mix.repeatOps} of ${ops})`, ms: NaN, seqs: NaN, ops: NaN, note: '' },
  ];
}

const rate = (n: number): string => (!Number.isFinite(n) ? '-' : n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e4 ? `${(n / 1e3).toFixed(0)}k` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : n.toFixed(0));

export function printFuzzThroughput(runs = 600): void {
  const rows = fuzzThroughputRows(runs);
  const w = Math.max(...rows.map((r) => r.what.length));
  const out = process.stdout;
  out.write(`\nfuzzer throughput vs raw model op throughput (issue #5 target: 5k sequences/s per core, every invariant on); per CPU-second, ${runs} inputs, seed ${SEED}\n\n`);
  out.write(`| ${'what'.padEnd(w)} | CPU ms | sequences/s | ops/s   | ops/seq | note\n`);
  out.write(`|${'-'.repeat(w + 2)}|--------|-------------|---------|---------|------\n`);
  for (const r of rows) {
    const perSeq = Number.isFinite(r.ops) && Number.isFinite(r.seqs) ? (r.ops / r.seqs).toFixed(1) : '-';
    const ms = Number.isFinite(r.ms) ? r.ms.toFixed(0) : '-';
    out.write(`| ${r.what.padEnd(w)} | ${ms.padStart(6)} | ${rate((r.seqs / r.ms) * 1000).padStart(11)} | ${rate((r.ops / r.ms) * 1000).padStart(7)} | ${perSeq.padStart(7)} | ${r.note}\n`);
  }
}

if (require.main === module) printFuzzThroughput(Number(process.argv[2] ?? 600));
