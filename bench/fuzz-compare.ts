/**
 * Fuzzer comparison (issue #5): for each planted fault of src/fuzz/planted.ts (the shallow set and the
 * deep one, one table each), the median CPU time and executions to detect it for
 *   ours model  src/fuzz/campaign.ts runCampaign guided by model features, stopped at the first finding
 *   ours both   the same on the instrumented tree (instrument.ts), guided by code edges + model features
 *   fast-check  plain model-based testing: fc.check over opSequenceArb, no coverage, no corpus
 *   jsfuzz      jsfuzz 1.0.15 on the compiled byte target (out/src/fuzz/byte-target.js), one child process per run
 * with the same platform for all, plus our minimisation and the fuzzer's executions per second
 * against the engine's raw op throughput. A benchmark: it prints tables and asserts nothing.
 *
 *   npx tsx bench/fuzz-compare.ts [--set shallow|deep|all] [--coverage model,both] [--seeds N] [--jsfuzz-runs N]
 *                                 [--cap SECONDS] [--cap-execs N] [--quick] [--only FAULT,...|all] [--no-throughput]
 *
 * Times are CPU time of the process doing the search (the machine is shared; CPU time is what the
 * search cost, wall time is not), and caps are CPU time too. jsfuzz has no seed: its runs differ by
 * Math.random; its time counts from its first execution (start-up and instrumentation excluded).
 * A failure counts as detecting the fault only if its failing prefix passes without the fault.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { FAULT_NAMES, type FaultName } from '../src/faults';
import { runCampaign, type CampaignOptions, type CampaignStats, type CoverageMode, type FoundFailure } from '../src/fuzz/campaign';
import type { CodeFeatures } from '../src/fuzz/coverage';
import { instrumentedBuild } from '../src/fuzz/instrument';
import { PLANTED_SETS, type PlantedFault } from '../src/fuzz/planted';
import { execute } from '../src/fuzz/execute';
import { generateSequence, opSequenceArb } from '../src/fuzz/generate';
import { PLATFORM_NAMES, namedPlatform } from '../src/fuzz/platforms';
import { createRng } from '../src/fuzz/rng';
import type { Failure, FuzzInput } from '../src/fuzz/types';

type SetName = keyof typeof PLANTED_SETS;
const SET_NAMES = Object.keys(PLANTED_SETS) as SetName[];

/** CPU milliseconds of this process (all threads) since `from`. */
const cpuMs = (from: NodeJS.CpuUsage): number => {
  const u = process.cpuUsage(from);
  return (u.user + u.system) / 1000;
};

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
  /** Which planted sets, one table each. */
  readonly sets: readonly SetName[];
  /** Our campaign's coverage modes, one column each ('both' needs the instrumented tree). */
  readonly coverage: readonly CoverageMode[];
  /** Print the execs/s table after the comparison. */
  readonly throughput: boolean;
  /** Run plain fast-check (--no-fast-check leaves it out, to split a long run across processes). */
  readonly fastCheck?: boolean;
}

export const DEFAULT_OPTIONS: CompareOptions = { seeds: 5, jsfuzzRuns: 3, capMs: 30_000, capExecs: 20_000, sets: SET_NAMES, coverage: ['model', 'both'], throughput: true };
/** npm run bench's variant: 5 seeds, short caps, model coverage only, two jsfuzz runs. */
export const QUICK_OPTIONS: CompareOptions = { seeds: 5, jsfuzzRuns: 2, capMs: 4_000, capExecs: 2_000, sets: SET_NAMES, coverage: ['model'], throughput: false };

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

/** The instrumented tree's runCampaign and a fresh edge counter for it, loaded once ('both'). */
let instrumented: { runCampaign: typeof runCampaign; code: () => CodeFeatures; edgesTotal: number } | undefined;
function loadInstrumented(): NonNullable<typeof instrumented> {
  if (!instrumented) {
    const build = instrumentedBuild();
    const { runCampaign: run } = require(join(build.dir, 'fuzz', 'campaign.js')) as typeof import('../src/fuzz/campaign');
    const { BranchCoverage } = require(join(build.dir, 'fuzz', 'coverage-code.js')) as typeof import('../src/fuzz/coverage-code');
    instrumented = { runCampaign: run, code: () => new BranchCoverage(build.manifest), edgesTotal: build.manifest.total };
  }
  return instrumented;
}

