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

export interface CorpusFile {
  readonly file: string;
  readonly ops: number;
  readonly violations: readonly string[];
  /** Why the file could not be read or replayed to the end. */
  readonly error?: string;
}

/** Replays corpus/*.json, each on its own platform; a corrupt file is reported and skipped, never fatal. */
export function replayCorpus(dir: string): CorpusFile[] {
  let names: string[] = [];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json')).sort();
  } catch {
    return [];
  }
  return names.map((n): CorpusFile => {
    const file = join(dir, n);
    let ops;
    try {
      ops = parseOpList(readFileSync(file, 'utf8'), file);
    } catch (e) {
      if (!(e instanceof OpParseError)) throw e;
      return { file, ops: 0, violations: [], error: e.message };
    }
    const r = replay(ops, file);
    const violations = r.outcomes.flatMap((o) => o.violations.map((v) => `${file}[${v.index}] ${v.id}: ${v.message}`));
    return { file, ops: r.outcomes.length, violations, ...(r.inputError ? { error: r.inputError.message } : {}) };
  });
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
  const violations = corpus.flatMap((c) => c.violations);
  const out = process.stdout;
  out.write('\n== dmaspec summary ==\n');
  out.write(`spec:   ${scenarios} scenarios, ${success ? 'all passed' : `${failed} failing step(s)`}\n`);
  out.write(`corpus: ${corpus.length} files, ${corpus.reduce((n, c) => n + c.ops, 0)} ops replayed, ${violations.length} invariant violation(s)\n`);
  for (const c of corpus) if (c.error) out.write(`  warning: skipped the rest of ${c.file}: ${c.error}\n`);
  for (const v of violations) out.write(`  violation: ${v}\n`);
  return success && violations.length === 0 ? 0 : 1;
}
