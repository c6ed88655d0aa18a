/**
 * The fuzzing loop: pick an input (a fresh generated sequence, or a mutation
 * of a corpus entry), run it with every invariant on, keep it if it reaches a
 * feature nothing else reached, and minimise and save every new failure.
 * Everything random comes from one seeded Rng, so a seed and a run count
 * replay the same campaign; a time budget only cuts it short.
 */
import type { FaultName } from '../faults';
import type { Op } from '../ops/types';
import { loadCorpus, saveCorpusEntry } from './corpus';
import { execute, failsWith } from './execute';
import { saveFinding } from './findings';
import { generateSequence } from './generate';
import { minimize } from './minimize';
import { mutate } from './mutate';
import { PLATFORM_NAMES, namedPlatform, randomPlatform } from './platforms';
import { createRng } from './rng';
import type { Failure, FuzzInput, Rng } from './types';

export interface CampaignOptions {
  readonly seed: number;
  /** Stop after this many executions (deterministic budget). */
  readonly runs?: number;
  /** Stop after this much wall time (a prefix of the same campaign). */
  readonly timeMs?: number;
  /** 'mix' (named and random platforms), 'random', a named platform, or platform ops from a file. */
  readonly platform: 'mix' | 'random' | string | FuzzInput;
  readonly corpusDir?: string;
  readonly outDir?: string;
  readonly faults?: readonly FaultName[];
  readonly length?: number;
  readonly misuse?: number;
  /** Called about every 250 ms of work with the running stats. */
  readonly onProgress?: (s: CampaignStats) => void;
  /** Polled between inputs: true ends the campaign after the current input (Ctrl-C). */
  readonly shouldStop?: () => boolean;
  /** Milliseconds since the campaign started; injectable so tests stay deterministic. */
  readonly clock?: () => number;
}

export interface FoundFailure {
  readonly failure: Failure;
  readonly input: FuzzInput;
  readonly minimized: FuzzInput;
  readonly execsToFind: number;
  readonly msToFind: number;
  readonly minimizeMs: number;
  readonly files: readonly string[];
}

export interface CampaignStats {
  execs: number;
  invalid: number;
  elapsedMs: number;
  features: number;
  corpusSize: number;
  readonly findings: FoundFailure[];
  /** (elapsed ms, features) whenever coverage grew: the report's plot. */
  readonly coverage: [number, number][];
  readonly warnings: string[];
}

function platformFor(rng: Rng, choice: CampaignOptions['platform']): FuzzInput {
  if (typeof choice !== 'string') return choice;
  if (choice === 'random') return randomPlatform(rng);
  if (choice === 'mix') return rng.chance(0.5) ? randomPlatform(rng) : namedPlatform(rng.pick(PLATFORM_NAMES));
  return namedPlatform(choice);
}

export function runCampaign(opts: CampaignOptions): CampaignStats {
  const rng = createRng(opts.seed);
  const start = Date.now();
  const clock = opts.clock ?? (() => Date.now() - start);
  const stats: CampaignStats = { execs: 0, invalid: 0, elapsedMs: 0, features: 0, corpusSize: 0, findings: [], coverage: [], warnings: [] };
  const corpus: FuzzInput[] = [];
  const seen = new Set<string>();
  const found = new Set<string>();
  const run = (input: FuzzInput) => execute(input, { faults: opts.faults });

  if (opts.corpusDir) {
    const loaded = loadCorpus(opts.corpusDir);
    stats.warnings.push(...loaded.warnings);
    for (const input of loaded.inputs) {
      const o = run(input);
      stats.execs++;
      for (const f of o.features) seen.add(f);
      if (!o.invalid) corpus.push(input);
    }
  }
  stats.features = seen.size;
  stats.corpusSize = corpus.length;
  let lastProgress = -1e9;

  while (!(opts.runs !== undefined && stats.execs >= opts.runs) && !(opts.timeMs !== undefined && clock() >= opts.timeMs) && !opts.shouldStop?.()) {
    const fresh = corpus.length === 0 || rng.chance(0.3);
    const input: Op[] = fresh
      ? (() => {
        const plat = platformFor(rng, opts.platform);
        return [...plat, ...generateSequence(rng, plat, { length: opts.length ?? 40, misuse: opts.misuse ?? 0.05 })];
      })()
      : mutate(rng, rng.pick(corpus), corpus);
    const o = run(input);
    stats.execs++;
    if (o.invalid) stats.invalid++;
    let grew = false;
    for (const f of o.features) if (!seen.has(f)) {
      seen.add(f);
      grew = true;
    }
    if (grew && !o.failure && !o.invalid) {
      corpus.push(input);
      if (opts.corpusDir) saveCorpusEntry(opts.corpusDir, input);
    }
    if (grew) stats.coverage.push([clock(), seen.size]);
    stats.features = seen.size;
    stats.corpusSize = corpus.length;
    if (o.failure && !found.has(o.failure.key)) {
      found.add(o.failure.key);
      const key = o.failure.key;
      const t0 = Date.now();
      const minimized = minimize(input.slice(0, o.ran), failsWith(key, { faults: opts.faults }), { deadlineMs: 2000 });
      const minimizeMs = Date.now() - t0;
      const files = opts.outDir ? saveFinding(opts.outDir, minimized, run(minimized).failure ?? o.failure, { faults: opts.faults }) : [];
      stats.findings.push({ failure: o.failure, input, minimized, execsToFind: stats.execs, msToFind: clock(), minimizeMs, files });
    }
    stats.elapsedMs = clock();
    if (opts.onProgress && stats.elapsedMs - lastProgress >= 250) {
      lastProgress = stats.elapsedMs;
      opts.onProgress(stats);
    }
  }
  stats.elapsedMs = clock();
  return stats;
}
