/**
 * One worker thread of a parallel campaign (worker-pool.ts starts it). It runs a Campaign on its own
 * seed in rounds of `roundExecs` executions; after each round it posts what it kept, found and newly
 * saw, then waits for the parent's merge of every worker's round before going on. Rounds end at an
 * execution count, never at a time, so with --runs the exchanges fall at the same points every time.
 * A finding is also posted the moment it is minimised, so a crash of this thread later loses nothing.
 *
 * Loaded from the instrumented tree (<build>/fuzz/worker.js) for code coverage, so this file, the
 * engine, the model and the invariants come from one module graph whose counters BranchCoverage reads.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Campaign, type CampaignOptions, type CoverageMode, type FoundFailure, type KeptEntry } from './campaign';
import { BranchCoverage } from './coverage-code';
import type { BuildManifest } from './instrument';
import type { FuzzInput } from './types';

/** What the parent hands each worker. */
export interface WorkerSetup {
  readonly index: number;
  readonly seed: number;
  /** This worker's share of the executions. */
  readonly runs?: number;
  readonly timeMs?: number;
  /** Date.now() when the campaign started, so every worker's clock agrees. */
  readonly startEpoch: number;
  readonly platform: CampaignOptions['platform'];
  readonly faults?: CampaignOptions['faults'];
  readonly length?: number;
  readonly misuse?: number;
  readonly coverage: CoverageMode;
  readonly manifest?: BuildManifest;
  /** This worker's share of the corpus loaded from disk. */
  readonly initial: readonly FuzzInput[];
  readonly roundExecs: number;
  /** Int32Array[0] = 1: stop after the current input (Ctrl-C, abort). */
  readonly stop: SharedArrayBuffer;
  /** Test hook: throw after this many executions, to show a crash loses nothing. */
  readonly crashAfter?: number;
}

export type WorkerMessage =
  | { readonly type: 'progress'; readonly index: number; readonly execs: number; readonly invalid: number }
  | { readonly type: 'finding'; readonly index: number; readonly execs: number; readonly invalid: number; readonly finding: FoundFailure }
  | {
    readonly type: 'round'; readonly index: number; readonly round: number; readonly done: boolean;
    readonly execs: number; readonly invalid: number;
    readonly kept: readonly KeptEntry[]; readonly findings: readonly FoundFailure[]; readonly seen: readonly string[];
  };

export interface MergeMessage {
  readonly type: 'merge';
  /** Entries the other workers kept that added coverage, in worker order. */
  readonly entries: readonly KeptEntry[];
  /** Every finding key recorded so far: not worth minimising again. */
  readonly found: readonly string[];
}

/** Worker i's seed: worker 0 keeps the campaign's own, so --workers 1 is the single-thread campaign. */
export const workerSeed = (seed: number, index: number): number => (index === 0 ? seed : (seed + Math.imul(index, 0x9e37_79b1)) | 0);

async function main(setup: WorkerSetup): Promise<void> {
  const port = parentPort!;
  const stop = new Int32Array(setup.stop);
  const clock = (): number => Date.now() - setup.startEpoch;
  const code = setup.coverage !== 'model' && setup.manifest ? new BranchCoverage(setup.manifest) : undefined;
  const c = new Campaign({
    seed: setup.seed, platform: setup.platform, faults: setup.faults, length: setup.length, misuse: setup.misuse,
    coverage: setup.coverage, code, edgesTotal: setup.manifest?.total,
  }, clock);
  const s = c.stats;
  const finished = (): boolean =>
    (setup.runs !== undefined && s.execs >= setup.runs) || (setup.timeMs !== undefined && clock() >= setup.timeMs) || Atomics.load(stop, 0) === 1;
  const post = (m: WorkerMessage): void => port.postMessage(m);
  let reported = 0;
  let lastProgress = 0;
  const afterInput = (): void => {
    for (; reported < s.findings.length; reported++) post({ type: 'finding', index: setup.index, execs: s.execs, invalid: s.invalid, finding: s.findings[reported] });
    if (setup.crashAfter !== undefined && s.execs >= setup.crashAfter) throw new Error(`planted worker crash after ${s.execs} executions`);
    const now = clock();
    if (now - lastProgress >= 250) {
      lastProgress = now;
      post({ type: 'progress', index: setup.index, execs: s.execs, invalid: s.invalid });
    }
  };

  c.seed(setup.initial);
  afterInput();
  for (let round = 0; ; round++) {
    const end = s.execs + setup.roundExecs;
    while (!finished() && s.execs < end) {
      c.step();
      afterInput();
    }
    const done = finished();
    const r = c.takeRound();
    post({ type: 'round', index: setup.index, round, done, execs: s.execs, invalid: s.invalid, ...r });
    if (done) break;
    const merge = await new Promise<MergeMessage>((res) => port.once('message', res));
    c.absorb(merge.entries, merge.found);
  }
  port.close();
}

if (!isMainThread && parentPort && (workerData as { dmaspecWorker?: boolean } | null)?.dmaspecWorker) {
  void main(workerData as WorkerSetup);
}
