/**
 * A campaign on N worker threads (worker.ts), each on its own derived seed, exchanging corpus entries
 * through this parent at deterministic points: after every `roundExecs` executions of each worker,
 * the parent takes every live worker's round in worker order, keeps the entries that add coverage
 * no accepted entry reached (saved to the corpus, forwarded to the other workers), records findings
 * (the lowest worker index wins a key found twice in one round), and sends each worker its merge.
 * With --runs the rounds, merges and so the findings and the final corpus are the same every time.
 *
 * Findings are written (atomically) as soon as a worker reports one, so a worker that crashes later
 * loses none; a crash is reported as a warning and the others go on. Aborting (Ctrl-C) makes every
 * worker stop after its current input and post its last round.
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { emptyStats, type CampaignOptions, type CampaignStats, type CoverageMode, type FoundFailure, type KeptEntry } from './campaign';
import { isEdgeFeature } from './coverage-code';
import { rmSync } from 'node:fs';
import { cullCorpus, loadCorpus, printedInput, saveCorpusEntry } from './corpus';
import { saveFinding } from './findings';
import type { InstrumentedBuild } from './instrument';
import { workerSeed, type MergeMessage, type WorkerMessage, type WorkerSetup } from './worker';

export interface PoolOptions extends Omit<CampaignOptions, 'code' | 'edgesTotal' | 'shouldStop' | 'clock' | 'coverage'> {
  readonly workers: number;
  readonly coverage: CoverageMode;
  /** The instrumented tree: required for 'code' and 'both'; with 'model' the workers run src/ through tsx. */
  readonly build?: InstrumentedBuild;
  /** Executions per worker between exchanges (default 50). */
  readonly roundExecs?: number;
  /** Leave redundant corpus files on disk instead of culling them at the end (default false). */
  readonly keepRedundant?: boolean;
  /** Test hook: worker `index` throws after `execs` executions. */
  readonly crash?: { readonly index: number; readonly execs: number };
}

type RoundMessage = Extract<WorkerMessage, { type: 'round' }>;

interface Slot {
  readonly index: number;
  readonly worker: Worker;
  /** No more rounds from it: done, or crashed. */
  finished: boolean;
  execs: number;
  invalid: number;
  readonly rounds: Map<number, RoundMessage>;
}

/** The worker's entry, and how to start it: the instrumented tree, or src/ through tsx. */
function workerScript(build: InstrumentedBuild | undefined): string {
  if (build) return `process.setSourceMapsEnabled(true); require(${JSON.stringify(join(build.dir, 'fuzz', 'worker.js'))});`;
  // Compiled (npm run build): the worker beside this file.
  if (__filename.endsWith('.js')) return `require(${JSON.stringify(join(__dirname, 'worker.js'))});`;
  // Under `node --import tsx` workers inherit the hooks; from bin/dmaspec.js they need tsx/cjs
  // (resolved here: an eval'd worker resolves bare names from the working directory).
  const ts = join(__dirname, 'worker.ts');
  return `if (!require.extensions['.ts']) require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(ts)});`;
}

/** Splits `runs` over `n` workers: the first `runs % n` do one more. */
const share = (runs: number, n: number, i: number): number => Math.floor(runs / n) + (i < runs % n ? 1 : 0);

