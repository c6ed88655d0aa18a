/**
 * Fuzzer comparison (issue #5): for each planted fault of src/fuzz/planted.test.ts, the median time
 * and executions to detect it for
 *   ours       src/fuzz/campaign.ts runCampaign (coverage feedback, corpus, mutation), stopped at the first finding
 *   fast-check plain model-based testing: fc.check over opSequenceArb, no coverage, no corpus
 *   jsfuzz     jsfuzz 1.0.15 on the compiled byte target (out/src/fuzz/byte-target.js), one child process per run
 * with the same platform for all three, plus our minimisation and the fuzzer's executions per second
 * against the engine's raw op throughput. A benchmark: it prints tables and asserts nothing.
 *
 *   npx tsx bench/fuzz-compare.ts [--seeds N] [--jsfuzz-runs N] [--cap SECONDS] [--cap-execs N] [--quick] [--only FAULT,...|all]
 *
 * jsfuzz has no seed: its runs differ by Math.random. Its time is counted from its first execution
 * (process start-up and instrumentation excluded), by a counting wrapper around the target.
 * A failure counts as detecting the fault only if its failing prefix passes without the fault.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { FAULT_NAMES, type FaultName } from '../src/faults';
import { runCampaign, type CampaignStats, type FoundFailure } from '../src/fuzz/campaign';
import { execute } from '../src/fuzz/execute';
import { generateSequence, opSequenceArb } from '../src/fuzz/generate';
import { PLATFORM_NAMES, namedPlatform } from '../src/fuzz/platforms';
import { createRng } from '../src/fuzz/rng';
import type { Failure, FuzzInput } from '../src/fuzz/types';

/** The faults and platforms of src/fuzz/planted.test.ts (kept in step by hand: that file is a test). */
const PLANTED: readonly { fault: FaultName; platform: string }[] = [
  { fault: 'swiotlb-skip-map-copy', platform: 'no-iommu-32bit' },
  { fault: 'direct-ignore-mask', platform: 'no-iommu-32bit' },
  { fault: 'batched-no-flush', platform: 'arm64-smmu' },
  { fault: 'rcache-double-insert', platform: 'x86-vtd' },
  { fault: 'pgsize-wrong-choice', platform: 'mix' },
  { fault: 'strict-unmap-no-sync', platform: 'thunderbolt-untrusted' },
  { fault: 'lazy-unmap-no-invalidate', platform: 'mix' },
  { fault: 'dma-iommu-drops-offset', platform: 'x86-vtd' },
  { fault: 'iova-unlink-no-sync', platform: 'x86-vtd' },
];

/** The campaign's defaults, given to fast-check too so both draw from the same generator. */
const LENGTH = 40;
const MISUSE = 0.05;

export interface CompareOptions {
  /** Seeds 1..seeds for ours and for fast-check. */
  readonly seeds: number;
  /** Independent jsfuzz runs per fault. */
  readonly jsfuzzRuns: number;
  /** Per-run cap on time to detect, in ms (every tool). */
  readonly capMs: number;
  /** Per-run cap on executions for the in-process tools. */
  readonly capExecs: number;
  readonly only?: readonly string[];
}

export const DEFAULT_OPTIONS: CompareOptions = { seeds: 5, jsfuzzRuns: 3, capMs: 30_000, capExecs: 20_000 };
export const QUICK_OPTIONS: CompareOptions = { seeds: 3, jsfuzzRuns: 2, capMs: 10_000, capExecs: 5_000 };

/** One run: detected within the cap, or censored at it. */
interface Detect {
  readonly found: boolean;
  readonly ms: number;
  readonly execs: number;
  readonly key?: string;
}

interface OursRun extends Detect {
  readonly minimizedOps?: number;
  readonly minimizeMs?: number;
}

interface FcRun extends Detect {
  readonly shrunkOps?: number;
  readonly shrinkMs?: number;
}

// ---- what counts as detecting the fault ---------------------------------------------------------

