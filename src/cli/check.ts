/**
 * The main job: run every feature (the spec) and replay every corpus file on
 * its own platform, then print one readable summary.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfiguration, runCucumber } from '@cucumber/cucumber/api';
import { replay } from '../engine/replay';
import { OpParseError } from '../ops/errors';
import { parseOpList } from '../ops/json';

interface CorpusSummary {
  files: number;
  ops: number;
  violations: string[];
  skipped: string[];
}

/** Replays corpus/*.json; a corrupt file is skipped with a warning, never fatal. */
export function replayCorpus(dir: string): CorpusSummary {
  const s: CorpusSummary = { files: 0, ops: 0, violations: [], skipped: [] };
  let names: string[] = [];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json')).sort();
  } catch {
    return s;
  }
  for (const n of names) {
    const file = join(dir, n);
    let ops;
    try {
      ops = parseOpList(readFileSync(file, 'utf8'), file);
    } catch (e) {
      if (!(e instanceof OpParseError)) throw e;
      s.skipped.push(`${file}: ${e.message}`);
      continue;
    }
    const r = replay(ops, file);
    s.files++;
    s.ops += r.outcomes.length;
    if (r.inputError) s.skipped.push(`${file}: ${r.inputError.message}`);
    for (const o of r.outcomes) for (const v of o.violations) s.violations.push(`${file}[${v.index}] ${v.id}: ${v.message}`);
  }
  return s;
}

export async function check(args: readonly string[]): Promise<number> {
  const paths = args.length ? [...args] : undefined;
  const { runConfiguration } = await loadConfiguration({ provided: paths ? { paths } : {} });
  let scenarios = 0;
  let failed = 0;
  const { success } = await runCucumber(runConfiguration, undefined, (env) => {
    if (env.testCaseFinished && !env.testCaseFinished.willBeRetried) scenarios++;
    if (env.testStepFinished && env.testStepFinished.testStepResult.status !== 'PASSED' && env.testStepFinished.testStepResult.status !== 'SKIPPED') failed++;
  });
  const corpus = replayCorpus('corpus');
  const out = process.stdout;
  out.write('\n== dmaspec summary ==\n');
  out.write(`spec:   ${scenarios} scenarios, ${success ? 'all passed' : `${failed} failing step(s)`}\n`);
  out.write(`corpus: ${corpus.files} files, ${corpus.ops} ops replayed, ${corpus.violations.length} invariant violation(s)\n`);
  for (const w of corpus.skipped) out.write(`  warning: skipped ${w}\n`);
  for (const v of corpus.violations) out.write(`  violation: ${v}\n`);
  return success && corpus.violations.length === 0 ? 0 : 1;
}
