/**
 * Coverage features for the fuzzer (DESIGN.md "Coverage for the fuzzer"). An input is kept when it
 * reaches a feature no kept input reached, so features must be cheap, deterministic strings.
 *
 * 1. Model-level features (ModelFeatures): one string per op — op name, outcome (ok / error code),
 *    the path the op took (direct / bounce / iommu / iommu-bounce / identity; sg merged or bounced)
 *    and markers from counter deltas around the op (range-cache hit or tree walk, second pass from
 *    the top, max32 shortcut, flush-queue flushes, block split, page sizes used, IOTLB hit ...),
 *    then its sorted warning codes. Per run, each string also yields AFL-style hit-count buckets
 *    (1, 2, 3, 4-7, 8-15, 16-31, 32-127, 128+), so "the same path, more often" is new too.
 *
 * 2. Code coverage of the model (CodeCoverage): V8 block coverage through node:inspector
 *    (Profiler.startPreciseCoverage {callCount, detailed}; a takePreciseCoverage before each run resets
 *    the counters, so harness code between runs, a minimiser's predicate included, never counts; one
 *    after it reads them). Features are V8's block ranges ("c:dma/swiotlb.ts:4521-4630", with hit-count
 *    buckets like (1)) and functions that ran ("f:..."), in src/ but not src/fuzz or src/cli.
 *    Measured (execute.test.ts prints it; 50-op arm64 sequence, Node 20, 2 cores): a run costs about
 *    2.4x a run without it on a quiet machine (up to 2.9x with other test files running): ~1.5x from
 *    the block counters V8 compiles into the model, ~2 ms per take for the ~750 model functions a run
 *    touches (V8 serialises them as ~130 KB of JSON that the session parses); extracting features
 *    is ~0.2 ms. That is inside the 3x budget, so it is implemented. An istanbul build
 *    (istanbul-lib-instrument) was not tried: it needs a build step and a package, and gives the same
 *    block/branch granularity that V8 already counts. Neither gives AFL's edges
 *    (pairs of blocks); hit-count buckets per block are the nearest thing.
 *    Caveats: (a) start() must come before the model's functions first run in the process: V8 puts
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
import { dma_to_phys } from '../dma/direct';
import type { StepOutcome } from '../engine/engine';
import type { ArmLpaeIoPgtable } from '../iommu/io-pgtable-arm';
import type { Platform } from '../platform';
import { formatSize } from '../ops/numbers';
import type { ResultValue, SgResultEntry } from '../ops/types';

// ---- hit-count buckets ------------------------------------------------------------------------

/** AFL's count classes: 1, 2, 3, 4-7, 8-15, 16-31, 32-127, 128+. */
export function bucket(n: number): number {
  if (n <= 3) return n;
  if (n < 8) return 4;
  if (n < 16) return 8;
  if (n < 32) return 16;
  if (n < 128) return 32;
  return 128;
}

// ---- model-level features ---------------------------------------------------------------------

/** Counter markers: an op whose delta of this counter is > 0 gets the marker. Order is output order. */
const MARKERS = [
  'swiotlb-copy', 'swiotlb-fail', 'clean', 'inval', 'flush', 'cpu-all',
  'rc-hit', 'rc-miss', 'rc-flush', 'iova-retry', 'iova-max32', 'iova-fail', 'rc-insert', 'rc-fallback', 'mag-fail',
  'depot-push', 'depot-trim', 'fq-queue', 'fq-retire', 'fq-full', 'fq-timer',
  'pt-alloc', 'pt-free', 'pt-split', 'pt-teardown', 'pt-refused', 'pt-overlap',
  'walk-inv', 'sync-map', 'iotlb-hit', 'iotlb-miss', 'iotlb-inv', 'iotlb-flush-all',
] as const;
const M = Object.fromEntries(MARKERS.map((m, i) => [m, i])) as Record<(typeof MARKERS)[number], number>;