function oursRun(fault: FaultName, platform: string, seed: number, o: CompareOptions, mode: CoverageMode): OursRun {
  // runCampaign has no "stop at the first finding": onProgress hands us its live stats object
  // (first call right after the first input), and shouldStop reads it between inputs.
  let live: CampaignStats | undefined;
  const verdict = new Map<FoundFailure, boolean>();
  const caused = (f: FoundFailure): boolean => {
    if (!verdict.has(f)) verdict.set(f, faultCaused(f.input, f.failure, 'ours'));
    return verdict.get(f)!;
  };
  const c0 = process.cpuUsage();
  const opts: CampaignOptions = {
    seed, platform, faults: [fault], runs: o.capExecs, timeMs: o.capMs, coverage: mode, clock: () => cpuMs(c0),
    onProgress: (st) => { live = st; },
    shouldStop: () => live?.findings.some(caused) ?? false,
  };
  const s = mode === 'model' ? runCampaign(opts) : (() => {
    const i = loadInstrumented();
    return i.runCampaign({ ...opts, code: i.code(), edgesTotal: i.edgesTotal });
  })();
  const at = s.findings.findIndex(caused);
  if (at < 0) return { found: false, ms: o.capMs, execs: s.execs };
  const f = s.findings[at]!;
  return { found: true, ms: f.msToFind, execs: f.execsToFind, key: f.failure.key, minimizedOps: f.minimized.length, minimizeMs: f.minimizeMs };
}

// ---- plain fast-check ---------------------------------------------------------------------------