export function runParallelCampaign(opts: PoolOptions): Promise<CampaignStats> {
  const n = opts.workers;
  if (!Number.isInteger(n) || n < 1) throw new Error(`workers: expected a positive count, got ${n}`);
  if (opts.coverage !== 'model' && !opts.build) throw new Error(`coverage "${opts.coverage}" needs the instrumented build`);
  const startEpoch = Date.now();
  const clock = (): number => Date.now() - startEpoch;
  const stats = emptyStats(opts.coverage === 'model' ? 0 : opts.build!.manifest.total, n);
  const stop = new SharedArrayBuffer(4);
  const stopFlag = new Int32Array(stop);
  const requestStop = (): void => void Atomics.store(stopFlag, 0, 1);
  if (opts.signal?.aborted) requestStop();
  opts.signal?.addEventListener('abort', requestStop, { once: true });

  const initial = opts.corpusDir ? loadCorpus(opts.corpusDir) : { inputs: [], warnings: [] };
  stats.warnings.push(...initial.warnings);
  // Entries loaded from the corpus come back as kept; they are on disk already (maybe under a hand-written name).
  const onDisk = new Set(initial.inputs.map(printedInput));

  // Coverage the accepted entries reach (the corpus's), and everything any worker reported seeing.
  const corpusFeatures = new Set<string>();
  const seen = new Set<string>();
  const recorded = new Set<string>();
  /** Findings written when they arrived, by key: which worker's reproducer is on disk. */
  const written = new Map<string, { index: number; finding: FoundFailure; files: readonly string[] }>();

  const write = (f: FoundFailure): readonly string[] =>
    opts.outDir ? saveFinding(opts.outDir, f.minimized, f.minimizedFailure, { faults: opts.faults }) : [];

  const onFinding = (index: number, f: FoundFailure): void => {
    if (written.has(f.failure.key)) return;
    written.set(f.failure.key, { index, finding: f, files: write(f) });
  };

  const record = (index: number, f: FoundFailure): void => {
    if (recorded.has(f.failure.key)) return;
    recorded.add(f.failure.key);
    let w = written.get(f.failure.key);
    if (!w || w.index !== index) {
      w = { index, finding: f, files: write(f) };
      written.set(f.failure.key, w);
    }
    stats.findings.push({ ...f, files: w.files, worker: index });
  };

  /** Every entry the corpus took, with the file this campaign wrote for it (none for loaded ones). */
  const accepted: { entry: KeptEntry; file?: string }[] = [];
  /** The corpus stays minimal on disk: files this campaign added that a smaller entry now covers go. */
  const cull = (): void => {
    const keep = cullCorpus(accepted.map((a) => a.entry));
    const keptFiles = new Set(accepted.filter((a) => keep.has(a.entry)).map((a) => a.file));
    let culled = 0;
    for (const a of accepted) {
      if (a.file === undefined || keep.has(a.entry) || keptFiles.has(a.file)) continue;
      rmSync(a.file, { force: true });
      culled++;
    }
    stats.corpusSize = keep.size;
    stats.corpusCulled = culled;
  };

  const slots: Slot[] = [];
  let round = 0;
  let lastProgress = -1e9;

  return new Promise<CampaignStats>((resolve) => {
    const progress = (): void => {
      stats.execs = slots.reduce((a, s) => a + s.execs, 0);
      stats.invalid = slots.reduce((a, s) => a + s.invalid, 0);
      stats.elapsedMs = clock();
      if (opts.onProgress && stats.elapsedMs - lastProgress >= 250) {
        lastProgress = stats.elapsedMs;
        opts.onProgress(stats);
      }
    };

    let resolved = false;
    const finish = (): void => {
      if (resolved) return;
      resolved = true;
      // A crashed worker's findings arrived but never came with a round: record them too.
      for (const [, w] of [...written].sort((a, b) => a[1].index - b[1].index)) record(w.index, w.finding);
      if (opts.corpusDir && !opts.keepRedundant) cull();
      opts.signal?.removeEventListener('abort', requestStop);
      progress();
      stats.elapsedMs = clock();
      resolve(stats);
    };

    /** Processes every round all live workers have posted, in round order. */
    const advance = (): void => {
      for (;;) {
        const live = slots.filter((s) => !s.finished || s.rounds.has(round));
        if (live.some((s) => !s.rounds.has(round))) return;
        if (live.length === 0) return finish();
        const forwarded: { from: number; entry: KeptEntry }[] = [];
        let grew = false;
        for (const s of live) {
          const r = s.rounds.get(round)!;
          s.rounds.delete(round);
          for (const f of r.seen) if (!seen.has(f)) {
            seen.add(f);
            if (isEdgeFeature(f)) stats.edges++;
            grew = true;
          }
          for (const e of r.kept) {
            let adds = false;
            for (const f of e.features) if (!corpusFeatures.has(f)) {
              corpusFeatures.add(f);
              adds = true;
            }
            if (!adds) continue;
            forwarded.push({ from: s.index, entry: e });
            stats.corpusSize++;
            const file = opts.corpusDir && !onDisk.has(printedInput(e.input)) ? saveCorpusEntry(opts.corpusDir, e.input) : undefined;
            accepted.push(file === undefined ? { entry: e } : { entry: e, file });
          }
          for (const f of r.findings) record(s.index, f);
        }
        stats.features = seen.size;
        if (grew) stats.coverage.push([clock(), seen.size]);
        const found = [...recorded];
        for (const s of live) {
          if (s.finished) continue;
          const m: MergeMessage = { type: 'merge', entries: forwarded.filter((f) => f.from !== s.index).map((f) => f.entry), found };
          s.worker.postMessage(m);
        }
        progress();
        round++;
      }
    };

    const onMessage = (s: Slot, m: WorkerMessage): void => {
      s.execs = m.execs;
      s.invalid = m.invalid;
      if (m.type === 'finding') onFinding(s.index, m.finding);
      else if (m.type === 'round') {
        s.rounds.set(m.round, m);
        if (m.done) s.finished = true;
        advance();
      } else progress();
    };

    const onGone = (s: Slot, why: string): void => {
      if (s.finished) return;
      s.finished = true;
      stats.warnings.push(`worker ${s.index} crashed: ${why}`);
      stats.crashedWorkers++;
      advance();
    };

    const script = workerScript(opts.coverage === 'model' ? undefined : opts.build);
    for (let i = 0; i < n; i++) {
      const setup: WorkerSetup & { dmaspecWorker: true } = {
        dmaspecWorker: true,
        index: i, seed: workerSeed(opts.seed, i), startEpoch, stop,
        ...(opts.runs !== undefined ? { runs: share(opts.runs, n, i) } : {}),
        ...(opts.timeMs !== undefined ? { timeMs: opts.timeMs } : {}),
        platform: opts.platform, faults: opts.faults, length: opts.length, misuse: opts.misuse,
        coverage: opts.coverage, manifest: opts.build?.manifest,
        initial: initial.inputs.filter((_, j) => j % n === i),
        roundExecs: opts.roundExecs ?? 50,
        ...(opts.crash?.index === i ? { crashAfter: opts.crash.execs } : {}),
      };
      const worker = new Worker(script, { eval: true, workerData: setup });
      const s: Slot = { index: i, worker, finished: false, execs: 0, invalid: 0, rounds: new Map() };
      slots.push(s);
      worker.on('message', (m: WorkerMessage) => onMessage(s, m));
      worker.on('error', (e) => onGone(s, e instanceof Error ? e.message : String(e)));
      worker.on('exit', (code) => onGone(s, `exited with code ${code} before its last round`));
    }
  });
}
