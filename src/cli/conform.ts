/**
 * dmaspec conform --impl CMD|MODULE: checks another implementation against the reference
 * (docs/conformance.md): (1) the feature scenarios whose ops it supports, (2) a differential fuzz
 * campaign. Exit 0 when everything agreed, 1 on any divergence, failed scenario or implementation
 * fault, 2 on bad options or an implementation that cannot be used (no hello, wrong protocol).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../fuzz/corpus';
import { PROFILES, type Profile } from '../conform/compare';
import { runDifferential, UnusableImplementation, type DifferentialStats } from '../conform/differential';
import { featureFiles, runFeatures, type ScenarioOutcome } from '../conform/features';
import { ImplFault, type Hello, type Implementation } from '../conform/implementation';
import { ModelImplementation } from '../conform/model';
import { isModulePath, loadModule } from '../conform/module';
import { ProcessImplementation } from '../conform/process';
import { saveDivergence } from '../conform/report';
import { OP_NAMES } from '../ops/table';

export const CONFORM_USAGE = `  dmaspec serve [--fault NAME]...   the reference model speaking the conformance protocol
                                    on stdin/stdout (also DMASPEC_FAULTS=a,b)
  dmaspec conform --impl CMD|MODULE [--profile contract|linux-exact] [--runs N] [--time 60s]
               [--seed S] [--timeout MS] [--out DIR] [--features PATH|none]...
                                    the features and a differential campaign against another
                                    implementation (docs/conformance.md)
`;

export interface ConformArgs {
  impl: string;
  profile: Profile;
  seed: number;
  runs?: number;
  timeMs?: number;
  timeoutMs: number;
  out: string;
  features: string[];
}

const DURATION_RE = /^(\d+)(ms|s|m|h)?$/;
const number = (flag: string, v: string, min: number): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`${flag}: expected an integer${min > 0 ? ' >= ' + min : min === 0 ? ' >= 0' : ''}, got "${v}"`);
  return n;
};

export function parseConformArgs(argv: readonly string[]): ConformArgs {
  let impl: string | undefined;
  const a: Omit<ConformArgs, 'impl'> = { profile: 'contract', seed: 1, timeoutMs: 5000, out: join('findings', 'conform'), features: [] };
  let features: string[] | undefined;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const v = argv[i + 1];
    if (v === undefined) throw new Error(`${flag}: missing value`);
    i++;
    switch (flag) {
      case '--impl': impl = v; break;
      case '--profile':
        if (!(PROFILES as readonly string[]).includes(v)) throw new Error(`--profile: expected ${PROFILES.join(' or ')}, got "${v}"`);
        a.profile = v as Profile;
        break;
      case '--seed': a.seed = number(flag, v, -Infinity); break;
      case '--runs': a.runs = number(flag, v, 0); break;
      case '--time': {
        const m = DURATION_RE.exec(v);
        if (!m) throw new Error(`--time: expected a duration like 30s, 5m or 1h, got "${v}"`);
        a.timeMs = Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? 's']!;
        break;
      }
      case '--timeout': a.timeoutMs = number(flag, v, 1); break;
      case '--out': a.out = v; break;
      case '--features': (features ??= []).push(...(v === 'none' ? [] : [v])); break;
      default: throw new Error(`unknown option "${flag}"`);
    }
  }
  if (impl === undefined) throw new Error('--impl CMD|MODULE is required');
  if (a.runs === undefined && a.timeMs === undefined) a.runs = 200;
  return { ...a, impl, features: features ?? ['features'] };
}

/** Skip reasons for the console: unsupported ops counted per op, other reasons as they are. */
function skippedSummary(outcomes: readonly ScenarioOutcome[]): string[] {
  const perOp = new Map<string, number>();
  const other = new Map<string, number>();
  for (const o of outcomes) {
    if (o.status !== 'skipped') continue;
    if (o.missing) for (const m of o.missing) perOp.set(m, (perOp.get(m) ?? 0) + 1);
    else other.set(o.reason, (other.get(o.reason) ?? 0) + 1);
  }
  const out: string[] = [];
  if (perOp.size) {
    const ops = [...perOp].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1));
    out.push(`    scenarios needing an unsupported op, per op: ${ops.slice(0, 12).map(([o, n]) => `${o} ${n}`).join(', ')}${ops.length > 12 ? `, ... (${ops.length} ops; skipped.json lists every scenario)` : ''}`);
  }
  const rows = [...other].sort((x, y) => y[1] - x[1]);
  out.push(...rows.slice(0, 8).map(([r, n]) => `    ${String(n).padStart(4)}  ${r.length > 110 ? r.slice(0, 107) + '...' : r}`));
  if (rows.length > 8) out.push(`    (${rows.length - 8} more reasons: see skipped.json)`);
  return out;
}

