/**
 * The fuzzing loop: pick an input (a fresh generated sequence, or a mutation
 * of a corpus entry), run it with every invariant on, keep it if it reaches a
 * feature nothing else reached, and minimise and save every new failure.
 * Everything random comes from one seeded Rng, so a seed and a run count
 * replay the same campaign; a time budget only cuts it short.
 *
 * Campaign is one loop's state, stepped one input at a time; runCampaign drives
 * one in this thread, and worker.ts drives one per worker thread (workers.ts),
 * where absorb() takes in what the other workers kept at each exchange.
 */
import type { FaultName } from '../faults';
import type { Op } from '../ops/types';
import { isEdgeFeature, type CodeFeatures } from './coverage';
import { loadCorpus, saveCorpusEntry } from './corpus';
import { execute, failsWith } from './execute';
import { saveFinding } from './findings';
import { generateSequence } from './generate';
import { minimize } from './minimize';
import { mutate } from './mutate';
import { PLATFORM_NAMES, namedPlatform, randomPlatform } from './platforms';
import { createRng } from './rng';
import type { ExecOutcome, Failure, FuzzInput, Rng } from './types';

/** Which features guide the campaign: the model's paths, the code's edges, or both (the default with a build). */
export type CoverageMode = 'model' | 'code' | 'both';
export const COVERAGE_MODES: readonly CoverageMode[] = ['model', 'code', 'both'];

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
  /** Default 'model'; 'code' and 'both' need `code`. */
  readonly coverage?: CoverageMode;
  /** Code coverage of the model (BranchCoverage when running the instrumented tree). */
  readonly code?: CodeFeatures;
  /** Edges the code coverage can reach (the build's total), for the figures. */
  readonly edgesTotal?: number;
  /** Called about every 250 ms of work with the running stats. */
  readonly onProgress?: (s: CampaignStats) => void;
  /** Polled between inputs: true ends the campaign after the current input (Ctrl-C). */
  readonly shouldStop?: () => boolean;
  /** Aborting it ends the campaign after the current input, like shouldStop. */
  readonly signal?: AbortSignal;
  /** Milliseconds since the campaign started; injectable so tests stay deterministic. */
  readonly clock?: () => number;
}

export interface FoundFailure {
  readonly failure: Failure;
  readonly input: FuzzInput;
  readonly minimized: FuzzInput;
  /** How the minimised input fails (its message may differ from the original's): what the files show. */
  readonly minimizedFailure: Failure;
  readonly execsToFind: number;
  /** Campaign time up to the end of the failing execution, without any minimising (this finding's or earlier ones'). */
  readonly msToFind: number;
  /** Time this finding's minimisation took (its own figure, never part of msToFind). */
  readonly minimizeMs: number;
  readonly files: readonly string[];
  /** The worker that found it (parallel campaigns). */
  readonly worker?: number;
}

export interface CampaignStats {
  execs: number;
  invalid: number;
  elapsedMs: number;
  features: number;
  corpusSize: number;
  /** Entries this campaign wrote to the corpus directory and removed again at the end as redundant. */
  corpusCulled?: number;
  /** Code edges (functions and branch arms) reached, and how many the build has; 0 without code coverage. */
  edges: number;
  edgesTotal: number;
  readonly findings: FoundFailure[];
  /** (elapsed ms, features) whenever coverage grew: the report's plot. */
  readonly coverage: [number, number][];
  readonly warnings: string[];
  /** Worker threads that ran it (1 for runCampaign), and how many of them crashed. */
  workers: number;
  crashedWorkers: number;
}

/** An input a loop kept, with the features it reached: what workers exchange. */
export interface KeptEntry {
  readonly input: FuzzInput;
  readonly features: readonly string[];
}

export const emptyStats = (edgesTotal = 0, workers = 1): CampaignStats => ({
  execs: 0, invalid: 0, elapsedMs: 0, features: 0, corpusSize: 0, edges: 0, edgesTotal, findings: [], coverage: [], warnings: [], workers, crashedWorkers: 0,
});

