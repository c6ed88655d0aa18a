/**
 * V8 block coverage of the model (the alternative to the instrumented build, coverage-code.ts;
 * kept for measurements and for runs without a build step).
 *
 * CodeCoverage: V8 block coverage through node:inspector
 *    (Profiler.startPreciseCoverage {callCount, detailed}; a takePreciseCoverage before each run resets
 *    the counters, so harness code between runs, a minimiser's predicate included, never counts; one
 *    after it reads them). Features are V8's block ranges ("c:dma/swiotlb.ts:4521-4630", with hit-count
 *    buckets like (1)) and functions that ran ("f:..."), in src/ but not src/fuzz or src/cli.
 *    Measured (execute.test.ts prints it; 50-op arm64 sequence, Node 20, 2 cores): a run costs about
 *    2.4x a run without it on a quiet machine (up to 2.9x with other test files running): ~1.5x from
 *    the block counters V8 compiles into the model, ~2 ms per take for the ~750 model functions a run
 *    touches (V8 serialises them as ~130 KB of JSON that the session parses); extracting features
 *    is ~0.2 ms. The istanbul build (coverage-code.ts) costs less and counts the same
 *    branch arms in every run, so the campaign uses that; this stays for comparison.
    Caveats: (a) start() must come before the model's functions first run in the process: V8 puts
 *    block counters only into functions compiled after it (earlier ones report only their own count;
 *    blockLevel says whether any block was seen). (b) V8 reports a block only when its count differs
 *    from the enclosing range's, so a block becomes known once some run reports it; CodeCoverage
 *    remembers every range reported so far and judges each known range in every run. Features are
 *    deterministic for a given sequence of runs and only grow with what earlier runs revealed.
 *    (c) A function's own range ("f:", the function ran) has no bucket: its count comes from a feedback
 *    vector that TurboFan code stops incrementing, so once V8 has optimised a hot function it may
 *    drop out of later runs' features. Every feature reported is still a true fact about the run, so
 *    "new coverage" is never spurious; only features seen long ago may be missing. Block counts stay
 *    exact with optimisation on (--no-opt would make every run ~2.4x slower to avoid this).
 *    (d) One profiler per process: not under c8 / NODE_V8_COVERAGE (each take resets the counters
 *    c8 reads), and one CodeCoverage at a time.
 */
import { Session } from 'node:inspector';
import { relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bucket } from './coverage-model';
import type { CodeFeatures } from './coverage-code';

// ---- code coverage (V8 block coverage) ---------------------------------------------------------

interface V8Range {
  readonly startOffset: number;
  readonly endOffset: number;
  readonly count: number;
}
interface V8Function {
  readonly ranges: readonly V8Range[];
}
interface V8Script {
  readonly url: string;
  readonly functions: readonly V8Function[];
}

/** A source range some run has reported, with its feature names interned (no strings built per run). */
interface KnownRange {
  readonly start: number;
  readonly end: number;
  readonly name: string;
  readonly buckets: Map<number, string>;
}

/** Per function (keyed by its start): its own range and the blocks ever reported inside it, sorted by start. */
type ScriptRanges = Map<number, { readonly fn: KnownRange; readonly blocks: KnownRange[] }>;

export interface CodeCoverageOptions {
  /** Absolute path of the tree whose code counts (default: this file's src/). */
  readonly root?: string;
  /** Paths under root that never count (default: fuzz/ and cli/, the harness itself). */
  readonly exclude?: readonly string[];
  /** Emit hit-count buckets per block as well as the block (default true). */
  readonly counts?: boolean;
}

/**
 * Block coverage of the model through the V8 inspector. `start()` turns the profiler on (one per
 * process); `begin()` before a run resets the counters; `collect(into)` after it adds
 * "f:<file>:<start>-<end>" per function and "c:<file>:<start>-<end>" (plus "#<bucket>") per block
 * that ran; `stop()` turns it off.
 */
export class CodeCoverage implements CodeFeatures {
  private readonly session = new Session();
  private readonly root: string;
  private readonly exclude: readonly string[];
  private readonly counts: boolean;
  /** url → relative file name (null: not counted), so each url is judged once. */
  private readonly files = new Map<string, string | null>();
  private readonly known = new Map<string, ScriptRanges>();
  private running = false;
  private blocks = false;

  /** true once a run reported a block inside a function: false means start() came too late (caveat a). */
  get blockLevel(): boolean {
    return this.blocks;
  }

  private constructor(opts: CodeCoverageOptions) {
    this.root = opts.root ?? resolve(__dirname, '..');
    this.exclude = opts.exclude ?? ['fuzz' + sep, 'cli' + sep];
    this.counts = opts.counts ?? true;
  }