function fcRun(fault: FaultName, platform: string, seed: number, o: CompareOptions): FcRun {
  const plat = platform === 'mix' ? undefined : namedPlatform(platform);
  let execs = 0;
  let first: { execs: number; ms: number; key: string } | undefined;
  const c0 = process.cpuUsage();
  const ms = (): number => cpuMs(c0);
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
let c0;
const ms = () => { const u = process.cpuUsage(c0); return (u.user + u.system) / 1000; };
const say = (what, extra) => process.stdout.write('\\nDMASPEC-BENCH ' + what + ' execs=' + n + ' ms=' + ms().toFixed(1) + (extra ? ' key=' + extra : '') + '\\n');
exports.fuzz = (data) => {
  if (n === 0) c0 = process.cpuUsage();
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
  const notBuilt = o.jsfuzzRuns > 0 ? ensureBuilt() : 'not run (--jsfuzz-runs 0)';
  if (notBuilt) out.write(`jsfuzz column skipped: ${notBuilt}\n`);
  const sets: [string, readonly PlantedFault[]][] = o.only
    ? [['selected', o.only.map((f) => [...PLANTED_SETS.shallow, ...PLANTED_SETS.deep].find((p) => p.fault === f) ?? { fault: f as FaultName, platform: 'mix', layer: '?' })]]
    : o.sets.map((s) => [s, PLANTED_SETS[s]]);
  const allOurs: OursRun[] = [];
  const minRows: string[][] = [];
  const cens = (rs: readonly Detect[]) => rs.some((r) => !r.found);
  for (const [setName, planted] of sets) {
    const rows: string[][] = [];
    const misses: string[] = [];
    let met = 0;
    for (const { fault, platform } of planted) {
      process.stderr.write(`fuzz-compare: ${setName} ${fault} on ${platform} ...\n`);
      const seeds = Array.from({ length: o.seeds }, (_, i) => i + 1);
      const ours = o.coverage.map((mode) => ({ mode, runs: seeds.map((s) => oursRun(fault, platform, s, o, mode)) }));
      const fcs = o.fastCheck === false ? [] : seeds.map((s) => fcRun(fault, platform, s, o));
      const jsf = notBuilt ? [] : Array.from({ length: o.jsfuzzRuns }, () => jsfuzzRun(fault, platform, o));
      const so = ours.map((x) => summary(x.runs, o.capMs));
      const sf = fcs.length ? summary(fcs, o.capMs) : undefined;
      const sj = jsf.length ? summary(jsf, o.capMs) : undefined;
      // The ratios are against ours in the first coverage mode listed (the campaign default goes first).
      const [base, baseRuns] = [so[0]!, ours[0]!.runs];
      const vs = (s: { ms: number; execs: number }, rs: readonly Detect[]) =>
        `${ratio(s.ms, base.ms, cens(rs), cens(baseRuns))} / ${ratio(s.execs, base.execs, cens(rs), cens(baseRuns))}`;
      rows.push([fault, platform, ...so.map((s) => s.text), sf?.text ?? 'n/a', sj?.text ?? 'n/a', sf ? vs(sf, fcs) : 'n/a', sj ? vs(sj, jsf) : 'n/a']);
      let ok = true;
      for (const [name, s, rs] of [['fast-check', sf, fcs], ['jsfuzz', sj, jsf]] as const) {
        if (!s) continue;
        const capped = cens(rs) && cens(baseRuns) ? ' (both capped: no ratio)' : cens(baseRuns) ? ' (ours capped)' : cens(rs) ? ' (theirs capped: a lower bound)' : '';
        if (s.ms < 10 * base.ms || cens(baseRuns)) {
          ok = false;
          misses.push(`${fault} vs ${name}: ${(s.ms / base.ms).toFixed(1)}x time, ${(s.execs / base.execs).toFixed(1)}x execs${capped}`);
        }
      }
      if (ok && (sf || sj)) met++;
      for (const { mode, runs } of ours) {
        const done = runs.filter((r) => r.found);
        if (mode === ours[0]!.mode) allOurs.push(...done);
        const fcDone = fcs.filter((r) => r.found && r.shrunkOps !== undefined);
        minRows.push([
          `${fault} (${mode})`,
          done.length ? `${median(done.map((r) => r.minimizedOps!))} (max ${Math.max(...done.map((r) => r.minimizedOps!))})` : '-',
          done.length ? `${median(done.map((r) => r.minimizeMs!)).toFixed(0)} ms (max ${Math.max(...done.map((r) => r.minimizeMs!)).toFixed(0)})` : '-',
          mode === ours[0]!.mode && fcDone.length ? `${median(fcDone.map((r) => r.shrunkOps!))}` : '-',
          mode === ours[0]!.mode && fcDone.length ? `${median(fcDone.map((r) => r.shrinkMs!)).toFixed(0)} ms` : '-',
          [...new Set(runs.map((r) => r.key).filter(Boolean))].join(' '),
        ]);
      }
    }
    out.write(`\n${setName} planted faults: CPU time / executions to detect, median over ${o.seeds} seeds (ours, fast-check) and ${notBuilt ? 0 : o.jsfuzzRuns} runs (jsfuzz); `
      + `caps per run ${o.capMs / 1000} CPU-s, and ${o.capExecs} executions for ours and fast-check; (found/runs). `
      + `Ours: runCampaign in-process (coverage ${o.coverage.join(' / ')}); fast-check: the same generator, no feedback; jsfuzz: istanbul coverage of the compiled tree, byte target.\n\n`);
    printRows(['fault', 'platform', ...o.coverage.map((m) => `ours (${m})`), 'fast-check', 'jsfuzz', `fast-check ÷ ours ${o.coverage[0]} (time / execs)`, `jsfuzz ÷ ours ${o.coverage[0]} (time / execs)`], rows);
    if (o.fastCheck === false && notBuilt) continue;
    out.write(`Target (every fault >= 10x faster, median CPU time, than fast-check and jsfuzz): met for ${met} of ${planted.length}.${misses.length ? ` Missed (${misses.length}):\n${misses.map((m) => `  - ${m}`).join('\n')}` : ''}\n`);
  }
  out.write('\nA run that reached its cap counts as the cap in the median (">cap" marks a median at the cap). A ratio with capped runs is a bound: ">" theirs were capped, "<" ours were, "?" both.\n'
    + 'jsfuzz time counts from its first execution: process start-up and instrumentation (2-4 s) are left out. fast-check\'s own time cap is wall time. Executions are exact; CPU times vary a little with load.\n');
  if (otherFindings.size) {
    out.write('Findings that fail without the planted fault too (a model bug or a false alarm in the tree; not counted as detection):\n');
    for (const [key, tools] of otherFindings) out.write(`  - ${key} (${[...tools].join(', ')})\n`);
  }
  out.write('\nMinimisation: ours (campaign minimiser, 2 s deadline) and fast-check\'s shrinker on the same finding class; median over the seeds that found it\n\n');
  printRows(['fault (ours: coverage)', 'ours ops after minimising', 'ours minimise time', 'fast-check ops after shrinking', 'fast-check shrink time', 'finding key(s), ours'], minRows);
  const small = allOurs.filter((r) => r.minimizedOps! <= 10 && r.minimizeMs! < 2000).length;
  out.write(`\nTarget: a finding minimised to 10 ops or fewer in under 2 s: ${small} of ${allOurs.length} findings (coverage ${o.coverage[0]})`
    + ` (largest ${Math.max(0, ...allOurs.map((r) => r.minimizedOps!))} ops, slowest ${Math.max(0, ...allOurs.map((r) => r.minimizeMs!)).toFixed(0)} ms).\n`);
  if (!o.throughput) return;
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
    if (flag === '--no-throughput') { o = { ...o, throughput: false }; continue; }
    if (flag === '--no-fast-check') { o = { ...o, fastCheck: false }; continue; }
    const v = argv[++i];
    switch (flag) {
      case '--seeds': o = { ...o, seeds: count(flag, v, 1) }; break;
      case '--jsfuzz-runs': o = { ...o, jsfuzzRuns: count(flag, v, 0) }; break;
      case '--cap': o = { ...o, capMs: count(flag, v, 1) * 1000 }; break;
      case '--cap-execs': o = { ...o, capExecs: count(flag, v, 1) }; break;
      case '--set': {
        if (v !== 'all' && !(SET_NAMES as readonly string[]).includes(v ?? '')) throw new Error(`--set: expected ${SET_NAMES.join(', ')} or all, got ${v === undefined ? 'nothing' : `"${v}"`}`);
        o = { ...o, sets: v === 'all' ? SET_NAMES : [v as SetName] };
        break;
      }
      case '--coverage': {
        const modes = (v ?? '').split(',').filter(Boolean);
        const bad = modes.filter((m) => m !== 'model' && m !== 'both');
        if (!modes.length || bad.length) throw new Error(`--coverage: expected model, both or model,both, got ${v === undefined ? 'nothing' : `"${v}"`}`);
        o = { ...o, coverage: modes as CoverageMode[] };
        break;
      }
      case '--only': {
        // Any fault of src/faults.ts ("all": every one); those outside src/fuzz/planted.ts run on 'mix'.
        const names = v === 'all' ? [...FAULT_NAMES] : (v ?? '').split(',').filter(Boolean);
        const unknown = names.filter((n) => !(FAULT_NAMES as readonly string[]).includes(n));
        if (!names.length || unknown.length) throw new Error(`--only: unknown fault(s) ${unknown.join(', ') || '(none given)'}: one of src/faults.ts, or all`);
        o = { ...o, only: names };
        break;
      }
      default: throw new Error(`unknown option "${flag}" (--set shallow|deep|all, --coverage model,both, --seeds N, --jsfuzz-runs N, --cap SECONDS, --cap-execs N, --quick, --only FAULT,..., --no-throughput)`);
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