function platformFor(rng: Rng, choice: CampaignOptions['platform']): FuzzInput {
  if (typeof choice !== 'string') return choice;
  if (choice === 'random') return randomPlatform(rng);
  if (choice === 'mix') return rng.chance(0.5) ? randomPlatform(rng) : namedPlatform(rng.pick(PLATFORM_NAMES));
  return namedPlatform(choice);
}

/** A code feature (edge or arm bucket), as opposed to a model-level one. */
const isCodeFeature = (f: string): boolean => f.startsWith('br:') || f.startsWith('fn:');

/** One campaign loop's state. step() runs one input; the caller decides when to stop. */
export class Campaign {
  readonly stats: CampaignStats;
  private readonly rng: Rng;
  private readonly corpus: FuzzInput[] = [];
  private readonly seen = new Set<string>();
  private readonly found = new Set<string>();
  private readonly mode: CoverageMode;
  private readonly clock: () => number;
  /** What this loop kept and found since the last takeRound() (parallel campaigns). */
  private roundKept: KeptEntry[] = [];
  private roundFindings: FoundFailure[] = [];
  private roundSeen: string[] = [];
  /** Campaign-clock time spent minimising so far: taken out of msToFind. */
  private minimizing = 0;

  constructor(private readonly opts: CampaignOptions, clock: () => number) {
    this.mode = opts.coverage ?? 'model';
    if (this.mode !== 'model' && !opts.code) throw new Error(`coverage "${this.mode}" needs code coverage (the instrumented build)`);
    this.rng = createRng(opts.seed);
    this.clock = clock;
    this.stats = emptyStats(this.mode === 'model' ? 0 : (opts.edgesTotal ?? 0));
  }

  private run(input: FuzzInput): ExecOutcome {
    return execute(input, { faults: this.opts.faults, ...(this.mode === 'model' ? {} : { code: this.opts.code }) });
  }

  /** The features that guide this campaign: all of them, or the code's only. */
  private guiding(o: ExecOutcome): Iterable<string> {
    if (this.mode !== 'code') return o.features;
    return [...o.features].filter(isCodeFeature);
  }

  /** Adds `features` to what was seen; true if any was new. */
  private see(features: Iterable<string>, record: boolean): boolean {
    let grew = false;
    for (const f of features) {
      if (this.seen.has(f)) continue;
      this.seen.add(f);
      if (isEdgeFeature(f)) this.stats.edges++;
      if (record) this.roundSeen.push(f);
      grew = true;
    }
    this.stats.features = this.seen.size;
    return grew;
  }

  /** Runs inputs of an existing corpus: their features count as seen, the valid ones seed mutation. */
  seed(inputs: readonly FuzzInput[]): void {
    for (const input of inputs) {
      const o = this.run(input);
      this.stats.execs++;
      this.see(this.guiding(o), true);
      if (!o.invalid) {
        this.corpus.push(input);
        this.roundKept.push({ input, features: [...this.guiding(o)] });
      }
    }
    this.stats.corpusSize = this.corpus.length;
  }

  /** Runs one input: a fresh sequence or a mutation of a corpus entry. */
  step(): void {
    const { rng, opts } = this;
    const fresh = this.corpus.length === 0 || rng.chance(0.3);
    const input: Op[] = fresh
      ? (() => {
        const plat = platformFor(rng, opts.platform);
        return [...plat, ...generateSequence(rng, plat, { length: opts.length ?? 40, misuse: opts.misuse ?? 0.05 })];
      })()
      : mutate(rng, rng.pick(this.corpus), this.corpus);
    this.consider(input);
  }

