/**
 * dmaspec fuzz: a campaign on N worker threads (worker-pool.ts) running the instrumented model for
 * code coverage (instrument.ts, built on demand), with a live progress line on a terminal, plain
 * periodic lines otherwise; Ctrl-C finishes every worker's current input, writes everything and
 * prints the summary.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../fuzz/corpus';
import { campaignReport } from '../fuzz/report';
import { COVERAGE_MODES, type CampaignOptions, type CampaignStats, type CoverageMode } from '../fuzz/campaign';
import { instrumentedBuild, type InstrumentedBuild } from '../fuzz/instrument';
import { runParallelCampaign } from '../fuzz/worker-pool';
import { parseOpList } from '../ops/json';
import { OpParseError } from '../ops/errors';

interface FuzzArgs {
  seed: number;
  runs?: number;
  timeMs?: number;
  platform: string;
  corpus: string;
  out: string;
  workers: number;
  coverage: CoverageMode;
}

const DURATION_RE = /^(\d+)(ms|s|m|h)?$/;

function duration(v: string): number {
  const m = DURATION_RE.exec(v);
  if (!m) throw new Error(`--time: expected a duration like 30s, 5m or 1h, got "${v}"`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? 's']!;
}

function parseArgs(argv: readonly string[]): FuzzArgs {
  const a: FuzzArgs = { seed: 1, platform: 'mix', corpus: 'corpus', out: 'findings', workers: 1, coverage: 'model' }; // model: as deep as both on the planted faults, cheaper per exec (docs/fuzzing.md)
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const v = argv[i + 1];
    if (v === undefined) throw new Error(`${flag}: missing value`);
    i++;
    switch (flag) {
      case '--seed': a.seed = Number(v); if (!Number.isInteger(a.seed)) throw new Error(`--seed: expected an integer, got "${v}"`); break;
      case '--runs': a.runs = Number(v); if (!Number.isInteger(a.runs) || a.runs < 0) throw new Error(`--runs: expected a count, got "${v}"`); break;
      case '--time': a.timeMs = duration(v); break;
      case '--platform': a.platform = v; break;
      case '--corpus': a.corpus = v; break;
      case '--out': a.out = v; break;
      case '--workers': a.workers = Number(v); if (!Number.isInteger(a.workers) || a.workers < 1) throw new Error(`--workers: expected a positive count, got "${v}"`); break;
      case '--coverage':
        if (!(COVERAGE_MODES as readonly string[]).includes(v)) throw new Error(`--coverage: expected one of ${COVERAGE_MODES.join(', ')}, got "${v}"`);
        a.coverage = v as CoverageMode;
        break;
      default: throw new Error(`unknown option "${flag}"`);
    }
  }
  if (a.runs === undefined && a.timeMs === undefined) a.timeMs = 60_000;
  return a;
}

function platformOption(p: string): CampaignOptions['platform'] {
  if (!p.endsWith('.json')) return p;
  return parseOpList(readFileSync(p, 'utf8'), p);
}

function line(s: CampaignStats): string {
  const secs = s.elapsedMs / 1000;
  const edges = s.edgesTotal ? `  edges ${s.edges}/${s.edgesTotal} (${((100 * s.edges) / s.edgesTotal).toFixed(1)}%)` : '';
  return `execs ${s.execs} (${Math.round(s.execs / Math.max(secs, 0.001))}/s)${edges}  features ${s.features}  corpus ${s.corpusSize}  findings ${s.findings.length}  ${secs.toFixed(0)}s`;
}

export async function fuzz(argv: readonly string[]): Promise<number> {
  let args: FuzzArgs;
  let platform: CampaignOptions['platform'];
  try {
    args = parseArgs(argv);
    platform = platformOption(args.platform);
  } catch (e) {
    process.stderr.write(`dmaspec fuzz: ${e instanceof OpParseError || e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  let build: InstrumentedBuild | undefined;
  if (args.coverage !== 'model') {
    process.stderr.write('instrumented model: ');
    try {
      build = instrumentedBuild();
    } catch (e) {
      process.stderr.write(`\ndmaspec fuzz: cannot build the instrumented model (${(e as Error).message}); --coverage model runs without it\n`);
      return 2;
    }
    process.stderr.write(`${build.built ? `built in ${(build.ms / 1000).toFixed(1)} s` : 'cached'} (${build.manifest.total} edges, ${build.dir})\n`);
  }
  mkdirSync(args.corpus, { recursive: true });
  mkdirSync(args.out, { recursive: true });
  const tty = process.stderr.isTTY === true;
  const stop = new AbortController();
  const onInt = (): void => {
    if (stop.signal.aborted) process.exit(130); // a second Ctrl-C: give up at once
    stop.abort();
    process.stderr.write('\nstopping after the current input (Ctrl-C again to abort)\n');
  };
  process.on('SIGINT', onInt);
  let lastPlain = 0;
  const stats = await runParallelCampaign({
    seed: args.seed, runs: args.runs, timeMs: args.timeMs, platform, corpusDir: args.corpus, outDir: args.out,
    workers: args.workers, coverage: args.coverage, build, signal: stop.signal,
    onProgress: (s) => {
      if (tty) process.stderr.write(`\r${line(s)}\x1b[K`);
      else if (s.elapsedMs - lastPlain >= 10_000) {
        lastPlain = s.elapsedMs;
        process.stderr.write(`${line(s)}\n`);
      }
    },
  });
  process.off('SIGINT', onInt);
  if (tty) process.stderr.write('\n');
  for (const w of stats.warnings) process.stderr.write(`warning: ${w}\n`);
  const out = process.stdout;
  const how = `seed ${args.seed}, ${args.workers} worker${args.workers > 1 ? 's' : ''}, coverage ${args.coverage}`;
  out.write(`\n== fuzz summary (${how}) ==\n${line(stats)}\ninvalid inputs: ${stats.invalid}\n`);
  if (stats.corpusCulled) out.write(`corpus: ${stats.corpusSize} entries cover every feature; ${stats.corpusCulled} this campaign wrote were redundant and removed\n`);
  for (const f of stats.findings) {
    out.write(`finding ${f.failure.key}: ${f.failure.message}\n  found after ${f.execsToFind} execs${f.worker !== undefined && args.workers > 1 ? ` of worker ${f.worker}` : ''}, minimized to ${f.minimized.length} ops in ${f.minimizeMs} ms\n`);
    for (const file of f.files) out.write(`  ${file}\n`);
  }
  const report = join(args.out, 'report.html');
  writeFileAtomic(report, campaignReport(stats, { seed: args.seed, coverage: args.coverage }));
  out.write(`report: ${report}\n`);
  if (stats.findings.length) out.write(`replay one with: npx cucumber-js ${stats.findings[0].files.find((x) => x.endsWith('.feature')) ?? '<file>.feature'}\n`);
  if (stats.findings.length) return 1;
  return stats.crashedWorkers ? 3 : 0;
}