/** Sums the path counters of the whole platform (an op may touch several domains) into `out`. */
function readCounters(p: Platform, out: Float64Array): void {
  out.fill(0);
  if (p.swiotlb) {
    out[M['swiotlb-copy']] = p.swiotlb.stats.bounces;
    out[M['swiotlb-fail']] = p.swiotlb.stats.failures;
  }
  const a = p.arch.stats;
  out[M.clean] = a.cleans;
  out[M.inval] = a.invalidates;
  out[M.flush] = a.flushes;
  out[M['cpu-all']] = a.cpu_all;
  const iovads = [...p.iova_domains.values()];
  for (const d of p.iommu.domains.values()) {
    if (d.iovad) iovads.push(d.iovad);
    if (d.fq) {
      out[M['fq-queue']] += d.fq.stats.queued;
      out[M['fq-retire']] += d.fq.stats.retired;
      out[M['fq-full']] += d.fq.stats.full_flushes;
      out[M['fq-timer']] += d.fq.stats.timer_flushes;
    }
    const pgtbl = d.domain.pgtbl;
    if (pgtbl && 'stats' in pgtbl) {
      const t = (pgtbl as ArmLpaeIoPgtable).stats;
      out[M['pt-alloc']] += t.tables_allocated;
      out[M['pt-free']] += t.tables_freed;
      out[M['pt-split']] += t.block_splits;
      out[M['pt-teardown']] += t.table_teardowns;
      out[M['pt-refused']] += t.partial_unmaps_refused;
      out[M['pt-overlap']] += t.overlapping_maps;
    }
    const s = d.domain.stats;
    out[M['walk-inv']] += s.tlb_flush_walk;
    out[M['sync-map']] += s.iotlb_sync_map;
    const tlb = d.domain.iotlb?.stats;
    if (tlb) {
      out[M['iotlb-hit']] += tlb.hits;
      out[M['iotlb-miss']] += tlb.misses;
      out[M['iotlb-inv']] += tlb.range_invalidations;
      out[M['iotlb-flush-all']] += tlb.full_flushes;
    }
  }
  for (const v of iovads) {
    const s = v.view.stats;
    out[M['rc-hit']] += s.rcache_hits;
    out[M['rc-miss']] += s.rcache_misses;
    out[M['rc-flush']] += s.rcache_flushes;
    out[M['iova-retry']] += s.retries_from_top;
    out[M['iova-max32']] += s.shortcut_32bit;
    out[M['iova-fail']] += s.alloc_failures;
    out[M['rc-insert']] += s.rcache_inserts;
    out[M['rc-fallback']] += s.rcache_insert_fallbacks;
    out[M['mag-fail']] += s.magazine_alloc_failures;
    out[M['depot-push']] += s.depot_pushes;
    out[M['depot-trim']] += s.depot_trims;
  }
}

const inPool = (p: Platform, phys: bigint): boolean => p.swiotlb?.is_swiotlb_buffer(phys) ?? false;

/** Which path a DMA address of `dev` took: through the IOMMU or not, bounced or not. */
function mapPath(p: Platform, devName: string, addr: bigint): string {
  const dev = p.devices.get(devName);
  if (!dev) return 'nodev';
  const d = p.iommu.domainOf(dev);
  const type = d?.domain.type;
  if (d && (type === 'DMA' || type === 'DMA_FQ')) return inPool(p, d.domain.pgtbl?.iova_to_phys(addr) ?? 0n) ? 'iommu-bounce' : 'iommu';
  const direct = inPool(p, dma_to_phys(dev, addr)) ? 'bounce' : 'direct';
  return type ? `${type.toLowerCase()}-${direct}` : direct;
}