  /**
   * Runs `input`: keeps it if it reaches a feature nothing reached before (and it neither failed nor
   * was invalid), minimises and records a new failure. Returns whether it was kept.
   */
  consider(input: FuzzInput): boolean {
    const { opts, stats } = this;
    const o = this.run(input);
    stats.execs++;
    if (o.invalid) stats.invalid++;
    const features = [...this.guiding(o)];
    const grew = this.see(features, true);
    const keep = grew && !o.failure && !o.invalid;
    if (keep) {
      this.corpus.push(input);
      this.roundKept.push({ input, features });
      if (opts.corpusDir) saveCorpusEntry(opts.corpusDir, input);
    }
    if (grew) stats.coverage.push([this.clock(), this.seen.size]);
    stats.corpusSize = this.corpus.length;
    if (o.failure && !this.found.has(o.failure.key)) this.record(input, o);
    stats.elapsedMs = this.clock();
    return keep;
  }

  private record(input: FuzzInput, o: ExecOutcome & { failure?: Failure }): void {
    const failure = o.failure!;
    this.found.add(failure.key);
    const msToFind = this.clock() - this.minimizing;
    const c0 = this.clock();
    const t0 = Date.now();
    const failing = input.slice(0, o.ran);
    const same = failsWith(failure.key, { faults: this.opts.faults });
    let minimized = minimize(failing, same, { deadlineMs: 2000 });
    // With faults planted, a finding the clean model does not share stays one: if minimising drifted into
    // an input that fails without the fault too (a model bug or false alarm under the same key), it
    // starts again with that excluded, in what is left of the same 2 s.
    const cleanPasses = (c: FuzzInput): boolean => execute(c, { features: false }).failure === undefined;
    if (this.opts.faults?.length && !cleanPasses(minimized) && cleanPasses(failing)) {
      minimized = minimize(failing, (c) => same(c) && cleanPasses(c), { deadlineMs: Math.max(0, 2000 - (Date.now() - t0)) });
    }
    const minimizeMs = Date.now() - t0;
    this.minimizing += this.clock() - c0;
    const minimizedFailure = this.run(minimized).failure ?? failure;
    const files = this.opts.outDir ? saveFinding(this.opts.outDir, minimized, minimizedFailure, { faults: this.opts.faults }) : [];
    const f: FoundFailure = { failure, input, minimized, minimizedFailure, execsToFind: this.stats.execs, msToFind, minimizeMs, files };
    this.stats.findings.push(f);
    this.roundFindings.push(f);
  }

  /** Takes in entries other workers kept: each joins the corpus if it reaches a feature new here. */
  absorb(entries: readonly KeptEntry[], foundKeys: readonly string[]): void {
    for (const k of foundKeys) this.found.add(k);
    for (const e of entries) {
      if (this.see(e.features, false)) this.corpus.push(e.input);
    }
    this.stats.corpusSize = this.corpus.length;
  }

  /** What was kept, found and newly seen since the last call. */
  takeRound(): { kept: KeptEntry[]; findings: FoundFailure[]; seen: string[] } {
    const r = { kept: this.roundKept, findings: this.roundFindings, seen: this.roundSeen };
    this.roundKept = [];
    this.roundFindings = [];
    this.roundSeen = [];
    return r;
  }
}

/** Runs a whole campaign in this thread (coverage 'model' unless a code source is given). */
export function runCampaign(opts: CampaignOptions): CampaignStats {
  const start = Date.now();
  const clock = opts.clock ?? (() => Date.now() - start);
  const c = new Campaign(opts, clock);
  const stats = c.stats;
  if (opts.corpusDir) {
    const loaded = loadCorpus(opts.corpusDir);
    stats.warnings.push(...loaded.warnings);
    c.seed(loaded.inputs);
  }
  c.takeRound();
  let lastProgress = -1e9;
  while (!(opts.runs !== undefined && stats.execs >= opts.runs) && !(opts.timeMs !== undefined && clock() >= opts.timeMs) && !opts.shouldStop?.() && !opts.signal?.aborted) {
    c.step();
    c.takeRound();
    if (opts.onProgress && stats.elapsedMs - lastProgress >= 250) {
      lastProgress = stats.elapsedMs;
      opts.onProgress(stats);
    }
  }
  stats.elapsedMs = clock();
  return stats;
}
