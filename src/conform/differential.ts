/**
 * The differential campaign: generated sequences of the ops an implementation supports, run on the
 * reference and on the implementation; each new divergence (by Diff.key) is minimised (async ddmin,
 * src/fuzz/minimize.ts) and saved at once; each implementation fault is saved with the ops that did
 * it, the implementation restarted, the fault minimised when it is no hang, and the campaign goes on. Deterministic for a seed (run k's input
 * depends only on the seed and k), except where a wall-clock budget cuts a run or a minimisation short.
 */
import { performance } from 'node:perf_hooks';
import { minimizeAsync } from '../fuzz/minimize';
import { createRng } from '../fuzz/rng';
import type { OpName } from '../ops/table';
import type { Op } from '../ops/types';
import type { Diff } from './compare';
import { conformanceGenerator, type ConformanceGenerator } from './generator';
import type { Hello, Implementation } from './implementation';
import { saveDivergence, saveFault, type ReportContext } from './report';
import { runSequence, type RunResult, type SessionSides } from './session';

export interface DifferentialOptions {
  readonly seed: number;
  readonly runs?: number;
  readonly timeMs?: number;
  /** Where findings go; none: kept in memory only. */
  readonly outDir?: string;
  readonly length?: number;
  /** Share of generated actions that break the API contract on purpose (default 0.05). */
  readonly misuse?: number;
  /** Budget for minimising one divergence. Default 20 s. */
  readonly minimizeMs?: number;
  readonly generate?: ConformanceGenerator;
  readonly shouldStop?: () => boolean;
  readonly onProgress?: (s: DifferentialStats) => void;
}

export interface DivergenceFinding {
  readonly key: string;
  readonly diffs: readonly Diff[];
  readonly ops: readonly Op[];
  readonly originalLength: number;
  readonly foundAtRun: number;
  readonly minimizeMs: number;
  readonly files: readonly string[];
  /** How many runs showed this key. */
  count: number;
}

export interface FaultFinding {
  readonly key: string;
  readonly kind: string;
  message: string;
  /** The (minimised, when it reproduced) sequence that did it. */
  ops: readonly Op[];
  /** Ops the implementation got in that session before it failed (the platform op included). */
  sent: number;
  files: readonly string[];
  count: number;
}

export interface DifferentialStats {
  runs: number;
  agreed: number;
  /** Inputs the reference refused (an op on a handle whose allocation failed, ...). */
  invalid: number;
  ops: number;
  restarts: number;
  readonly divergences: DivergenceFinding[];
  readonly faults: FaultFinding[];
  readonly notCompared: Set<string>;
  elapsedMs: number;
}

/** The implementation misbehaved while being restarted: the campaign cannot go on. */
export class UnusableImplementation extends Error {}

/** Restarts a faulted implementation; its hello must still be usable. */
async function restart(impl: Implementation, before: Hello): Promise<void> {
  let h: Hello;
  try {
    h = await impl.start();
  } catch (e) {
    throw new UnusableImplementation(`could not restart the implementation: ${(e as Error).message}`);
  }
  const lost = before.ops.filter((o) => !h.ops.includes(o));
  if (lost.length) throw new UnusableImplementation(`after a restart the implementation no longer lists ${lost.join(', ')}`);
}

const inputSeed = (seed: number, run: number): number => (Math.imul(seed | 0, 0x9e37_79b1) ^ run) | 0;