/**
 * Findings that fail without the planted fault too (a model bug or a false alarm in the tree as it
 * is) do not count as detecting it; each tool keeps searching, and they are listed under the table.
 */
const otherFindings = new Map<string, Set<string>>();

/** true when the failing prefix of `input` passes on the clean model: the fault caused the failure. */
function faultCaused(input: FuzzInput, failure: Failure, tool: string): boolean {
  if (!execute(input.slice(0, failure.index + 1), { features: false }).failure) return true;
  noteOther(failure.key, tool);
  return false;
}

function noteOther(key: string, tool: string): void {
  otherFindings.set(key, (otherFindings.get(key) ?? new Set()).add(tool));
}

// ---- ours ---------------------------------------------------------------------------------------

function oursRun(fault: FaultName, platform: string, seed: number, o: CompareOptions): OursRun {
  // runCampaign has no "stop at the first finding": onProgress hands us its live stats object
  // (first call right after the first input), and shouldStop reads it between inputs.
  let live: CampaignStats | undefined;
  const verdict = new Map<FoundFailure, boolean>();
  const caused = (f: FoundFailure): boolean => {
    if (!verdict.has(f)) verdict.set(f, faultCaused(f.input, f.failure, 'ours'));
    return verdict.get(f)!;
  };
  const s = runCampaign({
    seed, platform, faults: [fault], runs: o.capExecs, timeMs: o.capMs, coverage: 'model',
    onProgress: (st) => { live = st; },
    shouldStop: () => live?.findings.some(caused) ?? false,
  });
  const at = s.findings.findIndex(caused);
  if (at < 0) return { found: false, ms: o.capMs, execs: s.execs };
  const f = s.findings[at]!;
  // msToFind is read after minimising this finding and every earlier one: take those back out.
  const minimizing = s.findings.slice(0, at + 1).reduce((a, x) => a + x.minimizeMs, 0);
  return { found: true, ms: f.msToFind - minimizing, execs: f.execsToFind, key: f.failure.key, minimizedOps: f.minimized.length, minimizeMs: f.minimizeMs };
}

// ---- plain fast-check ---------------------------------------------------------------------------

function fcRun(fault: FaultName, platform: string, seed: number, o: CompareOptions): FcRun {
  const plat = platform === 'mix' ? undefined : namedPlatform(platform);
  let execs = 0;
  let first: { execs: number; ms: number; key: string } | undefined;
  const t0 = process.hrtime.bigint();
  const ms = (): number => Number(process.hrtime.bigint() - t0) / 1e6;
  const prop = fc.property(opSequenceArb(plat, { maxLength: LENGTH, misuse: MISUSE }), (input) => {
    execs++;
    const failure = execute(input, { faults: [fault], features: false }).failure;
    if (!failure || !faultCaused(input, failure, 'fast-check')) return true;
    if (!first) first = { execs, ms: ms(), key: failure.key };
    return false;
  });
  const r = fc.check(prop, { seed, numRuns: o.capExecs, interruptAfterTimeLimit: o.capMs, markInterruptAsFailure: false });
  const total = ms();
  if (!first) return { found: false, ms: o.capMs, execs: Math.min(execs, o.capExecs) };
  const shrunk = r.failed && r.counterexample ? r.counterexample[0].length : undefined;
  return { found: true, ms: first.ms, execs: first.execs, key: first.key, shrunkOps: shrunk, shrinkMs: total - first.ms };
}

// ---- jsfuzz on the byte target ------------------------------------------------------------------

const ROOT = resolve(__dirname, '..');
const TARGET = join(ROOT, 'out', 'src', 'fuzz', 'byte-target.js');
const EXECUTE = join(ROOT, 'out', 'src', 'fuzz', 'execute.js');
const JSFUZZ = join(ROOT, 'node_modules', 'jsfuzz', 'build', 'src', 'index.js');