/** sg path: the path of the first segment, then merged (fewer DMA segments than entries) and how many bounced. */
function sgPath(p: Platform, devName: string, sg: readonly SgResultEntry[], nents: number, given: number): string {
  if (nents === 0 || sg.length === 0) return 'sg-none';
  const marks = [mapPath(p, devName, sg[0].dma_address)];
  if (nents < given) marks.push('sg-merged');
  const dev = p.devices.get(devName);
  if (dev && p.swiotlb && !p.iommu.domainOf(dev)) {
    let bounced = 0;
    for (let i = 0; i < nents && i < sg.length; i++) if (inPool(p, dma_to_phys(dev, sg[i].dma_address))) bounced++;
    marks.push(bounced === 0 ? 'sg-bounce-none' : bounced === nents ? 'sg-bounce-all' : 'sg-bounce-some');
  }
  return marks.join('+');
}

/** The page sizes the last map of each domain whose map_pages count moved used ("pg=4K+2M"). */
function pgsizeMix(p: Platform, mapPagesBefore: ReadonlyMap<string, number>): string | undefined {
  const sizes = new Set<bigint>();
  for (const d of p.iommu.domains.values()) {
    const s = d.domain.stats;
    if (s.map_pages === (mapPagesBefore.get(d.name) ?? 0)) continue;
    for (const c of s.last_map_pages) sizes.add(c.pgsize);
  }
  if (sizes.size === 0) return undefined;
  return 'pg=' + [...sizes].sort((a, b) => (a < b ? -1 : 1)).map(formatSize).join('+');
}

/**
 * Model-level features of one run. Call beforeOp / afterOp around every op, then finish.
 * One instance per run: it keeps the counter snapshot and the per-run feature counts.
 */
export class ModelFeatures {
  private readonly before = new Float64Array(MARKERS.length);
  private readonly after = new Float64Array(MARKERS.length);
  private readonly mapPages = new Map<string, number>();
  private readonly counts = new Map<string, number>();

  /** Snapshots the counters (p is null before the platform op has run). */
  beforeOp(p: Platform | null): void {
    if (!p) {
      this.before.fill(0);
      return;
    }
    readCounters(p, this.before);
    this.mapPages.clear();
    for (const d of p.iommu.domains.values()) this.mapPages.set(d.name, d.domain.stats.map_pages);
  }

  /** The feature string of the op that just ran; counted for finish(). */
  afterOp(p: Platform, step: StepOutcome): string {
    const { op, result } = step;
    const parts: string[] = [op.op, result.ok ? 'ok' : result.fault ? `${result.error}!fault` : result.error];
    const dev = 'dev' in op && typeof op.dev === 'string' ? op.dev : undefined;
    if (result.ok && dev !== undefined) {
      const v: Readonly<Record<string, ResultValue>> = result.values;
      if (Array.isArray(v.sg) && typeof v.nents === 'number') {
        const nents = 'nents' in op && typeof op.nents === 'number' ? op.nents : undefined;
        const given = nents ?? ('sg' in op && Array.isArray(op.sg) ? op.sg.length : v.sg.length);
        parts.push(sgPath(p, dev, v.sg as readonly SgResultEntry[], v.nents, given));
      } else if (typeof v.dma_addr === 'bigint') parts.push(mapPath(p, dev, v.dma_addr));
    }
    readCounters(p, this.after);
    const marks: string[] = [];
    for (let i = 0; i < MARKERS.length; i++) if (this.after[i] > this.before[i]) marks.push(MARKERS[i]);
    const pg = pgsizeMix(p, this.mapPages);
    if (pg) marks.push(pg);
    if (marks.length) parts.push(marks.join('+'));
    if (result.warnings.length) parts.push('w=' + [...new Set(result.warnings.map((w) => w.code))].sort().join(','));
    const f = parts.join(':');
    this.counts.set(f, (this.counts.get(f) ?? 0) + 1);
    return f;
  }

  /** Adds every op feature and its hit-count bucket ("f#4" for 4-7 times) to `into`. */
  finish(into: Set<string>): void {
    for (const [f, n] of this.counts) {
      into.add(f);
      const b = bucket(n);
      if (b > 1) into.add(`${f}#${b}`);
    }
  }
}

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
export class CodeCoverage {
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