export async function runDifferential(sides: SessionSides, ctx: ReportContext, opts: DifferentialOptions): Promise<DifferentialStats> {
  const gen = opts.generate ?? conformanceGenerator();
  const allowed = new Set<OpName>(sides.hello.ops);
  const stats: DifferentialStats = { runs: 0, agreed: 0, invalid: 0, ops: 0, restarts: 0, divergences: [], faults: [], notCompared: new Set(), elapsedMs: 0 };
  const t0 = performance.now();
  const deadline = opts.timeMs === undefined ? Infinity : t0 + opts.timeMs;
  const runs = opts.runs ?? (opts.timeMs === undefined ? 100 : Infinity);
  const save = opts.outDir !== undefined;

  /** Runs one input; a fault restarts the implementation before returning. */
  const run = async (ops: readonly Op[]): Promise<RunResult> => {
    const r = await runSequence(sides, ops);
    stats.ops += r.steps.length;
    if (r.kind === 'fault') {
      stats.restarts++;
      await restart(sides.impl, sides.hello);
    }
    return r;
  };

  for (let k = 0; k < runs && performance.now() < deadline && !opts.shouldStop?.(); k++) {
    const input = gen(createRng(inputSeed(opts.seed, k)), allowed, { length: opts.length, misuse: opts.misuse ?? 0.05 });
    stats.runs++;
    const r = await run(input);
    if (r.kind === 'agree') {
      stats.agreed++;
      r.notCompared.forEach((f) => stats.notCompared.add(f));
    } else if (r.kind === 'invalid') stats.invalid++;
    else if (r.kind === 'fault') {
      const last = r.steps[r.steps.length - 1];
      const key = `${r.fault.kind}@${last?.op.op ?? 'hello'}`;
      const known = stats.faults.find((f) => f.key === key);
      if (known) known.count++;
      else {
        const ops = input.slice(0, r.at + 1);
        const out = { ...ctx, outDir: opts.outDir! };
        let files = save ? saveFault(out, key, ops, r.fault, r.implSent, r.steps) : [];
        const finding: FaultFinding = { key, kind: r.fault.kind, message: r.fault.message, ops, sent: r.implSent.length, files, count: 1 };
        stats.faults.push(finding);
        // A crash or garbage answer is shrunk too (a hang is not: every try would cost a timeout). The
        // smaller sequence replaces the saved one only if it does it again on a fresh implementation.
        if (r.fault.kind !== 'hang') {
          const same = (x: RunResult): boolean => x.kind === 'fault' && x.fault.kind === r.fault.kind && x.steps[x.steps.length - 1]?.op.op === last?.op.op;
          const small = await minimizeAsync(ops, async (c) => same(await run(c)), { deadlineMs: Math.min(opts.minimizeMs ?? 20_000, 10_000) });
          if (small.length < ops.length) {
            await restart(sides.impl, sides.hello);
            const again = await run(small);
            if (again.kind === 'fault' && same(again)) {
              if (save) files = saveFault(out, key, small, again.fault, again.implSent, again.steps);
              Object.assign(finding, { ops: small.slice(0, again.at + 1), message: again.fault.message, sent: again.implSent.length, files });
            }
          }
        }
      }
    } else {
      r.notCompared.forEach((f) => stats.notCompared.add(f));
      const key = r.diffs[0]!.key;
      const known = stats.divergences.find((d) => d.key === key);
      if (known) known.count++;
      else {
        const m0 = performance.now();
        const shown = (x: RunResult): boolean => x.kind === 'diverge' && x.diffs.some((d) => d.key === key);
        const small = await minimizeAsync(input.slice(0, r.at + 1), async (c) => shown(await run(c)), { deadlineMs: opts.minimizeMs ?? 20_000 });
        const again = await run(small);
        const final = again.kind === 'diverge' ? again : r;
        const diffs = [...final.diffs.filter((d) => d.key === key), ...final.diffs.filter((d) => d.key !== key)];
        const ops = again.kind === 'diverge' ? small.slice(0, again.at + 1) : input.slice(0, r.at + 1);
        const minimizeMs = Math.round(performance.now() - m0);
        const files = save ? saveDivergence({ ...ctx, outDir: opts.outDir! }, key, ops, final.steps, diffs, { found_at_run: k, seed: opts.seed, original_length: input.length }) : [];
        stats.divergences.push({ key, diffs, ops, originalLength: input.length, foundAtRun: k, minimizeMs, files, count: 1 });
      }
    }
    stats.elapsedMs = performance.now() - t0;
    opts.onProgress?.(stats);
  }
  stats.elapsedMs = performance.now() - t0;
  return stats;
}