export async function conform(argv: readonly string[]): Promise<number> {
  const err = (s: string): void => void process.stderr.write(`dmaspec conform: ${s}\n`);
  let args: ConformArgs;
  let files: string[];
  try {
    args = parseConformArgs(argv);
    files = featureFiles(args.features);
  } catch (e) {
    err((e as Error).message);
    return 2;
  }
  let impl: Implementation;
  let hello: Hello;
  try {
    impl = isModulePath(args.impl) ? await loadModule(args.impl) : new ProcessImplementation(args.impl, { timeoutMs: args.timeoutMs });
    hello = await impl.start();
  } catch (e) {
    err(`unusable implementation: ${(e as Error).message}${e instanceof ImplFault && e.stderr ? `\n  its stderr ended with:\n${e.stderr.trimEnd().split('\n').slice(-10).map((l) => '    ' + l).join('\n')}` : ''}`);
    return 2;
  }
  const ref = new ModelImplementation();
  await ref.start();
  const sides = { ref, impl, hello, profile: args.profile };
  const ctx = { outDir: args.out, implementation: hello.implementation, profile: args.profile };
  mkdirSync(args.out, { recursive: true });
  const out = process.stdout;
  const unknown = impl instanceof ProcessImplementation ? impl.unknownOps : [];
  out.write(`implementation: ${hello.implementation}\nprofile: ${args.profile}\nops supported: ${hello.ops.length} of ${OP_NAMES.length - 1} (${hello.ops.join(', ')})\n`);
  if (unknown.length) out.write(`ignored (not ops of docs/protocol.md): ${unknown.join(', ')}\n`);
  let stop = false;
  const onInt = (): void => {
    if (stop) process.exit(130);
    stop = true;
    err('stopping after the current run (Ctrl-C again to abort)');
  };
  process.on('SIGINT', onInt);
  const restart = async (): Promise<void> => {
    const h = await impl.start();
    const lost = hello.ops.filter((o) => !h.ops.includes(o));
    if (lost.length) throw new UnusableImplementation(`after a restart the implementation no longer lists ${lost.join(', ')}`);
  };
  let code = 0;
  try {
    // (1) features
    const outcomes = await runFeatures(sides, files, {
      restart,
      onScenario: (o) => {
        if (o.status !== 'failed') return;
        const key = `scenario ${o.scenario.where}`;
        saveDivergence(ctx, key, o.ops, o.steps, o.diffs, { scenario: o.scenario.name });
      },
    });
    writeFileAtomic(join(args.out, 'skipped.json'), JSON.stringify(outcomes.filter((o) => o.status === 'skipped').map((o) => ({ scenario: o.scenario.where, name: o.scenario.name, reason: o.status === 'skipped' ? o.reason : '' })), null, 2) + '\n');
    const count = (s: string): number => outcomes.filter((o) => o.status === s).length;
    out.write(`\n== features ==\nscenarios: ${count('passed')} passed, ${count('failed')} failed, ${count('skipped')} skipped (of ${outcomes.length})\n`);
    for (const o of outcomes) if (o.status === 'failed') out.write(`  FAILED ${o.scenario.where} ${o.scenario.name}\n    ${o.diffs[0]?.message ?? ''}\n`);
    if (count('skipped')) out.write(`  skipped, by reason:\n${skippedSummary(outcomes).join('\n')}\n`);
    if (count('failed')) code = 1;

    // (2) differential campaign
    out.write(`\n== differential (seed ${args.seed}) ==\n`);
    let stats: DifferentialStats | undefined;
    try {
      let last = 0;
      stats = await runDifferential(sides, ctx, {
        seed: args.seed, runs: args.runs, timeMs: args.timeMs, outDir: args.out, shouldStop: () => stop,
        onProgress: (s) => {
          if (s.elapsedMs - last < 10_000) return;
          last = s.elapsedMs;
          err(`${s.runs} runs, ${s.ops} ops, ${s.divergences.length} divergences, ${s.faults.length} faults, ${(s.elapsedMs / 1000).toFixed(0)}s`);
        },
      });
    } catch (e) {
      if (e instanceof UnusableImplementation) throw e;
      out.write(`skipped: ${(e as Error).message}\n`);
    }
    if (stats) {
      const nDiv = stats.divergences.reduce((a, d) => a + d.count, 0);
      const nFault = stats.faults.reduce((a, d) => a + d.count, 0);
      out.write(`runs: ${stats.runs} (${stats.agreed} agreed, ${stats.invalid} inputs the reference refused), ${stats.ops} ops in ${(stats.elapsedMs / 1000).toFixed(1)} s\n`);
      out.write(`divergences: ${nDiv} in ${stats.divergences.length} distinct\n`);
      for (const d of stats.divergences) {
        out.write(`  ${d.key} (${d.count}x): ${d.diffs[0]?.message ?? ''}\n    minimised ${d.originalLength} -> ${d.ops.length} ops in ${d.minimizeMs} ms: ${d.files.find((f) => f.endsWith('.feature')) ?? ''}\n`);
      }
      out.write(`implementation faults: ${nFault} in ${stats.faults.length} distinct, ${stats.restarts} restarts\n`);
      for (const f of stats.faults) out.write(`  ${f.key} (${f.count}x): ${f.message}\n    after ${f.sent} ops: ${f.files.find((x) => x.endsWith('.json')) ?? ''}\n`);
      const skippedFields = [...stats.notCompared].sort();
      if (skippedFields.length) {
        const shown = skippedFields.length > 12 ? `${skippedFields.slice(0, 12).join(', ')}, ... (${skippedFields.length} in all: summary.json)` : skippedFields.join(', ');
        out.write(`not compared (${args.profile === 'contract' ? 'contract: values are judged by the contract checks' : 'hello.fields, or warnings not declared'}): ${shown}\n`);
      }
      writeFileAtomic(join(args.out, 'summary.json'), JSON.stringify({
        implementation: hello.implementation, profile: args.profile, seed: args.seed, ops_supported: hello.ops,
        scenarios: { passed: count('passed'), failed: count('failed'), skipped: count('skipped') },
        runs: stats.runs, agreed: stats.agreed, refused_by_reference: stats.invalid, ops: stats.ops, restarts: stats.restarts,
        divergences: stats.divergences.map((d) => ({ key: d.key, count: d.count, ops: d.ops.length, files: d.files })),
        faults: stats.faults.map((f) => ({ key: f.key, count: f.count, message: f.message, files: f.files })),
        not_compared: skippedFields,
      }, null, 2) + '\n');
      if (nDiv || nFault) code = 1;
    }
    out.write(`\nfindings: ${args.out}\n`);
  } catch (e) {
    if (!(e instanceof UnusableImplementation || e instanceof ImplFault)) throw e;
    err(`unusable implementation: ${e.message}`);
    code = 2;
  } finally {
    process.off('SIGINT', onInt);
    await impl.stop();
  }
  return code;
}
