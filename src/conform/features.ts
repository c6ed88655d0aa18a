/**
 * Part 1 of conform: the feature scenarios, run on the reference and the implementation side by side.
 * Scenarios are compiled to pickles (@cucumber/gherkin: Backgrounds and Outlines expanded as
 * cucumber does). A scenario runs when every step is an op (src/ops/gherkin.ts) or a Then assertion
 * on the last result (steps/result_steps.ts) and the implementation supports every op it sends;
 * otherwise it is skipped with the reason. The Then steps themselves are not evaluated: the
 * reference passes them, and each op's results are compared under the profile instead (under
 * linux-exact every value, which covers every Then step on a result value or error; warnings only
 * as far as compare.ts compares them).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AstBuilder, compile, GherkinClassicTokenMatcher, Parser } from '@cucumber/gherkin';
import { IdGenerator } from '@cucumber/messages';
import { OpParseError } from '../ops/errors';
import { parseStep } from '../ops/gherkin';
import type { Op } from '../ops/types';
import type { Diff } from './compare';
import type { ImplFault } from './implementation';
import { opsSent, runSequence, type SessionSides, type StepRecord } from './session';

/** The Then steps of steps/result_steps.ts: assertions on the last op's result. */
export const ASSERTION_PATTERNS: readonly RegExp[] = [
  /^it succeeds$/,
  /^it fails with \S+$/,
  /^the device faults$/,
  /^the result has .+$/,
  /^the result's \w+(?: & \S+)? (?:is below|is at most|is above|is at least|is not|is a multiple of|is) \S+$/,
  /^the result's \w+ (?:is|is not) in the swiotlb pool$/,
  /^(?:there are no warnings|the warnings are none)$/,
  /^the warnings are .+$/,
  /^the warnings include .+$/,
  /^the warning \w+ says "[^"]*"$/,
  /^the warnings do not include .+$/,
];

export interface Scenario {
  /** "features/iova/top-down.feature:12" */
  readonly where: string;
  readonly name: string;
  readonly tags: readonly string[];
  readonly steps: readonly string[];
}

/** Every .feature under the paths (files or directories), sorted. */
export function featureFiles(paths: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (p: string): void => {
    if (statSync(p).isDirectory()) for (const e of readdirSync(p).sort()) walk(join(p, e));
    else if (p.endsWith('.feature')) out.push(p);
  };
  paths.forEach(walk);
  return out.sort();
}

/** loadScenarios - the pickles of one feature file; a syntax error names the file. */
export function loadScenarios(file: string): Scenario[] {
  const newId = IdGenerator.incrementing();
  let doc;
  try {
    doc = new Parser(new AstBuilder(newId), new GherkinClassicTokenMatcher()).parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new OpParseError(file, 'a Gherkin feature file', (e as Error).message.split('\n')[0]);
  }
  return compile(doc, file, newId).map((p) => ({
    where: `${file}:${p.location?.line ?? '?'}`,
    name: p.name,
    tags: p.tags.map((t) => t.name),
    steps: p.steps.map((s) => s.text),
  }));
}

export type Plan = { readonly ops: Op[] } | { readonly skip: string; readonly missing?: readonly string[] };

/** planScenario - the ops a scenario sends, or why it cannot run against an implementation with these ops. */
export function planScenario(s: Scenario, supported: ReadonlySet<string>): Plan {
  const fault = s.tags.find((t) => t.startsWith('@fault:'));
  if (fault) return { skip: `it plants a model fault (${fault})` };
  const ops: Op[] = [];
  for (const text of s.steps) {
    let op: Op | undefined;
    try {
      op = parseStep(text);
    } catch (e) {
      if (!(e instanceof OpParseError)) throw e;
      return { skip: `step "${text}" does not parse: ${e.message}` };
    }
    if (op) ops.push(op);
    else if (!ASSERTION_PATTERNS.some((re) => re.test(text))) return { skip: `step "${text}" is neither an op nor a result assertion` };
  }
  if (ops[0]?.op !== 'platform') return { skip: 'it does not start with a platform' };
  const missing = [...opsSent(ops)].filter((o) => !supported.has(o));
  if (missing.length) return { skip: `unsupported op${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`, missing };
  return { ops };
}

export type ScenarioOutcome =
  | { readonly scenario: Scenario; readonly status: 'passed' }
  | { readonly scenario: Scenario; readonly status: 'skipped'; readonly reason: string; readonly missing?: readonly string[] }
  | { readonly scenario: Scenario; readonly status: 'failed'; readonly ops: readonly Op[]; readonly steps: readonly StepRecord[]; readonly diffs: readonly Diff[]; readonly fault?: ImplFault };

export interface FeatureRunOptions {
  /** Called after a fault, before the next scenario: restarts the implementation. */
  readonly restart: () => Promise<void>;
  readonly onScenario?: (o: ScenarioOutcome) => void;
}

/** runFeatures - every scenario of the files, in order. */
export async function runFeatures(sides: SessionSides, files: readonly string[], opts: FeatureRunOptions): Promise<ScenarioOutcome[]> {
  const supported = new Set<string>(sides.hello.ops);
  const out: ScenarioOutcome[] = [];
  for (const file of files) {
    for (const scenario of loadScenarios(file)) {
      const plan = planScenario(scenario, supported);
      let o: ScenarioOutcome;
      if ('skip' in plan) o = { scenario, status: 'skipped', reason: plan.skip, ...(plan.missing ? { missing: plan.missing } : {}) };
      else {
        const r = await runSequence(sides, plan.ops);
        if (r.kind === 'agree') o = { scenario, status: 'passed' };
        else if (r.kind === 'invalid') o = { scenario, status: 'skipped', reason: `the reference refused it: ${r.reason}` };
        else if (r.kind === 'diverge') o = { scenario, status: 'failed', ops: plan.ops, steps: r.steps, diffs: r.diffs };
        else {
          o = { scenario, status: 'failed', ops: plan.ops, steps: r.steps, diffs: [{ key: `${r.fault.kind}`, message: `${r.fault.kind}: ${r.fault.message}` }], fault: r.fault };
          await opts.restart();
        }
      }
      out.push(o);
      opts.onScenario?.(o);
    }
  }
  return out;
}
