/**
 * The main job: run every feature (the spec) and replay every corpus file on
 * its own platform, then print one readable summary.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfiguration, runCucumber } from '@cucumber/cucumber/api';
import type { Envelope } from '@cucumber/messages';
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

/** Scenario results per feature area (the folder under features/), from cucumber's message stream. */
class AreaTally {
  private readonly pickleUri = new Map<string, string>();
  private readonly caseUri = new Map<string, string>();
  private readonly startedUri = new Map<string, string>();
  private readonly failedStarts = new Set<string>();
  readonly areas = new Map<string, { passed: number; failed: number }>();

  onMessage(env: Envelope): void {
    if (env.pickle) this.pickleUri.set(env.pickle.id, env.pickle.uri);
    if (env.testCase) this.caseUri.set(env.testCase.id, this.pickleUri.get(env.testCase.pickleId) ?? '?');
    if (env.testCaseStarted) this.startedUri.set(env.testCaseStarted.id, this.caseUri.get(env.testCaseStarted.testCaseId) ?? '?');
    if (env.testStepFinished && !['PASSED', 'SKIPPED'].includes(env.testStepFinished.testStepResult.status)) {
      this.failedStarts.add(env.testStepFinished.testCaseStartedId);
    }
    if (env.testCaseFinished && !env.testCaseFinished.willBeRetried) {
      const id = env.testCaseFinished.testCaseStartedId;
      const area = (this.startedUri.get(id) ?? '?').split('/').slice(-2, -1)[0] ?? '?';
      const a = this.areas.get(area) ?? { passed: 0, failed: 0 };
      if (this.failedStarts.has(id)) a.failed++;
      else a.passed++;
      this.areas.set(area, a);
    }
  }
}

export async function check(args: readonly string[]): Promise<number> {
  const paths = args.length ? [...args] : undefined;
  const { runConfiguration } = await loadConfiguration({
    // Not cucumber.json: its progress dots would drown the summary. Same support code, same strictness.
    file: false,
    provided: { requireModule: ['tsx/cjs'], require: ['steps/**/*.ts'], format: ['summary'], strict: true, ...(paths ? { paths } : {}) },
  });
  const tally = new AreaTally();
  const { success } = await runCucumber(runConfiguration, undefined, (env) => tally.onMessage(env));
  const corpus = replayCorpus('corpus');
  const violations = corpus.flatMap((c) => c.violations);
  const out = process.stdout;
  out.write('\n== dmaspec summary ==\n');
  out.write('spec (features/):\n');
  let total = 0;
  for (const [area, a] of [...tally.areas].sort()) {
    total += a.passed + a.failed;
    out.write(`  ${area.padEnd(16)} ${String(a.passed + a.failed).padStart(4)} scenarios  ${a.failed ? `${a.failed} FAILED` : 'all pass'}\n`);
  }
  out.write(`  ${'total'.padEnd(16)} ${String(total).padStart(4)} scenarios  ${success ? 'all pass' : 'SOME FAIL'}\n`);
  out.write(`corpus (corpus/): ${corpus.length} files, ${corpus.reduce((n, c) => n + c.ops, 0)} ops replayed with every invariant checked, ${violations.length} violation(s)\n`);
  for (const c of corpus) if (c.error) out.write(`  warning: skipped the rest of ${c.file}: ${c.error}\n`);
  for (const v of violations) out.write(`  violation: ${v}\n`);
  return success && violations.length === 0 ? 0 : 1;
}