  static start(opts: CodeCoverageOptions = {}): CodeCoverage {
    const c = new CodeCoverage(opts);
    c.session.connect();
    c.post('Profiler.enable');
    c.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
    c.running = true;
    return c;
  }

  stop(): void {
    if (!this.running) return;
    this.post('Profiler.stopPreciseCoverage');
    this.post('Profiler.disable');
    this.session.disconnect();
    this.running = false;
  }

  /** Resets V8's counters so that only the run that follows counts. */
  begin(): void {
    this.take();
  }

  /** Adds the blocks run since begin() to `into`. */
  collect(into: Set<string>): void {
    for (const script of this.take()) {
      const file = this.fileOf(script.url);
      if (file === null) continue;
      let ranges = this.known.get(file);
      if (!ranges) this.known.set(file, (ranges = new Map()));
      for (const fn of script.functions) this.collectFunction(file, ranges, fn, into);
    }
  }

  /**
   * The function (if it ran) and its blocks that ran. Block counters are exact, and so is a block's
   * inherited count, since V8 leaves a block out only when its count equals its parent's as reported.
   * The function's own count is not: it comes from the feedback vector, which optimised code stops
   * incrementing, so it gets no bucket, and a hot function may stop being reported at all.
   */
  private collectFunction(file: string, known: ScriptRanges, fn: V8Function, into: Set<string>): void {
    const r = fn.ranges;
    if (r.length === 0) return;
    let f = known.get(r[0].startOffset);
    if (!f) known.set(r[0].startOffset, (f = { fn: this.range('f', file, r[0].startOffset, r[0].endOffset), blocks: [] }));
    if (r.length > 1) this.blocks = true;
    let ran = r[0].count > 0;
    for (let i = 1; i < r.length; i++) {
      this.remember(file, f.blocks, r[i]);
      ran ||= r[i].count > 0;
    }
    if (!ran) return;
    into.add(f.fn.name);
    // A known block's count is that of the innermost range reported this run that contains it.
    // r is sorted by start with nested ranges after their parent: the last one containing b wins.
    for (const b of f.blocks) {
      let count = r[0].count;
      for (let i = 1; i < r.length && r[i].startOffset <= b.start; i++) {
        if (r[i].endOffset >= b.end) count = r[i].count;
      }
      if (count > 0) this.emit(b, count, into);
    }
  }

  private remember(file: string, blocks: KnownRange[], v: V8Range): void {
    let lo = 0;
    let hi = blocks.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const b = blocks[mid];
      if (b.start < v.startOffset || (b.start === v.startOffset && b.end > v.endOffset)) lo = mid + 1;
      else hi = mid;
    }
    const at = blocks[lo];
    if (at && at.start === v.startOffset && at.end === v.endOffset) return;
    blocks.splice(lo, 0, this.range('c', file, v.startOffset, v.endOffset));
  }

  /** 'f' names a function ("it ran"), 'c' a block inside one. */
  private range(kind: 'f' | 'c', file: string, start: number, end: number): KnownRange {
    return { start, end, name: `${kind}:${file}:${start}-${end}`, buckets: new Map() };
  }

  private emit(b: KnownRange, count: number, into: Set<string>): void {
    into.add(b.name);
    if (!this.counts) return;
    const k = bucket(count);
    if (k === 1) return;
    let name = b.buckets.get(k);
    if (!name) b.buckets.set(k, (name = `${b.name}#${k}`));
    into.add(name);
  }

  private fileOf(url: string): string | null {
    let f = this.files.get(url);
    if (f !== undefined) return f;
    f = null;
    if (url.startsWith('file://')) {
      const rel = relative(this.root, fileURLToPath(url));
      if (!rel.startsWith('..') && !rel.endsWith('.test.ts') && !this.exclude.some((e) => rel.startsWith(e))) f = rel.split(sep).join('/');
    }
    this.files.set(url, f);
    return f;
  }

  private take(): readonly V8Script[] {
    let out: readonly V8Script[] = [];
    this.post('Profiler.takePreciseCoverage', undefined, (r) => {
      out = (r as { result: V8Script[] }).result;
    });
    return out;
  }

  /** The in-process session answers synchronously: the callback has run when post returns. */
  private post(method: string, params?: object, then?: (result: object) => void): void {
    let failure: Error | null = null;
    this.session.post(method, params ?? {}, (err: Error | null, result?: object) => {
      if (err) failure = err;
      else if (then && result) then(result);
    });
    if (failure) throw failure;
  }
}