function newestSource(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newestSource(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

/** Builds out/ when it is missing or older than src/; undefined when ready, else why not. */
function ensureBuilt(): string | undefined {
  if (!existsSync(JSFUZZ)) return 'jsfuzz is not installed (npm ci)';
  if (existsSync(TARGET) && statSync(TARGET).mtimeMs >= newestSource(join(ROOT, 'src'))) return undefined;
  process.stderr.write('out/ is missing or older than src/: npm run build\n');
  const before = existsSync(TARGET) ? statSync(TARGET).mtimeMs : 0;
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.build.json')], { encoding: 'utf8' });
  if (r.status === 0) return undefined;
  const why = (r.stdout + r.stderr).split('\n').slice(0, 3).join(' ');
  // tsc still emits on type errors (elsewhere in the tree, say): go on with a warning if it did.
  if (existsSync(TARGET) && statSync(TARGET).mtimeMs > before) {
    process.stdout.write(`warning: npm run build reported errors, out/ was emitted anyway: ${why}\n`);
    return undefined;
  }
  return `npm run build failed: ${why}`;
}

/**
 * The target jsfuzz loads: counts executions and times them from the first, prints one
 * "DMASPEC-BENCH found|cap execs=N ms=T" line, and ends the worker at the cap (jsfuzz 1.0.15 has no
 * time or run limit of its own; a worker that exits 0 ends jsfuzz quietly).
 */
function counterSource(capMs: number): string {
  return `'use strict';
const target = require(${JSON.stringify(TARGET)});
const { execute } = require(${JSON.stringify(EXECUTE)});
const platform = target.targetConfig().platform;
let n = 0;
let t0 = 0n;
const ms = () => Number(process.hrtime.bigint() - t0) / 1e6;
const say = (what, extra) => process.stdout.write('\\nDMASPEC-BENCH ' + what + ' execs=' + n + ' ms=' + ms().toFixed(1) + (extra ? ' key=' + extra : '') + '\\n');
exports.fuzz = (data) => {
  if (n === 0) t0 = process.hrtime.bigint();
  n++;
  try {
    target.fuzz(data);
  } catch (e) {
    if (!e || e.name !== 'DmaspecFinding') {
      say('error', String(e).split('\\n')[0].replace(/\\s+/g, '_'));
      throw e;
    }
    // Fails without the planted fault too: not this fault; note it and keep fuzzing.
    const clean = execute(target.decode(data, platform).slice(0, e.failure.index + 1), { features: false }).failure;
    say(clean ? 'other' : 'found', e.failure.key);
    if (!clean) throw e;
  }
  if (ms() > ${capMs}) { say('cap'); process.exit(0); }
};
`;
}

const BENCH_LINE = /DMASPEC-BENCH (found|cap|error|other) execs=(\d+) ms=([\d.]+)(?: key=(\S+))?/g;

function jsfuzzRun(fault: FaultName, platform: string, o: CompareOptions): Detect & { wallMs: number } {
  const dir = mkdtempSync(join(tmpdir(), 'dmaspec-jsfuzz-'));
  try {
    writeFileSync(join(dir, 'target.js'), counterSource(o.capMs));
    const t0 = Date.now();
    // jsfuzz resolves the target against its cwd; crash files and .nyc_output land there too.
    const r = spawnSync(process.execPath, [JSFUZZ, 'target.js', 'corpus'], {
      cwd: dir, encoding: 'utf8', maxBuffer: 256 << 20, timeout: o.capMs + 60_000, killSignal: 'SIGKILL',
      env: { ...process.env, DMASPEC_FAULTS: fault, DMASPEC_PLATFORM: platform },
    });
    const wallMs = Date.now() - t0;
    const lines = [...(r.stdout ?? '').matchAll(BENCH_LINE)];
    for (const l of lines) if (l[1] === 'other') noteOther(l[4] ?? '?', 'jsfuzz');
    const m = lines.find((l) => l[1] !== 'other');
    if (!m) throw new Error(`jsfuzz (${fault}) printed no DMASPEC-BENCH line; exit ${r.status} ${r.signal ?? ''}: ${(r.stderr ?? '').slice(-400)}`);
    if (m[1] === 'error') throw new Error(`jsfuzz (${fault}): the target threw something other than a finding: ${m[4]}`);
    if (m[1] === 'found' && !readdirSync(dir).some((n) => n.startsWith('crash-'))) throw new Error(`jsfuzz (${fault}): a finding but no crash file`);
    return m[1] === 'found'
      ? { found: true, execs: Number(m[2]), ms: Number(m[3]), key: m[4], wallMs }
      : { found: false, execs: Number(m[2]), ms: o.capMs, wallMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- throughput ---------------------------------------------------------------------------------

interface Throughput { readonly what: string; readonly execsPerSec: number; readonly opsPerSec: number }

/** The campaign's execs/s on a clean model against executing the same kind of inputs with less and less around them. */
function throughput(ms: number): Throughput[] {
  const rng = createRng(7);
  const inputs: FuzzInput[] = [];
  for (let i = 0; i < 300; i++) {
    const plat = namedPlatform(PLATFORM_NAMES[i % PLATFORM_NAMES.length]!);
    inputs.push([...plat, ...generateSequence(rng, plat, { length: LENGTH, misuse: MISUSE })]);
  }
  const opsPer = inputs.reduce((a, x) => a + x.length, 0) / inputs.length;
  const timed = (what: string, run: (x: FuzzInput) => void): Throughput => {
    let n = 0;
    const t0 = Date.now();
    while (Date.now() - t0 < ms) run(inputs[n++ % inputs.length]!);
    const secs = (Date.now() - t0) / 1000;
    return { what, execsPerSec: n / secs, opsPerSec: (n * opsPer) / secs };
  };
  const s = runCampaign({ seed: 1, platform: 'mix', timeMs: ms });
  const secs = s.elapsedMs / 1000;
  return [
    { what: 'campaign (generate/mutate, coverage, corpus)', execsPerSec: s.execs / secs, opsPerSec: (s.execs * opsPer) / secs },
    timed('execute: every invariant + model features', (x) => execute(x)),
    timed('execute: every invariant, no features', (x) => execute(x, { features: false })),
    timed('execute: no invariants, no features (raw model)', (x) => execute(x, { invariants: [], features: false })),
  ];
}

// ---- printing -----------------------------------------------------------------------------------

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Median time and execs; censored runs count as the cap, and the median is ">cap" when it is censored. */
function summary(runs: readonly Detect[], capMs: number): { ms: number; execs: number; text: string } {
  const ms = median(runs.map((r) => r.ms));
  const execs = median(runs.map((r) => r.execs));
  const found = runs.filter((r) => r.found).length;
  const censored = runs.filter((r) => !r.found).length * 2 >= runs.length && ms >= capMs;
  const t = censored ? `>${(capMs / 1000).toFixed(0)} s` : ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(1)} s`;
  const e = censored ? `>${execs}` : `${execs}`;
  return { ms, execs, text: `${t} / ${e} (${found}/${runs.length})` };
}

/** theirs ÷ ours; a censored side makes it a bound: '>' (theirs hit the cap), '<' (ours did), '?' (both). */
const ratio = (theirs: number, ours: number, theirsCensored: boolean, oursCensored: boolean): string =>
  `${theirsCensored ? (oursCensored ? '?' : '>') : oursCensored ? '<' : ''}${(theirs / Math.max(ours, 1e-9)).toFixed(1)}x`;

function pad(cells: readonly string[], widths: readonly number[]): string {
  return `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |\n`;
}

function printRows(header: readonly string[], rows: readonly (readonly string[])[]): void {
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  process.stdout.write(pad(header, w));
  process.stdout.write(`|${w.map((x) => '-'.repeat(x + 2)).join('|')}|\n`);
  for (const r of rows) process.stdout.write(pad(r, w));
}

export function fuzzCompare(o: CompareOptions = DEFAULT_OPTIONS): void {
  const out = process.stdout;
  const planted = o.only
    ? o.only.map((f) => PLANTED.find((p) => p.fault === f) ?? { fault: f as FaultName, platform: 'mix' })
    : PLANTED;
  const notBuilt = o.jsfuzzRuns > 0 ? ensureBuilt() : 'not run (--jsfuzz-runs 0)';
  if (notBuilt) out.write(`jsfuzz column skipped: ${notBuilt}\n`);
  const rows: string[][] = [];
  const minRows: string[][] = [];
  const misses: string[] = [];
  const allOurs: OursRun[] = [];
  for (const { fault, platform } of planted) {
    process.stderr.write(`fuzz-compare: ${fault} on ${platform} ...\n`);
    const seeds = Array.from({ length: o.seeds }, (_, i) => i + 1);
    const ours = seeds.map((s) => oursRun(fault, platform, s, o));
    const fcs = seeds.map((s) => fcRun(fault, platform, s, o));
    const jsf = notBuilt ? [] : Array.from({ length: o.jsfuzzRuns }, () => jsfuzzRun(fault, platform, o));
    const so = summary(ours, o.capMs);
    const sf = summary(fcs, o.capMs);
    const sj = jsf.length ? summary(jsf, o.capMs) : undefined;
    const cens = (rs: readonly Detect[]) => rs.some((r) => !r.found);
    const vs = (s: { ms: number; execs: number }, rs: readonly Detect[]) =>
      `${ratio(s.ms, so.ms, cens(rs), cens(ours))} / ${ratio(s.execs, so.execs, cens(rs), cens(ours))}`;
    rows.push([fault, platform, so.text, sf.text, sj?.text ?? 'n/a', vs(sf, fcs), sj ? vs(sj, jsf) : 'n/a']);
    for (const [name, s, rs] of [['fast-check', sf, fcs], ['jsfuzz', sj, jsf]] as const) {
      const capped = cens(rs) && cens(ours) ? ' (both capped: no ratio)' : cens(ours) ? ' (ours capped)' : '';
      if (s && s.ms < 10 * so.ms) misses.push(`${fault} vs ${name}: ${(s.ms / so.ms).toFixed(1)}x time, ${(s.execs / so.execs).toFixed(1)}x execs${capped}`);
    }
    const done = ours.filter((r) => r.found);
    allOurs.push(...done);
    const fcDone = fcs.filter((r) => r.found && r.shrunkOps !== undefined);
    minRows.push([
      fault,
      done.length ? `${median(done.map((r) => r.minimizedOps!))} (max ${Math.max(...done.map((r) => r.minimizedOps!))})` : '-',
      done.length ? `${median(done.map((r) => r.minimizeMs!)).toFixed(0)} ms (max ${Math.max(...done.map((r) => r.minimizeMs!)).toFixed(0)})` : '-',
      fcDone.length ? `${median(fcDone.map((r) => r.shrunkOps!))}` : '-',
      fcDone.length ? `${median(fcDone.map((r) => r.shrinkMs!)).toFixed(0)} ms` : '-',
      [...new Set(ours.map((r) => r.key).filter(Boolean))].join(' '),
    ]);
  }
  out.write(`\nTime / executions to detect each planted fault: median over ${o.seeds} seeds (ours, fast-check) and ${notBuilt ? 0 : o.jsfuzzRuns} runs (jsfuzz); `
    + `caps per run ${o.capMs / 1000} s, and ${o.capExecs} executions for ours and fast-check; (found/runs). `
    + 'Ours: runCampaign in-process, model-level coverage; fast-check: the same generator, no feedback; jsfuzz: istanbul coverage of the compiled tree.\n\n');
  printRows(['fault', 'platform', 'ours time / execs', 'fast-check time / execs', 'jsfuzz time / execs', 'fast-check ÷ ours (time / execs)', 'jsfuzz ÷ ours (time / execs)'], rows);
  out.write('\nA run that reached its cap counts as the cap in the median (">cap" marks a median at the cap). A ratio with capped runs is a bound: ">" theirs were capped, "<" ours were, "?" both.\n'
    + 'jsfuzz time counts from its first execution: process start-up and instrumentation (2-4 s) are left out. Times are noisy on a shared machine; executions are not.\n');
  if (otherFindings.size) {
    out.write('Findings that fail without the planted fault too (a model bug or a false alarm in the tree; not counted as detection):\n');
    for (const [key, tools] of otherFindings) out.write(`  - ${key} (${[...tools].join(', ')})\n`);
  }
  out.write(`Target: every fault found at least 10x faster (median time) than jsfuzz and fast-check. ${misses.length ? `Missed (${misses.length}):\n${misses.map((m) => `  - ${m}`).join('\n')}` : 'Met for every fault.'}\n`);
  out.write('\nMinimisation: ours (campaign minimiser, 2 s deadline) and fast-check\'s shrinker on the same finding class; median over the seeds that found it\n\n');
  printRows(['fault', 'ours ops after minimising', 'ours minimise time', 'fast-check ops after shrinking', 'fast-check shrink time', 'finding key(s), ours'], minRows);
  const small = allOurs.filter((r) => r.minimizedOps! <= 10 && r.minimizeMs! < 2000).length;
  out.write(`\nTarget: a finding minimised to 10 ops or fewer in under 2 s: ${small} of ${allOurs.length} findings`
    + ` (largest ${Math.max(0, ...allOurs.map((r) => r.minimizedOps!))} ops, slowest ${Math.max(0, ...allOurs.map((r) => r.minimizeMs!)).toFixed(0)} ms).\n`);
  out.write('\nFuzzer executions per second against raw model throughput (sequences of ~40 ops on the named platforms, clean model, one core)\n\n');
  const tp = throughput(o.capMs >= 10_000 ? 5000 : 2000);
  const raw = tp[tp.length - 1]!.opsPerSec;
  printRows(['what', 'execs/s', 'ops/s', 'share of raw'], tp.map((t) => [t.what, t.execsPerSec.toFixed(0), t.opsPerSec.toFixed(0), `${((100 * t.opsPerSec) / raw).toFixed(0)}%`]));
  out.write('(campaign ops/s assumes the generator\'s mean input length; its mutated inputs vary around it)\n');
}

function parseArgs(argv: readonly string[]): CompareOptions {
  let o: CompareOptions = argv.includes('--quick') ? QUICK_OPTIONS : DEFAULT_OPTIONS;
  const count = (flag: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (v === undefined || !Number.isInteger(n) || n < min) throw new Error(`${flag}: expected an integer >= ${min}, got ${v === undefined ? 'nothing' : `"${v}"`}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === '--quick') continue;
    const v = argv[++i];
    switch (flag) {
      case '--seeds': o = { ...o, seeds: count(flag, v, 1) }; break;
      case '--jsfuzz-runs': o = { ...o, jsfuzzRuns: count(flag, v, 0) }; break;
      case '--cap': o = { ...o, capMs: count(flag, v, 1) * 1000 }; break;
      case '--cap-execs': o = { ...o, capExecs: count(flag, v, 1) }; break;
      case '--only': {
        // Any fault of src/faults.ts ("all": every one); those outside planted.test.ts run on 'mix'.
        const names = v === 'all' ? [...FAULT_NAMES] : (v ?? '').split(',').filter(Boolean);
        const unknown = names.filter((n) => !(FAULT_NAMES as readonly string[]).includes(n));
        if (!names.length || unknown.length) throw new Error(`--only: unknown fault(s) ${unknown.join(', ') || '(none given)'}: one of src/faults.ts, or all`);
        o = { ...o, only: names };
        break;
      }
      default: throw new Error(`unknown option "${flag}" (--seeds N, --jsfuzz-runs N, --cap SECONDS, --cap-execs N, --quick, --only FAULT,...)`);
    }
  }
  return o;
}

if (require.main === module) {
  try {
    fuzzCompare(parseArgs(process.argv.slice(2)));
  } catch (e) {
    process.stderr.write(`fuzz-compare: ${(e as Error).message}\n`);
    process.exitCode = 2;
  }
}
